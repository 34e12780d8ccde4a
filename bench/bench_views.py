"""Time of each investigation view (issue 11) on generated events; target <= 300 ms each.

    python3 /work/shared/tools/gen_events.py -n 200000 --out /tmp/ev200k.json
    .venv/bin/python bench/bench_views.py /tmp/ev200k.json [more files...]

Loads the files with the real `EventStore` (compressed, checkpointed, as the app does), then
prints min and median wall time of materialising each view whole (`CREATE TABLE AS SELECT *`,
so every column of every row is computed), of the functions the screens call, and, for scale,
of plain DuckDB doing one GROUP BY over the same table. Delete the generated files afterwards.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trailtui.data import coverage, investigate
from trailtui.data.filters import Chip, FilterState
from trailtui.data.store import EventStore


def timed(fn: Callable[[], object], repeat: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def materialise(cur: duckdb.DuckDBPyConnection, view: str) -> Callable[[], object]:
    def run() -> object:
        cur.execute(f"CREATE OR REPLACE TABLE bench_out AS SELECT * FROM {view}").fetchall()
        return cur.execute("SELECT count(*) FROM bench_out").fetchall()
    return run


def page(cur: duckdb.DuckDBPyConnection, view: str, order: str) -> Callable[[], object]:
    """What a screen reads: the first 200 rows in its order, and the row count."""
    def run() -> object:
        cur.execute(f"SELECT count(*) FROM {view}").fetchall()
        return cur.execute(f"SELECT * FROM {view} ORDER BY {order} LIMIT 200").fetchall()
    return run


def report_rows(cases: list[tuple[str, Callable[[], object]]], title: str) -> None:
    width = max(len(name) for name, _ in cases)
    print(f"\n{title}\n{'query':<{width}}  {'min ms':>8}  {'median ms':>9}")
    for name, fn in cases:
        best, median = timed(fn)
        print(f"{name:<{width}}  {best * 1000:8.0f}  {median * 1000:9.0f}")


def main(paths: list[str]) -> None:
    store = EventStore(cache=False)
    t0 = time.perf_counter()
    report = store.load(paths)
    store.compact()
    n = store.event_count()
    print(f"loaded {n:,} events from {len(report.files)} file(s) in "
          f"{time.perf_counter() - t0:.1f} s")
    cur = store.cursor()
    sizes = {v: cur.execute(f"SELECT count(*) FROM {v}").fetchall()[0][0]
             for v in ("actors", "sessions", "first_seen")}
    alice = cur.execute("SELECT actor FROM actors ORDER BY events DESC LIMIT 1").fetchall()[0][0]
    state = FilterState().add(Chip.include("actor", alice))
    row = investigate.actors(cur, state)[0]
    cases: list[tuple[str, Callable[[], object]]] = [
        ("plain DuckDB: SELECT actor, count(*) GROUP BY actor",
         lambda: cur.execute("SELECT actor, count(*) FROM events GROUP BY 1").fetchall()),
        (f"actors view ({sizes['actors']:,} rows)", materialise(cur, "actors")),
        (f"sessions view ({sizes['sessions']:,} rows)", materialise(cur, "sessions")),
        (f"first_seen view ({sizes['first_seen']:,} rows)", materialise(cur, "first_seen")),
        ("credential_grants view", materialise(cur, "credential_grants")),
        ("actors(): list sorted by last seen", lambda: investigate.actors(cur, sort="last_seen")),
        ("actors() under an actor chip", lambda: investigate.actors(cur, state)),
        ("actor_detail(): top APIs + per-day strip", lambda: investigate.actor_detail(cur, row)),
        ("new_and_rare(): last day vs before, rare <= 1",
         lambda: investigate.new_and_rare(cur, window=timedelta(days=1), rare_max=1)),
        ("request_parameter_keys(): all events",
         lambda: investigate.request_parameter_keys(cur)),
        ("request_parameter_values('bucketName')",
         lambda: investigate.request_parameter_values(cur, "bucketName")),
        ("coverage(): span, files, regions, gaps...",
         lambda: coverage.coverage(cur, store.sources)),
    ]
    orders = {"actors": "events DESC", "sessions": "last_used DESC NULLS LAST",
              "first_seen": "first_seen DESC", "credential_grants": "created DESC"}
    live = [(f"live {v}: first 200 rows + count", page(cur, f"{v}_live", o))
            for v, o in orders.items()]
    report_rows(cases + live, "live views (computed from events when read)")
    t0 = time.perf_counter()
    built = investigate.materialise(cur)
    print(f"\nmaterialise() once per load: {time.perf_counter() - t0:.2f} s in all (" + ", ".join(
        f"{k} {v * 1000:.0f} ms" for k, v in built.items()) + ")")
    after = [(f"{v}: first 200 rows + count", page(cur, v, o)) for v, o in orders.items()]
    after += [(name, fn) for name, fn in cases if not name.startswith("plain")
              and "view (" not in name]
    report_rows(after, "after materialise() (what the app reads)")
    cur.close()
    store.close()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1:])
