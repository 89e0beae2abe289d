"""Credentials never reach a log line, even botocore's request dumps at -vv."""

from __future__ import annotations

import logging

import pytest

from wsgw_doctor.logs import RedactSecrets

TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"
SIGNATURE = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261203/us-east-1/sts/aws4_request"


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(
            "Sending http request: <AWSPreparedRequest headers={'X-Amz-Security-Token': "
            f"b'{TOKEN}', 'Authorization': b'{SIGNATURE}'}}>",
            id="botocore-request",
        ),
        pytest.param(f"aws_session_token = {TOKEN}", id="config-line"),
        pytest.param(f'{{"SessionToken": "{TOKEN}"}}', id="json"),
    ],
)
def test_secrets_are_redacted(message: str) -> None:
    record = logging.LogRecord(
        "botocore.endpoint", logging.DEBUG, __file__, 1, "%s", (message,), None
    )
    assert RedactSecrets().filter(record)
    text = record.getMessage()
    assert TOKEN not in text
    assert "AKIAEXAMPLE" not in text
    assert "<redacted>" in text


def test_other_messages_are_left_alone() -> None:
    record = logging.LogRecord("wsgw_doctor", logging.INFO, __file__, 1, "checked %s", ("x",), None)
    assert RedactSecrets().filter(record)
    assert record.getMessage() == "checked x"
