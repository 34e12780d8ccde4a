"""Polish: escape gives focus back, a bad exclusions file is named, empty explore screens say so."""

from __future__ import annotations

import pytest

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.pilot import settle
from trailtui.screens.browser import BrowserScreen
from trailtui.widgets.facet_panel import FacetPanel

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
