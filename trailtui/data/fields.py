"""Every field of an event, nested ones included, with the SQL that reads it.

The table, the column chooser, the frequency view, `=`/`!` on a cell and the report all name
fields by a *path*: `eventName`, `userIdentity.sessionContext.sessionIssuer.userName`,
`requestParameters.bucketName`, `additionalEventData.MFAUsed`. A path is a tuple of segments;
its text form joins them with dots and writes a segment that is not a plain name as a JSON
string in brackets (`requestParameters["a.b"]`), so every key round-trips.

Where fields come from: the `events` columns (a fixed list), the leaves of the `userIdentity`
STRUCT (the schema's own spec), and the keys actually present in the JSON columns
(`requestParameters`, `responseElements`, `additionalEventData`, ...), sampled cheaply: a few
events of every (eventSource, eventName) plus a random sample, parsed here.

Safety: JSON keys are written by whoever called AWS. A JSON field's SQL reads it with
`json_extract_string(<column>, '<JSON pointer>')`: the column is one of ours, the pointer is
built by RFC 6901 escaping (`~` -> `~0`, `/` -> `~1`) and quoted as a SQL string literal
(quotes doubled; DuckDB string literals have no other escapes). Keys holding NUL are left out.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import duckdb

from trailtui.data import schema

FieldKind = Literal["text", "bool", "time", "json", "number"]
FieldSource = Literal["column", "struct", "json"]

# A sample of this many events is parsed for JSON keys (plus two per event type, capped).
SAMPLE_RANDOM: Final = 1500
SAMPLE_PER_TYPE: Final = 2
SAMPLE_MAX: Final = 6000
MAX_DEPTH: Final = 5  # `requestParameters.a.b.c.d`: deeper keys are rare and noisy
MAX_JSON_FIELDS: Final = 2000  # a hostile record with 100k keys must not flood the chooser

_UNSAFE_KEY: Final = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_PLAIN_SEGMENT: Final = re.compile(r"[A-Za-z_@$][A-Za-z0-9_@$:-]*\Z")
_COLUMN_TYPES: Final[dict[str, str]] = dict(schema.EVENT_COLUMNS)
JSON_COLUMNS: Final[tuple[str, ...]] = tuple(n for n, t in schema.EVENT_COLUMNS if t == "JSON")
_HIDDEN_COLUMNS: Final[frozenset[str]] = frozenset(
    n for n in schema.COLUMN_NAMES if n.startswith("_")
)
_KINDS: Final[dict[str, FieldKind]] = {
    "VARCHAR": "text", "BOOLEAN": "bool", "TIMESTAMP": "time", "JSON": "json",
    "INTEGER": "number", "UBIGINT": "number",
}  # fmt: skip

# Fields the table shows by default and narrow terminals keep first (key columns).
DEFAULT_COLUMNS: Final[tuple[str, ...]] = (
    "eventTime", "actor", "eventName", "eventSource", "awsRegion", "sourceIPAddress",
    "errorCode", "account_id", "readOnly",
)  # fmt: skip


# -- paths --------------------------------------------------------------------------------------


def format_path(segments: Sequence[str]) -> str:
    """`('requestParameters', 'a.b')` -> `requestParameters["a.b"]`; plain names joined by dots."""
    out = ""
    for seg in segments:
        if _PLAIN_SEGMENT.match(seg):
            out += f".{seg}" if out else seg
        else:
            out += "[" + json.dumps(seg, ensure_ascii=True) + "]"
    return out


def parse_path(text: str) -> tuple[str, ...]:
    """The inverse of `format_path`; raises ValueError on text it did not write."""
    segments: list[str] = []
    i, n = 0, len(text)
    decoder = json.JSONDecoder()
    while i < n:
        if text[i] == "[":
            try:
                value, end = decoder.raw_decode(text, i + 1)
            except ValueError:
                raise ValueError(f"bad field path: {text!r}") from None
            if not isinstance(value, str) or end >= n or text[end] != "]":
                raise ValueError(f"bad field path: {text!r}")
            segments.append(value)
            i = end + 1
            if i < n and text[i] == ".":
                i += 1
            continue
        m = re.compile(r"[A-Za-z_@$][A-Za-z0-9_@$:-]*").match(text, i)
        if m is None:
            raise ValueError(f"bad field path: {text!r}")
        segments.append(m.group())
        i = m.end()
        if i < n and text[i] == ".":
            i += 1
            if i == n:
                raise ValueError(f"bad field path: {text!r}")
    if not segments:
        raise ValueError("empty field path")
    return tuple(segments)


def json_pointer(segments: Sequence[str]) -> str:
    """RFC 6901 pointer for keys below a JSON column (`/a~1b` for key `a/b`)."""
    return "".join("/" + s.replace("~", "~0").replace("/", "~1") for s in segments)


def _sql_string(text: str) -> str:
    """A SQL string literal of `text` (no NUL: callers check)."""
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    """A double-quoted identifier; only names from our fixed schema reach this."""
    return '"' + name.replace('"', '""') + '"'


# -- fields -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of an event: its path, where it lives, and DuckDB SQL that reads it as a value.

    `sql` is text for every kind but bool (BOOLEAN) and time (TIMESTAMP); JSON objects below a
    JSON column come back as their JSON text, numbers as their digits.
    """

    segments: tuple[str, ...]
    source: FieldSource
    kind: FieldKind
    sql: str

    @property
    def path(self) -> str:
        return format_path(self.segments)

    @property
    def top(self) -> str:
        """The `events` column the field lives in."""
        return self.segments[0]

    @property
    def nested(self) -> bool:
        return len(self.segments) > 1

    @property
    def title(self) -> str:
        """The last segment(s), for a column header: `sessionIssuer.userName`."""
        return format_path(self.segments[-2:]) if len(self.segments) > 2 else self.path

    def athena_sql(self) -> str:
        """The same field over Athena's CloudTrail table (lower-case names, JSON as text).

        For the copied Athena query only (never executed here); values are Trino-quoted.
        """
        top = self.top.lower()
        if self.source == "column":
            return top
        if self.source == "struct":
            return ".".join(s.lower() for s in self.segments)
        path = "$" + "".join(
            '["' + s.replace("\\", "\\\\").replace('"', '\\"') + '"]' for s in self.segments[1:]
        )
        return f"json_extract_scalar({top}, {_sql_string(path)})"


def _struct_leaves(
    spec: Mapping[str, object], prefix: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], str]]:
    for name, typ in spec.items():
        path = (*prefix, name)
        if isinstance(typ, Mapping):
            yield from _struct_leaves(typ, path)
        else:
            yield path, str(typ)


_IDENTITY_LEAVES: Final[tuple[tuple[tuple[str, ...], str], ...]] = tuple(
    _struct_leaves(json.loads(schema.USER_IDENTITY_SPEC), ("userIdentity",))
)


def column_field(name: str) -> Field:
    """A top-level `events` column as a field (JSON columns as their whole JSON text)."""
    typ = _COLUMN_TYPES.get(name)
    if typ is None or name in _HIDDEN_COLUMNS or typ == "STRUCT":
        raise ValueError(f"not an event column: {name!r}")
    kind = _KINDS.get(typ, "text")
    sql = f"CAST({_ident(name)} AS VARCHAR)" if kind == "json" else _ident(name)
    return Field((name,), "column", kind, sql)


def struct_field(segments: Sequence[str]) -> Field:
    """A leaf of the userIdentity STRUCT (only the schema's own field names)."""
    segs = tuple(segments)
    for path, typ in _IDENTITY_LEAVES:
        if path == segs:
            sql = ".".join(_ident(s) for s in segs)
            if typ == "JSON":
                return Field(segs, "struct", "json", f"CAST({sql} AS VARCHAR)")
            return Field(segs, "struct", "text", sql)
    raise ValueError(f"not a userIdentity field: {format_path(segs)!r}")


def json_field(segments: Sequence[str]) -> Field:
    """A key path below one of the JSON columns; any key text is safe here."""
    segs = tuple(segments)
    if len(segs) < 2 or segs[0] not in JSON_COLUMNS:
        raise ValueError(f"not a JSON field: {format_path(segs)!r}")
    if any(_UNSAFE_KEY.search(s) for s in segs):
        # Its name would put raw control or bidi characters into copied SQL and headers.
        raise ValueError("a field name with control characters cannot be a column")
    pointer = _sql_string(json_pointer(segs[1:]))
    return Field(segs, "json", "text", f"json_extract_string({_ident(segs[0])}, {pointer})")


def field_for(path: str | Sequence[str]) -> Field:
    """The field at a path (text or segments), whether or not the data holds it.

    Raises ValueError for a path that cannot name a field (unknown column, bad struct leaf).
    """
    segs = parse_path(path) if isinstance(path, str) else tuple(path)
    if not segs:
        raise ValueError("empty field path")
    top = segs[0]
    if top == "userIdentity":
        return struct_field(segs)
    if len(segs) == 1:
        return column_field(top)
    return json_field(segs)


def base_fields() -> list[Field]:
    """Every column and userIdentity leaf: fields that exist whatever the data holds."""
    out: list[Field] = []
    for name, typ in schema.EVENT_COLUMNS:
        if name in _HIDDEN_COLUMNS:
            continue
        if typ == "STRUCT":
            out += [struct_field(path) for path, _ in _IDENTITY_LEAVES]
        else:
            out.append(column_field(name))
    return out


# -- the catalog --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldCatalog:
    """Every field: the fixed ones, then the JSON keys seen in the data, sorted by path."""

    fields: tuple[Field, ...]
    sampled: int = 0  # events parsed for JSON keys

    def __len__(self) -> int:
        return len(self.fields)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def get(self, path: str) -> Field | None:
        for f in self.fields:
            if f.path == path:
                return f
        return None

    def search(self, text: str) -> list[Field]:
        """Fields whose path contains every word of `text` (case-insensitive), in order."""
        words = text.lower().split()
        return [f for f in self.fields if all(w in f.path.lower() for w in words)]


def json_paths(value: object, prefix: tuple[str, ...] = (), depth: int = 0) -> Iterator[
    tuple[str, ...]
]:
    """Key paths to the leaves (scalars, arrays, empty objects) of a parsed JSON object."""
    if not isinstance(value, dict):
        return
    for key, sub in value.items():
        path = (*prefix, str(key))
        if isinstance(sub, dict) and sub and depth + 1 < MAX_DEPTH:
            yield from json_paths(sub, path, depth + 1)
        else:
            yield path


def _sample_rowids(cur: duckdb.DuckDBPyConnection, seed: int) -> list[int]:
    """Row ids of a few events per (eventSource, eventName) and a random sample, capped."""
    rows = cur.execute(
        "SELECT min(rowid), max(rowid) FROM events GROUP BY eventSource, eventName"
    ).fetchall()
    ids = {int(r) for pair in rows for r in pair[:SAMPLE_PER_TYPE] if r is not None}
    total = cur.execute("SELECT count(*), max(rowid) FROM events").fetchall()
    n, top = (int(total[0][0]), total[0][1]) if total else (0, None)
    if n and top is not None:
        rng = random.Random(seed)
        upper = int(top)
        for _ in range(min(SAMPLE_RANDOM, n)):
            ids.add(rng.randint(0, upper))
    return sorted(ids)[:SAMPLE_MAX]


def catalog(cur: duckdb.DuckDBPyConnection, *, seed: int = 12) -> FieldCatalog:
    """Every field of the loaded events (runs in a worker: ~20-100 ms, a sample is parsed).

    JSON keys are found in a sample, so a key seen only once in a million events can be
    missing from the list: `field_for` still builds it from a typed path.
    """
    fixed = base_fields()
    ids = _sample_rowids(cur, seed)
    found: dict[tuple[str, ...], None] = {}
    sampled = 0
    if ids:
        cols = ", ".join(f"CAST({_ident(c)} AS VARCHAR)" for c in JSON_COLUMNS)
        rows = cur.execute(
            f"SELECT {cols} FROM events WHERE rowid IN (SELECT unnest(?::BIGINT[]))", [ids]
        ).fetchall()
        sampled = len(rows)
        for row in rows:
            for col, text in zip(JSON_COLUMNS, row, strict=True):
                if not text or text[0] != "{":
                    continue
                try:
                    doc = json.loads(text)
                except (ValueError, RecursionError):
                    continue
                for path in json_paths(doc, (col,)):
                    found.setdefault(path, None)
                    if len(found) >= MAX_JSON_FIELDS:
                        break
    nested: list[Field] = []
    for path in sorted(found, key=lambda p: [s.lower() for s in p]):
        try:
            nested.append(json_field(path))
        except ValueError:
            continue
    return FieldCatalog((*fixed, *nested), sampled)


def fields_of(paths: Iterable[str]) -> list[Field]:
    """Fields for saved paths, skipping any that no longer name a field."""
    out: list[Field] = []
    for p in paths:
        try:
            out.append(field_for(p))
        except ValueError:
            continue
    return out
