"""The filter bar: the active filters as chips, newest last; each can be removed.

The screen sets `labels` (attributes down); a chip posts `ChipRemoved` with its index when the
user removes it with backspace/delete, `x` or a click on its `×` (messages up).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from trailtui.sanitize import safe_text

EMPTY_HINT = "no filter · f facets · / search · T time range · : SQL"


class Chip(Static, can_focus=True):
    """One filter. Its label is built by the data layer from CloudTrail text: kept plain."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("backspace,delete,x", "remove", "Remove filter", id="trailtui.chip.remove",
                tooltip="remove the filter under the cursor"),
        Binding("left", "app.focus_previous", "Previous", show=False, tooltip="previous filter"),
        Binding("right", "app.focus_next", "Next", show=False, tooltip="next filter"),
    ]

    def __init__(self, index: int, label: str) -> None:
        super().__init__(Content.assemble(Content(safe_text(label)), Content.styled(" ×", "dim")),
                         classes="chip")
        self.index = index
        self.tooltip = Content(safe_text(label))

    def action_remove(self) -> None:
        self.post_message(FilterBar.ChipRemoved(self.index))

    def on_click(self, event: events.Click) -> None:
        """Only a click on the `×` removes the chip; elsewhere it selects it (a stray click
        must not throw a filter away)."""
        event.stop()
        if event.x >= self.size.width - 3:  # " ×" plus the right padding
            self.post_message(FilterBar.ChipRemoved(self.index))
        else:
            self.focus()


class FilterBar(HorizontalScroll, can_focus=False):
    """Chips in one scrolling line; a hint when there is no filter. Not a focus stop itself
    (tab went table -> empty bar -> chips): the chips are."""

    class ChipRemoved(Message):
        """The user removed the chip at `index` (0 = the oldest)."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._labels: tuple[str, ...] = ()

    def compose_empty(self) -> Static:
        return Static(Content.styled(EMPTY_HINT, "dim"), classes="hint")

    def on_mount(self) -> None:
        self.mount(self.compose_empty())

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    @labels.setter
    def labels(self, labels: Sequence[str]) -> None:
        new = tuple(labels)
        if new == self._labels:
            return
        self._labels = new
        self.remove_children()
        if not new:
            self.mount(self.compose_empty())
            return
        self.mount_all([Chip(i, label) for i, label in enumerate(new)])
        self.call_after_refresh(self.scroll_end, animate=False)
