"""Issue 12 end to end on the shipped sample, as a user at the keyboard: a nested column added
with `C`, `F` with two values ORed (count checked against SQL), `=` on a cell, marks through a
filter and its undo, a bookmark with a note in the report with its original record, `q` asking,
and the 100x30 layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.data import session as sessions
from trailtui.data.filters import Chip, FieldChip, FilterState
from trailtui.data.service import DataService
from trailtui.pilot import settle
from trailtui.screens.browser import BrowserScreen
from trailtui.widgets.virtual_table import VirtualTable

SIZE = (200, 50)


@pytest.fixture(autouse=True)
def _private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRAILTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRAILTUI_CLIPBOARD", "osc52")
    monkeypatch.delenv("TMUX", raising=False)


def _browser(app: TrailApp) -> BrowserScreen:
    screen = app.screen
    assert isinstance(screen, BrowserScreen), screen
    return screen


def _sql_count(app: TrailApp, sql: str) -> int:
    _cols, _types, rows = app.data.headless_query(sql)
    value = rows[0][0]
    assert isinstance(value, int)
    return value


def _count(app: TrailApp, state: object) -> int:
    where, params = state.where()  # type: ignore[attr-defined]
    cur = app.store.cursor()
    try:
        return int(cur.execute(f"SELECT count(*) FROM events WHERE {where}", params)
                   .fetchall()[0][0])
    finally:
        cur.close()


async def test_nested_column_frequency_or_and_equals(tmp_path: Path) -> None:
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _browser(app)
        table = screen.query_one("#events", VirtualTable)
        # C: find a nested field by typing, show it, apply.
        await pilot.press("C")
        await settle(pilot)
        await pilot.press(*"issuer.username", "enter", "space", "enter")
        await settle(pilot)
        path = "userIdentity.sessionContext.sessionIssuer.userName"
        assert screen.column_paths[-1] == path
        assert table.columns[-1].key == path
        row = table.row_values(0)
        assert row is not None and path in row
        want = _sql_count(app, "SELECT count(*) FROM events WHERE "
                               "userIdentity.sessionContext.sessionIssuer.userName IS NOT NULL")
        assert want > 0
        # The new column's value for the first row is the stored one.
        fid, line = row["_file_id"], row["_line"]
        stored = app.data.headless_query(
            f"SELECT userIdentity.sessionContext.sessionIssuer.userName FROM events "
            f"WHERE _file_id = {fid} AND _line = {line}")[2][0][0]
        assert row[path] == stored
        # F on the Service column: tick two values, enter: one chip, ORed.
        while table.current_column is not None and table.current_column.key != "eventSource":
            await pilot.press("right")
        await pilot.press("F")
        await settle(pilot)
        await pilot.press("space", "space", "enter")
        await settle(pilot)
        (chip,) = screen.filters.chips
        assert isinstance(chip, FieldChip) and len(chip.values) == 2
        a, b = chip.values
        want = _sql_count(app, f"SELECT count(*) FROM events WHERE eventSource IN ('{a}', '{b}')")
        assert table.row_count == want
        # = on a cell of the nested column keeps the events with that value.
        await pilot.press("end")
        while table.current_column is not None and table.current_column.key != path:
            await pilot.press("right")
        await pilot.press("g")
        for _ in range(100):
            if table.current_cell_value() is not None:
                break
            await pilot.press("down")
        value = table.current_cell_value()
        assert value is not None
        await pilot.press("equals_sign")
        await settle(pilot)
        assert screen.filters.labels[-1] == f"{path} = {value}"
        assert table.row_count == _count(app, screen.filters)
        # ! on another column excludes.
        await pilot.press("left")
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert "!=" in screen.filters.labels[-1]
        assert table.row_count == _count(app, screen.filters)


async def test_marks_survive_filters_and_undo_then_bookmark_report_and_quit(
    tmp_path: Path,
) -> None:
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _browser(app)
        table = screen.query_one("#events", VirtualTable)
        await pilot.press("space", "down", "space")
        marked = set(screen.evidence.mark_keys)
        assert len(marked) == 2
        await pilot.press("f", "enter")  # filter to the top user/role
        await settle(pilot)
        assert screen.evidence.mark_keys == marked
        await pilot.press("u")
        await settle(pilot)
        assert screen.evidence.mark_keys == marked
        assert table.marked_keys == marked
        assert "2 marked" in str(screen.query_one("#status").render())
        # escape clears, M brings them back.
        await pilot.press("escape")
        assert not screen.evidence.marks
        await pilot.press("M")
        assert screen.evidence.mark_keys == marked
        # b: bookmark the first row with a note; R writes the report.
        await pilot.press("g", "b")
        await settle(pilot)
        await pilot.press(*"first look at this", "enter")
        await settle(pilot)
        (book,) = screen.evidence.bookmarks
        report = tmp_path / "case.md"
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("ctrl+u", *str(report), "enter")
        await settle(pilot)
        text = report.read_text()
        assert "`first look at this`" in text
        assert book.ref.event_id and book.ref.event_id in text
        raw = app.data.records_by_key([book.ref.key])[0]
        assert json.loads(raw)["eventID"] == book.ref.event_id
        assert raw.replace("`", "") in text.replace("`", "") or json.loads(raw)["eventName"] in text
        # q asks; s saves the session for these files and quits.
        await pilot.press("q")
        await settle(pilot)
        assert type(app.screen).__name__ == "ConfirmQuitScreen"
        await pilot.press("s")
        await settle(pilot)
    saved, _ = sessions.load_session(sessions.session_path([str(demo_path())]))
    assert saved is not None and len(saved.evidence.marks) == 2
    assert [b.note for b in saved.evidence.bookmarks] == ["first look at this"]

    # Reopen with --resume: marks, bookmark and columns come back.
    app2 = TrailApp([str(demo_path())], cache=False, resume=True)
    async with app2.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _browser(app2)
        assert screen.evidence.mark_keys == marked
        assert [b.note for b in screen.evidence.bookmarks] == ["first look at this"]
        assert screen.query_one("#events", VirtualTable).marked_keys == marked


async def test_narrow_terminal_table_gets_the_width_and_time_zone() -> None:
    from trailtui.data.tz import TimeZone

    app = TrailApp([str(demo_path())], cache=False, time_zone=TimeZone.named("Asia/Tokyo"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = _browser(app)
        assert not screen.query_one("#facets").display  # collapsed: the table takes the width
        table = screen.query_one("#events", VirtualTable)
        assert table.columns[0].label == "Time (Asia/Tokyo)"
        status = str(screen.query_one("#status").render())
        assert "Asia/Tokyo" in status
        assert "2025-07-01 08:59:59" in status  # 23:59:59 UTC, shown in Tokyo
        await pilot.press("backslash")
        assert screen.query_one("#facets").display
        await pilot.press("L")
        assert screen.time_zone.is_utc
        await pilot.press("comma")
        await pilot.pause()
        assert any(", does nothing" in str(n.message) for n in app._notifications)


def test_data_service_is_used_for_fields(tmp_path: Path) -> None:
    assert hasattr(DataService, "field_catalog") and hasattr(DataService, "report")


async def test_no_dead_focus_stop_and_chip_click_needs_the_cross() -> None:
    from trailtui.widgets.filter_bar import Chip as ChipWidget

    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _browser(app)
        await pilot.press("f", "enter")
        await settle(pilot)
        chain = [type(w).__name__ for w in screen.focus_chain]
        assert "FilterBar" not in chain and "VerticalScroll" not in chain
        chip = screen.query_one(ChipWidget)
        await pilot.click(ChipWidget, offset=(1, 0))  # on the label: selects only
        await settle(pilot)
        assert len(screen.filters) == 1 and app.focused is chip
        await pilot.click(ChipWidget, offset=(chip.size.width - 2, 0))  # on the ×
        await settle(pilot)
        assert len(screen.filters) == 0


async def test_facets_on_any_field_typing_v_remove_and_or_from_the_panel() -> None:
    from trailtui.screens.frequency import FrequencyScreen
    from trailtui.widgets.facet_panel import FacetPanel

    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = _browser(app)
        # Typing in a facet opens its frequency screen with the search typed.
        await pilot.press("f", "s", "v", "c")
        await settle(pilot)
        freq = app.screen
        assert isinstance(freq, FrequencyScreen) and freq.field.path == "actor"
        assert freq.query_one("#freq-search").value == "svc"  # type: ignore[attr-defined]
        await pilot.press("escape", "escape")
        # F on the user-agent column of the table, `a`: a facet panel on that field.
        table = screen.query_one("#events", VirtualTable)
        table.focus()
        await pilot.press("C")
        await settle(pilot)
        await pilot.press(*"additionaleventdata.mfaused", "enter", "space", "enter")
        await settle(pilot)
        await pilot.press("end")
        while table.current_column is not None and table.current_column.key != (
                "additionalEventData.MFAUsed"):
            await pilot.press("right")
        await pilot.press("F")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        panel = screen.query(FacetPanel).first()
        assert panel.facet_key == "additionalEventData.MFAUsed"
        want = app.data.headless_query(
            "SELECT count(*) FROM events WHERE additionalEventData->>'MFAUsed' = 'Yes'")[2][0][0]
        assert ("Yes", want) in panel.counts
        # Two values picked in the panel: one chip, ORed; the panel still lists both.
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f", "down", "enter")
        await settle(pilot)
        (chip,) = screen.filters.chips
        assert isinstance(chip, FieldChip) and len(chip.values) == 2
        assert len(panel.counts) >= 2
        assert table.row_count == _count(app, screen.filters)
        # v shows the facet's value whole; d removes the panel.
        await pilot.press("f", "v")
        await pilot.pause()
        assert type(app.screen).__name__ == "ValueScreen"
        await pilot.press("escape", "d")
        await pilot.pause()
        assert "additionalEventData.MFAUsed" not in screen.facet_paths


async def test_reopen_asks_only_when_the_session_changed_something(tmp_path: Path) -> None:
    """A session that kept the default columns and panels is nothing to restore: the dialog
    used to come up on every reopen and take the first key (enter answered it)."""
    import shutil

    from trailtui.data.fields import DEFAULT_COLUMNS
    from trailtui.screens.browser import PANEL_FACETS

    src = tmp_path / "event_history.json"
    shutil.copy(demo_path(), src)
    path = sessions.session_path([str(src)])
    defaults = sessions.Session([str(src)], columns=list(DEFAULT_COLUMNS),
                                facets=list(PANEL_FACETS))
    assert sessions.save_session(defaults, path) is None  # as earlier versions saved it
    app = TrailApp([str(src)], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("enter")  # the first key opens the event
        await settle(pilot)
        assert type(app.screen).__name__ == "DetailScreen"
    # A session with a filter is offered.
    state = FilterState().add(Chip.include("eventName", "ConsoleLogin"))
    assert sessions.save_session(sessions.Session([str(src)], state), path) is None
    app2 = TrailApp([str(src)], cache=False)
    async with app2.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert type(app2.screen).__name__ == "ConfirmRestoreScreen"
