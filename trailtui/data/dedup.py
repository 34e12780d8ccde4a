"""Exact dedup: two records count as one only when their whole content is equal.

Overlapping downloads repeat events; a repeated event must show once, but two records that
differ in any field (an enrichment key added by an exporter included) are both evidence. `_h`
(a hash of a few identifying fields, computed by DuckDB while parsing) only pairs candidates;
their original records are then compared: byte-equal, or equal as parsed JSON with key order
ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, Final, Protocol

import duckdb

# Rows of every `_h` group that holds a row of this chunk and more than one row, oldest first.
CANDIDATES_SQL: Final[str] = """WITH g AS (
  SELECT DISTINCT _h FROM events WHERE _file_id = $fid
), c AS (
  SELECT e._h FROM events e SEMI JOIN g ON e._h = g._h GROUP BY e._h HAVING count(*) > 1
)
SELECT e.rowid, e._file_id, e._line, e._h FROM events e SEMI JOIN c ON e._h = c._h
ORDER BY e._h, e._file_id, e._line"""


class _RawSource(Protocol):
    def raw_events(self, keys: Iterable[tuple[int, int]]) -> Iterable[bytes]: ...


def canonical(raw: bytes) -> str:
    """A record's content as text that ignores key order and spacing (not its values)."""
    try:
        return json.dumps(json.loads(raw), sort_keys=True, ensure_ascii=False)
    except (ValueError, RecursionError):
        return raw.decode("utf-8", "replace")


def duplicate_rows(rows: list[tuple[Any, ...]], raws: Iterable[bytes], fid: int,
                   canon: Callable[[bytes], str] = canonical) -> list[int]:
    """Row ids of this chunk (`fid`) whose record equals an earlier one of its group.

    `rows` are (rowid, file_id, line, group) sorted by group then age. Byte equality is tried
    first; records are parsed only in a group where bytes differ.
    """
    drop: list[int] = []
    group: object = object()
    seen_raw: set[bytes] = set()
    seen_canon: set[str] | None = None
    for (rowid, file_id, _line, h), raw in zip(rows, raws, strict=True):
        if h != group:
            group, seen_raw, seen_canon = h, set(), None
        if raw in seen_raw:
            dup = True
        else:
            if seen_canon is None and seen_raw:
                seen_canon = {canon(r) for r in seen_raw}
            key = canon(raw) if seen_canon is not None else None
            dup = key is not None and seen_canon is not None and key in seen_canon
            if not dup:
                seen_raw.add(raw)
                if seen_canon is not None and key is not None:
                    seen_canon.add(key)
        if dup and int(file_id) == fid:
            drop.append(int(rowid))
    return drop


def drop_exact_duplicates(cur: duckdb.DuckDBPyConnection, store: _RawSource, fid: int) -> int:
    """Delete this chunk's rows that repeat an already loaded record exactly; how many."""
    rows = cur.execute(CANDIDATES_SQL, {"fid": fid}).fetchall()
    if not rows:
        return 0
    raws = store.raw_events((int(r[1]), int(r[2])) for r in rows)
    try:
        drop = duplicate_rows(rows, raws, fid)
    except (OSError, KeyError):
        return 0  # a chunk file went missing: keep both copies rather than fail the load
    if drop:
        cur.execute("DELETE FROM events WHERE rowid IN (SELECT unnest(?::BIGINT[]))",
                    [drop]).fetchall()
    return len(drop)
