"""The parsed form of IAM policies, the question put to them, and the answer.

Policies are read once and asked many questions (one per permission a feature needs), so
each statement compiles its matchers when it is built and evaluation only runs them.
Everything here is frozen: a loaded policy and a decision can be shared and cached freely.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .conditions import CompiledCondition, compile_condition, parse_operator
from .errors import InvalidElementError
from .matching import CompiledStatement, compile_actions, compile_resources

Effect = Literal["Allow", "Deny"]
Level = Literal["identity", "boundary", "scp", "session"]
Verdict = Literal["allowed", "implicitDeny", "explicitDeny"]

_ACTION_CACHE = 4096


@dataclass(frozen=True)
class Condition:
    """One key under one operator, e.g. ``StringEquals`` on ``aws:RequestedRegion``.

    ``values`` are strings, as IAM compares them (JSON ``true`` is ``"true"``).
    ``policy_variables`` is whether ``${...}`` in the values is a variable, which depends on
    the Version of the policy the condition came from.
    """

    operator: str
    key: str
    values: tuple[str, ...]
    policy_variables: bool = True
    compiled: CompiledCondition = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        op = parse_operator(self.operator)
        compiled = compile_condition(op, self.key, self.values, self.policy_variables)
        object.__setattr__(self, "compiled", compiled)


@dataclass(frozen=True)
class Statement:
    """One statement of a policy; ``index`` is its 0-based place in the Statement list."""

    index: int
    sid: str | None
    effect: Effect
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...] = ()
    policy_variables: bool = True
    compiled: CompiledStatement = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        action_element = "NotAction" if self.not_action else "Action"
        resource_element = "NotResource" if self.not_resource else "Resource"
        try:
            actions = compile_actions(self.actions)
        except InvalidElementError as error:
            raise error.within(action_element) from None
        try:
            resources = compile_resources(self.resources, self.policy_variables)
        except InvalidElementError as error:
            raise error.within(resource_element) from None
        conditions = tuple(c.compiled for c in self.conditions)
        compiled = CompiledStatement(
            actions, self.not_action, resources, self.not_resource, conditions
        )
        object.__setattr__(self, "compiled", compiled)


@dataclass(frozen=True)
class Policy:
    """A policy document; ``source`` names it in explanations (usually the file name)."""

    source: str
    statements: tuple[Statement, ...]
    version: str | None = None
    _by_action: dict[str, tuple[Statement, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def statements_for(self, action: str) -> tuple[Statement, ...]:
        """The statements, in order, whose Action or NotAction covers the lower-cased action.

        Which statements cover an action does not depend on the request context, so the
        answer is kept: a doctor run asks about the same few actions over and over.
        """
        found = self._by_action.get(action)
        if found is None:
            if len(self._by_action) >= _ACTION_CACHE:
                self._by_action.clear()
            found = tuple(s for s in self.statements if s.compiled.acts_on(action))
            self._by_action[action] = found
        return found


@dataclass(frozen=True)
class PolicySet:
    """Every policy that takes part in one decision, by the level it is attached at.

    The identity policies are one level together; a permissions boundary, each service
    control policy and a session policy are each a level of their own that must also allow.
    """

    identity: tuple[Policy, ...]
    boundary: Policy | None = None
    scps: tuple[Policy, ...] = ()
    session: Policy | None = None


@dataclass(frozen=True)
class Request:
    """An action on a resource, with what is known of the request context.

    Context keys are lower-cased. A key mapped to ``()`` is known to be absent from the
    request; a key not in the mapping at all is unknown, and a decision that depends on it
    says so in ``Decision.missing_context``.
    """

    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    """A statement that decided the outcome: which file, which statement, at which level."""

    source: str
    index: int
    sid: str | None
    effect: Effect
    level: Level


@dataclass(frozen=True)
class Decision:
    """What IAM would decide, and why.

    ``matched`` holds the identity Allow statements behind an ``allowed``, or the Deny
    statements behind an ``explicitDeny``; it is empty for an ``implicitDeny``.
    ``missing_context`` lists the unknown context keys (as the policy spells them) that
    could change the outcome. ``denied_by`` names the level that refused: ``identity``,
    ``boundary``, ``scp:<source>`` or ``session``.
    """

    decision: Verdict
    matched: tuple[Match, ...] = ()
    missing_context: tuple[str, ...] = ()
    denied_by: str | None = None

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"
