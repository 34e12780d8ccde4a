"""Every message of the session (load errors, notes, failures), readable after the toast.

A `Log` widget: plain text (never markup), virtual, so thousands of notes stay cheap. Each
line is made safe with `safe_text`: load notes quote file names and file content.
"""

from __future__ import annotations

import time
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Log

from trailtui.data.message_log import Entry, MessageLog
from trailtui.sanitize import safe_text

_LEVEL = {"error": "ERROR", "warning": "note ", "information": "info "}


def entry_line(entry: Entry) -> str:
    """`12:01:33 ERROR Not loaded: x.json: ...` as one safe line."""
    stamp = time.strftime("%H:%M:%S", time.localtime(entry.at))
    title = f"{entry.title}: " if entry.title else ""
    return safe_text(f"{stamp} {_LEVEL.get(entry.level, entry.level)} {title}{entry.text}")


class MessagesScreen(ModalScreen[None]):
    """The session's message log, newest last."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,m", "close", "Close", id="trailtui.messages.close"),
    ]

    DEFAULT_CSS = """
    MessagesScreen {
        align: center middle;
        & > #messages-box {
            width: 95%;
            height: 85%;
            border: round $primary;
            border-title-color: $text-primary;
            background: $surface;
        }
        & #messages { height: 1fr; }
    }
    """

    def __init__(self, log: MessageLog) -> None:
        super().__init__()
        self.message_log = log

    def compose(self) -> ComposeResult:
        entries = self.message_log.entries()
        with Vertical(id="messages-box") as box:
            box.border_title = f"Messages ({len(entries):,})"
            box.border_subtitle = "esc closes"
            yield Log(id="messages", highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        log = self.query_one("#messages", Log)
        entries = self.message_log.entries()
        lines = [entry_line(e) for e in entries] or ["no messages in this session"]
        if self.message_log.dropped:
            lines.insert(0, f"({self.message_log.dropped:,} older messages dropped)")
        log.write_lines(lines)
        log.focus()

    def action_close(self) -> None:
        self.dismiss(None)
