"""Loading every input shape from trailtui's own tiny fixtures (tests/data), and bad input.

These run without the shared sample sets: each shape, each field conversion a user sees
(times, booleans, account IDs, the actor), de-duplication, S3 paths, and one clear message per
file that cannot be loaded.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, canonical, loaded, query, read_records, scalar

from trailtui.data import ingest
from trailtui.data.store import EventStore

COMPACT = DATA / "console_compact.json"
PRETTY = DATA / "console_pretty.json"
NDJSON = DATA / "events.ndjson"
FIVE = [r["eventID"] for r in read_records(COMPACT)]


def _gz(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(gzip.compress(src.read_bytes()))
    return dest


def _write_records(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Records": records}))
    return path


# --- finding files ---------------------------------------------------------------------------


def test_expand_paths_walks_folders_and_ignores_other_files(tmp_path: Path) -> None:
    for name in ("a.json", "b.json.gz", "sub/c.ndjson", "sub/d.jsonl", "e.csv", "sub/deep/f.gz"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    for name in ("notes.md", "x.txt", ".hidden.json", "image.png"):
        (tmp_path / name).write_text("{}")
    got = ingest.expand_paths([tmp_path])
    assert got.problems == []
    assert sorted(p.relative_to(tmp_path).as_posix() for p in got.files) == [
        "a.json", "b.json.gz", "e.csv", "sub/c.ndjson", "sub/d.jsonl", "sub/deep/f.gz"]


def test_expand_paths_globs_and_names_each_missing_path(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text("{}")
    (tmp_path / "two.json").write_text("{}")
    got = ingest.expand_paths([str(tmp_path / "*.json"), tmp_path / "one.json",
                               str(tmp_path / "nope.json"), str(tmp_path / "z*.json")])
    assert [p.name for p in got.files] == ["one.json", "two.json"]  # one.json only once
    assert len(got.problems) == 2
    assert "nope.json" in got.problems[0] and "no such file" in got.problems[0]
    assert "z*.json" in got.problems[1]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("AWSLogs/012345678901/CloudTrail/eu-west-1/2024/05/01/x.json.gz",
         ingest.Partition("CloudTrail", "012345678901", "eu-west-1", "2024", "05", "01")),
        ("AWSLogs/o-abc123def4/012345678901/CloudTrail/us-east-1/2023/12/31/x.json.gz",
         ingest.Partition("CloudTrail", "012345678901", "us-east-1", "2023", "12", "31")),
        ("AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/x.json.gz",
         ingest.Partition("Digest", "111122223333", "us-east-2", "2015", "08", "17")),
        ("AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2019/11/14/x.json.gz",
         ingest.Partition("Insight", "123456789012", "us-east-1", "2019", "11", "14")),
        ("downloads/event_history.json", ingest.Partition()),
    ],
)
def test_path_partition(key: str, expected: ingest.Partition) -> None:
    assert ingest.path_partition(Path("/data") / key) == expected


# --- every shape -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "count"),
    [
        ("console_compact.json", "Records", 5),
        ("console_pretty.json", "Records", 5),
        ("events.ndjson", "NDJSON", 5),
        ("bare_array.json", "JSON array", 2),
        ("logstash.ndjson", "NDJSON", 2),
        ("lookup_events.jsonl", "lookup-events output", 2),
        ("lookup_events_cli.json", "lookup-events output", 1),
        ("times.ndjson", "NDJSON", 6),
        ("eventbridge.json", "eventbridge", 1),
        ("console.csv", "console CSV", 3),
    ],
)
def test_each_shape_loads(name: str, kind: str, count: int) -> None:
    path = DATA / name
    with loaded(path) as (store, report):
        assert report.errors == []
        assert [(f.path, f.kind, f.events, f.added) for f in report.files] == [
            (str(path), kind, count, count)]
        assert report.events_added == count == store.event_count()
        rows = query(store, "SELECT eventName, source_file FROM events")
        assert all(r["eventName"] for r in rows)
        assert {r["source_file"] for r in rows} == {str(path)}


def test_gzip_and_single_event_files(tmp_path: Path) -> None:
    gz = _gz(COMPACT, tmp_path / "download.json.gz")
    single = tmp_path / "one.json"
    single.write_text(json.dumps(read_records(COMPACT)[0], indent=2))
    with loaded(gz, single) as (store, report):
        kinds = {Path(f.path).name: (f.kind, f.events, f.added) for f in report.files}
        assert kinds == {"download.json.gz": ("Records", 5, 5),
                         "one.json": ("single event", 1, 0)}  # the same event again
        assert store.event_count() == 5


def test_same_records_in_every_shape_give_the_same_rows(tmp_path: Path) -> None:
    gz = _gz(COMPACT, tmp_path / "x.json.gz")
    cols = ("eventTime, eventID, eventName, eventSource, actor, readOnly, userIdentity, "
            "requestParameters, recipientAccountId")
    seen = []
    for path in (COMPACT, PRETTY, NDJSON, gz):
        with loaded(path) as (store, _):
            seen.append(query(store, f"SELECT {cols} FROM events ORDER BY eventID"))
    assert len(seen[0]) == 5
    assert seen[1] == seen[0] and seen[2] == seen[0] and seen[3] == seen[0]


def test_overlapping_files_keep_each_event_once(tmp_path: Path) -> None:
    gz = _gz(COMPACT, tmp_path / "x.json.gz")
    with loaded(COMPACT, PRETTY, NDJSON, gz, DATA / "bare_array.json") as (store, report):
        assert store.event_count() == 5
        assert report.events_added == 5
        assert report.duplicates == 5 + 5 + 5 + 2
        assert [f.added for f in report.files] == [5, 0, 0, 0, 0]
        assert sorted(r["eventID"] for r in query(store, "SELECT eventID FROM events")) == sorted(
            FIVE)


def _reorder(value: Any) -> Any:
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reorder(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reorder(v) for v in value]
    return value


def test_nested_key_order_does_not_split_an_event(tmp_path: Path) -> None:
    recs = read_records(COMPACT)
    path = _write_records(tmp_path / "reordered.json", [_reorder(r) for r in recs])
    with loaded(COMPACT, path) as (store, report):
        assert store.event_count() == 5
        assert [f.added for f in report.files] == [5, 0]
    # ...but a changed nested value is another event.
    changed = [dict(recs[0], requestParameters={"bucketName": "other-bucket"})]
    with loaded(COMPACT, _write_records(tmp_path / "changed.json", changed)) as (store, _):
        assert store.event_count() == 6


def test_same_event_id_different_content_both_kept(tmp_path: Path) -> None:
    base = read_records(COMPACT)[0]
    other = dict(base, eventName="DeleteBucket", eventTime="2024-05-01T10:00:09Z")
    path = _write_records(tmp_path / "clash.json", [base, other, dict(base)])
    with loaded(path) as (store, report):
        rows = query(store, "SELECT eventName FROM events WHERE eventID = ? ORDER BY 1",
                     [base["eventID"]])
        assert [r["eventName"] for r in rows] == ["CreateBucket", "DeleteBucket"]
        assert report.duplicates == 1


def test_records_without_event_id_are_not_merged(tmp_path: Path) -> None:
    recs = [{"eventVersion": "1.0", "eventTime": f"2014-03-06T21:0{i}:59Z",
             "eventSource": "ec2.amazonaws.com", "eventName": n}
            for i, n in enumerate(("StopInstances", "StartInstances"))]
    with loaded(_write_records(tmp_path / "old.json", recs)) as (store, _):
        assert store.event_count() == 2


# --- field values ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def five() -> Iterator[EventStore]:
    with loaded(COMPACT) as (store, _):
        yield store


def test_actor_and_identity_per_type(five: EventStore) -> None:
    rows = query(five, "SELECT eventID, actor, identity_type, access_key FROM events")
    got = {r["eventID"]: (r["actor"], r["identity_type"], r["access_key"]) for r in rows}
    assert got == {
        FIVE[0]: ("alice", "IAMUser", "AKIAEXAMPLE0001"),
        FIVE[1]: ("DeployRole", "AssumedRole", "ASIAEXAMPLE0002"),
        FIVE[2]: ("root", "Root", None),
        FIVE[3]: ("config.amazonaws.com", "AWSService", None),
        FIVE[4]: ("a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", "IdentityCenterUser", None),
    }


def test_read_only_is_a_nullable_boolean(five: EventStore) -> None:
    # File: false, "true", "True", absent, true.
    rows = query(five, "SELECT eventID, readOnly, typeof(readOnly) AS t FROM events")
    assert {r["t"] for r in rows} == {"BOOLEAN"}
    got = {r["eventID"]: r["readOnly"] for r in rows}
    assert [got[e] for e in FIVE] == [False, True, True, None, True]
    assert scalar(five, "SELECT count(*) FROM events WHERE readOnly IS NULL") == 1
    assert scalar(five, "SELECT managementEvent FROM events WHERE eventID = ?", [FIVE[0]]) is True


def test_account_ids_stay_text_with_leading_zeros(five: EventStore) -> None:
    rows = query(five, "SELECT recipientAccountId, account_id, userIdentity.accountId AS ui, "
                       "typeof(recipientAccountId) AS t FROM events")
    assert {(r["recipientAccountId"], r["account_id"], r["t"]) for r in rows} == {
        ("012345678901", "012345678901", "VARCHAR")}
    assert {r["ui"] for r in rows} == {"012345678901", None}


def test_user_identity_struct_fields(five: EventStore) -> None:
    assert scalar(five, "SELECT userIdentity.sessionContext.sessionIssuer.userName FROM events "
                        "WHERE eventID = ?", [FIVE[1]]) == "DeployRole"
    assert scalar(five, "SELECT userIdentity.sessionContext.attributes.mfaAuthenticated "
                        "FROM events WHERE eventID = ?", [FIVE[1]]) == "false"
    assert scalar(five, "SELECT userIdentity.onBehalfOf.userId FROM events WHERE eventID = ?",
                  [FIVE[4]]) == "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
    assert scalar(five, "SELECT userIdentity.arn FROM events WHERE eventID = ?",
                  [FIVE[0]]) == "arn:aws:iam::012345678901:user/alice"


def test_json_columns_keep_their_content(five: EventStore) -> None:
    text = scalar(five, "SELECT requestParameters FROM events WHERE eventID = ?", [FIVE[0]])
    assert json.loads(text) == read_records(COMPACT)[0]["requestParameters"]
    assert scalar(five, "SELECT requestParameters->>'$.bucketName' FROM events "
                        "WHERE eventID = ?", [FIVE[0]]) == "tiny-fixture-bucket"
    assert scalar(five, "SELECT responseElements->>'$.ConsoleLogin' FROM events "
                        "WHERE eventID = ?", [FIVE[2]]) == "Success"
    assert scalar(five, "SELECT errorCode FROM events WHERE eventID = ?",
                  [FIVE[3]]) == "AccessDenied"
    assert scalar(five, "SELECT count(errorCode) FROM events") == 1


def test_raw_event_returns_the_original_record() -> None:
    with loaded(PRETTY) as (store, _):
        rows = query(store, "SELECT eventID, _file_id, _line FROM events")
        by_id = {r["eventID"]: r for r in read_records(PRETTY)}
        assert len(rows) == 5
        for row in rows:
            raw = store.raw_event(row["_file_id"], row["_line"])
            assert json.loads(raw) == by_id[row["eventID"]]
        keys = [(r["_file_id"], r["_line"]) for r in reversed(rows)]
        got = [json.loads(b)["eventID"] for b in store.raw_events(keys)]
        assert got == [r["eventID"] for r in reversed(rows)]


@pytest.fixture(scope="module")
def times() -> Iterator[EventStore]:
    with loaded(DATA / "times.ndjson") as (store, _):
        yield store


@pytest.mark.parametrize(
    ("event_id", "expected"),
    [
        ("e0000004-0000-4000-8000-000000000001", dt.datetime(2025, 3, 26, 16, 43, 57)),
        ("e0000004-0000-4000-8000-000000000002", dt.datetime(2022, 2, 7, 22, 23, 37)),  # +11:00
        ("e0000004-0000-4000-8000-000000000003", dt.datetime(2022, 11, 21, 18, 6, 52)),
        ("e0000004-0000-4000-8000-000000000004", dt.datetime(2021, 1, 24, 4, 55, 45)),
        ("e0000004-0000-4000-8000-000000000005", None),  # "redacted": kept, no time
        ("e0000004-0000-4000-8000-000000000006", dt.datetime(2024, 1, 2, 3, 4, 5)),
    ],
)
def test_event_time_formats(
    times: EventStore, event_id: str, expected: dt.datetime | None
) -> None:
    row = query(times, "SELECT eventTime, year, month, day FROM events WHERE eventID = ?",
                [event_id])
    assert len(row) == 1
    assert row[0]["eventTime"] == expected
    if expected is None:
        assert (row[0]["year"], row[0]["month"], row[0]["day"]) == (None, None, None)
    else:
        assert (row[0]["year"], row[0]["month"], row[0]["day"]) == (
            f"{expected:%Y}", f"{expected:%m}", f"{expected:%d}")


def test_logstash_timestamp_becomes_event_time() -> None:
    with loaded(DATA / "logstash.ndjson") as (store, _):
        rows = query(store, "SELECT eventName, eventTime, actor FROM events ORDER BY eventTime")
    assert [(r["eventName"], r["eventTime"], r["actor"]) for r in rows] == [
        ("ListBuckets", dt.datetime(2020, 9, 14, 0, 44, 23), "bob"),
        ("GetObject", dt.datetime(2020, 9, 14, 0, 45, 1, 250000), "ec2-proxy"),
    ]


def test_lookup_events_use_the_inner_record() -> None:
    path = DATA / "lookup_events.jsonl"
    outer = [json.loads(line) for line in path.read_text().splitlines()]
    with loaded(path) as (store, _):
        rows = query(store, "SELECT eventID, eventTime, readOnly, actor, identity_type, "
                            "_file_id, _line FROM events")
        by_id = {r["eventID"]: r for r in rows}
        for item in outer:
            row = by_id[item["EventId"]]
            local = dt.datetime.fromisoformat(item["EventTime"])
            assert row["eventTime"] == local.astimezone(dt.UTC).replace(tzinfo=None)
            assert row["readOnly"] is (item["ReadOnly"] == "true")
            raw = store.raw_event(row["_file_id"], row["_line"])
            assert json.loads(raw) == json.loads(item["CloudTrailEvent"])
    # userIdentity without a type (AwsServiceEvent): the service that acted.
    assert by_id["e0000003-0000-4000-8000-000000000002"]["actor"] == "AWS Internal"
    assert by_id["e0000003-0000-4000-8000-000000000002"]["identity_type"] == "AWSService"
    assert by_id["e0000003-0000-4000-8000-000000000001"]["actor"] == "fakeusername"


def test_eventbridge_envelope_is_unwrapped() -> None:
    with loaded(DATA / "eventbridge.json") as (store, _):
        row = query(store, "SELECT eventName, actor, eventTime, _file_id, _line FROM events")[0]
        assert (row["eventName"], row["actor"]) == ("PutBucketPolicy", "carol")
        raw = json.loads(store.raw_event(row["_file_id"], row["_line"]))
        assert raw == json.loads((DATA / "eventbridge.json").read_text())[0]["detail"]


def test_console_csv() -> None:
    path = DATA / "console.csv"
    with loaded(path) as (store, report):
        rows = {r["eventID"]: r for r in query(
            store, "SELECT eventID, eventTime, eventName, actor, identity_type, readOnly, "
                   "recipientAccountId, account_id, userAgent, errorCode, access_key, "
                   "resources FROM events")}
        # One note that the CSV lacks the full record, naming the file.
        assert len(report.warnings) == 1 and str(path) in report.warnings[0]
    assert len(rows) == 3
    alice = rows["e0000006-0000-4000-8000-000000000001"]
    assert alice["actor"] == "alice"
    assert alice["readOnly"] is False
    assert alice["recipientAccountId"] == alice["account_id"] == "012345678901"
    assert alice["userAgent"] == "aws-cli/2.15.0 Python/3.11, md/arch#x86_64; os/linux"
    assert alice["access_key"] == "AKIAEXAMPLE0001"
    assert json.loads(alice["resources"]) == [
        {"resourceType": "AWS::S3::Bucket", "resourceName": "tiny-fixture-bucket"}]
    root = rows["e0000006-0000-4000-8000-000000000002"]
    assert (root["actor"], root["identity_type"], root["readOnly"]) == ("root", "Root", None)
    assert root["eventTime"] == dt.datetime(2024, 5, 1, 11, 0, 0)
    role = rows["e0000006-0000-4000-8000-000000000003"]
    assert (role["readOnly"], role["errorCode"]) == (True, "Client.UnauthorizedOperation")


def test_utf8_bom_is_ignored(tmp_path: Path) -> None:
    for src in (COMPACT, NDJSON, DATA / "console.csv"):
        path = tmp_path / f"bom-{src.name}"
        path.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
        with loaded(path) as (store, report):
            assert report.errors == [], src
            assert store.event_count() == (3 if src.suffix == ".csv" else 5), src


def test_concatenated_pretty_records_like_jq_output(tmp_path: Path) -> None:
    """`jq '.Records[]' download.json > events.json` writes pretty objects back to back."""
    recs = read_records(COMPACT)
    recs[1] = dict(recs[1], userAgent="odd}{agent} {")  # a `}{` inside a string
    path = tmp_path / "jq.json"
    path.write_text("\n".join(json.dumps(r, indent=2) for r in recs) + "\n")
    with loaded(path) as (store, report):
        assert report.messages() == []
        assert [(f.kind, f.events) for f in report.files] == [("concatenated JSON", 5)]
        rows = query(store, "SELECT eventID, userAgent, _file_id, _line FROM events")
        assert sorted(r["eventID"] for r in rows) == sorted(FIVE)
        assert "odd}{agent} {" in [r["userAgent"] for r in rows]
        by_id = {r["eventID"]: r for r in recs}
        for row in rows:
            assert json.loads(store.raw_event(row["_file_id"], row["_line"])) == by_id[
                row["eventID"]]


def test_s3_files_joined_with_zcat(tmp_path: Path) -> None:
    """`zcat AWSLogs/.../*.json.gz > all.json`: `{"Records":[...]}{"Records":[...]}...`."""
    recs = read_records(COMPACT)
    docs = [{"Records": recs[:2]}, {"Records": recs[2:]}]
    one_line = tmp_path / "zcat.json"
    one_line.write_text("".join(json.dumps(d, separators=(",", ":")) for d in docs))
    per_line = tmp_path / "zcat-lines.json"
    per_line.write_text("".join(json.dumps(d) + "\n" for d in docs))
    for path in (one_line, per_line):
        with loaded(path) as (store, report):
            assert report.messages() == [], path
            assert store.event_count() == 5, path
            assert report.files[0].events == 5


def test_lower_case_keys_are_read_under_cloudtrail_names(tmp_path: Path) -> None:
    path = tmp_path / "lower.json"
    path.write_text(json.dumps({"Records": [
        {"eventversion": "1.08", "eventtime": "2024-01-01T00:00:00Z", "eventname": "ListUsers",
         "eventsource": "iam.amazonaws.com", "awsregion": "us-east-1",
         "useridentity": {"type": "IAMUser", "username": "dave"}, "eventid": "lc-1"}]}))
    with loaded(path) as (store, report):
        row = query(store, "SELECT eventName, eventSource, awsRegion, eventTime, eventID "
                           "FROM events")[0]
    assert row == {"eventName": "ListUsers", "eventSource": "iam.amazonaws.com",
                   "awsRegion": "us-east-1", "eventTime": dt.datetime(2024, 1, 1),
                   "eventID": "lc-1"}
    assert any(str(path) in w and "lower-case" in w for w in report.warnings)


def test_ndjson_with_a_bad_line_keeps_the_good_lines(tmp_path: Path) -> None:
    lines = NDJSON.read_text().splitlines()
    lines.insert(2, '{"eventName": "Broken", ')
    path = tmp_path / "partly.ndjson"
    path.write_text("\n".join(lines) + "\n")
    with loaded(path) as (store, report):
        assert store.event_count() == 5
        assert report.warnings == [
            f"{path}: 1 of 6 records skipped (line 3: not valid JSON)"]


# --- S3 trail layouts ------------------------------------------------------------------------


def test_s3_layout_partitions_org_trails_digests_and_insights(tmp_path: Path) -> None:
    logs = tmp_path / "AWSLogs"
    recs = read_records(COMPACT)
    _gz(COMPACT, logs / "012345678901/CloudTrail/eu-west-1/2024/05/01/"
        "012345678901_CloudTrail_eu-west-1_20240501T1000Z_abc.json.gz")
    org = [dict(r, eventID=r["eventID"] + "-org") for r in recs[:2]]
    org_file = logs / ("o-abc123def4/098765432109/CloudTrail/ap-southeast-2/2023/12/31/"
                       "098765432109_CloudTrail_ap-southeast-2_20231231T2355Z_def.json.gz")
    org_file.parent.mkdir(parents=True)
    org_file.write_bytes(gzip.compress(json.dumps({"Records": org}).encode()))
    digest = _gz(DATA / "digest.json", logs / "012345678901/CloudTrail-Digest/eu-west-1/2024/"
                 "05/01/012345678901_CloudTrail-Digest_eu-west-1_trail_20240501T1000Z.json.gz")
    insight = {
        "eventVersion": "1.07", "eventTime": "2019-11-14T00:51:00Z", "awsRegion": "us-east-1",
        "eventID": "ins-1", "eventType": "AwsCloudTrailInsight", "eventCategory": "Insight",
        "recipientAccountId": "012345678901", "sharedEventID": "shared-1",
        "insightDetails": {"state": "Start", "eventSource": "ssm.amazonaws.com",
                           "eventName": "UpdateInstanceInformation",
                           "insightType": "ApiCallRateInsight"}}
    ins_file = logs / ("012345678901/CloudTrail-Insight/us-east-1/2019/11/14/"
                       "012345678901_CloudTrail-Insight_us-east-1_20191114T0055Z_x.json.gz")
    ins_file.parent.mkdir(parents=True)
    ins_file.write_bytes(gzip.compress(json.dumps({"Records": [insight]}).encode()))

    with loaded(tmp_path) as (store, report):
        assert report.errors == []
        assert report.warnings == [f"{digest}: CloudTrail digest file (no events), skipped"]
        assert store.event_count() == 5 + 2 + 1
        parts = query(store, "SELECT source_file, account_id, region, year, month, day, "
                             "count(*) AS n FROM events GROUP BY ALL ORDER BY year")
        assert [(Path(p["source_file"]).name[:12], p["account_id"], p["region"], p["year"],
                 p["month"], p["day"], p["n"]) for p in parts] == [
            ("012345678901", "012345678901", "us-east-1", "2019", "11", "14", 1),
            ("098765432109", "098765432109", "ap-southeast-2", "2023", "12", "31", 2),
            ("012345678901", "012345678901", "eu-west-1", "2024", "05", "01", 5),
        ]
        ins = query(store, "SELECT eventName, eventSource, eventCategory, actor FROM events "
                           "WHERE eventID = 'ins-1'")
        assert ins == [{"eventName": "UpdateInstanceInformation",
                        "eventSource": "ssm.amazonaws.com", "eventCategory": "Insight",
                        "actor": "CloudTrail Insights"}]
        kinds = {Path(f.path).name.split("_")[1]: f.kind for f in report.files}
        assert kinds == {"CloudTrail": "Records", "CloudTrail-Insight": "Insights Records"}
        # The Athena-style table filters on the partition strings.
        n = scalar(store, "SELECT count(*) FROM cloudtrail_logs.cloudtrail_partitioned WHERE "
                          "account_id = '098765432109' AND region = 'ap-southeast-2' AND "
                          "year = '2023' AND month = '12' AND day = '31'")
        assert n == 2


# --- bad input -------------------------------------------------------------------------------


def _bad(tmp_path: Path, name: str) -> Path:
    """Make one kind of bad input and return its path."""
    if name in ("empty.json", "truncated.json", "not_cloudtrail.json", "other_columns.csv",
                "digest.json"):
        return Path(shutil.copy(DATA / name, tmp_path / name))
    path = tmp_path / name
    if name == "missing.json":
        return path
    if name == "garbage.bin":
        path.write_bytes(bytes(range(256)) * 8)
    elif name == "broken.json.gz":
        path.write_bytes(b"\x1f\x8b\x08\x00" + b"this is not deflate data" * 4)
    elif name == "cut.json.gz":
        path.write_bytes(gzip.compress(COMPACT.read_bytes())[:300])
    elif name == "empty-records.json":
        path.write_text('{"Records": []}')
    elif name == "no-events-folder":
        path.mkdir()
        (path / "readme.txt").write_text("nothing to see")
    elif name == "white-space.json":
        path.write_text("  \n\n\t ")
    elif name == "not-json.json":
        path.write_text("hello this is plain text\n")
    return path


BAD_INPUTS = {
    "missing.json": "no such file or folder",
    "empty.json": "empty file",
    "white-space.json": "empty file",
    "truncated.json": "truncated or invalid JSON",
    "garbage.bin": "binary data",
    "broken.json.gz": "broken gzip",
    "cut.json.gz": "broken gzip",
    "not_cloudtrail.json": "no CloudTrail events",
    "empty-records.json": "no events",
    "digest.json": "digest file",
    "no-events-folder": "folder holds no",
    "other_columns.csv": "not the CloudTrail console's download",
    "not-json.json": "not a CloudTrail file",
}


@pytest.mark.parametrize(("name", "words"), BAD_INPUTS.items(), ids=list(BAD_INPUTS))
def test_bad_input_gives_one_short_message_naming_the_file(
    tmp_path: Path, name: str, words: str
) -> None:
    path = _bad(tmp_path, name)
    with loaded(path) as (store, report):
        assert store.event_count() == 0
        assert not report.loaded_anything
        msgs = report.messages()
    assert len(msgs) == 1, msgs
    (msg,) = msgs
    assert msg.startswith(f"{path}: ")
    assert words in msg
    assert "\n" not in msg and "Traceback" not in msg and len(msg) < 300


def test_other_columns_csv_names_its_columns() -> None:
    with loaded(DATA / "other_columns.csv") as (_store, report):
        (msg,) = report.errors
    assert "Event Type, Event Name, Request ID" in msg


def test_folder_of_good_and_bad_files_loads_every_good_event(tmp_path: Path) -> None:
    good = [Path(shutil.copy(DATA / n, tmp_path / n))
            for n in ("console_compact.json", "logstash.ndjson", "console.csv")]
    bad = [_bad(tmp_path, n) for n in ("empty.json", "truncated.json", "garbage.bin",
                                        "broken.json.gz", "not_cloudtrail.json",
                                        "other_columns.csv", "digest.json")]
    bad[2] = bad[2].rename(tmp_path / "garbage.json")  # a walk only picks up known endings
    with loaded(tmp_path) as (store, report):
        assert store.event_count() == 5 + 2 + 3
        assert {f.path for f in report.files} == {str(p) for p in good}
        msgs = report.messages()
    for path in bad:
        assert sum(str(path) in m for m in msgs) == 1, (path, msgs)
    # ...and one note for the CSV; nothing else.
    assert len(msgs) == len(bad) + 1


def test_one_bad_small_file_does_not_cost_its_neighbours(tmp_path: Path) -> None:
    """Small files share a chunk; a file DuckDB rejects (not UTF-8) must fail alone."""
    recs = read_records(COMPACT)
    for i, rec in enumerate(recs):
        _write_records(tmp_path / f"f{i}.json", [rec])
    latin = tmp_path / "latin1.json"
    latin.write_bytes(json.dumps({"Records": [dict(recs[0], eventID="x", userAgent="café")]},
                                 ensure_ascii=False).encode("latin-1"))
    with loaded(tmp_path) as (store, report):
        assert store.event_count() == 5
        assert sorted(Path(f.path).name for f in report.files if f.events) == [
            f"f{i}.json" for i in range(5)]
        (msg,) = report.messages()
    # The bad record costs itself only (issue 8), and its place is named.
    assert msg == f"{latin}: 1 of 1 record skipped (byte 13: invalid UTF-8)"



def test_read_file_errors_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(ingest.NoEvents, match="digest"):
        ingest.read_file(DATA / "digest.json")
    with pytest.raises(ingest.InputError, match="truncated"):
        ingest.read_file(DATA / "truncated.json")
    with pytest.raises(ingest.InputError, match="cannot read"):
        ingest.read_bytes(tmp_path / "absent.json")


def test_records_that_are_not_objects_are_skipped_with_a_note(tmp_path: Path) -> None:
    recs: list[Any] = [*read_records(COMPACT)[:2], "a string", 42, None]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(recs))
    with loaded(path) as (store, report):
        assert store.event_count() == 2
        assert report.warnings == [f"{path}: 3 items are not event objects, skipped"]


def test_canonical_helper_ignores_key_order() -> None:
    assert canonical({"a": 1, "b": [1, {"c": 2, "d": 3}]}) == canonical(
        {"b": [1, {"d": 3, "c": 2}], "a": 1})
