"""Findings benchmark: detection quality on the Stratus set, alert burden on a real account,
and the time of a full findings run over a large load.

    .venv/bin/python bench/bench_findings.py                       # scorer + 200k timing
    .venv/bin/python bench/bench_findings.py --events FILE --rounds 5
    .venv/bin/python bench/bench_findings.py --no-timing            # scorer only

It runs `trailtui --findings --format jsonl` exactly as ../shared/detections/README.md shows,
then its `score_findings.py` (per-technique table, RECALL, BURDEN, F-LIKE). The timing part
loads `--events` (default: a 200k file made once with ../shared/tools/gen_events.py in
bench/out/) and times `run_findings` (the one statement over all rules plus the correlations),
next to one plain-DuckDB scan of the same table for scale.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trailtui.data.findings import load_rules, run_findings
from trailtui.data.store import EventStore

ROOT = Path(__file__).resolve().parent.parent
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
              ROOT.parent / "shared")
GRYCAP = "samples/console-json/grycap-cloudtrail-tracker_974349055189_all-events.json"


def score(shared: Path, out: Path) -> None:
    det = shared / "detections"
    trailtui = [str(ROOT / ".venv" / "bin" / "trailtui")]
    out.mkdir(parents=True, exist_ok=True)
    dev, gry = out / "dev.jsonl", out / "grycap.jsonl"
    files = sorted(glob.glob(str(det / "stratus" / "aws.*.json")))
    with dev.open("w") as fh:
        subprocess.run([*trailtui, *files, "--findings", "--format", "jsonl", "--no-cache"],
                       stdout=fh, check=True)
    with gry.open("w") as fh:
        subprocess.run([*trailtui, str(shared / GRYCAP), "--findings", "--format", "jsonl",
                        "--no-cache"], stdout=fh, check=True)
    subprocess.run([sys.executable, str(det / "score_findings.py"), str(dev), "--benign",
                    str(gry), "--benign-events", "6192"], check=True)


def timing(events: Path, rounds: int) -> None:
    store = EventStore(cache=False)
    try:
        t = time.perf_counter()
        store.load([str(events)])
        n = store.event_count()
        print(f"\nloaded {n:,} events in {time.perf_counter() - t:.1f} s; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        store.compact()  # as the app does once the table is on screen
        t = time.perf_counter()
        rs = load_rules()
        conv = time.perf_counter() - t
        cur = store.cursor()
        runs: list[float] = []
        cpus: list[float] = []
        hits = 0
        for _ in range(rounds):
            t, c = time.perf_counter(), time.process_time()
            hits = run_findings(cur, rs).hits
            runs.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        scans: list[float] = []
        for _ in range(rounds):
            t = time.perf_counter()
            cur.execute("SELECT count(*) FROM events WHERE lower(eventName) LIKE '%x%'")
            cur.fetchall()
            scans.append(time.perf_counter() - t)
        print(f"rule pack: {len(rs.rules)} rules + {len(rs.correlations)} correlations, "
              f"converted in {conv * 1000:.0f} ms")
        print(f"{'what':<44} {'min ms':>8} {'median ms':>10}")
        print(f"{'run_findings (all rules, correlations)':<44} {min(runs) * 1000:>8.0f} "
              f"{statistics.median(runs) * 1000:>10.0f}   goal <= 300 ms, {hits:,} hits")
        print(f"{'  the same, CPU time of all threads':<44} {min(cpus) * 1000:>8.0f} "
              f"{statistics.median(cpus) * 1000:>10.0f}   (wall time suffers on a busy box)")
        print(f"{'plain DuckDB: one scan of eventName':<44} {min(scans) * 1000:>8.0f} "
              f"{statistics.median(scans) * 1000:>10.0f}")
    finally:
        store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--events", type=Path, help="events file to time (default: 200k generated)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "findings")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--no-score", action="store_true")
    args = ap.parse_args()
    if not args.no_score:
        score(args.shared, args.out)
    if not args.no_timing:
        events = args.events
        if events is None:
            events = args.out / "events_200k.json"
            if not events.exists():
                args.out.mkdir(parents=True, exist_ok=True)
                subprocess.run([sys.executable, str(args.shared / "tools" / "gen_events.py"),
                                "-n", "200000", "--out", str(events)], check=True)
        timing(events, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
