"""Accounts in moto, and the answers moto cannot give, for the live-credentials tests.

moto holds the STS and IAM state (users, roles, groups, managed policies and their
versions). It has no policy simulator, so ``SimulatePrincipalPolicy`` answers come from a
botocore ``Stubber`` or from ``reference_simulator``, which evaluates the same policies with
the doctor's engine and answers in the shape AWS documents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

from wsgw_doctor.aws.session import AwsOptions, Clients, client_config
from wsgw_doctor.engine import Match, PolicySet, Request, evaluate, parse_policy

ACCOUNT = "123456789012"
REGION = "eu-west-1"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)
FAST = AwsOptions(max_attempts=1, connect_timeout=0.5, read_timeout=1.0)


_SESSION: list[boto3.Session] = []


def clients_for(credentials: Mapping[str, str] | None = None, **options: Any) -> Clients:
    """Clients with explicit credentials (a user's key, a role session), as the doctor makes.

    One boto3 session serves every test, since loading the service models is what makes a
    client slow to create; the credentials are given to each client.
    """
    if not _SESSION:
        _SESSION.append(boto3.Session(region_name=REGION))
    keys = credentials or {}
    config = client_config(AwsOptions(**options))
    made = {
        service: _SESSION[0].client(
            service,  # type: ignore[call-overload]
            region_name=REGION,
            aws_access_key_id=keys.get("AccessKeyId", "testing"),
            aws_secret_access_key=keys.get("SecretAccessKey", "testing"),
            aws_session_token=keys.get("SessionToken"),
            config=config,
        )
        for service in ("sts", "iam")
    }
    return Clients(made["sts"], made["iam"], region=REGION)


def policy(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def managed(admin: Any, name: str, *versions: str, default: int = 1, path: str = "/") -> str:
    """A managed policy with several versions, ``default`` (1-based) the default one."""
    arn = str(
        admin.create_policy(PolicyName=name, Path=path, PolicyDocument=versions[0])["Policy"]["Arn"]
    )
    for number, document in enumerate(versions[1:], start=2):
        admin.create_policy_version(
            PolicyArn=arn, PolicyDocument=document, SetAsDefault=number == default
        )
    if default == 1 and len(versions) > 1:
        admin.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    return arn


def assume(admin: Any, role_arn: str, session: str = "deploy-job") -> dict[str, str]:
    """Credentials of a session of ``role_arn``, as a CI job or ``aws sso login`` holds."""
    sts = boto3.client("sts", region_name=REGION)
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
    return {k: str(v) for k, v in credentials.items() if k != "Expiration"}


def user_keys(admin: Any, name: str, path: str = "/") -> dict[str, str]:
    admin.create_user(UserName=name, Path=path)
    key = admin.create_access_key(UserName=name)["AccessKey"]
    return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}


def refuse(client: Any, operation: str, code: str = "AccessDenied", status: int = 403) -> None:
    """Make every ``operation`` on ``client`` fail with ``code``, before it reaches moto."""

    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {
            "Error": {"Code": code, "Message": f"not authorized to perform {operation}"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("https://iam.amazonaws.com/", status, {}, None), parsed

    client.meta.events.register(f"before-call.iam.{operation}", handler)


class RawBody(BytesIO):
    """A response body botocore can stream, for answers sent at the HTTP level."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        contents = self.read()
        while contents:
            yield contents
            contents = self.read()


def http_error(status: int, body: str) -> Callable[..., AWSResponse]:
    """A ``before-send`` handler answering every request with ``status`` and ``body``."""

    def handler(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(
            request.url, status, {"Content-Type": "text/xml"}, RawBody(body.encode())
        )

    return handler


@dataclass
class CallCounter:
    """How many times each operation was called on the clients it watches."""

    counts: dict[str, int]

    def watch(self, client: Any) -> None:
        def count(model: Any, **_: Any) -> None:
            self.counts[model.name] = self.counts.get(model.name, 0) + 1

        client.meta.events.register("before-call.*.*", count)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def reference_simulator(
    policies: PolicySet,
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A stand-in for the IAM policy simulator that decides with the doctor's engine.

    It answers in the documented shape: one ``EvaluationResult`` per action, holding the
    most restrictive decision, and the decision per resource in ``ResourceSpecificResults``.
    Keys the request did not send are unknown to the engine, as they are to the simulator,
    and come back in ``MissingContextValues``.
    """

    def answer(params: Mapping[str, Any]) -> dict[str, Any]:
        context = {
            e["ContextKeyName"].lower(): tuple(e["ContextKeyValues"])
            for e in params.get("ContextEntries", ())
        }
        results = [
            _action_result(policies, a, params["ResourceArns"], context)
            for a in params["ActionNames"]
        ]
        return {"EvaluationResults": results, "IsTruncated": False}

    return answer


_RANK = {"allowed": 0, "implicitDeny": 1, "explicitDeny": 2}


def _action_result(
    policies: PolicySet, action: str, arns: list[str], context: dict[str, tuple[str, ...]]
) -> dict[str, Any]:
    specific = []
    for arn in arns:
        request = Request(action, arn, context)
        decision = evaluate(request, policies)
        result: dict[str, Any] = {
            "EvalResourceName": arn,
            "EvalResourceDecision": decision.decision,
            "MatchedStatements": [_statement(m) for m in decision.matched],
            "MissingContextValues": list(decision.missing_context),
            "EvalDecisionDetails": {},
        }
        if policies.boundary is not None:
            bounded = evaluate(request, PolicySet(identity=(policies.boundary,))).allowed
            result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": bounded}
        specific.append(result)
    worst = max((r["EvalResourceDecision"] for r in specific), key=_RANK.__getitem__)
    return {
        "EvalActionName": action,
        "EvalResourceName": "*",
        "EvalDecision": worst,
        "MatchedStatements": [s for r in specific for s in r["MatchedStatements"]],
        "MissingContextValues": sorted({k for r in specific for k in r["MissingContextValues"]}),
        "ResourceSpecificResults": specific,
    }


def _statement(match: Match) -> dict[str, Any]:
    """How the simulator names a statement: policy type and id, and where it starts."""
    kind, ident = simulator_source(match.source)
    return {
        "SourcePolicyId": ident,
        "SourcePolicyType": kind,
        "StartPosition": {"Line": 3 + 6 * match.index, "Column": 9},
        "EndPosition": {"Line": 8 + 6 * match.index, "Column": 10},
    }


def simulator_source(label: str) -> tuple[str, str]:
    """The simulator's (SourcePolicyType, SourcePolicyId) for a fetched policy's label."""
    if ":inline/" in label:
        owner, _, name = label.partition(":inline/")
        return owner.split("/", 1)[0], name
    managed_name = label.split("/")[-1].split("(")[0]
    return ("aws-managed" if label.startswith("aws:") else "user-managed"), managed_name


def answer_with(client: Any, respond: Callable[[Mapping[str, Any]], dict[str, Any]]) -> None:
    """Answer ``SimulatePrincipalPolicy`` on ``client`` with ``respond(params)``, in any order.

    Each answer is validated against the operation's output shape, as a ``Stubber`` would,
    so that it is one AWS could give.
    """
    output = client.meta.service_model.operation_model("SimulatePrincipalPolicy").output_shape

    def keep(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["wsgw_doctor_test_params"] = dict(params)

    def handler(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = respond(context["wsgw_doctor_test_params"])
        validate_parameters(parsed, output)
        parsed["ResponseMetadata"] = {"HTTPStatusCode": 200}
        return AWSResponse("https://iam.amazonaws.com/", 200, {}, None), parsed

    client.meta.events.register("before-parameter-build.iam.SimulatePrincipalPolicy", keep)
    client.meta.events.register("before-call.iam.SimulatePrincipalPolicy", handler)


DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/deploy/app-deployer"

#: The deployer's policies: what it allows, what it denies and what depends on unknowns.
DEPLOY = policy(
    allow(
        ["apigateway:*", "execute-api:ManageConnections", "route53:*", "acm:DescribeCertificate"]
    ),
    allow(
        "iam:CreateServiceLinkedRole",
        Condition={"StringEquals": {"iam:AWSServiceName": "ops.apigateway.amazonaws.com"}},
    ),
    allow("logs:CreateLogGroup", Condition={"StringEquals": {"aws:SourceVpc": "vpc-0123"}}),
)
GUARDRAILS = policy(
    deny("apigateway:DELETE", "arn:aws:apigateway:*::/apis/*/routes/*"),
    deny(
        "apigateway:POST",
        Condition={"StringEquals": {"apigateway:Request/RouteAuthorizationType": "NONE"}},
    ),
    deny(
        "apigateway:POST",
        "arn:aws:apigateway:*::/apis/*/stages",
        Condition={"Null": {"apigateway:Request/AccessLoggingDestination": "true"}},
    ),
)
PASSING = (
    policy(allow("iam:PassRole")),
    policy(allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/APIGatewayCloudWatchLogs")),
    policy(allow("*")),
)
BOUNDARY = policy(allow(["apigateway:*", "execute-api:*", "iam:*", "acm:*", "logs:*"]))


def deployer(admin: Any) -> PolicySet:
    """The deployer role in moto, and the same policies parsed apart for a reference.

    The managed policy's default version is the second of three, and the boundary leaves
    out Route 53, which the identity policies allow.
    """
    boundary = managed(admin, "DeployBoundary", BOUNDARY)
    passing = managed(admin, "Passing", *PASSING, default=2)
    admin.create_role(
        RoleName="app-deployer",
        Path="/deploy/",
        AssumeRolePolicyDocument=TRUST,
        PermissionsBoundary=boundary,
    )
    for name, document in (("Deploy", DEPLOY), ("Guardrails", GUARDRAILS)):
        admin.put_role_policy(RoleName="app-deployer", PolicyName=name, PolicyDocument=document)
    admin.attach_role_policy(RoleName="app-deployer", PolicyArn=passing)
    return PolicySet(
        identity=(
            parse_policy(DEPLOY, "role/app-deployer:inline/Deploy"),
            parse_policy(GUARDRAILS, "role/app-deployer:inline/Guardrails"),
            parse_policy(PASSING[1], "policy/Passing(v2)"),
        ),
        boundary=parse_policy(BOUNDARY, "policy/DeployBoundary(v1)"),
    )


def iam_state(admin: Any) -> dict[str, Any]:
    """Everything in the account a write could change: entities, policies, attachments.

    ``RoleLastUsed`` is left out: AWS updates it whenever a role's credentials are used,
    which any call made with them does.
    """
    roles = admin.list_roles()["Roles"]
    users = admin.list_users()["Users"]
    groups = admin.list_groups()["Groups"]
    policies = admin.list_policies(Scope="Local")["Policies"]
    return {
        "roles": roles,
        "users": users,
        "groups": groups,
        "policies": policies,
        "versions": {
            p["Arn"]: admin.list_policy_versions(PolicyArn=p["Arn"])["Versions"] for p in policies
        },
        "role details": [
            {
                k: v
                for k, v in admin.get_role(RoleName=r["RoleName"])["Role"].items()
                if k != "RoleLastUsed"
            }
            for r in roles
        ],
        "role policies": [
            (
                admin.list_role_policies(RoleName=r["RoleName"])["PolicyNames"],
                admin.list_attached_role_policies(RoleName=r["RoleName"])["AttachedPolicies"],
            )
            for r in roles
        ],
        "user policies": [
            (
                admin.list_user_policies(UserName=u["UserName"])["PolicyNames"],
                admin.list_attached_user_policies(UserName=u["UserName"])["AttachedPolicies"],
                admin.list_groups_for_user(UserName=u["UserName"])["Groups"],
            )
            for u in users
        ],
    }
