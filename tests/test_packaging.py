"""The distribution holds the feature catalog under wsgw_doctor, and nothing at the top."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_maps_checks_into_the_wsgw_doctor_namespace(tmp_path: Path) -> None:
    # Built from a copy, so that the build leaves nothing behind in the source tree.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__"),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("wsgw_doctor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/", 1)[0] for name in names}

    assert "wsgw_doctor/checks/custom_domain.py" in names
    assert "wsgw_doctor/data/documented-policy.json" in names
    assert "wsgw_doctor/py.typed" in names
    assert not any(name.startswith("checks/") for name in names)
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"wsgw_doctor"}
