"""Policy variables in Resource and condition values, their defaults and escapes."""

from __future__ import annotations

from engine_support import decide, policy, statement

from wsgw_doctor.engine import Policy

USERS = "arn:aws:iam::123456789012:user"
ALICE = {"aws:username": ("alice",)}


def own_user(version: str | None = "2012-10-17") -> Policy:
    return policy(statement(resource=f"{USERS}/${{aws:username}}"), version=version)


def test_variable_is_filled_from_context() -> None:
    written = own_user()
    assert decide(written, resource=f"{USERS}/alice", context=ALICE).allowed
    assert not decide(written, resource=f"{USERS}/bob", context=ALICE).allowed


def test_variable_key_ignores_case() -> None:
    written = policy(statement(resource=f"{USERS}/${{AWS:UserName}}"))
    assert decide(written, resource=f"{USERS}/alice", context=ALICE).allowed


def test_principal_account_and_any_context_key() -> None:
    written = policy(
        statement(resource="arn:aws:iam::${aws:PrincipalAccount}:role/${aws:PrincipalTag/team}-*")
    )
    context = {"aws:PrincipalAccount": ("123456789012",), "aws:PrincipalTag/team": ("web",)}
    assert decide(written, resource="arn:aws:iam::123456789012:role/web-x", context=context).allowed
    assert not decide(written, resource="arn:aws:iam::999:role/web-x", context=context).allowed


def test_value_is_literal_not_a_wildcard() -> None:
    written = own_user()
    assert not decide(written, resource=f"{USERS}/bob", context={"aws:username": ("*",)}).allowed
    assert decide(written, resource=f"{USERS}/*", context={"aws:username": ("*",)}).allowed


def test_known_absent_key_without_default_matches_nothing() -> None:
    decision = decide(own_user(), resource=f"{USERS}/", context={"aws:username": ()})
    assert decision.decision == "implicitDeny"
    assert decision.missing_context == ()


def test_multivalued_key_cannot_be_substituted() -> None:
    context = {"aws:username": ("alice", "bob")}
    assert not decide(own_user(), resource=f"{USERS}/alice", context=context).allowed


def test_default_is_used_when_key_is_absent() -> None:
    written = policy(statement(resource=f"{USERS}/${{aws:PrincipalTag/team, 'shared'}}"))
    absent = {"aws:PrincipalTag/team": ()}
    assert decide(written, resource=f"{USERS}/shared", context=absent).allowed
    present = {"aws:PrincipalTag/team": ("web",)}
    assert decide(written, resource=f"{USERS}/web", context=present).allowed
    assert not decide(written, resource=f"{USERS}/shared", context=present).allowed


def test_default_for_unknown_key_decides_but_reports_the_key() -> None:
    written = policy(statement(resource=f"{USERS}/${{aws:PrincipalTag/team, 'shared'}}"))
    decision = decide(written, resource=f"{USERS}/shared")
    assert decision.allowed
    assert decision.missing_context == ("aws:PrincipalTag/team",)


def test_unknown_variable_is_reported_only_if_it_could_match() -> None:
    could = decide(own_user(), resource=f"{USERS}/alice")
    assert could.decision == "implicitDeny"
    assert could.missing_context == ("aws:username",)
    cannot = decide(own_user(), resource="arn:aws:s3:::bucket/alice")
    assert cannot.missing_context == ()


def test_escapes_are_literal_characters() -> None:
    written = policy(
        statement(resource=["arn:aws:s3:::b/${*}", "arn:aws:s3:::q${?}", "arn:aws:s3:::d${$}"])
    )
    assert decide(written, resource="arn:aws:s3:::b/*").allowed
    assert not decide(written, resource="arn:aws:s3:::b/x").allowed
    assert decide(written, resource="arn:aws:s3:::q?").allowed
    assert not decide(written, resource="arn:aws:s3:::qx").allowed
    assert decide(written, resource="arn:aws:s3:::d$").allowed


def test_without_version_variables_are_plain_text() -> None:
    for version in (None, "2008-10-17"):
        written = own_user(version)
        literal = decide(written, resource=f"{USERS}/${{aws:username}}", context=ALICE)
        assert literal.allowed, version
        filled = decide(written, resource=f"{USERS}/alice", context=ALICE)
        assert not filled.allowed, version
        assert filled.missing_context == (), version


def test_without_version_escapes_are_plain_text_and_wildcards_stay() -> None:
    written = policy(statement(resource="arn:aws:s3:::b/${*}"), version=None)
    assert decide(written, resource="arn:aws:s3:::b/${anything}").allowed


def test_variables_in_condition_values() -> None:
    written = policy(
        statement(
            Condition={
                "StringEquals": {"aws:PrincipalTag/owner": "${aws:username}"},
                "StringLike": {"s3:prefix": "${aws:username}/*"},
            }
        )
    )
    good = {**ALICE, "aws:PrincipalTag/owner": ("alice",), "s3:prefix": ("alice/docs",)}
    assert decide(written, context=good).allowed
    assert not decide(written, context={**good, "s3:prefix": ("bob/docs",)}).allowed


def test_unknown_variable_in_condition_is_reported() -> None:
    written = policy(
        statement(Condition={"StringEquals": {"aws:PrincipalTag/owner": "${aws:username}"}})
    )
    decision = decide(written, context={"aws:PrincipalTag/owner": ("alice",)})
    assert not decision.allowed
    assert decision.missing_context == ("aws:username",)


def test_variables_in_arn_condition() -> None:
    written = policy(
        statement(
            Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:${aws:PrincipalAccount}:*"}}
        )
    )
    context = {"aws:PrincipalAccount": ("111122223333",)}
    ok = {**context, "aws:SourceArn": ("arn:aws:sns:eu-west-1:111122223333:topic",)}
    assert decide(written, context=ok).allowed
    other = {**context, "aws:SourceArn": ("arn:aws:sns:eu-west-1:444455556666:topic",)}
    assert not decide(written, context=other).allowed


def test_condition_values_without_version_are_plain_text() -> None:
    written = policy(statement(Condition={"StringEquals": {"a:b": "${x:y}"}}), version=None)
    assert decide(written, context={"a:b": ("${x:y}",)}).allowed
