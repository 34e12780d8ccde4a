"""The local backend: the `Backend` Protocol over an `EventStore` (today's behaviour for files).

A thin adapter over `views` and `queries`, the functions the screen already uses: same SQL,
same results. Each call takes a fresh cursor (calls come from different worker threads) and is
registered with the store, so `cancel()` interrupts it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence

import duckdb

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
from trailtui.data.queries import RN, drop_result, run_query
from trailtui.data.store import EventStore

CONSOLE_ROWS = 10_000  # rows a console result hands back through the Protocol
# View tables are named view_<n>: numbers of our own, process-wide, far from the screen's
# (which counts from 1), so two users of one store never replace each other's view.
_GENERATIONS = itertools.count(1_000_000_000)
KEPT_VIEWS = 4  # materialised views kept for going back (each holds the display columns)


class DuckDBBackend:
    """Events loaded from files into the local DuckDB store."""

    capabilities = Capabilities(
        local=True, costs_money=False, pull_down=False, raw_events=True, needs_time_range=False
    )

    def __init__(self, store: EventStore, description: str = "local files") -> None:
        self.store = store
        self._description = description
        self._lock = threading.Lock()
        self._views: dict[tuple[FilterState, str, bool], views.ViewInfo] = {}

    @property
    def description(self) -> str:
        return self._description

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self.store.cursor()
        self.store.register(cur)
        return cur

    def _done(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.store.unregister(cur)
        cur.close()

    def count(self, filters: FilterState) -> int:
        cur = self._cursor()
        try:
            return views.count(cur, filters)
        except duckdb.InterruptException as exc:
            raise QueryCancelled("cancelled") from exc
        finally:
            self._done(cur)

    def facets(
        self, keys: Sequence[str], filters: FilterState
    ) -> dict[str, list[tuple[FacetValue, int]]]:
        cur = self._cursor()
        try:
            return views.all_facet_counts(cur, keys, filters)
        except duckdb.InterruptException as exc:
            raise QueryCancelled("cancelled") from exc
        finally:
            self._done(cur)

    def _view(self, filters: FilterState, sort_column: str, descending: bool) -> views.ViewInfo:
        key = (filters, sort_column, descending)
        with self._lock:
            view = self._views.get(key)
            if view is not None:
                return view
            generation = next(_GENERATIONS)
        cur = self._cursor()
        try:
            view = views.materialize_view(cur, filters, sort_column, descending, generation)
        except duckdb.InterruptException as exc:
            raise QueryCancelled("cancelled") from exc
        finally:
            self._done(cur)
        with self._lock:
            stale = [self._views.pop(key)] if key in self._views else []
            self._views[key] = view
            while len(self._views) > KEPT_VIEWS:  # oldest first (dicts keep insertion order)
                stale.append(self._views.pop(next(iter(self._views))))
        for old in stale:
            self._drop(old)
        return view

    def _drop(self, view: views.ViewInfo) -> None:
        cur = self.store.cursor()
        try:
            views.drop_view(cur, view.table)
        finally:
            cur.close()

    def page(
        self,
        filters: FilterState,
        start: int,
        count: int,
        sort_column: str = "eventTime",
        descending: bool = True,
    ) -> list[PageRow]:
        view = self._view(filters, sort_column, descending)
        cur = self.store.cursor()
        try:
            rows = views.fetch_rows(cur, view.table, start, min(count, view.row_count - start))
        finally:
            cur.close()
        # VIEW_COLUMNS = display columns, then (_file_id, _line): exactly PageRow's layout.
        return [tuple(r) for r in rows]

    def event(self, key: EventKey) -> EventDetail | None:
        file_id, line = (int(str(k)) for k in key)
        cur = self.store.cursor()
        try:
            row = views.event_row(cur, file_id, line)
        finally:
            cur.close()
        if row is None:
            return None
        try:
            raw: bytes | None = self.store.raw_event(file_id, line)
        except (KeyError, OSError, IndexError):
            raw = None
        return EventDetail(row, raw)

    def console(self, sql: str, *, confirmed: bool = False) -> ConsoleResult:
        cur = self.store.cursor()
        t0 = time.perf_counter()
        try:
            result = run_query(cur, sql, store=self.store)
            elapsed = int((time.perf_counter() - t0) * 1000)
            if not result.has_rows or result.table is None:
                status = QueryStatus("succeeded", message=result.message, elapsed_ms=elapsed)
                return ConsoleResult((), (), status)
            try:
                cols = ", ".join(f'"{c}"' for c in result.columns)
                rows = cur.execute(
                    f"SELECT {cols} FROM {result.table} ORDER BY {RN} LIMIT {CONSOLE_ROWS}"
                ).fetchall()
            finally:
                drop_result(cur, result.table)
            return ConsoleResult(
                result.columns,
                rows,
                QueryStatus("succeeded", elapsed_ms=elapsed),
                truncated=result.row_count > CONSOLE_ROWS,
            )
        except duckdb.InterruptException as exc:
            raise QueryCancelled("cancelled") from exc
        except duckdb.Error as exc:
            raise BackendError(str(exc)) from exc
        finally:
            cur.close()

    def cancel(self) -> None:
        self.store.interrupt_all()

    def close(self) -> None:
        """Drop the views this backend made (the store stays open: it is the caller's)."""
        with self._lock:
            kept, self._views = list(self._views.values()), {}
        for view in kept:
            self._drop(view)
