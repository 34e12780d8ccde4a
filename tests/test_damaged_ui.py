"""Issue 8 in the app: a deep-nested record and a 1 MB value never stall the screen; every
message can be read again (m); duplicates merged are on the status line. No timing asserts."""

from __future__ import annotations

import json
from pathlib import Path

from trailtui.app import TrailApp
from trailtui.jsontext import VALUE_CAP
from trailtui.pilot import settle
from trailtui.screens.browser import BrowserScreen
from trailtui.screens.detail import DetailScreen
from trailtui.screens.messages import MessagesScreen
from trailtui.widgets.event_table import EventTable
from trailtui.widgets.json_view import JsonView

SIZE = (160, 48)


def rec(i: int, **extra: object) -> dict[str, object]:
    r: dict[str, object] = {
        "eventVersion": "1.08", "eventTime": f"2024-01-01T00:00:{i % 60:02d}Z",
        "eventName": "ListBuckets", "eventSource": "s3.amazonaws.com", "eventID": f"id-{i}",
        "userIdentity": {"type": "IAMUser", "userName": "alice"},
    }
    r.update(extra)
    return r


def browser(app: TrailApp) -> BrowserScreen:
    assert isinstance(app.screen, BrowserScreen), app.screen
    return app.screen


async def test_a_deep_nested_record_costs_itself_and_the_note_stays_readable(
    tmp_path: Path,
) -> None:
    recs = [json.dumps(rec(i)).encode() for i in range(17)]
    recs[5] = recs[5][:-1] + b', "requestParameters": ' + b'{"a":' * 1000 + b"1" + b"}" * 1001
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"Records":[' + b",".join(recs) + b"]}")
    bad = [tmp_path / f"bad{i}.json" for i in range(12)]
    for p in bad:
        p.write_bytes(b"{nope")
    app = TrailApp([str(path), *map(str, bad)], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert browser(app).query_one("#events", EventTable).row_count == 16
        assert not browser(app).is_loading
        await pilot.press("m")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MessagesScreen)
        text = "\n".join(str(line) for line in screen.query_one("#messages").lines)  # type: ignore[attr-defined]
        assert "1 of 17 records skipped" in text and "nested deeper than 200 levels" in text
        assert sum(f"bad{i}.json" in text for i in range(12)) == 12  # not cut to 8
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)
        assert "m" in {k for k, b in app.active_bindings.items() if b.binding.show}


async def test_duplicates_merged_are_on_the_status_line(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    a.write_text(json.dumps({"Records": [rec(i) for i in range(10)]}))
    b = tmp_path / "b.json"
    b.write_text(json.dumps({"Records": [rec(i) for i in range(3)]}))
    app = TrailApp([str(a), str(b)], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = str(browser(app).query_one("#status").render())
        assert "10 of 10 events" in status and "3 duplicates merged" in status


async def test_a_1_mb_value_opens_capped_and_shows_more(tmp_path: Path) -> None:
    big = "A" * (1 << 20)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"Records": [rec(0, requestParameters={"policy": big})]}))
    app = TrailApp([str(path)], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        view = app.screen.query_one(JsonView)
        line = next(i for i, ln in enumerate(view.lines) if ln.path == ("requestParameters",
                                                                          "policy"))
        assert len(view.lines[line].plain) < VALUE_CAP + 200
        assert "1,048,576 characters in all" in view.lines[line].plain
        view.cursor_line = line
        await pilot.press("plus")
        await pilot.pause()
        assert VALUE_CAP * 8 <= len(view.lines[line].plain) < VALUE_CAP * 8 + 200
        assert view.lines[line].value == big  # copies take the whole value
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)
