"""Questions about any field under the current filter: its frequency table, one event's value.

The data side of VisiData's Shift+F and of `=`/`!` on a cell: every function takes the calling
thread's cursor (run them in a worker) and a `fields.Field`, whose SQL is built from fixed
pieces (see fields.py); values and search text are bound parameters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import duckdb

from trailtui.data.fields import Field, field_for
from trailtui.data.filters import FacetValue, FilterState
from trailtui.data.views import VIEW_COLUMNS, ViewInfo, view_table_name

SortOrder = Literal["count_desc", "count_asc", "value_asc", "value_desc"]
_ORDER: Final[dict[str, str]] = {
    "count_desc": "n DESC, v ASC NULLS LAST",
    "count_asc": "n ASC, v ASC NULLS LAST",
    "value_asc": "v ASC NULLS LAST, n DESC",
    "value_desc": "v DESC NULLS LAST, n DESC",
}
_VIEW_NAME: Final = re.compile(r"view_\d+")


@dataclass(frozen=True)
class Frequency:
    """One field's values under a filter: (value, count) rows plus the totals they come from."""

    path: str
    rows: tuple[tuple[FacetValue, int], ...]
    distinct: int  # values in the whole answer (rows may be limited)
    events: int  # events under the filter (the counts sum to this when unsearched)
    filters: FilterState
    search: str = ""
    order: SortOrder = "count_desc"

    def share(self, count: int) -> float:
        """A count as a fraction of the events under the filter (0 when there are none)."""
        return count / self.events if self.events else 0.0


def _source(filters: FilterState, within: str | None) -> tuple[str, list[object]]:
    """`FROM events WHERE ...` for the filtered events; via a view table already built for
    the same filter when given (a search chip is then not re-scanned)."""
    if within is not None:
        if not _VIEW_NAME.fullmatch(within):
            raise ValueError(f"not a view table: {within!r}")
        return (
            f"FROM events WHERE (_file_id, _line) IN (SELECT _file_id, _line FROM {within})",
            [],
        )
    where, params = filters.where()
    return f"FROM events WHERE {where}", params


def frequency(
    cur: duckdb.DuckDBPyConnection,
    fld: Field,
    filters: FilterState,
    *,
    search: str = "",
    order: SortOrder = "count_desc",
    limit: int | None = None,
    within: str | None = None,
) -> Frequency:
    """Every value of `fld` with its count under `filters`, sorted by `order`.

    `search` keeps values containing the text, ignoring case (bound, so `%` and `_` are
    literal); "(none)" rows are then left out. `limit` caps the rows returned, never the
    totals. `within`: a `view_<n>` table built for these same filters.
    """
    if order not in _ORDER:
        raise ValueError(f"unknown order: {order!r}")
    source, params = _source(filters, within)
    inner = f"SELECT {fld.sql} AS v {source}"
    cond, cond_params = "", []
    if search:
        cond = "WHERE contains(lower(CAST(v AS VARCHAR)), lower(?))"
        cond_params = [search]
    grouped = f"SELECT v, count(*) AS n FROM ({inner}) {cond} GROUP BY v"
    lim = f" LIMIT {int(limit)}" if limit is not None else ""
    rows = cur.execute(
        f"WITH g AS ({grouped}) SELECT v, n, (SELECT count(*) FROM g), "
        f"(SELECT coalesce(sum(n), 0) FROM g) FROM g ORDER BY {_ORDER[order]}{lim}",
        [*params, *cond_params],
    ).fetchall()
    if rows:
        distinct, matched = int(rows[0][2]), int(rows[0][3])
    else:
        distinct, matched = 0, 0
    events = matched
    if search:
        total = cur.execute(f"SELECT count(*) {source}", params).fetchall()
        events = int(total[0][0]) if total else 0
    return Frequency(
        fld.path,
        tuple((_plain(v), int(n)) for v, n, _d, _m in rows),
        distinct,
        events,
        filters,
        search,
        order,
    )


def _plain(value: object) -> FacetValue:
    if value is None or isinstance(value, str | bool):
        return value
    return str(value)


def field_value(
    cur: duckdb.DuckDBPyConnection, fld: Field, file_id: int, line: int
) -> tuple[bool, FacetValue]:
    """One event's value of `fld`: (found, value). Found is False when no such event."""
    rows = cur.execute(
        f"SELECT {fld.sql} FROM events WHERE _file_id = ? AND _line = ? LIMIT 1",
        [int(file_id), int(line)],
    ).fetchall()
    if not rows:
        return False, None
    return True, _plain(rows[0][0])


def field_values(
    cur: duckdb.DuckDBPyConnection,
    flds: Sequence[Field],
    keys: Sequence[tuple[int, int]],
) -> list[tuple[FacetValue, ...]]:
    """Values of several fields for several events, in the order of `keys` (a page of the
    table). A key that names no event gets a row of None."""
    if not keys or not flds:
        return [tuple(None for _ in flds) for _ in keys]
    cols = ", ".join(f"{f.sql} AS c{i}" for i, f in enumerate(flds))
    files = [int(f) for f, _ in keys]
    lines = [int(n) for _, n in keys]
    # The range predicates let DuckDB skip row groups by their min/max (events are stored in
    # load order, so one page's keys sit in a few row groups).
    rows = cur.execute(
        f"SELECT _file_id, _line, {cols} FROM events "
        "WHERE _file_id BETWEEN ? AND ? AND _line BETWEEN ? AND ? "
        "AND (_file_id, _line) IN (SELECT unnest(?::INTEGER[]), unnest(?::INTEGER[]))",
        [min(files), max(files), min(lines), max(lines), files, lines],
    ).fetchall()
    found = {(int(r[0]), int(r[1])): tuple(_plain(v) for v in r[2:]) for r in rows}
    empty = tuple(None for _ in flds)
    return [found.get((int(f), int(n)), empty) for f, n in keys]


# -- a view with any fields as columns ---------------------------------------------------------


@dataclass(frozen=True)
class FieldsView:
    """A materialised view (see views.py) with extra field columns `x0..xn` after the usual
    ones. `paths[i]` names column `x{i}`; `column_keys` is what a page row holds, in order."""

    info: ViewInfo
    paths: tuple[str, ...]

    @property
    def table(self) -> str:
        return self.info.table

    @property
    def row_count(self) -> int:
        return self.info.row_count

    @property
    def column_keys(self) -> tuple[str, ...]:
        return (*VIEW_COLUMNS, *self.paths)


def extra_fields(paths: Sequence[str]) -> list[Field]:
    """The fields among `paths` that a plain view does not hold already (order kept)."""
    have = set(VIEW_COLUMNS)
    out: list[Field] = []
    seen: set[str] = set()
    for p in paths:
        try:
            fld = field_for(p)
        except ValueError:
            continue
        if fld.path in have or fld.path in seen:
            continue
        seen.add(fld.path)
        out.append(fld)
    return out


def materialize_fields_view(
    cur: duckdb.DuckDBPyConnection,
    filters: FilterState,
    flds: Sequence[Field],
    sort: Field | None = None,
    descending: bool = True,
    generation: int = 0,
) -> FieldsView:
    """`view_<generation>`: the filtered events' display columns, then `flds` as `x0..xn`,
    ordered by `sort` (any field; eventTime when None), ties broken as views.order_by does.

    JSON fields are extracted once here (~0.1 s per field at 200k events), so pages read
    them by position like any other column and any column can be sorted on.
    """
    table = view_table_name(generation)
    where, params = filters.where()
    base = ", ".join(f'"{c}"' for c in VIEW_COLUMNS)
    extra = "".join(f", {f.sql} AS x{i}" for i, f in enumerate(flds))
    direction = "DESC" if descending else "ASC"
    keys: list[str] = []
    if sort is not None and sort.path != "eventTime":
        keys.append(f"({sort.sql}) {direction} NULLS LAST")
        keys.append('"eventTime" DESC NULLS LAST')
    else:
        keys.append(f'"eventTime" {direction} NULLS LAST')
    keys += ['"_file_id"', '"_line"']
    cur.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT {base}{extra} FROM events "
        f"WHERE {where} ORDER BY {', '.join(keys)}",
        params,
    )
    n = cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    info = ViewInfo(table, int(n), int(generation), sort.path if sort else "eventTime",
                    descending, filters)
    return FieldsView(info, tuple(f.path for f in flds))


def fetch_field_rows(
    cur: duckdb.DuckDBPyConnection, view: FieldsView, start: int, count: int
) -> list[tuple[object, ...]]:
    """Rows [start, start + count) of a fields view as tuples of `view.column_keys` (~1 ms)."""
    if not _VIEW_NAME.fullmatch(view.table):
        raise ValueError(f"not a view table: {view.table!r}")
    start, stop = max(0, int(start)), min(view.row_count, max(0, int(start) + int(count)))
    if stop <= start:
        return []
    cols = ", ".join([*(f'"{c}"' for c in VIEW_COLUMNS),
                      *(f"x{i}" for i in range(len(view.paths)))])
    return cur.execute(
        f"SELECT {cols} FROM {view.table} WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
        [start, stop],
    ).fetchall()


def field_widths(cur: duckdb.DuckDBPyConnection, view: FieldsView, cap: int = 200) -> dict[
    str, int
]:
    """Longest value (characters, capped) of each extra field in the view, for sizing."""
    if not view.paths or not _VIEW_NAME.fullmatch(view.table):
        return {}
    exprs = ", ".join(f"max(length(CAST(x{i} AS VARCHAR)))" for i in range(len(view.paths)))
    rows = cur.execute(f"SELECT {exprs} FROM {view.table}").fetchall()
    values = rows[0] if rows else ()
    return {p: min(int(v), cap)
            for p, v in zip(view.paths, values, strict=False) if isinstance(v, int)}


# -- facet panels on any field -----------------------------------------------------------------


def own_chips(filters: FilterState, path: str) -> FilterState:
    """`filters` without the include chips on `path` itself (field chips, or `Chip.include`
    on the same column): a facet counts its values as if none of them were picked yet, so
    picking a second value ORs it in instead of leaving a one-value list."""
    from trailtui.data.filters import Chip, FieldChip

    keep = tuple(
        c for c in filters.chips
        if not (isinstance(c, FieldChip) and c.kind == "field_in" and c.path == path)
        and not (isinstance(c, Chip) and c.kind == "include" and c.column == path)
    )
    if len(keep) == len(filters.chips):
        return filters
    return FilterState(keep)


def facet_counts(
    cur: duckdb.DuckDBPyConnection,
    paths: Sequence[str],
    filters: FilterState,
    *,
    limit: int | None = None,
    within: str | None = None,
) -> dict[str, list[tuple[FacetValue, int]]]:
    """Every value of each facet field with its count, most first, ties by value.

    Facets without a pick of their own share one GROUPING SETS scan under `filters` (or the
    `within` view built for them); a facet with picked values is counted under the other
    chips only (`own_chips`), so its other values stay listed to be ORed in.
    """
    flds: list[Field] = []
    for p in dict.fromkeys(paths):
        try:
            flds.append(field_for(p))
        except ValueError:
            continue
    shared = [f for f in flds if own_chips(filters, f.path) is filters]
    alone = [f for f in flds if f not in shared]
    out: dict[str, list[tuple[FacetValue, int]]] = {}
    if shared:
        source, params = _source(filters, within)
        names = [f"c{i}" for i in range(len(shared))]
        inner = ", ".join(f"{f.sql} AS {n}" for f, n in zip(shared, names, strict=True))
        sets = ", ".join(f"({n})" for n in names)
        by_value = ", ".join(f"{n} ASC NULLS LAST" for n in names)
        rows = cur.execute(
            f"SELECT grouping_id({', '.join(names)}) AS g, count(*) AS n, {', '.join(names)} "
            f"FROM (SELECT {inner} {source}) "
            f"GROUP BY GROUPING SETS ({sets}) ORDER BY g, n DESC, {by_value}",
            params,
        ).fetchall()
        full = (1 << len(shared)) - 1
        index = {full ^ (1 << (len(shared) - 1 - i)): i for i in range(len(shared))}
        for f in shared:
            out[f.path] = []
        for g, n, *values in rows:
            i = index[g]
            bucket = out[shared[i].path]
            if limit is None or len(bucket) < limit:
                bucket.append((_plain(values[i]), int(n)))
    for f in alone:
        freq = frequency(cur, f, own_chips(filters, f.path), limit=limit)
        out[f.path] = list(freq.rows)
    return {f.path: out[f.path] for f in flds}


class FieldsPageSource:
    """The event table's rows for a `FieldsView`: read in pages by position (UI thread's
    cursor; ~1-3 ms a page), as tuples of `column_keys`."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, view: FieldsView) -> None:
        self._cur = cursor
        self.fields_view = view
        self.view = view.info

    @property
    def row_count(self) -> int:
        return self.fields_view.row_count

    @property
    def column_keys(self) -> tuple[str, ...]:
        return self.fields_view.column_keys

    @property
    def generation(self) -> int:
        return self.view.generation

    def fetch(self, start: int, count: int) -> list[tuple[object, ...]]:
        return fetch_field_rows(self._cur, self.fields_view, start, count)


def sort_field(key: str) -> Field | None:
    """The field a sort key names (None: eventTime, the default order)."""
    if key == "eventTime":
        return None
    try:
        return field_for(key)
    except ValueError:
        return None
