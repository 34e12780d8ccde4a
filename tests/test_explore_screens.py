"""The new screens driven as a user would: the frequency of a field (tick two values, OR them,
count checked against SQL), the column chooser (find a nested field, add, reorder), the
bookmark note, the bookmarks list and the quit question."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _fixtures import RECORDS, events_store, synthetic_records
from textual.app import App
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static

from trailtui.data import fields
from trailtui.data.evidence import Bookmark, EventRef
from trailtui.data.filters import FilterState, toggle_field_value
from trailtui.data.service import DataService
from trailtui.data.store import EventStore
from trailtui.screens.bookmarks import (
    BookmarkAction,
    BookmarkRow,
    BookmarksScreen,
    ConfirmQuitScreen,
    NoteScreen,
)
from trailtui.screens.columns import ColumnChooserScreen
from trailtui.screens.frequency import FrequencyChoice, FrequencyScreen

ALL = [*RECORDS, *synthetic_records(200)]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    with events_store(ALL, tmp_path_factory.mktemp("screens")) as s:
        yield s


class Host(App[None]):
    """A bare app that pushes one screen and records what it dismissed with."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make = make
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self._make(), self.results.append)


def _texts(lst: OptionList) -> list[str]:
    return [str(lst.get_option_at_index(i).prompt) for i in range(lst.option_count)]


async def _settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_frequency_two_values_or_and_count_matches_sql(store: EventStore) -> None:
    fld = fields.field_for("eventSource")
    app = Host(lambda: FrequencyScreen(DataService(store), fld, FilterState()))
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        lst = app.screen.query_one(OptionList)
        rows = _texts(lst)
        assert rows and "[ ]" in rows[0]
        await pilot.press("space", "space")  # tick the first two (space moves down)
        assert "[x]" in _texts(lst)[0] and "[x]" in _texts(lst)[1]
        await pilot.press("enter")
        await pilot.pause()
    (choice,) = app.results
    assert isinstance(choice, FrequencyChoice) and len(choice.values) == 2
    state = FilterState()
    for v in choice.values:
        state = toggle_field_value(state, choice.path, v)
    assert state.labels[0].startswith("eventSource in (")
    where, params = state.where()
    cur = store.cursor()
    try:
        got = cur.execute(f"SELECT count(*) FROM events WHERE {where}", params).fetchall()[0][0]
    finally:
        cur.close()
    assert got == sum(r["eventSource"] in choice.values for r in ALL)


async def test_frequency_type_to_search_flip_sort_exclude(store: EventStore) -> None:
    fld = fields.field_for("requestParameters.bucketName")
    app = Host(lambda: FrequencyScreen(DataService(store), fld, FilterState()))
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await pilot.press("b", "u", "c", "k", "e", "t", "-", "1", "7")
        await _settle(pilot)
        screen = app.screen
        assert screen.query_one("#freq-search", Input).value == "bucket-17"
        assert all("bucket-17" in t for t in _texts(screen.query_one(OptionList)))
        status = str(screen.query_one("#freq-status", Static).render())
        assert "matching 'bucket-17'" in status
        await pilot.press("escape")  # leaves the search box first
        assert app.screen is screen
        await pilot.press("s")
        await _settle(pilot)
        assert "fewest first" in str(screen.query_one("#freq-status", Static).render())
        await pilot.press("x")
        await pilot.pause()
    (choice,) = app.results
    assert isinstance(choice, FrequencyChoice) and choice.exclude
    assert choice.values and str(choice.values[0]).startswith("bucket-17")


async def test_frequency_add_facet_and_whole_value(store: EventStore) -> None:
    fld = fields.field_for("userAgent")
    app = Host(lambda: FrequencyScreen(DataService(store), fld, FilterState()))
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot)
        await pilot.press("v")
        await pilot.pause()
        assert type(app.screen).__name__ == "ValueScreen"
        await pilot.press("escape")
        await pilot.press("a")
        await pilot.pause()
    assert app.results == [FrequencyChoice("userAgent", add_facet=True)]


async def test_column_chooser_adds_nested_field_and_reorders(store: EventStore) -> None:
    cur = store.cursor()
    try:
        cat = fields.catalog(cur)
    finally:
        cur.close()
    start = list(fields.DEFAULT_COLUMNS)
    app = Host(lambda: ColumnChooserScreen(cat, start))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for ch in "sessionissuer.username":
            await pilot.press(ch)
        await pilot.pause()
        lst = app.screen.query_one(OptionList)
        assert _texts(lst) == ["[ ] userIdentity.sessionContext.sessionIssuer.userName  (identity)"]
        await pilot.press("enter")  # leave the search box
        await pilot.press("space")  # tick it
        assert "[x]" in _texts(lst)[0]
        await pilot.press("[")  # move it up one place
        await pilot.press("enter")
        await pilot.pause()
    (chosen,) = app.results
    assert isinstance(chosen, list)
    path = "userIdentity.sessionContext.sessionIssuer.userName"
    assert chosen[:-2] == start[:-1] and chosen[-2:] == [path, start[-1]]


async def test_column_chooser_keeps_one_column_and_cancels(store: EventStore) -> None:
    cat = fields.FieldCatalog(tuple(fields.base_fields()))
    app = Host(lambda: ColumnChooserScreen(cat, ["eventName"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        assert "[x] eventName" in _texts(app.screen.query_one(OptionList))[0]
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_note_dialog_and_bookmarks_list(tmp_path: Path) -> None:
    app = Host(lambda: NoteScreen("Bookmark GetObject by bob", "old"))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("ctrl+u", *"new note", "enter")
        await pilot.pause()
    assert app.results == ["new note"]

    rows = [BookmarkRow(Bookmark(EventRef(1, i), f"note [b]{i}[/b]\x1b"), f"2024-05-01 1{i}:00:00",
                        "GetObject by bob") for i in range(3)]
    app2 = Host(lambda: BookmarksScreen(rows, "Europe/Paris"))
    async with app2.run_test() as pilot:
        await pilot.pause()
        texts = _texts(app2.screen.query_one(OptionList))
        assert texts[1] == "2024-05-01 11:00:00  GetObject by bob — note [b]1[/b]␛"
        await pilot.press("down", "n")
        await pilot.pause()
    assert app2.results == [BookmarkAction("note", (1, 1))]


async def test_quit_question() -> None:
    app = Host(lambda: ConfirmQuitScreen(3, 1))
    async with app.run_test() as pilot:
        await pilot.pause()
        text = str(app.screen.query_one(Static).render())
        assert "3 marked events and 1 bookmark" in text
        await pilot.press("d")
        await pilot.pause()
    assert app.results == ["discard"]


async def test_time_range_reads_and_shows_the_apps_zone() -> None:
    import datetime as dt

    from trailtui.data.tz import TimeZone
    from trailtui.screens.time_range import TimeRangeScreen

    paris = TimeZone.named("Europe/Paris")
    newest = dt.datetime(2024, 5, 1, 10, 0, 0)  # UTC
    app = Host(lambda: TimeRangeScreen(newest=newest, zone=paris))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        hint = str(app.screen.query_one("#time-hint", Static).render())
        assert "newest event 2024-05-01 12:00 Europe/Paris" in hint
        await pilot.press(*"2024-05-01 12:00", "tab", *"2024-05-01 12:30", "enter")
        await pilot.pause()
    assert app.results == [(newest, newest + dt.timedelta(minutes=30))]
