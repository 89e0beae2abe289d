"""The features table, generated from the catalog so that the README cannot drift from it."""

from __future__ import annotations

from collections.abc import Iterable

from wsgw_doctor.catalog import Feature, Requirement


def features_markdown(features: Iterable[Feature]) -> str:
    """A Markdown table, one row per feature, with each action and resource it needs."""
    lines = [
        "| feature | phase | default | what it covers | actions on resources |",
        "|---|---|---|---|---|",
    ]
    for feature in features:
        needs = "<br>".join(f"`{r.action}` `{r.resource}`" for r in _unique_needs(feature))
        default = "yes" if feature.default else "by name"
        cells = (f"`{feature.name}`", feature.phase.value, default, feature.summary, needs)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def features_table(features: Iterable[Feature]) -> str:
    """Plain text for the terminal: one line per requirement, grouped by feature."""
    from tabulate import tabulate

    rows = [
        (f.name, f.phase.value, r.action, r.resource, r.operation, r.origin.value)
        for f in features
        for r in f.requirements
    ]
    headers = ("FEATURE", "PHASE", "ACTION", "RESOURCE", "OPERATION", "ORIGIN")
    return tabulate(rows, headers=headers, tablefmt="simple") + "\n"


def _unique_needs(feature: Feature) -> list[Requirement]:
    seen: dict[tuple[str, str], Requirement] = {}
    for requirement in feature.requirements:
        seen.setdefault((requirement.action, requirement.resource), requirement)
    return list(seen.values())
