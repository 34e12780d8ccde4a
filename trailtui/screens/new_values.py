"""What is new, and what is rare: values first seen in a window, and values seen at most N
times (actor, source IP, user agent, API, region, access key, actor+API).

Opened with `N`. `w` changes the window (the last hour, day, week before the newest event),
`r` the rare threshold; `enter` dismisses with the chips that filter the table to the value.
Queries run in a thread worker; values are shown through `trailtui.sanitize`.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer
from textual.worker import get_current_worker

from trailtui.data import investigate
from trailtui.data.filters import FilterState
from trailtui.data.service import DataError, DataService, Job, JobCancelled
from trailtui.sanitize import safe_text
from trailtui.screens.investigate_list import InvestigateListScreen
from trailtui.widgets.empty_note import EmptyNote

WINDOWS: tuple[tuple[str, dt.timedelta], ...] = (
    ("last day", dt.timedelta(days=1)), ("last 7 days", dt.timedelta(days=7)),
    ("last hour", dt.timedelta(hours=1)),
)  # fmt: skip
RARE: tuple[int, ...] = (1, 3, 10, 0)
FIELD_TITLES: dict[str, str] = {
    "actor": "actor", "source_ip": "source IP", "user_agent": "user agent", "api": "API",
    "region": "region", "access_key": "access key", "actor_api": "actor + API",
}  # fmt: skip


def _when(value: dt.datetime | None) -> Text:
    return Text(value.strftime("%Y-%m-%d %H:%M") if value else "")


class NewValuesScreen(InvestigateListScreen):
    """New values in a window and rare values; dismisses with chips for one, or None."""

    # `enter` first: the footer then lists the keys in the same order whether or not the
    # table has the focus yet (its own `enter` would put the key first), so it never jumps.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pick", "Filter to value", id="trailtui.new.pick", priority=True,
                tooltip="filter the table to this value"),
        Binding("escape,q", "close", "Close", id="trailtui.new.close", tooltip="close"),
        Binding("w", "window", "Window", id="trailtui.new.window",
                tooltip="new since: the last day, 7 days, hour"),
        Binding("r", "rare", "Rare ≤ N", id="trailtui.new.rare",
                tooltip="rare: seen at most 1, 3, 10, 0 times"),
    ]

    def __init__(self, data: DataService, filters: FilterState | None = None) -> None:
        super().__init__(data, filters)
        self.window = 0
        self.rare = 0
        self.values: list[investigate.NewValue] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="new-values", classes="list-box") as box:
            box.border_title = "New and rare"
            box.border_subtitle = "enter filter · w window · r rare ≤ N · esc close"
            yield EmptyNote()
            yield DataTable(id="new-table", classes="list-table", cursor_type="row",
                            zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#new-table", DataTable)
        for key, title, width in (("what", "", 4), ("field", "Field", 12),
                                  ("value", "Value", 60), ("first", "First seen", 16),
                                  ("last", "Last seen", 16), ("events", "Events", 8)):
            table.add_column(title, key=key, width=width)
        self._reload()

    def _reload(self) -> None:
        self.query_one("#new-table", DataTable).loading = True
        self._load(self.data.job("new-values", supersede=True), WINDOWS[self.window][1],
                   RARE[self.rare])

    @work(thread=True, group="new-values", exclusive=True, exit_on_error=False)
    def _load(self, job: Job, window: dt.timedelta, rare: int) -> None:
        filters = self.filters
        try:
            found, counts = self.data.ask(
                lambda cur: investigate.new_and_rare_counted(cur, window=window, rare_max=rare,
                                                             filters=filters), job)
        except JobCancelled:
            return
        except DataError as exc:
            self.app.call_from_thread(self.list_failed, exc.line, "new values failed")
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, found, counts)

    def _show(self, found: list[investigate.NewValue], counts: tuple[int, int, int]) -> None:
        self.values = found
        table: DataTable[Text] = self.query_one("#new-table", DataTable)
        table.clear()
        for v in found:
            what = Text("new", style="bold yellow") if v.new else Text("rare", style="dim")
            table.add_row(what, Text(FIELD_TITLES.get(v.field, v.field)),
                          Text(safe_text(v.value), overflow="ellipsis", no_wrap=True),
                          _when(v.first_seen), _when(v.last_seen),
                          Text(f"{v.events:,}", justify="right"))
        table.loading = False
        new, rare, either = counts  # in all: the list stops at its limit
        box = self.query_one("#new-values", Vertical)
        shown = f" · first {len(found):,} shown" if len(found) < either else ""
        scope = investigate.under(self.filters)
        box.border_title = (f"{'Under ' + scope[6:] + ' · n' if scope else 'N'}ew in the "
                            f"{WINDOWS[self.window][0]}: {new:,} · rare (seen ≤ "
                            f"{RARE[self.rare]} times): {rare:,}{shown}")
        where = " under this filter" if scope else ""
        self.query_one(EmptyNote).show(None if found else
                                       f"nothing new in the {WINDOWS[self.window][0]} and no value "
                                       f"seen ≤ {RARE[self.rare]} times{where} · w window · "
                                       "r rare")
        table.focus()

    def action_pick(self) -> None:
        table = self.query_one("#new-table", DataTable)
        if 0 <= table.cursor_row < len(self.values):
            self.dismiss(self.values[table.cursor_row].chips())

    def action_window(self) -> None:
        self.window = (self.window + 1) % len(WINDOWS)
        self._reload()

    def action_rare(self) -> None:
        self.rare = (self.rare + 1) % len(RARE)
        self._reload()

