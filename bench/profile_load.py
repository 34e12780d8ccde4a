"""Where does EventStore.load spend its time and memory? One load, phase by phase.

    .venv/bin/python bench/profile_load.py FILE... [--first-screen] [--whatif NAME] [--cprofile]

Wraps (does not copy) the loader's steps: ingest.read_file, ingest.write_chunk, every SQL
statement sent through trailtui.data.store.run (labelled by kind), the reordered-copies check.
A thread samples this process's RSS (anonymous and file-backed) every 20 ms and remembers the
peak per phase, so the phase that sets the peak RSS is named.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

P = ParamSpec("P")
R = TypeVar("R")

PHASE = ["setup"]
T: defaultdict[str, float] = defaultdict(float)
N: defaultdict[str, int] = defaultdict(int)
PEAK: defaultdict[str, int] = defaultdict(int)
PEAK_ANON: defaultdict[str, int] = defaultdict(int)


def rss() -> tuple[int, int]:
    total = anon = 0
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                total = int(line.split()[1]) * 1024
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1]) * 1024
    return total, anon


def sampler(stop: threading.Event) -> None:
    while not stop.is_set():
        tot, anon = rss()
        ph = PHASE[-1]
        PEAK[ph] = max(PEAK[ph], tot)
        PEAK_ANON[ph] = max(PEAK_ANON[ph], anon)
        time.sleep(0.02)


def timed(label: str | Callable[..., str], fn: Callable[P, R]) -> Callable[P, R]:
    def wrapper(*a: P.args, **k: P.kwargs) -> R:
        PHASE.append(label(*a, **k) if callable(label) else label)
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            T[PHASE[-1]] += time.perf_counter() - t
            N[PHASE[-1]] += 1
            PHASE.pop()
    return wrapper


def sql_kind(cur: object, sql: str, params: object = None) -> str:
    s = " ".join(sql.split())[:80]
    if s.startswith("INSERT INTO events WITH src"):
        return "sql: INSERT chunk (read_ndjson + projection)"
    if s.startswith("DELETE FROM events WHERE rowid IN ( SELECT rowid FROM ( SELECT rowid, row_n"):
        return "sql: DEDUP_SQL"
    if s.startswith("WITH dup AS"):
        return "sql: SAME_ID_SQL"
    if s.startswith("SELECT source_file, count(*)"):
        return "sql: per-source count"
    if s.startswith("SELECT count(*) FROM events"):
        return "sql: count(*) (progress)"
    if s.startswith("CHECKPOINT"):
        return "sql: CHECKPOINT"
    if s.startswith("INSERT INTO chunk_sources"):
        return "sql: chunk_sources"
    return "sql: other: " + s[:50]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--first-screen", action="store_true")
    ap.add_argument("--whatif", default="")
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    t_start = time.perf_counter()
    from trailtui.data import dedup, ingest
    from trailtui.data import store as S

    if a.whatif:
        import whatif

        print("whatif:", a.whatif, whatif.apply(a.whatif))
    ingest_read = ingest.read_file
    ingest.read_file = timed("ingest.read_file (msgspec split)", ingest_read)
    ingest.write_chunk = timed("ingest.write_chunk (NDJSON out)", ingest.write_chunk)
    S.run = timed(sql_kind, S.run)
    # Exact dedup (issue 8): candidates by `_h`, then the original records compared.
    dedup.drop_exact_duplicates = timed("exact dedup (total)", dedup.drop_exact_duplicates)
    stop = threading.Event()
    th = threading.Thread(target=sampler, args=(stop,), daemon=True)
    th.start()
    store = S.EventStore(cache=False, threads=a.threads or None)
    marks: dict[str, float] = {}

    def progress(p: S.LoadProgress) -> None:
        marks.setdefault(p.phase, time.perf_counter() - t0)

    PHASE.append("load (other)")
    t0 = time.perf_counter()
    prof = cProfile.Profile() if a.cprofile else None
    if prof:
        prof.enable()
    rep = store.load(a.files, progress=progress, first_screen=a.first_screen)
    if prof:
        prof.disable()
    total = time.perf_counter() - t0
    PHASE.pop()
    stop.set()
    th.join()
    n = store.event_count()
    print(f"loaded {n:,} events ({rep.duplicates:,} duplicates) in {total:.2f} s "
          f"(process {time.perf_counter() - t_start:.2f} s); marks "
          + ", ".join(f"{k} {v:.2f}s" for k, v in marks.items()))
    accounted = sum(v for k, v in T.items() if k != "exact dedup (total)")
    print(f"{'phase':<52} {'calls':>5} {'seconds':>8} {'share':>6} {'peak RSS':>9} {'anon':>7}")
    for k in sorted(set(T) | set(PEAK), key=lambda k: -T.get(k, 0)):
        print(f"{k:<52} {N.get(k, 0):>5} {T.get(k, 0):8.2f} {T.get(k, 0) / total:6.1%} "
              f"{PEAK.get(k, 0) / 2**20:8.0f}M {PEAK_ANON.get(k, 0) / 2**20:6.0f}M")
    print(f"{'(unaccounted python in load)':<52} {'':>5} {total - accounted:8.2f}")
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
