"""A virtual table for up to millions of events: only the rows on screen are fetched and drawn.

Why not Textual's `DataTable`: 200k rows took ~30 s to first paint on the UI thread and it parses
cell strings as markup (`[/x]` crashes it). This is a `ScrollView` using the Line API (the
toolong `LogLines` pattern): `virtual_size` is one header line plus one line per row,
`render_line` maps a screen line to a row index, and rows come from a `RowSource` in pages of
`PAGE_SIZE` kept in an LRU cache. Nothing here is proportional to the total row count.

Every cell value goes through `trailtui.sanitize` and is drawn as plain Segments: no markup, no
control characters reach the terminal. The widget never runs SQL: the screen hands it a
`RowSource` (attributes down) and reacts to its messages (messages up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, Literal, Protocol

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from trailtui.sanitize import cell_fit, safe_cell, safe_text

PAGE_SIZE: Final = 256
"""Rows fetched per `RowSource.fetch` call (one DuckDB range query on the `rn` column)."""
CACHED_PAGES: Final = 64
CACHED_ROW_TEXTS: Final = 1024
GUTTER: Final = 2
"""Cells left of the first column: the mark ("●") and a space."""
MARK: Final = "●"
SORT_ASCENDING: Final = "▲"
SORT_DESCENDING: Final = "▼"

Align = Literal["left", "right", "center"]


class RowSource(Protocol):
    """Where the table's rows come from (a DuckDB view table in the app, a list in tests).

    `fetch` must be fast (~1-3 ms for a page): it is called on the UI thread while painting.
    Rows are sequences of values in `column_keys` order; the table maps its columns by key, so
    a source may carry more columns than are shown, and a column it lacks shows as empty.
    """

    @property
    def row_count(self) -> int: ...

    @property
    def column_keys(self) -> Sequence[str]: ...

    def fetch(self, start: int, count: int) -> Sequence[Sequence[object]]: ...


@dataclass(frozen=True)
class ListRowSource:
    """An in-memory `RowSource` for small results (SQL console rows, tests)."""

    column_keys: Sequence[str]
    rows: Sequence[Sequence[object]]

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def fetch(self, start: int, count: int) -> Sequence[Sequence[object]]:
        return self.rows[start : start + count]


def _default_format(value: object) -> str:
    """Plain text for a value; sanitising happens after formatting, in one place."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value)


@dataclass(frozen=True)
class Column:
    """One displayed column. Widths are in terminal cells and exclude the 1-cell gap after it.

    `width` is the preferred width (e.g. from `max(length(col))` capped); the layout shrinks
    columns toward `min_width` when the screen is narrow and gives spare cells to the `flex`
    column (or the last visible one) so the table always spans the full width.
    """

    key: str
    label: str
    min_width: int = 4
    max_width: int | None = None
    width: int | None = None
    align: Align = "left"
    formatter: Callable[[object], str] | None = None
    flex: bool = False

    @property
    def preferred_width(self) -> int:
        """The width this column asks for, within its own limits."""
        wanted = max(self.min_width, self.width if self.width is not None else self.min_width)
        if self.max_width is not None:
            wanted = min(wanted, max(self.max_width, self.min_width))
        return max(1, wanted)

    def format(self, value: object) -> str:
        """The column's text for a value (unsanitised: the table sanitises it)."""
        if self.formatter is None:
            return _default_format(value)
        return self.formatter(value)


def compute_widths(columns: Sequence[Column], available: int) -> list[int]:
    """Column widths (cells, gaps excluded) that fill `available` exactly when possible.

    Spare cells go to the flex column (the first with `flex=True`, else the last). When the
    preferred widths do not fit, columns shrink toward `min_width` in proportion to how much
    they can give; if even the minimums do not fit, the minimums are used and the table
    scrolls horizontally.
    """
    if not columns:
        return []
    preferred = [column.preferred_width for column in columns]
    minimum = [
        max(1, min(column.min_width, width))
        for column, width in zip(columns, preferred, strict=True)
    ]
    total = sum(preferred)
    if total <= available:
        flex = next((i for i, column in enumerate(columns) if column.flex), len(columns) - 1)
        preferred[flex] += available - total
        return preferred
    if len(columns) > 3:
        # Many columns on a narrow screen: keep the leading (key) columns readable and let
        # the later ones scroll, rather than cutting every column to a few characters.
        from trailtui.widgets.column_fit import fit_widths

        return fit_widths(preferred, minimum, available)
    excess = total - available
    slack = [p - m for p, m in zip(preferred, minimum, strict=True)]
    total_slack = sum(slack)
    if total_slack <= excess:
        return minimum
    cuts = [excess * s // total_slack for s in slack]
    remaining = excess - sum(cuts)
    # Hand out the rounding remainder one cell at a time to the columns with most slack left.
    order = sorted(range(len(columns)), key=lambda i: slack[i] - cuts[i], reverse=True)
    for i in order:
        if remaining == 0:
            break
        if slack[i] - cuts[i] > 0:
            cuts[i] += 1
            remaining -= 1
    return [p - c for p, c in zip(preferred, cuts, strict=True)]


def _pad(text: str, width: int, align: Align) -> str:
    """Pad already-fitted text to exactly `width` cells."""
    space = width - cell_len(text)
    if space <= 0:
        return text
    if align == "right":
        return " " * space + text
    if align == "center":
        left = space // 2
        return " " * left + text + " " * (space - left)
    return text + " " * space


@dataclass(frozen=True)
class _Layout:
    """Where each visible column sits for one content width (rebuilt on resize/columns/source)."""

    content_width: int
    columns: tuple[Column, ...]
    widths: tuple[int, ...]
    offsets: tuple[int, ...]
    source_index: tuple[int | None, ...]
    total_width: int

    def column_at(self, x: int) -> int | None:
        """Index of the visible column under virtual x, or None (gutter / past the end)."""
        for index, (offset, width) in enumerate(zip(self.offsets, self.widths, strict=True)):
            if offset <= x < offset + width + 1:
                return index
        return None


class VirtualTable(ScrollView, can_focus=True):
    """A virtual, read-only table over a `RowSource`, with a row cursor, a current column and
    row marks. Fixed header line; horizontal scrolling moves header and body together."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="trailtui.table.up",
                tooltip="previous row"),
        Binding("down,j", "cursor_down", "Down", show=False, id="trailtui.table.down",
                tooltip="next row"),
        Binding("pageup", "page_up", "Page up", show=False, id="trailtui.table.page_up",
                tooltip="page up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="trailtui.table.page_down",
                tooltip="page down"),
        Binding("home,g", "first_row", "First row", show=False, id="trailtui.table.first",
                tooltip="first row"),
        Binding("end,G", "last_row", "Last row", show=False, id="trailtui.table.last",
                tooltip="last row"),
        Binding("left", "column_left", "Column left", show=False, id="trailtui.table.left",
                tooltip="previous column (the one s, h and v act on)"),
        Binding("right", "column_right", "Column right", show=False, id="trailtui.table.right",
                tooltip="next column"),
        Binding("enter", "activate", "Open", id="trailtui.table.open", tooltip="open the event"),
        Binding("space", "toggle_mark", "Mark", id="trailtui.table.mark",
                tooltip="mark or unmark the row"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--header-cursor",
        "virtual-table--cursor",
        "virtual-table--cursor-cell",
        "virtual-table--marked",
        "virtual-table--empty",
    }

    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        & > .virtual-table--header {
            background: $panel;
            color: $foreground;
            text-style: bold;
        }
        & > .virtual-table--header-cursor {
            background: $panel;
            color: $text-accent;
            text-style: bold underline;
        }
        & > .virtual-table--marked {
            background: $accent 25%;
            color: $foreground;
        }
        & > .virtual-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .virtual-table--cursor-cell {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: bold underline;
        }
        & > .virtual-table--empty {
            color: $text-muted;
            text-style: italic;
        }
        &:focus {
            & > .virtual-table--cursor {
                background: $block-cursor-background 45%;
                color: $foreground;
                text-style: none;
            }
            & > .virtual-table--cursor-cell {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """

    class TableMessage(Message):
        """What every message of the table carries: the table, also as `control` for `@on`."""

        def __init__(self, table: VirtualTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> VirtualTable:
            return self.table

    class RowHighlighted(TableMessage):
        """The cursor moved to `row_index` (also sent when a new source puts it on a new row)."""

        def __init__(self, table: VirtualTable, row_index: int) -> None:
            super().__init__(table)
            self.row_index = row_index

    class RowActivated(TableMessage):
        """Enter or a double click on `row_index`: the screen opens the event."""

        def __init__(self, table: VirtualTable, row_index: int) -> None:
            super().__init__(table)
            self.row_index = row_index

    class SortRequested(TableMessage):
        """A header cell was clicked; the screen decides the order and re-materialises."""

        def __init__(self, table: VirtualTable, column_key: str) -> None:
            super().__init__(table)
            self.column_key = column_key

    class MarksChanged(TableMessage):
        """The set of marked rows changed (for a "3 marked" status)."""

        def __init__(self, table: VirtualTable, count: int) -> None:
            super().__init__(table)
            self.count = count

    class FetchFailed(TableMessage):
        """`RowSource.fetch` raised; rows show as unavailable. Sent once per source."""

        def __init__(self, table: VirtualTable, error: Exception) -> None:
            super().__init__(table)
            self.error = error

    sort_column: reactive[str | None] = reactive[str | None](None)
    """Key of the column the current view is ordered by (header shows ▲/▼)."""
    sort_descending: reactive[bool] = reactive(False)
    empty_message: reactive[str] = reactive("no events")
    """Shown on the first body line when the source has no rows (e.g. "loading…")."""

    def __init__(
        self,
        columns: Iterable[Column] = (),
        source: RowSource | None = None,
        *,
        empty_message: str = "no events",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.set_reactive(VirtualTable.empty_message, empty_message)
        self._columns: tuple[Column, ...] = tuple(columns)
        self._hidden: frozenset[str] = frozenset()
        self._source: RowSource | None = source
        self._row_count = source.row_count if source is not None else 0
        self._pages: LRUCache[int, Sequence[Sequence[object]]] = LRUCache(CACHED_PAGES)
        self._texts: LRUCache[int, tuple[str, ...]] = LRUCache(CACHED_ROW_TEXTS)
        self._layout: _Layout | None = None
        self._cursor_row = 0
        self._cursor_column = 0
        self._marks: set[int] = set()
        self.mark_by: tuple[str, ...] = ()
        """Key columns (`_file_id`, `_line`): marks then follow the rows' keys, not their
        positions, and outlive `set_source` (a filter change keeps them)."""
        self._key_marks: set[tuple[object, ...]] = set()
        self._fetch_error_reported = False
        self._base_style: Style | None = None

    # ------------------------------------------------------------------ attributes (down)

    @property
    def source(self) -> RowSource | None:
        return self._source

    @source.setter
    def source(self, source: RowSource | None) -> None:
        self.set_source(source)

    def set_source(
        self,
        source: RowSource | None,
        *,
        cursor_row: int | None = None,
    ) -> None:
        """Show another source (a new filter or sort), or the same one again after a failed
        page. Drops the caches; the cursor stays on the same index (clamped) unless
        `cursor_row` is given. Marks are row indexes of the old view, so they are cleared."""
        self._source = source
        self._fetch_error_reported = False
        had_marks = bool(self._marks) and not self.mark_by
        self._marks.clear()
        self._reset_rows()
        if cursor_row is not None:
            self._cursor_row = cursor_row
        self._clamp_cursor()
        self._scroll_cursor_into_view()
        if had_marks:
            self._post(self.MarksChanged(self, 0))
        if self._row_count:
            self._post(self.RowHighlighted(self, self._cursor_row))

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @columns.setter
    def columns(self, columns: Iterable[Column]) -> None:
        self._columns = tuple(columns)
        self._invalidate_layout()

    @property
    def hidden(self) -> frozenset[str]:
        """Keys of columns left out of the layout. Assign a new set to change it."""
        return self._hidden

    @hidden.setter
    def hidden(self, keys: Iterable[str]) -> None:
        self._hidden = frozenset(keys)
        self._invalidate_layout()

    @property
    def row_count(self) -> int:
        return self._row_count

    @property
    def cursor_row(self) -> int:
        return self._cursor_row

    @cursor_row.setter
    def cursor_row(self, row: int) -> None:
        self.move_cursor(row=row)

    @property
    def visible_columns(self) -> tuple[Column, ...]:
        return tuple(column for column in self._columns if column.key not in self._hidden)

    @property
    def current_column(self) -> Column | None:
        """The column of the cell cursor (left/right move it)."""
        visible = self.visible_columns
        if not visible:
            return None
        return visible[min(self._cursor_column, len(visible) - 1)]

    @property
    def marked_rows(self) -> frozenset[int]:
        """Marked row positions (empty when marks follow keys: see `marked_keys`)."""
        return frozenset(self._marks)

    @property
    def marked_keys(self) -> frozenset[tuple[object, ...]]:
        """Marked rows by their `mark_by` key values (whatever view they are in)."""
        return frozenset(self._key_marks)

    @marked_keys.setter
    def marked_keys(self, keys: Iterable[tuple[object, ...]]) -> None:
        new = set(keys)
        if new != self._key_marks:
            self._key_marks = new
            self.refresh()

    def clear_marks(self) -> None:
        if self._marks or self._key_marks:
            self._marks.clear()
            self._key_marks.clear()
            self.refresh()
            self._post(self.MarksChanged(self, 0))

    def _row_key(self, row_index: int) -> tuple[object, ...] | None:
        values = self.row_values(row_index)
        if values is None:
            return None
        return tuple(values.get(k) for k in self.mark_by)

    def _is_marked(self, row_index: int) -> bool:
        if self.mark_by:
            return bool(self._key_marks) and self._row_key(row_index) in self._key_marks
        return row_index in self._marks

    def row_values(self, row_index: int) -> dict[str, object] | None:
        """The raw (unsanitised) values of a row by source column key, or None if unavailable.

        For the screen to find e.g. the eventID of the highlighted row without a query.
        """
        if self._source is None or not 0 <= row_index < self._row_count:
            return None
        row = self._get_row(row_index)
        if row is None:
            return None
        return dict(zip(self._source.column_keys, row, strict=False))

    def current_cell_value(self) -> object:
        """The whole raw value under the cell cursor (None if no row/column).

        Raw and unsanitised: show it through `sanitize` and JSON-encode or sanitise before
        copying (a decoded value can carry escape sequences).
        """
        column = self.current_column
        values = self.row_values(self._cursor_row)
        if column is None or values is None:
            return None
        return values.get(column.key)

    # ------------------------------------------------------------------ cursor and scrolling

    def move_cursor(self, row: int | None = None, column: int | None = None) -> None:
        """Move the row and/or column cursor, clamped, and scroll it into view."""
        old_row = self._cursor_row
        if row is not None:
            self._cursor_row = row
        if column is not None:
            self._cursor_column = column
        self._clamp_cursor()
        self._scroll_cursor_into_view()
        self.refresh()
        if self._cursor_row != old_row and self._row_count:
            self._post(self.RowHighlighted(self, self._cursor_row))

    def _clamp_cursor(self) -> None:
        self._cursor_row = max(0, min(self._cursor_row, self._row_count - 1))
        self._cursor_column = max(0, min(self._cursor_column, len(self.visible_columns) - 1))

    def _body_height(self) -> int:
        """Lines available for rows (the header takes one)."""
        return max(0, self.scrollable_content_region.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        body = self._body_height()
        if body <= 0:
            return
        top = self.scroll_offset.y
        row = self._cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + body:
            self.scroll_to(y=row - body + 1, animate=False)
        self._scroll_column_into_view()

    def _scroll_column_into_view(self) -> None:
        layout = self._layout
        if layout is None or not layout.columns:
            return
        index = min(self._cursor_column, len(layout.columns) - 1)
        view = self.scrollable_content_region.width
        left = layout.offsets[index] if index else 0
        right = layout.offsets[index] + layout.widths[index] + 1
        x = self.scroll_offset.x
        if left < x:
            self.scroll_to(x=left, animate=False)
        elif right > x + view:
            self.scroll_to(x=min(left, right - view), animate=False)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor_row + 1)

    def action_page_up(self) -> None:
        page = max(1, self._body_height())
        self.scroll_to(y=self.scroll_offset.y - page, animate=False)
        self.move_cursor(row=self._cursor_row - page)

    def action_page_down(self) -> None:
        page = max(1, self._body_height())
        self.scroll_to(y=self.scroll_offset.y + page, animate=False)
        self.move_cursor(row=self._cursor_row + page)

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=self._row_count - 1)

    def action_column_left(self) -> None:
        self.move_cursor(column=self._cursor_column - 1)

    def action_column_right(self) -> None:
        self.move_cursor(column=self._cursor_column + 1)

    def action_activate(self) -> None:
        if self._row_count:
            self._post(self.RowActivated(self, self._cursor_row))

    def action_toggle_mark(self) -> None:
        if not self._row_count:
            return
        row = self._cursor_row
        if self.mark_by:
            key = self._row_key(row)
            if key is None:
                return
            self._key_marks.symmetric_difference_update({key})
            self.refresh()
            self._post(self.MarksChanged(self, len(self._key_marks)))
            return
        if row in self._marks:
            self._marks.discard(row)
        else:
            self._marks.add(row)
        self.refresh()
        self._post(self.MarksChanged(self, len(self._marks)))

    # ------------------------------------------------------------------ events

    def on_resize(self, event: events.Resize) -> None:
        self._invalidate_layout()
        self._scroll_cursor_into_view()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        layout = self._ensure_layout()
        scroll_x, scroll_y = self.scroll_offset
        index = layout.column_at(offset.x + scroll_x)
        if offset.y == 0:
            if index is not None:
                event.stop()
                self._post(self.SortRequested(self, layout.columns[index].key))
            return
        row = scroll_y + offset.y - 1
        if not 0 <= row < self._row_count:
            return
        event.stop()
        self.move_cursor(row=row, column=index)
        if event.chain >= 2:
            self._post(self.RowActivated(self, row))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base_style = None
        self.refresh()

    # ------------------------------------------------------------------ data

    def _reset_rows(self) -> None:
        source = self._source
        self._row_count = max(0, source.row_count) if source is not None else 0
        self._pages.clear()
        self._invalidate_layout()

    def _invalidate_layout(self) -> None:
        """Columns, hidden set, source or size changed: recompute on next use."""
        self._layout = None
        self._texts.clear()
        self._clamp_cursor()
        if self.is_attached:
            self._ensure_layout()
            self.refresh()

    def _ensure_layout(self) -> _Layout:
        width = self.scrollable_content_region.width
        layout = self._layout
        if layout is not None and layout.content_width == width:
            return layout
        self._texts.clear()
        visible = self.visible_columns
        gaps = len(visible)  # one cell after each column
        widths = compute_widths(visible, max(0, width - GUTTER - gaps))
        offsets: list[int] = []
        x = GUTTER
        for column_width in widths:
            offsets.append(x)
            x += column_width + 1
        keys = list(self._source.column_keys) if self._source is not None else []
        positions = {key: i for i, key in enumerate(keys)}
        layout = _Layout(
            content_width=width,
            columns=visible,
            widths=tuple(widths),
            offsets=tuple(offsets),
            source_index=tuple(positions.get(column.key) for column in visible),
            total_width=max(x, width),
        )
        self._layout = layout
        virtual_size = Size(layout.total_width, self._row_count + 1)
        if self.virtual_size != virtual_size:
            self._set_virtual_size(virtual_size)
        return layout

    def _set_virtual_size(self, size: Size) -> None:
        """New rows: a repaint, and a layout of the whole screen only when a scrollbar comes
        or goes. (`virtual_size` asks for a full layout on every change, ~20-100 ms for the
        browser screen: on every filter change, once per facet panel.)"""
        if not self.is_attached or not self.container_size:
            self.virtual_size = size
            return
        self.set_reactive(ScrollView.virtual_size, size)
        self._scroll_update(size)  # sets `show_*_scrollbar`, whose change asks for a layout
        self.refresh()

    def _get_row(self, row_index: int) -> Sequence[object] | None:
        """One row from the page cache, fetching its page on a miss (the only data access)."""
        source = self._source
        if source is None or not 0 <= row_index < self._row_count:
            return None
        page_index, offset = divmod(row_index, PAGE_SIZE)
        page = self._pages.get(page_index)
        if page is None:
            start = page_index * PAGE_SIZE
            try:
                page = source.fetch(start, min(PAGE_SIZE, self._row_count - start))
            except Exception as error:  # a dropped view table must not take the app down
                self._report_fetch_error(error)
                page = ()  # remembered until reload()/set_source(): no retry on every paint
            self._pages.set(page_index, page)
        return page[offset] if offset < len(page) else None

    def _post(self, message: Message) -> None:
        """Post with this table as the sender, so the message bubbles all the way up even when
        posted while the screen is painting or is calling a setter (Textual stops bubbling
        after the sender)."""
        self.post_message(message.set_sender(self))

    def _report_fetch_error(self, error: Exception) -> None:
        self.log.error(f"VirtualTable fetch failed: {error!r}")
        if not self._fetch_error_reported:
            self._fetch_error_reported = True
            self._post(self.FetchFailed(self, error))

    def _row_texts(self, row_index: int, layout: _Layout) -> tuple[str, ...]:
        """Fitted, sanitised, padded cell texts of a row (cached per layout)."""
        cached = self._texts.get(row_index)
        if cached is not None:
            return cached
        row = self._get_row(row_index)
        cells: list[str] = []
        for column, width, index in zip(
            layout.columns, layout.widths, layout.source_index, strict=True
        ):
            if row is None:
                text = "⋯" if index is not None else ""
            else:
                value = row[index] if index is not None and index < len(row) else None
                try:
                    text = column.format(value)
                except Exception as error:  # a formatter bug shows the raw value, not a crash
                    self.log.error(f"formatter for {column.key!r} failed: {error!r}")
                    text = _default_format(value)
            cells.append(_pad(safe_cell(text, width), width, column.align))
        result = tuple(cells)
        if row is not None:
            self._texts.set(row_index, result)
        return result

    # ------------------------------------------------------------------ rendering

    def render_lines(self, crop: Region) -> list[Strip]:
        self._ensure_layout()
        # `rich_style` walks every ancestor: read it once per paint, not once per line.
        self._base_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        # render_lines() has just checked the layout against the current width.
        layout = self._layout or self._ensure_layout()
        scroll_x, scroll_y = self.scroll_offset
        width = layout.content_width
        base = self._base_style or self.rich_style
        if y == 0:
            strip = self._header_strip(layout)
        else:
            row = scroll_y + y - 1
            if row < self._row_count:
                strip = self._row_strip(row, layout)
            elif row == 0:
                strip = self._empty_strip(width)
            else:
                strip = Strip.blank(layout.total_width, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _header_strip(self, layout: _Layout) -> Strip:
        style = self.get_component_rich_style("virtual-table--header")
        current_style = self.get_component_rich_style("virtual-table--header-cursor")
        current = min(self._cursor_column, len(layout.columns) - 1)
        segments = [Segment(" " * GUTTER, style)]
        for index, (column, width) in enumerate(zip(layout.columns, layout.widths, strict=True)):
            label = safe_text(column.label)
            if column.key == self.sort_column:
                arrow = SORT_DESCENDING if self.sort_descending else SORT_ASCENDING
                text = cell_fit(label, width - 2) + " " + arrow if width >= 3 else arrow
            else:
                text = cell_fit(label, width)
            segments.append(
                Segment(
                    _pad(text, width, column.align), current_style if index == current else style
                )
            )
            segments.append(Segment(" ", style))
        used = GUTTER + sum(width + 1 for width in layout.widths)
        if used < layout.total_width:
            segments.append(Segment(" " * (layout.total_width - used), style))
        return Strip(segments, layout.total_width)

    def _row_strip(self, row: int, layout: _Layout) -> Strip:
        texts = self._row_texts(row, layout)
        style = self._base_style or self.rich_style
        marked = self._is_marked(row)
        if marked:
            style = self.get_component_rich_style("virtual-table--marked")
        is_cursor = row == self._cursor_row
        cell_style = style
        if is_cursor:
            style = self.get_component_rich_style("virtual-table--cursor")
            cell_style = self.get_component_rich_style("virtual-table--cursor-cell")
        current = min(self._cursor_column, len(texts) - 1)
        segments = [Segment((MARK if marked else " ") + " " * (GUTTER - 1), style)]
        for index, text in enumerate(texts):
            segments.append(Segment(text, cell_style if is_cursor and index == current else style))
            segments.append(Segment(" ", style))
        used = GUTTER + sum(width + 1 for width in layout.widths)
        if used < layout.total_width:
            segments.append(Segment(" " * (layout.total_width - used), style))
        return Strip(segments, layout.total_width)

    def _empty_strip(self, width: int) -> Strip:
        style: Style = self.get_component_rich_style("virtual-table--empty")
        text = cell_fit(" " * GUTTER + safe_text(self.empty_message), width)
        return Strip([Segment(text, style)], cell_len(text))


__all__ = [
    "PAGE_SIZE",
    "Align",
    "Column",
    "ListRowSource",
    "RowSource",
    "VirtualTable",
    "compute_widths",
]
