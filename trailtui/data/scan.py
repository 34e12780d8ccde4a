"""Scheduling a load of many files: read ahead in parallel, report progress cheaply, flush
small files into shared chunks early enough that the first rows show within a second.

An organisation trail is tens of thousands of `.json.gz` objects of a few records each.
What cost time there was not parsing but per-file fixed costs (a DuckDB `count(*)` per file
for the progress line: 1.2 ms each) and reading one file after the other. Record parsing
stays in `ingest.read_file`; this module only decides when and where it runs.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import duckdb

from trailtui.data import ingest
from trailtui.data.timerange import TimeRange

# Files read ahead of the loader, bounded by bytes on disk so a few big downloads are never
# all in memory at once. Enough small objects to fill the next chunk while DuckDB parses this
# one (a shared chunk is SMALL_FILE_RECORDS records: ~5,000 objects of an org trail); with
# 256 the reader stopped after 1/20 of a chunk and reading and parsing ran one after the other.
READ_AHEAD_FILES: Final = 8192
READ_AHEAD_BYTES: Final = 48 << 20
READ_BATCH_FILES: Final = 32  # files per handoff to a reader thread
READ_BATCH_BYTES: Final = 4 << 20
# The first chunk of small files is loaded after this long, then after twice as long, and so
# on (each chunk costs a fixed ~50-100 ms in DuckDB, so the number of chunks stays small).
FIRST_FLUSH_SECONDS: Final = 0.4
# A load of up to this many files reports each one and shows the first file's events at once;
# a bigger one (an S3 tree) reports at most every PROGRESS_SECONDS (each message is a UI
# repaint) and shows its first events by the clock (the first flush), not after one tiny file.
FEW_FILES: Final = 64
PROGRESS_SECONDS: Final = 0.1


def workers() -> int:
    """Background reader threads. One: it reads while DuckDB parses the previous chunk (DuckDB
    runs without the GIL). More do not help: splitting records holds the GIL, and on 2,000
    small objects 1, 2 or 4 threads read as fast as the loop itself, 0.93-0.97x
    (bench/bench_read.py); processes must send the records back (0.75-1.3x, varying with the
    machine's load): the next step is readers that write their chunk themselves."""
    return 1


@dataclass
class Read:
    """One file's outcome, in the order the files were given."""

    path: Path
    size: int
    _records: ingest.FileRecords | None = None
    _error: BaseException | None = None

    def result(self) -> ingest.FileRecords:
        """The records, or whatever reading raised (InputError, NoEvents, MemoryError...)."""
        if self._error is not None:
            raise self._error
        assert self._records is not None
        return self._records


def _read(path: Path, size: int) -> Read:
    try:
        return Read(path, size, ingest.read_file(path))
    except Exception as exc:  # re-raised by `result()` in the loader's loop, which
        return Read(path, size, None, exc)  # names the file (as if read there)


def read_ahead(files: Sequence[Path], sizes: Sequence[int], *, threads: int | None = None,
               first_screen: bool = False) -> Generator[Read, None, None]:
    """Each file read by `ingest.read_file`, in order, with later files read in parallel.

    `threads` 0 (or a few files) reads in the caller's thread, as before; n >= 1 reads in n
    background threads, so reading overlaps DuckDB parsing the previous chunk (which runs
    without the GIL). Closing the iterator (a cancel, an error) drops what was read ahead and
    waits for nothing.
    """
    n = workers() if threads is None else threads
    if n <= 0 or len(files) <= 1:
        for path, size in zip(files, sizes, strict=True):
            yield _read(path, size)
        return
    if len(files) <= FEW_FILES:
        yield from _one_ahead(files, sizes, first_screen)
        return
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="trailtui-read")
    # Files go to the threads in batches (one future per batch, not per file: a handoff per
    # small object cost ~40% of reading it).
    pending: deque[tuple[Future[list[Read]], int, int]] = deque()  # batch, files, bytes
    in_flight_files = in_flight_bytes = 0
    nxt = 0
    batch: list[Read] = []
    try:
        while nxt < len(files) or pending:
            while nxt < len(files) and (not pending or (
                    in_flight_files < READ_AHEAD_FILES
                    and in_flight_bytes + sizes[nxt] <= READ_AHEAD_BYTES)):
                end = nxt + 1
                batch_bytes = sizes[nxt]
                while (end < len(files) and end - nxt < READ_BATCH_FILES
                       and batch_bytes + sizes[end] <= READ_BATCH_BYTES):
                    batch_bytes += sizes[end]
                    end += 1
                pending.append((pool.submit(_read_batch, files[nxt:end], sizes[nxt:end]),
                                end - nxt, batch_bytes))
                in_flight_files += end - nxt
                in_flight_bytes += batch_bytes
                nxt = end
            if not pending:
                return
            fut, count, batch_bytes = pending.popleft()
            in_flight_files -= count
            in_flight_bytes -= batch_bytes
            batch = fut.result()
            while batch:
                yield batch.pop(0)
    finally:
        for fut, _count, _bytes in pending:
            fut.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        for fut, _count, _bytes in pending:  # read but never loaded: unmap what they hold
            if fut.done() and not fut.cancelled():
                _release(fut.result())
        _release(batch)  # a batch cut short by a cancel


def _one_ahead(files: Sequence[Path], sizes: Sequence[int],
               first_screen: bool = False) -> Generator[Read, None, None]:
    """A few downloads: the next file is read (mapped, split) while the loader writes and
    DuckDB parses this one, which runs without the GIL. Never more than one ahead: with the
    file being loaded, two are in memory (it is unmapped once its chunk is written).

    With `first_screen` the second file is read only once the first is loaded: splitting it
    holds the GIL and a core, and delayed the first rows of 1M in 5 files from 0.7 to 1.5 s.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trailtui-read")
    ahead: Future[Read] | None = None
    try:
        for i in range(len(files)):
            got = ahead.result() if ahead is not None else _read(files[i], sizes[i])
            ahead = None
            if i + 1 < len(files) and not (first_screen and i == 0):
                ahead = pool.submit(_read, files[i + 1], sizes[i + 1])
            yield got
    finally:  # closed early (a cancel, an error): the file read ahead is unmapped
        if ahead is not None and not ahead.cancel():
            ahead.add_done_callback(lambda fut: _release([fut.result()]))
        pool.shutdown(wait=False, cancel_futures=True)


def _read_batch(files: Sequence[Path], sizes: Sequence[int]) -> list[Read]:
    return [_read(path, size) for path, size in zip(files, sizes, strict=True)]


def _release(reads: list[Read]) -> None:
    for got in reads:
        if got._records is not None:
            got._records.release()


class Pacer:
    """When to flush small files and when to send progress, by the clock."""

    def __init__(self) -> None:
        now = time.monotonic()  # made when reading starts: the first flush is due 0.4 s later
        self._next_flush = now + FIRST_FLUSH_SECONDS
        self._flush_gap = FIRST_FLUSH_SECONDS
        self._next_progress = now
        self._flushed = False

    def flush_due(self, pending: int) -> bool:
        """True at 0.4 s, then 0.8 s later, 1.6 s later...: early rows, few chunks. The first
        chunk also goes as soon as it holds FIRST_CHUNK_RECORDS (small files read fast: at
        0.4 s a 2,000-object tree had 15k records pending, 0.8 s to parse under load)."""
        now = time.monotonic()
        first = not self._flushed and pending >= ingest.FIRST_CHUNK_RECORDS
        if now < self._next_flush and not first:
            return False
        self._flushed = True
        self._flush_gap *= 2
        self._next_flush = now + self._flush_gap
        return True

    def progress_due(self) -> bool:
        now = time.monotonic()
        if now < self._next_progress:
            return False
        self._next_progress = now + PROGRESS_SECONDS
        return True


def sizes_of(files: Sequence[Path]) -> list[int]:
    """Bytes on disk of each file (0 when it cannot be read: reading names the problem)."""
    out: list[int] = []
    for f in files:
        try:
            out.append(os.stat(f).st_size)
        except OSError:
            out.append(0)
    return out


# --- the exact time filter ------------------------------------------------------------------

_DROP_OUTSIDE_SQL: Final = (
    "DELETE FROM events WHERE _file_id = ? AND NOT coalesce(eventTime BETWEEN ? AND ?, false)"
)


def drop_outside(cur: duckdb.DuckDBPyConnection, chunk_id: int, rng: TimeRange) -> int:
    """Delete the chunk's events outside the range (an event without a readable time
    cannot be shown to be inside: it goes too); returns how many."""
    lo, hi = rng.bounds()
    row = cur.execute(_DROP_OUTSIDE_SQL, [chunk_id, lo, hi]).fetchall()
    return int(row[0][0]) if row else 0


def cache_name(key: str, rng: TimeRange | None) -> str:
    """The cache folder for these files loaded with this range."""
    if rng is None:
        return key
    import hashlib

    return key + "-t" + hashlib.sha256(rng.key().encode()).hexdigest()[:8]


def skipped_text(rng: TimeRange | None, pruned: int, outside: int) -> str:
    """What the range left out, for the status line and the headless summary."""
    if rng is None:
        return ""
    parts = []
    if pruned:
        parts.append(f"{pruned:,} object{'s' if pruned != 1 else ''} not opened (day folder)")
    if outside:
        parts.append(f"{outside:,} event{'s' if outside != 1 else ''} outside")
    return f"{rng.describe()}" + (": " + ", ".join(parts) if parts else "")
