"""The catalog against the library itself: every AWS call it makes, feature by feature.

Each scenario drives django-aws-api-gateway-websockets the way an application or the admin
does, under moto, and records the calls it makes. Every call must be allowed by a
requirement of the feature exercised, and every requirement the catalog says the library
needs must be needed by some call.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from io import StringIO
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.core.management import call_command
from django.test import TestCase, override_settings
from library_harness import ACCOUNT, LIBRARY_SERVICES, REGION, Call, Harness, library_harness

from wsgw_doctor.catalog import (
    RUNTIME_ID_FIELDS,
    Feature,
    Ids,
    Origin,
    Requirement,
    render,
    select,
)
from wsgw_doctor.check import Principal, known_context
from wsgw_doctor.engine import PolicySet, Request, evaluate, parse_policy_document
from wsgw_doctor.generate import least_privilege

GATEWAY_SECRET = "wsgw-doctor-test-gateway-secret-0123456789"

# Connection ids in the form API Gateway gives them.
FIRST_CONNECTION = "L0SM9cOFvHcCIhw="
SECOND_CONNECTION = "L0SNBdGyvHcCGiA="


def after_commit() -> AbstractContextManager[list[Callable[[], None]]]:
    """Run the callbacks that the block registers for the commit, as a commit would."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def saved_route(h: Harness, gateway: Any, route_key: str = "chat") -> Any:
    """An additional route saved on a deployed gateway, so created in AWS, loaded again."""
    route = h.models.ApiGatewayAdditionalRoute(
        api_gateway=gateway,
        name=route_key,
        route_key=route_key,
        integration_url=f"https://www.example.com/ws/{route_key}",
    )
    route.save()
    return h.models.ApiGatewayAdditionalRoute.objects.get(pk=route.pk)


def lobby(h: Harness) -> Any:
    """A deployed gateway with two sessions connected to the channel "lobby"."""
    gateway = h.deployed_gateway()
    for connection_id in (FIRST_CONNECTION, SECOND_CONNECTION):
        h.models.WebSocketSession.objects.create(
            connection_id=connection_id, api_gateway=gateway, channel_name="lobby"
        )
    return gateway


# Scenarios: each sets up what it needs without recording, then records one action.


def create_gateway(h: Harness) -> Any:
    gateway = h.models.ApiGateway(
        api_name="chat", target_base_endpoint="https://www.example.com/ws/"
    )
    with h.recording():
        gateway.create_gateway()
    return gateway


def create_gateway_resumed(h: Harness) -> Any:
    gateway = h.models.ApiGateway(
        api_name="chat", target_base_endpoint="https://www.example.com/ws/"
    )
    routes = f"arn:aws:apigateway:{REGION}::/apis/*/routes"
    with h.recording():
        with h.denying("apigateway:POST", routes), pytest.raises(ClientError):
            gateway.create_gateway()
        gateway.create_gateway()
    return gateway


def create_route(h: Harness) -> Any:
    gateway = h.deployed_gateway()
    with h.recording():
        saved_route(h, gateway)
    return gateway


def create_route_without_push(h: Harness) -> Any:
    gateway = h.deployed_gateway()
    with h.recording(), override_settings(WEBSOCKETS={"push_changes_to_aws": False}):
        saved_route(h, gateway)
    return gateway


def change_route(h: Harness) -> Any:
    gateway = h.deployed_gateway()
    route = saved_route(h, gateway)
    route.route_key = "talk"
    route.integration_url = "https://www.example.com/ws/talk"
    with h.recording(), after_commit():
        route.save()
    return gateway


def delete_route(h: Harness) -> Any:
    gateway = h.deployed_gateway()
    route = saved_route(h, gateway)
    with h.recording(), after_commit():
        route.delete()
    return gateway


def delete_routes_by_queryset(h: Harness) -> Any:
    gateway = h.deployed_gateway()
    saved_route(h, gateway)
    with h.recording(), after_commit():
        h.models.ApiGatewayAdditionalRoute.objects.filter(api_gateway=gateway).delete()
    return gateway


def save_changed_gateway(h: Harness) -> Any:
    gateway = h.deployed_gateway()
    gateway.api_description = "Chat, now with typing indicators"
    gateway.target_base_endpoint = "https://ws-backend.example.com/ws/"
    with h.recording(), after_commit():
        gateway.save()
    return gateway


def sync_to_aws(h: Harness) -> Any:
    gateway = h.deployed_gateway()
    renamed = saved_route(h, gateway)
    renamed.route_key = "talk"
    renamed.integration_url = "https://www.example.com/ws/talk"
    renamed.save(push_to_aws=False)
    h.models.ApiGatewayAdditionalRoute(
        api_gateway=gateway,
        name="typing",
        route_key="typing",
        integration_url="https://www.example.com/ws/typing",
    ).save(push_to_aws=False)
    gateway.api_description = "Chat, as written locally"
    gateway.save(push_to_aws=False)
    with h.recording():
        gateway.sync_to_aws()
    return gateway


def sync_from_aws(h: Harness) -> Any:
    gateway = h.deployed_gateway()
    saved_route(h, gateway)
    with h.recording():
        gateway.sync_from_aws()
    return gateway


def update_integrations_command(h: Harness) -> Any:
    gateway = h.deployed_gateway()
    with h.recording(), override_settings(WEBSOCKETS={"gateway_secret": GATEWAY_SECRET}):
        call_command("updateApiGatewayIntegrations", stdout=StringIO())
    return gateway


def create_custom_domain(h: Harness) -> Any:
    gateway = h.deployed_gateway()
    with h.recording():
        gateway.create_custom_domain()
    return gateway


def send_to_one_session(h: Harness) -> Any:
    gateway = h.deployed_gateway()
    session = h.models.WebSocketSession.objects.create(
        connection_id=FIRST_CONNECTION, api_gateway=gateway
    )
    with h.recording():
        session.send_message({"msg": "hello"})
    return gateway


def broadcast_to_channel(h: Harness) -> Any:
    gateway = lobby(h)
    with h.recording():
        h.models.WebSocketSession.objects.filter(channel_name="lobby").send_message(
            {"msg": "hello, lobby"}
        )
    return gateway


@dataclass(frozen=True)
class Scenario:
    """One thing an application does with the library, and the calls it makes, in order."""

    feature: str
    name: str
    run: Callable[[Harness], Any]
    operations: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.feature}: {self.name}"


def _v2(*names: str) -> tuple[str, ...]:
    return tuple(f"apigatewayv2.{name}" for name in names)


_DEFAULT_ROUTES = ("CreateIntegration", "CreateRoute") * 3

SCENARIOS = (
    Scenario(
        "create-api",
        "create_gateway",
        create_gateway,
        _v2("CreateApi", *_DEFAULT_ROUTES, "CreateStage", "CreateDeployment"),
    ),
    Scenario(
        "create-api",
        "create_gateway again after a denied CreateRoute",
        create_gateway_resumed,
        _v2(
            "CreateApi",
            "CreateIntegration",
            "CreateRoute",
            "GetRoutes",
            *_DEFAULT_ROUTES,
            "CreateStage",
            "CreateDeployment",
        ),
    ),
    Scenario(
        "routes",
        "new route saved",
        create_route,
        _v2("CreateIntegration", "CreateRoute", "CreateDeployment"),
    ),
    Scenario(
        "routes",
        "new route saved with push_changes_to_aws off",
        create_route_without_push,
        _v2("CreateIntegration", "CreateRoute", "CreateDeployment"),
    ),
    Scenario(
        "routes",
        "route URL and key changed",
        change_route,
        _v2("GetRoutes", "UpdateIntegration", "UpdateRoute", "CreateDeployment"),
    ),
    Scenario(
        "routes",
        "route deleted",
        delete_route,
        _v2("GetRoutes", "DeleteRoute", "DeleteIntegration", "CreateDeployment"),
    ),
    Scenario(
        "routes",
        "routes deleted by a queryset",
        delete_routes_by_queryset,
        _v2("GetRoutes", "DeleteRoute", "DeleteIntegration", "CreateDeployment"),
    ),
    Scenario(
        "sync",
        "deployed gateway saved with a new description and endpoint",
        save_changed_gateway,
        _v2(
            "UpdateApi",
            "GetRoutes",
            "GetIntegrations",
            *("UpdateIntegration",) * 3,
            "CreateDeployment",
        ),
    ),
    Scenario(
        "sync",
        "sync_to_aws with local changes",
        sync_to_aws,
        _v2(
            "GetApi",
            "UpdateApi",
            "GetRoutes",
            "GetIntegrations",
            "UpdateIntegration",
            "UpdateRoute",
            "CreateIntegration",
            "CreateRoute",
            "GetStage",
            "GetDeployment",
            "CreateDeployment",
        ),
    ),
    Scenario(
        "sync",
        "sync_from_aws",
        sync_from_aws,
        _v2("GetApi", "GetRoutes", "GetIntegrations", "GetStage", "GetDeployment"),
    ),
    Scenario(
        "sync",
        "updateApiGatewayIntegrations with a new gateway secret",
        update_integrations_command,
        _v2("GetIntegrations", *("UpdateIntegration",) * 3, "CreateDeployment"),
    ),
    Scenario(
        "custom-domain",
        "create_custom_domain",
        create_custom_domain,
        _v2("CreateDomainName", "CreateApiMapping"),
    ),
    Scenario(
        "messaging",
        "send_message to one session",
        send_to_one_session,
        ("apigatewaymanagementapi.PostToConnection",),
    ),
    Scenario(
        "messaging",
        "queryset broadcast to a channel",
        broadcast_to_channel,
        ("apigatewaymanagementapi.PostToConnection",) * 2,
    ),
)

FEATURES = {feature.name: feature for feature in select(["all"])}


@dataclass(frozen=True)
class Recording:
    """What a scenario called, and the ids of the gateway it called them for."""

    calls: tuple[Call, ...]
    ids: Ids


@cache
def recording_of(scenario: Scenario) -> Recording:
    """Run a scenario once in a fresh database and a fresh moto, and keep what it called."""
    with library_harness() as h:
        gateway = scenario.run(h)
        calls = tuple(h.aws.calls)
        ids = Ids(
            region=REGION,
            account=ACCOUNT,
            api_id=gateway.api_id,
            stage=gateway.stage_name,
            domain=gateway.domain_name or None,
        )
    return Recording(calls, ids)


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def resource_pattern(requirement: Requirement, ids: Ids) -> re.Pattern[str]:
    """The requirement's ARN with the known ids filled in and each sub-resource id a segment.

    A ``fresh`` id (the API that create-api makes) is filled with the id the library got
    back, which the recording knows; the catalog can only show a representative one.
    """
    pattern, end = [], 0
    for match in _PLACEHOLDER.finditer(requirement.resource):
        pattern.append(re.escape(requirement.resource[end : match.start()]))
        name = match.group(1)
        pattern.append("[^/]+" if name in RUNTIME_ID_FIELDS else re.escape(ids.value(name)[0]))
        end = match.end()
    pattern.append(re.escape(requirement.resource[end:]))
    return re.compile("".join(pattern))


def allows(requirement: Requirement, call: Call, ids: Ids) -> bool:
    return requirement.action.lower() == call.action.lower() and bool(
        resource_pattern(requirement, ids).fullmatch(call.resource)
    )


def _sent(value: Any) -> tuple[str, ...]:
    """A request parameter as IAM sees it in a condition: strings, booleans in lower case."""
    values = value if isinstance(value, list) else [value]
    return tuple(
        sorted({str(v).lower() if isinstance(v, bool) else str(v) for v in values if v is not None})
    )


def _each(key: str) -> Callable[[Any], tuple[str, ...]]:
    return lambda items: _sent([item.get(key) for item in items or []])


#: Where the value of each request condition key in the catalog is in the call's parameters.
REQUEST_KEYS: dict[str, tuple[str, Callable[[Any], tuple[str, ...]]]] = {
    "apigateway:Request/StageName": ("StageName", _sent),
    "apigateway:Request/RouteAuthorizationType": ("AuthorizationType", _sent),
    "apigateway:Request/ApiKeyRequired": ("ApiKeyRequired", _sent),
    "apigateway:Request/EndpointType": ("DomainNameConfigurations", _each("EndpointType")),
    "apigateway:Request/SecurityPolicy": ("DomainNameConfigurations", _each("SecurityPolicy")),
    "apigateway:Request/AccessLoggingDestination": (
        "AccessLogSettings",
        lambda settings: _sent((settings or {}).get("DestinationArn")),
    ),
    "apigateway:Request/AccessLoggingFormat": (
        "AccessLogSettings",
        lambda settings: _sent((settings or {}).get("Format")),
    ),
}


def context_differences(requirement: Requirement, call: Call, ids: Ids) -> list[str]:
    """Where the request context the catalog declares differs from what the call sent."""
    differences = []
    for key, declared in requirement.context:
        if key not in REQUEST_KEYS:
            differences.append(f"{key}: no known request parameter")
            continue
        parameter, read = REQUEST_KEYS[key]
        expected = tuple(
            sorted(_PLACEHOLDER.sub(lambda m: ids.value(m[1])[0], v) for v in declared)
        )
        sent = read(call.params.get(parameter))
        if sent != expected:
            differences.append(f"{key}: declared {expected}, sent {sent}")
    return differences


SCENARIO_PARAMS = [pytest.param(scenario, id=str(scenario)) for scenario in SCENARIOS]


@pytest.mark.parametrize("scenario", SCENARIO_PARAMS)
def test_library_calls_only_the_services_the_catalog_covers(scenario: Scenario) -> None:
    calls = recording_of(scenario).calls
    others = [str(call) for call in calls if call.service not in LIBRARY_SERVICES]
    assert not others, f"{scenario} called services outside the catalog: {others}"


@pytest.mark.parametrize("scenario", SCENARIO_PARAMS)
def test_every_call_is_allowed_by_the_feature(scenario: Scenario) -> None:
    recording = recording_of(scenario)
    feature = FEATURES[scenario.feature]
    denied = [
        str(call)
        for call in recording.calls
        if not any(allows(r, call, recording.ids) for r in feature.requirements)
    ]
    assert recording.calls, f"{scenario} made no AWS call"
    assert not denied, f"{scenario}: calls no requirement of {feature.name} allows: {denied}"


@pytest.mark.parametrize("scenario", SCENARIO_PARAMS)
def test_every_call_is_allowed_by_the_generated_policy_of_its_feature(scenario: Scenario) -> None:
    recording = recording_of(scenario)
    feature = FEATURES[scenario.feature]
    documents = least_privilege([feature], recording.ids)
    policies = PolicySet(identity=tuple(parse_policy_document(d, "generated") for d in documents))
    principal = Principal(kind="role")
    denied = []
    for call in recording.calls:
        requirement = next(r for r in feature.requirements if allows(r, call, recording.ids))
        context = known_context(
            render(feature, requirement, recording.ids), recording.ids, principal
        )
        request = Request(call.action, call.resource, context.context)
        if evaluate(request, policies).decision != "allowed":
            denied.append(str(call))
    assert not denied, f"{scenario}: the generated policy of {feature.name} denies {denied}"


@pytest.mark.parametrize("scenario", SCENARIO_PARAMS)
def test_declared_request_context_is_what_the_library_sends(scenario: Scenario) -> None:
    recording = recording_of(scenario)
    differences = [
        f"{call.operation}: {difference}"
        for call in recording.calls
        for r in FEATURES[scenario.feature].requirements
        if r.operation == call.operation and allows(r, call, recording.ids)
        for difference in context_differences(r, call, recording.ids)
    ]
    assert not differences, f"{scenario}: {differences}"


@pytest.mark.parametrize("scenario", SCENARIO_PARAMS)
def test_calls_follow_the_library_sequence(scenario: Scenario) -> None:
    operations = tuple(call.operation for call in recording_of(scenario).calls)
    assert operations == scenario.operations, f"{scenario} called {operations}"


@pytest.mark.parametrize(
    "feature",
    [pytest.param(FEATURES[name], id=name) for name in dict.fromkeys(s.feature for s in SCENARIOS)],
)
def test_every_library_requirement_is_needed(feature: Feature) -> None:
    recordings = [recording_of(s) for s in SCENARIOS if s.feature == feature.name]
    unneeded = [
        f"{r.operation}: {r.action} on {r.resource}"
        for r in feature.requirements
        if r.origin is Origin.LIBRARY
        and not any(
            call.operation == r.operation and allows(r, call, recording.ids)
            for recording in recordings
            for call in recording.calls
        )
    ]
    assert not unneeded, f"{feature.name}: no recorded call needs {unneeded}"


def test_every_feature_the_library_calls_for_has_a_scenario() -> None:
    exercised = {s.feature for s in SCENARIOS}
    untested = [
        f.name
        for f in FEATURES.values()
        if any(r.origin is Origin.LIBRARY for r in f.requirements) and f.name not in exercised
    ]
    assert not untested, f"features with library requirements and no scenario: {untested}"


def test_requirements_not_from_the_library_name_operations_it_never_calls() -> None:
    called = {call.operation for s in SCENARIOS for call in recording_of(s).calls}
    wrongly_exempt = [
        f"{f.name}: {r.operation} ({r.origin.value})"
        for f in FEATURES.values()
        for r in f.requirements
        if r.origin is not Origin.LIBRARY and r.operation in called
    ]
    assert not wrongly_exempt, f"the library does call: {wrongly_exempt}"


def test_a_broadcast_logs_a_denied_post_and_carries_on(caplog: pytest.LogCaptureFixture) -> None:
    with library_harness() as h:
        lobby(h)
        first = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*/@connections/{FIRST_CONNECTION}"
        sessions = h.models.WebSocketSession.objects.filter(channel_name="lobby")

        with h.denying("execute-api:ManageConnections", first), caplog.at_level(logging.WARNING):
            sent = sessions.send_message({"msg": "hello, lobby"})

        assert len(sent) == 1
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings == [
            f"Broadcast to connection {FIRST_CONNECTION} failed: ForbiddenException"
        ]
        assert sessions.filter(connected=True).count() == 2


def test_a_single_send_raises_a_denied_post() -> None:
    with library_harness() as h:
        gateway = h.deployed_gateway()
        session = h.models.WebSocketSession.objects.create(
            connection_id=FIRST_CONNECTION, api_gateway=gateway
        )
        every_connection = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*"

        with (
            h.denying("execute-api:ManageConnections", every_connection),
            pytest.raises(ClientError) as denied,
        ):
            session.send_message({"msg": "hello"})

        assert denied.value.response["Error"]["Code"] == "ForbiddenException"
