"""Sigma-style tests of trailtui's own rule pack: every rule has a positive and a negative event.

All cases go into one load (each case under its own principal and source address, so the
correlations of one case never see another's events); the findings run once. A rule of the
pack without a case here fails `test_every_pack_rule_has_a_case`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _fixtures import write_ndjson
from conftest import loaded, query

from trailtui.data.findings import load_rules, run_findings
from trailtui.data.findings.sigma import Correlation, Rule

_N = itertools.count()
T0 = dt.datetime(2024, 5, 1, 12, 0, 0)


def ev(name: str, source: str, *, who: str = "IAMUser", at: int = 0,
       **fields: Any) -> dict[str, Any]:
    """One CloudTrail event; `who` is the identity type (the principal is set per case)."""
    rec: dict[str, Any] = {
        "eventVersion": "1.09", "eventName": name, "eventSource": source,
        "eventTime": (T0 + dt.timedelta(seconds=at)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "awsRegion": "eu-west-1", "userAgent": "aws-cli/2.15.0", "sourceIPAddress": "",
        "recipientAccountId": "111122223333", "eventType": "AwsApiCall",
        "userIdentity": {"type": who, "accountId": "111122223333"},
    }
    rec.update(fields)
    return rec


def many(n: int, name: str, source: str, step: int = 10, start: int = 0,
         **fields: Any) -> list[dict[str, Any]]:
    return [ev(name, source, at=start + i * step, **fields) for i in range(n)]


EC2, IAM = "ec2.amazonaws.com", "iam.amazonaws.com"
DENIED: dict[str, Any] = {"errorCode": "AccessDenied", "errorMessage": "not authorized"}
NO_MFA: dict[str, Any] = {"additionalEventData": {"MFAUsed": "No"},
                          "responseElements": {"ConsoleLogin": "Success"}}
ADMIN_DOC = '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
INSTANCE = {"type": "AssumedRole", "sessionContext": {"ec2RoleDelivery": "2.0"}}

# rule id -> (positive events, negative events). Each list is one case's whole story.
CASES: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
    "trailtui-cloudtrail-stop-delete": (
        [ev("StopLogging", "cloudtrail.amazonaws.com")],
        [ev("StartLogging", "cloudtrail.amazonaws.com")]),
    "trailtui-cloudtrail-selectors": (
        [ev("PutEventSelectors", "cloudtrail.amazonaws.com")],
        [ev("GetEventSelectors", "cloudtrail.amazonaws.com")]),
    "trailtui-guardduty-disable": (
        [ev("UpdateDetector", "guardduty.amazonaws.com", requestParameters={"enable": False})],
        [ev("UpdateDetector", "guardduty.amazonaws.com", requestParameters={"enable": True})]),
    "trailtui-config-disable": (
        [ev("StopConfigurationRecorder", "config.amazonaws.com")],
        [ev("StartConfigurationRecorder", "config.amazonaws.com")]),
    "trailtui-securityhub-disable": (
        [ev("DisableSecurityHub", "securityhub.amazonaws.com")],
        [ev("EnableSecurityHub", "securityhub.amazonaws.com")]),
    "trailtui-flowlogs-delete": (
        [ev("DeleteFlowLogs", EC2)], [ev("CreateFlowLogs", EC2)]),
    "trailtui-dns-logs-delete": (
        [ev("DeleteResolverQueryLogConfig", "route53resolver.amazonaws.com")],
        [ev("CreateResolverQueryLogConfig", "route53resolver.amazonaws.com")]),
    "trailtui-logs-delete": (
        [ev("DeleteLogGroup", "logs.amazonaws.com")], [ev("CreateLogGroup", "logs.amazonaws.com")]),
    "trailtui-organizations-leave": (
        [ev("LeaveOrganization", "organizations.amazonaws.com", **DENIED)],
        [ev("DescribeOrganization", "organizations.amazonaws.com")]),
    "trailtui-bedrock-guardrail-logging-delete": (
        [ev("DeleteGuardrail", "bedrock.amazonaws.com")],
        [ev("CreateGuardrail", "bedrock.amazonaws.com")]),
    "trailtui-kms-key-deletion": (
        [ev("ScheduleKeyDeletion", "kms.amazonaws.com")], [ev("CreateKey", "kms.amazonaws.com")]),
    "trailtui-ebs-default-encryption-disabled": (
        [ev("DisableEbsEncryptionByDefault", EC2)], [ev("EnableEbsEncryptionByDefault", EC2)]),
    "trailtui-secret-read": (
        [ev("GetSecretValue", "secretsmanager.amazonaws.com")],
        [ev("DescribeSecret", "secretsmanager.amazonaws.com")]),
    "trailtui-secret-harvest": (
        many(5, "GetSecretValue", "secretsmanager.amazonaws.com"),
        many(4, "GetSecretValue", "secretsmanager.amazonaws.com")),
    "trailtui-secret-batch-read": (
        [ev("BatchGetSecretValue", "secretsmanager.amazonaws.com")],
        [ev("ListSecrets", "secretsmanager.amazonaws.com")]),
    "trailtui-ssm-parameter-decrypt": (
        [ev("GetParameter", "ssm.amazonaws.com", requestParameters={"withDecryption": True})],
        [ev("GetParameter", "ssm.amazonaws.com", requestParameters={"withDecryption": False})]),
    "trailtui-ssm-parameter-harvest": (
        many(3, "GetParameters", "ssm.amazonaws.com", requestParameters={"withDecryption": True}),
        many(3, "GetParameters", "ssm.amazonaws.com", step=400,
             requestParameters={"withDecryption": True})),
    "trailtui-ssm-parameters-bulk-decrypt": (
        [ev("GetParameters", "ssm.amazonaws.com", requestParameters={
            "withDecryption": True, "names": ["/a", "/b", "/c\\\"x", "/d", "/e"]})],
        [ev("GetParameters", "ssm.amazonaws.com", requestParameters={
            "withDecryption": True, "names": ["/a", "/b", "/c", "/d"]})]),
    "trailtui-ec2-get-password-data": (
        [ev("GetPasswordData", EC2, **DENIED)], [ev("DescribeInstances", EC2)]),
    "trailtui-ec2-read-user-data": (
        [ev("DescribeInstanceAttribute", EC2, requestParameters={"attribute": "userData"})],
        [ev("DescribeInstanceAttribute", EC2, requestParameters={"attribute": "instanceType"})]),
    "trailtui-ec2-user-data-sweep": (
        many(5, "DescribeInstanceAttribute", EC2, requestParameters={"attribute": "userData"}),
        many(5, "DescribeInstanceAttribute", EC2, step=200,
             requestParameters={"attribute": "userData"})),
    "trailtui-ec2-instance-credentials-unusual-client": (
        [ev("DescribeInstances", EC2, who="AssumedRole", userIdentity=INSTANCE,
            userAgent="python-requests/2.31")],
        [ev("DescribeInstances", EC2, who="AssumedRole", userIdentity=INSTANCE,
            userAgent="aws-sdk-go-v2/1.2")]),
    "trailtui-access-denied": (
        [ev("ListUsers", IAM, **DENIED)], [ev("ListUsers", IAM)]),
    "trailtui-access-denied-burst": (
        many(10, "ListUsers", IAM, step=5, **DENIED), many(9, "ListUsers", IAM, step=5, **DENIED)),
    "trailtui-ssm-send-command": (
        [ev("SendCommand", "ssm.amazonaws.com")], [ev("ListCommands", "ssm.amazonaws.com")]),
    "trailtui-ssm-start-session": (
        [ev("StartSession", "ssm.amazonaws.com")], [ev("TerminateSession", "ssm.amazonaws.com")]),
    "trailtui-ec2-modify-user-data": (
        [ev("ModifyInstanceAttribute", EC2, requestParameters={"userData": "<sensitive>"})],
        [ev("ModifyInstanceAttribute", EC2,
            requestParameters={"disableApiTermination": {"value": False}})]),
    "trailtui-ec2-stop-then-user-data": (
        [ev("StopInstances", EC2, at=0),
         ev("ModifyInstanceAttribute", EC2, at=60, requestParameters={"userData": "x"})],
        [ev("ModifyInstanceAttribute", EC2, at=0, requestParameters={"userData": "x"}),
         ev("StopInstances", EC2, at=60)]),  # user data first, then the stop: not the sequence
    "trailtui-ec2-stop-instances": (
        [ev("StopInstances", EC2)], [ev("StartInstances", EC2)]),
    "trailtui-ec2-user-data-change": (
        [ev("ModifyInstanceAttribute", EC2, requestParameters={"userData": "x"})],
        [ev("ModifyInstanceAttribute", EC2, requestParameters={"instanceType": {"value": "t3"}})]),
    "trailtui-ec2-unusual-instance-type": (
        [ev("RunInstances", EC2, requestParameters={"instanceType": "p4d.24xlarge"})],
        [ev("RunInstances", EC2, requestParameters={"instanceType": "t3.micro"})]),
    "trailtui-ec2-instance-connect": (
        [ev("SendSSHPublicKey", "ec2-instance-connect.amazonaws.com")],
        [ev("OpenTunnel", "ec2-instance-connect.amazonaws.com")]),
    "trailtui-ec2-serial-console": (
        [ev("SendSerialConsoleSSHPublicKey", "ec2-instance-connect.amazonaws.com")],
        [ev("GetSerialConsoleAccessStatus", EC2)]),
    "trailtui-lambda-update-code": (
        [ev("UpdateFunctionCode20150331v2", "lambda.amazonaws.com")],
        [ev("GetFunction20150331v2", "lambda.amazonaws.com")]),
    "trailtui-lambda-layer": (
        [ev("UpdateFunctionConfiguration20150331v2", "lambda.amazonaws.com",
            requestParameters={"layers": ["arn:aws:lambda:eu-west-1:999:layer:x:1"]})],
        [ev("UpdateFunctionConfiguration20150331v2", "lambda.amazonaws.com",
            requestParameters={"timeout": 30})]),
    "trailtui-lambda-public-permission": (
        [ev("AddPermission20150331v2", "lambda.amazonaws.com",
            requestParameters={"principal": "*"})],
        [ev("AddPermission20150331v2", "lambda.amazonaws.com",
            requestParameters={"principal": "s3.amazonaws.com"})]),
    "trailtui-iam-create-user": (
        [ev("CreateUser", IAM)], [ev("GetUser", IAM)]),
    "trailtui-iam-access-key-other-user": (
        [ev("CreateAccessKey", IAM, requestParameters={"userName": "victim"})],
        [ev("CreateAccessKey", IAM, requestParameters={"userName": "{self}"})]),
    "trailtui-iam-access-key-self": (
        [ev("CreateAccessKey", IAM)],
        [ev("CreateAccessKey", IAM, requestParameters={"userName": "victim"})]),
    "trailtui-iam-login-profile": (
        [ev("UpdateLoginProfile", IAM, requestParameters={"userName": "victim"})],
        [ev("UpdateLoginProfile", IAM, requestParameters={"userName": "{self}"})]),
    "trailtui-iam-admin-policy": (
        [ev("AttachRolePolicy", IAM,
            requestParameters={"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
         ev("PutUserPolicy", IAM, requestParameters={"policyDocument": ADMIN_DOC})],
        [ev("AttachRolePolicy", IAM,
            requestParameters={"policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})]),
    "trailtui-iam-update-trust-policy": (
        [ev("UpdateAssumeRolePolicy", IAM)], [ev("GetRole", IAM)]),
    "trailtui-iam-create-role-account-trust": (
        [ev("CreateRole", IAM, requestParameters={"assumeRolePolicyDocument":
            '{"Statement":[{"Principal":{"AWS":"arn:aws:iam::999:root"}}]}'})],
        [ev("CreateRole", IAM, requestParameters={"assumeRolePolicyDocument":
            '{"Statement":[{"Principal":{"Service":"ec2.amazonaws.com"}}]}'})]),
    "trailtui-sts-federation-token": (
        [ev("GetFederationToken", "sts.amazonaws.com")],
        [ev("GetSessionToken", "sts.amazonaws.com")]),
    "trailtui-rolesanywhere-trust-anchor": (
        [ev("CreateTrustAnchor", "rolesanywhere.amazonaws.com")],
        [ev("ListTrustAnchors", "rolesanywhere.amazonaws.com")]),
    "trailtui-iam-identity-provider": (
        [ev("CreateOpenIDConnectProvider", IAM)], [ev("ListOpenIDConnectProviders", IAM)]),
    "trailtui-root-activity": (
        [ev("DescribeInstances", EC2, who="Root")],
        [ev("DescribeInstances", EC2, who="Root",
            userIdentity={"type": "Root", "invokedBy": "support.amazonaws.com"})]),
    "trailtui-root-access-key": (
        [ev("CreateAccessKey", IAM, who="Root")], [ev("ListAccessKeys", IAM, who="Root")]),
    "trailtui-console-login-no-mfa": (
        [ev("ConsoleLogin", "signin.amazonaws.com", **NO_MFA)],
        [ev("ConsoleLogin", "signin.amazonaws.com", additionalEventData={"MFAUsed": "Yes"},
            responseElements={"ConsoleLogin": "Success"})]),
    "trailtui-console-login-failure": (
        [ev("ConsoleLogin", "signin.amazonaws.com", errorMessage="Failed authentication",
            responseElements={"ConsoleLogin": "Failure"})],
        [ev("ConsoleLogin", "signin.amazonaws.com", **NO_MFA)]),
    "trailtui-console-login-success": (
        [ev("ConsoleLogin", "signin.amazonaws.com", **NO_MFA)],
        [ev("ConsoleLogin", "signin.amazonaws.com", responseElements={"ConsoleLogin": "Failure"})]),
    "trailtui-console-login-bruteforce": (
        many(5, "ConsoleLogin", "signin.amazonaws.com",
             responseElements={"ConsoleLogin": "Failure"}),
        many(4, "ConsoleLogin", "signin.amazonaws.com",
             responseElements={"ConsoleLogin": "Failure"})),
    "trailtui-console-login-after-failures": (
        [*many(5, "ConsoleLogin", "signin.amazonaws.com",
               responseElements={"ConsoleLogin": "Failure"}),
         ev("ConsoleLogin", "signin.amazonaws.com", at=120, **NO_MFA)],
        [ev("ConsoleLogin", "signin.amazonaws.com", at=0, **NO_MFA),
         *many(5, "ConsoleLogin", "signin.amazonaws.com", start=60,
               responseElements={"ConsoleLogin": "Failure"})]),
    "trailtui-sg-open-world": (
        [ev("AuthorizeSecurityGroupIngress", EC2, requestParameters={"ipPermissions": {"items": [
            {"fromPort": 22, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"},
                                                    {"cidrIp": "0.0.0.0/0"}]}}]}})],
        [ev("AuthorizeSecurityGroupIngress", EC2, requestParameters={"ipPermissions": {"items": [
            {"fromPort": 22, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}}]}})]),
    "trailtui-ebs-snapshot-shared": (
        [ev("ModifySnapshotAttribute", EC2, requestParameters={
            "createVolumePermission": {"add": {"items": [{"userId": "999"}]}}})],
        [ev("ModifySnapshotAttribute", EC2, requestParameters={
            "createVolumePermission": {"remove": {"items": [{"userId": "999"}]}}})]),
    "trailtui-ami-shared": (
        [ev("ModifyImageAttribute", EC2, requestParameters={
            "launchPermission": {"add": {"items": [{"group": "all"}]}}})],
        [ev("ModifyImageAttribute", EC2, requestParameters={"description": {"value": "x"}})]),
    "trailtui-rds-snapshot-shared": (
        [ev("ModifyDBSnapshotAttribute", "rds.amazonaws.com", requestParameters={
            "attributeName": "restore", "valuesToAdd": ["999"]})],
        [ev("ModifyDBSnapshotAttribute", "rds.amazonaws.com", requestParameters={
            "attributeName": "restore", "valuesToRemove": ["999"]})]),
    "trailtui-s3-public-access-block-removed": (
        [ev("DeleteBucketPublicAccessBlock", "s3.amazonaws.com")],
        [ev("PutBucketPublicAccessBlock", "s3.amazonaws.com")]),
    "trailtui-s3-public-policy": (
        [ev("PutBucketPolicy", "s3.amazonaws.com", requestParameters={
            "bucketPolicy": '{"Statement":[{"Principal":"*","Effect":"Allow"}]}'})],
        [ev("PutBucketPolicy", "s3.amazonaws.com", requestParameters={
            "bucketPolicy": '{"Statement":[{"Principal":{"AWS":"arn:aws:iam::1:root"}}]}'})]),
    "trailtui-s3-delete-object": (
        [ev("DeleteObject", "s3.amazonaws.com")], [ev("GetObject", "s3.amazonaws.com")]),
    "trailtui-s3-mass-delete": (
        many(50, "DeleteObject", "s3.amazonaws.com", step=1),
        many(49, "DeleteObject", "s3.amazonaws.com", step=1)),
    "trailtui-s3-lifecycle-expire": (
        [ev("PutBucketLifecycle", "s3.amazonaws.com",
            requestParameters={"LifecycleConfiguration": {"Rule": {"Expiration": {"Days": 1}}}})],
        [ev("PutBucketLifecycle", "s3.amazonaws.com",
            requestParameters={"LifecycleConfiguration": {"Rule": {"Transition": {"Days": 30}}}})]),
    "trailtui-s3-encryption-change": (
        [ev("PutBucketEncryption", "s3.amazonaws.com")],
        [ev("GetBucketEncryption", "s3.amazonaws.com")]),
    "trailtui-bedrock-model-access": (
        [ev("PutFoundationModelEntitlement", "bedrock.amazonaws.com")],
        [ev("ListFoundationModels", "bedrock.amazonaws.com")]),
    "trailtui-bedrock-invoke": (
        [ev("InvokeModel", "bedrock.amazonaws.com")],
        [ev("GetFoundationModel", "bedrock.amazonaws.com")]),
    "trailtui-imdsv1-enabled": (
        [ev("ModifyInstanceMetadataOptions", EC2, requestParameters={
            "ModifyInstanceMetadataOptionsRequest": {"HttpTokens": "optional"}})],
        [ev("ModifyInstanceMetadataOptions", EC2, requestParameters={
            "ModifyInstanceMetadataOptionsRequest": {"HttpTokens": "required"}})]),
    "trailtui-mfa-removed": (
        [ev("DeactivateMFADevice", IAM)], [ev("EnableMFADevice", IAM)]),
    "trailtui-s3-batch-delete": (
        [ev("DeleteObjects", "s3.amazonaws.com")], [ev("ListObjects", "s3.amazonaws.com")]),
    "trailtui-s3-sse-c": (
        [ev("PutObject", "s3.amazonaws.com", requestParameters={
            "bucketName": "b", "x-amz-server-side-encryption-customer-algorithm": "AES256"})],
        [ev("PutObject", "s3.amazonaws.com", requestParameters={
            "bucketName": "b", "x-amz-server-side-encryption": "aws:kms"})]),
    "trailtui-s3-policy-aws-principal": (
        [ev("PutBucketPolicy", "s3.amazonaws.com", requestParameters={"bucketPolicy":
            '{"Statement":[{"Principal":{"AWS":"arn:aws:iam::193672423079:root"}}]}'})],
        [ev("PutBucketPolicy", "s3.amazonaws.com", requestParameters={"bucketPolicy":
            '{"Statement":[{"Principal":{"Service":"logging.s3.amazonaws.com"}}]}'})]),
    "trailtui-sagemaker-lifecycle": (
        [ev("UpdateNotebookInstance", "sagemaker.amazonaws.com",
            requestParameters={"lifecycleConfigName": "evil"})],
        [ev("UpdateNotebookInstance", "sagemaker.amazonaws.com",
            requestParameters={"instanceType": "ml.t3.medium"})]),
    "trailtui-ses-read": (
        [ev("GetSendQuota", "ses.amazonaws.com")], [ev("SendEmail", "ses.amazonaws.com")]),
    "trailtui-ses-enumeration": (
        [ev("GetAccountSendingEnabled", "ses.amazonaws.com"),
         ev("GetSendQuota", "ses.amazonaws.com", at=5),
         ev("ListIdentities", "ses.amazonaws.com", at=9)],
        [ev("GetSendQuota", "ses.amazonaws.com"), ev("GetSendQuota", "ses.amazonaws.com", at=5),
         ev("ListIdentities", "ses.amazonaws.com", at=9)]),
    "trailtui-instance-role-read": (
        [ev("DescribeVpcs", EC2, who="AssumedRole", userIdentity=INSTANCE)],
        [ev("RunInstances", EC2, who="AssumedRole", userIdentity=INSTANCE)]),
    "trailtui-instance-role-enumeration": (
        [ev(f"Describe{x}", EC2, at=i, who="AssumedRole", userIdentity=INSTANCE)
         for i, x in enumerate("ABCDEFGHIJ")],
        [ev(f"Describe{x}", EC2, at=i, who="AssumedRole", userIdentity=INSTANCE)
         for i, x in enumerate("ABCDEFGHI")]),
}


def _case_events() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(rule_id, 'pos'|'neg', event): each case side gets its own principal and address."""
    for n, (rule_id, sides) in enumerate(CASES.items()):
        for side, events in zip(("pos", "neg"), sides, strict=True):
            user = f"u{n}{side}"
            for k, rec in enumerate(events):
                rec = {**rec, "eventID": f"{rule_id}:{side}:{k}"}
                ui = {**rec["userIdentity"]}
                ui.setdefault("arn", f"arn:aws:iam::111122223333:user/{user}")
                if ui["type"] == "IAMUser":
                    ui.setdefault("userName", user)
                rec["userIdentity"] = ui
                ip = f"198.51.{n}.{1 if side == 'pos' else 2}"
                rec["sourceIPAddress"] = rec["sourceIPAddress"] or ip
                rp = rec.get("requestParameters")
                if isinstance(rp, dict) and rp.get("userName") == "{self}":
                    rec["requestParameters"] = {**rp, "userName": user}
                yield rule_id, side, rec


@pytest.fixture(scope="module")
def pack_hits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """eventID -> rule ids found on it, over all cases loaded together."""
    folder: Path = tmp_path_factory.mktemp("pack")
    path = write_ndjson([rec for _r, _s, rec in _case_events()], folder / "cases.ndjson")
    with loaded(path) as (store, _report):
        run = run_findings(store.cursor(), load_rules())
        assert not run.problems
        # building blocks silenced by their correlation are not in `findings`: read the hits
        rows = query(store, "SELECT r.rule_id, e.eventID FROM finding_hits h "
                            "JOIN finding_rules r USING (rule_idx) JOIN events e "
                            "ON e._file_id = h._file_id AND e._line = h._line")
        direct = {r.rule_id: r for r in load_rules().rules}
        hits: dict[str, set[str]] = {}
        for row in rows:
            hits.setdefault(row["eventID"], set()).add(row["rule_id"])
        # silent building blocks: evaluate them alone
        cur = store.cursor()
        for rule_id, rule in direct.items():
            for (eid,) in cur.execute(f"SELECT eventID FROM events WHERE {rule.where.text}",
                                      rule.where.params).fetchall():
                hits.setdefault(eid, set()).add(rule_id)
        return hits


def test_every_pack_rule_has_a_case() -> None:
    rs = load_rules()
    assert not rs.problems
    ids = {r.rule_id for r in rs.rules} | {c.rule_id for c in rs.correlations}
    assert ids == set(CASES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_pack_rule_positive_and_negative(rule_id: str, pack_hits: dict[str, set[str]]) -> None:
    pos, neg = CASES[rule_id]
    pos_ids = [f"{rule_id}:pos:{k}" for k in range(len(pos))]
    neg_ids = [f"{rule_id}:neg:{k}" for k in range(len(neg))]
    assert any(rule_id in pack_hits.get(e, set()) for e in pos_ids), f"{rule_id} missed"
    assert not any(rule_id in pack_hits.get(e, set()) for e in neg_ids), f"{rule_id} on negative"


def test_pack_rules_are_tagged_and_leveled() -> None:
    rs = load_rules()
    items: list[Rule | Correlation] = [*rs.rules, *rs.correlations]
    for item in items:
        assert any(t.startswith("attack.") for t in item.tags), item.rule_id
        assert item.level in ("informational", "low", "medium", "high", "critical")
