"""Whatever a policy file holds, the engine answers with a Decision or a PolicyError.

Random JSON values, random policy-shaped documents (valid and invalid parts mixed), random
text and random bytes go through the loader, and whatever loads is evaluated on random
requests. Any other exception is a bug.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsgw_doctor.engine import (
    Decision,
    Policy,
    PolicyError,
    PolicySet,
    Request,
    evaluate,
    parse_policy,
    parse_policy_document,
)
from wsgw_doctor.engine.conditions import OPERATOR_NAMES

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)

ACTIONS = ["*", "apigateway:*", "apigateway:GET", "iam:Pass*", "s3:?et*", "a:b", "bad", "", "x y:z"]
RESOURCES = [
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:apigateway:*::/apis/*",
    "arn:aws:iam::123456789012:user/${aws:username}",
    "arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/*",
    "arn:aws:s3:::${*}${?}${$}${}",
    "arn:aws:logs:*:*:log-group:*",
    "arn:aws:iam::*-x?:role/*",
    "not-an-arn",
    "",
]
KEYS = ["aws:username", "aws:PrincipalTag/team", "aws:SourceIp", "test:Key", "AWS:CurrentTime", ""]
VALUES = [
    "alice",
    "10.0.0.1",
    "2001:db8::1",
    "10.0.0.0/8",
    "2024-01-01T00:00:00Z",
    "1704067200",
    "12",
    "-3.5",
    "true",
    "QmluYXJ5",
    "arn:aws:iam::1:role/x",
    "${aws:username}",
    "*",
    "",
]
JUNK_OPERATORS = ["StringEqual", "ForSome:StringLike", "NullIfExists", "IfExists", "", "Bool:x"]
OPERATORS = [*OPERATOR_NAMES, *(f"ForAllValues:{n}" for n in OPERATOR_NAMES[:8]), *JUNK_OPERATORS]


def one_or_many(items: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return items | st.lists(items, max_size=3) | scalars


condition_values = one_or_many(st.sampled_from(VALUES) | st.integers() | st.booleans())
junk_conditions = (
    st.dictionaries(
        st.sampled_from(OPERATORS),
        st.dictionaries(st.sampled_from(KEYS), condition_values, max_size=3) | scalars,
        max_size=3,
    )
    | json_values
)

# Operators with values they accept, so that many generated policies load.
FAMILIES: list[tuple[list[str], list[Any]]] = [
    (
        ["StringEquals", "StringNotLike", "StringEqualsIgnoreCase"],
        ["alice", "${aws:username}", "a*"],
    ),
    (["NumericLessThan", "NumericEquals"], ["12", -3.5, 7]),
    (["DateGreaterThan", "DateEquals"], ["2024-01-01T00:00:00Z", "1704067200"]),
    (["Bool"], ["true", False]),
    (["IpAddress", "NotIpAddress"], ["10.0.0.0/8", "2001:db8::/32"]),
    (["ArnLike", "ArnNotEquals"], ["arn:aws:iam::*:role/*", "arn:aws:*"]),
    (["Null"], ["true", "false"]),
    (["BinaryEquals"], ["QmluYXJ5"]),
]


@st.composite
def operator_blocks(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    names, values = draw(st.sampled_from(FAMILIES))
    name = draw(st.sampled_from(names))
    if name != "Null":
        name = draw(st.sampled_from(["", "ForAllValues:", "ForAnyValue:"])) + name
        name += draw(st.sampled_from(["", "IfExists"]))
    keys = draw(st.lists(st.sampled_from(KEYS[:-1]), min_size=1, max_size=2, unique=True))
    chosen = st.sampled_from(values)
    return name, {key: draw(chosen | st.lists(chosen, max_size=3)) for key in keys}


conditions = st.lists(operator_blocks(), max_size=3).map(dict) | junk_conditions
valid_actions = st.sampled_from(ACTIONS[:6]) | st.lists(st.sampled_from(ACTIONS[:6]), min_size=1)
valid_resources = st.sampled_from(RESOURCES[:8]) | st.lists(
    st.sampled_from(RESOURCES[:8]), min_size=1
)


@st.composite
def valid_statements(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    statement[draw(st.sampled_from(["Action", "NotAction"]))] = draw(valid_actions)
    statement[draw(st.sampled_from(["Resource", "NotResource"]))] = draw(valid_resources)
    if draw(st.booleans()):
        statement["Condition"] = draw(st.lists(operator_blocks(), max_size=3).map(dict))
    return statement


junk_statements = st.fixed_dictionaries(
    {},
    optional={
        "Sid": st.text(max_size=4) | st.integers(),
        "Effect": st.sampled_from(["Allow", "Deny", "allow", ""]) | scalars,
        "Action": one_or_many(st.sampled_from(ACTIONS)),
        "NotAction": one_or_many(st.sampled_from(ACTIONS)),
        "Resource": one_or_many(st.sampled_from(RESOURCES)),
        "NotResource": one_or_many(st.sampled_from(RESOURCES)),
        "Condition": conditions,
        "Principal": json_values,
        "Actions": scalars,
    },
)
statements = valid_statements() | valid_statements() | junk_statements
documents = st.fixed_dictionaries(
    {"Statement": st.lists(statements, min_size=1, max_size=4) | statements},
    optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17"])},
) | st.fixed_dictionaries(
    {},
    optional={
        "Version": st.sampled_from(["2012-10-17", "2008-10-17", "2012-10-18"]) | scalars,
        "Statement": statements | st.lists(statements, max_size=4) | json_values,
        "Id": scalars,
    },
)
contexts = st.dictionaries(
    st.sampled_from(KEYS).map(str.lower),
    st.lists(st.sampled_from(VALUES), max_size=3).map(tuple),
    max_size=4,
)
requests = st.builds(
    Request,
    action=st.sampled_from(["apigateway:GET", "iam:PassRole", "s3:GetObject"])
    | st.text(max_size=8),
    resource=st.sampled_from(
        [
            "arn:aws:s3:::bucket/a/b",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:s3:::b/shared/x",
            "arn:aws:apigateway:eu-west-1::/apis/x",
        ]
    )
    | st.text(max_size=12),
    context=contexts,
)


def attempt(call: Callable[[], Policy]) -> Policy | None:
    """Run a loader call; a PolicyError must be one line naming the source."""
    try:
        return call()
    except PolicyError as error:
        caught = error
    assert "\n" not in str(caught)
    assert str(caught).startswith("fuzz.json")
    return None


def load(doc: object) -> Policy | None:
    return attempt(lambda: parse_policy_document(doc, "fuzz.json"))


def check(policy: Policy, request: Request) -> None:
    decision = evaluate(request, PolicySet((policy,), boundary=policy, scps=(policy,)))
    assert isinstance(decision, Decision)
    assert decision.decision in ("allowed", "implicitDeny", "explicitDeny")
    lowered = [key.lower() for key in decision.missing_context]
    assert lowered == sorted(set(lowered))
    assert (decision.denied_by is None) == (decision.decision == "allowed")


@SETTINGS
@given(json_values, requests)
def test_any_json_value(doc: object, request: Request) -> None:
    policy = load(doc)
    if policy is not None:
        check(policy, request)


@SETTINGS
@given(documents, st.lists(requests, min_size=1, max_size=3))
def test_policy_shaped_documents(doc: dict[str, Any], batch: list[Request]) -> None:
    policy = load(doc)
    if policy is not None:
        for request in batch:
            check(policy, request)


@SETTINGS
@given(documents)
def test_text_and_decoded_document_agree(doc: dict[str, Any]) -> None:
    try:
        text = json.dumps(doc, indent=1, allow_nan=False)
    except ValueError:
        return
    try:
        from_text: object = parse_policy(text, "fuzz.json")
    except PolicyError as error:
        from_text = (error.location, error.message)
    try:
        from_doc: object = parse_policy_document(json.loads(text), "fuzz.json")
    except PolicyError as error:
        from_doc = (error.location, error.message)
    assert from_text == from_doc


@SETTINGS
@given(st.text(max_size=60) | st.sampled_from(['{"Statement": [', "{}", "[1,", '{"a": NaN}']))
def test_random_text(text: str) -> None:
    attempt(lambda: parse_policy(text, "fuzz.json"))


@SETTINGS
@given(st.binary(max_size=60))
def test_random_bytes(data: bytes) -> None:
    attempt(lambda: parse_policy(data, "fuzz.json"))
