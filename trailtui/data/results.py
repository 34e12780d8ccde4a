"""Console query results: running the console's SQL into a pageable result table.

A console result is materialised into an ordinary table `sql_result_<n>` with a row-number column
(`__rn`), the same shape as the event table's view tables: the virtual table widget pages it by
`__rn` range, so every row is reachable without a cap and without holding the result in Python.
No Textual here (the headless CLI and tests use it); `DataService` runs it for the UI.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import duckdb

from trailtui.data import guard

if TYPE_CHECKING:
    from trailtui.data.store import EventStore

Params = Mapping[str, object] | Sequence[object]
QueryParams = Params

RN: Final = "__rn"
"""Row-number column of a result table (0-based, in the query's own order)."""
RESULT_PREFIX: Final = "sql_result_"
RESULT_SCHEMA: Final = "m.main"
"""Where result tables go: the store's database, whatever the console session `USE`s."""
WIDTH_SAMPLE_ROWS: Final = 1000
MAX_COLUMN_WIDTH: Final = 60

_INTEGER_TYPES: Final = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
NUMERIC_TYPES: Final = _INTEGER_TYPES | {"FLOAT", "DOUBLE", "REAL"}
_result_numbers = itertools.count(1)
_result_lock = threading.Lock()

# ------------------------------------------------------------------------------------------------
# Running a query


def quote_ident(name: str) -> str:
    """A SQL identifier for any column name DuckDB gave us."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class QueryResult:
    """What one console run produced: a result table to page, or "OK" for a statement."""

    sql: str
    table: str | None
    """Qualified name of the result table (None when the statement returned no rows)."""
    columns: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    row_count: int = 0
    elapsed_ms: float = 0.0
    message: str = ""
    """For statements without a result: "OK", or "OK, 3 rows changed"."""
    statements: int = 1
    widths: tuple[int, ...] = ()
    """Display widths suggested from the first rows (capped)."""

    @property
    def has_rows(self) -> bool:
        return self.table is not None

    def _find(self, *names: str) -> str | None:
        lowered = {c.lower(): c for c in self.columns}
        for name in names:
            if name.lower() in lowered:
                return lowered[name.lower()]
        return None

    @property
    def event_id_column(self) -> str | None:
        return self._find("eventID")

    @property
    def key_columns(self) -> tuple[str, str] | None:
        """The (`_file_id`, `_line`) columns when the result carries the original-record keys."""
        file_id, line = self._find("_file_id"), self._find("_line")
        return (file_id, line) if file_id and line else None

    @property
    def event_shaped(self) -> bool:
        """Rows are events: `enter` opens one, export can write the original records."""
        return self.has_rows and (self.event_id_column is not None or self.key_columns is not None)

    @property
    def value_count(self) -> bool:
        """Two columns, the second an integer: `enter` filters the events to the value."""
        return self.has_rows and len(self.columns) == 2 and self.types[1].upper() in _INTEGER_TYPES

    @property
    def numeric_columns(self) -> frozenset[str]:
        return frozenset(
            c
            for c, t in zip(self.columns, self.types, strict=True)
            if t.upper() in NUMERIC_TYPES or t.upper().startswith("DECIMAL")
        )

    @property
    def status(self) -> str:
        """ "1,234 rows in 12 ms" or "OK in 3 ms" (plain text)."""
        took = format_ms(self.elapsed_ms)
        if not self.has_rows:
            return f"{self.message or 'OK'} in {took}"
        noun = "row" if self.row_count == 1 else "rows"
        extra = f" (last of {self.statements} statements)" if self.statements > 1 else ""
        return f"{self.row_count:,} {noun} in {took}{extra}"


def format_ms(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{int(ms // 60_000)} min {ms % 60_000 / 1000:.0f} s"


def new_result_name() -> str:
    with _result_lock:
        return f"{RESULT_PREFIX}{next(_result_numbers)}"


def _statement_params(
    names: set[str], params: Params | None, positional: list[object]
) -> dict[str, object] | list[object] | None:
    """The parameters one statement uses: named ones it references, or the next positional."""
    if not names:
        return None
    if all(n.isdigit() for n in names):
        count = len(names)
        taken, positional[:] = positional[:count], positional[count:]
        return taken
    if isinstance(params, Mapping):
        return {k: v for k, v in params.items() if k in names}
    return None


_RESULT_TYPES: Final = frozenset({"EXPLAIN", "PRAGMA", "CALL", "MULTI"})


def run_query(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: Params | None = None,
    store: EventStore | None = None,
    *,
    cancel: threading.Event | None = None,
) -> QueryResult:
    """Run the console's SQL on `cur` (a worker thread's cursor) and keep its result as a table.

    Several statements run in order; the last one's result is kept. A SELECT is materialised
    straight into `sql_result_<n>` by DuckDB (ordered, numbered by `__rn`); EXPLAIN/PRAGMA/CALL
    results likewise; statements without rows report "OK". Raises `duckdb.Error` (the message is
    for the user) and `duckdb.InterruptException` when interrupted, via `store.interrupt_all()`
    or `cur.interrupt()`, or when `cancel` is set between statements.
    """
    t0 = time.perf_counter()
    statements = cur.extract_statements(sql)
    if not statements:
        raise duckdb.InvalidInputException("nothing to run: the editor holds no SQL statement")
    positional = list(params) if params is not None and not isinstance(params, Mapping) else []
    if store is not None:
        store.register(cur)
    try:
        for statement in statements[:-1]:
            _check_cancel(cancel)
            bound = _statement_params(set(statement.named_parameters), params, positional)
            cur.execute(statement.query, bound).fetchall()
        last = statements[-1]
        _check_cancel(cancel)
        bound = _statement_params(set(last.named_parameters), params, positional)
        text = last.query.strip().rstrip(";").rstrip()
        kind = last.type.name
        table = new_result_name()
        qualified = f"{RESULT_SCHEMA}.{table}"
        if kind == "SELECT":
            try:
                cur.execute(
                    f"CREATE TABLE {qualified} AS SELECT row_number() OVER () - 1 AS {RN}, * "
                    f"FROM (\n{text}\n) AS __q",
                    bound,
                ).fetchall()
            except duckdb.Error as exc:
                raise _editor_lines(exc, sql, text) from exc
        elif kind in _RESULT_TYPES:
            rel = cur.sql(text, params=bound)
            if rel is None:
                return _ok(sql, "OK", t0, len(statements))
            rel.project(f"row_number() OVER () - 1 AS {RN}, *").create(qualified)
        else:
            result = cur.execute(text, bound)
            names = [d[0] for d in result.description or []]
            rows = result.fetchall()
            if not names or names in (["Count"], ["Success"]):
                message = "OK"
                if kind in {"INSERT", "UPDATE", "DELETE", "MERGE_INTO"} and rows:
                    n = int(rows[0][0])
                    message = f"OK, {n:,} row{'s' if n != 1 else ''} changed"
                return _ok(sql, message, t0, len(statements))
            _materialise_rows(
                cur, qualified, names, [str(d[1]) for d in result.description or []], rows
            )
        try:
            return _describe(cur, sql, qualified, t0, len(statements))
        except BaseException:
            drop_result(cur, qualified)  # interrupted just after the table was made
            raise
    finally:
        if store is not None:
            store.unregister(cur)


_LINE = re.compile(r"\bLINE (\d+):")


def _editor_lines(exc: duckdb.Error, sql: str, text: str) -> duckdb.Error:
    """DuckDB's error with `LINE n` counted in the editor, not in our wrapped query (which
    puts the user's SELECT on its second line, so a one-line query failed on "LINE 2")."""
    start = sql.find(text)
    before = sql[:start].count("\n") if start >= 0 else 0

    def fix(m: re.Match[str]) -> str:
        return f"LINE {max(1, int(m.group(1)) - 1 + before)}:"

    message = _LINE.sub(fix, str(exc))
    if message == str(exc) or isinstance(exc, duckdb.InterruptException):
        return exc
    try:
        return type(exc)(message)
    except TypeError:
        return exc


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")


def _ok(sql: str, message: str, t0: float, statements: int) -> QueryResult:
    return QueryResult(
        sql=sql,
        table=None,
        message=message,
        statements=statements,
        elapsed_ms=(time.perf_counter() - t0) * 1000,
    )


def _materialise_rows(
    cur: duckdb.DuckDBPyConnection,
    qualified: str,
    names: Sequence[str],
    types: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """A result that only exists as fetched rows (e.g. `INSERT ... RETURNING`) as a table."""
    unique: list[str] = []
    for name in names:
        candidate, n = name, 0
        while candidate.lower() in {u.lower() for u in unique} or candidate.lower() == RN:
            n += 1
            candidate = f"{name}_{n}"
        unique.append(candidate)
    cols = ", ".join(f"{quote_ident(n)} {t}" for n, t in zip(unique, types, strict=True))
    cur.execute(f"CREATE TABLE {qualified} ({RN} BIGINT, {cols})").fetchall()
    if rows:
        marks = ", ".join("?" for _ in range(len(names) + 1))
        cur.executemany(
            f"INSERT INTO {qualified} VALUES ({marks})", [(i, *row) for i, row in enumerate(rows)]
        )


def _describe(
    cur: duckdb.DuckDBPyConnection, sql: str, qualified: str, t0: float, statements: int
) -> QueryResult:
    """Columns, types, row count and display widths of a fresh result table."""
    result = cur.execute(f"SELECT * FROM {qualified} LIMIT 0")
    described = [(d[0], str(d[1])) for d in result.description or []]
    result.fetchall()
    described = [(n, t) for n, t in described if n != RN]
    row_count = int(cur.execute(f"SELECT count(*) FROM {qualified}").fetchall()[0][0])
    elapsed = (time.perf_counter() - t0) * 1000
    columns = tuple(n for n, _ in described)
    widths: tuple[int, ...] = ()
    if columns:
        lengths = ", ".join(f"max(length(CAST({quote_ident(n)} AS VARCHAR)))" for n in columns)
        row = cur.execute(
            f"SELECT {lengths} FROM {qualified} WHERE {RN} < {WIDTH_SAMPLE_ROWS}"
        ).fetchall()[0]
        widths = tuple(
            max(min(int(w or 0), MAX_COLUMN_WIDTH), min(len(n), MAX_COLUMN_WIDTH), 1)
            for n, w in zip(columns, row, strict=True)
        )
    return QueryResult(
        sql=sql,
        table=qualified,
        columns=columns,
        types=tuple(t for _, t in described),
        row_count=row_count,
        elapsed_ms=elapsed,
        statements=statements,
        widths=widths,
    )


def drop_result(cur: duckdb.DuckDBPyConnection, table: str | None) -> None:
    """Drop a result table no longer shown (results can be large); never raises."""
    if not table or RESULT_PREFIX not in table:
        return
    with contextlib.suppress(duckdb.Error):
        cur.execute(f"DROP TABLE IF EXISTS {table}").fetchall()


class ResultSource:
    """A `RowSource` (trailtui.widgets.virtual_table) over a result table, paged by `__rn`.

    `cursor` is used on the UI thread only (one cursor per thread); a page is one range scan
    on the ordered row number (~1 ms).
    """

    def __init__(self, result: QueryResult, cursor: duckdb.DuckDBPyConnection) -> None:
        self.result = result
        self._cursor = cursor
        cols = ", ".join(quote_ident(c) for c in result.columns) or "NULL"
        self._page_sql = (
            f"SELECT {cols} FROM {result.table} WHERE {RN} >= ? AND {RN} < ? ORDER BY {RN}"
        )

    @property
    def row_count(self) -> int:
        return self.result.row_count

    @property
    def column_keys(self) -> Sequence[str]:
        return self.result.columns

    def fetch(self, start: int, count: int) -> Sequence[Sequence[object]]:
        if self.result.table is None or count <= 0:
            return []
        return self._cursor.execute(self._page_sql, [start, start + count]).fetchall()


@dataclass(frozen=True)
class Outcome:
    """How one run ended."""

    kind: Literal["ok", "error", "cancelled"]
    result: QueryResult | None = None
    error: str = ""
    elapsed_ms: float = 0.0


def execute(
    store: EventStore,
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: Mapping[str, object] | None,
    cancel: threading.Event | None = None,
) -> Outcome:
    """Run one console query on `cur` (in the calling thread) and say how it ended; never raises
    for SQL problems. Usable without Textual (tests, scripts)."""
    t0 = time.perf_counter()
    try:
        # Rolled back if it drops or changes what the screen depends on (data/guard.py).
        result = guard.run_guarded(cur, sql, lambda: run_query(
            cur, sql, dict(params or {}), store, cancel=cancel))
    except duckdb.InterruptException:
        return Outcome("cancelled", elapsed_ms=(time.perf_counter() - t0) * 1000)
    except duckdb.Error as exc:
        return Outcome(
            "error",
            error=str(exc).strip() or type(exc).__name__,
            elapsed_ms=(time.perf_counter() - t0) * 1000,
        )
    if cancel is not None and cancel.is_set():
        # Finished just as the user cancelled: they asked for no result; drop it.
        drop_result(cur, result.table)
        return Outcome("cancelled", elapsed_ms=(time.perf_counter() - t0) * 1000)
    return Outcome("ok", result=result, elapsed_ms=result.elapsed_ms)
