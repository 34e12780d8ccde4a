"""Shared fixtures: where the sample sets and trailtui's own fixtures live, and a private cache.

The real-world CloudTrail sets are in `../shared/samples` next to the repository (see its
README.md); tests that need them take the `samples` fixture and are skipped when it is absent.
`tests/data/` holds the project's own tiny fixtures and is always there.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from trailtui.data.store import EventStore, LoadReport

REPO = Path(__file__).resolve().parents[1]
# TRAILTUI_SAMPLES points elsewhere (a worktree whose ../shared is not the shared folder).
SAMPLES = Path(
    os.environ.get("TRAILTUI_SAMPLES") or Path(__file__).resolve().parents[2] / "shared" / "samples"
)
DATA = Path(__file__).resolve().parent / "data"


def samples_or_skip() -> Path:
    """The sample folder, or skip the calling test/fixture with the reason."""
    if not (SAMPLES / "README.md").is_file():
        pytest.skip(f"CloudTrail sample sets not found at {SAMPLES} (../shared/samples)")
    return SAMPLES


@pytest.fixture(scope="session")
def samples() -> Path:
    """`../shared/samples`; the test is skipped with a clear reason when it is not there."""
    return samples_or_skip()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """`tests/data`: trailtui's own small fixtures."""
    return DATA


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test (and every subprocess it starts) caches into a temporary folder.

    Session-scoped so that module-scoped stores, built before function fixtures run, never
    touch the user's ~/.cache/trailtui either.
    """
    cache = tmp_path_factory.mktemp("trailtui-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRAILTUI_CACHE_DIR", str(cache))
        mp.setenv("XDG_CACHE_HOME", str(cache / "xdg"))
        # History and the user's query folder: never the real ones either.
        mp.setenv("TRAILTUI_DATA_DIR", str(cache / "data"))
        mp.setenv("TRAILTUI_CONFIG_DIR", str(cache / "config"))
        mp.setenv("XDG_DATA_HOME", str(cache / "xdg-data"))
        mp.setenv("XDG_CONFIG_HOME", str(cache / "xdg-config"))
        yield cache


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty cache folder for this test only (TRAILTUI_CACHE_DIR points at it)."""
    path = tmp_path / "cache"
    path.mkdir()
    monkeypatch.setenv("TRAILTUI_CACHE_DIR", str(path))
    return path


def subprocess_env() -> dict[str, str]:
    """Environment for `python -m trailtui` in a subprocess: this checkout first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.pop("PYTHONSTARTUP", None)
    return env


# --- helpers shared by the data-layer tests ----------------------------------------------------


@contextmanager
def loaded(
    *paths: str | os.PathLike[str], cache: bool = False
) -> Iterator[tuple[EventStore, LoadReport]]:
    """An EventStore with `paths` loaded (no cache unless asked), closed afterwards."""
    store = EventStore(cache=cache)
    try:
        report = store.load([os.fspath(p) for p in paths])
        yield store, report
    finally:
        store.close()


def query(store: EventStore, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Rows of `sql` as dicts keyed by column name."""
    cur = store.cursor()
    try:
        res = cur.execute(sql, params)
        names = [d[0] for d in res.description or ()]
        return [dict(zip(names, row, strict=True)) for row in res.fetchall()]
    finally:
        cur.close()


def scalar(store: EventStore, sql: str, params: list[Any] | None = None) -> Any:
    """The single value of a one-row, one-column query."""
    rows = query(store, sql, params)
    assert len(rows) == 1, rows
    return next(iter(rows[0].values()))


def canonical(record: Any) -> str:
    """A record as text that is equal for equal JSON content (key order and spacing ignored)."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def read_records(path: Path) -> list[dict[str, Any]]:
    """The CloudTrail records of a sample file, read independently of trailtui (stdlib only)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8-sig")
    try:
        doc = json.loads(text)
    except ValueError:  # one record per line
        doc = [json.loads(line) for line in text.splitlines() if line.strip()]
    items = (doc.get("Records") or doc.get("Events") or [doc]) if isinstance(doc, dict) else doc
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("CloudTrailEvent"), str):
            item = json.loads(item["CloudTrailEvent"])
        out.append(item)
    return out


def distinct(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with exact repeats removed (first kept), as a loader that de-duplicates must."""
    seen: set[str] = set()
    out = []
    for rec in records:
        key = canonical(rec)
        if key not in seen:
            seen.add(key)
            out.append(rec)
    return out


def parse_time(text: Any) -> dt.datetime | None:
    """eventTime as naive UTC, the way the events table stores it; None when it does not parse."""
    if not isinstance(text, str):
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
