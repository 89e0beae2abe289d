"""Beyond missing: the documented policy next to each requirement, and what is granted too widely.

Missing permissions break a deployment; surplus ones are a risk. This module turns the
breadth analysis into findings, judges the library's documented policy (or a team's own
reference) requirement by requirement, and, when the policies themselves cannot be read,
asks the simulator about a few sentinel requests that no feature needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wsgw_doctor.catalog import Feature, Ids
from wsgw_doctor.engine import Match, Policy, PolicySet, Request, evaluate
from wsgw_doctor.probing import Fact, ProbeStatus
from wsgw_doctor.results import Finding, Kind, Result

#: How the checked policies are compared; all of it is optional.


@dataclass(frozen=True)
class Comparison:
    """What to compare the checked principal with, beyond its own requirements.

    ``reference`` is the policy the ``documented`` column is about (the library's
    documented policy unless a team names its own); ``readable`` are the policies whose
    statements are judged for breadth; ``sentinels`` asks the decider about requests no
    feature needs, for when the policies cannot be read.
    """

    reference: Policy | None = None
    readable: tuple[Policy, ...] = ()
    sentinels: bool = False
    ignore: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Sentinel:
    """A request outside every feature's needs; being allowed it shows a broader grant."""

    name: str
    kind: Kind
    action: str
    resource: str
    meaning: str
    region: str | None = None


def reference_grants(requests: Sequence[Request], reference: Policy) -> list[bool]:
    """For each request, whether the reference policy grants it beyond doubt."""
    policies = PolicySet(identity=(reference,))
    granted = []
    for request in requests:
        decision = evaluate(request, policies)
        granted.append(decision.decision == "allowed" and not decision.missing_context)
    return granted


def breadth_findings(
    policies: Iterable[Policy], features: Sequence[Feature], ids: Ids, documented: bool = False
) -> tuple[Finding, ...]:
    """The breadth analysis of ``policies`` as findings; for the reference, as its own kind."""
    from wsgw_doctor.breadth import breadth

    found = []
    for item in breadth(tuple(policies), features, ids):
        kind = Kind.DOCUMENTED_BROADER if documented else Kind(item.kind.value)
        ident = f"{Kind.DOCUMENTED_BROADER.prefix}.{item.id}" if documented else item.id
        found.append(
            Finding(
                id=ident,
                kind=kind,
                severity=kind.severity,
                feature=None,
                action=", ".join(item.surplus_actions[:20]) or None,
                resource=", ".join(item.resources[:20]) or None,
                message=_with_fix(item.message, item.scope, item.replacement),
                statement=Match(item.source, item.statement_index, item.sid, "Allow", "identity"),
            )
        )
    return tuple(found)


def _with_fix(message: str, scope: Sequence[str], replacement: object) -> str:
    parts = [message, *scope]
    if replacement is not None:
        parts.append("Fix: replace it with " + json.dumps(replacement, sort_keys=False))
    return " ".join(parts)


def sentinels(ids: Ids) -> tuple[Sentinel, ...]:
    """Requests a least-privilege principal is refused, whatever features it runs.

    Each carries only the context every request carries, so that they join calls the
    requirements make anyway: the other region is us-east-1, where the IAM and Route 53
    requests are signed, unless the API itself is there.
    """
    api, _ = ids.value("api_id")
    stage, _ = ids.value("stage")
    elsewhere = "us-east-1" if ids.region != "us-east-1" else "us-west-2"
    apigw = f"arn:{ids.partition}:apigateway:{ids.region}::"
    execute = f"arn:{ids.partition}:execute-api:{ids.region}:{ids.account}:"
    iam = f"arn:{ids.partition}:iam::{ids.account}:role/"
    return (
        Sentinel(
            "other-api",
            Kind.BROADER,
            "apigateway:GET",
            f"{apigw}/apis/wsgwsentnl",
            "reads an API the library does not use",
        ),
        Sentinel(
            "other-region",
            Kind.BROADER,
            "apigateway:GET",
            f"arn:{ids.partition}:apigateway:{elsewhere}::/apis/{api}",
            f"reaches API Gateway in {elsewhere}",
            region=elsewhere,
        ),
        Sentinel(
            "delete-any-api",
            Kind.DANGEROUS,
            "apigateway:DELETE",
            f"{apigw}/apis/wsgwsentnl",
            "deletes any API",
        ),
        Sentinel(
            "import-api",
            Kind.DANGEROUS,
            "apigateway:PUT",
            f"{apigw}/apis",
            "ImportApi, which overwrites APIs",
        ),
        Sentinel(
            "invoke",
            Kind.DANGEROUS,
            "execute-api:Invoke",
            f"{execute}{api}/{stage}/GET/",
            "invokes the API's routes",
        ),
        Sentinel(
            "other-api-connections",
            Kind.BROADER,
            "execute-api:ManageConnections",
            f"{execute}wsgwsentnl/{stage}/POST/@connections/wsgwSentinel0=",
            "posts to the connections of another API",
        ),
        Sentinel(
            "create-role",
            Kind.DANGEROUS,
            "iam:CreateRole",
            f"{iam}wsgw-doctor-sentinel",
            "creates IAM roles",
        ),
        Sentinel(
            "pass-any-role",
            Kind.DANGEROUS,
            "iam:PassRole",
            f"{iam}wsgw-doctor-sentinel",
            "passes any role of the account to a service",
        ),
    )


def probe_findings(results: Iterable[Result], facts: Iterable[Fact]) -> tuple[Finding, ...]:
    """A finding per contradicted result, and one per prerequisite found unmet."""
    found = []
    for result in results:
        probe = result.probe
        if probe is None or probe.status is not ProbeStatus.CONTRADICTED:
            continue
        kind = Kind.CONTRADICTED
        operation = result.operation.rsplit(".", 1)[-1]
        found.append(
            Finding(
                id=f"{kind.prefix}.{result.feature}.{operation}",
                kind=kind,
                severity=kind.severity,
                feature=result.feature,
                action=result.action,
                resource=result.resource,
                message=(
                    f"the {result.source} says {result.status.value} for {result.action} on "
                    f"{result.resource}, but {probe.call or 'a probe'} says otherwise: "
                    f"{probe.reason}"
                ),
            )
        )
    for fact in facts:
        if fact.ok is False:
            kind = Kind.FACT
            found.append(
                Finding(
                    id=f"{kind.prefix}.{fact.name}",
                    kind=kind,
                    severity=kind.severity,
                    feature=None,
                    action=None,
                    resource=None,
                    message=f"{fact.name}: {fact.detail}",
                )
            )
    return tuple(found)
