"""Every real-world sample set in ../shared/samples loads, checked against the files themselves.

Expected values are computed here from the sample files with the standard library (json, gzip,
csv), never from trailtui's own code. Each set is loaded once per module (see `sets`), so the
big sets (grycap: 6,192 records, Permiso: 8,170) cost one load each.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import gzip
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import canonical, distinct, parse_time, query, read_records, samples_or_skip, scalar

from trailtui.data.store import EventStore, LoadReport

pytestmark = pytest.mark.samples

Loader = Callable[..., tuple[EventStore, LoadReport]]

GRYCAP_JSON = "console-json/grycap-cloudtrail-tracker_974349055189_all-events.json"
GRYCAP_NDJSON = "ndjson/grycap-cloudtrail-tracker_974349055189_all-events.ndjson"
GRYCAP_CSV = "console-csv/grycap-cloudtrail-tracker_974349055189_event-history.csv"
STRATUS_JSON = "console-json/stratus-red-team_detonation-logs.json"
STRATUS_NDJSON = "ndjson/stratus-red-team_detonation-logs.ndjson"
STRATUS_CSV = "console-csv/stratus-red-team_detonation-logs_event-history.csv"
PANTHER = "console-json/panther-analysis_rule-test-events.json"
OTRF = "ndjson/otrf_ec2-proxy-s3-exfiltration_logstash-export.ndjson"
LOOKUP = "odd-shapes/plaso_lookup-events-api-output.jsonl"
PERMISO = "odd-shapes/permiso_console-sessions_trimmed-events_bare-array.json"
S3_TREE = "s3-trail"
GRYCAP_ACCOUNT = "974349055189"

# Every file that holds events, whatever its shape.
EVENT_FILES = [
    "console-json/aws-docs_example-events.json",
    GRYCAP_JSON,
    PANTHER,
    "console-json/plaso_aws-docs-derived-sample.json",
    "console-json/splunk-attack-data_s3-bucket-deletion.json",
    "console-json/stackstate_aws-topology-test-events.json",
    STRATUS_JSON,
    "console-json/trailscraper_test-records.json",
    "console-json/wiz-gist_network-activity-event_transcribed.json",
    GRYCAP_NDJSON,
    OTRF,
    STRATUS_NDJSON,
    PERMISO,
    LOOKUP,
    "odd-shapes/stratus-red-team_sts-federation-token_bare-array.json",
]


@pytest.fixture(scope="module")
def sets() -> Iterator[Loader]:
    """Load a combination of sample paths once for the whole module; closed at the end."""
    root = samples_or_skip()
    opened: dict[tuple[str, ...], tuple[EventStore, LoadReport]] = {}

    def get(*rel: str) -> tuple[EventStore, LoadReport]:
        if rel not in opened:
            store = EventStore(cache=False)
            opened[rel] = (store, store.load([str(root / r) for r in rel]))
        return opened[rel]

    yield get
    for store, _ in opened.values():
        store.close()


# --- expected values, from the files -------------------------------------------------------


def _get(rec: dict[str, Any], key: str) -> Any:
    """A top-level field, also under the all-lower-case name some exporters write."""
    return rec[key] if key in rec else rec.get(key.lower())


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _actor(rec: dict[str, Any]) -> str | None:
    """The actor for the identity types whose rule is unambiguous; None for the rest."""
    ui = _get(rec, "userIdentity")
    if not isinstance(ui, dict):
        return None
    kind = ui.get("type")
    if kind == "Root":
        return "root"
    if kind == "IAMUser" and ui.get("userName"):
        return str(ui["userName"])
    issuer = (ui.get("sessionContext") or {}).get("sessionIssuer") or {}
    if kind == "AssumedRole" and issuer.get("userName"):
        return str(issuer["userName"])
    if kind == "AWSService" and ui.get("invokedBy"):
        return str(ui["invokedBy"])
    return None


def _event_name(rec: dict[str, Any]) -> Any:
    return _get(rec, "eventName") or (rec.get("insightDetails") or {}).get("eventName")


def _time_text(rec: dict[str, Any]) -> Any:
    t = _get(rec, "eventTime")
    return t if t is not None else rec.get("@timestamp")


def _expected_rows(records: list[dict[str, Any]]) -> collections.Counter[tuple[Any, ...]]:
    return collections.Counter(
        (_get(r, "eventID"), _event_name(r), parse_time(_time_text(r)),
         _get(r, "sourceIPAddress"), _bool(_get(r, "readOnly")), _get(r, "errorCode") or None)
        for r in records
    )


def _loaded_rows(store: EventStore, where: str = "") -> collections.Counter[tuple[Any, ...]]:
    rows = query(store, "SELECT eventID, eventName, eventTime, sourceIPAddress, readOnly, "
                        f"errorCode FROM events {where}")
    return collections.Counter(tuple(r.values()) for r in rows)


def _records(rel: str) -> list[dict[str, Any]]:
    """The distinct records of a sample file, as a de-duplicating loader should keep them."""
    # Exact dedup (issue 8): records that differ in any field, Panther's enrichment keys
    # (p_log_type, p_any_*, ...) included, are different records and are all kept.
    return distinct(read_records(samples_or_skip() / rel))


# --- each file -----------------------------------------------------------------------------


@pytest.mark.parametrize("rel", EVENT_FILES)
def test_every_event_file_loads_with_the_files_values(sets: Loader, rel: str) -> None:
    store, report = sets(rel)
    expected = _records(rel)
    assert report.errors == []
    assert store.event_count() == len(expected)
    assert [(Path(f.path).name, f.added) for f in report.files] == [
        (Path(rel).name, len(expected))]
    # eventID, eventName, eventTime (every format in the file), sourceIPAddress, readOnly and
    # errorCode of every event, as a multiset.
    assert _loaded_rows(store) == _expected_rows(expected)
    assert scalar(store, "SELECT count(DISTINCT source_file) FROM events") == 1
    assert scalar(store, "SELECT min(source_file) FROM events").endswith(rel)


@pytest.mark.parametrize("rel", EVENT_FILES)
def test_actor_per_identity_type(sets: Loader, rel: str) -> None:
    store, _ = sets(rel)
    expected = collections.Counter(
        (_get(r, "eventID"), a) for r in _records(rel) if (a := _actor(r)) is not None)
    rows = query(store, "SELECT eventID, actor, identity_type FROM events "
                        "WHERE identity_type IN ('Root', 'IAMUser', 'AssumedRole', 'AWSService')")
    got = collections.Counter((r["eventID"], r["actor"]) for r in rows)
    assert expected <= got  # every event with an unambiguous actor shows that actor
    assert all(r["actor"] for r in rows)


def test_grycap_duplicates_and_old_versions(sets: Loader) -> None:
    store, report = sets(GRYCAP_JSON)
    records = read_records(samples_or_skip() / GRYCAP_JSON)
    assert len(records) == 6192
    assert store.event_count() == len(distinct(records)) == 6188
    assert report.duplicates == 4
    # No grycap record says readOnly: NULL for all of them, not false.
    assert scalar(store, "SELECT count(*) FROM events WHERE readOnly IS NULL") == 6188
    # v1.01 records have no recipientAccountId: the account still comes from the identity.
    assert scalar(store, "SELECT count(*) FROM events WHERE recipientAccountId IS NULL") == len(
        {canonical(r) for r in records if "recipientAccountId" not in r})
    assert scalar(store, "SELECT list(DISTINCT account_id) FROM events") == [GRYCAP_ACCOUNT]
    by_type = collections.Counter(r["userIdentity"]["type"] for r in distinct(records))
    rows = query(store, "SELECT identity_type, count(*) AS n FROM events GROUP BY 1")
    assert {r["identity_type"]: r["n"] for r in rows} == dict(by_type)


def test_same_records_as_json_and_ndjson_load_once(sets: Loader) -> None:
    for files, n in (((GRYCAP_JSON, GRYCAP_NDJSON), 6188), ((STRATUS_JSON, STRATUS_NDJSON), 312)):
        store, report = sets(*files)
        assert store.event_count() == n
        assert [f.added for f in report.files] == [n, 0]
        assert scalar(store, "SELECT count(DISTINCT source_file) FROM events") == 1


def test_stratus_bedrock_records_sharing_an_event_id_are_both_kept(sets: Loader) -> None:
    store, _ = sets(STRATUS_JSON)
    records = read_records(samples_or_skip() / STRATUS_JSON)
    spaced = [r for r in records if " " in r["eventTime"]]
    assert len(spaced) == 2 and spaced[0]["eventID"] == spaced[1]["eventID"]
    same_id = [r for r in records if r["eventID"] == spaced[0]["eventID"]]
    assert len(same_id) == 3  # the two Bedrock records re-use a third record's eventID
    rows = query(store, "SELECT eventName, eventTime FROM events WHERE eventID = ? ORDER BY 2",
                 [spaced[0]["eventID"]])
    assert [(r["eventName"], r["eventTime"]) for r in rows] == sorted(
        ((r["eventName"], parse_time(r["eventTime"])) for r in same_id), key=lambda x: str(x[1]))
    assert all(r["eventTime"] is not None for r in rows)
    # The record of the time format ("2025-03-26 16:43:57.000000000") parses to the second.
    assert dt.datetime(2025, 3, 26, 16, 43, 57) in [r["eventTime"] for r in rows]


def test_stratus_anonymiser_oddities_survive(sets: Loader) -> None:
    store, _ = sets(STRATUS_JSON)
    records = read_records(samples_or_skip() / STRATUS_JSON)
    leading_zero = re.compile(r"^(\d+\.)*0\d")  # e.g. 255.090.254.5: not a valid IPv4
    bad_ips = collections.Counter(r["sourceIPAddress"] for r in records
                                  if leading_zero.match(r.get("sourceIPAddress", "")))
    assert sum(bad_ips.values()) == 107  # kept as the text the file has
    for ip, n in bad_ips.items():
        assert scalar(store, "SELECT count(*) FROM events WHERE sourceIPAddress = ?", [ip]) == n
    regions = collections.Counter(r["awsRegion"] for r in records)
    rows = query(store, "SELECT region, count(*) AS n FROM events GROUP BY 1")
    assert {r["region"]: r["n"] for r in rows} == dict(regions)


def test_panther_time_formats_and_read_only_strings(sets: Loader) -> None:
    store, _ = sets(PANTHER)
    records = _records(PANTHER)
    redacted = [r for r in records if _get(r, "eventTime") in ("redacted", "...")]
    assert redacted
    for rec in redacted:  # kept, with no time
        ids = query(store, "SELECT eventTime FROM events WHERE eventName = ?",
                    [_get(rec, "eventName")])
        assert None in [r["eventTime"] for r in ids]
    formats = {len(t) for r in records if isinstance(t := _get(r, "eventTime"), str)}
    assert {19, 20, 23, 29} <= formats  # no zone, Z, milliseconds, nanoseconds
    # Every time in a format that Python reads parses (one NULL per unreadable value).
    assert scalar(store, "SELECT count(eventTime) FROM events") == sum(
        parse_time(_time_text(r)) is not None for r in records)
    string_true = [r for r in records if r.get("readOnly") == "True"]
    assert len(string_true) == 1
    assert scalar(store, "SELECT readOnly FROM events WHERE eventID = ? AND eventName = ?",
                  [string_true[0]["eventID"], string_true[0]["eventName"]]) is True


def test_logstash_export_times_come_from_timestamp(sets: Loader) -> None:
    store, _ = sets(OTRF)
    records = read_records(samples_or_skip() / OTRF)
    assert all("eventTime" not in r and "@timestamp" in r for r in records)
    rows = {r["eventID"]: r["eventTime"] for r in query(
        store, "SELECT eventID, eventTime FROM events")}
    assert rows == {r["eventID"]: parse_time(r["@timestamp"]) for r in records}
    assert None not in rows.values()


def test_lookup_events_times_and_account_ids(sets: Loader) -> None:
    store, _ = sets(LOOKUP)
    lines = [json.loads(x) for x in (samples_or_skip() / LOOKUP).read_text().splitlines()]
    assert any("+11:00" in x["EventTime"] for x in lines)
    rows = {r["eventID"]: r for r in query(
        store, "SELECT eventID, eventTime, readOnly, recipientAccountId FROM events")}
    for item in lines:
        inner = json.loads(item["CloudTrailEvent"])
        row = rows[item["EventId"]]
        # The local-time EventTime (+11:00), converted to UTC, is the record's own time.
        local = dt.datetime.fromisoformat(item["EventTime"])
        assert row["eventTime"] == local.astimezone(dt.UTC).replace(tzinfo=None)
        assert row["readOnly"] is _bool(item["ReadOnly"])
        assert row["recipientAccountId"] == inner.get("recipientAccountId")
    leading_zero = [r for r in rows.values() if (r["recipientAccountId"] or "").startswith("0")]
    assert leading_zero and all(len(r["recipientAccountId"]) == 12 for r in leading_zero)


def test_permiso_trimmed_records(sets: Loader) -> None:
    store, _ = sets(PERMISO)
    records = read_records(samples_or_skip() / PERMISO)
    assert len(records) == 8170 and all("errorCode" in r for r in records)
    # errorCode present as null counts as no error.
    assert scalar(store, "SELECT count(errorCode) FROM events") == sum(
        bool(r["errorCode"]) for r in records)
    assert scalar(store, "SELECT count(DISTINCT eventSource) FROM events") == len(
        {r["eventSource"] for r in records})
    assert scalar(store, "SELECT count(*) FROM events WHERE actor = 'unknown'") == 8170


def test_raw_event_is_the_file_record(sets: Loader) -> None:
    for rel in (STRATUS_JSON, OTRF, LOOKUP, "console-json/aws-docs_example-events.json"):
        store, _ = sets(rel)
        keys = [(r["_file_id"], r["_line"]) for r in query(
            store, "SELECT _file_id, _line FROM events")]
        raw = collections.Counter(canonical(json.loads(b)) for b in store.raw_events(keys))
        assert raw == collections.Counter(canonical(r) for r in _records(rel)), rel


# --- console CSV ---------------------------------------------------------------------------


def _csv_rows(rel: str) -> list[dict[str, str]]:
    with (samples_or_skip() / rel).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_console_csv_grycap(sets: Loader) -> None:
    store, report = sets(GRYCAP_CSV)
    rows = _csv_rows(GRYCAP_CSV)
    assert len(rows) == 6192
    assert store.event_count() == len({tuple(r.values()) for r in rows}) == 6188
    assert scalar(store, "SELECT count(*) FROM events WHERE readOnly IS NULL") == 6188
    assert scalar(store, "SELECT list(DISTINCT recipientAccountId) FROM events "
                         "WHERE recipientAccountId IS NOT NULL") == [GRYCAP_ACCOUNT]
    assert len(report.warnings) == 1 and GRYCAP_CSV in report.warnings[0]
    names = collections.Counter(r["Event name"] for r in {tuple(r.items()): r for r in rows}
                                .values())
    got = query(store, "SELECT eventName, count(*) AS n FROM events GROUP BY 1")
    assert {r["eventName"]: r["n"] for r in got} == dict(names)


def test_console_csv_matches_the_json_records(sets: Loader) -> None:
    store, _ = sets(STRATUS_CSV)
    csv_rows = _csv_rows(STRATUS_CSV)
    records = read_records(samples_or_skip() / STRATUS_JSON)
    assert store.event_count() == len(csv_rows) == 312  # incl. the 2 Bedrock rows
    got = _loaded_rows(store)
    expected = _expected_rows(records)
    # The CSV keeps the key fields of the JSON records (not errorCode-less details).
    strip = collections.Counter(k[:5] for k in expected.elements())
    assert collections.Counter(k[:5] for k in got.elements()) == strip
    ids = query(store, "SELECT DISTINCT recipientAccountId, typeof(recipientAccountId) AS t "
                       "FROM events")
    assert {(r["recipientAccountId"], r["t"]) for r in ids} == {
        (r["Recipient Account Id"], "VARCHAR") for r in csv_rows}


# --- the S3 tree ---------------------------------------------------------------------------


def _tree_files(kind: str = "CloudTrail") -> list[Path]:
    root = samples_or_skip() / S3_TREE / "AWSLogs"
    return sorted(p for p in root.rglob("*.json.gz") if p.parts[-6] == kind)


def test_s3_tree_loads_every_event_file(sets: Loader) -> None:
    store, report = sets(S3_TREE)
    event_files = _tree_files("CloudTrail") + _tree_files("CloudTrail-Insight")
    assert len(event_files) == 692 + 3
    records = distinct([r for f in event_files for r in read_records(f)])
    assert store.event_count() == len(records) == 6188 + 2 + 5
    assert report.errors == []
    assert _loaded_rows(store) == _expected_rows(records)


def test_s3_tree_digest_files_are_skipped_with_a_warning_naming_them(sets: Loader) -> None:
    _, report = sets(S3_TREE)
    digests = _tree_files("CloudTrail-Digest")
    assert len(digests) == 2
    assert sorted(report.warnings) == sorted(
        f"{p}: CloudTrail digest file (no events), skipped" for p in digests)
    assert {Path(f.path) for f in report.files}.isdisjoint(digests)


def test_s3_tree_insight_events(sets: Loader) -> None:
    store, report = sets(S3_TREE)
    insights = [r for f in _tree_files("CloudTrail-Insight") for r in read_records(f)]
    assert len(insights) == 5
    rows = query(store, "SELECT eventID, eventName, eventSource, eventCategory, eventType "
                        "FROM events WHERE source_file LIKE '%/CloudTrail-Insight/%'")
    assert sorted((r["eventID"], r["eventName"], r["eventSource"], r["eventCategory"])
                  for r in rows) == sorted(
        (r["eventID"], r["insightDetails"]["eventName"], r["insightDetails"]["eventSource"],
         "Insight") for r in insights)
    assert {f.kind for f in report.files if "CloudTrail-Insight" in f.path} == {
        "Insights Records"}


def test_s3_tree_partitions_come_from_the_path(sets: Loader) -> None:
    store, _ = sets(S3_TREE)
    rows = query(store, "SELECT source_file, account_id, region, year, month, day, eventID "
                        "FROM events")
    ids_in: dict[str, set[str]] = {}
    for row in rows:
        parts = Path(row["source_file"]).parts
        i = parts.index("AWSLogs")
        acct, _kind, region, year, month, day = parts[i + 1 : i + 7]
        assert (row["account_id"], row["region"], row["year"], row["month"], row["day"]) == (
            acct, region, year, month, day)
        if row["source_file"] not in ids_in:
            ids_in[row["source_file"]] = {
                r["eventID"] for r in read_records(Path(row["source_file"]))}
        assert row["eventID"] in ids_in[row["source_file"]]  # each row knows its own file
    # Nearly every file contributed events (a few only hold records seen in an earlier file).
    assert len(ids_in) >= 691


def test_s3_tree_joined_with_zcat_gives_the_same_events(sets: Loader, tmp_path: Path) -> None:
    files = _tree_files("CloudTrail") + _tree_files("CloudTrail-Insight")
    joined = tmp_path / "all.json"
    joined.write_bytes(b"".join(gzip.decompress(f.read_bytes()) for f in files))
    tree, _ = sets(S3_TREE)
    store = EventStore(cache=False)
    try:
        report = store.load([str(joined)])
        assert report.messages() == []
        assert _loaded_rows(store) == _loaded_rows(tree)
    finally:
        store.close()


def test_organisation_trail_layout(tmp_path: Path) -> None:
    src = _tree_files("CloudTrail")[-1]  # a sa-east-1 file of 2018
    parts = src.parts[-5:]  # region, y, m, d, name
    dest = tmp_path.joinpath("AWSLogs", "o-abc123", GRYCAP_ACCOUNT, "CloudTrail", *parts)
    dest.parent.mkdir(parents=True)
    shutil.copy(src, dest)
    expected = distinct(read_records(src))
    store = EventStore(cache=False)
    try:
        report = store.load([str(tmp_path)])
        assert report.errors == [] and store.event_count() == len(expected)
        rows = query(store, "SELECT DISTINCT account_id, region, year, month, day FROM events")
        assert rows == [dict(zip(("account_id", "region", "year", "month", "day"),
                                 (GRYCAP_ACCOUNT, *parts[:4]), strict=True))]
        n = scalar(store, "SELECT count(*) FROM cloudtrail_logs.cloudtrail_partitioned WHERE "
                          "account_id = ? AND region = ? AND year = ? AND month = ? AND day = ?",
                   [GRYCAP_ACCOUNT, *parts[:4]])
        assert n == len(expected)
    finally:
        store.close()


# --- files that are not events -------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "words", "is_error"),
    [
        ("odd-shapes/otrf_s3-honeybucket_third-party-csv.csv",
         "not the CloudTrail console's download", True),
        ("odd-shapes/aws-docs_userIdentity-element-fragments.json",
         "holds no CloudTrail events", False),
        ("s3-trail/AWSLogs/111122223333", "CloudTrail digest file", False),
    ],
)
def test_sample_files_without_events_are_named(
    sets: Loader, rel: str, words: str, is_error: bool
) -> None:
    store, report = sets(rel)
    assert store.event_count() == 0
    msgs = report.errors if is_error else report.warnings
    assert msgs and all(words in m and str(samples_or_skip() / rel) in m for m in msgs)
    assert len(report.messages()) == len(msgs)


def test_gzip_sample_bytes_are_real_gzip() -> None:
    """Guard for the S3 tests above: the tree's files really are gzip."""
    f = _tree_files("CloudTrail")[0]
    assert f.read_bytes()[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(f.read_bytes()))["Records"]
