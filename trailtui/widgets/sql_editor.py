"""The SQL console's editor: highlighting, history keys, and a completion popup it owns.

Textual's `TextArea` (SQL highlighting when tree-sitter-sql is installed). `up` at the first line
and `down` at the last walk the console's history (the console keeps it); `ctrl+space`, or typing
`.` after a name, opens a popup of names from DuckDB's catalog. Pasted or recalled text has its
terminal control characters made visible; names shown in the popup go through `sanitize`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar, Final, Protocol

from textual import events, on
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.widgets import OptionList, TextArea
from textual.widgets.option_list import Option

from trailtui.sanitize import safe_content, safe_text


class EditorHost(Protocol):
    """What the editor needs from the console around it: its history, and where it sits."""

    def history_back(self) -> bool: ...

    def history_forward(self) -> bool: ...

    @property
    def content_region(self) -> Region: ...


MAX_COMPLETIONS: Final = 200
_WORD_BEFORE: Final = re.compile(r"[A-Za-z_][\w.]*$")
_TERMINAL_CONTROLS: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def editor_safe(text: str) -> str:
    """Text for the editor with terminal control characters (ESC, C1...) made visible.

    TextArea writes characters to the terminal as they are, so SQL recalled from a file or
    pasted must not carry escape sequences; tabs and line ends are kept.
    """
    return _TERMINAL_CONTROLS.sub(lambda m: safe_text(m.group(0)), text)


def sql_language_available() -> bool:
    """True when Textual can highlight SQL (the `tree-sitter` and `tree-sitter-sql` packages)."""
    try:
        from textual._tree_sitter import get_language
    except ImportError:  # pragma: no cover - a Textual without tree-sitter support
        return False
    try:
        return get_language("sql") is not None
    except Exception:  # a broken grammar must not stop the console
        return False


def match_completions(
    names: Sequence[str], word: str, limit: int = MAX_COMPLETIONS
) -> list[tuple[str, str]]:
    """(shown, inserted) pairs for the word before the cursor, case-insensitive prefix match.

    Shallow names first (`userIdentity.arn` before `userIdentity.sessionContext.x`); names that
    differ only in case (`userIdentity.arn`, and `useridentity.arn` from the Athena view) are
    offered once, in the spelling closest to what was typed. When nothing matches a dotted word,
    its first part is taken as a table alias (`e.userIdentity.` completes like
    `userIdentity.`, keeping `e.`).
    """
    found = _prefixed(names, word)
    if found or "." not in word:
        return [(n, n) for n in found[:limit]]
    alias, rest = word.split(".", 1)
    return [(n, f"{alias}.{n}") for n in _prefixed(names, rest)[:limit]]


def _prefixed(names: Sequence[str], word: str) -> list[str]:
    lowered = word.lower()
    best: dict[str, str] = {}
    for name in names:
        key = name.lower()
        if not key.startswith(lowered) or key == lowered:
            continue
        seen = best.get(key)
        if seen is None or (not seen.startswith(word) and name.startswith(word)):
            best[key] = name
    return sorted(best.values(), key=lambda n: (n.count("."), n.lower(), n))


class CompletionList(OptionList, can_focus=False):
    """The completion popup: drawn over the console, driven from the editor's keys."""

    DEFAULT_CSS = """
    CompletionList {
        overlay: screen;
        position: absolute;
        display: none;
        width: 56;
        height: auto;
        max-height: 12;
        border: round $accent;
        background: $surface;
        padding: 0;
    }
    """


class SqlEditor(TextArea):
    """The console's editor: edge keys walk history, and it owns the completion popup.

    The popup is a sibling (drawn over the console), handed in by the console; the names it
    offers are set through `names` (attributes down).
    """

    # ctrl+a selects everything, as in every other editor (TextArea's default moves to the
    # line start, which `home` still does; F7 keeps working too).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+a", "select_all", "Select all", show=False, id="trailtui.console.select_all"),
    ]

    def __init__(
        self, host: EditorHost, popup: CompletionList, *, language: str | None,
        id: str | None = None,
    ) -> None:
        super().__init__(
            language=language, id=id, tab_behavior="focus", soft_wrap=False, show_line_numbers=False
        )
        self._host = host
        self.popup = popup
        self.names: tuple[str, ...] = ()
        """Names the popup offers (table, column and struct field names)."""
        self.last_typed: str | None = None
        """The printable character of the last key (for the `.` completion trigger)."""
        self._matches: list[tuple[str, str]] = []
        self._word = ""
        self._word_start = (0, 0)

    async def _on_key(self, event: events.Key) -> None:
        if self.completion_open:
            if event.key in ("enter", "tab"):
                event.stop()
                event.prevent_default()
                self.accept_completion()
                return
            if event.key == "escape":
                event.stop()
                event.prevent_default()
                self.close_completion()
                return
            if event.key in ("pageup", "pagedown"):
                event.stop()
                event.prevent_default()
                self.move_completion(-10 if event.key == "pageup" else 10)
                return
        self.last_typed = event.character if event.is_printable else None

    async def _on_paste(self, event: events.Paste) -> None:
        event.text = editor_safe(event.text)

    def action_cursor_up(self, select: bool = False) -> None:
        if self.completion_open and not select:
            self.move_completion(-1)
            return
        if not select and self.cursor_at_first_line and self._host.history_back():
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        if self.completion_open and not select:
            self.move_completion(1)
            return
        if not select and self.cursor_at_last_line and self._host.history_forward():
            return
        super().action_cursor_down(select)

    def load_safe(self, text: str) -> None:
        """Replace the text (history, a saved query) with control characters made visible."""
        self.close_completion()
        self.load_text(editor_safe(text))
        self.last_typed = None

    # ------------------------------------------------------------------ completion

    @property
    def completion_open(self) -> bool:
        return self.popup.display and bool(self._matches)

    def _word_before_cursor(self) -> str:
        row, column = self.cursor_location
        prefix = self.document.get_line(row)[:column]
        match = _WORD_BEFORE.search(prefix)
        return match.group(0) if match else ""

    def open_completion(self, *, explicit: bool) -> None:
        """Offer the names that complete the word before the cursor (a bell if none does)."""
        word = self._word_before_cursor()
        if not word and not explicit:
            self.close_completion()
            return
        matches = match_completions(self.names, word)
        if not matches:
            self.close_completion()
            if explicit:
                self.app.bell()
            return
        self._word = word
        row, column = self.cursor_location
        self._word_start = (row, column - len(word))
        self._matches = matches
        self.popup.clear_options()
        self.popup.add_options(Option(safe_content(shown)) for shown, _ in matches)
        self.popup.highlighted = 0
        self.popup.display = True
        self._place_popup()

    def _place_popup(self) -> None:
        cursor = self.cursor_screen_offset
        origin = self._host.content_region.offset
        height = min(len(self._matches), 10) + 2
        y = cursor.y - origin.y + 1
        if cursor.y + 1 + height > self.screen.size.height and cursor.y - height >= 0:
            y = cursor.y - origin.y - height
        x = max(0, cursor.x - origin.x - len(self._word))
        self.popup.styles.offset = (x, y)

    def close_completion(self) -> None:
        self._matches = []
        if self.popup.display:
            self.popup.display = False

    def move_completion(self, delta: int) -> None:
        if not self._matches:
            return
        current = self.popup.highlighted or 0
        self.popup.highlighted = max(0, min(len(self._matches) - 1, current + delta))

    def accept_completion(self, index: int | None = None) -> None:
        """Replace the word before the cursor with the highlighted (or clicked) name."""
        if index is not None:
            self.popup.highlighted = index
        index = self.popup.highlighted
        if index is None or not 0 <= index < len(self._matches):
            self.close_completion()
            return
        _shown, insert = self._matches[index]
        word = self._word_before_cursor()
        row, column = self.cursor_location
        self.close_completion()
        self.replace(insert, (row, column - len(word)), (row, column))

    @on(TextArea.Changed)
    def _edited(self, event: TextArea.Changed) -> None:
        typed, self.last_typed = self.last_typed, None
        if typed == "." and self.names and not self.completion_open:
            self.open_completion(explicit=False)

    @on(TextArea.SelectionChanged)
    def _cursor_moved(self, event: TextArea.SelectionChanged) -> None:
        """Typing or arrows inside the word refilter the popup; leaving the word closes it."""
        if not self.completion_open:
            return
        row, column = self.cursor_location
        if row != self._word_start[0] or column <= self._word_start[1]:
            self.close_completion()
        else:
            self.open_completion(explicit=False)


__all__ = [
    "CompletionList",
    "EditorHost",
    "SqlEditor",
    "editor_safe",
    "match_completions",
    "sql_language_available",
]
