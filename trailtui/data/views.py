"""Everything the browser screen asks of the `events` table, as plain functions on a cursor.

Each function takes the calling thread's DuckDB cursor (a connection object is not thread-safe),
so the screen runs them in thread workers; only `fetch_rows`/`PageSource.fetch` are meant for
the UI thread (about 1 ms a page).

Views. On each filter or sort change a worker materialises an ordinary table `view_<gen>` (TEMP
tables are invisible to other cursors) holding the narrow display columns in display order.
A row's position is the table's `rowid`: a table created from `... ORDER BY` keeps that order
and numbers its rows 0..n-1 in it (DuckDB's documented order preservation; this needs the
default `preserve_insertion_order = true`), and a rowid range read uses the zone maps (~1 ms
at 1M rows). Ties are broken by (`_file_id`, `_line`), which is unique, so the order is total
and stable. Measured at 1M rows, unfiltered (bench/bench_query.py): 0.42 s, against 0.99 s
for a `row_number() OVER (ORDER BY ..., eventID, ...)` column and 1.44 s with four more wide
columns (userAgent, eventID, ...) in the view: sorting wide text dominates the cost.

Search chips scan all the event's text (~0.2 s at 200k rows, ~0.9 s at 1M). When
`FilterState.has_search`, build the view first and pass it as `within=` to the facet and time
span queries, which then find its events by key instead of scanning again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import duckdb

from trailtui.data.filters import COLUMNS, Column, FacetValue, FilterState


@dataclass(frozen=True)
class Facet:
    """One facet panel section: a key of `filters.COLUMNS` and its title."""

    key: str
    title: str

    @property
    def column(self) -> Column:
        return COLUMNS[self.key]


FACETS: Final[tuple[Facet, ...]] = tuple(
    Facet(key, COLUMNS[key].title)
    for key in (
        "actor", "eventSource", "sourceIPAddress", "eventName", "awsRegion", "errorCode",
        "identity_type", "account_id", "userAgent", "readOnly", "eventType",
    )
)  # fmt: skip
FACET_KEYS: Final[tuple[str, ...]] = tuple(f.key for f in FACETS)

# The columns a view table holds, in this order; `fetch_rows` returns tuples of VIEW_COLUMNS.
# Everything else (identity, access key, user agent, the JSON) comes from `event_row` for the
# one event a user opens or pivots from.
DISPLAY_COLUMNS: Final[tuple[str, ...]] = (
    "eventTime", "actor", "eventName", "eventSource", "awsRegion", "sourceIPAddress",
    "errorCode", "account_id", "readOnly",
)  # fmt: skip
VIEW_COLUMNS: Final[tuple[str, ...]] = (*DISPLAY_COLUMNS, "_file_id", "_line")
SORT_COLUMNS: Final[frozenset[str]] = frozenset(DISPLAY_COLUMNS)

_VIEW_NAME = re.compile(r"view_\d+")
_VIEW_SELECT: Final[str] = ", ".join(f'"{c}"' for c in VIEW_COLUMNS)


@dataclass(frozen=True)
class ViewInfo:
    """A materialised view: its table, size, and what it was built from (to drop stale ones)."""

    table: str
    row_count: int
    generation: int
    sort_column: str = "eventTime"
    descending: bool = True
    filters: FilterState = field(default_factory=FilterState)


def view_table_name(generation: int) -> str:
    return f"view_{int(generation)}"


def _checked_table(table: str) -> str:
    """Table names are interpolated into SQL, so only our own `view_<n>` names pass."""
    if not _VIEW_NAME.fullmatch(table):
        raise ValueError(f"not a view table: {table!r}")
    return table


def _facet_column(key: str) -> Column:
    if key not in FACET_KEYS:
        raise ValueError(f"not a facet: {key!r}")
    return COLUMNS[key]


def _one(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> object:
    rows = cur.execute(sql, list(params)).fetchall()
    return rows[0][0] if rows else None


def _count(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> int:
    value = _one(cur, sql, params)
    return value if isinstance(value, int) else 0


# -- counts -----------------------------------------------------------------------------------


def total_count(cur: duckdb.DuckDBPyConnection) -> int:
    return _count(cur, "SELECT count(*) FROM events")


def count(cur: duckdb.DuckDBPyConnection, filters: FilterState) -> int:
    where, params = filters.where()
    return _count(cur, f"SELECT count(*) FROM events WHERE {where}", params)


def time_span(
    cur: duckdb.DuckDBPyConnection, filters: FilterState, within: ViewInfo | None = None
) -> tuple[datetime | None, datetime | None]:
    """Earliest and latest eventTime under the filter (None, None when nothing matches).

    `within`: a view built for these filters; read from it instead (no filter re-run).
    """
    params: list[object] = []
    if within is not None:
        if within.filters != filters:
            raise ValueError("the view was built for another filter")
        source = f"FROM {_checked_table(within.table)}"
    else:
        where, params = filters.where()
        source = f"FROM events WHERE {where}"
    rows = cur.execute(f"SELECT min(eventTime), max(eventTime) {source}", params).fetchall()
    lo, hi = rows[0] if rows else (None, None)
    return lo, hi


# -- facets -----------------------------------------------------------------------------------


def _filtered(filters: FilterState, within: ViewInfo | None) -> tuple[str, list[object]]:
    """`FROM ... WHERE ...` for the events under `filters`, optionally via a view built for them.

    Re-evaluating a search chip costs a full text scan (~0.2 s at 200k, ~0.9 s at 1M rows);
    the events of a view already built for the same filter are found by key in ~60-90 ms.
    """
    if within is None:
        where, params = filters.where()
        return f"FROM events WHERE {where}", params
    if within.filters != filters:
        raise ValueError("the view was built for another filter")
    table = _checked_table(within.table)
    return f"FROM events WHERE (_file_id, _line) IN (SELECT _file_id, _line FROM {table})", []


def facet_counts(
    cur: duckdb.DuckDBPyConnection,
    facet_key: str,
    filters: FilterState,
    within: ViewInfo | None = None,
) -> list[tuple[FacetValue, int]]:
    """Every value of one facet with its count under the filter, most first, ties by value.

    No LIMIT: the panel scrolls to the last value (10k+ source IPs are just tuples). `within`:
    see `all_facet_counts`.
    """
    expr = _facet_column(facet_key).sql
    source, params = _filtered(filters, within)
    rows = cur.execute(
        f"SELECT {expr} AS v, count(*) AS n {source} "
        f"GROUP BY ALL ORDER BY n DESC, v ASC NULLS LAST",
        params,
    ).fetchall()
    return [(v, int(n)) for v, n in rows]


def all_facet_counts(
    cur: duckdb.DuckDBPyConnection,
    keys: Sequence[str],
    filters: FilterState,
    within: ViewInfo | None = None,
) -> dict[str, list[tuple[FacetValue, int]]]:
    """`facet_counts` for several facets (keys in the order given) in one GROUPING SETS query.

    One scan evaluates the filter once for every facet. Measured at 1M rows
    (bench/bench_query.py), against a UNION ALL of per-facet GROUP BYs: 0.12 s against
    0.09 s with no filter, 0.03 s against 0.05 s under two include chips, and 0.5 s against
    7.6 s under a search chip, which the UNION ALL re-evaluates in each of its 11 branches.

    `within`: a view materialised for these same filters; its events are then found by key
    instead of re-running the filter. Worth it when `filters.has_search` (the facets then wait
    for the view, but ~1 s of text scanning at 1M rows is saved); slower otherwise.
    """
    cols = [(key, _facet_column(key)) for key in dict.fromkeys(keys)]
    if not cols:
        return {}
    source, params = _filtered(filters, within)
    names = [f"c{i}" for i in range(len(cols))]
    inner = ", ".join(f"{col.sql} AS {name}" for name, (_, col) in zip(names, cols, strict=True))
    sets = ", ".join(f"({name})" for name in names)
    # Within one facet's rows every other column is NULL, so ordering by all the columns in
    # turn orders each facet by its own value.
    by_value = ", ".join(f"{name} ASC NULLS LAST" for name in names)
    rows = cur.execute(
        f"SELECT grouping_id({', '.join(names)}) AS g, count(*) AS n, {', '.join(names)} "
        f"FROM (SELECT {inner} {source}) "
        f"GROUP BY GROUPING SETS ({sets}) ORDER BY g, n DESC, {by_value}",
        params,
    ).fetchall()
    # grouping_id has a bit per column, set when that column is not grouped (high bit first).
    full = (1 << len(cols)) - 1
    index = {full ^ (1 << (len(cols) - 1 - i)): i for i in range(len(cols))}
    out: dict[str, list[tuple[FacetValue, int]]] = {key: [] for key, _ in cols}
    for g, n, *values in rows:
        i = index[g]
        out[cols[i][0]].append((values[i], int(n)))
    return out


# -- views ------------------------------------------------------------------------------------


def order_by(sort_column: str = "eventTime", descending: bool = True) -> str:
    """The ORDER BY list of a view: the chosen column, newest first, then a unique tie-break."""
    if sort_column not in SORT_COLUMNS:
        raise ValueError(f"cannot sort by {sort_column!r}")
    keys = [f'"{sort_column}" {"DESC" if descending else "ASC"} NULLS LAST']
    if sort_column != "eventTime":
        keys.append('"eventTime" DESC NULLS LAST')
    keys += ['"_file_id"', '"_line"']
    return ", ".join(keys)


def materialize_view(
    cur: duckdb.DuckDBPyConnection,
    filters: FilterState,
    sort_column: str = "eventTime",
    descending: bool = True,
    generation: int = 0,
) -> ViewInfo:
    """Create `view_<generation>`: the filtered events' display columns in display order.

    Runs in a worker; the screen swaps to the new view when it arrives and drops the old one.
    """
    order = order_by(sort_column, descending)
    if str(_one(cur, "SELECT current_setting('preserve_insertion_order')")).lower() != "true":
        raise RuntimeError("views need DuckDB's preserve_insertion_order setting left on")
    table = view_table_name(generation)
    where, params = filters.where()
    cur.execute(
        f"CREATE OR REPLACE TABLE {table} AS "
        f"SELECT {_VIEW_SELECT} FROM events WHERE {where} ORDER BY {order}",
        params,
    )
    n = _count(cur, f"SELECT count(*) FROM {table}")
    return ViewInfo(table, n, int(generation), sort_column, descending, filters)


def drop_view(cur: duckdb.DuckDBPyConnection, table: str) -> None:
    cur.execute(f"DROP TABLE IF EXISTS {_checked_table(table)}")


def fetch_rows(
    cur: duckdb.DuckDBPyConnection, table: str, start: int, count: int
) -> list[tuple[object, ...]]:
    """Rows [start, start + count) of a view as tuples of VIEW_COLUMNS (UI thread, ~1 ms)."""
    start, stop = max(0, int(start)), max(0, int(start) + int(count))
    if stop <= start:
        return []
    return cur.execute(
        f"SELECT {_VIEW_SELECT} FROM {_checked_table(table)} "
        f"WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
        [start, stop],
    ).fetchall()


_TEXT_VIEW_COLUMNS: Final[tuple[str, ...]] = tuple(
    c for c in DISPLAY_COLUMNS if c not in ("eventTime", "readOnly")
)


def column_widths(cur: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    """Longest value (in characters) of each text column of a view, for sizing the table.

    Columns with no value in the view are left out (an empty view gives {}). Characters, not
    terminal cells: the widget caps and measures what it draws.
    """
    exprs = ", ".join(f'max(length("{c}"))' for c in _TEXT_VIEW_COLUMNS)
    rows = cur.execute(f"SELECT {exprs} FROM {_checked_table(table)}").fetchall()
    values = rows[0] if rows else ()
    return {
        c: int(v) for c, v in zip(_TEXT_VIEW_COLUMNS, values, strict=False) if isinstance(v, int)
    }


def rows_keys(
    cur: duckdb.DuckDBPyConnection, table: str, positions: Iterable[int]
) -> list[tuple[int, int]]:
    """(`_file_id`, `_line`) of the rows at these view positions, in view order (for copying
    marked rows; `EventStore.raw_events` turns the keys back into the original records)."""
    wanted = sorted({int(p) for p in positions})
    if not wanted:
        return []
    rows = cur.execute(
        f"SELECT _file_id, _line FROM {_checked_table(table)} "
        f"WHERE rowid IN (SELECT unnest(?::BIGINT[])) ORDER BY rowid",
        [wanted],
    ).fetchall()
    return [(int(f), int(line)) for f, line in rows]


def range_keys(
    cur: duckdb.DuckDBPyConnection, table: str, start: int, stop: int
) -> list[tuple[int, int]]:
    """(`_file_id`, `_line`) of the view rows [start, stop), in view order."""
    rows = cur.execute(
        f"SELECT _file_id, _line FROM {_checked_table(table)} "
        f"WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
        [max(0, int(start)), max(0, int(stop))],
    ).fetchall()
    return [(int(f), int(line)) for f, line in rows]


def position_of(
    cur: duckdb.DuckDBPyConnection, table: str, file_id: int, line: int
) -> int | None:
    """Where an event sits in a view (to keep the cursor on it after a re-sort), or None."""
    value = _one(
        cur,
        f"SELECT rowid FROM {_checked_table(table)} WHERE _file_id = ? AND _line = ?",
        [int(file_id), int(line)],
    )
    return value if isinstance(value, int) else None


# -- single events ----------------------------------------------------------------------------


def event_row(cur: duckdb.DuckDBPyConnection, file_id: int, line: int) -> dict[str, object] | None:
    """Every column of one event (userIdentity as a dict, JSON columns as text), or None."""
    res = cur.execute(
        "SELECT * FROM events WHERE _file_id = ? AND _line = ? LIMIT 1", [int(file_id), int(line)]
    )
    names = [d[0] for d in res.description or ()]
    rows = res.fetchall()
    return dict(zip(names, rows[0], strict=True)) if rows else None


def event_rows(
    cur: duckdb.DuckDBPyConnection, keys: Sequence[tuple[int, int]]
) -> list[dict[str, object]]:
    """Every column of several events, in the order of `keys` (missing ones left out)."""
    if not keys:
        return []
    res = cur.execute(
        "SELECT e.* FROM events e JOIN ("
        "  SELECT unnest(?::INTEGER[]) AS f, unnest(?::INTEGER[]) AS l, "
        "         unnest(range(?)) AS i"
        ") k ON e._file_id = k.f AND e._line = k.l ORDER BY k.i",
        [[int(f) for f, _ in keys], [int(line) for _, line in keys], len(keys)],
    )
    names = [d[0] for d in res.description or ()]
    return [dict(zip(names, row, strict=True)) for row in res.fetchall()]


# -- the event table's data source --------------------------------------------------------------


class PageSource:
    """The event table's rows: a view read in pages by position (no Textual here).

    Give it the UI thread's own cursor; `fetch` is the only query it runs.
    """

    columns: Final[tuple[str, ...]] = VIEW_COLUMNS

    def __init__(self, cursor: duckdb.DuckDBPyConnection, view: ViewInfo) -> None:
        self._cur = cursor
        self.view = view

    @property
    def row_count(self) -> int:
        return self.view.row_count

    @property
    def column_keys(self) -> tuple[str, ...]:
        """The event table maps its columns onto these by name."""
        return VIEW_COLUMNS

    @property
    def generation(self) -> int:
        return self.view.generation

    def fetch(self, start: int, count: int) -> list[tuple[object, ...]]:
        """Rows [start, start + count), clipped to the view."""
        stop = min(self.view.row_count, start + count)
        return fetch_rows(self._cur, self.view.table, start, stop - start)
