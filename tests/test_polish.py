"""Polish: escape gives focus back, a bad exclusions file is named, empty explore screens say so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _fixtures import events_store, record
from textual.app import App
from textual.screen import Screen
from textual.widgets import Static

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.data.filters import Chip, FilterState
from trailtui.data.service import DataService
from trailtui.pilot import settle
from trailtui.screens.actors import ActorsScreen
from trailtui.screens.browser import BrowserScreen
from trailtui.screens.findings import FindingsOptions
from trailtui.screens.new_values import NewValuesScreen
from trailtui.screens.params import ParamsScreen
from trailtui.screens.sessions import SessionsScreen
from trailtui.widgets.facet_panel import FacetPanel
from trailtui.widgets.findings_panel import FindingsPanel

SIZE = (160, 48)


def browser(app: TrailApp) -> BrowserScreen:
    screen = app.screen
    assert isinstance(screen, BrowserScreen), screen
    return screen


@pytest.mark.parametrize("key", ["colon", "slash"])
async def test_escape_from_console_or_search_returns_to_the_facet(key: str) -> None:
    """A facet panel had focus: `:` or `/` then escape brings the user back to that panel."""
    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        panel = app.focused
        assert isinstance(panel, FacetPanel)
        await pilot.press(key)
        await settle(pilot)
        assert app.focused is not panel
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is panel


async def test_a_bad_exclusions_file_is_named_and_findings_run_without_it(tmp_path: Path) -> None:
    """Headless refuses a bad exclusions file; the app runs findings anyway and must say so,
    not file it under "Rules not used"."""
    bad_ex = tmp_path / "ex.toml"
    bad_ex.write_text("this is = = not toml")
    app = TrailApp([str(demo_path())], cache=False,
                   findings=FindingsOptions((), True, str(bad_ex)))
    notes: list[tuple[str, str]] = []
    async with app.run_test(size=SIZE) as pilot:
        original = app.notify

        def spy(message: str, **kwargs: Any) -> None:
            notes.append((str(kwargs.get("title", "")), message))
            original(message, **kwargs)

        app.notify = spy  # type: ignore[method-assign]
        await settle(pilot)
        assert browser(app).query_one(FindingsPanel).findings  # the pack still ran
        about = [(t, m) for t, m in notes if "ex.toml" in m]
        assert about, notes
        title, message = about[0]
        assert "rules not used" not in title.lower()
        text = f"{title}\n{message}".lower()
        assert "exclusions file" in text and "could not be read" in text
        assert "not valid toml" in text  # the reason
        assert "without exclusions" in text


class Host(App[None]):
    """A bare app that pushes one screen."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make = make

    def on_mount(self) -> None:
        self.push_screen(self._make())


NOTHING = FilterState().add(Chip.include("eventName", "NoSuchEventAnywhere"))


@pytest.mark.parametrize(("make", "expected"), [
    (lambda d: ActorsScreen(d, NOTHING), "no actors under this filter"),
    (lambda d: ParamsScreen(d, NOTHING), "no requestParameters under this filter"),
    (SessionsScreen, "no temporary credentials"),
    (NewValuesScreen, "nothing new in the last day"),
])
async def test_empty_explore_screens_say_so(tmp_path: Path, make: Callable[[DataService],
                                            Screen[Any]], expected: str) -> None:
    """0 rows (a filter matching nothing, IAM users only, one quiet day): one clear line,
    not a blank grid."""
    quiet = [record(i) for i in range(5)]  # seen days before the last day, 10 times each
    quiet += [record(i, eventTime=f"2024-05-05T10:00:0{i}Z") for i in range(5)]
    with events_store(quiet, tmp_path) as store:
        app = Host(lambda: make(DataService(store)))
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            notes = [n for n in app.screen.query(Static)
                     if n.display and expected in str(n.render())]
            assert notes, [str(n.render()) for n in app.screen.query(Static)]
