"""The work behind each command, as plain functions that tests and users can call.

These functions take validated-or-raw options, raise ``DoctorError`` for anything the user
can fix, and return results; they never print or exit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wsgw_doctor.catalog import Feature, Phase, UnknownFeatureError, select
from wsgw_doctor.check import LocalDecider, Principal, check
from wsgw_doctor.engine import Policy, PolicyError, PolicySet, load_policy_file
from wsgw_doctor.errors import InputError
from wsgw_doctor.inputs import IdOptions, validate_ids
from wsgw_doctor.results import Kind, Report, Severity


@dataclass(frozen=True)
class CheckRequest:
    """Everything ``wsgw-doctor check`` was asked to do, before validation."""

    policies: tuple[Path, ...] = ()
    documented: bool = False
    boundary: Path | None = None
    scps: tuple[Path, ...] = ()
    session_policy: Path | None = None
    ids: IdOptions = field(default_factory=IdOptions)
    features: tuple[str, ...] = ()
    phase: str | None = None
    fail_on: str = "missing"


def run_check(request: CheckRequest) -> Report:
    """Validate the request, load every policy, and check the chosen features."""
    fail_on = parse_fail_on(request.fail_on)
    chosen = _features(request)
    ids = validate_ids(request.ids)
    policies = _policy_set(request, ids.region, ids.account)
    principal = Principal(kind="policy-files", policies=tuple(p.source for p in policies.identity))
    return check(chosen, ids, LocalDecider(policies), principal, fail_on)


def parse_fail_on(value: str) -> Severity | None:
    """``--fail-on`` takes a severity, a kind standing for its own severity, or ``never``."""
    if value == "never":
        return None
    for severity in Severity:
        if severity.value == value:
            return severity
    for kind in Kind:
        if kind.value == value:
            return kind.severity
    names = [s.value for s in Severity] + [k.value for k in Kind] + ["never"]
    raise InputError(f"--fail-on {value!r} is not valid", f"use one of: {', '.join(names)}")


def _features(request: CheckRequest) -> tuple[Feature, ...]:
    phase = Phase(request.phase) if request.phase else None
    try:
        chosen = select(request.features, phase)
    except UnknownFeatureError as error:
        raise InputError(
            f"--feature {error.name!r} is not a feature",
            f"valid names: {', '.join(error.valid)}, all",
        ) from None
    if not chosen:
        raise InputError(
            "no feature is left to check", "the --phase given excludes every --feature chosen"
        )
    return chosen


def _policy_set(request: CheckRequest, region: str, account: str) -> PolicySet:
    identity = tuple(_load(p) for p in request.policies)
    if request.documented:
        from wsgw_doctor.documented import documented_policy

        identity += (documented_policy(region, account),)
    if not identity:
        raise InputError(
            "no policy to check",
            "pass --policy FILE (repeatable) or --documented for the library's documented policy",
        )
    return PolicySet(
        identity=identity,
        boundary=_load(request.boundary) if request.boundary else None,
        scps=tuple(_load(p) for p in request.scps),
        session=_load(request.session_policy) if request.session_policy else None,
    )


def _load(path: Path) -> Policy:
    try:
        return load_policy_file(path)
    except PolicyError as error:
        raise InputError(str(error), error.hint or "") from None
