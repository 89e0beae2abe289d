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

from .model import Decision, Level, Match, Policy, PolicySet, Request, Statement

Context = Mapping[str, tuple[str, ...]]
Hit = tuple[Policy, Statement]


class _Level:
    """What one level's statements made of the request (kept light: it is built per call)."""

    __slots__ = ("allow_keys", "allows", "denies", "deny_keys", "kind", "label", "sure_allow")

    def __init__(self, kind: Level, label: str) -> None:
        self.kind: Level = kind
        self.label = label
        self.denies: list[tuple[Hit, bool]] = []
        self.allows: list[tuple[Hit, bool]] = []
        self.sure_allow = False
        self.deny_keys: list[str] = []
        self.allow_keys: list[str] = []

    def matches(self, hits: list[tuple[Hit, bool]]) -> list[Match]:
        return [
            Match(policy.source, s.index, s.sid, s.effect, self.kind) for (policy, s), _ in hits
        ]


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """Decide ``request`` against ``policies``, as AWS would for the same context."""
    action = request.action.lower()
    resource, context = request.resource, request.context
    levels = [_level("identity", "identity", policies.identity, action, resource, context)]
    if policies.boundary is not None:
        boundary = (policies.boundary,)
        levels.append(_level("boundary", "boundary", boundary, action, resource, context))
    for scp in policies.scps:
        levels.append(_level("scp", f"scp:{scp.source}", (scp,), action, resource, context))
    if policies.session is not None:
        session = (policies.session,)
        levels.append(_level("session", "session", session, action, resource, context))
    return _decide(levels)


def _level(
    kind: Level,
    label: str,
    attached: Iterable[Policy],
    action: str,
    resource: str,
    context: Context,
) -> _Level:
    outcome = _Level(kind, label)
    for policy in attached:
        for statement in policy.statements_for(action):
            applies, unknown = statement.compiled.applies(resource, context)
            if unknown:
                _record_unsure(outcome, (policy, statement), applies, unknown)
            elif not applies:
                continue
            elif statement.effect == "Deny":
                outcome.denies.append(((policy, statement), True))
            else:
                outcome.allows.append(((policy, statement), True))
                outcome.sure_allow = True
    return outcome


def _record_unsure(outcome: _Level, hit: Hit, applies: bool, unknown: tuple[str, ...]) -> None:
    """A statement whose outcome rests on unknown context: note it and its keys."""
    deny = hit[1].effect == "Deny"
    if applies:
        (outcome.denies if deny else outcome.allows).append((hit, False))
    (outcome.deny_keys if deny else outcome.allow_keys).extend(unknown)


def _decide(levels: list[_Level]) -> Decision:
    denying = [lvl for lvl in levels if lvl.denies]
    if denying:
        matched = tuple(m for lvl in denying for m in lvl.matches(lvl.denies))
        sure = any(certain for lvl in denying for _, certain in lvl.denies)
        missing = () if sure else _missing(levels)
        return Decision("explicitDeny", matched, missing, denying[0].label)
    for lvl in levels:
        if not lvl.allows:
            return Decision("implicitDeny", (), _missing(levels), lvl.label)
    identity = levels[0]
    return Decision("allowed", tuple(identity.matches(identity.allows)), _missing(levels), None)


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
