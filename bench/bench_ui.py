"""UI benchmark: first screen, full load against headless, facet picks and key-press latency.

    python bench/bench_ui.py                          # 200k and 1M from bench_load.py's data
    python bench/bench_ui.py --sizes 200k --rounds 3
    python bench/bench_ui.py --code before=/tmp/ui/base --code after=.   # old vs new code
    python bench/bench_ui.py FILE...                   # any files

Every measurement runs in a fresh process (`--worker`), one method after the other within a
round (the starting method rotates), so the machine's load hits each alike. Printed against the
goals of issue 9 (a snappy screen):
- plain DuckDB's load of the same files (for scale: the users' load today);
- headless: `EventStore(cache=False)` loaded through the data service, as `trailtui FILES --sql`
  does, since launch;
- the app (`run_test`, `--terminal` size): the first screen with events and their count, and
  the full load (every event loaded, the final view and the panels on screen painted), since
  launch; goal: the full load <= 1.2x headless. Also when the app is idle again (compaction,
  findings and the investigation tables done in the background);
- a facet pick settles: the table, chips and the facet panels on screen recounted for the new
  filter (goal: 150 ms at 200k; measured at 1M); also when every panel (those scrolled out of
  view too) is counted;
- the longest the UI event loop was blocked while keys were pressed (goal: 50 ms), measured by
  a 5 ms timer inside the app: any gap between its ticks is time the UI could not react.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA_DIRS = [Path("/tmp/benchout/data"), HERE / "out" / "data"]
SETS = {"200k": ("n200000x1", "*.json"), "1m": ("n1000000x5", "*.json")}

PLAIN_SQL = (
    "CREATE TABLE t AS SELECT unnest(Records, max_depth := 2) "
    "FROM read_json({files}, maximum_object_size={size})"
)


def plain_code(files: list[Path]) -> str:
    """The plain-DuckDB load users do today."""
    size = max(f.stat().st_size for f in files) + 1
    sql = PLAIN_SQL.format(files=[str(f) for f in files], size=size)
    return f"import duckdb; duckdb.connect().execute({sql!r})"


# -- workers (each in a fresh process) ----------------------------------------------------------


def worker_headless(files: list[str]) -> dict[str, float]:
    """Load as the headless modes do (`load_headless`, without the cache), since launch."""
    from trailtui.data.service import LOAD, DataService
    from trailtui.data.store import EventStore

    t0 = time.time()
    data = DataService(EventStore(cache=False))
    data.load(data.job(LOAD), files)
    return {"loaded_at": time.time(), "load_s": time.time() - t0,
            "events": float(data.event_count())}


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


def _busy(app: Any, groups: tuple[str, ...]) -> bool:
    return any(w.group in groups and not w.is_finished for w in app.workers)


async def worker_app(files: list[str], size: tuple[int, int], picks: int) -> dict[str, float]:
    """The real app headless: first screen, full load, idle, picks, key latency."""
    from trailtui.app import TrailApp
    from trailtui.pilot import settle
    from trailtui.screens.browser import BrowserScreen
    from trailtui.widgets.facet_panel import FacetPanel
    from trailtui.widgets.virtual_table import VirtualTable

    out: dict[str, float] = {}
    app = TrailApp(files, cache=False)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        table = screen.query_one("#events", VirtualTable)

        def on_screen(generation: int) -> bool:
            """The view of `generation` and the facet panels on screen are painted."""
            if screen.view is None or screen.view.generation != generation:
                return False
            done = getattr(screen, "facets_on_screen_done", None)
            if done is not None:
                return bool(done(generation))
            return not _busy(app, ("view", "facets"))  # before: every panel in one worker

        await wait_until(lambda: table.row_count != 0 and screen.view is not None, 0.005)
        out["first_screen_at"] = time.time()
        await wait_until(lambda: not screen.is_loading and on_screen(screen.generation), 0.005)
        out["loaded_at"] = time.time()
        out["events"] = float(screen.total)
        await settle(pilot)
        await wait_until(lambda: not _busy(app, ("load", "findings", "view", "facets")), 0.05)
        out["idle_at"] = time.time()

        ticker = Ticker()
        app.set_interval(0.005, ticker.tick)
        await pilot.pause(0.2)

        shown: list[float] = []
        every: list[float] = []
        key_gaps: list[float] = []
        panel = screen.query_one("#facet-eventSource", FacetPanel)
        for i in range(picks):
            panel.focus()
            await pilot.pause()
            panel.highlighted = i
            await pilot.pause()
            ticker.reset()
            generation = screen.generation
            t0 = time.perf_counter()
            await pilot.press("enter")
            await wait_until(functools.partial(on_screen, generation + 1), 0.002)
            shown.append(time.perf_counter() - t0)
            await wait_until(lambda: not _busy(app, ("view", "facets")), 0.002)
            every.append(time.perf_counter() - t0)
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

        out["pick_median_ms"] = statistics.median(shown) * 1000
        out["pick_max_ms"] = max(shown) * 1000
        out["pick_all_median_ms"] = statistics.median(every) * 1000
        out["ui_block_max_ms"] = max(key_gaps) * 1000
    return out


def run_worker(args: argparse.Namespace) -> None:
    files = [str(f) for f in args.files]
    if args.worker == "headless":
        got = worker_headless(files)
    else:
        w, h = (int(x) for x in args.terminal.split("x"))
        got = asyncio.run(worker_app(files, (w, h), args.picks))
    sys.stdout.flush()
    os.write(1, ("\nRESULT " + json.dumps(got) + "\n").encode())
    os._exit(0)


# -- the parent ---------------------------------------------------------------------------------


def spawn(method: str, files: list[Path], code: Path | None, args: argparse.Namespace,
          timeout: float) -> dict[str, float] | None:
    """One measurement in a fresh process; times are since launch (None: failed)."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code.resolve())
    if method == "plain":
        cmd = [sys.executable, "-c", plain_code(files)]
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", method,
               "--terminal", args.terminal, "--picks", str(args.picks), *map(str, files)]
    start = time.time()
    try:
        done = subprocess.run(cmd, timeout=timeout, capture_output=True, check=False, env=env,
                              cwd=str(code.resolve()) if code is not None else None)
    except subprocess.TimeoutExpired:
        return None
    end = time.time()
    if done.returncode != 0:
        print(f"  {method} failed: {done.stderr.decode(errors='replace')[-800:]}",
              file=sys.stderr)
        return None
    if method == "plain":
        return {"load_s": end - start}
    line = next((ln for ln in done.stdout.decode(errors="replace").splitlines()
                 if ln.startswith("RESULT ")), None)
    if line is None:
        print(f"  {method}: no result: {done.stderr.decode(errors='replace')[-800:]}",
              file=sys.stderr)
        return None
    got: dict[str, float] = json.loads(line[7:])
    for key in [k for k in got if k.endswith("_at")]:
        got[key[:-3] + "_s"] = got.pop(key) - start
    return got


def find_sets(args: argparse.Namespace) -> dict[str, list[Path]]:
    if args.files:
        return {"given": list(args.files)}
    out: dict[str, list[Path]] = {}
    for name in args.sizes.split(","):
        folder, pattern = SETS[name.lower()]
        for base in ([args.data] if args.data else DATA_DIRS):
            files = sorted((base / folder).glob(pattern))
            if files and (base / folder / ".stamp").exists():
                out[name] = files
                break
    return out


def _med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--sizes", default="200k,1m", help="200k, 1m (bench_load.py's data)")
    parser.add_argument("--data", type=Path, help="the data folder (default /tmp/benchout/data)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--picks", type=int, default=5)
    parser.add_argument("--terminal", default="180x50", help="the app's size, WxH")
    parser.add_argument("--code", action="append", default=[],
                        help="LABEL=PATH: measure the trailtui checkout at PATH too (repeat)")
    parser.add_argument("--no-plain", action="store_true")
    parser.add_argument("--plain-rounds", type=int, default=1,
                        help="rounds that also run plain DuckDB (it takes a minute at 1M)")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--worker", choices=["headless", "app"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args)
        return
    sets = find_sets(args)
    if not sets:
        sys.exit("no data: pass files, or run bench/bench_load.py --keep /tmp/benchout first")
    codes: list[tuple[str, Path | None]] = [
        (c.split("=", 1)[0], Path(c.split("=", 1)[1])) for c in args.code] or [("now", None)]
    raw: dict[str, Any] = {}
    for name, files in sets.items():
        methods = ([("plain", "", None)] if not args.no_plain else []) + [
            (m, label, code) for label, code in codes for m in ("headless", "app")]
        runs: dict[tuple[str, str], list[dict[str, float]]] = {}
        for r in range(args.rounds):
            these = [m for m in methods if m[0] != "plain" or r < args.plain_rounds]
            turn = these[r % len(these):] + these[:r % len(these)]
            for method, label, code in turn:
                got = spawn(method, files, code, args, args.timeout)
                print(f"  {name} round {r + 1} {method} {label}: "
                      f"{json.dumps(got) if got else 'failed'}", file=sys.stderr)
                if got:
                    runs.setdefault((method, label), []).append(got)
        raw[name] = {f"{m}/{lbl}": v for (m, lbl), v in runs.items()}
        plain = _med([g["load_s"] for g in runs.get(("plain", ""), [])])
        print(f"\n## {name} ({len(files)} file{'s' if len(files) != 1 else ''}, "
              f"{args.rounds} round{'s' if args.rounds != 1 else ''}, medians, since launch)")
        print(f"plain DuckDB load: {plain:.2f} s")
        for label, _code in codes:
            head = runs.get(("headless", label), [])
            app = runs.get(("app", label), [])
            if not head or not app:
                print(f"[{label}] failed")
                continue
            h = _med([g["loaded_s"] for g in head])
            loaded = _med([g["loaded_s"] for g in app])
            pick = max(g["pick_max_ms"] for g in app)
            rows = [
                ("events (app / headless)",
                 f"{int(app[0]['events']):,} / {int(head[0]['events']):,}", ""),
                ("headless load", f"{h:.2f} s = {h / plain:.3f}x plain", ""),
                ("app: first screen with the count",
                 f"{_med([g['first_screen_s'] for g in app]):.2f} s", ""),
                ("app: full load on screen",
                 f"{loaded:.2f} s = {loaded / h:.2f}x headless = {loaded / plain:.3f}x plain",
                 "PASS" if loaded <= 1.2 * h else "FAIL (goal <= 1.2x headless)"),
                ("app: idle (background work done)",
                 f"{_med([g['idle_s'] for g in app]):.2f} s", ""),
                ("facet pick on screen (median / max)",
                 f"{_med([g['pick_median_ms'] for g in app]):.0f} / {pick:.0f} ms",
                 ("PASS" if pick <= 150 else "FAIL (goal <= 150 ms)") if name == "200k"
                 else ""),
                ("facet pick, every panel counted (median)",
                 f"{_med([g['pick_all_median_ms'] for g in app]):.0f} ms", ""),
                ("longest UI block during keys",
                 f"{max(g['ui_block_max_ms'] for g in app):.0f} ms",
                 "PASS" if max(g["ui_block_max_ms"] for g in app) <= 50 else "FAIL (<= 50)"),
            ]
            for what, fig, verdict in rows:
                print(f"[{label}] {what:<42} | {fig:<44} | {verdict}")
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
