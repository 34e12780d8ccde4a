"""The column chooser (`C`): every field, nested ones included, to show, hide and reorder.

The table's columns come first, in their order and ticked; every other field of the data
follows (`userIdentity.arn`, `requestParameters.bucketName`, `additionalEventData.MFAUsed`...).
Typing searches the paths, `space` ticks or unticks, `[`/`]` (or shift+up/down) move a ticked
column, `ctrl+r` goes back to the default columns, `enter` applies, `escape` cancels. The list
comes from `fields.catalog` (built by the caller in a worker); paths are shown sanitised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from trailtui.data.fields import DEFAULT_COLUMNS, Field, FieldCatalog
from trailtui.sanitize import safe_text
from trailtui.screens.searchable import SearchableListScreen

_SOURCE_NOTE = {"column": "", "struct": "identity", "json": "JSON"}


class ColumnChooserScreen(SearchableListScreen[list[str] | None]):
    """Pick the table's columns from every field; dismisses with the paths in order."""

    SEARCH_ID = "columns-search"
    LIST_KEYS = "[]/ "
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", id="trailtui.columns.cancel"),
        Binding("space", "tick", "Show/hide", id="trailtui.columns.tick"),
        Binding("enter", "apply", "Apply", id="trailtui.columns.apply"),
        Binding("left_square_bracket,shift+up", "move(-1)", "Move up",
                id="trailtui.columns.up"),
        Binding("right_square_bracket,shift+down", "move(1)", "Move down",
                id="trailtui.columns.down"),
        Binding("ctrl+r", "reset", "Defaults", id="trailtui.columns.reset"),
        Binding("slash", "search", "Search", show=False, id="trailtui.columns.search"),
    ]

    DEFAULT_CSS = """
    ColumnChooserScreen { align: center middle; background: $background 60%; }
    ColumnChooserScreen > Vertical {
        width: 90%; max-width: 120; height: 90%; border: thick $accent; background: $surface;
        padding: 0 1;
    }
    ColumnChooserScreen #columns-title { height: auto; text-style: bold; }
    ColumnChooserScreen #columns-search { height: 3; }
    ColumnChooserScreen #columns-list { height: 1fr; }
    ColumnChooserScreen #columns-status { height: 1; color: $text-muted; }
    """

    def __init__(self, catalog: FieldCatalog, current: Sequence[str]) -> None:
        super().__init__()
        self.catalog = catalog
        self.chosen: list[str] = list(current)
        self._shown: list[str] = []  # paths in list order

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(f"Columns: {len(self.catalog):,} fields"), id="columns-title")
            yield Input(placeholder="type to search the fields", id="columns-search",
                        select_on_focus=False)
            yield OptionList(id="columns-list")
            yield Static(id="columns-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._rebuild()

    def _fields(self) -> list[Field]:
        text = self.query_one("#columns-search", Input).value
        matching = self.catalog.search(text) if text.strip() else list(self.catalog)
        by_path = {f.path: f for f in matching}
        first = [by_path[p] for p in self.chosen if p in by_path]
        rest = [f for f in matching if f.path not in set(self.chosen)]
        return first + rest

    def _prompt(self, fld: Field) -> Content:
        tick = "[x]" if fld.path in self.chosen else "[ ]"
        note = _SOURCE_NOTE.get(fld.source, "")
        return Content(f"{tick} {safe_text(fld.path)}" + (f"  ({note})" if note else ""))

    def _rebuild(self, keep: str | None = None) -> None:
        lst = self.query_one(OptionList)
        if keep is None and lst.highlighted is not None and lst.highlighted < len(self._shown):
            keep = self._shown[lst.highlighted]
        flds = self._fields()
        self._shown = [f.path for f in flds]
        lst.clear_options()
        lst.add_options([Option(self._prompt(f)) for f in flds])
        if self._shown:
            lst.highlighted = self._shown.index(keep) if keep in self._shown else 0
        self.query_one("#columns-status", Static).update(Content(
            f"{len(self.chosen)} shown · {len(flds):,} listed · space shows/hides · "
            "[ ] move · enter applies"))

    def _current(self) -> str | None:
        i = self.query_one(OptionList).highlighted
        return self._shown[i] if i is not None and 0 <= i < len(self._shown) else None

    def action_tick(self) -> None:
        path = self._current()
        if path is None:
            self.notify("no field here", markup=False)
            return
        if path in self.chosen:
            if len(self.chosen) == 1:
                self.notify("the table needs one column at least", markup=False)
                return
            self.chosen.remove(path)
        else:
            self.chosen.append(path)
        self._rebuild(keep=path)

    def action_move(self, step: int) -> None:
        path = self._current()
        if path is None or path not in self.chosen:
            self.notify("only shown columns move: space shows this one first", markup=False)
            return
        i = self.chosen.index(path)
        j = max(0, min(len(self.chosen) - 1, i + step))
        self.chosen.insert(j, self.chosen.pop(i))
        self._rebuild(keep=path)

    def action_reset(self) -> None:
        self.chosen = list(DEFAULT_COLUMNS)
        self._rebuild()

    def action_apply(self) -> None:
        self.dismiss(list(self.chosen))

    @on(Input.Changed, "#columns-search")
    def _on_search(self) -> None:
        self._rebuild()

    @on(Input.Submitted, "#columns-search")
    def _on_search_done(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _on_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_apply()
