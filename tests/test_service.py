"""The data service: one door to the data, and cancellation that holds.

Slow work is made with a test-only `events` view that crosses the loaded events with a huge
`range()` and keeps none of it: every query over `events` then runs for minutes unless it is
interrupted, without using memory. Each cancel test starts a job in a thread, waits until it
runs, cancels it, and checks the job ends cancelled with nothing left behind (no time limits:
the waits are generous timeouts, not measurements).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _fixtures import RECORDS, synthetic_records, write_ndjson

from trailtui.data.export import ExportFormat
from trailtui.data.filters import Chip, FilterState
from trailtui.data.service import (
    CONSOLE,
    EXPORT,
    FACETS,
    LOAD,
    VIEW,
    DataError,
    DataService,
    Job,
    JobCancelled,
)
from trailtui.data.store import EventStore, LoadProgress

WAIT = 60.0  # a timeout for a stuck test, never a speed requirement


@pytest.fixture
def data(tmp_path: Path) -> Iterator[DataService]:
    store = EventStore(cache=False)
    report = store.load([str(write_ndjson(RECORDS, tmp_path / "events.ndjson"))])
    assert not report.errors
    service = DataService(store)
    yield service
    service.close()
    store.close()


def make_slow(data: DataService) -> None:
    """Swap `events` for a view that takes minutes to scan (test only)."""
    cur = data.store.cursor()
    cur.execute("ALTER TABLE events RENAME TO events_real")
    cur.execute(
        "CREATE VIEW events AS SELECT e.* FROM events_real e, range(10000000000) r "
        "WHERE hash(r.range) = 0"
    )
    cur.close()


def view_tables(data: DataService) -> list[str]:
    cur = data.store.cursor()
    try:
        rows = cur.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'view_%'"
        ).fetchall()
    finally:
        cur.close()
    return [r[0] for r in rows]


def run_and_cancel(
    data: DataService, purpose: str, work: Callable[[Job], object], cancel: Callable[[], object]
) -> BaseException | object:
    """Start `work` under a new job in a thread, cancel it once its query runs, return how it
    ended (the exception, or the value if it finished)."""
    job = data.job(purpose)
    ended: list[BaseException | object] = []

    def target() -> None:
        try:
            ended.append(work(job))
        except BaseException as exc:
            ended.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    assert wait_for(lambda: job._cursor is not None or bool(ended)), "the job never started"
    assert not ended, f"finished before the cancel: {ended}"
    assert data.running(purpose)
    cancel()
    thread.join(WAIT)
    assert not thread.is_alive(), "the cancel did not stop the job"
    assert job.done.is_set()
    return ended[0]


def wait_for(condition: Callable[[], bool]) -> bool:
    done = threading.Event()
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return True
        done.wait(0.01)
    return condition()


# -- the plain operations ------------------------------------------------------------------------


def test_count_facets_view_event_and_records(data: DataService) -> None:
    filters = FilterState()
    total = data.count(filters)
    assert total == data.event_count() > 0
    built, counts = data.build_view(filters, "eventTime", True, 1, facet_keys=("actor",))
    assert built.view.row_count == total and built.total == total
    assert counts is not None and sum(n for _v, n in counts["actor"]) == total
    facets = data.facets(("actor", "eventSource"), filters)
    assert facets["actor"] == counts["actor"]
    source = data.page_source(built.view)
    first = source.fetch(0, 1)[0]
    file_id, line = int(first[-2]), int(first[-1])  # type: ignore[call-overload]
    raw, row = data.event(file_id, line)
    assert row is not None and str(row["eventID"]) in raw.decode()
    # A re-sort reports where that event is now (the cursor stays on it).
    resorted, _ = data.build_view(filters, "eventName", False, 2, keep=(file_id, line))
    assert resorted.position is not None
    row_now = data.page_source(resorted.view).fetch(resorted.position, 1)[0]
    assert (row_now[-2], row_now[-1]) == (file_id, line)
    data.drop_views([resorted.view.table])
    records = data.records(built.view, [0])
    assert records == [raw.decode()]
    assert len(data.records(built.view)) == total
    data.drop_views([built.view.table])
    assert view_tables(data) == []
    assert not data.running()


def test_a_bad_query_is_one_data_error(data: DataService) -> None:
    with pytest.raises(DataError) as caught:
        data.headless_query("SELECT nope FROM events")
    assert "nope" in caught.value.line
    assert not data.running()


def test_headless_query_returns_columns_types_rows(data: DataService) -> None:
    columns, types, rows = data.headless_query("SELECT 1 AS a, 'x' AS b")
    assert columns == ["a", "b"] and types == ["INTEGER", "VARCHAR"] and rows == [(1, "x")]


# -- cancellation --------------------------------------------------------------------------------


def test_a_newer_filter_interrupts_the_superseded_view(data: DataService) -> None:
    make_slow(data)
    filters = FilterState().add(Chip.search("alice"))
    newer: list[Job] = []
    ended = run_and_cancel(
        data, VIEW,
        lambda job: data.build_view(filters, "eventTime", True, 7, job),
        lambda: newer.append(data.job(VIEW, supersede=True)),
    )
    assert isinstance(ended, JobCancelled)
    assert not newer[0].is_cancelled  # the newer job is not touched
    assert view_tables(data) == []  # nothing half-built stays


def test_a_newer_filter_interrupts_the_superseded_facet_count(data: DataService) -> None:
    make_slow(data)
    ended = run_and_cancel(
        data, FACETS,
        lambda job: data.facets(("actor", "eventSource"), FilterState(), job),
        lambda: data.job(FACETS, supersede=True),
    )
    assert isinstance(ended, JobCancelled)


def test_a_job_cancelled_before_its_worker_starts_never_runs(data: DataService) -> None:
    job = data.job(VIEW)
    data.cancel(VIEW)
    with pytest.raises(JobCancelled):
        data.build_view(FilterState(), "eventTime", True, 3, job)
    assert view_tables(data) == [] and not data.running()


@pytest.mark.parametrize("fmt", [ExportFormat.CSV, ExportFormat.RECORDS])
def test_escape_cancels_an_export_and_leaves_no_file(
    data: DataService, tmp_path: Path, fmt: ExportFormat
) -> None:
    make_slow(data)
    target = tmp_path / f"out.{'csv' if fmt is ExportFormat.CSV else 'json'}"
    ended = run_and_cancel(
        data, EXPORT,
        lambda job: data.export_events(job, str(target), fmt),
        lambda: data.cancel(EXPORT),
    )
    assert isinstance(ended, JobCancelled)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("out")] == []


def test_escape_cancels_a_console_query(data: DataService) -> None:
    session = data.console_session()
    ended = run_and_cancel(
        data, CONSOLE,
        lambda job: session.run(job, "SELECT sum(hash(range)) FROM range(10000000000)", None),
        lambda: data.cancel(CONSOLE),
    )
    assert getattr(ended, "kind", None) == "cancelled"
    # The session works again and keeps its state.
    again = session.run(data.job(CONSOLE), "SELECT 42 AS answer", None)
    assert again.kind == "ok" and again.result is not None and again.result.row_count == 1
    session.close()


def test_cancel_stops_only_the_purposes_named(data: DataService) -> None:
    """Escape during a load cancels the load, not the view and facet work of the screen."""
    facet_job, load_job = data.job(FACETS), data.job(LOAD)
    assert data.cancel(LOAD)
    assert load_job.is_cancelled and not facet_job.is_cancelled
    assert not data.cancel(EXPORT)  # nothing to cancel: says so


# -- a cancelled load never resumes --------------------------------------------------------------


def _two_files(tmp_path: Path) -> list[str]:
    records = synthetic_records(400)
    first = write_ndjson(records[:200], tmp_path / "a.ndjson")
    second = write_ndjson(records[200:], tmp_path / "b.ndjson")
    return [str(first), str(second)]


@pytest.mark.parametrize("lost_interrupt", [False, True])
def test_a_cancelled_load_never_resumes(tmp_path: Path, lost_interrupt: bool) -> None:
    """Escape while the second file is read: the first file's events stay, nothing of the
    second appears. `lost_interrupt`: only the flag is set, as when DuckDB drops an interrupt
    that lands between two statements (one escape in three was lost that way at 200k)."""
    store = EventStore(cache=False)
    data = DataService(store)
    try:
        job = data.job(LOAD)
        seen: list[LoadProgress] = []

        def progress(p: LoadProgress) -> None:
            seen.append(p)
            if p.phase == "reading" and p.file_index == 1:
                if lost_interrupt:
                    job.cancelled.set()
                else:
                    job.cancel()

        report = data.load(job, _two_files(tmp_path), progress, first_screen=True)
        assert report.cancelled
        assert data.event_count() == 200
        assert [f.path.endswith("a.ndjson") for f in store.sources] == [True]
        assert not data.running(LOAD)
        # Nothing comes back later either: a new load adds the second file afresh.
        again = data.load(data.job(LOAD), [str(tmp_path / "b.ndjson")])
        assert not again.cancelled and data.event_count() == 400
    finally:
        data.close()
        store.close()


def test_a_load_cancelled_before_it_starts_loads_nothing(tmp_path: Path) -> None:
    store = EventStore(cache=False)
    data = DataService(store)
    try:
        job = data.job(LOAD)
        data.cancel(LOAD)
        report = data.load(job, _two_files(tmp_path))
        assert report.cancelled and data.event_count() == 0
    finally:
        data.close()
        store.close()


def test_event_count_from_two_threads_at_once(data: DataService) -> None:
    """The loader and the UI both ask for the count: each on a cursor of its own."""
    counts: list[Any] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            for _ in range(200):
                counts.append(data.event_count())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not errors and len(set(counts)) == 1


def test_a_job_whose_worker_never_runs_does_not_stay_running(data: DataService) -> None:
    """A superseded Textual worker may be cancelled before its thread starts."""
    orphan = data.job(VIEW)
    data.job(VIEW, supersede=True)
    assert orphan.is_cancelled and orphan.done.is_set()
    data.cancel(VIEW)
    assert not data.running(VIEW)
    with pytest.raises(JobCancelled):  # if it runs after all, it stops at once
        data.facets(("actor",), FilterState(), orphan)
