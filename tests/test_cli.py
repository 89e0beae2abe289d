"""The command line end to end: stdout, stderr and exit code apart."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wsgw_doctor.cli import EXIT_FINDINGS, EXIT_NOT_EVALUATED, EXIT_OK, EXIT_USAGE, app

ACCOUNT = ["--region", "eu-west-1", "--account", "123456789012"]
DOCUMENTED = ["check", "--documented", *ACCOUNT]
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}

WritePolicy = Callable[..., Path]


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def findings(*arguments: str, kind: str = "missing") -> set[str]:
    code, out, _ = run(*arguments, "--format", "json")
    assert code in (EXIT_OK, EXIT_FINDINGS), out
    return {f["id"] for f in json.loads(out)["findings"] if f["kind"] == kind}


def test_documented_policy_cannot_delete_routes_and_allows_the_rest() -> None:
    assert findings(*DOCUMENTED) == {
        "MISSING.routes.DeleteRoute",
        "MISSING.routes.DeleteIntegration",
    }


def test_documented_policy_grants_nothing_for_the_deployment_steps() -> None:
    missing = findings(*DOCUMENTED, "--feature", "all") - {
        "MISSING.routes.DeleteRoute",
        "MISSING.routes.DeleteIntegration",
    }
    assert missing == {
        "MISSING.dns.ChangeResourceRecordSets",
        "MISSING.dns.GetChange",
        "MISSING.certificate.DescribeCertificate",
        "MISSING.access-logging.GetAccount",
        "MISSING.access-logging.UpdateAccount",
        "MISSING.access-logging.PassRole",
        "MISSING.access-logging.CreateLogGroup",
    }


def test_exit_0_when_everything_is_allowed(policy_file: WritePolicy) -> None:
    code, out, err = run("check", "--policy", str(policy_file(ALLOW_ALL)), *ACCOUNT)
    assert code == EXIT_OK
    assert "missing" not in out
    assert err.startswith("wsgw-doctor: 5 features")


def test_exit_1_on_findings_with_the_table_on_stdout_and_summary_on_stderr() -> None:
    code, out, err = run(*DOCUMENTED)
    assert code == EXIT_FINDINGS
    assert "MISSING.routes.DeleteRoute [error]" in out
    assert "apigateway:DELETE" in out
    assert "wsgw-doctor:" not in out
    assert err.count("\n") == 1
    assert "2 missing" in err


def test_exit_2_on_bad_input() -> None:
    code, out, err = run("check", "--documented", "--region", "eu-west-1", "--account", "12345")
    assert code == EXIT_USAGE
    assert out == ""
    assert err.splitlines()[0] == "wsgw-doctor: error: --account '12345' is not valid"
    assert err.splitlines()[1].startswith("hint: ")


def test_exit_3_when_a_requirement_cannot_be_evaluated(monkeypatch: pytest.MonkeyPatch) -> None:
    import wsgw_doctor.check as check_module

    def broken(*_: object) -> None:
        raise RuntimeError("engine defect")

    monkeypatch.setattr(check_module, "evaluate", broken)
    code, out, _ = run(*DOCUMENTED, "--format", "json")
    assert code == EXIT_NOT_EVALUATED
    report = json.loads(out)
    assert {r["status"] for r in report["results"]} == {"error"}
    assert len([f for f in report["findings"] if f["kind"] == "error"]) == len(report["results"])


def test_json_report_has_the_documented_shape() -> None:
    code, out, _ = run(*DOCUMENTED, "--format", "json")
    assert code == EXIT_FINDINGS
    report = json.loads(out)
    assert list(report) == sorted(report)
    assert {
        "version",
        "principal",
        "region",
        "account",
        "features",
        "results",
        "findings",
        "summary",
    } <= set(report)
    delete = next(r for r in report["results"] if r["operation"] == "apigatewayv2.DeleteRoute")
    assert delete["decision"] == "implicitDeny"
    assert delete["matched"] == []
    create = next(r for r in report["results"] if r["operation"] == "apigatewayv2.CreateApi")
    assert create["decision"] == "allowed"
    assert create["matched"] == [
        {
            "effect": "Allow",
            "level": "identity",
            "sid": "DjangoApiGatewayPolicy01",
            "source": "documented-policy.json",
            "statement_index": 0,
        }
    ]
    assert {"feature", "action", "resource", "missing_context", "origin", "phase"} <= set(create)
    finding = report["findings"][0]
    assert set(finding) == {
        "id",
        "kind",
        "severity",
        "feature",
        "action",
        "resource",
        "message",
        "statement",
    }
    broad = next(f for f in report["findings"] if f["kind"] == "broader-than-needed")
    assert broad["statement"] == {
        "source": "documented-policy.json",
        "statement_index": 0,
        "sid": "DjangoApiGatewayPolicy01",
    }


def test_explicit_deny_names_the_statement(policy_file: WritePolicy) -> None:
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "NoDeletes", "Effect": "Deny", "Action": "apigateway:DELETE", "Resource": "*"}
        ],
    }
    allow, guard = policy_file(ALLOW_ALL, "allow.json"), policy_file(deny, "guard.json")
    code, out, _ = run("check", "--policy", str(allow), "--policy", str(guard), *ACCOUNT)
    assert code == EXIT_FINDINGS
    assert f"denied by {guard}#NoDeletes" in out
    assert f"Fix: narrow or remove the Deny in {guard}#NoDeletes" in out


def test_boundary_limits_what_the_identity_policy_allows(policy_file: WritePolicy) -> None:
    only_messaging = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": "*"}
        ],
    }
    code, out, _ = run(
        "check",
        "--policy",
        str(policy_file(ALLOW_ALL, "allow.json")),
        "--boundary",
        str(policy_file(only_messaging, "boundary.json")),
        "--phase",
        "runtime",
        *ACCOUNT,
    )
    assert code == EXIT_OK, out
    code, out, _ = run(
        "check",
        "--policy",
        str(policy_file(ALLOW_ALL, "allow.json")),
        "--boundary",
        str(policy_file(only_messaging, "boundary.json")),
        "--feature",
        "custom-domain",
        *ACCOUNT,
    )
    assert code == EXIT_FINDINGS
    assert "the permissions boundary does not allow it" in out


def test_unknown_condition_keys_make_a_result_undetermined(policy_file: WritePolicy) -> None:
    conditional = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:ManageConnections",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            }
        ],
    }
    path = str(policy_file(conditional))
    arguments = ("check", "--policy", path, "--feature", "messaging", *ACCOUNT)
    code, out, _ = run(*arguments)
    assert code == EXIT_OK
    assert "undetermined: aws:SourceIp" in out
    code, _, _ = run(*arguments, "--fail-on", "undetermined")
    assert code == EXIT_FINDINGS


def test_requested_region_is_known_so_region_locks_decide(policy_file: WritePolicy) -> None:
    region_lock = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}},
            }
        ],
    }
    path = str(policy_file(region_lock))
    code, out, _ = run("check", "--policy", path, "--feature", "all", *ACCOUNT)
    assert code == EXIT_OK, out
    code, out, _ = run(
        "check", "--policy", path, "--region", "eu-west-2", "--account", "123456789012"
    )
    assert code == EXIT_FINDINGS


def test_fail_on_never_passes_whatever_is_found() -> None:
    code, _, err = run(*DOCUMENTED, "--fail-on", "never")
    assert code == EXIT_OK
    assert "never" in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            ["--feature", "custom-domains"],
            "--feature 'custom-domains' is not a feature",
            id="unknown-feature",
        ),
        pytest.param(["--region", "Europe"], "--region 'Europe' is not valid", id="bad-region"),
        pytest.param(["--api-id", "ABC"], "--api-id 'ABC' is not valid", id="bad-api-id"),
        pytest.param(
            [
                "--certificate-arn",
                "arn:aws:acm:us-east-1:123456789012:certificate/"
                "11111111-2222-3333-4444-555555555555",
            ],
            "--certificate-arn is in us-east-1, not in the API's region eu-west-1",
            id="certificate-in-other-region",
        ),
        pytest.param(
            ["--certificate-arn", "arn:aws:iam::123456789012:role/x"],
            "is not an ACM certificate ARN",
            id="certificate-not-acm",
        ),
        pytest.param(
            ["--fail-on", "sometimes"], "--fail-on 'sometimes' is not valid", id="fail-on"
        ),
    ],
)
def test_bad_values_get_one_line_and_exit_2(arguments: list[str], message: str) -> None:
    code, out, err = run(*DOCUMENTED, *arguments)
    assert code == EXIT_USAGE
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_valid_feature_names_are_listed_for_a_typo() -> None:
    _, _, err = run(*DOCUMENTED, "--feature", "dsn")
    assert "valid names: create-api, routes, sync, custom-domain, messaging, dns, " in err


def test_region_and_account_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run("check", "--documented")
    assert code == EXIT_USAGE
    assert "--account is required" in err
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    code, _, err = run("check", "--documented", "--account", "123456789012")
    assert code == EXIT_USAGE
    assert "--region is required" in err


def test_region_and_account_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("WSGW_DOCTOR_ACCOUNT", "210987654321")
    code, out, _ = run("check", "--documented", "--format", "json")
    assert code == EXIT_FINDINGS
    report = json.loads(out)
    assert (report["region"], report["account"]) == ("eu-central-1", "210987654321")


def test_principal_goes_with_a_live_check_only() -> None:
    code, _, err = run(*DOCUMENTED, "--principal", "arn:aws:iam::123456789012:role/app")
    assert code == EXIT_USAGE
    assert "--principal and --profile are for a live check" in err


def test_a_boundary_file_needs_policy_files(policy_file: WritePolicy) -> None:
    code, _, err = run("check", "--boundary", str(policy_file(ALLOW_ALL)), *ACCOUNT)
    assert code == EXIT_USAGE
    assert "--boundary, --scp and --session-policy go with --policy" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param('{"Statement": [', "bad.json:1:", id="not-json"),
        pytest.param('{"Version": "2012-10-17"}', "bad.json", id="no-statement"),
        pytest.param(
            '{"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}',
            "Statement[0]",
            id="bad-effect",
        ),
    ],
)
def test_bad_policy_files_name_the_file_and_place(
    policy_file: WritePolicy, content: str, message: str
) -> None:
    code, out, err = run("check", "--policy", str(policy_file(content, "bad.json")), *ACCOUNT)
    assert code == EXIT_USAGE
    assert out == ""
    assert message in err.splitlines()[0]
    assert "Traceback" not in err


def test_missing_policy_file_is_named(tmp_path: Path) -> None:
    code, _, err = run("check", "--policy", str(tmp_path / "nope.json"), *ACCOUNT)
    assert code == EXIT_USAGE
    assert "nope.json" in err
    assert "Traceback" not in err


def _imports_after(arguments: list[str]) -> set[str]:
    script = (
        "import sys\n"
        "from wsgw_doctor.cli import main\n"
        f"sys.argv = ['wsgw-doctor', *{arguments!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    return set(done.stderr.split())


def test_help_and_the_offline_check_never_import_boto3() -> None:
    assert "boto3" not in _imports_after(["--help"])
    assert "botocore" not in _imports_after(DOCUMENTED)


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wsgw_doctor", *DOCUMENTED, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == EXIT_FINDINGS
    assert json.loads(done.stdout)["account"] == "123456789012"


BROAD_DOCUMENTED = {
    "BROADER.documented-policy.json#DjangoApiGatewayPolicy01",
    "DANGEROUS.documented-policy.json#DjangoApiGatewayPolicy01.apigateway-put-apis",
    "DANGEROUS.documented-policy.json#DjangoApiGatewayPolicy01.invoke-all-apis",
    "REDUNDANT.documented-policy.json#DjangoApiGatewayPolicy01",
}


def test_the_documented_policy_is_judged_for_breadth_too() -> None:
    code, out, _ = run(*DOCUMENTED, "--format", "json")
    assert code == EXIT_FINDINGS
    ids = {f["id"] for f in json.loads(out)["findings"] if f["kind"] != "missing"}
    assert ids == BROAD_DOCUMENTED


def test_fail_on_dangerous_fails_a_policy_with_nothing_missing(policy_file: WritePolicy) -> None:
    path = str(policy_file(ALLOW_ALL, "admin.json"))
    code, out, _ = run("check", "--policy", path, *ACCOUNT, "--format", "json")
    assert code == EXIT_OK
    dangerous = {f["id"] for f in json.loads(out)["findings"] if f["kind"] == "dangerous"}
    assert dangerous == {
        "DANGEROUS.admin.json#Statement[0].all-actions".replace("admin.json", path)
    }
    code, _, _ = run("check", "--policy", path, *ACCOUNT, "--fail-on", "dangerous")
    assert code == EXIT_FINDINGS


def test_ignored_findings_are_counted_as_suppressed() -> None:
    code, out, err = run(
        *DOCUMENTED,
        "--ignore",
        "MISSING.routes.DeleteRoute",
        "--ignore",
        "MISSING.routes.DeleteIntegration",
        "--format",
        "json",
    )
    assert code == EXIT_OK
    report = json.loads(out)
    assert report["summary"]["suppressed"] == [
        "MISSING.routes.DeleteIntegration",
        "MISSING.routes.DeleteRoute",
    ]
    assert "2 suppressed" in err


def test_each_result_says_whether_the_documented_policy_grants_it(
    policy_file: WritePolicy,
) -> None:
    code, out, _ = run(
        "check",
        "--policy",
        str(policy_file(ALLOW_ALL)),
        *ACCOUNT,
        "--feature",
        "routes",
        "--format",
        "json",
    )
    assert code == EXIT_OK
    report = json.loads(out)
    granted = {r["operation"]: r["documented"] for r in report["results"]}
    assert granted["apigatewayv2.DeleteRoute"] is False
    assert granted["apigatewayv2.CreateRoute"] is True
    gaps = {f["id"] for f in report["findings"] if f["kind"] == "documented-gap"}
    assert gaps == {"DOCUMENTED-GAP.routes.DeleteRoute", "DOCUMENTED-GAP.routes.DeleteIntegration"}
    assert report["reference"] == "documented-policy.json"


def test_a_teams_own_reference_replaces_the_documented_policy(policy_file: WritePolicy) -> None:
    reference = policy_file(ALLOW_ALL, "reference.json")
    code, out, _ = run(
        "check",
        "--policy",
        str(policy_file(ALLOW_ALL)),
        *ACCOUNT,
        "--documented-policy",
        str(reference),
        "--format",
        "json",
    )
    assert code == EXIT_OK
    report = json.loads(out)
    assert report["reference"] == str(reference)
    assert all(r["documented"] for r in report["results"])
    assert not [f for f in report["findings"] if f["kind"] == "documented-gap"]


def test_the_generated_policy_passes_the_check_with_nothing_broad(tmp_path: Path) -> None:
    ids = [
        "--api-id",
        "abcde12345",
        "--stage",
        "live",
        "--domain",
        "ws.example.org",
        "--hosted-zone-id",
        "Z123ABC",
        "--cloudwatch-role",
        "ApiGatewayLogs",
    ]
    code, out, _ = run("policy", *ACCOUNT, *ids, "--feature", "all")
    assert code == EXIT_OK
    documents = json.loads(out)
    assert set(documents) == {"wsgw-doctor-deploy", "wsgw-doctor-runtime"}
    paths = []
    for name, document in documents.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(document))
        paths += ["--policy", str(path)]

    code, out, _ = run("check", *paths, *ACCOUNT, *ids, "--feature", "all", "--format", "json")

    report = json.loads(out)
    assert code == EXIT_OK
    assert {r["status"] for r in report["results"]} == {"allowed"}
    kinds = {f["kind"] for f in report["findings"]}
    assert not kinds & {"missing", "broader-than-needed", "dangerous", "redundant"}


def test_one_generated_document_prints_as_itself() -> None:
    code, out, err = run("policy", *ACCOUNT, "--phase", "runtime")
    assert code == EXIT_OK
    document = json.loads(out)
    assert document["Version"] == "2012-10-17"
    assert document["Statement"][0]["Action"] == "execute-api:ManageConnections"
    assert "api_id was not given" in err


def test_policy_rejects_an_unknown_feature() -> None:
    code, out, err = run("policy", *ACCOUNT, "--feature", "nope")
    assert code == EXIT_USAGE
    assert out == ""
    assert "--feature 'nope' is not a feature" in err
