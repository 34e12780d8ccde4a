"""One whole cell value, for when the table had to cut it.

JSON values (objects and arrays, or text holding one) are shown pretty-printed and coloured by
the detail view's `JsonView`; anything else as wrapped, sanitised text. `y` never puts raw
control characters on the clipboard: such a value is copied as a JSON string literal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from trailtui.clipboard import copy_text
from trailtui.jsontext import (
    SHOW_MORE_FACTOR,
    VALUE_CAP,
    JsonLine,
    JsonObject,
    clipboard_text,
    json_lines,
    parse_json,
)
from trailtui.sanitize import safe_multiline, safe_text
from trailtui.widgets.json_view import JsonView

PLACEHOLDER = "∅ (no value)"


def _as_json(value: object) -> object | None:
    """The parsed JSON container this value is or holds, else None."""
    if isinstance(value, Mapping | list | tuple):
        return value
    if isinstance(value, str | bytes):
        text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
        stripped = text.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                parsed = parse_json(text)
            except (ValueError, RecursionError):
                return None
            if isinstance(parsed, JsonObject | list):  # a bare "quoted" string stays text
                return parsed
    return None


class ValueScreen(ModalScreen[None]):
    """Shows one value whole; `y` copies it safely."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="trailtui.value.close", tooltip="close"),
        Binding("y", "copy", "Copy", id="trailtui.value.copy", tooltip="copy the whole value"),
        Binding("plus", "show_more", "Show more", id="trailtui.value.more",
                tooltip="show more of a long value"),
    ]

    DEFAULT_CSS = """
    ValueScreen {
        align: center middle;
        & > #value {
            width: 90%;
            height: auto;
            max-height: 90%;
            border: round $primary;
            border-title-color: $text-primary;
            background: $surface;
        }
        & #value-text { height: auto; max-height: 100%; padding: 0 1; }
        & #value-json { height: auto; max-height: 100%; }
        & #value-text > Static { width: 100%; }
    }
    """

    def __init__(
        self,
        title: str,
        value: object,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`title`: the column name; `value`: the cell's value (any type, None for NULL)."""
        super().__init__(name=name, id=id, classes=classes)
        self.title_text = title
        self.value = value
        self._text_cap = VALUE_CAP
        self._json = _as_json(value)
        self._lines: list[JsonLine] | None = (
            json_lines(self._json) if self._json is not None else None
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="value") as box:
            box.border_title = Content(safe_text(self.title_text))
            box.border_subtitle = "y copy · esc close"
            if self._lines is not None:
                yield JsonView(self._lines, id="value-json")
            else:
                with VerticalScroll(id="value-text"):
                    yield Static(self._text_content(), id="value-static")
        yield Footer()

    def _text_content(self) -> Content:
        if self.value is None:
            return Content.styled(PLACEHOLDER, "dim italic")
        if isinstance(self.value, bytes):
            text = self.value.decode("utf-8", errors="replace")
        else:
            text = str(self.value)
        if text == "":
            return Content.styled("(empty text)", "dim italic")
        if len(text) > self._text_cap:  # a 1 MB value: its start at once, more on `+`
            return Content.assemble(
                safe_multiline(text[: self._text_cap]),
                (f" … {len(text):,} characters in all · + shows more", "italic $text-warning"))
        return Content(safe_multiline(text))

    def action_show_more(self) -> None:
        self._text_cap *= SHOW_MORE_FACTOR
        self.query_one("#value-static", Static).update(self._text_content())
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_more":
            value = self.value
            return self._lines is None and isinstance(value, str | bytes) and (
                len(value) > self._text_cap)
        return True

    def on_mount(self) -> None:
        if self._lines is not None:
            self.query_one(JsonView).focus()
        else:
            self.query_one("#value-text", VerticalScroll).focus()

    def copy_payload(self) -> tuple[str, bool]:
        """What `y` copies, and whether it was JSON-encoded to keep control characters out."""
        if self._json is not None:
            return clipboard_text(self._json)
        value = self.value
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        return clipboard_text(value)

    def action_copy(self) -> None:
        text, encoded = self.copy_payload()
        result = copy_text(self.app, text, what=safe_text(self.title_text))
        message = result.message
        if encoded:
            message += " (as a JSON string: the value holds control characters)"
        self.notify(message, markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
