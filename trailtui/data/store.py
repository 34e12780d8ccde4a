"""EventStore: the one in-process DuckDB that holds every loaded event, and its cache.

Storage follows research/perf.md: an in-memory database attached with COMPRESS (2.2x less
memory, ~3x faster facets after a CHECKPOINT); each record's original JSON stays in the NDJSON
chunk it was loaded from and is found again by (`_file_id`, `_line`), so the raw text never
doubles memory. A cache folder per set of input files keeps the chunks and a `.duckdb` copy of
the table, so reopening the same unchanged files skips parsing altogether.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, Final

import duckdb
import msgspec

from trailtui.data import cache as cache_files
from trailtui.data import dedup, guard, ingest, investigate, packed, placement, scan, schema
from trailtui.data.message_log import MessageLog
from trailtui.data.salvage_chunk import ingest_note, salvage_chunk
from trailtui.data.timerange import TimeRange, prune

CACHE_FORMAT = 5  # bump when the table layout changes: old caches are then ignored


@dataclass
class FileReport:
    """What happened to one input file."""

    path: str
    kind: str
    events: int  # records read from the file
    added: int = 0  # new events after removing duplicates already loaded


@dataclass
class LoadReport:
    """The outcome of one `load` call: what loaded, what was skipped and why."""

    files: list[FileReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    events_added: int = 0
    duplicates: int = 0
    from_cache: bool = False
    cancelled: bool = False
    seconds: float = 0.0
    pruned_objects: int = 0  # S3 objects never opened: their day folder is outside the range
    outside_range: int = 0  # events read but outside the time range

    @property
    def loaded_anything(self) -> bool:
        return any(f.added for f in self.files) or (self.from_cache and self.events_added > 0)

    def messages(self) -> list[str]:
        """Errors then warnings, each one line naming the file."""
        return [*self.errors, *self.warnings]


@dataclass
class LoadProgress:
    """Sent while loading: bytes of input done, events in the table, the file at hand."""

    file: str
    file_index: int
    file_count: int
    bytes_done: int
    bytes_total: int
    events: int
    phase: str  # "reading" | "loading" | "ready" (first events queryable) | "done"


ProgressFn = Callable[[LoadProgress], None]


class Cancelled(Exception):
    """Raised inside a load when the user cancelled it."""


def default_cache_dir() -> Path:
    """$TRAILTUI_CACHE_DIR, else $XDG_CACHE_HOME/trailtui, else ~/.cache/trailtui."""
    env = os.environ.get("TRAILTUI_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "trailtui"


def cache_key(files: Sequence[Path]) -> str:
    """Changes whenever a file is added, removed, resized, touched or replaced (inode, ctime)."""
    return cache_files.key(files, CACHE_FORMAT)


class EventStore:
    """Owns the DuckDB connection, the loaded events and where each original record lives."""

    def __init__(self, *, cache: bool = True, cache_dir: Path | None = None,
                 threads: int | None = None, time_range: TimeRange | None = None) -> None:
        self.use_cache = cache
        self.time_range = time_range  # `--since/--until`: every load keeps only this range
        self.range_skipped = [0, 0]  # objects not opened, events outside: over every load
        self.cache_dir = cache_dir or default_cache_dir()
        # No extension is fetched from the network by itself; memory capped (data/guard.py).
        self.con = duckdb.connect(":memory:", config=guard.CONNECT_CONFIG)
        guard.configure(self.con)
        run(self.con, "SET TimeZone = 'UTC'")
        if threads:
            run(self.con, f"SET threads = {int(threads)}")
        run(self.con, "ATTACH ':memory:' AS m (COMPRESS)")
        # Where `events` lives when not in `m`: on disk or the cache file (data/placement.py).
        run(self.con, "ATTACH ':memory:' AS ev")
        run(self.con, "USE m")
        run(self.con, placement.SEARCH_PATH_SQL)
        self._create_table()
        self.placement = "memory"  # "memory" | "disk" | "cache" (see data/placement.py)
        self._events_file: Path | None = None  # the file attached as `ev` (disk or cache)
        self._events_read_only = False
        self._input_bytes = 0  # of the first load: decides memory or disk when made writable
        self._lock = threading.Lock()
        self._chunks: dict[int, ingest.Chunk] = {}
        self._next_chunk = 0
        # The pid in the name lets the next start remove what a killed session left behind.
        cache_files.sweep_temp(Path(tempfile.gettempdir()))
        self._tmp = Path(tempfile.mkdtemp(prefix=f"trailtui-{os.getpid()}-"))
        self._running: set[duckdb.DuckDBPyConnection] = set()
        self.sources: list[FileReport] = []
        self._pending_cache: tuple[Path, Path, LoadReport, int] | None = None
        self._scratch: list[Path] = []  # work folders in the cache root that are not a cache
        self.log = MessageLog()  # every load error and note of the session (issue 8)
        self.duplicates = 0  # records merged as exact copies, over every load
        self._verifier = cache_files.Verifier()  # cached chunks: each block checked on first read
        self._verifier.on_damage = self._cache_damaged
        self._packed = packed.Packed(self._verifier)  # cached chunks: records in zstd frames
        self._open_cache_dir: Path | None = None

    # -- connections ------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one thread (a DuckDB connection object is not thread-safe)."""
        cur = self.con.cursor()
        run(cur, "USE m")
        run(cur, placement.SEARCH_PATH_SQL)
        run(cur, "SET TimeZone = 'UTC'")
        return cur

    def interrupt_all(self) -> None:
        """Interrupt every query registered as running (a cancelled worker does not stop one)."""
        with self._lock:
            running = list(self._running)
        for cur in running:
            with contextlib.suppress(duckdb.Error):
                cur.interrupt()

    def register(self, cur: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            self._running.add(cur)

    def unregister(self, cur: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            self._running.discard(cur)

    def close(self) -> None:
        """Close DuckDB and remove temporary chunks (an unsaved cache folder included)."""
        pending, self._pending_cache = self._pending_cache, None
        try:
            self.con.close()
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)
            if pending is not None:
                shutil.rmtree(pending[1], ignore_errors=True)
            for folder in self._scratch:
                shutil.rmtree(folder, ignore_errors=True)

    # -- table ------------------------------------------------------------------------------

    def _create_table(self) -> None:
        spec = schema.USER_IDENTITY_SPEC.replace("'", "''")  # our constant, not user data
        ui_type = run(self.con, f"SELECT typeof(json_transform('{{}}'::JSON, '{spec}'))")
        cols = []
        for name, typ in schema.EVENT_COLUMNS:
            cols.append(f'"{name}" {ui_type[0][0] if typ == "STRUCT" else typ}')
        run(self.con, f"CREATE TABLE IF NOT EXISTS events ({', '.join(cols)})")
        run(self.con, schema.CHUNK_SOURCES_SQL)
        self._create_views(self.con)

    @staticmethod
    def _create_views(con: duckdb.DuckDBPyConnection) -> None:
        """The names users' existing queries are written against (DuckDB article, Athena, Lake)."""
        for stmt in schema.COMPAT_SQL:
            run(con, stmt)
        investigate.create_views(con)  # actors, sessions, first_seen (issue 11)

    def event_count(self) -> int:
        """Events loaded. Any thread: it uses a cursor of its own (the shared connection
        object must not be used from two threads, and the loader and the UI both ask)."""
        cur = self.cursor()
        try:
            return self.event_count_cur(cur)
        finally:
            cur.close()

    # -- placement (data/placement.py) -----------------------------------------------------

    def _attach_events(self, path: Path | None, *, read_only: bool = False) -> None:
        """Make `ev` the database at `path` (None: an empty in-memory one). The tables of `m`
        go first when `ev` is to hold them (only ever on an empty store). The swap is two
        statements, so a query of another thread can only miss `ev` for that instant; if the
        new one cannot be attached, the previous one is attached again (nothing is lost)."""
        previous, previous_ro = self._events_file, self._events_read_only
        if path is not None and self.placement == "memory":
            run(self.con, "DROP TABLE IF EXISTS m.main.events")
            run(self.con, "DROP TABLE IF EXISTS m.main.chunk_sources")
        run(self.con, "DETACH ev")
        try:
            self._attach(path, read_only)
        except duckdb.Error:
            try:
                self._attach(previous, previous_ro)
            except duckdb.Error:
                self._attach(None, False)
                previous = None
            if previous is None:
                self._back_to_memory()  # empty tables in `m` again
            raise
        self._events_file, self._events_read_only = path, read_only

    def _attach(self, path: Path | None, read_only: bool) -> None:
        if path is None:
            run(self.con, "ATTACH ':memory:' AS ev")
        else:
            run(self.con, f"ATTACH ? AS ev{' (READ_ONLY)' if read_only else ''}", [str(path)])

    def _back_to_memory(self) -> None:
        """Empty tables in `m` again (an attach failed before anything was loaded)."""
        self.placement, self._events_file, self._events_read_only = "memory", None, False
        self._create_table()

    def _prepare_store(self, input_bytes: int, folder: Path) -> None:
        """Before a load writes: a first load above the threshold gets an on-disk store in
        `folder` (the cache work folder, so saving the cache is a rename); a store reopened
        from the cache is made writable first."""
        if self.placement == "cache":
            try:
                self._make_writable(folder)
            except (OSError, duckdb.Error) as exc:
                # The load then names each file it could not add; nothing loaded is lost.
                self.log.add(f"could not copy the cached events to add files to them "
                             f"({_first_line(exc)})", "error", "Store")
            return
        if self.placement != "memory" or self.event_count() or self.sources:
            return
        self._input_bytes = input_bytes
        if not placement.wants_disk(input_bytes):
            return
        cols = self._columns("m")
        path = folder / "events.duckdb"
        try:
            path.unlink(missing_ok=True)
            self._attach_events(path)
        except (OSError, duckdb.Error) as exc:
            self.log.add(f"on-disk store unusable ({_first_line(exc)}): loading into memory",
                         "warning", "Store")
            return
        self.placement = "disk"
        self._disk_settings()
        run(self.con, f"CREATE TABLE ev.main.events ({packed.table_ddl(cols)})")
        run(self.con, schema.CHUNK_SOURCES_SQL.replace("chunk_sources", "ev.main.chunk_sources",
                                                        1))

    def _disk_settings(self) -> None:
        """Bounded memory: DuckDB spills to the session's temp folder beyond its limit (not
        the cache folder, which is renamed and must hold only the cache)."""
        run(self.con, "SET memory_limit = ?", [placement.disk_memory_limit()])
        run(self.con, "SET temp_directory = ?", [str(self._tmp / "spill")])

    def _make_writable(self, folder: Path) -> None:
        """The store was reopened from the cache (read-only, queried in place): before the
        first write, copy it into memory, or (disk size) copy its file into `folder`. The
        cache itself is never written."""
        src = self._events_file
        assert src is not None
        if not placement.wants_disk(self._input_bytes):
            run(self.con, "CREATE TABLE m.main.events AS SELECT * FROM ev.main.events")
            run(self.con, "CREATE TABLE m.main.chunk_sources AS "
                          "SELECT * FROM ev.main.chunk_sources")
            self.placement = "memory"
            self._attach_events(None)
            return
        folder.mkdir(parents=True, exist_ok=True)
        dst = folder / "events.duckdb"
        shutil.copyfile(src, dst)
        self._attach_events(dst)
        self.placement = "disk"
        self._disk_settings()

    def _columns(self, db: str) -> list[tuple[Any, ...]]:
        """(name, type) of the events table of database `db`, in order."""
        return run(self.con, "SELECT column_name, data_type FROM duckdb_columns() WHERE "
                             "database_name = ? AND schema_name = 'main' AND "
                             "table_name = 'events' ORDER BY column_index", [db])

    def _events_db(self) -> str:
        """The database that holds `events` now: `m` or `ev`."""
        return "m" if self.placement == "memory" else placement.EVENTS_DB

    # -- loading ----------------------------------------------------------------------------

    def load(
        self,
        paths: Sequence[str | os.PathLike[str]],
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        first_screen: bool = False,
        on_cursor: Callable[[duckdb.DuckDBPyConnection | None], None] | None = None,
    ) -> LoadReport:
        """Load files, folders and globs (see `_load`); the report goes into the log too."""
        report = self._load(paths, progress, cancel, first_screen, on_cursor)
        self.duplicates += report.duplicates
        self.log.add_report(report)
        return report

    def _load(
        self,
        paths: Sequence[str | os.PathLike[str]],
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        first_screen: bool = False,
        on_cursor: Callable[[duckdb.DuckDBPyConnection | None], None] | None = None,
    ) -> LoadReport:
        """Load files, folders and globs; a file that fails never costs the files that loaded.

        Runs in a worker thread in the app. `cancel` is checked between steps and the running
        DuckDB statement is interrupted when the app calls `interrupt_all` (or through the
        cursor handed to `on_cursor`, which is called with None once the load is over). Once
        `cancel` is set nothing more is added: a slice that finished loading after the cancel
        is taken out again.
        """
        t0 = time.perf_counter()
        report = LoadReport()
        expanded = ingest.expand_paths(paths)
        report.errors.extend(expanded.problems)
        kept = prune(expanded.files, self.time_range)
        files, digest_notes = ingest.set_aside_digests(kept.files)  # one note, not one each
        report.warnings.extend(digest_notes)
        report.pruned_objects = kept.skipped
        self.range_skipped[0] += kept.skipped
        if not files:
            report.seconds = time.perf_counter() - t0
            return report
        cache_dir: Path | None = None
        fresh = self.event_count() == 0 and not self.sources
        rng = self.time_range
        if self.use_cache and fresh and not (rng is not None and rng.relative):
            try:
                cache_files.private_dir(self.cache_dir)
                cache_files.sweep(self.cache_dir)  # work folders of interrupted loads
                cache_dir = self.cache_dir / scan.cache_name(cache_key(files), rng)
                if self._open_cache(cache_dir, report):
                    report.seconds = time.perf_counter() - t0
                    if progress:
                        n = self.event_count()
                        total = sum(f.stat().st_size for f in files)
                        progress(LoadProgress("", len(files), len(files), total, total, n, "done"))
                    return report
            except OSError as exc:
                report.warnings.append(f"cache unusable ({exc}); loading without it")
                cache_dir = None
        # Chunks are written into the cache root under a private name and the folder is renamed
        # into place by save_cache(), so two processes never clobber each other's cache.
        work_dir = (
            cache_dir.with_name(f"{cache_dir.name}.tmp-{os.getpid()}-{id(self)}") / "chunks"
            if cache_dir else self._tmp
        )
        try:
            work_dir.mkdir(parents=True, exist_ok=True)
            if cache_dir:
                cache_files.private_dir(work_dir.parent)
        except OSError as exc:
            report.warnings.append(f"cache unusable ({exc}); loading without it")
            cache_dir, work_dir = None, self._tmp
        sizes = scan.sizes_of(files)
        total_bytes = sum(sizes)
        self._prepare_store(total_bytes, work_dir.parent if cache_dir else self._tmp)
        loader = _ChunkLoader(self, work_dir, report, cancel)
        cur = self.cursor()
        with contextlib.suppress(duckdb.Error):  # a DuckDB without the setting
            # Otherwise DuckDB may run the ASOF join that finds each line's file as a nested
            # loop plus an aggregate (lines x files rows): seconds for an S3 tree.
            run(cur, "SET asof_loop_join_threshold = 0")
        # Rows go into the table in whatever order the parsing threads finish them (each row
        # keeps its file and line; every view orders explicitly): 20% less CPU and ~100 MB
        # less memory per 200k events than keeping the file's order.
        run(cur, "SET SESSION preserve_insertion_order = false")
        self.register(cur)
        investigate.create_views(cur)  # back to live views: tables built earlier go stale
        if on_cursor is not None:
            on_cursor(cur)
        done_bytes = 0
        base_events = self.event_count_cur(cur)
        pacer = scan.Pacer()

        def tell(i: int, path: str, phase: str) -> None:
            if progress:
                # Counted here, not by DuckDB: a count(*) per file of an S3 tree cost more
                # than reading the file.
                progress(LoadProgress(path, i, len(files), done_bytes, total_bytes,
                                      base_events + report.events_added, phase))

        # Files are read (gunzipped, split) ahead in parallel threads; loaded in order here.
        reads = scan.read_ahead(files, sizes, first_screen=first_screen)
        try:
            for i, got in enumerate(reads):
                path = got.path
                if cancel is not None and cancel.is_set():
                    raise Cancelled
                if len(files) <= scan.FEW_FILES or pacer.progress_due():
                    tell(i, str(path), "reading")
                try:
                    fr = got.result()
                except ingest.NoEvents as exc:
                    report.warnings.append(str(exc))
                except ingest.InputError as exc:
                    report.errors.append(str(exc))
                except MemoryError:
                    report.errors.append(f"{path}: out of memory while reading")
                except (RecursionError, ValueError, OSError, msgspec.MsgspecError) as exc:
                    # A reader bug or an input nobody foresaw: one message, never a traceback,
                    # and the other files still load.
                    report.errors.append(f"{path}: could not read ({type(exc).__name__}: "
                                         f"{_first_line(exc)})")
                else:
                    report.warnings.extend(fr.notes)
                    big = len(fr.records) > ingest.SMALL_FILE_RECORDS or fr.bytes_in > (32 << 20)
                    if big:
                        loader.flush(cur)
                        # A big file loads in slices: the first few thousand events show at
                        # once, and the count and progress move while the rest loads.
                        total = len(fr.records)
                        split = ingest.FIRST_CHUNK_RECORDS if first_screen and i == 0 else 0
                        start = 0
                        while start < total:
                            size = split if (start == 0 and split) else ingest.SLICE_RECORDS
                            if total - (start + size) < size // 2:
                                size = total - start  # no tiny last slice
                            loader.add_part(fr, start, size)
                            loader.flush(cur)
                            start += size
                            if cancel is not None and cancel.is_set():
                                raise Cancelled
                            if progress and start < total:
                                progress(LoadProgress(
                                    str(path), i, len(files),
                                    done_bytes + got.size * start // total, total_bytes,
                                    base_events + report.events_added, "ready"))
                    else:
                        loader.add_part(fr, 0, len(fr.records))
                        # Small files share a chunk; on the first screen the first chunks go
                        # in by the clock too, so rows show within a second of any tree.
                        if loader.pending_records > ingest.SMALL_FILE_RECORDS or (
                                first_screen and pacer.flush_due(loader.pending_records)):
                            loader.flush(cur)
                            tell(i + 1, str(path), "ready")
                done_bytes += got.size
                if first_screen and i == 0 and len(files) <= scan.FEW_FILES:
                    loader.flush(cur)
                    tell(i + 1, str(path), "ready")
            loader.flush(cur)
        except (Cancelled, duckdb.InterruptException):
            report.cancelled = True
            if on_cursor is not None:
                on_cursor(None)  # no interrupt may cut the clean-up short
            self.unregister(cur)
            loader.abandon(cur)
        finally:
            reads.close()
            if on_cursor is not None:
                on_cursor(None)
            self.unregister(cur)
            cur.close()
        if cache_dir and not report.cancelled and report.events_added:
            self._pending_cache = (cache_dir, work_dir.parent, report, len(expanded.problems))
        elif cache_dir:
            self._scratch.append(work_dir.parent)  # no cache to write: close() removes it
        report.seconds = time.perf_counter() - t0
        if progress:
            progress(LoadProgress("", len(files), len(files), total_bytes, total_bytes,
                                  self.event_count(), "done"))
        return report

    def _new_chunk_id(self) -> int:
        with self._lock:
            self._next_chunk += 1
            return self._next_chunk

    @staticmethod
    def event_count_cur(cur: duckdb.DuckDBPyConnection) -> int:
        row = run(cur, "SELECT count(*) FROM events")
        return int(row[0][0]) if row else 0

    # -- raw records ------------------------------------------------------------------------

    def raw_event(self, file_id: int, line: int) -> bytes:
        """The original record (one JSON object) as it was loaded."""
        chunk = self._chunks.get(int(file_id))
        if chunk is None:
            raise KeyError(f"no loaded chunk {file_id}")
        if int(file_id) in self._packed:
            return self._packed.record(int(file_id), int(line))
        start, end = chunk.offsets[line], chunk.offsets[line + 1] - 1
        self._verifier.check(int(file_id), chunk.path, start, end + 1)
        with chunk.path.open("rb") as fh:
            fh.seek(start)
            return fh.read(end - start)

    def raw_events(self, keys: Iterable[tuple[int, int]]) -> Iterable[bytes]:
        """Original records for many (file_id, line) keys, in the order given; streams."""
        handles: dict[int, Any] = {}
        try:
            for file_id, line in keys:
                chunk = self._chunks[int(file_id)]
                if int(file_id) in self._packed:
                    yield self._packed.record(int(file_id), int(line))
                    continue
                fh = handles.get(file_id)
                if fh is None:
                    fh = handles[file_id] = chunk.path.open("rb")
                start, end = chunk.offsets[line], chunk.offsets[line + 1] - 1
                self._verifier.check(int(file_id), chunk.path, start, end + 1)
                fh.seek(start)
                yield fh.read(end - start)
        finally:
            for fh in handles.values():
                fh.close()

    # -- cache ------------------------------------------------------------------------------

    def compact(self) -> bool:
        """CHECKPOINT the in-memory database: compresses the table (~2x less memory, ~3x
        faster facets). Kept out of `load` (0.8 s at 200k, ~4 s at 1M) so the caller runs it
        in the background once the events are on screen. Best effort: DuckDB refuses while
        another cursor writes (a view being built), so it tries a few times; False if not done.
        """
        cur = self.cursor()
        self.register(cur)
        try:
            for attempt in range(20):
                try:
                    run(cur, "CHECKPOINT")
                    if self.placement == "disk":
                        run(cur, "CHECKPOINT ev")
                    return True
                except duckdb.InterruptException:
                    return False
                except duckdb.TransactionException:
                    time.sleep(0.1 * (attempt + 1))
            return False
        finally:
            self.unregister(cur)
            cur.close()

    def save_cache(self) -> str | None:
        """Write the cache for the files loaded first; None when done, else why not.

        Separate from `load` so the UI shows events (and headless mode prints its answer)
        before paying for the copy. Uses its own cursor: safe from a worker thread.
        """
        pending, self._pending_cache = self._pending_cache, None
        if pending is None:
            return None
        cache_dir, work, report, skip_errors = pending
        try:
            self._write_cache(cache_dir, work, report, skip_errors)
        except (OSError, duckdb.Error) as exc:
            shutil.rmtree(work, ignore_errors=True)
            return f"could not write the cache ({_first_line(exc)})"
        return None

    def _write_cache(self, cache_dir: Path, work: Path, report: LoadReport,
                     skip_errors: int = 0) -> None:
        """Copy the table into `<work>/events.duckdb`, then move the folder into place."""
        db = work / "events.duckdb"
        in_place = self.placement == "disk" and self._events_file == db
        if in_place:
            # The store is already this file: checkpoint it, and it is the cache from now on
            # ("cache": the next load copies it before writing). It stays attached as it is:
            # detaching it while other cursors read it would leave DuckDB holding the file.
            run(self.con, "CHECKPOINT ev")
            self.placement = "cache"
        else:
            self._copy_table(db)
        for chunk_id, chunk in self._chunks.items():
            with (work / "chunks" / f"{chunk_id}.idx").open("wb") as fh:
                chunk.offsets.tofile(fh)
            packed.pack(chunk.path, work / "chunks" / f"{chunk_id}.zst",
                        work / "chunks" / f"{chunk_id}.frm", chunk.offsets, chunk.count)
        manifest = {
            "format": CACHE_FORMAT,
            "chunks": sorted(self._chunks),
            "files": [f.__dict__ for f in report.files],
            "warnings": report.warnings,
            # Files that failed (not paths that matched nothing: those are re-checked each run).
            "errors": report.errors[skip_errors:],
            "duplicates": report.duplicates,
            "input_bytes": self._input_bytes,
            "integrity": cache_files.describe(
                work, {cid: c.offsets[c.count] for cid, c in self._chunks.items()}),
        }
        (work / "manifest.json").write_text(json.dumps(manifest))
        cache_files.make_private(work)
        shutil.rmtree(cache_dir, ignore_errors=True)
        work.rename(cache_dir)
        if in_place:
            self._events_file = cache_dir / "events.duckdb"  # attached; moved with its folder
        # The chunks moved with the folder: read them from their frames from now on (the
        # NDJSON copies go: the cache keeps only the compressed records).
        indexes = {cid: packed.read_index(cache_dir / "chunks" / f"{cid}.frm")
                   for cid in self._chunks}
        for cid, chunk in self._chunks.items():
            self._packed.add(cid, cache_dir / "chunks" / f"{cid}.zst", chunk.offsets,
                             *indexes[cid])
            with contextlib.suppress(OSError):
                (cache_dir / "chunks" / chunk.path.name).unlink()
            chunk.path = cache_dir / "chunks" / f"{cid}.zst"
        self._verifier_watch(cache_dir, manifest)
        self._open_cache_dir = cache_dir
        removed = cache_files.evict(cache_dir.parent, keep=cache_dir.name)
        if removed:
            self.log.add(f"cache: {len(removed):,} least recently used entr"
                         f"{'y' if len(removed) == 1 else 'ies'} removed "
                         f"({cache_files.human(sum(e.size for e in removed))}) to stay under "
                         f"{cache_files.human(cache_files.max_bytes())}")

    def _copy_table(self, db: Path) -> None:
        """Copy the events (wherever they live) into a new DuckDB file `db`."""
        cur = self.cursor()
        src = self._events_db()
        db.unlink(missing_ok=True)
        run(cur, "ATTACH ? AS cache_out", [str(db)])
        try:
            cols = self._columns(src)
            run(cur, f"CREATE TABLE cache_out.events ({packed.table_ddl(cols)})")
            run(cur, f"INSERT INTO cache_out.events SELECT * FROM {src}.main.events")
            run(cur, "CREATE TABLE cache_out.chunk_sources AS "
                     f"SELECT * FROM {src}.main.chunk_sources")
        finally:
            run(cur, "DETACH cache_out")
            cur.close()

    def _add_packed(self, cid: int, folder: Path, offsets: Any) -> None:
        starts, lines = packed.read_index(folder / f"{cid}.frm")
        self._packed.add(cid, folder / f"{cid}.zst", offsets, starts, lines)

    def _verifier_watch(self, cache_dir: Path, manifest: dict[str, Any]) -> None:
        for cid in manifest["chunks"]:
            self._verifier.watch(int(cid), manifest["integrity"][f"chunks/{cid}.zst"]["crc"])

    def _cache_damaged(self, path: Path) -> None:
        """A cached chunk failed its check after opening: the next start rebuilds."""
        folder = self._open_cache_dir
        if folder is not None:
            with contextlib.suppress(OSError):
                (folder / "manifest.json").unlink()
        self.log.add(f"cache damaged ({path.name} changed on disk): its records are not shown; "
                     "reopen the files to rebuild", "error", "Cache")

    def _open_cache(self, cache_dir: Path, report: LoadReport) -> bool:
        manifest_path = cache_dir / "manifest.json"
        if not manifest_path.is_file():
            return False
        try:
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("format") != CACHE_FORMAT:
                return False
            damage = cache_files.verify(cache_dir, manifest)
            if damage is not None:
                report.warnings.append(f"cache damaged ({damage}): rebuilt from the files")
                shutil.rmtree(cache_dir, ignore_errors=True)
                return False
            chunks: dict[int, ingest.Chunk] = {}
            for cid in manifest["chunks"]:
                idx = array("q")
                idx_path = cache_dir / "chunks" / f"{cid}.idx"
                with idx_path.open("rb") as fh:
                    idx.frombytes(fh.read())
                chunks[int(cid)] = ingest.Chunk(cache_dir / "chunks" / f"{cid}.zst", idx,
                                                len(idx) - 1)
                self._add_packed(int(cid), cache_dir / "chunks", idx)
            # Queried in place, read-only: no copy (data/placement.py).
            want = self._columns("m")
            self._attach_events(cache_dir / "events.duckdb", read_only=True)
            self.placement = "cache"
            got = self._columns(placement.EVENTS_DB)
            if [c[:2] for c in got] != [c[:2] for c in want]:
                raise ValueError("its events table has other columns")
            run(self.con, "SELECT count(*) FROM ev.main.chunk_sources")
        except (OSError, ValueError, KeyError, TypeError, AttributeError, duckdb.Error) as exc:
            # Only called on an empty store: back to empty in-memory tables.
            self._packed = packed.Packed(self._verifier)
            if self.placement != "memory":
                with contextlib.suppress(duckdb.Error):
                    self._attach_events(None)
                    self._back_to_memory()
            if "lock" in str(exc).lower():
                # Another session holds it for writing (it built it on disk and is still
                # open): its data is fine. Leave it alone and write no cache over it.
                raise OSError("in use by another trailtui session") from exc
            report.warnings.append(
                f"cache unreadable ({_first_line(exc)}): rebuilt from the files")
            shutil.rmtree(cache_dir, ignore_errors=True)
            return False
        self._input_bytes = int(manifest.get("input_bytes", 0))
        if placement.wants_disk(self._input_bytes):
            self._disk_settings()  # a big store stays in bounded memory when reopened too
        self._chunks.update(chunks)
        self._verifier_watch(cache_dir, manifest)
        self._open_cache_dir = cache_dir
        cache_files.touch(cache_dir)
        self._next_chunk = max(chunks, default=0)
        report.from_cache = True
        report.files = [FileReport(**f) for f in manifest["files"]]
        report.errors.extend(manifest.get("errors", []))
        report.warnings.extend(manifest.get("warnings", []))
        report.duplicates = int(manifest.get("duplicates", 0))
        report.events_added = self.event_count()
        self.sources.extend(report.files)
        return True


@dataclass
class _Kept:
    """A chunk after items that are not objects were taken out, and each part's line count."""

    chunk: ingest.Chunk
    counts: list[int]


class _ChunkLoader:
    """Collects the records of small files into shared chunks and loads each chunk.

    An S3 trail tree is hundreds of files of a few records each; one DuckDB statement per file
    would cost ~20 ms each, so files share a chunk and a row finds its file by line number.
    """

    def __init__(self, store: EventStore, work_dir: Path, report: LoadReport,
                 cancel: threading.Event | None = None) -> None:
        self.store = store
        self.cancel = cancel
        self.work_dir = work_dir
        self.report = report
        self.parts: list[tuple[ingest.FileRecords, int, int]] = []
        self.pending_records = 0
        self.in_flight: list[int] = []
        self.outside = 0  # events of the last chunk outside the time range (dropped)
        # A file split over several chunks finds its report here (a list scan per file would
        # be quadratic in the number of files of an S3 tree).
        self.by_path: dict[str, FileReport] = {f.path: f for f in report.files}

    def add_part(self, fr: ingest.FileRecords, start: int, count: int) -> None:
        self.parts.append((fr, start, count))
        self.pending_records += count

    def flush(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Write the pending records as one chunk and load it; a failure names each file."""
        if not self.parts:
            return
        parts, self.parts, self.pending_records = self.parts, [], 0
        chunk_id = self.store._new_chunk_id()
        path = self.work_dir / f"{chunk_id}.ndjson"
        chunk = ingest.write_chunk(
            [(fr.records[start : start + count], fr.multiline) for fr, start, count in parts],
            path,
        )
        sources = {id(fr): fr for fr, _s, _c in parts}
        single = len(sources) == 1
        if single:
            # The records are on disk now: unmap the input before DuckDB parses (a 330 MB
            # download would otherwise count twice). Shared chunks keep theirs for a retry.
            fr, start, count = parts[-1]
            if start + count >= len(fr.records):
                fr.release()
        kept = self._drop_non_objects(chunk, parts)
        chunk = kept.chunk
        self.in_flight = [chunk_id]
        try:
            try:
                added = self._insert(cur, chunk_id, chunk, parts, kept.counts, single)
            except duckdb.InterruptException:
                raise
            except duckdb.Error:
                # One bad record (invalid UTF-8, a repeated key...) must cost that record
                # only: find the lines DuckDB refuses, take them out, and try once more.
                self._forget(cur, chunk_id)
                repaired = salvage_chunk(chunk, parts, kept.counts)
                if repaired is None:
                    raise
                kept = _Kept(*repaired)
                chunk = kept.chunk
                added = self._insert(cur, chunk_id, chunk, parts, kept.counts, single)
            if self.cancel is not None and self.cancel.is_set():
                # The interrupt fell between two statements and was lost: this chunk is
                # still in flight, so raising here takes it out again (`abandon`).
                raise Cancelled
        except (duckdb.InterruptException, Cancelled):
            raise  # still in flight: the load's `abandon` takes the chunk out again
        except duckdb.Error as exc:
            self._forget(cur, chunk_id)
            self.in_flight = []
            path.unlink(missing_ok=True)
            if not single:
                # Small files share a chunk: one bad file (say, not UTF-8) must not cost the
                # others. Load each file on its own so only the bad one is named.
                self.in_flight = []
                for source_id in sources:
                    self.parts = [part for part in parts if id(part[0]) == source_id]
                    self.pending_records = sum(c for _f, _s, c in self.parts)
                    self.flush(cur)
                return
            names = ", ".join(sorted(str(fr.source) for fr in sources.values()))
            reason = _CHUNK_NAME.sub("", _first_line(exc))
            self.report.errors.append(f"{names}: could not load ({reason})")
            return
        self.in_flight = []
        seen: dict[str, FileReport] = {}
        for (fr, start, part_count), count in zip(parts, kept.counts, strict=True):
            key = str(fr.source)
            rep = seen.get(key) or self.by_path.get(key)
            if rep is None:
                rep = FileReport(key, fr.kind, 0, 0)
                self.report.files.append(rep)
                self.store.sources.append(rep)
                self.by_path[key] = rep
            seen[key] = rep
            rep.events += count
            if start + part_count >= len(fr.records):
                fr.release()
                note = ingest_note(fr, rep.events)
                if note:
                    self.report.warnings.append(note)
        for key, rep in seen.items():
            n = int(added.get(key, 0))
            rep.added += n
            self.report.events_added += n
        outside = self.outside
        self.report.duplicates += chunk.count - outside - sum(int(v) for v in added.values())
        self.report.outside_range += outside
        self.store.range_skipped[1] += outside

    def _insert(self, cur: duckdb.DuckDBPyConnection, chunk_id: int, chunk: ingest.Chunk,
                parts: list[tuple[ingest.FileRecords, int, int]], counts: list[int],
                single: bool) -> dict[str, int]:
        """Parse one chunk into `events`, drop duplicates; new events per source file."""
        # One column list per chunk_sources column, inserted in one statement: executemany
        # costs about 1 ms per row, i.e. seconds for an S3 tree of a few thousand files.
        cols: list[list[object]] = [[] for _ in range(7)]
        line = 0
        for (fr, _start, _count), count in zip(parts, counts, strict=True):
            if not count:
                continue  # no line of this chunk is the file's: nothing to map
            p = fr.partition
            for col, value in zip(cols, (line, str(fr.source), p.account, p.region, p.year,
                                         p.month, p.day), strict=True):
                col.append(value)
            line += count
        run(cur, _INSERT_SOURCES_SQL, [chunk_id, *cols])
        self.store._chunks[chunk_id] = chunk
        run(cur, schema.insert_sql(file_id=chunk_id, single_source=single, lines=chunk.count),
            {"path": str(chunk.path)})
        self.outside = 0
        if self.store.time_range is not None:  # --since/--until: exactly by eventTime
            self.outside = scan.drop_outside(cur, chunk_id, self.store.time_range)
        dedup.drop_exact_duplicates(cur, self.store, chunk_id)
        return dict(run(cur, "SELECT source_file, count(*) FROM events "
                             "WHERE _file_id = ? GROUP BY ALL", [chunk_id]))

    def _drop_non_objects(
        self, chunk: ingest.Chunk, parts: list[tuple[ingest.FileRecords, int, int]]
    ) -> _Kept:
        """Take items that are not JSON objects (a bare array may hold any value) out of a
        written chunk; DuckDB would reject the whole chunk. Notes how many per file."""
        bad = ingest.non_object_lines(chunk)
        counts = [count for _fr, _s, count in parts]
        if not bad:
            return _Kept(chunk, counts)
        ends = list(accumulate(counts))
        dropped = [0] * len(parts)
        for line in bad:
            dropped[bisect.bisect_right(ends, line)] += 1
        for i, n in enumerate(dropped):
            if n:
                self.report.warnings.append(
                    f"{parts[i][0].source}: {n:,} items are not event objects, skipped")
        return _Kept(ingest.drop_lines(chunk, bad), [c - d for c, d in zip(counts, dropped,
                                                                              strict=True)])

    def abandon(self, cur: duckdb.DuckDBPyConnection) -> None:
        """After a cancel: drop what was half-loaded; earlier chunks stay."""
        for chunk_id in self.in_flight:
            self._forget(cur, chunk_id)
        for fr, _s, _c in self.parts:
            fr.release()
        self.parts = []

    def _forget(self, cur: duckdb.DuckDBPyConnection, chunk_id: int) -> None:
        for _attempt in range(3):  # a late interrupt must not leave half a chunk behind
            try:
                run(cur, "DELETE FROM events WHERE _file_id = ?", [chunk_id])
                run(cur, "DELETE FROM chunk_sources WHERE chunk_id = ?", [chunk_id])
                break
            except duckdb.InterruptException:
                continue
            except duckdb.Error:
                break
        self.store._chunks.pop(chunk_id, None)


# DuckDB names our temporary chunk file and a line in it; neither means anything to the user.
_CHUNK_NAME = re.compile(r' in file "[^"]*"(, at byte \d+ in line \d+)?')

_INSERT_SOURCES_SQL: Final[str] = (
    "INSERT INTO chunk_sources SELECT ?, unnest(?::BIGINT[]), unnest(?::VARCHAR[]), "
    "unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
    "unnest(?::VARCHAR[])"
)


def run(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[object] | dict[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """Execute and drain: DuckDB 2.0 keeps a connection busy until a result is fully fetched."""
    return cur.execute(sql, params).fetchall()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
