"""Precompiled Action and Resource elements, and the question "does this statement apply".

Everything a statement needs at evaluation time is built when the policy is loaded: exact
names go into sets, wildcard patterns into one regex per element, and only patterns with
policy variables are finished per request. Evaluation then costs a set lookup or one regex
run per element for most statements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .conditions import CompiledCondition
from .errors import InvalidElementError, quote
from .patterns import (
    alternation,
    compiled,
    glob_regex,
    has_wildcard,
    literal_prefix,
    resource_regex,
)
from .variables import (
    TEXT,
    Template,
    has_variables,
    parse_template,
    plain_text,
    resolve,
    static_pieces,
)

Context = Mapping[str, tuple[str, ...]]
Outcome = tuple[bool, tuple[str, ...]]

HIT: Outcome = (True, ())
MISS: Outcome = (False, ())

_ACTION = re.compile(r"[A-Za-z0-9*?-]+:[A-Za-z0-9*?_.-]+")


@dataclass(frozen=True, slots=True)
class ActionMatcher:
    """The Action (or NotAction) list; names are compared lower-cased, as IAM ignores case."""

    everything: bool
    exact: frozenset[str]
    pattern: re.Pattern[str] | None

    def matches(self, action: str) -> bool:
        """Whether the lower-cased ``action`` is in the list."""
        if self.everything or action in self.exact:
            return True
        return self.pattern is not None and self.pattern.fullmatch(action) is not None


def compile_actions(actions: Sequence[str]) -> ActionMatcher:
    """Compile an Action list; raises ``InvalidElementError`` for a name IAM would not accept."""
    exact: set[str] = set()
    regexes: list[str] = []
    for i, action in enumerate(actions):
        if action != "*" and not _ACTION.fullmatch(action):
            raise InvalidElementError(
                f"{quote(action)} is not an action",
                hint='write actions as "service:Action", for example "apigateway:POST"',
                path=(i,),
            )
        lowered = action.lower()
        if "*" in lowered or "?" in lowered:
            regexes.append(glob_regex([(TEXT, lowered)]))
        else:
            exact.add(lowered)

    return ActionMatcher("*" in actions, frozenset(exact), alternation(regexes))


@dataclass(frozen=True, slots=True)
class ResourceMatcher:
    """The Resource (or NotResource) list, compared case-sensitively.

    ``prefixes`` are the literal starts of the wildcard patterns, a cheap test that turns
    most near misses away before the regex runs. ``dynamic`` holds the patterns with policy
    variables, which can only be finished once the request context is known.
    """

    everything: bool
    exact: frozenset[str]
    pattern: re.Pattern[str] | None
    prefixes: tuple[str, ...]
    dynamic: tuple[Template, ...]

    def match(self, resource: str, context: Context) -> Outcome:
        """Whether a pattern matches, and the unknown keys that could change that."""
        if self.everything or resource in self.exact:
            return HIT
        regex = self.pattern
        if regex is not None and resource.startswith(self.prefixes) and regex.fullmatch(resource):
            return HIT
        if not self.dynamic:
            return MISS
        return _match_dynamic(self.dynamic, resource, context)


def _match_dynamic(templates: Sequence[Template], resource: str, context: Context) -> Outcome:
    """Match patterns with variables; keys are reported only if their value could matter.

    A pattern whose variable is unknown is matched as IAM would match it without the key,
    and is also tried with the unknown value left open: only if that lenient reading
    matches can the key change the outcome.
    """
    matched = False
    unknown: list[str] = []
    for template in templates:
        actual, lenient, keys = resolve(template, context)
        hit = actual is not None and _fits(resource_regex(actual), resource)
        if hit and not keys:
            return HIT
        if lenient is not None and _fits(resource_regex(lenient), resource):
            unknown.extend(keys)
        matched = matched or hit

    return matched, tuple(unknown)


def _fits(regex: str, value: str) -> bool:
    return compiled(regex).fullmatch(value) is not None


def compile_resources(resources: Sequence[str], variables: bool) -> ResourceMatcher:
    """Compile a Resource list; raises ``InvalidElementError`` for one that is not an ARN."""
    exact: set[str] = set()
    regexes: list[str] = []
    prefixes: list[str] = []
    dynamic: list[Template] = []
    for i, resource in enumerate(resources):
        _check_resource(resource, i)
        template = parse_template(resource, variables)
        pieces = static_pieces(template)
        if has_variables(template):
            dynamic.append(template)
        elif has_wildcard(pieces):
            regexes.append(resource_regex(pieces))
            prefixes.append(literal_prefix(pieces))
        else:
            exact.add(plain_text(template))

    everything = "*" in resources
    pattern = alternation(regexes)
    return ResourceMatcher(everything, frozenset(exact), pattern, tuple(prefixes), tuple(dynamic))


def _check_resource(resource: str, i: int) -> None:
    if resource == "*" or resource.startswith("arn:"):
        return
    raise InvalidElementError(
        f"{quote(resource)} is not an ARN",
        hint='a resource is an ARN ("arn:aws:...") or "*"',
        path=(i,),
    )


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """A statement's elements in the form evaluation runs."""

    actions: ActionMatcher
    not_action: bool
    resources: ResourceMatcher
    not_resource: bool
    conditions: tuple[CompiledCondition, ...]

    def acts_on(self, action: str) -> bool:
        """Whether the Action (or NotAction) element covers the lower-cased ``action``."""
        return self.actions.matches(action) != self.not_action

    def applies(self, resource: str, context: Context) -> Outcome:
        """Whether the statement, already known to cover the action, applies to ``resource``.

        The keys returned are the unknown context keys that could change the answer; they
        are empty whenever a part that does not depend on them already rules it out.
        """
        # ResourceMatcher.match, with its static test inlined: this runs for every candidate.
        patterns = self.resources
        regex = patterns.pattern
        if (
            patterns.everything
            or resource in patterns.exact
            or (regex and resource.startswith(patterns.prefixes) and regex.fullmatch(resource))
        ):
            matched, unknown = HIT
        elif patterns.dynamic:
            matched, unknown = _match_dynamic(patterns.dynamic, resource, context)
        else:
            matched, unknown = MISS

        if self.not_resource:
            if matched and not unknown:
                return MISS
            matched = not matched
        elif not matched and not unknown:
            return MISS
        if not self.conditions:
            return matched, unknown
        return self._conditions(matched, unknown, context)

    def _conditions(self, matched: bool, unknown: tuple[str, ...], context: Context) -> Outcome:
        """All conditions must hold; one that fails on known keys alone settles it."""
        keys = list(unknown)
        for condition in self.conditions:
            holds, more = condition.evaluate(context)
            if not holds and not more:
                return MISS
            matched = matched and holds
            keys.extend(more)
        return matched, tuple(keys)
