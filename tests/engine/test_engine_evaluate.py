"""Decisions across statements and levels: Deny over Allow, boundaries, SCPs, sessions,
the statements named in explanations, and which unknown context keys are reported."""

from __future__ import annotations

import pytest
from engine_support import decide, policy, statement

from wsgw_doctor.engine import Match, PolicySet

REGION = "aws:RequestedRegion"
IN_REGION = {"StringEquals": {REGION: "eu-west-1"}}
OUT_OF_REGION = {"StringNotEquals": {REGION: "eu-west-1"}}


def allow(**extra: object) -> dict[str, object]:
    return statement("Allow", **extra)


def deny(**extra: object) -> dict[str, object]:
    return statement("Deny", **extra)


def test_nothing_applies_is_implicit_deny() -> None:
    decision = decide(policy(allow(action="iam:PassRole")))
    assert (decision.decision, decision.matched, decision.denied_by) == (
        "implicitDeny",
        (),
        "identity",
    )


def test_deny_beats_allow_in_one_policy() -> None:
    decision = decide(policy(allow(), deny(Sid="No")))
    assert decision.decision == "explicitDeny"
    assert decision.matched == (Match("p.json", 1, "No", "Deny", "identity"),)
    assert decision.denied_by == "identity"


def test_identity_policies_are_one_level() -> None:
    granted = policy(allow(Sid="Grant"), source="a.json")
    refused = policy(deny(Sid="Refuse"), source="b.json")
    assert decide(PolicySet((granted,))).allowed
    decision = decide(PolicySet((granted, refused)))
    assert decision.matched == (Match("b.json", 0, "Refuse", "Deny", "identity"),)


def test_allowed_names_every_identity_allow_in_order() -> None:
    first = policy(allow(Sid="A"), allow(action="other:Thing"), allow(Sid="B"), source="a.json")
    second = policy(allow(), source="b.json")
    decision = decide(PolicySet((first, second), boundary=policy(allow(), source="bd.json")))
    assert decision.allowed
    assert decision.denied_by is None
    assert decision.matched == (
        Match("a.json", 0, "A", "Allow", "identity"),
        Match("a.json", 2, "B", "Allow", "identity"),
        Match("b.json", 0, None, "Allow", "identity"),
    )


# (id, identity, boundary, decision, denied_by)
BOUNDARY = [
    ("both-allow", allow(), allow(), "allowed", None),
    ("boundary-silent", allow(), allow(action="iam:*"), "implicitDeny", "boundary"),
    ("identity-silent", allow(action="iam:*"), allow(), "implicitDeny", "identity"),
    ("boundary-denies", allow(), deny(), "explicitDeny", "boundary"),
]


@pytest.mark.parametrize(
    ("identity", "boundary", "verdict", "denied_by"),
    [c[1:] for c in BOUNDARY],
    ids=[c[0] for c in BOUNDARY],
)
def test_permissions_boundary(
    identity: dict[str, object], boundary: dict[str, object], verdict: str, denied_by: str | None
) -> None:
    policies = PolicySet((policy(identity),), boundary=policy(boundary, source="boundary.json"))
    decision = decide(policies)
    assert (decision.decision, decision.denied_by) == (verdict, denied_by)


def test_boundary_deny_is_named_at_its_level() -> None:
    policies = PolicySet((policy(allow()),), boundary=policy(deny(Sid="Cap"), source="bd.json"))
    assert decide(policies).matched == (Match("bd.json", 0, "Cap", "Deny", "boundary"),)


def test_every_scp_must_allow() -> None:
    scps = (policy(allow(), source="root.json"), policy(allow(action="iam:*"), source="ou.json"))
    decision = decide(PolicySet((policy(allow()),), scps=scps))
    assert (decision.decision, decision.denied_by) == ("implicitDeny", "scp:ou.json")


def test_scp_deny_anywhere_denies() -> None:
    scps = (policy(allow(), source="root.json"), policy(allow(), deny(), source="ou.json"))
    decision = decide(PolicySet((policy(allow()),), scps=scps))
    assert (decision.decision, decision.denied_by) == ("explicitDeny", "scp:ou.json")
    assert decision.matched == (Match("ou.json", 1, None, "Deny", "scp"),)


def test_session_policy_must_allow() -> None:
    silent = PolicySet((policy(allow()),), session=policy(allow(action="iam:*")))
    assert decide(silent).denied_by == "session"
    granted = PolicySet((policy(allow()),), session=policy(allow()))
    assert decide(granted).allowed


def test_identity_is_blamed_first_when_several_levels_refuse() -> None:
    silent = allow(action="iam:*")
    policies = PolicySet(
        (policy(silent),), boundary=policy(silent), scps=(policy(silent),), session=policy(silent)
    )
    assert decide(policies).denied_by == "identity"


def test_deny_statements_from_every_level_are_named() -> None:
    policies = PolicySet(
        (policy(allow(), deny(), source="id.json"),),
        scps=(policy(allow(), source="root.json"), policy(deny(), source="ou.json")),
        session=policy(deny(), source="s.json"),
    )
    decision = decide(policies)
    assert [(m.source, m.level) for m in decision.matched] == [
        ("id.json", "identity"),
        ("ou.json", "scp"),
        ("s.json", "session"),
    ]
    assert decision.denied_by == "identity"


def test_unknown_key_in_applicable_deny_is_reported() -> None:
    decision = decide(policy(allow(), deny(Condition=OUT_OF_REGION)))
    assert decision.decision == "explicitDeny"
    assert decision.missing_context == (REGION,)


def test_deny_that_would_not_apply_still_reports_its_key() -> None:
    decision = decide(policy(allow(), deny(Condition={"StringEquals": {REGION: "us-east-1"}})))
    assert decision.allowed
    assert decision.missing_context == (REGION,)


def test_certain_deny_makes_unknown_keys_irrelevant() -> None:
    decision = decide(policy(allow(Condition=IN_REGION), deny(), deny(Condition=OUT_OF_REGION)))
    assert decision.decision == "explicitDeny"
    assert decision.missing_context == ()


def test_unknown_key_of_allow_is_reported_when_nothing_else_allows() -> None:
    decision = decide(policy(allow(Condition=IN_REGION)))
    assert decision.decision == "implicitDeny"
    assert decision.missing_context == (REGION,)


def test_certain_allow_makes_other_allows_keys_irrelevant() -> None:
    decision = decide(policy(allow(Condition=IN_REGION), allow()))
    assert decision.allowed
    assert decision.missing_context == ()


def test_statements_that_cannot_apply_report_nothing() -> None:
    decision = decide(
        policy(
            allow(action="iam:*", Condition=IN_REGION),
            allow(resource="arn:aws:s3:::other", Condition=IN_REGION),
            allow(Condition={"StringEquals": {"a:known": "x", REGION: "eu-west-1"}}),
        ),
        context={"a:known": ("y",)},
    )
    assert decision.decision == "implicitDeny"
    assert decision.missing_context == ()


def test_keys_are_deduplicated_in_first_spelling_and_sorted() -> None:
    decision = decide(
        policy(
            allow(Condition={"StringEquals": {"Z:Last": "1", "AWS:RequestedRegion": "x"}}),
            allow(Condition={"StringEquals": {"aws:requestedregion": "y", "a:First": "1"}}),
        )
    )
    assert decision.missing_context == ("a:First", "AWS:RequestedRegion", "Z:Last")


def test_unknown_keys_of_other_levels_are_reported() -> None:
    policies = PolicySet((policy(allow()),), boundary=policy(allow(Condition=IN_REGION)))
    decision = decide(policies)
    assert (decision.decision, decision.denied_by) == ("implicitDeny", "boundary")
    assert decision.missing_context == (REGION,)


def test_known_context_reports_nothing() -> None:
    written = policy(allow(Condition=IN_REGION), deny(Condition=OUT_OF_REGION))
    inside = decide(written, context={REGION: ("eu-west-1",)})
    outside = decide(written, context={REGION: ("us-east-1",)})
    assert (inside.decision, inside.missing_context) == ("allowed", ())
    assert (outside.decision, outside.missing_context) == ("explicitDeny", ())


def test_known_absent_key_is_not_missing() -> None:
    decision = decide(policy(allow(Condition=IN_REGION)), context={REGION: ()})
    assert (decision.decision, decision.missing_context) == ("implicitDeny", ())


def test_empty_policy_set_denies() -> None:
    decision = decide(PolicySet(()))
    assert (decision.decision, decision.denied_by) == ("implicitDeny", "identity")


def test_same_policy_answers_different_actions() -> None:
    written = policy(allow(action="apigateway:GET"), deny(action="apigateway:DELETE"))
    assert decide(written, action="APIGATEWAY:get").allowed
    assert decide(written, action="apigateway:DELETE").decision == "explicitDeny"
    assert decide(written, action="apigateway:PATCH").decision == "implicitDeny"
