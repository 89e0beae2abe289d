"""Sessions and clients made the boto3 way, and AWS errors turned into one clear line.

Credentials, profiles (including IAM Identity Center and assume-role profiles), regions and
endpoint overrides (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_IAM``, ``AWS_ENDPOINT_URL_STS``)
are all resolved by boto3 itself, so the doctor behaves exactly as the AWS CLI does with the
same environment. The one addition is ``AWS_REGION``, which botocore does not read but the
AWS CLI v2 and the other SDKs do.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from wsgw_doctor import __version__
from wsgw_doctor.errors import EvaluationError

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_sts import STSClient
    from mypy_boto3_sts.type_defs import GetCallerIdentityResponseTypeDef

logger = logging.getLogger(__name__)

RetryMode = Literal["standard", "adaptive"]

_EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
_UNKNOWN_KEY = frozenset({"InvalidClientTokenId", "UnrecognizedClientException"})
_THROTTLED = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded"})
_DENIED = frozenset({"AccessDenied", "AccessDeniedException"})
_CONNECTION_HINT = (
    "check the network and any proxy, and AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_IAM and "
    "AWS_ENDPOINT_URL_STS if set"
)


@dataclass(frozen=True)
class AwsOptions:
    """How to reach AWS: which profile and region, and how patiently.

    The timeouts and attempts are small because every call the doctor makes is a cheap
    read; a check that hangs in CI for minutes helps nobody. ``max_attempts`` counts the
    first try (botocore's ``total_max_attempts``; its ``max_attempts`` counts retries).
    """

    profile: str | None = None
    region: str | None = None
    retry_mode: RetryMode = "standard"
    max_attempts: int = 3
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    concurrency: int = 8


@dataclass(frozen=True)
class Clients:
    """The two clients a live check needs, made once so that threads can share them."""

    sts: STSClient
    iam: IAMClient
    profile: str | None = None
    region: str | None = None
    session: boto3.Session | None = None
    identity: Future[GetCallerIdentityResponseTypeDef] | None = None


def make_session(options: AwsOptions) -> boto3.Session:
    """A boto3 session for ``options``; a missing profile becomes an ``EvaluationError``."""
    import boto3

    region = options.region or os.environ.get("AWS_REGION") or None
    with aws_errors(options.profile):
        return boto3.Session(profile_name=options.profile, region_name=region)


def client_config(options: AwsOptions) -> Config:
    """Retries, timeouts and a user agent that names the doctor in CloudTrail."""
    from botocore.config import Config

    return Config(
        retries={"mode": options.retry_mode, "total_max_attempts": options.max_attempts},
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
        user_agent_extra=f"wsgw-doctor/{__version__}",
    )


def connect(options: AwsOptions, ask: Executor | None = None) -> Clients:
    """Make the STS and IAM clients; with ``ask``, also start asking STS who is calling.

    The identity call goes out in ``ask`` as soon as the STS client exists, and the IAM
    client, whose service model is the slow one to load, is made while it is in flight.
    Only this thread makes clients, so the session is never used by two at once.
    """
    session = make_session(options)
    config = client_config(options)
    with aws_errors(options.profile):
        sts = session.client("sts", config=config)
        identity = ask.submit(sts.get_caller_identity) if ask is not None else None
        iam = session.client("iam", config=config)
    logger.debug(
        "profile %s, region %s, STS at %s, IAM at %s",
        session.profile_name,
        session.region_name,
        sts.meta.endpoint_url,
        iam.meta.endpoint_url,
    )
    return Clients(sts, iam, options.profile, session.region_name, session, identity)


@contextmanager
def aws_errors(profile: str | None = None) -> Iterator[None]:
    """Turn credential, connection and AWS errors raised in the block into ``EvaluationError``."""
    try:
        yield
    except _translatable() as error:
        raise translate(error, profile) from None


def _translatable() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    return (BotoCoreError, ClientError, ResponseParserError)


def translate(error: BaseException, profile: str | None = None) -> EvaluationError:
    """One line that names what is wrong, and a hint, for an error boto3 raised."""
    from botocore.exceptions import ClientError

    name = profile or os.environ.get("AWS_PROFILE") or "default"
    if isinstance(error, ClientError):
        return _client_error(error, name)
    message, hint = _botocore_error(error, name)
    return EvaluationError(_one_line(message), hint)


def _client_error(error: Exception, profile: str) -> EvaluationError:
    code, text = error_code(error), _one_line(error_message(error))
    operation = getattr(error, "operation_name", "the request")
    if code in _EXPIRED:
        return EvaluationError(
            f"the AWS credentials have expired ({code} on {operation})",
            f"renew them, e.g. aws sso login --profile {profile}, or fetch new temporary ones",
        )
    if code in _UNKNOWN_KEY:
        return EvaluationError(
            f"AWS does not recognise the access key ({code} on {operation})",
            "check that the key is active and belongs to this partition: aws configure list",
        )
    if code == "SignatureDoesNotMatch":
        return EvaluationError(
            f"AWS rejected the request signature on {operation}: the secret key does not "
            "match the access key",
            "check AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key",
        )
    if code in _DENIED:
        return EvaluationError(
            f"{operation} was denied: {text}",
            "give the doctor the policy that wsgw-doctor permissions prints",
        )
    if code in _THROTTLED:
        return EvaluationError(
            f"AWS throttled {operation} and the retries ran out",
            "run again later, or with fewer checks running at the same time",
        )
    return EvaluationError(f"{operation} failed: {code}: {text}", "")


def _botocore_error(error: BaseException, profile: str) -> tuple[str, str]:
    found = _credentials_problem(error, profile) or _network_problem(error)
    return found or (f"AWS request failed: {error}", "")


def _credentials_problem(error: BaseException, profile: str) -> tuple[str, str] | None:
    from botocore import exceptions as bx

    kwargs = getattr(error, "kwargs", {})
    if isinstance(error, bx.NoCredentialsError):
        return "no AWS credentials found", (
            "pass --profile or set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(error, bx.PartialCredentialsError):
        provider, missing = kwargs.get("provider", "?"), kwargs.get("cred_var", "?")
        return f"incomplete AWS credentials in {provider}: {missing} is missing", (
            "set both the access key id and the secret access key"
        )
    if isinstance(error, bx.ProfileNotFound):
        missing = kwargs.get("profile", profile)
        return f"the AWS profile {missing!r} does not exist", (
            "list the profiles with aws configure list-profiles"
        )
    if isinstance(error, (bx.SSOError, bx.TokenRetrievalError)):
        return (
            f"the IAM Identity Center (SSO) session of profile {profile!r} has expired or "
            "was never started",
            f"run aws sso login --profile {profile}",
        )
    if isinstance(error, bx.LoginError):
        return f"the console sign-in session of profile {profile!r} has expired", (
            f"run aws login --profile {profile}"
        )
    if isinstance(error, bx.CredentialRetrievalError):
        provider = kwargs.get("provider", "the credential provider")
        return f"could not get credentials from {provider}: {kwargs.get('error_msg', '')}", (
            f"check the role_arn, source_profile or credential_process of profile {profile!r}"
        )
    return None


def _network_problem(error: BaseException) -> tuple[str, str] | None:
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    endpoint = getattr(error, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
    if isinstance(error, bx.NoRegionError):
        return "no AWS region is configured", "pass --region or set AWS_REGION"
    if isinstance(error, bx.ConnectTimeoutError):
        return f"timed out connecting to {endpoint}", _CONNECTION_HINT
    if isinstance(error, bx.ReadTimeoutError):
        return f"{endpoint} did not answer in time", "run again; " + _CONNECTION_HINT
    if isinstance(error, (bx.EndpointConnectionError, bx.ConnectionError)):
        return f"could not connect to {endpoint}", _CONNECTION_HINT
    if isinstance(error, ResponseParserError):
        return "the endpoint's answer is not an AWS response", _CONNECTION_HINT
    return None


def error_code(error: BaseException) -> str:
    """The AWS error code of a ``ClientError``, or ``""``."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_message(error: BaseException) -> str:
    """The AWS error message of a ``ClientError``, or its text."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "") or error)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
