"""Reading a principal's own policies from IAM, for when the simulator cannot be used.

The doctor's engine then decides on exactly the policies IAM would evaluate for the
principal: its inline and attached policies, those of its groups for a user, and its
permissions boundary, each managed policy at its default version (which need not be its
latest). Service control policies live in AWS Organizations and cannot be read this way.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from wsgw_doctor.engine import Policy, PolicyError, PolicySet, parse_policy, parse_policy_document
from wsgw_doctor.errors import EvaluationError, InputError

from .session import error_code, translate

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

logger = logging.getLogger(__name__)

SOURCE_FETCHED = "fetched-policies"

T = TypeVar("T")

_DENIED = frozenset({"AccessDenied", "AccessDeniedException"})


class FallbackDenied(EvaluationError):  # noqa: N818 - named for the outcome
    """Some of the IAM reads the fallback needs were denied; ``denied`` lists each one."""

    def __init__(self, principal_arn: str, denied: tuple[tuple[str, str], ...]) -> None:
        needed = ", ".join(f"{action} on {arn}" for action, arn in denied)
        super().__init__(
            f"cannot read the policies of {principal_arn}: denied {needed}",
            "pass --policy FILE for each policy, or run as a principal allowed "
            f"iam:SimulatePrincipalPolicy on {principal_arn}",
        )
        self.principal_arn = principal_arn
        self.denied = denied


@dataclass(frozen=True)
class FetchedPolicies:
    """The policies IAM evaluates for a principal, ready for the engine."""

    policy_set: PolicySet
    labels: tuple[str, ...]


def fetch_policies(iam: IAMClient, principal_arn: str) -> FetchedPolicies:
    """Read every policy of the user or role ``principal_arn``; raise ``FallbackDenied``."""
    reader = _Reader(iam, principal_arn)
    kind, name = _kind_and_name(principal_arn)
    if kind == "role":
        identity, boundary_arn = reader.role(name)
    else:
        identity, boundary_arn = reader.user(name)
    boundary = reader.managed(boundary_arn) if boundary_arn else None
    if reader.denied:
        raise FallbackDenied(principal_arn, tuple(dict.fromkeys(reader.denied)))

    unique: dict[str, Policy] = {}
    for found in identity:
        if found is not None:
            unique.setdefault(found.source, found)
    policies = tuple(unique.values())
    labels = tuple(p.source for p in policies) + ((boundary.source,) if boundary else ())
    logger.info("read %d policies of %s", len(labels), principal_arn)
    return FetchedPolicies(PolicySet(identity=policies, boundary=boundary), labels)


def _kind_and_name(arn: str) -> tuple[str, str]:
    resource = arn.split(":", 5)[-1]
    kind = resource.split("/", 1)[0]
    return kind, resource.rsplit("/", 1)[-1]


@dataclass
class _Reader:
    """The reads of one fallback: managed policies cached by ARN, denials collected.

    A denied read is remembered rather than raised, so that one run names every
    permission the doctor lacked instead of one at a time.
    """

    iam: IAMClient
    principal_arn: str
    denied: list[tuple[str, str]] = field(default_factory=list)
    cache: dict[str, Policy | None] = field(default_factory=dict)

    def user(self, name: str) -> tuple[list[Policy | None], str | None]:
        arn = self.principal_arn
        found = self._read("iam:GetUser", arn, lambda: self.iam.get_user(UserName=name))
        user: Mapping[str, Any] = found["User"] if found else {}
        policies = self._inline(
            "user", name, arn, "list_user_policies", {"UserName": name}, self._user_policy
        )
        policies += self._attached(arn, "list_attached_user_policies", {"UserName": name})
        for group in self._pages(
            "iam:ListGroupsForUser", arn, "list_groups_for_user", "Groups", UserName=name
        ):
            policies += self._group(group["GroupName"], group["Arn"])
        return policies, _boundary(user)

    def role(self, name: str) -> tuple[list[Policy | None], str | None]:
        arn = self.principal_arn
        found = self._read("iam:GetRole", arn, lambda: self.iam.get_role(RoleName=name))
        role: Mapping[str, Any] = found["Role"] if found else {}
        policies = self._inline(
            "role", name, arn, "list_role_policies", {"RoleName": name}, self._role_policy
        )
        policies += self._attached(arn, "list_attached_role_policies", {"RoleName": name})
        return policies, _boundary(role)

    def _group(self, name: str, arn: str) -> list[Policy | None]:
        policies = self._inline(
            "group", name, arn, "list_group_policies", {"GroupName": name}, self._group_policy
        )
        return policies + self._attached(arn, "list_attached_group_policies", {"GroupName": name})

    def _inline(
        self,
        kind: str,
        name: str,
        arn: str,
        paginator: str,
        owner: dict[str, str],
        get: Callable[[str, str, str], object | None],
    ) -> list[Policy | None]:
        action = "iam:" + "".join(p.title() for p in paginator.split("_"))
        found = []
        for policy_name in self._pages(action, arn, paginator, "PolicyNames", **owner):
            document = get(name, policy_name, arn)
            label = f"{kind}/{name}:inline/{policy_name}"
            found.append(_parse(document, label) if document is not None else None)
        return found

    def _user_policy(self, user: str, policy: str, arn: str) -> object | None:
        found = self._read(
            "iam:GetUserPolicy",
            arn,
            lambda: self.iam.get_user_policy(UserName=user, PolicyName=policy),
        )
        return found["PolicyDocument"] if found else None

    def _role_policy(self, role: str, policy: str, arn: str) -> object | None:
        found = self._read(
            "iam:GetRolePolicy",
            arn,
            lambda: self.iam.get_role_policy(RoleName=role, PolicyName=policy),
        )
        return found["PolicyDocument"] if found else None

    def _group_policy(self, group: str, policy: str, arn: str) -> object | None:
        found = self._read(
            "iam:GetGroupPolicy",
            arn,
            lambda: self.iam.get_group_policy(GroupName=group, PolicyName=policy),
        )
        return found["PolicyDocument"] if found else None

    def _attached(self, arn: str, paginator: str, owner: dict[str, str]) -> list[Policy | None]:
        action = "iam:" + "".join(p.title() for p in paginator.split("_"))
        attached = self._pages(action, arn, paginator, "AttachedPolicies", **owner)
        return [self.managed(policy["PolicyArn"]) for policy in attached]

    def managed(self, arn: str) -> Policy | None:
        """A managed policy at its default version, read once however often it is attached."""
        if arn not in self.cache:
            self.cache[arn] = self._managed(arn)
        return self.cache[arn]

    def _managed(self, arn: str) -> Policy | None:
        found = self._read("iam:GetPolicy", arn, lambda: self.iam.get_policy(PolicyArn=arn))
        if found is None:
            return None
        version = found["Policy"]["DefaultVersionId"]
        document = self._read(
            "iam:GetPolicyVersion",
            arn,
            lambda: self.iam.get_policy_version(PolicyArn=arn, VersionId=version),
        )
        if document is None:
            return None
        logger.debug("%s: default version %s", arn, version)
        return _parse(document["PolicyVersion"]["Document"], managed_label(arn, version))

    def _pages(
        self, action: str, arn: str, paginator: str, key: str, **params: str
    ) -> Iterator[Any]:
        """Every item under ``key`` of every page; nothing if the listing is denied."""
        pages = self.iam.get_paginator(paginator).paginate(**params)  # type: ignore[call-overload]
        items = self._read(action, arn, lambda: [i for page in pages for i in page[key]])
        return iter(items or [])

    def _read(self, action: str, arn: str, call: Callable[[], T]) -> T | None:
        logger.debug("%s on %s", action, arn)
        try:
            return call()
        except ClientError as error:
            if error_code(error) in _DENIED:
                logger.debug("%s on %s was denied", action, arn)
                self.denied.append((action, arn))
                return None
            if error_code(error) == "NoSuchEntity" and arn == self.principal_arn:
                raise InputError(
                    f"the principal {arn} does not exist", "check the ARN given with --principal"
                ) from None
            raise translate(error) from None


def managed_label(arn: str, version: str) -> str:
    """``policy/PATH/NAME(v3)``, with ``aws:`` before the AWS managed ones."""
    resource = arn.split(":", 5)[-1]
    owner = arn.split(":")[4]
    return f"{'aws:' if owner == 'aws' else ''}{resource}({version})"


def _boundary(entity: Mapping[str, Any]) -> str | None:
    boundary = entity.get("PermissionsBoundary") or {}
    arn = boundary.get("PermissionsBoundaryArn")
    return str(arn) if arn else None


def _parse(document: object, label: str) -> Policy:
    """Parse a policy document, which boto3 has usually URL-decoded into a dict already."""
    try:
        if isinstance(document, str):
            return parse_policy(urllib.parse.unquote(document), label)
        return parse_policy_document(document, label)
    except PolicyError as error:
        raise EvaluationError(f"cannot evaluate {error}", error.hint or "") from None
