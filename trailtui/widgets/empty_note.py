"""One dim line that says why a list screen's table is empty (a blank grid reads as broken)."""

from __future__ import annotations

from textual.widgets import Static


class EmptyNote(Static):
    """Hidden while the table has rows; `show(text)` explains an empty one, `show(None)` hides."""

    DEFAULT_CSS = """
    EmptyNote { display: none; height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)

    def show(self, text: str | None) -> None:
        """Our own fixed wording only: never CloudTrail text."""
        self.update(text or "")
        self.display = text is not None
