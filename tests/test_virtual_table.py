"""The virtual event table: a million rows, only what is on screen is fetched, hostile text
shows as typed, the table fills the width, and the keys/mouse do what a user expects."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.message import Message

from trailtui.widgets.virtual_table import (
    PAGE_SIZE,
    Column,
    ListRowSource,
    VirtualTable,
    compute_widths,
)

MILLION = 1_000_000
NAMES = ("AssumeRole", "GetObject", "ConsoleLogin", "AssumeRoleWithWebIdentity")
HOSTILE = (
    "[bold]x[/]",
    "user[/x]",
    "agent\x1b]52;c;SGk=\x07end",
    "\x9b31mred",
    "evil\u202etxt.exe",
    "[link=http://evil]y[/link] :smile:",
)


class SyntheticSource:
    """A million rows computed from the index (no memory), counting what the table asks for."""

    column_keys = ("n", "eventName", "user", "userAgent")

    def __init__(self, rows: int = MILLION, *, hostile: bool = False, tag: str = "") -> None:
        self._rows = rows
        self.hostile = hostile
        self.tag = tag
        self.fetches: list[tuple[int, int]] = []

    @property
    def row_count(self) -> int:
        return self._rows

    def fetch(self, start: int, count: int) -> Sequence[Sequence[object]]:
        self.fetches.append((start, count))
        return [self._row(i) for i in range(start, min(start + count, self._rows))]

    def _row(self, i: int) -> tuple[object, ...]:
        agent = HOSTILE[i % len(HOSTILE)] if self.hostile else f"aws-cli/2.{i} " + "z" * 200
        return (i, NAMES[i % len(NAMES)], f"{self.tag}user-{i}", agent)


COLUMNS = (
    Column("n", "#", min_width=7, align="right"),
    Column("eventName", "eventName", min_width=8, width=12),
    Column("user", "user", min_width=6, width=14),
    Column("userAgent", "userAgent", min_width=10),
)


class TableApp(App[None]):
    def __init__(
        self, source: SyntheticSource | ListRowSource, columns: Sequence[Column] = COLUMNS
    ):
        super().__init__()
        self.source = source
        self.columns = columns
        self.seen: list[Message] = []

    def compose(self) -> ComposeResult:
        yield VirtualTable(self.columns, self.source, id="events")

    @on(VirtualTable.RowActivated)
    @on(VirtualTable.RowHighlighted)
    @on(VirtualTable.SortRequested)
    @on(VirtualTable.MarksChanged)
    @on(VirtualTable.FetchFailed)
    def record(self, message: Message) -> None:
        self.seen.append(message)

    def of(self, kind: type[Message]) -> list[Message]:
        return [message for message in self.seen if isinstance(message, kind)]


def lines(table: VirtualTable) -> list[str]:
    """What the table draws, line by line (header first), as the terminal would show it."""
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def row_line(table: VirtualTable, row: int) -> str:
    """The screen line of a row, asserting that it is visible."""
    y = row - table.scroll_offset.y + 1
    assert 1 <= y < table.scrollable_content_region.height, f"row {row} is not on screen"
    return table.render_line(y).text


async def test_first_paint_fetches_only_the_first_page() -> None:
    source = SyntheticSource()
    app = TableApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.query_one("#events", VirtualTable)
        shown = lines(table)
        assert shown[0].split() == ["#", "eventName", "user", "userAgent"]
        assert shown[1].split()[:3] == ["0", "AssumeRole", "user-0"]
        assert shown[27].split()[:3] == ["26", "ConsoleLogin", "user-26"]
        assert shown[28].split()[:3] == ["27", "AssumeRoleW…", "user-27"]  # cut, visibly
        assert {start for start, _ in source.fetches} == {0}
        assert table.virtual_size.height == MILLION + 1


async def test_G_jumps_to_the_last_row_and_g_back() -> None:
    source = SyntheticSource()
    app = TableApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#events", VirtualTable)
        await pilot.press("G")
        await pilot.pause()
        assert table.cursor_row == MILLION - 1
        shown = lines(table)
        assert shown[-1].split()[:3] == ["999999", "AssumeRoleW…", "user-999999"]
        assert shown[0].split()[0] == "#"  # the header stays while scrolled
        last_page = (MILLION - 1) // PAGE_SIZE * PAGE_SIZE
        assert {start for start, _ in source.fetches} <= {0, last_page - PAGE_SIZE, last_page}
        highlighted = app.of(VirtualTable.RowHighlighted)
        assert isinstance(highlighted[-1], VirtualTable.RowHighlighted)
        assert highlighted[-1].row_index == MILLION - 1

        await pilot.press("g")
        await pilot.pause()
        assert table.cursor_row == 0
        assert table.scroll_offset.y == 0
        assert lines(table)[1].split()[0] == "0"

        await pilot.press("end", "home")
        assert table.cursor_row == 0


async def test_page_keys_move_a_screenful_and_keep_the_cursor_visible() -> None:
    app = TableApp(SyntheticSource())
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#events", VirtualTable)
        body = table.scrollable_content_region.height - 1
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert table.cursor_row == 2 * body
        assert row_line(table, 2 * body).split()[0] == str(2 * body)
        await pilot.press("pageup")
        await pilot.pause()
        assert table.cursor_row == body
        assert row_line(table, body).split()[0] == str(body)
        await pilot.press("down", "j", "up")
        assert table.cursor_row == body + 1
        await pilot.press("k", "pageup", "pageup")
        assert table.cursor_row == 0
        assert table.scroll_offset.y == 0


async def test_scrolling_a_million_rows_fetches_only_the_pages_seen() -> None:
    source = SyntheticSource()
    app = TableApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#events", VirtualTable)
        for _ in range(40):
            await pilot.press("pagedown")
        await pilot.pause()
        assert table.cursor_row == 40 * (table.scrollable_content_region.height - 1)
        pages = {start // PAGE_SIZE for start, _ in source.fetches}
        assert pages == set(range(table.cursor_row // PAGE_SIZE + 1))
        assert all(count <= PAGE_SIZE for _, count in source.fetches)
        assert len(source.fetches) == len(pages)  # each page fetched once (cached)


async def test_hostile_text_renders_literally_and_visibly() -> None:
    app = TableApp(SyntheticSource(hostile=True))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.query_one("#events", VirtualTable)
        shown = "\n".join(lines(table))
        assert "[bold]x[/]" in shown
        assert "user[/x]" in shown
        assert "agent␛]52;c;SGk=␇end" in shown
        assert "\\x9b31mred" in shown
        assert "evil<U+202E>txt.exe" in shown
        assert "[link=http://evil]y[/link] :smile:" in shown
        for raw in ("\x1b", "\x07", "\x9b", "\u202e", "😄"):
            assert raw not in shown
        screenshot = app.export_screenshot()
        assert "\x1b" not in screenshot and "\x9b" not in screenshot
        assert "\u202e" not in screenshot
        await pilot.press("G", "up", "enter")  # keeps working around hostile rows
        assert app.is_running


async def test_table_spans_the_full_width_and_cut_cells_end_with_ellipsis() -> None:
    app = TableApp(SyntheticSource())
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.query_one("#events", VirtualTable)
        width = table.scrollable_content_region.width
        assert width == 120 - table.styles.scrollbar_size_vertical
        row = lines(table)[1]
        assert len(row) == width
        # The flexible last column runs to the right edge (one gap cell) and is cut with "…".
        assert row[width - 2] == "…"
        assert row.rstrip().endswith("zzz…")
        # A 12-cell column holding a longer name is cut visibly, never silently.
        assert "AssumeRoleW…" in lines(table)[4]

        await pilot.resize_terminal(80, 20)
        await pilot.pause()
        width = table.scrollable_content_region.width
        row = lines(table)[1]
        assert len(row) == width == 80 - table.styles.scrollbar_size_vertical
        assert row[width - 2] == "…"
        assert not table.show_horizontal_scrollbar


async def test_space_marks_rows() -> None:
    app = TableApp(SyntheticSource())
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#events", VirtualTable)
        await pilot.press("space", "down", "down", "space")
        await pilot.pause()
        assert table.marked_rows == {0, 2}
        shown = lines(table)
        assert shown[1].startswith("●")
        assert not shown[2].startswith("●")
        assert shown[3].startswith("●")
        counts = [m.count for m in app.of(VirtualTable.MarksChanged)]  # type: ignore[attr-defined]
        assert counts == [1, 2]
        await pilot.press("space")
        assert table.marked_rows == {0}
        table.clear_marks()
        await pilot.pause()
        assert table.marked_rows == set()
        assert not lines(table)[1].startswith("●")


async def test_enter_and_double_click_activate_a_row() -> None:
    app = TableApp(SyntheticSource())
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#events", VirtualTable)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        activated = app.of(VirtualTable.RowActivated)
        assert [m.row_index for m in activated] == [2]  # type: ignore[attr-defined]

        await pilot.click(VirtualTable, offset=(20, 6))  # screen line 6 = row 5
        await pilot.pause()
        assert table.cursor_row == 5
        assert len(app.of(VirtualTable.RowActivated)) == 1  # one click only selects

        await pilot.double_click(VirtualTable, offset=(20, 8))
        await pilot.pause()
        assert table.cursor_row == 7
        assert [m.row_index for m in app.of(VirtualTable.RowActivated)] == [2, 7]  # type: ignore[attr-defined]


async def test_header_click_requests_sort_and_shows_the_direction() -> None:
    app = TableApp(SyntheticSource())
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#events", VirtualTable)
        await pilot.pause()
        header = lines(table)[0]
        await pilot.click(VirtualTable, offset=(header.index("user ") + 1, 0))
        await pilot.pause()
        requested = app.of(VirtualTable.SortRequested)
        assert [m.column_key for m in requested] == ["user"]  # type: ignore[attr-defined]
        assert table.cursor_row == 0  # a header click does not move the cursor

        table.sort_column = "eventName"
        table.sort_descending = True
        await pilot.pause()
        assert "eventName ▼" in lines(table)[0]
        table.sort_descending = False
        await pilot.pause()
        assert "eventName ▲" in lines(table)[0]


async def test_current_cell_value_follows_the_column_cursor() -> None:
    app = TableApp(SyntheticSource())
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#events", VirtualTable)
        await pilot.press("down", "right", "right")
        assert table.current_column is not None and table.current_column.key == "user"
        assert table.current_cell_value() == "user-1"
        await pilot.press("right", "right", "right")  # clamps at the last column
        assert table.current_cell_value() == "aws-cli/2.1 " + "z" * 200  # whole, uncut value
        await pilot.press("left", "left", "left", "left", "left")
        assert table.current_cell_value() == 1
        assert table.row_values(3) == {
            "n": 3,
            "eventName": "AssumeRoleWithWebIdentity",
            "user": "user-3",
            "userAgent": "aws-cli/2.3 " + "z" * 200,
        }


async def test_hidden_columns_leave_the_layout_which_still_fills_the_width() -> None:
    app = TableApp(SyntheticSource())
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#events", VirtualTable)
        table.hidden = {"user", "n"}
        await pilot.pause()
        shown = lines(table)
        assert shown[0].split() == ["eventName", "userAgent"]
        assert "user-0" not in shown[1]
        assert shown[1][table.scrollable_content_region.width - 2] == "…"
        assert table.current_cell_value() == "AssumeRole"


async def test_a_new_source_drops_the_cache_clamps_the_cursor_and_clears_marks() -> None:
    app = TableApp(SyntheticSource())
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#events", VirtualTable)
        await pilot.press("space", "G")
        assert table.marked_rows == {0}
        smaller = SyntheticSource(10, tag="new-")
        table.source = smaller
        await pilot.pause()
        assert table.cursor_row == 9
        assert table.marked_rows == set()
        shown = lines(table)
        assert "new-user-0" in shown[1]
        assert "new-user-9" in shown[10]
        assert shown[11].strip() == ""
        assert table.virtual_size.height == 11
        highlighted = app.of(VirtualTable.RowHighlighted)
        assert highlighted[-1].row_index == 9  # type: ignore[attr-defined]

        table.source = ListRowSource(column_keys=("n",), rows=[])
        table.empty_message = "no events match"
        await pilot.pause()
        assert "no events match" in lines(table)[1]
        assert table.current_cell_value() is None
        await pilot.press("enter", "space", "G", "down")  # nothing to act on: no crash
        assert app.is_running


async def test_a_failing_source_is_reported_once_and_recovers_on_reload() -> None:
    class Flaky(SyntheticSource):
        broken = True

        def fetch(self, start: int, count: int) -> Sequence[Sequence[object]]:
            self.fetches.append((start, count))
            if self.broken:
                raise RuntimeError("Catalog Error: Table view_3 does not exist")
            return super().fetch(start, count)

    source = Flaky()
    app = TableApp(source)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#events", VirtualTable)
        await pilot.press("down", "up", "down")  # several repaints of the same failed page
        await pilot.pause()
        assert app.is_running
        assert "⋯" in lines(table)[1]
        assert len(source.fetches) == 1  # a failed page is not re-queried on every paint
        failures = app.of(VirtualTable.FetchFailed)
        assert len(failures) == 1
        assert "view_3" in str(failures[0].error)  # type: ignore[attr-defined]

        source.broken = False
        table.set_source(source)  # the same source again: the failed page is asked anew
        await pilot.pause()
        assert lines(table)[1].split()[:3] == ["0", "AssumeRole", "user-0"]


async def test_narrow_screen_scrolls_horizontally_with_the_header() -> None:
    wide = tuple(Column(f"c{i}", f"col{i}", min_width=12) for i in range(8))
    source = ListRowSource(
        column_keys=[f"c{i}" for i in range(8)],
        rows=[[f"r{r}c{i}" for i in range(8)] for r in range(50)],
    )
    app = TableApp(source, wide)
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one("#events", VirtualTable)
        await pilot.pause()
        assert table.show_horizontal_scrollbar
        assert "col7" not in lines(table)[0]
        for _ in range(7):
            await pilot.press("right")
        await pilot.pause()
        assert table.scroll_offset.x > 0
        shown = lines(table)
        assert "col7" in shown[0]  # the header scrolled with the body
        assert "r0c7" in shown[1]
        assert table.current_cell_value() == "r0c7"


@pytest.mark.parametrize(
    ("available", "expected"),
    [
        (60, [10, 10, 40]),  # spare cells go to the last column
        (30, [10, 10, 10]),
        (24, [8, 8, 8]),  # shrink in proportion to what each can give
        (10, [5, 5, 5]),  # below the minimums: minimums, and the table scrolls
    ],
)
def test_compute_widths(available: int, expected: list[int]) -> None:
    columns = [Column(k, k, min_width=5, width=10) for k in ("a", "b", "c")]
    widths = compute_widths(columns, available)
    assert widths == expected
    if sum(c.min_width for c in columns) <= available:
        assert sum(widths) == available


def test_compute_widths_gives_the_rest_to_the_flex_column() -> None:
    columns = [Column("a", "a", width=10, flex=True), Column("b", "b", width=10, max_width=10)]
    assert compute_widths(columns, 50) == [40, 10]
