"""Small builders shared by the engine tests: statements as dicts, requests in one call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wsgw_doctor.engine import Decision, Policy, PolicySet, Request, evaluate, parse_policy_document

VERSION = "2012-10-17"
KEY = "test:Key"


def statement(
    effect: str = "Allow", action: Any = "*", resource: Any = "*", **extra: Any
) -> dict[str, Any]:
    """A statement dict; pass ``NotAction=...`` or ``NotResource=...`` with ``None`` above."""
    out: dict[str, Any] = {"Effect": effect}
    if action is not None:
        out["Action"] = action
    if resource is not None:
        out["Resource"] = resource
    out.update(extra)
    return out


def policy(
    *statements: dict[str, Any], source: str = "p.json", version: str | None = VERSION
) -> Policy:
    doc: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        doc["Version"] = version
    return parse_policy_document(doc, source)


def decide(
    policies: Policy | PolicySet,
    action: str = "svc:Do",
    resource: str = "arn:aws:svc:eu-west-1:123456789012:thing/x",
    context: Mapping[str, tuple[str, ...]] | None = None,
) -> Decision:
    chosen = policies if isinstance(policies, PolicySet) else PolicySet((policies,))
    ctx = {k.lower(): v for k, v in (context or {}).items()}
    return evaluate(Request(action, resource, ctx), chosen)


def holds(operator: str, values: Any, present: tuple[str, ...] | None) -> bool:
    """Whether ``operator`` on ``test:Key`` holds; ``present`` None means the key is unknown."""
    condition = {operator: {KEY: values}}
    context = {} if present is None else {KEY: present}
    return decide(policy(statement(Condition=condition)), context=context).allowed
