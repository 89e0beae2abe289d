"""``wsgw-doctor check`` with no policy files checks the credentials it runs with."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_fakes import ACCOUNT, DEPLOYER, REGION, assume, deployer, iam_state
from typer.testing import CliRunner

from wsgw_doctor.cli import EXIT_FINDINGS, EXIT_NOT_EVALUATED, app


def _as(monkeypatch: pytest.MonkeyPatch, credentials: dict[str, str]) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


def test_a_role_session_is_checked_as_its_role_from_the_command_line(
    admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployer(admin)
    _as(monkeypatch, assume(admin, DEPLOYER))
    before = iam_state(admin)

    result = CliRunner().invoke(app, ["check", "--feature", "all", "--format", "json"])

    assert result.exit_code == EXIT_FINDINGS, result.stderr
    report = json.loads(result.stdout)
    assert report["principal"]["arn"] == DEPLOYER
    assert (report["account"], report["region"]) == (ACCOUNT, REGION)
    assert {r["source"] for r in report["results"]} == {"fetched-policies"}
    assert "continuing, degraded" in result.stderr
    assert iam_state(admin) == before


def test_no_credentials_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    result = CliRunner().invoke(app, ["check", "--region", REGION])

    assert result.exit_code == EXIT_NOT_EVALUATED
    assert result.stdout == ""
    first, *rest = result.stderr.splitlines()
    assert first.startswith("wsgw-doctor: error: ")
    assert "credentials" in first.lower()
    assert rest[0].startswith("hint: ")
    assert "Traceback" not in result.stderr


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_permissions_prints_the_doctors_own_policy() -> None:
    result = CliRunner().invoke(app, ["permissions", "--account", ACCOUNT])
    assert result.exit_code == 0
    statements = json.loads(result.stdout)["Statement"]
    actions = {a for s in statements for a in _listed(s["Action"])}
    resources = {r for s in statements for r in _listed(s["Resource"])}
    assert "iam:SimulatePrincipalPolicy" in actions
    iam = {r for r in resources if r.startswith("arn:aws:iam::")}
    assert {r for r in iam if f":{ACCOUNT}:" not in r} == {"arn:aws:iam::aws:policy/*"}
    assert "iam:GetRole" in actions
    assert "route53:GetHostedZone" in actions, "the probes' own reads are listed too"


def test_permissions_rejects_a_bad_account() -> None:
    result = CliRunner().invoke(app, ["permissions", "--account", "42"])
    assert result.exit_code == 2
    assert "--account '42' is not valid" in result.stderr


def test_debug_output_never_shows_the_session_token(
    admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployer(admin)
    credentials = assume(admin, DEPLOYER)
    _as(monkeypatch, credentials)

    result = CliRunner().invoke(app, ["check", "--phase", "runtime", "-vv"])

    assert "Sending http request" in result.stderr
    assert credentials["SessionToken"] not in result.stderr
    assert credentials["AccessKeyId"] not in result.stderr


def test_sentinels_find_broad_grants_when_only_the_simulator_answers(
    admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_fakes import answer_with, clients_for, reference_simulator

    from wsgw_doctor.aws.live import live_check
    from wsgw_doctor.catalog import select
    from wsgw_doctor.engine import PolicySet, parse_policy_document
    from wsgw_doctor.inputs import IdOptions

    admin_like = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    policies = PolicySet(identity=(parse_policy_document(admin_like, "policy/Admin"),))
    deployer(admin)
    clients = clients_for(assume(admin, DEPLOYER))
    answer_with(clients.iam, reference_simulator(policies))

    report = live_check(select(["all"]), IdOptions(), principal_arn=DEPLOYER, clients=clients)

    found = {f.id for f in report.findings if f.kind.value in ("dangerous", "broader-than-needed")}
    assert found == {
        "BROADER.simulation.other-api",
        "BROADER.simulation.other-region",
        "BROADER.simulation.other-api-connections",
        "DANGEROUS.simulation.delete-any-api",
        "DANGEROUS.simulation.import-api",
        "DANGEROUS.simulation.invoke",
        "DANGEROUS.simulation.create-role",
        "DANGEROUS.simulation.pass-any-role",
    }
    assert all("Found by asking" in f.message for f in report.findings if f.id in found)
