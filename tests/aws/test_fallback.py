"""A principal's own policies are read from IAM exactly as IAM would evaluate them."""

from __future__ import annotations

from typing import Any

import pytest
from aws_fakes import ACCOUNT, TRUST, CallCounter, allow, clients_for, deny, managed, policy, refuse

from wsgw_doctor.aws.fallback import FallbackDenied, fetch_policies, managed_label
from wsgw_doctor.engine import PolicySet, Request, evaluate
from wsgw_doctor.errors import InputError

USER = f"arn:aws:iam::{ACCOUNT}:user/people/bob"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deploy/app-deployer"


def _decide(policies: PolicySet, action: str, resource: str = "*") -> str:
    return evaluate(Request(action, resource, {}), policies).decision


@pytest.fixture
def bob(admin: Any) -> dict[str, str]:
    """A user with inline, managed and group policies; one managed policy on both."""
    shared = managed(
        admin,
        "Shared",
        policy(allow("sqs:SendMessage")),
        policy(allow("sns:Publish")),
        policy(allow("ses:SendEmail")),
        default=2,
        path="/team/",
    )
    group_only = managed(admin, "GroupOnly", policy(allow("s3:GetObject")))
    admin.create_user(UserName="bob", Path="/people/")
    admin.put_user_policy(
        UserName="bob", PolicyName="Own", PolicyDocument=policy(allow("dynamodb:GetItem"))
    )
    admin.attach_user_policy(UserName="bob", PolicyArn=shared)
    admin.create_group(GroupName="devs", Path="/eng/")
    admin.add_user_to_group(GroupName="devs", UserName="bob")
    admin.put_group_policy(
        GroupName="devs", PolicyName="DenyDelete", PolicyDocument=policy(deny("s3:DeleteObject"))
    )
    admin.attach_group_policy(GroupName="devs", PolicyArn=shared)
    admin.attach_group_policy(GroupName="devs", PolicyArn=group_only)
    return {"shared": shared, "group_only": group_only}


def test_a_user_has_its_own_its_managed_and_its_groups_policies(bob: dict[str, str]) -> None:
    fetched = fetch_policies(clients_for().iam, USER)

    assert fetched.labels == (
        "user/bob:inline/Own",
        "policy/team/Shared(v2)",
        "group/devs:inline/DenyDelete",
        "policy/GroupOnly(v1)",
    )
    assert fetched.policy_set.boundary is None


def test_managed_policies_are_read_at_their_default_version_not_their_latest(
    bob: dict[str, str],
) -> None:
    policies = fetch_policies(clients_for().iam, USER).policy_set

    assert _decide(policies, "sns:Publish") == "allowed"
    assert _decide(policies, "ses:SendEmail") == "implicitDeny"
    assert _decide(policies, "sqs:SendMessage") == "implicitDeny"
    assert _decide(policies, "s3:DeleteObject") == "explicitDeny"


def test_a_managed_policy_on_the_user_and_its_group_is_read_once(
    bob: dict[str, str], calls: CallCounter
) -> None:
    iam = clients_for().iam
    calls.watch(iam)

    fetch_policies(iam, USER)

    assert calls.counts["GetPolicy"] == 2
    assert calls.counts["GetPolicyVersion"] == 2


def test_a_role_has_its_policies_and_its_permissions_boundary(admin: Any) -> None:
    boundary = managed(
        admin,
        "Boundary",
        policy(allow("*")),
        policy(allow(["apigateway:*", "iam:PassRole"])),
        default=2,
    )
    attached = managed(admin, "Deploy", policy(allow("apigateway:*")))
    admin.create_role(
        RoleName="app-deployer",
        Path="/deploy/",
        AssumeRolePolicyDocument=TRUST,
        PermissionsBoundary=boundary,
    )
    admin.put_role_policy(
        RoleName="app-deployer", PolicyName="Logs", PolicyDocument=policy(allow("logs:*"))
    )
    admin.attach_role_policy(RoleName="app-deployer", PolicyArn=attached)

    fetched = fetch_policies(clients_for().iam, ROLE)

    assert fetched.labels == (
        "role/app-deployer:inline/Logs",
        "policy/Deploy(v1)",
        "policy/Boundary(v2)",
    )
    assert fetched.policy_set.boundary is not None
    assert _decide(fetched.policy_set, "apigateway:GET") == "allowed"
    assert _decide(fetched.policy_set, "logs:CreateLogGroup") == "implicitDeny"


def test_a_users_permissions_boundary_is_read_too(bob: dict[str, str], admin: Any) -> None:
    iam = clients_for().iam

    def with_boundary(parsed: dict[str, Any], **_: Any) -> None:
        # moto keeps no boundary for users; AWS returns it in GetUser like this.
        parsed["User"]["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": bob["group_only"],
        }

    iam.meta.events.register("after-call.iam.GetUser", with_boundary)

    fetched = fetch_policies(iam, USER)

    assert fetched.labels[-1] == "policy/GroupOnly(v1)"
    assert _decide(fetched.policy_set, "dynamodb:GetItem") == "implicitDeny"
    assert _decide(fetched.policy_set, "s3:GetObject") == "allowed"


def test_denied_reads_are_all_named_with_the_ways_on(admin: Any) -> None:
    admin.create_role(RoleName="app-deployer", Path="/deploy/", AssumeRolePolicyDocument=TRUST)
    admin.put_role_policy(
        RoleName="app-deployer", PolicyName="Logs", PolicyDocument=policy(allow("logs:*"))
    )
    iam = clients_for().iam
    refuse(iam, "GetRolePolicy")
    refuse(iam, "ListAttachedRolePolicies")

    with pytest.raises(FallbackDenied) as raised:
        fetch_policies(iam, ROLE)

    assert raised.value.denied == (
        ("iam:GetRolePolicy", ROLE),
        ("iam:ListAttachedRolePolicies", ROLE),
    )
    assert raised.value.message == (
        f"cannot read the policies of {ROLE}: denied iam:GetRolePolicy on {ROLE}, "
        f"iam:ListAttachedRolePolicies on {ROLE}"
    )
    assert raised.value.hint == (
        "pass --policy FILE for each policy, or run as a principal allowed "
        f"iam:SimulatePrincipalPolicy on {ROLE}"
    )
    assert raised.value.exit_code == 3


def test_a_denied_managed_policy_read_names_the_policy(bob: dict[str, str]) -> None:
    iam = clients_for().iam
    refuse(iam, "GetPolicyVersion")

    with pytest.raises(FallbackDenied) as raised:
        fetch_policies(iam, USER)

    assert raised.value.denied == (
        ("iam:GetPolicyVersion", bob["shared"]),
        ("iam:GetPolicyVersion", bob["group_only"]),
    )


def test_a_principal_that_does_not_exist_is_an_input_error(aws: None) -> None:
    with pytest.raises(InputError, match="does not exist"):
        fetch_policies(clients_for().iam, ROLE)


def test_aws_managed_policies_are_labelled_apart_from_the_accounts_own() -> None:
    assert (
        managed_label("arn:aws:iam::aws:policy/ReadOnlyAccess", "v9")
        == "aws:policy/ReadOnlyAccess(v9)"
    )
    assert (
        managed_label(f"arn:aws:iam::{ACCOUNT}:policy/a/b/Deploy", "v3") == "policy/a/b/Deploy(v3)"
    )
