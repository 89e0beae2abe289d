"""Who the credentials belong to, and which IAM principal a check can be made for.

IAM's simulator and its policy reads work on users and roles, not on the sessions people
actually hold. A role session is therefore checked as its role (whose full ARN, path
included, only ``iam:GetRole`` can tell), a user as itself, and the two callers whose
permissions IAM cannot show at all, federated users and the root user, are explained
instead of being checked wrongly.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import ClientError

from wsgw_doctor.errors import EvaluationError, InputError

from .session import error_code, translate

if TYPE_CHECKING:
    from .session import Clients

logger = logging.getLogger(__name__)

PrincipalKind = Literal["user", "role", "federated-user", "root"]

_PRINCIPAL = re.compile(
    r"^arn:(?P<partition>aws(?:-[a-z]+)*):iam::(?P<account>\d{12}):(?P<kind>user|role)"
    r"(?P<path>/(?:[\x21-\x7e]*/)?)(?P<name>[\w+=,.@-]{1,128})$"
)
_CALLER = re.compile(
    r"^arn:(?P<partition>aws(?:-[a-z]+)*):(?P<service>iam|sts)::(?P<account>\d{12}):"
    r"(?P<resource>.+)$"
)
_SSO_PATH = "/aws-reserved/sso.amazonaws.com/"

NOT_SEEN = (
    "simulation and the fetched policies do not include session policies, resource-based "
    "policies or resource control policies"
)
NOT_SEEN_USER = (
    "simulation and the fetched policies do not include resource-based policies or resource "
    "control policies"
)

ROOT = (
    "the credentials are the account's root user, which is allowed everything that no "
    "service control policy denies, so checking its permissions is not meaningful"
)
FEDERATED = (
    "the credentials are a federated user session, whose permissions are the intersection "
    "of the federating user's policies and the session policy; neither is visible, and the "
    "simulator needs a user or role ARN"
)


@dataclass(frozen=True)
class CheckedPrincipal:
    """The principal a check is made for, and what the doctor knows and cannot know of it.

    ``arn`` is the IAM user or role ARN with its path, or ``None`` when the caller is a
    principal IAM cannot simulate (``federated-user``, ``root``); ``notes`` then say why.
    ``boundary_arn`` is the permissions boundary when a read of the role showed it.
    """

    kind: PrincipalKind
    arn: str | None
    caller_arn: str
    account: str
    notes: tuple[str, ...] = ()
    boundary_arn: str | None = None

    @property
    def checkable(self) -> bool:
        return self.arn is not None

    @property
    def name(self) -> str | None:
        """The user or role name, without its path."""
        return self.arn.rsplit("/", 1)[-1] if self.arn else None


def parse_principal_arn(arn: str) -> tuple[str, str, str]:
    """The partition, account and kind of a user or role ARN; ``InputError`` otherwise."""
    found = _PRINCIPAL.match(arn)
    if found:
        return found["partition"], found["account"], found["kind"]
    caller = _CALLER.match(arn)
    if caller and caller["resource"].startswith("assumed-role/"):
        role = caller["resource"].split("/")[1]
        raise InputError(
            f"--principal {arn!r} is a role session, not a role",
            f"pass the role's ARN, e.g. arn:{caller['partition']}:iam::{caller['account']}:"
            f"role/{role} with the role's path if it has one",
        )
    raise InputError(
        f"--principal {arn!r} is not an IAM user or role ARN",
        "expected arn:aws:iam::ACCOUNT:user/NAME or arn:aws:iam::ACCOUNT:role/PATH/NAME",
    )


def resolve_principal(clients: Clients, principal_arn: str | None = None) -> CheckedPrincipal:
    """Ask STS who is calling, then work out which principal to check.

    ``principal_arn`` (``--principal``) checks another user or role of the same account
    instead of the caller; it is validated before any request is sent.
    """
    wanted = parse_principal_arn(principal_arn) if principal_arn else None
    asked = clients.identity
    identity = asked.result() if asked is not None else clients.sts.get_caller_identity()
    caller, account = identity["Arn"], identity["Account"]
    logger.info("the credentials belong to %s", caller)

    if principal_arn and wanted:
        return _override(principal_arn, wanted, caller, account)
    return _classify(clients, caller, account)


def _override(
    arn: str, wanted: tuple[str, str, str], caller: str, account: str
) -> CheckedPrincipal:
    _, principal_account, kind = wanted
    if principal_account != account:
        raise InputError(
            f"--principal {arn!r} is in account {principal_account}, but the credentials "
            f"are for account {account}",
            f"run with credentials for account {principal_account}",
        )
    notes = (
        f"checked {arn}, given with --principal, instead of the caller {caller}",
        NOT_SEEN if kind == "role" else NOT_SEEN_USER,
    )
    return CheckedPrincipal("role" if kind == "role" else "user", arn, caller, account, notes)


def _classify(clients: Clients, caller: str, account: str) -> CheckedPrincipal:
    found = _CALLER.match(caller)
    resource = found["resource"] if found else ""
    if found and found["service"] == "iam" and resource == "root":
        return CheckedPrincipal("root", None, caller, account, (ROOT,))
    if found and found["service"] == "iam" and resource.startswith("user/"):
        return CheckedPrincipal("user", caller, caller, account, (NOT_SEEN_USER,))
    if found and found["service"] == "sts" and resource.startswith("assumed-role/"):
        return _assumed_role(clients, caller, account, resource)
    if found and found["service"] == "sts" and resource.startswith("federated-user/"):
        return CheckedPrincipal("federated-user", None, caller, account, (FEDERATED,))
    raise EvaluationError(
        f"the caller {caller!r} is neither an IAM user nor a role session",
        "pass --principal with the ARN of the user or role to check",
    )


def _assumed_role(clients: Clients, caller: str, account: str, resource: str) -> CheckedPrincipal:
    """The role behind ``assumed-role/NAME/SESSION``, read for its path and boundary."""
    _, name, *session = resource.split("/")
    try:
        role = clients.iam.get_role(RoleName=name)["Role"]
    except ClientError as error:
        raise _role_unreadable(error, name, account) from None
    arn = role["Arn"]
    boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    logger.debug("role %s has permissions boundary %s", arn, boundary)

    notes = [f"checked the role {arn}, which the session {'/'.join(session)} was assumed from"]
    if role.get("Path", "").startswith(_SSO_PATH):
        notes.append(
            "the role belongs to an IAM Identity Center permission set; change the permission "
            "set, since IAM Identity Center overwrites edits made to the role itself"
        )
    notes.append(NOT_SEEN)
    return CheckedPrincipal("role", arn, caller, account, tuple(notes), boundary)


def _role_unreadable(error: ClientError, name: str, account: str) -> Exception:
    if error_code(error) not in ("AccessDenied", "AccessDeniedException"):
        return translate(error)
    return EvaluationError(
        f"iam:GetRole on role {name} was denied, so the role's full ARN is unknown",
        f"allow iam:GetRole on arn:aws:iam::{account}:role/*, or pass --principal with the "
        "role's ARN, path included",
    )


def require_checkable(principal: CheckedPrincipal) -> str:
    """The principal's ARN, or an ``EvaluationError`` saying why it cannot be checked."""
    if principal.arn is not None:
        return principal.arn
    if principal.kind == "root":
        raise EvaluationError(
            "the credentials are the account's root user: everything is allowed except what "
            "service control policies deny, so the check is not meaningful",
            "run as the user or role that deploys, or pass --principal ARN",
        )
    raise EvaluationError(
        f"the caller {principal.caller_arn} is a federated user session, whose permissions "
        "IAM cannot show or simulate",
        "pass --principal with the ARN of the federating IAM user, or check policy files "
        "with --policy",
    )
