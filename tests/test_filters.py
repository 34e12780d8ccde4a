"""Filter chips: what they match, how they read, and the "copy as query" texts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import duckdb
import pytest
from _fixtures import RECORDS, events_store, record

from trailtui.data import views
from trailtui.data.filters import (
    AROUND_HALF_WIDTH,
    Chip,
    FilterState,
    copy_literal,
    pivot_chips,
    sql_literal,
)
from trailtui.data.store import EventStore

T = datetime(2024, 5, 1, 10, 0, 0)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    with events_store(RECORDS, tmp_path_factory.mktemp("filters")) as st:
        yield st


@pytest.fixture
def cur(store: EventStore) -> Iterator[duckdb.DuckDBPyConnection]:
    c = store.cursor()
    yield c
    c.close()


def n(cur: duckdb.DuckDBPyConnection, *chips: Chip) -> int:
    state = FilterState()
    for chip in chips:
        state = state.add(chip)
    return views.count(cur, state)


# -- matching ---------------------------------------------------------------------------------


def test_empty_filter_is_true(cur: duckdb.DuckDBPyConnection) -> None:
    assert FilterState().where() == ("TRUE", [])
    assert n(cur) == len(RECORDS) == 16


def test_include_and_exclude_narrow(cur: duckdb.DuckDBPyConnection) -> None:
    assert n(cur, Chip.include("actor", "alice")) == 9
    assert n(cur, Chip.include("actor", "bob")) == 2
    assert n(cur, Chip.include("actor", "DeployRole")) == 3
    assert n(cur, Chip.exclude("actor", "alice")) == 7
    assert n(cur, Chip.include("actor", "alice"), Chip.include("eventName", "GetObject")) == 2
    assert n(cur, Chip.include("actor", "alice"), Chip.exclude("eventName", "GetObject")) == 7


def test_exclude_keeps_nulls(cur: duckdb.DuckDBPyConnection) -> None:
    # errorCode is NULL for 14 of 16 events; `errorCode != 'AccessDenied'` would drop them all.
    assert n(cur, Chip.exclude("errorCode", "AccessDenied")) == 14
    # readOnly: 9 true, 5 false, 2 absent.
    assert n(cur, Chip.exclude("readOnly", True)) == 7
    assert n(cur, Chip.exclude("sourceIPAddress", "10.0.0.1")) == 14  # the NULL-IP event stays


def test_null_value_means_is_null(cur: duckdb.DuckDBPyConnection) -> None:
    assert n(cur, Chip.include("errorCode", None)) == 14
    assert n(cur, Chip.exclude("errorCode", None)) == 2
    assert n(cur, Chip.include("readOnly", None)) == 2
    assert n(cur, Chip.include("sourceIPAddress", None)) == 1
    assert Chip.include("errorCode", None).where() == ("errorCode IS NULL", [])


def test_booleans(cur: duckdb.DuckDBPyConnection) -> None:
    assert n(cur, Chip.include("readOnly", True)) == 9
    assert n(cur, Chip.include("readOnly", False)) == 5
    assert Chip.include("readOnly", "false") == Chip.include("readOnly", False)
    with pytest.raises(TypeError):
        Chip.include("readOnly", "maybe")
    with pytest.raises(TypeError):
        Chip.include("actor", 3)  # type: ignore[arg-type]


def test_values_are_bound_parameters() -> None:
    sql, params = FilterState().add(Chip.include("actor", "x' OR 1=1 --")).where()
    assert "x'" not in sql and params == ["x' OR 1=1 --"]
    sql, params = Chip.search("x' OR 1=1 --").where()
    assert "OR 1=1" not in sql and set(params) == {"x' OR 1=1 --"}


def test_columns_come_from_the_allow_list() -> None:
    for bad in ("actor; DROP TABLE events", "nope", '"actor"', ""):
        with pytest.raises(ValueError):
            Chip.include(bad, "x")


def test_injection_looking_values_match_literally(cur: duckdb.DuckDBPyConnection) -> None:
    assert n(cur, Chip.include("actor", "x' OR 1=1 --")) == 0
    assert n(cur, Chip.include("actor", "alice' OR '1'='1")) == 0
    assert n(cur, Chip.exclude("actor", "x' OR '1'='1")) == 16
    assert n(cur, Chip.search("x' OR 1=1 --")) == 1  # the record that holds that text
    assert n(cur, Chip.search("'; DROP TABLE events; --")) == 0
    assert views.total_count(cur) == 16


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("needle-bucket-7f3a", 1),  # only inside requestParameters
        ("NEEDLE-Bucket", 1),  # case-insensitive
        ("bucketName", 1),  # JSON keys are part of the event's text too
        ("%", 1),  # literal: not "match anything"
        ("_", 2),  # "100%_done" and "Get_Thing", not every row
        ("100%", 1),  # not "100x-done"
        ("%_", 1),
        ("C:\\temp", 1),  # backslashes, stored as \\ in the JSON text
        ("\\", 1),
        ('say "hi"', 1),  # quotes, stored as \" in the JSON text
        ("O'Brien", 1),
        ("10.0.0.1", 3),  # substring: 10.0.0.1 twice and 10.0.0.12
        ("deploy-b", 1),  # userIdentity.arn / principalId
        ("ASIADEPLOYA", 2),  # userIdentity.accessKeyId
        ("k-123", 1),  # serviceEventDetails
        ("sigv4", 1),  # additionalEventData
        ("Success", 1),  # responseElements
        ("AccessDenied", 2),
        ("no such text anywhere", 0),
    ],
)
def test_search(cur: duckdb.DuckDBPyConnection, text: str, expected: int) -> None:
    assert n(cur, Chip.search(text)) == expected


def test_search_needs_text() -> None:
    with pytest.raises(ValueError):
        Chip.search("")


def test_time_ranges(cur: duckdb.DuckDBPyConnection) -> None:
    assert n(cur, Chip.time(T, T + timedelta(seconds=5))) == 5
    assert n(cur, Chip.time(None, T + timedelta(hours=1))) == 12  # the unparsed time is out
    assert n(cur, Chip.time(T + timedelta(hours=1), None)) == 3
    aware = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))  # 11:00 UTC
    assert Chip.time(aware, None).start == T + timedelta(hours=1)
    assert n(cur, Chip.time(aware, None)) == 3
    with pytest.raises(ValueError):
        Chip.time(None, None)
    with pytest.raises(ValueError):
        Chip.time(T, T - timedelta(seconds=1))


def test_around_is_what_its_label_says(cur: duckdb.DuckDBPyConnection) -> None:
    chip = Chip.around(T + timedelta(hours=1))
    assert chip.end is not None and chip.start is not None
    assert chip.start == T + timedelta(minutes=45) and chip.end == T + timedelta(minutes=75)
    assert timedelta(minutes=15) == AROUND_HALF_WIDTH
    assert chip.label.endswith("±15 min")
    assert n(cur, chip) == 3
    assert n(cur, Chip.around(T + timedelta(minutes=14))) == 12  # every 10:00:xx event
    assert n(cur, Chip.around(T + timedelta(minutes=16))) == 0
    wide = Chip.around(T + timedelta(minutes=40), timedelta(minutes=45))  # adjustable
    assert wide.label.endswith("±45 min") and n(cur, wide) == 15


# -- state ------------------------------------------------------------------------------------


def test_add_remove_undo() -> None:
    a, b, c = Chip.include("actor", "alice"), Chip.search("x"), Chip.exclude("awsRegion", "x")
    s = FilterState().add(a).add(b)
    assert s.chips == (a, b)
    assert s.add(a) is s  # no duplicates
    assert s.undo() == FilterState((a,))
    assert s.undo().undo() == FilterState()
    s3 = s.add(c)
    assert s3.remove(b).chips == (a, c)
    assert s3.remove(0).chips == (b, c)
    assert s3.remove(-1).chips == (a, b)
    assert s3.remove(7) is s3 and s3.remove(Chip.search("y")) is s3
    assert s3.remove(b).undo() == s3  # undo restores a removed chip too
    assert FilterState((a, b)).undo() == FilterState((a,))  # no history: drop the last chip
    assert FilterState().undo() == FilterState()
    assert s3.clear() == FilterState() and s3.clear().undo() == s3
    assert hash(s) == hash(FilterState((a, b)))  # history does not take part in equality


def test_where_combines_chips_with_and() -> None:
    s = FilterState().add(Chip.include("actor", "alice")).add(Chip.exclude("errorCode", "E"))
    assert s.where() == ('(actor = ?) AND (errorCode IS DISTINCT FROM ?)', ["alice", "E"])


def test_labels() -> None:
    assert Chip.include("actor", "alice").label == "actor = alice"
    assert Chip.exclude("eventName", "ListBuckets").label == "not eventName = ListBuckets"
    assert Chip.include("errorCode", None).label == "errorCode = (none)"
    assert Chip.include("readOnly", True).label == "readOnly = true"
    assert Chip.search("10.0.0.1").label == 'search "10.0.0.1"'
    assert Chip.time(T, T + timedelta(hours=1)).label == "time 2024-05-01 10:00 – 11:00"
    assert (
        Chip.time(T, T + timedelta(days=1, seconds=30)).label
        == "time 2024-05-01 10:00:00 – 2024-05-02 10:00:30"
    )
    assert Chip.time(T, None).label == "time from 2024-05-01 10:00"
    assert Chip.time(None, T).label == "time before 2024-05-01 10:00"
    assert Chip.around(T).label == "around 2024-05-01 10:00:00 ±15 min"
    assert FilterState().add(Chip.search("x")).labels == ('search "x"',)


# -- pivots -----------------------------------------------------------------------------------


def test_pivot_chips_from_an_event(cur: duckdb.DuckDBPyConnection) -> None:
    row = views.event_row(cur, *_key_of(cur, "RunInstances"))
    assert row is not None
    pivots = pivot_chips(row)
    assert set(pivots) == {"actor", "access_key", "source_ip", "session", "role", "role_session",
                           "around"}
    assert pivots["actor"] == Chip.include("actor", "DeployRole")
    # "Same session" is this credential; the role and the role-session ARN keep their names.
    assert pivots["session"] == Chip.include("access_key", "ASIADEPLOYA")
    assert pivots["role"] == Chip.include("role_arn", "arn:aws:iam::012345678901:role/DeployRole")
    assert pivots["role_session"] == Chip.include(
        "session_arn", "arn:aws:sts::012345678901:assumed-role/DeployRole/deploy-a"
    )
    assert n(cur, pivots["actor"]) == 3
    assert n(cur, pivots["access_key"]) == 2
    assert n(cur, pivots["source_ip"]) == 2
    assert n(cur, pivots["session"]) == 2
    assert n(cur, pivots["role"]) == 3  # deploy-a and deploy-b
    assert n(cur, pivots["role_session"]) == 2
    assert n(cur, pivots["around"]) == 3
    assert pivot_chips(row, around=timedelta(hours=2))["around"].label.endswith("±120 min")


def test_same_session_is_one_credential_not_a_reused_session_name() -> None:
    """Two AssumeRole calls with one session name: same ARN, two credentials."""
    ui = {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/R/s", "accessKeyId": "ASIA1"}
    pivots = pivot_chips({"access_key": "ASIA1", "userIdentity": ui})
    assert pivots["session"] == Chip.include("access_key", "ASIA1")
    assert pivots["role_session"] == Chip.include("session_arn", "arn:aws:sts::1:assumed-role/R/s")
    # A long-term key is not a session.
    assert "session" not in pivot_chips({"access_key": "AKIA1"})


def test_pivots_skip_what_the_event_lacks(cur: duckdb.DuckDBPyConnection) -> None:
    row = views.event_row(cur, *_key_of(cur, "RotateKey"))  # AWS service: no key, IP, arn
    assert row is not None
    assert set(pivot_chips(row)) == {"actor", "around"}
    flat = pivot_chips({"principal_id": "AROAX:s", "eventTime": None})
    assert flat == {"role_session": Chip.include("principal_id", "AROAX:s")}


def _key_of(cur: duckdb.DuckDBPyConnection, event_name: str) -> tuple[int, int]:
    rows = cur.execute(
        "SELECT _file_id, _line FROM events WHERE eventName = ?", [event_name]
    ).fetchall()
    assert len(rows) == 1
    return int(rows[0][0]), int(rows[0][1])


# -- copy as query ----------------------------------------------------------------------------

STATES = {
    "empty": FilterState(),
    "actor": FilterState().add(Chip.include("actor", "alice")),
    "exclude + null": FilterState()
    .add(Chip.exclude("errorCode", "AccessDenied"))
    .add(Chip.include("readOnly", None)),
    "booleans": FilterState().add(Chip.exclude("readOnly", True)),
    "quotes": FilterState().add(Chip.exclude("actor", "O'Brien \\ \"x\"")),
    "time": FilterState().add(Chip.time(T + timedelta(seconds=2), T + timedelta(hours=2))),
    "around": FilterState().add(Chip.around(T + timedelta(hours=1))),
    "pivots": FilterState()
    .add(Chip.include("access_key", "ASIADEPLOYA"))
    .add(Chip.include("session_arn", "arn:aws:sts::012345678901:assumed-role/DeployRole/deploy-a"))
    .add(Chip.include("identity_type", "AssumedRole"))
    .add(Chip.include("account_id", "012345678901")),
    "search json": FilterState().add(Chip.search("NEEDLE-bucket")),
    "search quote": FilterState().add(Chip.search('say "hi"')),
    "search percent": FilterState().add(Chip.search("100%_")),
    "search apostrophe": FilterState().add(Chip.search("O'Brien")),
    "search ip": FilterState().add(Chip.search("10.0.0.1")),
}


@pytest.mark.parametrize("name", list(STATES))
def test_duckdb_query_gives_the_same_events(cur: duckdb.DuckDBPyConnection, name: str) -> None:
    state = STATES[name]
    sql = state.to_duckdb_sql()
    assert sql.startswith("SELECT") and sql.endswith(";")
    got = cur.execute(f"SELECT count(*) FROM ({sql.rstrip(';')})").fetchall()[0][0]
    assert got == views.count(cur, state)


@pytest.mark.parametrize("name", list(STATES))
def test_athena_query_runs_on_the_athena_compatible_view(
    cur: duckdb.DuckDBPyConnection, name: str
) -> None:
    """The store defines `cloudtrail_logs.cloudtrail_partitioned` with Athena's column names
    and types (string eventtime and readonly, lower-case struct fields): the Athena text must
    run there and select the same events."""
    state = STATES[name]
    sql = state.to_athena_sql()
    assert "FROM cloudtrail_logs.cloudtrail_partitioned" in sql
    got = cur.execute(f"SELECT count(*) FROM ({sql.rstrip(';')})").fetchall()[0][0]
    assert got == views.count(cur, state)


def test_athena_text_uses_athena_names() -> None:
    sql = (
        FilterState()
        .add(Chip.include("actor", "alice"))
        .add(Chip.include("readOnly", False))
        .add(Chip.time(T, None))
        .to_athena_sql()
    )
    assert "useridentity.sessioncontext.sessionissuer.username" in sql
    assert "eventtime >= '2024-05-01T10:00:00Z'" in sql
    assert "readonly = 'false'" in sql
    assert "ui." not in sql and "credentialid" not in sql


def test_athena_time_bounds_round_up_to_whole_seconds() -> None:
    chip = Chip.time(T + timedelta(milliseconds=1), T + timedelta(seconds=1))
    assert chip.athena_sql() == (
        "eventtime >= '2024-05-01T10:00:01Z' AND eventtime < '2024-05-01T10:00:01Z'"
    )


def test_sql_literals() -> None:
    assert sql_literal("O'Brien") == "'O''Brien'"
    assert sql_literal("a\\b") == "'a\\b'"  # standard SQL: a backslash is just a character
    assert sql_literal(None) == "NULL"
    assert sql_literal(True) == "TRUE"
    assert sql_literal(T) == "TIMESTAMP '2024-05-01 10:00:00'"
    assert sql_literal("a\x00b") == "'ab'"
    assert copy_literal("a\x00b") == "('a' || chr(0) || 'b')"  # NUL kept exact (issue 8)


def test_search_unicode_and_escaped_json(tmp_path_factory: pytest.TempPathFactory) -> None:
    """JSON is stored as DuckDB re-serialises it: `\\u00e9` in the file becomes `é`, so a
    search for the character finds it; case folding applies to non-ASCII letters too."""
    recs = [
        record(0, requestParameters={"name": "Café Ünïcode"}),
        record(1, requestParameters={"tab": "a\tb", "slash": "x/y"}),
    ]
    with events_store(recs, tmp_path_factory.mktemp("unicode")) as st:
        c = st.cursor()
        assert n(c, Chip.search("CAFÉ ü")) == 1
        assert n(c, Chip.search("a\tb")) == 1  # stored as a\\tb in the JSON text
        assert n(c, Chip.search("x/y")) == 1
        c.close()
