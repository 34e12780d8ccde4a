"""Trino as a query engine, through the `trino` client (optional extra `trailtui[trino]`).

Athena's engine is Trino: the statements are the same (`trino_sql`), only the connection
differs. `--trino http(s)://[user@]host:port/catalog/schema.table`; a password comes from
TRINO_PASSWORD (https only), a user from the URL, TRINO_USER or the login name.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from trailtui.data.athena import Engine, ResultSet
from trailtui.data.backend import BackendError, QueryCancelled, QueryStatus, StatusListener
from trailtui.data.filters import sql_literal
from trailtui.data.trino_sql import TableInfo, check_ident, partitions_from_glue

FETCH: Final[int] = 1000


@dataclass(frozen=True)
class TrinoTarget:
    """What a `--trino` URL names."""

    http_scheme: str
    host: str
    port: int
    user: str
    catalog: str
    schema: str
    table: str


def parse_url(url: str) -> TrinoTarget:
    """`http(s)://[user@]host[:port]/catalog/schema.table`, checked; BackendError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BackendError(
            f"not a Trino URL: {url!r} (expected http(s)://host:port/catalog/schema.table)"
        )
    path = [p for p in parts.path.split("/") if p]
    if len(path) != 2 or path[1].count(".") != 1:
        raise BackendError(f"the Trino URL must end in /catalog/schema.table, not {parts.path!r}")
    schema, table = path[1].split(".")
    try:
        for name in (path[0], schema, table):
            check_ident(name)
        port = parts.port or (443 if parts.scheme == "https" else 8080)
    except ValueError as exc:
        raise BackendError(f"bad Trino URL: {exc}") from exc
    user = unquote(parts.username or "") or os.environ.get("TRINO_USER") or getpass.getuser()
    return TrinoTarget(parts.scheme, parts.hostname, port, user, path[0], schema, table)


def _text(value: object) -> str | None:
    """Trino values as the text Athena hands back, so one result path serves both."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TrinoEngine(Engine):
    """A Trino coordinator over DB-API (`trino.dbapi`); any DB-API connection works in tests."""

    label = "trino"
    costs_money = False

    def __init__(self, connection: Any, catalog: str) -> None:
        self.connection = connection
        self.catalog = check_ident(catalog)
        self._lock = threading.Lock()
        self._cursors: set[Any] = set()
        self._cancelled: set[int] = set()

    def describe_table(self, database: str, table: str) -> TableInfo:
        """Columns and partition keys from `information_schema.columns` (Hive: extra_info)."""
        sql = (
            "SELECT column_name, data_type, extra_info "
            f"FROM {self.catalog}.information_schema.columns "
            f"WHERE table_schema = {sql_literal(check_ident(database).lower())} "
            f"AND table_name = {sql_literal(check_ident(table).lower())} "
            "ORDER BY ordinal_position"
        )
        rows = self.run(sql).rows
        if not rows:
            raise BackendError(f"table {self.catalog}.{database}.{table} not found")
        columns = {str(r[0]).lower(): str(r[1]).lower() for r in rows}
        keys = [{"Name": str(r[0]), "Type": str(r[1])} for r in rows
                if (r[2] or "").lower() == "partition key"]  # fmt: skip
        if "eventtime" not in columns:
            raise BackendError(
                f"{database}.{table} does not look like a CloudTrail table (no eventtime column)"
            )
        return TableInfo(
            database, table, columns, partitions_from_glue(keys, {}), catalog=self.catalog
        )

    def run(self, sql: str, on_status: StatusListener | None = None) -> ResultSet:
        cur = self.connection.cursor()
        with self._lock:
            self._cursors.add(cur)
        t0 = time.monotonic()

        def status(state: str) -> QueryStatus:
            stats = getattr(cur, "stats", None) or {}
            return QueryStatus(
                state,  # type: ignore[arg-type]
                scanned_bytes=int(stats.get("processedBytes", 0) or 0),
                query_id=str(getattr(cur, "query_id", "") or ""),
                elapsed_ms=int((time.monotonic() - t0) * 1000),
            )

        try:
            if on_status:
                on_status(status("queued"))
            cur.execute(sql)
            if on_status:
                on_status(status("running"))
            first = [tuple(_text(v) for v in row) for row in cur.fetchmany(FETCH)]
            columns = [str(d[0]) for d in cur.description or ()]
        except Exception as exc:
            self._forget(cur)
            raise self._friendly(cur, exc) from exc
        done = status("succeeded")
        if on_status:
            on_status(done)
        pages = self._pages(cur)

        def more() -> list[tuple[str | None, ...]] | None:
            return next(pages, None)

        return ResultSet(columns, first, done, more if len(first) == FETCH else None)

    def _pages(self, cur: Any) -> Iterator[list[tuple[str | None, ...]]]:
        try:
            while True:
                try:
                    rows = cur.fetchmany(FETCH)
                except Exception as exc:
                    raise self._friendly(cur, exc) from exc
                if not rows:
                    return
                yield [tuple(_text(v) for v in row) for row in rows]
        finally:
            self._forget(cur)

    def _forget(self, cur: Any) -> None:
        with self._lock:
            self._cursors.discard(cur)

    def _friendly(self, cur: Any, exc: BaseException) -> BackendError:
        with self._lock:
            cancelled = id(cur) in self._cancelled
            self._cancelled.discard(id(cur))
        name = str(getattr(exc, "error_name", "") or "")
        message = str(getattr(exc, "message", "") or exc)
        if cancelled or name in ("USER_CANCELED", "ADMINISTRATIVELY_KILLED"):
            return QueryCancelled(f"Trino query cancelled: {message}")
        if name in ("TABLE_NOT_FOUND", "SCHEMA_NOT_FOUND", "CATALOG_NOT_FOUND"):
            return BackendError(f"not found: {message}")
        if name == "PERMISSION_DENIED" or "Access Denied" in message:
            return BackendError(f"access denied: {message}")
        kind = type(exc).__name__
        if kind in ("ConnectionError", "HTTPError", "HttpError", "Timeout", "MaxRetryError"):
            return BackendError(f"cannot reach Trino: {message}")
        return BackendError(f"Trino query failed: {message}")

    def cancel(self) -> None:
        with self._lock:
            cursors = list(self._cursors)
            self._cancelled.update(id(c) for c in cursors)
        for cur in cursors:
            with contextlib.suppress(Exception):  # it finished meanwhile
                cur.cancel()


def connect(url: str) -> tuple[TrinoEngine, TrinoTarget]:
    """A TrinoEngine for a `--trino` URL (the `trino` client from the `trino` extra)."""
    target = parse_url(url)
    try:
        import trino.auth
        import trino.dbapi
    except ImportError as exc:
        raise BackendError("Trino needs its client: pip install 'trailtui[trino]'") from exc
    kwargs: dict[str, Any] = {}
    password = os.environ.get("TRINO_PASSWORD")
    if password:
        if target.http_scheme != "https":
            raise BackendError("TRINO_PASSWORD is only sent over https")
        kwargs["auth"] = trino.auth.BasicAuthentication(target.user, password)
    conn = trino.dbapi.connect(  # type: ignore[no-untyped-call]
        host=target.host,
        port=target.port,
        user=target.user,
        catalog=target.catalog,
        schema=target.schema,
        http_scheme=target.http_scheme,
        **kwargs,
    )
    return TrinoEngine(conn, target.catalog), target
