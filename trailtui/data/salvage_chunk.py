"""When DuckDB refuses a written chunk: find the records it refuses and take only those out.

Runs only after a chunk failed (the clean path pays nothing). Each refused record is named by
its place in its input file: a line for NDJSON, a byte offset for a document.
"""

from __future__ import annotations

import bisect
import contextlib
import mmap
from collections.abc import Sequence
from itertools import accumulate

from trailtui.data import ingest, salvage


def salvage_chunk(
    chunk: ingest.Chunk, parts: Sequence[tuple[ingest.FileRecords, int, int]],
    counts: Sequence[int],
) -> tuple[ingest.Chunk, list[int]] | None:
    """The chunk without its invalid lines, and each part's new line count; None if every
    line looks valid (the failure is elsewhere and is reported as before)."""
    bad: list[int] = []
    reasons: list[str] = []
    with chunk.path.open("rb") as fh:
        data = fh.read()
    for i, line in salvage.iter_lines(data, chunk.offsets):
        reason = salvage.invalid_reason(line)
        if reason is not None:
            bad.append(i)
            reasons.append(reason)
    if not bad:
        return None
    ends = list(accumulate(counts))
    dropped = [0] * len(parts)
    sources: dict[int, bytes | mmap.mmap | None] = {}
    for line_no, reason in zip(bad, reasons, strict=True):
        k = bisect.bisect_right(ends, line_no)
        dropped[k] += 1
        fr, start, _count = parts[k]
        index = start + line_no - (ends[k] - counts[k])
        place = fr.damage.place(index)
        if place is None:
            place = _find_place(fr, sources, data[chunk.offsets[line_no]:
                                                  chunk.offsets[line_no + 1] - 1], index)
        fr.damage.skipped.append((place, reason))
    for buf in sources.values():
        if isinstance(buf, mmap.mmap):
            with contextlib.suppress(BufferError):
                buf.close()
    fixed = ingest.drop_lines(chunk, bad)
    return fixed, [c - d for c, d in zip(counts, dropped, strict=True)]


def _find_place(fr: ingest.FileRecords, sources: dict[int, bytes | mmap.mmap | None],
                rec: bytes, index: int) -> str:
    """`byte N` of the record in its input file (read again: the input is unmapped by now)."""
    key = id(fr)
    if key not in sources:
        try:
            sources[key] = ingest.read_bytes(fr.source)
        except ingest.InputError:
            sources[key] = None
    src = sources[key]
    offset = salvage.locate(src, rec) if src is not None else -1
    return f"byte {offset:,}" if offset >= 0 else f"record {index + 1:,}"


def ingest_note(fr: ingest.FileRecords, kept: int) -> str | None:
    """The one line for a file once it is loaded: records skipped and where, a cut."""
    d = fr.damage
    return salvage.skipped_note(fr.source, d.skipped, d.cut_after, kept + len(d.skipped))
