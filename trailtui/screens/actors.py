"""Who did what: one row per actor under the current filter, sortable, with what they did.

Opened with `A` from an event (its actor is selected) or a facet value (the actors behind that
value). `enter` dismisses with the chips that filter the table to the highlighted actor; the
pane below lists their top APIs and a per-day activity strip. Queries run in thread workers;
every CloudTrail string is shown through `trailtui.sanitize`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from trailtui.data import investigate
from trailtui.data.filters import FilterState
from trailtui.data.service import DataError, DataService, Job, JobCancelled
from trailtui.sanitize import safe_text
from trailtui.screens.investigate_list import InvestigateListScreen, list_cell
from trailtui.widgets.empty_note import EmptyNote

BLOCKS = " ▁▂▃▄▅▆▇█"
MAX_ROWS = 2000  # a generated million events has ~30,000 actors: show the top ones
SORTS: tuple[str, ...] = ("events", "last_seen", "first_seen", "failed", "access_denied",
                          "apis", "source_ips", "actor")

# (key, title, width); keys are `actors` columns.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("actor", "Actor", 30), ("identity_type", "Type", 12), ("account_id", "Account", 12),
    ("events", "Events", 8), ("failed", "Failed", 7), ("access_denied", "Denied", 7),
    ("apis", "APIs", 5), ("source_ips", "IPs", 5), ("user_agents", "UAs", 5),
    ("regions", "Regions", 7), ("access_keys", "Keys", 5), ("console_logins", "Logins", 6),
    ("first_seen", "First seen", 16), ("last_seen", "Last seen", 16),
)  # fmt: skip


def day_strip(per_day: list[tuple[dt.datetime, int, int]], width: int) -> Text:
    """One block character per day (the last `width` days), days with errors in red."""
    days = per_day[-width:]
    peak = max((n for _d, n, _f in days), default=0) or 1
    out = Text()
    for _day, n, failed in days:
        level = 0 if not n else max(1, round(8 * n / peak))
        out.append(BLOCKS[level], style="red" if failed else "cyan")
    return out


class ActorsScreen(InvestigateListScreen):
    """The actors under a filter; dismisses with chips for one actor, or None."""

    # `enter` first: the footer then lists the keys in the same order whether or not the
    # table has the focus yet (its own `enter` would put the key first), so it never jumps.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pick", "Filter to actor", id="trailtui.actors.pick", priority=True,
                tooltip="filter the table to this actor"),
        Binding("escape,q", "close", "Close", id="trailtui.actors.close", tooltip="close"),
        Binding("s", "sort", "Sort", id="trailtui.actors.sort",
                tooltip="next sort (events, last/first seen, failed, denied, APIs, IPs, name)"),
    ]

    DEFAULT_CSS = """
    ActorsScreen #actors-detail { height: auto; max-height: 14; padding: 0 1; background: $panel; }
    """

    def __init__(self, data: DataService, filters: FilterState | None = None,
                 select: str | None = None, sort: str = "events") -> None:
        super().__init__(data, filters)
        self.select = select
        self.sort = sort if sort in SORTS else "events"
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="actors", classes="list-box") as box:
            box.border_title = "Actors"
            box.border_subtitle = "enter filter to actor · s sort · esc close"
            table: DataTable[Text] = DataTable(id="actors-table", classes="list-table",
                                               cursor_type="row",
                                               zebra_stripes=True)
            yield EmptyNote()
            yield table
            yield Static("", id="actors-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#actors-table", DataTable)
        for key, title, width in COLUMNS:
            table.add_column(title, key=key, width=width)
        table.loading = True
        self._reload(self.sort)

    # -- data ---------------------------------------------------------------------------------

    def _reload(self, sort: str) -> None:
        self._load(self.data.job("actors", supersede=True), sort)

    @work(thread=True, group="actors", exclusive=True, exit_on_error=False)
    def _load(self, job: Job, sort: str) -> None:
        filters = self.filters
        try:
            rows, total = self.data.ask(
                lambda cur: investigate.actors_counted(cur, filters, sort, MAX_ROWS), job)
        except JobCancelled:
            return
        except DataError as exc:
            self.app.call_from_thread(self.list_failed, exc.line, "actors failed")
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, rows, sort, total)

    def _show(self, rows: list[dict[str, Any]], sort: str, total: int) -> None:
        self.sort = sort
        self.rows = rows[:MAX_ROWS]
        table = self.query_one("#actors-table", DataTable)
        keep = self.select
        table.clear()
        for row in self.rows:
            table.add_row(*(list_cell(row.get(key)) for key, _t, _w in COLUMNS))
        table.loading = False
        shown = f"top {len(self.rows):,} of {total:,}" if total > len(self.rows) else f"{total:,}"
        box = self.query_one("#actors", Vertical)
        scope = investigate.under(self.filters)
        box.border_title = (f"Actors · {shown}{' · ' + scope if scope else ''}"
                            f" · by {sort.replace('_', ' ')}")
        target = 0
        if keep is not None:
            target = next((i for i, r in enumerate(self.rows) if r.get("actor") == keep), 0)
        if self.rows:
            table.move_cursor(row=target)
            self._show_actor(self.rows[target])
        else:
            self.query_one("#actors-detail", Static).update("")
        self.query_one(EmptyNote).show(None if self.rows else
                                       "no actors under this filter · esc back to the table")
        table.focus()

    @on(DataTable.RowHighlighted, "#actors-table")
    def _on_highlight(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.rows):
            self._show_actor(self.rows[event.cursor_row])

    def _show_actor(self, row: dict[str, Any]) -> None:
        self._detail(self.data.job("actor-detail", supersede=True), row)

    @work(thread=True, group="actor-detail", exclusive=True, exit_on_error=False)
    def _detail(self, job: Job, row: dict[str, Any]) -> None:
        filters = self.filters
        try:
            detail = self.data.ask(lambda cur: investigate.actor_detail(cur, row, filters), job)
        except (DataError, JobCancelled):
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_detail, row, detail)

    def _show_detail(self, row: dict[str, Any], detail: investigate.ActorDetail) -> None:
        text = Text()
        text.append(safe_text(row.get("actor")), style="bold")
        text.append(f"  {safe_text(row.get('identity_type'))} · account "
                    f"{safe_text(row.get('account_id'))}", style="dim")
        for arn in (row.get("arns") or [])[:2]:
            text.append("\n" + safe_text(arn), style="dim")
        logins = int(row.get("console_logins") or 0)
        if logins:
            mfa = int(row.get("console_logins_mfa") or 0)
            text.append(f"\nconsole logins: {logins:,} ({logins - mfa:,} without MFA)",
                        style="yellow" if mfa < logins else "")
        if detail.per_day:
            first = detail.per_day[0][0].strftime("%Y-%m-%d")
            width = max(10, self.size.width - 30)
            text.append(f"\nper day from {first}: ")
            text.append_text(day_strip(detail.per_day, width))
        peak = max((n for _a, n, _f in detail.top_apis), default=0) or 1
        for api, n, failed in detail.top_apis[:8]:
            bar = "█" * max(1, round(20 * n / peak))
            text.append(f"\n{safe_text(api)[:40]:<40} {n:>8,} ")
            text.append(bar, style="cyan")
            if failed:
                text.append(f" {failed:,} failed", style="red")
        self.query_one("#actors-detail", Static).update(text)

    # -- actions ------------------------------------------------------------------------------

    def action_pick(self) -> None:
        table = self.query_one("#actors-table", DataTable)
        if 0 <= table.cursor_row < len(self.rows):
            self.dismiss(investigate.actor_chips(self.rows[table.cursor_row]))

    def action_sort(self) -> None:
        table = self.query_one("#actors-table", DataTable)
        if 0 <= table.cursor_row < len(self.rows):
            self.select = self.rows[table.cursor_row].get("actor")
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        table.loading = True
        self._reload(self.sort)

