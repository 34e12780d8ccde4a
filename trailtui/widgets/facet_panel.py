"""A facet panel: every value of one field with its count under the current filter.

The screen sets `counts` (attributes down); the panel posts `Picked` when the user filters to
or excludes a value (messages up). Values are CloudTrail text: shown through `sanitize`, as
`Content`, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from trailtui.sanitize import cell_fit, safe_text

NULL_LABEL = "(none)"


class FacetPanel(OptionList):
    """One facet: `enter` filters to the highlighted value, `x` (or `-`) excludes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pick", "Filter to", id="trailtui.facet.pick"),
        Binding("x,minus", "exclude", "Exclude", id="trailtui.facet.exclude"),
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
        super().__init__(id=id, classes="facet")
        self.facet_key = facet_key
        self.facet_title = title
        self._values: list[object] = []
        self._counts: list[tuple[object, int]] = []
        self.border_title = title

    @property
    def counts(self) -> Sequence[tuple[object, int]]:
        return self._counts

    @counts.setter
    def counts(self, counts: Sequence[tuple[object, int]]) -> None:
        """New values and counts (most first); keeps the highlighted value when it remains."""
        old = self._values[self.highlighted] if self.highlighted is not None and self._values \
            and self.highlighted < len(self._values) else None
        self._counts = list(counts)
        self._values = [v for v, _ in self._counts]
        self._rebuild()
        n = len(self._counts)
        self.border_subtitle = f"{n:,} value{'s' if n != 1 else ''}"
        if old is not None and old in self._values:
            self.highlighted = self._values.index(old)
        elif n:
            self.highlighted = 0

    def _rebuild(self) -> None:
        # Content width: the panel less its border and a 1-cell scrollbar (kept: stable gutter).
        width = max(10, (self.size.width or 38) - 3)
        count_w = max((len(f"{c:,}") for _, c in self._counts), default=1)
        text_w = max(4, width - count_w - 1)
        options = []
        for value, count in self._counts:
            label = NULL_LABEL if value is None else safe_text(value)
            if value is not None and label == "":
                label = '""'
            shown = cell_fit(label, text_w)
            pad = max(1, width - cell_len(shown) - len(f"{count:,}"))
            line = Content.assemble(
                Content(shown) if value is not None else Content.styled(shown, "italic dim"),
                " " * pad,
                Content.styled(f"{count:,}", "bold"),
            )
            options.append(Option(line))
        self.clear_options()
        self.add_options(options)

    def on_resize(self) -> None:
        if self._counts:
            keep = self.highlighted
            self._rebuild()
            self.highlighted = keep

    def _current(self) -> object:
        if self.highlighted is None or self.highlighted >= len(self._values):
            raise LookupError
        return self._values[self.highlighted]

    def action_pick(self) -> None:
        try:
            value = self._current()
        except LookupError:
            return
        self.post_message(self.Picked(self, value, exclude=False))

    def action_exclude(self) -> None:
        try:
            value = self._current()
        except LookupError:
            return
        self.post_message(self.Picked(self, value, exclude=True))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A mouse click (or enter via OptionList) filters to the value."""
        event.stop()
        if 0 <= event.option_index < len(self._values):
            self.post_message(self.Picked(self, self._values[event.option_index], exclude=False))
