"""Issue 9 items 3 and 4: where the store lives (data/placement.py).

A store reopened from the cache queries the cached DuckDB file in place (read-only) and gives
the same events and answers as a fresh load; adding a file afterwards copies it first and
dedups; the on-disk store (forced by a tiny threshold) answers exactly like the in-memory one;
a reopened session never writes the cache, two processes open it at once, damage rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _fixtures import synthetic_records, write_ndjson
from conftest import subprocess_env

from trailtui.data import investigate, placement
from trailtui.data.results import execute
from trailtui.data.store import EventStore, run

# Order-free answers a user sees: every event's content, the facets, the compatibility views,
# the actors view, and the original records read back.
_QUESTIONS = {
    "events": "SELECT count(*), bit_xor(hash(e)) FROM "
              "(SELECT * EXCLUDE (_file_id, _line) FROM events) e",
    "facet_source": "SELECT eventSource, count(*) FROM events GROUP BY ALL ORDER BY ALL",
    "facet_ip": "SELECT sourceIPAddress, count(*) FROM events GROUP BY ALL ORDER BY ALL",
    "compat": "SELECT count(*), count(DISTINCT eventid) FROM cloudtrail_events",
    "athena": "SELECT count(*) FROM cloudtrail_logs.cloudtrail",
    "actors": "SELECT count(*), sum(events) FROM actors",
    "sources": "SELECT src, count(*) FROM chunk_sources GROUP BY ALL ORDER BY ALL",
}


def _answers(store: EventStore) -> dict[str, Any]:
    cur = store.cursor()
    try:
        out: dict[str, Any] = {k: run(cur, sql) for k, sql in _QUESTIONS.items()}
        out["sources"] = [(Path(src).name, n) for src, n in out["sources"]]
        keys = run(cur, "SELECT _file_id, _line FROM events")
        out["raw"] = sorted(store.raw_events((int(f), int(ln)) for f, ln in keys))
        return out
    finally:
        cur.close()


@pytest.fixture(autouse=True)
def _default_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the threshold it means, whatever the caller's environment."""
    monkeypatch.delenv("TRAILTUI_STORE", raising=False)
    monkeypatch.delenv("TRAILTUI_DISK_MEMORY_LIMIT", raising=False)


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[Path, Path]:
    """Two downloads that overlap by 50 records (the second repeats the first's last 50)."""
    recs = synthetic_records(700)
    a = write_ndjson(recs[:400], tmp_path / "a.ndjson")
    b = write_ndjson(recs[350:], tmp_path / "b.ndjson")
    return a, b


@pytest.fixture
def opened() -> Iterator[list[EventStore]]:
    """Stores to close after the test, whatever it asserted."""
    stores: list[EventStore] = []
    yield stores
    for s in stores:
        s.close()


def _store(opened: list[EventStore], *, cache: bool = True) -> EventStore:
    s = EventStore(cache=cache)
    opened.append(s)
    return s


def _cached(path: Path, opened: list[EventStore]) -> dict[str, Any]:
    """Load `path` with the cache, save it, close; the fresh load's answers."""
    s = _store(opened)
    assert not s.load([str(path)]).from_cache
    answers = _answers(s)
    assert s.save_cache() is None
    s.close()
    opened.remove(s)
    return answers


def _db(cache_dir: Path) -> Path:
    (db,) = cache_dir.glob("*/events.duckdb")
    return db


def _digest(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns


def _digest_elsewhere(path: Path) -> str:
    code = "import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())"
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()


def test_reopen_queries_the_cache_in_place_with_the_same_answers(
        two_files: tuple[Path, Path], cache_dir: Path, opened: list[EventStore]) -> None:
    a, _b = two_files
    fresh = _cached(a, opened)
    before = _digest(_db(cache_dir))
    s = _store(opened)
    report = s.load([str(a)])
    assert report.from_cache and report.events_added == 400
    assert s.placement == "cache"  # not copied into memory
    assert _answers(s) == fresh
    # The session writes its own tables (investigation tables, console results) in memory.
    cur = s.cursor()
    investigate.materialise(cur)
    run(cur, "CREATE TABLE mine AS SELECT eventName FROM events")
    run(cur, "CREATE TEMP TABLE scratch AS SELECT 1")
    assert run(cur, "SELECT count(*) FROM mine") == [(400,)]
    with pytest.raises(Exception, match="read-only"):
        run(cur, "DELETE FROM events")
    cur.close()
    assert s.compact()
    s.close()
    assert _digest(_db(cache_dir)) == before  # the session never wrote the cache


def test_adding_a_file_after_a_cached_reopen_dedups_like_a_fresh_load(
        two_files: tuple[Path, Path], cache_dir: Path, opened: list[EventStore]) -> None:
    a, b = two_files
    _cached(a, opened)
    before = _digest(_db(cache_dir))
    s = _store(opened)
    assert s.load([str(a)]).from_cache
    report = s.load([str(b)])
    assert report.events_added == 300 and report.duplicates == 50
    assert s.placement == "memory"
    both = _store(opened, cache=False)
    both.load([str(a)])
    both.load([str(b)])
    assert _answers(s) == _answers(both)
    s.close()
    assert _digest(_db(cache_dir)) == before


@pytest.mark.parametrize("threshold", ["disk", "1K"])
def test_the_disk_store_answers_like_the_memory_store(
        two_files: tuple[Path, Path], tmp_path: Path, cache_dir: Path,
        monkeypatch: pytest.MonkeyPatch, opened: list[EventStore], threshold: str) -> None:
    a, b = two_files
    memory = _store(opened, cache=False)
    memory.load([str(a)])
    memory.load([str(b)])
    assert memory.placement == "memory"
    monkeypatch.setenv("TRAILTUI_STORE", threshold)
    for cache in (False, True):
        disk = _store(opened, cache=cache)
        disk.load([str(a)])
        assert disk.placement == "disk"
        disk.load([str(b)])
        assert _answers(disk) == _answers(memory)


def test_saving_a_disk_store_moves_its_file_and_reopens_it(
        two_files: tuple[Path, Path], cache_dir: Path, monkeypatch: pytest.MonkeyPatch,
        opened: list[EventStore]) -> None:
    monkeypatch.setenv("TRAILTUI_STORE", "disk")
    a, b = two_files
    s = _store(opened)
    s.load([str(a)])
    fresh = _answers(s)
    assert s._events_file is not None
    inode = s._events_file.stat().st_ino
    assert s.save_cache() is None
    assert _db(cache_dir).stat().st_ino == inode  # renamed with its folder, not copied
    assert s.placement == "cache" and _answers(s) == fresh
    before = _digest(_db(cache_dir))
    assert s.load([str(b)]).events_added == 300  # a write after saving: copied first
    assert s.placement == "disk"
    s.close()
    assert _digest(_db(cache_dir)) == before
    again = _store(opened)
    assert again.load([str(a)]).from_cache and again.placement == "cache"
    assert _answers(again) == fresh
    assert not list(cache_dir.rglob("*.wal"))


def test_two_processes_open_the_same_cache_at_once(
        two_files: tuple[Path, Path], cache_dir: Path, opened: list[EventStore]) -> None:
    a, _b = two_files
    _cached(a, opened)
    s = _store(opened)
    assert s.load([str(a)]).from_cache
    code = ("import json, sys; from trailtui.data.store import EventStore\n"
            "s = EventStore(cache=True); r = s.load([sys.argv[1]])\n"
            "print(json.dumps([r.from_cache, r.events_added, r.warnings])); s.close()\n")
    env = {**subprocess_env(), "TRAILTUI_CACHE_DIR": str(cache_dir)}
    out = subprocess.run([sys.executable, "-c", code, str(a)], capture_output=True, text=True,
                         env=env, check=True, timeout=120)
    assert json.loads(out.stdout) == [True, 400, []]
    assert s.event_count() == 400


def test_a_damaged_disk_cache_rebuilds(two_files: tuple[Path, Path], cache_dir: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       opened: list[EventStore]) -> None:
    monkeypatch.setenv("TRAILTUI_STORE", "disk")
    a, _b = two_files
    fresh = _cached(a, opened)
    os.truncate(_db(cache_dir), 4096)
    s = _store(opened)
    report = s.load([str(a)])
    assert not report.from_cache and report.events_added == 400
    assert any("rebuilt from the files" in w for w in report.warnings)
    assert _answers(s) == fresh


def test_the_threshold_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAILTUI_STORE", "memory")
    assert not placement.wants_disk(1 << 50)
    monkeypatch.setenv("TRAILTUI_STORE", "disk")
    assert placement.wants_disk(1)
    monkeypatch.setenv("TRAILTUI_STORE", "2G")
    assert not placement.wants_disk(1 << 30) and placement.wants_disk(3 << 30)
    monkeypatch.setenv("TRAILTUI_STORE", "nonsense")  # the default: an eighth of RAM
    assert not placement.wants_disk(1 << 20)
    monkeypatch.setenv("TRAILTUI_DISK_MEMORY_LIMIT", "256MB")
    monkeypatch.setenv("TRAILTUI_MEMORY_LIMIT", "4GB")
    assert placement.disk_memory_limit() == "256MB"
    monkeypatch.setenv("TRAILTUI_MEMORY_LIMIT", "100MB")
    assert placement.disk_memory_limit() == "100MB"


@pytest.mark.parametrize("where", ["cache", "disk"])
@pytest.mark.parametrize("sql", [
    "DROP TABLE events", "DELETE FROM events", "UPDATE events SET eventName = 'x'",
    "DROP TABLE chunk_sources", "DETACH ev", "DETACH m",
    "CREATE TABLE mine AS SELECT 1; DROP TABLE events",
])
def test_the_console_cannot_break_a_store_on_disk_or_reopened(
        two_files: tuple[Path, Path], cache_dir: Path, monkeypatch: pytest.MonkeyPatch,
        opened: list[EventStore], where: str, sql: str) -> None:
    a, _b = two_files
    if where == "cache":
        _cached(a, opened)
    else:
        monkeypatch.setenv("TRAILTUI_STORE", "disk")
    s = _store(opened)
    s.load([str(a)])
    assert s.placement == where
    before = _answers(s)
    cur = s.cursor()
    outcome = execute(s, cur, sql, None)
    assert outcome.kind == "error"
    cur.close()
    assert _answers(s) == before
    check = s.cursor()
    assert run(check, "SELECT count(*) FROM information_schema.tables WHERE table_name = "
                      "'mine'") == [(0,)]
    check.close()


def test_a_disk_cache_still_open_by_its_writer_is_left_alone(
        two_files: tuple[Path, Path], cache_dir: Path, monkeypatch: pytest.MonkeyPatch,
        opened: list[EventStore]) -> None:
    """The session that built a cache on disk keeps it open for writing: another process
    loads without it (one note) and neither damages nor replaces it."""
    monkeypatch.setenv("TRAILTUI_STORE", "disk")
    a, _b = two_files
    s = _store(opened)
    s.load([str(a)])
    fresh = _answers(s)
    assert s.save_cache() is None
    # Read in another process: closing any descriptor of the file here would drop DuckDB's
    # lock on it (POSIX locks belong to the process).
    before = _digest_elsewhere(_db(cache_dir))
    code = ("import json, sys; from trailtui.data.store import EventStore\n"
            "s = EventStore(cache=True); r = s.load([sys.argv[1]])\n"
            "print(json.dumps([r.from_cache, r.events_added, r.warnings, s.save_cache()]))\n"
            "s.close()\n")
    env = {**subprocess_env(), "TRAILTUI_CACHE_DIR": str(cache_dir), "TRAILTUI_STORE": "disk"}
    out = subprocess.run([sys.executable, "-c", code, str(a)], capture_output=True, text=True,
                         env=env, check=True, timeout=120)
    from_cache, added, warnings, problem = json.loads(out.stdout)
    assert (from_cache, added, problem) == (False, 400, None)
    assert any("in use by another trailtui session" in w for w in warnings)
    assert _answers(s) == fresh
    s.close()
    assert _digest_elsewhere(_db(cache_dir)) == before  # closing its writer changed nothing
    again = _store(opened)
    assert again.load([str(a)]).from_cache and _answers(again) == fresh


def test_a_failed_copy_before_adding_loses_nothing(
        two_files: tuple[Path, Path], cache_dir: Path, monkeypatch: pytest.MonkeyPatch,
        opened: list[EventStore]) -> None:
    monkeypatch.setenv("TRAILTUI_STORE", "disk")
    a, b = two_files
    fresh = _cached(a, opened)
    s = _store(opened)
    assert s.load([str(a)]).from_cache

    def full(*_args: object, **_kw: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("trailtui.data.store.shutil.copyfile", full)
    report = s.load([str(b)])
    assert report.events_added == 0 and report.errors  # each file named, no traceback
    assert any("could not copy the cached events" in e.text for e in s.log.entries())
    assert _answers(s) == fresh
