"""A modal list with type-to-search (the column chooser, the frequency of a field).

Both are an OptionList under a search box: `/` focuses the box, escape leaves the box first and
closes the screen second, and a printable key the list has no use for starts a search, as in
VisiData. The screens keep their own `@on` handlers for the box and the list.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList

ResultT = TypeVar("ResultT")


class SearchableListScreen(ModalScreen[ResultT]):
    """A ModalScreen holding an OptionList and an Input whose id is SEARCH_ID."""

    SEARCH_ID: ClassVar[str]
    LIST_KEYS: ClassVar[str] = "/ "  # printable keys the list itself uses: never a search

    def search_box(self) -> Input:
        return self.query_one(f"#{self.SEARCH_ID}", Input)

    def action_search(self) -> None:
        self.search_box().focus()

    def action_close(self) -> None:
        if self.search_box().has_focus:
            self.query_one(OptionList).focus()
            return
        self.dismiss(None)

    def on_key(self, event: Key) -> None:
        """Type to search: a printable key the list has no use for goes to the search box."""
        box = self.search_box()
        if box.has_focus or not event.is_printable or event.character is None:
            return
        if event.character in self.LIST_KEYS:
            return
        event.stop()
        event.prevent_default()
        box.focus()
        box.insert_text_at_cursor(event.character)
