"""Runs the SQL console's queries for a screen, off the UI thread, cancellably.

The browser screen owns one `ConsoleRunner` and only wires messages to it:

    SqlConsole.RunRequested    -> runner.run(event.sql, event.params)
    SqlConsole.CancelRequested -> runner.cancel()

Each query runs in a thread worker (DuckDB releases the GIL, the UI stays smooth) on the
console's own cursor, registered with the store while it runs so `store.interrupt_all()` stops it
too. Cancelling a Textual worker does not stop DuckDB, so `cancel` interrupts the cursor itself,
repeatedly for a moment (an interrupt that lands between two statements would be lost);
`duckdb.InterruptException` becomes "cancelled". The console keeps one cursor across runs, so
`SET`, `USE`, temporary tables and macros last for the session, as in a SQL shell; runs never
overlap. Result tables no longer shown are dropped before the next run.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
from textual.widget import Widget

from trailtui.data import guard, queries
from trailtui.data.export import (
    DEFAULT_EVENT_ORDER,
    ExportError,
    ExportFormat,
    ExportOutcome,
    export_events,
    export_result,
)
from trailtui.data.history import History
from trailtui.data.queries import QueryResult, ResultSource
from trailtui.data.store import EventStore
from trailtui.sanitize import safe_text
from trailtui.widgets.sql_console import SqlConsole

INTERRUPT_EVERY = 0.05
INTERRUPT_FOR = 3.0


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
        # Rolled back if it drops or changes what the screen depends on (issue 8).
        result = guard.run_guarded(cur, sql, lambda: queries.run_query(
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
        queries.drop_result(cur, result.table)
        return Outcome("cancelled", elapsed_ms=(time.perf_counter() - t0) * 1000)
    return Outcome("ok", result=result, elapsed_ms=result.elapsed_ms)


class ConsoleRunner:
    """The worker side of a `SqlConsole`: run, cancel, completions, export of the result."""

    def __init__(
        self, host: Widget, store: EventStore, console: SqlConsole, history: History | None = None
    ) -> None:
        self.host = host
        self.store = store
        self.console = console
        self.history = history
        self._cur: duckdb.DuckDBPyConnection | None = None  # worker-side, one run at a time
        self._page_cur: duckdb.DuckDBPyConnection | None = None  # UI thread only
        self._cancel: threading.Event | None = None
        self._done: threading.Event | None = None
        self._shown: str | None = None
        self._stale: list[str] = []
        self._closed = False
        if history is not None:
            console.history = history.entries

    @property
    def running(self) -> bool:
        return self._done is not None and not self._done.is_set()

    # -- running -------------------------------------------------------------------------------

    def run(self, sql: str, params: Mapping[str, object] | None = None) -> bool:
        """Start a query in a thread worker; False (and a note) if one is still running."""
        if self._closed:
            return False
        if self.running:
            self.console.show_message("a query is still running: escape cancels it")
            return False
        if self.history is not None:
            self.history.add(sql, params)
            self.console.history = self.history.entries
        cancel, done = threading.Event(), threading.Event()
        self._cancel, self._done = cancel, done
        self.console.show_running()
        stale, self._stale = self._stale, []
        self.host.run_worker(
            lambda: self._work(sql, dict(params or {}), cancel, done, stale),
            name="sql-console",
            group="sql",
            thread=True,
            exit_on_error=False,
            description="SQL console query",
        )
        return True

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        if self._cur is None:
            self._cur = self.store.cursor()
        return self._cur

    def _work(
        self,
        sql: str,
        params: dict[str, object],
        cancel: threading.Event,
        done: threading.Event,
        stale: list[str],
    ) -> None:
        try:
            cur = self._cursor()
            for table in stale:
                queries.drop_result(cur, table)
            outcome = execute(self.store, cur, sql, params, cancel)
        except Exception as exc:  # e.g. the store was closed under us: report, never crash
            outcome = Outcome("error", error=f"{type(exc).__name__}: {exc}")
        finally:
            done.set()
        self._call_ui(self._deliver, outcome)

    def _call_ui(self, callback: Callable[..., Any], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.host.app.call_from_thread(callback, *args)

    def _page_cursor(self) -> duckdb.DuckDBPyConnection:
        if self._page_cur is None:
            self._page_cur = self.store.cursor()
        return self._page_cur

    def _deliver(self, outcome: Outcome) -> None:
        """On the UI thread: hand the outcome to the console."""
        if self._closed:
            return
        console = self.console
        if outcome.kind == "ok" and outcome.result is not None:
            result = outcome.result
            source = ResultSource(result, self._page_cursor()) if result.has_rows else None
            console.show_result(result, source)
            if result.has_rows:
                if self._shown:
                    self._stale.append(self._shown)
                self._shown = result.table
            else:
                # CREATE, DROP, ATTACH...: the names the editor completes may have changed.
                self.refresh_completions()
        elif outcome.kind == "cancelled":
            console.show_cancelled(outcome.elapsed_ms)
        else:
            console.show_error(outcome.error)

    def cancel(self) -> None:
        """Interrupt the running query (within a few ms once DuckDB is executing)."""
        cancel, done, cur = self._cancel, self._done, self._cur
        if cancel is None or done is None or done.is_set():
            return
        cancel.set()
        if cur is not None:
            with contextlib.suppress(duckdb.Error):
                cur.interrupt()
        threading.Thread(
            target=self._keep_interrupting, args=(done,), daemon=True, name="trailtui-sql-cancel"
        ).start()

    def _keep_interrupting(self, done: threading.Event) -> None:
        deadline = time.monotonic() + INTERRUPT_FOR
        while not done.wait(INTERRUPT_EVERY) and time.monotonic() < deadline:
            cur = self._cur
            if cur is not None:
                with contextlib.suppress(duckdb.Error):
                    cur.interrupt()

    # -- completions ---------------------------------------------------------------------------

    def refresh_completions(self) -> None:
        """Recompute the editor's names from the catalog (after loading, or after a CREATE)."""

        def work() -> None:
            cur = self.store.cursor()
            try:
                names = queries.completions(cur)
            except duckdb.Error:
                return
            finally:
                cur.close()
            self._call_ui(self._set_completions, names)

        self.host.run_worker(
            work,
            name="sql-completions",
            group="sql-completions",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _set_completions(self, names: list[str]) -> None:
        self.console.completions = names

    # -- export --------------------------------------------------------------------------------

    def export(
        self,
        path: str,
        fmt: ExportFormat,
        *,
        overwrite: bool = False,
        on_done: Callable[[ExportOutcome | None, str | None], None] | None = None,
    ) -> bool:
        """Export the shown result in a worker; `on_done(outcome, error)` runs on the UI thread
        (default: a notification). False when there is no result to export."""
        result = self.console.result
        if result is None or not result.has_rows:
            self._report(None, "no result to export: run a query that returns rows")
            return False
        self._export_in_worker(
            "sql-export",
            lambda cur: export_result(cur, self.store, result, path, fmt, overwrite=overwrite),
            on_done or self._report,
        )
        return True

    def export_events(
        self,
        path: str,
        fmt: ExportFormat,
        *,
        where: str = "TRUE",
        params: Sequence[object] | Mapping[str, object] | None = None,
        order_by: str = DEFAULT_EVENT_ORDER,
        overwrite: bool = False,
        on_done: Callable[[ExportOutcome | None, str | None], None] | None = None,
    ) -> None:
        """Export the events under a filter (`FilterState.where()`) in a worker, in the table's
        order (`views.order_by(...)`); `on_done` as for `export`."""
        self._export_in_worker(
            "events-export",
            lambda cur: export_events(cur, self.store, path, fmt, where=where, params=params,
                                      order_by=order_by, overwrite=overwrite),
            on_done or self._report,
        )

    def _export_in_worker(
        self,
        name: str,
        export: Callable[[duckdb.DuckDBPyConnection], ExportOutcome],
        report: Callable[[ExportOutcome | None, str | None], None],
    ) -> None:
        """Run one export on its own registered cursor (so escape can interrupt it) and hand
        the outcome, or the error's message, to `report` on the UI thread."""

        def work() -> None:
            cur = self.store.cursor()
            self.store.register(cur)
            try:
                outcome = export(cur)
            except ExportError as exc:
                self._call_ui(report, None, str(exc))
                return
            finally:
                self.store.unregister(cur)
                cur.close()
            self._call_ui(report, outcome, None)

        self.host.run_worker(work, name=name, group="export", thread=True, exit_on_error=False)

    def _report(self, outcome: ExportOutcome | None, error: str | None) -> None:
        if outcome is not None:
            self.host.notify(safe_text(outcome.message), title="Export", markup=False)
        else:
            self.host.notify(
                safe_text(error or "export failed"), title="Export", severity="error", markup=False
            )

    # -- shutdown ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop using the store: cancel a running query, drop result tables, close cursors."""
        self._closed = True
        self.cancel()
        if self._page_cur is not None:
            for table in [*self._stale, self._shown]:
                queries.drop_result(self._page_cur, table)
            with contextlib.suppress(duckdb.Error):
                self._page_cur.close()
            self._page_cur = None
        self._stale, self._shown = [], None


__all__ = ["ConsoleRunner", "Outcome", "execute"]
