"""The investigator's flow end to end, driven with Pilot like a user at the keyboard.

load -> facet pick -> chips -> undo -> detail -> pivot -> copy -> picker, plus a file full of
hostile strings, and bad input that must leave the app running.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.pilot import settle
from trailtui.screens.browser import BrowserScreen
from trailtui.screens.confirm import ConfirmCopyScreen
from trailtui.screens.detail import DetailScreen
from trailtui.screens.picker import PickerScreen
from trailtui.widgets.facet_panel import FacetPanel
from trailtui.widgets.virtual_table import VirtualTable

SIZE = (160, 48)




def browser(app: TrailApp) -> BrowserScreen:
    screen = app.screen
    assert isinstance(screen, BrowserScreen), screen
    return screen


def status_text(app: TrailApp) -> str:
    return str(browser(app).query_one("#status").render())


def screen_text(app: TrailApp) -> str:
    return app.export_screenshot()


@pytest.fixture
def demo() -> str:
    return str(demo_path())


async def test_load_facet_chips_undo_detail_pivot_copy(demo: str) -> None:
    app = TrailApp([demo], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        table = screen.query_one("#events", VirtualTable)
        assert table.row_count == 3000
        assert "3,000 of 3,000 events" in status_text(app)
        assert app.focused is table

        # f focuses user/role; the top value is the most frequent actor
        await pilot.press("f")
        panel = screen.query_one("#facet-actor", FacetPanel)
        assert app.focused is not None and app.focused.id == "facet-actor"
        top_value, top_count = panel.counts[0]
        assert top_count == max(c for _, c in panel.counts)
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == top_count
        assert f"{top_count:,} of 3,000 events" in status_text(app)
        assert app.focused is table
        assert screen.filters.labels == (f"actor = {top_value}",)
        # every facet recounted under the filter
        services = screen.query_one("#facet-eventSource", FacetPanel)
        assert sum(c for _, c in services.counts) == top_count

        # exclude a service from the service panel: a second chip
        services.focus()
        _excluded, n_excluded = services.counts[0]
        await pilot.press("x")
        await settle(pilot)
        assert len(screen.filters.chips) == 2
        assert table.row_count == top_count - n_excluded

        # u undoes the last chip only
        await pilot.press("u")
        await settle(pilot)
        assert screen.filters.labels == (f"actor = {top_value}",)
        assert table.row_count == top_count

        # enter opens the event's full JSON; y copies the original record
        table.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("y")
        await pilot.pause()
        record = json.loads(app.clipboard)
        assert record["eventID"]
        # pivot on the source IP: a chip, back on the table
        await pilot.press("i")
        await settle(pilot)
        screen = browser(app)
        assert screen.filters.labels[-1].startswith("sourceIPAddress = ")
        assert table.row_count >= 1

        # space marks two rows, y copies them as one JSON array
        await pilot.press("u")
        await settle(pilot)
        table.focus()
        await pilot.press("space", "down", "space")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        copied = json.loads(app.clipboard)
        assert isinstance(copied, list) and len(copied) == 2
        assert copied[0]["eventID"] != copied[1]["eventID"]

        # o opens the picker; escape closes it and nothing loaded is lost
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert browser(app).query_one("#events", VirtualTable).row_count == top_count


async def test_search_finds_text_inside_request_parameters(tmp_path: Path) -> None:
    events = [
        {"eventVersion": "1.08", "eventID": f"id-{i}", "eventTime": f"2024-01-01T00:00:0{i}Z",
         "eventName": "GetObject", "eventSource": "s3.amazonaws.com",
         "requestParameters": {"bucketName": f"bucket-{i}", "key": "50%_off\\sale'"},
         "userIdentity": {"type": "IAMUser", "userName": "alice"}}
        for i in range(3)
    ]
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"Records": events}))
    app = TrailApp([str(path)], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = browser(app).query_one("#events", VirtualTable)
        assert table.row_count == 3
        await pilot.press("slash")
        await pilot.press(*"bucket-1")
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 1
        assert browser(app).filters.labels == ('search "bucket-1"',)
        # quotes, % and backslashes are literal text, not SQL or LIKE syntax
        await pilot.press("u", "slash")
        await pilot.press(*"50%_off\\sale'")
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 3
        await pilot.press("u", "slash")
        await pilot.press(*"%")
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 3  # every key holds a literal %
        await pilot.press("u", "slash")
        await pilot.press(*"x' OR 1=1 --")
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 0


HOSTILE = [
    "[bold]x[/]",
    "user[/oops]",
    "[link=http://evil]y[/link]",
    "aws-cli\u001b]52;c;cHduZWQ=\u0007 ok",
    "\u009b31mred",
    "\u202etxt.exe",
    "line1\nline2\ttab\u0000nul",
]


async def test_hostile_strings_render_as_plain_visible_text(tmp_path: Path) -> None:
    records = []
    for i, s in enumerate(HOSTILE):
        records.append({
            "eventVersion": "1.08", "eventID": f"h{i}", "eventTime": f"2024-02-01T00:00:0{i}Z",
            "eventName": s, "eventSource": s, "awsRegion": s, "sourceIPAddress": s,
            "userAgent": s, "errorCode": s, "recipientAccountId": s,
            "userIdentity": {"type": "IAMUser", "userName": s},
            "requestParameters": {s: s},
        })
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"Records": records}))
    app = TrailApp([str(path)], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        table = screen.query_one("#events", VirtualTable)
        assert table.row_count == len(HOSTILE)
        text = screen_text(app)
        assert "\x1b]52" not in text and "\x9b" not in text and "\u202e" not in text
        assert "[bold]x[/]" in text  # shown as typed, never as markup
        assert "␛]52;c;" in text
        # pick a hostile facet value: it becomes a chip and filters by bound parameter
        await pilot.press("f")
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 1
        # open every event: the detail view renders without crashing
        for row in range(len(HOSTILE)):
            await pilot.press("u")
            await settle(pilot)
            table.focus()
            table.move_cursor(row=row)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, DetailScreen)
            detail_text = screen_text(app)
            assert "\x1b]52" not in detail_text and "\u202e" not in detail_text
            await pilot.press("escape")
            await pilot.pause()


async def test_bad_input_keeps_the_app_running(tmp_path: Path, demo: str) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"Records": [{"eventID": "a"')
    app = TrailApp([demo, str(broken), str(tmp_path / "missing.json")], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = browser(app).query_one("#events", VirtualTable)
        assert table.row_count == 3000  # the good file loaded
        messages = [n.message for n in app._notifications]
        assert any("broken.json" in m and "truncated" in m for m in messages)
        assert any("missing.json" in m for m in messages)


@pytest.fixture
def download_dir(tmp_path: Path, demo: str) -> Path:
    (tmp_path / "event_history.json.gz").write_bytes(Path(demo).read_bytes())
    return tmp_path


async def test_no_path_opens_the_picker(download_dir: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(download_dir)
    app = TrailApp([], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        assert isinstance(app.screen, PickerScreen)
        # the picker lists the download; enter on it loads it into the table
        await pilot.press("down")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await pilot.pause(0.5)
        await settle(pilot)
        assert browser(app).query_one("#events", VirtualTable).row_count == 3000


async def test_copy_all_filtered_and_save_large_copy(tmp_path: Path, demo: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = TrailApp([demo], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browser(app)
        table = screen.query_one("#events", VirtualTable)
        # a small filtered set: Y copies all of it as one JSON array
        await pilot.press("slash", *"GetBucketTagging", "enter")
        await settle(pilot)
        n = table.row_count
        assert 0 < n < 50
        await pilot.press("Y")
        await settle(pilot)
        if isinstance(app.screen, ConfirmCopyScreen):  # over 100 KB: copy anyway
            await pilot.press("c")
            await pilot.pause()
        copied = json.loads(app.clipboard)
        assert len(copied) == n
        assert all("GetBucketTagging" in json.dumps(r) for r in copied)
        # all 3,000 events are megabytes: Y asks, and "save" writes {"Records":[...]}
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("Y")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmCopyScreen)
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("enter")  # the default name
        await pilot.pause()
        saved = json.loads((tmp_path / "trailtui_events.json").read_text())
        assert len(saved["Records"]) == 3000
        # the saved file opens again with the same events
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    again = TrailApp([str(tmp_path / "trailtui_events.json")], cache=False)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert browser(again).query_one("#events", VirtualTable).row_count == 3000
