"""The screen over a remote table, driven with Pilot: facets, count, events, a facet pick, the
detail, copy, escape stopping queries, and the pull-down into the file browser. The remote is
the local Athena stand-in (Trino SQL transpiled to DuckDB over the same events)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from _athena import LocalEngine, local_table
from _fixtures import RECORDS, events_store

from trailtui.data.athena import ResultSet
from trailtui.data.backend import QueryCancelled, QueryStatus, StatusListener
from trailtui.data.filters import Chip, FilterState
from trailtui.data.remote import RemoteBackend
from trailtui.data.store import EventStore
from trailtui.pilot import settle
from trailtui.remote_app import RemoteApp
from trailtui.screens.browser import BrowserScreen
from trailtui.screens.detail import DetailScreen
from trailtui.screens.remote_browser import RemoteBrowserScreen
from trailtui.widgets.event_table import EventTable
from trailtui.widgets.facet_panel import FacetPanel

SIZE = (160, 48)
MAY = FilterState((Chip.time(datetime(2024, 5, 1), datetime(2024, 5, 2)),))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    with events_store(RECORDS, tmp_path) as s:
        yield s


def status(app: RemoteApp) -> str:
    return str(app.screen.query_one("#status").render())


async def test_facets_events_detail_pivot_pull(
    store: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAILTUI_CACHE_DIR", str(tmp_path / "cache"))
    engine = LocalEngine(store)
    backend = RemoteBackend(engine, local_table(store))
    app = RemoteApp(backend, MAY)
    in_may = [r for r in RECORDS if r["eventTime"].startswith("2024-05-01")]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RemoteBrowserScreen)
        table = screen.query_one("#events", EventTable)
        assert table.row_count == len(in_may)
        text = status(app)
        assert f"{len(in_may):,} events" in text
        assert "local-athena: cloudtrail_logs.cloudtrail_partitioned" in text
        assert "session: 2 queries" in text  # facets (with the count) and the page
        panel = screen.query_one("#facet-actor", FacetPanel)
        assert panel.counts[0][0] == "alice"

        # Pick bob from the user/role facet: both queries again, under the chip.
        bob = [v for v, _ in panel.counts].index("bob")
        panel.focus()
        panel.highlighted = bob
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 2
        assert "session: 4 queries" in status(app)

        # The detail: composed from the columns, and says so.
        table.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert "DeleteBucket" in app.export_screenshot() or "ListBuckets" in app.export_screenshot()
        await pilot.press("escape")
        await settle(pilot)

        # u goes back: cached, no new query.
        before = len(engine.statements)
        await pilot.press("u")
        await settle(pilot)
        assert table.row_count == len(in_may) and len(engine.statements) == before

        # p pulls the filter's events down and opens them in the file browser.
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)
        await settle(pilot)
        local = app.screen.query_one("#events", EventTable)
        assert local.row_count == len(in_may)


class SlowEngine(LocalEngine):
    """Holds every query as 'running' until cancel(): escape must stop it."""

    def __init__(self, store: EventStore) -> None:
        super().__init__(store)
        self.started = threading.Event()
        self.stop = threading.Event()

    def run(self, sql: str, on_status: StatusListener | None = None) -> ResultSet:
        if on_status:
            on_status(QueryStatus("running", scanned_bytes=5 << 30, query_id=str(len(sql))))
        self.started.set()
        self.stop.wait(10)
        raise QueryCancelled("query stopped (StopQueryExecution)")

    def cancel(self) -> None:
        self.stop.set()


async def test_escape_stops_running_queries(store: EventStore) -> None:
    engine = SlowEngine(store)
    app = RemoteApp(RemoteBackend(engine, local_table(store)), MAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert engine.started.wait(5)
        await pilot.pause()
        assert "running, 5.0 GB scanned" in status(app) and "escape stops" in status(app)
        await pilot.press("escape")
        await settle(pilot)
        assert engine.stop.is_set()
        table = app.screen.query_one("#events", EventTable)
        assert table.row_count == 0 and "no result" in table.empty_message


async def test_removing_the_time_range_is_refused(store: EventStore) -> None:
    engine = LocalEngine(store)
    app = RemoteApp(RemoteBackend(engine, local_table(store)), MAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sent = len(engine.statements)
        await pilot.press("u")  # drops the only chip, the time range
        await settle(pilot)
        assert len(engine.statements) == sent  # nothing sent without a time range
        assert "give a time range" in " ".join(str(n.message) for n in app._notifications)


async def test_console_sends_athena_sql_and_asks_before_a_full_scan(store: EventStore) -> None:
    from trailtui.widgets.sql_console import SqlConsole

    engine = LocalEngine(store)
    app = RemoteApp(RemoteBackend(engine, local_table(store)), MAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sent = len(engine.statements)
        await pilot.press("colon")
        console = app.screen.query_one(SqlConsole)
        sql = (
            "SELECT eventname, count(*) AS n FROM cloudtrail_logs.cloudtrail_partitioned GROUP BY 1"
        )
        console.set_query(sql)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "no condition on year/month/day" in console.status_text
        assert len(engine.statements) == sent  # asked, not sent
        await pilot.press("ctrl+r")  # the same SQL again: sent anyway
        await settle(pilot)
        assert len(engine.statements) == sent + 1
        assert console.results.row_count == len({r["eventName"] for r in RECORDS})
        # A value-and-count row filters the table to that value.
        console.results.focus()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RemoteBrowserScreen)
        assert [c.kind for c in screen.filters.chips] == ["time", "include"]
