"""The decision IAM would make for one request, with the statements behind it.

This follows AWS's evaluation logic for a principal in its own account: an explicit Deny
in any policy wins; otherwise the identity policies must allow, and so must each other
level that is present (the permissions boundary, every service control policy, the session
policy). Within one level a Deny that applies beats any Allow.

Context the doctor cannot know (a key not in ``Request.context``) is evaluated as absent,
which is what the policy simulator does when it is not given a value, and every unknown key
that could have changed the outcome is listed in ``Decision.missing_context``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .model import Decision, Level, Match, Policy, PolicySet, Request, Statement

Context = Mapping[str, tuple[str, ...]]


@dataclass(slots=True)
class _Level:
    """What one level's statements made of the request."""

    kind: Level
    label: str
    denies: list[Match] = field(default_factory=list)
    allows: list[Match] = field(default_factory=list)
    sure_deny: bool = False
    sure_allow: bool = False
    deny_keys: list[str] = field(default_factory=list)
    allow_keys: list[str] = field(default_factory=list)


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """Decide ``request`` against ``policies``, as AWS would for the same context."""
    action = request.action.lower()
    service = action.partition(":")[0]
    resource, context = request.resource, request.context

    def level(kind: Level, label: str, attached: Iterable[Policy]) -> _Level:
        return _evaluate_level(_Level(kind, label), attached, service, action, resource, context)

    levels = [level("identity", "identity", policies.identity)]
    if policies.boundary is not None:
        levels.append(level("boundary", "boundary", (policies.boundary,)))
    for scp in policies.scps:
        levels.append(level("scp", f"scp:{scp.source}", (scp,)))
    if policies.session is not None:
        levels.append(level("session", "session", (policies.session,)))
    return _decide(levels)


def _evaluate_level(
    outcome: _Level,
    attached: Iterable[Policy],
    service: str,
    action: str,
    resource: str,
    context: Context,
) -> _Level:
    for policy in attached:
        for statement in policy.candidates(service):
            applies, unknown = statement.compiled.applies(action, resource, context)
            if applies or unknown:
                _record(outcome, policy, statement, applies, unknown)
    return outcome


def _record(
    outcome: _Level, policy: Policy, statement: Statement, applies: bool, unknown: tuple[str, ...]
) -> None:
    deny = statement.effect == "Deny"
    if applies:
        match = Match(policy.source, statement.index, statement.sid, statement.effect, outcome.kind)
        (outcome.denies if deny else outcome.allows).append(match)
        if not unknown:
            if deny:
                outcome.sure_deny = True
            else:
                outcome.sure_allow = True
    (outcome.deny_keys if deny else outcome.allow_keys).extend(unknown)


def _decide(levels: list[_Level]) -> Decision:
    denying = [lvl for lvl in levels if lvl.denies]
    if denying:
        matched = tuple(m for lvl in denying for m in lvl.denies)
        sure = any(lvl.sure_deny for lvl in levels)
        return Decision("explicitDeny", matched, () if sure else _missing(levels), denying[0].label)
    refusing = [lvl for lvl in levels if not lvl.allows]
    if not refusing:
        return Decision("allowed", tuple(levels[0].allows), _missing(levels), None)
    return Decision("implicitDeny", (), _missing(levels), refusing[0].label)


def _missing(levels: list[_Level]) -> tuple[str, ...]:
    """Unknown keys of Deny statements anywhere, and of Allows where no Allow is certain."""
    keys: list[str] = []
    for lvl in levels:
        keys.extend(lvl.deny_keys)
        if not lvl.sure_allow:
            keys.extend(lvl.allow_keys)
    if not keys:
        return ()
    spelling: dict[str, str] = {}
    for key in keys:
        spelling.setdefault(key.lower(), key)
    return tuple(spelling[k] for k in sorted(spelling))
