"""Cached records kept as independent zstd frames, so the cache is a fraction of the input.

Why this layout: a chunk's NDJSON is cut into frames of ~FRAME bytes of whole records, each
compressed on its own (zstd level LEVEL, in a few threads: it releases the GIL), written one
after another to `<id>.zst`, with `<id>.frm` holding the compressed start of every frame and
the first line in it. A record is found by its line: the line index (`<id>.idx`, offsets in the
uncompressed text) says where it sits, the frame index which frame to decompress; a small LRU
keeps the last frames, so a detail view or an export in table order decompresses each frame
once. Only the cache is compressed (in `save_cache`, in the background): live loads are not
slowed. The compressed bytes are covered by the cache's CRC-32 blocks (checked lazily through
`cache.Verifier`) and each frame carries zstd's own checksum of its content.
"""

from __future__ import annotations

import bisect
import os
import threading
from array import array
from collections import OrderedDict, deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import zstandard

from trailtui.data.cache import CacheDamaged, Verifier
from trailtui.data.results import quote_ident

FRAME = 1 << 20
LEVEL = 3
KEEP_FRAMES = 8  # decompressed frames kept (~8 MiB)


def frame_lines(offsets: array, count: int) -> array:  # type: ignore[type-arg]
    """First line of each frame, then `count`: frames of whole records, ~FRAME bytes each."""
    out = array("q")
    line = 0
    while line < count:
        out.append(line)
        nxt = bisect.bisect_right(offsets, offsets[line] + FRAME, line + 1, count + 1) - 1
        line = max(line + 1, min(nxt, count))
    out.append(count)
    return out


_local = threading.local()


def _compress(fd: int, start: int, end: int) -> bytes:
    """One frame: read and compress in a worker thread (both release the GIL)."""
    comp = getattr(_local, "comp", None)
    if comp is None:
        comp = _local.comp = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
    data = os.pread(fd, end - start, start)
    if len(data) != end - start:
        raise OSError(f"chunk ended early at byte {start + len(data):,}")
    return comp.compress(data)


def pack(src: Path, dst: Path, index: Path, offsets: array,  # type: ignore[type-arg]
         count: int) -> None:
    """Compress `src` (NDJSON with line `offsets`) into `dst` frames and its frame `index`.

    A few frames are in flight at a time, so memory stays a few MiB whatever the chunk size.
    """
    lines = frame_lines(offsets, count)
    starts = array("q", [0])
    workers = max(1, min(4, os.cpu_count() or 1))
    with src.open("rb") as fh, dst.open("wb") as out, ThreadPoolExecutor(workers) as pool:
        size = os.fstat(fh.fileno()).st_size
        if size != offsets[count]:
            raise OSError(f"{src.name} is {size:,} bytes, its index says {offsets[count]:,}")
        todo: deque[Future[bytes]] = deque()
        for i in range(len(lines) - 1):
            todo.append(pool.submit(_compress, fh.fileno(), offsets[lines[i]],
                                    offsets[lines[i + 1]]))
            if len(todo) > 2 * workers:
                _put(out, starts, todo.popleft().result())
        while todo:
            _put(out, starts, todo.popleft().result())
    with index.open("wb") as fh:
        starts.tofile(fh)
        lines.tofile(fh)


def _put(out: BinaryIO, starts: array, blob: bytes) -> None:  # type: ignore[type-arg]
    out.write(blob)
    starts.append(starts[-1] + len(blob))


def read_index(index: Path) -> tuple[array, array]:  # type: ignore[type-arg]
    """(compressed starts, first lines) of a frame index; ValueError if it is not one."""
    both = array("q")
    both.frombytes(index.read_bytes())
    half = len(both) // 2
    if len(both) % 2 or half < 1:
        raise ValueError(f"{index.name} is not a frame index")
    return both[:half], both[half:]


class Packed:
    """Reads records of compressed cached chunks; thread-safe (workers read details)."""

    def __init__(self, verifier: Verifier) -> None:
        self._verifier = verifier
        self._chunks: dict[int, tuple[Path, array, array, array]] = {}  # type: ignore[type-arg]
        self._frames: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._dctx = zstandard.ZstdDecompressor()

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._chunks

    def add(self, chunk_id: int, path: Path, offsets: array,  # type: ignore[type-arg]
            starts: array, lines: array) -> None:  # type: ignore[type-arg]
        with self._lock:
            self._chunks[chunk_id] = (path, offsets, starts, lines)

    def record(self, chunk_id: int, line: int) -> bytes:
        """The original record at `line` of a packed chunk, byte for byte."""
        path, offsets, starts, lines = self._chunks[chunk_id]
        if not 0 <= line < len(offsets) - 1:
            raise IndexError(f"no line {line} in chunk {chunk_id}")
        f = bisect.bisect_right(lines, line) - 1
        base = offsets[lines[f]]
        frame = self._frame(chunk_id, f, path, offsets, starts, lines)
        return frame[offsets[line] - base:offsets[line + 1] - 1 - base]

    def _frame(self, chunk_id: int, f: int, path: Path, offsets: array,  # type: ignore[type-arg]
               starts: array, lines: array) -> bytes:  # type: ignore[type-arg]
        key = (chunk_id, f)
        with self._lock:
            hit = self._frames.get(key)
            if hit is not None:
                self._frames.move_to_end(key)
                return hit
            want = offsets[lines[f + 1]] - offsets[lines[f]]
            self._verifier.check(chunk_id, path, starts[f], starts[f + 1])
            try:
                with path.open("rb") as fh:
                    fh.seek(starts[f])
                    blob = fh.read(starts[f + 1] - starts[f])
                data = self._dctx.decompress(blob, max_output_size=want)
            except OSError as exc:
                raise CacheDamaged(f"cached records unreadable ({exc.strerror or exc})") from exc
            except zstandard.ZstdError as exc:
                raise CacheDamaged("cached records are damaged on disk; not shown. Reopen the "
                                   "files: the cache is rebuilt") from exc
            if len(data) != want:
                raise CacheDamaged("cached records are damaged on disk; not shown. Reopen the "
                                   "files: the cache is rebuilt")
            self._frames[key] = data
            while len(self._frames) > KEEP_FRAMES:
                self._frames.popitem(last=False)
            return data


# DuckDB keeps these free-form JSON payloads uncompressed (its FSST/dictionary do not pay on
# them); forcing zstd on just these two makes the cached table ~2.8x smaller (166 -> 59 MB at
# 200k events) and it is read back as fast. Forcing it on every column made it bigger.
ZSTD_COLUMNS = frozenset({"requestParameters", "responseElements"})


def table_ddl(columns: Iterable[tuple[str, str]]) -> str:
    """Column list for the cached events table: (name, DuckDB type) pairs, zstd where it pays."""
    return ", ".join(f"{quote_ident(name)} {dtype}"
                     + (" USING COMPRESSION zstd" if name in ZSTD_COLUMNS else "")
                     for name, dtype in columns)
