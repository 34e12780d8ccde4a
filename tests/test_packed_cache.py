"""Issue 9 item 4: the cache keeps the original records compressed, and gives every one back
byte for byte (detail, copy and export read them by (_file_id, _line))."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from trailtui.data import cache, packed
from trailtui.data.store import EventStore


def _rec(i: int, **extra: object) -> dict[str, object]:
    r: dict[str, object] = {
        "eventVersion": "1.08", "eventTime": f"2024-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
        "eventName": "GetObject", "eventSource": "s3.amazonaws.com", "eventID": f"id-{i}",
        "userIdentity": {"type": "IAMUser", "userName": f"user-{i % 7}"},
        "awsRegion": "eu-west-1", "requestParameters": {"key": f"k/{i}", "n": i},
    }
    r.update(extra)
    return r


def _hostile(n: int) -> list[bytes]:
    """NDJSON lines as a user could have them: odd spacing, escapes, UTF-8, one huge record."""
    out: list[bytes] = []
    for i in range(n):
        line = json.dumps(_rec(i, userAgent=f"agent {i}")).encode()
        if i % 5 == 1:  # CRLF, tabs and line separators inside values
            line = json.dumps(_rec(i, errorMessage="a\r\nb\tc\u2028d\u0000e")).encode()
        elif i % 5 == 2:  # raw UTF-8 and escaped ones, spacing kept as written
            line = ('{ "eventID" :"id-' + str(i) + '", "eventTime":"2024-01-01T00:00:00Z",'
                    '"eventName":"Ünïcødé ☃ 🐍", "sourceIPAddress":"\\u003cb\\u003e",'
                    '"eventSource":"iam.amazonaws.com"   }').encode()
        elif i % 5 == 3:  # forged ANSI / markup in a value
            line = json.dumps(_rec(i, userAgent="\x1b[31m[red]x[/red]\x1b]8;;http://e\x07",
                                   random=os.urandom(64).hex())).encode()
        out.append(line)
    # One record far larger than a frame and than a CRC block.
    out.insert(n // 2, json.dumps(_rec(n, requestParameters={"blob": "x" * (3 << 20)}))
               .encode())
    return out


def _ids(store: EventStore) -> list[tuple[int, int]]:
    return [(int(f), int(ln)) for f, ln in store.con.execute(
        "SELECT _file_id, _line FROM events ORDER BY eventID").fetchall()]


@pytest.fixture
def small_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small frames and blocks: many of each, so records sit on every kind of boundary."""
    monkeypatch.setattr(packed, "FRAME", 8192)
    monkeypatch.setattr(packed, "KEEP_FRAMES", 2)
    monkeypatch.setattr(cache, "BLOCK", 4096)
    monkeypatch.setattr(cache, "EAGER_VERIFY_BYTES", 0)


def test_every_record_comes_back_byte_for_byte(tmp_path: Path, cache_dir: Path,
                                               small_frames: None) -> None:
    records = _hostile(400)
    src = tmp_path / "events.ndjson"
    src.write_bytes(b"\n".join(records) + b"\n")
    more = tmp_path / "more"
    more.mkdir()
    others = [r.replace(b'"id-', b'"other-', 1) for r in records[:30]]
    for j in range(3):  # small files share a chunk
        (more / f"{j}.json").write_bytes(
            b'{"Records":[' + b",".join(others[j * 10:(j + 1) * 10]) + b"]}")
    want = sorted(records + others)

    live = EventStore(cache=True)
    try:
        live.load([str(src), str(more)])
        keys = _ids(live)
        before = list(live.raw_events(keys))
        assert sorted(before) == want
        assert live.save_cache() is None
        # After the save the same session reads from the compressed frames.
        assert list(live.raw_events(keys)) == before
        assert [live.raw_event(*k) for k in keys] == before
    finally:
        live.close()
    (entry,) = [p for p in cache_dir.iterdir() if p.is_dir()]
    assert not list(entry.glob("chunks/*.ndjson"))  # only compressed records are kept
    assert list(entry.glob("chunks/*.zst")) and list(entry.glob("chunks/*.frm"))

    again = EventStore(cache=True)
    try:
        report = again.load([str(src), str(more)])
        assert report.from_cache and not report.warnings
        keys = _ids(again)
        assert list(again.raw_events(keys)) == before
        shuffled = list(zip(keys, before, strict=True))
        random.Random(9).shuffle(shuffled)  # jumps between frames: the LRU must not mix them
        assert [again.raw_event(*k) for k, _ in shuffled] == [raw for _, raw in shuffled]
    finally:
        again.close()


def test_the_cache_is_smaller_than_its_input(tmp_path: Path, cache_dir: Path) -> None:
    src = tmp_path / "big.json"
    src.write_bytes(b'{"Records":[' + b",".join(
        json.dumps(_rec(i)).encode() for i in range(20_000)) + b"]}")
    store = EventStore(cache=True)
    try:
        store.load([str(src)])
        assert store.save_cache() is None
    finally:
        store.close()
    (entry,) = [p for p in cache_dir.iterdir() if p.is_dir()]
    records = sum(p.stat().st_size for p in entry.glob("chunks/*.zst"))
    assert records < src.stat().st_size / 5


def test_damage_inside_a_frame_is_refused(tmp_path: Path, cache_dir: Path,
                                          small_frames: None) -> None:
    src = tmp_path / "events.ndjson"
    src.write_bytes(b"\n".join(_hostile(300)) + b"\n")
    store = EventStore(cache=True)
    try:
        store.load([str(src)])
        assert store.save_cache() is None
    finally:
        store.close()
    (entry,) = [p for p in cache_dir.iterdir() if p.is_dir()]
    zst = next(entry.glob("chunks/*.zst"))
    with zst.open("r+b") as fh:  # one flipped byte in a middle block, not checked on open
        fh.seek(zst.stat().st_size // 2)
        b = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([b[0] ^ 0xFF]))
    store = EventStore(cache=True)
    try:
        assert store.load([str(src)]).from_cache
        with pytest.raises(cache.CacheDamaged):
            list(store.raw_events(_ids(store)))
        assert any("cache damaged" in e.text for e in store.log.entries())
    finally:
        store.close()
    store = EventStore(cache=True)
    try:
        assert not store.load([str(src)]).from_cache  # the next start rebuilds
    finally:
        store.close()


def test_frames_hold_whole_records(monkeypatch: pytest.MonkeyPatch) -> None:
    from array import array
    monkeypatch.setattr(packed, "FRAME", 100)
    offsets = array("q", [0, 10, 20, 500, 510, 520, 1000])
    lines = packed.frame_lines(offsets, 6)
    assert list(lines) == [0, 2, 3, 5, 6]  # [0,1] [2] [3,4] [5]
    assert list(packed.frame_lines(array("q", [0]), 0)) == [0]
