"""The remote backend: the `Backend` Protocol over a user's Athena or Trino CloudTrail table.

Statements come from `trino_sql.SqlBuilder` (every one carries the time range as partition
predicates); an `athena.Engine` runs them. Results are cached by their SQL text for the session,
so going back to a filter, re-sorting to an order seen before, or opening an event from a page
costs nothing. Each query's status (queued, running, scanned bytes, cost) goes to the status
listener, and the session total is kept in `session`.

Pull-down (`pull`): the current filter's events, every column, written as CloudTrail records
(one JSON object a line) to a local file that the ordinary loader reads: from there on the
local DuckDB store answers, instantly and offline.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from trailtui.data import schema
from trailtui.data.athena import Engine, ResultSet
from trailtui.data.backend import (
    PAGE_COLUMNS,
    BackendError,
    Capabilities,
    ConsoleResult,
    EventDetail,
    EventKey,
    PageRow,
    QueryStatus,
    SessionCost,
    StatusListener,
)
from trailtui.data.filters import FacetValue, FilterState
from trailtui.data.trino_sql import (
    EVENT_FIELDS,
    PAGE_LIMIT,
    SqlBuilder,
    TableInfo,
    facet_rows,
    missing_partition_warning,
    parse_event_time,
)

CONSOLE_ROWS: Final[int] = 10_000
# Results kept for going back (a page result holds up to 10,000 whole events, ~30 MB).
CACHED_RESULTS: Final[int] = 24
PULL_LIMIT: Final[int] = 200_000  # events a pull-down loads at most (the local store's scale)
_BOOL_FIELDS: Final[frozenset[str]] = frozenset(
    {"readOnly", "managementEvent", "sessionCredentialFromConsole"}
)
_JSON_FIELDS: Final[frozenset[str]] = frozenset(
    {"userIdentity", "requestParameters", "responseElements", "additionalEventData",
     "resources", "serviceEventDetails", "tlsDetails", "insightDetails", "addendum",
     "edgeDeviceDetails", "eventContext"}
)  # fmt: skip
_FIELD_BY_COLUMN: Final[dict[str, str]] = {f.lower(): f for f in EVENT_FIELDS}


def _keys_of(spec: Mapping[str, Any], out: dict[str, str]) -> dict[str, str]:
    for key, value in spec.items():
        out[key.lower()] = key
        if isinstance(value, Mapping):
            _keys_of(value, out)
    return out


# Struct fields come back lower-cased (Hive/Glue names); CloudTrail's own spelling per field.
_STRUCT_KEYS: Final[dict[str, dict[str, str]]] = {
    "userIdentity": _keys_of(json.loads(schema.USER_IDENTITY_SPEC), {}),
    "resources": {"arn": "ARN", "accountid": "accountId", "type": "type"},
    "tlsDetails": {
        "tlsversion": "tlsVersion",
        "ciphersuite": "cipherSuite",
        "clientprovidedhostheader": "clientProvidedHostHeader",
    },
}


def _renamed(value: Any, names: Mapping[str, str]) -> Any:
    """Struct JSON with CloudTrail's key spelling; NULL struct fields dropped (not in records)."""
    if isinstance(value, dict):
        return {
            names.get(k.lower(), k): _renamed(v, names) for k, v in value.items() if v is not None
        }
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    return value


def compose_event(row: Mapping[str, object]) -> dict[str, object]:
    """A CloudTrail record from one row of the table's columns (lower-case names, JSON text).

    The table keeps no original bytes (AWS's DDL has no raw column): JSON columns are parsed
    back, struct keys get CloudTrail's spelling, 'true'/'false' become booleans. A JSON text
    that does not parse stays text.
    """
    out: dict[str, object] = {}
    for column, value in row.items():
        name = _FIELD_BY_COLUMN.get(column.lower())
        if name is None or value is None:
            continue
        if name in _BOOL_FIELDS and isinstance(value, str) and value in ("true", "false"):
            out[name] = value == "true"
        elif name in _JSON_FIELDS and isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                out[name] = value
                continue
            if parsed is not None:
                out[name] = _renamed(parsed, _STRUCT_KEYS.get(name, {}))
        else:
            out[name] = value
    return out


@dataclass(frozen=True)
class PullResult:
    """What a pull-down wrote."""

    path: Path
    events: int
    truncated: bool  # the filter matched more than the limit
    status: QueryStatus


class RemoteBackend:
    """A CloudTrail table in Athena or Trino behind the screen's Protocol."""

    def __init__(
        self, engine: Engine, info: TableInfo, on_status: StatusListener | None = None
    ) -> None:
        self.engine = engine
        self.info = info
        self.sql = SqlBuilder(info)
        self.on_status = on_status
        self.session = SessionCost()
        self._cache: OrderedDict[str, ResultSet] = OrderedDict()  # least recently used first
        self._totals: dict[FilterState, int] = {}
        self._events: dict[tuple[str, str], dict[str, object]] = {}  # fetched by ID
        # The filter last shown: an event known only by its ID (a console result row) is
        # looked up within its time range.
        self.last_filters: FilterState | None = None
        self._lock = threading.Lock()
        self.capabilities = Capabilities(
            local=False,
            costs_money=engine.costs_money,
            pull_down=True,
            raw_events=info.raw_json_column is not None,
            needs_time_range=info.partitions.kind != "none",
            page_limit=PAGE_LIMIT,
        )

    @property
    def description(self) -> str:
        return f"{self.engine.label}: {self.info.qualified}"

    # -- running with cache and cost -----------------------------------------------------------

    def _status(self, status: QueryStatus) -> None:
        if status.state in ("succeeded", "failed", "cancelled"):
            with self._lock:
                self.session.add(status)
        if self.on_status is not None:
            self.on_status(status)

    def run(self, sql: str, *, cache: bool = True) -> ResultSet:
        """Run one statement, or hand back its cached result (status 'cached', no cost)."""
        if cache:
            with self._lock:
                hit = self._cache.get(sql)
                if hit is not None:
                    self._cache.move_to_end(sql)
            if hit is not None:
                if self.on_status is not None:
                    self.on_status(QueryStatus("cached", hit.status.scanned_bytes, 0.0,
                                               query_id=hit.status.query_id))  # fmt: skip
                return hit
        result = self.engine.run(sql, self._status)
        if cache:
            with self._lock:
                self._cache[sql] = result
                while len(self._cache) > CACHED_RESULTS:
                    self._cache.popitem(last=False)
        return result

    # -- the Protocol --------------------------------------------------------------------------

    def count(self, filters: FilterState) -> int:
        with self._lock:
            total = self._totals.get(filters)
        if total is not None:  # the facets query of this filter counted it already
            return total
        rows = self.run(self.sql.count_sql(filters)).rows
        return int(str(rows[0][0])) if rows and rows[0][0] is not None else 0

    def facets(
        self, keys: Sequence[str], filters: FilterState
    ) -> dict[str, list[tuple[FacetValue, int]]]:
        self.last_filters = filters
        result = self.run(self.sql.facets_sql(keys, filters))
        result.fetch_all()
        total, out = facet_rows(keys, result.rows)
        with self._lock:
            self._totals[filters] = total
        return out

    def page(
        self,
        filters: FilterState,
        start: int,
        count: int,
        sort_column: str = "eventTime",
        descending: bool = True,
    ) -> list[PageRow]:
        self.last_filters = filters
        sql = self.sql.page_sql(filters, sort_column, descending)
        result = self.run(sql)
        result.fetch_to(start + count)
        width = len(PAGE_COLUMNS)
        names = result.columns[width:]
        out: list[PageRow] = []
        for pos, row in enumerate(result.rows[start : start + count], start):
            display: list[object] = list(row[:width])
            display[0] = parse_event_time(display[0])
            ro = display[-1]
            display[-1] = None if ro is None else ro == "true"
            full = dict(zip(names, row[width:], strict=True))
            # The key also says where the row is held (the page's statement and position):
            # events without an eventID exist (old records), and each must open its own row.
            key = (full.get("eventid") or "", full.get("eventtime") or "", sql, pos)
            out.append((*display, *key))
        return out

    def page_size(self, filters: FilterState, sort_column: str = "eventTime",
                  descending: bool = True) -> int:  # fmt: skip
        """Rows the ordered page holds (at most PAGE_LIMIT): reads every result page."""
        result = self.run(self.sql.page_sql(filters, sort_column, descending))
        result.fetch_all()
        return len(result.rows)

    def event(self, key: EventKey) -> EventDetail | None:
        event_id, event_time = str(key[0]), str(key[1])
        full: dict[str, object] | None = None
        with self._lock:
            held = self._cache.get(str(key[2])) if len(key) > 3 else None
            pos = key[3] if len(key) > 3 else None
            if held is not None and isinstance(pos, int) and 0 <= pos < len(held.rows):
                width = len(PAGE_COLUMNS)
                full = dict(zip(held.columns[width:], held.rows[pos][width:], strict=True))
            else:
                full = self._events.get((event_id, event_time))
        if full is None:  # the page's result has left the cache: fetch the event by ID
            if not event_id:
                return None
            result = self.run(self.sql.event_sql(event_id, event_time or None, self.last_filters))
            if not result.rows:
                return None
            full = dict(zip(result.columns, result.rows[0], strict=True))
            with self._lock:
                self._events[(event_id, event_time)] = full
        raw_col = self.info.raw_json_column
        raw = full.get(raw_col) if raw_col else None
        if isinstance(raw, str):
            try:
                fields = json.loads(raw)
            except ValueError:
                fields = None
            if isinstance(fields, dict):
                return EventDetail(fields, raw.encode())
        return EventDetail(
            compose_event(full),
            None,
            note=f"composed from the columns of {self.info.qualified} (no raw JSON column)",
        )

    def console(self, sql: str, *, confirmed: bool = False) -> ConsoleResult:
        warning = missing_partition_warning(sql, self.info)
        if warning and not confirmed:
            return ConsoleResult((), (), QueryStatus("queued", message="not sent"), False,
                                 (warning,))  # fmt: skip
        result = self.run(sql)
        result.fetch_to(CONSOLE_ROWS)
        return ConsoleResult(
            result.columns,
            result.rows[:CONSOLE_ROWS],
            result.status,
            truncated=not result.complete or len(result.rows) > CONSOLE_ROWS,
            warnings=(warning,) if warning else (),
        )

    def cancel(self) -> None:
        self.engine.cancel()

    # -- pull-down -------------------------------------------------------------------------------

    def pull(self, filters: FilterState, folder: Path, limit: int = PULL_LIMIT) -> PullResult:
        """Run the filter once and write its events (oldest first) as NDJSON under `folder`.

        The file is named by the statement's hash, so pulling the same filter again replaces
        it instead of adding a copy. Written to a temporary name, then renamed: a cancelled
        pull leaves no half file behind.
        """
        sql = self.sql.pull_sql(filters, limit + 1)
        result = self.run(sql, cache=False)
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # best effort: the folder may not be the user's
            os.chmod(folder, 0o700)
        digest = hashlib.sha256(sql.encode()).hexdigest()[:16]
        path = folder / f"{self.engine.label}-{self.info.table}-{digest}.ndjson"
        tmp = path.with_suffix(".part")
        written = 0
        truncated = False
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                while written < limit:
                    result.fetch_to(1)  # the next result page, if any
                    if not result.rows:
                        break
                    batch = result.rows[: limit - written]
                    truncated = len(result.rows) > len(batch)
                    del result.rows[:]  # memory stays flat over a long pull
                    for row in batch:
                        record = compose_event(dict(zip(result.columns, row, strict=True)))
                        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                    written += len(batch)
            if not truncated:
                result.fetch_to(1)
                truncated = bool(result.rows)
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if written == 0:
            path.unlink(missing_ok=True)
            raise BackendError("the filter matched no events: nothing to pull")
        return PullResult(path, written, truncated, result.status)


def default_pull_dir() -> Path:
    """Where pulled events are written: next to the cache of loaded files."""
    from trailtui.data.store import default_cache_dir

    return default_cache_dir() / "pulls"
