"""The findings panel: every detection rule that fired, most severe first.

Like a facet panel (a small virtual table): level, title, events, actors. The events and actors
are those under the current filter once the screen hands them (`under`; the findings themselves
are computed once per load). `enter` posts `Picked` so the screen filters the table to the
finding's events (a chip); moving the cursor posts `Highlighted`, so the screen can show the
highlighted title whole (the panel is narrow). Titles come from rule files, which users can
write: they are shown through `sanitize` like CloudTrail text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from trailtui.data.findings.summary import FindingSummary
from trailtui.widgets.virtual_table import Column, ListRowSource, VirtualTable

_SHORT = {"informational": "info", "low": "low", "medium": "MED", "high": "HIGH",
          "critical": "CRIT"}


def _fmt_level(value: object) -> str:
    return _SHORT.get(str(value), str(value))


def _fmt_count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else ""


class FindingsPanel(VirtualTable):
    """Findings of the loaded events; `enter` filters the table to one finding's events."""

    DEFAULT_CSS = """
    FindingsPanel {
        height: 12;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        padding: 0;
        scrollbar-size-vertical: 1;
    }
    FindingsPanel:focus {
        border: round $accent;
        border-title-color: $accent;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "activate", "Filter to finding", id="trailtui.findings.pick",
                tooltip="filter the table to this finding's events"),
        Binding("space", "noop", show=False),
    ]

    class _FindingMessage(Message):
        """A message about one finding of this panel (`control` is the panel)."""

        def __init__(self, panel: FindingsPanel, finding: FindingSummary | None) -> None:
            super().__init__()
            self.panel = panel
            self.finding = finding

        @property
        def control(self) -> FindingsPanel:
            return self.panel

    class Picked(_FindingMessage):
        """The user picked a finding: filter the table to its events."""

        finding: FindingSummary

        def __init__(self, panel: FindingsPanel, finding: FindingSummary) -> None:
            super().__init__(panel, finding)

    class Highlighted(_FindingMessage):
        """The cursor is on a finding (None: the panel is empty)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="facet", empty_message="computing findings…")
        self._findings: list[FindingSummary] = []
        self._under: Mapping[str, tuple[int, int]] | None = None
        self.border_title = "Findings"
        self.columns = [
            Column("level", "lvl", min_width=4, width=4, formatter=_fmt_level),
            Column("title", "finding", min_width=8, flex=True),
            Column("events", "ev", min_width=4, width=5, align="right", formatter=_fmt_count),
            Column("actors", "who", min_width=3, width=3, align="right", formatter=_fmt_count),
        ]

    @property
    def findings(self) -> Sequence[FindingSummary]:
        return self._findings

    @findings.setter
    def findings(self, findings: Sequence[FindingSummary]) -> None:
        self._findings = list(findings)
        self._under = None
        self.empty_message = "no findings"
        self._show(cursor_row=0)

    @property
    def under(self) -> Mapping[str, tuple[int, int]] | None:
        return self._under

    @under.setter
    def under(self, counts: Mapping[str, tuple[int, int]] | None) -> None:
        """(events, actors) of each rule under the current filter; None: no filter (all)."""
        if counts == self._under:
            return
        self._under = counts
        self._show(cursor_row=self.cursor_row)

    def _show(self, cursor_row: int) -> None:
        under = self._under
        rows = [(f.level, f.title, *(under.get(f.rule_id, (0, 0)) if under is not None
                                     else (f.events, f.actors)))
                for f in self._findings]
        self.set_source(ListRowSource(("level", "title", "events", "actors"), rows),
                        cursor_row=cursor_row)
        n = len(self._findings)
        serious = sum(1 for f in self._findings if f.level in ("medium", "high", "critical"))
        text = f"{n} rule{'s' if n != 1 else ''} · {serious} medium+"
        if under is not None:
            hit = sum(1 for f in self._findings if under.get(f.rule_id, (0, 0))[0])
            text = f"{hit} of {n} under the filter"
        self.border_subtitle = text
        self._tell_highlighted()

    def _tell_highlighted(self) -> None:
        row = self.cursor_row
        self.post_message(self.Highlighted(
            self, self._findings[row] if 0 <= row < len(self._findings) else None))

    def action_activate(self) -> None:
        if 0 <= self.cursor_row < len(self._findings):
            self.post_message(self.Picked(self, self._findings[self.cursor_row]))

    def action_noop(self) -> None:
        """Marks mean nothing here."""

    def on_virtual_table_row_activated(self, event: VirtualTable.RowActivated) -> None:
        event.stop()
        if event.control is self:
            self.action_activate()

    def on_virtual_table_sort_requested(self, event: VirtualTable.SortRequested) -> None:
        event.stop()

    def on_virtual_table_row_highlighted(self, event: VirtualTable.RowHighlighted) -> None:
        event.stop()
        if event.control is self:
            self._tell_highlighted()

    def on_virtual_table_marks_changed(self, event: VirtualTable.MarksChanged) -> None:
        event.stop()
