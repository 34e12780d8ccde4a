"""The investigator's screen: filter bar, facet panels | event table, status line.

This screen owns the filter state (attributes down, messages up): facet panels, the filter bar
and the table post messages; the screen changes the `FilterState`, starts thread workers that
ask DuckDB (through `trailtui.data`, never SQL here) and hands the results down.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import duckdb
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from trailtui import clipboard
from trailtui.data import queries, views
from trailtui.data.export import ExportFormat, guess_format
from trailtui.data.filters import Chip, FilterState
from trailtui.data.history import History
from trailtui.data.store import EventStore, LoadProgress
from trailtui.messages import FacetsReady, LoadFinished, LoadProgressed, ViewReady, WorkFailed
from trailtui.sanitize import safe_text
from trailtui.screens.console_runner import ConsoleRunner
from trailtui.widgets.event_table import Column, EventTable
from trailtui.widgets.facet_panel import FacetPanel
from trailtui.widgets.filter_bar import FilterBar
from trailtui.widgets.sql_console import SqlConsole

# Facets shown as panels, in this order (`f` focuses the first).
PANEL_FACETS = ("actor", "eventSource", "sourceIPAddress", "eventName", "awsRegion", "errorCode",
                "identity_type", "account_id", "userAgent")

_FACET_TITLES = {f.key: f.title for f in views.FACETS}


def _tidy_memory() -> None:
    """After a load: collect once, then keep the long-lived objects out of later passes."""
    import gc

    gc.collect()
    gc.freeze()


def _fmt_bool(value: object) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


class BrowserScreen(Screen[None]):
    """Facets beside a virtual table of every event; drill-down and copy from the keyboard."""

    AUTO_FOCUS = "#events"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "focus_facets", "Facets", id="trailtui.facets"),
        Binding("slash", "search", "Search", id="trailtui.search"),
        Binding("u", "undo", "Undo filter", id="trailtui.undo"),
        Binding("y", "copy", "Copy JSON", id="trailtui.copy"),
        Binding("Y", "copy_all", "Copy/save all", show=False, id="trailtui.copy_all"),
        Binding("o", "open", "Open files", id="trailtui.open"),
        Binding("T", "time_range", "Time range", show=False, id="trailtui.time"),
        Binding("colon", "console", "SQL", id="trailtui.console"),
        Binding("e", "export('events')", "Export", show=False, id="trailtui.export"),
        Binding("s", "sort", "Sort", show=False, id="trailtui.sort"),
        Binding("S", "sort_reverse", "Sort reverse", show=False, id="trailtui.sort_reverse"),
        Binding("h", "hide_column", "Hide column", show=False, id="trailtui.hide"),
        Binding("H", "show_columns", "Show columns", show=False, id="trailtui.show"),
        Binding("v", "show_value", "Whole value", show=False, id="trailtui.value"),
        Binding("L", "toggle_local_time", "Local time", show=False, id="trailtui.local_time"),
        Binding("escape", "escape", "Cancel", show=False, id="trailtui.escape"),
    ]

    def __init__(
        self, store: EventStore, paths: Sequence[str], *, local_time: bool = False
    ) -> None:
        super().__init__()
        self.store = store
        self.paths = list(paths)
        self.local_time = local_time
        self.filters = FilterState()
        self.sort_column = "eventTime"
        self.sort_descending = True
        self.generation = 0
        self.view: Any = None
        self.total = 0
        self.is_loading = False
        self.load_progress: LoadProgress | None = None
        self.span: tuple[dt.datetime | None, dt.datetime | None] = (None, None)
        self._cancel_load = threading.Event()
        self._page_cursor: duckdb.DuckDBPyConnection | None = None
        self._old_views: list[str] = []
        self._widths: dict[str, int] = {}
        self._focused_once = False
        self._last_live_refresh = 0.0

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield FilterBar(id="filters")
        with Horizontal(id="main"):
            with VerticalScroll(id="facets"):
                for key in PANEL_FACETS:
                    yield FacetPanel(key, _FACET_TITLES.get(key, key), id=f"facet-{key}")
            with Vertical(id="right"):
                yield EventTable(id="events", empty_message="loading…")
                yield SqlConsole(id="console")
        yield Input(placeholder="search the whole event text (enter adds a filter, escape "
                    "cancels)", id="search")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#events", EventTable)
        table.columns = self._columns()
        self._page_cursor = self.store.cursor()
        self.runner = ConsoleRunner(self, self.store, self.query_one(SqlConsole), History())
        self._update_status()
        if self.paths:
            # Paint the screen (with "loading…") before the loader starts competing for the GIL.
            self.set_timer(0.05, lambda: self.start_load(self.paths))
        elif self.store.event_count():
            self.refresh_all()
        else:
            table.empty_message = "no events loaded · o opens files"
            self.call_after_refresh(self.action_open)

    def _columns(self) -> list[Column]:
        """The table's columns, sized to the longest value in the current view (capped)."""

        def w(key: str, default: int, label: str) -> int:
            return max(len(label), self._widths.get(key, default))

        return [
            Column("eventTime", "Time (local)" if self.local_time else "Time (UTC)",
                   min_width=19, width=19, formatter=self._fmt_time),
            Column("actor", "User / role", min_width=8, width=w("actor", 28, "User / role"),
                   max_width=40),
            Column("eventName", "Event name", min_width=8,
                   width=w("eventName", 30, "Event name"), max_width=40, flex=True),
            Column("eventSource", "Service", min_width=8, width=w("eventSource", 26, "Service"),
                   max_width=34),
            Column("awsRegion", "Region", min_width=9, width=w("awsRegion", 14, "Region"),
                   max_width=20),
            Column("sourceIPAddress", "Source IP", min_width=7,
                   width=w("sourceIPAddress", 16, "Source IP"), max_width=39),
            Column("errorCode", "Error", min_width=5, width=w("errorCode", 16, "Error"),
                   max_width=32),
            Column("account_id", "Account", min_width=12, width=w("account_id", 12, "Account"),
                   max_width=20),
            Column("readOnly", "RO", min_width=3, width=3, max_width=3, formatter=_fmt_bool),
        ]

    def _fmt_time(self, value: object) -> str:
        if not isinstance(value, dt.datetime):
            return "" if value is None else str(value)
        if self.local_time:
            local = value.replace(tzinfo=dt.UTC).astimezone()
            return local.strftime("%Y-%m-%d %H:%M:%S")
        return value.strftime("%Y-%m-%d %H:%M:%S")

    # -- loading ----------------------------------------------------------------------------

    def start_load(self, paths: Sequence[str]) -> None:
        self.is_loading = True
        self._cancel_load.clear()
        self._update_status()
        self._load(list(paths))

    @work(thread=True, group="load", exit_on_error=False, description="loading files")
    def _load(self, paths: list[str]) -> None:
        def progress(p: LoadProgress) -> None:
            self.post_message(LoadProgressed(p))

        first = self.store.event_count() == 0
        report = self.store.load(paths, progress=progress, cancel=self._cancel_load,
                                 first_screen=first)
        self.post_message(LoadFinished(report))
        if report.events_added:
            self.store.compact()
        problem = self.store.save_cache()
        if problem:
            self.post_message(WorkFailed("cache", problem))

    @on(LoadProgressed)
    def _on_progress(self, message: LoadProgressed) -> None:
        self.load_progress = message.progress
        if message.progress.phase == "ready":
            # Show the first events at once, then at most every 2 s while loading goes on:
            # recounting competes with the loader for the two cores.
            now = time.monotonic()
            if self.view is None or now - self._last_live_refresh > 2.0:
                self._last_live_refresh = now
                self.refresh_all()
        self._update_status()

    @on(LoadFinished)
    def _on_loaded(self, message: LoadFinished) -> None:
        self.is_loading = False
        self.app.call_later(_tidy_memory)
        report = message.report
        for line in report.errors[:8]:
            self.notify(safe_text(line), title="Not loaded", severity="error", markup=False,
                        timeout=12)
        if len(report.errors) > 8:  # every one is in the message log (m)
            self.notify(f"… and {len(report.errors) - 8:,} more errors · m lists them all",
                        title="Not loaded", severity="error", markup=False, timeout=12)
        if report.warnings:
            shown = report.warnings[:5]
            more = len(report.warnings) - len(shown)
            text = "\n".join(safe_text(w) for w in shown) + (
                f"\n… and {more} more · m lists them all" if more else "\nm shows them again")
            self.notify(text, title="Note", severity="warning", markup=False, timeout=10)
        if report.cancelled:
            self.notify("loading cancelled; the events loaded so far stay", markup=False)
        table = self.query_one("#events", EventTable)
        table.empty_message = "no events match the filter" if self.store.event_count() else (
            "no events loaded · o opens files")
        self.refresh_all()
        self.runner.refresh_completions()

    # -- filter state -> workers ------------------------------------------------------------

    def set_filters(self, filters: FilterState) -> None:
        self.filters = filters
        with self.app.batch_update():
            self.query_one(FilterBar).labels = [c.label for c in filters.chips]
            self.refresh_all()

    def refresh_all(self) -> None:
        self.generation += 1
        self._update_status()
        # A search chip scans the whole event text: count facets inside the materialised view
        # (found by key) instead of scanning the text a second time in parallel.
        search = self.filters.has_search
        self._materialize(self.generation, self.filters, self.sort_column, self.sort_descending,
                          search)
        if not search:
            self._count_facets(self.generation, self.filters)

    @work(thread=True, group="view", exclusive=True, exit_on_error=False)
    def _materialize(self, generation: int, filters: FilterState, sort: str, desc: bool,
                     with_facets: bool = False) -> None:
        cur = self.store.cursor()
        self.store.register(cur)
        try:
            view = views.materialize_view(cur, filters, sort, desc, generation)
            if get_current_worker().is_cancelled:
                views.drop_view(cur, view.table)
                return
            total = views.total_count(cur)
            span = views.time_span(cur, filters, within=view)
            widths = views.column_widths(cur, view.table)
            self.post_message(ViewReady(generation, view, total, span, widths))
            if with_facets:
                counts = views.all_facet_counts(cur, PANEL_FACETS, filters, within=view)
                if not get_current_worker().is_cancelled:
                    self.post_message(FacetsReady(generation, counts))
        except duckdb.InterruptException:
            return
        except duckdb.Error as exc:
            self.post_message(WorkFailed("table", str(exc).splitlines()[0]))
        finally:
            self.store.unregister(cur)
            cur.close()

    @work(thread=True, group="facets", exclusive=True, exit_on_error=False)
    def _count_facets(self, generation: int, filters: FilterState) -> None:
        cur = self.store.cursor()
        self.store.register(cur)
        try:
            counts = views.all_facet_counts(cur, PANEL_FACETS, filters)
            if not get_current_worker().is_cancelled:
                self.post_message(FacetsReady(generation, counts))
        except duckdb.InterruptException:
            return
        except duckdb.Error as exc:
            self.post_message(WorkFailed("facets", str(exc).splitlines()[0]))
        finally:
            self.store.unregister(cur)
            cur.close()

    @on(ViewReady)
    def _on_view(self, message: ViewReady) -> None:
        with self.app.batch_update():
            self._show_view(message)

    def _show_view(self, message: ViewReady) -> None:
        if message.generation != self.generation or self._page_cursor is None:
            self._drop_later(message.view.table)
            return
        old = self.view
        self.view = message.view
        self.total = message.total
        self.span = message.span
        table = self.query_one("#events", EventTable)
        if message.widths and message.widths != self._widths:
            self._widths = message.widths
            table.columns = self._columns()
        table.sort_column = self.sort_column
        table.sort_descending = self.sort_descending
        table.set_source(views.PageSource(self._page_cursor, message.view), cursor_row=0)
        try:  # `filtered` in the SQL console: the events under the current chips
            queries.define_filtered_view(
                self._page_cursor, message.view.table if self.filters.chips else None)
        except duckdb.Error as exc:
            self.notify(safe_text(f"view `filtered` not updated: {exc}"), markup=False)
        if not self._focused_once:
            # The first layout passes hide the table for a frame, which moves focus away;
            # the first events are where an investigator starts.
            self._focused_once = True
            table.focus()
        if old is not None:
            self._drop_later(old.table)
        self._update_status()

    def _drop_later(self, table_name: str) -> None:
        self._old_views.append(table_name)
        self._drop_views()

    @work(thread=True, group="drop", exit_on_error=False)
    def _drop_views(self) -> None:
        names, self._old_views = self._old_views, []
        cur = self.store.cursor()
        try:
            for name in names:
                views.drop_view(cur, name)
        except duckdb.Error:
            pass
        finally:
            cur.close()

    @on(FacetsReady)
    def _on_facets(self, message: FacetsReady) -> None:
        if message.generation != self.generation:
            return
        with self.app.batch_update():  # nine panels, one repaint
            for key, counts in message.counts.items():
                for panel in self.query(f"#facet-{key}").results(FacetPanel):
                    panel.counts = counts

    @on(Worker.StateChanged)
    def _on_worker_state(self, event: Worker.StateChanged) -> None:
        """A worker that died of an unexpected error: say so; the app keeps running."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(safe_text(f"{type(error).__name__}: {error}"),
                        title=f"{event.worker.description or event.worker.name} failed",
                        severity="error", markup=False, timeout=12)

    @on(WorkFailed)
    def _on_failed(self, message: WorkFailed) -> None:
        self.notify(safe_text(message.error), title=f"{message.what} failed", severity="error",
                    markup=False, timeout=10)

    # -- status line ------------------------------------------------------------------------

    def _update_status(self) -> None:
        status = self.query_one("#status", Static)
        parts: list[Content] = []
        shown = self.view.row_count if self.view is not None else 0
        total = self.total
        if self.view is not None:
            parts.append(Content.styled(f"{shown:,} of {total:,} events", "bold"))
        files = len(self.store.sources)
        if files:
            parts.append(Content(f"{files:,} file{'s' if files != 1 else ''}"))
        lo, hi = self.span
        if lo is not None and hi is not None:
            zone = "local" if self.local_time else "UTC"
            parts.append(Content(f"{self._fmt_time(lo)} → {self._fmt_time(hi)} {zone}"))
        if self.is_loading:
            p = self.load_progress
            if p is not None and p.bytes_total:
                pct = 100 * p.bytes_done // max(1, p.bytes_total)
                n = min(p.file_index + 1, p.file_count)
                parts.append(Content.styled(
                    f"loading {pct}% · {p.events:,} events · file {n}/{p.file_count} "
                    "(escape cancels)", "italic"))
            else:
                parts.append(Content.styled("loading…", "italic"))
        if self.store.duplicates:
            n = self.store.duplicates
            parts.append(Content(f"{n:,} duplicate{'s' if n != 1 else ''} merged"))
        marked = len(self.query_one("#events", EventTable).marked_rows)
        if marked:
            parts.append(Content.styled(f"{marked:,} marked", "bold"))
        status.update(Content(" · ").join(parts) if parts else Content("no events"))

    @on(EventTable.MarksChanged)
    def _on_marks(self) -> None:
        self._update_status()

    # -- facets and filters -----------------------------------------------------------------

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
            self.query_one("#events", EventTable).focus()

    def action_undo(self) -> None:
        if not self.filters.chips:
            self.notify("no filter to undo", markup=False)
            return
        self.set_filters(self.filters.undo())

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.value = ""
        box.focus()

    @on(Input.Submitted, "#search")
    def _on_search(self, message: Input.Submitted) -> None:
        box = self.query_one("#search", Input)
        box.display = False
        text = message.value
        if text.strip():
            self.set_filters(self.filters.add(Chip.search(text)))
        self.query_one("#events", EventTable).focus()

    def action_time_range(self) -> None:
        from trailtui.screens.time_range import TimeRangeScreen

        def done(result: tuple[dt.datetime | None, dt.datetime | None] | None) -> None:
            if result is None or result == (None, None):
                return
            self.set_filters(self.filters.add(Chip.time(*result)))

        self.app.push_screen(TimeRangeScreen(newest=self.span[1]), done)

    def action_escape(self) -> None:
        console = self.query_one(SqlConsole)
        if console.display and console.has_focus_within:
            console.display = False
            self._table().focus()
            return
        box = self.query_one("#search", Input)
        if box.display:
            box.display = False
            self.query_one("#events", EventTable).focus()
            return
        if self.is_loading:
            self._cancel_load.set()
            self.store.interrupt_all()
            return
        table = self.query_one("#events", EventTable)
        if table.marked_rows:
            table.clear_marks()
            self._update_status()

    # -- table actions ----------------------------------------------------------------------

    def _table(self) -> EventTable:
        return self.query_one("#events", EventTable)

    def action_sort(self, reverse: bool = False) -> None:
        col = self._table().current_column
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
        if message.column_key == self.sort_column:
            self.sort_descending = not self.sort_descending
        else:
            self.sort_column = message.column_key
            self.sort_descending = message.column_key == "eventTime"
        self.refresh_all()

    def action_hide_column(self) -> None:
        table = self._table()
        col = table.current_column
        if col is None or len(table.visible_columns) <= 1:
            return
        table.hidden = set(table.hidden) | {col.key}
        self.notify(f"hid {col.label} · H shows every column", markup=False)

    def action_show_columns(self) -> None:
        self._table().hidden = set()

    def action_show_value(self) -> None:
        from trailtui.screens.value import ValueScreen

        table = self._table()
        col = table.current_column
        if col is None or table.row_count == 0:
            return
        self.app.push_screen(ValueScreen(col.label, table.current_cell_value()))

    def action_toggle_local_time(self) -> None:
        self.local_time = not self.local_time
        table = self._table()
        table.columns = self._columns()
        self._update_status()
        self.notify("times in local time" if self.local_time else "times in UTC", markup=False)

    # -- drill-down -------------------------------------------------------------------------

    @on(EventTable.RowActivated)
    def _on_row_activated(self, message: EventTable.RowActivated) -> None:
        if message.control.id != "events":
            return
        row = self._table().row_values(message.row_index)
        if not row:
            return
        self._open_detail(int(row["_file_id"]), int(row["_line"]))  # type: ignore[call-overload]

    @work(thread=True, group="detail", exclusive=True, exit_on_error=False)
    def _open_detail(self, file_id: int, line: int) -> None:
        self._open_detail_now(file_id, line)

    def _open_detail_now(self, file_id: int, line: int) -> None:
        """Read one event's row and original record (worker thread), then show it."""
        cur = self.store.cursor()
        try:
            row = views.event_row(cur, file_id, line)
            raw = self.store.raw_event(file_id, line)
        except (duckdb.Error, OSError, KeyError) as exc:
            self.post_message(WorkFailed("open event", str(exc)))
            return
        finally:
            cur.close()
        self.app.call_from_thread(self._push_detail, raw, row)

    def _push_detail(self, raw: bytes, row: dict[str, object]) -> None:
        from trailtui.screens.detail import DetailScreen

        def pivot(chip: Chip | None) -> None:
            if chip is not None:
                self.set_filters(self.filters.add(chip))
                self._table().focus()

        self.app.push_screen(DetailScreen(raw, row), pivot)

    # -- copy -------------------------------------------------------------------------------

    def action_copy(self) -> None:
        """`y`: the current event's original JSON, or the marked ones as a JSON array."""
        table = self._table()
        if self.view is None or table.row_count == 0:
            self.notify("nothing to copy", markup=False)
            return
        marked = sorted(table.marked_rows)
        self._copy_rows(self.view.table, marked or [table.cursor_row], bool(marked))

    @work(thread=True, group="copy", exclusive=True, exit_on_error=False)
    def _copy_rows(self, view_table: str, positions: list[int], as_array: bool) -> None:
        cur = self.store.cursor()
        try:
            keys = views.rows_keys(cur, view_table, positions)
        except duckdb.Error as exc:
            self.post_message(WorkFailed("copy", str(exc).splitlines()[0]))
            return
        finally:
            cur.close()
        self._gather_and_copy(keys, as_array)

    def _gather_and_copy(self, keys: list[tuple[int, int]], as_array: bool) -> None:
        """Read the original records (in a worker) and hand the text to the UI thread."""
        try:
            records = [r.decode("utf-8", errors="replace") for r in self.store.raw_events(keys)]
        except (OSError, KeyError) as exc:
            self.post_message(WorkFailed("copy", str(exc)))
            return
        text = "[\n" + ",\n".join(records) + "\n]" if as_array else records[0]
        what = f"{len(records):,} event{'s' if len(records) != 1 else ''}"
        self.app.call_from_thread(self._copy_text, text, what)

    def _copy_text(self, text: str, what: str) -> None:
        size = len(text.encode("utf-8"))
        if size > clipboard.LARGE_COPY_BYTES:
            from trailtui.screens.confirm import ConfirmCopyScreen

            def chosen(choice: str | None) -> None:
                if choice == "copy":
                    result = clipboard.copy_text(self.app, text, what=what)
                    self.notify(result.message, markup=False)
                elif choice == "save":
                    self._ask_save_path(text, what)

            self.app.push_screen(ConfirmCopyScreen(what, size), chosen)
            return
        result = clipboard.copy_text(self.app, text, what=what)
        self.notify(result.message, markup=False)

    def action_copy_all(self) -> None:
        if self.view is None or self.view.row_count == 0:
            self.notify("nothing to copy", markup=False)
            return
        self._copy_all(self.view)

    @work(thread=True, group="copy", exclusive=True, exit_on_error=False)
    def _copy_all(self, view: Any) -> None:
        cur = self.store.cursor()
        try:
            keys = views.range_keys(cur, view.table, 0, view.row_count)
        except duckdb.Error as exc:
            self.post_message(WorkFailed("copy", str(exc)))
            return
        finally:
            cur.close()
        self._gather_and_copy(keys, True)

    def _ask_save_path(self, text: str, what: str) -> None:
        from trailtui.screens.confirm import SavePathScreen

        def save(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            # The records are the original bytes joined as a JSON array: wrap, never re-dump.
            body = text if text.startswith("[") else f"[{text}]"
            try:
                with target.open("x", encoding="utf-8") as fh:
                    fh.write('{"Records":' + body + "}\n")
            except FileExistsError:
                self.notify(safe_text(f"{target} exists: choose another name"),
                            severity="warning", markup=False)
                return
            except OSError as exc:
                self.notify(safe_text(f"could not save {target}: {exc.strerror or exc}"),
                            severity="error", markup=False)
                return
            self.notify(safe_text(f"saved {what} to {target}"), markup=False)

        self.app.push_screen(SavePathScreen(default="trailtui_events.json"), save)

    # -- files ------------------------------------------------------------------------------

    def action_open(self) -> None:
        from trailtui.screens.picker import PickerScreen

        def chosen(paths: list[Path] | None) -> None:
            if paths:
                self.start_load([str(p) for p in paths])

        self.app.push_screen(PickerScreen(), chosen)

    # -- SQL console ----------------------------------------------------------------------

    def action_console(self) -> None:
        """`:` opens the console under the table (again: back to the editor)."""
        console = self.query_one(SqlConsole)
        console.display = True
        console.editor.focus()

    def on_unmount(self) -> None:
        self.runner.close()

    @on(SqlConsole.RunRequested)
    def _on_run(self, message: SqlConsole.RunRequested) -> None:
        self.runner.run(message.sql, message.params)

    @on(SqlConsole.CancelRequested)
    def _on_cancel(self) -> None:
        self.runner.cancel()

    @on(SqlConsole.OpenEvent)
    def _on_console_event(self, message: SqlConsole.OpenEvent) -> None:
        if message.file_id is not None and message.line is not None:
            self._open_detail(message.file_id, message.line)
        elif message.event_id:
            self._locate_and_open(message.event_id, message.row)

    @work(thread=True, group="detail", exclusive=True, exit_on_error=False)
    def _locate_and_open(self, event_id: str, row: dict[str, object]) -> None:
        cur = self.store.cursor()
        try:
            keys = queries.locate_event(cur, event_id, row)
        except duckdb.Error as exc:
            self.post_message(WorkFailed("open event", str(exc).splitlines()[0]))
            return
        finally:
            cur.close()
        if not keys:
            self.post_message(WorkFailed("open event", f"no loaded event has eventID {event_id}"))
            return
        file_id, line = keys[0]
        self._open_detail_now(file_id, line)

    @on(SqlConsole.FilterTo)
    def _on_console_filter(self, message: SqlConsole.FilterTo) -> None:
        if message.field is None:
            self.notify(safe_text(f"{message.column} is computed by the query, not an event "
                                  "field: it cannot filter the table"), markup=False)
            return
        try:
            chip = Chip.include(message.field, message.value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            self.notify(safe_text(str(exc)), severity="warning", markup=False)
            return
        self.set_filters(self.filters.add(chip))
        self._table().focus()

    def action_run_console_query(self, sql: str, params: dict[str, object] | None = None) -> None:
        console = self.query_one(SqlConsole)
        console.display = True
        console.set_query(sql, params)
        console.editor.focus()
        self.runner.run(sql, params)

    def action_run_library_query(self, query_id: str = "") -> None:
        from trailtui.screens.library import QueryLibraryScreen

        found, warnings = queries.library()
        for w in warnings:
            self.notify(safe_text(w), severity="warning", markup=False)

        def chosen(result: tuple[str, dict[str, object]] | None) -> None:
            if result is not None:
                self.action_run_console_query(*result)

        if query_id:
            try:
                query = queries.get_query(query_id, found)
            except KeyError:
                self.notify(safe_text(f"no library query {query_id}"), markup=False)
                return
            if not query.params:
                self.action_run_console_query(query.editor_text, {})
                return
            self.app.push_screen(QueryLibraryScreen(found, initial=query_id), chosen)
            return
        self.app.push_screen(QueryLibraryScreen(found), chosen)

    def action_copy_filter_sql(self, dialect: str = "duckdb") -> None:
        sql = self.filters.to_athena_sql() if dialect == "athena" else self.filters.to_duckdb_sql()
        result = clipboard.copy_text(self.app, sql, what=f"the filter as {dialect} SQL")
        self.notify(result.message, markup=False)

    def action_export(self, what: str = "events") -> None:
        """Export the filtered events (`e`) or the console's result to a file."""
        from trailtui.screens.confirm import SavePathScreen

        events = what != "result"

        def save(path: str | None) -> None:
            if not path:
                return
            fmt = guess_format(path, events=events) or (
                ExportFormat.RECORDS if events else ExportFormat.CSV)
            if events:
                where, params = self.filters.where()
                self.runner.export_events(
                    path, fmt, where=where, params=params,
                    order_by=views.order_by(self.sort_column, self.sort_descending))
            else:
                self.runner.export(path, fmt)

        title = ("Export the filtered events (.json = {\"Records\":[...]}, .ndjson, .csv, "
                 ".parquet; .gz compresses) to:" if events else
                 "Export the query result (.csv, .json, .ndjson, .parquet) to:")
        default = "trailtui_events.json" if events else "trailtui_result.csv"
        self.app.push_screen(SavePathScreen(default=default, title=title), save)
