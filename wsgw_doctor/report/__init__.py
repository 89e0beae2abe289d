"""Report formats behind one interface: a report in, a string out.

Formatters never print, exit or call AWS, so the CLI decides where output goes and tests
compare strings.
"""

from __future__ import annotations

from typing import Protocol

from wsgw_doctor.results import Report


class Formatter(Protocol):
    def format(self, report: Report) -> str: ...


def formatter(name: str) -> Formatter:
    """The formatter for a ``--format`` value; the table one imports tabulate only when used."""
    if name == "json":
        from wsgw_doctor.report.json import JsonFormatter

        return JsonFormatter()
    if name == "table":
        from wsgw_doctor.report.table import TableFormatter

        return TableFormatter()
    raise ValueError(f"unknown format {name!r}")


def summary_line(report: Report) -> str:
    """One line for stderr: what was checked and what it came to."""
    counts = report.counts()
    parts = [f"{counts[name]} {name}" for name in counts if counts[name] or name == "allowed"]
    failing = len(report.failing)
    plural = "s" if failing != 1 else ""
    verdict = f"{failing} finding{plural} at or above --fail-on {report.fail_on.name}"
    if report.suppressed:
        verdict += f", {len(report.suppressed)} suppressed"
    features = len(report.features)
    return (
        f"wsgw-doctor: {features} feature{'s' if features != 1 else ''}, "
        f"{len(report.results)} requirements: {', '.join(parts)}; {verdict}"
    )
