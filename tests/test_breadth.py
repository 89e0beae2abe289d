"""Breadth findings: the documented policy's known surpluses and gaps, and over-broad policies.

Each expectation about the documented policy is its own test, so a change in the catalog
or the engine points at the one finding it moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from wsgw_doctor.breadth import (
    BreadthFinding,
    BreadthKind,
    breadth,
    documented_broader,
    documented_gaps,
)
from wsgw_doctor.catalog import Feature, Ids, render, select
from wsgw_doctor.check import Principal, known_context
from wsgw_doctor.documented import documented_policy
from wsgw_doctor.engine import Policy, PolicySet, evaluate, parse_policy_document
from wsgw_doctor.results import Severity

IDS = Ids(
    region="eu-west-1",
    account="123456789012",
    api_id="a1b2c3d4e5",
    stage="production",
    domain="ws.example.com",
)
ALL = select(["all"])
DOC = "documented-policy.json#DjangoApiGatewayPolicy01"
PRINCIPAL = Principal(kind="policy-files")
POST_TO_CONNECTIONS = (
    "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/production/POST/@connections/*"
)


def _one(findings: Sequence[BreadthFinding], finding_id: str) -> BreadthFinding:
    matching = [f for f in findings if f.id == finding_id]
    assert len(matching) == 1, [f.id for f in findings]
    return matching[0]


def _allowed(features: Sequence[Feature], ids: Ids, policies: Sequence[Policy]) -> set[str]:
    """``feature operation`` for every requirement the policies allow outright."""
    policy_set = PolicySet(identity=tuple(policies))
    allowed = set()
    for feature in features:
        for requirement in feature.requirements:
            decision = evaluate(
                known_context(render(feature, requirement, ids), ids, PRINCIPAL), policy_set
            )
            if decision.allowed and not decision.missing_context:
                allowed.add(f"{feature.name} {requirement.operation}")
    return allowed


def _policy(statements: list[dict[str, Any]], source: str) -> Policy:
    return parse_policy_document({"Version": "2012-10-17", "Statement": statements}, source)


def _replacement_policy(finding: BreadthFinding) -> Policy:
    assert finding.replacement is not None, finding.id
    return _policy([finding.replacement], "replacement.json")


@pytest.fixture(scope="module")
def documented() -> tuple[BreadthFinding, ...]:
    return documented_broader(ALL, IDS)


# The documented policy: gaps -------------------------------------------------------------


def test_documented_gaps_are_exactly_the_known_ones() -> None:
    gaps = {c.id for c in documented_gaps(ALL, IDS) if not c.granted}

    assert gaps == {
        "DOCUMENTED-GAP.routes.DeleteRoute",
        "DOCUMENTED-GAP.routes.DeleteIntegration",
        "DOCUMENTED-GAP.dns.ChangeResourceRecordSets",
        "DOCUMENTED-GAP.dns.GetChange",
        "DOCUMENTED-GAP.certificate.DescribeCertificate",
        "DOCUMENTED-GAP.access-logging.GetAccount",
        "DOCUMENTED-GAP.access-logging.UpdateAccount",
        "DOCUMENTED-GAP.access-logging.PassRole",
        "DOCUMENTED-GAP.access-logging.CreateLogGroup",
    }


def test_documented_policy_grants_the_stage_patch_for_logging() -> None:
    logging = {c.operation: c for c in documented_gaps(select(["access-logging"]), IDS)}

    assert logging["apigatewayv2.UpdateStage"].granted
    assert logging["apigatewayv2.UpdateStage"].decision == "allowed"


def test_documented_gaps_cover_every_requirement_once() -> None:
    coverage = documented_gaps(ALL, IDS)

    assert len(coverage) == sum(len(f.requirements) for f in ALL)
    assert all(not c.granted for c in coverage if c.action == "apigateway:DELETE")


# The documented policy: breadth ----------------------------------------------------------


def test_documented_findings_are_exactly_the_expected_ids(
    documented: tuple[BreadthFinding, ...],
) -> None:
    assert {f.id for f in documented} == {
        f"BROADER.{DOC}",
        f"DANGEROUS.{DOC}.apigateway-put-apis",
        f"DANGEROUS.{DOC}.invoke-all-apis",
        f"REDUNDANT.{DOC}",
    }


def test_execute_api_star_grants_invoke_and_invalidate_cache_nobody_needs(
    documented: tuple[BreadthFinding, ...],
) -> None:
    broader = _one(documented, f"BROADER.{DOC}")
    execute_api = {a for a in broader.surplus_actions if a.startswith("execute-api:")}

    assert execute_api == {"execute-api:Invoke", "execute-api:InvalidateCache"}


def test_execute_api_reaches_every_api_stage_method_and_path(
    documented: tuple[BreadthFinding, ...],
) -> None:
    pattern = "`arn:aws:execute-api:eu-west-1:123456789012:*/*/*/*`"
    sentences = [s for s in _one(documented, f"BROADER.{DOC}").scope if s.startswith(pattern)]

    assert any("every API, where only API a1b2c3d4e5" in s for s in sentences)
    assert any("every stage, where only stage production" in s for s in sentences)
    assert any("every HTTP method, where only method POST" in s for s in sentences)
    assert any("every path, where only path @connections/*" in s for s in sentences)


def test_invoke_on_every_api_is_dangerous(documented: tuple[BreadthFinding, ...]) -> None:
    finding = _one(documented, f"DANGEROUS.{DOC}.invoke-all-apis")

    assert finding.surplus_actions == ("execute-api:Invoke",)
    assert finding.resources == ("arn:aws:execute-api:eu-west-1:123456789012:*/*/*/*",)
    assert finding.severity is Severity.WARNING


def test_apigateway_put_is_never_needed(documented: tuple[BreadthFinding, ...]) -> None:
    assert "apigateway:PUT" in _one(documented, f"BROADER.{DOC}").surplus_actions


def test_apigateway_put_on_apis_is_dangerous(documented: tuple[BreadthFinding, ...]) -> None:
    finding = _one(documented, f"DANGEROUS.{DOC}.apigateway-put-apis")

    assert finding.resources == ("arn:aws:apigateway:*::/apis", "arn:aws:apigateway:*::/apis/*")
    assert "ImportApi" in finding.message
    assert "ReimportApi" in finding.message


def test_only_the_unused_actions_are_surplus(documented: tuple[BreadthFinding, ...]) -> None:
    assert _one(documented, f"BROADER.{DOC}").surplus_actions == (
        "apigateway:PUT",
        "execute-api:InvalidateCache",
        "execute-api:Invoke",
    )


@pytest.mark.parametrize(
    "pattern", ["arn:aws:apigateway:*::/apis", "arn:aws:apigateway:*::/apis/*"]
)
def test_region_star_on_apis_where_one_region_is_needed(
    documented: tuple[BreadthFinding, ...], pattern: str
) -> None:
    expected = f"`{pattern}` covers any region, where only region eu-west-1 is needed."

    assert expected in _one(documented, f"BROADER.{DOC}").scope


def test_apis_star_reaches_every_api_where_one_is_needed(
    documented: tuple[BreadthFinding, ...],
) -> None:
    expected = "`arn:aws:apigateway:*::/apis/*` covers every API, where only API a1b2c3d4e5"

    assert any(s.startswith(expected) for s in _one(documented, f"BROADER.{DOC}").scope)


def test_apis_star_names_the_resource_types_nobody_uses(
    documented: tuple[BreadthFinding, ...],
) -> None:
    prefix = "`arn:aws:apigateway:*::/apis/*` also covers"
    [sentence] = [s for s in _one(documented, f"BROADER.{DOC}").scope if s.startswith(prefix)]

    for kind in ("Authorizers", "Models", "Cors", "ExportedAPI", "AccessLogSettings"):
        assert kind in sentence, kind
    for needed in ("Routes", "Integrations", "Deployment", "Stage,"):
        assert f" {needed}" not in sentence, needed


def test_api_mappings_reach_every_domain_where_one_is_needed(
    documented: tuple[BreadthFinding, ...],
) -> None:
    expected = (
        "`arn:aws:apigateway:eu-west-1::/domainnames/*/apimappings` covers every custom domain "
        "name, where only domain name ws.example.com is needed."
    )

    assert expected in _one(documented, f"BROADER.{DOC}").scope


@pytest.mark.parametrize(
    "path",
    [
        "/apis/*/authorizers",
        "/apis/*/authorizers/*",
        "/apis/*/models",
        "/apis/*/models/*",
        "/apis/*/routes/*/routeresponses",
        "/apis/*/routes/*/routeresponses/*",
        "/apis/*/integrations/*/integrationresponses",
        "/apis/*/integrations/*/integrationresponses/*",
        "/apis/*/exports/*",
    ],
)
def test_post_on_sub_resources_the_library_never_touches(
    documented: tuple[BreadthFinding, ...], path: str
) -> None:
    broader = _one(documented, f"BROADER.{DOC}")
    pattern = f"arn:aws:apigateway:*::{path}"

    assert pattern in broader.resources
    assert f"`{pattern}` is needed by no selected feature." in broader.scope


def test_needed_sub_resources_are_not_called_unneeded(
    documented: tuple[BreadthFinding, ...],
) -> None:
    unneeded = _one(documented, f"BROADER.{DOC}").resources

    for path in ("/apis/*/routes", "/apis/*/integrations/*", "/apis/*/deployments/*"):
        assert f"arn:aws:apigateway:*::{path}" not in unneeded, path


def test_the_23_apis_sub_entries_are_redundant(documented: tuple[BreadthFinding, ...]) -> None:
    redundant = _one(documented, f"REDUNDANT.{DOC}")

    assert len(redundant.resources) == 23
    assert all(r.startswith("arn:aws:apigateway:*::/apis/*/") for r in redundant.resources)
    assert all(s.endswith("covered by `arn:aws:apigateway:*::/apis/*`.") for s in redundant.scope)
    assert redundant.severity is Severity.INFO


def test_the_replacement_allows_everything_the_original_allowed(
    documented: tuple[BreadthFinding, ...],
) -> None:
    replacement = _replacement_policy(_one(documented, f"BROADER.{DOC}"))
    original = documented_policy(IDS.region, IDS.account)

    before = _allowed(ALL, IDS, [original])
    assert before, "the documented policy should allow something"
    assert before <= _allowed(ALL, IDS, [replacement])


def test_the_replacement_is_itself_neither_broader_nor_dangerous(
    documented: tuple[BreadthFinding, ...],
) -> None:
    replacement = _replacement_policy(_one(documented, f"BROADER.{DOC}"))

    assert breadth([replacement], ALL, IDS) == ()


def test_the_replacement_keeps_the_sid_and_drops_put_and_invoke(
    documented: tuple[BreadthFinding, ...],
) -> None:
    replacement = _one(documented, f"BROADER.{DOC}").replacement

    assert replacement is not None
    assert replacement["Sid"] == "DjangoApiGatewayPolicy01"
    assert "apigateway:PUT" not in replacement["Action"]
    assert "execute-api:*" not in replacement["Action"]
    assert "arn:aws:apigateway:*::/apis/*" not in replacement["Resource"]


def test_for_messaging_alone_everything_but_manage_connections_is_surplus() -> None:
    findings = documented_broader(select(["messaging"]), IDS)
    broader = _one(findings, f"BROADER.{DOC}")

    assert "execute-api:ManageConnections" not in broader.surplus_actions
    assert {"apigateway:GET", "apigateway:POST", "iam:CreateServiceLinkedRole"} <= set(
        broader.surplus_actions
    )
    assert broader.replacement == {
        "Sid": "DjangoApiGatewayPolicy01",
        "Effect": "Allow",
        "Action": "execute-api:ManageConnections",
        "Resource": POST_TO_CONNECTIONS,
    }


def test_without_an_api_id_every_api_is_not_called_too_broad() -> None:
    findings = documented_broader(ALL, Ids(region="eu-west-1", account="123456789012"))

    assert not any("every API" in s for s in _one(findings, f"BROADER.{DOC}").scope)


# Hand-made over-broad policies -----------------------------------------------------------

ADMIN = {"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}
APIGATEWAY_ALL = {
    "Sid": "ApiGatewayAll",
    "Effect": "Allow",
    "Action": "apigateway:*",
    "Resource": "*",
}
DEFAULTS = select()


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (ADMIN, {"BROADER.hand.json#Admin", "DANGEROUS.hand.json#Admin.all-actions"}),
        (
            APIGATEWAY_ALL,
            {
                "BROADER.hand.json#ApiGatewayAll",
                "DANGEROUS.hand.json#ApiGatewayAll.apigateway-put-apis",
            },
        ),
        (
            {"Sid": "Iam", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {
                "BROADER.hand.json#Iam",
                "DANGEROUS.hand.json#Iam.iam-all",
                "DANGEROUS.hand.json#Iam.passrole-any",
            },
        ),
        (
            {"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
            {"BROADER.hand.json#Pass", "DANGEROUS.hand.json#Pass.passrole-any"},
        ),
        (
            {"Sid": "NotAct", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
            {
                "BROADER.hand.json#NotAct",
                "DANGEROUS.hand.json#NotAct.not-action",
                "DANGEROUS.hand.json#NotAct.apigateway-put-apis",
                "DANGEROUS.hand.json#NotAct.invoke-all-apis",
            },
        ),
        (
            {
                "Sid": "NotRes",
                "Effect": "Allow",
                "Action": "execute-api:ManageConnections",
                "NotResource": "arn:aws:execute-api:eu-west-1:123456789012:other/*",
            },
            {"BROADER.hand.json#NotRes", "DANGEROUS.hand.json#NotRes.not-resource"},
        ),
    ],
    ids=[
        "administrator",
        "apigateway-star",
        "iam-star",
        "passrole-star",
        "not-action",
        "not-resource",
    ],
)
def test_over_broad_statements_get_the_findings_a_reviewer_expects(
    statement: dict[str, Any], expected: set[str]
) -> None:
    findings = breadth([_policy([statement], "hand.json")], DEFAULTS, IDS)

    assert {f.id for f in findings} == expected, statement["Sid"]


@pytest.mark.parametrize("statement", [ADMIN, APIGATEWAY_ALL], ids=["administrator", "apigateway"])
def test_over_broad_replacements_allow_what_the_original_did_and_are_clean(
    statement: dict[str, Any],
) -> None:
    original = _policy([statement], "hand.json")
    broader = _one(breadth([original], DEFAULTS, IDS), f"BROADER.hand.json#{statement['Sid']}")
    replacement = _replacement_policy(broader)

    assert _allowed(DEFAULTS, IDS, [original]) <= _allowed(DEFAULTS, IDS, [replacement])
    assert breadth([replacement], DEFAULTS, IDS) == ()


def test_administrator_access_is_broader_in_every_dimension() -> None:
    broader = _one(
        breadth([_policy([ADMIN], "hand.json")], DEFAULTS, IDS), "BROADER.hand.json#Admin"
    )

    assert len(broader.surplus_actions) > 10_000
    for wide in ("any region", "any account", "every API", "every stage", "every HTTP method"):
        assert any(f"`*` covers {wide}," in s for s in broader.scope), wide


def test_apigateway_star_surplus_keeps_only_the_verbs_needed() -> None:
    findings = breadth([_policy([APIGATEWAY_ALL], "hand.json")], DEFAULTS, IDS)
    broader = _one(findings, "BROADER.hand.json#ApiGatewayAll")

    assert "apigateway:PUT" in broader.surplus_actions
    for verb in ("GET", "POST", "PATCH", "DELETE"):
        assert f"apigateway:{verb}" not in broader.surplus_actions, verb


# Ids, kinds and the edges ----------------------------------------------------------------


def test_a_statement_without_a_sid_is_named_by_its_place() -> None:
    statements = [
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    ]
    findings = breadth([_policy(statements, "p.json")], DEFAULTS, IDS)

    assert {f.id for f in findings} == {
        "BROADER.p.json#Statement[1]",
        "DANGEROUS.p.json#Statement[1].all-actions",
    }
    assert {f.statement_index for f in findings} == {1}


def test_a_repeated_sid_falls_back_to_the_place() -> None:
    statement = {"Sid": "Same", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    findings = breadth([_policy([statement, statement], "p.json")], DEFAULTS, IDS)

    assert {f.id for f in findings} == {
        "BROADER.p.json#Statement[0]",
        "BROADER.p.json#Statement[1]",
    }


def test_a_statement_nothing_needs_is_to_be_removed() -> None:
    statement = {"Sid": "S3", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    [finding] = breadth([_policy([statement], "p.json")], DEFAULTS, IDS)

    assert finding.replacement is None
    assert finding.surplus_actions == ("s3:GetObject",)
    assert "remove it" in finding.message


def test_a_least_privilege_statement_has_no_finding() -> None:
    statement = {
        "Sid": "Post",
        "Effect": "Allow",
        "Action": "execute-api:ManageConnections",
        "Resource": POST_TO_CONNECTIONS,
    }

    assert breadth([_policy([statement], "p.json")], select(["messaging"]), IDS) == ()


def test_the_original_conditions_are_kept_in_the_replacement() -> None:
    condition = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    statement = {
        "Sid": "Regional",
        "Effect": "Allow",
        "Action": "execute-api:*",
        "Resource": "*",
        "Condition": condition,
    }
    findings = breadth([_policy([statement], "p.json")], select(["messaging"]), IDS)
    finding = _one(findings, "BROADER.p.json#Regional")

    assert (
        "(under its conditions)"
        in _one(findings, "DANGEROUS.p.json#Regional.invoke-all-apis").message
    )
    assert finding.replacement is not None
    assert finding.replacement["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}
    }


def test_an_action_needed_under_unknown_context_is_not_surplus() -> None:
    statement = {
        "Sid": "Tagged",
        "Effect": "Allow",
        "Action": "execute-api:ManageConnections",
        "Resource": POST_TO_CONNECTIONS,
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "web"}},
    }

    assert breadth([_policy([statement], "p.json")], select(["messaging"]), IDS) == ()


def test_a_redundant_action_is_reported() -> None:
    statement = {
        "Sid": "Twice",
        "Effect": "Allow",
        "Action": ["execute-api:*", "execute-api:ManageConnections"],
        "Resource": POST_TO_CONNECTIONS,
    }
    findings = breadth([_policy([statement], "p.json")], select(["messaging"]), IDS)

    redundant = _one(findings, "REDUNDANT.p.json#Twice")
    assert redundant.surplus_actions == ("execute-api:ManageConnections",)
    assert redundant.resources == ()


def test_deny_statements_are_not_analysed() -> None:
    statement = {"Sid": "No", "Effect": "Deny", "Action": "*", "Resource": "*"}

    assert breadth([_policy([statement], "p.json")], DEFAULTS, IDS) == ()


def test_kinds_have_prefixes_and_suggested_severities() -> None:
    assert {k.prefix: k.severity for k in BreadthKind} == {
        "BROADER": Severity.INFO,
        "DANGEROUS": Severity.WARNING,
        "REDUNDANT": Severity.INFO,
    }


def test_findings_come_in_a_stable_order(documented: tuple[BreadthFinding, ...]) -> None:
    again = documented_broader(ALL, IDS)

    assert [f.id for f in again] == [f.id for f in documented]
    assert [f.kind for f in documented] == sorted(
        (f.kind for f in documented), key=list(BreadthKind).index
    )
