"""How fast the engine decides the whole feature catalog, next to moto's IAM evaluator.

Both evaluators get the same 200-statement policy, parsed once before timing, and the same
requests: every requirement of every feature, rendered for one account and region. Only
the evaluation calls are timed. moto is the yardstick because it is the other pure-Python
IAM evaluator the project already installs; the engine should be at least 20 times faster.

moto evaluates only ``StringEquals`` conditions: it treats every other operator as met, and
a ``StringEquals`` that fails, even in an Allow and even before the resource is compared, as
a denial. So the policy's conditions are ``StringEquals`` on keys that every request they
can apply to carries, with one of the listed values. Both evaluators then reach the same
decisions, and the script reports how many agree.

Run it as ``python benchmarks/bench_engine.py``; it exits 1 if the engine is too slow.
"""

from __future__ import annotations

import json
import random
import sys
import time
import tracemalloc
from collections.abc import Callable

from moto.iam.access_control import IAMPolicy, PermissionResult

from wsgw_doctor.catalog import Ids, context_map, render, select
from wsgw_doctor.engine import PolicySet, Request, evaluate, parse_policy

TARGET = 20.0
STATEMENTS = 200
ROUNDS = 5
ROUND_SECONDS = 1.0
ACCOUNT = "123456789012"
REGION = "eu-west-1"
API = "a1b2c3d4e5"

Case = tuple[Request, dict[str, str]]

_MOTO = {
    PermissionResult.PERMITTED: "allowed",
    PermissionResult.DENIED: "explicitDeny",
    PermissionResult.NEUTRAL: "implicitDeny",
}


def build_policy(seed: int = 20240531) -> str:
    """A deterministic policy: mostly near misses, a few grants, some denials."""
    rng = random.Random(seed)
    makers = [_apigateway, _execute_api, _iam, _route53, _acm, _logs]
    statements = []
    for i in range(STATEMENTS):
        statement = makers[i % len(makers)](rng, i)
        statement["Sid"] = f"S{i:03d}"
        if i % 17 == 5:
            statement["Effect"] = "Deny"
        statements.append(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def _api_id(rng: random.Random, i: int) -> str:
    if i % 23 == 0:
        return API
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))


def _apigateway(rng: random.Random, i: int) -> dict[str, object]:
    verb = rng.choice(["GET", "POST", "PATCH", "DELETE", "PUT", "*", "P*"])
    api = _api_id(rng, i)
    path = rng.choice(["", "/*", "/routes/*", "/integrations/*", "/stages/*"])
    statement: dict[str, object] = {
        "Effect": "Allow",
        "Action": [f"apigateway:{verb}"],
        "Resource": [f"arn:aws:apigateway:{REGION}::/apis/{api}{path}"],
    }
    if i % 11 == 0:
        statement["Action"] = "apigateway:POST"
        statement["Resource"] = f"arn:aws:apigateway:*::/apis/{api}/deployments"
        statement["Condition"] = {
            "StringEquals": {"apigateway:Request/StageName": ["production", f"dev{i}"]}
        }
    return statement


def _execute_api(rng: random.Random, i: int) -> dict[str, object]:
    api = _api_id(rng, i)
    stage = rng.choice(["production", "staging", "*"])
    return {
        "Effect": "Allow",
        "Action": rng.choice(["execute-api:ManageConnections", "execute-api:*"]),
        "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/{stage}/POST/@connections/*",
    }


def _iam(rng: random.Random, i: int) -> dict[str, object]:
    if i % 4 == 0:
        return {
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/*",
            "Condition": {
                "StringEquals": {
                    "iam:AWSServiceName": [
                        "ops.apigateway.amazonaws.com",
                        rng.choice(["elasticloadbalancing.amazonaws.com", "ecs.amazonaws.com"]),
                    ]
                }
            },
        }
    role = rng.choice(["APIGatewayCloudWatchLogs", "Deploy*", f"role-{i}", "*"])
    return {
        "Effect": "Allow",
        "Action": rng.choice(["iam:PassRole", "iam:Get*", "iam:List*"]),
        "Resource": f"arn:aws:iam::{ACCOUNT}:role/{role}",
    }


def _route53(rng: random.Random, i: int) -> dict[str, object]:
    zone = rng.choice(["Z0EXAMPLE0000000000", f"Z{i:018d}", "*"])
    return {
        "Effect": "Allow",
        "Action": rng.choice(["route53:ChangeResourceRecordSets", "route53:Get*", "route53:*"]),
        "Resource": [f"arn:aws:route53:::hostedzone/{zone}", "arn:aws:route53:::change/*"],
    }


def _acm(rng: random.Random, i: int) -> dict[str, object]:
    region = rng.choice([REGION, "us-east-1", "*"])
    return {
        "Effect": "Allow",
        "Action": rng.choice(["acm:DescribeCertificate", "acm:List*", "acm:Get*"]),
        "Resource": f"arn:aws:acm:{region}:{ACCOUNT}:certificate/*",
    }


def _logs(rng: random.Random, i: int) -> dict[str, object]:
    group = rng.choice(["/aws/apigateway/*", f"/app/{i}/*", "*"])
    return {
        "Effect": "Allow",
        "Action": rng.choice(["logs:CreateLogGroup", "logs:Put*", "logs:*"]),
        "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}",
    }


def catalog_cases() -> list[Case]:
    """Every requirement of every feature as a request, with moto's flat context beside."""
    ids = Ids(region=REGION, account=ACCOUNT)
    cases = []
    for feature in select(["all"]):
        for requirement in feature.requirements:
            rendered = render(feature, requirement, ids)
            request = Request(requirement.action, rendered.resource, context_map(rendered.context))
            flat = {key: values[0] for key, values in rendered.context if values}
            cases.append((request, flat))
    return cases


def rates(runs: list[Callable[[], object]], calls: int) -> list[float]:
    """Best evaluations per second for each run, timed in alternating rounds.

    Alternating keeps a busy machine from favouring whichever evaluator went first.
    """
    repeats = [_repeats(run) for run in runs]
    best = [0.0] * len(runs)
    for _ in range(ROUNDS):
        for i, run in enumerate(runs):
            start = time.perf_counter()
            for _ in range(repeats[i]):
                run()
            best[i] = max(best[i], repeats[i] * calls / (time.perf_counter() - start))
    return best


def _repeats(run: Callable[[], object]) -> int:
    """How many passes fill about ``ROUND_SECONDS``."""
    start = time.perf_counter()
    run()
    return max(1, int(ROUND_SECONDS / max(time.perf_counter() - start, 1e-9)))


def peak_memory(text: str, cases: list[Case]) -> int:
    """Peak bytes allocated while parsing the policy and deciding every request once.

    Measured before anything else parses the policy, so compiled patterns are counted.
    """
    tracemalloc.start()
    policies = PolicySet((parse_policy(text, "bench.json"),))
    for request, _ in cases:
        evaluate(request, policies)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> int:
    text = build_policy()
    cases = catalog_cases()
    peak = peak_memory(text, cases)
    policies = PolicySet((parse_policy(text, "bench.json"),))
    moto_policy = IAMPolicy(text)

    def ours() -> list[str]:
        return [evaluate(request, policies).decision for request, _ in cases]

    def theirs() -> list[str]:
        return [
            _MOTO[moto_policy.is_action_permitted(r.action, r.resource, None, flat)]
            for r, flat in cases
        ]

    agree = sum(a == b for a, b in zip(ours(), theirs(), strict=True))
    ours_rate, moto_rate = rates([ours, theirs], len(cases))
    ratio = ours_rate / moto_rate
    print(f"policy: {STATEMENTS} statements; requests: {len(cases)} (whole catalog)")
    print("both evaluators parse the policy once; only evaluation calls are timed")
    print(f"decisions agreeing with moto: {agree}/{len(cases)}")
    print(f"wsgw-doctor engine: {ours_rate:12,.0f} evaluations/s")
    print(f"moto IAMPolicy:     {moto_rate:12,.0f} evaluations/s")
    print(f"peak memory (engine, parse + one pass): {peak / 1024:,.0f} KiB")
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(f"{verdict}: engine is {ratio:.1f}x moto (target >= {TARGET:.0f}x)")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
