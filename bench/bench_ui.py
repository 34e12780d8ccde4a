"""UI benchmark: first screen, facet picks and key-press latency on a real download.

    python bench/bench_ui.py [FILE...]        (default: the files bench_load.py generated)

Runs the real app headless (`run_test`) and prints, against the goals of the investigator's
screen (issue 3):
- time from start to the first screen showing events and their count, against the plain-DuckDB
  load time of the same files (measured in a fresh process; goal: within 0.35x);
- how long a facet pick takes to settle: table, chips and every facet recounted (goals: 200 ms
  at 200k events, 500 ms at 1M);
- the longest the UI event loop was blocked while keys were pressed (goal: 50 ms), measured by
  a 5 ms timer inside the app: any gap between its ticks is time the UI could not react.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from trailtui.app import TrailApp
from trailtui.pilot import settle
from trailtui.screens.browser import BrowserScreen
from trailtui.widgets.facet_panel import FacetPanel
from trailtui.widgets.virtual_table import VirtualTable

HERE = Path(__file__).resolve().parent
DEFAULT_SETS = {
    "200k": [HERE / "out" / "data" / "n200000x1" / "event_history.json"],
    "1M": sorted((HERE / "out" / "data" / "n1000000x5").glob("*.json")),
}

PLAIN_SQL = (
    "CREATE TABLE t AS SELECT unnest(Records, max_depth := 2) "
    "FROM read_json({files}, maximum_object_size={size})"
)


def plain_duckdb_seconds(files: list[Path], timeout: float = 240) -> float | None:
    """The plain-DuckDB load users do today, in a fresh process (None: failed or timed out)."""
    size = max(f.stat().st_size for f in files) + 1
    sql = PLAIN_SQL.format(files=[str(f) for f in files], size=size)
    code = f"import duckdb; duckdb.connect().execute({sql!r})"
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", code], timeout=timeout,
                              capture_output=True, check=False)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - start if done.returncode == 0 else None


class Ticker:
    """Records the longest gap between ticks of a 5 ms timer on the app's event loop."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0

    def tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def reset(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0




async def wait_until(predicate: Callable[[], bool], interval: float) -> None:
    """Return once `predicate()` holds, checking it every `interval` seconds."""
    # A benchmark polls the app's state on purpose: it observes the app from outside, as a
    # user would, instead of having the app signal an asyncio.Event it does not have.
    while not predicate():  # noqa: ASYNC110
        await asyncio.sleep(interval)


async def measure(files: list[Path]) -> dict[str, float]:
    start = time.perf_counter()
    app = TrailApp([str(f) for f in files], cache=False)
    out: dict[str, float] = {}
    async with app.run_test(size=(180, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        table = screen.query_one("#events", VirtualTable)
        await wait_until(lambda: table.row_count != 0 and screen.view is not None, 0.01)
        out["first_screen_s"] = time.perf_counter() - start
        await settle(pilot)
        await wait_until(lambda: not screen.is_loading, 0.05)
        await settle(pilot)
        out["all_loaded_s"] = time.perf_counter() - start
        out["events"] = float(table.row_count)

        ticker = Ticker()
        app.set_interval(0.005, ticker.tick)
        await pilot.pause(0.2)

        def pick_settled(before: int) -> bool:
            """The pick made at generation `before` has its view and facets in place."""
            return (screen.generation > before and screen.view is not None
                    and screen.view.generation == screen.generation
                    and not _workers_busy(app))

        picks: list[float] = []
        key_gaps: list[float] = []
        panel = screen.query_one("#facet-eventSource", FacetPanel)
        for i in range(5):
            panel.focus()
            await pilot.pause()
            panel.highlighted = i
            ticker.reset()
            generation = screen.generation
            t0 = time.perf_counter()
            await pilot.press("enter")
            await wait_until(functools.partial(pick_settled, generation), 0.002)
            picks.append(time.perf_counter() - t0)
            key_gaps.append(ticker.worst)
            await pilot.press("u")
            await settle(pilot)

        table.focus()
        for keys in (["G"], ["g"], ["pagedown"] * 10, ["pageup"] * 5, ["end"], ["home"]):
            ticker.reset()
            await pilot.press(*keys)
            await pilot.pause()
            key_gaps.append(ticker.worst)
        ticker.reset()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
        key_gaps.append(ticker.worst)

        out["pick_median_ms"] = statistics.median(picks) * 1000
        out["pick_max_ms"] = max(picks) * 1000
        out["ui_block_max_ms"] = max(key_gaps) * 1000
    return out


def _workers_busy(app: TrailApp) -> bool:
    return any(w.group in ("view", "facets") and not w.is_finished for w in app.workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    sets = {"given": args.files} if args.files else {
        k: v for k, v in DEFAULT_SETS.items() if v and all(f.exists() for f in v)}
    if not sets:
        sys.exit("no data: pass files, or run bench/bench_load.py first (it generates them)")
    rows = []
    for name, files in sets.items():
        plain = plain_duckdb_seconds(files)
        got = asyncio.run(measure(files))
        n = int(got["events"])
        pick_goal = 200 if n <= 250_000 else 500
        first_ratio = got["first_screen_s"] / plain if plain else None
        rows.append((name, "events", f"{n:,}", "", ""))
        rows.append((name, "plain DuckDB load", f"{plain:.2f} s" if plain else "failed", "", ""))
        rows.append((name, "first screen with count",
                     f"{got['first_screen_s']:.2f} s"
                     + (f" = {first_ratio:.3f}x plain" if first_ratio else ""),
                     "≤ 0.35x plain",
                     "PASS" if first_ratio is not None and first_ratio <= 0.35 else
                     ("n/a" if first_ratio is None else "FAIL")))
        rows.append((name, "all loaded (UI)", f"{got['all_loaded_s']:.2f} s", "", ""))
        rows.append((name, "facet pick settles (median / max of 5)",
                     f"{got['pick_median_ms']:.0f} / {got['pick_max_ms']:.0f} ms",
                     f"≤ {pick_goal} ms", "PASS" if got["pick_max_ms"] <= pick_goal else "FAIL"))
        rows.append((name, "longest UI block during keys", f"{got['ui_block_max_ms']:.0f} ms",
                     "≤ 50 ms", "PASS" if got["ui_block_max_ms"] <= 50 else "FAIL"))
    width = max(len(f"{r[0]}: {r[1]}") for r in rows)
    for r in rows:
        print(f"{(r[0] + ': ' + r[1]).ljust(width)} | {r[2]:<34} | {r[3]:<14} | {r[4]}")


if __name__ == "__main__":
    main()
