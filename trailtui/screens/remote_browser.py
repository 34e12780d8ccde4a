"""The investigator's screen over a remote table (Athena or Trino), through the Backend seam.

The same widgets as the file browser (filter bar, facet panels, event table, detail), driven by
a `Backend` instead of DuckDB views: every change of filter or sort starts two thread workers
(the facets query, which also counts, and the ordered page query), each query's state goes to
the status line (queued, running, scanned bytes, cost, session total), escape stops them, and
`p` pulls the filter's events down into the local store and opens them in the file browser.
No SQL here: the statements come from `trailtui.data.trino_sql` behind the backend.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from trailtui import clipboard
from trailtui.data import views
from trailtui.data.backend import (
    PAGE_COLUMNS,
    Backend,
    BackendError,
    ConsoleResult,
    EventDetail,
    PageRow,
    QueryCancelled,
    QueryStatus,
)
from trailtui.data.filters import COLUMNS, Chip, FacetValue, FilterState
from trailtui.data.results import QueryResult, ResultSource
from trailtui.data.trino_sql import FACET_LIMIT, parse_event_time
from trailtui.sanitize import safe_text
from trailtui.widgets.facet_panel import FacetPanel
from trailtui.widgets.filter_bar import FilterBar
from trailtui.widgets.sql_console import SqlConsole
from trailtui.widgets.virtual_table import Column, ListRowSource
from trailtui.widgets.virtual_table import VirtualTable as EventTable

PANEL_FACETS = ("actor", "eventSource", "sourceIPAddress", "eventName", "awsRegion", "errorCode",
                "identity_type", "account_id", "userAgent")  # fmt: skip
ROW_KEYS = (*PAGE_COLUMNS, "_event_id", "_event_time", "_statement", "_position")
_TITLES = {f.key: f.title for f in views.FACETS}
FIRST_ROWS = 1000  # shown as soon as the page query's first result page arrives


@dataclass
class QueryProgress(Message):
    what: str
    status: QueryStatus


@dataclass
class RemoteFacets(Message):
    generation: int
    counts: dict[str, list[tuple[FacetValue, int]]]
    total: int


@dataclass
class RemotePage(Message):
    generation: int
    rows: list[PageRow]
    complete: bool


@dataclass
class RemoteFailed(Message):
    what: str
    error: str
    cancelled: bool = False


def _fmt_bool(value: object) -> str:
    return "" if value is None else ("yes" if value else "no")


class RemoteBrowserScreen(Screen[None]):
    """Facets and events of a remote CloudTrail table, the time range always set."""

    DEFAULT_CSS = "RemoteBrowserScreen { layout: vertical; }"
    AUTO_FOCUS = "#events"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "focus_facets", "Facets", id="trailtui.remote.facets"),
        Binding("slash", "search", "Search", id="trailtui.remote.search"),
        Binding("u", "undo", "Undo filter", id="trailtui.remote.undo"),
        Binding("y", "copy", "Copy JSON", id="trailtui.remote.copy"),
        Binding("T", "time_range", "Time range", id="trailtui.remote.time"),
        Binding(
            "p",
            "pull",
            "Pull down",
            id="trailtui.remote.pull",
            tooltip="pull the filter's events down into the local store and open them",
        ),
        Binding("colon", "console", "SQL", id="trailtui.remote.console"),
        Binding("s", "sort", "Sort", show=False, id="trailtui.remote.sort"),
        Binding("S", "sort_reverse", "Sort reverse", show=False, id="trailtui.remote.sort_rev"),
        Binding(
            "escape",
            "escape",
            "Stop query",
            id="trailtui.remote.escape",
            tooltip="stop the running queries (StopQueryExecution)",
        ),
    ]
    # The keys that differ from the file browser's, for the help and README's key table.
    OWN_KEYS: ClassVar[frozenset[str]] = frozenset(
        {"trailtui.remote.pull", "trailtui.remote.escape"}
    )

    def __init__(self, backend: Backend, filters: FilterState) -> None:
        super().__init__()
        self.backend = backend
        self.filters = filters
        self.sort_column = "eventTime"
        self.sort_descending = True
        self.generation = 0
        self.total: int | None = None
        self.rows: list[PageRow] = []
        self.page_complete = False
        self.queries: dict[str, QueryStatus] = {}
        self.pulling = False
        self._confirmed_sql: str | None = None  # console SQL the user chose to send anyway

    def compose(self) -> ComposeResult:
        yield FilterBar(id="filters")
        with Horizontal(id="main"):
            with VerticalScroll(id="facets"):
                for key in PANEL_FACETS:
                    yield FacetPanel(key, _TITLES.get(key, key), id=f"facet-{key}")
            with Vertical(id="right"):
                yield EventTable(id="events", empty_message="querying…")
                yield SqlConsole(id="console")
        yield Input(placeholder="search the whole event text (enter adds a filter, escape "
                    "cancels)", id="search")  # fmt: skip
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#events", EventTable).columns = [
            Column("eventTime", "Time (UTC)", min_width=19, width=19, formatter=self._fmt_time),
            Column("actor", "User / role", min_width=8, width=28, max_width=40),
            Column("eventName", "Event name", min_width=8, width=30, max_width=40, flex=True),
            Column("eventSource", "Service", min_width=8, width=26, max_width=34),
            Column("awsRegion", "Region", min_width=9, width=14, max_width=20),
            Column("sourceIPAddress", "Source IP", min_width=7, width=16, max_width=39),
            Column("errorCode", "Error", min_width=5, width=16, max_width=32),
            Column("account_id", "Account", min_width=12, width=12, max_width=20),
            Column("readOnly", "RO", min_width=3, width=3, max_width=3, formatter=_fmt_bool),
        ]
        # Statuses come from worker threads: post them as messages to the UI thread.
        setattr(self.backend, "on_status", self._status_from_thread)  # noqa: B010
        self.set_filters(self.filters)

    @staticmethod
    def _fmt_time(value: object) -> str:
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return "" if value is None else str(value)

    # -- queries ------------------------------------------------------------------------------

    def _status_from_thread(self, status: QueryStatus) -> None:
        self.post_message(QueryProgress("query", status))

    def set_filters(self, filters: FilterState) -> None:
        self.filters = filters
        self.query_one(FilterBar).labels = [c.label for c in filters.chips]
        self.refresh_all()

    def refresh_all(self) -> None:
        self.generation += 1
        self.total = None
        self.queries.clear()
        self._update_status()
        self._run_facets(self.generation, self.filters)
        self._run_page(self.generation, self.filters, self.sort_column, self.sort_descending)

    @work(thread=True, group="remote-facets", exclusive=True, exit_on_error=False)
    def _run_facets(self, generation: int, filters: FilterState) -> None:
        try:
            counts = self.backend.facets(PANEL_FACETS, filters)
            total = self.backend.count(filters)
        except QueryCancelled as exc:
            self.post_message(RemoteFailed("facets", str(exc), cancelled=True))
            return
        except (BackendError, ValueError) as exc:
            self.post_message(RemoteFailed("facets", str(exc)))
            return
        self.post_message(RemoteFacets(generation, counts, total))

    @work(thread=True, group="remote-page", exclusive=True, exit_on_error=False)
    def _run_page(self, generation: int, filters: FilterState, sort: str, desc: bool) -> None:
        limit = self.backend.capabilities.page_limit or 10_000
        try:
            first = self.backend.page(filters, 0, FIRST_ROWS, sort, desc)
            self.post_message(RemotePage(generation, first, len(first) < FIRST_ROWS))
            if len(first) == FIRST_ROWS:
                rest = self.backend.page(filters, FIRST_ROWS, limit - FIRST_ROWS, sort, desc)
                self.post_message(RemotePage(generation, first + rest, True))
        except QueryCancelled as exc:
            self.post_message(RemoteFailed("events", str(exc), cancelled=True))
        except (BackendError, ValueError) as exc:
            self.post_message(RemoteFailed("events", str(exc)))

    @on(QueryProgress)
    def _on_progress(self, message: QueryProgress) -> None:
        self.queries[message.status.query_id or message.what] = message.status
        self._update_status()

    @on(RemoteFacets)
    def _on_facets(self, message: RemoteFacets) -> None:
        if message.generation != self.generation:
            return
        self.total = message.total
        with self.app.batch_update():
            for key, counts in message.counts.items():
                for panel in self.query(f"#facet-{key}").results(FacetPanel):
                    panel.counts = counts
                    if len(counts) >= FACET_LIMIT:  # the query returns the most frequent only
                        panel.border_subtitle = f"top {FACET_LIMIT:,} values"
        self._update_status()

    @on(RemotePage)
    def _on_page(self, message: RemotePage) -> None:
        if message.generation != self.generation:
            return
        table = self.query_one("#events", EventTable)
        keep = table.cursor_row if self.rows and len(message.rows) > len(self.rows) else 0
        self.rows = message.rows
        self.page_complete = message.complete
        table.sort_column = self.sort_column
        table.sort_descending = self.sort_descending
        table.empty_message = "no events match the filter"
        table.set_source(ListRowSource(ROW_KEYS, self.rows), cursor_row=keep)
        self._update_status()

    @on(RemoteFailed)
    def _on_failed(self, message: RemoteFailed) -> None:
        if message.cancelled:
            self.notify(f"{message.what}: stopped", markup=False)
        else:
            self.notify(safe_text(message.error), title=f"{message.what} failed",
                        severity="error", markup=False, timeout=12)  # fmt: skip
        table = self.query_one("#events", EventTable)
        if not self.rows:
            table.empty_message = "no result · change the filter or the time range (T)"
        self._update_status()

    # -- status line --------------------------------------------------------------------------

    def _update_status(self) -> None:
        parts: list[Content] = [Content.styled(safe_text(self.backend.description), "bold")]
        if self.total is not None:
            shown = len(self.rows)
            extra = f" (first {shown:,} in the table)" if shown < self.total else ""
            parts.append(Content.styled(f"{self.total:,} events{extra}", "bold"))
        for status in self.queries.values():
            if status.state in ("queued", "running"):
                parts.append(Content.styled(status.describe(), "italic"))
        session = getattr(self.backend, "session", None)
        if session is not None:
            parts.append(Content(safe_text(session.describe())))
        if any(s.state in ("queued", "running") for s in self.queries.values()):
            parts.append(Content.styled("escape stops", "italic"))
        if self.pulling:
            parts.append(Content.styled("pulling down…", "italic"))
        self.query_one("#status", Static).update(Content(" · ").join(parts))

    # -- filters ------------------------------------------------------------------------------

    def action_focus_facets(self) -> None:
        self.query_one(f"#facet-{PANEL_FACETS[0]}", FacetPanel).focus()

    @on(FacetPanel.Picked)
    def _on_picked(self, message: FacetPanel.Picked) -> None:
        try:
            make = Chip.exclude if message.exclude else Chip.include
            chip = make(message.facet_key, message.value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            self.notify(safe_text(str(exc)), severity="error", markup=False)
            return
        self.set_filters(self.filters.add(chip))
        self.query_one("#events", EventTable).focus()

    @on(FilterBar.ChipRemoved)
    def _on_chip_removed(self, message: FilterBar.ChipRemoved) -> None:
        if 0 <= message.index < len(self.filters.chips):
            self.set_filters(self.filters.remove(message.index))

    def action_undo(self) -> None:
        if self.filters.chips:
            self.set_filters(self.filters.undo())

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.value = ""
        box.focus()

    @on(Input.Submitted, "#search")
    def _on_search(self, message: Input.Submitted) -> None:
        self.query_one("#search", Input).display = False
        if message.value.strip():
            self.set_filters(self.filters.add(Chip.search(message.value)))
        self.query_one("#events", EventTable).focus()

    def action_time_range(self) -> None:
        from trailtui.screens.time_range import TimeRangeScreen

        def done(result: tuple[dt.datetime | None, dt.datetime | None] | None) -> None:
            if result is None or result == (None, None):
                return
            # One range at a time here: the new one replaces the old (it decides the scan).
            kept = FilterState(tuple(c for c in self.filters if c.kind != "time"), self.filters)
            self.set_filters(kept.add(Chip.time(*result)))

        self.app.push_screen(TimeRangeScreen(), done)

    def action_sort(self, reverse: bool = False) -> None:
        col = self.query_one("#events", EventTable).current_column
        if col is None:
            return
        if col.key == self.sort_column and not reverse:
            self.sort_descending = not self.sort_descending
        else:
            self.sort_column = col.key
            self.sort_descending = reverse or col.key == "eventTime"
        self.refresh_all()

    def action_sort_reverse(self) -> None:
        self.action_sort(reverse=True)

    @on(EventTable.SortRequested)
    def _on_sort_requested(self, message: EventTable.SortRequested) -> None:
        if message.control.id != "events":
            return
        if message.column_key == self.sort_column:
            self.sort_descending = not self.sort_descending
        else:
            self.sort_column = message.column_key
            self.sort_descending = message.column_key == "eventTime"
        self.refresh_all()

    def action_escape(self) -> None:
        console = self.query_one(SqlConsole)
        if console.display and console.has_focus_within:
            console.display = False
            self.query_one("#events", EventTable).focus()
            return
        box = self.query_one("#search", Input)
        if box.display:
            box.display = False
            self.query_one("#events", EventTable).focus()
            return
        if any(s.state in ("queued", "running") for s in self.queries.values()) or self.pulling:
            self.backend.cancel()

    # -- one event ----------------------------------------------------------------------------

    def _current_key(self) -> tuple[object, ...] | None:
        table = self.query_one("#events", EventTable)
        row = table.row_values(table.cursor_row) if table.row_count else None
        if not row:
            return None
        return (row["_event_id"], row["_event_time"], row["_statement"], row["_position"])

    @on(EventTable.RowActivated)
    def _on_row_activated(self, message: EventTable.RowActivated) -> None:
        if message.control.id != "events":
            return
        key = self._current_key()
        if key is not None:
            self._open_event(key, copy=False)

    def action_copy(self) -> None:
        key = self._current_key()
        if key is None:
            self.notify("nothing to copy", markup=False)
            return
        self._open_event(key, copy=True)

    @work(thread=True, group="remote-detail", exclusive=True, exit_on_error=False)
    def _open_event(self, key: tuple[object, ...], copy: bool) -> None:
        try:
            detail = self.backend.event(key)
        except (BackendError, ValueError) as exc:
            self.post_message(RemoteFailed("open event", str(exc)))
            return
        if detail is None:
            self.post_message(RemoteFailed("open event", "the event is no longer there"))
            return
        self.app.call_from_thread(self._show_event, detail, copy)

    def _show_event(self, detail: EventDetail, copy: bool) -> None:
        raw = detail.raw or json.dumps(detail.fields, ensure_ascii=False, indent=2).encode()
        if copy:
            result = clipboard.copy_text(self.app, raw.decode("utf-8", "replace"), what="event")
            self.notify(result.message, markup=False)
            return
        from trailtui.screens.detail import DetailScreen

        if detail.note:
            self.notify(safe_text(detail.note), markup=False)
        row = dict(detail.fields)
        row["eventTime"] = parse_event_time(row.get("eventTime"))
        table = self.query_one("#events", EventTable)
        shown = table.row_values(table.cursor_row) if table.row_count else None
        same = shown is not None and shown.get("_event_id") == row.get("eventID")
        row["actor"] = shown.get("actor") if shown is not None and same else None
        ui = row.get("userIdentity")
        row["access_key"] = ui.get("accessKeyId") if isinstance(ui, dict) else None

        def pivot(chip: Chip | None) -> None:
            if chip is not None:
                self.set_filters(self.filters.add(chip))

        self.app.push_screen(DetailScreen(raw, row), pivot)

    # -- pull-down ----------------------------------------------------------------------------

    def action_pull(self) -> None:
        if not self.backend.capabilities.pull_down or self.pulling:
            return
        self.pulling = True
        self._update_status()
        self._pull(self.filters)

    @work(thread=True, group="remote-pull", exclusive=True, exit_on_error=False)
    def _pull(self, filters: FilterState) -> None:
        from trailtui.data.remote import default_pull_dir

        pull = getattr(self.backend, "pull", None)
        try:
            result = pull(filters, default_pull_dir()) if pull else None
        except QueryCancelled as exc:
            self.post_message(RemoteFailed("pull-down", str(exc), cancelled=True))
            self.app.call_from_thread(self._pulled, None, False)
            return
        except (BackendError, OSError, ValueError) as exc:
            self.post_message(RemoteFailed("pull-down", str(exc)))
            self.app.call_from_thread(self._pulled, None, False)
            return
        if result is not None:
            self.app.call_from_thread(self._pulled, str(result.path), result.truncated)

    def _pulled(self, path: str | None, truncated: bool) -> None:
        """Open the pulled events in the file browser, over the app's local store."""
        self.pulling = False
        self._update_status()
        if path is None:
            return
        from trailtui.screens.browser import BrowserScreen

        if truncated:
            self.notify("the filter matched more events than a pull loads: narrow it for all",
                        severity="warning", markup=False)  # fmt: skip
        store = getattr(self.app, "store", None)
        if store is None:  # pragma: no cover - RemoteApp always has one
            return
        data = getattr(self.app, "data", None)  # the app's one door to its local store
        self.app.push_screen(BrowserScreen(store, [path], data=data))

    # -- the SQL console: the user's Athena/Trino SQL, sent as is ----------------------------

    def action_console(self) -> None:
        console = self.query_one(SqlConsole)
        console.display = True
        console.editor.focus()

    @on(SqlConsole.RunRequested)
    def _on_console_run(self, message: SqlConsole.RunRequested) -> None:
        console = self.query_one(SqlConsole)
        console.show_running()
        self._run_console(message.sql, message.sql == self._confirmed_sql)

    @on(SqlConsole.CancelRequested)
    def _on_console_cancel(self) -> None:
        self.backend.cancel()

    @work(thread=True, group="remote-console", exclusive=True, exit_on_error=False)
    def _run_console(self, sql: str, confirmed: bool) -> None:
        try:
            result = self.backend.console(sql, confirmed=confirmed)
        except QueryCancelled:
            self.app.call_from_thread(self.query_one(SqlConsole).show_cancelled)
            return
        except (BackendError, ValueError) as exc:
            self.app.call_from_thread(self.query_one(SqlConsole).show_error, str(exc))
            return
        self.app.call_from_thread(self._console_done, sql, result)

    def _console_done(self, sql: str, result: ConsoleResult) -> None:
        console = self.query_one(SqlConsole)
        if result.warnings and result.status.state == "queued":  # asked, not sent
            self._confirmed_sql = sql
            console.show_error(f"{result.warnings[0]}\nctrl+r again sends it anyway")
            return
        self._confirmed_sql = None
        columns = tuple(result.columns)
        rows = [tuple(r) for r in result.rows]
        types = tuple(
            "BIGINT" if rows and all(str(r[i]).isdigit() for r in rows)
            else "VARCHAR"
            for i in range(len(columns))
        )  # fmt: skip
        shown = QueryResult(
            sql=sql,
            table="remote" if columns else None,
            columns=columns,
            types=types,
            row_count=len(rows),
            widths=tuple(
                min(60, max([len(c)] + [len(str(r[i])) for r in rows[:200] if r[i] is not None]))
                for i, c in enumerate(columns)
            ),
            elapsed_ms=float(result.status.elapsed_ms),
            message="OK",
        )
        source = ListRowSource(columns, rows) if columns else None
        console.show_result(shown, cast(ResultSource | None, source))
        if result.truncated:
            console.show_message(f"{shown.status} · first {len(rows):,} rows")

    @on(SqlConsole.OpenEvent)
    def _on_console_event(self, message: SqlConsole.OpenEvent) -> None:
        if not message.event_id:
            return
        row = {k.lower(): v for k, v in message.row.items()}
        when = row.get("eventtime")
        self._open_event((message.event_id, when if isinstance(when, str) else ""), copy=False)

    @on(SqlConsole.FilterTo)
    def _on_console_filter(self, message: SqlConsole.FilterTo) -> None:
        field = message.field
        key = next((k for k in COLUMNS if field and k.lower() == field.lower()), None)
        if key is None:
            self.notify(safe_text(f"{message.column} cannot filter the table"), markup=False)
            return
        try:
            chip = Chip.include(key, message.value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            self.notify(safe_text(str(exc)), severity="warning", markup=False)
            return
        self.set_filters(self.filters.add(chip))
