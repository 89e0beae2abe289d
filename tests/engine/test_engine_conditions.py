"""Every condition operator: a match, a miss, an absent key, and its IfExists and set forms."""

from __future__ import annotations

from typing import Any

import pytest
from engine_support import KEY, decide, holds, policy, statement

ABSENT: tuple[str, ...] = ()
T0 = "2024-01-01T00:00:00Z"

# (id, operator, policy values, request values or ABSENT, expected)
CASES: list[tuple[str, str, Any, tuple[str, ...], bool]] = [
    ("StringEquals-match", "StringEquals", "prod", ("prod",), True),
    ("StringEquals-miss", "StringEquals", "prod", ("dev",), False),
    ("StringEquals-case-sensitive", "StringEquals", "prod", ("PROD",), False),
    ("StringEquals-any-of-values", "StringEquals", ["dev", "prod"], ("prod",), True),
    ("StringEquals-star-is-literal", "StringEquals", "*", ("prod",), False),
    ("StringEquals-absent", "StringEquals", "prod", ABSENT, False),
    ("StringNotEquals-match", "StringNotEquals", "prod", ("prod",), False),
    ("StringNotEquals-miss", "StringNotEquals", "prod", ("dev",), True),
    ("StringNotEquals-none-of-values", "StringNotEquals", ["dev", "prod"], ("prod",), False),
    ("StringNotEquals-outside-values", "StringNotEquals", ["dev", "prod"], ("qa",), True),
    ("StringNotEquals-absent", "StringNotEquals", "prod", ABSENT, True),
    ("StringEqualsIgnoreCase-match", "StringEqualsIgnoreCase", "PrOd", ("prod",), True),
    ("StringEqualsIgnoreCase-miss", "StringEqualsIgnoreCase", "PrOd", ("dev",), False),
    ("StringEqualsIgnoreCase-absent", "StringEqualsIgnoreCase", "PrOd", ABSENT, False),
    ("StringNotEqualsIgnoreCase-match", "StringNotEqualsIgnoreCase", "PrOd", ("PROD",), False),
    ("StringNotEqualsIgnoreCase-miss", "StringNotEqualsIgnoreCase", "PrOd", ("dev",), True),
    ("StringNotEqualsIgnoreCase-absent", "StringNotEqualsIgnoreCase", "PrOd", ABSENT, True),
    ("StringLike-star", "StringLike", "prod-*", ("prod-eu/1",), True),
    ("StringLike-question", "StringLike", "a?c", ("abc",), True),
    ("StringLike-question-one-char", "StringLike", "a?c", ("abbc",), False),
    ("StringLike-star-spans-colon", "StringLike", "a*", ("a:b:c",), True),
    ("StringLike-regex-chars-literal", "StringLike", "a.c", ("abc",), False),
    ("StringLike-miss", "StringLike", "prod-*", ("dev",), False),
    ("StringLike-absent", "StringLike", "*", ABSENT, False),
    ("StringNotLike-match", "StringNotLike", "prod-*", ("prod-eu",), False),
    ("StringNotLike-miss", "StringNotLike", "prod-*", ("dev",), True),
    ("StringNotLike-absent", "StringNotLike", "prod-*", ABSENT, True),
    ("NumericEquals-match", "NumericEquals", "10", ("10",), True),
    ("NumericEquals-decimal", "NumericEquals", 10, ("10.0",), True),
    ("NumericEquals-miss", "NumericEquals", "10", ("11",), False),
    ("NumericEquals-not-a-number", "NumericEquals", "10", ("ten",), False),
    ("NumericEquals-absent", "NumericEquals", "10", ABSENT, False),
    ("NumericNotEquals-match", "NumericNotEquals", "10", ("10",), False),
    ("NumericNotEquals-miss", "NumericNotEquals", "10", ("11",), True),
    ("NumericNotEquals-absent", "NumericNotEquals", "10", ABSENT, True),
    ("NumericLessThan-below", "NumericLessThan", "10", ("9.5",), True),
    ("NumericLessThan-equal", "NumericLessThan", "10", ("10",), False),
    ("NumericLessThan-absent", "NumericLessThan", "10", ABSENT, False),
    ("NumericLessThanEquals-equal", "NumericLessThanEquals", "10", ("10",), True),
    ("NumericLessThanEquals-above", "NumericLessThanEquals", "10", ("11",), False),
    ("NumericGreaterThan-above", "NumericGreaterThan", "10", ("11",), True),
    ("NumericGreaterThan-equal", "NumericGreaterThan", "10", ("10",), False),
    ("NumericGreaterThanEquals-equal", "NumericGreaterThanEquals", "10", ("10",), True),
    ("NumericGreaterThanEquals-below", "NumericGreaterThanEquals", "10", ("-3",), False),
    ("DateEquals-same", "DateEquals", T0, (T0,), True),
    ("DateEquals-epoch", "DateEquals", T0, ("1704067200",), True),
    ("DateEquals-offset", "DateEquals", T0, ("2024-01-01T01:00:00+01:00",), True),
    ("DateEquals-date-only", "DateEquals", "2024-01-01", (T0,), True),
    ("DateEquals-miss", "DateEquals", T0, ("2024-01-02T00:00:00Z",), False),
    ("DateEquals-not-a-date", "DateEquals", T0, ("yesterday",), False),
    ("DateEquals-absent", "DateEquals", T0, ABSENT, False),
    ("DateNotEquals-miss", "DateNotEquals", T0, ("2024-01-02T00:00:00Z",), True),
    ("DateNotEquals-same", "DateNotEquals", T0, (T0,), False),
    ("DateNotEquals-absent", "DateNotEquals", T0, ABSENT, True),
    ("DateLessThan-before", "DateLessThan", T0, ("2023-12-31T23:59:59Z",), True),
    ("DateLessThan-same", "DateLessThan", T0, (T0,), False),
    ("DateLessThanEquals-same", "DateLessThanEquals", T0, (T0,), True),
    ("DateLessThanEquals-after", "DateLessThanEquals", T0, ("2024-01-01T00:00:01Z",), False),
    ("DateGreaterThan-fraction", "DateGreaterThan", T0, ("2024-01-01T00:00:00.5Z",), True),
    ("DateGreaterThan-before", "DateGreaterThan", T0, ("2023-06-01T00:00:00Z",), False),
    ("DateGreaterThanEquals-same", "DateGreaterThanEquals", T0, (T0,), True),
    ("DateGreaterThanEquals-epoch-before", "DateGreaterThanEquals", T0, ("1704067199",), False),
    ("Bool-true", "Bool", "true", ("true",), True),
    ("Bool-json-true", "Bool", True, ("true",), True),
    ("Bool-case", "Bool", "true", ("TRUE",), True),
    ("Bool-false", "Bool", "true", ("false",), False),
    ("Bool-absent", "Bool", "false", ABSENT, False),
    ("BinaryEquals-match", "BinaryEquals", "QmluYXJ5", ("QmluYXJ5",), True),
    ("BinaryEquals-miss", "BinaryEquals", "QmluYXJ5", ("T3RoZXI=",), False),
    ("BinaryEquals-not-base64", "BinaryEquals", "QmluYXJ5", ("%%%",), False),
    ("BinaryEquals-absent", "BinaryEquals", "QmluYXJ5", ABSENT, False),
    ("IpAddress-in-range", "IpAddress", "203.0.113.0/24", ("203.0.113.7",), True),
    ("IpAddress-single-address", "IpAddress", "203.0.113.7", ("203.0.113.7",), True),
    ("IpAddress-outside", "IpAddress", "203.0.113.0/24", ("198.51.100.1",), False),
    ("IpAddress-v6", "IpAddress", "2001:db8::/32", ("2001:db8::1",), True),
    ("IpAddress-v6-against-v4", "IpAddress", "203.0.113.0/24", ("2001:db8::1",), False),
    ("IpAddress-not-an-ip", "IpAddress", "203.0.113.0/24", ("localhost",), False),
    ("IpAddress-any-of-ranges", "IpAddress", ["10.0.0.0/8", "2001:db8::/32"], ("10.1.2.3",), True),
    ("IpAddress-absent", "IpAddress", "203.0.113.0/24", ABSENT, False),
    ("NotIpAddress-outside", "NotIpAddress", "203.0.113.0/24", ("198.51.100.1",), True),
    ("NotIpAddress-inside", "NotIpAddress", "203.0.113.0/24", ("203.0.113.9",), False),
    ("NotIpAddress-absent", "NotIpAddress", "203.0.113.0/24", ABSENT, True),
    ("ArnEquals-same", "ArnEquals", "arn:aws:iam::1:role/x", ("arn:aws:iam::1:role/x",), True),
    ("ArnEquals-wildcard", "ArnEquals", "arn:aws:iam::*:role/*", ("arn:aws:iam::1:role/x",), True),
    ("ArnEquals-miss", "ArnEquals", "arn:aws:iam::1:role/x", ("arn:aws:iam::1:role/y",), False),
    ("ArnEquals-absent", "ArnEquals", "arn:aws:iam::1:role/x", ABSENT, False),
    ("ArnLike-path", "ArnLike", "arn:aws:iam::*:role/*", ("arn:aws:iam::1:role/a/b",), True),
    ("ArnLike-question", "ArnLike", "arn:aws:iam::1:role/?", ("arn:aws:iam::1:role/ab",), False),
    ("ArnLike-type-differs", "ArnLike", "arn:aws:iam::*:role/*", ("arn:aws:iam::1:user/a",), False),
    (
        "ArnLike-component-stays",
        "ArnLike",
        "arn:aws:iam::1*:role/x",
        ("arn:aws:iam::1:2:role/x",),
        False,
    ),
    (
        "ArnLike-resource-part-spans",
        "ArnLike",
        "arn:aws:logs:*:*:log-group:*",
        ("arn:aws:logs:eu-west-1:1:log-group:/a:log-stream:b",),
        True,
    ),
    ("ArnLike-short-pattern", "ArnLike", "arn:aws:*", ("arn:aws:iam::1:role/x",), False),
    ("ArnLike-not-an-arn", "ArnLike", "arn:aws:iam::*:role/*", ("role/x",), False),
    (
        "ArnNotEquals-miss",
        "ArnNotEquals",
        "arn:aws:iam::1:role/x",
        ("arn:aws:iam::2:role/x",),
        True,
    ),
    ("ArnNotEquals-absent", "ArnNotEquals", "arn:aws:iam::1:role/x", ABSENT, True),
    ("ArnNotLike-match", "ArnNotLike", "arn:aws:iam::*:role/*", ("arn:aws:iam::1:role/x",), False),
    ("ArnNotLike-absent", "ArnNotLike", "arn:aws:iam::*:role/*", ABSENT, True),
    ("Null-true-absent", "Null", "true", ABSENT, True),
    ("Null-true-present", "Null", "true", ("x",), False),
    ("Null-false-present", "Null", False, ("x",), True),
    ("Null-false-absent", "Null", "false", ABSENT, False),
    ("IfExists-absent", "StringEqualsIfExists", "prod", ABSENT, True),
    ("IfExists-match", "StringEqualsIfExists", "prod", ("prod",), True),
    ("IfExists-miss", "StringEqualsIfExists", "prod", ("dev",), False),
    ("NotEqualsIfExists-absent", "StringNotEqualsIfExists", "prod", ABSENT, True),
    ("NotEqualsIfExists-match", "StringNotEqualsIfExists", "prod", ("prod",), False),
    ("NumericIfExists-absent", "NumericLessThanIfExists", "5", ABSENT, True),
    ("NumericIfExists-miss", "NumericLessThanIfExists", "5", ("9",), False),
    ("DateIfExists-absent", "DateGreaterThanIfExists", T0, ABSENT, True),
    ("BoolIfExists-absent", "BoolIfExists", "true", ABSENT, True),
    ("BoolIfExists-miss", "BoolIfExists", "true", ("false",), False),
    ("BinaryIfExists-absent", "BinaryEqualsIfExists", "QmluYXJ5", ABSENT, True),
    ("IpIfExists-absent", "IpAddressIfExists", "10.0.0.0/8", ABSENT, True),
    ("NotIpIfExists-inside", "NotIpAddressIfExists", "10.0.0.0/8", ("10.0.0.1",), False),
    ("ArnIfExists-absent", "ArnLikeIfExists", "arn:aws:iam::*:role/*", ABSENT, True),
    ("ForAll-subset", "ForAllValues:StringEquals", ["a", "b", "c"], ("a", "b"), True),
    ("ForAll-one-outside", "ForAllValues:StringEquals", ["a", "b"], ("a", "x"), False),
    ("ForAll-absent", "ForAllValues:StringEquals", ["a", "b"], ABSENT, True),
    ("ForAll-like", "ForAllValues:StringLike", "key1*", ("key1a", "key1b"), True),
    ("ForAll-not-like-none", "ForAllValues:StringNotLike", "key1*", ("key2", "key3"), True),
    ("ForAll-not-like-one", "ForAllValues:StringNotLike", "key1*", ("key1x", "key2"), False),
    ("ForAll-not-like-absent", "ForAllValues:StringNotLike", "key1*", ABSENT, True),
    ("ForAll-numeric", "ForAllValues:NumericLessThan", "10", ("1", "2"), True),
    ("ForAny-overlap", "ForAnyValue:StringEquals", ["a", "b"], ("x", "b"), True),
    ("ForAny-disjoint", "ForAnyValue:StringEquals", ["a", "b"], ("x", "y"), False),
    ("ForAny-absent", "ForAnyValue:StringEquals", ["a", "b"], ABSENT, False),
    ("ForAny-not-equals-one-other", "ForAnyValue:StringNotEquals", "a", ("a", "b"), True),
    ("ForAny-not-equals-all-same", "ForAnyValue:StringNotEquals", "a", ("a",), False),
    ("ForAny-not-equals-absent", "ForAnyValue:StringNotEquals", "a", ABSENT, False),
    ("ForAny-IfExists-absent", "ForAnyValue:StringEqualsIfExists", "a", ABSENT, True),
    ("ForAny-ip", "ForAnyValue:IpAddress", "10.0.0.0/8", ("192.0.2.1", "10.9.9.9"), True),
    ("plain-multivalued-any", "StringEquals", "a", ("b", "a"), True),
    ("plain-negated-multivalued", "StringNotEquals", "a", ("b", "a"), False),
    ("empty-value-list", "StringEquals", [], ("a",), False),
    ("empty-value-list-negated", "StringNotEquals", [], ("a",), True),
]


@pytest.mark.parametrize(
    ("operator", "values", "present", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_operator(operator: str, values: Any, present: tuple[str, ...], expected: bool) -> None:
    assert holds(operator, values, present) is expected, f"{operator} {values!r} on {present!r}"


@pytest.mark.parametrize(
    ("operator", "values", "present", "expected"),
    [case[1:] for case in CASES if case[3] == ABSENT],
    ids=[case[0] for case in CASES if case[3] == ABSENT],
)
def test_unknown_key_is_decided_as_absent_and_reported(
    operator: str, values: Any, present: tuple[str, ...], expected: bool
) -> None:
    condition = {operator: {KEY: values}}
    decision = decide(policy(statement(Condition=condition)))
    assert decision.allowed is expected
    assert decision.missing_context == (KEY,)


def test_condition_key_names_ignore_case() -> None:
    written = policy(statement(Condition={"StringEquals": {"AWS:RequestedRegion": "eu-west-1"}}))
    decision = decide(written, context={"aws:requestedregion": ("eu-west-1",)})
    assert decision.allowed
    assert decision.missing_context == ()


def test_keys_in_one_operator_must_all_hold() -> None:
    condition = {"StringEquals": {"a:one": "1", "a:two": "2"}}
    written = policy(statement(Condition=condition))
    assert decide(written, context={"a:one": ("1",), "a:two": ("2",)}).allowed
    assert not decide(written, context={"a:one": ("1",), "a:two": ("3",)}).allowed


def test_operators_must_all_hold() -> None:
    condition = {"StringEquals": {"a:one": "1"}, "NumericLessThan": {"a:two": "5"}}
    written = policy(statement(Condition=condition))
    assert decide(written, context={"a:one": ("1",), "a:two": ("4",)}).allowed
    assert not decide(written, context={"a:one": ("1",), "a:two": ("6",)}).allowed


def test_empty_condition_block_always_holds() -> None:
    assert decide(policy(statement(Condition={}))).allowed


def test_condition_values_are_kept_as_written_strings() -> None:
    written = policy(statement(Condition={"NumericEquals": {KEY: [1, 2.5]}, "Bool": {"b:c": True}}))
    conditions = written.statements[0].conditions
    assert [c.values for c in conditions] == [("1", "2.5"), ("true",)]
    assert [c.operator for c in conditions] == ["NumericEquals", "Bool"]
