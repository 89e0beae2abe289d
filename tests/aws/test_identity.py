"""The caller is classified from STS, and role sessions are checked as their roles."""

from __future__ import annotations

from typing import Any

import pytest
from aws_fakes import ACCOUNT, TRUST, assume, clients_for, managed, policy, refuse, user_keys
from botocore.stub import Stubber

from wsgw_doctor.aws.identity import (
    NOT_SEEN,
    CheckedPrincipal,
    parse_principal_arn,
    require_checkable,
    resolve_principal,
)
from wsgw_doctor.errors import EvaluationError, InputError

SSO_PATH = "/aws-reserved/sso.amazonaws.com/eu-west-1/"
SSO_ROLE = "AWSReservedSSO_Deployer_0123456789abcdef"


def _role(admin: Any, name: str, path: str = "/", boundary: str | None = None) -> str:
    extra = {"PermissionsBoundary": boundary} if boundary else {}
    role = admin.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST, **extra)
    return str(role["Role"]["Arn"])


def test_an_iam_user_is_checked_as_itself_with_its_path(admin: Any) -> None:
    keys = user_keys(admin, "deployer", path="/ci/")

    checked = resolve_principal(clients_for(keys))

    assert checked.kind == "user"
    assert checked.arn == f"arn:aws:iam::{ACCOUNT}:user/ci/deployer"
    assert checked.caller_arn == checked.arn
    assert checked.account == ACCOUNT


def test_a_role_session_is_checked_as_the_role_with_its_path_and_boundary(admin: Any) -> None:
    boundary = managed(
        admin, "DeployBoundary", policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    )
    role_arn = _role(admin, "app-deployer", path="/deploy/", boundary=boundary)

    checked = resolve_principal(clients_for(assume(admin, role_arn, "job-42")))

    assert checked.kind == "role"
    assert checked.arn == role_arn == f"arn:aws:iam::{ACCOUNT}:role/deploy/app-deployer"
    assert checked.caller_arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/app-deployer/job-42"
    assert checked.boundary_arn == boundary
    assert (
        checked.notes[0]
        == f"checked the role {role_arn}, which the session job-42 was assumed from"
    )
    assert NOT_SEEN in checked.notes


def test_an_identity_center_role_is_found_under_its_reserved_path(admin: Any) -> None:
    role_arn = _role(admin, SSO_ROLE, path=SSO_PATH)

    checked = resolve_principal(clients_for(assume(admin, role_arn, "alice@example.com")))

    assert checked.arn == f"arn:aws:iam::{ACCOUNT}:role{SSO_PATH}{SSO_ROLE}"
    assert any("permission set" in note for note in checked.notes)


def test_an_unreadable_role_names_the_permission_and_the_way_around(admin: Any) -> None:
    role_arn = _role(admin, "app-deployer", path="/deploy/")
    clients = clients_for(assume(admin, role_arn))
    refuse(clients.iam, "GetRole")

    with pytest.raises(EvaluationError) as raised:
        resolve_principal(clients)

    assert raised.value.message == (
        "iam:GetRole on role app-deployer was denied, so the role's full ARN is unknown"
    )
    assert "--principal" in raised.value.hint


def _caller(arn: str) -> Any:
    clients = clients_for()
    stub = Stubber(clients.sts)
    stub.add_response(
        "get_caller_identity", {"UserId": "AIDAEXAMPLE", "Account": ACCOUNT, "Arn": arn}, {}
    )
    stub.activate()
    return clients


def test_a_federated_user_is_explained_not_checked() -> None:
    caller = f"arn:aws:sts::{ACCOUNT}:federated-user/build-bot"

    checked = resolve_principal(_caller(caller))

    assert (checked.kind, checked.arn, checked.checkable) == ("federated-user", None, False)
    assert (
        "intersection of the federating user's policies and the session policy" in checked.notes[0]
    )
    with pytest.raises(EvaluationError) as raised:
        require_checkable(checked)
    assert "--principal" in raised.value.hint
    assert "--policy" in raised.value.hint


def test_the_root_user_is_explained_not_checked() -> None:
    checked = resolve_principal(_caller(f"arn:aws:iam::{ACCOUNT}:root"))

    assert checked.kind == "root"
    with pytest.raises(EvaluationError) as raised:
        require_checkable(checked)
    assert "everything is allowed except what service control policies deny" in raised.value.message
    assert "not meaningful" in raised.value.message


def test_an_unknown_caller_form_is_an_error_not_a_guess() -> None:
    with pytest.raises(EvaluationError, match="neither an IAM user nor a role session"):
        resolve_principal(_caller(f"arn:aws:sts::{ACCOUNT}:user/moto"))


def test_principal_override_checks_another_principal_of_the_account() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/service/app-runtime"

    admin = f"arn:aws:iam::{ACCOUNT}:user/admin"

    checked = resolve_principal(_caller(admin), role)

    note = f"checked {role}, given with --principal, instead of the caller {admin}"
    assert checked == CheckedPrincipal("role", role, admin, ACCOUNT, (note, NOT_SEEN))


def test_principal_override_in_another_account_is_refused() -> None:
    other = "arn:aws:iam::210987654321:user/deployer"

    with pytest.raises(InputError, match="is in account 210987654321"):
        resolve_principal(_caller(f"arn:aws:iam::{ACCOUNT}:user/admin"), other)


BAD_PRINCIPALS = {
    "session, not role": f"arn:aws:sts::{ACCOUNT}:assumed-role/app/job",
    "group": f"arn:aws:iam::{ACCOUNT}:group/devs",
    "short account": "arn:aws:iam::12345:user/x",
    "no name": f"arn:aws:iam::{ACCOUNT}:role/",
    "not an ARN": "app-deployer",
}


@pytest.mark.parametrize("case", BAD_PRINCIPALS, ids=list(BAD_PRINCIPALS))
def test_principal_override_is_validated_and_named(case: str) -> None:
    value = BAD_PRINCIPALS[case]

    with pytest.raises(InputError) as raised:
        parse_principal_arn(value)

    assert repr(value) in raised.value.message, case
    assert raised.value.hint, case


def test_a_role_session_given_as_principal_suggests_the_role_arn() -> None:
    with pytest.raises(InputError) as raised:
        parse_principal_arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/app-deployer/job")

    assert f"arn:aws:iam::{ACCOUNT}:role/app-deployer" in raised.value.hint


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:iam::{ACCOUNT}:user/deployer",
        f"arn:aws:iam::{ACCOUNT}:role{SSO_PATH}{SSO_ROLE}",
        f"arn:aws-us-gov:iam::{ACCOUNT}:role/a/b/c+d=e,f.g@h-i_j",
        f"arn:aws-cn:iam::{ACCOUNT}:user/x",
    ],
)
def test_user_and_role_arns_with_paths_are_accepted(arn: str) -> None:
    assert parse_principal_arn(arn)[1] == ACCOUNT
