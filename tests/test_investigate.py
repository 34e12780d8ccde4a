"""Actors, sessions and chains, first-seen and rare values, requestParameters keys, coverage:
small hand-written events whose every answer is known (no ../shared needed)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from _fixtures import RECORDS, assumed_role, events_store, iam_user, record

from trailtui import cli
from trailtui.data import coverage as cov_mod
from trailtui.data import investigate as inv
from trailtui.data import views
from trailtui.data.filters import Chip, FilterState, param_column
from trailtui.data.store import EventStore, FileReport

T = datetime(2024, 5, 1, 10, 0, 0)


def rows(cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
         ) -> list[dict[str, Any]]:
    res = cur.execute(sql, params)
    names = [d[0] for d in res.description or ()]
    return [dict(zip(names, r, strict=True)) for r in res.fetchall()]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    with events_store(RECORDS, tmp_path_factory.mktemp("inv")) as st:
        yield st


@pytest.fixture
def cur(store: EventStore) -> Iterator[duckdb.DuckDBPyConnection]:
    c = store.cursor()
    yield c
    c.close()


# -- actors ------------------------------------------------------------------------------------


def test_actors_one_row_per_actor_with_its_counts(cur: duckdb.DuckDBPyConnection) -> None:
    by = {r["actor"]: r for r in rows(cur, "SELECT * FROM actors")}
    assert sum(r["events"] for r in by.values()) == len(RECORDS)
    bob = by["bob"]
    assert (bob["identity_type"], bob["account_id"], bob["events"]) == ("IAMUser",
                                                                       "012345678901", 2)
    assert (bob["failed"], bob["access_denied"], bob["apis"]) == (2, 2, 2)
    assert bob["arns"] == ["arn:aws:iam::012345678901:user/bob"]
    deploy = by["DeployRole"]
    assert deploy["events"] == 3 and deploy["access_keys"] == 2 and deploy["source_ips"] == 2
    assert deploy["arns"] == ["arn:aws:iam::012345678901:role/DeployRole"]  # the role, once
    assert deploy["first_seen"] == deploy["last_seen"] == T + timedelta(hours=1)
    root = by["root"]
    assert root["console_logins"] == 1 and root["console_logins_mfa"] == 0
    alice = by["alice"]
    assert alice["events"] == 9 and alice["user_agents"] == 2 and alice["regions"] == 2


def test_actors_under_a_filter_and_sorted(cur: duckdb.DuckDBPyConnection) -> None:
    only_s3 = FilterState().add(Chip.include("eventSource", "s3.amazonaws.com"))
    got = inv.actors(cur, only_s3, sort="events")
    assert [(r["actor"], r["events"]) for r in got] == [("alice", 9), ("bob", 2)]
    assert inv.actors(cur, sort="failed")[0]["actor"] == "bob"
    assert inv.actors(cur, sort="no such sort; DROP TABLE events") == inv.actors(cur)


def test_actor_chips_filter_the_table_to_that_actor(cur: duckdb.DuckDBPyConnection) -> None:
    row = next(r for r in inv.actors(cur) if r["actor"] == "DeployRole")
    state = FilterState()
    for chip in inv.actor_chips(row):
        state = state.add(chip)
    assert views.count(cur, state) == 3


def test_actor_detail_top_apis_and_days(cur: duckdb.DuckDBPyConnection) -> None:
    row = next(r for r in inv.actors(cur) if r["actor"] == "alice")
    detail = inv.actor_detail(cur, row, top=2)
    assert detail.top_apis == [("GetBucketAcl", 2, 0), ("GetObject", 2, 0)]
    assert detail.per_day == [(datetime(2024, 5, 1), 8, 0)]  # one event has no time


# -- sessions and chains -----------------------------------------------------------------------


def _grant(n: int, caller: dict[str, Any], role_arn: str, session: str, key: str,
           when: str, api: str = "AssumeRole", ip: str = "198.51.100.1") -> dict[str, Any]:
    return record(n, userIdentity=caller, eventSource="sts.amazonaws.com", eventName=api,
                  eventTime=when, sourceIPAddress=ip,
                  requestParameters={"roleArn": role_arn, "roleSessionName": session},
                  responseElements={"credentials": {"accessKeyId": key,
                                                    "sessionToken": "x", "expiration": "y"},
                                    "assumedRoleUser": {"arn": f"{role_arn}/{session}"}})


def _role(role: str, session: str, key: str, account: str) -> dict[str, Any]:
    ui = assumed_role(role, session, key)
    ui["accountId"] = account
    ui["arn"] = f"arn:aws:sts::{account}:assumed-role/{role}/{session}"
    ui["sessionContext"]["sessionIssuer"]["arn"] = f"arn:aws:iam::{account}:role/{role}"
    ui["sessionContext"]["sessionIssuer"]["accountId"] = account
    return ui


CHAIN = [
    # alice (long-term key) assumes RoleA in 111..., which assumes RoleB in 222...
    _grant(100, iam_user("alice", "AKIAALICE"), "arn:aws:iam::111111111111:role/RoleA",
           "hop", "ASIAHOPA", "2024-05-02T08:00:00Z"),
    _grant(101, _role("RoleA", "hop", "ASIAHOPA", "111111111111"),
           "arn:aws:iam::222222222222:role/RoleB", "hop2", "ASIAHOPB", "2024-05-02T08:01:00Z",
           ip="10.9.9.9"),
    record(102, userIdentity=_role("RoleB", "hop2", "ASIAHOPB", "222222222222"),
           eventTime="2024-05-02T08:02:00Z", eventName="ListBuckets"),
    record(103, userIdentity=_role("RoleB", "hop2", "ASIAHOPB", "222222222222"),
           eventTime="2024-05-02T09:00:00Z", eventName="DeleteBucket", errorCode="AccessDenied"),
    # The same role-session name again, three days later: a different credential.
    _grant(104, iam_user("alice", "AKIAALICE"), "arn:aws:iam::111111111111:role/RoleA",
           "hop", "ASIAHOPC", "2024-05-05T08:00:00Z"),
    record(105, userIdentity=_role("RoleA", "hop", "ASIAHOPC", "111111111111"),
           eventTime="2024-05-05T08:05:00Z"),
    # A key used with no issuing event in the data.
    record(106, userIdentity=_role("Orphan", "o", "ASIAORPHAN", "333333333333"),
           eventTime="2024-05-05T09:00:00Z"),
    # A failed AssumeRole issues nothing.
    record(107, userIdentity=iam_user("mallory", "AKIAMAL"), eventSource="sts.amazonaws.com",
           eventName="AssumeRole", errorCode="AccessDenied", eventTime="2024-05-05T10:00:00Z",
           requestParameters={"roleArn": "arn:aws:iam::111111111111:role/RoleA"},
           responseElements=None),
]


@pytest.fixture(scope="module")
def chain_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    with events_store(CHAIN, tmp_path_factory.mktemp("chain")) as st:
        yield st


def test_sessions_resolve_each_credential_to_its_issuing_event(
        chain_store: EventStore) -> None:
    cur = chain_store.cursor()
    by = {r["access_key"]: r for r in rows(cur, "SELECT * FROM sessions")}
    assert set(by) == {"ASIAHOPA", "ASIAHOPB", "ASIAHOPC", "ASIAORPHAN"}
    b = by["ASIAHOPB"]
    assert (b["role"], b["session_name"], b["account_id"]) == ("RoleB", "hop2", "222222222222")
    assert b["assumed_by"] == "RoleA" and b["assumed_by_key"] == "ASIAHOPA"
    assert b["assume_event_id"] == CHAIN[1]["eventID"] and b["assume_api"] == "AssumeRole"
    assert b["source_ip"] == "10.9.9.9"
    assert b["created"] == datetime(2024, 5, 2, 8, 1)
    assert b["last_used"] == datetime(2024, 5, 2, 9, 0)
    assert (b["events"], b["failed"]) == (2, 1)
    assert b["chain"] == "alice -> RoleA@111111111111 -> RoleB@222222222222"
    assert b["chain_depth"] == 1 and b["origin"] == "alice"
    assert by["ASIAHOPA"]["chain"] == "alice -> RoleA@111111111111"
    assert by["ASIAHOPA"]["events"] == 1  # it made the AssumeRole call
    # Same role, same session name, another day: its own row, its own issuing event.
    c = by["ASIAHOPC"]
    assert c["session_name"] == "hop" and c["assume_event_id"] == CHAIN[4]["eventID"]
    orphan = by["ASIAORPHAN"]
    assert orphan["assume_event_id"] is None and orphan["chain"] == "? -> Orphan@333333333333"
    cur.close()


def test_the_same_session_pivot_is_one_credential(chain_store: EventStore) -> None:
    from trailtui.data.filters import pivot_chips

    cur = chain_store.cursor()
    key = rows(cur, "SELECT _file_id, _line FROM events WHERE eventID = ?",
               [CHAIN[5]["eventID"]])[0]
    row = views.event_row(cur, key["_file_id"], key["_line"])
    assert row is not None
    pivots = pivot_chips(row)
    assert views.count(cur, FilterState().add(pivots["session"])) == 1  # ASIAHOPC only
    assert views.count(cur, FilterState().add(pivots["role_session"])) == 2  # + ASIAHOPA
    assert views.count(cur, FilterState().add(pivots["role"])) == 2
    cur.close()


# -- first seen, new and rare ------------------------------------------------------------------


def test_first_seen_has_each_field(chain_store: EventStore) -> None:
    cur = chain_store.cursor()
    got = {(r["field"], r["value"]): r for r in rows(cur, "SELECT * FROM first_seen")}
    assert {f for f, _v in got} == set(inv.FIRST_SEEN_FIELDS)
    alice = got[("actor", "alice")]
    assert alice["events"] == 2 and alice["first_seen"] == datetime(2024, 5, 2, 8)
    pair = got[("actor_api", "RoleB · DeleteBucket")]
    assert pair["parts"] == ["RoleB", "DeleteBucket"] and pair["events"] == 1
    assert ("access_key", "ASIAHOPB") in got
    assert not any(v is None for _f, v in got)  # "no IP" is not a value seen
    cur.close()


def test_new_in_the_last_day_and_rare(chain_store: EventStore) -> None:
    cur = chain_store.cursor()
    found = inv.new_and_rare(cur, rare_max=1)  # window: the day before the newest event
    new = {(v.field, v.value) for v in found if v.new}
    assert ("actor", "mallory") in new and ("actor", "Orphan") in new
    assert ("actor", "alice") not in new  # seen three days earlier
    assert ("access_key", "ASIAHOPC") in new
    rare = {(v.field, v.value) for v in found if v.rare and not v.new}
    assert ("api", "DeleteBucket") in rare
    assert found[0].new and not found[-1].new  # new first
    # A chosen window: 2 May only.
    may2 = inv.new_and_rare(cur, start=datetime(2024, 5, 2), end=datetime(2024, 5, 3),
                            rare_max=0, fields=["actor"])
    assert {v.value for v in may2} == {"alice", "RoleA", "RoleB"}
    pair = next(v for v in inv.new_and_rare(cur, rare_max=5, fields=["actor_api"])
                if v.value == "RoleB · DeleteBucket")
    assert pair.chips() == [Chip.include("actor", "RoleB"),
                            Chip.include("eventName", "DeleteBucket")]
    cur.close()


# -- requestParameters -------------------------------------------------------------------------


def test_request_parameter_keys_by_api(cur: duckdb.DuckDBPyConnection) -> None:
    keys = inv.request_parameter_keys(cur)
    assert ("PutObject", "key", 2) in keys and ("PutObject", "note", 1) in keys
    assert ("CreateBucket", "bucketName", 1) in keys
    only_ec2 = FilterState().add(Chip.include("eventSource", "ec2.amazonaws.com"))
    assert inv.request_parameter_keys(cur, only_ec2) == [("RunInstances", "instanceType", 1),
                                                         ("RunInstances", "note", 1)]


def test_facet_and_chip_on_any_request_parameter(cur: duckdb.DuckDBPyConnection) -> None:
    assert inv.request_parameter_values(cur, "key") == [
        (None, 2),  # objects without the key
        ("C:\\temp\\path", 1), ("O'Brien's file", 1), ("reports/100%_done.csv", 1),
        ("reports/100x-done.csv", 1)]
    chip = Chip.include(param_column("key"), "O'Brien's file")
    assert views.count(cur, FilterState().add(chip)) == 1
    assert chip.label == "requestParameters.key = O'Brien's file"
    assert views.count(cur, FilterState().add(Chip.exclude(param_column("key"), None))) == 4
    # Copied queries carry the key and value as literals.
    assert "json_extract_string(requestParameters, '/key') = 'O''Brien''s file'" in \
        FilterState().add(chip).to_duckdb_sql()
    assert "json_extract_scalar(requestparameters, '$[\"key\"]')" in \
        FilterState().add(chip).to_athena_sql()


def test_hostile_parameter_keys_are_bound(tmp_path: Path) -> None:
    recs = [record(1, requestParameters={"a.b": "dot", "x/y": "slash", "q'\"]": "quote"}),
            record(2, requestParameters={"a": {"b": "nested"}})]
    with events_store(recs, tmp_path) as st:
        cur = st.cursor()
        for key, value in (("a.b", "dot"), ("x/y", "slash"), ("q'\"]", "quote")):
            assert inv.request_parameter_values(cur, key) == [(value, 1), (None, 1)]
            assert views.count(cur, FilterState().add(Chip.include(param_column(key),
                                                                   value))) == 1
        assert inv.request_parameter_values(cur, "a")[0] == ('{"b":"nested"}', 1)
        cur.close()
    with pytest.raises(ValueError):
        Chip.include("requestParameters.", "x")


# -- coverage ----------------------------------------------------------------------------------


def test_coverage_of_the_fixture(store: EventStore, cur: duckdb.DuckDBPyConnection) -> None:
    cov = cov_mod.coverage(cur, store.sources)
    assert cov.events == 16 and cov.no_time == 1
    assert (cov.read_only, cov.writes, cov.read_unknown) == (9, 5, 2)
    assert cov.start == T and cov.end == T + timedelta(hours=1)
    assert dict(cov.regions) == {"eu-west-1": 14, "us-east-1": 2}
    assert [f.events for f in cov.files] == [16] and not cov.capped_files
    assert cov.gap_count == 0 and cov.insights == 0 and cov.csv_rows == 0
    assert cov.summary().startswith("16 events 2024-05-01 10:00:00 – 2024-05-01 11:00:00")
    assert "16 events without" not in " ".join(cov.warnings())
    assert "1 events without a readable time" in cov.warnings()[-1]


def test_coverage_finds_gaps_the_cap_csv_and_writes_only(tmp_path: Path) -> None:
    recs = [record(i, eventTime=f"2024-05-01T10:{i:02d}:00Z", readOnly=False) for i in range(30)]
    recs += [record(100 + i, eventTime=f"2024-05-03T10:{i:02d}:00Z", readOnly=False)
             for i in range(30)]
    with events_store(recs, tmp_path) as st:
        cur = st.cursor()
        path = st.sources[0].path
        fake = [FileReport(path, "Records", cov_mod.CONSOLE_CAP, 60)]
        cov = cov_mod.coverage(cur, fake)
        assert [(g.start, g.end) for g in cov.gaps] == [
            (datetime(2024, 5, 1, 10, 29), datetime(2024, 5, 3, 10, 0))]
        assert cov.capped_files and "download cap" in cov.warnings()[0]
        assert "writes only" in cov.summary() and "hit the 200k download cap" in cov.summary()
        csv = cov_mod.coverage(cur, [FileReport(path, "console CSV", 60, 60)])
        assert csv.csv_rows == 60 and "CSV rows lack the full record" in csv.summary()
        assert cov_mod.coverage(cur, fake, gap=timedelta(days=3)).gap_count == 0
        cur.close()


def test_headless_coverage(tmp_path: Path) -> None:
    path = tmp_path / "e.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert cov_mod.headless_coverage([str(path)], out=out, err=err, cache=False) == 0
    text = out.getvalue()
    assert text.startswith("16 events 2024-05-01 10:00:00") and "regions (2)" in text
    out = io.StringIO()
    assert cov_mod.headless_coverage([str(path)], "json", out=out, err=err, cache=False) == 0
    data = json.loads(out.getvalue())
    assert data["events"] == 16 and data["files"][0]["path"] == str(path)
    assert cov_mod.headless_coverage([], out=out, err=err) == 2
    assert cov_mod.headless_coverage([str(tmp_path / "missing.json")], out=out, err=err) == 2


def test_cli_coverage_flag_and_views_in_sql(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in CHAIN), encoding="utf-8")
    assert cli.main([str(path), "--coverage", "--no-cache"]) == 0
    assert capsys.readouterr().out.startswith("8 events")
    assert cli.main([str(path), "--no-cache", "--format", "csv", "--sql",
                     "SELECT access_key, chain FROM sessions ORDER BY access_key"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "access_key,chain"
    assert "ASIAHOPB,alice -> RoleA@111111111111 -> RoleB@222222222222" in lines


def test_hostile_values_in_coverage_text_are_made_safe(tmp_path: Path) -> None:
    recs = [record(1, awsRegion="\x1b]52;c;AAAA\x07[bold]x[/]")]
    path = tmp_path / "e.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    out = io.StringIO()
    assert cov_mod.headless_coverage([str(path)], out=out, err=io.StringIO(), cache=False) == 0
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert "[bold]x[/]" in out.getvalue()


def _all(cur: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    return sorted(map(str, cur.execute(f"SELECT * FROM {view}").fetchall()))


def test_facts_answer_the_same_and_follow_new_loads(tmp_path: Path) -> None:
    from _fixtures import write_ndjson

    with events_store(CHAIN[:4], tmp_path) as st:
        cur = st.cursor()
        full = {v: _all(cur, v) for v in inv.VIEW_NAMES}
        assert not inv.facts_fresh(cur)
        assert inv.ensure_facts(cur) and inv.facts_fresh(cur)
        for v in inv.VIEW_NAMES:
            assert _all(cur, v) == full[v]
        # A second file loads: the views answer for every event again, not the old facts.
        report = st.load([str(write_ndjson(CHAIN[4:], tmp_path / "more.ndjson"))])
        assert report.events_added == 4
        assert not inv.facts_fresh(cur)
        keys = {r[0] for r in cur.execute("SELECT access_key FROM sessions").fetchall()}
        assert keys == {"ASIAHOPA", "ASIAHOPB", "ASIAHOPC", "ASIAORPHAN"}
        assert cur.execute("SELECT sum(events) FROM actors").fetchall() == [(8,)]
        full = {v: _all(cur, v) for v in inv.VIEW_NAMES}
        assert inv.ensure_facts(cur)
        for v in inv.VIEW_NAMES:
            assert _all(cur, v) == full[v]
        cur.close()


def test_facts_of_the_samples_fixture_answer_the_same(tmp_path: Path) -> None:
    """Every fixture event (several actors, keys used more than once) through both forms."""
    with events_store([*RECORDS, *CHAIN], tmp_path) as st:
        cur = st.cursor()
        full = {v: _all(cur, v) for v in inv.VIEW_NAMES}
        assert inv.ensure_facts(cur)
        assert cur.execute("SELECT count(*) FROM _inv_multi_keys").fetchall()[0][0] > 0
        for v in inv.VIEW_NAMES:
            assert _all(cur, v) == full[v], v
        cur.close()


def _chain_facts(chain_store: EventStore) -> duckdb.DuckDBPyConnection:
    cur = chain_store.cursor()
    assert inv.ensure_facts(cur)
    return cur


def test_sessions_under_a_filter_count_its_events(chain_store: EventStore) -> None:
    cur = _chain_facts(chain_store)
    # Only the DeleteBucket call: HOPB made it; who HOPB is and its chain do not change.
    got = inv.sessions(cur, filters=FilterState().add(Chip.include("eventName", "DeleteBucket")))
    assert [r["access_key"] for r in got] == ["ASIAHOPB"]
    b = got[0]
    assert (b["events"], b["failed"], b["apis"]) == (1, 1, 1)
    assert b["first_used"] == b["last_used"] == datetime(2024, 5, 2, 9, 0)
    assert b["chain"] == "alice -> RoleA@111111111111 -> RoleB@222222222222"
    assert b["created"] == datetime(2024, 5, 2, 8, 1)  # when it was issued, filter or not
    # alice's events are the two AssumeRole calls: the credentials they issued are listed,
    # with nothing done under the filter.
    alice = FilterState().add(Chip.include("actor", "alice"))
    issued = {r["access_key"]: r for r in inv.sessions(cur, filters=alice)}
    assert set(issued) == {"ASIAHOPA", "ASIAHOPC"}
    assert all(r["events"] == 0 and r["last_used"] is None for r in issued.values())
    assert inv.session_counts(cur, alice) == (2, 2, 0)
    assert inv.session_counts(cur) == (4, 3, 1)
    # What the K screen asks, in one pass: the same rows and counts.
    for state in (alice, None):
        assert inv.sessions_counted(cur, 3, state) == (inv.sessions(cur, 3, state),
                                                       inv.session_counts(cur, state))
    cur.close()


def test_sessions_under_a_filter_of_every_event_equal_the_view(chain_store: EventStore) -> None:
    cur = _chain_facts(chain_store)
    everything = FilterState().add(Chip.time(datetime(2000, 1, 1), datetime(2100, 1, 1)))
    assert inv.sessions(cur, filters=everything) == inv.sessions(cur)
    assert inv.session_counts(cur, everything) == inv.session_counts(cur)
    assert inv.new_and_rare(cur, filters=everything) == inv.new_and_rare(cur)
    assert inv.actors(cur, everything) == inv.actors(cur)
    rows, total = inv.actors_counted(cur, everything, "last_seen", limit=2)
    assert rows == inv.actors(cur, sort="last_seen")[:2] and total == len(inv.actors(cur))
    cur.close()


def test_new_and_rare_under_a_filter(chain_store: EventStore) -> None:
    cur = chain_store.cursor()
    role_b = FilterState().add(Chip.include("actor", "RoleB"))
    found = inv.new_and_rare(cur, rare_max=5, filters=role_b)
    assert {v.value for v in found if v.field == "actor"} == {"RoleB"}
    assert {v.value for v in found if v.field == "api"} == {"ListBuckets", "DeleteBucket"}
    # The window ends at RoleB's newest event (2 May 09:00): both its APIs are new then.
    assert all(v.new for v in found if v.field == "api")
    new, rare, either = inv.new_and_rare_counts(cur, rare_max=5, filters=role_b)
    assert rare == sum(v.rare for v in found)
    assert either == len(found) and new == sum(v.new for v in found)
    assert inv.under(role_b) == "under 1 filter" and inv.under(None) == ""
    # What the N screen asks, in one pass: the same list and counts.
    for state in (role_b, None):
        assert inv.new_and_rare_counted(cur, rare_max=5, filters=state) == (
            inv.new_and_rare(cur, rare_max=5, filters=state),
            inv.new_and_rare_counts(cur, rare_max=5, filters=state))
    cur.close()




@pytest.mark.parametrize("place", ["disk", "cache"])
def test_facts_wherever_the_events_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        place: str) -> None:
    """On an on-disk store and on a cache reopened in place (read-only), the facts go into
    the session's own database and answer as the views from the events alone; a file added
    later (the cached store then copied to be written) is never answered from old facts."""
    from _fixtures import write_ndjson

    first = write_ndjson([*RECORDS, *CHAIN[:4]], tmp_path / "first.ndjson")
    if place == "disk":
        monkeypatch.setenv("TRAILTUI_STORE", "disk")
    store = EventStore(cache=place == "cache")
    try:
        store.load([str(first)])
        if place == "cache":
            assert store.save_cache() is None
            store.close()
            store = EventStore(cache=True)
            assert store.load([str(first)]).from_cache
        assert store.placement == place
        cur = store.cursor()
        full = {v: _all(cur, v) for v in inv.VIEW_NAMES}
        assert inv.ensure_facts(cur)
        assert {v: _all(cur, v) for v in inv.VIEW_NAMES} == full
        store.load([str(write_ndjson(CHAIN[4:], tmp_path / "more.ndjson"))])
        assert not inv.facts_fresh(cur)
        full = {v: _all(cur, v) for v in inv.VIEW_NAMES}
        assert "ASIAORPHAN" in str(full["sessions"])
        assert inv.ensure_facts(cur)
        assert {v: _all(cur, v) for v in inv.VIEW_NAMES} == full
        cur.close()
    finally:
        store.close()
