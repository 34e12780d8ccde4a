"""Which way reads many small `.json.gz` objects fastest: serial, threads or processes?

    .venv/bin/python bench/bench_read.py /tmp/orgtree            # a tree from make_org_tree.py
    .venv/bin/python bench/bench_read.py /tmp/orgtree --rounds 3

Each way runs `ingest.read_file` (gunzip, find the records, split them) on every object and
ends with the records in the loading process, as the loader needs them: threads hand over the
`FileRecords`, processes must send the record bytes back (pickled). Plain DuckDB's
`read_json(..., format='auto')` + `unnest(Records)` of the same objects is the yardstick. Rounds
interleave the ways so machine noise hits them alike; the median is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from trailtui.data import ingest, scan  # noqa: E402


def _records(path: Path) -> int:
    return len(ingest.read_file(path).records)


def _records_bytes(paths: list[Path]) -> list[bytes]:
    """In a worker process: each file's records as one newline-joined block (sent back)."""
    return [b"\n".join(bytes(r) for r in ingest.read_file(p).records) for p in paths]


def serial(files: list[Path]) -> int:
    return sum(_records(f) for f in files)


def threads(files: list[Path], n: int) -> int:
    sizes = scan.sizes_of(files)
    return sum(len(got.result().records) for got in scan.read_ahead(files, sizes, threads=n))


def processes(files: list[Path], n: int, pool: ProcessPoolExecutor) -> int:
    batch = max(1, len(files) // (n * 8))
    parts = [files[i : i + batch] for i in range(0, len(files), batch)]
    return sum(b.count(b"\n") + 1 for blocks in pool.map(_records_bytes, parts)
               for b in blocks if b)


def plain_duckdb(files: list[Path]) -> int:
    import duckdb

    con = duckdb.connect()
    src = "[" + ", ".join(repr(str(f)) for f in files) + "]"
    return int(con.execute(f"SELECT count(*) FROM (SELECT unnest(Records) FROM read_json({src}))"
                           ).fetchall()[0][0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tree")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    files = ingest.expand_paths([args.tree]).files
    cores = os.cpu_count() or 1
    print(f"{len(files)} objects, {sum(scan.sizes_of(files)):,} B; {cores} cores; "
          f"load average {os.getloadavg()[0]:.1f}")
    ways: dict[str, Callable[[list[Path]], int]] = {"serial": serial,
                                                    "plain DuckDB": plain_duckdb}
    for n in sorted({1, 2, cores, 4}):
        ways[f"threads x{n}"] = partial(threads, n=n)
    pools = {n: ProcessPoolExecutor(n) for n in sorted({2, cores})}
    for n, pool in pools.items():
        pool.submit(int).result()  # started before timing (the app would keep one warm)
        ways[f"processes x{n}"] = partial(processes, n=n, pool=pool)
    times: dict[str, list[float]] = {w: [] for w in ways}
    counts: dict[str, int] = {}
    names = list(ways)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            t = time.perf_counter()
            counts[name] = ways[name](files)
            times[name].append(time.perf_counter() - t)
    for pool in pools.values():
        pool.shutdown()
    base = statistics.median(times["serial"])
    for name in names:
        m = statistics.median(times[name])
        print(f"  {name:<14} {m:6.2f} s  {base / m:4.2f}x serial  events {counts[name]:,}")
    if len(set(counts.values())) != 1:
        print("  MISMATCH: the ways found different event counts")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
