"""The one door to the data: every question the UI and headless mode ask of DuckDB.

Screens and widgets never see a DuckDB connection or cursor. They ask a `DataService`, from a
thread worker for anything that can take more than a frame, and get plain Python values back.
The service owns the cursors (a DuckDB connection object is not thread-safe, so each piece of
work gets its own cursor on the thread that runs it; the UI thread has one for paging) and it
knows what is running, so what the user no longer wants can be stopped.

Jobs. Each piece of work runs under a `Job` with a purpose ("load", "view", "facets", "export",
"console", ...). The UI thread creates the job when it starts the work (`data.job("view")`), so a
cancel issued before the worker thread even begins is not lost; `supersede=True` cancels the
older jobs of the same purpose (a newer filter makes the previous view and facet counts useless).
Cancelling a job sets its flag and interrupts its cursor, again every 50 ms while it runs:
DuckDB forgets an interrupt that lands between two statements, so one interrupt can be lost.

Errors come back as `DataError` (one line, for the user) and cancellation as `JobCancelled`:
callers need not import duckdb.

A second backend (Athena/Trino) answers the same operations: `count`, `facets` under a filter,
an ordered page (`build_view` + `page_source`), one event (`event`), console SQL
(`ConsoleSession.run`) and `cancel`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Final, TypeVar

import duckdb

from trailtui.data import catalog, evidence, explore, fields, report, views
from trailtui.data.export import (
    DEFAULT_EVENT_ORDER,
    ExportCancelled,
    ExportFormat,
    ExportOutcome,
    export_events,
    export_result,
)
from trailtui.data.filters import FacetValue, FilterState
from trailtui.data.findings import (
    FINDINGS_ORDER,
    Exclusion,
    FindingsRun,
    FindingSummary,
    RuleSet,
    findings_of_event,
    run_findings,
    summarize,
)
from trailtui.data.results import (
    Outcome,
    QueryParams,
    QueryResult,
    ResultSource,
    drop_result,
    execute,
)
from trailtui.data.scan import skipped_text
from trailtui.data.store import EventStore, LoadProgress, LoadReport
from trailtui.data.timerange import TimeRange

T = TypeVar("T")

INTERRUPT_EVERY: Final = 0.05
"""Seconds between repeated interrupts of a cancelled job's cursor."""
INTERRUPT_FOR: Final = 120.0
"""Give up interrupting after this long (a job stuck outside DuckDB cannot be interrupted)."""

LOAD: Final = "load"
VIEW: Final = "view"
FACETS: Final = "facets"
EXPORT: Final = "export"
CONSOLE: Final = "console"
FINDINGS: Final = "findings"

Cursor = duckdb.DuckDBPyConnection


class DataError(Exception):
    """A query failed; `str()` is DuckDB's whole message, `line` its first line."""

    @property
    def line(self) -> str:
        return _first_line(self)


class JobCancelled(Exception):
    """The job was cancelled (escape, a newer filter, a closed screen): drop its result."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Job:
    """One piece of data work the user may stop: a purpose, a cancel flag, its live cursor.

    Created on the UI thread when the work is started; the worker thread runs it through the
    service, which attaches the cursor while statements run.
    """

    _numbers = itertools.count(1)

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        self.number = next(self._numbers)
        self.cancelled = threading.Event()
        self.started = threading.Event()
        self.done = threading.Event()
        self._cursor: Cursor | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled.is_set() else "done" if self.done.is_set() else "live"
        return f"<Job {self.purpose}#{self.number} {state}>"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled.is_set()

    def check(self) -> None:
        """Raise `JobCancelled` if the user no longer wants this job's result."""
        if self.cancelled.is_set():
            raise JobCancelled(self.purpose)

    def start(self) -> None:
        """Called by the worker thread as it begins; raises `JobCancelled` if too late."""
        self.started.set()
        self.check()

    def cancel(self) -> None:
        """Stop the job: set the flag and interrupt its cursor until the job has ended.

        A job whose worker has not started yet just ends here (a superseded Textual worker may
        never run); its worker, if it runs after all, sees the flag in `start` and stops.
        """
        if self.done.is_set() or self.cancelled.is_set():
            self.cancelled.set()
            return
        self.cancelled.set()
        if not self.started.is_set():
            self.done.set()
            return
        self._interrupt()
        threading.Thread(target=self._keep_interrupting, daemon=True,
                         name=f"trailtui-cancel-{self.purpose}").start()

    def _interrupt(self) -> None:
        with self._lock:
            cur = self._cursor
            if cur is not None:
                with contextlib.suppress(duckdb.Error):
                    cur.interrupt()

    def _keep_interrupting(self) -> None:
        for _ in range(int(INTERRUPT_FOR / INTERRUPT_EVERY)):
            if self.done.wait(INTERRUPT_EVERY):
                return
            self._interrupt()

    def _attach(self, cur: Cursor | None) -> None:
        with self._lock:
            self._cursor = cur


@dataclass(frozen=True)
class BuiltView:
    """What the event table needs after a filter or sort change."""

    view: views.ViewInfo
    total: int
    span: tuple[datetime | None, datetime | None]
    widths: dict[str, int]
    position: int | None = None  # of the event asked to be kept in view (`keep`), if found
    paths: tuple[str, ...] = ()  # extra field columns of the view (issue 12), in order


FacetCounts = dict[str, list[tuple[FacetValue, int]]]


class DataService:
    """Owns cursors and running jobs over one `EventStore`; the only way the UI reaches DuckDB."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._jobs: set[Job] = set()
        self._lock = threading.Lock()
        self._ui_cursor: Cursor | None = None
        self._closed = False

    # -- jobs ---------------------------------------------------------------------------------

    def job(self, purpose: str, *, supersede: bool = False) -> Job:
        """A new job for `purpose` (call on the thread that starts the work).

        `supersede`: cancel the running jobs of the same purpose first (their answers would be
        thrown away anyway).
        """
        if supersede:
            self.cancel(purpose)
        job = Job(purpose)
        with self._lock:
            self._jobs.add(job)
        return job

    def running(self, *purposes: str) -> bool:
        """Whether a job of one of these purposes (any purpose if none given) is running."""
        with self._lock:
            return any((not purposes or j.purpose in purposes) and not j.done.is_set()
                       for j in self._jobs)

    def cancel(self, *purposes: str) -> bool:
        """Cancel the running jobs of these purposes (every job if none given); True if any."""
        with self._lock:
            jobs = [j for j in self._jobs if not purposes or j.purpose in purposes]
        for job in jobs:
            job.cancel()
            if job.done.is_set():  # never started: nothing more will end it
                self._finish(job)
        return bool(jobs)

    def _finish(self, job: Job) -> None:
        job._attach(None)
        job.done.set()
        with self._lock:
            self._jobs.discard(job)

    @contextlib.contextmanager
    def _run(self, job: Job | None, purpose: str = "") -> Iterator[Cursor]:
        """A cursor for `job` on this thread; ends the job; DuckDB errors become DataError."""
        job = job or self.job(purpose or "query")
        try:
            job.start()
            cur = self.store.cursor()
            try:
                job._attach(cur)
                job.check()  # cancelled between the check and the attach: its interrupt missed
                try:
                    yield cur
                except duckdb.InterruptException as exc:
                    raise JobCancelled(job.purpose) from exc
                except duckdb.Error as exc:
                    if job.is_cancelled:
                        raise JobCancelled(job.purpose) from exc
                    raise DataError(str(exc).strip() or type(exc).__name__) from exc
                job.check()
            finally:
                job._attach(None)
                with contextlib.suppress(duckdb.Error):
                    cur.close()
        finally:
            self._finish(job)

    def _ui(self) -> Cursor:
        """The UI thread's cursor: page reads of about 1 ms, never from a worker."""
        if self._ui_cursor is None:
            self._ui_cursor = self.store.cursor()
        return self._ui_cursor

    def close(self) -> None:
        """Cancel everything and close the UI cursor (the store is closed by its owner)."""
        self._closed = True
        self.cancel()
        if self._ui_cursor is not None:
            with contextlib.suppress(duckdb.Error):
                self._ui_cursor.close()
            self._ui_cursor = None

    # -- loading ------------------------------------------------------------------------------

    def load(
        self,
        job: Job,
        paths: Sequence[str | os.PathLike[str]],
        progress: Callable[[LoadProgress], None] | None = None,
        *,
        first_screen: bool = False,
    ) -> LoadReport:
        """Load files (worker thread). Cancelling the job stops it for good: what was loaded
        before the cancel stays, nothing loads after it (`report.cancelled`)."""
        try:
            job.started.set()  # a cancelled job still returns a report (`cancelled`)
            return self.store.load(paths, progress=progress, cancel=job.cancelled,
                                   first_screen=first_screen, on_cursor=job._attach)
        finally:
            self._finish(job)

    def range_note(self) -> str:
        """`--since/--until` and what it left out (objects not opened, events outside), or ""."""
        return skipped_text(self.store.time_range, *self.store.range_skipped)

    def after_load(self, *, compact: bool) -> str | None:
        """Compact the table and write the cache (worker thread); a problem as one line."""
        if compact:
            self.store.compact()
        return self.store.save_cache()

    def event_count(self) -> int:
        """Events loaded (any thread: it opens its own cursor)."""
        return self.store.event_count()

    @property
    def file_count(self) -> int:
        return len(self.store.sources)

    def ask(self, question: Callable[[Cursor], T], job: Job | None = None,
            purpose: str = "query") -> T:
        """Answer `question(cursor)` under `job` (worker thread): the data modules' own
        questions (investigate, coverage, timeline) get the same cursor, cancel and errors."""
        with self._run(job, purpose) as cur:
            return question(cur)

    # -- the event table ----------------------------------------------------------------------

    def count(self, filters: FilterState, job: Job | None = None) -> int:
        """Events under the filter."""
        with self._run(job, VIEW) as cur:
            return views.count(cur, filters)

    def facets(
        self,
        keys: Sequence[str],
        filters: FilterState,
        job: Job | None = None,
        *,
        within: views.ViewInfo | None = None,
    ) -> FacetCounts:
        """Every value of each facet with its count under the filter, most first."""
        with self._run(job, FACETS) as cur:
            return views.all_facet_counts(cur, keys, filters, within=within)

    def build_view(
        self,
        filters: FilterState,
        sort_column: str,
        descending: bool,
        generation: int,
        job: Job | None = None,
        *,
        facet_keys: Sequence[str] = (),
        on_view: Callable[[BuiltView], None] | None = None,
        keep: tuple[int, int] | None = None,
        fields: Sequence[str] = (),
    ) -> tuple[BuiltView, FacetCounts | None]:
        """Materialise the ordered view of the filtered events (worker thread).

        `facet_keys`: also count those facets from the view (worth it under a search chip,
        which would otherwise scan every event's text twice); `on_view` gets the view first,
        so the table can show it while the facets are counted. `keep`: an event's
        (`_file_id`, `_line`) whose new position to report (a re-sort keeps the cursor on it).
        `fields`: more columns by field path (`userIdentity.arn`...); the sort may then name
        any field. A view built for a cancelled job is dropped.
        """
        table: str | None = None
        try:
            with self._run(job, VIEW) as cur:
                extra = explore.extra_fields(fields)
                paths: tuple[str, ...] = ()
                if extra or sort_column not in views.SORT_COLUMNS:
                    fview = explore.materialize_fields_view(
                        cur, filters, extra, explore.sort_field(sort_column), descending,
                        generation)
                    view, paths = fview.info, fview.paths
                else:
                    view = views.materialize_view(cur, filters, sort_column, descending,
                                                  generation)
                table = view.table
                if job is not None:
                    job.check()
                widths = views.column_widths(cur, view.table)
                if paths:
                    widths |= explore.field_widths(cur, explore.FieldsView(view, paths))
                built = BuiltView(
                    view, views.total_count(cur), views.time_span(cur, filters, within=view),
                    widths,
                    views.position_of(cur, view.table, *keep) if keep is not None else None,
                    paths)
                if job is not None:
                    job.check()
                if on_view is not None:
                    on_view(built)
                table = None  # handed over: the caller drops it when it is replaced
                counts = (views.all_facet_counts(cur, facet_keys, filters, within=view)
                          if facet_keys else None)
                return built, counts
        except JobCancelled:
            if table is not None:
                self.drop_views([table])
            raise

    def page_source(
        self, view: views.ViewInfo, paths: Sequence[str] = ()
    ) -> views.PageSource | explore.FieldsPageSource:
        """The event table's rows for `view`, paged on the UI thread's cursor (`paths`: the
        view's extra field columns, `BuiltView.paths`)."""
        if paths:
            return explore.FieldsPageSource(self._ui(), explore.FieldsView(view, tuple(paths)))
        return views.PageSource(self._ui(), view)

    def set_filtered(self, view: views.ViewInfo | None) -> None:
        """Point the console's `filtered` view at `view` (None: all events). UI thread."""
        try:
            catalog.define_filtered_view(self._ui(), view.table if view is not None else None)
        except duckdb.Error as exc:
            raise DataError(_first_line(exc)) from exc

    def drop_views(self, tables: Sequence[str]) -> None:
        """Drop view tables no longer shown (worker thread); never raises."""
        with contextlib.suppress(DataError, JobCancelled), self._run(None, "drop") as cur:
            for table in tables:
                views.drop_view(cur, table)

    # -- any field, evidence, report (issue 12) ---------------------------------------------

    def field_catalog(self, job: Job | None = None) -> fields.FieldCatalog:
        """Every field, nested JSON keys sampled from the data (~0.1 s at 200k events)."""
        with self._run(job, "catalog") as cur:
            return fields.catalog(cur)

    def frequency(self, fld: fields.Field, filters: FilterState, job: Job | None = None, *,
                  search: str = "", order: explore.SortOrder = "count_desc",
                  limit: int | None = None, within: str | None = None) -> explore.Frequency:
        """Every value of one field with its count under the filter (`explore.frequency`)."""
        with self._run(job, "frequency") as cur:
            return explore.frequency(cur, fld, filters, search=search, order=order,
                                     limit=limit, within=within)

    def field_facets(self, paths: Sequence[str], filters: FilterState, job: Job | None = None,
                     *, limit: int | None = None, within: str | None = None) -> FacetCounts:
        """Facet counts on any field paths (a facet with picks ignores its own pick);
        `within`: a view table built for `filters` (its events are found by key)."""
        with self._run(job, FACETS) as cur:
            return explore.facet_counts(cur, paths, filters, limit=limit, within=within)

    def field_value(self, fld: fields.Field, file_id: int, line: int) -> tuple[bool, FacetValue]:
        with self._run(None, "cell") as cur:
            return explore.field_value(cur, fld, file_id, line)

    def event_refs(self, keys: Sequence[tuple[int, int]]) -> list[evidence.EventRef]:
        with self._run(None, "refs") as cur:
            return evidence.refs_for(cur, keys)

    def resolve_refs(self, refs: Sequence[evidence.EventRef]) -> tuple[
        dict[tuple[int, int], evidence.EventRef], list[tuple[int, int]]
    ]:
        with self._run(None, "refs") as cur:
            return evidence.resolve(cur, refs)

    def event_summaries(self, keys: Sequence[tuple[int, int]]) -> dict[
        tuple[int, int], tuple[datetime | None, str | None, str | None]
    ]:
        with self._run(None, "refs") as cur:
            return evidence.summaries(cur, keys)

    def report(self, filters: FilterState, kept: evidence.Evidence,
               job: Job | None = None) -> report.Report:
        with self._run(job, "report") as cur:
            return report.build_report(self.store, cur, filters, kept)

    # -- single events ------------------------------------------------------------------------

    def event(self, file_id: int, line: int) -> tuple[bytes, dict[str, object] | None]:
        """One event: its original record and every column (worker thread)."""
        with self._run(None, "event") as cur:
            row = views.event_row(cur, file_id, line)
        try:
            return self.store.raw_event(file_id, line), row
        except (OSError, KeyError) as exc:
            raise DataError(_first_line(exc)) from exc

    def findings(self, job: Job, rules: RuleSet,
                 exclusions: Sequence[Exclusion] = ()) -> tuple[FindingsRun, list[FindingSummary]]:
        """Run the detection rules over everything loaded, and their summary (worker thread).

        Retried a few times on a transaction conflict with the loader's background CHECKPOINT.
        """
        with self._run(job) as cur:
            for attempt in itertools.count():
                try:
                    return run_findings(cur, rules, exclusions), summarize(cur)
                except duckdb.TransactionException:
                    if attempt >= 4:
                        raise
                    job.check()
                    time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def event_findings(self, file_id: int, line: int) -> list[tuple[str, str, str]]:
        """(level, title, rule_id) of the findings on one event (worker thread)."""
        with self._run(None, "event") as cur:
            return findings_of_event(cur, file_id, line)

    def locate_event(
        self, event_id: str, row: Mapping[str, object] | None = None
    ) -> list[tuple[int, int]]:
        """(`_file_id`, `_line`) of the loaded events with this eventID (worker thread)."""
        with self._run(None, "event") as cur:
            return catalog.locate_event(cur, event_id, row)

    def records(
        self, view: views.ViewInfo, positions: Sequence[int] | None = None
    ) -> list[str]:
        """Original records of the view rows at `positions` (all rows if None), in view order."""
        with self._run(None, "copy") as cur:
            if positions is None:
                keys = views.range_keys(cur, view.table, 0, view.row_count)
            else:
                keys = views.rows_keys(cur, view.table, positions)
        try:
            return [r.decode("utf-8", errors="replace") for r in self.store.raw_events(keys)]
        except (OSError, KeyError) as exc:
            raise DataError(_first_line(exc)) from exc

    def records_by_key(self, keys: Sequence[tuple[int, int]]) -> list[str]:
        """Original records by row key (`_file_id`, `_line`), in the order given."""
        try:
            return [r.decode("utf-8", errors="replace") for r in self.store.raw_events(keys)]
        except (OSError, KeyError) as exc:
            raise DataError(_first_line(exc)) from exc

    # -- export -------------------------------------------------------------------------------

    def export_events(
        self,
        job: Job,
        path: str,
        fmt: ExportFormat,
        *,
        where: str = "TRUE",
        params: QueryParams | None = None,
        order_by: str = DEFAULT_EVENT_ORDER,
        overwrite: bool = False,
    ) -> ExportOutcome:
        """Export the events under a filter (worker thread). Raises `ExportError`; a cancelled
        job raises `JobCancelled` and leaves no file."""
        with self._run(job, EXPORT) as cur, _export_cancel(job):
            return export_events(cur, self.store, path, fmt, where=where, params=params,
                                 order_by=order_by, overwrite=overwrite, cancel=job.cancelled)

    def export_result(
        self, job: Job, result: QueryResult, path: str, fmt: ExportFormat, *,
        overwrite: bool = False,
    ) -> ExportOutcome:
        """Export a console result in its own order (worker thread); as `export_events`."""
        with self._run(job, EXPORT) as cur, _export_cancel(job):
            return export_result(cur, self.store, result, path, fmt, overwrite=overwrite,
                                 cancel=job.cancelled)

    # -- console ------------------------------------------------------------------------------

    def console_session(self) -> ConsoleSession:
        """A SQL shell session: `SET`, `USE`, macros and temporary tables last across runs."""
        return ConsoleSession(self)

    def completions(self) -> list[str]:
        """Names the SQL editor completes, from the catalog (worker thread)."""
        with self._run(None, "completions") as cur:
            return catalog.completions(cur)

    def result_source(self, result: QueryResult) -> ResultSource:
        """A console result's rows, paged on the UI thread's cursor."""
        return ResultSource(result, self._ui())

    def drop_results(self, tables: Sequence[str | None]) -> None:
        """Drop result tables no longer shown (UI thread at shutdown); never raises."""
        if self._ui_cursor is None and not any(tables):
            return
        for table in tables:
            drop_result(self._ui(), table)

    def finding_rows(
        self, rules: RuleSet, exclusions: Sequence[Exclusion], columns: Sequence[str],
    ) -> tuple[FindingsRun, list[str], list[tuple[object, ...]]]:
        """Run the rules and read `columns` (a fixed list) of every finding, most severe first:
        headless `--findings`. Returns the run (its problems), the column types and the rows."""
        cols = ", ".join(f'"{c}"' for c in columns)
        with self._run(None, FINDINGS) as cur:
            run = run_findings(cur, rules, exclusions)
            result = cur.execute(f"SELECT {cols} FROM findings ORDER BY {FINDINGS_ORDER}")
            types = [str(d[1]) for d in result.description or []]
            return run, types, result.fetchall()

    def headless_query(self, sql: str) -> tuple[list[str], list[str], list[tuple[object, ...]]]:
        """Run one query for headless mode: (columns, types, rows), every row fetched."""
        with self._run(None, CONSOLE) as cur:
            result = cur.execute(sql)
            if result.description is None:
                result.fetchall()
                return [], [], []
            columns = [d[0] for d in result.description]
            types = [str(d[1]) for d in result.description]
            return columns, types, result.fetchall()


def load_headless(paths: Sequence[str], *, flag: str, cache: bool,
                  time_range: TimeRange | None, err: IO[str]) -> DataService | int:
    """Load PATHS for one headless run (`--sql`, `--findings`, `--coverage`): every load
    message printed made safe, what `--since/--until` left out said. The service, or the exit
    code 2 when nothing could be loaded (the store is then closed already)."""
    from trailtui.sanitize import safe_text  # Textual-free

    if not paths:
        print(f"trailtui: {flag} needs at least one PATH to load", file=err)
        return 2
    store = EventStore(cache=cache, time_range=time_range)
    data = DataService(store)  # the same door to the data as the app
    try:
        report = data.load(data.job(LOAD), paths)
        # Messages can quote file content (a CSV header) and DuckDB errors quote values
        # (`Could not convert string '...'`): never let those control the terminal.
        for msg in report.messages():
            print(f"trailtui: {safe_text(msg)}", file=err)
        if time_range is not None:  # what the range left out, so a short answer is explained
            print(f"trailtui: {data.range_note()}", file=err)
        if data.event_count() == 0:
            print("trailtui: no events could be loaded", file=err)
            store.close()
            return 2
    except BaseException:
        store.close()
        raise
    return data


def finish_headless(data: DataService, err: IO[str], *, save: bool = True) -> None:
    """After a headless run: keep the cache for next time (only when the run answered, so a
    failed query leaves no cache folder behind), then close."""
    from trailtui.sanitize import safe_text

    try:
        problem = data.store.save_cache() if save else None
        if problem:
            print(f"trailtui: {safe_text(problem)}", file=err)
    finally:
        data.close()
        data.store.close()


@contextlib.contextmanager
def _export_cancel(job: Job) -> Iterator[None]:
    """An export stopped by its cancel flag or an interrupt says so as `JobCancelled`."""
    try:
        yield
    except ExportCancelled as exc:
        raise JobCancelled(job.purpose) from exc


class ConsoleSession:
    """The SQL console's session: one cursor kept across runs (runs never overlap)."""

    def __init__(self, service: DataService) -> None:
        self.service = service
        self._cur: Cursor | None = None
        self._lock = threading.Lock()

    def run(self, job: Job, sql: str, params: Mapping[str, object] | None,
            stale: Sequence[str] = ()) -> Outcome:
        """Run the console's SQL (worker thread); drop `stale` result tables first.

        Never raises for SQL problems: the outcome says ok, error or cancelled.
        """
        with self._lock:
            try:
                job.start()
                if self._cur is None:
                    self._cur = self.service.store.cursor()
                cur = self._cur
                for table in stale:
                    drop_result(cur, table)
                job._attach(cur)
                outcome = execute(self.service.store, cur, sql, params, job.cancelled)
            except JobCancelled:
                outcome = Outcome("cancelled")
            except Exception as exc:  # e.g. the store closed under us: report, never crash
                outcome = Outcome("error", error=f"{type(exc).__name__}: {exc}")
            finally:
                self.service._finish(job)
            return outcome

    def close(self) -> None:
        """Close the session's cursor, unless a cancelled run still holds it (the store's
        connection closes it then)."""
        if not self._lock.acquire(timeout=1.0):
            return
        try:
            if self._cur is not None:
                with contextlib.suppress(duckdb.Error):
                    self._cur.close()
                self._cur = None
        finally:
            self._lock.release()


__all__ = [
    "CONSOLE",
    "EXPORT",
    "FACETS",
    "LOAD",
    "VIEW",
    "BuiltView",
    "ConsoleSession",
    "DataError",
    "DataService",
    "FacetCounts",
    "Job",
    "JobCancelled",
]
