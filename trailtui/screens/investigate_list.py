"""What the actors (A), sessions (K) and new/rare (N) screens share: a full-screen list of one
investigation view, counted under the filter chips the screen was opened with, that dismisses
with chips for the row picked (or None).

Each screen composes a `Vertical(classes="list-box")` holding a `DataTable(classes="list-table")`
and asks its question in a worker; the cells go through `list_cell` (plain text, never markup).
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.screen import ModalScreen
from textual.widgets import DataTable

from trailtui.data.filters import Chip, FilterState
from trailtui.data.service import DataService
from trailtui.sanitize import safe_text


def list_cell(value: object) -> Text:
    """One cell: times to the minute, counts right-aligned with separators, text sanitised
    (CloudTrail values are hostile) and cut with "…" rather than wrapped."""
    if value is None:
        return Text("")
    if isinstance(value, dt.datetime):
        return Text(value.strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, int):
        return Text(f"{value:,}", justify="right")
    return Text(safe_text(value), overflow="ellipsis", no_wrap=True)


class InvestigateListScreen(ModalScreen[list[Chip] | None]):
    """The base of the A, K and N screens: layout, the data door, the filter, closing."""

    DEFAULT_CSS = """
    InvestigateListScreen {
        align: center middle;
        & > .list-box {
            width: 1fr; height: 1fr; margin: 1 2 0 2;
            border: round $primary; border-title-color: $text-primary; background: $surface;
        }
        & .list-table { height: 1fr; }
    }
    """

    def __init__(self, data: DataService, filters: FilterState | None = None) -> None:
        super().__init__()
        self.data = data
        self.filters = filters or FilterState()  # the events counted: those under the chips

    def list_failed(self, error: str, title: str) -> None:
        """The question failed: one message, and the table stops showing it is loading."""
        for table in self.query(".list-table").results(DataTable):
            table.loading = False
        self.notify(safe_text(error), title=title, severity="error", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
