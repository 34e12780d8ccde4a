"""Views over the events table: facet counts, materialised ordered pages, single events."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime

import duckdb
import pytest
from _fixtures import RECORDS, events_store, synthetic_records
from conftest import subprocess_env

from trailtui.data import views
from trailtui.data.filters import Chip, FilterState
from trailtui.data.store import EventStore

N_SYNTHETIC = 3000
N = N_SYNTHETIC + len(RECORDS)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    records = RECORDS + synthetic_records(N_SYNTHETIC)
    with events_store(records, tmp_path_factory.mktemp("views")) as st:
        yield st


@pytest.fixture
def cur(store: EventStore) -> Iterator[duckdb.DuckDBPyConnection]:
    c = store.cursor()
    yield c
    c.close()


STATES = [
    FilterState(),
    FilterState().add(Chip.include("actor", "user0")),
    FilterState().add(Chip.exclude("eventSource", "s3.amazonaws.com")),
    FilterState().add(Chip.include("errorCode", None)).add(Chip.include("readOnly", True)),
    FilterState().add(Chip.search("bucket-1")),
    FilterState().add(Chip.include("actor", "nobody at all")),
]


# -- counts and facets ------------------------------------------------------------------------


def test_counts(cur: duckdb.DuckDBPyConnection) -> None:
    assert views.total_count(cur) == N
    assert views.count(cur, FilterState()) == N
    assert views.count(cur, FilterState().add(Chip.include("actor", "nobody"))) == 0


@pytest.mark.parametrize("state", STATES, ids=lambda s: " & ".join(s.labels) or "none")
def test_facets_recount_under_the_filter(
    cur: duckdb.DuckDBPyConnection, state: FilterState
) -> None:
    total = views.count(cur, state)
    every = views.all_facet_counts(cur, views.FACET_KEYS, state)
    assert list(every) == list(views.FACET_KEYS)
    for key in views.FACET_KEYS:
        counts = views.facet_counts(cur, key, state)
        assert every[key] == counts, key
        assert sum(c for _, c in counts) == total, key  # NULL is a value too
        assert len({v for v, _ in counts}) == len(counts)
        # most first, ties by value (NULL last among equals)
        keys = [(-c, v is None, "" if v is None else str(v)) for v, c in counts]
        assert keys == sorted(keys), key


@pytest.mark.parametrize("state", STATES, ids=lambda s: " & ".join(s.labels) or "none")
def test_facets_within_a_view_match_the_filtered_ones(
    cur: duckdb.DuckDBPyConnection, state: FilterState
) -> None:
    info = views.materialize_view(cur, state, generation=11)
    try:
        keys = list(views.FACET_KEYS)
        assert views.all_facet_counts(cur, keys, state, within=info) == views.all_facet_counts(
            cur, keys, state
        )
        assert views.facet_counts(cur, "actor", state, within=info) == views.facet_counts(
            cur, "actor", state
        )
        assert views.time_span(cur, state, within=info) == views.time_span(cur, state)
        other = state.add(Chip.include("awsRegion", "nowhere"))
        with pytest.raises(ValueError):
            views.all_facet_counts(cur, keys, other, within=info)
        with pytest.raises(ValueError):
            views.time_span(cur, other, within=info)
    finally:
        views.drop_view(cur, info.table)


def test_has_search() -> None:
    assert not FilterState().has_search
    assert not FilterState().add(Chip.include("actor", "a")).has_search
    assert FilterState().add(Chip.include("actor", "a")).add(Chip.search("x")).has_search


def test_facet_values_keep_their_types(cur: duckdb.DuckDBPyConnection) -> None:
    ro = dict(views.all_facet_counts(cur, ["readOnly"], FilterState())["readOnly"])
    assert set(ro) == {True, False, None}
    assert ro == dict(views.facet_counts(cur, "readOnly", FilterState()))
    # a picked facet value becomes a chip that selects exactly that many events
    for key in ("readOnly", "sourceIPAddress", "errorCode", "actor"):
        for value, c in views.facet_counts(cur, key, FilterState()):
            assert views.count(cur, FilterState().add(Chip.include(key, value))) == c


def test_facet_lists_are_not_truncated(cur: duckdb.DuckDBPyConnection) -> None:
    ips = views.facet_counts(cur, "sourceIPAddress", FilterState())
    distinct = cur.execute("SELECT count(DISTINCT sourceIPAddress) FROM events").fetchall()[0][0]
    assert len(ips) == distinct + 1  # + NULL


def test_unknown_facet(cur: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError):
        views.facet_counts(cur, "requestParameters", FilterState())
    assert views.all_facet_counts(cur, [], FilterState()) == {}


def test_facets_are_in_the_allow_list() -> None:
    assert [f.key for f in views.FACETS][:3] == ["actor", "eventSource", "sourceIPAddress"]
    for f in views.FACETS:
        assert f.title and f.column.key == f.key


def test_time_span(cur: duckdb.DuckDBPyConnection) -> None:
    lo, hi = views.time_span(cur, FilterState())
    assert lo == datetime(2024, 5, 1, 10, 0, 0)
    assert hi is not None and hi.date() == datetime(2024, 6, 3).date()
    assert views.time_span(cur, FilterState().add(Chip.include("actor", "x"))) == (None, None)


# -- views ------------------------------------------------------------------------------------


def _all(cur: duckdb.DuckDBPyConnection, info: views.ViewInfo) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for start in range(0, info.row_count, 256):
        rows += views.fetch_rows(cur, info.table, start, 256)
    return rows


T, FID, LINE = 0, views.VIEW_COLUMNS.index("_file_id"), views.VIEW_COLUMNS.index("_line")


def test_default_view_is_newest_first_with_stable_ties(cur: duckdb.DuckDBPyConnection) -> None:
    info = views.materialize_view(cur, FilterState(), generation=1)
    try:
        assert info == views.ViewInfo("view_1", N, 1, "eventTime", True, FilterState())
        rows = _all(cur, info)
        assert len(rows) == N
        times = [r[T] for r in rows]
        dated = [t for t in times if t is not None]
        assert times[: len(dated)] == dated and len(dated) == N - 1  # the unparsed time last
        # newest first; ties (many: 30-second steps) by (_file_id, _line)
        keys = [(-_ts(r[T]), r[FID], r[LINE]) for r in rows[: len(dated)]]
        assert keys == sorted(keys)
        assert len({(r[FID], r[LINE]) for r in rows}) == N
        again = views.materialize_view(cur, FilterState(), generation=2)
        assert _all(cur, again) == rows
        views.drop_view(cur, again.table)
    finally:
        views.drop_view(cur, info.table)


def _ts(value: object) -> float:
    assert isinstance(value, datetime)
    return value.timestamp()


@pytest.mark.parametrize("state", STATES, ids=lambda s: " & ".join(s.labels) or "none")
def test_view_holds_exactly_the_filtered_events(
    cur: duckdb.DuckDBPyConnection, state: FilterState
) -> None:
    info = views.materialize_view(cur, state, generation=3)
    try:
        assert info.row_count == views.count(cur, state)
        where, params = state.where()
        expected = cur.execute(
            f"SELECT {', '.join(views.VIEW_COLUMNS)} FROM events WHERE {where} "
            f"ORDER BY {views.order_by()}",
            params,
        ).fetchall()
        assert _all(cur, info) == expected
    finally:
        views.drop_view(cur, info.table)


@pytest.mark.parametrize("column", sorted(views.SORT_COLUMNS))
@pytest.mark.parametrize("descending", [True, False])
def test_sorting(cur: duckdb.DuckDBPyConnection, column: str, descending: bool) -> None:
    info = views.materialize_view(cur, FilterState(), column, descending, generation=4)
    try:
        rows = _all(cur, info)
        i = views.VIEW_COLUMNS.index(column)
        values = [r[i] for r in rows]
        present = [v for v in values if v is not None]
        assert values[: len(present)] == present  # NULLs last either way
        assert present == sorted(present, key=_sortable, reverse=descending)
        assert info.sort_column == column and info.descending is descending
    finally:
        views.drop_view(cur, info.table)


def _sortable(v: object) -> float | str:
    if isinstance(v, datetime):
        return v.timestamp()
    if isinstance(v, bool):
        return float(v)
    return str(v)


def test_sort_column_and_table_names_are_checked(cur: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError):
        views.materialize_view(cur, FilterState(), "requestParameters")
    with pytest.raises(ValueError):
        views.materialize_view(cur, FilterState(), "eventTime; DROP TABLE events")
    for bad in ("events", "view_1; DROP TABLE events", "view_x"):
        with pytest.raises(ValueError):
            views.fetch_rows(cur, bad, 0, 1)
        with pytest.raises(ValueError):
            views.drop_view(cur, bad)


def test_fetch_rows_returns_exactly_the_slice(cur: duckdb.DuckDBPyConnection) -> None:
    info = views.materialize_view(cur, FilterState(), generation=5)
    try:
        full = _all(cur, info)
        for start, count in [(0, 1), (5, 7), (255, 3), (1000, 256), (N - 3, 10), (N, 5)]:
            assert views.fetch_rows(cur, info.table, start, count) == full[start : start + count]
        assert views.fetch_rows(cur, info.table, 3, 0) == []
        assert views.fetch_rows(cur, info.table, -2, 4) == full[0:2]
        page = views.PageSource(cur, info)
        assert page.row_count == N and page.generation == 5
        assert page.columns == views.VIEW_COLUMNS
        assert page.fetch(N - 2, 256) == full[N - 2 :]
        assert page.fetch(100, 50) == full[100:150]
    finally:
        views.drop_view(cur, info.table)


def test_views_are_visible_to_other_cursors(store: EventStore) -> None:
    worker, ui = store.cursor(), store.cursor()
    try:
        info = views.materialize_view(worker, FilterState(), generation=6)
        assert len(views.PageSource(ui, info).fetch(0, 10)) == 10
        views.drop_view(worker, info.table)
        with pytest.raises(duckdb.CatalogException):
            views.fetch_rows(ui, info.table, 0, 1)
    finally:
        worker.close()
        ui.close()


def test_view_needs_insertion_order(store: EventStore) -> None:
    cur = store.cursor()
    try:
        cur.execute("SET preserve_insertion_order = false")
        with pytest.raises(RuntimeError):
            views.materialize_view(cur, FilterState(), generation=7)
    finally:
        cur.execute("SET preserve_insertion_order = true")
        cur.close()


def test_keys_of_marked_rows(cur: duckdb.DuckDBPyConnection) -> None:
    info = views.materialize_view(cur, FilterState(), generation=8)
    try:
        full = _all(cur, info)
        keys = views.rows_keys(cur, info.table, [9, 2, 2, 40])
        assert keys == [(full[i][FID], full[i][LINE]) for i in (2, 9, 40)]
        assert views.rows_keys(cur, info.table, []) == []
        assert views.range_keys(cur, info.table, 3, 6) == [
            (r[FID], r[LINE]) for r in full[3:6]
        ]
        fid, line = keys[1]
        assert isinstance(fid, int) and isinstance(line, int)
        assert views.position_of(cur, info.table, fid, line) == 9
        assert views.position_of(cur, info.table, 999, 0) is None
    finally:
        views.drop_view(cur, info.table)


# -- single events ----------------------------------------------------------------------------


def test_event_row_has_every_column(cur: duckdb.DuckDBPyConnection) -> None:
    fid, line = cur.execute(
        "SELECT _file_id, _line FROM events WHERE eventName = 'CreateBucket'"
    ).fetchall()[0]
    row = views.event_row(cur, fid, line)
    assert row is not None
    cols = [r[0] for r in cur.execute("DESCRIBE events").fetchall()]
    assert list(row) == cols
    assert row["actor"] == "alice" and row["_line"] == line
    ui = row["userIdentity"]
    assert isinstance(ui, dict) and ui["arn"] == "arn:aws:iam::012345678901:user/alice"
    assert "needle-bucket-7f3a" in str(row["requestParameters"])
    assert views.event_row(cur, 999, 0) is None


def test_event_rows_keep_the_order_asked(cur: duckdb.DuckDBPyConnection) -> None:
    keys = [(int(f), int(line)) for f, line in cur.execute(
        "SELECT _file_id, _line FROM events ORDER BY _line DESC LIMIT 5"
    ).fetchall()]
    asked = [keys[3], keys[0], (999, 1), keys[4]]
    rows = views.event_rows(cur, asked)
    assert [(r["_file_id"], r["_line"]) for r in rows] == [keys[3], keys[0], keys[4]]
    assert views.event_rows(cur, []) == []


# -- layering ---------------------------------------------------------------------------------


def test_data_layer_does_not_import_textual_or_rich() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import trailtui.data as pkg\n"
        "for m in pkgutil.iter_modules(pkg.__path__):\n"
        "    importlib.import_module('trailtui.data.' + m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('textual', 'rich'))\n"
        "assert not bad, bad\n"
        "assert 'trailtui.data.views' in sys.modules and 'trailtui.data.filters' in sys.modules\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


def test_column_widths(cur: duckdb.DuckDBPyConnection) -> None:
    alice = FilterState().add(Chip.include("actor", "alice"))
    info = views.materialize_view(cur, alice, generation=9)
    empty = views.materialize_view(
        cur, FilterState().add(Chip.include("actor", "x")), generation=10
    )
    try:
        widths = views.column_widths(cur, info.table)
        assert widths["actor"] == len("alice")
        assert widths["eventName"] == len("CreateBucket")
        assert widths["account_id"] == 12
        assert "eventTime" not in widths and "readOnly" not in widths
        assert views.column_widths(cur, empty.table) == {}
    finally:
        views.drop_view(cur, info.table)
        views.drop_view(cur, empty.table)
