"""One event's whole original JSON: coloured, searchable, every value visible, and pivots.

Why a Line-API view (`JsonView`) and not a `Static`: an event can carry tens of kilobytes of
`responseElements`; the view only draws the rows on screen, wraps long values without cutting
them (or scrolls sideways with wrapping off), and keeps a line cursor so `c` can copy the value
under it. The JSON is re-printed from a parse that keeps the original key order, duplicate keys
and number spellings, so what is shown is what the file says. Every string goes through
`sanitize.safe_json_text`: control characters, ESC, C1 and bidi overrides appear as `\\u001b`-style
JSON escapes, and nothing is ever parsed as markup (`[bold]` shows as typed).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar, Final, Literal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Input, Static

from trailtui.clipboard import copy_text
from trailtui.data.filters import Chip, pivot_chips
from trailtui.sanitize import safe_json_text, safe_multiline, safe_text

INDENT: Final = 2
MAX_MATCHES: Final = 10_000
"""Search stops counting here: enough to navigate, bounded on a pathological event."""
MIN_WRAP_WIDTH: Final = 16

Kind = Literal["key", "string", "number", "literal", "punct", "plain", "more"]
JsonPath = tuple[str | int, ...]


# --------------------------------------------------------------------------- parsing


class JsonNumber(str):
    """A JSON number kept as the text the file had: no float rounding, no `1e5` -> `100000.0`."""

    __slots__ = ()


class JsonObject(list[tuple[str, object]]):
    """A JSON object as its (key, value) pairs: original order, duplicate keys kept."""

    __slots__ = ()

    def get(self, key: str) -> object:
        """The last value for `key` (what `json.loads` would have kept), or None."""
        for name, value in reversed(self):
            if name == key:
                return value
        return None


def parse_json(text: str) -> object:
    """Parse JSON faithfully for display (see `JsonNumber`, `JsonObject`).

    `strict=False` accepts raw control characters inside strings (a tampered file); they are
    escaped again when shown. Raises ValueError (or RecursionError) when it is not JSON.
    """
    return json.loads(
        text,
        object_pairs_hook=JsonObject,
        parse_int=JsonNumber,
        parse_float=JsonNumber,
        parse_constant=JsonNumber,
        strict=False,
    )


def json_string(value: str) -> str:
    """A JSON string literal that is safe to show and to copy: valid JSON, controls escaped."""
    return safe_json_text(json.dumps(value, ensure_ascii=False))


@dataclass(frozen=True, slots=True)
class JsonLine:
    """One printed line: its tokens (already safe text) and the JSON value it belongs to."""

    indent: int
    tokens: tuple[tuple[str, Kind], ...]
    path: JsonPath
    value: object
    plain: str
    """The whole line as text (indent included): what search looks at."""


# A string value longer than this shows its start and "… N characters · + shows more": a 1 MB
# value (an attacker's requestParameters) must open at once, not lay out a million cells.
# `+` on the line shows SHOW_MORE_FACTOR times more; copies always take the whole value.
VALUE_CAP: Final = 10_000
SHOW_MORE_FACTOR: Final = 8


def _line(
    indent: int, tokens: tuple[tuple[str, Kind], ...], path: JsonPath, value: object
) -> JsonLine:
    plain = " " * indent + "".join(text for text, _ in tokens)
    return JsonLine(indent, tokens, path, value, plain)


def _string_tokens(value: str, cap: int | None) -> tuple[tuple[str, Kind], ...]:
    """A string value's tokens: whole, or its first `cap` characters and a "more" marker."""
    if cap is None or len(value) <= cap:
        return ((json_string(value), "string"),)
    shown = json_string(value[:cap])[:-1]  # no closing quote: the value goes on
    return ((shown, "string"),
            (f" … {len(value):,} characters in all · + shows more", "more"))


def show_more(line: JsonLine) -> JsonLine | None:
    """The same line with SHOW_MORE_FACTOR times more of its long string; None if whole."""
    if not isinstance(line.value, str) or not any(k == "more" for _t, k in line.tokens):
        return None
    shown = next(t for t, k in line.tokens if k == "string")
    cap = max(VALUE_CAP, len(shown)) * SHOW_MORE_FACTOR
    tokens: list[tuple[str, Kind]] = []
    for text, kind in line.tokens:
        if kind == "string":
            tokens.extend(_string_tokens(line.value, cap))
        elif kind != "more":
            tokens.append((text, kind))
    return _line(line.indent, tuple(tokens), line.path, line.value)


_COMMA: Final[tuple[tuple[str, Kind], ...]] = ((",", "punct"),)


def json_lines(value: object, cap: int | None = VALUE_CAP) -> list[JsonLine]:
    """Pretty-print a parsed value (2-space indent, keys in file order) as coloured lines.

    Also takes plain dicts, lists and tuples (DuckDB STRUCT/LIST values). Iterative, so a
    deeply nested hostile document cannot overflow the Python stack here. Strings longer
    than `cap` show their start (see VALUE_CAP); `cap=None` prints everything (copies).
    """
    lines: list[JsonLine] = []
    # Work items: (value, path, level, prefix tokens, trailing comma) or a closing line.
    stack: list[tuple[str, object, JsonPath, int, tuple[tuple[str, Kind], ...], bool]] = [
        ("value", value, (), 0, (), False)
    ]
    while stack:
        item, node, path, level, prefix, comma = stack.pop()
        pad = level * INDENT
        tail = _COMMA if comma else ()
        if item == "close":
            lines.append(_line(pad, (*prefix, *tail), path, node))
            continue
        if isinstance(node, Mapping) and not isinstance(node, JsonObject):
            node = JsonObject((str(key), child) for key, child in node.items())
        elif isinstance(node, tuple):
            node = list(node)
        if isinstance(node, JsonObject | list):
            is_object = isinstance(node, JsonObject)
            opening, closing = ("{", "}") if is_object else ("[", "]")
            if not node:
                lines.append(_line(pad, (*prefix, (opening + closing, "punct"), *tail), path, node))
                continue
            lines.append(_line(pad, (*prefix, (opening, "punct")), path, node))
            stack.append(("close", node, path, level, ((closing, "punct"),), comma))
            last = len(node) - 1
            children: list[tuple[str, object, JsonPath, int, tuple[tuple[str, Kind], ...], bool]]
            if isinstance(node, JsonObject):
                children = [
                    (
                        "value",
                        child,
                        (*path, key),
                        level + 1,
                        ((json_string(key), "key"), (": ", "punct")),
                        index < last,
                    )
                    for index, (key, child) in enumerate(node)
                ]
            else:
                children = [
                    ("value", child, (*path, index), level + 1, (), index < last)
                    for index, child in enumerate(node)
                ]
            stack.extend(reversed(children))
            continue
        scalar = (_string_tokens(node, cap) if isinstance(node, str)
                  and not isinstance(node, JsonNumber) else (_scalar_token(node),))
        lines.append(_line(pad, (*prefix, *scalar, *tail), path, node))
    return lines


def _scalar_token(value: object) -> tuple[str, Kind]:
    if isinstance(value, JsonNumber):
        return (safe_text(str(value)), "number")
    if value is True:
        return ("true", "literal")
    if value is False:
        return ("false", "literal")
    if value is None:
        return ("null", "literal")
    if isinstance(value, int | float):
        return (json.dumps(value), "number")
    return (json_string(str(value)), "string")


def text_lines(text: str) -> list[JsonLine]:
    """Fallback for a record that is not JSON: its text, sanitised, one line per line."""
    out = []
    for part in text.split("\n"):
        if len(part) > VALUE_CAP:
            out.append(_line(0, ((safe_text(part[:VALUE_CAP]), "plain"),
                                 (f" … {len(part):,} characters in all", "more")), (), None))
        else:
            out.append(_line(0, ((safe_multiline(part), "plain"),), (), None))
    return out


def lines_for(text: str) -> list[JsonLine]:
    """Coloured JSON lines when `text` parses, plain sanitised lines otherwise."""
    try:
        value = parse_json(text)
    except (ValueError, RecursionError):
        return text_lines(text)
    return json_lines(value)


def dumps(value: object) -> str:
    """Indented JSON text of a parsed value, with the same safety as the view (for copying)."""
    return "\n".join(line.plain for line in json_lines(value, cap=None))


def format_path(path: JsonPath) -> str:
    """`$.userIdentity.sessionContext["odd key"][0]`: how a jq/JSONPath user writes it."""
    parts = ["$"]
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif step.isidentifier():
            parts.append("." + step)
        else:
            parts.append(f"[{json_string(step)}]")
    return safe_text("".join(parts))


def is_copy_safe(text: str) -> bool:
    """True when `text` holds no control, bidi or invisible character (newlines are fine)."""
    return safe_multiline(text) == text


def clipboard_text(value: object) -> tuple[str, bool]:
    """The text to copy for a value, and whether it had to be JSON-encoded to be safe.

    A plain string is copied as itself (an ARN, an IP). A string carrying control characters
    is copied as a JSON string literal instead: pasting raw ESC into a shell is how terminal
    attacks land. Objects and arrays become indented JSON; numbers keep their spelling.
    """
    if isinstance(value, JsonObject | list | tuple | Mapping):
        return dumps(value), False
    if isinstance(value, JsonNumber):
        return str(value), False
    if value is None:
        return "null", False
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    text = value if isinstance(value, str) else str(value)
    if is_copy_safe(text):
        return text, False
    return json_string(text), True


# --------------------------------------------------------------------------- the view


@dataclass(frozen=True, slots=True)
class _Match:
    line: int
    start: int
    end: int


class JsonView(ScrollView, can_focus=True):
    """A cursor over coloured JSON lines; draws only what is on screen (Line API).

    With `wrap` on (default) a long value continues on the next rows under a hanging indent,
    so nothing is ever cut; with it off the view scrolls sideways.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first_line", "First line", show=False),
        Binding("end,G", "last_line", "Last line", show=False),
        Binding("plus", "show_more", "Show more", id="trailtui.json.more"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "json-view--key",
        "json-view--string",
        "json-view--number",
        "json-view--literal",
        "json-view--punct",
        "json-view--plain",
        "json-view--cursor",
        "json-view--match",
        "json-view--match-current",
        "json-view--wrap",
        "json-view--more",
    }

    DEFAULT_CSS = """
    JsonView {
        background: $surface;
        color: $foreground;
        height: 1fr;
        scrollbar-gutter: stable;
        & > .json-view--key { color: $text-primary; text-style: bold; }
        & > .json-view--string { color: $text-success; }
        & > .json-view--number { color: $text-warning; }
        & > .json-view--literal { color: $text-secondary; text-style: italic; }
        & > .json-view--punct { color: $text-muted; }
        & > .json-view--plain { color: $foreground; }
        & > .json-view--wrap { color: $text-muted; }
        & > .json-view--more { color: $text-warning; text-style: italic; }
        & > .json-view--cursor { background: $surface-lighten-2; }
        & > .json-view--match { background: $warning 40%; }
        & > .json-view--match-current { background: $warning; color: $background; }
        &:focus > .json-view--cursor { background: $primary-muted; }
    }
    """

    WRAP_MARK: ClassVar[str] = "↪ "

    wrap: reactive[bool] = reactive(True)
    cursor_line: reactive[int] = reactive(0, always_update=True, init=False)

    class CursorMoved(Message):
        """The cursor moved to another line (the screen shows its JSON path)."""

        def __init__(self, view: JsonView, line: int) -> None:
            super().__init__()
            self.view = view
            self.line = line

        @property
        def control(self) -> JsonView:
            return self.view

    def __init__(
        self,
        lines: Sequence[JsonLine],
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._lines: list[JsonLine] = list(lines) or [_line(0, (), (), None)]
        self._cells: list[int] = [
            len(line.plain) if line.plain.isascii() else cell_len(line.plain)
            for line in self._lines
        ]
        self._row_starts: list[int] = list(range(len(self._lines) + 1))
        self._layout_key: tuple[int, bool] | None = None
        self._hangs: list[int] = [0] * len(self._lines)
        self._strips: LRUCache[int, list[Strip]] = LRUCache(1024)
        self._styles: dict[str, Style] = {}
        self._matches: list[_Match] = []
        self._matches_by_line: dict[int, list[_Match]] = {}
        self._current_match: int = -1
        self._search_text: str = ""

    # ------------------------------------------------------------------ public state

    @property
    def lines(self) -> Sequence[JsonLine]:
        return self._lines

    @property
    def current(self) -> JsonLine:
        """The line under the cursor."""
        return self._lines[self.cursor_line]

    @property
    def matches(self) -> int:
        return len(self._matches)

    @property
    def current_match(self) -> int:
        """Index of the current match (0-based), -1 when there is none."""
        return self._current_match

    @property
    def search_text(self) -> str:
        """The text last searched for ("" when none)."""
        return self._search_text

    def search(self, query: str) -> int:
        """Highlight every occurrence of `query` and go to the first one from the cursor on.

        Case-insensitive unless the query has a capital letter (vim's smartcase). The text
        searched is what is shown, so `\\u001b` finds an escaped ESC. Returns the match count.
        """
        self._search_text = query
        self._matches = []
        self._matches_by_line = {}
        self._current_match = -1
        if query:
            fold = query == query.lower()
            needle = query.lower() if fold else query
            for index, line in enumerate(self._lines):
                hay = line.plain.lower() if fold else line.plain
                if len(hay) != len(line.plain):  # lower() changed lengths: offsets unusable
                    hay = line.plain
                start = hay.find(needle)
                while start >= 0 and len(self._matches) < MAX_MATCHES:
                    match = _Match(index, start, start + len(needle))
                    self._matches.append(match)
                    self._matches_by_line.setdefault(index, []).append(match)
                    start = hay.find(needle, start + max(1, len(needle)))
                if len(self._matches) >= MAX_MATCHES:
                    break
        self._strips.clear()
        self.refresh()
        if self._matches:
            self.next_match(from_cursor=True)
        return len(self._matches)

    def next_match(self, *, backward: bool = False, from_cursor: bool = False) -> bool:
        """Move to the next (previous) match, wrapping around; False when there is none."""
        if not self._matches:
            return False
        if from_cursor:
            lines = [m.line for m in self._matches]
            index = bisect_right(lines, self.cursor_line - 1)
            self._current_match = index % len(self._matches)
        else:
            step = -1 if backward else 1
            self._current_match = (self._current_match + step) % len(self._matches)
        match = self._matches[self._current_match]
        self._strips.clear()
        self.cursor_line = match.line
        self._scroll_match_into_view(match)
        return True

    def toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    # ------------------------------------------------------------------ cursor

    def validate_cursor_line(self, value: int) -> int:
        return max(0, min(value, len(self._lines) - 1))

    def watch_cursor_line(self, old: int, new: int) -> None:
        self._strips.discard(old)
        self._strips.discard(new)
        self._scroll_line_into_view(new)
        self.refresh()
        self.refresh_bindings()  # "+ Show more" only on a cut line
        self.post_message(self.CursorMoved(self, new))

    def watch_wrap(self) -> None:
        self._layout_key = None
        self._strips.clear()
        if self.is_mounted:
            self.scroll_to(x=0, animate=False)
            self._ensure_layout()
            self.refresh()
            self.call_after_refresh(self._scroll_line_into_view, self.cursor_line)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_more":  # shown in the footer only on a line that is cut
            return any(k == "more" for _t, k in self.current.tokens)
        return True

    def action_show_more(self) -> None:
        """Show more of the cursor line's long value (the rest stays lazy)."""
        index = self.cursor_line
        longer = show_more(self._lines[index])
        if longer is None:
            return
        self._lines[index] = longer
        plain = longer.plain
        self._cells[index] = len(plain) if plain.isascii() else cell_len(plain)
        self._layout_key = None
        self._strips.clear()
        self.refresh_bindings()
        self.refresh()

    def action_cursor_up(self) -> None:
        """Up a line; inside a value taller than the view, scroll through it first."""
        self._ensure_layout()
        if self._row_starts[self.cursor_line] < self.scroll_y and self._line_visible():
            self.scroll_to(y=self.scroll_y - 1, animate=False)
        else:
            self.cursor_line -= 1

    def action_cursor_down(self) -> None:
        """Down a line; inside a value taller than the view, scroll through it first."""
        self._ensure_layout()
        bottom = self._row_starts[self.cursor_line + 1]
        view_bottom = self.scroll_y + self.scrollable_content_region.height
        if bottom > view_bottom and self._line_visible():
            self.scroll_to(y=self.scroll_y + 1, animate=False)
        else:
            self.cursor_line += 1

    def action_page_up(self) -> None:
        self._page(-1)

    def action_page_down(self) -> None:
        self._page(1)

    def _page(self, direction: int) -> None:
        """Move the view a page and keep the cursor at the same place on screen."""
        self._ensure_layout()
        height = self._page_height()
        rows = self._row_starts[-1]
        max_y = max(0, rows - self.scrollable_content_region.height)
        old_y = int(self.scroll_y)
        offset = min(max(self._row_starts[self.cursor_line] - old_y, 0), height)
        new_y = min(max(old_y + direction * height, 0), max_y)
        if new_y == old_y:  # already at the end: go to the first/last line
            self.cursor_line = 0 if direction < 0 else len(self._lines) - 1
            return
        self.scroll_to(y=new_y, animate=False)
        self.cursor_line = self._line_at_row(min(rows - 1, new_y + offset))

    def action_first_line(self) -> None:
        self.cursor_line = 0

    def action_last_line(self) -> None:
        self.cursor_line = len(self._lines) - 1

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _line_at_row(self, row: int) -> int:
        return max(0, min(len(self._lines) - 1, bisect_right(self._row_starts, row) - 1))

    def _line_visible(self, line: int | None = None) -> bool:
        """Whether any row of the line is on screen."""
        line = self.cursor_line if line is None else line
        top = self._row_starts[line]
        bottom = self._row_starts[line + 1]
        return top < self.scroll_y + self.scrollable_content_region.height and bottom > (
            self.scroll_y
        )

    def _scroll_line_into_view(self, line: int) -> None:
        """Scroll as little as possible; a line taller than the view is left alone if seen."""
        if not self.is_mounted:
            return
        self._ensure_layout()
        top = self._row_starts[line]
        bottom = self._row_starts[line + 1]
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        view_top = int(self.scroll_y)
        view_bottom = view_top + height
        if top >= view_top and bottom <= view_bottom:
            return
        if bottom - top >= height:
            if self._line_visible(line):
                return
            target = top if top >= view_bottom else bottom - height
        else:
            target = top if top < view_top else bottom - height
        self.scroll_to(y=max(0, target), animate=False)

    def _scroll_match_into_view(self, match: _Match) -> None:
        """Bring the match's row (and, unwrapped, its column) on screen."""
        if not self.is_mounted:
            return
        self._ensure_layout()
        line = self._lines[match.line]
        before = line.plain[: match.start]
        x = len(before) if before.isascii() else cell_len(before)
        width = max(1, self.scrollable_content_region.width)
        if self.wrap:
            row, _ = self._wrapped_position(match.line, x, width)
            height = self.scrollable_content_region.height
            if not self.scroll_y <= row < self.scroll_y + height:
                self.scroll_to(y=max(0, row - height // 3), animate=False)
        elif not self.scroll_x <= x < self.scroll_x + width - 4:
            self.scroll_to(x=max(0, x - width // 3), animate=False)

    def _wrapped_position(self, line: int, x: int, width: int) -> tuple[int, int]:
        """Screen row and column of cell `x` of a logical line, in wrap mode."""
        if x < width:
            return self._row_starts[line], x
        hang = self._hangs[line]
        step = width - hang
        sub, col = divmod(x - width, step)
        return self._row_starts[line] + 1 + sub, hang + col

    # ------------------------------------------------------------------ layout

    def _hang_for(self, line: JsonLine, width: int) -> int:
        """Continuation rows start under the value, clear of the key; never below a floor."""
        hang = line.indent + INDENT + len(self.WRAP_MARK)
        if width - hang < max(MIN_WRAP_WIDTH, width // 3):
            hang = min(len(self.WRAP_MARK), max(0, width - 1))
        return hang

    def _ensure_layout(self) -> None:
        width = self.scrollable_content_region.width
        key = (width, self.wrap)
        if key == self._layout_key:
            return
        self._layout_key = key
        self._strips.clear()
        starts = [0]
        total = 0
        if self.wrap and width > 0:
            hangs = self._hangs
            for index, (line, cells) in enumerate(zip(self._lines, self._cells, strict=True)):
                if cells <= width:
                    total += 1
                    hangs[index] = 0
                else:
                    hang = self._hang_for(line, width)
                    hangs[index] = hang
                    total += 1 + math.ceil((cells - width) / max(1, width - hang))
                starts.append(total)
            virtual = Size(width, total)
        else:
            starts = list(range(len(self._lines) + 1))
            virtual = Size(max(self._cells) + 1, len(self._lines))
        self._row_starts = starts
        if self.virtual_size != virtual:
            self.virtual_size = virtual

    def on_resize(self, event: events.Resize) -> None:
        self._ensure_layout()
        self._scroll_line_into_view(self.cursor_line)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()
        self.refresh()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(f"json-view--{name}", partial=True)
            self._styles[name] = style
        return style

    # ------------------------------------------------------------------ rendering

    def _line_strip(self, index: int) -> Strip:
        """The whole logical line as one strip: token colours, cursor and match highlights."""
        line = self._lines[index]
        base = self.rich_style
        if index == self.cursor_line:
            base = base + self._style("cursor")
        highlights: list[tuple[int, int, Style]] = []
        for match in self._matches_by_line.get(index, ()):
            current = (
                0 <= self._current_match < len(self._matches)
                and self._matches[self._current_match] is match
            )
            highlights.append(
                (match.start, match.end, self._style("match-current" if current else "match"))
            )
        pieces: list[tuple[str, Style]] = []
        if line.indent:
            pieces.append((" " * line.indent, base))
        for text, kind in line.tokens:
            pieces.append((text, base + self._style(kind)))
        if highlights:
            pieces = list(_overlay(pieces, highlights))
        return Strip([Segment(text, style) for text, style in pieces if text])

    def _wrapped(self, index: int, width: int) -> list[Strip]:
        cached = self._strips.get(index)
        if cached is not None:
            return cached
        strip = self._line_strip(index)
        cells = self._cells[index]
        if not self.wrap or cells <= width or width <= 0:
            strips = [strip]
        else:
            hang = self._hangs[index]
            step = max(1, width - hang)
            cuts = list(range(width, cells, step))
            parts = list(strip.divide([*cuts, cells]))
            base = self.rich_style
            if index == self.cursor_line:
                base = base + self._style("cursor")
            mark = self.WRAP_MARK if hang >= len(self.WRAP_MARK) else ""
            prefix = [
                Segment(" " * (hang - len(mark)), base),
                Segment(mark, base + self._style("wrap")),
            ]
            strips = [parts[0]] + [Strip([*prefix, *part]) for part in parts[1:]]
        self._strips.set(index, strips)
        return strips

    def render_line(self, y: int) -> Strip:
        self._ensure_layout()
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        row = scroll_y + y
        base = self.rich_style
        if row >= self._row_starts[-1] or width <= 0:
            return Strip.blank(width, base)
        index = self._line_at_row(row)
        sub = row - self._row_starts[index]
        strips = self._wrapped(index, width)
        strip = strips[sub] if sub < len(strips) else Strip.blank(0)
        fill = base + self._style("cursor") if index == self.cursor_line else base
        return strip.crop_extend(scroll_x, scroll_x + width, fill)

    def on_click(self, event: events.Click) -> None:
        self._ensure_layout()
        self.cursor_line = self._line_at_row(self.scroll_offset.y + event.y)


def _overlay(
    pieces: Sequence[tuple[str, Style]], highlights: Sequence[tuple[int, int, Style]]
) -> Iterator[tuple[str, Style]]:
    """Split styled pieces at highlight boundaries (character offsets) and add their style."""
    offset = 0
    for text, style in pieces:
        end = offset + len(text)
        cuts = {0, len(text)}
        for start, stop, _ in highlights:
            if offset < start < end:
                cuts.add(start - offset)
            if offset < stop < end:
                cuts.add(stop - offset)
        bounds = sorted(cuts)
        for left, right in pairwise(bounds):
            piece_style = style
            for start, stop, extra in highlights:
                if start <= offset + left and offset + right <= stop:
                    piece_style = piece_style + extra
            yield text[left:right], piece_style
        offset = end


# --------------------------------------------------------------------------- the screen


PIVOT_KEYS: Final[dict[str, str]] = {
    "actor": "same actor",
    "access_key": "same access key",
    "source_ip": "same source IP",
    "session": "same session",
    "around": "15 minutes around",
}
"""The keys of `filters.pivot_chips` this screen offers (the action parameter of each key)."""


def _format_time(value: object) -> str:
    """`2024-01-01 10:00:00 UTC` for a datetime (naive means UTC, as stored); text as given."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        stamp = value.strftime("%Y-%m-%d %H:%M:%S")
        if value.microsecond:
            stamp += f".{value.microsecond // 1000:03d}"
        return stamp + " UTC"
    return safe_text(value)


class DetailScreen(ModalScreen[Chip | None]):
    """The whole original record of one event; dismisses with a pivot `Chip` or None."""

    PIVOT_GROUP: ClassVar[Binding.Group] = Binding.Group(
        "same actor·key·IP·session / ±15 min", compact=False
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="trailtui.detail.close"),
        Binding("y", "copy_event", "Copy JSON", id="trailtui.detail.copy"),
        Binding("a", "pivot('actor')", "Same actor", group=PIVOT_GROUP, id="trailtui.detail.actor"),
        Binding(
            "k",
            "pivot('access_key')",
            "Same access key",
            group=PIVOT_GROUP,
            id="trailtui.detail.access_key",
        ),
        Binding(
            "i",
            "pivot('source_ip')",
            "Same source IP",
            group=PIVOT_GROUP,
            id="trailtui.detail.source_ip",
        ),
        Binding(
            "s",
            "pivot('session')",
            "Same session",
            group=PIVOT_GROUP,
            id="trailtui.detail.session",
        ),
        Binding(
            "t",
            "pivot('around')",
            "15 minutes around",
            group=PIVOT_GROUP,
            id="trailtui.detail.time",
        ),
        Binding("slash", "find", "Find", id="trailtui.detail.find"),
        Binding("n", "next_match", "Next", id="trailtui.detail.next"),
        Binding("N", "previous_match", "Previous", show=False, id="trailtui.detail.previous"),
        Binding("c", "copy_value", "Copy value", id="trailtui.detail.copy_value"),
        Binding("w", "toggle_wrap", "Wrap", id="trailtui.detail.wrap"),
    ]

    DEFAULT_CSS = """
    DetailScreen {
        align: center middle;
        & > #detail {
            width: 1fr;
            height: 1fr;
            margin: 1 2 0 2;
            border: round $primary;
            border-title-color: $text-primary;
            background: $surface;
        }
        & #detail-header { padding: 0 1; height: auto; max-height: 3; }
        & #detail-status { padding: 0 1; height: 1; color: $text-muted; background: $panel; }
        & #detail-find { display: none; border: tall $accent; }
        & #detail-find.-shown { display: block; }
    }
    """

    def __init__(
        self,
        raw: bytes | str,
        row: Mapping[str, object] | None = None,
        title: str | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`raw`: the record exactly as stored; `row`: its table columns (header, pivots)."""
        super().__init__(name=name, id=id, classes=classes)
        self.raw_text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        self.row: Mapping[str, object] = dict(row or {})
        self._title = title
        try:
            self._parsed: object = parse_json(self.raw_text)
        except (ValueError, RecursionError):
            self._parsed = None
            self._lines = text_lines(self.raw_text)
        else:
            self._lines = json_lines(self._parsed)
        try:
            chips = pivot_chips(self.row)
        except Exception:  # a missing column must not stop the event from opening
            chips = {}
        self.pivots: dict[str, Chip] = {k: v for k, v in chips.items() if k in PIVOT_KEYS}

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="detail") as box:
            box.border_title = self._title_content()
            yield Static(self._header(), id="detail-header")
            yield JsonView(self._lines, id="detail-json")
            yield Input(
                placeholder="find in this event · enter search · esc close",
                id="detail-find",
                select_on_focus=True,
            )
            yield Static(Content(""), id="detail-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(JsonView).focus()
        self._update_status()

    def _field(self, *names: str) -> object:
        """A value from the row, else from the record's top level."""
        for name in names:
            value = self.row.get(name)
            if value not in (None, ""):
                return value
        if isinstance(self._parsed, JsonObject):
            for name in names:
                value = self._parsed.get(name)
                if value not in (None, ""):
                    return value
        return None

    def _title_content(self) -> Content:
        if self._title is not None:
            return Content(safe_text(self._title))
        return Content(safe_text(self._field("eventName") or "event"))

    def _header(self) -> Content:
        name = safe_text(self._field("eventName") or "(no eventName)")
        when = _format_time(self._field("eventTime"))
        actor = self._field("actor")
        if actor is None and isinstance(self._parsed, JsonObject):
            identity = self._parsed.get("userIdentity")
            if isinstance(identity, JsonObject):
                actor = identity.get("arn") or identity.get("type")
        parts: list[str | Content | tuple[str, str]] = [
            (name, "bold"),
            ("  ·  ", "dim"),
            when or "(no time)",
            ("  ·  ", "dim"),
            (safe_text(actor or "(unknown actor)"), "bold"),
        ]
        extra: list[str | Content | tuple[str, str]] = []
        for label, value in (
            ("source", self._field("eventSource")),
            ("region", self._field("awsRegion", "region")),
            ("ip", self._field("sourceIPAddress")),
        ):
            if value is not None:
                if extra:
                    extra.append(("  ·  ", "dim"))
                extra.extend([(f"{label} ", "dim"), safe_text(value)])
        error = self._field("errorCode")
        if error is not None:
            if extra:
                extra.append(("  ·  ", "dim"))
            extra.append((safe_text(error), "bold $text-error"))
        if extra:
            parts.append("\n")
            parts.extend(extra)
        return Content.assemble(*parts)

    def _update_status(self) -> None:
        view = self.query_one(JsonView)
        line = view.current
        pieces: list[str | tuple[str, str]] = []
        if line.path or line.value is not None:
            pieces.append(format_path(line.path))
        else:
            pieces.append("$")
        if view.search_text:
            found = f"{view.current_match + 1}/{view.matches}" if view.matches else "no match"
            pieces.extend([("   find ", "dim"), safe_text(view.search_text), (f"  {found}", "dim")])
        pieces.append(("   wrap on" if view.wrap else "   wrap off", "dim"))
        self.query_one("#detail-status", Static).update(Content.assemble(*pieces))

    @on(JsonView.CursorMoved)
    def _on_cursor_moved(self, message: JsonView.CursorMoved) -> None:
        self._update_status()

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pivots this event has no value for show dimmed in the footer and do nothing."""
        if action == "pivot" and parameters and parameters[0] not in self.pivots:
            return None
        return True

    def action_close(self) -> None:
        find = self.query_one("#detail-find", Input)
        if find.has_class("-shown"):
            find.remove_class("-shown")
            self.query_one(JsonView).focus()
            return
        self.dismiss(None)

    def action_copy_event(self) -> None:
        result = copy_text(self.app, self.raw_text, what="the event JSON")
        self.notify(result.message, markup=False)

    def action_copy_value(self) -> None:
        view = self.query_one(JsonView)
        line = view.current
        if self._parsed is None:
            text, encoded = clipboard_text(self.raw_text)
            what = "the record"
        else:
            text, encoded = clipboard_text(line.value)
            what = format_path(line.path)
        result = copy_text(self.app, text, what=what)
        message = result.message
        if encoded:
            message += " (as a JSON string: the value holds control characters)"
        self.notify(message, markup=False)

    def action_pivot(self, which: str) -> None:
        chip = self.pivots.get(which)
        if chip is not None:
            self.dismiss(chip)

    def action_find(self) -> None:
        find = self.query_one("#detail-find", Input)
        find.add_class("-shown")
        find.value = self.query_one(JsonView).search_text
        find.focus()

    @on(Input.Submitted, "#detail-find")
    def _on_find(self, message: Input.Submitted) -> None:
        message.stop()
        find = self.query_one("#detail-find", Input)
        find.remove_class("-shown")
        view = self.query_one(JsonView)
        view.focus()
        count = view.search(message.value)
        if message.value and not count:
            self.notify(f"not found: {safe_text(message.value)}", markup=False)
        self._update_status()

    def action_next_match(self) -> None:
        view = self.query_one(JsonView)
        if not view.next_match():
            self.action_find()
            return
        self._update_status()

    def action_previous_match(self) -> None:
        if self.query_one(JsonView).next_match(backward=True):
            self._update_status()

    def action_toggle_wrap(self) -> None:
        self.query_one(JsonView).toggle_wrap()
        self._update_status()
