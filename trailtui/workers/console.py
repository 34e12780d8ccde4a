"""Runs the SQL console's queries for a screen, off the UI thread, cancellably.

The browser screen owns one `ConsoleWorker` and only wires messages to it:

    SqlConsole.RunRequested    -> worker.run(event.sql, event.params)
    SqlConsole.CancelRequested -> worker.cancel()

Each query runs in a thread worker (DuckDB releases the GIL, the UI stays smooth) as a
"console" job of the `DataService`, so escape (or the service) can interrupt it; the job is
interrupted repeatedly until it ends, since an interrupt that lands between two statements is
lost. The console keeps one session across runs (`DataService.console_session`), so `SET`,
`USE`, temporary tables and macros last, as in a SQL shell; runs never overlap. Result tables
no longer shown are dropped before the next run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from textual.widget import Widget

from trailtui.data.export import DEFAULT_EVENT_ORDER, ExportFormat, ExportOutcome
from trailtui.data.history import History
from trailtui.data.results import Outcome
from trailtui.data.service import CONSOLE, DataError, DataService, Job, JobCancelled
from trailtui.widgets.sql_console import SqlConsole
from trailtui.workers.export import Exporter


class ConsoleWorker:
    """The worker side of a `SqlConsole`: run, cancel, completions, export of the result."""

    def __init__(
        self,
        host: Widget,
        data: DataService,
        console: SqlConsole,
        history: History | None = None,
        exporter: Exporter | None = None,
    ) -> None:
        self.host = host
        self.data = data
        self.console = console
        self.history = history
        self.exporter = exporter or Exporter(host, data)
        self._session = data.console_session()
        self._job: Job | None = None
        self._shown: str | None = None
        self._stale: list[str] = []
        self._closed = False
        if history is not None:
            console.history = history.entries

    @property
    def running(self) -> bool:
        return self._job is not None and not self._job.done.is_set()

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
        job = self._job = self.data.job(CONSOLE)
        self.console.show_running()
        stale, self._stale = self._stale, []
        self.host.run_worker(
            lambda: self._call_ui(self._deliver,
                                  self._session.run(job, sql, dict(params or {}), stale)),
            name="sql-console",
            group="sql",
            thread=True,
            exit_on_error=False,
            description="SQL console query",
        )
        return True

    def _call_ui(self, callback: Callable[..., Any], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.host.app.call_from_thread(callback, *args)

    def _deliver(self, outcome: Outcome) -> None:
        """On the UI thread: hand the outcome to the console."""
        if self._closed:
            return
        console = self.console
        if outcome.kind == "ok" and outcome.result is not None:
            result = outcome.result
            source = self.data.result_source(result) if result.has_rows else None
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
        if self._job is not None:
            self._job.cancel()

    # -- completions ---------------------------------------------------------------------------

    def refresh_completions(self) -> None:
        """Recompute the editor's names from the catalog (after loading, or after a CREATE)."""

        def work() -> None:
            try:
                names = self.data.completions()
            except (DataError, JobCancelled):
                return
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
        report = on_done or self.exporter.notify
        if result is None or not result.has_rows:
            report(None, "no result to export: run a query that returns rows")
            return False
        self.exporter.export_result(result, path, fmt, overwrite=overwrite, on_done=report)
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
        self.exporter.export_events(path, fmt, where=where, params=params, order_by=order_by,
                                    overwrite=overwrite, on_done=on_done)

    # -- shutdown ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop using the data: cancel a running query, drop result tables, end the session."""
        self._closed = True
        self.cancel()
        self.data.drop_results([*self._stale, self._shown])
        self._stale, self._shown = [], None
        self._session.close()


__all__ = ["ConsoleWorker"]
