"""Load benchmark: trailtui's EventStore against the plain-DuckDB way, side by side, one run.

    .venv/bin/python bench/bench_load.py                 # 200k (one file) and 1M (5 files)
    .venv/bin/python bench/bench_load.py --quick         # 20k and 20k/5, one round: seconds
    .venv/bin/python bench/bench_load.py --sizes 200k --rounds 5

Data comes from the seeded generator (../shared/tools/gen_events.py, or --gen PATH), run as a
subprocess from its own folder, and is kept under --keep DIR (default bench/out/, git-ignored)
so later runs reuse it. Every measurement runs in a FRESH Python process, so each peak RSS
belongs to one method (os.wait4 rusage of that child); rounds interleave the methods so VM
noise hits them alike. Times are "since launch": from just before the child is spawned to the
moment it reports the state, so interpreter start-up and imports are included for every method.

A size is a count with k/m and an optional /FILES: `200k` is one file, `1m` defaults to five
overlapping downloads (the generator's --split 5), `1m/1` is one file, `20k/5` five small ones.

S3 organisation trees: `--trees 20k/2000` makes (once) a tree of 2,000 `.json.gz` objects
holding 20k events over 7 days (bench/make_org_tree.py) and measures it like a size, plus a
`--since` case (the last --since-days days: day folders outside are never opened) against
plain DuckDB reading every object and filtering; an independent reading (gzip + json) counts
the events each case must load. The cache rows give its size against the input.

See bench/README.md for what each figure means and the figures measured on the reference VM.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# ../shared next to a clone; worktrees under /work/wt/<branch> find it two levels up.
DEFAULT_GEN = next((p for p in (REPO.parent / "shared" / "tools" / "gen_events.py",
                                REPO.parent.parent / "shared" / "tools" / "gen_events.py")
                    if p.is_file()), REPO.parent / "shared" / "tools" / "gen_events.py")
GiB = 1 << 30

FACET_COLUMNS = ("actor", "eventSource", "sourceIPAddress")
FACET_SQL = 'SELECT "{col}", count(*) FROM events GROUP BY 1 ORDER BY 2 DESC'

# Goals (the brief). Single-file sizes: trailtui/plain time ratio and peak RSS. Multi-file sizes:
# absolute load time and peak RSS. Every size: facet time and reopen-from-cache ratio.
GOAL_SINGLE_RATIO = 0.25
GOAL_SINGLE_RSS = 1 * GiB
GOAL_MULTI_SECONDS = 12.0
GOAL_MULTI_RSS = 3 * GiB
GOAL_FACET_MS = 100.0
GOAL_CACHE_RATIO = 0.03  # issue 9: reopen (since launch, to the first facet) <= 0.03x plain
# Issue 9 item 3: 3M events in the on-disk store (TRAILTUI_STORE=disk), peak RSS <= 2 GiB,
# facets <= 100 ms. Plain DuckDB is capped lower there (it would take the whole machine).
GOAL_DISK_RSS = 2 * GiB
DISK_PLAIN_RSS_CAP = 8 * GiB
GOAL_CACHE_SIZE = 0.5  # issue 9: cache <= half the input
# Issue 9, S3 tree of 200k events in 20,000 objects: <= 2.5 s and <= 0.6 GiB (plain: 50 s).
GOAL_TREE_SECONDS_PER_200K = 2.5
GOAL_TREE_RSS = 0.6 * GiB
TREE_END = "2026-01-31T23:59:59Z"  # the generator's newest event for trees: fixed, so the
TREE_DAYS = 7                      # --since case selects the same events every run


# ============================================================================================
# Worker side: one measurement per fresh process. Prints one line "RESULT {json}" on stdout.
# ============================================================================================


def _since(t0: float) -> float:
    return time.time() - t0


def _first(row: tuple[Any, ...] | None) -> Any:
    """The first column of a fetchone() row (an aggregate query always returns one)."""
    assert row is not None
    return row[0]


def _facets(cur: Any, runs: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for col in FACET_COLUMNS:
        sql = FACET_SQL.format(col=col)
        times = []
        n = 0
        for i in range(runs + 1):
            t = time.perf_counter()
            n = len(cur.execute(sql).fetchall())
            if i:  # the first run warms up
                times.append((time.perf_counter() - t) * 1000)
        out[col] = {"median_ms": statistics.median(times), "min_ms": min(times),
                    "max_ms": max(times), "groups": n}
    return out


def worker_plain(files: list[str], t0: float, threads: int | None,
                 since: str = "") -> dict[str, Any]:
    """The way users load a download today: read_json auto-detect + unnest(Records). A folder
    (an S3 tree) is read as the glob of its `.json.gz` objects; `since` filters afterwards
    (plain DuckDB cannot skip a day folder: it opens every object)."""
    import duckdb

    res: dict[str, Any] = {"imported": _since(t0)}
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {threads}")
    if len(files) == 1 and os.path.isdir(files[0]):
        src = repr(os.path.join(files[0], "**", "*.json.gz"))
        mos = 16 << 20
    else:
        mos = min(max(os.path.getsize(f) for f in files) + 1, 4294967295)
        src = repr(files[0]) if len(files) == 1 else "[" + ", ".join(repr(f) for f in files) + "]"
    where = ""
    if since:
        where = f' WHERE TRY_CAST("eventTime" AS TIMESTAMP) >= TIMESTAMP {since!r}'
    t = time.perf_counter()
    con.execute(
        f"CREATE TABLE t AS SELECT * FROM (SELECT unnest(Records, max_depth := 2) "
        f"FROM read_json({src}, maximum_object_size={mos})){where}"
    ).fetchall()
    res["load_inproc"] = time.perf_counter() - t
    res["loaded"] = _since(t0)
    res["events"] = _first(con.execute("SELECT count(*) FROM t").fetchone())
    return res


def worker_trailtui(files: list[str], t0: float, threads: int | None, *, first_screen: bool,
                    facet_runs: int, cache_dir: str | None, mode: str,
                    whatif: str = "", since: str = "") -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from trailtui.data.store import EventStore
    from trailtui.data.timerange import make_range

    res: dict[str, Any] = {}
    if whatif:
        sys.path.insert(0, str(HERE))
        import whatif as _whatif

        res["whatif_notes"] = _whatif.apply(whatif)
    res["imported"] = _since(t0)
    marks: dict[str, float] = {}

    started = [0.0]

    def progress(p: Any) -> None:
        if p.phase not in marks:
            marks[p.phase] = _since(t0)
            marks[p.phase + "_inproc"] = time.perf_counter() - started[0]

    use_cache = mode in ("cache_write", "cache_open")
    store = EventStore(cache=use_cache, cache_dir=Path(cache_dir) if cache_dir else None,
                       threads=threads, time_range=make_range(since or None, None))
    try:
        t = started[0] = time.perf_counter()
        rep = store.load(files, progress=progress, first_screen=first_screen)
        res["load_inproc"] = time.perf_counter() - t
        res["loaded"] = _since(t0)
        res["ready"] = marks.get("ready")
        res["ready_inproc"] = marks.get("ready_inproc")
        res["from_cache"] = rep.from_cache
        res["errors"] = rep.errors
        res["warnings"] = rep.warnings
        res["duplicates"] = rep.duplicates
        res["pruned"] = rep.pruned_objects
        res["outside"] = rep.outside_range
        cur = store.cursor()
        res["placement"] = getattr(store, "placement", "memory")
        if mode == "cache_open":
            # Time to the first answer: one facet, fetched, right after the reopen.
            t = time.perf_counter()
            cur.execute(FACET_SQL.format(col=FACET_COLUMNS[0])).fetchall()
            res["first_facet_ms"] = (time.perf_counter() - t) * 1000
            res["answered"] = _since(t0)
        # Compaction after the load: a no-op unless the loader left uncompressed rows (it
        # checkpoints itself), counted in the peak RSS but not in `loaded`.
        t = time.perf_counter()
        cur.execute("CHECKPOINT").fetchall()
        res["compact_s"] = time.perf_counter() - t
        res["events"] = _first(cur.execute("SELECT count(*) FROM events").fetchone())
        res["distinct_ids"] = _first(cur.execute(
            "SELECT count(DISTINCT eventID) FROM events").fetchone())
        try:
            mem = _first(cur.execute(
                "SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone())
            res["duckdb_mem"] = int(mem or 0)
        except Exception:
            pass
        if facet_runs:
            res["facets"] = _facets(cur, facet_runs)
        cur.close()
        if mode == "cache_write":
            t = time.perf_counter()
            problem = store.save_cache()
            res["save_s"] = time.perf_counter() - t
            res["save_problem"] = problem
    finally:
        t = time.perf_counter()
        store.close()
        res["close_s"] = time.perf_counter() - t
    return res


def _own_peak_rss() -> int:
    """This process's own peak RSS in bytes (VmHWM), 0 where /proc is missing.

    wait4's ru_maxrss is not enough on Linux: exec carries over the high-water mark of the
    forked copy of the parent, so a parent that once held a big tree in memory (generating it)
    made every worker report the parent's peak (2.6 GiB for a 0.9 GiB load)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def worker_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", required=True)
    ap.add_argument("--t0", type=float, required=True)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--first-screen", action="store_true")
    ap.add_argument("--facet-runs", type=int, default=0)
    ap.add_argument("--cache-dir")
    ap.add_argument("--whatif", default="")
    ap.add_argument("--since", default="")
    ap.add_argument("--store", default="", help="TRAILTUI_STORE for this run (disk, memory)")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    if a.store:
        os.environ["TRAILTUI_STORE"] = a.store
    try:
        if a.worker == "plain":
            res = worker_plain(a.files, a.t0, a.threads or None, a.since)
        else:
            res = worker_trailtui(a.files, a.t0, a.threads or None, first_screen=a.first_screen,
                                  facet_runs=a.facet_runs, cache_dir=a.cache_dir, mode=a.worker,
                                  whatif=a.whatif, since=a.since)
        res["ok"] = True
    except Exception as exc:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else ""
        res = {"ok": False, "error": f"{type(exc).__name__}: {first}"[:300]}
    res["vmhwm"] = _own_peak_rss()
    print("RESULT " + json.dumps(res), flush=True)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown; the parent has what it needs


# ============================================================================================
# Parent side
# ============================================================================================


@dataclass
class Run:
    method: str
    status: str  # "ok" | "failed: ..." | "timeout" | "killed: ..."
    wall: float  # process wall, spawn to exit
    maxrss: int  # bytes, from wait4
    res: dict[str, Any] = field(default_factory=dict)
    cpu: float = 0.0  # user + system seconds of the process (all its threads)
    others: float | None = None  # mean cores busy with other processes during the run

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _rss_now(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _maxrss_bytes(ru: Any) -> int:
    return int(ru.ru_maxrss) * (1 if platform.system() == "Darwin" else 1024)


def _cpu_busy() -> float:
    """Seconds of CPU the whole machine has been busy (all cores), from /proc/stat; 0 if unknown."""
    try:
        with open("/proc/stat") as fh:
            v = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def spawn(args: argparse.Namespace, method: str, worker: str, files: list[Path], *,
          timeout: float, extra: list[str] | None = None, log: Path, whatif: str = "") -> Run:
    """Run one worker in a fresh process; wall time and peak RSS of that process alone."""
    cmd_tail = ["--worker", worker]
    if whatif:
        cmd_tail += ["--whatif", whatif]
    if args.threads:
        cmd_tail += ["--threads", str(args.threads)]
    cmd_tail += (extra or []) + [str(f) for f in files]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as err:
        err.write(f"\n=== {time.strftime('%H:%M:%S')} {method}\n".encode())
        err.flush()
        busy0 = _cpu_busy()
        t0 = time.time()
        proc = subprocess.Popen(
            [args.python, str(Path(__file__).resolve()), "--t0", repr(t0), *cmd_tail],
            stdout=subprocess.PIPE, stderr=err, start_new_session=True)
        status = None
        peak_seen = 0
        out_chunks: list[bytes] = []
        # stdout is tiny (one RESULT line) so it cannot fill the pipe; poll exit with wait4.
        while True:
            pid, wstatus, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.time() - t0
            rss = _rss_now(proc.pid)
            peak_seen = max(peak_seen, rss)
            if elapsed > timeout:
                status = f"timeout (> {timeout:.0f} s)"
            elif args.rss_cap and rss > args.rss_cap:
                status = f"killed: RSS above {args.rss_cap / GiB:.0f} GiB after {elapsed:.0f} s"
            if status:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, wstatus, ru = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.time() - t0
        busy = _cpu_busy() - busy0
        proc.returncode = os.waitstatus_to_exitcode(wstatus)
        if proc.stdout:
            out_chunks.append(proc.stdout.read())
            proc.stdout.close()
    res: dict[str, Any] = {}
    for line in b"".join(out_chunks).decode(errors="replace").splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[7:])
    # The worker's own VmHWM when it reported one (see _own_peak_rss), else wait4's figure.
    maxrss = max(int(res.get("vmhwm") or 0) or _maxrss_bytes(ru), peak_seen)
    if status is None:
        if res.get("ok"):
            status = "ok"
        elif res.get("error"):
            status = "failed: " + res["error"]
        elif proc.returncode < 0:
            sig = signal.Signals(-proc.returncode).name
            status = f"failed: killed by {sig}" + (" (out of memory?)" if sig == "SIGKILL" else "")
        else:
            status = f"failed: exit code {proc.returncode} (see {log})"
    cpu = ru.ru_utime + ru.ru_stime
    # CPU the rest of the machine used meanwhile, in cores: other load makes times noisy.
    others = max(0.0, busy - cpu) / wall if busy and wall > 0 else None
    r = Run(method, status, wall, maxrss, res, cpu, others)
    show = f"{r.res.get('loaded', wall):7.2f} s" if r.ok else r.status[:60]
    print(f"    {method:<22} {show:<12} peak RSS {maxrss / 2**20:6.0f} MiB  cpu {cpu:6.1f} s"
          + (f"  others {others:4.2f} cores" if others is not None else "")
          + (f"  ready {r.res['ready']:.2f} s" if r.ok and r.res.get("ready") else ""),
          flush=True)
    return r


# --- data ----------------------------------------------------------------------------------


def parse_size(tok: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*(?:/\s*(\d+))?\s*", tok)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {tok!r} (e.g. 200k, 1m, 1m/1, 20k/5)")
    n = float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    n_i = round(n)
    split = int(m.group(3)) if m.group(3) else (5 if n_i >= 1_000_000 else 1)
    return n_i, split


def label(n: int, split: int) -> str:
    txt = f"{n // 1_000_000}M" if n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n % 1000 == 0 else str(n))
    return txt + (f" in {split} files" if split > 1 else " (1 file)")


def ensure_data(args: argparse.Namespace, n: int, split: int) -> list[Path]:
    """Generate (once) n events in `split` overlapping files; reuse when the stamp matches."""
    gen = Path(args.gen).resolve()
    if not gen.is_file():
        sys.exit(f"generator not found: {gen} (pass --gen PATH)")
    gen_hash = hashlib.sha256(gen.read_bytes()).hexdigest()[:16]
    d = Path(args.keep) / "data" / f"n{n}x{split}"
    stamp = d / ".stamp"
    want = {"n": n, "split": split, "generator_sha256_16": gen_hash}
    if stamp.is_file():
        have = json.loads(stamp.read_text())
        files = [d / f for f in have.get("files", [])]
        if {k: have.get(k) for k in want} == want and files and all(f.is_file() for f in files):
            return files
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    out = d / "event_history.json"
    cmd = [args.python, str(gen), "-n", str(n), "--out", str(out)]
    if split > 1:
        cmd += ["--split", str(split)]
    print(f"  generating {label(n, split)}: {' '.join(cmd)}", flush=True)
    t = time.perf_counter()
    subprocess.run(cmd, cwd=gen.parent, check=True)
    files = sorted(p for p in d.iterdir() if p.name.startswith("event_history"))
    print(f"  generated {len(files)} file(s), {sum(f.stat().st_size for f in files) / 1e6:,.0f} MB"
          f" in {time.perf_counter() - t:.0f} s", flush=True)
    stamp.write_text(json.dumps({**want, "files": [f.name for f in files]}, indent=1))
    return files


def warm(files: list[Path]) -> float:
    """Read the files once so every method starts from a warm page cache."""
    t = time.perf_counter()
    for f in files:
        with f.open("rb", buffering=0) as fh:
            while fh.read(16 << 20):
                pass
    return time.perf_counter() - t


# --- one size -------------------------------------------------------------------------------


def med(xs: Iterable[float | None]) -> float | None:
    """Median of the values that are not None (None: there are none)."""
    vals = [x for x in xs if x is not None]
    return statistics.median(vals) if vals else None


def bench_size(args: argparse.Namespace, n: int, split: int) -> dict[str, Any]:
    name = label(n, split)
    print(f"\n== {name}", flush=True)
    files = ensure_data(args, n, split)
    total = sum(f.stat().st_size for f in files)
    print(f"  {len(files)} file(s), {total:,} B; warm read {warm(files):.2f} s", flush=True)
    print("  (per run: time since launch to loaded, peak RSS, CPU seconds of the run, and the"
          " cores other processes kept busy meanwhile)", flush=True)
    log = Path(args.keep) / "logs" / f"n{n}x{split}.log"
    plain_timeout = args.plain_timeout
    plain_rounds = args.rounds if split == 1 else min(args.rounds, args.plain_multi_rounds)
    methods = ["plain"] if args.cache_only else ["plain", "trailtui", "trailtui_first"]
    for i, _w in enumerate(args.whatif, 1):
        methods += [f"whatif{i}"] + ([] if args.whatif_no_first else [f"whatif{i}_first"])
    runs: dict[str, list[Run]] = {m: [] for m in methods}
    for r in range(args.rounds):
        print(f"  round {r + 1}/{args.rounds}", flush=True)
        k = r % len(methods)
        for m in methods[k:] + methods[:k]:  # rotate who goes first
            wi = args.whatif[int(m[6:].split("_")[0]) - 1] if m.startswith("whatif") else ""
            if m == "plain":
                if args.no_plain or r >= plain_rounds:
                    continue
                runs[m].append(spawn(args, m, "plain", files, timeout=plain_timeout, log=log))
            elif m.endswith("_first"):
                runs[m].append(spawn(args, m, "trailtui", files, timeout=args.timeout, log=log,
                                     extra=["--first-screen"], whatif=wi))
            else:
                runs[m].append(spawn(args, m, "trailtui", files, timeout=args.timeout, log=log,
                                     extra=["--facet-runs", str(args.facet_runs)], whatif=wi))
    # Reopen from the cache: write it once, then reopen in fresh processes.
    cache_dir = Path(args.keep) / "cache" / f"n{n}x{split}"
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache_dir.mkdir(parents=True)
    print("  cache", flush=True)
    cw = spawn(args, "cache_write", "cache_write", files, timeout=args.timeout, log=log,
               extra=["--cache-dir", str(cache_dir)], whatif=args.whatif_cache)
    co = [spawn(args, "cache_open", "cache_open", files, timeout=args.timeout, log=log,
                extra=["--cache-dir", str(cache_dir)], whatif=args.whatif_cache)
          for _ in range(args.rounds)]
    cache_bytes = sum(p.stat().st_size for p in cache_dir.rglob("*") if p.is_file())
    db_bytes = sum(p.stat().st_size for p in cache_dir.rglob("events.duckdb") if p.is_file())
    if not args.keep_cache:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return {"n": n, "split": split, "name": name, "files": len(files), "bytes": total,
            "runs": runs, "cache_write": cw, "cache_open": co, "cache_bytes": cache_bytes,
            "cache_db_bytes": db_bytes}


# --- millions of events in the on-disk store (issue 9 item 3) -------------------------------


def bench_disk(args: argparse.Namespace, n: int, split: int) -> dict[str, Any]:
    """Plain DuckDB (RSS-capped lower: at 3M it would take the machine), then trailtui with
    TRAILTUI_STORE=disk: load with facets and save the cache (a checkpoint and a rename), then
    reopen it in place."""
    name = label(n, split) + ", on-disk store"
    print(f"\n== {name}", flush=True)
    files = ensure_data(args, n, split)
    total = sum(f.stat().st_size for f in files)
    print(f"  {len(files)} file(s), {total:,} B", flush=True)
    log = Path(args.keep) / "logs" / f"disk-n{n}x{split}.log"
    runs: dict[str, list[Run]] = {"plain": []}
    if not args.no_plain:
        cap = args.rss_cap
        args.rss_cap = min(cap, DISK_PLAIN_RSS_CAP) if cap else DISK_PLAIN_RSS_CAP
        try:
            runs["plain"].append(spawn(args, "plain", "plain", files,
                                       timeout=args.plain_timeout, log=log))
        finally:
            args.rss_cap = cap
    cache_dir = Path(args.keep) / "cache" / f"disk-n{n}x{split}"
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache_dir.mkdir(parents=True)
    store = ["--store", "disk", "--cache-dir", str(cache_dir)]
    cw = spawn(args, "disk load + save", "cache_write", files, timeout=args.timeout, log=log,
               extra=[*store, "--facet-runs", str(args.facet_runs)])
    co = [spawn(args, "disk reopen", "cache_open", files, timeout=args.timeout, log=log,
                extra=[*store, "--facet-runs", str(args.facet_runs)])
          for _ in range(args.rounds)]
    cache_bytes = sum(p.stat().st_size for p in cache_dir.rglob("*") if p.is_file())
    db_bytes = sum(p.stat().st_size for p in cache_dir.rglob("events.duckdb") if p.is_file())
    if not args.keep_cache:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return {"n": n, "split": split, "name": name, "files": len(files), "bytes": total,
            "runs": runs, "cache_write": cw, "cache_open": co, "cache_bytes": cache_bytes,
            "cache_db_bytes": db_bytes, "disk": True}


def _disk_rows(s: dict[str, Any], pl_t: float | None,
               plain_lower_bound: float | None) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    name, n, cw = s["name"], s["n"], s["cache_write"]
    if cw.ok:
        res = cw.res
        base = pl_t or plain_lower_bound
        ratio = f" = {res['loaded'] / base:.2f}x plain" if base else ""
        rows.append((f"{name}: load (since launch)",
                     f"{fmt_s(res['loaded'])}{ratio}, store {res.get('placement')}",
                     "(info)", "—"))
        rows.append((f"{name}: peak RSS (load, facets, save)", fmt_mib(cw.maxrss),
                     f"≤ {GOAL_DISK_RSS / GiB:.0f} GiB", verdict(cw.maxrss <= GOAL_DISK_RSS)))
        rows.append((f"{name}: events after dedup",
                     f"{res['events']:,} ({res['distinct_ids']:,} distinct eventIDs)",
                     f"= {n:,}", verdict(res["events"] == n and res["distinct_ids"] == n)))
        for col in FACET_COLUMNS:
            f = res.get("facets", {}).get(col)
            if f:
                rows.append((f"{name}: facet GROUP BY {col} ({f['groups']:,} groups)",
                             f"{f['median_ms']:.1f} ms", f"≤ {GOAL_FACET_MS:.0f} ms",
                             verdict(f["median_ms"] <= GOAL_FACET_MS)))
    else:
        rows.append((f"{name}: load", cw.status[:60], "", "FAIL"))
    rows += _cache_rows(s, pl_t, plain_lower_bound)
    co = [r for r in s["cache_open"] if r.ok and r.res.get("facets")]
    if co:
        worst = max(statistics.median([r.res["facets"][c]["median_ms"] for r in co])
                    for c in FACET_COLUMNS)
        rows.append((f"{name}: facets after reopen (slowest column)", f"{worst:.1f} ms",
                     f"≤ {GOAL_FACET_MS:.0f} ms", verdict(worst <= GOAL_FACET_MS)))
    return rows


# --- S3 organisation trees ------------------------------------------------------------------


def parse_tree(tok: str) -> tuple[int, int]:
    """`20k/2000` -> (20000 events, 2000 objects)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*/\s*(\d+)\s*", tok)
    if not m:
        raise argparse.ArgumentTypeError(f"bad tree {tok!r} (e.g. 20k/2000)")
    n = float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return round(n), int(m.group(3))


def ensure_tree(args: argparse.Namespace, n: int, objects: int) -> Path:
    """Generate (once) n events over TREE_DAYS days and write them as an org tree."""
    sys.path.insert(0, str(HERE))
    import make_org_tree

    gen = Path(args.gen).resolve()
    if not gen.is_file():
        sys.exit(f"generator not found: {gen} (pass --gen PATH)")
    gen_hash = hashlib.sha256(gen.read_bytes()).hexdigest()[:16]
    d = Path(args.keep) / "data" / f"tree{n}x{objects}"
    stamp = d / ".stamp"
    want = {"n": n, "objects": objects, "end": TREE_END, "days": TREE_DAYS,
            "generator_sha256_16": gen_hash}
    if stamp.is_file() and json.loads(stamp.read_text()) == want:
        return d / "tree"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    src = d / "source.json"
    t = time.perf_counter()
    subprocess.run([args.python, str(gen), "-n", str(n), "--days", str(TREE_DAYS), "--end",
                    TREE_END, "--out", str(src)], cwd=gen.parent, check=True)
    count = make_org_tree.write_tree(make_org_tree.read_download(src), d / "tree", objects)
    src.unlink()
    print(f"  generated a tree of {count:,} objects in {time.perf_counter() - t:.0f} s",
          flush=True)
    stamp.write_text(json.dumps(want))
    return d / "tree"


def independent_count(tree: Path, since: str) -> tuple[int, int]:
    """(all events, events at or after `since`) read with nothing but gzip and json."""
    import gzip

    total = after = 0
    for f in tree.rglob("*.json.gz"):
        for rec in json.loads(gzip.decompress(f.read_bytes()))["Records"]:
            total += 1
            after += str(rec.get("eventTime", "")) >= since  # ISO Z text sorts as time
    return total, after


def bench_tree(args: argparse.Namespace, n: int, objects: int) -> dict[str, Any]:
    name = f"tree {label(n, 1).split(' ')[0]} in {objects:,} objects"
    print(f"\n== {name}", flush=True)
    tree = ensure_tree(args, n, objects)
    files = [tree]
    objs = list(tree.rglob("*.json.gz"))
    total = sum(f.stat().st_size for f in objs)
    last_day = dt.date.fromisoformat(TREE_END[:10])
    since = f"{last_day - dt.timedelta(days=args.since_days - 1):%Y-%m-%d}T00:00:00Z"
    want_all, want_since = independent_count(tree, since)
    print(f"  {len(objs):,} objects, {total:,} B; warm read {warm(objs):.2f} s; independent "
          f"reading: {want_all:,} events, {want_since:,} since {since}", flush=True)
    log = Path(args.keep) / "logs" / f"tree{n}x{objects}.log"
    methods = ["plain", "trailtui", "trailtui_first", "plain_since", "trailtui_since"]
    runs: dict[str, list[Run]] = {m: [] for m in methods}
    for r in range(args.rounds):
        print(f"  round {r + 1}/{args.rounds}", flush=True)
        k = r % len(methods)
        for m in methods[k:] + methods[:k]:
            if m.startswith("plain") and (args.no_plain or r >= args.plain_multi_rounds):
                continue
            extra = ["--since", since] if m.endswith("_since") else []
            if m.startswith("plain"):
                runs[m].append(spawn(args, m, "plain", files, timeout=args.plain_timeout,
                                     log=log, extra=extra))
            elif m == "trailtui_first":
                runs[m].append(spawn(args, m, "trailtui", files, timeout=args.timeout, log=log,
                                     extra=["--first-screen"]))
            else:
                runs[m].append(spawn(args, m, "trailtui", files, timeout=args.timeout, log=log,
                                     extra=[*extra, "--facet-runs", str(args.facet_runs)]))
    cache_dir = Path(args.keep) / "cache" / f"tree{n}x{objects}"
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache_dir.mkdir(parents=True)
    print("  cache", flush=True)
    cw = spawn(args, "cache_write", "cache_write", files, timeout=args.timeout, log=log,
               extra=["--cache-dir", str(cache_dir)])
    co = [spawn(args, "cache_open", "cache_open", files, timeout=args.timeout, log=log,
                extra=["--cache-dir", str(cache_dir)]) for _ in range(args.rounds)]
    cache_bytes = sum(p.stat().st_size for p in cache_dir.rglob("*") if p.is_file())
    db_bytes = sum(p.stat().st_size for p in cache_dir.rglob("events.duckdb") if p.is_file())
    if not args.keep_cache:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return {"n": want_all, "split": len(objs), "name": name, "files": len(objs), "bytes": total,
            "tree": True, "since": since, "want_since": want_since, "runs": runs,
            "cache_write": cw, "cache_open": co, "cache_bytes": cache_bytes,
            "cache_db_bytes": db_bytes}


def _tree_rows(s: dict[str, Any], pl_t: float | None) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    name, n, R = s["name"], s["n"], s["runs"]
    goal_t = GOAL_TREE_SECONDS_PER_200K * n / 200_000
    judged = n >= 200_000  # the goals are stated for 200k/20,000; start-up dominates below
    for tag, key, want, base in (("", "trailtui", n, pl_t),
                                 (f" --since {s['since'][:10]}", "trailtui_since",
                                  s["want_since"], None)):
        ok = [r for r in R[key] if r.ok]
        if key == "trailtui_since":
            pl = [r for r in R["plain_since"] if r.ok]
            base = med([r.res["loaded"] for r in pl])
            if pl:
                rows.append((f"{name}: plain DuckDB{tag} (reads all, then filters)",
                             f"{fmt_s(base)}, peak {fmt_mib(med([r.maxrss for r in pl]))}, "
                             f"{pl[0].res['events']:,} events", "(baseline)", "—"))
        if not ok:
            rows.append((f"{name}: trailtui{tag} load", (R[key][0].status if R[key] else
                                                         "not run")[:60], "", "FAIL"))
            continue
        t = med([r.res["loaded"] for r in ok])
        ratio = t / base if t is not None and base else None
        rows.append((f"{name}: trailtui{tag} load (since launch)",
                     f"{fmt_s(t)} (cpu {med([r.cpu for r in ok]):.1f} s)"
                     + (f" = {ratio:.3f}x plain" if ratio else ""),
                     f"≤ {goal_t:.2f} s (2.5 s per 200k)" if not tag else "(info)",
                     verdict(t is not None and t <= goal_t) if not tag and judged else "—"))
        if not tag:
            rss = max(r.maxrss for r in ok)
            rows.append((f"{name}: trailtui peak RSS", fmt_mib(rss),
                         f"≤ {GOAL_TREE_RSS / GiB:.1f} GiB",
                         verdict(rss <= GOAL_TREE_RSS) if judged else "—"))
        ev = ok[0].res["events"]
        extra = (f"; {ok[0].res.get('pruned', 0):,} objects not opened, "
                 f"{ok[0].res.get('outside', 0):,} events read but outside") if tag else ""
        rows.append((f"{name}: trailtui{tag} events", f"{ev:,}{extra}",
                     f"= {want:,} (independent reading)", verdict(ev == want)))
    first = [r for r in R["trailtui_first"] if r.ok]
    if first:
        in_load = med([r.res.get("ready_inproc") for r in first])
        rows.append((f"{name}: first events queryable (first_screen)",
                     f"{fmt_s(in_load)} after the load starts, "
                     f"{fmt_s(med([r.res['ready'] for r in first]))} since launch (all loaded "
                     f"{fmt_s(med([r.res['loaded'] for r in first]))})", "≤ 1 s after start",
                     verdict((in_load or 99) <= 1.0)))
    return rows


# --- summary --------------------------------------------------------------------------------


def fmt_s(x: float | None) -> str:
    return "—" if x is None else (f"{x:.2f} s" if x < 100 else f"{x:.0f} s")


def fmt_mib(b: float | None) -> str:
    return "—" if not b else f"{b / 2**20:,.0f} MiB"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("PASS" if ok else "FAIL")


def _method_rows(name: str, n: int, multi: bool, tag: str, runs: list[Run],
                 first: list[Run], pl_t: float | None) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    tt_ok = [r for r in runs if r.ok]
    tf_ok = [r for r in first if r.ok]
    tt_t = med([r.res["loaded"] for r in tt_ok])
    cpu = med([r.cpu for r in tt_ok])
    tt_rss = med([r.maxrss for r in tt_ok])
    tt_max_rss = max((r.maxrss for r in tt_ok), default=0)
    compact = med([r.res.get("compact_s") for r in tt_ok]) or 0.0
    after = f", + {compact:.1f} s compaction after" if compact >= 0.05 else ""
    if not tt_ok or tt_t is None:  # tt_t is None only when no run is ok
        st = runs[0].status if runs else "not run"
        rows.append((f"{name}: {tag} load", st[:60], "", "FAIL"))
    elif not multi:
        ratio = tt_t / pl_t if pl_t else None
        rows.append((f"{name}: {tag} load (since launch)",
                     f"{fmt_s(tt_t)} (cpu {cpu:.1f} s{after})"
                     + (f" = {ratio:.3f}x plain" if ratio else ""),
                     f"≤ {GOAL_SINGLE_RATIO}x plain",
                     verdict(ratio <= GOAL_SINGLE_RATIO if ratio else None)))
        rows.append((f"{name}: {tag} peak RSS", f"{fmt_mib(tt_rss)} (max {fmt_mib(tt_max_rss)})",
                     f"≤ {GOAL_SINGLE_RSS / GiB:.0f} GiB", verdict(tt_max_rss <= GOAL_SINGLE_RSS)))
    else:
        rows.append((f"{name}: {tag} load (since launch)",
                     f"{fmt_s(tt_t)} (cpu {cpu:.1f} s{after})",
                     f"≤ {GOAL_MULTI_SECONDS:.0f} s", verdict(tt_t <= GOAL_MULTI_SECONDS)))
        rows.append((f"{name}: {tag} peak RSS", f"{fmt_mib(tt_rss)} (max {fmt_mib(tt_max_rss)})",
                     f"≤ {GOAL_MULTI_RSS / GiB:.0f} GiB", verdict(tt_max_rss <= GOAL_MULTI_RSS)))
    if tt_ok:
        ev = tt_ok[0].res["events"]
        ids = tt_ok[0].res["distinct_ids"]
        rows.append((f"{name}: {tag} events after dedup", f"{ev:,} ({ids:,} distinct eventIDs)",
                     f"= {n:,}", verdict(ev == n and ids == n)))
    if tf_ok:
        rows.append((f"{name}: {tag} first events queryable (first_screen)",
                     f"{fmt_s(med([r.res['ready'] for r in tf_ok]))} "
                     f"(all loaded {fmt_s(med([r.res['loaded'] for r in tf_ok]))}, "
                     f"peak {fmt_mib(med([r.maxrss for r in tf_ok]))})", "(info)", "—"))
    if tt_ok and tt_ok[0].res.get("facets"):
        for col in FACET_COLUMNS:
            ms = statistics.median([r.res["facets"][col]["median_ms"] for r in tt_ok])
            groups = tt_ok[0].res["facets"][col]["groups"]
            rows.append((f"{name}: {tag} facet GROUP BY {col} ({groups:,} groups)",
                         f"{ms:.1f} ms", f"≤ {GOAL_FACET_MS:.0f} ms", verdict(ms <= GOAL_FACET_MS)))
    return rows


def summarize(s: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows (figure, measured, goal, verdict) for one size."""
    rows: list[tuple[str, str, str, str]] = []
    name, n = s["name"], s["n"]
    multi = s["split"] > 1
    R = s["runs"]
    pl_ok = [r for r in R["plain"] if r.ok]
    allruns = [r for rs in R.values() for r in rs] + [s["cache_write"], *s["cache_open"]]
    others = med([r.others for r in allruns if r.others is not None])
    if others is not None:
        rows.append((f"{name}: other load on the machine", f"{others:.2f} cores busy (median)",
                     "(noise)", "—"))

    pl_t = med([r.res["loaded"] for r in pl_ok])
    pl_rss = med([r.maxrss for r in pl_ok])
    plain_lower_bound = None  # when plain failed: the time it used, a lower bound for a ratio
    if R["plain"] and not pl_ok:
        first = R["plain"][0]
        plain_lower_bound = first.wall if first.status.startswith(("timeout", "killed")) else None
        rows.append((f"{name}: plain DuckDB load", first.status[:60] + f" [{first.wall:.0f} s, "
                     f"{fmt_mib(first.maxrss)}]", "(baseline)", "—"))
    elif pl_ok:
        rows.append((f"{name}: plain DuckDB load", f"{fmt_s(pl_t)} (cpu "
                     f"{med([r.cpu for r in pl_ok]):.1f} s), peak {fmt_mib(pl_rss)}"
                     + (f" (n={len(pl_ok)})" if len(pl_ok) > 1 else ""), "(baseline)", "—"))

    if s.get("tree"):
        rows += _tree_rows(s, pl_t)
        return rows + _cache_rows(s, pl_t, plain_lower_bound)
    if s.get("disk"):
        return rows + _disk_rows(s, pl_t, plain_lower_bound)
    for prefix in [k for k in R if k == "trailtui" or re.fullmatch(r"whatif\d+", k)]:
        tag = prefix if prefix == "trailtui" else prefix.upper()
        rows += _method_rows(name, n, multi, tag, R[prefix], R.get(prefix + "_first", []), pl_t)
    return rows + _cache_rows(s, pl_t, plain_lower_bound)


def _cache_rows(s: dict[str, Any], pl_t: float | None,
                plain_lower_bound: float | None) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    name = s["name"]
    cw, co = s["cache_write"], [r for r in s["cache_open"] if r.ok]
    if cw.ok:
        rows.append((f"{name}: load + save_cache (first run)",
                     f"{fmt_s(cw.res['loaded'])} + {cw.res.get('save_s', 0):.2f} s save; "
                     f"cache {s['cache_bytes'] / 1e6:,.1f} MB "
                     f"(db {s['cache_db_bytes'] / 1e6:,.1f} MB)",
                     "(info)", "—"))
        ratio = s["cache_bytes"] / max(1, s["bytes"])
        rows.append((f"{name}: cache size / input size",
                     f"{ratio:.2f}x ({s['bytes'] / 1e6:,.1f} MB input on disk)",
                     f"≤ {GOAL_CACHE_SIZE}x", verdict(ratio <= GOAL_CACHE_SIZE)))
    else:
        rows.append((f"{name}: load + save_cache", cw.status[:60], "", "FAIL"))
    if co:
        from_cache = all(r.res.get("from_cache") for r in co)
        t_ans = med([r.res["answered"] for r in co])
        base = pl_t or plain_lower_bound
        ratio = t_ans / base if base and t_ans is not None else None
        bound = "" if pl_t else " (plain failed: ratio vs the time it used)"
        measured = (f"{fmt_s(t_ans)} to 1st facet, peak {fmt_mib(med([r.maxrss for r in co]))}"
                    + (f" = {ratio:.3f}x plain{bound}" if ratio else ""))
        ok = (ratio <= GOAL_CACHE_RATIO if ratio is not None else None)
        if not from_cache:
            measured += " — NOT served from the cache"
            ok = False
        rows.append((f"{name}: reopen from cache (since launch)", measured,
                     f"≤ {GOAL_CACHE_RATIO}x plain", verdict(ok)))
    elif s["cache_open"]:
        rows.append((f"{name}: reopen from cache", s["cache_open"][0].status[:60], "", "FAIL"))
    return rows


def print_table(rows: list[tuple[str, str, str, str]]) -> str:
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    head = ("figure", "measured (median)", "goal", "result")
    w = [max(w[i], len(head[i])) for i in range(4)]
    lines = [" | ".join(h.ljust(w[i]) for i, h in enumerate(head)),
             "-+-".join("-" * x for x in w)]
    lines += [" | ".join(c.ljust(w[i]) for i, c in enumerate(r)) for r in rows]
    return "\n".join(lines)


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f", {kb / 2**20:.0f} GiB RAM"
    except OSError:
        pass
    import importlib.metadata as md

    vers = []
    for pkg in ("duckdb", "msgspec"):
        try:
            vers.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            vers.append(f"{pkg} ?")
    return (f"{os.cpu_count()} CPUs{mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, {', '.join(vers)}")


def main() -> int:
    if "--worker" in sys.argv:
        return worker_main(sys.argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=None,
                    help="comma list: 200k = one file, 1m = 5 files, 1m/1, 20k/5 ... "
                         "(default 200k,1m)")
    ap.add_argument("--trees", default="",
                    help="comma list of S3 org trees EVENTS/OBJECTS, e.g. 20k/2000 (default "
                         "none; issue 9's figure is 200k/20000, on a quiet machine)")
    ap.add_argument("--since-days", type=int, default=2,
                    help="the tree --since case keeps the last N days of 7 (default 2)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: sizes 20k,20k/5, one round, short timeouts")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--plain-multi-rounds", type=int, default=1,
                    help="rounds of plain DuckDB on multi-file sizes (default 1: it is slow)")
    ap.add_argument("--plain-timeout", type=float, default=180.0,
                    help="seconds before plain DuckDB is stopped (default 180)")
    ap.add_argument("--timeout", type=float, default=300.0,
                    help="seconds before a trailtui run is stopped (default 300)")
    ap.add_argument("--rss-cap", type=float, default=16.0,
                    help="GiB: a run above this RSS is killed (protects the machine; default 16)")
    ap.add_argument("--no-plain", action="store_true", help="skip plain DuckDB")
    ap.add_argument("--cache-only", action="store_true",
                    help="per size: plain DuckDB and the cache write/reopen only (no load runs)")
    ap.add_argument("--disk", default="",
                    help="comma list of sizes loaded into the on-disk store (TRAILTUI_STORE="
                         "disk), e.g. 3m/15: peak RSS, facets, cache and reopen vs plain")
    ap.add_argument("--facet-runs", type=int, default=7, help="timed runs per facet (default 7)")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all cores)")
    ap.add_argument("--keep", default=str(HERE / "out"),
                    help="folder for generated data, logs and the temporary cache "
                         "(default bench/out, git-ignored); data is reused between runs")
    ap.add_argument("--keep-cache", action="store_true",
                    help="leave the reopen cache folders under KEEP/cache")
    ap.add_argument("--gen", default=str(DEFAULT_GEN),
                    help="path of gen_events.py (default ../shared/tools/gen_events.py)")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the workers")
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--whatif", action="append", default=[],
                    help="comma list of proposed-change patches from bench/whatif.py, measured "
                         "as extra interleaved methods WHATIF1 (and WHATIF1_first), next to the "
                         "code as it is; repeat for WHATIF2, ... (default none)")
    ap.add_argument("--whatif-no-first", action="store_true",
                    help="no first_screen runs for the --whatif sets")
    ap.add_argument("--whatif-cache", default="",
                    help="patches from bench/whatif.py for the cache write/reopen runs")
    args = ap.parse_args()
    if args.quick:
        args.sizes = args.sizes or "20k,20k/5"
        args.rounds = 1
        args.plain_timeout = min(args.plain_timeout, 60)
        args.facet_runs = min(args.facet_runs, 3)
    trees = [parse_tree(t) for t in args.trees.split(",") if t.strip()]
    disks = [parse_size(t) for t in args.disk.split(",") if t.strip()]
    args.sizes = args.sizes if args.sizes is not None else (
        "" if trees or disks else "200k,1m")
    args.rss_cap = args.rss_cap * GiB if args.rss_cap else 0
    sizes = [parse_size(t) for t in args.sizes.split(",") if t.strip()]
    Path(args.keep).mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M")
    print(f"trailtui load benchmark, {started}; {machine()}", flush=True)
    for i, w in enumerate(args.whatif, 1):
        print(f"WHATIF{i} = the code as it is + bench/whatif.py patches {w} (a proposal)")
    if args.whatif_cache:
        print(f"WHATIF: the cache runs apply {args.whatif_cache}")
    results = [bench_size(args, n, split) for n, split in sizes]
    results += [bench_tree(args, n, objects) for n, objects in trees]
    results += [bench_disk(args, n, split) for n, split in disks]
    rows: list[tuple[str, str, str, str]] = []
    for s in results:
        rows += summarize(s)
    print("\n" + print_table(rows))
    fails = sum(1 for r in rows if r[3] == "FAIL" and "WHATIF" not in r[0])
    print(f"\n{fails} goal(s) failed." if fails else "\nAll goals met.")
    if args.whatif:
        print("(WHATIF rows measure proposed changes and do not count as failures; "
              + "; ".join(f"WHATIF{i} = {w}" for i, w in enumerate(args.whatif, 1)) + ")")
    if args.json:
        def enc(o: Any) -> Any:
            return o.__dict__ if isinstance(o, Run) else str(o)
        Path(args.json).write_text(json.dumps(
            {"date": started, "machine": machine(), "args": vars(args), "sizes": results,
             "table": rows}, default=enc, indent=1))
    if args.quick:
        # A smoke test: the goals are for 200k / 1M events (start-up dominates 20k), so only
        # broken runs and wrong event counts make it fail.
        broken = [r for sz in results for rs in (*sz["runs"].values(), [sz["cache_write"]],
                                                 sz["cache_open"]) for r in rs
                  if not r.ok and r.method != "plain"]
        bad_count = [r for r in rows if "events after dedup" in r[0] and r[3] == "FAIL"]
        print(f"(--quick: goals are stated for 200k / 1M events, so this smoke test fails only "
              f"on broken runs or wrong counts: {len(broken)} broken, {len(bad_count)} wrong)")
        return 1 if broken or bad_count else 0
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
