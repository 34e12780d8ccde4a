"""Snapshot of the findings panel with a finding picked (a chip) on the shipped sample."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from trailtui.app import TrailApp
from trailtui.cli import demo_path
from trailtui.pilot import settle

SIZE = (160, 44)
SnapCompare = Callable[..., bool]


def test_findings_panel_picked(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("I", "down", "enter")
        await settle(pilot)
        await pilot.press("I")
        await settle(pilot)

    app = TrailApp([str(demo_path())], cache=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
