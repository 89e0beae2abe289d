"""The README's findings table lists every kind, in the order --fail-on ranks them."""

from __future__ import annotations

import re
from pathlib import Path

from wsgw_doctor.results import Kind

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_findings_table_lists_every_kind_highest_first() -> None:
    rows = re.findall(r"^\| ([a-z-]+) \| `([A-Z-]+)` \| (error|warning|info) \|", README, re.M)
    listed = [(name, prefix, severity) for name, prefix, severity in rows]
    expected = [(k.value, k.prefix, k.severity.value) for k in reversed(list(Kind))]
    assert listed == expected
