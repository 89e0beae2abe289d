"""What one run found: frozen records that formatters read and nothing else writes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from wsgw_doctor.engine import Match


class Status(str, Enum):
    """The verdict on one requirement, in the words the report uses."""

    ALLOWED = "allowed"
    MISSING = "missing"
    DENIED = "denied"
    UNDETERMINED = "undetermined"
    ERROR = "error"


@dataclass(frozen=True)
class Result:
    """One requirement of one feature, and what the policies decided about it."""

    feature: str
    phase: str
    action: str
    resource: str
    operation: str
    reason: str
    origin: str
    decision: str
    matched: tuple[Match, ...]
    missing_context: tuple[str, ...]
    denied_by: str | None
    representative: tuple[str, ...]
    source: str
    error: str | None = None

    @property
    def status(self) -> Status:
        if self.error is not None:
            return Status.ERROR
        if self.decision == "explicitDeny" and not self.missing_context:
            return Status.DENIED
        if self.missing_context:
            return Status.UNDETERMINED
        return Status.ALLOWED if self.decision == "allowed" else Status.MISSING


class Severity(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Kind(str, Enum):
    """Kinds of finding; each has a stable id prefix and a severity."""

    MISSING = "missing"
    UNDETERMINED = "undetermined"
    ERROR = "error"

    @property
    def prefix(self) -> str:
        return _KIND_PREFIX[self]

    @property
    def severity(self) -> Severity:
        return _KIND_SEVERITY[self]


_KIND_PREFIX = {Kind.MISSING: "MISSING", Kind.UNDETERMINED: "UNDETERMINED", Kind.ERROR: "ERROR"}
_KIND_SEVERITY = {
    Kind.MISSING: Severity.HIGH,
    Kind.UNDETERMINED: Severity.MEDIUM,
    Kind.ERROR: Severity.HIGH,
}


@dataclass(frozen=True)
class Finding:
    """Something the user should act on, with an id that stays the same from run to run."""

    id: str
    kind: Kind
    severity: Severity
    feature: str
    action: str
    resource: str
    message: str


@dataclass(frozen=True)
class Report:
    """Everything a formatter needs; built once per run."""

    version: str
    principal: dict[str, object]
    region: str
    account: str
    features: tuple[str, ...]
    results: tuple[Result, ...]
    findings: tuple[Finding, ...]
    fail_on: Severity | None
    notes: tuple[str, ...] = ()

    @property
    def failing(self) -> tuple[Finding, ...]:
        """The findings that fail the run; none when ``--fail-on never``."""
        if self.fail_on is None:
            return ()
        threshold = self.fail_on.rank
        return tuple(f for f in self.findings if f.severity.rank >= threshold)

    @property
    def could_not_evaluate(self) -> bool:
        return any(r.status is Status.ERROR for r in self.results)

    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for result in self.results:
            counts[result.status.value] += 1
        return counts
