"""The engine against moto's IAM evaluator, on random condition-free policies.

moto's ``IAMPolicy.is_action_permitted`` is an independent implementation of the same
Allow/Deny logic, so where the two are meant to agree they must. They are meant to differ
in a few places, and the generated cases stay out of those:

* moto compares actions case-sensitively; IAM (and the engine) does not. Actions here are
  all lower case.
* moto turns a pattern into a regex by replacing ``*`` with ``.*`` and nothing else, so
  ``?``, ``.`` and other regex characters keep their regex meaning. Patterns here use no
  ``?`` and no regex characters.
* moto lets every ``*`` cross colons. The IAM guide lets a ``*`` cross a colon only when it
  ends an ARN segment. The two readings give the same answer unless a pattern has a ``*``
  inside a segment and the resource has more colons than the pattern; those cases are
  skipped.
* moto answers "permitted" for any statement without a Resource element, Deny included,
  so NotResource is left out.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine_support import decide
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from moto.iam.access_control import IAMPolicy, PermissionResult

from wsgw_doctor.engine import parse_policy

MOTO = {
    PermissionResult.PERMITTED: "allowed",
    PermissionResult.DENIED: "explicitDeny",
    PermissionResult.NEUTRAL: "implicitDeny",
}

SERVICES = ["svc", "abc"]
NAMES = ["get", "getitem", "put", "list"]
ACTION_PATTERNS = [
    "*",
    "svc:*",
    "svc:get",
    "svc:get*",
    "svc:*item",
    "abc:p*t",
    "abc:list",
    "*:get",
]
PARTS = ["a", "b", "a/b", "x/y/z", "a:b", "q:r/s"]
PATTERN_PARTS = [*PARTS, "*", "a/*", "*/b", "x/*/z", "a*b", "a:*", "*:b"]

actions = st.builds(lambda s, n: f"{s}:{n}", st.sampled_from(SERVICES), st.sampled_from(NAMES))
prefixes = st.builds(
    lambda service, region, account: f"arn:aws:{service}:{region}:{account}:",
    st.sampled_from(["svc", "abc"]),
    st.sampled_from(["eu-west-1", ""]),
    st.sampled_from(["123456789012", ""]),
)
resources = st.builds(lambda prefix, part: prefix + part, prefixes, st.sampled_from(PARTS))
pattern_prefixes = st.builds(
    lambda service, region, account: f"arn:aws:{service}:{region}:{account}:",
    st.sampled_from(["svc", "abc"]),
    st.sampled_from(["eu-west-1", "", "*", "eu-*"]),
    st.sampled_from(["123456789012", "", "*"]),
)
resource_patterns = st.sampled_from(["*", "arn:aws:svc:*", "arn:aws:*"]) | st.builds(
    lambda prefix, part: prefix + part, pattern_prefixes, st.sampled_from(PATTERN_PARTS)
)


def one_or_many(items: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return items | st.lists(items, min_size=1, max_size=3)


statements = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Allow", "Deny"]),
        "Resource": one_or_many(resource_patterns),
    },
    optional={"Sid": st.sampled_from(["One", "Two"])},
).flatmap(
    lambda statement: st.sampled_from(["Action", "NotAction"]).flatmap(
        lambda element: one_or_many(st.sampled_from(ACTION_PATTERNS)).map(
            lambda value: {**statement, element: value}
        )
    )
)
documents = st.builds(
    lambda statements, single: {
        "Version": "2012-10-17",
        "Statement": statements[0] if single else statements,
    },
    st.lists(statements, min_size=1, max_size=5),
    st.booleans(),
)

_INNER_STAR = re.compile(r"\*(?!:|$)")


def readings_differ(doc: dict[str, Any], resource: str) -> bool:
    """Whether a pattern could match ``resource`` in moto's reading but not in IAM's."""
    raw = doc["Statement"]
    listed = raw if isinstance(raw, list) else [raw]
    for statement in listed:
        patterns = statement["Resource"]
        for pattern in [patterns] if isinstance(patterns, str) else patterns:
            if _INNER_STAR.search(pattern) and pattern.count(":") < resource.count(":"):
                return True
    return False


@settings(max_examples=400, deadline=None)
@given(documents, actions, resources)
def test_engine_agrees_with_moto(doc: dict[str, Any], action: str, resource: str) -> None:
    assume(not readings_differ(doc, resource))
    text = json.dumps(doc)
    ours = decide(parse_policy(text, "p.json"), action=action, resource=resource).decision
    theirs = MOTO[IAMPolicy(text).is_action_permitted(action, resource)]
    assert ours == theirs, f"{action} on {resource} under {text}"


def test_cases_cover_every_outcome() -> None:
    text = json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "svc:*", "Resource": "arn:aws:svc:*"},
                {"Effect": "Deny", "Action": "svc:put", "Resource": "*"},
            ]
        }
    )
    moto_policy, ours = IAMPolicy(text), parse_policy(text, "p.json")
    for action, expected in [
        ("svc:get", "allowed"),
        ("svc:put", "explicitDeny"),
        ("abc:get", "implicitDeny"),
    ]:
        resource = "arn:aws:svc:eu-west-1:123456789012:a/b"
        assert MOTO[moto_policy.is_action_permitted(action, resource)] == expected
        assert decide(ours, action=action, resource=resource).decision == expected
