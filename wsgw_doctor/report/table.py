"""The default human format: one row per requirement, then the findings with their fixes."""

from __future__ import annotations

from tabulate import tabulate

from wsgw_doctor.check import denial, statement_label
from wsgw_doctor.probing import Fact
from wsgw_doctor.results import Report, Result, Status

_MARK = "*"


class TableFormatter:
    def format(self, report: Report) -> str:
        probed = any(r.probe is not None for r in report.results)
        rows = [_row(r) + ((_probe(r),) if probed else ()) for r in report.results]
        headers: tuple[str, ...] = (
            "FEATURE",
            "ACTION",
            "RESOURCE",
            "DECISION",
            "STATEMENT",
            "DOCUMENTED",
        )
        headers += ("PROBE",) if probed else ()
        parts = [tabulate(rows, headers=headers, tablefmt="simple")]
        guessed = sorted({name for r in report.results for name in r.representative})
        if guessed:
            parts.append(
                f"{_MARK} evaluated for representative ids ({', '.join(guessed)}); "
                "pass them as options to check your own."
            )
        if report.facts:
            parts.append("")
            parts.extend(_fact(f) for f in report.facts)
        if report.findings:
            parts.append("")
            parts.extend(f"{f.id} [{f.severity.value}] {f.message}" for f in report.findings)
        if report.notes:
            parts.append("")
            parts.extend(f"note: {note}" for note in report.notes)
        return "\n".join(parts) + "\n"


def _row(result: Result) -> tuple[str, str, str, str, str, str]:
    resource = result.resource + (f" {_MARK}" if result.representative else "")
    documented = {True: "granted", False: "not granted", None: "-"}[result.documented]
    return (
        result.feature,
        result.action,
        resource,
        _decision(result),
        _deciding(result),
        documented,
    )


def _probe(result: Result) -> str:
    return result.probe.status.value if result.probe else "-"


def _fact(fact: Fact) -> str:
    mark = {True: "ok", False: "NOT MET", None: "unknown"}[fact.ok]
    return f"fact {fact.name}: {mark} ({fact.detail})"


def _decision(result: Result) -> str:
    status = result.status
    if status is Status.UNDETERMINED:
        return "undetermined: " + ", ".join(result.missing_context)
    if status is Status.DENIED:
        return denial(result)
    if status is Status.MISSING and result.denied_by not in (None, "identity"):
        return f"missing ({denial(result)})"
    return str(status.value)


def _deciding(result: Result) -> str:
    return ", ".join(statement_label(m) for m in result.matched) or "-"
