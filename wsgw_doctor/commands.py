"""The work behind each command, as plain functions that tests and users can call.

These functions take validated-or-raw options, raise ``DoctorError`` for anything the user
can fix, and return results; they never print or exit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from wsgw_doctor.catalog import Feature, Phase, UnknownFeatureError, select
from wsgw_doctor.check import LocalDecider, Principal, check
from wsgw_doctor.compare import Comparison
from wsgw_doctor.engine import Policy, PolicyError, PolicySet, load_policy_file
from wsgw_doctor.errors import InputError
from wsgw_doctor.inputs import IdOptions, validate_ids
from wsgw_doctor.results import Report, Threshold

if TYPE_CHECKING:
    from wsgw_doctor.generate import Generated


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
    principal: str | None = None
    profile: str | None = None
    documented_policy: Path | None = None
    ignore: tuple[str, ...] = ()
    probe: bool = True


def run_check(request: CheckRequest) -> Report:
    """Validate the request, load every policy, and check the chosen features."""
    fail_on = parse_fail_on(request.fail_on)
    chosen = _features(request)
    if not request.policies and not request.documented:
        return _live(request, chosen, fail_on)
    if request.principal or request.profile:
        raise InputError(
            "--principal and --profile are for a live check",
            "drop --policy and --documented to check the live credentials",
        )
    ids = validate_ids(request.ids)
    policies = _policy_set(request, ids.region, ids.account)
    principal = Principal(kind="policy-files", policies=tuple(p.source for p in policies.identity))
    comparison = Comparison(
        reference=_reference(request), readable=policies.identity, ignore=frozenset(request.ignore)
    )
    return check(chosen, ids, LocalDecider(policies), principal, fail_on, comparison=comparison)


def _reference(request: CheckRequest) -> Policy | None:
    """A team's own reference policy, or None for the library's documented one."""
    return _load(request.documented_policy) if request.documented_policy else None


@dataclass(frozen=True)
class PolicyRequest:
    """What ``wsgw-doctor policy`` was asked to write, before validation."""

    ids: IdOptions = field(default_factory=IdOptions)
    features: tuple[str, ...] = ()
    phase: str | None = None
    include_unconfirmed_conditions: bool = False


def run_policy(request: PolicyRequest) -> Generated:
    """The least-privilege documents for the chosen features and ids."""
    from wsgw_doctor.generate import generate

    chosen = _features(request)
    ids = validate_ids(request.ids)
    return generate(
        chosen,
        ids,
        Phase(request.phase) if request.phase else None,
        include_unconfirmed_conditions=request.include_unconfirmed_conditions,
    )


def parse_fail_on(value: str) -> Threshold:
    """``--fail-on`` takes a kind, a severity standing for its lowest kind, or ``never``."""
    try:
        return Threshold.parse(value)
    except ValueError:
        raise InputError(
            f"--fail-on {value!r} is not valid", f"use one of: {', '.join(Threshold.choices())}"
        ) from None


def _live(request: CheckRequest, chosen: tuple[Feature, ...], fail_on: Threshold) -> Report:
    """No policy files: check the credentials the doctor runs with, or ``--principal``."""
    if request.boundary or request.scps or request.session_policy:
        raise InputError(
            "--boundary, --scp and --session-policy go with --policy",
            "a live check reads the permissions boundary from IAM and lets the simulator "
            "apply service control policies",
        )
    from wsgw_doctor.aws.live import live_check

    return live_check(
        chosen,
        request.ids,
        request.principal,
        request.profile,
        fail_on,
        comparison=Comparison(reference=_reference(request), ignore=frozenset(request.ignore)),
        probe=request.probe,
    )


def _features(request: CheckRequest | PolicyRequest) -> tuple[Feature, ...]:
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
