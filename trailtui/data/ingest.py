"""Turn whatever the user points at into clean NDJSON chunks that DuckDB reads in parallel.

Every input shape (console `{"Records":[...]}` downloads of any size, S3 trail trees, bare
arrays, NDJSON incl. Logstash exports, `lookup-events` output, EventBridge envelopes, the
console CSV) is normalised here into one record per line. msgspec splits a 330 MB document into
raw byte slices without building Python objects (0.25 s); DuckDB then parses the lines with an
explicit schema on every core. See research/perf.md for why this beats `read_json` + `unnest`.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import functools
import glob
import io
import json
import mmap
import os
import re
import stat
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, Final

import msgspec

from trailtui.data import salvage

# File endings a folder walk picks up. Anything named on the command line is tried whatever its
# name: the content decides (Stratus `.json` files are arrays, OTRF's `.json` is NDJSON).
EVENT_SUFFIXES = (
    ".json", ".json.gz", ".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz", ".csv", ".gz",
)

_EVENT_KEYS = frozenset(
    {"eventVersion", "eventTime", "eventName", "eventSource", "eventID", "userIdentity",
     "eventType", "awsRegion", "@timestamp", "eventname", "eventsource", "eventtime"}
)
_S3_PATH = re.compile(
    r"AWSLogs/(?:(?P<org>o-[a-z0-9]+)/)?(?P<acct>\d{12})/CloudTrail(?P<kind>-Digest|-Insight)?/"
    r"(?P<region>[a-z0-9-]+)/(?:(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/)?"
)
FIRST_CHUNK_RECORDS = 5000
# A very big file loads in slices of this many records, so progress moves. Each INSERT has a
# fixed cost here (~0.5-1 s measured), so slices stay large: a 200k download loads whole.
SLICE_RECORDS = 250_000
# Files with fewer records share a chunk with their neighbours (S3 trees: many tiny files).
SMALL_FILE_RECORDS = 50_000


class InputError(Exception):
    """A file that cannot be loaded; the message names the file and says what is wrong."""


class NoEvents(InputError):
    """A readable file that holds no CloudTrail events (digest files, other JSON)."""


@dataclass
class Damage:
    """What salvage found in one file: records skipped (place, reason), where a cut is, and
    each kept record's place (a line for NDJSON, a byte offset for a salvaged document)."""

    skipped: list[tuple[str, str]] = field(default_factory=list)
    cut_after: int | None = None
    places: array | None = None  # type: ignore[type-arg]
    place_unit: str = "byte"
    gzip_cut: bool = False

    def place(self, index: int) -> str | None:
        if self.places is None or index >= len(self.places):
            return None
        return f"{self.place_unit} {self.places[index]:,}"


@dataclass
class Chunk:
    """One NDJSON file of records written for DuckDB, and the byte offset of every line."""

    path: Path
    offsets: array  # type: ignore[type-arg]  # array('q'): start of each line, then the end
    count: int


@dataclass
class ChunkPart:
    """The lines of a chunk that came from one input file (small files share a chunk)."""

    first_line: int
    count: int
    source: FileRecords


@dataclass
class Expanded:
    """The files found under the user's paths, and one message per path that gave nothing."""

    files: list[Path]
    problems: list[str]


def expand_paths(paths: Sequence[str | os.PathLike[str]]) -> Expanded:
    """Resolve files, folders (recursively) and globs into a sorted, de-duplicated file list."""
    files: list[Path] = []
    problems: list[str] = []
    regular: set[str] = set()  # found by a folder walk: regular files, not symlinks
    for raw in paths:
        text = os.fspath(raw)
        p = Path(text).expanduser()
        odd = _not_loadable(p)
        if odd:
            problems.append(f"{text}: {odd}")
        elif p.is_file():
            files.append(p)
        elif p.is_dir():
            unreadable: list[str] = []
            found = _walk(p, unreadable, regular)
            problems.extend(unreadable)
            if not found and not unreadable:
                problems.append(f"{text}: folder holds no .json, .json.gz, .ndjson or .csv files")
            files.extend(found)
        elif any(ch in text for ch in "*?["):
            matched = sorted(Path(m) for m in glob.glob(os.path.expanduser(text), recursive=True))
            hits = [m for m in matched if m.is_file()]
            for m in matched:
                if m.is_dir():
                    hits.extend(_walk(m, None, regular))
            if not hits:
                problems.append(f"{text}: no file matches this pattern")
            files.extend(hits)
        else:
            problems.append(f"{text}: no such file or folder")
    seen: set[str] = set()
    unique: list[Path] = []
    real_dirs: dict[Path, str] = {}  # one realpath per folder, not one per file (S3 trees)
    real_text_dirs: dict[str, str] = {}
    for f in files:
        text = str(f)
        if text in regular:  # no symlink: only its folder is resolved (string operations)
            folder, name = os.path.split(text)
            real = real_text_dirs.get(folder)
            if real is None:
                real = real_text_dirs[folder] = os.path.realpath(folder)
            key = os.path.join(real, name)
        else:
            key = _real_path(f, real_dirs)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return Expanded(unique, problems)


def real_paths(files: Sequence[Path]) -> list[str]:
    """Each file's real path, one realpath per folder (a resolve per file cost 120 us: seconds
    for an S3 tree of tens of thousands of objects)."""
    real_dirs: dict[Path, str] = {}
    return [_real_path(f, real_dirs) for f in files]


def _real_path(f: Path, real_dirs: dict[Path, str]) -> str:
    """The file's real path (links resolved), resolving each folder once."""
    if f.is_symlink():
        return os.path.realpath(f)
    parent = real_dirs.get(f.parent)
    if parent is None:
        parent = real_dirs[f.parent] = os.path.realpath(f.parent)
    return os.path.join(parent, f.name)


def _not_loadable(p: Path) -> str | None:
    """Why a path that exists cannot be read as a file or folder (FIFO, loop, permission)."""
    try:
        st = os.stat(p)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if exc.errno == errno.EACCES:
            return "cannot read (permission denied)"
        return None  # missing: the caller says so (or it is a glob)
    if stat.S_ISDIR(st.st_mode):
        if not os.access(p, os.R_OK | os.X_OK):
            return "cannot read folder (permission denied)"
        return None
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        return f"{kind}, not a regular file: skipped (reading it could wait forever)"
    return None


def _walk(folder: Path, problems: list[str] | None = None,
          regular: set[str] | None = None) -> list[Path]:
    """Event files under `folder`, sorted as Paths sort (part by part), as `os.walk` found them.

    Plain regular files are told apart by the directory entry's type, with no stat each, and
    sorted as strings split into parts, not as Path objects: an S3 tree of 20,000 objects took
    0.7 s to list before. Their paths go into `regular` (no symlink to resolve later).
    """
    found: list[str] = []
    stack = [os.fspath(folder)]
    while stack:
        top = stack.pop()
        try:
            entries = os.scandir(top)
        except OSError as exc:
            if problems is not None:
                problems.append(f"{exc.filename}: cannot read folder ({exc.strerror or exc})")
            continue
        subdirs: list[str] = []
        with entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    if not entry.is_symlink():  # as os.walk: linked folders are not entered
                        subdirs.append(entry.name)
                    continue
                name = entry.name
                if name.startswith(".") or not name.lower().endswith(EVENT_SUFFIXES):
                    continue
                path = os.path.join(top, name)
                try:
                    plain = entry.is_file(follow_symlinks=False)
                except OSError:
                    plain = False
                if not plain:
                    odd = _not_loadable(Path(path))
                    if odd:
                        if problems is not None:
                            problems.append(f"{path}: {odd}")
                        continue
                elif regular is not None:
                    regular.add(path)
                found.append(path)
        subdirs.sort()
        stack.extend(os.path.join(top, d) for d in reversed(subdirs))
    sep = os.sep
    found.sort(key=lambda text: text.split(sep))
    return [Path(text) for text in found]


@dataclass(frozen=True)
class Partition:
    """Athena's partition values, from an S3 key AWSLogs/<acct>/CloudTrail/<region>/<y>/<m>/<d>/."""

    kind: str | None = None  # "CloudTrail", "Digest", "Insight"; None when not an S3 path
    account: str | None = None
    region: str | None = None
    year: str | None = None
    month: str | None = None
    day: str | None = None


def path_partition(path: Path) -> Partition:
    """The partition of an S3 trail path (organisation trails add an o-xxxx/ level)."""
    # Every part of the pattern ends in `/`, so the folder decides: found once per folder
    # (an S3 day folder holds hundreds of objects), not once per object.
    return _folder_partition(os.path.dirname(path.as_posix()) + "/")


@functools.lru_cache(maxsize=4096)
def _folder_partition(folder: str) -> Partition:
    m = _S3_PATH.search(folder)
    if not m:
        return Partition()
    kind = (m.group("kind") or "").lstrip("-") or "CloudTrail"
    return Partition(kind, m.group("acct"), m.group("region"), m.group("y"), m.group("m"),
                     m.group("d"))


# --- reading -------------------------------------------------------------------------------


class _Doc(msgspec.Struct):
    """The top-level object of a JSON document; only what tells its shape is decoded."""

    Records: list[msgspec.Raw] | None = None
    Events: list[msgspec.Raw] | None = None
    digestStartTime: Any = None
    logFiles: Any = None


class _Probe(msgspec.Struct):
    """Keys that tell a CloudTrail record from other JSON, and the wrappers around one."""

    eventVersion: Any = None
    eventTime: Any = None
    eventName: Any = None
    eventSource: Any = None
    eventID: Any = None
    userIdentity: Any = None
    timestamp: Any = msgspec.field(default=None, name="@timestamp")
    eventname: Any = None
    CloudTrailEvent: Any = None
    detail: Any = None
    detail_type: Any = msgspec.field(default=None, name="detail-type")
    digestStartTime: Any = None

    def is_event(self) -> bool:
        return any(
            v is not None
            for v in (self.eventVersion, self.eventTime, self.eventName, self.eventSource,
                      self.eventID, self.timestamp, self.eventname)
        )


class _LookupEvent(msgspec.Struct):
    CloudTrailEvent: str | None = None


class _Envelope(msgspec.Struct):
    detail: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


def read_bytes(path: Path, damage: Damage | None = None) -> bytes | mmap.mmap:
    """The file's bytes: gzip decompressed (streamed, capped), plain files memory-mapped."""
    try:
        fh = path.open("rb")  # then fstat: one path lookup per file, not two
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        with fh:
            if os.fstat(fh.fileno()).st_size == 0:
                raise InputError(f"{path}: empty file")
            head = fh.read(2)
            if head == b"\x1f\x8b":
                fh.seek(0)
                try:
                    unzipped = salvage.gunzip(fh, path)
                except salvage.GunzipError as exc:
                    raise InputError(str(exc)) from exc
                except MemoryError as exc:
                    raise InputError(f"{path}: out of memory while unzipping") from exc
                data = unzipped.data
                if unzipped.cut:
                    if not data.strip():
                        raise InputError(f"{path}: broken gzip file (cut before any data)")
                    if damage is not None:
                        damage.gzip_cut = True
                if not data.strip():
                    raise InputError(f"{path}: empty file (after gunzip)")
                return data
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})"
                         ) from exc


def _first_byte(data: bytes | mmap.mmap) -> tuple[int, bytes]:
    """Index and value of the first non-whitespace byte, skipping a UTF-8 BOM."""
    start = 3 if data[:3] == b"\xef\xbb\xbf" else 0
    limit = min(len(data), start + 4096)
    for i in range(start, limit):
        b = data[i : i + 1]
        if b not in b" \t\r\n":
            return i, b
    return -1, b""


def _looks_binary(data: bytes | mmap.mmap) -> bool:
    head = bytes(data[:4096])
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 4  # a cut multi-byte character at the end is fine
    return False


def classify(records: Sequence[msgspec.Raw], path: Path) -> str:
    """'plain', 'lookup' or 'eventbridge' from a sample of records; NoEvents if none is an event."""
    dec = _PROBE_DECODER
    digest = False
    step = max(1, len(records) // 50)
    for rec in records[::step][:60]:
        if bytes(memoryview(rec)[:1]) != b"{":
            continue
        try:
            probe = dec.decode(rec)
        except (msgspec.DecodeError, RecursionError):
            continue
        if probe.CloudTrailEvent is not None:
            return "lookup"
        if probe.detail is not None and probe.detail_type is not None:
            return "eventbridge"
        if probe.is_event():
            return "plain"
        digest = digest or probe.digestStartTime is not None
    if digest:
        raise NoEvents(f"{path}: CloudTrail digest file (no events), skipped")
    raise NoEvents(f"{path}: JSON that holds no CloudTrail events")


Record = bytes | memoryview | msgspec.Raw
_PROBE_DECODER: Final = msgspec.json.Decoder(_Probe)


def _unwrap(records: list[msgspec.Raw], kind: str, path: Path, notes: list[str]) -> list[Record]:
    """Records as plain CloudTrail JSON objects; wrappers removed, non-objects dropped (noted).

    Plain records stay zero-copy slices of the input (a 330 MB download is not copied).
    """
    out: list[Record] = []
    dropped = 0
    if kind == "lookup":
        dec = msgspec.json.Decoder(_LookupEvent)
        for rec in records:
            try:
                inner = dec.decode(rec).CloudTrailEvent
            except (msgspec.DecodeError, RecursionError):
                inner = None
            if inner and inner.lstrip().startswith("{"):
                out.append(inner.encode("utf-8"))
            else:
                dropped += 1
    elif kind == "eventbridge":
        env = msgspec.json.Decoder(_Envelope)
        for rec in records:
            try:
                detail = env.decode(rec).detail
            except (msgspec.DecodeError, RecursionError):
                detail = msgspec.Raw()
            if len(detail) and bytes(memoryview(detail)[:1]) == b"{":
                out.append(bytes(detail))
            else:
                dropped += 1
    else:
        # Plain records stay msgspec.Raw slices of the input: no copy and no per-record work
        # (a memoryview each cost 0.22 s per 200k). Items that are not objects are found in
        # the written chunk instead (`non_object_lines`), which is a cheap byte check.
        return list(records)
    if dropped:
        notes.append(f"{path}: {dropped:,} items are not event objects, skipped")
    return out


def _split_lines(data: bytes | mmap.mmap, path: Path, notes: list[str],
                 damage: Damage | None = None) -> list[msgspec.Raw]:
    """NDJSON: one JSON value per line; lines that are not JSON are skipped and counted."""
    raw_dec = msgspec.json.Decoder(msgspec.Raw)
    out: list[msgspec.Raw] = []
    lines = array("q")
    bad = 0
    first_bad = 0
    bad_places: list[tuple[str, str]] = []
    truncated_at = -1
    view = memoryview(data)
    size = len(data)
    pos = 0
    n = 0
    while pos < size:
        end = data.find(b"\n", pos)
        if end < 0:
            end = size
        n += 1
        line = view[pos : end - 1 if end > pos and data[end - 1 : end] == b"\r" else end]
        pos = end + 1
        if not bytes(line[:1]).strip() and not bytes(line).strip():
            continue
        try:
            out.append(raw_dec.decode(line))
            lines.append(n)
        except (msgspec.DecodeError, RecursionError) as exc:
            bad += 1
            first_bad = first_bad or n
            if "truncated" in str(exc):
                truncated_at = n
            reason = (f"nested deeper than {salvage.MAX_DEPTH} levels"
                      if isinstance(exc, RecursionError)
                      else salvage.invalid_reason(bytes(line)) or "not valid JSON")
            bad_places.append((f"line {n:,}", reason))
    if damage is not None:
        damage.places, damage.place_unit = lines, "line"
        if bad and truncated_at == n and len(out) > 0:
            # The last line is cut (a download stopped mid-record): say so, not "bad JSON".
            bad_places.pop()
            bad -= 1
            damage.cut_after = len(out)
        damage.skipped.extend(bad_places)
    elif bad:
        notes.append(
            f"{path}: {bad:,} lines are not valid JSON (first at line {first_bad}), skipped")
    return out


# Between two JSON values written back to back (`jq '.Records[]'` without -c, or `zcat` of S3
# trail files): outside a string, `}` followed by `{` only ever separates two values.
_VALUE_BOUNDARY = re.compile(rb"\}\s*\{")
_RECORDS_DOC = re.compile(rb"\{\s*\"Records\"\s*:")


def _split_concatenated(data: bytes | mmap.mmap, start: int) -> list[msgspec.Raw] | None:
    """JSON objects written one after another, pretty or not; None if that is not the shape."""
    raw_dec = msgspec.json.Decoder(msgspec.Raw)
    view = memoryview(data)
    out: list[msgspec.Raw] = []
    begin = start
    for m in _VALUE_BOUNDARY.finditer(data, start):
        try:
            out.append(raw_dec.decode(view[begin : m.start() + 1]))
        except msgspec.DecodeError:
            continue  # the `}{` is inside a string: the value goes on
        begin = m.end() - 1
    try:
        out.append(raw_dec.decode(view[begin:]))
    except msgspec.DecodeError:
        return None
    return out


def _split_values(
    data: bytes | mmap.mmap, start: int, path: Path, notes: list[str],
    damage: Damage | None = None,
) -> tuple[list[msgspec.Raw], str]:
    """Several JSON values in one file: one per line (NDJSON), or back to back.

    Values that are whole `{"Records":[...]}` documents (S3 trail files joined with `zcat`)
    give their records.
    """
    newline = data.find(b"\n", start)
    first_line = bytes(data[start : newline if newline >= 0 else len(data)]).strip()
    values: list[msgspec.Raw] | None = None
    shape = "NDJSON"
    try:
        msgspec.json.decode(first_line, type=msgspec.Raw)
    except (msgspec.DecodeError, RecursionError):
        try:
            values = _split_concatenated(data, start)
        except RecursionError:
            values = None
        shape = "concatenated JSON"
    if values is None:
        values, shape = _split_lines(data, path, notes, damage), "NDJSON"
    if not values or not _RECORDS_DOC.match(bytes(memoryview(values[0])[:64])):
        return values, shape
    records: list[msgspec.Raw] = []
    for value in values:
        if _RECORDS_DOC.match(bytes(memoryview(value)[:64])):
            try:
                doc = msgspec.json.decode(value, type=_Doc)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                doc = _Doc()
            records.extend(doc.Records or ())
        else:
            records.append(value)
    return records, "Records"


def _salvage_document(
    data: bytes | mmap.mmap, start: int, path: Path, exc: BaseException, damage: Damage | None,
    what: str = "JSON",
) -> list[msgspec.Raw] | None:
    """The records of a document msgspec refused as a whole (cut, or one bad record).

    None when there is no records array to salvage from; InputError when nothing complete
    is in it (the message of old: "truncated or invalid JSON").
    """
    found = salvage.split_damaged(data, start)  # type: ignore[arg-type]
    if found is None:
        return None
    reason = "maximum nesting depth exceeded" if isinstance(exc, RecursionError) else exc
    if not found.records:
        raise InputError(f"{path}: truncated or invalid {what} ({reason})") from exc
    if damage is not None:
        damage.skipped.extend(found.skipped)
        damage.places, damage.place_unit = found.offsets, "byte"
        if found.cut:
            damage.cut_after = len(found.records)
    return [msgspec.Raw(r) for r in found.records]


def decode_records(
    data: bytes | mmap.mmap, path: Path, notes: list[str], damage: Damage | None = None,
) -> tuple[str, list[Record]]:
    """Find the records in any JSON shape. Returns (shape name, records as JSON object bytes)."""
    start, first = _first_byte(data)
    if start < 0:
        raise InputError(f"{path}: empty file (only white space)")
    if first == b"[":
        try:
            records = msgspec.json.decode(data, type=list[msgspec.Raw])
        except (msgspec.DecodeError, RecursionError) as exc:
            if "trailing characters" in str(exc):
                raise InputError(f"{path}: truncated or invalid JSON array ({exc})") from exc
            salvaged = _salvage_document(data, start, path, exc, damage, "JSON array")
            if salvaged is None:
                raise InputError(f"{path}: truncated or invalid JSON array ({exc})") from exc
            records = salvaged
        if not records:
            raise NoEvents(f"{path}: empty JSON array, no events")
        kind = classify(records, path)
        return ("JSON array" if kind == "plain" else kind), _unwrap(records, kind, path, notes)
    if first != b"{":
        raise InputError(f"{path}: not JSON, NDJSON, CSV or gzip, so not a CloudTrail file")
    try:
        doc = msgspec.json.decode(data, type=_Doc)
    except (msgspec.DecodeError, RecursionError) as exc:
        if "trailing characters" not in str(exc):
            head = bytes(data[start : start + 4096])
            if b'"Records"' in head:
                # A console download cut mid-record, or one bad record in it.
                salvaged = _salvage_document(data, start, path, exc, damage)
                if salvaged:
                    kind = classify(salvaged, path)
                    return "Records", _unwrap(salvaged, kind, path, notes)
            if b"\n" in data[start : start + (1 << 20)]:
                # Maybe NDJSON whose last line was cut: keep every line that parses.
                records = _split_lines(data, path, notes, damage)
                if len(records) > 1 or (records and damage and damage.skipped):
                    kind = classify(records, path)
                    return "NDJSON", _unwrap(records, kind, path, notes)
                if damage is not None:
                    damage.skipped.clear()
                    damage.cut_after = None
            reason = "maximum nesting depth exceeded" if isinstance(exc, RecursionError) else exc
            raise InputError(f"{path}: truncated or invalid JSON ({reason})") from exc
        records, shape = _split_values(data, start, path, notes, damage)
        kind = classify(records, path)
        label = {"plain": shape, "lookup": "lookup-events output", "eventbridge": "EventBridge"}
        return label[kind], _unwrap(records, kind, path, notes)
    except msgspec.ValidationError:
        doc = _Doc()  # e.g. "Records": null or a string: not a download, maybe one event
    if doc.Records is not None:
        if not doc.Records:
            raise NoEvents(f"{path}: \"Records\" is empty, no events")
        kind = classify(doc.Records, path)
        return "Records", _unwrap(doc.Records, kind, path, notes)
    if doc.Events is not None:
        if not doc.Events:
            raise NoEvents(f"{path}: \"Events\" is empty, no events")
        return "lookup-events output", _unwrap(doc.Events, "lookup", path, notes)
    if doc.digestStartTime is not None or doc.logFiles is not None:
        raise NoEvents(f"{path}: CloudTrail digest file (no events), skipped")
    try:
        single = [msgspec.json.decode(bytes(data[start:]).rstrip(), type=msgspec.Raw)]
    except RecursionError as exc:
        raise InputError(f"{path}: nested deeper than the parser allows, skipped") from exc
    kind = classify(single, path)
    return "single event", _unwrap(single, kind, path, notes)


# --- the console CSV -----------------------------------------------------------------------

# Console "Download events -> CSV" header names -> CloudTrail fields. Matched by name, not
# position: the download follows the columns the console shows.
CSV_COLUMNS = {
    "event id": "eventID",
    "event time": "eventTime",
    "user name": "userIdentity.userName",
    "aws access key": "userIdentity.accessKeyId",
    "event name": "eventName",
    "event source": "eventSource",
    "aws region": "awsRegion",
    "source ip address": "sourceIPAddress",
    "user agent": "userAgent",
    "error code": "errorCode",
    "error message": "errorMessage",
    "resources": "resources",
    "request id": "requestID",
    "read-only": "readOnly",
    "event type": "eventType",
    "recipient account id": "recipientAccountId",
    "event category": "eventCategory",
}


def csv_records(data: bytes | mmap.mmap, path: Path, notes: list[str]) -> list[Record]:
    """Rows of the console's CSV download as CloudTrail-shaped JSON records."""
    text = bytes(data).decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise InputError(f"{path}: empty CSV file") from exc
    names = [h.strip().lower() for h in header]
    if "event time" not in names or "event name" not in names:
        shown = ", ".join(h.strip() for h in header[:8])
        raise InputError(
            f"{path}: a CSV, but not the CloudTrail console's download (its columns are {shown}"
            f"{', ...' if len(header) > 8 else ''}; expected Event time, Event name, ...)"
        )
    mapping = [(i, CSV_COLUMNS.get(n)) for i, n in enumerate(names)]
    enc = msgspec.json.Encoder()
    out: list[Record] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        rec: dict[str, Any] = {}
        ident: dict[str, str] = {}
        for i, target in mapping:
            if target is None or i >= len(row) or row[i] == "":
                continue
            value = row[i]
            if target.startswith("userIdentity."):
                ident[target.split(".", 1)[1]] = value
            elif target == "resources":
                try:
                    parsed = json.loads(value)
                except ValueError:
                    parsed = value
                rec["resources"] = parsed
            else:
                rec[target] = value
        if ident:
            if ident.get("userName") == "root":
                ident["type"] = "Root"
            rec["userIdentity"] = ident
        out.append(enc.encode(rec))
    if not out:
        raise NoEvents(f"{path}: CSV has a header but no rows")
    notes.append(
        f"{path}: console CSV download: it lacks the full record (no requestParameters, "
        "responseElements or identity details); download JSON for those"
    )
    return out


# --- writing chunks ------------------------------------------------------------------------


_IOV_RECORDS = 512  # records per os.writev call: 1,024 buffers with the newlines (IOV_MAX)


def write_chunk(parts: Sequence[tuple[Sequence[Record], bool]], dest: Path) -> Chunk:
    """Write records one per line; each part says whether its records may hold raw newlines.

    Raw newlines inside a record are JSON white space and become spaces. Compact input has
    none, so the per-record search (which would touch every byte twice) is skipped for it.
    Records go out with os.writev straight from the input buffer: no joined copy (0.8 s ->
    0.2 s per 330 MB here).
    """
    offsets = array("q", [0])
    count = 0
    newline = b"\n"
    iov: list[Record] = []
    with dest.open("wb") as out:
        fd = out.fileno()
        for records, multiline in parts:
            if multiline:
                records = [_one_line(rec) for rec in records]
            offsets.extend(accumulate((len(r) + 1 for r in records), initial=offsets[-1]))
            del offsets[-1 - len(records)]  # accumulate repeats the start value
            # The buffers of small parts (S3 objects of a few records) are gathered across
            # parts: one writev per 512 records, not one per object (20,000 calls per tree).
            pos = 0
            while pos < len(records):
                room = _IOV_RECORDS - len(iov) // 2
                for rec in records[pos : pos + room]:
                    iov.append(rec)
                    iov.append(newline)
                pos += room
                if len(iov) >= 2 * _IOV_RECORDS:
                    _write_all(fd, iov)
                    iov = []
            count += len(records)
        if iov:
            _write_all(fd, iov)
    return Chunk(dest, offsets, count)


def _one_line(rec: Record) -> Record:
    text = bytes(rec)
    if b"\n" in text or b"\r" in text:
        return text.replace(b"\r", b" ").replace(b"\n", b" ")
    return rec


def _write_all(fd: int, iov: list[Record]) -> None:
    """One writev; a short write (rare) or a platform without writev finishes the slow way."""
    want = sum(len(v) for v in iov)
    done = os.writev(fd, iov) if hasattr(os, "writev") else 0
    if done < want:
        rest = b"".join(bytes(v) for v in iov)[done:]
        while rest:
            rest = rest[os.write(fd, rest):]


def non_object_lines(chunk: Chunk) -> list[int]:
    """Lines of a written chunk that do not hold a JSON object (a bare array may hold any
    value). One byte per line is read, from the page cache: ~10 ms per 200k lines."""
    with chunk.path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return []
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
            brace = 0x7B
            return [i for i, off in enumerate(chunk.offsets[:-1]) if m[off] != brace]


def drop_lines(chunk: Chunk, drop: Sequence[int]) -> Chunk:
    """Rewrite a chunk without the given lines (the rare path: items that are not objects)."""
    skip = set(drop)
    tmp = chunk.path.with_suffix(".tmp")
    offsets = array("q", [0])
    with chunk.path.open("rb") as src, tmp.open("wb") as out:
        for i in range(chunk.count):
            start, end = chunk.offsets[i], chunk.offsets[i + 1]
            src.seek(start)
            line = src.read(end - start)
            if i in skip:
                continue
            out.write(line)
            offsets.append(offsets[-1] + len(line))
    tmp.replace(chunk.path)
    return Chunk(chunk.path, offsets, len(offsets) - 1)


@dataclass
class FileRecords:
    """The records of one input file, ready to be written into a chunk."""

    source: Path
    kind: str
    records: list[Record]
    notes: list[str]
    partition: Partition
    bytes_in: int
    multiline: bool
    _keep: Any = None  # the buffer the records point into (an mmap), closed by `release`
    damage: Damage = field(default_factory=Damage)

    def release(self) -> None:
        self.records = []
        buf, self._keep = self._keep, None
        if isinstance(buf, mmap.mmap):
            # A view still alive keeps the map open; it closes when it is collected.
            with contextlib.suppress(BufferError):
                buf.close()


_LOWER_KEYS = {k.lower(): k for k in (
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
    "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
    "responseElements", "additionalEventData", "requestID", "eventID", "readOnly", "resources",
    "eventType", "apiVersion", "managementEvent", "recipientAccountId", "sharedEventID",
    "vpcEndpointId", "vpcEndpointAccountId", "eventCategory", "serviceEventDetails",
    "sessionCredentialFromConsole", "tlsDetails", "insightDetails", "type", "principalId",
    "arn", "accountId", "accessKeyId", "userName", "invokedBy", "sessionContext",
    "sessionIssuer", "attributes", "creationDate", "mfaAuthenticated", "webIdFederationData",
    "sourceIdentity", "onBehalfOf", "userId", "identityStoreArn", "credentialId",
)}
_LOWER_MARKERS = (b'"eventname"', b'"eventtime"', b'"eventsource"', b'"useridentity"')


def _canonical_keys(obj: Any, depth: int = 0) -> Any:
    """Rename all-lower-case CloudTrail keys (some exporters lower-case everything)."""
    if not isinstance(obj, dict) or depth > 3:
        return obj
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = str(key)  # JSON object keys are always text
        canon = _LOWER_KEYS.get(name, name) if name.islower() else name
        if canon != key and canon in obj:
            canon = key  # both spellings present: keep each as it is
        sub = value if key in ("requestParameters", "responseElements") else _canonical_keys(
            value, depth + 1)
        out[canon] = sub
    return out


def _fix_lowercase(records: list[Record], data: Any, path: Path, notes: list[str]) -> None:
    """Rewrite, in place, the records whose CloudTrail keys are all lower case.

    A big file is searched for one marker only (each pass costs ~0.1-0.3 s per 330 MB): an
    exporter that lower-cases keys lower-cases `eventName` with the rest.
    """
    if len(data) < (16 << 20):
        if not any(data.find(m) != -1 for m in _LOWER_MARKERS):
            return
    # `"eventn` (part of the marker) is found in 0.6x the time of the whole marker: a pass
    # over 330 MB cost 0.47 s, half of reading the file. Only a hit looks for the marker.
    elif data.find(b'"eventn') == -1 or data.find(_LOWER_MARKERS[0]) == -1:
        return
    fixed = 0
    for i, rec in enumerate(records):
        text = bytes(rec)
        if any(m in text for m in _LOWER_MARKERS):
            try:
                obj = json.loads(text)
            except (ValueError, RecursionError):
                continue
            records[i] = json.dumps(_canonical_keys(obj), ensure_ascii=False).encode("utf-8")
            fixed += 1
    if fixed:
        notes.append(
            f"{path}: {fixed:,} records use all-lower-case keys (eventname, ...); "
            "read under CloudTrail's names"
        )


def _drop_oversized(records: list[Record], damage: Damage) -> list[Record]:
    """Records over MAX_RECORD_BYTES are skipped with their place (an explicit size limit).
    One max() over the lengths in C when none is (every file)."""
    limit = salvage.MAX_RECORD_BYTES
    if max(map(len, records)) <= limit:
        return records
    keep: list[Record] = []
    places = array("q") if damage.places is not None else None
    for i, rec in enumerate(records):
        if len(rec) > limit:
            damage.skipped.append((damage.place(i) or f"record {i + 1:,}",
                                   f"larger than {limit >> 20} MB"))
        else:
            keep.append(rec)
            if places is not None and damage.places is not None and i < len(damage.places):
                places.append(damage.places[i])
    if places is not None:
        damage.places = places
    return keep


DIGESTS_NAMED: Final = 5
"""Up to this many digest objects get a note each; more are counted in one note."""


def set_aside_digests(files: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The files to read, and the notes for the S3 tree's CloudTrail-Digest objects.

    An organisation trail synced down holds a digest per region and hour (tens of thousands
    over 90 days); one note each flooded stderr and the message log. A few keep a note each
    (naming them); more are counted in one line naming the first.
    """
    digests = [f for f in files if path_partition(f).kind == "Digest"]
    if not digests:
        return list(files), []
    dropped = set(map(id, digests))
    rest = [f for f in files if id(f) not in dropped]
    if len(digests) <= DIGESTS_NAMED:
        return rest, [f"{d}: CloudTrail digest file (no events), skipped" for d in digests]
    return rest, [f"{len(digests):,} CloudTrail digest files (no events) skipped, "
                  f"e.g. {digests[0]}"]


def read_file(path: Path) -> FileRecords:
    """Read one input file into records; InputError/NoEvents say why it gave none."""
    part = path_partition(path)
    if part.kind == "Digest":
        raise NoEvents(f"{path}: CloudTrail digest file (no events), skipped")
    damage = Damage()
    data = read_bytes(path, damage)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 (PowerShell's Out-File): re-encode
        try:
            utf8 = bytes(data).decode("utf-16").encode("utf-8", "surrogatepass")
        except UnicodeError as exc:
            raise InputError(f"{path}: UTF-16 text that does not decode ({exc})") from exc
        if isinstance(data, mmap.mmap):
            data.close()
        data = utf8
    if data[:3] == b"\xef\xbb\xbf":  # a UTF-8 BOM (Windows tools write one): drop it
        body = bytes(data[3:])
        if isinstance(data, mmap.mmap):
            data.close()
        data = body
    ok = False
    try:
        notes: list[str] = []
        start, first = _first_byte(data)
        if first in (b"{", b"["):
            try:
                kind, records = decode_records(data, path, notes, damage)
            except InputError as exc:
                if damage.gzip_cut and not isinstance(exc, NoEvents):
                    raise InputError(f"{path}: broken gzip file (cut, and no complete event "
                                     "before the cut)") from exc
                raise
            if damage.gzip_cut and damage.cut_after is None:
                damage.cut_after = len(records)
        elif _looks_binary(data):
            raise InputError(
                f"{path}: binary data, not a CloudTrail JSON, NDJSON, CSV or gzip file")
        elif start >= 0 and b"," in bytes(data[start : start + 4096]).split(b"\n", 1)[0]:
            kind, records = "console CSV", csv_records(data, path, notes)
        elif start < 0:
            raise InputError(f"{path}: empty file (only white space)")
        else:
            raise InputError(f"{path}: not JSON, NDJSON, CSV or gzip, so not a CloudTrail file")
        if not records:
            raise NoEvents(f"{path}: no CloudTrail events in it")
        records = _drop_oversized(records, damage)
        if not records:
            raise InputError(f"{path}: every record is larger than "
                             f"{salvage.MAX_RECORD_BYTES >> 20} MB, skipped")
        if kind != "console CSV":
            _fix_lowercase(records, data, path, notes)
        if part.kind == "Insight":
            kind = "Insights " + kind
        body_end = len(data.rstrip()) if isinstance(data, bytes) else len(data) - 2
        begin = max(start, 0)
        multiline = kind not in ("NDJSON", "console CSV") and (
            data.find(b"\n", begin, max(body_end, 0)) != -1
            or data.find(b"\r", begin, max(body_end, 0)) != -1
        )
        ok = True
        return FileRecords(path, kind, records, notes, part, len(data), multiline, data, damage)
    finally:
        if not ok and isinstance(data, mmap.mmap):
            with contextlib.suppress(BufferError):
                data.close()
