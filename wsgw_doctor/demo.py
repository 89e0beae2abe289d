"""A live check against a made-up account, for trying the doctor without an AWS account.

The account lives in this process (moto): a deploy role carrying the library's documented
policy, and a runtime role with a typical mistake, ManageConnections granted on another
stage than the one the app posts to. Each role is assumed, and the doctor checks the
session exactly as it checks real credentials: the default credential chain, STS, the role
lookup, the policy simulator (which moto does not have) and the fallback that reads the
role's policies from IAM. It sends no dry-run probes: the made-up account does not enforce
IAM, so every probe would seem allowed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from wsgw_doctor.catalog import Phase, select
from wsgw_doctor.documented import documented_document
from wsgw_doctor.errors import EvaluationError
from wsgw_doctor.inputs import IdOptions
from wsgw_doctor.results import DEFAULT_FAIL_ON, Report, Threshold

REGION = "eu-west-1"
ACCOUNT = "123456789012"
API_ID = "wsgwdemo01"
STAGE = "production"

_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
_RUNTIME_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "PostToClients",
            "Effect": "Allow",
            "Action": "execute-api:ManageConnections",
            "Resource": (
                f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/staging/POST/@connections/*"
            ),
        }
    ],
}


@dataclass(frozen=True)
class DemoRole:
    """One role of the made-up account, and what the doctor is asked about it."""

    name: str
    path: str
    policy_name: str
    policy: dict[str, Any]
    phase: Phase
    summary: str


def roles() -> tuple[DemoRole, ...]:
    """The made-up account's roles: one for deploying, one for the running app."""
    documented = documented_document(REGION, ACCOUNT)
    return (
        DemoRole(
            "wsgw-deployer",
            "/deploy/",
            "DocumentedPolicy",
            documented,
            Phase.DEPLOY,
            "the deploy role, with the library's documented policy",
        ),
        DemoRole(
            "wsgw-web",
            "/app/",
            "Messaging",
            _RUNTIME_POLICY,
            Phase.RUNTIME,
            f"the web process's role, allowed to post to stage 'staging' while the app "
            f"posts to '{STAGE}'",
        ),
    )


def run_demo(fail_on: Threshold = DEFAULT_FAIL_ON) -> list[tuple[DemoRole, Report]]:
    """Build the account, then check each role's session as ``wsgw-doctor check`` would."""
    try:
        from moto import mock_aws
    except ImportError:
        raise EvaluationError(
            "the demo needs moto, which is not installed",
            "pip install 'wsgw-doctor[demo]'",
        ) from None
    from wsgw_doctor.aws.live import live_check

    reports = []
    with _isolated_environment(), mock_aws():
        for role in roles():
            credentials = _assumed(role)
            with _credentials(credentials):
                ids = IdOptions(region=REGION, api_id=API_ID, stage=STAGE)
                features = select((), role.phase)
                report = live_check(features, ids, fail_on=fail_on, probe=False)
                reports.append((role, report))
    return reports


def _assumed(role: DemoRole) -> dict[str, str]:
    import boto3

    iam = boto3.client("iam", region_name=REGION)
    arn = iam.create_role(
        RoleName=role.name, Path=role.path, AssumeRolePolicyDocument=json.dumps(_TRUST)
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=role.name, PolicyName=role.policy_name, PolicyDocument=json.dumps(role.policy)
    )
    sts = boto3.client("sts", region_name=REGION)
    session = sts.assume_role(RoleArn=arn, RoleSessionName="wsgw-doctor-demo")["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": session["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": session["SecretAccessKey"],
        "AWS_SESSION_TOKEN": session["SessionToken"],
    }


@contextmanager
def _isolated_environment() -> Iterator[None]:
    """No real profile, key or endpoint can take part: the demo's account is all there is."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ.update(
        {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
        }
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _credentials(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
