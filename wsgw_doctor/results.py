"""What one run found: frozen records that formatters read and nothing else writes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from wsgw_doctor.engine import Match
from wsgw_doctor.probing import Fact, ProbeOutcome


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
    documented: bool | None = None
    probe: ProbeOutcome | None = None

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
    """How much a finding matters, in the words CI systems use."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Kind(str, Enum):
    """Kinds of finding, lowest first: ``--fail-on KIND`` fails on it and every later kind.

    Missing permissions come last because they break a deployment; a grant that is merely
    dangerous does not, so a gate fails on it only when asked to.
    """

    DOCUMENTED_BROADER = "documented-broader"
    REDUNDANT = "redundant"
    BROADER = "broader-than-needed"
    DOCUMENTED_GAP = "documented-gap"
    DANGEROUS = "dangerous"
    FACT = "unmet-prerequisite"
    UNDETERMINED = "undetermined"
    CONTRADICTED = "contradicted"
    MISSING = "missing"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return list(Kind).index(self)

    @property
    def prefix(self) -> str:
        """The stable start of every id of this kind."""
        return self.name.replace("_", "-")

    @property
    def severity(self) -> Severity:
        return _KIND_SEVERITY[self]


_KIND_SEVERITY = {
    Kind.DOCUMENTED_BROADER: Severity.INFO,
    Kind.REDUNDANT: Severity.INFO,
    Kind.BROADER: Severity.INFO,
    Kind.DOCUMENTED_GAP: Severity.INFO,
    Kind.DANGEROUS: Severity.WARNING,
    Kind.FACT: Severity.WARNING,
    Kind.UNDETERMINED: Severity.WARNING,
    Kind.CONTRADICTED: Severity.ERROR,
    Kind.MISSING: Severity.ERROR,
    Kind.ERROR: Severity.ERROR,
}


@dataclass(frozen=True)
class Threshold:
    """The ``--fail-on`` value: the lowest kind that fails a run, or none for ``never``."""

    name: str
    rank: int | None

    @classmethod
    def parse(cls, value: str) -> Threshold:
        """A kind, a severity (its lowest kind), or ``never``; ValueError otherwise."""
        if value == "never":
            return cls(value, None)
        for kind in Kind:
            if kind.value == value:
                return cls(value, kind.rank)
        for severity in Severity:
            if severity.value == value:
                return cls(value, min(k.rank for k in Kind if k.severity is severity))
        raise ValueError(value)

    @staticmethod
    def choices() -> tuple[str, ...]:
        return (*(k.value for k in Kind), *(s.value for s in Severity), "never")

    def fails(self, finding: Finding) -> bool:
        return self.rank is not None and finding.kind.rank >= self.rank


DEFAULT_FAIL_ON = Threshold("missing", Kind.MISSING.rank)


@dataclass(frozen=True)
class Finding:
    """Something the user should act on, with an id that stays the same from run to run."""

    id: str
    kind: Kind
    severity: Severity
    feature: str | None
    action: str | None
    resource: str | None
    message: str
    statement: Match | None = None


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
    fail_on: Threshold = DEFAULT_FAIL_ON
    notes: tuple[str, ...] = ()
    suppressed: tuple[Finding, ...] = ()
    reference: str | None = None
    facts: tuple[Fact, ...] = ()
    ignored: frozenset[str] = frozenset()

    @property
    def failing(self) -> tuple[Finding, ...]:
        """The findings that fail the run; suppressed ones are not among the findings."""
        return tuple(f for f in self.findings if self.fail_on.fails(f))

    @property
    def could_not_evaluate(self) -> bool:
        return any(r.status is Status.ERROR for r in self.results)

    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for result in self.results:
            counts[result.status.value] += 1
        return counts
