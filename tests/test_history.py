"""Query history survives a restart, stays bounded, and never breaks the app when its file is
damaged or cannot be written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from trailtui.data.history import History, HistoryEntry, default_data_dir, default_history_path


def test_history_persists_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "data" / "history.jsonl"
    first = History(path)
    assert first.entries == () and first.warning is None
    assert first.add("SELECT 1")
    assert first.add("SELECT * FROM events WHERE sourceIPAddress = $ip", {"ip": "10.0.0.1"})
    assert first.add("SELECT 'ünïcode ␛ \x1b[31m' AS x")
    restarted = History(path)  # a new process reading the same file
    assert [e.sql for e in restarted.entries] == [
        "SELECT 1",
        "SELECT * FROM events WHERE sourceIPAddress = $ip",
        "SELECT 'ünïcode ␛ \x1b[31m' AS x",
    ]
    assert restarted.entries[1].params == {"ip": "10.0.0.1"}
    assert restarted.last is not None and restarted.last.at > 0
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3


def test_consecutive_repeats_are_kept_once(tmp_path: Path) -> None:
    history = History(tmp_path / "h.jsonl")
    assert history.add("SELECT 1")
    assert not history.add("SELECT 1")
    assert not history.add("  SELECT 1\n")
    assert history.add("SELECT 2")
    assert history.add("SELECT 1")  # not consecutive: kept (newest last)
    assert history.add("SELECT 1", {"ip": "x"})  # same text, other values: kept
    assert not history.add("   ")
    assert [e.sql.strip() for e in History(tmp_path / "h.jsonl")] == [
        "SELECT 1",
        "SELECT 2",
        "SELECT 1",
        "SELECT 1",
    ]


def test_history_is_capped_and_the_file_compacted(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    history = History(path, limit=10)
    for n in range(40):
        history.add(f"SELECT {n}")
    assert [e.sql for e in history.entries] == [f"SELECT {n}" for n in range(30, 40)]
    assert len(path.read_text().splitlines()) <= 15
    assert [e.sql for e in History(path, limit=10).entries] == [
        f"SELECT {n}" for n in range(30, 40)
    ]


def test_a_corrupt_file_never_crashes(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    good = HistoryEntry("SELECT 'kept'", {}, 1.0).to_json()
    path.write_bytes(
        b"\x00\xff\xfe garbage\n"
        + b'{"sql": "SELECT half'  # a line cut short by a crash
        + b"\n[1, 2, 3]\n"
        + b'{"sql": 42}\n'
        + b'{"sql": "SELECT 1", "params": "not a dict", "at": "soon"}\n'
        + good.encode()
        + b"\n"
        + b"\n"
    )
    history = History(path)
    assert [e.sql for e in history.entries] == ["SELECT 1", "SELECT 'kept'"]
    assert history.entries[0].params == {} and history.entries[0].at == 0.0
    assert history.warning is not None and "damaged" in history.warning
    assert history.add("SELECT 'new'")
    # The damaged lines are gone after the first save; a restart reads it cleanly.
    restarted = History(path)
    assert restarted.warning is None
    assert [e.sql for e in restarted.entries] == ["SELECT 1", "SELECT 'kept'", "SELECT 'new'"]


def test_a_binary_file_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_bytes(bytes(range(256)) * 20)
    history = History(path)
    assert history.entries == ()
    assert history.add("SELECT 1")
    assert [e.sql for e in History(path).entries] == ["SELECT 1"]


def test_an_unwritable_place_keeps_history_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    history = History(blocker / "history.jsonl")
    assert history.add("SELECT 1")
    assert [e.sql for e in history.entries] == ["SELECT 1"]
    assert history.warning is not None and "not saved" in history.warning


def test_a_folder_in_place_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.mkdir()
    history = History(path)
    assert history.entries == () and history.warning is not None
    history.add("SELECT 1")  # does not raise


def test_data_folder_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAILTUI_DATA_DIR", str(tmp_path / "explicit"))
    assert default_history_path() == tmp_path / "explicit" / "history.jsonl"
    monkeypatch.delenv("TRAILTUI_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "trailtui"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "trailtui"


def test_default_location_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAILTUI_DATA_DIR", str(tmp_path))
    History().add("SELECT 1")
    lines = (tmp_path / "history.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["sql"] == "SELECT 1"
    assert os.listdir(tmp_path) == ["history.jsonl"]  # no temporary files left behind


def test_entry_titles() -> None:
    assert HistoryEntry("-- Console sign-ins\nSELECT 1").title == "Console sign-ins"
    assert HistoryEntry("\n\n  SELECT *\nFROM events").title == "SELECT *"
    assert HistoryEntry("--\nSELECT 2").title == "SELECT 2"
