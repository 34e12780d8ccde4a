"""A few whole-screen SVG snapshots of the main screens on the shipped sample.

Textual is pinned exactly in pyproject.toml: snapshots change between Textual releases. After
an intended change of the screen: `pytest tests/test_snapshots.py --snapshot-update`, look at
the SVGs, and regenerate screenshots/ (`python screenshots/make_screenshots.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.pilot import settle as settle_workers

SIZE = (160, 44)
SnapCompare = Callable[..., bool]


def make_app() -> TrailApp:
    return TrailApp([str(demo_path())], cache=False)


async def settle(pilot: Pilot[int]) -> None:
    """Workers done, and the editor's cursor blink off (it would differ between runs)."""
    await settle_workers(pilot)
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False



def test_main_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=settle)


def test_facet_filter_and_chips(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("f", "down", "enter")
        await settle(pilot)
        await pilot.press("slash", *"AssumeRole", "enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_event_detail(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_sql_console(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("colon", *"SELECT eventSource, count(*) FROM events GROUP BY ALL "
                          "ORDER BY 2 DESC, 1", "ctrl+r")
        await settle(pilot)
        # the elapsed time differs between runs: pin it, keep the rest of the status line
        status = pilot.app.screen.query_one("#sql-status", Static)
        status.update(re.sub(r"in [0-9.,]+ m?s", "in 1 ms", str(status.render())))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
