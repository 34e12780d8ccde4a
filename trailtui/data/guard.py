"""The SQL console cannot break the session, and DuckDB stays inside its share of the machine.

Console statements that can change the catalog or data run inside a transaction; before it
commits, the objects the screen depends on (`events`, `chunk_sources`, the compatibility views
and macros) are compared with what they were. Any change to them (DROP, ALTER, CREATE OR
REPLACE, DELETE, UPDATE, INSERT into `events`) is rolled back with one message, and nothing
else of the statement is kept. Chosen over "recreate when dropped": a dropped `events` would
have to be rebuilt from every chunk, and an UPDATE would silently alter evidence.
Plain SELECTs run as before (no transaction, no cost).

The connection never installs or loads extensions from the network by itself
(`autoinstall_known_extensions`/`autoload_known_extensions` off; an explicit INSTALL is the
user's own), and its memory limit is half of RAM ($TRAILTUI_MEMORY_LIMIT overrides: `4GB`,
`60%`), not DuckDB's 80%.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from typing import Any, Final, TypeVar

import duckdb

from trailtui.data import schema
from trailtui.data.investigate import FACT_TABLES as _INVESTIGATE_FACTS
from trailtui.data.investigate import VIEW_NAMES as _INVESTIGATE_VIEWS

T = TypeVar("T")

CONNECT_CONFIG: Final[dict[str, Any]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    # A name that is not a table must never be read from the calling Python frame's variables
    # (DuckDB's replacement scan): the console would reach modules and locals of trailtui, and
    # a dropped view gave "Python Object ... found on line ..." instead of "does not exist".
    # Set at connect so every cursor inherits it (a SET applies to one cursor only).
    "python_enable_replacements": False,
}
DEFAULT_MEMORY_SHARE = 0.5

# Statement kinds that cannot change anything: run as they are.
_READ_ONLY_KINDS: Final = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "CALL", "SET", "VARIABLE_SET",
                                     "RELATION", "PREPARE", "EXECUTE"})
_DATA_KINDS: Final = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE_INTO", "COPY"})
_PROTECTED_TABLES: Final = ("events", "chunk_sources", "finding_rules", "finding_hits",
                             *(f"_inv_{name}" for name in _INVESTIGATE_VIEWS),
                             *_INVESTIGATE_FACTS)
_PROTECTED_VIEWS: Final = (
    "findings",  # the findings panel (data/findings/engine.py)
    # actors (A), sessions (K), first_seen (N) and what they read (data/investigate.py)
    *_INVESTIGATE_VIEWS, *(f"{name}_live" for name in _INVESTIGATE_VIEWS),
)
_COMPAT_NAME = re.compile(r"CREATE OR REPLACE (VIEW|MACRO) ([\w.]+)", re.IGNORECASE)
_DETACH_MAIN = re.compile(r"^\s*DETACH\s+(?:DATABASE\s+)?(?:IF\s+EXISTS\s+)?\"?(m|ev)\"?\s*;?\s*$",
                          re.IGNORECASE)


class Refused(duckdb.Error):
    """A console statement that would break the screen: rolled back, nothing changed."""


def _protected_names() -> tuple[set[str], set[str]]:
    views: set[str] = set()
    macros: set[str] = set()
    for stmt in schema.COMPAT_SQL:
        m = _COMPAT_NAME.search(stmt)
        if m:
            (views if m.group(1).upper() == "VIEW" else macros).add(m.group(2).split(".")[-1])
    return views, macros


_VIEWS, _MACROS = _protected_names()
_VIEWS |= set(_PROTECTED_VIEWS)


def physical_memory() -> int:
    """RAM, or the cgroup (container) limit when lower; 0 if unknown."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = 0
    try:
        with open("/sys/fs/cgroup/memory.max") as fh:
            text = fh.read().strip()
        if text.isdigit():
            ram = min(ram, int(text)) if ram else int(text)
    except OSError:
        pass
    return ram


def memory_limit() -> str | None:
    """The DuckDB memory_limit to set: $TRAILTUI_MEMORY_LIMIT (`4GB`, `60%`) or half of RAM."""
    raw = os.environ.get("TRAILTUI_MEMORY_LIMIT", "").strip()
    ram = physical_memory()
    if raw.endswith("%"):
        try:
            share = float(raw[:-1]) / 100
        except ValueError:
            share = DEFAULT_MEMORY_SHARE
        return f"{int(ram * share) >> 20}MB" if ram else None
    if raw:
        return raw if re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]?i?B", raw, re.IGNORECASE) else None
    return f"{int(ram * DEFAULT_MEMORY_SHARE) >> 20}MB" if ram else None


def configure(con: duckdb.DuckDBPyConnection) -> None:
    """Settings for the store's connection (autoinstall/autoload are set at connect)."""
    limit = memory_limit()
    if limit:
        with contextlib.suppress(duckdb.Error):  # a bad $TRAILTUI_MEMORY_LIMIT: default stays
            con.execute("SET memory_limit = ?", [limit]).fetchall()


def _snapshot(cur: duckdb.DuckDBPyConnection, data: bool) -> tuple[Any, ...]:
    rows = cur.execute(
        "SELECT 'table', schema_name, table_name, sql FROM duckdb_tables() "
        # `events` lives in `m` or in `ev` (on disk, or the cache file: data/placement.py)
        "WHERE database_name IN ('m', 'ev') AND table_name IN (SELECT unnest(?::VARCHAR[])) "
        "UNION ALL SELECT 'view', schema_name, view_name, sql FROM duckdb_views() "
        "WHERE database_name = 'm' AND view_name IN (SELECT unnest(?::VARCHAR[])) "
        "UNION ALL SELECT 'macro', schema_name, function_name, "
        "CAST(macro_definition AS VARCHAR) FROM duckdb_functions() "
        "WHERE database_name = 'm' AND function_name IN (SELECT unnest(?::VARCHAR[])) "
        "ORDER BY ALL",
        [list(_PROTECTED_TABLES), sorted(_VIEWS), sorted(_MACROS)],
    ).fetchall()
    fingerprint: tuple[Any, ...] = ()
    if data and any(r[2] == "events" for r in rows):
        fingerprint = tuple(cur.execute(
            "SELECT count(*), bit_xor(hash(e)) FROM events e").fetchall()[0])
    return (tuple(rows), fingerprint)


def run_guarded(cur: duckdb.DuckDBPyConnection, sql: str, run: Callable[[], T]) -> T:
    """Run a console query; roll it back if it changed what the screen depends on."""
    try:
        statements = cur.extract_statements(sql)
    except duckdb.Error:
        return run()  # the parser's own message comes from `run`
    kinds = {s.type.name for s in statements}
    if "TRANSACTION" in kinds:
        raise Refused("BEGIN/COMMIT/ROLLBACK are not taken in the console: each run is its "
                      "own transaction")
    for s in statements:
        if s.type.name == "DETACH" and _DETACH_MAIN.match(s.query):
            raise Refused("the console cannot detach the loaded events (database m or ev)")
    if kinds <= _READ_ONLY_KINDS:
        return run()
    data = bool(kinds & _DATA_KINDS)
    try:
        cur.execute("BEGIN TRANSACTION").fetchall()
    except duckdb.Error:
        return run()  # a transaction is already open (the user's own BEGIN)
    try:
        before = _snapshot(cur, data)
        result = run()
        after = _snapshot(cur, data)
    except BaseException:
        _rollback(cur)
        raise
    if before != after:
        _rollback(cur)
        raise Refused(
            "the console cannot drop or change events, chunk_sources, the compatibility "
            "views or the actors/sessions/first_seen views (the screens depend on them): "
            "rolled back, nothing changed. Copy what you need: "
            "CREATE TABLE mine AS SELECT * FROM events")
    try:
        cur.execute("COMMIT").fetchall()
    except duckdb.Error:
        _rollback(cur)
        raise
    return result


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):
        cur.execute("ROLLBACK").fetchall()
