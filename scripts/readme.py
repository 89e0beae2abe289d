"""Regenerate the README's generated parts, or with ``--check`` fail when they are stale.

The parts: the features table (from the catalog), the ``--help`` text of each command, and
the quickstart's real output. Each sits between ``<!-- NAME:begin -->`` and
``<!-- NAME:end -->`` markers.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
DOCUMENTED = ["check", "--documented", "--region", "eu-west-1", "--account", "123456789012"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the README is stale")
    args = parser.parse_args()

    current = README.read_text(encoding="utf-8")
    wanted = regenerate(current)
    if not args.check:
        README.write_text(wanted, encoding="utf-8")
        return 0
    if wanted == current:
        return 0
    diff = difflib.unified_diff(
        current.splitlines(), wanted.splitlines(), "README.md", "regenerated", lineterm=""
    )
    print("\n".join(diff), file=sys.stderr)
    print("README.md is stale: run python scripts/readme.py", file=sys.stderr)
    return 1


def regenerate(readme: str) -> str:
    from wsgw_doctor.catalog import all_features
    from wsgw_doctor.features_table import features_markdown

    parts = {
        "features-table": features_markdown(all_features()),
        "help-check": _fenced(_run(["check", "--help"])),
        "quickstart-output": _fenced(_run(["demo"], stderr=True)),
        "documented-output": _fenced(_run(DOCUMENTED, stderr=True)),
        "help-main": _fenced(_run(["--help"])),
        "permissions": _fenced(_run(["permissions"])),
    }
    for name, text in parts.items():
        readme = _replace(readme, name, text)
    return readme


def _run(arguments: list[str], stderr: bool = False) -> str:
    """The command's output as a user sees it, at a fixed width so that it is stable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WSGW_DOCTOR_"))}
    env.update({"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"})
    done = subprocess.run(
        [sys.executable, "-m", "wsgw_doctor", *arguments],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    command = "$ wsgw-doctor " + " ".join(arguments)
    output = done.stdout + (done.stderr if stderr else "")
    return f"{command}\n{output}"


def _fenced(text: str) -> str:
    return f"```text\n{text.rstrip()}\n```\n"


def _replace(readme: str, name: str, text: str) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no {begin} ... {end} markers")
    return pattern.sub(lambda _: f"{begin}\n{text}{end}", readme, count=1)


if __name__ == "__main__":
    sys.exit(main())
