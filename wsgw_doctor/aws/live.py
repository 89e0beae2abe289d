"""A check with live credentials: find the principal, then let IAM decide for it.

The policy simulator is asked first, since it sees what the doctor cannot read (service
control policies). Where it cannot be used, the principal's own policies are read and the
engine decides on them; the report's notes and each result's ``source`` say which it was.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable

from wsgw_doctor.catalog import Feature, Ids
from wsgw_doctor.check import LocalDecider, Principal, check
from wsgw_doctor.compare import Comparison
from wsgw_doctor.inputs import IdOptions, validate_ids
from wsgw_doctor.results import DEFAULT_FAIL_ON, Report, Threshold

from .fallback import SOURCE_FETCHED, fetch_policies
from .identity import CheckedPrincipal, parse_principal_arn, require_checkable, resolve_principal
from .session import AwsOptions, Clients, aws_errors, connect
from .simulate import SimulationDecider, SimulationUnavailable

logger = logging.getLogger(__name__)

_PLACEHOLDER_ACCOUNT = "000000000000"
_PLACEHOLDER_REGION = "us-east-1"


def live_check(
    features: Iterable[Feature],
    ids_options: IdOptions,
    principal_arn: str | None = None,
    profile: str | None = None,
    fail_on: Threshold = DEFAULT_FAIL_ON,
    *,
    options: AwsOptions | None = None,
    clients: Clients | None = None,
    comparison: Comparison | None = None,
) -> Report:
    """Check ``features`` for the caller, or for ``principal_arn``, with live credentials.

    The account defaults to the caller's and the region to the session's. Raises
    ``InputError`` for a bad id or ARN and ``EvaluationError`` when the check cannot run.
    """
    chosen = tuple(features)
    options = options or AwsOptions(region=ids_options.region)
    if profile is not None:
        options = dataclasses.replace(options, profile=profile)
    if principal_arn:
        parse_principal_arn(principal_arn)
    _validate_early(ids_options, options)

    with aws_errors(options.profile):
        clients = clients or connect(options)
        checked = resolve_principal(clients, principal_arn)
        arn = require_checkable(checked)
        ids = _ids(ids_options, checked, clients)
        compared = comparison or Comparison()
        return _decide(chosen, ids, checked, arn, clients, options, fail_on, compared)


def _validate_early(ids_options: IdOptions, options: AwsOptions) -> None:
    """Fail on a mistyped id before any request, with stand-ins for what is not known yet.

    The certificate is only checked once the region is known, since it must be in it.
    """
    region = ids_options.region or options.region
    stand_in = dataclasses.replace(
        ids_options,
        region=region or _PLACEHOLDER_REGION,
        account=ids_options.account or _PLACEHOLDER_ACCOUNT,
        certificate_arn=ids_options.certificate_arn if region else None,
    )
    validate_ids(stand_in)


def _ids(ids_options: IdOptions, checked: CheckedPrincipal, clients: Clients) -> Ids:
    completed = dataclasses.replace(
        ids_options,
        account=ids_options.account or checked.account,
        region=ids_options.region or clients.region,
    )
    return validate_ids(completed)


def _decide(
    features: tuple[Feature, ...],
    ids: Ids,
    checked: CheckedPrincipal,
    arn: str,
    clients: Clients,
    options: AwsOptions,
    fail_on: Threshold,
    compared: Comparison,
) -> Report:
    principal = Principal(checked.kind, arn)
    simulator = SimulationDecider(
        clients.iam, arn, checked.boundary_arn, concurrency=options.concurrency
    )
    try:
        notes = (_simulated(arn), *checked.notes)
        asking = dataclasses.replace(compared, sentinels=True)
        return check(features, ids, simulator, principal, fail_on, notes, asking)
    except SimulationUnavailable as unavailable:
        logger.warning("%s; continuing, degraded, with the policies read from IAM", unavailable)
        reason = unavailable.reason

    fetched = fetch_policies(clients.iam, arn)
    decider = LocalDecider(fetched.policy_set, source=SOURCE_FETCHED)
    principal = Principal(checked.kind, arn, fetched.labels)
    notes = (*_fetched(arn, len(fetched.labels), reason), *checked.notes)
    reading = dataclasses.replace(compared, readable=fetched.policy_set.identity)
    return check(features, ids, decider, principal, fail_on, notes, reading)


def _simulated(arn: str) -> str:
    return (
        f"decided by the IAM policy simulator for {arn}, with its identity policies, its "
        "permissions boundary and the service control policies of the account; a denial by "
        "a service control policy is reported as scp:organizations, without its statement"
    )


def _fetched(arn: str, count: int, reason: str) -> tuple[str, ...]:
    return (
        f"decided by the doctor from the {count} {'policy' if count == 1 else 'policies'} "
        f"read from IAM for {arn}, because "
        f"the policy simulator could not be used: {reason}",
        "service control policies cannot be read from IAM and are not included; one may "
        "still deny what is reported allowed",
    )
