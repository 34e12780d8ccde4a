"""Found by using the app as an incident responder would (the QA pass after issues 7-14).

Each test here failed before its fix: the console dropping what the new screens read, ...
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DATA, subprocess_env

from trailtui.data.investigate import VIEW_NAMES
from trailtui.data.results import execute
from trailtui.data.store import EventStore


def _rec(i: int) -> dict[str, object]:
    return {
        "eventVersion": "1.08", "eventTime": f"2024-01-01T00:00:{i:02d}Z",
        "eventName": "ListBuckets", "eventSource": "s3.amazonaws.com", "eventID": f"id-{i}",
        "userIdentity": {"type": "IAMUser", "userName": "alice", "accessKeyId": "AKIAALICE"},
        "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.1",
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"Records": [_rec(i) for i in range(10)]}))
    s = EventStore(cache=False)
    s.load([str(path)])
    yield s
    s.close()


@pytest.mark.parametrize("sql", [
    *(f"DROP VIEW {name}" for name in VIEW_NAMES),
    "DROP VIEW actors_live", "CREATE OR REPLACE VIEW sessions AS SELECT 1 AS x",
])
def test_the_console_cannot_drop_the_views_the_screens_read(store: EventStore, sql: str) -> None:
    """`DROP VIEW sessions` in the console left `K` (and A, N) with an empty screen."""
    cur = store.cursor()
    outcome = execute(store, cur, sql, None)
    assert outcome.kind == "error" and "rolled back" in outcome.error
    check = store.cursor()
    for name in VIEW_NAMES:
        check.execute(f"SELECT count(*) FROM {name}").fetchall()  # still there
    assert check.execute("SELECT events FROM actors").fetchall() == [(10,)]
    check.close()
    cur.close()


def test_a_missing_table_is_never_looked_up_among_python_variables(store: EventStore) -> None:
    """DuckDB's Python replacement scan read the caller's local variables as tables: after a
    `DROP VIEW sessions` the K screen said `Python Object "sessions" of type "function" found on
    line ...investigate.py`; a console query could read any DataFrame or array in scope."""
    cur = store.cursor()
    for name in ("itertools", "guard", "contextlib"):  # globals where the console runs
        outcome = execute(store, cur, f"SELECT * FROM {name}", None)
        assert outcome.kind == "error"
        assert "Python" not in outcome.error and name in outcome.error
    cur.close()


def test_headless_output_into_a_closed_pipe_stops_without_a_traceback() -> None:
    """`trailtui x.json --sql ... | head` printed a BrokenPipeError traceback (--findings too:
    both write through `cli.main`)."""
    sql = "SELECT e.*, r.range FROM events e, range(3000) r"  # far more than a pipe holds
    proc = subprocess.Popen(
        [sys.executable, "-m", "trailtui", "--no-cache", str(DATA / "console_compact.json"),
         "--sql", sql], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env())
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)
    proc.stdout.close()  # as `head -c 100` does
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert code == 141


@pytest.mark.parametrize("mode", [["--coverage"], ["--findings"], ["--sql", "SELECT 1"]])
def test_headless_says_what_the_time_range_left_out(
        mode: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`--coverage --since 2030-01-01` said only "no events could be loaded" (--sql also said
    that the range left every event out)."""
    from trailtui.cli import main

    code = main([str(DATA / "console_compact.json"), "--no-cache", "--since", "2030-01-01",
                 *mode])
    err = capsys.readouterr().err
    assert code == 2
    assert "since 2030-01-01" in err and "outside" in err


async def test_help_is_not_cut_at_100_columns() -> None:
    """At 100x30 the help cut long descriptions at the right edge ("... NDJSON, CSV," and
    "next sort (events, ..., IPs, n"): every description must be readable in the box."""
    from textual.app import App
    from textual.containers import VerticalScroll
    from textual.widgets import Static

    from trailtui.screens.help import KEYS, HelpScreen

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(HelpScreen())

    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        box = app.screen.query_one("#help", VerticalScroll)
        keys = app.screen.query_one("#help-keys", Static)
        assert keys.outer_size.width <= box.scrollable_content_region.width
        lines = keys.render_lines(keys.region.reset_offset)
        text = " ".join(" ".join(strip.text.split()) for strip in lines)
        for _, _, description in KEYS:
            assert description.split()[-1] in text, description
            assert " ".join(description.split()[-3:]) in text or len(description) < 30


def test_new_and_rare_counts_are_totals_not_the_shown_rows() -> None:
    """The N screen's title counted the rows it kept (2,000, new first): the demo said 'rare:
    514' where 4,369 values are seen once."""
    from trailtui.cli import demo_path
    from trailtui.data import investigate

    s = EventStore(cache=False)
    try:
        s.load([str(demo_path())])
        cur = s.cursor()
        new, rare, either = investigate.new_and_rare_counts(cur)
        expected = cur.execute(
            "SELECT count(*) FILTER (WHERE first_seen >= (SELECT max(eventTime) FROM events)"
            " - INTERVAL 1 DAY), count(*) FILTER (WHERE events <= 1) FROM first_seen").fetchone()
        assert (new, rare) == expected
        assert either == len(investigate.new_and_rare(cur, limit=10**9))
        assert len(investigate.new_and_rare(cur)) < either  # the list is cut: counts are not
        cur.close()
    finally:
        s.close()


async def test_new_and_rare_title_shows_the_totals() -> None:
    from trailtui.app import TrailApp
    from trailtui.cli import demo_path
    from trailtui.data import investigate
    from trailtui.pilot import settle
    from trailtui.screens.new_values import NewValuesScreen

    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NewValuesScreen)
        for _ in range(50):
            if screen.values:
                break
            await pilot.pause(0.05)
        cur = app.store.cursor()
        new, rare, _ = investigate.new_and_rare_counts(cur)
        cur.close()
        title = str(screen.query_one("#new-values").border_title)
        assert f"New in the last day: {new:,}" in title
        assert f"rare (seen ≤ 1 times): {rare:,}" in title
        assert f"first {len(screen.values):,} shown" in title


async def test_detail_header_keeps_ip_and_findings_visible_with_a_long_actor() -> None:
    """A 500-character userName filled the detail header (4 lines at most): the source/IP
    line and the findings line were pushed out of sight. The JSON below keeps the whole value."""
    from rich.segment import Segment  # noqa: F401 - rendering needs Rich
    from textual.app import App
    from textual.geometry import Region
    from textual.widgets import Static

    from trailtui.screens.detail import DetailScreen

    long = "A" * 5000
    raw = json.dumps({"eventName": "E" * 3000, "userAgent": long})
    row = {"actor": long, "eventName": "E" * 3000, "eventSource": "s3.amazonaws.com",
           "sourceIPAddress": "192.0.2.77", "errorCode": "X" * 4000,
           "_findings": [("high", "Role trust policy changed", "r1")]}

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(DetailScreen(raw, row))

    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        header = app.screen.query_one("#detail-header", Static)
        shown = "\n".join(strip.text for strip in header.render_lines(
            Region(0, 0, header.size.width, header.size.height)))
        assert "ip 192.0.2.77" in shown
        assert "findings high Role trust policy changed" in shown
        assert "…" in shown


def _long_values_file(tmp_path: Path) -> Path:
    long = "L" * 300
    recs = [
        {**_rec(0), "userIdentity": {"type": "IAMUser", "userName": long, "accessKeyId": "AKIAL"},
         "eventName": "AssumeRole", "eventSource": "sts.amazonaws.com",
         "requestParameters": {long: long, "roleSessionName": long},
         "responseElements": {"credentials": {"accessKeyId": "ASIALONG"}}},
        {**_rec(1), "userIdentity": {
            "type": "AssumedRole", "accessKeyId": "ASIALONG",
            "arn": f"arn:aws:sts::111111111111:assumed-role/{long}/{long}",
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": long}}}},
    ]
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"Records": recs}))
    return path


@pytest.mark.parametrize("key", ["A", "K", "N", "P"])
async def test_new_screens_mark_a_cut_value_with_an_ellipsis(tmp_path: Path, key: str) -> None:
    """Actors, sessions, new/rare and parameters cut a 300-character value at the column's
    width with nothing to show it was cut (the event table ends such cells in "…")."""
    from textual.geometry import Region
    from textual.widgets import DataTable

    from trailtui.app import TrailApp
    from trailtui.pilot import settle

    app = TrailApp([str(_long_values_file(tmp_path))], cache=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        for _ in range(50):
            if table.row_count:
                break
            await pilot.pause(0.05)
        assert table.row_count
        lines = [strip.text for strip in table.render_lines(
            Region(0, 0, table.size.width, table.size.height))]
        assert any("LLLL…" in line for line in lines), "\n".join(lines)


def test_many_digest_files_make_one_note(tmp_path: Path) -> None:
    """An org trail synced down holds a digest per region and hour: each gave its own note
    (36,000 lines of stderr for 90 days of 17 regions). Now one line counts them."""
    import gzip

    logs = tmp_path / "AWSLogs" / "111122223333"
    events = logs / "CloudTrail/us-east-1/2024/01/01/111122223333_CloudTrail_us-east-1_x.json.gz"
    events.parent.mkdir(parents=True)
    events.write_bytes(gzip.compress(json.dumps({"Records": [_rec(1), _rec(2)]}).encode()))
    for hour in range(30):
        digest = (logs / "CloudTrail-Digest/us-east-1/2024/01/01" /
                  f"111122223333_CloudTrail-Digest_us-east-1_t_20240101T{hour:02d}00Z.json.gz")
        digest.parent.mkdir(parents=True, exist_ok=True)
        digest.write_bytes(gzip.compress(b'{"awsAccountId": "111122223333"}'))
    s = EventStore(cache=False)
    try:
        report = s.load([str(tmp_path / "AWSLogs")])
        assert s.event_count() == 2 and report.errors == []
        digest_notes = [w for w in report.warnings if "digest" in w]
        assert len(digest_notes) == 1
        assert digest_notes[0].startswith("30 CloudTrail digest files (no events) skipped")
    finally:
        s.close()
