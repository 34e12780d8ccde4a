"""The backend seam: what the investigator's screen asks of wherever the events are.

Two implementations: `duckdb_backend.DuckDBBackend` over the local store (files, instant, free)
and `remote.RemoteBackend` over a user's Athena or Trino CloudTrail table (seconds a query,
billed by the bytes read). The screen talks to this Protocol and reads `capabilities` to decide
what to offer (pull-down, cost in the status line, a confirmation before a full scan).

Every method may block (a remote query takes seconds): call them from thread workers, and
`cancel()` from any thread to stop what is running. Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol, runtime_checkable

from trailtui.data.filters import FacetValue, FilterState

QueryState = Literal["queued", "running", "succeeded", "failed", "cancelled", "cached"]
# An event's identity in its backend: (file_id, line) locally; remotely (eventID, eventTime,
# the page statement and the row's position in its result).
EventKey = tuple[object, ...]
# A row of the event table: `PAGE_COLUMNS` values, then the event's key.
PageRow = tuple[object, ...]

PAGE_COLUMNS: Final[tuple[str, ...]] = (
    "eventTime", "actor", "eventName", "eventSource", "awsRegion", "sourceIPAddress",
    "errorCode", "account_id", "readOnly",
)  # fmt: skip

USD_PER_TB: Final[float] = 5.0  # Athena's price for the bytes a query scans
MIN_BILLED_BYTES: Final[int] = 10 * 1024 * 1024  # each query is billed at least 10 MB
TB: Final[int] = 1024**4


def query_cost(scanned_bytes: int) -> float:
    """What Athena bills for one query: 5 USD per TB scanned, at least 10 MB (0 when nothing
    was scanned: a cancelled-while-queued or DDL query)."""
    if scanned_bytes <= 0:
        return 0.0
    return max(scanned_bytes, MIN_BILLED_BYTES) / TB * USD_PER_TB


def format_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def format_cost(usd: float) -> str:
    return f"${usd:.4f}" if usd < 0.01 else f"${usd:.2f}"


class BackendError(Exception):
    """A query or a connection failed; `str()` is the one message to show the user."""


class QueryCancelled(BackendError):
    """The user stopped the query (escape)."""


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, so the screen offers only what works."""

    local: bool  # answers in milliseconds, free: facets recount on every chip
    costs_money: bool  # the status line shows scanned bytes and cost
    pull_down: bool  # can load the current filter's events into a local store
    raw_events: bool  # keeps each event's original bytes (copy gives them verbatim)
    needs_time_range: bool  # every query needs a time range (partition predicates)
    page_limit: int = 0  # rows the ordered page holds at most (0: no limit)


@dataclass(frozen=True)
class QueryStatus:
    """One query's state for the status line."""

    state: QueryState
    scanned_bytes: int = 0
    cost_usd: float = 0.0
    message: str = ""  # the engine's reason when failed or cancelled
    query_id: str = ""
    elapsed_ms: int = 0

    def describe(self) -> str:
        parts: list[str] = [self.state]
        if self.scanned_bytes:
            parts.append(f"{format_bytes(self.scanned_bytes)} scanned")
        if self.cost_usd:
            parts.append(format_cost(self.cost_usd))
        if self.message:
            parts.append(self.message)
        return ", ".join(parts)


StatusListener = Callable[[QueryStatus], None]


@dataclass
class SessionCost:
    """Running total of what this session's queries scanned and cost."""

    queries: int = 0
    scanned_bytes: int = 0
    cost_usd: float = 0.0

    def add(self, status: QueryStatus) -> None:
        self.queries += 1
        self.scanned_bytes += status.scanned_bytes
        self.cost_usd += status.cost_usd

    def describe(self) -> str:
        return (
            f"session: {self.queries} quer{'y' if self.queries == 1 else 'ies'}, "
            f"{format_bytes(self.scanned_bytes)}, {format_cost(self.cost_usd)}"
        )


@dataclass(frozen=True)
class EventDetail:
    """One event for the detail screen: its fields, and how they were obtained."""

    fields: Mapping[str, object]
    raw: bytes | None = None  # the original record, when the backend has it
    note: str = ""  # e.g. "composed from the table's columns (no raw JSON column)"


@dataclass(frozen=True)
class ConsoleResult:
    """What the SQL console shows for one statement."""

    columns: Sequence[str]
    rows: Sequence[Sequence[object]]
    status: QueryStatus
    truncated: bool = False  # more rows exist than were fetched
    warnings: Sequence[str] = field(default_factory=tuple)


@runtime_checkable
class Backend(Protocol):
    """What the screen needs of the events, wherever they are."""

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def description(self) -> str:
        """What is open, for the title bar: file names or `athena: db.table`."""
        ...

    def count(self, filters: FilterState) -> int:
        """Events under the filter."""
        ...

    def facets(
        self, keys: Sequence[str], filters: FilterState
    ) -> dict[str, list[tuple[FacetValue, int]]]:
        """Each facet's values with counts under the filter, most first, ties by value."""
        ...

    def page(
        self,
        filters: FilterState,
        start: int,
        count: int,
        sort_column: str = "eventTime",
        descending: bool = True,
    ) -> list[PageRow]:
        """Rows [start, start + count) of the ordered events (PAGE_COLUMNS + key)."""
        ...

    def event(self, key: EventKey) -> EventDetail | None:
        """One event by the key a page row carries."""
        ...

    def console(self, sql: str, *, confirmed: bool = False) -> ConsoleResult:
        """Run the user's SQL as is. A remote backend returns `warnings` and runs nothing when
        the SQL would scan the whole table, unless `confirmed`."""
        ...

    def cancel(self) -> None:
        """Stop whatever query is running (safe from any thread, safe when idle)."""
        ...
