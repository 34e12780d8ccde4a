"""The browser's exploring/evidence keys (the `ExploreActions` mixin) driven through a bare host
screen whose "cursor" the test places: `=`/`!` on a nested cell, `F` with two values ORed,
`b` with a note, the report file, `q` with unsaved evidence, a session restored on reopen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from _fixtures import RECORDS, synthetic_records, write_ndjson
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Key
from textual.screen import Screen
from textual.widgets import Static

from trailtui.data import session as sessions
from trailtui.data.evidence import EventRef, RowKey
from trailtui.data.filters import FilterState
from trailtui.data.service import DataService
from trailtui.data.store import EventStore
from trailtui.screens.explore_actions import ExploreActions

ALL = [*RECORDS, *synthetic_records(100)]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return [str(write_ndjson(ALL, tmp_path_factory.mktemp("actions") / "events.ndjson"))]


@pytest.fixture
def store(files: list[str]) -> Iterator[EventStore]:
    s = EventStore(cache=False)
    s.load(files)
    yield s
    s.close()


class HostScreen(ExploreActions, Screen[None]):
    """Just enough of a browser: filters, a cursor the test sets, columns and facets."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("C", "choose_columns"),
        Binding("F", "frequency"),
        Binding("equals_sign", "filter_cell(False)"),
        Binding("exclamation_mark", "filter_cell(True)"),
        Binding("b", "bookmark"),
        Binding("B", "bookmarks"),
        Binding("R", "report"),
        Binding("q", "quit_checked"),
    ]

    def __init__(self, store: EventStore, paths: list[str]) -> None:
        super().__init__()
        self.data = DataService(store)
        self.paths = paths
        self.filters = FilterState()
        self._x_init()
        self.cursor: tuple[str | None, RowKey | None, object] = (None, None, None)
        self.columns: list[str] = ["eventTime", "eventName"]
        self.facets: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("host")

    def set_filters(self, filters: FilterState) -> None:
        self.filters = filters

    def _x_current(self) -> tuple[str | None, RowKey | None, object]:
        return self.cursor

    def _x_apply_columns(self, paths: list[str]) -> None:
        self.columns = list(paths)

    def _x_columns(self) -> list[str]:
        return list(self.columns)

    def _x_add_facet(self, path: str) -> None:
        self.facets.append(path)

    def _x_facets(self) -> list[str]:
        return list(self.facets)

    def action_quit_checked(self) -> None:
        self.request_quit()

    def on_key(self, event: Key) -> None:
        self.say_unbound_key(event)


class Host(App[None]):
    def __init__(self, store: EventStore, paths: list[str]) -> None:
        super().__init__()
        self.host = HostScreen(store, paths)

    def on_mount(self) -> None:
        self.push_screen(self.host)


def _key(store: EventStore, event_id: str) -> RowKey:
    cur = store.cursor()
    try:
        f, n = cur.execute("SELECT _file_id, _line FROM events WHERE eventID = ?",
                           [event_id]).fetchall()[0]
    finally:
        cur.close()
    return int(f), int(n)


def _count(store: EventStore, state: FilterState) -> int:
    where, params = state.where()
    cur = store.cursor()
    try:
        return int(cur.execute(f"SELECT count(*) FROM events WHERE {where}", params)
                   .fetchall()[0][0])
    finally:
        cur.close()


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _eid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


async def test_equals_and_not_on_a_nested_cell(store: EventStore, files: list[str]) -> None:
    app = Host(store, files)
    async with app.run_test() as pilot:
        host = app.host
        key = _key(store, _eid(0))
        # The cell shows a cut value: `=` reads the stored one.
        host.cursor = ("requestParameters.bucketName", key, "needle-buck…")
        await pilot.press("equals_sign")
        await _settle(pilot)
        assert host.filters.labels == ("requestParameters.bucketName = needle-bucket-7f3a",)
        assert _count(store, host.filters) == 1
        host.cursor = ("actor", key, "alice")
        await pilot.press("exclamation_mark")
        await _settle(pilot)
        assert "actor != alice" in host.filters.labels
        assert _count(store, host.filters) == 0
        host.cursor = (None, None, None)
        await pilot.press("equals_sign")
        await pilot.pause()
        assert len(host.filters) == 2  # nothing under the cursor: a message, no chip


async def test_frequency_two_values_become_one_or_chip(store: EventStore,
                                                       files: list[str]) -> None:
    app = Host(store, files)
    async with app.run_test(size=(120, 40)) as pilot:
        host = app.host
        host.cursor = ("eventSource", _key(store, _eid(1)), "s3.amazonaws.com")
        await pilot.press("F")
        await _settle(pilot)
        await pilot.press("space", "space", "enter")
        await _settle(pilot)
        (label,) = host.filters.labels
        assert label.startswith("eventSource in (")
        picked = host.filters.chips[0].values  # type: ignore[union-attr]
        assert _count(store, host.filters) == sum(r["eventSource"] in picked for r in ALL)
        # Opening it again shows the two ticked; unticking one narrows the chip.
        await pilot.press("F")
        await _settle(pilot)
        await pilot.press("space", "enter")
        await _settle(pilot)
        assert len(host.filters.chips[0].values) == 1  # type: ignore[union-attr]


async def test_bookmark_note_report_and_quit(store: EventStore, files: list[str],
                                             tmp_path: Path) -> None:
    app = Host(store, files)
    async with app.run_test() as pilot:
        host = app.host
        key = _key(store, _eid(6))
        host.cursor = ("eventName", key, "DeleteBucket")
        await pilot.press("b")
        await pilot.pause()
        await pilot.press(*"bob deleted the bucket", "enter")
        await _settle(pilot)
        (book,) = host.evidence.bookmarks
        assert book.note == "bob deleted the bucket" and book.ref.event_id == _eid(6)
        host.toggle_mark_key(_key(store, _eid(9)))
        await _settle(pilot)
        report = tmp_path / "case.md"
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("ctrl+u", *str(report), "enter")
        await _settle(pilot)
        text = report.read_text()
        assert "`bob deleted the bucket`" in text and _eid(6) in text
        assert '"eventName": "DeleteBucket"' in text and _eid(9) in text
        assert oct(report.stat().st_mode & 0o777) == "0o600"
        await pilot.press("q")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmQuitScreen"
        await pilot.press("s")
        await pilot.pause()
    saved, _notes = sessions.load_session(sessions.session_path(files))
    assert saved is not None
    assert [b.note for b in saved.evidence.bookmarks] == ["bob deleted the bucket"]

    # Reopen: the session comes back (as --resume does), marks included.
    app2 = Host(store, files)
    async with app2.run_test() as pilot:
        app2.host.offer_restore(ask=False)
        await _settle(pilot)
        assert app2.host.evidence.mark_keys == {_key(store, _eid(9))}
        assert app2.host.columns == ["eventTime", "eventName"]
        await pilot.press("B")
        await _settle(pilot)
        assert type(app2.screen).__name__ == "BookmarksScreen"
        await pilot.press("d")
        await pilot.pause()
        assert not app2.host.evidence.bookmarks
    sessions.delete_session(sessions.session_path(files))


async def test_restore_is_asked_and_json_report(store: EventStore, files: list[str],
                                                tmp_path: Path) -> None:
    app = Host(store, files)
    async with app.run_test() as pilot:
        app.host.evidence.set_bookmark(EventRef(*_key(store, _eid(11))), "root login")
        app.host.save_session()
    app2 = Host(store, files)
    async with app2.run_test() as pilot:
        app2.host.offer_restore()
        await pilot.pause()
        assert type(app2.screen).__name__ == "ConfirmRestoreScreen"
        await pilot.press("y")
        await _settle(pilot)
        (book,) = app2.host.evidence.bookmarks
        assert book.ref.event_id == _eid(11)
        out = tmp_path / "case.json"
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("ctrl+u", *str(out), "enter")
        await _settle(pilot)
    data = json.loads(out.read_text())
    assert data["events"][0]["note"] == "root login"
    assert json.loads(data["events"][0]["original"])["eventName"] == "ConsoleLogin"
    sessions.delete_session(sessions.session_path(files))


async def test_keys_that_cannot_act_say_why(store: EventStore, files: list[str]) -> None:
    app = Host(store, files)
    async with app.run_test() as pilot:
        await pilot.press("F", "b", "B", "R")
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert any("F needs a column" in m for m in messages)
        assert any("b needs an event" in m for m in messages)
        assert any("no bookmarks yet" in m for m in messages)
        assert any("nothing to report" in m for m in messages)
        await pilot.press("comma", "z")
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert any(m.startswith(", does nothing") for m in messages)
        assert any(m.startswith("z does nothing") for m in messages)
        assert not any(m.startswith(("F does", "b does", "B does")) for m in messages)
        await pilot.press("q")  # nothing kept: quits at once
        await pilot.pause()
