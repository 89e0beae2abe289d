"""Probes inside a live check: sent beside the decision, joined to each result, never a write.

moto does not enforce IAM, so every probe it answers looks allowed: a denial the fetched
policies report is then contradicted, which is what these tests need to see the plumbing.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_fakes import ACCOUNT, DEPLOYER, REGION, assume, deployer

from wsgw_doctor.aws.live import live_check
from wsgw_doctor.aws.session import Clients
from wsgw_doctor.catalog import select
from wsgw_doctor.inputs import IdOptions
from wsgw_doctor.probing import ProbeStatus
from wsgw_doctor.report.json import as_dict


def _clients(credentials: dict[str, str]) -> Clients:
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )
    return Clients(session.client("sts"), session.client("iam"), None, REGION, session)


def _api() -> tuple[Any, str]:
    v2 = boto3.client("apigatewayv2", region_name=REGION)
    api = v2.create_api(
        Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    integration = v2.create_integration(
        ApiId=api, IntegrationType="HTTP_PROXY", IntegrationUri="https://example.org/ws"
    )["IntegrationId"]
    v2.create_route(ApiId=api, RouteKey="$connect", Target=f"integrations/{integration}")
    v2.create_stage(ApiId=api, StageName="production")
    return v2, api


def _state(v2: Any, api: str) -> str:
    return json.dumps(
        [
            v2.get_routes(ApiId=api)["Items"],
            v2.get_integrations(ApiId=api)["Items"],
            v2.get_stages(ApiId=api)["Items"],
        ],
        sort_keys=True,
        default=str,
    )


def test_each_result_carries_its_probe_and_nothing_changes(admin: Any) -> None:
    deployer(admin)
    v2, api = _api()
    before = _state(v2, api)
    ids = IdOptions(api_id=api, stage="production")

    report = live_check(select(["routes", "sync"]), ids, clients=_clients(assume(admin, DEPLOYER)))

    assert _state(v2, api) == before
    assert all(r.probe is not None for r in report.results)
    statuses = {r.probe.status for r in report.results if r.probe}
    assert ProbeStatus.CONFIRMED in statuses
    facts = {f.name: f.ok for f in report.facts}
    assert facts["api.exists"] is True
    assert any("CloudTrail" in note for note in report.notes)
    delete = next(r for r in report.results if r.operation == "apigatewayv2.DeleteRoute")
    assert delete.status.value == "denied"
    assert delete.probe is not None
    assert delete.probe.status is ProbeStatus.CONTRADICTED
    contradicted = {f.id for f in report.findings if f.kind.value == "contradicted"}
    assert "CONTRADICTED.routes.DeleteRoute" in contradicted
    document = as_dict(report)
    assert {r["probe"]["status"] for r in document["results"]} <= {s.value for s in ProbeStatus}
    assert document["facts"]


def test_no_probe_sends_none_and_says_why(admin: Any) -> None:
    deployer(admin)
    _, api = _api()
    ids = IdOptions(api_id=api, stage="production")

    report = live_check(
        select(["routes"]), ids, clients=_clients(assume(admin, DEPLOYER)), probe=False
    )

    assert {r.probe.status for r in report.results if r.probe} == {ProbeStatus.NOT_PROBED}
    assert all(r.probe and "--no-probe" in r.probe.reason for r in report.results)
    assert report.facts == ()


def test_another_principal_is_not_probed_with_the_callers_credentials(admin: Any) -> None:
    deployer(admin)
    _, api = _api()
    ids = IdOptions(api_id=api, stage="production", account=ACCOUNT)

    report = live_check(
        select(["messaging"]),
        ids,
        principal_arn=DEPLOYER,
        clients=_clients(assume(admin, DEPLOYER)),
    )

    (result,) = report.results
    assert result.probe is not None
    assert result.probe.status is ProbeStatus.NOT_PROBED
    assert "caller" in result.probe.reason


def test_a_missing_api_is_said_instead_of_permissions_for_nothing(admin: Any) -> None:
    deployer(admin)
    ids = IdOptions(api_id="nosuchapi0", stage="production")

    report = live_check(select(["sync"]), ids, clients=_clients(assume(admin, DEPLOYER)))

    assert {f.name: f.ok for f in report.facts}["api.exists"] is False
    assert "FACT.api.exists" in {f.id for f in report.findings}
    assert report.notes[0].startswith("there is no API nosuchapi0 in eu-west-1")
    probes = {r.probe.status for r in report.results if r.probe}
    assert ProbeStatus.CONFIRMED not in probes
