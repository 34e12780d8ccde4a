"""The catalog side of the console: the `filtered` view, finding an event a result row names,
and the names the SQL editor completes. No Textual here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import duckdb

from trailtui.data import schema
from trailtui.data.results import RESULT_PREFIX, RESULT_SCHEMA, quote_ident

FILTERED_VIEW: Final = "filtered"
_TABLE_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def define_filtered_view(cur: duckdb.DuckDBPyConnection, view_table: str | None) -> None:
    """(Re)define `filtered`: the events under the current filter chips, for console SQL.

    `view_table` is the browser's current materialised view table (it holds `_file_id` and
    `_line`), so the definition needs no values at all, and `SELECT * FROM filtered` rows keep
    their original-record keys (enter opens them; export writes them exactly). Call it when the
    screen swaps views, BEFORE dropping the old view table; None means "no filter": all events.
    """
    if view_table is None:
        cur.execute(
            f"CREATE OR REPLACE VIEW {RESULT_SCHEMA}.{FILTERED_VIEW} AS "
            "SELECT * EXCLUDE (_h) FROM events"
        ).fetchall()
        return
    if _TABLE_NAME.fullmatch(view_table) is None:
        raise ValueError(f"not a view table name: {view_table!r}")
    cur.execute(
        f"CREATE OR REPLACE VIEW {RESULT_SCHEMA}.{FILTERED_VIEW} AS "
        f"SELECT e.* EXCLUDE (_h) FROM events e SEMI JOIN {RESULT_SCHEMA}.{view_table} v "
        "ON e._file_id = v._file_id AND e._line = v._line"
    ).fetchall()


# Text columns that narrow an eventID match (documentation examples and test fixtures reuse IDs).
MATCH_COLUMNS: Final = (
    "eventName",
    "eventSource",
    "awsRegion",
    "sourceIPAddress",
    "requestID",
    "recipientAccountId",
    "eventType",
    "errorCode",
)


def locate_event(
    cur: duckdb.DuckDBPyConnection, event_id: str, row: Mapping[str, object] | None = None
) -> list[tuple[int, int]]:
    """(`_file_id`, `_line`) of the loaded events with this eventID, narrowed by the result
    row's other identifying columns (`eventname`, `awsregion`...) when it has them. Usually one;
    several when records share an ID."""
    where = ["eventID = ?"]
    params: list[object] = [event_id]
    for name, value in (row or {}).items():
        column = event_column(name)
        if column in MATCH_COLUMNS and (value is None or isinstance(value, str)):
            where.append(f'"{column}" IS NOT DISTINCT FROM ?')
            params.append(value)
    rows = cur.execute(
        f"SELECT _file_id, _line FROM events WHERE {' AND '.join(where)} "
        "ORDER BY eventTime, _file_id, _line",
        params,
    ).fetchall()
    return [(int(f), int(line)) for f, line in rows]


_EVENT_COLUMNS: Final[dict[str, str]] = {
    **{name.lower(): name for name in schema.PUBLIC_COLUMNS},
    "account": "account_id",
}


def event_column(name: str) -> str | None:
    """The `events` column a result column names (`eventsource` from the Athena view too)."""
    return _EVENT_COLUMNS.get(name.lower())


# ------------------------------------------------------------------------------------------------
# Completion names


def _struct_paths(prefix: str, type_: Any, out: set[str], depth: int = 0) -> None:
    """`prefix.field` for every field of a STRUCT type, recursively."""
    if depth > 6 or getattr(type_, "id", None) != "struct":
        return
    try:
        children = type_.children
    except (AttributeError, duckdb.Error):
        return
    for child_name, child_type in children:
        path = f"{prefix}.{child_name}"
        out.add(path)
        _struct_paths(path, child_type, out, depth + 1)


def completions(
    cur: duckdb.DuckDBPyConnection,
    *,
    hide_prefixes: Sequence[str] = (RESULT_PREFIX, "chunk_sources", "view_", "_inv_"),
    keywords: bool = True,
    functions: bool = True,
) -> list[str]:
    """Names the editor offers: tables and views (schema-qualified outside `main`), their
    columns, every struct field path (`userIdentity.sessionContext.sessionIssuer.userName`),
    functions and keywords. Read from DuckDB's catalog; run it in a worker."""
    names: set[str] = set()
    rows = cur.execute(
        "SELECT database_name, schema_name, table_name FROM duckdb_tables() "
        "WHERE NOT internal AND NOT temporary "
        "UNION SELECT database_name, schema_name, view_name FROM duckdb_views() "
        "WHERE NOT internal AND NOT temporary "
        "ORDER BY ALL"
    ).fetchall()
    current_db = cur.execute("SELECT current_database()").fetchall()[0][0]
    for database, schema_name, table in rows:
        if any(table.startswith(p) for p in hide_prefixes):
            continue
        if database != current_db and not (database == "ev" and current_db == "m"):
            continue  # `ev` holds `events` when on disk or reopened (data/placement.py)
        shown = table if schema_name == "main" else f"{schema_name}.{table}"
        names.add(shown)
        qualified = ".".join(quote_ident(p) for p in (database, schema_name, table))
        try:
            rel = cur.sql(f"SELECT * FROM {qualified} LIMIT 0")
            for column, type_ in zip(rel.columns, rel.types, strict=True):
                names.add(column)
                _struct_paths(column, type_, names)
        except duckdb.Error:
            continue
    if functions:
        for (fn,) in cur.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() "
            "WHERE NOT starts_with(function_name, '__') "
            "AND regexp_matches(function_name, '^[A-Za-z_][A-Za-z0-9_]*$')"
        ).fetchall():
            names.add(fn)
    if keywords:
        for (kw,) in cur.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall():
            if re.fullmatch(r"[a-z_]+", kw):
                names.add(kw.upper())
    return sorted(names, key=lambda n: (n.lower(), n))
