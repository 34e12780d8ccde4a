"""Events for the data-layer tests (filters, views), loaded through the real loader.

`RECORDS` is a small hand-written set whose every odd case a test below relies on: tied event
times, a time that does not parse, NULLs in facet columns, text with quotes, `%`, `_` and
backslashes, a value found only inside requestParameters. `synthetic_records` adds a larger,
seeded random set for the properties that need volume (facet sums, ordering, paging).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trailtui.data.store import EventStore

ACCOUNT = "012345678901"


def iam_user(name: str, key: str | None = None) -> dict[str, Any]:
    ui: dict[str, Any] = {
        "type": "IAMUser",
        "principalId": f"AIDA{name.upper()}",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "accountId": ACCOUNT,
        "userName": name,
    }
    if key is not None:
        ui["accessKeyId"] = key
    return ui


def assumed_role(role: str, session: str, key: str) -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "principalId": f"AROA{role.upper()}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": f"AROA{role.upper()}",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "attributes": {"creationDate": "2024-05-01T09:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def record(n: int, **fields: Any) -> dict[str, Any]:
    """A plausible CloudTrail record; `fields` override (a None value removes the key)."""
    rec: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": iam_user("alice", "AKIAALICE"),
        "eventTime": f"2024-05-01T10:{n // 60 % 60:02d}:{n % 60:02d}Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": None,
        "responseElements": None,
        "requestID": f"REQ{n:05d}",
        "eventID": f"00000000-0000-4000-8000-{n:012d}",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    rec.update(fields)
    return {k: v for k, v in rec.items() if v is not None or k in ("requestParameters",)}


def _records() -> list[dict[str, Any]]:
    deploy_a = assumed_role("DeployRole", "deploy-a", "ASIADEPLOYA")
    deploy_b = assumed_role("DeployRole", "deploy-b", "ASIADEPLOYB")
    recs = [
        record(0, eventName="CreateBucket", readOnly=False,
               requestParameters={"bucketName": "needle-bucket-7f3a", "Host": "s3.amazonaws.com"}),
        record(1),
        record(2, eventName="GetObject", requestParameters={"key": "reports/100%_done.csv"}),
        record(3, eventName="GetObject", requestParameters={"key": "reports/100x-done.csv"}),
        record(4, eventName="PutObject", readOnly=False,
               requestParameters={"key": "C:\\temp\\path", "note": 'say "hi"'}),
        record(5, eventName="PutObject", readOnly=False,
               requestParameters={"key": "O'Brien's file"}),
        record(6, userIdentity=iam_user("bob", "AKIABOB"), sourceIPAddress="198.51.100.7",
               eventName="DeleteBucket", readOnly=False, errorCode="AccessDenied",
               errorMessage="User: bob is not authorized"),
        record(7, userIdentity=iam_user("bob", "AKIABOB"), sourceIPAddress="198.51.100.7",
               errorCode="AccessDenied"),
        # Three events in the same second: ties the view order must break the same way always.
        record(8, userIdentity=deploy_a, eventSource="ec2.amazonaws.com",
               eventName="DescribeInstances", eventTime="2024-05-01T11:00:00Z",
               sourceIPAddress="10.0.0.1", userAgent="Boto3/1.34.0"),
        record(9, userIdentity=deploy_a, eventSource="ec2.amazonaws.com",
               eventName="RunInstances", readOnly=False, eventTime="2024-05-01T11:00:00Z",
               sourceIPAddress="10.0.0.1", userAgent="Boto3/1.34.0",
               requestParameters={"instanceType": "t3.micro", "note": "x' OR 1=1 --"}),
        record(10, userIdentity=deploy_b, eventSource="ec2.amazonaws.com",
               eventName="DescribeInstances", eventTime="2024-05-01T11:00:00Z",
               sourceIPAddress="10.0.0.12", userAgent="Boto3/1.34.0"),
        record(11, userIdentity={"type": "Root", "principalId": ACCOUNT,
                                 "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT},
               eventSource="signin.amazonaws.com", eventName="ConsoleLogin",
               eventType="AwsConsoleSignIn", sourceIPAddress="192.0.2.1",
               userAgent="Mozilla/5.0", readOnly=None,
               responseElements={"ConsoleLogin": "Success"}),
        record(12, userIdentity={"accountId": ACCOUNT, "invokedBy": "AWS Internal"},
               eventSource="kms.amazonaws.com", eventName="RotateKey",
               eventType="AwsServiceEvent", sourceIPAddress=None, userAgent=None,
               readOnly=None, serviceEventDetails={"keyId": "k-123"}),
        # eventTime that does not parse: NULL time, sorted last, outside every time range.
        record(13, eventTime="redacted", eventName="GetBucketAcl"),
        record(14, eventName="GetBucketAcl", awsRegion="us-east-1",
               userAgent="Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
               additionalEventData={"SignatureVersion": "SigV4"}),
        record(15, eventName="Get_Thing", awsRegion="us-east-1"),
    ]
    return recs


RECORDS: list[dict[str, Any]] = _records()


def synthetic_records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """n random records over a few days with skewed actors/IPs and plenty of tied times."""
    rng = random.Random(seed)
    actors = [iam_user(f"user{i}", f"AKIAUSER{i}") for i in range(12)]
    actors += [assumed_role(f"Role{i}", f"s{i}", f"ASIAROLE{i}") for i in range(8)]
    out = []
    for i in range(n):
        day, sec = rng.randrange(3), rng.randrange(0, 86400, 30)  # many ties at 30 s steps
        when = f"2024-06-0{day + 1}T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}Z"
        out.append(record(
            1000 + i,
            userIdentity=actors[int(rng.paretovariate(1.2)) % len(actors)],
            eventTime=when,
            eventSource=rng.choice(["s3", "ec2", "iam", "sts", "kms"]) + ".amazonaws.com",
            eventName=rng.choice(["List", "Get", "Describe", "Put", "Delete"]) + "Thing",
            awsRegion=rng.choice(["eu-west-1", "us-east-1", "us-west-2"]),
            sourceIPAddress=rng.choice([None, "AWS Internal"] + [f"10.0.{rng.randrange(4)}.{j}"
                                                                 for j in range(30)]),
            errorCode=rng.choice([None] * 8 + ["AccessDenied", "ThrottlingException"]),
            readOnly=rng.choice([True, True, False, None]),
            requestParameters={"bucketName": f"bucket-{rng.randrange(50)}"},
        ))
    return out


def write_ndjson(records: Sequence[dict[str, Any]], path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@contextmanager
def events_store(records: Sequence[dict[str, Any]], folder: Path) -> Iterator[EventStore]:
    """An EventStore holding `records` (loaded from one NDJSON file), closed afterwards."""
    store = EventStore(cache=False)
    try:
        report = store.load([str(write_ndjson(records, folder / "events.ndjson"))])
        assert not report.errors, report.errors
        yield store
    finally:
        store.close()
