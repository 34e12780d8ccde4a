"""Temporary credentials and how they were obtained: one row per `ASIA...` key with its chain
(`alice -> RoleA@111111111111 -> RoleB@222222222222`), the AssumeRole* / Get*Token / SSO
event that issued it, when, from where, and what it did. Opened with `K`; `enter` filters
the table to that credential, `i` to the event that issued it. Reads the `sessions` view
in a thread worker; every value is shown through `trailtui.sanitize`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer
from textual.worker import get_current_worker

from trailtui.data import investigate
from trailtui.data.filters import Chip, FilterState
from trailtui.data.service import DataError, DataService, Job, JobCancelled
from trailtui.screens.investigate_list import InvestigateListScreen, list_cell
from trailtui.widgets.empty_note import EmptyNote

MAX_ROWS = 2000
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("chain", "Chain (who -> role@account -> ...)", 56), ("session_name", "Session", 22),
    ("created", "Created", 16), ("last_used", "Last used", 16), ("events", "Events", 7),
    ("failed", "Failed", 6), ("source_ip", "Issued to IP", 16), ("access_key", "Key", 22),
)  # fmt: skip


class SessionsScreen(InvestigateListScreen):
    """Every temporary credential, most recently used first; dismisses with chips or None."""

    # `enter` first: the footer then lists the keys in the same order whether or not the
    # table has the focus yet (its own `enter` would put the key first), so it never jumps.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pick", "Filter to credential", id="trailtui.sessions.pick",
                priority=True, tooltip="filter the table to this credential"),
        Binding("escape,q", "close", "Close", id="trailtui.sessions.close", tooltip="close"),
        Binding("i", "issuer", "Issuing event", id="trailtui.sessions.issuer",
                tooltip="filter the table to the event that issued it"),
    ]

    def __init__(self, data: DataService, filters: FilterState | None = None) -> None:
        super().__init__(data, filters)
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="sessions", classes="list-box") as box:
            box.border_title = "Sessions"
            box.border_subtitle = "enter filter to credential · i issuing event · esc close"
            yield EmptyNote()
            yield DataTable(id="sessions-table", classes="list-table", cursor_type="row",
                            zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#sessions-table", DataTable)
        for key, title, width in COLUMNS:
            table.add_column(title, key=key, width=width)
        table.loading = True
        self._load(self.data.job("sessions", supersede=True))

    @work(thread=True, group="sessions", exclusive=True, exit_on_error=False)
    def _load(self, job: Job) -> None:
        filters = self.filters

        def question(cur: Any) -> tuple[list[dict[str, Any]], tuple[int, int, int]]:
            return investigate.sessions_counted(cur, MAX_ROWS, filters)

        try:
            rows, counts = self.data.ask(question, job)
        except JobCancelled:
            return
        except DataError as exc:
            self.app.call_from_thread(self.list_failed, exc.line, "sessions failed")
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, rows, counts)

    def _show(self, rows: list[dict[str, Any]], counts: tuple[int, int, int]) -> None:
        self.rows = rows
        table: DataTable[Text] = self.query_one("#sessions-table", DataTable)
        table.clear()
        for row in self.rows:
            table.add_row(*(list_cell(row.get(key)) for key, _t, _w in COLUMNS))
        table.loading = False
        total, resolved, chained = counts
        shown = f", latest {len(self.rows):,} shown" if total > len(self.rows) else ""
        box = self.query_one("#sessions", Vertical)
        scope = investigate.under(self.filters)
        box.border_title = (f"Sessions{' ' + scope if scope else ''} · {total:,} credentials"
                            f"{shown} · {resolved:,} with their issuing event · {chained:,} "
                            "chained from another session")
        where = "under this filter" if scope else "in the loaded events"
        self.query_one(EmptyNote).show(None if self.rows else
                                       f"no temporary credentials (ASIA… keys) {where}, "
                                       "so no sessions")
        table.focus()

    def _current(self) -> dict[str, Any] | None:
        row = self.query_one("#sessions-table", DataTable).cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def action_pick(self) -> None:
        row = self._current()
        if row is not None:
            self.dismiss([Chip.include("access_key", row["access_key"])])

    def action_issuer(self) -> None:
        row = self._current()
        if row is None:
            return
        if not row.get("assume_event_id"):
            self.notify("the event that issued this credential is not in the loaded data",
                        markup=False)
            return
        self.dismiss([Chip.include("eventID", row["assume_event_id"])])

