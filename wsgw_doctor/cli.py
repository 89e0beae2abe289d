"""The ``wsgw-doctor`` command line: parse options, call a plain function, format, exit.

Only this module chooses exit codes. Imports of anything heavy happen inside the commands,
so that ``--help`` and the offline check start fast and never load boto3.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from wsgw_doctor import __version__
from wsgw_doctor.errors import DoctorError, InputError

if TYPE_CHECKING:
    from wsgw_doctor.results import Report

T = TypeVar("T")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_NOT_EVALUATED = 3

app = typer.Typer(
    name="wsgw-doctor",
    help="Check the IAM permissions django-aws-api-gateway-websockets needs, feature by feature.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)

logger = logging.getLogger("wsgw_doctor")


class Format(str, Enum):
    TABLE = "table"
    JSON = "json"


class PhaseOption(str, Enum):
    DEPLOY = "deploy"
    RUNTIME = "runtime"


def _env(name: str) -> str:
    return f"WSGW_DOCTOR_{name}"


FileList = Annotated[
    list[Path] | None,
    typer.Option(
        "--policy",
        help="An identity policy file (JSON); repeat for several. Without any, the live "
        "credentials are checked.",
        envvar=_env("POLICY"),
        dir_okay=False,
    ),
]


Region = Annotated[
    str | None,
    typer.Option(
        help="The API's region.", envvar=[_env("REGION"), "AWS_REGION", "AWS_DEFAULT_REGION"]
    ),
]
Account = Annotated[
    str | None, typer.Option(help="The 12-digit account id.", envvar=_env("ACCOUNT"))
]
ApiId = Annotated[str | None, typer.Option(help="The API id.", envvar=_env("API_ID"))]
Stage = Annotated[str | None, typer.Option(help="The stage name.", envvar=_env("STAGE"))]
Domain = Annotated[str | None, typer.Option(help="The custom domain name.", envvar=_env("DOMAIN"))]
CertificateArn = Annotated[
    str | None, typer.Option(help="The ACM certificate ARN.", envvar=_env("CERTIFICATE_ARN"))
]
HostedZoneId = Annotated[
    str | None, typer.Option(help="The Route 53 hosted zone id.", envvar=_env("HOSTED_ZONE_ID"))
]
CloudwatchRole = Annotated[
    str | None,
    typer.Option(help="The CloudWatch role name or ARN.", envvar=_env("CLOUDWATCH_ROLE")),
]
LogGroup = Annotated[
    str | None, typer.Option(help="The access log group.", envvar=_env("LOG_GROUP"))
]
Features = Annotated[
    list[str] | None,
    typer.Option(
        "--feature",
        help="A feature (repeatable); 'all' for every one. Default: the five features the "
        "library runs itself.",
        envvar=_env("FEATURE"),
    ),
]
PhaseChoice = Annotated[PhaseOption | None, typer.Option(help="Only deploy or runtime features.")]


@app.command()
def check(
    policy: FileList = None,
    documented: Annotated[
        bool, typer.Option(help="Check the library's documented example policy.")
    ] = False,
    boundary: Annotated[
        Path | None, typer.Option(help="A permissions boundary file.", dir_okay=False)
    ] = None,
    scp: Annotated[
        list[Path] | None,
        typer.Option(help="A service control policy file; repeat for each level.", dir_okay=False),
    ] = None,
    session_policy: Annotated[
        Path | None, typer.Option(help="A session policy file.", dir_okay=False)
    ] = None,
    documented_policy: Annotated[
        Path | None,
        typer.Option(
            help="Compare with this reference policy instead of the library's documented one.",
            dir_okay=False,
            envvar=_env("DOCUMENTED_POLICY"),
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(help="Suppress the finding with this id (repeatable).", envvar=_env("IGNORE")),
    ] = None,
    region: Region = None,
    account: Account = None,
    api_id: ApiId = None,
    stage: Stage = None,
    domain: Domain = None,
    certificate_arn: CertificateArn = None,
    hosted_zone_id: HostedZoneId = None,
    cloudwatch_role: CloudwatchRole = None,
    log_group: LogGroup = None,
    feature: Features = None,
    phase: PhaseChoice = None,
    output_format: Annotated[
        Format, typer.Option("--format", help="Output format.", envvar=_env("FORMAT"))
    ] = Format.TABLE,
    fail_on: Annotated[
        str,
        typer.Option(
            help="The lowest kind (missing, undetermined, dangerous, ...) or severity (error, "
            "warning, info) that fails the run, or never.",
            envvar=_env("FAIL_ON"),
        ),
    ] = "missing",
    principal: Annotated[
        str | None,
        typer.Option(
            help="Live check: this IAM user or role ARN instead of the caller.",
            envvar=_env("PRINCIPAL"),
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(help="Live check: the AWS profile to use.", envvar=_env("PROFILE")),
    ] = None,
    no_probe: Annotated[
        bool,
        typer.Option(
            "--no-probe",
            help="Live check: send no dry-run calls (a check of policy files sends none).",
            envvar=_env("NO_PROBE"),
        ),
    ] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="-v for progress, -vv for debug.")
    ] = 0,
) -> None:
    """Check policies against what each feature needs; exit 1 on findings at or above --fail-on."""
    from wsgw_doctor.commands import CheckRequest, run_check
    from wsgw_doctor.inputs import IdOptions
    from wsgw_doctor.report import formatter, summary_line

    _configure_logging(verbose)
    request = CheckRequest(
        policies=tuple(policy or ()),
        documented=documented,
        boundary=boundary,
        scps=tuple(scp or ()),
        session_policy=session_policy,
        ids=IdOptions(
            region=region,
            account=account,
            api_id=api_id,
            stage=stage,
            domain=domain,
            hosted_zone_id=hosted_zone_id,
            certificate_arn=certificate_arn,
            cloudwatch_role=cloudwatch_role,
            log_group=log_group,
        ),
        features=tuple(feature or ()),
        phase=phase.value if phase else None,
        fail_on=fail_on,
        principal=principal,
        profile=profile,
        documented_policy=documented_policy,
        ignore=tuple(ignore or ()),
        probe=not no_probe,
    )
    report = _guarded(lambda: run_check(request))
    sys.stdout.write(formatter(output_format.value).format(report))
    sys.stdout.flush()
    typer.echo(summary_line(report), err=True)
    _exit_for([report])


@app.command()
def features(
    output_format: Annotated[
        str, typer.Option("--format", help="'table' or 'markdown' (for the README).")
    ] = "table",
) -> None:
    """List the features and what each needs."""
    from wsgw_doctor.catalog import all_features
    from wsgw_doctor.features_table import features_markdown, features_table

    if output_format not in ("table", "markdown"):
        _fail(InputError(f"--format {output_format!r} is not valid", "use table or markdown"))
    render = features_markdown if output_format == "markdown" else features_table
    sys.stdout.write(render(all_features()))


@app.command()
def policy(
    region: Region = None,
    account: Account = None,
    api_id: ApiId = None,
    stage: Stage = None,
    domain: Domain = None,
    certificate_arn: CertificateArn = None,
    hosted_zone_id: HostedZoneId = None,
    cloudwatch_role: CloudwatchRole = None,
    log_group: LogGroup = None,
    feature: Features = None,
    phase: PhaseChoice = None,
    include_unconfirmed_conditions: Annotated[
        bool,
        typer.Option(
            help="Also write conditions whose keys AWS does not confirm for WebSocket APIs."
        ),
    ] = False,
) -> None:
    """Print the least-privilege policy for the features, as IAM JSON.

    One document prints as itself; deploy and runtime documents, or a policy split to stay
    under the managed-policy size limit, print as one object keyed by policy name.
    """
    from wsgw_doctor.commands import PolicyRequest, run_policy
    from wsgw_doctor.inputs import IdOptions

    request = PolicyRequest(
        ids=IdOptions(
            region=region,
            account=account,
            api_id=api_id,
            stage=stage,
            domain=domain,
            hosted_zone_id=hosted_zone_id,
            certificate_arn=certificate_arn,
            cloudwatch_role=cloudwatch_role,
            log_group=log_group,
        ),
        features=tuple(feature or ()),
        phase=phase.value if phase else None,
        include_unconfirmed_conditions=include_unconfirmed_conditions,
    )
    generated = _guarded(lambda: run_policy(request))
    documents = {p.name: p.document for p in generated.policies}
    shown = next(iter(documents.values())) if len(documents) == 1 else documents
    sys.stdout.write(json.dumps(shown, indent=2) + "\n")
    for note in generated.notes:
        typer.echo(f"note: {note}", err=True)


@app.command()
def demo(
    output_format: Annotated[
        Format, typer.Option("--format", help="Output format.", envvar=_env("FORMAT"))
    ] = Format.TABLE,
    fail_on: Annotated[str, typer.Option(help="As for check.", envvar=_env("FAIL_ON"))] = "missing",
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="-v for progress, -vv for debug.")
    ] = 0,
) -> None:
    """Check two roles of a made-up account (in this process, no AWS account needed)."""
    from wsgw_doctor.commands import parse_fail_on
    from wsgw_doctor.demo import run_demo
    from wsgw_doctor.report import formatter, summary_line

    _configure_logging(verbose)
    threshold = _guarded(lambda: parse_fail_on(fail_on))
    reports = _guarded(lambda: run_demo(threshold))
    render = formatter(output_format.value)
    for role, report in reports:
        if output_format is Format.TABLE:
            sys.stdout.write(f"== {report.principal['arn']}: {role.summary}\n")
        sys.stdout.write(render.format(report))
        sys.stdout.write("\n" if output_format is Format.TABLE else "")
        typer.echo(summary_line(report), err=True)
    _exit_for([report for _, report in reports])


@app.command()
def permissions(
    account: Annotated[
        str | None, typer.Option(help="Scope to this account id.", envvar=_env("ACCOUNT"))
    ] = None,
    partition: Annotated[str, typer.Option(help="aws, aws-cn or aws-us-gov.")] = "aws",
) -> None:
    """Print the IAM policy wsgw-doctor itself needs for a live check."""
    from wsgw_doctor.aws.permissions import doctor_policy_json
    from wsgw_doctor.inputs import validate_account, validate_partition

    def policy() -> str:
        validate_account(account)
        validate_partition(partition)
        return doctor_policy_json(account, partition)

    sys.stdout.write(_guarded(policy))


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"wsgw-doctor {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """Check the IAM permissions django-aws-api-gateway-websockets needs, feature by feature."""


def _guarded(call: Callable[[], T]) -> T:
    """Run a command's work, turning the errors users can act on into a message and exit."""
    try:
        return call()
    except DoctorError as error:
        _fail(error)


def _exit_for(reports: list[Report]) -> NoReturn:
    """3 when anything could not be evaluated, else 1 when a finding fails the run."""
    if any(r.could_not_evaluate for r in reports):
        raise typer.Exit(EXIT_NOT_EVALUATED)
    raise typer.Exit(EXIT_FINDINGS if any(r.failing for r in reports) else EXIT_OK)


def _fail(error: DoctorError) -> NoReturn:
    typer.echo(f"wsgw-doctor: error: {error.message}", err=True)
    if error.hint:
        typer.echo(f"hint: {error.hint}", err=True)
    raise typer.Exit(error.exit_code)


def _configure_logging(verbose: int) -> None:
    from wsgw_doctor.logs import configure

    configure(verbose)


def main() -> None:
    """Console-script entry point."""
    app()
