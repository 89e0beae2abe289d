"""The doctor's own least-privilege policy, for the principal that runs a live check.

Everything the live check calls is a read. ``sts:GetCallerIdentity`` needs no permission
at all (AWS answers it even under an explicit Deny), so it is not listed. Each IAM action
is scoped to the resource types the Service Authorization Reference gives it: users, roles
and groups of the account, and managed policies of the account and of AWS.
"""

from __future__ import annotations

import json

#: Operations the doctor calls that need no permission.
NO_PERMISSION_NEEDED = frozenset({"sts:GetCallerIdentity"})

_SIMULATE = ("iam:SimulatePrincipalPolicy",)
_USERS = (
    "iam:GetUser",
    "iam:GetUserPolicy",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:ListUserPolicies",
)
_ROLES = (
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
)
_GROUPS = ("iam:GetGroupPolicy", "iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies")
_POLICIES = ("iam:GetPolicy", "iam:GetPolicyVersion")


def doctor_policy(account: str | None = None, partition: str = "aws") -> dict[str, object]:
    """The IAM policy a live check needs; ``account`` ``None`` leaves it as ``*``."""
    iam = f"arn:{partition}:iam::{account or '*'}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            _statement("SimulateThePrincipal", _SIMULATE, [f"{iam}:user/*", f"{iam}:role/*"]),
            _statement("ReadTheUser", _USERS, [f"{iam}:user/*"]),
            _statement("ReadTheRole", _ROLES, [f"{iam}:role/*"]),
            _statement("ReadItsGroups", _GROUPS, [f"{iam}:group/*"]),
            _statement(
                "ReadManagedPolicies",
                _POLICIES,
                [f"{iam}:policy/*", f"arn:{partition}:iam::aws:policy/*"],
            ),
        ],
    }


def doctor_policy_json(account: str | None = None, partition: str = "aws") -> str:
    """``doctor_policy`` as the JSON to paste into IAM."""
    return json.dumps(doctor_policy(account, partition), indent=2) + "\n"


def doctor_actions() -> frozenset[str]:
    """Every action the policy allows."""
    return frozenset((*_SIMULATE, *_USERS, *_ROLES, *_GROUPS, *_POLICIES))


def _statement(sid: str, actions: tuple[str, ...], resources: list[str]) -> dict[str, object]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
