"""Every AWS operation a probe may call, why it cannot change anything, and what it needs.

The list is short and reviewed by hand: a probe that calls anything else fails the tests.
Most entries exercise a permission of the checked principal that the catalog already
requires, so granting them to the doctor would hide the very answer a probe looks for. The
few reads the doctor makes for itself are derived into ``probe_permissions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class AllowedCall:
    """One operation probes may call: why it is harmless, and how it is authorized.

    ``own_read`` holds the IAM action and ARN template of a read the doctor makes for its
    own bookkeeping; ``None`` means the call tests a requirement of a checked feature and
    needs only the permission under test.
    """

    why: str
    own_read: tuple[str, str] | None = None


_APIGATEWAY = "arn:{partition}:apigateway:{region}::"
_SERVICE_LINKED_ROLE = (
    "arn:{partition}:iam::{account}:role/aws-service-role/ops.apigateway.amazonaws.com/"
    "AWSServiceRoleForAPIGateway"
)

#: ``(service, operation)`` of every call a probe can make.
PROBE_OPERATIONS: Mapping[tuple[str, str], AllowedCall] = {
    ("apigatewayv2", "GetApi"): AllowedCall("a GET of the API the user named"),
    ("apigatewayv2", "GetRoutes"): AllowedCall(
        "a paged GET; its route ids are what an unused id is proved absent from"
    ),
    ("apigatewayv2", "GetIntegrations"): AllowedCall(
        "a paged GET; its integration ids are what an unused id is proved absent from"
    ),
    ("apigatewayv2", "GetStage"): AllowedCall("a GET of the stage the user named"),
    ("apigatewayv2", "GetStages"): AllowedCall(
        "a paged GET; its stage names are what an unused name is proved absent from",
        ("apigateway:GET", _APIGATEWAY + "/apis/{api_id}/stages"),
    ),
    ("apigatewayv2", "GetDeployment"): AllowedCall(
        "a GET of the deployment the stage already points at"
    ),
    ("apigatewayv2", "GetDomainName"): AllowedCall(
        "a GET of the custom domain the user named",
        ("apigateway:GET", _APIGATEWAY + "/domainnames/{domain}"),
    ),
    ("apigatewayv2", "GetApiMappings"): AllowedCall(
        "a GET of the custom domain's mappings",
        ("apigateway:GET", _APIGATEWAY + "/domainnames/{domain}/apimappings"),
    ),
    ("apigatewayv2", "UpdateRoute"): AllowedCall(
        "a PATCH of a route id just proved absent from the listing: only NotFound can follow"
    ),
    ("apigatewayv2", "UpdateIntegration"): AllowedCall(
        "a PATCH of an integration id just proved absent: only NotFound can follow"
    ),
    ("apigatewayv2", "DeleteRoute"): AllowedCall(
        "a DELETE of a route id just proved absent: there is nothing to delete"
    ),
    ("apigatewayv2", "DeleteIntegration"): AllowedCall(
        "a DELETE of an integration id just proved absent: there is nothing to delete"
    ),
    ("apigatewayv2", "UpdateStage"): AllowedCall(
        "a PATCH of a stage name just proved absent from GetStages: only NotFound can follow"
    ),
    ("apigatewaymanagementapi", "PostToConnection"): AllowedCall(
        "two bytes to a random 16-character connection id that API Gateway never issued: "
        "it answers Gone and delivers nothing"
    ),
    ("apigateway", "GetAccount"): AllowedCall("a GET of the region's account settings"),
    ("acm", "DescribeCertificate"): AllowedCall("a read of the certificate the user named"),
    ("route53", "GetHostedZone"): AllowedCall(
        "a GET of the hosted zone the user named",
        ("route53:GetHostedZone", "arn:{partition}:route53:::hostedzone/{hosted_zone_id}"),
    ),
    ("route53", "ListResourceRecordSets"): AllowedCall(
        "a GET of one page of records, starting at the domain's own name",
        ("route53:ListResourceRecordSets", "arn:{partition}:route53:::hostedzone/{hosted_zone_id}"),
    ),
    ("route53", "GetChange"): AllowedCall(
        "a GET of a change id the doctor made up, which no change has"
    ),
    ("iam", "GetRole"): AllowedCall(
        "a read of API Gateway's service-linked role",
        ("iam:GetRole", _SERVICE_LINKED_ROLE),
    ),
}

#: Operation name prefixes that create, overwrite or label something; none may be listed.
WRITING_PREFIXES = ("Create", "Put", "Import", "Reimport", "Tag", "Untag")

#: Writes that no probe argument can make harmless.
NEVER_CALLED = frozenset(
    {
        ("apigatewayv2", "UpdateApi"),
        ("apigateway", "UpdateAccount"),
        ("route53", "ChangeResourceRecordSets"),
        ("iam", "CreateServiceLinkedRole"),
    }
)


def probe_permissions(
    *,
    partition: str = "aws",
    region: str | None = None,
    account: str | None = None,
    api_id: str | None = None,
    domain: str | None = None,
    hosted_zone_id: str | None = None,
) -> list[dict[str, object]]:
    """The statements the doctor needs for its own probe reads; ``None`` ids become ``*``.

    Only the reads no feature requires are here. The other probes exercise the checked
    principal's own permissions, and granting those to the doctor would make every probe
    of them pass.
    """
    values = {
        "partition": partition,
        "region": region or "*",
        "account": account or "*",
        "api_id": api_id or "*",
        "domain": domain or "*",
        "hosted_zone_id": hosted_zone_id or "*",
    }
    by_action: dict[str, list[str]] = {}
    for allowed in PROBE_OPERATIONS.values():
        if allowed.own_read is not None:
            action, template = allowed.own_read
            by_action.setdefault(action, []).append(template.format(**values))
    return [_statement(action, resources) for action, resources in sorted(by_action.items())]


def _statement(action: str, resources: list[str]) -> dict[str, object]:
    service, name = action.split(":", 1)
    sid = f"Probe{service.capitalize()}{name}"
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": [action],
        "Resource": sorted(dict.fromkeys(resources)),
    }
