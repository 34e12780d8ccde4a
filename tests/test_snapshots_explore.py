"""Snapshots of issue 12's screens at 200x50 and 100x30 on the shipped sample: a nested column
and the frequency screen, the column chooser, and the narrow layout (facets folded away)."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.pilot import settle

SnapCompare = Callable[..., bool]


def make_app() -> TrailApp:
    return TrailApp([str(demo_path())], cache=False)


def test_frequency_of_a_column_200x50(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        await pilot.press(*"issuer.username", "enter", "space", "enter")
        await settle(pilot)
        await pilot.press("right", "right", "right", "F")
        await settle(pilot)
        await pilot.press("space", "space")

    assert snap_compare(make_app(), terminal_size=(200, 50), run_before=run_before)


def test_column_chooser_200x50(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        await pilot.press(*"requestparameters.bucket")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(200, 50), run_before=run_before)


def test_narrow_main_screen_100x30(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("space", "down", "space")

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)
