"""The simulator is asked in few calls, and everything it answers is read back exactly."""

from __future__ import annotations

from typing import Any

import pytest
from aws_fakes import (
    ACCOUNT,
    REGION,
    TRUST,
    answer_with,
    clients_for,
    http_error,
    policy,
    reference_simulator,
)
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from wsgw_doctor.aws.simulate import (
    SimulationDecider,
    SimulationUnavailable,
    context_entry,
    plan_calls,
)
from wsgw_doctor.catalog import Ids, all_features, render
from wsgw_doctor.check import Principal, known_context
from wsgw_doctor.engine import Match, PolicySet, Request, parse_policy
from wsgw_doctor.errors import EvaluationError, InputError

ROLE = f"arn:aws:iam::{ACCOUNT}:role/deploy/app-deployer"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/DeployBoundary"
API = f"arn:aws:apigateway:{REGION}::/apis/a1b2c3d4e5"
CONNECTION = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:a1b2c3d4e5/production/POST/@connections/x="
BASE = {
    "aws:requestedregion": (REGION,),
    "aws:securetransport": ("true",),
    "aws:principalaccount": (ACCOUNT,),
    "aws:principalarn": (ROLE,),
}
BASE_ENTRIES = [
    {
        "ContextKeyName": "aws:PrincipalAccount",
        "ContextKeyValues": [ACCOUNT],
        "ContextKeyType": "string",
    },
    {"ContextKeyName": "aws:PrincipalArn", "ContextKeyValues": [ROLE], "ContextKeyType": "string"},
    {
        "ContextKeyName": "aws:RequestedRegion",
        "ContextKeyValues": [REGION],
        "ContextKeyType": "string",
    },
    {
        "ContextKeyName": "aws:SecureTransport",
        "ContextKeyValues": ["true"],
        "ContextKeyType": "boolean",
    },
]


def _request(
    action: str, resource: str, extra: dict[str, tuple[str, ...]] | None = None
) -> Request:
    return Request(action, resource, {**BASE, **(extra or {})})


def _result(action: str, *per_resource: dict[str, Any], **top: Any) -> dict[str, Any]:
    worst = next(
        (
            d
            for d in ("explicitDeny", "implicitDeny")
            if any(r["EvalResourceDecision"] == d for r in per_resource)
        ),
        "allowed",
    )
    return {
        "EvalActionName": action,
        "EvalResourceName": "*",
        "EvalDecision": worst,
        "ResourceSpecificResults": list(per_resource),
        **top,
    }


def _on(resource: str, decision: str = "allowed", **extra: Any) -> dict[str, Any]:
    return {"EvalResourceName": resource, "EvalResourceDecision": decision, **extra}


def _decider(stub_client: Any, **options: Any) -> SimulationDecider:
    return SimulationDecider(stub_client, ROLE, concurrency=1, **options)


def test_requests_with_one_context_share_a_call_and_send_exactly_that_context() -> None:
    requests = [
        _request("apigateway:GET", f"{API}/routes"),
        _request(
            "apigateway:POST",
            f"{API}/deployments",
            {"apigateway:request/stagename": ("production",)},
        ),
        _request("execute-api:ManageConnections", CONNECTION),
        _request(
            "apigateway:POST", f"{API}/stages", {"apigateway:request/accessloggingdestination": ()}
        ),
    ]
    iam = clients_for().iam
    stub = Stubber(iam)
    stub.add_response(
        "simulate_principal_policy",
        {
            "EvaluationResults": [_result("apigateway:POST", _on(f"{API}/deployments"))],
            "IsTruncated": False,
        },
        {
            "PolicySourceArn": ROLE,
            "ActionNames": ["apigateway:POST"],
            "ResourceArns": [f"{API}/deployments"],
            "ContextEntries": [
                {
                    "ContextKeyName": "apigateway:Request/StageName",
                    "ContextKeyValues": ["production"],
                    "ContextKeyType": "string",
                },
                *BASE_ENTRIES,
            ],
        },
    )
    stub.add_response(
        "simulate_principal_policy",
        {
            "EvaluationResults": [
                _result(
                    "apigateway:GET", _on(f"{API}/routes"), _on(f"{API}/stages"), _on(CONNECTION)
                ),
                _result(
                    "apigateway:POST", _on(f"{API}/routes"), _on(f"{API}/stages"), _on(CONNECTION)
                ),
                _result(
                    "execute-api:ManageConnections",
                    _on(f"{API}/routes"),
                    _on(f"{API}/stages"),
                    _on(CONNECTION),
                ),
            ],
            "IsTruncated": False,
        },
        {
            "PolicySourceArn": ROLE,
            "ActionNames": ["apigateway:GET", "apigateway:POST", "execute-api:ManageConnections"],
            "ResourceArns": [f"{API}/routes", f"{API}/stages", CONNECTION],
            "ContextEntries": BASE_ENTRIES,
        },
    )

    with stub:
        verdicts = _decider(iam).decide(requests)

    stub.assert_no_pending_responses()
    assert [v.decision.decision if v.decision else v.error for v in verdicts] == ["allowed"] * 4
    assert {v.source for v in verdicts} == {"simulation"}


def _catalog_requests(region: str = REGION) -> list[Request]:
    ids = Ids(region=region, account=ACCOUNT)
    principal = Principal("role", ROLE)
    return [
        known_context(render(f, r, ids), ids, principal)
        for f in all_features()
        for r in f.requirements
    ]


def test_the_whole_catalog_takes_seven_calls_and_eight_without_merging() -> None:
    requests = _catalog_requests()

    merged, separate = plan_calls(requests), plan_calls(requests, merge=False)

    assert (len(requests), len(merged), len(separate)) == (38, 7, 8)
    assert sorted(i for call in merged for i in call.members) == list(range(38))
    shared = next(c for c in merged if "iam:CreateServiceLinkedRole" in c.actions)
    assert shared.actions == ("iam:CreateServiceLinkedRole", "route53:ChangeResourceRecordSets")


def test_contexts_merge_only_where_no_action_can_see_the_others_keys() -> None:
    zone = "arn:aws:route53:::hostedzone/Z1"
    role = f"arn:aws:iam::{ACCOUNT}:role/x"
    east = {"aws:requestedregion": ("us-east-1",)}
    requests = [
        Request(
            "route53:ChangeResourceRecordSets",
            zone,
            {**east, "route53:changeresourcerecordsetsactions": ("UPSERT",)},
        ),
        Request(
            "iam:CreateServiceLinkedRole",
            role,
            {**east, "iam:awsservicename": ("ops.apigateway.amazonaws.com",)},
        ),
        Request("iam:PassRole", role, east),
        Request(
            "route53:GetChange",
            "arn:aws:route53:::change/C1",
            {"aws:requestedregion": ("eu-west-1",)},
        ),
    ]

    calls = {i: c for c in plan_calls(requests) for i in c.members}

    assert len(set(calls.values())) == 3
    assert calls[3].members == (3,), "another aws:RequestedRegion never merges"
    assert calls[1] is not calls[2], "iam:AWSServiceName could change an iam:PassRole decision"
    assert calls[0] in (calls[1], calls[2]), "route53 keys cannot change an IAM decision"


_ACTIONS = (
    "apigateway:POST",
    "apigateway:GET",
    "iam:PassRole",
    "route53:GetChange",
    "acm:DescribeCertificate",
)
_KEYS = (
    "aws:requestedregion",
    "apigateway:request/stagename",
    "apigateway:request/accessloggingdestination",
    "iam:awsservicename",
    "route53:changeresourcerecordsetsactions",
)
_requests = st.lists(
    st.builds(
        Request,
        st.sampled_from(_ACTIONS),
        st.sampled_from(("arn:aws:x:::a", "arn:aws:x:::b")),
        st.dictionaries(st.sampled_from(_KEYS), st.sampled_from(((), ("one",), ("two",)))),
    ),
    max_size=12,
)


@given(_requests)
def test_every_request_is_asked_once_in_its_own_context_or_one_it_cannot_tell_apart(
    requests: list[Request],
) -> None:
    calls = plan_calls(requests)

    assert sorted(i for c in calls for i in c.members) == list(range(len(requests)))
    for call in calls:
        sent = dict(call.context)
        for request in (requests[i] for i in call.members):
            own = {k: v for k, v in request.context.items() if v}
            service = request.action.split(":")[0]
            assert all(sent.get(k) == v for k, v in own.items())
            assert all(k.split(":")[0] not in ("aws", service) for k in sent.keys() - own.keys())
            assert (request.action in call.actions, request.resource in call.resources) == (
                True,
                True,
            )


@pytest.mark.parametrize(
    ("key", "values", "entry"),
    [
        ("aws:securetransport", ("true",), ("aws:SecureTransport", "boolean")),
        ("iam:awsservicename", ("ops.apigateway.amazonaws.com",), ("iam:AWSServiceName", "string")),
        (
            "route53:changeresourcerecordsetsactions",
            ("UPSERT",),
            ("route53:ChangeResourceRecordSetsActions", "stringList"),
        ),
        (
            "apigateway:request/apikeyrequired",
            ("false",),
            ("apigateway:Request/ApiKeyRequired", "booleanList"),
        ),
        (
            "apigateway:request/stagename",
            ("production",),
            ("apigateway:Request/StageName", "string"),
        ),
        ("aws:sourcevpc", ("vpc-1", "vpc-2"), ("aws:sourcevpc", "stringList")),
    ],
)
def test_context_entries_carry_the_aws_spelling_and_type(
    key: str, values: tuple[str, ...], entry: tuple[str, str]
) -> None:
    assert context_entry(key, values) == {
        "ContextKeyName": entry[0],
        "ContextKeyValues": list(values),
        "ContextKeyType": entry[1],
    }


def _answer(*results: dict[str, Any], boundary: str | None = None) -> list[Any]:
    iam = clients_for().iam
    stub = Stubber(iam)
    stub.add_response(
        "simulate_principal_policy", {"EvaluationResults": list(results), "IsTruncated": False}
    )
    requests = [
        _request(
            r["EvalActionName"],
            s["EvalResourceName"],
            {"apigateway:request/accessloggingformat": ()},
        )
        for r in results
        for s in r.get("ResourceSpecificResults", ())
    ]
    with stub:
        return _decider(iam, boundary_arn=boundary).decide(requests)


def _statement(kind: str, ident: str, line: int, column: int) -> dict[str, Any]:
    return {
        "SourcePolicyId": ident,
        "SourcePolicyType": kind,
        "StartPosition": {"Line": line, "Column": column},
        "EndPosition": {"Line": line + 5, "Column": 6},
    }


def test_matched_statements_name_the_policy_and_where_the_statement_starts() -> None:
    (verdict,) = _answer(
        _result(
            "apigateway:GET",
            _on(f"{API}/routes", MatchedStatements=[_statement("user-managed", "Deploy", 4, 9)]),
        )
    )

    assert verdict.decision.matched == (Match("policy/Deploy:4:9", -1, None, "Allow", "identity"),)
    assert verdict.decision.denied_by is None


def test_an_explicit_deny_names_its_statement_and_level() -> None:
    own, bounded = _answer(
        _result(
            "apigateway:DELETE",
            _on(
                f"{API}/routes/r1",
                "explicitDeny",
                MatchedStatements=[_statement("role", "NoDelete", 12, 5)],
            ),
            _on(
                f"{API}/integrations/i1",
                "explicitDeny",
                MatchedStatements=[_statement("user-managed", "DeployBoundary", 3, 17)],
                PermissionsBoundaryDecisionDetail={"AllowedByPermissionsBoundary": False},
            ),
        ),
        boundary=BOUNDARY,
    )

    assert own.decision.matched == (
        Match("role/app-deployer:inline/NoDelete:12:5", -1, None, "Deny", "identity"),
    )
    assert own.decision.denied_by == "identity"
    assert bounded.decision.matched[0].level == "boundary"
    assert bounded.decision.denied_by == "boundary"


def test_boundary_and_organizations_details_say_who_refused() -> None:
    boundary, organizations, identity = _answer(
        _result(
            "logs:CreateLogGroup",
            _on(
                "arn:aws:logs:eu-west-1:1:log-group:a",
                "implicitDeny",
                PermissionsBoundaryDecisionDetail={"AllowedByPermissionsBoundary": False},
            ),
        ),
        _result(
            "acm:DescribeCertificate",
            _on("arn:aws:acm:eu-west-1:1:certificate/c", "implicitDeny"),
            OrganizationsDecisionDetail={"AllowedByOrganizations": False},
        ),
        _result(
            "route53:GetChange",
            _on(
                "arn:aws:route53:::change/C1",
                "implicitDeny",
                PermissionsBoundaryDecisionDetail={"AllowedByPermissionsBoundary": True},
            ),
            OrganizationsDecisionDetail={"AllowedByOrganizations": True},
        ),
    )

    assert boundary.decision.denied_by == "boundary"
    assert organizations.decision.denied_by == "scp:organizations"
    assert identity.decision.denied_by == "identity"
    assert identity.decision.matched == ()


def test_a_deny_without_a_statement_shown_is_a_service_control_policys() -> None:
    (verdict,) = _answer(
        _result(
            "apigateway:PATCH",
            _on(f"{API}/stages/production", "explicitDeny"),
            OrganizationsDecisionDetail={"AllowedByOrganizations": False},
        )
    )

    assert verdict.decision.decision == "explicitDeny"
    assert verdict.decision.denied_by == "scp:organizations"


def test_missing_context_leaves_out_the_keys_known_to_be_absent() -> None:
    (verdict,) = _answer(
        _result(
            "apigateway:POST",
            _on(
                f"{API}/stages",
                "implicitDeny",
                MissingContextValues=[
                    "apigateway:Request/AccessLoggingFormat",
                    "aws:SourceVpc",
                    "aws:sourcevpc",
                ],
            ),
        )
    )

    assert verdict.decision.missing_context == ("aws:SourceVpc",)


def test_truncated_answers_are_paged_with_the_marker() -> None:
    requests = [
        _request("apigateway:GET", f"{API}/routes"),
        _request("apigateway:PATCH", f"{API}/routes"),
    ]
    params = {
        "PolicySourceArn": ROLE,
        "ActionNames": ["apigateway:GET", "apigateway:PATCH"],
        "ResourceArns": [f"{API}/routes"],
        "ContextEntries": BASE_ENTRIES,
    }
    iam = clients_for().iam
    stub = Stubber(iam)
    first = _result("apigateway:GET", _on(f"{API}/routes"))
    second = _result("apigateway:PATCH", _on(f"{API}/routes", "implicitDeny"))
    stub.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [first], "IsTruncated": True, "Marker": "page-2"},
        params,
    )
    stub.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [second], "IsTruncated": False},
        {**params, "Marker": "page-2"},
    )

    with stub:
        verdicts = _decider(iam).decide(requests)

    stub.assert_no_pending_responses()
    assert [v.decision.decision for v in verdicts] == ["allowed", "implicitDeny"]


def test_an_answer_per_resource_in_the_older_shape_is_read_too() -> None:
    iam = clients_for().iam
    stub = Stubber(iam)
    older = [
        {
            "EvalActionName": "apigateway:GET",
            "EvalResourceName": f"{API}/routes",
            "EvalDecision": "allowed",
        },
        {
            "EvalActionName": "apigateway:GET",
            "EvalResourceName": f"{API}/stages",
            "EvalDecision": "implicitDeny",
        },
    ]
    stub.add_response(
        "simulate_principal_policy", {"EvaluationResults": older, "IsTruncated": False}
    )
    requests = [
        _request("apigateway:GET", f"{API}/routes"),
        _request("apigateway:GET", f"{API}/stages"),
    ]

    with stub:
        verdicts = _decider(iam).decide(requests)

    assert [v.decision.decision for v in verdicts] == ["allowed", "implicitDeny"]


def test_a_resource_without_an_answer_is_an_error_not_a_pass() -> None:
    iam = clients_for().iam
    stub = Stubber(iam)
    result = _result("apigateway:GET", _on(f"{API}/routes", "implicitDeny"))
    stub.add_response(
        "simulate_principal_policy", {"EvaluationResults": [result], "IsTruncated": False}
    )
    requests = [
        _request("apigateway:GET", f"{API}/routes"),
        _request("apigateway:GET", f"{API}/stages"),
    ]

    with stub:
        verdicts = _decider(iam).decide(requests)

    assert verdicts[1].decision is None
    assert (
        verdicts[1].error == f"the simulator returned no result for apigateway:GET on {API}/stages"
    )


def test_an_overall_allow_speaks_for_every_resource() -> None:
    iam = clients_for().iam
    stub = Stubber(iam)
    result = {
        "EvalActionName": "apigateway:GET",
        "EvalResourceName": "*",
        "EvalDecision": "allowed",
        "ResourceSpecificResults": [],
    }
    stub.add_response(
        "simulate_principal_policy", {"EvaluationResults": [result], "IsTruncated": False}
    )

    with stub:
        (verdict,) = _decider(iam).decide([_request("apigateway:GET", f"{API}/routes")])

    assert verdict.decision.decision == "allowed"


REFUSALS = {
    "denied": (
        "AccessDenied",
        403,
        SimulationUnavailable,
        f"iam:SimulatePrincipalPolicy on {ROLE} was denied",
    ),
    "bad input": ("InvalidInput", 400, SimulationUnavailable, "it refused the request: nope"),
    "server error": (
        "ServiceFailure",
        500,
        SimulationUnavailable,
        "the endpoint answered ServiceFailure",
    ),
    "no such principal": ("NoSuchEntity", 404, InputError, f"the principal {ROLE} does not exist"),
    "expired": ("ExpiredToken", 403, EvaluationError, "the AWS credentials have expired"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_refusals_say_whether_another_way_may_work(case: str) -> None:
    code, status, kind, message = REFUSALS[case]
    iam = clients_for().iam
    stub = Stubber(iam)
    stub.add_client_error("simulate_principal_policy", code, "nope", http_status_code=status)

    with stub, pytest.raises(kind) as raised:
        _decider(iam).decide([_request("apigateway:GET", f"{API}/routes")])

    assert message in raised.value.message, case
    assert isinstance(raised.value, SimulationUnavailable) == (kind is SimulationUnavailable), case


THROTTLED = (
    '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
    "<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId>"
    "</ErrorResponse>"
)


def test_throttling_is_retried_and_then_gives_up_on_the_simulator() -> None:
    iam = clients_for(max_attempts=2).iam
    sent: list[str] = []
    iam.meta.events.register(
        "before-send.iam.SimulatePrincipalPolicy", lambda request, **_: sent.append(request.url)
    )
    iam.meta.events.register("before-send.iam.SimulatePrincipalPolicy", http_error(400, THROTTLED))

    with pytest.raises(SimulationUnavailable) as raised:
        _decider(iam).decide([_request("apigateway:GET", f"{API}/routes")])

    assert raised.value.reason == "AWS kept throttling it after the retries"
    assert len(sent) == 2


def test_moto_in_process_has_no_simulator(admin: Any) -> None:
    admin.create_role(RoleName="app-deployer", Path="/deploy/", AssumeRolePolicyDocument=TRUST)

    with pytest.raises(SimulationUnavailable, match="does not implement SimulatePrincipalPolicy"):
        _decider(clients_for().iam).decide([_request("apigateway:GET", f"{API}/routes")])


def test_moto_server_answers_with_an_html_page_for_the_simulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("flask")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        iam = clients_for().iam
        with pytest.raises(SimulationUnavailable, match="is not an AWS response"):
            _decider(iam).decide([_request("apigateway:GET", f"{API}/routes")])
    finally:
        server.stop()


POLICIES = PolicySet(
    identity=(
        parse_policy(
            policy(
                {
                    "Effect": "Allow",
                    "Action": ["apigateway:*", "execute-api:*", "iam:PassRole"],
                    "Resource": "*",
                },
                {"Effect": "Deny", "Action": "apigateway:DELETE", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "apigateway:POST",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"apigateway:Request/RouteAuthorizationType": "NONE"}
                    },
                },
            ),
            "role/app-deployer:inline/Deploy",
        ),
    )
)


def test_concurrent_and_merged_calls_decide_as_one_call_per_context() -> None:
    requests = _catalog_requests()
    outcomes = []
    for concurrency, merge in ((1, False), (8, True)):
        iam = clients_for().iam
        answer_with(iam, reference_simulator(POLICIES))
        decider = SimulationDecider(iam, ROLE, concurrency=concurrency, merge=merge)
        outcomes.append([v.decision for v in decider.decide(requests)])

    assert outcomes[0] == outcomes[1]
    assert {d.decision for d in outcomes[0] if d} == {"allowed", "implicitDeny", "explicitDeny"}
