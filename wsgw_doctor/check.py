"""Check a set of features against policies and turn the decisions into findings.

This is the one place where the catalog meets the engine: every requirement is rendered
for the user's ids, given the request context AWS would evaluate, and decided.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from wsgw_doctor import __version__
from wsgw_doctor.catalog import (
    RUNTIME_ID_FIELDS,
    Feature,
    Ids,
    RenderedRequirement,
    context_map,
    render,
)
from wsgw_doctor.compare import (
    Comparison,
    Sentinel,
    breadth_findings,
    reference_grants,
    sentinels,
)
from wsgw_doctor.documented import documented_policy
from wsgw_doctor.engine import Decision, Match, Policy, PolicySet, Request, evaluate
from wsgw_doctor.results import DEFAULT_FAIL_ON, Finding, Kind, Report, Result, Status, Threshold

logger = logging.getLogger(__name__)

#: Services whose requests are signed in us-east-1 whatever region the API is in.
GLOBAL_SERVICES = frozenset({"iam", "route53", "sts"})

SOURCE_POLICY_FILES = "policy-files"


@dataclass(frozen=True)
class Principal:
    """Who the policies belong to, as far as the doctor knows."""

    kind: str
    arn: str | None = None
    policies: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "arn": self.arn, "policies": list(self.policies)}


def known_context(rendered: RenderedRequirement, ids: Ids, principal: Principal) -> Request:
    """The request AWS would evaluate for a requirement, with every key the doctor knows."""
    context = global_context(rendered.requirement.service, ids, principal)
    context.update(context_map(rendered.context))
    return Request(rendered.requirement.action, rendered.resource, context)


def global_context(
    service: str, ids: Ids, principal: Principal, region: str | None = None
) -> dict[str, tuple[str, ...]]:
    """The ``aws:`` keys every request carries, as far as the doctor knows them."""
    signed_in = "us-east-1" if service in GLOBAL_SERVICES else region or ids.region
    context: dict[str, tuple[str, ...]] = {
        "aws:requestedregion": (signed_in,),
        "aws:securetransport": ("true",),
        "aws:principalaccount": (ids.account,),
    }
    if principal.arn:
        context["aws:principalarn"] = (principal.arn,)
    return context


@dataclass(frozen=True)
class Verdict:
    """What one way of deciding said about one request, and which way that was."""

    decision: Decision | None
    source: str
    error: str | None = None


class Decider(Protocol):
    """A way of deciding requests: local policy evaluation, or AWS's policy simulator."""

    def decide(self, requests: Sequence[Request]) -> list[Verdict]: ...


@dataclass(frozen=True)
class LocalDecider:
    """Decides with the doctor's own engine, from policies it has read."""

    policies: PolicySet
    source: str = SOURCE_POLICY_FILES

    def decide(self, requests: Sequence[Request]) -> list[Verdict]:
        return [self._one(request) for request in requests]

    def _one(self, request: Request) -> Verdict:
        try:
            decision = evaluate(request, self.policies)
        except Exception as error:  # a defect in one evaluation must not hide the others
            logger.error("could not evaluate %s on %s: %r", request.action, request.resource, error)
            return Verdict(None, self.source, f"{type(error).__name__}: {error}")
        logger.debug("%s on %s: %s", request.action, request.resource, decision.decision)
        return Verdict(decision, self.source)


def check(
    features: Iterable[Feature],
    ids: Ids,
    decider: Decider,
    principal: Principal,
    fail_on: Threshold = DEFAULT_FAIL_ON,
    notes: tuple[str, ...] = (),
    comparison: Comparison | None = None,
) -> Report:
    """Decide every requirement of ``features``, compare, and collect the findings.

    Sentinel requests, when asked for, go to the decider in the same batch as the
    requirements, so that they share its calls instead of adding their own. The reference
    policy is judged in a second thread meanwhile: it needs no answer from the decider,
    and a live decider spends its time waiting for AWS.
    """
    chosen = tuple(features)
    compared = comparison or Comparison()
    rendered = [render(f, r, ids) for f in chosen for r in f.requirements]
    requests = [known_context(item, ids, principal) for item in rendered]
    probes = sentinels(ids) if compared.sentinels else ()
    extra = [sentinel_request(s, ids, principal) for s in probes]
    reference = compared.reference or documented_policy(ids.region, ids.account)
    with ThreadPoolExecutor(max_workers=1) as pool:
        judged = pool.submit(_judge_reference, reference, requests, chosen, ids, compared)
        verdicts = decider.decide([*requests, *extra])
        granted, reference_findings = judged.result()
    own, asked = verdicts[: len(requests)], verdicts[len(requests) :]

    results = tuple(
        _result(item, verdict, documented)
        for item, verdict, documented in zip(rendered, own, granted, strict=True)
    )
    found = _findings(results, ids, chosen, compared, probes, asked)
    if reference_findings is not None:
        found += tuple(_gap_findings(results, ids, reference.source)) + reference_findings
    kept = tuple(f for f in found if f.id not in compared.ignore)
    return Report(
        version=__version__,
        principal=principal.as_dict(),
        region=ids.region,
        account=ids.account,
        features=tuple(f.name for f in chosen),
        results=results,
        findings=kept,
        fail_on=fail_on,
        notes=notes,
        suppressed=tuple(f for f in found if f.id in compared.ignore),
        reference=reference.source,
        ignored=compared.ignore,
    )


def _judge_reference(
    reference: Policy,
    requests: Sequence[Request],
    features: tuple[Feature, ...],
    ids: Ids,
    compared: Comparison,
) -> tuple[list[bool], tuple[Finding, ...] | None]:
    """What the reference grants, and its breadth; none when it is itself being checked."""
    granted = reference_grants(requests, reference)
    if reference.source in {p.source for p in compared.readable}:
        return granted, None
    return granted, breadth_findings((reference,), features, ids, documented=True)


def _findings(
    results: tuple[Result, ...],
    ids: Ids,
    features: tuple[Feature, ...],
    compared: Comparison,
    probes: Sequence[Sentinel],
    asked: Sequence[Verdict],
) -> tuple[Finding, ...]:
    """Missing and undetermined first, then what the sentinels and the breadth found."""
    found = list(findings_for(results, ids))
    found.extend(_sentinel_findings(probes, asked))
    if compared.readable:
        found.extend(breadth_findings(compared.readable, features, ids))
    return tuple(found)


def _gap_findings(results: Iterable[Result], ids: Ids, source: str) -> Iterator[Finding]:
    for result in results:
        if not result.documented:
            yield requirement_finding(
                Kind.DOCUMENTED_GAP,
                result,
                f"{source} does not grant {result.action} on {result.resource}, which "
                f"{result.operation} needs. Add: {fix_statement(result, ids)}",
            )


def sentinel_request(sentinel: Sentinel, ids: Ids, principal: Principal) -> Request:
    """The request a sentinel stands for, with only the context every request carries."""
    service = sentinel.action.split(":", 1)[0]
    context = global_context(service, ids, principal, sentinel.region)
    return Request(sentinel.action, sentinel.resource, context)


def _sentinel_findings(probes: Sequence[Sentinel], asked: Sequence[Verdict]) -> Iterator[Finding]:
    for sentinel, verdict in zip(probes, asked, strict=True):
        decision = verdict.decision
        if decision is None or decision.decision != "allowed" or decision.missing_context:
            continue
        yield Finding(
            id=f"{sentinel.kind.prefix}.{verdict.source}.{sentinel.name}",
            kind=sentinel.kind,
            severity=sentinel.kind.severity,
            feature=None,
            action=sentinel.action,
            resource=sentinel.resource,
            message=(
                f"the {verdict.source} allows {sentinel.action} on {sentinel.resource}, which "
                f"{sentinel.meaning}; no feature needs it. Found by asking about this request, "
                "since the policies themselves could not be read"
            ),
        )


def _result(rendered: RenderedRequirement, verdict: Verdict, documented: bool) -> Result:
    requirement, decision = rendered.requirement, verdict.decision
    return Result(
        feature=rendered.feature.name,
        phase=rendered.feature.phase.value,
        action=requirement.action,
        resource=rendered.resource,
        operation=requirement.operation,
        reason=requirement.reason,
        origin=requirement.origin.value,
        decision=decision.decision if decision else "implicitDeny",
        matched=decision.matched if decision else (),
        missing_context=decision.missing_context if decision else (),
        denied_by=decision.denied_by if decision else None,
        representative=rendered.representative,
        source=verdict.source,
        error=verdict.error,
        documented=documented,
    )


def findings_for(results: Iterable[Result], ids: Ids) -> tuple[Finding, ...]:
    """One finding per requirement that is not plainly allowed."""
    found = []
    for result in results:
        kind = _KIND_OF.get(result.status)
        if kind is not None:
            found.append(requirement_finding(kind, result, _message(result, ids)))
    return tuple(found)


def requirement_finding(kind: Kind, result: Result, message: str) -> Finding:
    """A finding about one requirement, with the id its kind, feature and operation give."""
    return Finding(
        id=finding_id(kind, result),
        kind=kind,
        severity=kind.severity,
        feature=result.feature,
        action=result.action,
        resource=result.resource,
        message=message,
    )


_KIND_OF: Mapping[Status, Kind] = {
    Status.MISSING: Kind.MISSING,
    Status.DENIED: Kind.MISSING,
    Status.UNDETERMINED: Kind.UNDETERMINED,
    Status.ERROR: Kind.ERROR,
}


def finding_id(kind: Kind, result: Result) -> str:
    """Stable across runs: the kind, the feature and the AWS operation, never a number."""
    operation = result.operation.rsplit(".", 1)[-1]
    return f"{kind.prefix}.{result.feature}.{operation}"


def _message(result: Result, ids: Ids) -> str:
    what = f"{result.operation} needs {result.action} on {result.resource}"
    if result.status is Status.ERROR:
        return f"{what}, but it could not be evaluated: {result.error}"
    if result.status is Status.UNDETERMINED:
        keys = ", ".join(result.missing_context)
        return f"{what}; the decision depends on condition keys the doctor does not know: {keys}"
    if result.status is Status.DENIED:
        labels = ", ".join(statement_label(m) for m in result.matched)
        return f"{what}; {denial(result)}. Fix: narrow or remove the Deny in {labels}"
    return f"{what}; {denial(result)}. Fix: add {fix_statement(result, ids)}"


def denial(result: Result) -> str:
    """Who said no, in words."""
    if result.decision == "explicitDeny":
        return "denied by " + ", ".join(statement_label(m) for m in result.matched)
    level = result.denied_by or "identity"
    if level == "identity":
        return "no statement allows it"
    if level == "boundary":
        return "the permissions boundary does not allow it"
    if level.startswith("scp:"):
        return f"the service control policy {level[4:]} does not allow it"
    return "the session policy does not allow it"


def statement_label(match: Match) -> str:
    """``FILE#Sid``, or ``FILE#Statement[N]`` for a statement without a Sid.

    The simulator gives no statement index; its source already says where the statement is.
    """
    if match.index < 0:
        return match.source
    if match.sid:
        return f"{match.source}#{match.sid}"
    return f"{match.source}#Statement[{match.index}]"


def fix_statement(result: Result, ids: Ids) -> str:
    """The smallest statement that would grant the requirement, as IAM JSON."""
    resource = result.resource
    for name in (*RUNTIME_ID_FIELDS, *result.representative):
        text, _ = ids.value(name)
        resource = resource.replace(text, "*")
    return f'{{"Effect": "Allow", "Action": "{result.action}", "Resource": "{resource}"}}'
