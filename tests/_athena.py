"""An Athena stand-in for tests: the Trino statements, transpiled to DuckDB by sqlglot, run over
the store's own Athena-shaped table `cloudtrail_logs.cloudtrail_partitioned`.

Every statement is first parsed as Trino (a parse failure fails the test), so the SQL the
remote backend sends is checked twice: Trino must accept its syntax, and over the same events
it must answer what the DuckDB backend answers.
"""

from __future__ import annotations

import threading
from typing import Any

import sqlglot
from sqlglot import exp

from trailtui.data.athena import Engine, ResultSet
from trailtui.data.backend import QueryStatus, StatusListener
from trailtui.data.store import EventStore
from trailtui.data.trino_sql import Partitions, TableInfo

# The local view's columns as Athena's DDL types them (resources and tlsdetails are JSON in
# DuckDB, an array and a struct in Athena: both go through json_format(CAST(.. AS JSON))).
_TYPES = {"STRUCT": "struct<>", "JSON": "string"}
_ATHENA_TYPES = {
    "resources": "array<struct<arn:string,accountid:string,type:string>>",
    "tlsdetails": "struct<tlsversion:string,ciphersuite:string>",
}

LOCAL_PARTITIONS = Partitions(
    "ymd",
    region_key="region",
    account_key="account_id",
    keys=("account_id", "region", "year", "month", "day"),
)


def trino_sql_parses(sql: str) -> exp.Expr:
    """The statement as sqlglot reads it as Trino; raises on anything Trino would not parse."""
    return sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)


def to_duckdb(sql: str) -> str:
    return str(trino_sql_parses(sql).sql(dialect="duckdb"))


def local_table(store: EventStore, partitions: Partitions = LOCAL_PARTITIONS) -> TableInfo:
    cur = store.cursor()
    try:
        rows = cur.execute("DESCRIBE cloudtrail_logs.cloudtrail_partitioned").fetchall()
    finally:
        cur.close()
    columns = {}
    for name, typ, *_ in rows:
        base = str(typ).split("(")[0]
        columns[str(name)] = _ATHENA_TYPES.get(str(name), _TYPES.get(base, "string"))
    return TableInfo("cloudtrail_logs", "cloudtrail_partitioned", columns, partitions)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class LocalEngine(Engine):
    """Runs the remote backend's Trino statements on a local store (and records them)."""

    label = "local-athena"
    costs_money = True

    def __init__(self, store: EventStore, page: int = 1000) -> None:
        self.store = store
        self.page = page
        self.statements: list[str] = []
        self.cancelled = threading.Event()

    def run(self, sql: str, on_status: StatusListener | None = None) -> ResultSet:
        self.statements.append(sql)
        duck = to_duckdb(sql)
        cur = self.store.cursor()
        try:
            res = cur.execute(duck)
            columns = [d[0] for d in res.description or ()]
            rows = [tuple(_text(v) for v in row) for row in res.fetchall()]
        finally:
            cur.close()
        status = QueryStatus("succeeded", scanned_bytes=1234, cost_usd=0.0001, query_id="q")
        if on_status:
            on_status(status)
        first, rest = rows[: self.page], rows[self.page :]

        def more() -> list[tuple[str | None, ...]] | None:
            if not rest:
                return None
            chunk = rest[: self.page]
            del rest[: self.page]
            return chunk

        return ResultSet(columns, first, status, more)

    def cancel(self) -> None:
        self.cancelled.set()


# Glue GetTable shapes of the two common tables (AWS's CloudTrail guide).
PROJECTED = {
    "Name": "cloudtrail_logs_pp",
    "DatabaseName": "security",
    "StorageDescriptor": {
        "Columns": [
            {"Name": "eventversion", "Type": "string"},
            {"Name": "useridentity", "Type": "struct<type:string,arn:string>"},
            {"Name": "eventtime", "Type": "string"},
            {"Name": "eventname", "Type": "string"},
            {"Name": "resources", "Type": "array<struct<arn:string>>"},
        ],
        "Location": "s3://trail-bucket/AWSLogs/111122223333/CloudTrail/",
    },
    "PartitionKeys": [{"Name": "timestamp", "Type": "string"}],
    "Parameters": {
        "projection.enabled": "true",
        "projection.timestamp.type": "date",
        "projection.timestamp.format": "yyyy/MM/dd",
        "projection.timestamp.range": "2020/01/01,NOW",
        "projection.timestamp.interval": "1",
        "projection.timestamp.interval.unit": "DAYS",
        "storage.location.template": (
            "s3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/${timestamp}"
        ),
    },
}
YMD = {
    "Name": "cloudtrail_logs",
    "DatabaseName": "security",
    "StorageDescriptor": {"Columns": [{"Name": "eventtime", "Type": "string"}]},
    "PartitionKeys": [
        {"Name": "account", "Type": "string"},
        {"Name": "region", "Type": "string"},
        {"Name": "year", "Type": "string"},
        {"Name": "month", "Type": "string"},
        {"Name": "day", "Type": "string"},
    ],
    "Parameters": {
        "projection.enabled": "true",
        "projection.account.type": "injected",
        "projection.region.type": "enum",
        "projection.region.values": "us-east-1,eu-west-1",
        "storage.location.template": (
            "s3://b/AWSLogs/o-abc123/${account}/CloudTrail/${region}/${year}/${month}/${day}"
        ),
    },
}
