"""Fixtures for the live-credentials tests: a moto account per test, and recorded calls.

Every botocore call that the code under ``wsgw_doctor/aws`` makes during these tests is
recorded, so that a test can show the doctor's own policy covers each of them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import pytest
from aws_fakes import REGION, CallCounter
from moto import mock_aws

import wsgw_doctor.aws

_AWS_PACKAGE = str(Path(wsgw_doctor.aws.__file__).parent)
_RECORDED: set[tuple[str, str]] = set()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the check of recorded calls after every test that records them."""
    last = [i for i in items if i.name == "test_every_recorded_call_is_allowed"]
    items[:] = [i for i in items if i not in last] + last


@pytest.fixture(scope="session")
def recorded_calls() -> set[tuple[str, str]]:
    """``(service, operation)`` of every AWS call the doctor's code made in this session."""
    return _RECORDED


@pytest.fixture(autouse=True)
def _record_doctor_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    original = botocore.client.BaseClient._make_api_call

    def recording(client: Any, operation: str, params: Any) -> Any:
        if _called_from_doctor():
            _RECORDED.add((client.meta.service_model.service_name, operation))
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)


def _called_from_doctor() -> bool:
    """A call the live check's own code makes; probes are checked against their allow-list."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(_AWS_PACKAGE):
            return not name.endswith(_PROBE_MODULES)
        frame = frame.f_back  # type: ignore[assignment]
    return False


_PROBE_MODULES = ("probes.py", "probe_allowlist.py")


@pytest.fixture
def aws() -> Iterator[None]:
    """A fresh moto account for the test."""
    with mock_aws():
        yield


@pytest.fixture
def admin(aws: None) -> Any:
    """An IAM client for setting up the account; its calls are not the doctor's."""
    return boto3.client("iam", region_name=REGION)


@pytest.fixture
def calls() -> CallCounter:
    """Counts the operations called on the clients a test asks it to watch."""
    return CallCounter({})
