"""`trailtui --athena/--trino`: --explain without AWS, --pull then --sql headless, console SQL
over the table (asks before a full scan), and one clear message for each bad input."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from _athena import LocalEngine, local_table, trino_sql_parses
from _fixtures import RECORDS, events_store

from trailtui import cli, remote_cli
from trailtui.data.filters import Chip
from trailtui.data.remote import RemoteBackend
from trailtui.data.store import EventStore


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = cli.build_parser().parse_args(list(argv))
    code = remote_cli.main(args, out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach AWS fails the test."""

    def refuse(*_: object, **__: object) -> RemoteBackend:
        raise AssertionError("--explain must not call AWS")

    monkeypatch.setattr(remote_cli, "connect", refuse)


def test_explain_prints_the_three_statements(no_aws: None) -> None:
    code, out, err = run(
        "--athena",
        "security.cloudtrail",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-07",
        "--where",
        "eventName=ConsoleLogin",
        "--where",
        "errorCode!=AccessDenied",
        "--search",
        "it's",
        "--explain",
    )
    assert code == 0, err
    assert out.startswith("-- security.cloudtrail: partitioned by timestamp (yyyy/MM/dd)")
    titles = re.findall(r"^-- (count|facets|first page)", out, re.M)
    assert titles == ["count", "facets", "first page"]
    statements = [s for s in out.split(";\n") if s.strip()]
    assert len(statements) == 3
    for sql in statements:
        trino_sql_parses(sql)  # comments included
        assert "\"timestamp\" BETWEEN '2024/05/01' AND '2024/05/08'" in sql
        assert "strpos(lower(eventname), 'it''s') > 0" in sql


def test_explain_year_month_day_and_trino(no_aws: None) -> None:
    code, out, _ = run(
        "--trino",
        "https://trino.example.com/hive/logs.cloudtrail",
        "--since",
        "3d",
        "--partitions",
        "ymd",
        "--explain",
    )
    assert code == 0
    assert "FROM hive.logs.cloudtrail" in out and '"day" IN (' in out


def test_explain_keeps_the_comment_one_line(no_aws: None) -> None:
    code, out, _ = run("--athena", "d.t", "--search", "x\nDROP TABLE t", "--explain")
    assert code == 0
    assert "\nDROP TABLE" not in out.split("\n-- count")[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--where", "nope=1"], "--where takes COLUMN=VALUE"),
        (["--where", "readOnly=maybe"], "readOnly takes true/false"),
        (["--since", "forever"], "--since takes a duration"),
        (["--from", "2024-05-02", "--to", "2024-05-01"], "--to must be after --from"),
        (["--to", "2024-05-01"], "--to needs --from"),
        (["--since", "1d", "--from", "2024-05-01"], "either --since or --from/--to"),
        (["--trino", "http://h/c/s.t"], "either --athena or --trino"),
    ],
)
def test_bad_arguments_get_one_message(
    no_aws: None, argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote_cli, "connect", lambda *_: object())
    code, _, err = run("--athena", "db.table", *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_bad_table_name() -> None:
    code, _, err = run("--athena", "db.t;drop", "--explain")
    assert code == 2 and "not a plain table or column name" in err
    code, _, err = run("--athena", "justatable", "--explain")
    assert code == 2 and "DATABASE.TABLE" in err


def test_no_credentials_is_one_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Real boto3, no credentials anywhere: the first call says what to do."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = run("--athena", "db.table", "--region", "eu-west-1", "--sql", "SELECT 1")
    assert code == 1 and "no AWS credentials" in err and "Traceback" not in err
    code, _, err = run("--athena", "db.table", "--profile", "nope", "--sql", "SELECT 1")
    assert code == 1 and "AWS profile not found: nope" in err


def test_missing_boto3_is_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "boto3", None)
    code, _, err = run("--athena", "db.table", "--sql", "SELECT 1")
    assert code == 1 and "pip install 'trailtui[athena]'" in err


# -- against the local Athena stand-in ----------------------------------------------------------


@pytest.fixture
def local_remote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[EventStore, LocalEngine]]:
    with events_store(RECORDS, tmp_path) as store:
        engine = LocalEngine(store)
        statuses: list[str] = []

        def connect(args: argparse.Namespace, err: io.StringIO) -> RemoteBackend:
            return RemoteBackend(engine, local_table(store), lambda s: statuses.append(s.state))

        monkeypatch.setattr(remote_cli, "connect", connect)
        monkeypatch.setenv("TRAILTUI_CACHE_DIR", str(tmp_path / "cache"))
        yield store, engine


def test_pull_then_sql_headless(local_remote: tuple[EventStore, LocalEngine]) -> None:
    _, engine = local_remote
    code, out, err = run(
        "--athena",
        "cloudtrail_logs.cloudtrail_partitioned",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-01",
        "--where",
        "actor=alice",
        "--pull",
        "--sql",
        "SELECT eventName, count(*) AS n FROM events GROUP BY 1 ORDER BY 2 DESC, 1",
        "--format",
        "json",
    )
    assert code == 0, err
    assert re.search(r"pulled \d+ events into .*\.ndjson", err)
    got = {r["eventName"]: r["n"] for r in json.loads(out)}
    want: dict[str, int] = {}
    for r in RECORDS:
        ui = r.get("userIdentity", {})
        if ui.get("userName") == "alice" and r["eventTime"].startswith("2024-05-01"):
            want[r["eventName"]] = want.get(r["eventName"], 0) + 1
    assert got == want
    assert len(engine.statements) == 1 and "ORDER BY eventtime ASC" in engine.statements[0]


def test_pull_of_nothing_says_so(local_remote: tuple[EventStore, LocalEngine]) -> None:
    code, _, err = run(
        "--athena",
        "cloudtrail_logs.cloudtrail_partitioned",
        "--from",
        "2020-01-01",
        "--to",
        "2020-01-02",
        "--pull",
        "--sql",
        "SELECT 1",
    )
    assert code == 1 and "matched no events" in err


def test_console_sql_asks_before_a_full_scan(
    local_remote: tuple[EventStore, LocalEngine],
) -> None:
    _, engine = local_remote
    sql = "SELECT eventname FROM cloudtrail_logs.cloudtrail_partitioned ORDER BY 1 LIMIT 2"
    code, out, err = run("--athena", "cloudtrail_logs.cloudtrail_partitioned", "--sql", sql)
    assert code == 1 and "no condition on year/month/day" in err and "--yes" in err
    assert engine.statements == [] and out == ""
    code, out, err = run(
        "--athena",
        "cloudtrail_logs.cloudtrail_partitioned",
        "--sql",
        sql,
        "--yes",
        "--format",
        "csv",
    )
    assert code == 0, err
    assert out.splitlines()[0] == "eventname" and len(out.splitlines()) == 3
    guarded = (
        "SELECT count(*) AS n FROM cloudtrail_logs.cloudtrail_partitioned "
        "WHERE year = '2024' AND month = '05'"
    )
    code, out, err = run("--athena", "cloudtrail_logs.cloudtrail_partitioned", "--sql", guarded)
    assert code == 0 and out.splitlines()[-1] == "(1 row)"
    assert str(len([r for r in RECORDS if r["eventTime"].startswith("2024-05")])) in out


def test_default_range_is_the_last_day() -> None:
    args = cli.build_parser().parse_args(["--athena", "d.t"])
    state = remote_cli.filters_from(args, now=datetime(2024, 5, 2, 12))
    (chip,) = state.chips
    assert isinstance(chip, Chip)
    assert (chip.start, chip.end) == (datetime(2024, 5, 1, 12), datetime(2024, 5, 2, 12))
    assert remote_cli.parse_duration("1d12h").total_seconds() == 36 * 3600


def test_remote_modules_import_no_ui_and_no_clients() -> None:
    """The data layer stays Textual-free, and boto3/trino/sqlglot load only when used."""
    import subprocess
    import sys

    from conftest import subprocess_env

    code = (
        "import sys, trailtui.data.backend, trailtui.data.trino_sql, trailtui.data.athena, "
        "trailtui.data.trino_engine, trailtui.data.remote, trailtui.data.duckdb_backend, "
        "trailtui.remote_cli, trailtui.cli; "
        "sys.argv = ['trailtui', '--athena', 'd.t', '--explain']; "
        "import io, contextlib; buf = io.StringIO(); "
        "contextlib.redirect_stdout(buf).__enter__(); trailtui.cli.main(); "
        "sys.stderr.write(repr(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'textual', 'boto3', 'botocore', 'trino', 'sqlglot'})))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "[]"
