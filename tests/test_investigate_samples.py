"""The investigation views against independent counts on the real sample sets.

Each expected value is computed here in plain Python from the records as `read_records` reads
them (stdlib json, exact repeats removed as the loader does), never through trailtui's SQL.
Skipped with the reason when ../shared/samples is absent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import distinct, loaded, query, read_records

from trailtui.data import coverage as cov_mod
from trailtui.data.store import EventStore

STRATUS = "console-json/stratus-red-team_detonation-logs.json"
GRYCAP = "console-json/grycap-cloudtrail-tracker_974349055189_all-events.json"
DOCS = "console-json/aws-docs_example-events.json"
OTRF = "ndjson/otrf_ec2-proxy-s3-exfiltration_logstash-export.ndjson"
FEDERATION = "odd-shapes/stratus-red-team_sts-federation-token_bare-array.json"

_FRACTION = re.compile(r"\.(\d{6})\d+")


def when(rec: dict[str, Any]) -> dt.datetime | None:
    """eventTime (or Logstash's @timestamp) as naive UTC; nanoseconds cut to microseconds."""
    text = rec.get("eventTime", rec.get("@timestamp"))
    if not isinstance(text, str):
        return None
    try:
        value = dt.datetime.fromisoformat(_FRACTION.sub(r".\1", text))
    except ValueError:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def actor(ui: Any) -> str:
    """The readable actor for the identity types of these sets (schema.ACTOR_EXPR's rules)."""
    if not isinstance(ui, dict):
        return "unknown"
    kind = ui.get("type")
    issuer = (ui.get("sessionContext") or {}).get("sessionIssuer") or {}
    if kind == "Root":
        return "root"
    if kind == "AssumedRole":
        return str(issuer.get("userName") or ui["arn"].split("/")[1])
    if kind == "IAMUser":
        return str(ui.get("userName") or ui["arn"].rsplit("/", 1)[-1])
    if kind == "AWSService":
        return str(ui.get("invokedBy") or "AWSService")
    if kind == "FederatedUser":
        return str(ui["arn"].rsplit("/", 1)[-1])
    raise AssertionError(f"identity type not handled here: {kind}")


def records(samples: Path, *names: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in names:
        out += read_records(samples / name)
    return distinct(out)


@pytest.fixture(scope="module")
def stratus_grycap(samples: Path) -> Iterator[tuple[EventStore, list[dict[str, Any]]]]:
    with loaded(samples / STRATUS, samples / GRYCAP) as (store, report):
        assert not report.errors
        yield store, records(samples, STRATUS, GRYCAP)


def test_actors_view_is_exact(stratus_grycap: tuple[EventStore, list[dict[str, Any]]]) -> None:
    store, recs = stratus_grycap
    expected: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(set))
    counts: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    denied: Counter[str] = Counter()
    times: dict[str, list[dt.datetime]] = defaultdict(list)
    for rec in recs:
        a = actor(rec.get("userIdentity"))
        counts[a] += 1
        error = rec.get("errorCode")
        if error:
            failed[a] += 1
            if "AccessDenied" in error or "UnauthorizedOperation" in error:
                denied[a] += 1
        for col, field in (("apis", "eventName"), ("source_ips", "sourceIPAddress"),
                           ("user_agents", "userAgent"), ("regions", "awsRegion")):
            if rec.get(field) is not None:
                expected[a][col].add(rec[field])
        key = (rec.get("userIdentity") or {}).get("accessKeyId")
        if key:
            expected[a]["access_keys"].add(key)
        t = when(rec)
        if t is not None:
            times[a].append(t)
    got = query(store, "SELECT actor, sum(events) AS events, sum(failed) AS failed, "
                       "sum(access_denied) AS access_denied, min(first_seen) AS first_seen, "
                       "max(last_seen) AS last_seen, max(apis) AS apis, "
                       "max(source_ips) AS source_ips, max(user_agents) AS user_agents, "
                       "max(regions) AS regions, max(access_keys) AS access_keys, "
                       "count(*) AS rows FROM actors GROUP BY actor")
    assert {r["actor"] for r in got} == set(counts)
    for r in got:
        a = r["actor"]
        assert r["events"] == counts[a], a
        assert (r["failed"], r["access_denied"]) == (failed[a], denied[a]), a
        assert (r["first_seen"], r["last_seen"]) == (min(times[a]), max(times[a])), a
        if r["rows"] == 1:  # one identity type and account: distinct counts are exact
            for col in ("apis", "source_ips", "user_agents", "regions", "access_keys"):
                assert r[col] == len(expected[a][col]), (a, col)
    assert sum(r["events"] for r in got) == len(recs) == store.event_count()


def test_first_seen_view_is_exact(
        stratus_grycap: tuple[EventStore, list[dict[str, Any]]]) -> None:
    store, recs = stratus_grycap
    fields: dict[str, Callable[[dict[str, Any]], Any]] = {
              "actor": lambda r: actor(r.get("userIdentity")),
              "source_ip": lambda r: r.get("sourceIPAddress"),
              "user_agent": lambda r: r.get("userAgent"),
              "api": lambda r: r.get("eventName"),
              "region": lambda r: r.get("awsRegion"),
              "access_key": lambda r: (r.get("userIdentity") or {}).get("accessKeyId") or None,
              "actor_api": lambda r: (f"{actor(r.get('userIdentity'))} · {r['eventName']}"
                                      if r.get("eventName") else None)}
    expected: dict[tuple[str, str], list[Any]] = {}
    for rec in recs:
        t = when(rec)
        for name, fn in fields.items():
            value = fn(rec)
            if value is None:
                continue
            entry = expected.setdefault((name, value), [None, 0])
            entry[1] += 1
            if t is not None and (entry[0] is None or t < entry[0]):
                entry[0] = t
    got = {(r["field"], r["value"]): [r["first_seen"], r["events"]]
           for r in query(store, "SELECT field, value, first_seen, events FROM first_seen")}
    assert got == expected


SESSION_SETS = (STRATUS, DOCS, OTRF, FEDERATION)


def test_sessions_resolved_to_their_issuing_event(samples: Path) -> None:
    recs = records(samples, *SESSION_SETS)
    issuing = ("AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity",
               "GetFederationToken", "GetSessionToken")
    grants: dict[str, dict[str, Any]] = {}
    for rec in sorted(recs, key=lambda r: (when(r) or dt.datetime.max, r.get("eventID") or "")):
        resp = rec.get("responseElements")
        creds = resp.get("credentials") if isinstance(resp, dict) else None
        if rec.get("eventName") in issuing and isinstance(creds, dict):
            grants.setdefault(creds["accessKeyId"], rec)
    used: Counter[str] = Counter()
    for rec in recs:
        key = (rec.get("userIdentity") or {}).get("accessKeyId")
        if isinstance(key, str) and key.startswith("ASIA"):
            used[key] += 1
    keys = {k for k in (set(used) | set(grants)) if k.startswith("ASIA")}
    with loaded(*(samples / name for name in SESSION_SETS)) as (store, report):
        assert not report.errors
        got = {r["access_key"]: r for r in query(store, "SELECT * FROM sessions")}
        actor_of = {r["eventID"]: r["actor"] for r in query(
            store, "SELECT eventID, any_value(actor) AS actor FROM events GROUP BY eventID")}
    assert set(got) == keys
    for key in keys:
        row, grant = got[key], grants.get(key)
        assert row["events"] == used[key], key
        if grant is None:
            assert row["assume_event_id"] is None, key
            continue
        assert row["assume_event_id"] == grant["eventID"], key
        assert row["assume_api"] == grant["eventName"], key
        assert row["source_ip"] == grant.get("sourceIPAddress"), key
        assert row["assumed_by"] == actor_of[grant["eventID"]], key
    # Where the data holds both the AssumeRole and the calls made with its credential.
    resolved = {k for k in keys if k in grants and used[k]}
    assert {k for k, r in got.items() if r["assume_event_id"] and r["events"]} == resolved
    assert len(resolved) == 6  # Stratus: 4 AssumeRole, 1 GetFederationToken; OTRF: 1


def test_coverage_is_exact_per_file(samples: Path) -> None:
    names = (STRATUS, GRYCAP, "console-csv/stratus-red-team_detonation-logs_event-history.csv")
    with loaded(*(samples / n for n in names)) as (store, _report):
        cur = store.cursor()
        cov = cov_mod.coverage(cur, store.sources)
        cur.close()
    for name, span in zip(names, cov.files, strict=True):
        recs = read_records(samples / name) if not name.endswith(".csv") else None
        if recs is None:
            assert span.kind == "console CSV" and span.records == 312
            continue
        times = [t for t in map(when, recs) if t is not None]
        assert (span.records, span.first, span.last) == (len(recs), min(times), max(times))
    assert cov.csv_rows == 312
    grycap = read_records(samples / GRYCAP)
    stratus = read_records(samples / STRATUS)
    regions = Counter(r.get("awsRegion") for r in distinct(grycap + stratus))
    assert Counter(dict(cov.regions)) - Counter() == regions + Counter({
        # the CSV rows carry the region too (the same 312 Stratus records, another form)
        k: v for k, v in Counter(r.get("awsRegion") for r in stratus).items()})
    assert not cov.capped_files and cov.insights == 0
    # grycap has no readOnly at all; every Stratus record (JSON and CSV row) says.
    assert cov.read_unknown == len(distinct(grycap))
    assert all("readOnly" in r for r in stratus)


def test_facts_answer_as_the_views_from_the_events_alone(samples: Path) -> None:
    """Every view, built from the facts of a load, holds the same rows as computed from the
    events alone; the actors of one filter too (the fast form against the full one)."""
    from trailtui.data import investigate as inv
    from trailtui.data.filters import Chip, FilterState

    names = sorted({*SESSION_SETS, STRATUS, GRYCAP})
    with loaded(*(samples / n for n in names)) as (store, report):
        assert not report.errors
        cur = store.cursor()
        full = {v: sorted(map(str, cur.execute(f"SELECT * FROM {v}").fetchall()))
                for v in inv.VIEW_NAMES}
        assert inv.ensure_facts(cur)
        for v in inv.VIEW_NAMES:
            assert sorted(map(str, cur.execute(f"SELECT * FROM {v}").fetchall())) == full[v], v
        state = FilterState().add(Chip.include("eventSource", "sts.amazonaws.com"))
        where, params = state.where()
        slow = cur.execute(inv.actors_select(where), [*params, *params]).fetchall()
        fast = cur.execute(inv.actors_fast_select(where), params).fetchall()
        assert sorted(map(str, fast)) == sorted(map(str, slow)) and slow
        cur.close()
