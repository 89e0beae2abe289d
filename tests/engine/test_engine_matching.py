"""Action and Resource matching: wildcards, case rules, and the Not- forms."""

from __future__ import annotations

import pytest
from engine_support import decide, policy, statement

# (id, Action pattern, requested action, expected)
ACTIONS = [
    ("exact", "apigateway:POST", "apigateway:POST", True),
    ("case-of-name", "apigateway:post", "apigateway:POST", True),
    ("case-of-service", "APIGateway:POST", "apigateway:POST", True),
    ("other-action", "apigateway:POST", "apigateway:GET", False),
    ("other-service", "apigateway:POST", "execute-api:POST", False),
    ("star-suffix", "apigateway:P*", "apigateway:PATCH", True),
    ("star-suffix-miss", "apigateway:P*", "apigateway:GET", False),
    ("star-inside", "iam:*AccessKey*", "iam:CreateAccessKey", True),
    ("question", "apigateway:?ET", "apigateway:GET", True),
    ("question-one-char", "apigateway:?ET", "apigateway:GGET", False),
    ("service-star", "apigateway:*", "apigateway:DELETE", True),
    ("everything", "*", "route53:GetChange", True),
]


@pytest.mark.parametrize(
    ("pattern", "action", "expected"), [c[1:] for c in ACTIONS], ids=[c[0] for c in ACTIONS]
)
def test_action(pattern: str, action: str, expected: bool) -> None:
    assert decide(policy(statement(action=pattern)), action=action).allowed is expected


@pytest.mark.parametrize(
    ("pattern", "action", "expected"), [c[1:] for c in ACTIONS], ids=[c[0] for c in ACTIONS]
)
def test_not_action_is_the_complement(pattern: str, action: str, expected: bool) -> None:
    written = policy(statement(action=None, NotAction=pattern))
    assert decide(written, action=action).allowed is not expected


def test_action_list_is_any_of() -> None:
    written = policy(statement(action=["iam:PassRole", "apigateway:GET"]))
    assert decide(written, action="apigateway:GET").allowed
    assert not decide(written, action="apigateway:POST").allowed


APIS = "arn:aws:apigateway:eu-west-1::/apis"
LOGS = "arn:aws:logs:eu-west-1:123456789012:log-group"

# (id, Resource pattern, requested resource, expected)
RESOURCES = [
    ("exact", f"{APIS}/abc", f"{APIS}/abc", True),
    ("case-sensitive", "arn:aws:iam::1:role/Admin", "arn:aws:iam::1:role/admin", False),
    ("everything", "*", f"{APIS}/abc", True),
    ("star-spans-slash", "arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c", True),
    ("star-empty", "arn:aws:s3:::b/*", "arn:aws:s3:::b/", True),
    ("star-inside-path", "arn:aws:s3:::b/*/test/*", "arn:aws:s3:::b/1/2/test/3/x.jpg", True),
    ("star-inside-path-miss", "arn:aws:s3:::b/*/test/*", "arn:aws:s3:::b/1-test/x.jpg", False),
    ("segment-end-star-spans-colons", "arn:aws:apigateway:*", f"{APIS}/abc", True),
    ("region-star", "arn:aws:apigateway:*::/apis/*", f"{APIS}/abc/routes/r1", True),
    ("resource-part-star-spans-colon", f"{LOGS}:*", f"{LOGS}:/a/b:log-stream:c", True),
    (
        "mid-segment-star-stays-in-segment",
        "arn:aws:execute-api:eu-*1:123456789012:api/*",
        "arn:aws:execute-api:eu-west:9:1:123456789012:api/x",
        False,
    ),
    (
        "mid-segment-star-within-segment",
        "arn:aws:execute-api:eu-*1:123456789012:api/*",
        "arn:aws:execute-api:eu-west-1:123456789012:api/x",
        True,
    ),
    ("question-not-colon", "arn:aws:s3:::a?b", "arn:aws:s3:::a:b", False),
    ("question-slash", "arn:aws:s3:::a?b", "arn:aws:s3:::a/b", True),
    ("dot-is-literal", "arn:aws:s3:::a.b", "arn:aws:s3:::axb", False),
    ("brackets-are-literal", "arn:aws:s3:::(x)[y]", "arn:aws:s3:::(x)[y]", True),
    ("other-arn", f"{APIS}/abc", f"{APIS}/abd", False),
]


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [c[1:] for c in RESOURCES],
    ids=[c[0] for c in RESOURCES],
)
def test_resource(pattern: str, resource: str, expected: bool) -> None:
    assert decide(policy(statement(resource=pattern)), resource=resource).allowed is expected


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [c[1:] for c in RESOURCES],
    ids=[c[0] for c in RESOURCES],
)
def test_not_resource_is_the_complement(pattern: str, resource: str, expected: bool) -> None:
    written = policy(statement(resource=None, NotResource=pattern))
    assert decide(written, resource=resource).allowed is not expected


def test_deny_with_not_resource_spares_the_listed_resources() -> None:
    written = policy(
        statement(),
        statement("Deny", resource=None, NotResource=["arn:aws:iam::1:role/keep-*"]),
    )
    assert decide(written, resource="arn:aws:iam::1:role/keep-me").allowed
    assert decide(written, resource="arn:aws:iam::1:role/other").decision == "explicitDeny"


def test_statement_needs_both_action_and_resource() -> None:
    written = policy(statement(action="apigateway:GET", resource=f"{APIS}/abc"))
    assert not decide(written, action="apigateway:GET", resource=f"{APIS}/xyz").allowed
    assert not decide(written, action="apigateway:POST", resource=f"{APIS}/abc").allowed
    assert decide(written, action="apigateway:GET", resource=f"{APIS}/abc").allowed
