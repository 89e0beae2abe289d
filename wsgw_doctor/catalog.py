"""What each feature of django-aws-api-gateway-websockets needs from IAM, declared once.

The declarations live in the ``checks`` package, one module per feature; this module holds
the types they are written in, the identifiers an ARN template is filled from, and the
registry lookup. Nothing here talks to AWS or evaluates a policy.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum


class Origin(str, Enum):
    """Why a requirement exists: the library's own call, AWS around it, or a step it leaves out."""

    LIBRARY = "library"
    AWS_RULE = "aws-rule"
    DEPLOYMENT_STEP = "deployment-step"

    @property
    def description(self) -> str:
        return _ORIGIN_DESCRIPTIONS[self]


_ORIGIN_DESCRIPTIONS = {
    Origin.LIBRARY: "the library calls it",
    Origin.AWS_RULE: "AWS requires it around the library's call",
    Origin.DEPLOYMENT_STEP: "a deployment step the library leaves to you",
}


class Phase(str, Enum):
    """When the permission is exercised: by a deploy job, or by the running web process."""

    DEPLOY = "deploy"
    RUNTIME = "runtime"


#: Placeholders a user can set on the command line, in the order of the ARN templates.
ID_FIELDS = (
    "partition",
    "region",
    "account",
    "api_id",
    "stage",
    "domain",
    "hosted_zone_id",
    "certificate_arn",
    "cloudwatch_role",
    "log_group",
)

#: Sub-resource ids that only exist once the library has run; always representative.
RUNTIME_ID_FIELDS = ("route_id", "integration_id", "deployment_id", "connection_id", "change_id")

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

_REPRESENTATIVE: dict[str, str] = {
    "api_id": "a1b2c3d4e5",
    "stage": "production",
    "domain": "ws.example.com",
    "hosted_zone_id": "Z0EXAMPLE0000000000",
    "cloudwatch_role": "APIGatewayCloudWatchLogs",
    "route_id": "r0ut3id",
    "integration_id": "1nt3grn",
    "deployment_id": "d3pl0y",
    "connection_id": "wsgwDoctorExample0=",
    "change_id": "C0EXAMPLE000000000000",
}


@dataclass(frozen=True)
class Requirement:
    """One IAM action on one resource that a feature cannot work without.

    ``resource`` is an ARN template over the names in ``ID_FIELDS`` and ``RUNTIME_ID_FIELDS``.
    ``context`` holds the request context AWS evaluates for this call: a key with values is
    sent with those values, a key with an empty tuple is known to be absent. ``fresh`` names
    the placeholders that refer to resources the feature itself creates, which cannot be
    known beforehand and so are always filled with representative values.
    """

    action: str
    resource: str
    operation: str
    reason: str
    origin: Origin
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fresh: frozenset[str] = frozenset()

    @property
    def service(self) -> str:
        return self.action.split(":", 1)[0]

    def placeholders(self) -> tuple[str, ...]:
        """The names in the resource template and context values, in order of appearance."""
        text = self.resource + "".join(v for _, values in self.context for v in values)
        return tuple(dict.fromkeys(_PLACEHOLDER.findall(text)))


@dataclass(frozen=True)
class Feature:
    """A capability of the library, with everything it needs from IAM."""

    name: str
    title: str
    summary: str
    phase: Phase
    default: bool
    requirements: tuple[Requirement, ...]


@dataclass(frozen=True)
class Ids:
    """The concrete identifiers an ARN template is filled from; ``None`` means unknown."""

    partition: str = "aws"
    region: str = "us-east-1"
    account: str = "123456789012"
    api_id: str | None = None
    stage: str | None = None
    domain: str | None = None
    hosted_zone_id: str | None = None
    certificate_arn: str | None = None
    cloudwatch_role: str | None = None
    log_group: str | None = None

    def value(self, name: str) -> tuple[str, bool]:
        """The value for ``name`` and whether it is representative rather than given."""
        given = getattr(self, name, None) if name in ID_FIELDS else None
        if given is not None:
            return given, False
        return self._representative(name), True

    def _representative(self, name: str) -> str:
        if name == "certificate_arn":
            return (
                f"arn:{self.partition}:acm:{self.region}:{self.account}:"
                "certificate/00000000-0000-0000-0000-000000000000"
            )
        if name == "log_group":
            api_id, _ = self.value("api_id")
            stage, _ = self.value("stage")
            return f"/aws/apigateway/{api_id}/{stage}"
        return _REPRESENTATIVE[name]


@dataclass(frozen=True)
class RenderedRequirement:
    """A requirement with its ARN and context filled in for one account and region."""

    feature: Feature
    requirement: Requirement
    resource: str
    context: tuple[tuple[str, tuple[str, ...]], ...]
    representative: tuple[str, ...]


def render(feature: Feature, requirement: Requirement, ids: Ids) -> RenderedRequirement:
    """Fill a requirement's templates, noting which ids had to be made up."""
    representative: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        text, guessed = ids.value(name)
        if name in requirement.fresh:
            text, guessed = ids._representative(name), True
        if guessed and name not in representative:
            representative.append(name)
        return text

    resource = _PLACEHOLDER.sub(fill, requirement.resource)
    context = tuple(
        (key, tuple(_PLACEHOLDER.sub(fill, v) for v in values))
        for key, values in requirement.context
    )
    shown = tuple(n for n in representative if n not in RUNTIME_ID_FIELDS)
    return RenderedRequirement(feature, requirement, resource, context, shown)


def all_features() -> tuple[Feature, ...]:
    """Every registered feature, in catalog order.

    The ``checks`` package sits at the top of the source tree and is installed as
    ``wsgw_doctor.checks``; it is imported by name so that the type checker, which sees the
    source tree, and the installed package agree on what it holds.
    """
    module = importlib.import_module("wsgw_doctor.checks")
    features = getattr(module, "FEATURES", None)
    if not isinstance(features, tuple) or not all(isinstance(f, Feature) for f in features):
        raise TypeError("wsgw_doctor.checks.FEATURES must be a tuple of Feature")
    return features


def select(
    names: Iterable[str] = (), phase: Phase | None = None, features: Iterable[Feature] = ()
) -> tuple[Feature, ...]:
    """The features named (``all`` for every one; none for the defaults), filtered by phase."""
    catalog = tuple(features) or all_features()
    by_name = {f.name: f for f in catalog}
    wanted = list(dict.fromkeys(names))
    unknown = [n for n in wanted if n != "all" and n not in by_name]
    if unknown:
        raise UnknownFeatureError(unknown[0], tuple(by_name))
    if "all" in wanted:
        chosen = catalog
    elif wanted:
        chosen = tuple(f for f in catalog if f.name in wanted)
    else:
        chosen = tuple(f for f in catalog if f.default)
    return tuple(f for f in chosen if phase is None or f.phase is phase)


class UnknownFeatureError(ValueError):
    def __init__(self, name: str, valid: tuple[str, ...]) -> None:
        super().__init__(name)
        self.name = name
        self.valid = valid


def context_map(
    pairs: Iterable[tuple[str, tuple[str, ...]]],
) -> Mapping[str, tuple[str, ...]]:
    """A request context keyed by lower-cased key, as IAM compares condition keys."""
    return {key.lower(): values for key, values in pairs}


#: ARN prefixes shared by the feature modules.
APIGATEWAY = "arn:{partition}:apigateway:{region}::"
SERVICE_LINKED_ROLE = (
    "arn:{partition}:iam::{account}:role/aws-service-role/ops.apigateway.amazonaws.com/"
    "AWSServiceRoleForAPIGateway"
)


def apigateway(
    verb: str,
    path: str,
    operation: str,
    reason: str,
    *,
    origin: Origin = Origin.LIBRARY,
    context: tuple[tuple[str, tuple[str, ...]], ...] = (),
    fresh: frozenset[str] = frozenset(),
) -> Requirement:
    """An API Gateway management call: authorized as the HTTP verb on the request path."""
    return Requirement(
        f"apigateway:{verb}", APIGATEWAY + path, operation, reason, origin, context, fresh
    )
