"""The library's own documented IAM policy, shipped with the doctor as the reference."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from wsgw_doctor.engine import Policy, parse_policy_document

SOURCE = "documented-policy.json"


def origin() -> dict[str, Any]:
    """Where the documented policy comes from, as recorded beside it."""
    return dict(_load()["origin"])


def documented_policy(region: str, account: str) -> Policy:
    """The documented policy with its region and account placeholders filled in."""
    return parse_policy_document(documented_document(region, account), SOURCE)


def documented_document(region: str, account: str) -> dict[str, Any]:
    """The documented policy as IAM JSON, its placeholders filled in."""
    data = _load()
    text = json.dumps(data["policy"])
    values = {"region": region, "account": account}
    for placeholder, name in data["origin"]["placeholders"].items():
        text = text.replace(placeholder, values[name])
    document: dict[str, Any] = json.loads(text)
    return document


def _load() -> dict[str, Any]:
    raw = (
        resources.files("wsgw_doctor").joinpath("data").joinpath(SOURCE).read_text(encoding="utf-8")
    )
    data: dict[str, Any] = json.loads(raw)
    return data
