"""Helpers for driving the app headless (tests, snapshots, the UI benchmark, screenshots)."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.worker import WorkerCancelled


async def settle(pilot: Pilot[int]) -> None:
    """Wait until the loading, view and facet workers are done and their messages handled.

    A few rounds: a finished worker posts messages that start the next ones (load -> view ->
    facets), and an exclusive worker superseded by a newer one ends cancelled, not done.
    """
    for _ in range(4):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        await pilot.pause()
