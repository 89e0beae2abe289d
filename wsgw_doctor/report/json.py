"""JSON: one top-level object with sorted keys, so that it can grow without breaking jq."""

from __future__ import annotations

import json
from typing import Any

from wsgw_doctor.results import Finding, Report, Result


class JsonFormatter:
    def format(self, report: Report) -> str:
        return json.dumps(as_dict(report), indent=2, sort_keys=True) + "\n"


def as_dict(report: Report) -> dict[str, Any]:
    return {
        "version": report.version,
        "principal": report.principal,
        "region": report.region,
        "account": report.account,
        "features": list(report.features),
        "results": [_result(r) for r in report.results],
        "findings": [_finding(f) for f in report.findings],
        "reference": report.reference,
        "notes": list(report.notes),
        "facts": [{"name": f.name, "ok": f.ok, "detail": f.detail} for f in report.facts],
        "summary": {
            "counts": report.counts(),
            "fail_on": report.fail_on.name,
            "suppressed": sorted(f.id for f in report.suppressed),
            "failing": len(report.failing),
            "findings": len(report.findings),
        },
    }


def _result(result: Result) -> dict[str, Any]:
    return {
        "feature": result.feature,
        "phase": result.phase,
        "action": result.action,
        "resource": result.resource,
        "operation": result.operation,
        "reason": result.reason,
        "origin": result.origin,
        "decision": result.decision,
        "status": result.status.value,
        "missing_context": list(result.missing_context),
        "denied_by": result.denied_by,
        "matched": [
            {
                "source": m.source,
                "statement_index": m.index,
                "sid": m.sid,
                "effect": m.effect,
                "level": m.level,
            }
            for m in result.matched
        ],
        "representative_ids": list(result.representative),
        "source": result.source,
        "error": result.error,
        "documented": result.documented,
        "probe": _probe(result),
    }


def _probe(result: Result) -> dict[str, Any]:
    """What a dry-run call showed; an offline check sends none."""
    probe = result.probe
    if probe is None:
        return {
            "status": "not-probed",
            "reason": "no dry-run calls in a check of policy files",
            "call": None,
            "observed": None,
        }
    return {
        "status": probe.status.value,
        "reason": probe.reason,
        "call": probe.call,
        "observed": probe.observed.value if probe.observed else None,
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.id,
        "kind": finding.kind.value,
        "severity": finding.severity.value,
        "feature": finding.feature,
        "action": finding.action,
        "resource": finding.resource,
        "message": finding.message,
        "statement": _statement(finding),
    }


def _statement(finding: Finding) -> dict[str, Any] | None:
    """The statement a breadth finding is about: its file, index and Sid."""
    match = finding.statement
    if match is None:
        return None
    return {"source": match.source, "statement_index": match.index, "sid": match.sid}
