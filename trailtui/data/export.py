"""Export a console result or the current filtered events to a file.

CSV, JSON, NDJSON and Parquet of table columns are written by DuckDB's `COPY` (streamed, no
Python rows; the path is a bound parameter). Events as NDJSON, as a JSON array or as CloudTrail's
`{"Records":[...]}` are the ORIGINAL records, streamed from the store's chunks in batches, so
trailtui, jq, Sigma tooling and AWS-shaped readers open them again with the same events; nothing
the size of the file is ever built in memory.

CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
carriage return) get a leading `'` (OWASP "CSV injection"): CloudTrail text is attacker-written.

Every file is written under a temporary name beside the target and moved into place at the end,
so a failed or cancelled export never leaves half a file under the user's name. Errors come back
as `ExportError` with a message for the user.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Final

import duckdb

from trailtui.data import schema
from trailtui.data.queries import (
    MATCH_COLUMNS,
    NUMERIC_TYPES,
    RN,
    QueryResult,
    event_column,
    quote_ident,
)
from trailtui.data.safe_csv import FORMULA_START, neutralise_cell  # noqa: F401  (one rule)

if TYPE_CHECKING:
    from trailtui.data.store import EventStore

BATCH: Final = 5000
"""Original records fetched per step (keys from DuckDB, bytes from the chunk files)."""
DEFAULT_EVENT_ORDER: Final = "eventTime, eventID, _file_id, _line"
PATH_PARAM: Final = "trailtui_export_path"

QueryParams = Sequence[object] | Mapping[str, object]


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"
    PARQUET = "parquet"
    RECORDS = "records"


FORMAT_LABELS: Final[dict[ExportFormat, str]] = {
    ExportFormat.CSV: "CSV (spreadsheet-safe)",
    ExportFormat.JSON: "JSON array",
    ExportFormat.NDJSON: "NDJSON (one per line)",
    ExportFormat.PARQUET: "Parquet",
    ExportFormat.RECORDS: 'CloudTrail {"Records":[...]}',
}


class ExportError(Exception):
    """The export could not be written; the message says why, for the user."""


class ExportCancelled(ExportError):
    """The user cancelled; nothing was left behind."""


@dataclass(frozen=True)
class ExportOutcome:
    path: Path
    format: ExportFormat
    rows: int
    bytes: int
    note: str = ""

    @property
    def message(self) -> str:
        """ "Wrote 1,234 rows to /tmp/x.csv (2.1 MB)" (plain text: show it as such)."""
        noun = "events" if self.format is ExportFormat.RECORDS else "rows"
        text = f"Wrote {self.rows:,} {noun} to {self.path} ({_human(self.bytes)})"
        return f"{text}; {self.note}" if self.note else text


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def guess_format(path: str | os.PathLike[str], *, events: bool = False) -> ExportFormat | None:
    """The format a file name asks for (`.csv`, `.parquet`, `.ndjson`/`.jsonl`, `.json`; a
    `.gz` suffix is looked through). `.json` means `{"Records":[...]}` for events."""
    name = os.fspath(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(".csv"):
        return ExportFormat.CSV
    if name.endswith(".parquet"):
        return ExportFormat.PARQUET
    if name.endswith((".ndjson", ".jsonl")):
        return ExportFormat.NDJSON
    if name.endswith(".json"):
        return ExportFormat.RECORDS if events else ExportFormat.JSON
    return None


def _neutralised(text_expr: str) -> str:
    # `[=+\-@\t\r]`: RE2 reads \t and \r; our constant, never user data.
    return (
        f"CASE WHEN regexp_matches({text_expr}, '^[=+\\-@\\t\\r]') "
        f"THEN '''' || {text_expr} ELSE {text_expr} END"
    )


_ISO = "%Y-%m-%dT%H:%M:%S"


def _iso_time(expr: str) -> str:
    """A TIMESTAMP as CloudTrail writes times (`2024-05-01T13:00:00Z`, fraction if any)."""
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL "
        f"WHEN microsecond({expr}) % 1000000 = 0 THEN strftime({expr}, '{_ISO}Z') "
        f"ELSE strftime({expr}, '{_ISO}.%fZ') END"
    )


def _is_numeric_or_bool(type_name: str) -> bool:
    t = type_name.upper()
    return t in NUMERIC_TYPES or t == "BOOLEAN" or t.startswith("DECIMAL")


def _csv_expr(name: str, type_name: str) -> str:
    col = quote_ident(name)
    t = type_name.upper()
    if _is_numeric_or_bool(t):
        return col
    if t == "TIMESTAMP":
        return _iso_time(col)
    if t.startswith(("STRUCT", "MAP", "UNION")) or t.endswith("]"):
        text = f"CAST(to_json({col}) AS VARCHAR)"
    else:
        text = f"CAST({col} AS VARCHAR)"
    return _neutralised(text)


def _json_expr(name: str, type_name: str) -> str:
    col = quote_ident(name)
    return _iso_time(col) if type_name.upper() == "TIMESTAMP" else col


def _select_list(columns: Sequence[tuple[str, str]], fmt: ExportFormat) -> str:
    parts = []
    for name, type_name in columns:
        if fmt is ExportFormat.CSV:
            expr, alias = _csv_expr(name, type_name), neutralise_cell(name)
        elif fmt in (ExportFormat.JSON, ExportFormat.NDJSON):
            expr, alias = _json_expr(name, type_name), name
        else:
            expr, alias = quote_ident(name), name
        parts.append(f"{expr} AS {quote_ident(alias)}")
    return ",\n  ".join(parts) or "NULL AS empty"


# ------------------------------------------------------------------------------------------------
# Target files


def check_target(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """The file to write, or ExportError saying plainly why not (before any work is done)."""
    text = os.fspath(path).strip()
    if not text:
        raise ExportError("no file name given")
    target = Path(os.path.expanduser(text))
    parent = target.parent
    if target.is_dir():
        raise ExportError(f"{target} is a folder: add a file name")
    if not parent.exists():
        raise ExportError(f"folder {parent} does not exist")
    if not parent.is_dir():
        raise ExportError(f"{parent} is not a folder")
    if target.exists() and not overwrite:
        raise ExportError(f"{target} already exists")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write in {parent}: permission denied")
    return target


class _Staged:
    """A temporary file beside the target, moved over it on success, removed otherwise."""

    def __init__(self, target: Path) -> None:
        self.target = target
        try:
            fd, name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".part", dir=target.parent
            )
        except OSError as exc:
            raise ExportError(_os_message(target, exc)) from exc
        os.close(fd)
        self.tmp = Path(name)

    def commit(self) -> int:
        try:
            # DuckDB's COPY recreates the file under the umask (0644): exports hold
            # investigation data, so they are private whatever the umask.
            os.chmod(self.tmp, 0o600)
            size = self.tmp.stat().st_size
            os.replace(self.tmp, self.target)
        except OSError as exc:
            self.discard()
            raise ExportError(_os_message(self.target, exc)) from exc
        return size

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.tmp.unlink()


def _os_message(target: Path, exc: OSError) -> str:
    return f"cannot write {target}: {exc.strerror or exc}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _gzip_wanted(target: Path) -> bool:
    return target.name.lower().endswith(".gz")


# ------------------------------------------------------------------------------------------------
# Writing


def _copy(
    cur: duckdb.DuckDBPyConnection,
    select_sql: str,
    params: QueryParams | None,
    staged: _Staged,
    fmt: ExportFormat,
) -> int:
    """COPY a SELECT into the staged file; returns the row count DuckDB reports."""
    options = {
        ExportFormat.CSV: "FORMAT csv, HEADER true",
        ExportFormat.JSON: "FORMAT json, ARRAY true",
        ExportFormat.NDJSON: "FORMAT json",
        ExportFormat.PARQUET: "FORMAT parquet",
    }[fmt]
    if fmt is not ExportFormat.PARQUET:
        options += ", COMPRESSION " + ("gzip" if _gzip_wanted(staged.target) else "none")
    # The path is bound like every value: positional after the filter's own, or named.
    bound: list[object] | dict[str, object]
    if isinstance(params, Mapping):
        bound = {**params, PATH_PARAM: str(staged.tmp)}
        into = f"${PATH_PARAM}"
    else:
        bound = [*(params or []), str(staged.tmp)]
        into = "?"
    rows = cur.execute(f"COPY (\n{select_sql}\n) TO {into} ({options})", bound).fetchall()
    return int(rows[0][0]) if rows and rows[0] else 0


def _open_text_target(staged: _Staged) -> io.BufferedIOBase:
    if _gzip_wanted(staged.target):
        return gzip.open(staged.tmp, "wb", compresslevel=6)
    return staged.tmp.open("wb")


def _keys(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: QueryParams | None,
    cancel: threading.Event | None,
) -> Iterator[list[tuple[int, int]]]:
    """(`_file_id`, `_line`) keys in batches, checking for a cancel between batches."""
    result = cur.execute(sql, params)
    while True:
        if cancel is not None and cancel.is_set():
            raise ExportCancelled("export cancelled")
        rows = result.fetchmany(BATCH)
        if not rows:
            return
        yield [(int(f), int(line)) for f, line in rows if f is not None and line is not None]


def _write_records(
    store: EventStore, batches: Iterable[list[tuple[int, int]]], staged: _Staged, fmt: ExportFormat
) -> int:
    """Stream original records as NDJSON, a JSON array or `{"Records":[...]}`."""
    count = 0
    with _open_text_target(staged) as out:
        if fmt is ExportFormat.NDJSON:
            for batch in batches:
                for raw in store.raw_events(batch):
                    out.write(raw)
                    out.write(b"\n")
                    count += 1
            return count
        out.write(b"[" if fmt is ExportFormat.JSON else b'{"Records":[')
        for batch in batches:
            for raw in store.raw_events(batch):
                out.write(b",\n" if count else b"\n")
                out.write(raw)
                count += 1
        close = b"]" if fmt is ExportFormat.JSON else b"]}"
        out.write((b"\n" if count else b"") + close + b"\n")
    return count


def _run(staged: _Staged, work: Iterator[int]) -> int:
    """Run a write step, mapping every failure to ExportError and cleaning up."""
    try:
        rows = next(work)
    except ExportError:
        staged.discard()
        raise
    except duckdb.InterruptException as exc:
        staged.discard()
        raise ExportCancelled("export cancelled") from exc
    except duckdb.Error as exc:
        staged.discard()
        raise ExportError(f"cannot write {staged.target}: {_first_line(exc)}") from exc
    except OSError as exc:
        staged.discard()
        raise ExportError(_os_message(staged.target, exc)) from exc
    except KeyError as exc:  # a chunk of the loaded files went missing (cache cleaned)
        staged.discard()
        raise ExportError(f"original records unavailable ({exc}); try CSV or Parquet") from exc
    except BaseException:
        staged.discard()
        raise
    return rows


def _columns_of(cur: duckdb.DuckDBPyConnection, relation_sql: str) -> list[tuple[str, str]]:
    result = cur.execute(f"SELECT * FROM ({relation_sql}) LIMIT 0")
    columns = [(d[0], str(d[1])) for d in result.description or []]
    result.fetchall()
    return columns


def export_events(
    cur: duckdb.DuckDBPyConnection,
    store: EventStore,
    path: str | os.PathLike[str],
    fmt: ExportFormat,
    *,
    where: str = "TRUE",
    params: QueryParams | None = None,
    order_by: str = DEFAULT_EVENT_ORDER,
    overwrite: bool = False,
    cancel: threading.Event | None = None,
) -> ExportOutcome:
    """Export the events matching `where` (the filter's parameterised SQL) in `order_by`.

    NDJSON, JSON and RECORDS hold the original records; CSV and Parquet the table's columns.
    Run in a worker thread on that thread's cursor (register it for interrupt to cancel).
    """
    target = check_target(path, overwrite=overwrite)
    staged = _Staged(target)

    def work() -> Iterator[int]:
        if fmt in (ExportFormat.NDJSON, ExportFormat.JSON, ExportFormat.RECORDS):
            keys = _keys(
                cur,
                f"SELECT _file_id, _line FROM events WHERE {where} ORDER BY {order_by}",
                params,
                cancel,
            )
            yield _write_records(store, keys, staged, fmt)
        else:
            public = [
                c for c in _columns_of(cur, "SELECT * FROM events") if c[0] in schema.PUBLIC_COLUMNS
            ]
            select = (
                f"SELECT {_select_list(public, fmt)}\nFROM events WHERE {where}\n"
                f"ORDER BY {order_by}"
            )
            yield _copy(cur, select, params, staged, fmt)

    rows = _run(staged, work())
    return ExportOutcome(target, fmt, rows, staged.commit())


def _match_conditions(result: QueryResult) -> list[str]:
    """Join conditions finding a result row's events: eventID plus any identifying column."""
    assert result.event_id_column is not None
    conditions = [f"e.eventID = r.{quote_ident(result.event_id_column)}"]
    for name, type_name in zip(result.columns, result.types, strict=True):
        column = event_column(name)
        if column in MATCH_COLUMNS and type_name.upper() == "VARCHAR":
            conditions.append(f'e."{column}" IS NOT DISTINCT FROM r.{quote_ident(name)}')
    return conditions


def export_result(
    cur: duckdb.DuckDBPyConnection,
    store: EventStore,
    result: QueryResult,
    path: str | os.PathLike[str],
    fmt: ExportFormat,
    *,
    overwrite: bool = False,
    cancel: threading.Event | None = None,
) -> ExportOutcome:
    """Export a console result in its own order.

    CSV, JSON, NDJSON and Parquet hold the result's columns. RECORDS holds original records and
    needs an event-shaped result: with `_file_id`/`_line` exactly those records; with only an
    eventID, the loaded events with that ID and the same eventName/eventSource/... where the
    result has those columns (noted in the outcome: documentation examples reuse IDs).
    """
    if result.table is None:
        raise ExportError("the last statement returned no rows to export")
    target = check_target(path, overwrite=overwrite)
    table = result.table
    note = ""
    if fmt is ExportFormat.RECORDS:
        keys_sql: str | None = None
        if result.key_columns is not None:
            file_col, line_col = (quote_ident(c) for c in result.key_columns)
            keys_sql = f"SELECT {file_col}, {line_col} FROM {table} ORDER BY {RN}"
        elif result.event_id_column is not None:
            on = " AND ".join(_match_conditions(result))
            keys_sql = (
                "SELECT _file_id, _line FROM (SELECT e._file_id, e._line, min(r." + RN + ") AS k "
                f"FROM {table} r JOIN events e ON {on} GROUP BY ALL) "
                "ORDER BY k, _file_id, _line"
            )
            note = "events matched by eventID"
        if keys_sql is None:
            raise ExportError(
                'a {"Records":[...]} file needs events: select eventID (or _file_id and _line)'
            )
        staged = _Staged(target)

        def records() -> Iterator[int]:
            assert keys_sql is not None
            yield _write_records(store, _keys(cur, keys_sql, None, cancel), staged, fmt)

        rows = _run(staged, records())
        return ExportOutcome(target, fmt, rows, staged.commit(), note)
    columns = list(zip(result.columns, result.types, strict=True))
    select = f"SELECT {_select_list(columns, fmt)}\nFROM {table}\nORDER BY {RN}"
    staged = _Staged(target)

    def copy() -> Iterator[int]:
        yield _copy(cur, select, None, staged, fmt)

    rows = _run(staged, copy())
    return ExportOutcome(target, fmt, rows, staged.commit())


__all__ = [
    "FORMAT_LABELS",
    "ExportCancelled",
    "ExportError",
    "ExportFormat",
    "ExportOutcome",
    "check_target",
    "export_events",
    "export_result",
    "guess_format",
    "neutralise_cell",
]
