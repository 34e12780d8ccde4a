"""`JsonView`: coloured JSON lines with a line cursor, search and wrapping (Line API).

Why a Line-API view and not a `Static`: an event can carry tens of kilobytes of
`responseElements`; the view only draws the rows on screen, wraps long values without cutting
them (or scrolls sideways with wrapping off), and keeps a line cursor so the screen can copy the
value under it. Lines come from `trailtui.jsontext` (already safe text); nothing is ever parsed
as markup (`[bold]` shows as typed). Used by the detail and value screens.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar, Final

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from trailtui.jsontext import INDENT, JsonLine, make_line, show_more

MAX_MATCHES: Final = 10_000
"""Search stops counting here: enough to navigate, bounded on a pathological event."""
MIN_WRAP_WIDTH: Final = 16


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
        Binding("up", "cursor_up", "Up", show=False, tooltip="previous line"),
        Binding("down", "cursor_down", "Down", show=False, tooltip="next line"),
        Binding("pageup", "page_up", "Page up", show=False, tooltip="page up"),
        Binding("pagedown", "page_down", "Page down", show=False, tooltip="page down"),
        Binding("home,g", "first_line", "First line", show=False, tooltip="first line"),
        Binding("end,G", "last_line", "Last line", show=False, tooltip="last line"),
        Binding("plus", "show_more", "Show more", id="trailtui.json.more",
                tooltip="show more of a long value (past 10,000 characters its start shows)"),
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
        self._lines: list[JsonLine] = list(lines) or [make_line(0, (), (), None)]
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
        if action == "show_more":  # in the footer only on a line that is cut
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
