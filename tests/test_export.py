"""Exports open again as the same events, CSV cannot smuggle spreadsheet formulas, and a bad
path gets a clear message and leaves nothing behind."""

from __future__ import annotations

import csv
import gzip
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import SAMPLES

from trailtui.data import export
from trailtui.data.export import (
    ExportError,
    ExportFormat,
    export_events,
    export_result,
    guess_format,
    neutralise_cell,
)
from trailtui.data.queries import run_query
from trailtui.data.store import EventStore


def sample_paths() -> list[str]:
    console = sorted(str(p) for p in (SAMPLES / "console-json").glob("*.json"))
    return [str(SAMPLES / "s3-trail"), *console]


@pytest.fixture(scope="module")
def store(samples: Path) -> Iterator[EventStore]:
    """The S3 trail tree and every console download (skipped without ../shared/samples)."""
    s = EventStore(cache=False)
    s.load(sample_paths())
    assert s.event_count() > 6000
    yield s
    s.close()


@pytest.fixture()
def cur(store: EventStore) -> Iterator[duckdb.DuckDBPyConnection]:
    c = store.cursor()
    yield c
    c.close()


def identity(
    store: EventStore, where: str = "TRUE", params: list[Any] | None = None
) -> Counter[tuple[Any, Any]]:
    """The events as (eventID, content hash) pairs: same pairs = same events."""
    cur = store.cursor()
    try:
        return Counter(
            cur.execute(f"SELECT eventID, _h FROM events WHERE {where}", params or []).fetchall()
        )
    finally:
        cur.close()


def reopen(*paths: Path) -> EventStore:
    again = EventStore(cache=False)
    report = again.load([str(p) for p in paths])
    assert not report.errors, report.errors
    return again


@pytest.mark.parametrize("name", ["all.json", "all.ndjson", "all.json.gz", "all.jsonl.gz"])
def test_all_events_round_trip(
    store: EventStore, cur: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    fmt = guess_format(name, events=True)
    assert fmt in (ExportFormat.RECORDS, ExportFormat.NDJSON)
    outcome = export_events(cur, store, tmp_path / name, fmt)
    assert outcome.rows == store.event_count()
    again = reopen(tmp_path / name)
    try:
        assert again.event_count() == store.event_count()
        assert identity(again) == identity(store)
    finally:
        again.close()


def test_records_file_is_cloudtrail_shaped(
    store: EventStore, cur: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    target = tmp_path / "s3.json"
    outcome = export_events(
        cur,
        store,
        target,
        ExportFormat.RECORDS,
        where="eventSource = ?",
        params=["s3.amazonaws.com"],
    )
    data = json.loads(target.read_text(encoding="utf-8"))
    assert list(data) == ["Records"]
    assert len(data["Records"]) == outcome.rows > 0
    assert all(r.get("eventSource") == "s3.amazonaws.com" for r in data["Records"])
    assert "Wrote" in outcome.message and "events" in outcome.message


def test_filtered_events_round_trip(
    store: EventStore, cur: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    where, params = "errorCode IS NOT NULL AND awsRegion = ?", ["us-east-1"]
    for fmt, name in [
        (ExportFormat.RECORDS, "f.json"),
        (ExportFormat.NDJSON, "f.ndjson"),
        (ExportFormat.JSON, "f-array.json"),
    ]:
        export_events(cur, store, tmp_path / name, fmt, where=where, params=params)
        again = reopen(tmp_path / name)
        try:
            assert identity(again) == identity(store, where, params), name
        finally:
            again.close()


def test_named_filter_parameters(
    store: EventStore, cur: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    for fmt in (ExportFormat.CSV, ExportFormat.NDJSON):
        outcome = export_events(
            cur,
            store,
            tmp_path / f"n.{fmt.value}",
            fmt,
            where="eventName = $name",
            params={"name": "ConsoleLogin"},
        )
        assert outcome.rows == sum(identity(store, "eventName = 'ConsoleLogin'").values())


def test_empty_exports_are_valid(
    store: EventStore, cur: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    for fmt, name in [
        (ExportFormat.RECORDS, "e.json"),
        (ExportFormat.JSON, "e2.json"),
        (ExportFormat.NDJSON, "e.ndjson"),
    ]:
        outcome = export_events(cur, store, tmp_path / name, fmt, where="FALSE")
        assert outcome.rows == 0
        text = (tmp_path / name).read_text()
        if fmt is ExportFormat.NDJSON:
            assert text == ""
        else:
            assert json.loads(text) in ({"Records": []}, [])


def test_result_records_round_trip(
    store: EventStore, cur: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    exact = run_query(
        cur,
        "SELECT _file_id, _line, eventName FROM events "
        "WHERE eventName = 'ConsoleLogin' ORDER BY eventTime",
        None,
        store,
    )
    out = export_result(cur, store, exact, tmp_path / "exact.json", ExportFormat.RECORDS)
    assert out.rows == exact.row_count and out.note == ""
    by_id = run_query(
        cur,
        "SELECT eventid, eventname FROM cloudtrail_logs.cloudtrail_partitioned "
        "WHERE eventname = 'ConsoleLogin'",
        None,
        store,
    )
    out2 = export_result(cur, store, by_id, tmp_path / "by-id.json", ExportFormat.RECORDS)
    assert "eventID" in out2.note
    for name in ("exact.json", "by-id.json"):
        again = reopen(tmp_path / name)
        try:
            expected = identity(store, "eventName = 'ConsoleLogin'")
            if name == "by-id.json":
                # Matched by eventID: events without an ID cannot be found that way.
                expected = Counter({k: n for k, n in expected.items() if k[0] is not None})
            assert identity(again) == expected
        finally:
            again.close()
    counts = run_query(cur, "SELECT eventName, count(*) FROM events GROUP BY 1", None, store)
    with pytest.raises(ExportError, match="needs events"):
        export_result(cur, store, counts, tmp_path / "no.json", ExportFormat.RECORDS)


OWN_SHAPES = [
    "console_compact.json",
    "bare_array.json",
    "logstash.ndjson",
    "lookup_events.jsonl",
    "times.ndjson",
    "eventbridge.json",
    "console.csv",
]


@pytest.mark.parametrize("fmt", [ExportFormat.RECORDS, ExportFormat.NDJSON, ExportFormat.JSON])
def test_every_input_shape_round_trips(tmp_path: Path, fmt: ExportFormat) -> None:
    """trailtui's own fixtures (always present): every shape it reads comes back the same."""
    data = Path(__file__).resolve().parent / "data"
    own = EventStore(cache=False)
    try:
        own.load([str(data / name) for name in OWN_SHAPES])
        cur = own.cursor()
        target = tmp_path / f"own.{fmt.value}"
        outcome = export_events(cur, own, target, fmt)
        assert outcome.rows == own.event_count() > 10
        again = reopen(target)
        try:
            assert identity(again) == identity(own)
        finally:
            again.close()
    finally:
        own.close()


EVIL = "=cmd|' /C calc'!A0"


def test_csv_neutralises_formulas(
    store: EventStore, cur: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    result = run_query(
        cur,
        "SELECT ? AS evil, '+1+1' AS plus, '-2+3' AS minus, '@SUM(A1)' AS at, "
        "chr(9) || '=1' AS tab, chr(13) || '=1' AS cr, 'safe = text' AS fine, "
        "-5 AS negative, {'k': '=x'} AS nested, 'v' AS \"=header\"",
        [EVIL],
        store,
    )
    target = tmp_path / "evil.csv"
    export_result(cur, store, result, target, ExportFormat.CSV)
    with target.open(newline="", encoding="utf-8") as fh:
        header, row = list(csv.reader(fh))
    cells = dict(zip(header, row, strict=True))
    assert cells["evil"] == "'" + EVIL
    assert cells["plus"] == "'+1+1"
    assert cells["minus"] == "'-2+3"
    assert cells["at"] == "'@SUM(A1)"
    assert cells["tab"] == "'\t=1"
    assert cells["cr"] == "'\r=1"
    assert cells["fine"] == "safe = text"
    assert cells["negative"] == "-5"  # a number is not a formula
    assert json.loads(cells["nested"]) == {"k": "=x"}
    assert "'=header" in header
    assert neutralise_cell("=1") == "'=1" and neutralise_cell("a=1") == "a=1"


def test_csv_of_events_has_readable_columns(
    store: EventStore, cur: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    target = tmp_path / "events.csv"
    outcome = export_events(
        cur, store, target, ExportFormat.CSV, where="eventName = ?", params=["ConsoleLogin"]
    )
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == outcome.rows > 0
    assert "_file_id" not in rows[0] and "_h" not in rows[0]
    assert rows[0]["eventTime"].endswith("Z") and "T" in rows[0]["eventTime"]
    assert json.loads(rows[0]["userIdentity"])["type"]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_json_parquet_and_gzip(
    store: EventStore, cur: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    result = run_query(
        cur,
        "SELECT eventID, eventTime, userIdentity, readOnly FROM events "
        "ORDER BY eventTime DESC, eventID LIMIT 50",
        None,
        store,
    )
    export_result(cur, store, result, tmp_path / "r.json", ExportFormat.JSON)
    array = json.loads((tmp_path / "r.json").read_text())
    assert len(array) == 50 and array[0]["eventTime"].endswith("Z")
    assert isinstance(array[0]["userIdentity"], dict)
    export_result(cur, store, result, tmp_path / "r.ndjson.gz", ExportFormat.NDJSON)
    lines = gzip.decompress((tmp_path / "r.ndjson.gz").read_bytes()).splitlines()
    assert [json.loads(x)["eventID"] for x in lines] == [r["eventID"] for r in array]
    export_result(cur, store, result, tmp_path / "r.parquet", ExportFormat.PARQUET)
    back = cur.execute(
        "SELECT eventID FROM read_parquet(?)", [str(tmp_path / "r.parquet")]
    ).fetchall()
    assert [r[0] for r in back] == [r["eventID"] for r in array]


def test_bad_paths_get_clear_messages(
    store: EventStore, cur: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    result = run_query(cur, "SELECT 1 AS a", None, store)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = {
        str(tmp_path / "missing" / "x.csv"): "does not exist",
        str(tmp_path): "is a folder",
        str(a_file / "x.csv"): "is not a folder",
        str(a_file): "already exists",
        "  ": "no file name",
    }
    for path, message in cases.items():
        with pytest.raises(ExportError, match=message):
            export_result(cur, store, result, path, ExportFormat.CSV)
    export_result(cur, store, result, a_file, ExportFormat.CSV, overwrite=True)
    assert a_file.read_text().splitlines() == ["a", "1"]
    assert sorted(os.listdir(tmp_path)) == ["file.txt"]  # no temporary files left behind
    ok = run_query(cur, "SET threads = 2", None, store)
    with pytest.raises(ExportError, match="no rows"):
        export_result(cur, store, ok, tmp_path / "ok.csv", ExportFormat.CSV)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_permission_denied(
    store: EventStore, cur: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = run_query(cur, "SELECT 1 AS a", None, store)
        with pytest.raises(ExportError, match="permission denied"):
            export_result(cur, store, result, locked / "x.csv", ExportFormat.CSV)
    finally:
        locked.chmod(0o700)


def test_a_failing_write_leaves_nothing(
    store: EventStore,
    cur: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "_open_text_target", broken)
    with pytest.raises(ExportError, match="No space left on device"):
        export_events(cur, store, tmp_path / "x.ndjson", ExportFormat.NDJSON)
    assert os.listdir(tmp_path) == []


def test_guess_format() -> None:
    assert guess_format("a.csv") is ExportFormat.CSV
    assert guess_format("a.CSV.gz") is ExportFormat.CSV
    assert guess_format("a.parquet") is ExportFormat.PARQUET
    assert guess_format("a.jsonl") is ExportFormat.NDJSON
    assert guess_format("a.json") is ExportFormat.JSON
    assert guess_format("a.json", events=True) is ExportFormat.RECORDS
    assert guess_format("a.txt") is None
