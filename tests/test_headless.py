"""Headless mode (`trailtui PATH --sql QUERY`): whole output in every format, exit codes,
terminal safety, no Textual import, and the cache."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, subprocess_env

from trailtui.cli import headless, main
from trailtui.data.store import EventStore

ROWS = 45  # more than the 40 rows some tools show by default
LONG = "L" * 4990 + "-the-end"  # a 4,998-character user agent
ESC_AGENT = "evil\x1b]52;c;aGVsbG8=\x07agent\x9b31m\u202eend"


def _records() -> list[dict[str, Any]]:
    recs = []
    for i in range(ROWS):
        recs.append({
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "userName": f"user{i:02d}",
                             "accountId": "012345678901"},
            "eventTime": f"2024-05-01T10:{i:02d}:00Z",
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject" if i % 2 else "PutObject",
            "awsRegion": "eu-west-1",
            "sourceIPAddress": f"203.0.113.{i}",
            "userAgent": LONG if i == 7 else ESC_AGENT if i == 8 else "aws-cli/2.15.0",
            "requestParameters": {"bucketName": "b", "key": f"k{i}", "n": i},
            "eventID": f"h{i:04d}",
            "readOnly": bool(i % 2),
            "recipientAccountId": "012345678901",
        })
    return recs


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"Records": _records()}))
    return path


def run(paths: list[Path | str], sql: str, fmt: str = "table",
        cache: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = headless([str(p) for p in paths], sql, fmt, cache=cache, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


ALL = ("SELECT eventID, eventTime, actor, userAgent, readOnly, requestParameters, userIdentity "
       "FROM events ORDER BY eventID")


# --- formats -------------------------------------------------------------------------------------


def test_table_prints_every_row_and_whole_values(events_file: Path) -> None:
    code, out, err = run([events_file], ALL, "table")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split(" │ ")[0].strip() == "eventID"
    assert set(lines[1]) <= {"─", "┼"}
    body = lines[2:-1]
    assert len(body) == ROWS
    assert [b.split(" │ ")[0].strip() for b in body] == [f"h{i:04d}" for i in range(ROWS)]
    assert lines[-1] == f"({ROWS} rows)"
    assert LONG in out
    assert "2024-05-01T10:07:00Z" in body[7]  # CloudTrail's own time format


def test_csv_prints_every_row_and_whole_values(events_file: Path) -> None:
    code, out, _ = run([events_file], ALL, "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == ROWS
    assert rows[7]["userAgent"] == LONG
    assert rows[8]["userAgent"] == ESC_AGENT  # a file or a pipe gets the exact value
    assert rows[1]["readOnly"] == "true" and rows[0]["readOnly"] == "false"
    assert json.loads(rows[3]["requestParameters"]) == {"bucketName": "b", "key": "k3", "n": 3}
    assert json.loads(rows[3]["userIdentity"])["userName"] == "user03"


def test_json_is_one_array_of_row_objects(events_file: Path) -> None:
    code, out, _ = run([events_file], ALL, "json")
    assert code == 0
    data = json.loads(out)
    assert isinstance(data, list) and len(data) == ROWS
    first = data[3]
    assert first["eventID"] == "h0003"
    assert first["eventTime"] == "2024-05-01T10:03:00Z"
    assert first["readOnly"] is True
    # JSON columns and the identity struct come out as objects, not strings.
    assert first["requestParameters"] == {"bucketName": "b", "key": "k3", "n": 3}
    assert first["userIdentity"]["userName"] == "user03"
    assert data[7]["userAgent"] == LONG
    assert data[8]["userAgent"] == ESC_AGENT  # same value, escaped in the text


def test_jsonl_is_one_object_per_line(events_file: Path) -> None:
    code, out, _ = run([events_file], ALL, "jsonl")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == ROWS
    objs = [json.loads(line) for line in lines]
    assert [o["eventID"] for o in objs] == [f"h{i:04d}" for i in range(ROWS)]
    assert objs[7]["userAgent"] == LONG
    assert objs[0]["requestParameters"]["n"] == 0


def test_json_of_no_rows_is_an_empty_array(events_file: Path) -> None:
    code, out, _ = run([events_file], "SELECT * FROM events WHERE false", "json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run([events_file], "SELECT * FROM events WHERE false", "table")
    assert code == 0 and out.splitlines()[-1] == "(0 rows)"


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl"])
def test_control_characters_never_reach_the_terminal_raw(events_file: Path, fmt: str) -> None:
    code, out, _ = run([events_file], "SELECT userAgent FROM events WHERE eventID = 'h0008'", fmt)
    assert code == 0
    for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert raw not in out
    if fmt == "table":
        assert "evil␛]52;c;aGVsbG8=␇agent" in out  # visible stand-ins


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_csv_on_a_terminal_is_made_safe(events_file: Path) -> None:
    out, err = _Tty(), io.StringIO()
    code = headless([str(events_file)], "SELECT userAgent FROM events WHERE eventID = 'h0008'",
                    "csv", cache=False, out=out, err=err)
    assert code == 0
    assert "\x1b" not in out.getvalue() and "␛]52" in out.getvalue()


def test_messages_quoting_data_are_made_safe(tmp_path: Path, events_file: Path) -> None:
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("Bad\x1b[31mHeader,other\n1,2\n")
    code, _, err = run([events_file, bad_csv], "SELECT CAST(userAgent AS INT) FROM events")
    assert code == 1
    assert "\x1b" not in err and "\x07" not in err
    assert "Bad␛[31mHeader" in err  # the file's own header, shown safely
    assert "Conversion Error" in err


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_timestamptz_results_print_in_utc(events_file: Path, fmt: str) -> None:
    """A TIMESTAMPTZ column (now(), casts) prints like eventTime, without needing pytz."""
    sql = ("SELECT eventTime::TIMESTAMPTZ AS t, TIMESTAMPTZ '2024-01-01 10:00:00+02' AS t2, "
           "eventID FROM events WHERE eventID = 'h0003';  -- a trailing comment")
    code, out, err = run([events_file], sql, fmt)
    assert code == 0, err
    if fmt == "json":
        assert json.loads(out) == [{"t": "2024-05-01T10:03:00Z", "t2": "2024-01-01T08:00:00Z",
                                    "eventID": "h0003"}]
    else:
        assert "2024-05-01T10:03:00Z │ 2024-01-01T08:00:00Z │ h0003" in out


# --- exit codes and messages -----------------------------------------------------------------


def test_bad_sql_exits_1_with_duckdbs_message(events_file: Path) -> None:
    code, out, err = run([events_file], "SELECT nope FROM events")
    assert code == 1 and out == ""
    assert err.startswith("trailtui: query failed: Binder Error")
    assert "nope" in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["empty.json", "truncated.json", "digest.json",
                                  "not_cloudtrail.json", "other_columns.csv", "missing.json"])
def test_nothing_loaded_exits_non_zero_naming_the_file(name: str) -> None:
    path = DATA / name
    code, out, err = run([path], "SELECT count(*) FROM events")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines == [lines[0], "trailtui: no events could be loaded"]
    assert lines[0].startswith(f"trailtui: {path}: ")


def test_no_paths_exits_2() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert headless([], "SELECT 1", "table", out=out, err=err) == 2
    assert "needs at least one PATH" in err.getvalue()


def test_good_and_bad_files_answer_and_name_the_bad_one(tmp_path: Path, events_file: Path) -> None:
    code, out, err = run([events_file, DATA / "truncated.json"], "SELECT count(*) AS n FROM events",
                         "json")
    assert code == 0
    assert json.loads(out) == [{"n": ROWS}]
    assert err.splitlines() == [
        f"trailtui: {DATA / 'truncated.json'}: truncated or invalid JSON "
        "(Input data was truncated)"]


def test_main_parses_arguments(events_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(events_file), "--sql", "SELECT count(*) AS n FROM events", "--format",
                 "jsonl", "--no-cache"])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"n": ROWS}


# --- a real process --------------------------------------------------------------------------


def _python(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120,
                          env=subprocess_env(), cwd=cwd, check=False)


def test_subprocess_headless_run_does_not_import_textual(events_file: Path) -> None:
    proc = _python("-X", "importtime", "-m", "trailtui", str(events_file), "--sql",
                   "SELECT count(*) AS n FROM events", "--format", "json", "--no-cache")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [{"n": ROWS}]
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")]
    assert "trailtui.data.store" in imported and "duckdb" in imported  # importtime worked
    assert not [m for m in imported if m == "textual" or m.startswith("textual.")]


def test_importing_the_data_layer_leaves_textual_out() -> None:
    code = ("import sys, trailtui.data.store, trailtui.data.ingest, trailtui.data.schema, "
            "trailtui.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    proc = _python("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_subprocess_exit_codes(events_file: Path) -> None:
    bad = _python("-m", "trailtui", str(events_file), "--sql", "SELEC 1", "--no-cache")
    assert bad.returncode == 1 and "Parser Error" in bad.stderr
    assert "Traceback" not in bad.stderr
    none = _python("-m", "trailtui", str(DATA / "empty.json"), "--sql", "SELECT 1", "--no-cache")
    assert none.returncode == 2 and "Traceback" not in none.stderr
    assert f"{DATA / 'empty.json'}: empty file" in none.stderr


# --- the cache -------------------------------------------------------------------------------


def _rows(store: EventStore) -> list[tuple[Any, ...]]:
    cur = store.cursor()
    try:
        return cur.execute("SELECT * EXCLUDE (_file_id, _line) FROM events "
                           "ORDER BY eventID").fetchall()
    finally:
        cur.close()


def test_second_load_of_unchanged_files_comes_from_the_cache(
    cache_dir: Path, events_file: Path
) -> None:
    first = EventStore(cache=True)
    try:
        r1 = first.load([str(events_file)])
        assert not r1.from_cache
        assert first.save_cache() is None
        rows1 = _rows(first)
    finally:
        first.close()
    assert any(cache_dir.iterdir())
    second = EventStore(cache=True)
    try:
        r2 = second.load([str(events_file)])
        assert r2.from_cache
        assert r2.events_added == ROWS and second.event_count() == ROWS
        assert [(f.path, f.events, f.added) for f in r2.files] == [
            (str(events_file), ROWS, ROWS)]
        assert _rows(second) == rows1
        # The original records are still there (they live in the cached chunks).
        cur = second.cursor()
        fid, line = cur.execute("SELECT _file_id, _line FROM events WHERE eventID = 'h0007'"
                                ).fetchone() or (0, 0)
        cur.close()
        assert json.loads(second.raw_event(fid, line))["userAgent"] == LONG
    finally:
        second.close()


def test_cache_keeps_the_messages_about_bad_files(cache_dir: Path, events_file: Path) -> None:
    paths = [str(events_file), str(DATA / "truncated.json"), str(DATA / "digest.json")]
    messages = []
    for _ in range(2):
        store = EventStore(cache=True)
        try:
            report = store.load(paths)
            messages.append((report.from_cache, report.errors, report.warnings))
            store.save_cache()
        finally:
            store.close()
    assert [m[0] for m in messages] == [False, True]
    assert messages[0][1:] == messages[1][1:]
    assert len(messages[0][1]) == 1 and len(messages[0][2]) == 1


def test_changing_a_file_reloads_it(cache_dir: Path, events_file: Path) -> None:
    code, out, _ = run([events_file], "SELECT count(*) AS n FROM events", "jsonl", cache=True)
    assert code == 0 and json.loads(out) == {"n": ROWS}
    recs = _records()[:3]
    events_file.write_text(json.dumps({"Records": recs}))
    st = events_file.stat()
    os.utime(events_file, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    store = EventStore(cache=True)
    try:
        report = store.load([str(events_file)])
        assert not report.from_cache
        assert store.event_count() == 3
    finally:
        store.close()


def test_touching_a_file_reloads_it(cache_dir: Path, events_file: Path) -> None:
    assert run([events_file], "SELECT 1", cache=True)[0] == 0
    st = events_file.stat()
    os.utime(events_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    store = EventStore(cache=True)
    try:
        assert not store.load([str(events_file)]).from_cache
        assert store.event_count() == ROWS
    finally:
        store.close()


def test_headless_with_cache_writes_it_and_no_cache_writes_nothing(
    cache_dir: Path, events_file: Path
) -> None:
    assert run([events_file], "SELECT 1", cache=False)[0] == 0
    assert list(cache_dir.iterdir()) == []
    proc = _python("-m", "trailtui", str(events_file), "--sql", "SELECT 1", "--no-cache")
    assert proc.returncode == 0, proc.stderr
    assert list(cache_dir.iterdir()) == []
    # ...while a run with the cache does write one (so the check above can fail).
    proc = _python("-m", "trailtui", str(events_file), "--sql", "SELECT 1")
    assert proc.returncode == 0, proc.stderr
    assert [p for p in cache_dir.iterdir() if (p / "manifest.json").is_file()]


def test_a_load_that_gives_nothing_leaves_no_folder_in_the_cache(cache_dir: Path) -> None:
    assert run([DATA / "truncated.json"], "SELECT 1", cache=True)[0] == 2
    assert run([DATA / "console_compact.json"], "SELECT nope", cache=True)[0] == 1
    assert list(cache_dir.iterdir()) == []


def test_a_damaged_cache_is_ignored(cache_dir: Path, events_file: Path) -> None:
    assert run([events_file], "SELECT 1", cache=True)[0] == 0
    (db,) = cache_dir.glob("*/events.duckdb")
    db.write_bytes(b"not a database")
    code, out, _ = run([events_file], "SELECT count(*) AS n FROM events", "jsonl", cache=True)
    assert code == 0 and json.loads(out) == {"n": ROWS}
