"""A facet panel: every value of one field with its count under the current filter.

A small virtual table (the event table's Line API widget, two columns), so a facet with
30,000 values (actors or source IPs of a large account) recounts without blocking the UI: an
OptionList built 30,000 options on every filter change (0.8 s here). The screen sets `counts`
(attributes down); the panel posts `Picked` when the user filters to or excludes a value
(messages up). Values are CloudTrail text: the table shows them through `sanitize`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from trailtui.widgets.virtual_table import Column, ListRowSource, VirtualTable

NULL_LABEL = "(none)"


def _fmt_value(value: object) -> str:
    if value is None:
        return NULL_LABEL
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if text else '""'


def _fmt_count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else ""


class FacetPanel(VirtualTable):
    """One facet: `enter` filters to the highlighted value, `x` (or `-`) excludes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "activate", "Filter to", id="trailtui.facet.pick",
                tooltip="filter to this value"),
        Binding("x,minus", "exclude", "Exclude", id="trailtui.facet.exclude",
                tooltip="exclude this value"),
        Binding("space", "noop", show=False),
    ]

    class Picked(Message):
        """The user picked a value: filter to it, or exclude it."""

        def __init__(self, panel: FacetPanel, value: object, exclude: bool) -> None:
            super().__init__()
            self.panel = panel
            self.facet_key = panel.facet_key
            self.value = value
            self.exclude = exclude

        @property
        def control(self) -> FacetPanel:
            return self.panel

    def __init__(self, facet_key: str, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="facet", empty_message="no values")
        self.facet_key = facet_key
        self.facet_title = title
        self._counts: list[tuple[object, int]] = []
        self.counted_generation = -1  # the screen's filter generation these counts are for
        self.border_title = title
        self.columns = [
            Column("value", "value", min_width=6, flex=True, formatter=_fmt_value),
            Column("count", "events", min_width=6, width=6, align="right",
                   formatter=_fmt_count),
        ]

    @property
    def counts(self) -> Sequence[tuple[object, int]]:
        return self._counts

    @counts.setter
    def counts(self, counts: Sequence[tuple[object, int]]) -> None:
        """New values and counts (most first); the cursor stays on its value if it remains."""
        old = self._value_at(self.cursor_row)
        self._counts = list(counts)
        width = max((len(f"{c:,}") for _, c in self._counts), default=1)
        cols = list(self.columns)
        if cols[1].width != max(6, width):
            cols[1] = Column("count", "events", min_width=max(6, width), width=max(6, width),
                             align="right", formatter=_fmt_count)
            self.columns = cols
        keep = 0
        if old is not _MISSING:
            for i, (value, _count) in enumerate(self._counts):
                if value == old:
                    keep = i
                    break
        self.set_source(ListRowSource(("value", "count"), self._counts), cursor_row=keep)
        n = len(self._counts)
        self.border_subtitle = f"{n:,} value{'s' if n != 1 else ''}"

    def _value_at(self, row: int) -> object:
        if 0 <= row < len(self._counts):
            return self._counts[row][0]
        return _MISSING

    @property
    def highlighted(self) -> int | None:
        """The row under the cursor (None when empty), like OptionList's attribute."""
        return self.cursor_row if self._counts else None

    @highlighted.setter
    def highlighted(self, row: int | None) -> None:
        if row is not None:
            self.move_cursor(row=row)

    def action_activate(self) -> None:
        value = self._value_at(self.cursor_row)
        if value is not _MISSING:
            self.post_message(self.Picked(self, value, exclude=False))

    def action_exclude(self) -> None:
        value = self._value_at(self.cursor_row)
        if value is not _MISSING:
            self.post_message(self.Picked(self, value, exclude=True))

    def action_noop(self) -> None:
        """Marks mean nothing in a facet."""

    def on_virtual_table_row_activated(self, event: VirtualTable.RowActivated) -> None:
        """A double click on a value filters to it, like enter."""
        event.stop()
        if event.control is self:
            self.action_activate()

    def on_virtual_table_sort_requested(self, event: VirtualTable.SortRequested) -> None:
        event.stop()  # a facet is always most-frequent first

    def on_virtual_table_row_highlighted(self, event: VirtualTable.RowHighlighted) -> None:
        event.stop()

    def on_virtual_table_marks_changed(self, event: VirtualTable.MarksChanged) -> None:
        event.stop()


_MISSING = object()
