"""Every key of the app, read from the widgets' and screens' own bindings.

One source: the help screen (`?`) and README's key table are generated from the `BINDINGS` of
each class below, so a binding added in code shows up in both, and a test fails when README's
table differs from `keys_markdown()`. A binding's `tooltip` is its help text (the footer's short
`description` otherwise). `EXTRA_KEYS` lists the few keys handled outside bindings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from textual.binding import Binding, BindingType

from trailtui.app import TrailApp
from trailtui.screens.actors import ActorsScreen
from trailtui.screens.browser import BrowserScreen
from trailtui.screens.detail import DetailScreen
from trailtui.screens.new_values import NewValuesScreen
from trailtui.screens.params import ParamsScreen
from trailtui.screens.remote_browser import RemoteBrowserScreen
from trailtui.screens.sessions import SessionsScreen
from trailtui.widgets.facet_panel import FacetPanel
from trailtui.widgets.filter_bar import Chip
from trailtui.widgets.json_view import JsonView
from trailtui.widgets.sql_console import SqlConsole
from trailtui.widgets.virtual_table import VirtualTable


@dataclass(frozen=True)
class KeyRow:
    """One line of the key table."""

    group: str
    keys: str  # as shown: "home or g"
    description: str


_NAMES: Final[dict[str, str]] = {
    "question_mark": "?", "slash": "/", "colon": ":", "minus": "-", "pageup": "pgup",
    "pagedown": "pgdn", "f5": "F5", "equals_sign": "=", "exclamation_mark": "!",
    "left_square_bracket": "[", "right_square_bracket": "]", "plus": "+",
    "backslash": "\\",
}  # fmt: skip

EXTRA_KEYS: Final[tuple[KeyRow, ...]] = (
    # Handled in code, not by a binding of ours.
    KeyRow("SQL console", "up / down", "history (on the first / last line)"),
    KeyRow("SQL console", "enter", "on a result row: open the event, or filter to the value"),
    KeyRow("Global", "tab / shift+tab", "move focus"),
    KeyRow("Facets", "a letter", "search this facet's values (its frequency screen)"),
    KeyRow("Frequency (F)", "type / space / enter",
           "search values / tick values / filter to the ticked ones, ORed"),
    KeyRow("Frequency (F)", "x / s / v / a",
           "exclude the ticked / flip the order / whole value / add as a facet panel"),
    KeyRow("Columns (C)", "type / space / [ ]",
           "search fields / show or hide / move the shown column"),
    KeyRow("Global", "ctrl+p", "command palette"),
)


def _display(key: str) -> str:
    return " or ".join(_NAMES.get(k.strip(), k.strip()) for k in key.split(","))


def _rows(group: str, bindings: Iterable[BindingType],
          only: frozenset[str] | None = None, skip: frozenset[str] = frozenset()) -> list[KeyRow]:
    rows = []
    for binding in bindings:
        if not isinstance(binding, Binding):
            continue
        text = binding.tooltip or binding.description
        if not text or binding.system:
            continue
        if only is not None and binding.id not in only:
            continue
        if binding.id in skip:
            continue
        rows.append(KeyRow(group, _display(binding.key), text))
    return rows


def key_rows() -> list[KeyRow]:
    """Every key, grouped by where it works, in the order the help shows them."""
    table = BrowserScreen.TABLE_KEYS
    rows = [
        *_rows("Table", VirtualTable.BINDINGS),
        *_rows("Table", BrowserScreen.BINDINGS, only=table),
        *_rows("Facets", FacetPanel.BINDINGS),
        *_rows("Filters", Chip.BINDINGS),
        *_rows("Detail", DetailScreen.BINDINGS),
        *_rows("Detail", JsonView.BINDINGS),
        *_rows("SQL console", SqlConsole.BINDINGS),
        # The browser's own binding of a key wins over the app's (q asks first there).
        *_rows("Global", TrailApp.BINDINGS, skip=frozenset({"trailtui.quit"})),
        *_rows("Global", BrowserScreen.BINDINGS, skip=table),
        *_rows("Athena/Trino", RemoteBrowserScreen.BINDINGS, only=RemoteBrowserScreen.OWN_KEYS),
        *_rows("Actors", ActorsScreen.BINDINGS),
        *_rows("Sessions", SessionsScreen.BINDINGS),
        *_rows("New and rare", NewValuesScreen.BINDINGS),
        *_rows("Parameters", ParamsScreen.BINDINGS),
        *EXTRA_KEYS,
    ]
    order = ["Table", "Facets", "Frequency (F)", "Columns (C)", "Filters", "Detail", "SQL console",
             "Global", "Athena/Trino", "Actors", "Sessions", "New and rare", "Parameters"]
    return sorted(rows, key=lambda row: order.index(row.group))


def keys_markdown(rows: Sequence[KeyRow] | None = None) -> str:
    """The key table as Markdown: README's "## Keys" section holds exactly this."""
    lines = ["| Where | Key | Does |", "| :- | :- | :- |"]
    for row in rows if rows is not None else key_rows():
        shown = row.keys.replace("|", "\\|")
        lines.append(f"| {row.group} | `{shown}` | {row.description} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - `python -m trailtui.keys` prints the table
    print(keys_markdown())
