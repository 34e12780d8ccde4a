"""The Sigma engine: every modifier, Sigma's NULL semantics, correlations, problems reported by
name, SigmaHQ-style rules loading unchanged, exclusions, and headless `--findings`."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _fixtures import write_ndjson
from conftest import loaded, query

from trailtui.cli import main
from trailtui.data.findings import (
    ExclusionError,
    load_exclusions,
    load_rules,
    run_findings,
)
from trailtui.data.store import EventStore


def _ev(eid: str, name: str = "DescribeInstances", at: int = 0, **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "eventID": eid, "eventName": name, "eventSource": "ec2.amazonaws.com",
        "eventTime": f"2024-05-01T12:{at // 60:02d}:{at % 60:02d}Z", "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2.15.0",
        "userIdentity": {"type": "IAMUser", "userName": "alice",
                         "arn": "arn:aws:iam::111122223333:user/alice",
                         "accountId": "111122223333"},
        "recipientAccountId": "111122223333",
    }
    rec.update(fields)
    return rec


EVENTS = [
    _ev("e1", requestParameters={"instanceType": "T3.Micro", "count": 5,
                                 "ipPermissions": {"items": [{"ipRanges": {"items": [
                                     {"cidrIp": "10.0.0.0/8"}, {"cidrIp": "0.0.0.0/0"}]}}]}}),
    _ev("e2", name="RunInstances", requestParameters={"instanceType": "p4d.24xlarge", "count": 1},
        sourceIPAddress="10.1.2.3", errorCode="AccessDenied"),
    _ev("e3", name="GetObject", eventSource="s3.amazonaws.com", sourceIPAddress="s3.amazonaws.com",
        userAgent="Mozilla *star*",
        userIdentity={"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/deploy/x",
                      "sessionContext": {"sessionIssuer": {"userName": "deploy", "type": "Role"}}}),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    path = write_ndjson(EVENTS, tmp_path_factory.mktemp("eng") / "e.ndjson")
    with loaded(path) as (st, _r):
        yield st


def _rule(detection: str, **extra: str) -> str:
    head = "\n".join(f"{k}: {v}" for k, v in extra.items())
    return (f"title: t\nid: r1\n{head}\nlogsource:\n  product: aws\n  service: cloudtrail\n"
            "detection:\n" + textwrap.indent(textwrap.dedent(detection).strip(), "  ")
            + "\nlevel: high\n")


def matches(store: EventStore, tmp_path: Path, detection: str) -> set[str]:
    (tmp_path / "r.yml").write_text(_rule(detection))
    rs = load_rules([tmp_path], pack=False)
    assert not rs.problems, rs.problems
    run_findings(store.cursor(), rs)
    return {r["eventID"] for r in query(store, "SELECT eventID FROM findings")}


@pytest.mark.parametrize(("detection", "expected"), [
    ("sel:\n  eventName: describeinstances\ncondition: sel", {"e1"}),  # case-insensitive
    ("sel:\n  eventName|cased: describeinstances\ncondition: sel", set()),
    ("sel:\n  eventName: 'Describe*'\ncondition: sel", {"e1"}),  # wildcard
    ("sel:\n  eventName: 'Get?bject'\ncondition: sel", {"e3"}),
    ("sel:\n  userAgent: 'Mozilla \\*star\\*'\ncondition: sel", {"e3"}),  # escaped stars
    ("sel:\n  eventName|contains: instance\ncondition: sel", {"e1", "e2"}),
    ("sel:\n  eventName|startswith: run\ncondition: sel", {"e2"}),
    ("sel:\n  eventName|endswith: OBJECT\ncondition: sel", {"e3"}),
    ("sel:\n  eventName|contains|all: [Describe, Instances]\ncondition: sel", {"e1"}),
    ("sel:\n  eventName|contains|all: [Describe, Object]\ncondition: sel", set()),
    ("sel:\n  eventName: [RunInstances, GetObject]\ncondition: sel", {"e2", "e3"}),  # list = OR
    ("sel:\n  eventName|re: '^(Run|Get)[A-Z]'\ncondition: sel", {"e2", "e3"}),
    ("sel:\n  eventName|re: '^run'\ncondition: sel", set()),  # re is case-sensitive
    ("sel:\n  eventName|re|i: '^run'\ncondition: sel", {"e2"}),
    ("sel:\n  errorCode|exists: true\ncondition: sel", {"e2"}),
    ("sel:\n  errorCode|exists: false\ncondition: sel", {"e1", "e3"}),
    ("sel:\n  sourceIPAddress|cidr: 10.0.0.0/8\ncondition: sel", {"e2"}),
    ("sel:\n  requestParameters.count|gte: 5\ncondition: sel", {"e1"}),
    ("sel:\n  requestParameters.count: 5\ncondition: sel", {"e1"}),  # numbers as text
    ("sel:\n  requestParameters.instanceType: t3.micro\ncondition: sel", {"e1"}),  # JSON, any case
    ("sel:\n  requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0\n"
     "condition: sel", {"e1"}),  # any element of nested lists
    ("sel:\n  userIdentity.type: assumedrole\ncondition: sel", {"e3"}),  # STRUCT field
    ("sel:\n  userIdentity.sessionContext.sessionIssuer.userName: deploy\ncondition: sel",
     {"e3"}),
    ("sel:\n  userIdentity.userName|fieldref: userIdentity.userName\ncondition: sel",
     {"e1", "e2"}),
    ("sel:\n  errorCode: null\ncondition: sel", {"e1", "e3"}),
    # NULL-safe not: e3 has no errorCode; `not filter` must keep it
    ("sel:\n  eventName|contains: e\nfilter:\n  errorCode: AccessDenied\n"
     "condition: sel and not filter", {"e1", "e3"}),
    ("sel:\n  eventName|contains: e\nfilter:\n  userIdentity.userName: alice\n"
     "condition: sel and not filter", {"e3"}),  # e3 has no userName: kept
    ("selection_a:\n  eventName: RunInstances\nselection_b:\n  eventName: GetObject\n"
     "condition: 1 of selection_*", {"e2", "e3"}),
    ("selection_a:\n  eventName|contains: Instances\nselection_b:\n  errorCode|exists: true\n"
     "condition: all of selection_*", {"e2"}),
    ("a:\n  eventName: RunInstances\nb:\n  eventName: GetObject\ncondition: 1 of them",
     {"e2", "e3"}),
    ("a:\n  eventName: RunInstances\nb:\n  eventName: GetObject\n"
     "c:\n  eventName: DescribeInstances\ncondition: a or (b and not c)", {"e2", "e3"}),
    ("a:\n  - eventName: RunInstances\n  - eventName: GetObject\ncondition: a", {"e2", "e3"}),
])
def test_modifiers_and_semantics(store: EventStore, tmp_path: Path, detection: str,
                                 expected: set[str]) -> None:
    assert matches(store, tmp_path, detection) == expected


@pytest.mark.parametrize(("detection", "reason"), [
    ("sel:\n  eventName|base64offset: x\ncondition: sel", "modifier 'base64offset'"),
    ("sel:\n  - foo\n  - bar\ncondition: sel", "keyword"),
    ("sel:\n  eventName: x\ncondition: sel | count() > 5", "aggregation"),
    ("sel:\n  eventName: x\ncondition: nothere", "'nothere'"),
    ("sel:\n  nosuchfield: x\ncondition: sel", "unknown field"),
    ("sel:\n  userIdentity.nosuch: x\ncondition: sel", "unknown field"),
    ("sel:\n  eventName|re: '(['\ncondition: sel", "regular expression"),
])
def test_unconvertible_rules_are_reported_by_name(tmp_path: Path, detection: str,
                                                  reason: str) -> None:
    (tmp_path / "bad.yml").write_text(_rule(detection))
    (tmp_path / "windows.yml").write_text(
        "title: not aws\nlogsource: {product: windows}\ndetection: {s: {a: 1}, condition: s}\n")
    rs = load_rules([tmp_path], pack=False)
    assert len(rs.rules) == 0
    bad = {Path(p.source).name: p for p in rs.problems}
    assert reason in bad["bad.yml"].reason and bad["bad.yml"].title == "t"
    assert "logsource" in bad["windows.yml"].reason


SIGMAHQ_STYLE = """\
title: AWS CloudTrail Important Change
id: 4db60cc0-36fb-42b7-9b58-a5b53019fb74
status: test
description: Detects disabling, deleting and updating of a Trail
references:
    - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/best-practices-security.html
author: vitaliy0x1
date: 2020-01-21
modified: 2022-10-09
tags:
    - attack.defense-evasion
    - attack.t1562.001
logsource:
    product: aws
    service: cloudtrail
detection:
    selection_source:
        eventSource: ec2.amazonaws.com
        eventName:
            - RunInstances
            - DescribeInstances
    filter:
        errorCode|contains|all:
            - Access
            - Denied
    condition: selection_source and not filter
falsepositives:
    - Valid change in a Trail
level: medium
---
title: Service by suffix
id: 0f2b0a27-1111-4a5e-9b1e-0123456789ab
status: experimental
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventSource|endswith: 's3.amazonaws.com'
        userIdentity.sessionContext.sessionIssuer.type: Role
    condition: selection
level: low
"""


def test_sigmahq_style_rules_load_unchanged(store: EventStore, tmp_path: Path) -> None:
    (tmp_path / "sigmahq.yml").write_text(SIGMAHQ_STYLE)
    rs = load_rules([tmp_path], pack=False)
    assert not rs.problems and len(rs.rules) == 2
    run_findings(store.cursor(), rs)
    got = {(r["title"], r["eventID"], r["level"]) for r in
           query(store, "SELECT title, eventID, level FROM findings")}
    assert got == {("AWS CloudTrail Important Change", "e1", "medium"),
                   ("Service by suffix", "e3", "low")}


def _corr_events() -> list[dict[str, Any]]:
    out = [_ev(f"f{i}", name="ConsoleLogin", at=i * 30, eventSource="signin.amazonaws.com",
               responseElements={"ConsoleLogin": "Failure"}) for i in range(4)]
    out.append(_ev("ok", name="ConsoleLogin", at=200, eventSource="signin.amazonaws.com",
                   responseElements={"ConsoleLogin": "Success"}))
    out += [_ev(f"d{i}", name=n, at=600 + i) for i, n in
            enumerate(["ListUsers", "ListRoles", "ListRoles", "ListGroups"])]
    return out


CORR = """\
title: failure
name: fail
logsource: {product: aws, service: cloudtrail}
detection: {s: {eventName: ConsoleLogin, responseElements.ConsoleLogin: Failure}, condition: s}
level: low
---
title: success
name: win
logsource: {product: aws, service: cloudtrail}
detection: {s: {eventName: ConsoleLogin, responseElements.ConsoleLogin: Success}, condition: s}
level: low
---
title: list
name: lists
logsource: {product: aws, service: cloudtrail}
detection: {s: {eventName|startswith: List}, condition: s}
level: low
---
title: burst
name: burst
correlation: {type: event_count, rules: [fail], group-by: [sourceIPAddress], timespan: 2m,
              condition: {gte: 4}}
level: medium
---
title: too few
correlation: {type: event_count, rules: [fail], group-by: [sourceIPAddress], timespan: 1m,
              condition: {gte: 4}}
level: medium
---
title: distinct
correlation: {type: value_count, rules: [lists], group-by: [userIdentity.arn], timespan: 1m,
              condition: {gte: 3, field: eventName}}
level: medium
---
title: distinct4
correlation: {type: value_count, rules: [lists], group-by: [userIdentity.arn], timespan: 1m,
              condition: {gte: 4, field: eventName}}
level: medium
---
title: then
correlation: {type: temporal_ordered, rules: [burst, win], group-by: [sourceIPAddress],
              timespan: 10m, generate: true}
level: high
---
title: reversed
correlation: {type: temporal_ordered, rules: [win, fail], group-by: [sourceIPAddress],
              timespan: 10m}
level: high
---
title: any order
correlation: {type: temporal, rules: [win, fail], timespan: 10m}
level: high
"""


def test_correlations(tmp_path: Path) -> None:
    path = write_ndjson(_corr_events(), tmp_path / "c.ndjson")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "c.yml").write_text(CORR)
    rs = load_rules([tmp_path / "rules"], pack=False)
    assert not rs.problems
    with loaded(path) as (st, _r):
        run = run_findings(st.cursor(), rs)
        assert not run.problems
        got: dict[str, set[str]] = {}
        for r in query(st, "SELECT title, eventID FROM findings"):
            got.setdefault(r["title"], set()).add(r["eventID"])
    fails = {"f0", "f1", "f2", "f3"}
    assert got["burst"] == fails
    assert "too few" not in got  # 4 failures span 90 s, not within 1 min
    assert got["distinct"] == {"d0", "d1", "d2", "d3"}
    assert "distinct4" not in got
    assert got["then"] == fails | {"ok"}
    assert "reversed" not in got  # the success comes after the failures
    assert got["any order"] == fails | {"ok"}
    # referenced rules stay silent unless a correlation says `generate: true` ("then" does)
    assert "list" not in got and "failure" not in got and "success" not in got


def test_correlation_with_unknown_rule_is_reported(tmp_path: Path, store: EventStore) -> None:
    (tmp_path / "c.yml").write_text(
        "title: lost\ncorrelation: {type: event_count, rules: [nothere], timespan: 1m, "
        "condition: {gte: 2}}\n")
    run = run_findings(store.cursor(), load_rules([tmp_path], pack=False))
    assert [(p.title, "nothere" in p.reason) for p in run.problems] == [("lost", True)]


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_exclusions(tmp_path: Path, store: EventStore, fmt: str) -> None:
    (tmp_path / "r.yml").write_text(_rule("sel:\n  eventName|contains: e\ncondition: sel"))
    if fmt == "yaml":
        ex = tmp_path / "ex.yml"
        ex.write_text("exclusions:\n  - rule: r1\n    role: deploy\n"
                      "  - rule: '*'\n    ip: 10.0.0.0/8\n    account: '111122223333'\n")
    else:
        ex = tmp_path / "ex.toml"
        ex.write_text('[[exclusions]]\nrule = "r1"\nrole = "deploy"\n\n'
                      '[[exclusions]]\nip = "10.0.0.0/8"\naccount = "111122223333"\n')
    rs = load_rules([tmp_path / "r.yml"], pack=False)
    run_findings(store.cursor(), rs, load_exclusions(ex))
    assert {r["eventID"] for r in query(store, "SELECT eventID FROM findings")} == {"e1"}


def test_bad_exclusions_file(tmp_path: Path) -> None:
    ex = tmp_path / "ex.yml"
    ex.write_text("exclusions:\n  - rule: r1\n")
    with pytest.raises(ExclusionError, match="names no actor"):
        load_exclusions(ex)
    ex.write_text("exclusions:\n  - rule: r1\n    user: x\n")
    with pytest.raises(ExclusionError, match="unknown key"):
        load_exclusions(ex)


def test_attempt_level_and_outcome(tmp_path: Path, store: EventStore) -> None:
    (tmp_path / "r.yml").write_text(_rule("sel:\n  eventName|contains: Instances\n"
                                          "condition: sel", attempt_level="low"))
    run_findings(store.cursor(), load_rules([tmp_path], pack=False))
    got = {(r["eventID"], r["level"], r["outcome"]) for r in
           query(store, "SELECT eventID, level, outcome FROM findings")}
    assert got == {("e1", "high", "success"), ("e2", "low", "attempt")}


def test_headless_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_ndjson([
        _ev("x1", name="StopLogging", eventSource="cloudtrail.amazonaws.com"),
        _ev("x2", name="DescribeTrails", eventSource="cloudtrail.amazonaws.com"),
    ], tmp_path / "h.ndjson")
    assert main([str(path), "--findings", "--format", "jsonl", "--no-cache"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["rule_id"], r["eventID"], r["level"]) for r in rows] == [
        ("trailtui-cloudtrail-stop-delete", "x1", "high")]
    for key in ("title", "tags", "eventName", "eventTime", "source_file"):
        assert key in rows[0]
    assert rows[0]["tags"][0].startswith("attack.")
    assert main([str(path), "--findings", "--format", "csv", "--no-cache"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert table[0]["eventName"] == "StopLogging"
    # user rules beside the pack; a broken one is named on stderr, the rest still run
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "mine.yml").write_text(_rule("s:\n  eventName: DescribeTrails\n"
                                                       "condition: s"))
    (tmp_path / "rules" / "broken.yml").write_text(_rule("s:\n  eventName|nope: x\n"
                                                         "condition: s"))
    assert main([str(path), "--findings", "--format", "json", "--no-cache",
                 "--rules", str(tmp_path / "rules")]) == 0
    cap = capsys.readouterr()
    assert {r["eventID"] for r in json.loads(cap.out)} == {"x1", "x2"}
    assert "broken.yml" in cap.err and "nope" in cap.err
    (tmp_path / "ex.yml").write_text("exclusions: [{rule: x}]\n")
    assert main([str(path), "--findings", "--exclusions", str(tmp_path / "ex.yml")]) == 1
    assert "names no actor" in capsys.readouterr().err


def test_finding_chip_filters_to_the_rule_events(tmp_path: Path, store: EventStore) -> None:
    from trailtui.data.filters import Chip, FilterState

    (tmp_path / "r.yml").write_text(_rule("sel:\n  eventName|contains: Instances\n"
                                          "condition: sel"))
    run_findings(store.cursor(), load_rules([tmp_path], pack=False))
    chip = Chip.finding("r1", "t")
    assert chip.label == "finding: t"
    where, params = FilterState((chip,)).where()
    got = {r["eventID"] for r in query(store, f"SELECT eventID FROM events WHERE {where}",
                                       params)}
    assert got == {"e1", "e2"}
    duck = FilterState((chip,)).to_duckdb_sql()
    assert {r["eventID"] for r in query(store, duck.rstrip(";"))} == {"e1", "e2"}
    assert "not in Athena" in FilterState((chip,)).to_athena_sql()


def test_a_rule_duckdb_rejects_is_reported_and_the_others_still_run(
        tmp_path: Path, store: EventStore) -> None:
    # Python's re accepts a lookahead, DuckDB's RE2 does not: only known when it runs
    (tmp_path / "bad.yml").write_text(_rule("sel:\n  eventName|re: 'Run(?=Instances)'\n"
                                            "condition: sel").replace("id: r1", "id: bad"))
    (tmp_path / "good.yml").write_text(_rule("sel:\n  eventName: GetObject\ncondition: sel"))
    run = run_findings(store.cursor(), load_rules([tmp_path], pack=False))
    assert [(Path(p.source).name, "DuckDB" in p.reason) for p in run.problems] == [
        ("bad.yml", True)]
    assert {r["eventID"] for r in query(store, "SELECT eventID FROM findings")} == {"e3"}
