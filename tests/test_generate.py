"""Generated least-privilege policies allow every requirement and nothing the analysis flags.

Every non-empty combination of the catalog's features is tried, once with every id known
and once with none, and random ids are drawn on top; for each, the engine must allow every
requirement with the context the check itself sends, and the breadth analysis must find
nothing broader than needed and nothing dangerous.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsgw_doctor.breadth import BreadthKind, breadth
from wsgw_doctor.catalog import Feature, Ids, Phase, all_features, render, select
from wsgw_doctor.check import Principal, known_context
from wsgw_doctor.engine import Policy as EnginePolicy
from wsgw_doctor.engine import PolicySet, Request, Statement, evaluate, parse_policy_document
from wsgw_doctor.generate import (
    MANAGED_POLICY_LIMIT,
    contains,
    generate,
    least_privilege,
    policy_size,
)

FEATURES = all_features()
COMBINATIONS = [
    combo for n in range(1, len(FEATURES) + 1) for combo in itertools.combinations(FEATURES, n)
]
KNOWN = Ids(
    region="eu-west-1",
    account="123456789012",
    api_id="a1b2c3d4e5",
    stage="production",
    domain="ws.example.com",
    hosted_zone_id="Z0123456789ABC",
    certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/"
    "11111111-2222-3333-4444-555555555555",
    cloudwatch_role="service-role/ApiGatewayLogs",
    log_group="/aws/apigateway/ws",
)
UNKNOWN = Ids()
PRINCIPAL = Principal(kind="policy-files")


def _name(combo: Sequence[Feature]) -> str:
    return "+".join(f.name for f in combo)


def _parsed(documents: Sequence[dict[str, Any]]) -> tuple[EnginePolicy, ...]:
    return tuple(parse_policy_document(d, f"generated-{i}.json") for i, d in enumerate(documents))


def _denied(features: Sequence[Feature], ids: Ids, policies: Sequence[EnginePolicy]) -> list[str]:
    """The requirements the policies do not allow outright, as ``feature operation``."""
    policy_set = PolicySet(identity=tuple(policies))
    denied = []
    for feature in features:
        for requirement in feature.requirements:
            request = known_context(render(feature, requirement, ids), ids, PRINCIPAL)
            decision = evaluate(request, policy_set)
            if not decision.allowed or decision.missing_context:
                denied.append(f"{feature.name} {requirement.operation}")
    return denied


def _assert_least_privilege(features: Sequence[Feature], ids: Ids, unconfirmed: bool) -> None:
    documents = least_privilege(features, ids, include_unconfirmed_conditions=unconfirmed)
    policies = _parsed(documents)

    assert _denied(features, ids, policies) == [], _name(features)
    found = [f.id for f in breadth(policies, features, ids) if f.kind is not BreadthKind.REDUNDANT]
    assert found == [], _name(features)
    assert all(policy_size(d) <= MANAGED_POLICY_LIMIT for d in documents), _name(features)


@pytest.mark.parametrize("ids", [KNOWN, UNKNOWN], ids=["ids-known", "ids-unknown"])
@pytest.mark.parametrize("features", COMBINATIONS, ids=[_name(c) for c in COMBINATIONS])
def test_every_combination_is_allowed_and_not_broader(
    features: tuple[Feature, ...], ids: Ids
) -> None:
    _assert_least_privilege(features, ids, unconfirmed=False)


def test_there_are_255_combinations() -> None:
    assert len(FEATURES) == 8
    assert len(COMBINATIONS) == 255


_REGIONS = st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1"])
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


@st.composite
def _ids(draw: st.DrawFn) -> Ids:
    region = draw(_REGIONS)
    account = draw(st.text("0123456789", min_size=12, max_size=12))
    partition = draw(st.sampled_from(["aws", "aws-cn", "aws-us-gov"]))
    certificate = f"arn:{partition}:acm:{region}:{account}:certificate/" + draw(st.uuids().map(str))
    return Ids(
        partition=partition,
        region=region,
        account=account,
        api_id=draw(st.none() | st.text(_ALNUM, min_size=10, max_size=10)),
        stage=draw(st.none() | st.from_regex(r"[A-Za-z0-9_-]{1,16}", fullmatch=True)),
        domain=draw(
            st.none() | st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){1,3}", fullmatch=True)
        ),
        hosted_zone_id=draw(st.none() | st.from_regex(r"Z[A-Z0-9]{5,20}", fullmatch=True)),
        certificate_arn=draw(st.none() | st.just(certificate)),
        cloudwatch_role=draw(
            st.none() | st.from_regex(r"[A-Za-z0-9+=,.@_-]{1,20}", fullmatch=True)
        ),
        log_group=draw(st.none() | st.from_regex(r"/[A-Za-z0-9_/.-]{1,20}", fullmatch=True)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ids=_ids(),
    features=st.sets(st.sampled_from(FEATURES), min_size=1),
    unconfirmed=st.booleans(),
)
def test_random_ids_are_allowed_and_not_broader(
    ids: Ids, features: set[Feature], unconfirmed: bool
) -> None:
    chosen = tuple(f for f in FEATURES if f in features)

    _assert_least_privilege(chosen, ids, unconfirmed)


def _statements(documents: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for d in documents for s in d["Statement"]]


def _by_sid(documents: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in _statements(documents)}


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_deploy_and_runtime_are_separate_documents() -> None:
    generated = generate(select(["all"]), KNOWN)

    assert [(p.name, p.phase) for p in generated.policies] == [
        ("wsgw-doctor-deploy", Phase.DEPLOY),
        ("wsgw-doctor-runtime", Phase.RUNTIME),
    ]
    runtime = generated.policies[1].document
    assert {a for s in runtime["Statement"] for a in _listed(s["Action"])} == {
        "execute-api:ManageConnections"
    }
    assert all(d["Version"] == "2012-10-17" for d in (p.document for p in generated.policies))


def test_a_phase_keeps_only_its_own_documents() -> None:
    deploy = least_privilege(select(["all"]), KNOWN, Phase.DEPLOY)
    runtime = least_privilege(select(["all"]), KNOWN, Phase.RUNTIME)

    assert "PostToConnections" not in _by_sid(deploy)
    assert list(_by_sid(runtime)) == ["PostToConnections"]


def test_known_ids_are_pinned_and_runtime_ids_are_wildcards() -> None:
    statements = _by_sid(least_privilege(select(["routes", "messaging"]), KNOWN))

    assert statements["PostToConnections"]["Resource"] == (
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/production/POST/@connections/*"
    )
    assert statements["ManageRoutesUpdateDelete"]["Resource"] == [
        "arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5/integrations/*",
        "arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5/routes/*",
    ]
    assert sorted(statements["ManageRoutesUpdateDelete"]["Action"]) == [
        "apigateway:DELETE",
        "apigateway:PATCH",
    ]


def test_unknown_ids_become_wildcards_but_region_and_account_stay() -> None:
    statements = _by_sid(least_privilege(select(["messaging", "certificate"]), UNKNOWN))

    assert statements["PostToConnections"]["Resource"] == (
        "arn:aws:execute-api:us-east-1:123456789012:*/*/POST/@connections/*"
    )
    assert statements["ReadCertificate"]["Resource"] == (
        "arn:aws:acm:us-east-1:123456789012:certificate/*"
    )


def test_a_new_apis_sub_resources_use_a_wildcard_id_even_when_the_api_id_is_known() -> None:
    statements = _by_sid(least_privilege(select(["create-api"]), KNOWN))

    assert statements["CreateApi"]["Resource"] == "arn:aws:apigateway:eu-west-1::/apis"
    assert "arn:aws:apigateway:eu-west-1::/apis/*/routes" in _listed(
        statements["ManageRoutesCreate"]["Resource"]
    )


def test_a_pinned_grant_already_covered_by_a_wildcard_one_is_dropped() -> None:
    resources = [
        r
        for s in _statements(least_privilege(select(["create-api", "routes"]), KNOWN))
        if "apigateway:POST" in _listed(s["Action"])
        for r in _listed(s["Resource"])
    ]

    assert "arn:aws:apigateway:eu-west-1::/apis/*/integrations" in resources
    assert "arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5/integrations" not in resources


def test_statement_ids_are_readable_and_unique() -> None:
    sids = [s["Sid"] for s in _statements(least_privilege(select(["all"]), KNOWN))]

    assert len(sids) == len(set(sids))
    assert all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids)
    expected = {"CreateApi", "ManageRoutesCreate", "DeployStage", "CustomDomain"}
    assert expected | {"PostToConnections", "CreateServiceLinkedRole"} <= set(sids)


def test_documented_conditions_are_written() -> None:
    statements = _by_sid(least_privilege(select(["create-api", "dns"]), KNOWN))

    assert statements["CreateServiceLinkedRole"]["Condition"] == {
        "StringEquals": {"iam:AWSServiceName": "ops.apigateway.amazonaws.com"}
    }
    assert statements["UpsertAliasRecord"]["Condition"] == {
        "ForAllValues:StringEquals": {
            "route53:ChangeResourceRecordSetsActions": "UPSERT",
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": "ws.example.com",
            "route53:ChangeResourceRecordSetsRecordTypes": "A",
        }
    }


def test_a_record_name_condition_is_left_out_when_the_domain_is_unknown() -> None:
    statements = _by_sid(least_privilege(select(["dns"]), UNKNOWN))

    keys = statements["UpsertAliasRecord"]["Condition"]["ForAllValues:StringEquals"]
    assert "route53:ChangeResourceRecordSetsNormalizedRecordNames" not in keys
    assert statements["UpsertAliasRecord"]["Resource"] == "arn:aws:route53:::hostedzone/*"


def test_unconfirmed_conditions_stay_out_by_default_and_are_noted() -> None:
    generated = generate(select(["all"]), KNOWN)

    text = json.dumps([p.document for p in generated.policies])
    assert "apigateway:Request/" not in text
    noted = " ".join(generated.notes)
    for key in ("StageName", "EndpointType", "SecurityPolicy", "AccessLoggingDestination"):
        assert f"apigateway:Request/{key}" in noted, key
    assert "left out" in noted


def test_unconfirmed_conditions_are_written_on_request() -> None:
    generated = generate(select(["all"]), KNOWN, include_unconfirmed_conditions=True)

    statements = _by_sid([p.document for p in generated.policies])
    assert statements["CreateDeployment"]["Condition"] == {
        "StringEquals": {"apigateway:Request/StageName": "production"}
    }
    assert statements["CreateDomainName"]["Condition"] == {
        "ForAllValues:StringEquals": {
            "apigateway:Request/EndpointType": "REGIONAL",
            "apigateway:Request/SecurityPolicy": "TLS_1_2",
        }
    }
    text = json.dumps(statements)
    assert "RouteAuthorizationType" not in text
    assert "ApiKeyRequired" not in text
    assert any("StageName" in n and "written" in n for n in generated.notes)


def test_an_unconfirmed_condition_on_an_unknown_id_is_left_out_with_the_reason() -> None:
    generated = generate(select(["access-logging"]), UNKNOWN, include_unconfirmed_conditions=True)

    assert "Condition" not in _by_sid([p.document for p in generated.policies])["StageAccessLogs"]
    assert any("left out because log_group was not given" in n for n in generated.notes)


def test_the_size_counts_no_white_space() -> None:
    document = least_privilege(select(["all"]), KNOWN)[0]

    assert policy_size(document) == len(re.sub(r"\s", "", json.dumps(document, indent=4)))


def test_documents_are_split_to_fit_the_size_limit() -> None:
    whole = generate(select(["all"]), KNOWN)
    split = generate(select(["all"]), KNOWN, max_size=1200)

    deploy = [p for p in split.policies if p.phase is Phase.DEPLOY]
    assert len(deploy) > 1
    assert [p.name for p in deploy] == [
        f"wsgw-doctor-deploy-{i}" for i in range(1, len(deploy) + 1)
    ]
    assert all(p.size <= 1200 and p.size == policy_size(p.document) for p in split.policies)
    assert _statements([p.document for p in split.policies]) == _statements(
        [p.document for p in whole.policies]
    )


def test_a_statement_too_large_for_one_document_is_split_by_resource() -> None:
    split = generate(select(["sync"]), KNOWN, max_size=300)

    sids = [s["Sid"] for p in split.policies for s in p.document["Statement"]]
    assert "SyncApiRead" in sids
    assert "SyncApiReadPart2" in sids
    assert _denied(select(["sync"]), KNOWN, _parsed([p.document for p in split.policies])) == []


def test_every_feature_together_fits_one_managed_policy_per_phase() -> None:
    generated = generate(select(["all"]), KNOWN)

    assert len(generated.policies) == 2
    assert all(p.size <= MANAGED_POLICY_LIMIT for p in generated.policies)


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("arn:aws:apigateway:*::/apis/*", "arn:aws:apigateway:eu-west-1::/apis/*/routes", True),
        ("arn:aws:apigateway:eu-west-1::/apis/*/routes", "arn:aws:apigateway:*::/apis/*", False),
        ("arn:aws:apigateway:*::/apis/*", "arn:aws:apigateway:*::/apis", False),
        ("*", "arn:aws:iam::123456789012:role/x", True),
        ("arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:role/x", True),
        ("arn:aws:iam::1*:role/x", "arn:aws:iam::*:role/x", False),
        ("arn:aws:s3:::b?", "arn:aws:s3:::b*", False),
        ("arn:aws:s3:::b*", "arn:aws:s3:::b?", True),
        ("arn:aws:s3:::${aws:username}", "arn:aws:s3:::${aws:username}", True),
    ],
)
def test_pattern_containment(outer: str, inner: str, expected: bool) -> None:
    assert contains(outer, inner) is expected, (outer, inner)


_PIECE = st.sampled_from(["*", "?", "a", "b", ":", "/"])


@settings(max_examples=200, deadline=None)
@given(
    outer=st.lists(_PIECE, min_size=1, max_size=6).map("".join),
    inner=st.lists(_PIECE, min_size=1, max_size=6).map("".join),
    fills=st.lists(st.sampled_from(["", "a", "b", "ab", ":", "a:b", "/"]), min_size=6, max_size=6),
)
def test_containment_agrees_with_the_engine(outer: str, inner: str, fills: list[str]) -> None:
    """Whenever ``contains`` says yes, the engine matches an instance of ``inner`` to ``outer``."""
    prefix = "arn:x:"
    if not contains(prefix + outer, prefix + inner):
        return
    instance = prefix + _instantiate(inner, fills)
    if not _engine_matches(prefix + inner, instance):
        return
    assert _engine_matches(prefix + outer, instance), (outer, inner, instance)


def _instantiate(pattern: str, fills: list[str]) -> str:
    out, i = [], 0
    for char in pattern:
        if char in "*?":
            fill = fills[i % len(fills)]
            out.append((fill[:1] or "a") if char == "?" else fill)
            i += 1
        else:
            out.append(char)
    return "".join(out)


def _engine_matches(pattern: str, arn: str) -> bool:
    probe = Statement(0, None, "Allow", ("*",), False, (pattern,), False)
    policies = PolicySet(identity=(EnginePolicy("probe", (probe,)),))
    return evaluate(Request("x:Y", arn, {}), policies).allowed
