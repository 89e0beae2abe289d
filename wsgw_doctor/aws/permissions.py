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
    """The JSON to paste into IAM: the live check's reads, and the probes' own reads.

    The probes' other calls exercise the checked principal's permissions, which are what
    they test; granting those to the doctor would make them pass whatever the principal has.
    """
    from .probe_allowlist import probe_permissions

    policy = doctor_policy(account, partition)
    extra = probe_permissions(partition=partition, account=account)
    statements = policy["Statement"]
    assert isinstance(statements, list)
    present = {json.dumps(s, sort_keys=True) for s in statements}
    statements.extend(s for s in extra if json.dumps(s, sort_keys=True) not in present)
    return json.dumps(policy, indent=2) + "\n"


def doctor_actions() -> frozenset[str]:
    """Every action the policy allows."""
    return frozenset((*_SIMULATE, *_USERS, *_ROLES, *_GROUPS, *_POLICIES))


def _statement(sid: str, actions: tuple[str, ...], resources: list[str]) -> dict[str, object]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
