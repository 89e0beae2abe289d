"""Condition operators, compiled once per policy and run against a request context.

The rules for a key the request does not carry follow the IAM guide on condition operators:

* a plain operator is false when the key is absent, and a negated one (``StringNotEquals``,
  ``ArnNotLike``, ``NotIpAddress`` …) is true, since nothing in the request matches;
* an ``…IfExists`` operator is true when the key is absent and otherwise works as without
  the suffix;
* ``Null`` asks exactly that question: ``"true"`` holds when the key is absent;
* ``ForAllValues:`` is true when the key is absent (every one of no values matches), and
  ``ForAnyValue:`` is false (no value matches).

Several values for one key are alternatives: a plain operator holds when any of them
matches, and its negated form when none does. A key with several values in the request is
compared value by value: without a qualifier a plain operator needs one matching value and
a negated one needs none; ``ForAllValues`` needs the test to hold for every request value
and ``ForAnyValue`` for at least one.

Policy variables are substituted in the values of string, ARN and ``Bool`` operators, the
ones the guide lists as supporting them; numeric, date, IP and binary values are read as
written and checked when the policy is loaded.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .errors import InvalidElementError, quote
from .patterns import alternation, arn_regex, glob_regex
from .variables import (
    Piece,
    Template,
    has_variables,
    parse_template,
    plain_text,
    resolve,
    static_pieces,
)

Test = Callable[[str], bool]
Context = Mapping[str, tuple[str, ...]]

FOR_ALL = "ForAllValues"
FOR_ANY = "ForAnyValue"
_IF_EXISTS = "IfExists"

# operator name -> (family, comparison, negated)
_OPERATORS: dict[str, tuple[str, str, bool]] = {
    "StringEquals": ("string", "equals", False),
    "StringNotEquals": ("string", "equals", True),
    "StringEqualsIgnoreCase": ("string", "ignorecase", False),
    "StringNotEqualsIgnoreCase": ("string", "ignorecase", True),
    "StringLike": ("string", "like", False),
    "StringNotLike": ("string", "like", True),
    "NumericEquals": ("numeric", "eq", False),
    "NumericNotEquals": ("numeric", "eq", True),
    "NumericLessThan": ("numeric", "lt", False),
    "NumericLessThanEquals": ("numeric", "le", False),
    "NumericGreaterThan": ("numeric", "gt", False),
    "NumericGreaterThanEquals": ("numeric", "ge", False),
    "DateEquals": ("date", "eq", False),
    "DateNotEquals": ("date", "eq", True),
    "DateLessThan": ("date", "lt", False),
    "DateLessThanEquals": ("date", "le", False),
    "DateGreaterThan": ("date", "gt", False),
    "DateGreaterThanEquals": ("date", "ge", False),
    "Bool": ("bool", "equals", False),
    "BinaryEquals": ("binary", "equals", False),
    "IpAddress": ("ip", "within", False),
    "NotIpAddress": ("ip", "within", True),
    "ArnEquals": ("arn", "like", False),
    "ArnLike": ("arn", "like", False),
    "ArnNotEquals": ("arn", "like", True),
    "ArnNotLike": ("arn", "like", True),
    "Null": ("null", "absent", False),
}

#: Every operator name a policy may use, without qualifiers.
OPERATOR_NAMES: tuple[str, ...] = tuple(
    sorted([*_OPERATORS, *(f"{n}{_IF_EXISTS}" for n in _OPERATORS if n != "Null")])
)

_VARIABLE_FAMILIES = frozenset({"string", "arn", "bool"})
_ORDER: dict[str, Callable[[float, float], bool]] = {
    "eq": operator.eq,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EPOCH = re.compile(r"[+-]?\d+(?:\.\d+)?")
_ISO_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)
_NONE: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Operator:
    """A condition operator taken apart: ``ForAnyValue:StringLikeIfExists`` and the like."""

    name: str
    qualifier: str | None
    family: str
    comparison: str
    negated: bool
    if_exists: bool


def parse_operator(name: str) -> Operator:
    """The operator spelled ``name``; names are matched exactly, as IAM documents them."""
    qualifier: str | None = None
    base = name
    if ":" in name:
        qualifier, _, base = name.partition(":")
        if qualifier not in (FOR_ALL, FOR_ANY):
            raise InvalidElementError(
                f"unknown condition qualifier {quote(qualifier)} in {quote(name)}",
                hint=f"the qualifiers are {FOR_ALL}: and {FOR_ANY}:",
            )

    if_exists = base.endswith(_IF_EXISTS)
    core = base[: -len(_IF_EXISTS)] if if_exists else base
    spec = _OPERATORS.get(core)
    if spec is None or (if_exists and core == "Null"):
        raise InvalidElementError(f"unknown condition operator {quote(name)}", hint=_suggest(base))

    family, comparison, negated = spec
    return Operator(name, qualifier, family, comparison, negated, if_exists)


def _suggest(base: str) -> str:
    if base == "Null" + _IF_EXISTS:
        return "Null already tests whether the key exists; use Null"
    close = difflib.get_close_matches(base, OPERATOR_NAMES, n=1)
    if close:
        return f"did you mean {close[0]}?"
    return "see the IAM guide's list of condition operators"


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    """One key under one operator, ready to run; ``test`` is ``None`` when values vary."""

    key: str
    lookup: str
    operator: Operator
    test: Test | None
    templates: tuple[Template, ...]
    if_absent: bool

    def evaluate(self, context: Context) -> tuple[bool, tuple[str, ...]]:
        """The condition's outcome, and the keys it read that ``context`` does not know."""
        values = context.get(self.lookup)
        unknown = _NONE if values is not None else (self.key,)
        op = self.operator
        if not values:
            return self.if_absent, unknown
        test = self.test
        if test is None:
            test, more = self._resolved(context)
            unknown = unknown + more
        if op.qualifier == FOR_ALL:
            return all(test(v) != op.negated for v in values), unknown
        if op.qualifier == FOR_ANY:
            return any(test(v) != op.negated for v in values), unknown
        return any(test(v) for v in values) != op.negated, unknown

    def _resolved(self, context: Context) -> tuple[Test, tuple[str, ...]]:
        values: list[tuple[Piece, ...]] = []
        unknown: list[str] = []
        for template in self.templates:
            actual, _, keys = resolve(template, context)
            unknown.extend(keys)
            if actual is not None:
                values.append(actual)
        return _tester(self.operator, values), tuple(unknown)


def _when_absent(op: Operator) -> bool:
    if op.if_exists or op.qualifier == FOR_ALL:
        return True
    if op.qualifier == FOR_ANY:
        return False
    return op.negated


def compile_condition(
    op: Operator, key: str, values: tuple[str, ...], variables: bool
) -> CompiledCondition:
    """Compile ``key`` under ``op``; raises ``InvalidElementError`` for a value it cannot use."""
    variables = variables and op.family in _VARIABLE_FAMILIES
    templates = tuple(parse_template(v, variables) for v in values)
    if op.family == "null":
        return _null(op, key, values, templates)
    absent = _when_absent(op)
    if any(has_variables(t) for t in templates):
        return CompiledCondition(key, key.lower(), op, None, templates, absent)
    _validate(op, [plain_text(t) for t in templates])
    test = _tester(op, [static_pieces(t) for t in templates])
    return CompiledCondition(key, key.lower(), op, test, templates, absent)


def _null(
    op: Operator, key: str, values: tuple[str, ...], templates: tuple[Template, ...]
) -> CompiledCondition:
    """``Null`` tests presence only: ``"true"`` holds for an absent key, ``"false"`` else."""
    expect: list[bool] = []
    for value in values:
        if value.lower() not in ("true", "false"):
            raise InvalidElementError(
                f"Null takes true or false, not {quote(value)}",
                hint='"true" means the key must be absent, "false" that it must be present',
            )
        expect.append(value.lower() == "true")
    present = False in expect
    return CompiledCondition(key, key.lower(), op, lambda _v: present, templates, True in expect)


def _validate(op: Operator, texts: Sequence[str]) -> None:
    for text in texts:
        problem = _problem(op.family, text)
        if problem is not None:
            raise InvalidElementError(
                f"{op.name} value {quote(text)} {problem[0]}", hint=problem[1]
            )


def _problem(family: str, text: str) -> tuple[str, str] | None:
    problem = _problem_of_value(family, text)
    if problem is not None and "${" in text and family not in _VARIABLE_FAMILIES:
        return "is not a literal value", "policy variables work only in string, ARN and Bool values"
    return problem


def _problem_of_value(family: str, text: str) -> tuple[str, str] | None:
    if family == "numeric" and _number(text) is None:
        return "is not a number", 'write the number as digits, for example "10"'
    if family == "date" and _date(text) is None:
        return "is not a date", "use ISO 8601 (2024-01-31T12:00:00Z) or epoch seconds"
    if family == "bool" and text.lower() not in ("true", "false"):
        return "is not true or false", 'use "true" or "false"'
    if family == "ip" and _network(text) is None:
        return "is not an IP address or CIDR range", "for example 203.0.113.0/24 or 2001:db8::/32"
    if family == "binary" and _base64(text) is None:
        return "is not base64", "encode the binary value in base64"
    return None


def _tester(op: Operator, values: Sequence[tuple[Piece, ...]]) -> Test:
    """A test of one request value against any of ``values`` (the policy's side)."""
    texts = ["".join(text for _, text in pieces) for pieces in values]
    if op.family == "string":
        return _string_test(op.comparison, values, texts)
    if op.family == "arn":
        return _regex_test([r for r in map(arn_regex, values) if r is not None])
    if op.family == "bool":
        truth = frozenset(t.lower() for t in texts)
        return lambda value: value.lower() in truth
    if op.family in ("numeric", "date"):
        return _order_test(op.family, op.comparison, texts)
    if op.family == "ip":
        return _ip_test(texts)
    blobs = frozenset(b for b in map(_base64, texts) if b is not None)
    return lambda value: _base64(value) in blobs


def _string_test(comparison: str, values: Sequence[tuple[Piece, ...]], texts: list[str]) -> Test:
    if comparison == "equals":
        return frozenset(texts).__contains__
    if comparison == "ignorecase":
        folded = frozenset(t.lower() for t in texts)
        return lambda value: value.lower() in folded
    return _regex_test([glob_regex(pieces) for pieces in values])


def _regex_test(regexes: list[str]) -> Test:
    pattern = alternation(regexes)
    if pattern is None:
        return _never
    return lambda value: pattern.fullmatch(value) is not None


def _never(_value: str) -> bool:
    return False


def _order_test(family: str, comparison: str, texts: list[str]) -> Test:
    parse = _number if family == "numeric" else _date
    limits = [n for n in map(parse, texts) if n is not None]
    compare = _ORDER[comparison]

    def test(value: str) -> bool:
        number = parse(value)
        return number is not None and any(compare(number, limit) for limit in limits)

    return test


def _ip_test(texts: list[str]) -> Test:
    networks = [n for n in map(_network, texts) if n is not None]

    def test(value: str) -> bool:
        given = _network(value)
        return given is not None and any(
            given.version == n.version and given.subnet_of(n)  # type: ignore[arg-type]
            for n in networks
        )

    return test


def _number(text: str) -> float | None:
    return float(text) if _NUMBER.fullmatch(text.strip()) else None


def _date(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 date or an epoch number; naive means UTC."""
    text = text.strip()
    if _EPOCH.fullmatch(text):
        return float(text)
    match = _ISO_DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, tz_h, tz_m = match.groups()
    offset = timedelta(0)
    if sign is not None and not zulu:
        offset = timedelta(hours=int(tz_h), minutes=int(tz_m)) * (1 if sign == "+" else -1)
    try:
        zone = timezone(offset)
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=zone,
        )
        return moment.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)
    except (ValueError, OverflowError):
        return None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
