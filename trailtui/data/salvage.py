"""Damaged input costs the damaged records only.

The fast path (msgspec splits a whole document in C) stays as it is; the functions here run
only when it fails or when DuckDB rejects a chunk, so a clean 330 MB download pays nothing.
Kept apart from `ingest` so the parallel loader can call them per file.

Limits are explicit: a record nested deeper than MAX_DEPTH, larger than MAX_RECORD_BYTES, not
valid UTF-8, with a lone surrogate escape or a repeated top-level key is skipped with its
place named; decompression stops at MAX_GUNZIP_BYTES.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

MAX_DEPTH = 200  # CloudTrail records nest ~15 deep; Python's parsers recurse ~1,000 deep
MAX_RECORD_BYTES = 64 << 20  # one record; checked on every file (a max() of lengths)
_DEFAULT_GUNZIP = 3 << 30  # as Suzaku: 3 GiB per file


def max_gunzip_bytes() -> int:
    """$TRAILTUI_MAX_GUNZIP (bytes) or 3 GiB: the most a .gz may expand to."""
    try:
        return int(os.environ.get("TRAILTUI_MAX_GUNZIP", "")) or _DEFAULT_GUNZIP
    except ValueError:
        return _DEFAULT_GUNZIP


class GunzipError(Exception):
    """A gzip stream that is broken or expands beyond the cap."""


@dataclass
class Gunzipped:
    data: bytes
    cut: bool  # the stream ended early (a cut download): what came before is kept


def gunzip(fh: Any, path: Path, cap: int | None = None) -> Gunzipped:
    """Stream-decompress (every member) with a cap, so a gzip bomb is refused, not obeyed."""
    cap = max_gunzip_bytes() if cap is None else cap
    parts: list[bytes] = []
    total = 0
    dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
    cut = False
    while True:
        block = fh.read(1 << 20)
        if not block:
            if not dec.eof:
                cut = True
            break
        while block:
            try:
                out = dec.decompress(block, cap + 1 - total)
            except zlib.error as exc:
                if total:
                    cut = True  # damaged in the middle: keep what came out before
                    block = b""
                    break
                raise GunzipError(f"{path}: broken gzip file ({exc})") from exc
            total += len(out)
            parts.append(out)
            if total > cap:
                raise GunzipError(
                    f"{path}: expands beyond {cap:,} bytes after gunzip (a gzip bomb?), "
                    "refused; set TRAILTUI_MAX_GUNZIP to allow more")
            if dec.eof:  # a next member (concatenated .gz files) or trailing garbage
                block = dec.unused_data
                if block[:2] != b"\x1f\x8b":
                    block = b""
                    break
                dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                block = dec.unconsumed_tail
        if cut:
            break
    return Gunzipped(b"".join(parts), cut)


# --- record validation ---------------------------------------------------------------------

class _TopLevelDuplicates:
    """An object_pairs_hook that remembers whether the last (outermost) object repeated a key:
    DuckDB refuses a repeated top-level key and accepts nested ones."""

    def __init__(self) -> None:
        self.last: str | None = None

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        self.last = None
        if len(out) != len(pairs):
            seen: set[str] = set()
            for k, _v in pairs:
                if k in seen:
                    self.last = k
                    break
                seen.add(k)
        return out


def max_depth(text: bytes) -> int:
    """How deep arrays and objects nest in one JSON value (strings skipped)."""
    depth = deepest = 0
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok in (b"{", b"["):
            depth += 1
            deepest = max(deepest, depth)
        elif tok in (b"}", b"]"):
            depth -= 1
    return deepest


def invalid_reason(rec: bytes) -> str | None:
    """Why DuckDB or the detail view would reject this record; None when it is fine."""
    if len(rec) > MAX_RECORD_BYTES:
        return f"larger than {MAX_RECORD_BYTES >> 20} MB"
    if rec.count(b"{") + rec.count(b"[") > MAX_DEPTH and max_depth(rec) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    try:
        text = rec.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid UTF-8"
    hook = _TopLevelDuplicates()
    try:
        obj = json.loads(text, object_pairs_hook=hook)
    except RecursionError:
        return f"nested deeper than {MAX_DEPTH} levels"
    except ValueError:
        return "not valid JSON"
    if not isinstance(obj, dict):
        return "not an event object"
    if hook.last is not None:
        return f"duplicate key {hook.last[:40]!r}"
    if b"\\u" in rec:
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return "lone surrogate escape"
    return None



# --- salvaging a document msgspec could not split ------------------------------------------

# A whole string, or one bracket: strings are matched in C, so brackets inside are skipped.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]]', re.DOTALL)
_RECORDS_KEY = re.compile(rb'"Records"\s*:\s*\[')


@dataclass
class Salvaged:
    """The records found in a damaged document, where each starts, and what was skipped."""

    records: list[bytes] = field(default_factory=list)
    offsets: array = field(default_factory=lambda: array("q"))  # type: ignore[type-arg]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (place, reason)
    cut: bool = False  # the document ends before its array closes


def _array_start(data: bytes, start: int) -> int:
    """The byte after the `[` of the records array: a bare array, or `{"Records":[`."""
    if data[start : start + 1] == b"[":
        return start + 1
    m = _RECORDS_KEY.search(data, start)
    return m.end() if m else -1


def split_damaged(data: bytes, start: int) -> Salvaged | None:
    """Every complete element of the top-level records array, each checked on its own.

    None when the document has no records array. A cut document keeps what came before the
    cut (`cut`); an element that does not parse is skipped and its byte offset noted.
    """
    begin = _array_start(data, start)
    if begin < 0:
        return None
    out = Salvaged()
    depth = 0
    elem = -1
    deepest = 0
    closed = False
    for m in _TOKEN.finditer(data, begin):
        tok = m.group()
        if tok[:1] == b'"':
            continue
        if tok in (b"{", b"["):
            if depth == 0:
                elem = m.start()
                deepest = 0
            depth += 1
            deepest = max(deepest, depth)
        elif depth == 0:  # `]` closes the records array (a `}` here is stray)
            closed = tok == b"]"
            if closed:
                break
        else:
            depth -= 1
            if depth == 0:
                _keep(out, data[elem : m.end()], elem, deepest)
    out.cut = not closed
    return out


def _keep(out: Salvaged, rec: bytes, offset: int, deepest: int) -> None:
    if deepest > MAX_DEPTH:
        out.skipped.append((f"byte {offset:,}", f"nested deeper than {MAX_DEPTH} levels"))
        return
    try:
        msgspec.json.decode(rec, type=msgspec.Raw)
    except (msgspec.DecodeError, RecursionError):
        out.skipped.append((f"byte {offset:,}", invalid_reason(rec) or "not valid JSON"))
        return
    if rec[:1] != b"{":
        return  # numbers, arrays...: dropped later with the usual note
    out.records.append(rec)
    out.offsets.append(offset)


# --- one line per file ---------------------------------------------------------------------


def skipped_note(path: Path | str, skipped: list[tuple[str, str]], cut_after: int | None,
                 total: int) -> str | None:
    """`<file>: 2 of 100 records skipped (byte 5,120: invalid UTF-8; line 9: ...)`, and/or
    `cut after N events`, in one line naming the file."""
    parts: list[str] = []
    if skipped:
        shown = "; ".join(f"{place}: {reason}" for place, reason in skipped[:5])
        more = f"; {len(skipped) - 5:,} more" if len(skipped) > 5 else ""
        n = len(skipped)
        parts.append(f"{n:,} of {total:,} record{'s' if total != 1 else ''} skipped "
                     f"({shown}{more})")
    if cut_after is not None:
        parts.append(f"cut after {cut_after:,} events (the file ends mid-record; every "
                     "complete event before the cut is loaded)")
    if not parts:
        return None
    return f"{path}: " + "; ".join(parts)


def locate(source: bytes | Any, rec: bytes, hint: int = 0) -> int:
    """Byte offset of a record (as written to a chunk) in its source; -1 if not found.

    Chunk lines had raw newlines turned into spaces, so spaces match any JSON white space.
    """
    prefix = rec[:96]
    pattern = re.escape(prefix).replace(b"\\ ", b"[ \\r\\n\\t]")
    m = re.compile(pattern).search(source, hint) or re.compile(pattern).search(source)
    return m.start() if m else -1


def iter_lines(data: bytes, offsets: array) -> Iterator[tuple[int, bytes]]:  # type: ignore[type-arg]
    for i in range(len(offsets) - 1):
        yield i, data[offsets[i] : offsets[i + 1] - 1]
