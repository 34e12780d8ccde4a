"""Evidence dialogs: the note of a bookmark, the bookmarks list, and "quit with marks?".

The bookmarks list shows each kept event's time (in the app's zone), summary and note;
`enter` opens the event, `n` edits its note, `d` removes it, `r` writes the report. Notes and
event text are CloudTrail/user text: shown through `sanitize`, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from trailtui.data.evidence import MAX_NOTE, Bookmark, RowKey
from trailtui.data.session import Session
from trailtui.sanitize import safe_text


class NoteScreen(ModalScreen[str | None]):
    """Ask for a bookmark's note: enter keeps it (empty is fine), escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="trailtui.note.cancel"),
    ]

    def __init__(self, title: str, note: str = "") -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(Content(safe_text(self.title_text)))
            yield Input(value=self.note, placeholder="a short note for the report (optional)",
                        max_length=MAX_NOTE, id="note")
            yield Static(Content("enter saves the bookmark · escape cancels"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


Action = Literal["open", "note", "remove", "report"]


@dataclass(frozen=True)
class BookmarkAction:
    """What the user asked for in the list: open/re-note/remove one bookmark, or the report."""

    action: Action
    key: RowKey | None = None


@dataclass(frozen=True)
class BookmarkRow:
    """One line of the list: the bookmark and its summary (time already in the app's zone)."""

    bookmark: Bookmark
    when: str
    summary: str


class BookmarksScreen(ModalScreen[BookmarkAction | None]):
    """Every bookmark, oldest first, with its note."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss(None)", "Close", id="trailtui.bookmarks.close"),
        Binding("enter", "choose('open')", "Open event", id="trailtui.bookmarks.open"),
        Binding("n", "choose('note')", "Edit note", id="trailtui.bookmarks.note"),
        Binding("d,delete", "choose('remove')", "Remove", id="trailtui.bookmarks.remove"),
        Binding("r", "report", "Report", id="trailtui.bookmarks.report"),
    ]

    DEFAULT_CSS = """
    BookmarksScreen { align: center middle; background: $background 60%; }
    BookmarksScreen > Vertical {
        width: 90%; max-width: 160; height: 80%; border: thick $accent; background: $surface;
        padding: 0 1;
    }
    BookmarksScreen #bookmarks-title { height: auto; text-style: bold; }
    BookmarksScreen #bookmarks-list { height: 1fr; }
    """

    def __init__(self, rows: Sequence[BookmarkRow], zone: str = "UTC") -> None:
        super().__init__()
        self.rows = list(rows)
        self.zone = zone

    def compose(self) -> ComposeResult:
        with Vertical():
            n = len(self.rows)
            yield Static(Content(f"{n} bookmark{'s' if n != 1 else ''} · times in "
                                 f"{safe_text(self.zone)}"), id="bookmarks-title")
            lst = OptionList(id="bookmarks-list")
            for row in self.rows:
                note = f" — {row.bookmark.note}" if row.bookmark.note else ""
                lst.add_option(Option(Content(safe_text(f"{row.when}  {row.summary}{note}"))))
            yield lst
        yield Footer()

    def on_mount(self) -> None:
        lst = self.query_one(OptionList)
        lst.focus()
        if self.rows:
            lst.highlighted = 0

    def _key(self) -> RowKey | None:
        i = self.query_one(OptionList).highlighted
        if i is None or not 0 <= i < len(self.rows):
            return None
        return self.rows[i].bookmark.ref.key

    def action_choose(self, action: Action) -> None:
        key = self._key()
        if key is None:
            self.notify("no bookmark here: b on an event bookmarks it", markup=False)
            return
        self.dismiss(BookmarkAction(action, key))

    def action_report(self) -> None:
        self.dismiss(BookmarkAction("report"))

    @on(OptionList.OptionSelected)
    def _on_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose("open")


class ConfirmQuitScreen(ModalScreen[str | None]):
    """`q` with marks or bookmarks: keep them for next time, throw them away, or stay."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Stay"),
        Binding("s", "choose('save')", "Save and quit"),
        Binding("d", "choose('discard')", "Quit, discard"),
    ]

    def __init__(self, marks: int, bookmarks: int) -> None:
        super().__init__(classes="dialog")
        self.marks = marks
        self.bookmark_count = bookmarks

    def compose(self) -> ComposeResult:
        parts = []
        if self.marks:
            parts.append(f"{self.marks:,} marked event{'s' if self.marks != 1 else ''}")
        if self.bookmark_count:
            b = self.bookmark_count
            parts.append(f"{b:,} bookmark{'s' if b != 1 else ''}")
        with Vertical(classes="dialog-box"):
            yield Static(Content(
                f"Quit with {' and '.join(parts)}?\n\nSaved, they come back when you open "
                "the same files again (trailtui --resume, or answer yes when asked)."))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save and quit (s)", id="save", variant="primary")
                yield Button("Discard and quit (d)", id="discard", variant="error")
                yield Button("Stay (esc)", id="stay")

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "stay" else event.button.id)


class ConfirmRestoreScreen(ModalScreen[bool | None]):
    """Reopening files with a saved session: bring back its filters, columns and evidence?"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "dismiss(False)", "No"),
        Binding("y", "dismiss(True)", "Yes"),
    ]

    def __init__(self, saved: Session) -> None:
        super().__init__(classes="dialog")
        self.saved = saved

    def compose(self) -> ComposeResult:
        s = self.saved
        parts = [f"{len(s.filters)} filter{'s' if len(s.filters) != 1 else ''}"]
        if s.evidence.marks:
            parts.append(f"{len(s.evidence.marks)} marked")
        if s.evidence.bookmarks:
            parts.append(f"{len(s.evidence.bookmarks)} bookmarked")
        if s.columns:
            parts.append(f"{len(s.columns)} columns")
        with Vertical(classes="dialog-box"):
            yield Static(Content(
                "These files were investigated before: " + ", ".join(parts) +
                ".\n\nRestore that session? (trailtui --resume restores without asking)"))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Restore (y)", id="yes", variant="primary")
                yield Button("Start fresh (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
