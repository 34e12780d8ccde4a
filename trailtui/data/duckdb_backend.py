"""The local backend: the `Backend` Protocol over the `DataService` (today's behaviour for files).

A thin adapter: counts, facets, views, events and headless SQL go through the service that the
file browser uses (the same SQL, the same results, its jobs), so `cancel()` stops them the way
escape does on the file screen. Calls may come from any worker thread.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from typing import Final

from trailtui.data import views
from trailtui.data.backend import (
    BackendError,
    Capabilities,
    ConsoleResult,
    EventDetail,
    EventKey,
    PageRow,
    QueryCancelled,
    QueryStatus,
)
from trailtui.data.filters import FacetValue, FilterState
from trailtui.data.service import FACETS, VIEW, DataError, DataService, JobCancelled

CONSOLE_ROWS: Final[int] = 10_000  # rows a console result hands back through the Protocol
KEPT_VIEWS: Final[int] = 4  # materialised views kept for going back (display columns only)
# View tables are named view_<n>: numbers of our own, process-wide, far from the screen's
# (which counts from 1), so two users of one store never replace each other's view.
_GENERATIONS = itertools.count(1_000_000_000)


class DuckDBBackend:
    """Events loaded from files into the local DuckDB store."""

    capabilities = Capabilities(
        local=True, costs_money=False, pull_down=False, raw_events=True, needs_time_range=False
    )

    def __init__(self, data: DataService, description: str = "local files") -> None:
        self.data = data
        self._description = description
        self._lock = threading.Lock()
        self._views: dict[tuple[FilterState, str, bool], views.ViewInfo] = {}

    @property
    def description(self) -> str:
        return self._description

    def count(self, filters: FilterState) -> int:
        try:
            return self.data.count(filters, self.data.job(VIEW))
        except JobCancelled as exc:
            raise QueryCancelled("cancelled") from exc
        except DataError as exc:
            raise BackendError(str(exc)) from exc

    def facets(
        self, keys: Sequence[str], filters: FilterState
    ) -> dict[str, list[tuple[FacetValue, int]]]:
        try:
            return self.data.facets(keys, filters, self.data.job(FACETS))
        except JobCancelled as exc:
            raise QueryCancelled("cancelled") from exc
        except DataError as exc:
            raise BackendError(str(exc)) from exc

    def _view(self, filters: FilterState, sort_column: str, descending: bool) -> views.ViewInfo:
        key = (filters, sort_column, descending)
        with self._lock:
            view = self._views.get(key)
        if view is not None:
            return view
        try:
            built, _ = self.data.build_view(
                filters, sort_column, descending, next(_GENERATIONS), self.data.job(VIEW)
            )
        except JobCancelled as exc:
            raise QueryCancelled("cancelled") from exc
        except DataError as exc:
            raise BackendError(str(exc)) from exc
        with self._lock:
            stale = [self._views.pop(key)] if key in self._views else []
            self._views[key] = built.view
            while len(self._views) > KEPT_VIEWS:  # oldest first (dicts keep insertion order)
                stale.append(self._views.pop(next(iter(self._views))))
        if stale:
            self.data.drop_views([v.table for v in stale])
        return built.view

    def page(
        self,
        filters: FilterState,
        start: int,
        count: int,
        sort_column: str = "eventTime",
        descending: bool = True,
    ) -> list[PageRow]:
        view = self._view(filters, sort_column, descending)
        # A worker's own short-lived cursor: the service's page cursor is the UI thread's.
        cur = self.data.store.cursor()
        try:
            rows = views.fetch_rows(cur, view.table, start, min(count, view.row_count - start))
        finally:
            cur.close()
        # VIEW_COLUMNS = display columns, then (_file_id, _line): exactly PageRow's layout.
        return [tuple(r) for r in rows]

    def event(self, key: EventKey) -> EventDetail | None:
        file_id, line = (int(str(k)) for k in key[:2])
        try:
            raw, row = self.data.event(file_id, line)
        except (DataError, KeyError, IndexError):
            return None
        return EventDetail(row, raw) if row is not None else None

    def console(self, sql: str, *, confirmed: bool = False) -> ConsoleResult:
        try:
            columns, _, rows = self.data.headless_query(sql)
        except JobCancelled as exc:
            raise QueryCancelled("cancelled") from exc
        except DataError as exc:
            raise BackendError(str(exc)) from exc
        return ConsoleResult(
            columns,
            rows[:CONSOLE_ROWS],
            QueryStatus("succeeded"),
            truncated=len(rows) > CONSOLE_ROWS,
        )

    def cancel(self) -> None:
        self.data.cancel()

    def close(self) -> None:
        """Drop the views this backend made (the service and store stay: they are the caller's)."""
        with self._lock:
            kept, self._views = list(self._views.values()), {}
        if kept:
            self.data.drop_views([v.table for v in kept])
