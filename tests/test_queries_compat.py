"""Queries users already have run unchanged and give the right answers.

Three families, each checked against counts computed here from the sample files:
- DuckDB-article style on `cloudtrail_events` (columns under CloudTrail's own names);
- the Athena guide's queries on `cloudtrail_logs.cloudtrail_partitioned` (lower-case columns,
  string `eventtime`/`readonly`, partition strings account_id/region/year/month/day);
- CloudTrail Lake style on `events` (`element_at(requestParameters, 'bucketName')`,
  `userIdentity.username`, `eventTime > '2014-01-01 00:00:00'`).
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import distinct, loaded, query, read_records, samples_or_skip

from trailtui.data.store import EventStore

pytestmark = pytest.mark.samples

ARTICLE_FILES = [
    "console-json/stratus-red-team_detonation-logs.json",
    "console-json/stackstate_aws-topology-test-events.json",
    "console-json/splunk-attack-data_s3-bucket-deletion.json",
    "console-json/trailscraper_test-records.json",
    "ndjson/otrf_ec2-proxy-s3-exfiltration_logstash-export.ndjson",
]
STRATUS = "console-json/stratus-red-team_detonation-logs.json"
TREE = "s3-trail/AWSLogs"
ACCOUNT = "974349055189"
# A day of the grycap trail with console logins, security-group changes, root calls and errors.
DAY = ("us-east-1", "2014", "09", "26")
PARTITION = (f"account_id = '{ACCOUNT}' AND region = '{DAY[0]}' AND year = '{DAY[1]}' "
             f"AND month = '{DAY[2]}' AND day = '{DAY[3]}'")
IAM_CHANGES = ("CreateUser", "DeleteUser", "AttachUserPolicy", "DetachUserPolicy",
               "CreateAccessKey", "DeleteAccessKey", "PutUserPolicy", "CreateRole",
               "AttachRolePolicy", "CreateLoginProfile", "UpdateLoginProfile")
SG_CHANGES = ("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
              "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
              "CreateSecurityGroup", "DeleteSecurityGroup")


def _sql_list(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{n}'" for n in names) + ")"


def _counts(sql_rows: list[dict[str, Any]]) -> dict[Any, int]:
    """{key: n} from rows of (key, n) or (key1, key2, ..., n)."""
    out: dict[Any, int] = {}
    for row in sql_rows:
        *key, n = row.values()
        out[key[0] if len(key) == 1 else tuple(key)] = n
    return out


# --- DuckDB-article style on cloudtrail_events -------------------------------------------------


@pytest.fixture(scope="module")
def article() -> Iterator[tuple[EventStore, list[dict[str, Any]]]]:
    root = samples_or_skip()
    records = distinct([r for rel in ARTICLE_FILES for r in read_records(root / rel)])
    with loaded(*(root / rel for rel in ARTICLE_FILES)) as (store, _):
        assert store.event_count() == len(records)
        yield store, records


def _user_or_role(rec: dict[str, Any]) -> Any:
    ui = rec.get("userIdentity") or {}
    if ui.get("type") == "AssumedRole":
        return ((ui.get("sessionContext") or {}).get("sessionIssuer") or {}).get("userName")
    if ui.get("type") == "IAMUser":
        return ui.get("userName")
    return ui.get("type")


def _read_only(rec: dict[str, Any]) -> bool | None:
    value = rec.get("readOnly")
    if isinstance(value, str):
        return value.lower() == "true"
    return value if isinstance(value, bool) else None


ARTICLE_QUERIES = {
    "by user or role": (
        """SELECT
             CASE
               WHEN userIdentity.type = 'AssumedRole'
                 THEN userIdentity.sessionContext.sessionIssuer.userName
               WHEN userIdentity.type = 'IAMUser' THEN userIdentity.userName
               ELSE userIdentity.type
             END AS user_or_role,
             count(*) AS n
           FROM cloudtrail_events
           GROUP BY ALL
           ORDER BY n DESC""",
        _user_or_role,
    ),
    "by event name": (
        "SELECT eventName, count(*) AS n FROM cloudtrail_events GROUP BY eventName "
        "ORDER BY n DESC",
        lambda r: r.get("eventName"),
    ),
    "by event source": (
        "SELECT eventSource, count(*) FROM cloudtrail_events GROUP BY ALL ORDER BY 2 DESC",
        lambda r: r.get("eventSource"),
    ),
    "by readOnly": (
        "SELECT readOnly, count(*) AS events FROM cloudtrail_events GROUP BY readOnly",
        _read_only,
    ),
    "by source IP": (
        "SELECT sourceIPAddress, COUNT(*) AS cnt FROM cloudtrail_events "
        "GROUP BY sourceIPAddress ORDER BY cnt DESC",
        lambda r: r.get("sourceIPAddress"),
    ),
}


@pytest.mark.parametrize("name", ARTICLE_QUERIES)
def test_duckdb_article_counts(
    article: tuple[EventStore, list[dict[str, Any]]], name: str
) -> None:
    store, records = article
    sql, key = ARTICLE_QUERIES[name]
    expected = collections.Counter(key(r) for r in records)
    got = _counts(query(store, sql))
    assert got == dict(expected)
    assert len(got) > 2


def test_duckdb_article_write_calls(article: tuple[EventStore, list[dict[str, Any]]]) -> None:
    store, records = article
    rows = query(store, "SELECT eventName, count(*) AS n FROM cloudtrail_events "
                        "WHERE readOnly = 'false' GROUP BY 1")
    expected = collections.Counter(r["eventName"] for r in records if _read_only(r) is False)
    assert _counts(rows) == dict(expected) and expected


def test_cloudtrail_events_hides_bookkeeping_columns(
    article: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    store, _ = article
    cols = [r["column_name"] for r in query(
        store, "SELECT column_name FROM (DESCRIBE cloudtrail_events)")]
    assert "eventName" in cols and "userIdentity" in cols and "source_file" in cols
    assert not [c for c in cols if c.startswith("_")]


# --- Athena guide style on cloudtrail_logs.cloudtrail_partitioned -------------------------------


@pytest.fixture(scope="module")
def athena() -> Iterator[tuple[EventStore, list[tuple[dict[str, Any], tuple[str, ...]]]]]:
    """The S3 tree plus the Stratus download (which has IAM changes), loaded once."""
    root = samples_or_skip()
    seen: set[str] = set()
    tagged: list[tuple[dict[str, Any], tuple[str, ...]]] = []
    for f in sorted((root / TREE).rglob("*.json.gz")):
        parts = f.relative_to(root / TREE).parts  # acct, kind, region, y, m, d, name
        if parts[1] == "CloudTrail-Digest":
            continue
        for rec in distinct(read_records(f)):
            key = repr(sorted(rec.items()))
            if key not in seen:
                seen.add(key)
                tagged.append((rec, (parts[0], *parts[2:6])))
    with loaded(root / TREE, root / STRATUS) as (store, _):
        yield store, tagged


def _in_day(tagged: list[tuple[dict[str, Any], tuple[str, ...]]]) -> list[dict[str, Any]]:
    return [rec for rec, part in tagged if part == (ACCOUNT, *DAY)]


def test_athena_console_logins(athena: Any) -> None:
    store, tagged = athena
    rows = query(store, f"""
        SELECT useridentity.username, sourceipaddress, eventtime, additionaleventdata
        FROM cloudtrail_logs.cloudtrail_partitioned
        WHERE eventname = 'ConsoleLogin' AND {PARTITION}""")
    expected = [r for r in _in_day(tagged) if r["eventName"] == "ConsoleLogin"]
    assert len(expected) == 8
    got = collections.Counter((r["username"], r["sourceipaddress"], r["eventtime"]) for r in rows)
    assert got == collections.Counter(
        (r["userIdentity"].get("userName"), r["sourceIPAddress"], r["eventTime"])
        for r in expected)
    assert sum(r["additionaleventdata"] is not None for r in rows) == sum(
        "additionalEventData" in r for r in expected)


def test_athena_security_group_changes(athena: Any) -> None:
    store, tagged = athena
    rows = query(store, f"""
        SELECT eventname, useridentity.arn, count(*) AS n
        FROM cloudtrail_logs.cloudtrail_partitioned
        WHERE eventname IN {_sql_list(SG_CHANGES)} AND {PARTITION}
        GROUP BY 1, 2""")
    expected = collections.Counter((r["eventName"], r["userIdentity"].get("arn"))
                                   for r in _in_day(tagged) if r["eventName"] in SG_CHANGES)
    assert _counts(rows) == dict(expected) and sum(expected.values()) == 21


def test_athena_iam_changes(athena: Any) -> None:
    store, _ = athena
    records = read_records(samples_or_skip() / STRATUS)
    changes = [r for r in records if r["eventName"] in IAM_CHANGES]
    assert changes
    # Outside an S3 tree the partition values come from the record itself.
    first = changes[0]
    y, m, d = first["eventTime"][:10].split("-")
    rows = query(store, f"""
        SELECT eventtime, eventname, useridentity.arn AS arn, sourceipaddress
        FROM cloudtrail_logs.cloudtrail_partitioned
        WHERE eventname IN {_sql_list(IAM_CHANGES)}
          AND account_id = '{first["recipientAccountId"]}' AND region = '{first["awsRegion"]}'
          AND year = '{y}' AND month = '{m}' AND day = '{d}'""")
    expected = [r for r in changes
                if (r["recipientAccountId"], r["awsRegion"], r["eventTime"][:10]) == (
                    first["recipientAccountId"], first["awsRegion"], first["eventTime"][:10])]
    assert sorted((r["eventname"], r["arn"], r["eventtime"]) for r in rows) == sorted(
        (r["eventName"], r["userIdentity"].get("arn"), r["eventTime"]) for r in expected)
    every = query(store, "SELECT eventname, count(*) FROM cloudtrail_logs.cloudtrail_partitioned "
                         f"WHERE eventname IN {_sql_list(IAM_CHANGES)} GROUP BY 1")
    assert _counts(every) == dict(collections.Counter(r["eventName"] for r in changes))


def test_athena_read_only_strings(athena: Any) -> None:
    store, _ = athena
    records = read_records(samples_or_skip() / STRATUS)
    rows = query(store, "SELECT readonly, count(*) AS n "
                        "FROM cloudtrail_logs.cloudtrail_partitioned "
                        "WHERE year IN ('2024', '2025') GROUP BY 1")  # the Stratus events
    expected = collections.Counter(
        {True: "true", False: "false", None: None}[_read_only(r)] for r in records)
    assert _counts(rows) == dict(expected) and len(expected) == 2


def test_athena_root_activity(athena: Any) -> None:
    store, tagged = athena
    rows = query(store, f"""
        SELECT eventname, count(*) AS n FROM cloudtrail_logs.cloudtrail_partitioned
        WHERE useridentity.type = 'Root' AND {PARTITION} GROUP BY eventname""")
    expected = collections.Counter(r["eventName"] for r in _in_day(tagged)
                                   if r["userIdentity"].get("type") == "Root")
    assert _counts(rows) == dict(expected) and sum(expected.values()) == 50


def test_athena_errors(athena: Any) -> None:
    store, tagged = athena
    rows = query(store, f"""
        SELECT errorcode, errormessage, count(*) AS n FROM cloudtrail_logs.cloudtrail_partitioned
        WHERE errorcode IS NOT NULL AND {PARTITION} GROUP BY 1, 2""")
    expected = collections.Counter((r["errorCode"], r.get("errorMessage"))
                                   for r in _in_day(tagged) if r.get("errorCode"))
    assert _counts(rows) == dict(expected) and sum(expected.values()) == 26


def test_athena_source_ip_and_arn(athena: Any) -> None:
    store, tagged = athena
    day = _in_day(tagged)
    ip, n_ip = collections.Counter(r["sourceIPAddress"] for r in day).most_common(1)[0]
    rows = query(store, "SELECT eventname, eventtime FROM cloudtrail_logs.cloudtrail_partitioned "
                        f"WHERE sourceipaddress = '{ip}' AND {PARTITION}")
    assert len(rows) == n_ip
    arns = collections.Counter(r["userIdentity"].get("arn") for r in day
                               if "alucloud" in (r["userIdentity"].get("arn") or ""))
    user = next(iter(arns)).rsplit("/", 1)[1]
    rows = query(store, "SELECT useridentity.arn AS arn, count(*) AS n "
                        "FROM cloudtrail_logs.cloudtrail_partitioned "
                        f"WHERE useridentity.arn LIKE '%{user}%' AND {PARTITION} GROUP BY 1")
    assert _counts(rows) == {a: n for a, n in arns.items() if user in a}


def test_athena_string_columns(athena: Any) -> None:
    store, tagged = athena
    rows = query(store, f"""
        SELECT eventid, eventtime, readonly, requestparameters, recipientaccountid
        FROM cloudtrail_logs.cloudtrail_partitioned
        WHERE eventtime >= '2014-09-26T12:00:00Z' AND {PARTITION}""")
    expected = {r["eventID"]: r for r in _in_day(tagged) if r["eventTime"] >= "2014-09-26T12"}
    assert len(rows) == len(expected) > 0
    for row in rows:
        rec = expected[row["eventid"]]
        assert row["eventtime"] == rec["eventTime"]  # the file's own text
        assert row["readonly"] is None  # grycap records never say
        assert row["recipientaccountid"] == rec.get("recipientAccountId")
        assert isinstance(row["requestparameters"], str | None)
    # The unpartitioned table name answers the same.
    n = query(store, "SELECT count(*) AS n FROM cloudtrail_logs.cloudtrail "
                     f"WHERE {PARTITION}")[0]["n"]
    assert n == len(_in_day(tagged))


# --- CloudTrail Lake style on events -----------------------------------------------------------


@pytest.fixture(scope="module")
def lake() -> Iterator[tuple[EventStore, list[dict[str, Any]]]]:
    root = samples_or_skip()
    records = distinct([r for rel in ARTICLE_FILES for r in read_records(root / rel)])
    with loaded(*(root / rel for rel in ARTICLE_FILES)) as (store, _):
        yield store, records


def test_lake_element_at_bucket_name(lake: tuple[EventStore, list[dict[str, Any]]]) -> None:
    store, records = lake
    buckets = collections.Counter(
        r["requestParameters"].get("bucketName") for r in records
        if isinstance(r.get("requestParameters"), dict)
        and r["requestParameters"].get("bucketName"))
    bucket, n = buckets.most_common(1)[0]
    assert n >= 2
    rows = query(store, f"""
        SELECT eventID, eventName, eventTime, userIdentity.arn AS arn
        FROM events
        WHERE element_at(requestParameters, 'bucketName') = '{bucket}'
          AND eventTime > '2014-01-01 00:00:00'""")
    assert sorted(r["eventID"] for r in rows) == sorted(
        r["eventID"] for r in records
        if isinstance(r.get("requestParameters"), dict)
        and r["requestParameters"].get("bucketName") == bucket)


def test_lake_user_name(lake: tuple[EventStore, list[dict[str, Any]]]) -> None:
    store, records = lake
    users = collections.Counter((r.get("userIdentity") or {}).get("userName") for r in records)
    users.pop(None, None)
    for user in ("jose-attackrange", users.most_common(1)[0][0]):
        rows = query(store, f"""
            SELECT eventName, count(*) AS n FROM events
            WHERE userIdentity.username = '{user}' AND eventTime > '2014-01-01 00:00:00'
            GROUP BY eventName""")
        expected = collections.Counter(r["eventName"] for r in records
                                       if (r.get("userIdentity") or {}).get("userName") == user)
        assert _counts(rows) == dict(expected) and expected


def test_lake_time_filter_excludes_older_events(tmp_path: Path) -> None:
    root = samples_or_skip()
    rel = "console-json/plaso_aws-docs-derived-sample.json"
    records = read_records(root / rel)
    with loaded(root / rel) as (store, _):
        rows = query(store, "SELECT eventName FROM events "
                            "WHERE eventTime > '2016-01-01 00:00:00'")
    expected = [r for r in records if r["eventTime"] > "2016-01-01"]
    assert 0 < len(rows) == len(expected) < len(records)
