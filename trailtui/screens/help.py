"""Every key, grouped by where it works: the help screen (`?`).

The table is generated from the bindings of every screen and widget (`trailtui.keys`), so it
lists keys of screens that are not open (the detail view, the SQL console) and cannot drift
from what the keys do; README's key table is the same text (a test compares them).
"""

from __future__ import annotations

import textwrap
from itertools import groupby
from typing import ClassVar, Final

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from trailtui.keys import key_rows
from trailtui.keys import keys_markdown as _keys_markdown

KEYS: Final[list[tuple[str, str, str]]] = [
    (row.group, row.keys, row.description) for row in key_rows()
]
"""The key table: (group, key, description), generated from the bindings (`trailtui.keys`)."""


def keys_markdown() -> str:
    """The table as Markdown: README's "## Keys" section holds exactly this."""
    return _keys_markdown()


def _ordered() -> list[tuple[str, str, str]]:
    """KEYS, already grouped in help order by `trailtui.keys.key_rows`."""
    return list(KEYS)


def help_content(room: int | None = None) -> Content:
    """The key table as styled Content (built from parts: never parsed as markup).

    With `room` (cells), descriptions wrap under their own column rather than being cut at
    the box's edge (100 columns cut several).
    """
    width = max(cell_len(key) for _, key, _ in KEYS) + 2
    wrap_at = None if room is None else max(20, room - 2 - width)
    parts: list[str | tuple[str, str]] = []
    for group, entries in groupby(_ordered(), key=lambda entry: entry[0]):
        if parts:
            parts.append("\n")
        parts.extend([(group, "bold underline"), "\n"])
        for _, key, description in entries:
            pad = " " * (width - cell_len(key))
            lines = textwrap.wrap(description, wrap_at) if wrap_at else [description]
            parts.extend([("  ", ""), (key, "bold $text-accent"), pad, lines[0], "\n"])
            for more in lines[1:]:
                parts.extend([" " * (2 + width), more, "\n"])
    return Content.assemble(*parts).rstrip()


class HelpScreen(ModalScreen[None]):
    """The key table in a scrollable box over the app."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="trailtui.help.close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        & > #help {
            width: auto;
            max-width: 100%;
            height: auto;
            max-height: 90%;
            border: round $primary;
            border-title-color: $text-primary;
            background: $surface;
            padding: 0 2;
        }
        & #help-keys { width: auto; max-width: 100%; }
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as box:
            box.border_title = "Keys"
            box.border_subtitle = "esc closes"
            yield Static(help_content(), id="help-keys")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#help", VerticalScroll).focus()

    def on_resize(self, event: events.Resize) -> None:
        # The screen less the box's border, padding and scrollbar.
        self.query_one("#help-keys", Static).update(help_content(event.size.width - 8))

    def action_close(self) -> None:
        self.dismiss(None)
