"""Issue 8: damaged and hostile files never cost a good event; the cache cannot lie.

Every input is built here, small. Each case asserts the exact number of events kept and the
one message naming the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from trailtui.cli import headless, main
from trailtui.data import cache, dedup, guard, packed, salvage
from trailtui.data.export import ExportFormat, export_events
from trailtui.data.filters import Chip, FilterState
from trailtui.data.history import History
from trailtui.data.results import execute
from trailtui.data.safe_csv import writer
from trailtui.data.store import EventStore

N = 100
BAD = 50  # the index of the damaged record


def rec(i: int, **extra: object) -> dict[str, object]:
    r: dict[str, object] = {
        "eventVersion": "1.08", "eventTime": f"2024-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
        "eventName": "ListBuckets", "eventSource": "s3.amazonaws.com", "eventID": f"id-{i}",
        "userIdentity": {"type": "IAMUser", "userName": "alice"}, "awsRegion": "us-east-1",
    }
    r.update(extra)
    return r


def lines(n: int = N) -> list[bytes]:
    return [json.dumps(rec(i)).encode() for i in range(n)]


def damage(kind: str) -> list[bytes]:
    out = lines()
    if kind == "utf8":
        out[BAD] = out[BAD].replace(b"alice", b"al\xffce")
    elif kind == "surrogate":
        out[BAD] = out[BAD].replace(b"alice", b"al\\ud800ce")
    elif kind == "dupkey":
        out[BAD] = out[BAD].replace(b'"eventName": "ListBuckets"',
                                    b'"eventName": "ListBuckets", "eventName": "DeleteBucket"')
    elif kind == "deep":
        out[BAD] = (out[BAD][:-1] + b', "requestParameters": ' + b'{"a":' * 1000 + b"1"
                    + b"}" * 1000 + b"}")
    return out


def compact(recs: list[bytes]) -> bytes:
    return b'{"Records":[' + b",".join(recs) + b"]}"


def load(*paths: Path) -> tuple[int, list[str], EventStore]:
    store = EventStore(cache=False)
    report = store.load([str(p) for p in paths])
    return store.event_count(), report.messages(), store


@pytest.fixture
def loaded() -> Iterator[list[EventStore]]:
    stores: list[EventStore] = []
    yield stores
    for s in stores:
        s.close()


# --- one bad record costs itself only ------------------------------------------------------

REASONS = {"utf8": "invalid UTF-8", "surrogate": "lone surrogate escape",
           "dupkey": "duplicate key 'eventName'", "deep": "nested deeper than 200 levels"}


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_one_bad_record_in_a_download_costs_that_record(
    tmp_path: Path, kind: str, loaded: list[EventStore]
) -> None:
    recs = damage(kind)
    path = tmp_path / f"{kind}.json"
    path.write_bytes(compact(recs))
    offset = compact(recs).index(recs[BAD])
    n, messages, store = load(path)
    loaded.append(store)
    assert n == N - 1
    assert messages == [f"{path}: 1 of {N} records skipped (byte {offset:,}: {REASONS[kind]})"]


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_one_bad_line_in_ndjson_costs_that_line(
    tmp_path: Path, kind: str, loaded: list[EventStore]
) -> None:
    path = tmp_path / f"{kind}.ndjson"
    path.write_bytes(b"\n".join(damage(kind)) + b"\n")
    n, messages, store = load(path)
    loaded.append(store)
    assert n == N - 1
    assert messages == [f"{path}: 1 of {N} records skipped (line {BAD + 1}: {REASONS[kind]})"]


def test_a_repeated_key_nested_deeper_is_kept(tmp_path: Path, loaded: list[EventStore]) -> None:
    recs = lines()
    recs[BAD] = recs[BAD].replace(b'"userName": "alice"', b'"userName": "alice", "userName": "b"')
    path = tmp_path / "nested_dup.json"
    path.write_bytes(compact(recs))
    n, messages, store = load(path)
    loaded.append(store)
    assert (n, messages) == (N, [])


def test_bad_records_in_a_big_file_are_named_each(tmp_path: Path,
                                                  loaded: list[EventStore]) -> None:
    recs = lines(2000)
    for i in (10, 700, 1500):
        recs[i] = recs[i].replace(b"alice", b"\xc3\x28")
    path = tmp_path / "three.json"
    data = compact(recs)
    path.write_bytes(data)
    n, messages, store = load(path)
    loaded.append(store)
    assert n == 1997
    places = ", ".join(f"byte {data.index(recs[i]):,}: invalid UTF-8" for i in (10, 700, 1500))
    places = places.replace(", byte", "; byte")
    assert messages == [f"{path}: 3 of 2,000 records skipped ({places})"]


# --- a cut download keeps every complete event ---------------------------------------------


def _cut_before(data: bytes, event: int) -> bytes:
    return data[: data.index(f'"id-{event}"'.encode()) - 10]


CUT = ("cut after 59 events (the file ends mid-record; every complete event before the cut "
       "is loaded)")


@pytest.mark.parametrize("indent", [None, 2])
def test_a_cut_download_keeps_every_complete_event(
    tmp_path: Path, indent: int | None, loaded: list[EventStore]
) -> None:
    doc = json.dumps({"Records": [rec(i) for i in range(N)]}, indent=indent).encode()
    path = tmp_path / ("pretty.json" if indent else "compact.json")
    path.write_bytes(_cut_before(doc, 59))
    n, messages, store = load(path)
    loaded.append(store)
    assert n == 59
    assert messages == [f"{path}: {CUT}"]


def test_a_cut_bare_array_and_ndjson(tmp_path: Path, loaded: list[EventStore]) -> None:
    arr = tmp_path / "arr.json"
    arr.write_bytes(_cut_before(json.dumps([rec(i) for i in range(N)]).encode(), 59))
    nd = tmp_path / "cut.ndjson"
    nd.write_bytes(_cut_before(b"\n".join(lines()), 59))
    for path in (arr, nd):
        n, messages, store = load(path)
        loaded.append(store)
        assert (n, messages) == (59, [f"{path}: {CUT}"])


def test_a_cut_gzip_keeps_what_came_before(tmp_path: Path, loaded: list[EventStore]) -> None:
    doc = json.dumps({"Records": [rec(i, pad=os.urandom(200).hex()) for i in range(N)]})
    z = gzip.compress(doc.encode())
    path = tmp_path / "cut.json.gz"
    path.write_bytes(z[: len(z) // 2])
    n, messages, store = load(path)
    loaded.append(store)
    assert 0 < n < N
    assert messages == [f"{path}: cut after {n} events (the file ends mid-record; every "
                        "complete event before the cut is loaded)"]


def test_a_cut_before_the_first_event_says_truncated(tmp_path: Path,
                                                     loaded: list[EventStore]) -> None:
    path = tmp_path / "nothing.json"
    path.write_bytes(compact(lines(3))[:40])
    n, messages, store = load(path)
    loaded.append(store)
    assert n == 0
    assert messages == [f"{path}: truncated or invalid JSON (Input data was truncated)"]


def test_a_gzip_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                loaded: list[EventStore]) -> None:
    monkeypatch.setenv("TRAILTUI_MAX_GUNZIP", str(1 << 20))
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b'{"Records":[' + b" " * (8 << 20) + b"]}"))
    good = tmp_path / "good.json"
    good.write_bytes(compact(lines(10)))
    n, messages, store = load(bomb, good)
    loaded.append(store)
    assert n == 10
    assert messages == [f"{bomb}: expands beyond 1,048,576 bytes after gunzip (a gzip bomb?), "
                        "refused; set TRAILTUI_MAX_GUNZIP to allow more"]


def test_gunzip_streams_every_member() -> None:
    data = gzip.compress(b"ab") + gzip.compress(b"cd")
    assert salvage.gunzip(io.BytesIO(data), Path("x")).data == b"abcd"


def test_deep_nesting_in_headless_gives_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(compact(damage("deep")))
    out, err = io.StringIO(), io.StringIO()
    code = headless([str(path)], "SELECT count(*) AS n FROM events", "jsonl", cache=False,
                    out=out, err=err)
    assert code == 0 and json.loads(out.getvalue()) == {"n": N - 1}
    assert "Traceback" not in err.getvalue() and "nested deeper" in err.getvalue()


# --- exact dedup, said out loud ------------------------------------------------------------


def test_only_exact_copies_are_merged_and_counted(tmp_path: Path,
                                                  loaded: list[EventStore]) -> None:
    base = [rec(i) for i in range(20)]
    a = tmp_path / "a.json"
    a.write_text(json.dumps({"Records": base}))
    b_recs = [dict(reversed(list(r.items()))) for r in base[:7]]  # same content, keys reordered
    b_recs.append(dict(base[7], enrichment="geo:FR"))  # differs by one extra key: kept
    b_recs.append(dict(base[8], eventName="DeleteBucket"))  # same eventID, other content: kept
    b = tmp_path / "b.json"
    b.write_text(json.dumps({"Records": b_recs}, indent=3, sort_keys=True))
    store = EventStore(cache=False)
    loaded.append(store)
    report = store.load([str(a), str(b)])
    assert store.event_count() == 22
    assert report.duplicates == 7 and store.duplicates == 7
    assert any("7 duplicate records merged" in e.text for e in store.log.entries())


def test_duplicate_rows_compare_content_not_bytes() -> None:
    rows = [(1, 1, 0, "h"), (2, 2, 0, "h"), (3, 2, 1, "h")]
    raws = [b'{"a":1,"b":2}', b'{"b":2, "a":1}', b'{"a":1,"b":3}']
    assert dedup.duplicate_rows(rows, raws, fid=2) == [2]


# --- safe output ---------------------------------------------------------------------------

HOSTILE = ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tTAB", "\r=cmd|' /C calc'!A0",
           "x\r=cmd|' /C calc'!A0", "line\nbreak", "plain"]


def test_headless_csv_has_no_formula_cell_and_no_forged_row(tmp_path: Path,
                                                            loaded: list[EventStore]) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"Records": [rec(i, userAgent=ua) for i, ua in
                                            enumerate(HOSTILE)]}))
    out, err = io.StringIO(), io.StringIO()
    code = headless([str(path)], "SELECT userAgent, -5 AS n FROM events ORDER BY eventID",
                    "csv", cache=False, out=out, err=err)
    assert code == 0
    text = out.getvalue()
    # A spreadsheet splits rows on CR, LF or CRLF outside quotes: exactly 1 + 9 rows.
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + len(HOSTILE)
    for row in rows[1:]:
        assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert row[1] == "-5"  # a number stays a number
    # Every CR or LF inside a value is inside quotes (RFC 4180): no row can be forged.
    assert '"x\r=cmd' in text and '"line\nbreak"' in text
    assert sorted(r[0] for r in rows[1:]) == sorted(
        ("'" + v if v.startswith(("=", "+", "-", "@", "\t", "\r")) else v) for v in HOSTILE)


def test_safe_writer_quotes_a_lone_cr() -> None:
    out = io.StringIO()
    writer(out).writerow(["a\rb", "c"])
    assert out.getvalue() == '"a\rb","c"\n'


def test_tui_csv_export_is_neutralised_and_private(tmp_path: Path, loaded: list[EventStore],
                                                   umask022: None) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"Records": [rec(i, userAgent=ua) for i, ua in
                                            enumerate(HOSTILE)]}))
    store = EventStore(cache=False)
    loaded.append(store)
    store.load([str(path)])
    cur = store.cursor()
    for fmt, name in ((ExportFormat.CSV, "x.csv"), (ExportFormat.PARQUET, "x.parquet"),
                      (ExportFormat.RECORDS, "x.json")):
        export_events(cur, store, tmp_path / name, fmt)
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    rows = list(csv.reader((tmp_path / "x.csv").open(newline="")))
    col = rows[0].index("userAgent")
    assert len(rows) == 1 + len(HOSTILE)
    assert not any(r[col].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows[1:])
    cur.close()


@pytest.mark.parametrize("value", ["a\x1b[31mred", "bell\x07", "two\nlines", "nul\x00byte",
                                   "quote'd", "rtl\u202eevil"])
def test_copied_filter_sql_matches_what_the_screen_matched(
    tmp_path: Path, value: str, loaded: list[EventStore]
) -> None:
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"Records": [rec(0, userAgent=value), rec(1)]}))
    store = EventStore(cache=False)
    loaded.append(store)
    store.load([str(path)])
    state = FilterState().add(Chip.include("userAgent", value))
    where, params = state.where()
    cur = store.cursor()
    on_screen = cur.execute(f"SELECT count(*) FROM events WHERE {where}", params).fetchall()
    copied = state.to_duckdb_sql()
    assert not any(ord(c) < 0x20 and c != "\n" for c in copied)
    assert "\x1b" not in copied and "\u202e" not in copied
    from_copy = cur.execute(f"SELECT count(*) FROM ({copied.rstrip(';')})").fetchall()
    assert on_screen == from_copy == [(1,)]
    assert not any(ord(c) < 0x20 and c != "\n" for c in state.to_athena_sql())
    cur.close()


# --- the cache cannot lie ------------------------------------------------------------------


@pytest.fixture
def umask022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _cached(src: Path, cache_dir: Path) -> Path:
    store = EventStore(cache=True)
    try:
        store.load([str(src)])
        assert store.save_cache() is None
    finally:
        store.close()
    (entry,) = [p for p in cache_dir.iterdir() if p.is_dir()]
    return entry


def _reopen(src: Path) -> tuple[bool, int, list[str], list[bytes]]:
    store = EventStore(cache=True)
    try:
        report = store.load([str(src)])
        keys = [(int(f), int(ln)) for f, ln in store.con.execute(
            "SELECT _file_id, _line FROM events ORDER BY eventID").fetchall()]
        raws = list(store.raw_events(keys))
        store.save_cache()
        return report.from_cache, store.event_count(), report.warnings, raws
    finally:
        store.close()


def _overwrite(path: Path, at: int, n: int = 4096) -> None:
    with path.open("r+b") as fh:
        fh.seek(at)
        fh.write(b"X" * min(n, max(0, path.stat().st_size - at)))


def _middle(path: Path) -> int:
    return path.stat().st_size // 2


# Chunks are cached compressed (`<id>.zst` frames, `<id>.frm` frame index, `<id>.idx` lines).
FAULTS: dict[str, Callable[[Path], object]] = {
    "truncate chunk": lambda e: os.truncate(next(e.glob("chunks/*.zst")), 100),
    "overwrite 4 KB of chunk": lambda e: _overwrite(z := next(e.glob("chunks/*.zst")),
                                                    _middle(z)),
    "overwrite index": lambda e: _overwrite(next(e.glob("chunks/*.idx")), 8, 16),
    "overwrite frame index": lambda e: _overwrite(next(e.glob("chunks/*.frm")), 8, 8),
    "delete chunk": lambda e: next(e.glob("chunks/*.zst")).unlink(),
    "delete index": lambda e: next(e.glob("chunks/*.idx")).unlink(),
    "delete frame index": lambda e: next(e.glob("chunks/*.frm")).unlink(),
    "truncate frame index": lambda e: os.truncate(next(e.glob("chunks/*.frm")), 8),
    "truncate database": lambda e: os.truncate(e / "events.duckdb", 4096),
    "manifest garbage": lambda e: (e / "manifest.json").write_text("{not json"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_cache_fault_rebuilds(tmp_path: Path, cache_dir: Path, fault: str) -> None:
    src = tmp_path / "src.json"
    src.write_bytes(compact(lines(300)))
    entry = _cached(src, cache_dir)
    assert _reopen(src)[:2] == (True, 300)
    FAULTS[fault](entry)
    from_cache, n, warnings, raws = _reopen(src)
    assert not from_cache and n == 300
    assert any("rebuilt from the files" in w for w in warnings)
    assert sorted(json.loads(r)["eventID"] for r in raws) == sorted(f"id-{i}" for i in range(300))
    assert _reopen(src)[0]  # the rebuilt cache is used again


def test_a_same_size_replacement_with_touch_r_is_not_stale(tmp_path: Path,
                                                           cache_dir: Path) -> None:
    src = tmp_path / "src.json"
    src.write_bytes(compact(lines(10)))
    _cached(src, cache_dir)
    st = src.stat()
    other = tmp_path / "other.json"
    other.write_bytes(compact(lines(10)).replace(b"alice", b"mallo"))
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    other.replace(src)  # same size, same mtime (`mv` + `touch -r`)
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert src.stat().st_size == st.st_size and src.stat().st_mtime_ns == st.st_mtime_ns
    from_cache, n, _w, raws = _reopen(src)
    assert not from_cache and n == 10 and b"mallo" in raws[0]


def test_damage_found_after_opening_is_refused(tmp_path: Path, cache_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "EAGER_VERIFY_BYTES", 0)
    monkeypatch.setattr(cache, "BLOCK", 4096)
    monkeypatch.setattr(packed, "FRAME", 4096)
    src = tmp_path / "src.json"
    # Random text compresses little: the compressed chunk spans many 4 KB blocks.
    src.write_bytes(compact([json.dumps(rec(i, nonce=os.urandom(100).hex())).encode()
                             for i in range(300)]))
    entry = _cached(src, cache_dir)
    chunk = next(entry.glob("chunks/*.zst"))
    assert chunk.stat().st_size > 40_000
    _overwrite(chunk, 20_000, 100)  # a middle block: not checked on open at this size
    store = EventStore(cache=True)
    try:
        assert store.load([str(src)]).from_cache
        keys = [(int(f), int(ln)) for f, ln in store.con.execute(
            "SELECT _file_id, _line FROM events").fetchall()]
        with pytest.raises(cache.CacheDamaged):
            list(store.raw_events(keys))
        assert any("cache damaged" in e.text for e in store.log.entries())
    finally:
        store.close()
    assert not _reopen(src)[0]  # the next start rebuilds


def test_cache_history_and_exports_are_private(tmp_path: Path, cache_dir: Path,
                                               umask022: None) -> None:
    src = tmp_path / "src.json"
    src.write_bytes(compact(lines(10)))
    entry = _cached(src, cache_dir)
    for p in [entry, *entry.rglob("*")]:
        want = 0o700 if p.is_dir() else 0o600
        assert stat.S_IMODE(p.stat().st_mode) == want, p
    hist = History(tmp_path / "data" / "history.jsonl")
    hist.add("SELECT 1")
    hist.add("SELECT 2")
    assert stat.S_IMODE(hist.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(hist.path.parent.stat().st_mode) == 0o700


def test_interrupted_work_folders_are_swept(tmp_path: Path, cache_dir: Path) -> None:
    dead = cache_dir / f"{'a' * 32}.tmp-999999999-1"
    (dead / "chunks").mkdir(parents=True)
    (dead / "chunks" / "1.ndjson").write_bytes(b"x" * 1000)
    src = tmp_path / "src.json"
    src.write_bytes(compact(lines(10)))
    _cached(src, cache_dir)
    assert not dead.exists()


def test_cache_is_capped_least_recently_used_first(tmp_path: Path, cache_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    srcs = []
    for i in range(3):
        src = tmp_path / f"s{i}.json"
        src.write_bytes(compact(lines(200)))
        srcs.append(src)
        _cached_any(src)
    for e in cache.entries(cache_dir):  # s0 oldest, then s1, s2
        i = int(Path(e.sources[0]).stem[1:])
        os.utime(e.path / "manifest.json", (1000 + i, 1000 + i))
    sizes = [e.size for e in cache.entries(cache_dir)]
    assert len(sizes) == 3
    monkeypatch.setenv("TRAILTUI_CACHE_MAX", str(sum(sizes) + max(sizes) // 2))
    assert _reopen(srcs[0])[0]  # s0 used now: s1 is the least recently used
    extra = tmp_path / "s3.json"
    extra.write_bytes(compact(lines(200)))
    _cached_any(extra)
    kept = {e.sources[0] for e in cache.entries(cache_dir)}
    assert kept == {str(srcs[0]), str(srcs[2]), str(extra)}


def _cached_any(src: Path) -> None:
    store = EventStore(cache=True)
    try:
        store.load([str(src)])
        store.save_cache()
    finally:
        store.close()


def test_cache_info_and_clear(tmp_path: Path, cache_dir: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src.json"
    src.write_bytes(compact(lines(10)))
    _cached(src, cache_dir)
    assert main(["--cache-info"]) == 0
    out = capsys.readouterr().out
    assert str(cache_dir) in out and "1 entry" in out and str(src) in out
    assert main(["--clear-cache"]) == 0
    assert "1 entry" in capsys.readouterr().out
    assert not [p for p in cache_dir.iterdir() if p.is_dir()]
    assert main(["--cache-max", "lots", "--cache-info"]) == 2


def test_help_shows_the_cache_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "--cache-max" in out and "--cache-info" in out and "--clear-cache" in out


def test_parse_size() -> None:
    assert cache.parse_size("2G") == 2 << 30 and cache.parse_size("500m") == 500 << 20
    assert cache.parse_size("1000") == 1000
    with pytest.raises(ValueError):
        cache.parse_size("big")


# --- the console cannot break the session --------------------------------------------------


@pytest.mark.parametrize("sql", [
    "DROP TABLE events", "DELETE FROM events WHERE eventID = 'id-1'",
    "UPDATE events SET eventName = 'x'", "ALTER TABLE events DROP COLUMN eventName",
    "CREATE OR REPLACE VIEW cloudtrail_events AS SELECT 1", "DROP MACRO element_at",
    "DROP VIEW cloudtrail_logs.cloudtrail_partitioned", "DETACH m", "BEGIN",
    "CREATE TABLE mine AS SELECT 1; DROP TABLE events",
])
def test_the_console_cannot_break_what_the_screen_needs(tmp_path: Path, sql: str,
                                                        loaded: list[EventStore]) -> None:
    path = tmp_path / "e.json"
    path.write_bytes(compact(lines(10)))
    store = EventStore(cache=False)
    loaded.append(store)
    store.load([str(path)])
    cur = store.cursor()
    outcome = execute(store, cur, sql, None)
    assert outcome.kind == "error"
    assert any(w in outcome.error for w in ("rolled back", "cannot", "not taken"))
    check = store.cursor()
    assert check.execute("SELECT count(*) FROM cloudtrail_events").fetchall() == [(10,)]
    assert check.execute("SELECT count(DISTINCT eventName) FROM events").fetchall() == [(1,)]
    assert check.execute("SELECT count(*) FROM cloudtrail_logs.cloudtrail_partitioned"
                         ).fetchall() == [(10,)]
    assert check.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = "
                         "'mine'").fetchall() == [(0,)]  # nothing of the run was kept
    check.close()
    cur.close()


def test_the_console_keeps_its_own_tables(tmp_path: Path, loaded: list[EventStore]) -> None:
    path = tmp_path / "e.json"
    path.write_bytes(compact(lines(10)))
    store = EventStore(cache=False)
    loaded.append(store)
    store.load([str(path)])
    cur = store.cursor()
    for sql in ("CREATE TABLE mine AS SELECT * FROM events", "DELETE FROM mine",
                "DROP TABLE mine", "SELECT count(*) FROM events"):
        assert execute(store, cur, sql, None).kind == "ok", sql
    cur.close()


def test_no_extension_autoload_and_a_memory_limit(loaded: list[EventStore],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAILTUI_MEMORY_LIMIT", "1GB")
    store = EventStore(cache=False)
    loaded.append(store)
    settings = dict(store.con.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name IN "
        "('autoinstall_known_extensions', 'autoload_known_extensions', 'memory_limit')"
    ).fetchall())
    assert settings["autoinstall_known_extensions"] == "false"
    assert settings["autoload_known_extensions"] == "false"
    assert settings["memory_limit"] in ("1.0 GiB", "953.6 MiB", "1GB")
    monkeypatch.delenv("TRAILTUI_MEMORY_LIMIT")
    assert guard.memory_limit() == f"{int(guard.physical_memory() * 0.5) >> 20}MB"


# --- every message can be read again -------------------------------------------------------


def test_every_load_error_is_in_the_log(tmp_path: Path, loaded: list[EventStore]) -> None:
    bad = []
    for i in range(15):
        p = tmp_path / f"bad{i}.json"
        p.write_bytes(b"{not json at all")
        bad.append(p)
    good = tmp_path / "good.json"
    good.write_bytes(compact(lines(5)))
    store = EventStore(cache=False)
    loaded.append(store)
    store.load([str(p) for p in [*bad, good]])
    errors = [e for e in store.log.entries() if e.level == "error"]
    assert len(errors) == 15


def test_duckdb_still_refuses_what_it_refused(tmp_path: Path) -> None:
    """The salvage validator agrees with DuckDB: the four damaged lines are refused by DuckDB
    alone, and `invalid_reason` names each; clean lines pass both."""
    con = duckdb.connect()
    for kind, reason in REASONS.items():
        line = damage(kind)[BAD]
        assert salvage.invalid_reason(line) == reason
    assert all(salvage.invalid_reason(x) is None for x in lines(5))
    con.close()


# --- odd paths get the right reason ----------------------------------------------------------


def test_fifo_loop_and_utf16_get_their_own_reason(tmp_path: Path,
                                                  loaded: list[EventStore]) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    u16 = tmp_path / "u16.json"
    u16.write_bytes(compact(lines(4)).decode().encode("utf-16"))
    n, messages, store = load(fifo, tmp_path / "loop1", u16)
    loaded.append(store)
    assert n == 4
    assert messages == [
        f"{fifo}: a FIFO (named pipe), not a regular file: skipped (reading it could wait "
        "forever)",
        f"{tmp_path / 'loop1'}: symbolic link loop"]


def test_temp_folders_of_killed_sessions_are_removed(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / "trailtui-999999999-abc"
    (dead / "x").mkdir(parents=True)
    alive = tmp_path / f"trailtui-{os.getpid()}-keep"
    alive.mkdir()
    store = EventStore(cache=False)
    store.close()
    assert not dead.exists() and alive.exists()


def test_a_record_over_the_size_limit_costs_itself(tmp_path: Path, loaded: list[EventStore],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(salvage, "MAX_RECORD_BYTES", 1 << 20)
    recs = lines(10)
    recs[3] = recs[3][:-1] + b', "requestParameters": {"p": "' + b"A" * (2 << 20) + b'"}}'
    path = tmp_path / "huge.ndjson"
    path.write_bytes(b"\n".join(recs) + b"\n")
    n, messages, store = load(path)
    loaded.append(store)
    assert n == 9
    assert messages == [f"{path}: 1 of 10 records skipped (line 4: larger than 1 MB)"]


def test_the_console_cannot_drop_the_findings(tmp_path: Path, loaded: list[EventStore]) -> None:
    path = tmp_path / "e.json"
    path.write_bytes(compact(lines(10)))
    store = EventStore(cache=False)
    loaded.append(store)
    store.load([str(path)])
    cur = store.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS finding_hits (rule_idx INTEGER)").fetchall()
    outcome = execute(store, cur, "DROP TABLE finding_hits", None)
    assert outcome.kind == "error" and "rolled back" in outcome.error
    assert cur.execute("SELECT count(*) FROM finding_hits").fetchall() == [(0,)]
    cur.close()
