"""Evidence that lasts: marks and bookmarks by row key, sessions saved per data set, the
investigation report (Markdown and JSON) and headless `--report`; one time zone everywhere."""

from __future__ import annotations

import datetime as dt
import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from _fixtures import RECORDS, record, write_ndjson

from trailtui import cli
from trailtui.data import report as reports
from trailtui.data import session as sessions
from trailtui.data.evidence import EventRef, Evidence, refs_for, resolve
from trailtui.data.filters import Chip, FieldChip, FilterState, toggle_field_value
from trailtui.data.store import EventStore
from trailtui.data.tz import TimeZone

HOSTILE = record(
    50, eventName="PutBucketPolicy", readOnly=False,
    userAgent="evil\x1b]52;c;SGVsbG8=\x07 ``` | [x](http://e) \u202e",
    requestParameters={"bucketName": "b` | **bold**", "policy": "```\n# heading"},
)
ALL = [*RECORDS, HOSTILE]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("evidence")
    return [str(write_ndjson(ALL, folder / "events.ndjson"))]


@pytest.fixture(scope="module")
def store(files: list[str]) -> Iterator[EventStore]:
    s = EventStore(cache=False)
    s.load(files)
    yield s
    s.close()


@pytest.fixture
def cur(store: EventStore) -> Iterator[duckdb.DuckDBPyConnection]:
    c = store.cursor()
    yield c
    c.close()


def _ref(cur: duckdb.DuckDBPyConnection, event_id: str) -> EventRef:
    f, n = cur.execute("SELECT _file_id, _line FROM events WHERE eventID = ?",
                       [event_id]).fetchall()[0]
    return refs_for(cur, [(int(f), int(n))])[0]


def _eid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


# -- marks and bookmarks -------------------------------------------------------------------------


def test_marks_are_keyed_by_event_not_position(cur: duckdb.DuckDBPyConnection) -> None:
    ev = Evidence()
    a, b = _ref(cur, _eid(6)), _ref(cur, _eid(9))
    assert ev.toggle_mark(a) and ev.toggle_mark(b)
    assert a.event_id == _eid(6) and isinstance(a.event_time, dt.datetime)
    # Filters come and go (and are undone): marks are not part of them.
    state = FilterState().add(Chip.include("actor", "bob")).add(Chip.search("x"))
    state = state.undo().undo()
    assert ev.mark_keys == {a.key, b.key}
    assert not ev.toggle_mark(a) and ev.mark_keys == {b.key}
    assert ev.clear_marks() == 1 and not ev
    assert ev.restore_marks() == 1 and ev.mark_keys == {b.key}


def test_bookmarks_keep_one_note_each(cur: duckdb.DuckDBPyConnection) -> None:
    ev = Evidence()
    ref = _ref(cur, _eid(6))
    ev.set_bookmark(ref, "  first\nlook  ")
    ev.set_bookmark(ref, "bob deleted a bucket")
    assert [b.note for b in ev.bookmarks] == ["bob deleted a bucket"]
    assert ev.bookmark_of(ref.key) is not None
    assert ev.remove_bookmark(ref.key) is not None and not ev


def test_resolve_finds_moved_events_by_event_id(cur: duckdb.DuckDBPyConnection) -> None:
    ref = _ref(cur, _eid(9))
    moved = EventRef(ref.file_id + 50, ref.line, ref.event_id, ref.event_time)
    gone = EventRef(1, 99999, "no-such-id", None)
    mapping, missing = resolve(cur, [ref, moved, gone])
    assert mapping[ref.key] == ref
    assert mapping[moved.key] == ref
    assert missing == [gone.key]


# -- sessions ------------------------------------------------------------------------------------


def test_session_round_trip_private_file(tmp_path: Path, cur: duckdb.DuckDBPyConnection) -> None:
    state = FilterState().add(Chip.include("actor", "bob")).add(Chip.exclude("readOnly", True))
    state = toggle_field_value(state, "requestParameters.bucketName", "a")
    state = toggle_field_value(state, "requestParameters.bucketName", None)
    state = state.add(Chip.time(dt.datetime(2024, 5, 1, 10), None)).add(Chip.search("O'Brien"))
    state = state.add(Chip.around(dt.datetime(2024, 5, 1, 11)))
    state = state.add(FieldChip.not_equals('requestParameters["a.b"]', "x"))
    ev = Evidence([_ref(cur, _eid(1))])
    ev.set_bookmark(_ref(cur, _eid(6)), "bob")
    sess = sessions.Session(["/x/a.json"], state, ["eventTime", "userIdentity.arn"],
                            ["actor"], ev, "Europe/Paris", ("actor", False))
    path = sessions.session_path(["/x/a.json"], tmp_path)
    assert sessions.save_session(sess, path) is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    back, notes = sessions.load_session(path)
    assert back is not None and notes == []
    assert back.filters.chips == state.chips
    assert back.columns == sess.columns and back.facets == ["actor"]
    assert back.time_zone == "Europe/Paris" and back.sort == ("actor", False)
    assert back.evidence.mark_keys == ev.mark_keys
    assert [(b.ref, b.note) for b in back.evidence.bookmarks] == [
        (b.ref, b.note) for b in ev.bookmarks]


def test_session_key_ignores_order(tmp_path: Path) -> None:
    assert sessions.dataset_key(["b", "a"]) == sessions.dataset_key(["a", "b", "a"])
    assert sessions.dataset_key(["a"]) != sessions.dataset_key(["b"])


@pytest.mark.parametrize("content", [b"", b"{not json", b"[1,2]", b'{"format": 99}',
                                     b'{"format": 1, "filters": [{"kind": "nope"}, 3]}',
                                     b"\xff\xfe"])
def test_damaged_sessions_never_raise(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(content)
    sess, notes = sessions.load_session(path)
    if sess is not None:
        assert not sess.filters and notes
    else:
        assert notes


def test_session_save_failure_is_one_message(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    problem = sessions.save_session(sessions.Session(), blocker / "sessions" / "s.json")
    assert problem and "session not saved" in problem


# -- time zone -----------------------------------------------------------------------------------


def test_one_zone_formats_and_parses_the_same_instant() -> None:
    paris = TimeZone.named("Europe/Paris")
    t = dt.datetime(2024, 5, 1, 10, 0, 0)  # naive UTC, as eventTime
    shown = paris.format(t)
    assert shown == "2024-05-01 12:00:00"
    assert paris.parse(shown) == t  # a time copied from the table means the same instant
    assert paris.parse("2024-05-01T10:00:00Z") == t  # an explicit zone wins
    assert paris.parse("2024-05-01") == dt.datetime(2024, 4, 30, 22)
    assert paris.parse("2024-05-01", "to") == dt.datetime(2024, 5, 1, 22)
    assert paris.parse("-1h", newest=t) == t - dt.timedelta(hours=1)
    assert paris.parse("") is None
    assert paris.label == "Europe/Paris" and "UTC+0200" in paris.offset_label(t)
    utc = TimeZone.named("utc")
    assert utc.is_utc and utc.format(t) == "2024-05-01 10:00:00" and utc.label == "UTC"
    with pytest.raises(ValueError, match="unknown time zone"):
        TimeZone.named("Mars/Olympus")
    with pytest.raises(ValueError, match="not a time"):
        paris.parse("yesterday-ish")


def test_local_zone_has_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    local = TimeZone.named("local")
    assert local.label == "America/New_York"
    assert local.format(dt.datetime(2024, 1, 1, 12)) == "2024-01-01 07:00:00"


# -- report --------------------------------------------------------------------------------------


def _evidence(cur: duckdb.DuckDBPyConnection) -> Evidence:
    ev = Evidence([_ref(cur, _eid(1)), _ref(cur, _eid(6))])
    ev.set_bookmark(_ref(cur, _eid(6)), "bob | deleted `the` bucket")
    ev.set_bookmark(_ref(cur, _eid(50)), "hostile agent")
    return ev


def test_report_json_has_notes_facts_and_exact_records(
    store: EventStore, cur: duckdb.DuckDBPyConnection
) -> None:
    state = FilterState().add(FieldChip.equals("eventSource", "s3.amazonaws.com"))
    rep = reports.build_report(store, cur, state, _evidence(cur))
    data = json.loads(rep.to_json())
    assert rep.to_json().isascii()
    assert data["filters"] == ["eventSource = s3.amazonaws.com"]
    assert data["events_matching_filters"] == sum(
        r["eventSource"] == "s3.amazonaws.com" for r in ALL)
    kinds = [(e["kind"], e["eventID"], e["note"]) for e in data["events"]]
    assert kinds == [("bookmark", _eid(6), "bob | deleted `the` bucket"),
                     ("bookmark", _eid(50), "hostile agent"), ("mark", _eid(1), "")]
    bob = data["events"][0]
    assert bob["eventTime"] == "2024-05-01T10:00:06Z"
    assert bob["actor"] == "bob" and bob["source IP"] == "198.51.100.7"
    assert bob["principal ARN"] == "arn:aws:iam::012345678901:user/bob"
    assert bob["access key"] == "AKIABOB"
    raws = list(store.raw_events([_ref(cur, _eid(50)).key]))
    assert data["events"][1]["original"] == raws[0].decode()
    assert json.loads(data["events"][1]["original"]) == HOSTILE


def test_report_markdown_is_safe_to_paste(
    store: EventStore, cur: duckdb.DuckDBPyConnection
) -> None:
    state = FilterState().add(Chip.search("evil`|"))
    md = reports.build_report(store, cur, state, _evidence(cur)).to_markdown()
    assert "\x1b" not in md and "\u202e" not in md and "\x07" not in md
    assert "``bob \\| deleted `the` bucket``" in md
    assert "## Bookmarked events (2)" in md and "## Marked events (1)" in md
    # Each original record sits in a fence longer than any backtick run inside it.
    for block in md.split("Original record:")[1:]:
        body = block.strip().splitlines()
        fence = body[0].removesuffix("json")
        closing = body.index(fence, 1)
        record_text = "\n".join(body[1:closing])
        assert len(fence) >= 3 and fence not in record_text
        json.loads(record_text)  # still valid JSON (escapes instead of raw controls)
    # Every line outside fences that quotes data is inside code spans: no headings injected.
    assert "\n# heading" not in md.split("## Events in detail")[0]


def test_empty_report_says_so(store: EventStore, cur: duckdb.DuckDBPyConnection) -> None:
    md = reports.build_report(store, cur, FilterState(), Evidence()).to_markdown()
    assert "None: every loaded event." in md and "## Bookmarked events (0)" in md


# -- headless ------------------------------------------------------------------------------------


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_headless_report_from_bookmarks_file(
    files: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marks = tmp_path / "marks.txt"
    marks.write_text(f"# kept\n{_eid(6)} bob deleted the bucket\n{_eid(11)}\nnot-an-id\n")
    code, out, err = _run([*files, "--no-cache", "--report", "json", "--bookmarks",
                           str(marks)], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert [(e["eventID"], e["note"]) for e in data["events"]] == [
        (_eid(6), "bob deleted the bucket"), (_eid(11), "")]
    assert "not-an-id is not in the loaded events" in err
    listing = tmp_path / "marks.json"
    listing.write_text(json.dumps([{"eventID": _eid(9), "note": "run"}]))
    code, out, err = _run([*files, "--no-cache", "--bookmarks", str(listing)], capsys)
    assert code == 0 and out.startswith("# CloudTrail investigation")
    assert "`run`" in out


def test_headless_report_from_the_saved_session(
    files: list[str], store: EventStore, cur: duckdb.DuckDBPyConnection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ev = Evidence()
    ev.set_bookmark(_ref(cur, _eid(9)), "instance launched")
    state = FilterState().add(Chip.include("actor", "DeployRole"))
    path = sessions.session_path(files)
    assert sessions.save_session(sessions.Session(list(files), state, evidence=ev), path) is None
    try:
        code, out, err = _run([*files, "--no-cache", "--report", "markdown"], capsys)
    finally:
        sessions.delete_session(path)
    assert code == 0, err
    assert "`actor = DeployRole`" in out and "`instance launched`" in out
    assert '"eventName": "RunInstances"' in out.replace('"eventName":"', '"eventName": "')


def test_headless_report_problems_are_one_line(
    files: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = _run([*files, "--no-cache", "--report", "json"], capsys)
    assert code == 1 and "nothing kept" in err
    code, _out, err = _run([*files, "--no-cache", "--report", "json", "--bookmarks",
                            str(tmp_path / "missing.txt")], capsys)
    assert code == 1 and "cannot read" in err and "Traceback" not in err
    code, _out, err = _run(["--report", "json"], capsys)
    assert code == 2


def test_report_reader_accepts_plain_and_json_lists() -> None:
    assert reports.read_bookmarks_file("a note here\n\n# c\nb\tx y\n") == [
        ("a", "note here"), ("b", "x y")]
    assert reports.read_bookmarks_file('["a", {"eventID": "b", "note": "n"}]') == [
        ("a", ""), ("b", "n")]
    with pytest.raises(ValueError):
        reports.read_bookmarks_file("# nothing\n")


def test_report_streams_write_to_given_files(files: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert reports.headless_report(files, "json", cache=False, out=out, err=err) == 1
    assert "nothing kept" in err.getvalue()


def test_headless_report_keeps_to_since(
    files: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--report --since` loads only that range, says so, and names a kept event outside it."""
    marks = tmp_path / "marks.txt"
    marks.write_text(f"{_eid(6)} before the range\n{_eid(11)} inside it\n")
    code, out, err = _run([*files, "--no-cache", "--since", "2024-05-01T10:00:08Z",
                           "--report", "json", "--bookmarks", str(marks)], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert [e["eventID"] for e in data["events"]] == [_eid(11)]
    assert data["loaded_range"] == "since 2024-05-01T10:00:08Z"
    assert f"{_eid(6)} is not in the loaded events" in err
    code, out, err = _run([*files, "--no-cache", "--since", "2024-05-01T10:00:08Z",
                           "--bookmarks", str(marks)], capsys)
    assert code == 0 and "- Time range loaded: `since 2024-05-01T10:00:08Z`" in out
