"""Opt-in monkeypatches that try a proposed trailtui/data change without editing trailtui/.

`bench_load.py --whatif NAME[,NAME]` applies them inside the trailtui workers, so a proposal
can be measured side by side with the code as it is. Each patch is a copy of the product code
with the proposed change marked `# WHATIF`. They are evidence for a change, not the product:
once the lead applies a change, its patch here becomes redundant (apply() says so).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

PATCHES: dict[str, Callable[[], str | None]] = {}


def patch(fn: Callable[[], str | None]) -> Callable[[], str | None]:
    PATCHES[fn.__name__] = fn
    return fn


@patch
def cachefix() -> str | None:
    """Write `chunk_sources` into the cache DB (the reopen reads it and fails without it)."""
    from trailtui.data import store as S

    src = Path(S.__file__).read_text()
    if "cache_out.chunk_sources" in src:
        return "cachefix: already in trailtui/data/store.py, patch not applied"

    def _write_cache(self: Any, cache_dir: Path, work: Path, report: Any) -> None:
        cur = self.cursor()
        db = work / "events.duckdb"
        db.unlink(missing_ok=True)
        S.run(cur, "ATTACH ? AS cache_out", [str(db)])
        try:
            S.run(cur, "CREATE TABLE cache_out.events AS SELECT * FROM m.events")
            # WHATIF: the reopen also needs the chunk -> source file map
            S.run(cur, "CREATE TABLE cache_out.chunk_sources AS SELECT * FROM m.chunk_sources")
        finally:
            S.run(cur, "DETACH cache_out")
            cur.close()
        for chunk_id, chunk in self._chunks.items():
            with (work / "chunks" / f"{chunk_id}.idx").open("wb") as fh:
                chunk.offsets.tofile(fh)
        manifest = {
            "format": S.CACHE_FORMAT,
            "chunks": sorted(self._chunks),
            "files": [f.__dict__ for f in report.files],
            "warnings": report.warnings,
        }
        (work / "manifest.json").write_text(json.dumps(manifest))
        shutil.rmtree(cache_dir, ignore_errors=True)
        work.rename(cache_dir)
        for chunk in self._chunks.values():
            chunk.path = cache_dir / "chunks" / chunk.path.name

    S.EventStore._write_cache = _write_cache
    return None


# --- the chunk loop: which parts are being flushed (for the patches below) -------------------

_FLUSHING: list[Any] = []  # the _ChunkLoader.parts of the flush in progress
_FLUSH_WRAPPED = False


def _wrap_flush() -> None:
    global _FLUSH_WRAPPED
    if _FLUSH_WRAPPED:
        return
    from trailtui.data import store as S

    orig = S._ChunkLoader.flush

    def flush(self: Any, cur: Any) -> None:
        _FLUSHING.append(list(self.parts))
        try:
            orig(self, cur)
        finally:
            _FLUSHING.pop()

    S._ChunkLoader.flush = flush
    _FLUSH_WRAPPED = True


@patch
def noasof() -> str | None:
    """A chunk from ONE input file (every big file) takes its source row by a 1-row cross join.

    The ASOF JOIN that maps each line to its file is a blocking operator: it materialises and
    sorts every parsed row (all the JSON columns) before the INSERT sees one. Chunks that hold
    many small files keep the ASOF JOIN (they are at most SMALL_FILE_RECORDS lines).
    """
    import re

    from trailtui.data import schema

    _wrap_flush()
    orig = schema.insert_sql
    asof = re.compile(r"FROM r ASOF JOIN \((SELECT \* FROM chunk_sources WHERE chunk_id = \d+)\) f"
                      r"\s+ON r\._line >= f\.first_line")

    def insert_sql(*, file_id: int, **kw: Any) -> str:
        sql = orig(file_id=file_id, **kw)
        parts = _FLUSHING[-1] if _FLUSHING else []
        if len({id(fr) for fr, _s, _c in parts}) == 1:
            sql, n = asof.subn(r"FROM r CROSS JOIN (\1) f", sql)  # WHATIF
            if n != 1:
                raise RuntimeError("whatif noasof: ASOF clause not found in insert_sql")
        return sql

    schema.insert_sql = insert_sql
    return None


@patch
def lowercase() -> str | None:
    """Look for all-lower-case keys in a sample of records before scanning the whole file.

    The product searches the whole mapped file for 4 markers (4 passes of ~0.1-0.3 s per
    330 MB, each needle starts or ends with '"', the commonest byte in JSON). An exporter that
    lower-cases keys does it to every record, so the 64 records spread over the file that
    classify() also samples tell; only then are all records checked.
    """
    from trailtui.data import ingest

    orig = ingest._fix_lowercase

    def _fix_lowercase(records: list[Any], data: Any, path: Any, notes: list[str]) -> None:
        step = max(1, len(records) // 64)
        sample = [bytes(r) for r in records[::step][:64]] + [bytes(records[-1])]
        if not any(m in text for text in sample for m in ingest._LOWER_MARKERS):  # WHATIF
            return
        orig(records, data, path, notes)

    ingest._fix_lowercase = _fix_lowercase
    return None


@patch
def writev() -> str | None:
    """Write a chunk with os.writev straight from the input mapping (no join, no copies)."""
    import os
    from array import array
    from itertools import accumulate

    from trailtui.data import ingest

    if not hasattr(os, "writev"):
        return "writev: os.writev missing on this platform, patch not applied"

    def write_chunk(parts: Any, dest: Path) -> Any:
        offsets = array("q", [0])
        count = 0
        nl = b"\n"
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for records, multiline in parts:
                if multiline:
                    fixed = []
                    for rec in records:
                        text = bytes(rec)
                        if b"\n" in text or b"\r" in text:
                            rec = text.replace(b"\r", b" ").replace(b"\n", b" ")
                        fixed.append(rec)
                    records = fixed
                offsets.extend(accumulate((len(r) + 1 for r in records), initial=offsets[-1]))
                offsets.pop(-1 - len(records))  # accumulate repeats the start value
                for begin in range(0, len(records), 512):  # 1024 iovecs = Linux IOV_MAX
                    iov: list[Any] = []
                    for rec in records[begin : begin + 512]:
                        iov.append(rec)
                        iov.append(nl)
                    want = sum(len(v) for v in iov)
                    done = os.writev(fd, iov)
                    if done != want:  # a short write (rare): finish it the slow way
                        rest = b"".join(bytes(v) for v in iov)[done:]
                        while rest:
                            rest = rest[os.write(fd, rest):]
                count += len(records)
        finally:
            os.close(fd)
        return ingest.Chunk(dest, offsets, count)

    ingest.write_chunk = write_chunk
    return None


@patch
def release() -> str | None:
    """Unmap an input file as soon as its last records are in the chunk, before the INSERT.

    The product releases it after the INSERT: the mapped 330 MB file then counts in the RSS
    while DuckDB parses. Only when the chunk holds one file (a chunk of many small files may
    be re-flushed file by file after an error, which needs the records).
    """
    from trailtui.data import ingest

    _wrap_flush()
    orig = ingest.write_chunk

    def write_chunk(parts: Any, dest: Path) -> Any:
        chunk = orig(parts, dest)
        flushing = _FLUSHING[-1] if _FLUSHING else []
        if len({id(fr) for fr, _s, _c in flushing}) == 1:
            fr, start, count = flushing[-1]
            if start + count >= len(fr.records):
                del parts  # WHATIF: drop our views first so the map can close
                fr.release()
        return chunk

    ingest.write_chunk = write_chunk
    return None


@patch
def ckpt_each() -> str | None:
    """CHECKPOINT (compress) after each big chunk instead of once after the last file.

    The table of the earlier files is then already compressed while the next file parses, so
    the uncompressed copy never holds all files at once (peak RSS at 1M).
    """
    from trailtui.data import ingest
    from trailtui.data import store as S

    orig = S._ChunkLoader.flush

    def flush(self: Any, cur: Any) -> None:
        big = self.pending_records >= ingest.SMALL_FILE_RECORDS
        orig(self, cur)
        if big:
            S.run(cur, "CHECKPOINT")  # WHATIF

    S._ChunkLoader.flush = flush
    return None


@patch
def ckpt_defer() -> str | None:
    """No CHECKPOINT inside load(): the caller compacts after the events are on screen.

    The bench worker always runs a CHECKPOINT after `loaded` (timed as compact_s), so the
    peak RSS still includes the compaction.
    """
    from trailtui.data import store as S

    orig_run = S.run
    orig_load = S.EventStore.load
    state = {"in_load": False}

    def run(cur: Any, sql: str, params: Any = None) -> Any:
        if state["in_load"] and sql.strip().upper() == "CHECKPOINT":
            return []  # WHATIF
        return orig_run(cur, sql, params)

    def load(self: Any, *a: Any, **k: Any) -> Any:
        state["in_load"] = True
        try:
            return orig_load(self, *a, **k)
        finally:
            state["in_load"] = False

    S.run = run
    S.EventStore.load = load
    return None


@patch
def prefetch() -> str | None:
    """Read (msgspec split) the next file in a thread while DuckDB parses the current chunk.

    DuckDB releases the GIL during the INSERT, so the Python pre-pass of file i+1 overlaps it.
    Costs one more mapped input file in RSS while both are alive.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    from trailtui.data import ingest

    pool = ThreadPoolExecutor(1, thread_name_prefix="prefetch")
    orig_read = ingest.read_file
    orig_expand = ingest.expand_paths
    state: dict[str, Any] = {"files": [], "fut": {}}

    def expand_paths(paths: Any) -> Any:
        e = orig_expand(paths)
        state["files"] = list(e.files)
        state["fut"] = {}
        return e

    def read_file(path: Path) -> Any:
        futs: dict[Path, Future[Any]] = state["fut"]
        fut = futs.pop(path, None)
        try:
            fr = fut.result() if fut is not None else orig_read(path)
        finally:
            files = state["files"]
            i = files.index(path) if path in files else -1
            if 0 <= i < len(files) - 1 and files[i + 1] not in futs:
                futs[files[i + 1]] = pool.submit(orig_read, files[i + 1])  # WHATIF
        return fr

    ingest.expand_paths = expand_paths
    ingest.read_file = read_file
    return None


@patch
def rawrecs() -> str | None:
    """Plain records stay msgspec.Raw objects: no memoryview per record (~1.1 us each).

    A memoryview per record costs 0.22 s per 200k records, more than the msgspec split itself.
    Raw objects support the buffer protocol, so b"".join and os.writev take them as they are.
    The per-record '{' check goes too: the proposal is to let DuckDB's records=true read fail
    on a non-object item and only then filter the file's records the slow way and retry (the
    patch does no retry; the generated data has no such items).
    """
    from trailtui.data import ingest

    orig = ingest._unwrap

    def _unwrap(records: list[Any], kind: str, path: Any, notes: list[str]) -> list[Any]:
        if kind == "plain":
            return records  # WHATIF
        return orig(records, kind, path, notes)

    ingest._unwrap = _unwrap
    return None


def apply(names: str) -> list[str]:
    notes = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name not in PATCHES:
            raise SystemExit(f"unknown --whatif {name!r}; known: {', '.join(PATCHES)}")
        note = PATCHES[name]()
        if note:
            notes.append(note)
    return notes
