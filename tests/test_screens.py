"""The modal screens: detail, picker, help, value and time range, each pushed by a bare host app.

What matters most here is hostile text: CloudTrail strings are written by whoever called AWS,
so markup must show as typed, control characters must show as visible escapes and never reach
the terminal, and copies must hold what was promised.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from trailtui.data.filters import Chip, pivot_chips
from trailtui.jsontext import clipboard_text, format_path, json_lines, lines_for, parse_json
from trailtui.screens.detail import DetailScreen
from trailtui.screens.help import KEYS, HelpScreen, help_content, keys_markdown
from trailtui.screens.picker import CloudTrailTree, PickerScreen, expand_typed
from trailtui.screens.time_range import TimeRangeScreen, parse_bound, parse_range
from trailtui.screens.value import ValueScreen
from trailtui.widgets.json_view import JsonView

OSC52 = "\u001b]52;c;SGk=\u0007"
LONG = "L" * 5000
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\x00")

EVENT: dict[str, Any] = {
    "eventVersion": "1.08",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLE",
        "arn": "arn:aws:iam::123456789012:user/[bold]x[/]",
        "accountId": "123456789012",
        "accessKeyId": "AKIAEXAMPLE",
        "userName": "[bold]x[/]",
    },
    "eventTime": "2024-03-01T10:00:00Z",
    "eventSource": "s3.amazonaws.com",
    "eventName": "GetObject",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "203.0.113.9",
    "userAgent": f"aws-cli{OSC52} [/x] \u009b31m \u202eexe.txt\nsecond line",
    "requestParameters": {"bucketName": "b[/x]", "key": LONG, "n": 1.50},
    "responseElements": None,
    "readOnly": True,
    "eventID": "e1",
}
RAW = json.dumps(EVENT).encode()
ROW: dict[str, object] = {
    "eventTime": dt.datetime(2024, 3, 1, 10, 0, 0),
    "eventName": "GetObject",
    "eventSource": "s3.amazonaws.com",
    "awsRegion": "us-east-1",
    "actor": f"[bold]x[/]{OSC52}",
    "access_key": "AKIAEXAMPLE",
    "sourceIPAddress": "203.0.113.9",
    "userIdentity": EVENT["userIdentity"],
}


@pytest.fixture(autouse=True)
def _osc52_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies go to `app.clipboard` only: no system clipboard tool runs in tests."""
    monkeypatch.setenv("TRAILTUI_CLIPBOARD", "osc52")
    monkeypatch.delenv("TMUX", raising=False)


class Host(App[None]):
    """A bare app that pushes one screen and records what it dismissed with."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make = make
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self._make(), self.results.append)


def widget_text(widget: Widget) -> str:
    """What a widget draws right now, as plain text (the strips the terminal would get)."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool]) -> None:
    """Pause until `condition()` holds (directory listing and globbing run in threads)."""
    deadline = time.monotonic() + 5.0
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


# --------------------------------------------------------------------------- detail


def test_json_lines_keep_the_file_exactly() -> None:
    """Key order, duplicate keys and number spellings survive; controls become escapes."""
    text = '{"b": 1E400, "a": 2.50, "a": -0.0, "c": [], "d": {}, "e": "x\\u001by\u009b"}'
    printed = "\n".join(line.plain for line in lines_for(text))
    assert printed == (
        "{\n"
        '  "b": 1E400,\n'
        '  "a": 2.50,\n'
        '  "a": -0.0,\n'
        '  "c": [],\n'
        '  "d": {},\n'
        '  "e": "x\\u001by\\u009b"\n'
        "}"
    )
    # Ordinary JSON prints exactly as json.dumps(indent=2) would.
    assert "\n".join(line.plain for line in lines_for(RAW.decode())) == json.dumps(
        EVENT, indent=2, ensure_ascii=False
    ).replace("\u009b", "\\u009b").replace("\u202e", "\\u202e")


def test_not_json_and_deep_json_fall_back_to_sanitised_text() -> None:
    lines = lines_for("not json \x1b[31m\x9b")
    assert [line.plain for line in lines] == ["not json ␛[31m\\x9b"]
    deep = "[" * 50_000 + "]" * 50_000  # json.loads recursion limit: shown as text, no crash
    assert lines_for(deep)[0].plain.startswith("[[[")


def test_paths_and_copy_forms() -> None:
    lines = json_lines(parse_json('{"a b": [{"c": "x\\u001b"}], "ok": "arn:aws:iam::1:user/u"}'))
    by_path = {format_path(line.path): line for line in lines}
    assert '$["a b"][0].c' in by_path
    assert clipboard_text(by_path['$["a b"][0].c'].value) == ('"x\\u001b"', True)
    assert clipboard_text(by_path["$.ok"].value) == ("arn:aws:iam::1:user/u", False)
    assert clipboard_text(by_path['$["a b"]'].value)[0] == '[\n  {\n    "c": "x\\u001b"\n  }\n]'


async def test_detail_shows_hostile_text_visibly() -> None:
    app = Host(lambda: DetailScreen(RAW, ROW))
    async with app.run_test(size=(120, 120)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        view = screen.query_one(JsonView)
        body = widget_text(view)
        header = widget_text(screen.query_one("#detail-header", Static))
        assert '"userName": "[bold]x[/]"' in body  # markup shown as typed
        assert "[/x]" in body
        assert "\\u001b]52;c;SGk=\\u0007" in body  # ESC and BEL as visible escapes
        assert "\\u009b31m" in body and "\\u202eexe.txt" in body
        assert "\\nsecond line" in body  # the newline is an escape, not a line break
        assert '"bucketName": "b[/x]"' in body
        # The 5,000-character value wraps: every character is on screen, nothing cut.
        unwrapped = "".join(row.strip().removeprefix("↪ ") for row in body.splitlines())
        assert LONG in unwrapped
        assert "GetObject" in header and "2024-03-01 10:00:00 UTC" in header
        assert "[bold]x[/]␛]52;c;SGk=␇" in header  # actor: markup literal, controls visible
        for text in (body, header):
            for char in RAW_CONTROLS:
                assert char not in text


async def test_detail_scrolls_sideways_with_wrap_off() -> None:
    app = Host(lambda: DetailScreen(RAW, ROW))
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        view = app.screen.query_one(JsonView)
        await pilot.press("w")
        await pilot.pause()
        assert not view.wrap
        assert view.virtual_size.width > 5000  # the long line is reachable by scrolling
        await pilot.press("slash", *"LLLLLLLL", "enter")
        await pilot.pause()
        assert view.matches > 0
        assert "requestParameters" in format_path(view.current.path)


async def test_detail_copy_pivots_and_close() -> None:
    # A temporary credential of a role: "same session" is this key, "same role" the role.
    role = {"type": "AssumedRole", "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::1:role/R"}}}
    row = {**ROW, "access_key": "ASIAEXAMPLE", "userIdentity": role}
    chips = pivot_chips(row)
    assert chips["session"] == Chip.include("access_key", "ASIAEXAMPLE")
    for key, name in (
        ("a", "actor"),
        ("k", "access_key"),
        ("i", "source_ip"),
        ("s", "session"),
        ("r", "role"),
        ("t", "around"),
    ):
        app = Host(lambda: DetailScreen(RAW, row))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press(key)
            await pilot.pause()
            assert app.results == [chips[name]], key
            assert isinstance(app.results[0], Chip)
    assert chips["around"].kind == "around"

    for key in ("escape", "q"):
        app = Host(lambda: DetailScreen(RAW, ROW))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("y")
            await pilot.pause()
            assert app.clipboard == RAW.decode()  # the original JSON, as given
            await pilot.press(key)
            await pilot.pause()
            assert app.results == [None]


async def test_detail_pivot_without_a_value_does_nothing() -> None:
    row = {k: v for k, v in ROW.items() if k != "access_key"}
    app = Host(lambda: DetailScreen(RAW, row))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("k")
        await pilot.pause()
        assert app.results == []
        assert isinstance(app.screen, DetailScreen)


async def test_detail_find_next_and_copy_value() -> None:
    app = Host(lambda: DetailScreen(RAW, ROW))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        view = app.screen.query_one(JsonView)
        await pilot.press("slash", *"[bold]x", "enter")  # typed into the find box, not keys
        await pilot.pause()
        assert app.results == []
        assert view.matches == 2  # the ARN and userName
        first = view.cursor_line
        await pilot.press("n")
        assert view.cursor_line != first
        await pilot.press("n")
        assert view.cursor_line == first  # wraps around
        await pilot.press("slash", *"useragent", "enter")
        await pilot.pause()
        assert format_path(view.current.path) == "$.userAgent"
        await pilot.press("c")
        await pilot.pause()
        # A value with control characters is copied as a JSON string, never raw.
        assert app.clipboard == json.dumps(EVENT["userAgent"], ensure_ascii=True)
        for char in RAW_CONTROLS:
            assert char not in app.clipboard
        await pilot.press("escape")
        assert app.results == [None]


async def test_detail_escape_closes_find_box_first() -> None:
    app = Host(lambda: DetailScreen(RAW, ROW))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("slash", "q")
        assert app.screen.query_one("#detail-find", Input).value == "q"
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == []
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


async def test_detail_of_a_60kb_event_shows_its_last_line() -> None:
    """A 60 KB event opens and `end` reaches its last line (speed: bench/bench_detail.py)."""
    big = {
        **EVENT,
        "responseElements": {
            "items": [{"id": f"i-{n:08x}", "tags": [{"k": "v" * 40}], "n": n} for n in range(600)]
        },
    }
    raw = json.dumps(big).encode()
    assert len(raw) > 60_000
    app = Host(lambda: DetailScreen(raw, ROW))
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        view = app.screen.query_one(JsonView)
        assert '"eventVersion"' in widget_text(view)
        await pilot.press("end")
        await pilot.pause()
        assert view.cursor_line == len(view.lines) - 1
        assert widget_text(view).rstrip().endswith("}")
        assert '"n": 599' in widget_text(view)


async def test_detail_of_text_that_is_not_json() -> None:
    app = Host(lambda: DetailScreen(b"garbage \x1b]52;c;SGk=\x07 [/x]", {}))
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        body = widget_text(app.screen.query_one(JsonView))
        assert "garbage ␛]52;c;SGk=␇ [/x]" in body
        await pilot.press("y")
        assert app.clipboard == "garbage \x1b]52;c;SGk=\x07 [/x]"  # as given, per the brief


# --------------------------------------------------------------------------- picker


@pytest.fixture
def tree_dir(tmp_path: Path) -> Path:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "x.json.gz").write_bytes(b"")
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "b[bold]c.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("no")
    (tmp_path / ".hidden.json").write_text("{}")
    return tmp_path


async def _picker(pilot: Pilot[None]) -> CloudTrailTree:
    tree: CloudTrailTree = pilot.app.screen.query_one(CloudTrailTree)
    await wait_for(pilot, lambda: len(tree.root.children) > 0)
    await pilot.pause()
    return tree


def _labels(tree: CloudTrailTree) -> list[str]:
    return [str(child.label) for child in tree.root.children]


def _move_to(tree: CloudTrailTree, name: str) -> None:
    for child in tree.root.children:
        if str(child.label) == name:
            tree.move_cursor(child)
            return
    raise AssertionError(name)


async def test_picker_lists_folders_and_event_files_only(tree_dir: Path) -> None:
    app = Host(lambda: PickerScreen(tree_dir))
    async with app.run_test(size=(100, 30)) as pilot:
        tree = await _picker(pilot)
        assert _labels(tree) == ["logs", "a.json", "b[bold]c.json"]  # no .txt, no dotfile
        text = widget_text(tree)
        assert "b[bold]c.json" in text  # brackets literal
        assert "2 B" in text  # file sizes


async def test_picker_marks_and_enter_loads(tree_dir: Path) -> None:
    app = Host(lambda: PickerScreen(tree_dir))
    async with app.run_test(size=(100, 30)) as pilot:
        tree = await _picker(pilot)
        _move_to(tree, "logs")
        await pilot.press("space")
        _move_to(tree, "a.json")
        await pilot.press("space")
        await pilot.pause()
        assert list(tree.marked) == [tree_dir / "logs", tree_dir / "a.json"]
        assert "2 marked" in widget_text(app.screen.query_one("#picker-marked", Static))
        assert "● " in widget_text(tree)
        _move_to(tree, "b[bold]c.json")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.results))
        assert app.results == [[tree_dir / "logs", tree_dir / "a.json", tree_dir / "b[bold]c.json"]]


async def test_picker_unmark_load_folder_and_cancel(tree_dir: Path) -> None:
    app = Host(lambda: PickerScreen(tree_dir))
    async with app.run_test(size=(100, 30)) as pilot:
        tree = await _picker(pilot)
        _move_to(tree, "a.json")
        await pilot.press("space")
        _move_to(tree, "a.json")
        await pilot.press("space")
        assert not tree.marked
        _move_to(tree, "logs")
        await pilot.press("enter")  # enter on a folder expands it, loads nothing
        await pilot.pause(0.1)
        assert app.results == []
        _move_to(tree, "logs")
        await pilot.press("l")
        await wait_for(pilot, lambda: bool(app.results))
        assert app.results == [[tree_dir / "logs"]]

    app = Host(lambda: PickerScreen(tree_dir))
    async with app.run_test(size=(100, 30)) as pilot:
        await _picker(pilot)
        await pilot.press("escape")
        assert app.results == [None]


async def test_picker_typed_glob_path_and_error(tree_dir: Path) -> None:
    app = Host(lambda: PickerScreen(tree_dir))
    async with app.run_test(size=(100, 30)) as pilot:
        await _picker(pilot)
        path_box = app.screen.query_one("#picker-path", Input)
        path_box.focus()
        await pilot.press(*"nothing-here*.json", "enter")
        message = app.screen.query_one("#picker-message", Static)
        await wait_for(pilot, lambda: "nothing matches" in widget_text(message))
        assert app.results == []
        path_box.value = str(tree_dir / "*.json")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.results))
        assert app.results == [[tree_dir / "a.json", tree_dir / "b[bold]c.json"]]


def test_expand_typed(tree_dir: Path) -> None:
    assert expand_typed("b[bold]c.json", tree_dir) == ([tree_dir / "b[bold]c.json"], None)
    assert expand_typed("logs", tree_dir) == ([tree_dir / "logs"], None)
    assert expand_typed("**/*.gz", tree_dir) == ([tree_dir / "logs" / "x.json.gz"], None)
    paths, problem = expand_typed("*.txt", tree_dir)
    assert paths == [] and problem is not None and "none .json" in problem
    odd = tree_dir / "case[1]"  # a start folder whose name looks like a glob
    odd.mkdir()
    (odd / "y.json").write_text("{}")
    assert expand_typed("*.json", odd) == ([odd / "y.json"], None)
    paths, problem = expand_typed("missing\x1b.json", tree_dir)
    assert paths == [] and problem is not None and "\x1b" not in problem


# --------------------------------------------------------------------------- help


async def test_help_lists_keys_and_closes() -> None:
    assert ("Table", "y", "copy the event (or the marked events) as JSON") in KEYS
    assert any(key == "/" for _, key, _ in KEYS)
    assert {group for group, _, _ in KEYS} == {
        "Table",
        "Facets",
        "Frequency (F)",
        "Columns (C)",
        "Filters",
        "Detail",
        "SQL console",
        "Global",
        "Athena/Trino",
        "Actors",
        "Sessions",
        "New and rare",
        "Parameters",
    }
    assert "| Table | `y` |" in keys_markdown()
    plain = help_content().plain
    assert "search the whole event text" in plain
    app = Host(HelpScreen)
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        text = widget_text(app.screen.query_one("#help-keys", Static))
        assert "Table" in text and "SQL console" in text
        assert any(line.split()[:1] == ["y"] for line in text.splitlines())
        assert any(line.split()[:1] == ["/"] for line in text.splitlines())
        await pilot.press("escape")
        assert app.results == [None]


# --------------------------------------------------------------------------- value


async def test_value_shows_and_copies_safely() -> None:
    value = f"ua{OSC52}[bold]x[/]\u202e\n" + LONG
    app = Host(lambda: ValueScreen("userAgent[/x]", value))
    async with app.run_test(size=(100, 120)) as pilot:
        await pilot.pause()
        text = widget_text(app.screen.query_one("#value-static", Static))
        assert "ua␛]52;c;SGk=␇[bold]x[/]<U+202E>" in text
        assert LONG in "".join(line.strip() for line in text.splitlines())
        for char in RAW_CONTROLS:
            assert char not in text
        await pilot.press("y")
        assert app.clipboard == json.dumps(value, ensure_ascii=False).replace("\u202e", "\\u202e")
        for char in RAW_CONTROLS:
            assert char not in app.clipboard
        await pilot.press("escape")
        assert app.results == [None]


async def test_value_plain_and_json() -> None:
    app = Host(lambda: ValueScreen("arn", "arn:aws:iam::1:user/a[b]"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("y")
        assert app.clipboard == "arn:aws:iam::1:user/a[b]"  # a clean value is copied as is

    app = Host(lambda: ValueScreen("requestParameters", '{"bucketName": "b[/x]", "n": 2.50}'))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        body = widget_text(app.screen.query_one(JsonView))
        assert '"bucketName": "b[/x]"' in body and '"n": 2.50' in body
        await pilot.press("y")
        assert app.clipboard == '{\n  "bucketName": "b[/x]",\n  "n": 2.50\n}'

    struct = {"type": "IAMUser", "sessionContext": {"attributes": {"mfa": "false"}}, "n": 1}
    app = Host(lambda: ValueScreen("userIdentity", struct))  # a DuckDB STRUCT is a dict
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        body = widget_text(app.screen.query_one(JsonView))
        assert '"mfa": "false"' in body
        await pilot.press("y")
        assert json.loads(app.clipboard) == struct

    app = Host(lambda: ValueScreen("errorCode", None))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "no value" in widget_text(app.screen.query_one("#value-static", Static))


# --------------------------------------------------------------------------- time range

NEWEST = dt.datetime(2024, 5, 1, 12, 0, 0)


@pytest.mark.parametrize(
    ("text", "bound", "expected"),
    [
        ("", "from", None),
        ("2024-01-01", "from", dt.datetime(2024, 1, 1)),
        ("2024-01-01", "to", dt.datetime(2024, 1, 2)),  # exclusive: the whole day
        ("2024-01-01 10:00", "from", dt.datetime(2024, 1, 1, 10, 0)),
        ("2024-01-01T10:00:00Z", "from", dt.datetime(2024, 1, 1, 10, 0)),
        ("2024-01-01T12:00:00+02:00", "to", dt.datetime(2024, 1, 1, 10, 0)),
        ("2024-01-01T10:00:00.250Z", "from", dt.datetime(2024, 1, 1, 10, 0, 0, 250_000)),
        ("-1h", "from", dt.datetime(2024, 5, 1, 11, 0)),
        ("-24h", "from", dt.datetime(2024, 4, 30, 12, 0)),
        ("-7d", "to", dt.datetime(2024, 4, 24, 12, 0)),
        ("-15m", "from", dt.datetime(2024, 5, 1, 11, 45)),
    ],
)
def test_parse_bound(text: str, bound: Any, expected: dt.datetime | None) -> None:
    assert parse_bound(text, bound, NEWEST) == expected


@pytest.mark.parametrize(
    "text", ["yesterday", "2024-13-01", "2024-02-30", "-1y", "1h", "10:00", "[bold]"]
)
def test_parse_bound_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bound(text, "from", NEWEST)


def test_parse_range_checks_order() -> None:
    assert parse_range("-1h", "", NEWEST) == (dt.datetime(2024, 5, 1, 11, 0), None)
    with pytest.raises(ValueError, match="after"):
        parse_range("2024-02-01", "2024-01-01", NEWEST)


async def test_time_range_screen() -> None:
    app = Host(lambda: TimeRangeScreen(newest=NEWEST))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press(*"garbage", "enter")
        await pilot.pause()
        assert app.results == []
        assert "not a time" in widget_text(app.screen.query_one("#time-error", Static))
        app.screen.query_one("#time-from", Input).value = "-24h"
        to_box = app.screen.query_one("#time-to", Input)
        to_box.value = "2024-05-01T11:00:00Z"
        to_box.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [(dt.datetime(2024, 4, 30, 12, 0), dt.datetime(2024, 5, 1, 11, 0))]

    app = Host(lambda: TimeRangeScreen(newest=NEWEST))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        assert app.results == [None]


async def test_picker_closes_once_and_typing_a_path_goes_to_the_path_box(tree_dir: Path) -> None:
    """`l` pressed twice used to dismiss the picker twice (a ScreenStackError traceback);
    typing `/` or `~` on the folder tree starts a path in the path box instead."""
    app = Host(lambda: PickerScreen(tree_dir))
    async with app.run_test(size=(100, 30)) as pilot:
        tree = await _picker(pilot)
        _move_to(tree, "logs")
        await pilot.press("l", "l", "escape")
        await wait_for(pilot, lambda: bool(app.results))
        await pilot.pause(0.1)
        assert app.results == [[tree_dir / "logs"]]
    app = Host(lambda: PickerScreen(tree_dir))
    async with app.run_test(size=(100, 30)) as pilot:
        await _picker(pilot)
        await pilot.press("/")
        path_box = app.screen.query_one("#picker-path", Input)
        assert app.screen.focused is path_box and path_box.value == "/"
        path_box.value = str(tree_dir / "a.json")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.results))
        assert app.results == [[tree_dir / "a.json"]]
