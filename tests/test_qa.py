"""Found by using the app as an incident responder would (the QA pass after issues 7-14).

Each test here failed before its fix: the console dropping what the new screens read, ...
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

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
