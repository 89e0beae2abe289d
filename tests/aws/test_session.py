"""Sessions are made the boto3 way, and every credential or network failure reads as one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from aws_fakes import FAST, clients_for
from botocore import exceptions as bx
from botocore.parsers import ResponseParserError
from botocore.stub import Stubber

from wsgw_doctor.aws.live import live_check
from wsgw_doctor.aws.session import AwsOptions, aws_errors, connect, translate
from wsgw_doctor.catalog import select
from wsgw_doctor.errors import EvaluationError
from wsgw_doctor.inputs import IdOptions

MESSAGING = select(["messaging"])
IDS = IdOptions(region="eu-west-1")


def test_clients_retry_a_little_and_time_out_quickly() -> None:
    clients = connect(AwsOptions())
    config = clients.iam.meta.config

    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (3.0, 10.0)
    assert "wsgw-doctor/" in (config.user_agent_extra or "")


def test_adaptive_retries_can_be_chosen() -> None:
    clients = connect(AwsOptions(retry_mode="adaptive", max_attempts=5))

    assert clients.sts.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 5}


def test_endpoint_urls_from_the_environment_are_boto3s_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", "http://localhost:5000")

    clients = connect(AwsOptions())

    assert clients.iam.meta.endpoint_url == "http://localhost:5000"
    assert clients.sts.meta.endpoint_url == "http://localhost:4566"


def test_aws_region_is_read_although_botocore_only_reads_aws_default_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")

    assert connect(AwsOptions()).region == "eu-central-1"
    assert connect(AwsOptions(region="ap-south-1")).region == "ap-south-1"


def test_profile_comes_from_the_argument_or_aws_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile ci]\nregion = eu-north-1\n[profile other]\nregion = sa-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    assert connect(AwsOptions(profile="ci")).region == "eu-north-1"
    monkeypatch.setenv("AWS_PROFILE", "other")
    assert connect(AwsOptions()).region == "sa-east-1"


def test_a_missing_profile_is_named() -> None:
    with pytest.raises(EvaluationError) as raised:
        connect(AwsOptions(profile="nope"))

    assert raised.value.message == "the AWS profile 'nope' does not exist"
    assert "list-profiles" in raised.value.hint


def _one_line(error: EvaluationError) -> None:
    assert "\n" not in error.message, error.message
    assert error.exit_code == 3
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_no_credentials_fails_fast_and_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    with pytest.raises(EvaluationError) as raised:
        live_check(MESSAGING, IDS, options=FAST)

    assert raised.value.message == "no AWS credentials found"
    assert "--profile" in raised.value.hint
    _one_line(raised.value)


def test_an_expired_token_says_how_to_renew_it() -> None:
    clients = clients_for()
    stub = Stubber(clients.sts)
    stub.add_client_error(
        "get_caller_identity",
        service_error_code="ExpiredToken",
        service_message="The security token included in the request is expired",
        http_status_code=403,
    )

    with stub, pytest.raises(EvaluationError) as raised:
        live_check(MESSAGING, IDS, profile="sso-dev", clients=clients)

    assert (
        raised.value.message
        == "the AWS credentials have expired (ExpiredToken on GetCallerIdentity)"
    )
    assert "aws sso login --profile sso-dev" in raised.value.hint
    _one_line(raised.value)


def test_an_unreachable_endpoint_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")

    with pytest.raises(EvaluationError) as raised:
        live_check(MESSAGING, IDS, options=FAST)

    assert raised.value.message.startswith("could not connect to http://127.0.0.1:1")
    assert "AWS_ENDPOINT_URL" in raised.value.hint
    _one_line(raised.value)


def _client_error(code: str, message: str = "nope") -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": message}}, "GetRole")


TRANSLATIONS = {
    "partial credentials": (
        bx.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
        "incomplete AWS credentials in env: AWS_SECRET_ACCESS_KEY is missing",
        "secret access key",
    ),
    "sso token not loadable": (
        bx.SSOTokenLoadError(error_msg="Token for dev does not exist"),
        "the IAM Identity Center (SSO) session of profile 'dev' has expired or was never started",
        "aws sso login --profile dev",
    ),
    "sso token unauthorized": (
        bx.UnauthorizedSSOTokenError(),
        "the IAM Identity Center (SSO) session of profile 'dev' has expired or was never started",
        "aws sso login --profile dev",
    ),
    "sso token not refreshable": (
        bx.TokenRetrievalError(provider="sso", error_msg="refresh failed"),
        "the IAM Identity Center (SSO) session of profile 'dev' has expired or was never started",
        "aws sso login --profile dev",
    ),
    "login session expired": (
        bx.LoginRefreshRequired(),
        "the console sign-in session of profile 'dev' has expired",
        "aws login --profile dev",
    ),
    "assume-role profile failing": (
        bx.CredentialRetrievalError(provider="assume-role", error_msg="AccessDenied\non role"),
        "could not get credentials from assume-role: AccessDenied on role",
        "role_arn",
    ),
    "no region": (bx.NoRegionError(), "no AWS region is configured", "--region"),
    "connect timeout": (
        bx.ConnectTimeoutError(endpoint_url="https://iam.amazonaws.com/"),
        "timed out connecting to https://iam.amazonaws.com/",
        "proxy",
    ),
    "read timeout": (
        bx.ReadTimeoutError(endpoint_url="https://sts.eu-west-1.amazonaws.com/"),
        "https://sts.eu-west-1.amazonaws.com/ did not answer in time",
        "run again",
    ),
    "connection refused": (
        bx.EndpointConnectionError(endpoint_url="http://localhost:5000/"),
        "could not connect to http://localhost:5000/",
        "AWS_ENDPOINT_URL_IAM",
    ),
    "not an AWS answer": (
        ResponseParserError("Unable to parse response"),
        "the endpoint's answer is not an AWS response",
        "AWS_ENDPOINT_URL",
    ),
    "expired token exception": (
        _client_error("ExpiredTokenException"),
        "the AWS credentials have expired (ExpiredTokenException on GetRole)",
        "aws sso login --profile dev",
    ),
    "request expired": (
        _client_error("RequestExpired"),
        "the AWS credentials have expired (RequestExpired on GetRole)",
        "temporary",
    ),
    "unknown access key": (
        _client_error("InvalidClientTokenId"),
        "AWS does not recognise the access key (InvalidClientTokenId on GetRole)",
        "aws configure list",
    ),
    "wrong secret key": (
        _client_error("SignatureDoesNotMatch"),
        "AWS rejected the request signature on GetRole: the secret key does not match the "
        "access key",
        "AWS_SECRET_ACCESS_KEY",
    ),
    "access denied": (
        _client_error("AccessDenied", "User: x is not\nauthorized"),
        "GetRole was denied: User: x is not authorized",
        "wsgw-doctor permissions",
    ),
    "throttled": (
        _client_error("Throttling"),
        "AWS throttled GetRole and the retries ran out",
        "later",
    ),
}


@pytest.mark.parametrize("case", TRANSLATIONS, ids=list(TRANSLATIONS))
def test_errors_become_one_line_and_a_hint(case: str) -> None:
    error, message, hint = TRANSLATIONS[case]

    translated = translate(error, "dev")

    assert translated.message == message, case
    assert hint in translated.hint, case


def test_aws_errors_raises_without_the_botocore_traceback() -> None:
    with pytest.raises(EvaluationError) as raised, aws_errors("dev"):
        raise bx.NoCredentialsError()

    _one_line(raised.value)


def test_importing_the_live_check_does_not_import_boto3() -> None:
    code = (
        "import sys, wsgw_doctor.aws.live, wsgw_doctor.aws.permissions; "
        "sys.exit('boto3' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
