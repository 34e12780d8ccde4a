"""The Athena API flow with botocore's Stubber (no AWS): states, results, stop, throttling,
errors, Glue table shapes, cache and cost; and the Trino engine over a fake DB-API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import botocore.exceptions
import pytest
from _athena import PROJECTED, YMD
from botocore.stub import Stubber

from trailtui.data.athena import AthenaEngine
from trailtui.data.backend import (
    BackendError,
    QueryCancelled,
    QueryStatus,
    format_bytes,
    query_cost,
)
from trailtui.data.filters import Chip, FilterState
from trailtui.data.remote import RemoteBackend
from trailtui.data.trino_engine import TrinoEngine, parse_url

QID = "11111111-2222-3333-4444-555555555555"
RANGE = Chip.time(datetime(2024, 5, 1), datetime(2024, 5, 8))


def _client(service: str) -> Any:
    return boto3.client(
        service,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stubs() -> Iterator[tuple[AthenaEngine, Stubber, Stubber]]:
    athena, glue = _client("athena"), _client("glue")
    engine = AthenaEngine(
        athena, glue, workgroup="wg", output_location="s3://out/", poll_interval=0, backoff=0
    )
    with Stubber(athena) as sa, Stubber(glue) as sg:
        yield engine, sa, sg
        sa.assert_no_pending_responses()
        sg.assert_no_pending_responses()


def _execution(state: str, scanned: int = 0, reason: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"State": state}
    if reason:
        status["StateChangeReason"] = reason
        status["AthenaError"] = {"ErrorCategory": 2, "ErrorMessage": reason}
    return {
        "QueryExecution": {
            "QueryExecutionId": QID,
            "StatementType": "DML",
            "Status": status,
            "Statistics": {"DataScannedInBytes": scanned, "TotalExecutionTimeInMillis": 1500},
        }
    }


def _results(
    rows: list[list[str | None]],
    token: str | None = None,
    columns: tuple[str, ...] = ("eventname", "n"),
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ResultSet": {
            "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in rows],
            "ResultSetMetadata": {"ColumnInfo": [{"Name": c, "Type": "varchar"} for c in columns]},
        }
    }
    if token:
        out["NextToken"] = token
    return out


def _start(sa: Stubber, sql: str) -> None:
    sa.add_response(
        "start_query_execution",
        {"QueryExecutionId": QID},
        {
            "QueryString": sql,
            "QueryExecutionContext": {"Catalog": "AwsDataCatalog"},
            "WorkGroup": "wg",
            "ResultConfiguration": {"OutputLocation": "s3://out/"},
        },
    )


SQL = "SELECT eventname, count(*) AS n FROM t GROUP BY 1"


def test_queued_running_succeeded_with_paged_results(
    stubs: tuple[AthenaEngine, Stubber, Stubber],
) -> None:
    engine, sa, _ = stubs
    _start(sa, SQL)
    for state in ("QUEUED", "RUNNING", "RUNNING"):
        sa.add_response(
            "get_query_execution", _execution(state, 1 << 20), {"QueryExecutionId": QID}
        )
    sa.add_response(
        "get_query_execution", _execution("SUCCEEDED", 3 << 30), {"QueryExecutionId": QID}
    )
    sa.add_response(
        "get_query_results",
        _results([["eventname", "n"], ["GetObject", "7"], [None, "2"]], token="t2"),
        {"QueryExecutionId": QID, "MaxResults": 1000},
    )
    sa.add_response(
        "get_query_results",
        _results([["PutObject", "1"]]),
        {"QueryExecutionId": QID, "MaxResults": 1000, "NextToken": "t2"},
    )
    seen: list[QueryStatus] = []
    rs = engine.run(SQL, seen.append)
    assert [s.state for s in seen] == ["queued", "running", "running", "succeeded"]
    assert rs.columns == ["eventname", "n"]
    assert rs.rows == [("GetObject", "7"), (None, "2")]  # the header row is not data
    assert not rs.complete
    rs.fetch_all()
    assert rs.rows[-1] == ("PutObject", "1") and rs.complete
    done = seen[-1]
    assert done.scanned_bytes == 3 << 30
    assert done.cost_usd == pytest.approx(3 / 1024 * 5)
    assert "3.0 GB scanned" in done.describe()


def test_failed_query_says_why(stubs: tuple[AthenaEngine, Stubber, Stubber]) -> None:
    engine, sa, _ = stubs
    _start(sa, SQL)
    reason = "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.default.t' does not exist"
    sa.add_response(
        "get_query_execution", _execution("FAILED", 0, reason), {"QueryExecutionId": QID}
    )
    with pytest.raises(BackendError, match="Athena query failed: TABLE_NOT_FOUND"):
        engine.run(SQL)


def test_cancelled_in_athena(stubs: tuple[AthenaEngine, Stubber, Stubber]) -> None:
    engine, sa, _ = stubs
    _start(sa, SQL)
    sa.add_response(
        "get_query_execution",
        _execution("CANCELLED", 10, "Query cancelled by user"),
        {"QueryExecutionId": QID},
    )
    with pytest.raises(QueryCancelled, match="cancelled by user"):
        engine.run(SQL)


def test_escape_stops_the_query(stubs: tuple[AthenaEngine, Stubber, Stubber]) -> None:
    """cancel() from another thread (here: the status callback) calls StopQueryExecution."""
    engine, sa, _ = stubs
    _start(sa, SQL)
    sa.add_response(
        "get_query_execution", _execution("RUNNING", 5 << 20), {"QueryExecutionId": QID}
    )
    sa.add_response("stop_query_execution", {}, {"QueryExecutionId": QID})
    states: list[str] = []

    def on_status(status: QueryStatus) -> None:
        states.append(status.state)
        if status.state == "running":
            engine.cancel()

    with pytest.raises(QueryCancelled, match="StopQueryExecution"):
        engine.run(SQL, on_status)
    assert states == ["running", "cancelled"]
    assert engine.running == ()


def test_throttling_is_retried(stubs: tuple[AthenaEngine, Stubber, Stubber]) -> None:
    engine, sa, _ = stubs
    sa.add_client_error("start_query_execution", "TooManyRequestsException", "Rate exceeded")
    sa.add_client_error("start_query_execution", "ThrottlingException", "Rate exceeded")
    _start(sa, SQL)
    sa.add_response("get_query_execution", _execution("SUCCEEDED", 100), {"QueryExecutionId": QID})
    sa.add_response(
        "get_query_results",
        _results([["eventname", "n"]]),
        {"QueryExecutionId": QID, "MaxResults": 1000},
    )
    assert engine.run(SQL).rows == []


def test_throttling_gives_up_with_a_message(stubs: tuple[AthenaEngine, Stubber, Stubber]) -> None:
    engine, sa, _ = stubs
    engine.retries = 1
    for _ in range(2):
        sa.add_client_error("start_query_execution", "TooManyRequestsException", "Rate exceeded")
    with pytest.raises(BackendError, match="throttling"):
        engine.run(SQL)


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            "AccessDeniedException",
            "not authorized to perform athena:StartQueryExecution",
            "access denied",
        ),
        ("InvalidRequestException", "WorkGroup wg is not found", "workgroup 'wg' not found"),
        (
            "InvalidRequestException",
            "No output location provided. An output location is "
            "required either through the Workgroup result configuration setting or as an API "
            "input.",
            "--output-location",
        ),
    ],
)
def test_clear_messages(
    stubs: tuple[AthenaEngine, Stubber, Stubber], code: str, message: str, expected: str
) -> None:
    engine, sa, _ = stubs
    sa.add_client_error("start_query_execution", code, message)
    with pytest.raises(BackendError, match=expected):
        engine.run(SQL)


def test_no_credentials_message() -> None:
    class NoCreds:
        def start_query_execution(self, **_: Any) -> Any:
            raise botocore.exceptions.NoCredentialsError()

    engine = AthenaEngine(NoCreds(), None)
    with pytest.raises(BackendError, match="no AWS credentials"):
        engine.run(SQL)


def test_glue_table_shapes(stubs: tuple[AthenaEngine, Stubber, Stubber]) -> None:
    engine, _, sg = stubs
    sg.add_response(
        "get_table",
        {"Table": PROJECTED},
        {"DatabaseName": "security", "Name": "cloudtrail_logs_pp"},
    )
    sg.add_response(
        "get_table",
        {
            "Table": {
                **YMD,
                "StorageDescriptor": {"Columns": [{"Name": "eventtime", "Type": "string"}]},
            }
        },
        {"DatabaseName": "security", "Name": "cloudtrail_logs"},
    )
    sg.add_client_error("get_table", "EntityNotFoundException", "Table nope not found.")
    pp = engine.describe_table("security", "cloudtrail_logs_pp")
    assert pp.partitions.kind == "timestamp"
    ymd = engine.describe_table("security", "cloudtrail_logs")
    assert ymd.partitions.kind == "ymd" and ymd.partitions.region_key == "region"
    with pytest.raises(BackendError, match="not found in the Glue catalog"):
        engine.describe_table("security", "nope")


def test_not_a_cloudtrail_table(stubs: tuple[AthenaEngine, Stubber, Stubber]) -> None:
    engine, _, sg = stubs
    table = {
        "Name": "t",
        "DatabaseName": "d",
        "StorageDescriptor": {"Columns": [{"Name": "x", "Type": "string"}]},
    }
    sg.add_response("get_table", {"Table": table}, {"DatabaseName": "d", "Name": "t"})
    with pytest.raises(BackendError, match="does not look like a CloudTrail table"):
        engine.describe_table("d", "t")


def test_backend_caches_and_totals_the_session(
    stubs: tuple[AthenaEngine, Stubber, Stubber],
) -> None:
    """Going back to a filter costs nothing: the second count is answered from the cache
    (a second API call would find no stubbed response and fail)."""
    engine, sa, sg = stubs
    sg.add_response(
        "get_table",
        {"Table": PROJECTED},
        {"DatabaseName": "security", "Name": "cloudtrail_logs_pp"},
    )
    info = engine.describe_table("security", "cloudtrail_logs_pp")
    seen: list[QueryStatus] = []
    backend = RemoteBackend(engine, info, seen.append)
    state = FilterState((RANGE, Chip.include("eventName", "ConsoleLogin")))
    sql = backend.sql.count_sql(state)
    _start(sa, sql)
    sa.add_response("get_query_execution", _execution("SUCCEEDED", 1000), {"QueryExecutionId": QID})
    sa.add_response(
        "get_query_results",
        _results([["n"], ["42"]], columns=("n",)),
        {"QueryExecutionId": QID, "MaxResults": 1000},
    )
    assert backend.count(state) == 42
    assert backend.count(state) == 42
    assert [s.state for s in seen] == ["succeeded", "cached"]
    assert backend.session.queries == 1
    # 1000 bytes scanned is billed as the 10 MB minimum.
    assert backend.session.cost_usd == pytest.approx(query_cost(10 * 1024 * 1024))
    assert "session: 1 query" in backend.session.describe()
    assert backend.capabilities.costs_money and backend.capabilities.needs_time_range


def test_console_asks_before_a_full_scan(stubs: tuple[AthenaEngine, Stubber, Stubber]) -> None:
    engine, sa, sg = stubs
    sg.add_response(
        "get_table",
        {"Table": PROJECTED},
        {"DatabaseName": "security", "Name": "cloudtrail_logs_pp"},
    )
    backend = RemoteBackend(engine, engine.describe_table("security", "cloudtrail_logs_pp"))
    sql = "SELECT eventname FROM security.cloudtrail_logs_pp LIMIT 10"
    asked = backend.console(sql)  # no stubbed call: nothing is sent
    assert asked.warnings and "no condition on timestamp" in asked.warnings[0]
    assert asked.rows == ()
    _start(sa, sql)
    sa.add_response(
        "get_query_execution", _execution("SUCCEEDED", 1 << 40), {"QueryExecutionId": QID}
    )
    sa.add_response(
        "get_query_results",
        _results([["eventname"], ["ConsoleLogin"]], columns=("eventname",)),
        {"QueryExecutionId": QID, "MaxResults": 1000},
    )
    ran = backend.console(sql, confirmed=True)
    assert list(ran.rows) == [("ConsoleLogin",)]
    assert ran.status.cost_usd == pytest.approx(5.0)


def test_cost_model() -> None:
    assert query_cost(0) == 0
    assert query_cost(1) == query_cost(10 * 1024 * 1024)  # the 10 MB minimum
    assert query_cost(1024**4) == pytest.approx(5.0)
    assert format_bytes(1536) == "1.5 KB"


# -- Trino over a fake DB-API connection ---------------------------------------------------------


class FakeCursor:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn
        self.rows: list[tuple[object, ...]] = []
        self.description: list[tuple[str]] = []
        self.stats = {"processedBytes": 2048}
        self.query_id = "tq1"
        self.cancelled = False

    def execute(self, sql: str) -> None:
        self.conn.sql.append(sql)
        if self.conn.error is not None:
            raise self.conn.error
        cols, rows = self.conn.answers.pop(0)
        self.description = [(c,) for c in cols]
        self.rows = list(rows)

    def fetchmany(self, n: int) -> list[tuple[object, ...]]:
        out, self.rows = self.rows[:n], self.rows[n:]
        return out

    def cancel(self) -> None:
        self.cancelled = True


class FakeConnection:
    def __init__(self, answers: list[tuple[list[str], list[tuple[object, ...]]]]) -> None:
        self.answers = answers
        self.sql: list[str] = []
        self.error: Exception | None = None

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)


class TrinoUserError(Exception):
    def __init__(self, error_name: str, message: str) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.message = message


def test_trino_table_and_query() -> None:
    columns: list[tuple[object, ...]] = [
        ("eventtime", "varchar", ""),
        ("useridentity", "row(type varchar)", ""),
        ("region", "varchar", "partition key"),
        ("year", "varchar", "partition key"),
        ("month", "varchar", "partition key"),
        ("day", "varchar", "partition key"),
    ]
    conn = FakeConnection([(["column_name", "data_type", "extra_info"], columns), (["n"], [(12,)])])
    engine = TrinoEngine(conn, "hive")
    info = engine.describe_table("logs", "cloudtrail")
    assert info.qualified == "hive.logs.cloudtrail"
    assert info.partitions.kind == "ymd" and info.partitions.region_key == "region"
    assert "WHERE table_schema = 'logs' AND table_name = 'cloudtrail'" in conn.sql[0]
    backend = RemoteBackend(engine, info)
    assert not backend.capabilities.costs_money
    assert backend.count(FilterState((RANGE,))) == 12
    assert conn.sql[1].startswith("SELECT count(*) AS n\nFROM hive.logs.cloudtrail")


def test_trino_errors() -> None:
    conn = FakeConnection([])
    engine = TrinoEngine(conn, "hive")
    conn.error = TrinoUserError("TABLE_NOT_FOUND", "line 1:15: Table 'hive.x.y' does not exist")
    with pytest.raises(BackendError, match="not found"):
        engine.run("SELECT 1 FROM x.y")
    conn.error = TrinoUserError("USER_CANCELED", "Query was canceled")
    with pytest.raises(QueryCancelled):
        engine.run("SELECT 1")


def test_trino_urls() -> None:
    t = parse_url("https://alice@trino.example.com/hive/logs.cloudtrail")
    assert (t.host, t.port, t.user, t.catalog, t.schema, t.table) == (
        "trino.example.com",
        443,
        "alice",
        "hive",
        "logs",
        "cloudtrail",
    )
    assert parse_url("http://localhost:8080/hive/logs.ct").port == 8080
    for bad in ("ftp://h/c/s.t", "http://h/c/s", "http://h/c/s.t;drop", "http:///c/s.t"):
        with pytest.raises(BackendError):
            parse_url(bad)


def test_escape_while_the_query_is_being_started() -> None:
    """StartQueryExecution was on its way when escape came: the new query is stopped at once
    (no GetQueryExecution: nothing is followed, nothing left running and billed)."""
    calls: list[str] = []

    class Athena:
        def start_query_execution(self, **_: Any) -> dict[str, str]:
            calls.append("start")
            engine.cancel()  # the user's escape, from another thread in real life
            return {"QueryExecutionId": QID}

        def stop_query_execution(self, **kwargs: Any) -> dict[str, str]:
            calls.append(f"stop {kwargs['QueryExecutionId']}")
            return {}

    engine = AthenaEngine(Athena(), None, poll_interval=0)
    with pytest.raises(QueryCancelled):
        engine.run(SQL)
    assert calls == ["start", f"stop {QID}"]


def test_trino_connect_builds_a_client_without_calling(monkeypatch: pytest.MonkeyPatch) -> None:
    from trailtui.data import trino_engine

    engine, target = trino_engine.connect("http://bob@localhost:8080/hive/logs.cloudtrail")
    assert engine.catalog == "hive" and target.user == "bob"
    monkeypatch.setenv("TRINO_PASSWORD", "secret")
    with pytest.raises(BackendError, match="only sent over https"):
        trino_engine.connect("http://bob@localhost:8080/hive/logs.cloudtrail")
    engine, _ = trino_engine.connect("https://bob@trino.example.com/hive/logs.cloudtrail")
    assert engine.connection.auth is not None
