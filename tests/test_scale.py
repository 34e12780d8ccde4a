"""Scale (issue 9): S3 organisation trees of many small objects, `--since/--until`, parallel
reading. Every case must load exactly the events an independent reading of the files finds."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from trailtui.cli import build_parser, headless, main
from trailtui.data import ingest, scan
from trailtui.data.service import DataService
from trailtui.data.store import EventStore, LoadProgress
from trailtui.data.timerange import TimeRange, from_args, iso, make_range, parse_time, prune
from trailtui.widgets.status_line import Status, render_status

ORG = "o-abc123def4"
ACCOUNTS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1")
DAY0 = dt.datetime(2026, 3, 1)
DELAY = dt.timedelta(minutes=5)  # delivery lag: events before midnight land in the next day


def _event(i: int, when: dt.datetime, acct: str, region: str) -> dict[str, Any]:
    return {
        "eventVersion": "1.09", "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "s3.amazonaws.com", "eventName": f"Op{i % 7}", "awsRegion": region,
        "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2",
        "userIdentity": {"type": "IAMUser", "userName": f"u{i % 5}", "accountId": acct},
        "eventID": f"00000000-0000-4000-8000-{i:012d}", "eventType": "AwsApiCall",
        "recipientAccountId": acct, "readOnly": True,
    }


def _times() -> list[dt.datetime]:
    """Four days of events, dense around every midnight (the pruning boundary)."""
    out = []
    for day in range(4):
        base = DAY0 + dt.timedelta(days=day)
        for minute in (0, 1, 2, 4, 6, 9, 300, 700, 1200, 1430, 1433, 1436, 1438, 1439):
            out.append(base + dt.timedelta(minutes=minute, seconds=(minute * 7) % 60))
        out.append(base + dt.timedelta(hours=23, minutes=59, seconds=59))
        out.append(base)  # exactly midnight
    return sorted(out)


def write_org_tree(root: Path, per_object: int = 2) -> list[dict[str, Any]]:
    """AWSLogs/o-.../<acct>/CloudTrail/<region>/<y>/<m>/<d>/*.json.gz, objects foldered by
    delivery time (last event + 5 min), as CloudTrail does; returns every event written."""
    events: list[dict[str, Any]] = []
    i = 0
    for acct in ACCOUNTS:
        for region in REGIONS:
            recs = []
            for t in _times():
                recs.append(_event(i, t, acct, region))
                i += 1
            for k in range(0, len(recs), per_object):
                batch = recs[k : k + per_object]
                last = dt.datetime.strptime(batch[-1]["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
                d = last + DELAY
                folder = (root / "AWSLogs" / ORG / acct / "CloudTrail" / region
                          / f"{d:%Y}" / f"{d:%m}" / f"{d:%d}")
                folder.mkdir(parents=True, exist_ok=True)
                name = f"{acct}_CloudTrail_{region}_{d:%Y%m%dT%H%MZ}_{k:06d}.json.gz"
                body = json.dumps({"Records": batch}).encode()
                (folder / name).write_bytes(gzip.compress(body, mtime=0))
                events.extend(batch)
    return events


def independent(root: Path, rng: TimeRange | None = None) -> set[str]:
    """eventIDs in range, read with nothing but gzip and json."""
    out: set[str] = set()
    for f in root.rglob("*.json.gz"):
        for rec in json.loads(gzip.decompress(f.read_bytes()))["Records"]:
            t = parse_time(rec["eventTime"])
            if rng is None or ((rng.start is None or t >= rng.start)
                               and (rng.end is None or t <= rng.end)):
                out.add(rec["eventID"])
    return out


def loaded_ids(store: EventStore) -> set[str]:
    return {r[0] for r in store.con.execute("SELECT eventID FROM events").fetchall()}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("org")
    write_org_tree(root)
    return root


def test_the_tree_has_events_across_midnight_in_the_next_days_folder(tree: Path) -> None:
    late = [f for f in tree.rglob("*.json.gz") if f.parent.name == "02"
            and any(r["eventTime"].startswith("2026-03-01T23:5")
                    for r in json.loads(gzip.decompress(f.read_bytes()))["Records"])]
    assert late  # the case pruning must not lose


def test_a_whole_org_tree_loads_every_event_once(tree: Path) -> None:
    store = EventStore(cache=False)
    try:
        report = store.load([str(tree)])
        assert not report.errors
        assert loaded_ids(store) == independent(tree)
        assert store.event_count() == len(independent(tree))
        accounts = {r[0] for r in store.con.execute("SELECT account_id FROM events").fetchall()}
        assert accounts == set(ACCOUNTS)
    finally:
        store.close()


RANGES = [
    ("2026-03-02", None),
    (None, "2026-03-02"),
    ("2026-03-02", "2026-03-03"),
    ("2026-03-01T23:59:59Z", "2026-03-02T00:00:00Z"),
    ("2026-03-02T23:55:00Z", "2026-03-03T00:05:00Z"),
    ("2026-03-03T12:00:00+02:00", "2026-03-04T00:00:00Z"),
    ("2026-03-10", None),
]


@pytest.mark.parametrize(("since", "until"), RANGES)
def test_since_until_load_exactly_the_events_in_range(tree: Path, since: str | None,
                                                      until: str | None) -> None:
    rng = make_range(since, until)
    assert rng is not None
    store = EventStore(cache=False, time_range=rng)
    try:
        report = store.load([str(tree)])
        assert not report.errors
        want = independent(tree, rng)
        assert loaded_ids(store) == want
        total = len(independent(tree))
        opened = sum(f.events for f in report.files)
        assert report.outside_range == opened - len(want)  # every read event accounted for
        assert report.pruned_objects + len(report.files) == len(list(tree.rglob("*.json.gz")))
    finally:
        store.close()
    if since == "2026-03-10":
        assert report.pruned_objects == len(list(tree.rglob("*.json.gz")))
    elif since and until:
        assert report.pruned_objects > 0 and total > len(want)


def test_pruned_day_folders_are_never_opened(tree: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Path] = []
    real = ingest.read_file

    def spy(path: Path) -> ingest.FileRecords:
        opened.append(path)
        return real(path)

    monkeypatch.setattr(ingest, "read_file", spy)
    rng = make_range("2026-03-03T06:00Z", "2026-03-03T18:00Z")
    assert rng is not None
    store = EventStore(cache=False, time_range=rng)
    try:
        store.load([str(tree)])
        days = {p.parent.name for p in opened}
        assert days == {"02", "03", "04"}  # the range's day, and one day of margin each side
        assert loaded_ids(store) == independent(tree, rng)
    finally:
        store.close()


def test_a_download_is_filtered_by_event_time(tmp_path: Path) -> None:
    events = write_org_tree(tmp_path / "t")
    path = tmp_path / "event_history.json"
    path.write_text(json.dumps({"Records": events}))
    rng = make_range("2026-03-02T00:00:00Z", "2026-03-02T23:59:59Z")
    assert rng is not None
    store = EventStore(cache=False, time_range=rng)
    try:
        report = store.load([str(path)])
        assert loaded_ids(store) == independent(tmp_path / "t", rng)
        assert report.pruned_objects == 0
        assert report.outside_range == len(events) - store.event_count() > 0
    finally:
        store.close()


def test_parallel_reading_loads_what_serial_reading_loads(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same rows, same order, same files and lines, read inline or by 1 or 4 threads, and with
    chunks flushed by the clock (every file) or by size."""
    def snapshot(threads: int, first_screen: bool) -> tuple[list[Any], list[Any]]:
        monkeypatch.setattr(scan, "workers", lambda: threads)
        store = EventStore(cache=False)
        try:
            report = store.load([str(tree)], first_screen=first_screen)
            rows = store.con.execute(
                "SELECT eventID, source_file, account_id, region, day FROM events "
                "ORDER BY eventID").fetchall()
            files = [(f.path, f.kind, f.events, f.added) for f in report.files]
            raw = [json.loads(store.raw_event(fid, line))["eventID"] for fid, line in
                   store.con.execute("SELECT _file_id, _line FROM events").fetchall()]
            assert sorted(raw) == [r[0] for r in rows]  # each row finds its own record
            return rows, files
        finally:
            store.close()

    serial = snapshot(0, False)
    assert snapshot(1, False) == serial
    assert snapshot(4, False) == serial
    monkeypatch.setattr(scan, "FIRST_FLUSH_SECONDS", 0.0)  # a chunk every few files
    assert snapshot(2, True) == serial


def test_first_rows_come_before_the_last_object_of_a_tree(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the first screen small objects are not held back until 50,000 records."""
    monkeypatch.setattr(scan, "FIRST_FLUSH_SECONDS", 0.0)
    seen: list[LoadProgress] = []
    store = EventStore(cache=False)
    try:
        store.load([str(tree)], progress=seen.append, first_screen=True)
        ready = [p for p in seen if p.phase == "ready"]
        total = store.event_count()
        assert len(ready) > 2 and ready[1].events < total
        assert ready[-1].file_count == len(list(tree.rglob("*.json.gz")))
        assert seen[-1].phase == "done" and seen[-1].events == total
    finally:
        store.close()


def test_a_bad_object_in_a_pruned_folder_costs_nothing(tmp_path: Path) -> None:
    write_org_tree(tmp_path)
    bad = tmp_path / "AWSLogs" / ORG / ACCOUNTS[0] / "CloudTrail" / "us-east-1" / "2025/01/01"
    bad.mkdir(parents=True)
    (bad / "broken.json.gz").write_bytes(b"\x1f\x8bnot gzip")
    store = EventStore(cache=False, time_range=make_range("2026-03-01", None))
    try:
        report = store.load([str(tmp_path)])
        assert not report.errors and report.pruned_objects >= 1
    finally:
        store.close()
    store = EventStore(cache=False)
    try:
        assert any("broken.json.gz" in e for e in store.load([str(tmp_path)]).errors)
    finally:
        store.close()


def test_two_ranges_over_the_same_files_never_share_a_cache(tree: Path, tmp_path: Path) -> None:
    a = make_range("2026-03-02", "2026-03-02T12:00Z")
    b = make_range("2026-03-03", None)
    for rng in (a, b, a, None):
        store = EventStore(cache=True, cache_dir=tmp_path / "cache", time_range=rng)
        try:
            store.load([str(tree)])
            assert store.save_cache() is None
            assert loaded_ids(store) == independent(tree, rng)
        finally:
            store.close()


# --- the range itself -----------------------------------------------------------------------


def test_relative_and_absolute_bounds() -> None:
    now = parse_time("2026-03-10T12:00:00Z")
    rng = make_range("7d", "12h", now=now)
    assert rng is not None and rng.relative
    assert iso(rng.start or 0) == "2026-03-03T12:00:00Z"
    assert iso(rng.end or 0) == "2026-03-10T00:00:00Z"
    assert make_range("30m", None, now=now) == TimeRange(now - 1800, None, True)
    assert make_range("2026-03-01", "2026-03-02T00:00:00+01:00", now=now) == TimeRange(
        parse_time("2026-03-01"), parse_time("2026-03-01T23:00:00Z"), False)
    assert make_range(None, "2026-03-02", now=now) == TimeRange(  # a bare date: the whole day
        None, parse_time("2026-03-02T23:59:59Z"), False)
    assert make_range(None, None) is None
    with pytest.raises(ValueError, match="empty"):
        make_range("2026-03-02", "2026-03-01")
    with pytest.raises(ValueError, match="not a time"):
        make_range("last tuesday", None)


def test_from_and_to_are_aliases_defined_once_in_the_parser() -> None:
    now = parse_time("2026-03-10T12:00:00Z")
    a = from_args(build_parser().parse_args(["x", "--from", "2026-03-01", "--to", "2026-03-02"]))
    b = from_args(build_parser().parse_args(["x", "--since", "2026-03-01", "--until",
                                             "2026-03-02"]))
    assert a == b == TimeRange(parse_time("2026-03-01"), parse_time("2026-03-02T23:59:59Z"))
    args = build_parser().parse_args(["x", "--since", "7d"])
    assert make_range(args.since, args.to, now=now) == TimeRange(now - 7 * 86400, None, True)
    with pytest.raises(ValueError, match="not both"):
        from_args(build_parser().parse_args(["x", "--since", "7d", "--from", "2026-03-01"]))


def test_a_day_folder_is_kept_with_a_day_of_margin() -> None:
    rng = make_range("2026-03-03T00:00:00Z", "2026-03-03T00:00:00Z")
    assert rng is not None
    files = [Path(f"AWSLogs/{ORG}/{ACCOUNTS[0]}/CloudTrail/us-east-1/2026/03/{d:02d}/x.json.gz")
             for d in range(1, 6)] + [Path("event_history.json")]
    kept = prune(files, rng)
    assert [f.parts[-2] if f.parent.name else f.name for f in kept.files] == [
        "02", "03", "04", "event_history.json"]
    assert kept.skipped == 2
    assert prune(files, None).files == files


def test_headless_says_what_the_range_left_out(tree: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = headless([str(tree)], "SELECT count(*) AS n FROM events", "csv", cache=False,
                    out=out, err=err, time_range=make_range("2026-03-02", "2026-03-02T06:00Z"))
    assert code == 0
    assert int(out.getvalue().splitlines()[1]) == len(
        independent(tree, make_range("2026-03-02", "2026-03-02T06:00Z")))
    assert "objects not opened" in err.getvalue() and "events outside" in err.getvalue()


def test_the_status_line_names_the_range(tree: Path) -> None:
    store = EventStore(cache=False, time_range=make_range("2026-03-04", None))
    data = DataService(store)
    try:
        store.load([str(tree)])
        note = data.range_note()
        assert note.startswith("since 2026-03-04T00:00:00Z") and "not opened" in note
        assert note in str(render_status(Status(shown=1, total=1, time_range=note)))
    finally:
        data.close()
        store.close()


def test_a_tree_load_cancelled_while_reading_ahead_keeps_only_whole_chunks(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "FIRST_FLUSH_SECONDS", 0.0)  # a chunk every few files
    cancel = threading.Event()

    def progress(p: LoadProgress) -> None:
        if p.phase == "ready" and p.events:
            cancel.set()  # escape once the first rows are on screen

    store = EventStore(cache=False)
    try:
        report = store.load([str(tree)], progress=progress, cancel=cancel, first_screen=True)
        assert report.cancelled
        n = store.event_count()
        assert 0 < n < len(independent(tree))
        assert n == sum(f.added for f in report.files) == report.events_added
        assert loaded_ids(store) <= independent(tree)
    finally:
        store.close()


def test_the_command_line_range_reaches_sql_findings_and_coverage(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = make_range("2026-03-03", "2026-03-03")
    want = len(independent(tree, rng))
    assert main([str(tree), "--no-cache", "--from", "2026-03-03", "--to", "2026-03-03",
                 "--sql", "SELECT count(*) FROM events", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == str(want)
    assert main([str(tree), "--no-cache", "--since", "2026-03-03", "--until", "2026-03-03",
                 "--coverage", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["events"] == want
    with pytest.raises(SystemExit):
        main([str(tree), "--since", "someday", "--sql", "SELECT 1"])
    assert "not a time" in capsys.readouterr().err


async def test_the_app_opens_a_tree_with_a_range_and_says_what_it_left_out(tree: Path) -> None:
    from trailtui.app import TrailApp
    from trailtui.pilot import settle
    from trailtui.screens.browser import BrowserScreen

    rng = make_range("2026-03-02", "2026-03-02")
    app = TrailApp([str(tree)], cache=False, time_range=rng)
    async with app.run_test(size=(200, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        want = len(independent(tree, rng))
        status = str(screen.query_one("#status").render())
        assert f"{want:,} of {want:,} events" in status
        assert "2026-03-02T00:00:00Z to 2026-03-02T23:59:59Z" in status
        assert "objects not opened" in status and "events outside" in status


async def test_a_filter_change_paints_the_view_and_its_facets_together() -> None:
    """One repaint per filter change: the new view and the facet counts of the same
    generation go on screen in one batch (not the table, then nine panels)."""
    from trailtui.app import TrailApp
    from trailtui.cli import demo_path
    from trailtui.messages import FacetsReady, ViewReady
    from trailtui.pilot import settle
    from trailtui.screens.browser import BrowserScreen
    from trailtui.screens.repaint import PairedPaint

    painted: list[tuple[int, int | None]] = []
    real = PairedPaint._paint

    def spy(self: PairedPaint, view: ViewReady, facets: FacetsReady | None) -> None:
        painted.append((view.generation, None if facets is None else facets.generation))
        real(self, view, facets)

    app = TrailApp([str(demo_path())], cache=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        PairedPaint._paint = spy  # type: ignore[method-assign]
        try:
            await pilot.press("f", "enter")  # pick the first value of the first facet
            await settle(pilot)
            await pilot.pause(0.3)
        finally:
            PairedPaint._paint = real  # type: ignore[method-assign]
        assert screen.filters.chips
        mine = [p for p in painted if p[0] == screen.generation]
        assert mine == [(screen.generation, screen.generation)]
