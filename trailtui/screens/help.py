"""Every key, grouped by where it works, from one static table (`KEYS`).

A static table rather than one generated from live bindings: the README pastes the same table,
and it must list keys of screens that are not open (the detail view, the SQL console).
"""

from __future__ import annotations

from itertools import groupby
from typing import ClassVar, Final

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

KEYS: Final[list[tuple[str, str, str]]] = [
    # (group, key, description)
    ("Global", "?", "help (this screen)"),
    ("Global", "q", "quit"),
    ("Global", "o", "open or add files"),
    ("Global", "f", "focus the facet panels (the first is user/role)"),
    ("Global", "tab / shift+tab", "move focus"),
    ("Global", ":", "SQL console"),
    ("Global", "/", "search the whole event text"),
    ("Global", "u", "undo the last filter"),
    ("Global", "T", "set a time range"),
    ("Global", "ctrl+p", "command palette"),
    ("Global", "m", "messages: every load error and note of the session"),
    ("Table", "enter", "open the event"),
    ("Table", "space", "mark or unmark the row"),
    ("Table", "y", "copy the event (or the marked events) as JSON"),
    ("Table", "Y", "copy or save all filtered events"),
    ("Table", "e", "export the filtered events to a file (Records JSON, NDJSON, CSV, Parquet)"),
    ("Table", "g / G", "first / last row"),
    ("Table", "home / end", "first / last row"),
    ("Table", "pgup / pgdn", "page up / down"),
    ("Table", "s / S", "sort by the current column / reverse"),
    ("Table", "h / H", "hide the current column / show every column"),
    ("Table", "v", "show the whole value of the current cell"),
    ("Table", "L", "toggle local time (default UTC)"),
    ("Facets", "enter", "filter to this value"),
    ("Facets", "x or -", "exclude this value"),
    ("Filters", "backspace / delete", "remove the filter under the cursor"),
    ("Detail", "escape / q", "close"),
    ("Detail", "y", "copy the original event JSON"),
    ("Detail", "c", "copy the value under the cursor"),
    ("Detail", "a", "filter: same actor"),
    ("Detail", "k", "filter: same access key"),
    ("Detail", "i", "filter: same source IP"),
    ("Detail", "s", "filter: same session"),
    ("Detail", "t", "filter: 15 minutes around this event"),
    ("Detail", "/", "find text in this event"),
    ("Detail", "n / N", "next / previous match"),
    ("Detail", "w", "wrap long values on or off"),
    ("Detail", "+", "show more of a long value (values past 10,000 characters show their start)"),
    ("SQL console", "ctrl+r / F5", "run the query"),
    ("SQL console", "escape", "cancel the running query"),
    ("SQL console", "up / down", "history (on the first / last line)"),
]
"""The product's key table: (group, key, description). README pastes this too."""

GROUP_ORDER: Final[tuple[str, ...]] = (
    "Table",
    "Facets",
    "Filters",
    "Detail",
    "SQL console",
    "Global",
)


def keys_markdown() -> str:
    """The table as Markdown, for the README (`python -c` it rather than retyping)."""
    rows = ["| Where | Key | Does |", "| :- | :- | :- |"]
    for group, key, description in _ordered():
        shown = key.replace("|", "\\|")
        rows.append(f"| {group} | `{shown}` | {description} |")
    return "\n".join(rows)


def _ordered() -> list[tuple[str, str, str]]:
    """KEYS grouped in GROUP_ORDER (unknown groups last), keeping order within a group."""
    rank = {group: index for index, group in enumerate(GROUP_ORDER)}
    return sorted(KEYS, key=lambda entry: rank.get(entry[0], len(rank)))


def help_content() -> Content:
    """The key table as styled Content (built from parts: never parsed as markup)."""
    width = max(cell_len(key) for _, key, _ in KEYS) + 2
    parts: list[str | tuple[str, str]] = []
    for group, entries in groupby(_ordered(), key=lambda entry: entry[0]):
        if parts:
            parts.append("\n")
        parts.extend([(group, "bold underline"), "\n"])
        for _, key, description in entries:
            pad = " " * (width - cell_len(key))
            parts.extend([("  ", ""), (key, "bold $text-accent"), pad, description, "\n"])
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
        & #help-keys { width: auto; }
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

    def action_close(self) -> None:
        self.dismiss(None)
