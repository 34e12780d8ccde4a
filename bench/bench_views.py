"""Time of each investigation view (issue 11) against its target (<= 300 ms each), at any size.

    flock /tmp/bench.lock .venv/bin/python bench/bench_views.py \\
        /tmp/benchout/data/n200000x1/*.json [--rounds 5] [--check] [--before]

Loads the files with the real `EventStore` (compressed, as the app does), builds the facts once
(`investigate.build_facts`, what the app runs after each load) and prints, per view, min and
median wall time of:
  - `eval`: every column of every row computed (`SELECT max(hash(COLUMNS(*))) FROM view`;
    nothing is written, nothing pruned): the time the target is about;
  - `page`: what a screen reads: the first 200 rows in its order, and the row count;
  - `table`: the view copied whole into a table (`CREATE TABLE AS`), with, beside it, the same
    rows copied from a table that already holds them (writing ~a million rows costs that much
    whatever computed them).
Plain DuckDB doing one GROUP BY over the same events is printed for scale, and the screens'
calls under a filter chip. `--check` compares every view's rows with the full forms (computed
from `events` alone, as before the facts) row by row; `--before` also times those full forms;
`--old FILE` times (and with `--check` compares) the views of an older investigate.py, e.g.
`git show main:trailtui/data/investigate.py > /tmp/views/inv_main.py`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trailtui.data import investigate
from trailtui.data.filters import Chip, FilterState
from trailtui.data.store import EventStore

TARGET_MS = 300
ORDERS = {"actors": "events DESC", "sessions": "coalesce(last_used, created) DESC",
          "credential_grants": "created DESC", "first_seen": "first_seen DESC"}


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000, statistics.median(times) * 1000


def q(cur: duckdb.DuckDBPyConnection, sql: str) -> Callable[[], object]:
    return lambda: cur.execute(sql).fetchall()


def old_views(cur: duckdb.DuckDBPyConnection, source: str) -> None:
    """Create `<name>_old` views from an older investigate.py's SQL (its module is executed
    in a namespace of its own; its views are renamed so they do not replace ours)."""
    namespace: dict[str, object] = {"__name__": "investigate_old"}
    sys.modules["investigate_old"] = type(sys)("investigate_old")
    sys.modules["investigate_old"].__dict__.update(namespace)
    exec(compile(source, "investigate_old.py", "exec"), sys.modules["investigate_old"].__dict__)
    mod = sys.modules["investigate_old"].__dict__
    for stmt, name in zip(mod["VIEWS_SQL"], mod["VIEW_NAMES"], strict=True):
        sql = stmt.replace("_live AS", "_old_live AS").replace(
            "JOIN credential_grants g", "JOIN credential_grants_old_live g")
        cur.execute(sql).fetchall()
        cur.execute(f"CREATE OR REPLACE VIEW {name}_old AS SELECT * FROM {name}_old_live")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--check", action="store_true", help="compare rows with the full forms")
    ap.add_argument("--before", action="store_true", help="time the full forms too")
    ap.add_argument("--old", help="an older investigate.py whose views to time beside")
    args = ap.parse_args()
    n_rounds = max(1, args.rounds)

    store = EventStore(cache=False)
    t0 = time.perf_counter()
    report = store.load(args.paths)
    store.compact()
    cur = store.cursor()
    n = store.event_count()
    print(f"loaded {n:,} events from {len(report.files)} file(s) in "
          f"{time.perf_counter() - t0:.1f} s; target <= {TARGET_MS} ms per view")
    plain = timed(q(cur, "SELECT actor, count(*) FROM events GROUP BY 1"), n_rounds)
    print(f"plain DuckDB, SELECT actor, count(*) FROM events GROUP BY 1: "
          f"{plain[0]:.0f} ms min, {plain[1]:.0f} ms median")

    full: dict[str, tuple[float, float]] = {}
    if args.check or args.before:
        investigate.create_views(cur)  # the full forms: everything from `events`
        for v in investigate.VIEW_NAMES:
            if args.check:
                cur.execute(f"CREATE OR REPLACE TEMP TABLE full_{v} AS SELECT * FROM {v}")
            if args.before:
                full[v] = timed(q(cur, f"SELECT max(hash(COLUMNS(*))) FROM {v}"),
                                min(n_rounds, 3))
    old: dict[str, tuple[float, float]] = {}
    if args.old:
        old_views(cur, Path(args.old).read_text(encoding="utf-8"))
        for v in investigate.VIEW_NAMES:
            old[v] = timed(q(cur, f"SELECT max(hash(COLUMNS(*))) FROM {v}_old"), min(n_rounds, 3))
    t0 = time.perf_counter()
    steps = investigate.build_facts(cur)
    print(f"facts, once per load (build_facts): {time.perf_counter() - t0:.2f} s ("
          + ", ".join(f"{k} {s:.2f} s" for k, s in steps.items()) + ")")
    assert investigate.facts_fresh(cur)

    width = 18
    print(f"\n{'view':<{width}} {'rows':>9}  {'eval ms':>15}  {'page ms':>9}  "
          f"{'table ms':>9}  {'floor':>6}  {'target':>6}" + ("  full forms" if full else "")
          + ("  old code" if old else ""))
    for v in investigate.VIEW_NAMES:
        rows = cur.execute(f"SELECT count(*) FROM {v}").fetchall()[0][0]
        ev = timed(q(cur, f"SELECT max(hash(COLUMNS(*))) FROM {v}"), n_rounds)
        page = timed(lambda v=v: (cur.execute(f"SELECT count(*) FROM {v}").fetchall(),  # type: ignore[misc]
                                  cur.execute(f"SELECT * FROM {v} ORDER BY {ORDERS[v]} "
                                              "LIMIT 200").fetchall()), n_rounds)
        table = timed(q(cur, f"CREATE OR REPLACE TEMP TABLE bench_out AS SELECT * FROM {v}"),
                      n_rounds)
        floor = timed(q(cur, "CREATE OR REPLACE TEMP TABLE bench_copy AS "
                             "SELECT * FROM bench_out"), n_rounds)
        ok = "ok" if ev[0] <= TARGET_MS else "MISSED"
        before = f"  {full[v][0]:8.0f} ms" if v in full else ""
        before += f"  {old[v][0]:6.0f} ms" if v in old else ""
        print(f"{v:<{width}} {rows:>9,}  {ev[0]:6.0f} ({ev[1]:6.0f})  {page[0]:9.0f}  "
              f"{table[0]:9.0f}  {floor[0]:6.0f}  {ok:>6}{before}")
        if args.check:
            diff = cur.execute(
                f"SELECT (SELECT count(*) FROM (SELECT * FROM full_{v} EXCEPT ALL "
                f"SELECT * FROM {v})), (SELECT count(*) FROM (SELECT * FROM {v} EXCEPT ALL "
                f"SELECT * FROM full_{v}))").fetchall()[0]
            same = [c[0] for c in cur.execute(f"DESCRIBE full_{v}").fetchall()] == [
                c[0] for c in cur.execute(f"DESCRIBE {v}").fetchall()]
            print(f"{'':<{width}} check: {diff[0]} rows missing, {diff[1]} extra, "
                  f"columns {'the same' if same else 'DIFFER'}")
            if v in old:
                diff = cur.execute(
                    f"SELECT (SELECT count(*) FROM (SELECT * FROM {v}_old EXCEPT ALL "
                    f"SELECT * FROM {v})), (SELECT count(*) FROM (SELECT * FROM {v} EXCEPT ALL "
                    f"SELECT * FROM {v}_old))").fetchall()[0]
                print(f"{'':<{width}} against the old code: {diff[0]} rows missing, "
                      f"{diff[1]} extra")

    alice = cur.execute("SELECT actor FROM actors ORDER BY events DESC LIMIT 1").fetchall()[0][0]
    one = FilterState().add(Chip.include("actor", alice))
    broad = FilterState().add(Chip.include("readOnly", True))
    cases: list[tuple[str, Callable[[], object]]] = [
        ("A: actors_counted(), 2,000 rows by last seen + count",
         lambda: investigate.actors_counted(cur, sort="last_seen", limit=2000)),
        ("A under the top actor's chip", lambda: investigate.actors_counted(cur, one, limit=2000)),
        ("A under readOnly = true", lambda: investigate.actors_counted(cur, broad, limit=2000)),
        ("K: sessions_counted(), 2,000 rows + counts",
         lambda: investigate.sessions_counted(cur, 2000)),
        ("K under the top actor's chip", lambda: investigate.sessions_counted(cur, 2000, one)),
        ("K under readOnly = true", lambda: investigate.sessions_counted(cur, 2000, broad)),
        ("N: new_and_rare_counted(), last day, rare <= 1",
         lambda: investigate.new_and_rare_counted(cur, window=timedelta(days=1))),
        ("N under the top actor's chip",
         lambda: investigate.new_and_rare_counted(cur, filters=one)),
        ("N under readOnly = true", lambda: investigate.new_and_rare_counted(cur, filters=broad)),
    ]
    width = max(len(name) for name, _ in cases)
    print(f"\n{'what a screen asks':<{width}}  {'min ms':>7}  {'median':>7}")
    for name, fn in cases:
        best, median = timed(fn, n_rounds)
        print(f"{name:<{width}}  {best:7.0f}  {median:7.0f}")
    cur.close()
    store.close()


if __name__ == "__main__":
    main()
