"""A live check end to end: identity, simulation or fetched policies, and the report."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aws_fakes import (
    ACCOUNT,
    DEPLOYER,
    REGION,
    CallCounter,
    answer_with,
    assume,
    clients_for,
    deployer,
    iam_state,
    reference_simulator,
    refuse,
    user_keys,
)
from botocore.stub import Stubber

from wsgw_doctor.aws.fallback import FallbackDenied
from wsgw_doctor.aws.live import live_check
from wsgw_doctor.aws.session import AwsOptions
from wsgw_doctor.aws.simulate import plan_calls
from wsgw_doctor.catalog import Ids, all_features, render, select
from wsgw_doctor.check import Principal, known_context, sentinel_request
from wsgw_doctor.compare import sentinels
from wsgw_doctor.errors import EvaluationError, InputError
from wsgw_doctor.inputs import IdOptions
from wsgw_doctor.results import Report, Status

CATALOG = all_features()
API = f"arn:aws:apigateway:{REGION}::/apis/a1b2c3d4e5"
NO_IDS = IdOptions()
SERIAL = AwsOptions(concurrency=1)


def _decisions(report: Report) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    return {(r.feature, r.action, r.resource): (r.decision, r.denied_by) for r in report.results}


def _missing(report: Report) -> dict[tuple[str, str, str], set[str]]:
    return {
        (r.feature, r.action, r.resource): {k.lower() for k in r.missing_context}
        for r in report.results
    }


def test_without_a_simulator_the_role_is_checked_on_its_fetched_policies(
    admin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    deployer(admin)
    clients = clients_for(assume(admin, DEPLOYER))

    with caplog.at_level(logging.WARNING, logger="wsgw_doctor"):
        report = live_check(CATALOG, NO_IDS, clients=clients)

    assert {r.source for r in report.results} == {"fetched-policies"}
    assert (report.account, report.region) == (ACCOUNT, REGION)
    assert report.principal == {
        "kind": "role",
        "arn": DEPLOYER,
        "policies": [
            "role/app-deployer:inline/Deploy",
            "role/app-deployer:inline/Guardrails",
            "policy/Passing(v2)",
            "policy/DeployBoundary(v1)",
        ],
    }
    assert "the policy simulator could not be used" in report.notes[0]
    assert "service control policies cannot be read" in report.notes[1]
    assert any("continuing, degraded" in r.getMessage() for r in caplog.records)
    assert {r.status for r in report.results} == set(Status) - {Status.ERROR}


def test_simulation_and_fetched_policies_decide_every_requirement_alike(admin: Any) -> None:
    policies = deployer(admin)
    fetched = live_check(CATALOG, NO_IDS, clients=clients_for(assume(admin, DEPLOYER)))

    simulated_clients = clients_for(assume(admin, DEPLOYER))
    stub = Stubber(simulated_clients.iam)
    simulator = reference_simulator(policies)
    for call in plan_calls(_catalog_requests()):
        params = call.parameters(DEPLOYER)
        stub.add_response("simulate_principal_policy", simulator(params), params)
    with stub:
        simulated = live_check(
            CATALOG, NO_IDS, principal_arn=DEPLOYER, clients=simulated_clients, options=SERIAL
        )

    stub.assert_no_pending_responses()
    assert {r.source for r in simulated.results} == {"simulation"}
    assert _decisions(simulated) == _decisions(fetched)
    simulated_missing, fetched_missing = _missing(simulated), _missing(fetched)
    differing = {k for k in fetched_missing if simulated_missing[k] != fetched_missing[k]}
    assert all(simulated_missing[k] >= fetched_missing[k] for k in fetched_missing)
    # The guardrail denies CreateStage for the absent log destination; the simulator also
    # lists the route authorization key it lacked, and cannot say the deny did not need it.
    assert differing == {("create-api", "apigateway:POST", f"{API}/stages")}


def _catalog_requests() -> list[Any]:
    ids = Ids(region=REGION, account=ACCOUNT)
    principal = Principal("role", DEPLOYER)
    own = [
        known_context(render(f, r, ids), ids, principal) for f in CATALOG for r in f.requirements
    ]
    return own + [sentinel_request(s, ids, principal) for s in sentinels(ids)]


def test_a_role_session_checks_the_whole_catalog_in_nine_calls(
    admin: Any, calls: CallCounter
) -> None:
    policies = deployer(admin)
    clients = clients_for(assume(admin, DEPLOYER))
    answer_with(clients.iam, reference_simulator(policies))
    calls.watch(clients.sts)
    calls.watch(clients.iam)

    report = live_check(CATALOG, NO_IDS, clients=clients)

    assert calls.counts == {"GetCallerIdentity": 1, "GetRole": 1, "SimulatePrincipalPolicy": 7}
    assert len(report.results) == 38
    assert report.notes[0].startswith(f"decided by the IAM policy simulator for {DEPLOYER}")


def test_an_iam_user_checks_the_whole_catalog_in_eight_calls(
    admin: Any, calls: CallCounter
) -> None:
    clients = clients_for(user_keys(admin, "deployer", path="/ci/"))
    answer_with(clients.iam, reference_simulator(deployer(admin)))
    calls.watch(clients.sts)
    calls.watch(clients.iam)

    report = live_check(CATALOG, NO_IDS, clients=clients)

    assert calls.total == 8
    assert report.principal["arn"] == f"arn:aws:iam::{ACCOUNT}:user/ci/deployer"


def test_a_live_check_writes_nothing(admin: Any) -> None:
    policies = deployer(admin)
    user_keys(admin, "bystander")
    fetching, simulated = (clients_for(assume(admin, DEPLOYER)) for _ in range(2))
    answer_with(simulated.iam, reference_simulator(policies))
    before = iam_state(admin)

    live_check(CATALOG, NO_IDS, clients=fetching)
    live_check(CATALOG, NO_IDS, clients=simulated)

    assert iam_state(admin) == before


def test_denied_simulation_and_denied_reads_name_what_the_doctor_lacks(admin: Any) -> None:
    deployer(admin)
    clients = clients_for(assume(admin, DEPLOYER))
    refuse(clients.iam, "SimulatePrincipalPolicy")
    refuse(clients.iam, "ListRolePolicies")

    with pytest.raises(FallbackDenied) as raised:
        live_check(CATALOG, NO_IDS, clients=clients)

    assert raised.value.denied == (("iam:ListRolePolicies", DEPLOYER),)


def test_ids_default_to_the_callers_account_but_given_ones_win(admin: Any) -> None:
    deployer(admin)
    clients = clients_for(assume(admin, DEPLOYER))

    routes = select(["routes"])
    report = live_check(
        routes, IdOptions(region="eu-central-1", api_id="z9y8x7w6v5"), clients=clients
    )

    assert (report.account, report.region) == (ACCOUNT, "eu-central-1")
    assert any("z9y8x7w6v5" in r.resource for r in report.results)


def test_mistakes_in_the_arguments_fail_before_any_request(calls: CallCounter) -> None:
    clients = clients_for()
    calls.watch(clients.sts)

    with pytest.raises(InputError, match="--api-id"):
        live_check(CATALOG, IdOptions(api_id="Not-An-Id"), clients=clients)
    with pytest.raises(InputError, match="--region"):
        live_check(CATALOG, IdOptions(region="Europe"), clients=clients)
    with pytest.raises(InputError, match="--principal"):
        live_check(CATALOG, NO_IDS, principal_arn="app-deployer", clients=clients)

    assert calls.total == 0


def test_a_federated_caller_is_not_checked() -> None:
    clients = clients_for()
    stub = Stubber(clients.sts)
    arn = f"arn:aws:sts::{ACCOUNT}:federated-user/build-bot"
    stub.add_response(
        "get_caller_identity", {"UserId": "1:build-bot", "Account": ACCOUNT, "Arn": arn}
    )

    with stub, pytest.raises(EvaluationError, match="federated user session"):
        live_check(CATALOG, NO_IDS, clients=clients)
