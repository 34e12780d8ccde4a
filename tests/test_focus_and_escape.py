"""Focus belongs to the user, and escape cancels what the status line says is running.

Pilot tests on the whole app: typing into the console while a load completes, and escape
during an export.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from _fixtures import synthetic_records, write_ndjson
from textual.widgets import TextArea

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.data import ingest
from trailtui.data.export import ExportFormat
from trailtui.pilot import settle
from trailtui.screens.browser import BrowserScreen
from trailtui.widgets.sql_console import SqlConsole
from trailtui.widgets.virtual_table import VirtualTable

SIZE = (160, 48)
WAIT = 60.0  # a timeout for a stuck test, never a speed requirement


def browser(app: TrailApp) -> BrowserScreen:
    screen = app.screen
    assert isinstance(screen, BrowserScreen), screen
    return screen


def status_text(app: TrailApp) -> str:
    return str(browser(app).query_one("#status").render())


async def test_typing_in_the_console_while_a_load_completes() -> None:
    """`:` pressed before the events arrive: the first view must not take the keys (`L`
    switched to local time and `T` opened the time-range dialog)."""
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon")
        await pilot.press(*"select LT")
        await settle(pilot)  # the load, the first view and the facets all finish here
        await pilot.press(*" xyz")
        screen = browser(app)
        console = screen.query_one(SqlConsole)
        assert screen.query_one("#events", VirtualTable).row_count == 3000
        assert isinstance(app.focused, TextArea)
        assert console.sql == "select LT xyz"
        assert not screen.local_time
        assert app.screen is screen  # no time-range dialog


async def test_escape_cancels_a_running_export(tmp_path: Path) -> None:
    app = TrailApp([str(demo_path())], cache=False)
    target = tmp_path / "slow.csv"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        # A filter that takes minutes to evaluate stands in for a huge export.
        screen.exporter.export_events(
            str(target), ExportFormat.CSV,
            where="(SELECT count(*) FROM range(10000000000) WHERE hash(range) = 0) = 0")
        await pilot.pause()
        assert screen.exporter.running
        assert "exporting… (escape cancels)" in status_text(app)
        screen.query_one("#events", VirtualTable).focus()
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.exporter.running
        assert "exporting" not in status_text(app)
        messages = [str(n.message) for n in app._notifications]
        assert any("export cancelled" in m for m in messages), messages
        assert not target.exists()
        assert screen.query_one("#events", VirtualTable).row_count == 3000  # nothing else lost


async def test_a_re_sort_keeps_the_cursor_on_the_same_event() -> None:
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = browser(app).query_one("#events", VirtualTable)
        table.focus()
        await pilot.press(*["down"] * 7)
        before = table.row_values(table.cursor_row)
        assert before is not None and table.cursor_row == 7
        await pilot.press("right", "s")  # sort by user/role
        await settle(pilot)
        assert browser(app).sort_column == "actor"
        after = table.row_values(table.cursor_row)
        assert after is not None
        assert (after["_file_id"], after["_line"]) == (before["_file_id"], before["_line"])
        # A new filter starts at the top as before.
        await pilot.press("f", "enter")
        await settle(pilot)
        assert table.cursor_row == 0


async def test_escape_during_a_load_stops_it_for_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second file is held back until escape was pressed: the events of the first stay,
    the second never appears (before, one escape in three let the rest of a load in)."""
    records = synthetic_records(400)
    first = write_ndjson(records[:200], tmp_path / "a.ndjson")
    second = write_ndjson(records[200:], tmp_path / "b.ndjson")
    reading_second = threading.Event()
    release = threading.Event()
    real_read = ingest.read_file

    def read_file(path: Path) -> ingest.FileRecords:
        if path.name == "b.ndjson":
            reading_second.set()
            release.wait(WAIT)
        return real_read(path)

    monkeypatch.setattr(ingest, "read_file", read_file)
    app = TrailApp([str(first), str(second)], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        while not reading_second.is_set():
            await pilot.pause(0.02)
        screen = browser(app)
        assert screen.is_loading and "(escape cancels)" in status_text(app)
        screen.query_one("#events", VirtualTable).focus()
        await pilot.press("escape")
        assert "cancelling the load" in status_text(app)
        release.set()
        await settle(pilot)
        assert not screen.is_loading
        assert screen.data.event_count() == 200
        assert screen.query_one("#events", VirtualTable).row_count == 200
        assert "of 200 events" in status_text(app) and "loading" not in status_text(app)
        messages = [str(n.message) for n in app._notifications]
        assert any("loading cancelled" in m for m in messages), messages
