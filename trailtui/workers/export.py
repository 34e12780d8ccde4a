"""Exports to files, run in thread workers through the `DataService`, cancellable by escape.

Used for `e` (the filtered events) and the console's *Export result*. While an export runs,
`running` is True and the screen's status line says so; `cancel` stops it and leaves no file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence

from textual.widget import Widget

from trailtui.data.export import (
    DEFAULT_EVENT_ORDER,
    ExportCancelled,
    ExportError,
    ExportFormat,
    ExportOutcome,
)
from trailtui.data.results import QueryResult
from trailtui.data.service import EXPORT, DataError, DataService, Job, JobCancelled
from trailtui.sanitize import safe_text

Report = Callable[[ExportOutcome | None, str | None], None]
"""Called on the UI thread with the outcome, or None and the error's message."""


class Exporter:
    """Starts exports for `host` (a widget whose workers run them) and reports how they ended."""

    def __init__(self, host: Widget, data: DataService,
                 on_change: Callable[[], None] | None = None) -> None:
        self.host = host
        self.data = data
        self.on_change = on_change  # the status line shows "exporting…" while one runs
        self._jobs: list[Job] = []

    @property
    def running(self) -> bool:
        return any(not job.done.is_set() for job in self._jobs)

    def cancel(self) -> bool:
        """Cancel the running exports (escape); True if there was one."""
        live = [job for job in self._jobs if not job.done.is_set()]
        for job in live:
            job.cancel()
        return bool(live)

    def export_events(
        self,
        path: str,
        fmt: ExportFormat,
        *,
        where: str = "TRUE",
        params: Sequence[object] | Mapping[str, object] | None = None,
        order_by: str = DEFAULT_EVENT_ORDER,
        overwrite: bool = False,
        on_done: Report | None = None,
    ) -> None:
        """Export the events under a filter (`FilterState.where()`) in the table's order."""
        self._start(
            "events-export",
            lambda job: self.data.export_events(job, path, fmt, where=where, params=params,
                                                order_by=order_by, overwrite=overwrite),
            on_done or self.notify,
        )

    def export_result(
        self, result: QueryResult, path: str, fmt: ExportFormat, *, overwrite: bool = False,
        on_done: Report | None = None,
    ) -> None:
        """Export a console result in its own order."""
        self._start(
            "sql-export",
            lambda job: self.data.export_result(job, result, path, fmt, overwrite=overwrite),
            on_done or self.notify,
        )

    def _start(self, name: str, export: Callable[[Job], ExportOutcome], report: Report) -> None:
        job = self.data.job(EXPORT)
        self._jobs = [j for j in self._jobs if not j.done.is_set()] + [job]

        def work() -> None:
            outcome: ExportOutcome | None = None
            error: str | None = None
            try:
                outcome = export(job)
            except (JobCancelled, ExportCancelled):
                error = "export cancelled"
            except (ExportError, DataError) as exc:
                error = str(exc)
            self._call_ui(self._finished, report, outcome, error)

        self.host.run_worker(work, name=name, group="export", thread=True, exit_on_error=False,
                             description="export")
        self._changed()

    def _finished(self, report: Report, outcome: ExportOutcome | None, error: str | None) -> None:
        report(outcome, error)
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _call_ui(self, callback: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.host.app.call_from_thread(callback, *args)

    def notify(self, outcome: ExportOutcome | None, error: str | None) -> None:
        """The default report: one notification."""
        if outcome is not None:
            self.host.notify(safe_text(outcome.message), title="Export", markup=False)
        elif error == "export cancelled":
            self.host.notify("export cancelled; no file written", title="Export", markup=False)
        else:
            self.host.notify(safe_text(error or "export failed"), title="Export",
                             severity="error", markup=False)
