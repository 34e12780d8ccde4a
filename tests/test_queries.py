"""The query library answers what the sample files say, binds every value, and console results
are complete, ordered, pageable tables.

Each library query runs on ../shared/samples (the S3 trail tree and the console-json downloads)
and is checked against counts computed here in plain Python from the same files. The Panther
fixtures are left out: they are hand-edited copies that differ only in non-CloudTrail enrichment
keys, which trailtui (rightly) treats as the same event, so plain-JSON dedup would disagree.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import SAMPLES

from trailtui.data import queries
from trailtui.data.queries import (
    BUILTIN_QUERIES,
    LibraryQuery,
    Param,
    ParamError,
    QueryResult,
    ResultSource,
    get_query,
    like_pattern,
    load_user_queries,
    parse_time,
    run_query,
)
from trailtui.data.results import execute
from trailtui.data.store import EventStore

needs_samples = pytest.mark.samples

Record = dict[str, Any]


def sample_paths() -> list[Path]:
    console = sorted(
        p for p in (SAMPLES / "console-json").glob("*.json") if not p.name.startswith("panther")
    )
    return [SAMPLES / "s3-trail", *console]


def sample_records() -> list[Record]:
    """Every record of the sample files, each distinct record once (as the store keeps them)."""
    records: list[Record] = []
    for path in sorted((SAMPLES / "s3-trail").rglob("*.json.gz")):
        records += json.loads(gzip.decompress(path.read_bytes())).get("Records", [])
    for path in sample_paths()[1:]:
        records += json.loads(path.read_text(encoding="utf-8"))["Records"]
    distinct: dict[str, Record] = {}
    for record in records:
        distinct.setdefault(json.dumps(record, sort_keys=True), record)
    return list(distinct.values())


@pytest.fixture(scope="module")
def store(samples: Path) -> Iterator[EventStore]:
    s = EventStore(cache=False)
    report = s.load([str(p) for p in sample_paths()])
    assert not report.errors, report.errors
    yield s
    s.close()


@pytest.fixture(scope="module")
def records(samples: Path) -> list[Record]:
    return sample_records()


@pytest.fixture()
def cur(store: EventStore) -> Iterator[duckdb.DuckDBPyConnection]:
    c = store.cursor()
    yield c
    c.close()


# -- Python reference semantics ------------------------------------------------------------------


def ui(r: Record) -> Record:
    value = r.get("userIdentity")
    return value if isinstance(value, dict) else {}


def insight(r: Record, key: str) -> Any:
    details = r.get("insightDetails")
    return details.get(key) if isinstance(details, dict) else None


def event_name(r: Record) -> Any:
    return r["eventName"] if r.get("eventName") is not None else insight(r, "eventName")


def event_source(r: Record) -> Any:
    return r["eventSource"] if r.get("eventSource") is not None else insight(r, "eventSource")


def read_only(r: Record) -> bool | None:
    value = r.get("readOnly")
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"true": True, "1": True, "false": False, "0": False}.get(value.strip().lower())
    return None


def user_or_role(r: Record) -> Any:
    identity = ui(r)
    kind = identity.get("type")
    if kind == "AssumedRole":
        return ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("userName")
    if kind == "Root":
        return "root"
    return identity.get("userName") or identity.get("invokedBy")


def error_code(r: Record) -> Any:
    return r.get("errorCode") or None


def rows(cur: duckdb.DuckDBPyConnection, result: QueryResult) -> list[tuple[Any, ...]]:
    source = ResultSource(result, cur)
    return [tuple(row) for row in source.fetch(0, result.row_count)]


def run_library(
    cur: duckdb.DuckDBPyConnection, store: EventStore, query_id: str, **values: str
) -> tuple[QueryResult, list[tuple[Any, ...]]]:
    query = get_query(query_id)
    result = run_query(cur, query.sql, query.bind(values), store)
    return result, rows(cur, result)


def event_ids(result_rows: list[tuple[Any, ...]], result: QueryResult) -> Counter[Any]:
    assert result.event_id_column is not None
    index = result.columns.index(result.event_id_column)
    return Counter(row[index] for row in result_rows)


# -- the DuckDB article's counts ------------------------------------------------------------------

COUNTS: dict[str, Callable[[Record], Any]] = {
    "duckdb.by_identity": user_or_role,
    "duckdb.by_event_name": event_name,
    "duckdb.by_event_source": event_source,
    "duckdb.by_read_only": read_only,
    "duckdb.by_source_ip": lambda r: r.get("sourceIPAddress"),
    "duckdb.by_region": lambda r: r.get("awsRegion"),
}


@needs_samples
@pytest.mark.parametrize("query_id", sorted(COUNTS))
def test_count_queries_match_the_files(
    cur: duckdb.DuckDBPyConnection, store: EventStore, records: list[Record], query_id: str
) -> None:
    result, got = run_library(cur, store, query_id)
    expected = Counter(COUNTS[query_id](r) for r in records)
    assert result.value_count and not result.event_shaped
    assert dict(got) == dict(expected)
    assert result.row_count == len(expected)
    counts = [n for _value, n in got]
    assert counts == sorted(counts, reverse=True)


@needs_samples
def test_errors_by_code(
    cur: duckdb.DuckDBPyConnection, store: EventStore, records: list[Record]
) -> None:
    _result, got = run_library(cur, store, "duckdb.by_error_code")
    expected = Counter(error_code(r) for r in records if error_code(r))
    assert dict(got) == dict(expected)
    assert None not in dict(got)


@needs_samples
def test_write_events(
    cur: duckdb.DuckDBPyConnection, store: EventStore, records: list[Record]
) -> None:
    result, got = run_library(cur, store, "duckdb.write_events")
    expected = Counter(r.get("eventID") for r in records if read_only(r) is False)
    assert result.event_shaped
    assert event_ids(got, result) == expected
    assert result.row_count == sum(expected.values()) > 0


@needs_samples
def test_time_range_is_bound_and_inclusive(
    cur: duckdb.DuckDBPyConnection, store: EventStore, records: list[Record]
) -> None:
    _result, got = run_library(
        cur, store, "duckdb.by_event_name", start="2014-09-26T12:00:00Z", end="2014-09-26"
    )
    in_range = [
        r
        for r in records
        if str(r.get("eventTime", "")).startswith("2014-09-26T")
        and r["eventTime"] >= "2014-09-26T12:00:00Z"
    ]
    assert in_range
    assert dict(got) == dict(Counter(event_name(r) for r in in_range))


# -- the Athena guide's investigations -----------------------------------------------------------


def athena_expected(records: list[Record], keep: Any) -> Counter[Any]:
    return Counter(r.get("eventID") for r in records if keep(r))


ATHENA: dict[str, Callable[[Record], bool]] = {
    "athena.console_logins": lambda r: event_name(r) == "ConsoleLogin",
    "athena.iam_changes": lambda r: (
        event_source(r) == "iam.amazonaws.com"
        and not str(event_name(r)).startswith(queries.READ_ONLY_PREFIXES)
    ),
    "athena.security_group_changes": lambda r: event_name(r) in queries.SECURITY_GROUP_EVENTS,
    "athena.root_activity": lambda r: (
        ui(r).get("type") == "Root"
        and ui(r).get("invokedBy") is None
        and r.get("eventType") != "AwsServiceEvent"
    ),
    "athena.failed_calls": lambda r: bool(error_code(r)),
}


@needs_samples
@pytest.mark.parametrize("query_id", sorted(ATHENA))
def test_athena_investigations_match_the_files(
    cur: duckdb.DuckDBPyConnection, store: EventStore, records: list[Record], query_id: str
) -> None:
    result, got = run_library(cur, store, query_id)
    expected = athena_expected(records, ATHENA[query_id])
    assert sum(expected.values()) > 0, "the samples should exercise every investigation"
    assert result.event_shaped
    assert event_ids(got, result) == expected


@needs_samples
def test_console_logins_show_outcome_and_mfa(
    cur: duckdb.DuckDBPyConnection, store: EventStore, records: list[Record]
) -> None:
    result, got = run_library(cur, store, "athena.console_logins")
    outcome = result.columns.index("result")
    expected = Counter(
        (r.get("responseElements") or {}).get("ConsoleLogin")
        for r in records
        if event_name(r) == "ConsoleLogin"
    )
    assert Counter(row[outcome] for row in got) == expected
    assert {"Success", "Failure"} <= set(expected)


@needs_samples
def test_one_source_ip(
    cur: duckdb.DuckDBPyConnection, store: EventStore, records: list[Record]
) -> None:
    ip, _n = Counter(str(r.get("sourceIPAddress")) for r in records).most_common(1)[0]
    result, got = run_library(cur, store, "athena.source_ip", ip=ip)
    assert event_ids(got, result) == athena_expected(
        records, lambda r: r.get("sourceIPAddress") == ip
    )


@needs_samples
@pytest.mark.parametrize("pattern", ["user/gmolto", "*:root", "arn:aws:iam::*:role/*"])
def test_one_user_or_role_by_arn_pattern(
    cur: duckdb.DuckDBPyConnection, store: EventStore, records: list[Record], pattern: str
) -> None:
    import fnmatch

    glob = pattern if "*" in pattern else f"*{pattern}*"

    def keep(r: Record) -> bool:
        issuer = ((ui(r).get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
        return any(
            isinstance(a, str) and fnmatch.fnmatchcase(a, glob) for a in (ui(r).get("arn"), issuer)
        )

    result, got = run_library(cur, store, "athena.principal", arn=pattern)
    expected = athena_expected(records, keep)
    assert sum(expected.values()) > 0
    assert event_ids(got, result) == expected


# -- CloudTrail Lake -------------------------------------------------------------------------------


@needs_samples
def test_who_used_one_bucket(
    cur: duckdb.DuckDBPyConnection, store: EventStore, records: list[Record]
) -> None:
    def bucket_of(r: Record) -> Any:
        params = r.get("requestParameters")
        return params.get("bucketName") if isinstance(params, dict) else None

    buckets = Counter(bucket_of(r) for r in records if event_source(r) == "s3.amazonaws.com")
    bucket = next(b for b, _n in buckets.most_common() if b)
    expected = Counter(
        (ui(r).get("arn"), event_name(r))
        for r in records
        if event_source(r) == "s3.amazonaws.com" and bucket_of(r) == bucket
    )
    assert expected
    result, got = run_library(cur, store, "lake.s3_bucket_users", bucket=bucket)
    assert result.columns[:3] == ("arn", "eventName", "events")
    assert {(arn, name): n for arn, name, n, *_ in got} == dict(expected)


# -- parameters are bound, never pasted ----------------------------------------------------------


@needs_samples
@pytest.mark.parametrize(
    ("query_id", "field"),
    [
        ("athena.source_ip", "ip"),
        ("lake.s3_bucket_users", "bucket"),
        ("athena.principal", "arn"),
    ],
)
def test_hostile_values_are_literal(
    cur: duckdb.DuckDBPyConnection, store: EventStore, query_id: str, field: str
) -> None:
    before = store.event_count()
    for value in ["1.2.3.4' OR '1'='1", "x'; DROP TABLE events; --", "%", "100%_'\"\\"]:
        _result, got = run_library(cur, store, query_id, **{field: value})
        assert got == [], value
    assert store.event_count() == before


def test_every_library_query_runs_on_every_input_shape() -> None:
    """Without the sample sets too: each query binds and runs on trailtui's own fixtures."""
    data = Path(__file__).resolve().parent / "data"
    own = EventStore(cache=False)
    try:
        own.load(
            [
                str(p)
                for p in sorted(data.iterdir())
                if p.suffix in {".json", ".ndjson", ".jsonl", ".csv"}
            ]
        )
        assert own.event_count() > 10
        cur = own.cursor()
        values = {"ip": "192.0.2.1", "arn": "*", "bucket": "b", "start": "2000-01-01"}
        for query in BUILTIN_QUERIES:
            result = run_query(cur, query.sql, query.bind(values), own)
            assert result.has_rows, query.id
    finally:
        own.close()


def test_every_library_query_uses_placeholders_only_for_its_params() -> None:
    for query in BUILTIN_QUERIES:
        declared = {p.name for p in query.params}
        assert queries.placeholders(query.sql) == declared, query.id
        assert query.id == get_query(query.id).id
    ids = [q.id for q in BUILTIN_QUERIES]
    assert len(ids) == len(set(ids))
    groups = {q.group for q in BUILTIN_QUERIES}
    assert groups == {queries.GROUP_DUCKDB, queries.GROUP_ATHENA, queries.GROUP_LAKE}


def test_like_pattern_keeps_user_wildcards_literal() -> None:
    assert like_pattern("user/bob") == "%user/bob%"
    assert like_pattern("*:role/Admin*") == "%:role/Admin%"
    assert like_pattern("100%_x") == "%100\\%\\_x%"
    assert like_pattern("a\\b*") == "a\\\\b%"
    con = duckdb.connect()
    assert con.execute(
        "SELECT 'abc100%_x' LIKE ? ESCAPE '\\'", [like_pattern("100%_x")]
    ).fetchall() == [(True,)]
    assert con.execute(
        "SELECT 'abc1000_x' LIKE ? ESCAPE '\\'", [like_pattern("100%_x")]
    ).fetchall() == [(False,)]


def test_param_binding_checks_values() -> None:
    start = Param("start", "From", "timestamp", required=False)
    end = Param("end", "Until", "timestamp", required=False, end_of_day=True)
    assert start.bind("") is None
    assert start.bind("2024-05-01") == "2024-05-01 00:00:00"
    assert end.bind("2024-05-01") == "2024-05-01 23:59:59.999999"
    assert start.bind("2024-05-01T13:00:00Z") == "2024-05-01 13:00:00"
    assert start.bind("2024-05-01T15:00:00+02:00") == "2024-05-01 13:00:00"
    assert parse_time("2024-05-01 13:00") == "2024-05-01 13:00:00"
    with pytest.raises(ParamError, match="From: not a time"):
        start.bind("yesterday")
    ip = Param("ip", "Source IP", "ip")
    with pytest.raises(ParamError, match="Source IP: a value is required"):
        ip.bind("  ")
    assert ip.bind(" 10.0.0.1 ") == "10.0.0.1"
    query = get_query("athena.source_ip")
    assert query.bind({"ip": "10.0.0.1"}) == {"ip": "10.0.0.1", "start": None, "end": None}
    assert query.editor_text.startswith("-- Activity from one source IP\nSELECT")


# -- the user's own .sql files --------------------------------------------------------------------


def test_user_sql_files_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cfg" / "queries"
    folder.mkdir(parents=True)
    (folder / "b_deletes_by_user.sql").write_text(
        "SELECT actor, count(*) FROM events WHERE eventName LIKE 'Delete%' GROUP BY 1\n"
    )
    (folder / "a.sql").write_text(
        "-- title: Calls from one address [bold]\n"
        "-- description: what $ip did\n"
        "-- param: ip ip Address to look for\n"
        "SELECT * FROM events WHERE sourceIPAddress = $ip AND eventTime >= $since\n"
        "  AND userIdentity.arn LIKE $role_arn AND '$notaparam' <> ''\n"
    )
    (folder / "broken.sql").write_bytes(b"SELECT '\xff\xfe'")
    (folder / "notes.txt").write_text("SELECT 1")
    (folder / "empty.sql").write_text("  \n")
    monkeypatch.setenv("TRAILTUI_CONFIG_DIR", str(tmp_path / "cfg"))
    all_queries, warnings = queries.library()
    user = [q for q in all_queries if q.group == queries.GROUP_USER]
    assert [q.id for q in user] == ["user:a.sql", "user:b_deletes_by_user.sql"]
    first, second = user
    assert first.title == "Calls from one address [bold]"
    assert first.description == "what $ip did"
    kinds = {p.name: (p.kind, p.label, p.required) for p in first.params}
    assert kinds == {
        "ip": ("ip", "Address to look for", True),
        "since": ("timestamp", "since", False),
        "role_arn": ("arn_pattern", "role arn", True),
    }
    assert second.title == "b deletes by user"
    assert second.params == ()
    assert len(warnings) == 1 and "broken.sql" in warnings[0] and "UTF-8" in warnings[0]
    assert all_queries[: len(BUILTIN_QUERIES)] == list(BUILTIN_QUERIES)


def test_config_folder_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAILTUI_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert queries.user_queries_dir() == tmp_path / "xdg" / "trailtui" / "queries"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert queries.user_queries_dir() == tmp_path / "home" / ".config" / "trailtui" / "queries"
    assert load_user_queries(tmp_path / "missing") == ([], [])


# -- running any SQL -------------------------------------------------------------------------------


@pytest.fixture()
def mem() -> Iterator[duckdb.DuckDBPyConnection]:
    """A bare DuckDB with the store's layout (`m` database) for run_query without samples."""
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS m")
    con.execute("USE m")
    yield con
    con.close()


def test_every_row_is_reachable_in_order(mem: duckdb.DuckDBPyConnection) -> None:
    result = run_query(
        mem, "SELECT range AS n, 'x' || range AS s FROM range(300000) ORDER BY n DESC"
    )
    assert result.row_count == 300_000
    assert result.columns == ("n", "s") and result.types == ("BIGINT", "VARCHAR")
    source = ResultSource(result, mem)
    assert source.fetch(0, 3) == [(299_999, "x299999"), (299_998, "x299998"), (299_997, "x299997")]
    assert source.fetch(299_998, 256) == [(1, "x1"), (0, "x0")]
    assert result.status.startswith("300,000 rows in ")
    assert result.table is not None and result.table.startswith("m.main.sql_result_")


def test_statements_without_rows_say_ok(mem: duckdb.DuckDBPyConnection) -> None:
    result = run_query(mem, "CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2);")
    assert not result.has_rows and result.message == "OK, 2 rows changed"
    assert result.status.startswith("OK, 2 rows changed in ")
    assert run_query(mem, "SET threads = 2").message == "OK"
    assert run_query(mem, "DROP TABLE t").status.startswith("OK in ")


def test_other_result_kinds(mem: duckdb.DuckDBPyConnection) -> None:
    mem.execute("CREATE TABLE t (a INT)")
    explain = run_query(mem, "EXPLAIN SELECT * FROM t")
    assert explain.has_rows and explain.columns == ("explain_key", "explain_value")
    assert run_query(mem, "PRAGMA version").row_count == 1
    assert run_query(mem, "DESCRIBE t").row_count == 1
    returning = run_query(mem, "INSERT INTO t VALUES (7) RETURNING a, a AS b")
    assert rows(mem, returning) == [(7, 7)]
    dup = run_query(mem, "SELECT 1 AS x, 2 AS x -- a trailing comment")
    assert dup.columns == ("x", "x_1") and rows(mem, dup) == [(1, 2)]
    empty = run_query(mem, "SELECT * FROM t WHERE a < 0")
    assert empty.has_rows and empty.row_count == 0 and empty.status.startswith("0 rows")
    several = run_query(mem, "SELECT 1; SELECT 2 AS two")
    assert several.columns == ("two",) and "(last of 2 statements)" in several.status


def test_parameters_named_and_positional(mem: duckdb.DuckDBPyConnection) -> None:
    hostile = 'it\'s 100% "quoted"; DROP TABLE x; --'
    named = run_query(mem, "SELECT $v AS v, length($v) AS n", {"v": hostile, "unused": 1})
    assert rows(mem, named) == [(hostile, len(hostile))]
    positional = run_query(mem, "SELECT ? AS a; SELECT ? AS b, ? AS c", ["one", "two", "three"])
    assert rows(mem, positional) == [("two", "three")]


def test_shape_detection(mem: duckdb.DuckDBPyConnection) -> None:
    counts = run_query(mem, "SELECT 'a' AS eventName, count(*) AS events")
    assert counts.value_count and not counts.event_shaped
    athena = run_query(mem, "SELECT 'id-1' AS eventid, 'x' AS eventname")
    assert athena.event_shaped and athena.event_id_column == "eventid"
    keyed = run_query(mem, "SELECT 3 AS _file_id, 4 AS _line")
    assert keyed.event_shaped and keyed.key_columns == ("_file_id", "_line")
    ratio = run_query(mem, "SELECT 'a' AS k, 0.5 AS share")
    assert not ratio.value_count and not ratio.event_shaped
    assert queries.event_column("eventsource") == "eventSource"
    assert queries.event_column("SOURCEIPADDRESS") == "sourceIPAddress"
    assert queries.event_column("user_or_role") is None


def test_errors_are_duckdb_errors(mem: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.ParserException):
        run_query(mem, "SELEC 1")
    with pytest.raises(duckdb.BinderException, match=r"\[bold\]x\[/\]"):
        run_query(mem, 'SELECT "[bold]x[/]" FROM range(1)')
    with pytest.raises(duckdb.Error, match="nothing to run"):
        run_query(mem, "  -- only a comment\n")


def test_dropped_results(mem: duckdb.DuckDBPyConnection) -> None:
    result = run_query(mem, "SELECT 1 AS a")
    queries.drop_result(mem, result.table)
    assert mem.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'sql_result_%'"
    ).fetchall() == [(0,)]
    queries.drop_result(mem, "events")  # only result tables are ever dropped


@needs_samples
def test_completions_cover_tables_columns_and_struct_fields(
    cur: duckdb.DuckDBPyConnection, store: EventStore
) -> None:
    run_query(cur, "SELECT 1 AS a", None, store)
    names = queries.completions(cur)
    for expected in [
        "events",
        "cloudtrail_events",
        "cloudtrail_logs.cloudtrail_partitioned",
        "eventName",
        "sourceipaddress",
        "userIdentity.arn",
        "userIdentity.sessionContext.sessionIssuer.userName",
        "element_at",
        "SELECT",
        "GROUP",
    ]:
        assert expected in names, expected
    assert not any(n.startswith(("sql_result_", "chunk_sources")) for n in names)


@needs_samples
def test_filtered_view_follows_the_current_view_table(
    cur: duckdb.DuckDBPyConnection, store: EventStore
) -> None:
    queries.define_filtered_view(cur, None)
    total = store.event_count()
    assert cur.execute("SELECT count(*) FROM filtered").fetchall() == [(total,)]
    cur.execute(
        "CREATE OR REPLACE TABLE view_990 AS SELECT eventTime, _file_id, _line "
        "FROM events WHERE eventName = ? ORDER BY eventTime",
        ["ConsoleLogin"],
    )
    queries.define_filtered_view(cur, "view_990")
    result = run_query(cur, "SELECT * FROM filtered", None, store)
    logins = cur.execute("SELECT count(*) FROM events WHERE eventName = 'ConsoleLogin'").fetchall()[
        0
    ][0]
    assert result.row_count == logins > 0
    assert result.key_columns == ("_file_id", "_line") and "_h" not in result.columns
    assert "filtered" in queries.completions(cur)
    with pytest.raises(ValueError):
        queries.define_filtered_view(cur, "view_1; DROP TABLE events")
    queries.define_filtered_view(cur, None)
    cur.execute("DROP TABLE view_990")


@needs_samples
def test_locate_event(cur: duckdb.DuckDBPyConnection) -> None:
    event_id, file_id, line = cur.execute(
        "SELECT eventID, _file_id, _line FROM events WHERE eventID IS NOT NULL LIMIT 1"
    ).fetchall()[0]
    assert (file_id, line) in queries.locate_event(cur, event_id)
    assert queries.locate_event(cur, "no-such-id") == []
    # Panther and documentation records reuse IDs: the row's other columns narrow it down.
    shared, n = cur.execute(
        "SELECT eventID, count(*) FROM events WHERE eventID IS NOT NULL GROUP BY 1 "
        "HAVING count(DISTINCT eventName) > 1 "
        "ORDER BY 2 DESC LIMIT 1"
    ).fetchall()[0]
    assert len(queries.locate_event(cur, shared)) == n > 1
    name = cur.execute(
        "SELECT eventName FROM events WHERE eventID = ? LIMIT 1", [shared]
    ).fetchall()[0][0]
    narrowed = queries.locate_event(cur, shared, {"eventname": name, "other": 1})
    assert 1 <= len(narrowed) < n


# -- cancel ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT sum(hash(range)) FROM range(10000000000)",  # count(*) alone finishes in ~2 s
        "SELECT count(*) FROM range(200000) a, range(200000) b WHERE a.range + b.range = 7",
    ],
)
def test_interrupt_all_cancels_a_long_query(sql: str) -> None:
    store = EventStore(cache=False)
    try:
        cur = store.cursor()
        outcome: list[Any] = []
        worker = threading.Thread(target=lambda: outcome.append(execute(store, cur, sql, None)))
        worker.start()
        time.sleep(0.3)
        assert worker.is_alive(), "the query should still be running"
        store.interrupt_all()
        worker.join(timeout=30)
        assert not worker.is_alive()
        assert outcome[0].kind == "cancelled"
        # The cursor is usable again, and nothing half-made was left behind.
        assert execute(store, cur, "SELECT 42 AS answer", None).kind == "ok"
        assert cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'sql_result_%'"
        ).fetchall() == [(1,)]
    finally:
        store.close()


def test_cancel_flag_between_statements() -> None:
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS m")
    con.execute("USE m")
    flag = threading.Event()
    flag.set()
    with pytest.raises(duckdb.InterruptException):
        run_query(con, "SELECT 1; SELECT 2", cancel=flag)


def test_library_queries_are_frozen_data() -> None:
    query = BUILTIN_QUERIES[0]
    assert isinstance(query, LibraryQuery)
    with pytest.raises(AttributeError):
        query.sql = "DROP TABLE events"  # type: ignore[misc]


def test_console_data_modules_leave_textual_out() -> None:
    import subprocess
    import sys

    code = (
        "import sys, trailtui.data.queries, trailtui.data.history, trailtui.data.export; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    repo = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
