"""What dry-run probes found, in types the report can hold without loading the AWS SDK.

The probes themselves live in ``wsgw_doctor.aws.probes``; the report and its formatters
only need these records, and must stay importable without boto3.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from wsgw_doctor.catalog import Feature


class ProbeStatus(str, Enum):
    """How a probe's answer compares with the decision the policies gave."""

    CONFIRMED = "confirmed"
    CONTRADICTED = "contradicted"
    INCONCLUSIVE = "inconclusive"
    NOT_PROBED = "not-probed"


class Access(str, Enum):
    """What one real call showed about the caller's permission."""

    ALLOWED = "allowed"
    DENIED = "denied"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProbeOutcome:
    """What probing one requirement of one feature showed, and why.

    ``call`` is the request as sent (``None`` when nothing was sent for it); ``observed`` is
    what AWS said about the permission when that was clear.
    """

    feature: str
    operation: str
    status: ProbeStatus
    reason: str
    call: str | None = None
    observed: Access | None = None


@dataclass(frozen=True)
class Fact:
    """Something about the account, not about IAM, that a feature depends on.

    ``ok`` is ``None`` when the doctor could not find out.
    """

    name: str
    ok: bool | None
    detail: str


@dataclass(frozen=True)
class ProbeReport:
    """The outcome per requirement, in catalog order, and the facts, sorted by name."""

    outcomes: tuple[ProbeOutcome, ...]
    facts: tuple[Fact, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def probed(self) -> bool:
        """Whether any probe was sent at all."""
        return bool(self.facts) or any(
            o.status is not ProbeStatus.NOT_PROBED for o in self.outcomes
        )

    def outcome(self, feature: str, operation: str) -> ProbeOutcome | None:
        """The outcome for one requirement, as a report joins it to a result."""
        for found in self.outcomes:
            if (found.feature, found.operation) == (feature, operation):
                return found
        return None


def not_probed(features: Iterable[Feature], _ids: object, reason: str) -> ProbeReport:
    """A report for a run that sends no probe at all, e.g. with ``--no-probe``."""
    return ProbeReport(
        tuple(
            ProbeOutcome(f.name, r.operation, ProbeStatus.NOT_PROBED, reason)
            for f in features
            for r in f.requirements
        )
    )
