"""Every test runs with fake AWS credentials and none of the developer's own settings.

Each ``AWS_*`` variable and the doctor's own ``WSGW_DOCTOR_*`` variables are cleared, and the
shared config and credentials files point at empty files, so no real profile or key can
reach a test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(autouse=True)
def _isolated_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for name in list(os.environ):
        if name.startswith(("AWS_", "WSGW_DOCTOR_")):
            monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.mktemp("aws") / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def policy_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a policy document to a file and return its path."""
    import json

    def write(document: object, name: str = "policy.json") -> Path:
        path = tmp_path / name
        path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
        return path

    return write
