"""A check with live credentials: find the principal, then let IAM decide for it.

The policy simulator is asked first, since it sees what the doctor cannot read (service
control policies). Where it cannot be used, the principal's own policies are read and the
engine decides on them; the report's notes and each result's ``source`` say which it was.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from wsgw_doctor.catalog import Feature, Ids
from wsgw_doctor.check import LocalDecider, Principal, check
from wsgw_doctor.compare import Comparison, probe_findings
from wsgw_doctor.inputs import IdOptions, validate_ids
from wsgw_doctor.probing import ProbeReport
from wsgw_doctor.results import DEFAULT_FAIL_ON, Report, Threshold

from .fallback import SOURCE_FETCHED, fetch_policies
from .identity import CheckedPrincipal, parse_principal_arn, require_checkable, resolve_principal
from .session import AwsOptions, Clients, aws_errors, connect
from .simulate import SimulationDecider, SimulationUnavailable

if TYPE_CHECKING:
    from .probes import ClientFactory

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
    probe: bool = True,
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

    with aws_errors(options.profile), ThreadPoolExecutor(max_workers=1) as warming:
        clients = clients or connect(options, ask=warming)
        will_probe = probe and principal_arn is None and clients.session is not None
        factory = _warm_probe_clients(warming, clients, ids_options, options, will_probe)
        checked = resolve_principal(clients, principal_arn)
        arn = require_checkable(checked)
        ids = _ids(ids_options, checked, clients)
        compared = comparison or Comparison()
        return _decide(
            chosen,
            ids,
            checked,
            arn,
            clients,
            options,
            fail_on,
            compared,
            probe,
            principal_arn is None,
            factory,
        )


def _warm_probe_clients(
    pool: ThreadPoolExecutor,
    clients: Clients,
    ids_options: IdOptions,
    options: AwsOptions,
    will_probe: bool,
) -> ClientFactory | None:
    """Start making the probes' clients while the caller's identity is looked up.

    Making a client loads its service model, which takes longer than a round trip; done
    in one background thread, it overlaps the identity calls instead of following them.
    Only that thread makes clients meanwhile, so the session is never used by two at once.
    """
    if not will_probe or clients.session is None:
        return None
    from .probes import PROBE_SERVICES, ProbeOptions, session_factory

    make = session_factory(clients.session, ProbeOptions.within(options))
    region = ids_options.region or clients.region or "us-east-1"
    made = {s: pool.submit(make, s, region, None) for s in PROBE_SERVICES}

    def factory(service: str, wanted: str, endpoint_url: str | None) -> Any:
        ready = made.get(service)
        if ready is not None and wanted == region and endpoint_url is None:
            return ready.result()
        for pending in made.values():  # never make a client while another is being made
            pending.result()
        return make(service, wanted, endpoint_url)

    return factory


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
    probe: bool,
    probe_as_caller: bool,
    factory: ClientFactory | None = None,
) -> Report:
    """Decide with the simulator, or else the fetched policies, while the probes are sent.

    The probes need the decisions only to judge their answers, so their calls go out at
    once, beside the simulation, and wait for the decisions at the end.
    """
    decided: Future[dict[tuple[str, str], str]] = Future()
    with ThreadPoolExecutor(max_workers=1) as pool:
        probing = _start_probes(
            pool, features, ids, clients, options, decided, probe, probe_as_caller, arn, factory
        )
        try:
            report = _decided(features, ids, checked, arn, clients, options, fail_on, compared)
        except BaseException as error:
            decided.set_exception(error)
            raise
        decided.set_result({(r.feature, r.operation): r.status.value for r in report.results})
        return with_probes(report, probing.result())


def _decided(
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


def _start_probes(
    pool: ThreadPoolExecutor,
    features: tuple[Feature, ...],
    ids: Ids,
    clients: Clients,
    options: AwsOptions,
    decided: Future[dict[tuple[str, str], str]],
    probe: bool,
    probe_as_caller: bool,
    arn: str,
    factory: ClientFactory | None,
) -> Future[ProbeReport]:
    """Send the probes in the background, or say why none are sent."""
    from wsgw_doctor.probing import not_probed

    from .probes import ProbeOptions, run_probes, session_factory

    reason = _no_probe_reason(probe, probe_as_caller, clients, arn)
    if reason is not None:
        done: Future[ProbeReport] = Future()
        done.set_result(not_probed(features, ids, reason))
        return done
    if factory is None:
        assert clients.session is not None
        factory = session_factory(clients.session, ProbeOptions.within(options))
    return pool.submit(run_probes, factory, features, ids, decided.result)


def _no_probe_reason(probe: bool, probe_as_caller: bool, clients: Clients, arn: str) -> str | None:
    if not probe:
        return "probes are off (--no-probe)"
    if not probe_as_caller:
        return f"probes run as the caller, whose credentials are not those of {arn}"
    if clients.session is None:
        return "no session to send probes with"
    return None


def with_probes(report: Report, probed: ProbeReport) -> Report:
    """The report with each result's probe, the facts, and the findings they give."""
    results = tuple(
        dataclasses.replace(r, probe=probed.outcome(r.feature, r.operation)) for r in report.results
    )
    found = probe_findings(results, probed.facts)
    kept = tuple(f for f in found if f.id not in report.ignored)
    notes = (*report.notes, *probed.notes, _CLOUDTRAIL) if probed.probed else report.notes
    missing = [f for f in probed.facts if f.name in _MISSING_TARGETS and f.ok is False]
    notes = (
        tuple(
            f"{f.detail}: the permissions above are for a resource that is not there"
            for f in missing
        )
        + notes
    )
    return dataclasses.replace(
        report,
        results=results,
        facts=probed.facts,
        findings=report.findings + kept,
        suppressed=report.suppressed + tuple(f for f in found if f.id in report.ignored),
        notes=notes,
    )


_MISSING_TARGETS = frozenset({"api.exists", "stage.exists"})


_CLOUDTRAIL = (
    "every probe shows in CloudTrail, denied ones too, as AccessDenied events that security "
    "alerting may pick up; --no-probe sends none"
)


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
