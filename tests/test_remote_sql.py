"""The filter model as Trino SQL: partition schemes, partition predicates, safe literals, and
the same answers as the DuckDB backend over the same events (fixtures and real samples)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlglot
from _athena import PROJECTED, YMD, LocalEngine, local_table, trino_sql_parses
from _fixtures import RECORDS, events_store, synthetic_records
from sqlglot import exp

from trailtui.data import views
from trailtui.data.backend import Backend
from trailtui.data.duckdb_backend import DuckDBBackend
from trailtui.data.filters import Chip, FieldChip, FilterState
from trailtui.data.remote import RemoteBackend, compose_event
from trailtui.data.service import DataService
from trailtui.data.store import EventStore
from trailtui.data.trino_sql import (
    NeedsTimeRange,
    Partitions,
    SqlBuilder,
    SqlError,
    TableInfo,
    check_ident,
    missing_partition_warning,
    partition_predicates,
    partitions_from_glue,
    table_from_glue,
)

JUNE = Chip.time(datetime(2024, 4, 1), datetime(2024, 7, 1))

# -- partition schemes ----------------------------------------------------------------------


def test_projected_timestamp_table() -> None:
    info = table_from_glue(PROJECTED)
    assert info.qualified == "security.cloudtrail_logs_pp"
    assert info.partitions.kind == "timestamp"
    assert info.partitions.time_key == "timestamp"
    assert info.columns["useridentity"].startswith("struct")
    preds = partition_predicates(info, FilterState((JUNE,)))
    # The range reaches one day past the end: files are delivered after their events.
    assert preds == ["\"timestamp\" BETWEEN '2024/04/01' AND '2024/07/01'"]


def test_year_month_day_table_with_template_roles() -> None:
    info = table_from_glue(YMD)
    p = info.partitions
    assert p.kind == "ymd"
    assert (p.account_key, p.region_key) == ("account", "region")  # from the template
    assert p.injected == frozenset({"account"})
    # An injected partition needs a value: a clear message, not a failed Athena query.
    with pytest.raises(SqlError, match="injected partition 'account'"):
        partition_predicates(info, FilterState((JUNE,)))
    state = FilterState(
        (JUNE, Chip.include("account_id", "111122223333"), Chip.include("awsRegion", "eu-west-1"))
    )
    preds = partition_predicates(info, state)
    assert preds[0] == (
        "((\"year\" = '2024' AND \"month\" IN ('04', '05', '06'))\n"
        "    OR (\"year\" = '2024' AND \"month\" = '07' AND \"day\" IN ('01')))"
    )
    assert "\"region\" = 'eu-west-1'" in preds and "\"account\" = '111122223333'" in preds


def test_integer_partitions_and_whole_years() -> None:
    p = partitions_from_glue([{"Name": n, "Type": "int"} for n in ("year", "month", "day")], {})
    info = TableInfo("db", "t", {"eventtime": "string"}, p)
    state = FilterState((Chip.time(datetime(2023, 1, 1), datetime(2024, 1, 3)),))
    pred = partition_predicates(info, state)[0]
    assert '"year" = 2023' in pred and '"day" IN (1, 2, 3)' in pred


def test_no_partitions_and_unknown_formats() -> None:
    assert partitions_from_glue([], {}).kind == "none"
    odd = partitions_from_glue(
        [{"Name": "timestamp", "Type": "string"}],
        {
            "projection.enabled": "true",
            "projection.timestamp.type": "date",
            "projection.timestamp.format": "dd-MM-yyyy",
        },
    )
    assert odd.kind == "none"  # text that does not sort in time order cannot take a range


def test_every_statement_needs_a_time_range() -> None:
    builder = SqlBuilder(table_from_glue(PROJECTED))
    with pytest.raises(NeedsTimeRange, match="give a time range"):
        builder.count_sql(FilterState((Chip.include("eventName", "ConsoleLogin"),)))


def test_names_are_checked() -> None:
    for bad in ("a b", "t;drop", 'x"y', "", "1abc"):
        with pytest.raises(SqlError):
            check_ident(bad)
    with pytest.raises(SqlError):
        TableInfo("db", "t; DROP TABLE x")


# -- every statement is Trino, with safe literals ----------------------------------------------

HOSTILE = [
    "O'Brien",
    "a\\b",
    "x' OR 1=1 --",
    "line\nbreak",
    "tab\there",
    "ünïcödé ☃",
    "%_",
    '"quoted"',
    "\u202eevil",
    "';\nDROP TABLE t; --",
]


def _states() -> dict[str, FilterState]:
    base = FilterState((JUNE,))
    return {
        "range only": base,
        "include": base.add(Chip.include("actor", "alice")),
        "exclude + null": base.add(Chip.exclude("eventName", "GetObject")).add(
            Chip.include("errorCode", None)
        ),
        "bool": base.add(Chip.include("readOnly", False)),
        "search": base.add(Chip.search("needle-bucket")),
        "search quote": base.add(Chip.search('say "hi"')),
        "region": base.add(Chip.include("awsRegion", "us-east-1")),
        "around": FilterState((Chip.around(datetime(2024, 5, 1, 10, 0, 5)),)),
    }


@pytest.mark.parametrize("name", list(_states()))
def test_statements_parse_as_trino(name: str) -> None:
    state = _states()[name]
    for info in (table_from_glue(PROJECTED), _local_like()):
        builder = SqlBuilder(info)
        for _, sql in builder.explain(state, views.FACET_KEYS):
            trino_sql_parses(sql)
        trino_sql_parses(builder.pull_sql(state, 10))
        trino_sql_parses(builder.event_sql("id'1", "2024-05-01T10:00:00Z"))


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_stay_one_literal(value: str) -> None:
    """A value is one string literal whatever it holds: parsed back, the WHERE compares the
    column with exactly that text, and no other statement or comment appears."""
    state = FilterState((JUNE, Chip.include("eventName", value)))
    sql = SqlBuilder(table_from_glue(PROJECTED)).count_sql(state)
    tree = trino_sql_parses(sql)
    assert len(sqlglot.parse(sql, read="trino")) == 1
    eqs = [
        e
        for e in tree.find_all(exp.EQ)
        if isinstance(e.left, exp.Column) and e.left.name == "eventname"
    ]
    assert [e.right.this for e in eqs] == [value]


def test_console_warns_before_a_full_scan() -> None:
    info = table_from_glue(PROJECTED)
    t = info.qualified
    assert missing_partition_warning(f"SELECT * FROM {t} WHERE eventname = 'x'", info)
    assert missing_partition_warning(f"SELECT count(*) FROM {t}", info)
    ok = f"SELECT * FROM {t} WHERE \"timestamp\" >= '2024/05/01' AND eventname = 'x'"
    assert missing_partition_warning(ok, info) is None
    # A subquery that reads the table without a predicate is still a full scan.
    sub = f"SELECT * FROM (SELECT * FROM {t}) s WHERE \"timestamp\" > '2024'"
    assert missing_partition_warning(sub, info)
    assert missing_partition_warning("SELECT 1", info) is None
    assert missing_partition_warning("SHOW TABLES", info) is None
    warning = missing_partition_warning(f"SELECT * FROM {t}", info)
    assert warning is not None and "5 USD per TB" in warning


# -- the same answers as the DuckDB backend ---------------------------------------------------


def _local_like() -> TableInfo:
    cols = {
        c: "string"
        for c in (
            "eventtime",
            "eventname",
            "eventsource",
            "readonly",
            "eventid",
            "requestparameters",
            "awsregion",
        )
    }
    cols["useridentity"] = "struct<type:string>"
    return TableInfo(
        "cloudtrail_logs",
        "cloudtrail_partitioned",
        cols,
        Partitions("ymd", region_key="region", keys=("region", "year", "month", "day")),
    )


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    folder = tmp_path_factory.mktemp("remote-fixtures")
    with events_store(RECORDS + synthetic_records(3000), folder) as store:
        yield store


def _compare(store: EventStore, state: FilterState, *, facets: bool = True) -> RemoteBackend:
    local: Backend = DuckDBBackend(DataService(store))
    engine = LocalEngine(store)
    remote = RemoteBackend(engine, local_table(store))
    assert isinstance(remote, Backend)
    if facets:
        got = remote.facets(views.FACET_KEYS, state)
        want = local.facets(views.FACET_KEYS, state)
        for key in views.FACET_KEYS:
            assert got[key] == want[key], key
    n = local.count(state)
    assert remote.count(state) == n
    cur = store.cursor()
    event_ids = {
        (f, line): e
        for f, line, e in cur.execute("SELECT _file_id, _line, eventID FROM events").fetchall()
    }
    cur.close()
    for sort, desc in (("eventTime", True), ("eventName", False)):
        got_rows = remote.page(state, 0, n + 5, sort, desc)
        want_rows = local.page(state, 0, n + 5, sort, desc)
        assert len(got_rows) == len(want_rows) == min(n, 10_000)
        # Same order of the sort key and time; ties may be broken differently (eventID there,
        # file position here), so the events themselves are compared as a multiset.
        assert [r[:1] + r[2:9] for r in got_rows] == [r[:1] + r[2:9] for r in want_rows] or (
            [(r[views.DISPLAY_COLUMNS.index(sort)], r[0]) for r in got_rows]
            == [(r[views.DISPLAY_COLUMNS.index(sort)], r[0]) for r in want_rows]
        )
        ids_got = Counter(r[9] or None for r in got_rows)
        ids_want = Counter(event_ids[(int(str(r[9])), int(str(r[10])))] for r in want_rows)
        assert ids_got == ids_want
    return remote


@pytest.mark.parametrize("name", list(_states()))
def test_remote_answers_as_duckdb_on_fixtures(fixture_store: EventStore, name: str) -> None:
    _compare(fixture_store, _states()[name])


def test_facets_and_count_are_one_scan(fixture_store: EventStore) -> None:
    engine = LocalEngine(fixture_store)
    remote = RemoteBackend(engine, local_table(fixture_store))
    state = _states()["include"]
    remote.facets(views.FACET_KEYS, state)
    assert remote.count(state) > 0
    remote.facets(views.FACET_KEYS, state)  # going back: cached
    assert len(engine.statements) == 1
    assert remote.session.queries == 1


def test_event_detail_is_composed_from_columns(fixture_store: EventStore) -> None:
    remote = RemoteBackend(LocalEngine(fixture_store), local_table(fixture_store))
    state = _states()["search quote"]
    (row,) = remote.page(state, 0, 10)
    detail = remote.event(row[9:])
    assert detail is not None and "composed from the columns" in detail.note
    record = next(r for r in RECORDS if r["eventID"] == row[9])
    ev = detail.fields
    assert ev["eventID"] == record["eventID"] and ev["eventTime"] == record["eventTime"]
    assert ev["requestParameters"] == record["requestParameters"]
    assert ev["userIdentity"] == record["userIdentity"]  # camelCase keys, no NULL fields
    assert ev["readOnly"] is False
    # An event not on a cached page is fetched by ID within its own day's partitions.
    other = RemoteBackend(LocalEngine(fixture_store), local_table(fixture_store))
    again = other.event(row[9:])
    assert again is not None and again.fields == ev


def test_pull_down_loads_the_same_events(fixture_store: EventStore, tmp_path: Path) -> None:
    remote = RemoteBackend(LocalEngine(fixture_store, page=100), local_table(fixture_store))
    state = _states()["exclude + null"]
    pulled = remote.pull(state, tmp_path / "pulls")
    want = DuckDBBackend(DataService(fixture_store)).count(state)
    assert pulled.events == want and not pulled.truncated
    lines = pulled.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == want and all(json.loads(x)["eventID"] for x in lines)
    assert not list((tmp_path / "pulls").glob("*.part"))
    local = EventStore(cache=False)
    try:
        local.load([str(pulled.path)])
        mine = DuckDBBackend(DataService(local))
        # Everything the screen shows is the same after the pull-down, without the filter.
        assert mine.count(FilterState()) == want
        got = mine.facets(views.FACET_KEYS, FilterState())
        exp_ = DuckDBBackend(DataService(fixture_store)).facets(views.FACET_KEYS, state)
        for key in views.FACET_KEYS:
            assert got[key] == exp_[key], key
    finally:
        local.close()
    limited = remote.pull(state, tmp_path / "pulls", limit=5)
    assert limited.events == 5 and limited.truncated


def test_composed_event_keeps_odd_values() -> None:
    ev = compose_event(
        {
            "eventid": "e",
            "readonly": "maybe",
            "requestparameters": "{not json",
            "useridentity": '{"type":"IAMUser","username":"bob","arn":null}',
            "unknown": "x",
        }
    )
    assert ev == {
        "eventID": "e",
        "readOnly": "maybe",
        "requestParameters": "{not json",
        "userIdentity": {"type": "IAMUser", "userName": "bob"},
    }


# -- real samples ------------------------------------------------------------------------------

SAMPLE_RANGE = Chip.time(datetime(2010, 1, 1), datetime(2027, 1, 1))


@pytest.fixture(scope="module")
def sample_store() -> Iterator[EventStore]:
    from conftest import samples_or_skip

    root = samples_or_skip()
    store = EventStore(cache=False)
    try:
        store.load([str(root / "s3-trail"), str(root / "console-json")])
        yield store
    finally:
        store.close()


@pytest.mark.samples
@pytest.mark.parametrize(
    "chips",
    [
        (),
        (Chip.include("eventSource", "ec2.amazonaws.com"),),
        (Chip.exclude("identity_type", "AssumedRole"), Chip.include("readOnly", None)),
        (Chip.include("awsRegion", "us-east-1"), Chip.include("errorCode", "AccessDenied")),
        (Chip.search("AccessDenied"),),
    ],
    ids=["range", "service", "exclude-null", "region-error", "search"],
)
def test_remote_answers_as_duckdb_on_samples(
    sample_store: EventStore, chips: tuple[Chip, ...]
) -> None:
    _compare(sample_store, FilterState((SAMPLE_RANGE, *chips)))


def test_event_after_its_page_left_the_cache(
    fixture_store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trailtui.data.remote as remote_mod

    monkeypatch.setattr(remote_mod, "CACHED_RESULTS", 1)
    engine = LocalEngine(fixture_store)
    remote = RemoteBackend(engine, local_table(fixture_store))
    state = _states()["include"]
    row = remote.page(state, 0, 1)[0]
    remote.count(FilterState((JUNE,)))  # another result takes the only cache place
    detail = remote.event(row[9:])
    assert detail is not None and detail.fields["eventID"] == row[9]
    assert "eventid = " in engine.statements[-1]


def test_open_ended_range_reads_up_to_today() -> None:
    info = table_from_glue(PROJECTED)
    (pred,) = partition_predicates(info, FilterState((Chip.time(datetime(2024, 5, 1), None),)))
    assert pred.startswith("\"timestamp\" BETWEEN '2024/05/01' AND '")
    with pytest.raises(NeedsTimeRange):
        partition_predicates(info, FilterState((Chip.time(None, datetime(2024, 5, 1)),)))


def test_both_backends_share_the_page_layout() -> None:
    from trailtui.data.backend import PAGE_COLUMNS

    assert views.DISPLAY_COLUMNS == PAGE_COLUMNS


def test_duckdb_backend_keeps_a_few_views(tmp_path: Path) -> None:
    from trailtui.data import duckdb_backend

    def view_tables(store: EventStore) -> int:
        cur = store.cursor()
        try:
            sql = "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'view_%'"
            return int(cur.execute(sql).fetchall()[0][0])
        finally:
            cur.close()

    with events_store(RECORDS, tmp_path) as store:
        backend = DuckDBBackend(DataService(store))
        for sort in views.DISPLAY_COLUMNS:
            assert backend.page(FilterState(), 0, 3, sort) != []
        assert view_tables(store) == duckdb_backend.KEPT_VIEWS
        backend.close()
        assert view_tables(store) == 0


def test_field_chips_prune_region_and_account_partitions() -> None:
    """A chip from `=` on a cell or a frequency list prunes partitions like a facet pick."""
    info = table_from_glue(YMD)
    state = FilterState((
        JUNE,
        FieldChip.equals("recipientAccountId", "111122223333"),
        FieldChip.equals("awsRegion", "eu-west-1", "us-east-1"),
    ))
    preds = partition_predicates(info, state)
    assert "\"region\" IN ('eu-west-1', 'us-east-1')" in preds
    assert "\"account\" = '111122223333'" in preds
    # Chips intersect: a facet pick inside the field chip's values narrows it to that one.
    narrowed = state.add(Chip.include("awsRegion", "us-east-1"))
    assert "\"region\" = 'us-east-1'" in partition_predicates(info, narrowed)
    # A chip that also keeps events without a region cannot prune; excluding does not pin.
    loose = FilterState((JUNE, Chip.include("account_id", "111122223333"),
                         FieldChip.equals("awsRegion", "eu-west-1", None),
                         FieldChip.not_equals("awsRegion", "us-east-1")))
    assert not [p for p in partition_predicates(info, loose) if '"region"' in p]
