"""Validation of the identifiers a user passes, so that a typo fails before any check runs.

A malformed id would otherwise render into an ARN that no policy matches, and the report
would show permissions missing that are really granted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wsgw_doctor.catalog import Ids
from wsgw_doctor.errors import InputError

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_API_ID = re.compile(r"^[a-z0-9]{6,16}$")
_STAGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOSTED_ZONE = re.compile(r"^Z[A-Z0-9]{1,31}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_LOG_GROUP = re.compile(r"^[A-Za-z0-9_./#-]{1,512}$")
_CERTIFICATE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):acm:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"certificate/[0-9a-f-]{36}$"
)


@dataclass(frozen=True)
class IdOptions:
    """The identifiers as given on the command line, before validation."""

    region: str | None = None
    account: str | None = None
    api_id: str | None = None
    stage: str | None = None
    domain: str | None = None
    hosted_zone_id: str | None = None
    certificate_arn: str | None = None
    cloudwatch_role: str | None = None
    log_group: str | None = None


def partition_of(region: str) -> str:
    """The ARN partition a region belongs to."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def validate_ids(options: IdOptions) -> Ids:
    """Check every given id and return them ready for rendering; raise InputError otherwise."""
    region = _require(options.region, "--region", "pass --region, e.g. --region eu-west-1")
    _match(_REGION, region, "--region", "a region name such as eu-west-1")
    account = _require(options.account, "--account", "pass --account, your 12-digit account id")
    _match(_ACCOUNT, account, "--account", "an account id is exactly 12 digits")
    ids = Ids(partition=partition_of(region), region=region, account=account)

    if options.api_id is not None:
        _match(
            _API_ID,
            options.api_id,
            "--api-id",
            "an API id is lowercase letters and digits, 10 of them on AWS",
        )
    if options.stage is not None:
        _match(_STAGE, options.stage, "--stage", "letters, digits, '-' and '_' only")
    domain = options.domain.lower().rstrip(".") if options.domain else None
    if domain is not None:
        _match(_DOMAIN, domain, "--domain", "a host name such as ws.example.com")
    zone = _hosted_zone(options.hosted_zone_id)
    role = _role_name(options.cloudwatch_role)
    log_group = _log_group(options.log_group)
    certificate = _certificate(options.certificate_arn, ids)
    return Ids(
        partition=ids.partition,
        region=region,
        account=account,
        api_id=options.api_id,
        stage=options.stage,
        domain=domain,
        hosted_zone_id=zone,
        certificate_arn=certificate,
        cloudwatch_role=role,
        log_group=log_group,
    )


def validate_account(account: str | None) -> None:
    """An account id, when one is given, is exactly 12 digits."""
    if account is not None:
        _match(_ACCOUNT, account, "--account", "an account id is exactly 12 digits")


def validate_partition(partition: str) -> None:
    if partition not in ("aws", "aws-cn", "aws-us-gov"):
        raise InputError(f"--partition {partition!r} is not valid", "use aws, aws-cn or aws-us-gov")


def _require(value: str | None, option: str, hint: str) -> str:
    if not value:
        raise InputError(f"{option} is required", hint)
    return value


def _match(pattern: re.Pattern[str], value: str, option: str, hint: str) -> None:
    if not pattern.match(value):
        raise InputError(f"{option} {value!r} is not valid", hint)


def _hosted_zone(value: str | None) -> str | None:
    if value is None:
        return None
    zone = value.removeprefix("/hostedzone/")
    _match(_HOSTED_ZONE, zone, "--hosted-zone-id", "a Route 53 zone id such as Z0123456789ABC")
    return zone


def _role_name(value: str | None) -> str | None:
    """Accept a role name or a role ARN; the ARN's path stays part of the resource."""
    if value is None:
        return None
    name = value.split(":role/", 1)[1] if ":role/" in value else value
    for part in name.split("/"):
        _match(_ROLE_NAME, part, "--cloudwatch-role", "an IAM role name or role ARN")
    return name


def _log_group(value: str | None) -> str | None:
    if value is None:
        return None
    name = value.split(":log-group:", 1)[1].removesuffix(":*") if ":log-group:" in value else value
    _match(_LOG_GROUP, name, "--log-group", "a CloudWatch Logs group name or ARN")
    return name


def _certificate(value: str | None, ids: Ids) -> str | None:
    if value is None:
        return None
    found = _CERTIFICATE.match(value)
    if not found:
        raise InputError(
            f"--certificate-arn {value!r} is not an ACM certificate ARN",
            "expected arn:aws:acm:REGION:ACCOUNT:certificate/ID",
        )
    if found["region"] != ids.region:
        raise InputError(
            f"--certificate-arn is in {found['region']}, not in the API's region {ids.region}",
            "a regional custom domain needs a certificate from the API's own region",
        )
    if found["partition"] != ids.partition:
        raise InputError(
            f"--certificate-arn is in partition {found['partition']}, not {ids.partition}",
            "use a certificate from the API's own partition",
        )
    return value
