"""AWS calls and wall time of a live check of the whole catalog, next to the naive way.

A live check pays a network round trip per AWS call, so the count of calls and how many of
them overlap decide how long CI waits. The check runs as a role session against a fake
AWS endpoint on loopback (``fake_aws.py``) whose every call takes 100 ms and is counted.
Measured in the same run, alternately, median of a few repetitions:

* the doctor as CI runs it: ``python -m wsgw_doctor check --feature all`` in a subprocess;
* the doctor in this process (``live_check``), the same work without interpreter start-up
  and imports; the targets, at most 8 calls and 0.6 s, are for this number;
* the naive way: one ``SimulatePrincipalPolicy`` per requirement, one after another.

The decisions the doctor reads from the fake endpoint must equal those of the offline
engine on the same policy, or the numbers would be for a check that does not work.
Nothing leaves 127.0.0.1: connections elsewhere are refused in this process, and the
subprocess gets an environment naming only the fake endpoint and fake credentials.

    python benchmarks/bench_live.py [--runs N]

Exit 0 when both targets are met, 1 when one is missed, 3 when the check did not work.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import boto3
from botocore.config import Config
from fake_aws import (
    ACCOUNT,
    CALLER_ARN,
    INLINE_POLICY,
    ROLE_ARN,
    FakeAws,
    StoredPolicy,
    deploy_policy_text,
)

from wsgw_doctor.aws.live import live_check
from wsgw_doctor.aws.simulate import SOURCE_SIMULATION, context_entry
from wsgw_doctor.catalog import Feature, Ids, render, select
from wsgw_doctor.check import LocalDecider, Principal, check, known_context
from wsgw_doctor.engine import PolicySet, Request, evaluate
from wsgw_doctor.errors import DoctorError
from wsgw_doctor.inputs import IdOptions, validate_ids
from wsgw_doctor.results import Report

if TYPE_CHECKING:
    from mypy_boto3_iam.type_defs import ContextEntryTypeDef

TARGET_CALLS = 8
TARGET_WALL = 0.6
LATENCY = 0.1
REGION = "eu-west-1"
DOCTOR_RUNS = 5
NAIVE_RUNS = 3
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
CLI = [
    sys.executable,
    "-m",
    "wsgw_doctor",
    "check",
    "--feature",
    "all",
    "--region",
    REGION,
    "--format",
    "json",
    "--fail-on",
    "never",
]

T = TypeVar("T")

#: What the comparison looks at in one result: which requirement, and what was decided.
Outcome = tuple[str, str, str, str, str, tuple[str, ...], str | None]


class RemoteConnectionError(RuntimeError):
    """Something in this process tried to reach an address other than loopback."""


class CheckBrokenError(RuntimeError):
    """A way of checking did not work, so its numbers would mean nothing."""


@dataclass(frozen=True)
class Run:
    """One timed repetition: its wall time and the AWS calls the fake endpoint answered."""

    wall: float
    calls: Counter[str]


@dataclass(frozen=True)
class Measured:
    """Every repetition of one way of checking."""

    name: str
    runs: tuple[Run, ...]

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def calls(self) -> int:
        """The most calls any repetition made: a count that varies is reported at its worst."""
        return max(sum(r.calls.values()) for r in self.runs)

    def breakdown(self) -> str:
        worst = max(self.runs, key=lambda r: sum(r.calls.values()))
        shown = ", ".join(f"{n} {op}" for op, n in sorted(worst.calls.items()))
        varied = len({sum(r.calls.values()) for r in self.runs}) > 1
        return shown + (" (the most; it varied between runs)" if varied else "")


def refuse_remote_connections() -> None:
    """Make any lookup of or connection to a non-loopback address in this process fail loudly.

    boto3 resolves endpoints from the environment and configuration files; a variable the
    benchmark forgot to override would otherwise send signed requests to AWS.
    """

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "socket.getaddrinfo":
            host = args[0]
        elif event == "socket.connect" and isinstance(args[1], tuple):
            host = args[1][0]
        else:
            return
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and str(name) not in LOOPBACK:
            raise RemoteConnectionError(f"refused to reach {name!r}: only loopback is allowed")

    sys.addaudithook(hook)


def fake_environment(endpoint: str, home: Path) -> dict[str, str]:
    """Fake session credentials, empty config files, and every AWS endpoint at ``endpoint``."""
    config, credentials = home / "config", home / "credentials"
    config.write_text("", encoding="utf-8")
    credentials.write_text("", encoding="utf-8")
    return {
        "AWS_ACCESS_KEY_ID": "ASIAFAKEFAKEFAKEFAKE",
        "AWS_SECRET_ACCESS_KEY": "fake-secret-access-key",
        "AWS_SESSION_TOKEN": "fake-session-token",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_IAM": endpoint,
        "AWS_ENDPOINT_URL_STS": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def use_environment(fake: Mapping[str, str]) -> None:
    """This process's environment without any real AWS, doctor or proxy setting, plus ``fake``."""
    for name in list(os.environ):
        lowered = name.lower()
        if name.startswith(("AWS_", "WSGW_DOCTOR_")) or lowered.endswith("_proxy"):
            del os.environ[name]
    os.environ.update(fake)


def timed(fake: FakeAws, work: Callable[[], T]) -> tuple[Run, T]:
    """Run ``work``, timing it and counting the AWS calls it made."""
    before = fake.counts()
    start = time.perf_counter()
    result = work()
    wall = time.perf_counter() - start
    return Run(wall, fake.counts() - before), result


def doctor_in_process(features: Sequence[Feature]) -> Report:
    try:
        return live_check(features, IdOptions(region=REGION))
    except DoctorError as error:
        raise CheckBrokenError(f"live_check failed: {error}; {error.hint}") from None


def doctor_cli(env: Mapping[str, str], home: Path) -> list[Outcome]:
    """The CLI as CI runs it; its JSON report, read back as outcomes."""
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **env}
    done = subprocess.run(
        CLI, env=environment, capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise CheckBrokenError(f"the CLI exited {done.returncode}: {done.stderr.strip()}")
    return [_json_outcome(r) for r in json.loads(done.stdout)["results"]]


def naive_check(features: Sequence[Feature]) -> list[str]:
    """One simulator call per requirement, one at a time: the decision on each, in order.

    It finds the principal the way the doctor does, and sends the same context, so that the
    only difference measured is how the simulator is asked.
    """
    session = boto3.Session(region_name=REGION)
    config = Config(retries={"mode": "standard", "total_max_attempts": 3})
    sts = session.client("sts", config=config)
    iam = session.client("iam", config=config)
    caller = sts.get_caller_identity()
    role = iam.get_role(RoleName=caller["Arn"].split("/")[1])["Role"]["Arn"]

    ids = validate_ids(IdOptions(region=REGION, account=caller["Account"]))
    decisions: list[str] = []
    for request in requests(features, ids, Principal("role", role)):
        entries = [context_entry(k, v) for k, v in sorted(request.context.items()) if v]
        answer = iam.simulate_principal_policy(
            PolicySourceArn=role,
            ActionNames=[request.action],
            ResourceArns=[request.resource],
            ContextEntries=cast("list[ContextEntryTypeDef]", entries),
        )
        result = answer["EvaluationResults"][0]
        specific = result.get("ResourceSpecificResults") or ()
        decisions.append(
            specific[0]["EvalResourceDecision"] if specific else result["EvalDecision"]
        )
    return decisions


def requests(features: Iterable[Feature], ids: Ids, principal: Principal) -> list[Request]:
    """Every requirement as the doctor puts it to IAM, in catalog order."""
    return [
        known_context(render(feature, requirement, ids), ids, principal)
        for feature in features
        for requirement in feature.requirements
    ]


def outcomes(report: Report) -> list[Outcome]:
    return [
        (
            r.feature,
            r.action,
            r.resource,
            r.decision,
            r.status.value,
            tuple(r.missing_context),
            r.denied_by,
        )
        for r in report.results
    ]


def _json_outcome(result: Mapping[str, Any]) -> Outcome:
    return (
        result["feature"],
        result["action"],
        result["resource"],
        result["decision"],
        result["status"],
        tuple(result["missing_context"]),
        result["denied_by"],
    )


def _broken(message: str) -> int:
    print(f"BROKEN: {message}", file=sys.stderr)
    return 3


def _differences(name: str, got: Sequence[object], expected: Sequence[object]) -> list[str]:
    if len(got) != len(expected):
        return [f"{name}: {len(got)} results, expected {len(expected)}"]
    return [f"{name}: {g} != {e}" for g, e in zip(got, expected, strict=True) if g != e]


def measure(runs: int, naive_runs: int) -> tuple[list[Measured], dict[str, int], list[str]]:
    """Every way of checking, alternately; the status counts, and any wrong decision."""
    features = select(["all"])
    stored = StoredPolicy.of(INLINE_POLICY, deploy_policy_text(REGION))
    ids = validate_ids(IdOptions(region=REGION, account=ACCOUNT))
    principal = Principal("role", ROLE_ARN)
    offline = check(features, ids, LocalDecider(PolicySet((stored.policy,))), principal)
    expected = outcomes(offline)
    engine = [
        evaluate(r, PolicySet((stored.policy,))).decision
        for r in requests(features, ids, principal)
    ]

    lifetime = 20.0 + runs * 3.0 + naive_runs * 8.0
    with tempfile.TemporaryDirectory() as tmp, FakeAws(stored, LATENCY, lifetime) as fake:
        home = Path(tmp)
        env = fake_environment(fake.endpoint, home)
        use_environment(env)
        wrong: list[str] = []
        cli: list[Run] = []
        inside: list[Run] = []
        naive: list[Run] = []
        for index in range(max(runs, naive_runs)):
            if index < runs:
                run, report = timed(fake, lambda: doctor_in_process(features))
                inside.append(run)
                wrong += _differences("live_check", outcomes(report), expected)
                wrong += [
                    f"live_check: {r.action} on {r.resource} decided by {r.source}"
                    for r in report.results
                    if r.source != SOURCE_SIMULATION
                ]
                run, seen = timed(fake, lambda: doctor_cli(env, home))
                cli.append(run)
                wrong += _differences("CLI", seen, expected)
            if index < naive_runs:
                run, decisions = timed(fake, lambda: naive_check(features))
                naive.append(run)
                wrong += _differences("naive", decisions, engine)

    statuses = Counter(r.status.value for r in offline.results)
    measured = [
        Measured("doctor, in-process live_check", tuple(inside)),
        Measured("doctor, CLI in a subprocess", tuple(cli)),
        Measured("naive, one call per requirement", tuple(naive)),
    ]
    return measured, dict(statuses), sorted(set(wrong))


def report(measured: Sequence[Measured], statuses: Mapping[str, int], requirements: int) -> bool:
    """Print the table and the verdict; whether both targets are met."""
    inside, cli, naive = measured
    counts = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    print(
        f"live check of all 8 features ({requirements} requirements) as {CALLER_ARN}, "
        f"a session of {ROLE_ARN}; {LATENCY * 1000:.0f} ms per AWS call"
    )
    print(f"decisions from the fake endpoint equal the offline engine's: {counts}")
    print()
    print(f"{'':34} {'calls':>5} {'wall (median)':>14}  runs  calls made")
    for m in measured:
        print(f"{m.name:34} {m.calls:5d} {m.wall:12.3f} s  {len(m.runs):4d}  {m.breakdown()}")
    print()
    print(f"CLI minus in-process: {cli.wall - inside.wall:.3f} s, interpreter start-up and imports")
    print(
        f"naive / doctor in-process: {naive.calls / inside.calls:.1f}x the calls, "
        f"{naive.wall / inside.wall:.1f}x the wall time"
    )
    print(f"naive / doctor CLI (start-up included): {naive.wall / cli.wall:.1f}x the wall time")

    calls_ok = inside.calls <= TARGET_CALLS
    wall_ok = inside.wall <= TARGET_WALL
    missed = [
        f"{inside.calls} calls (target <= {TARGET_CALLS})" if not calls_ok else "",
        f"{inside.wall:.3f} s (target <= {TARGET_WALL} s)" if not wall_ok else "",
    ]
    verdict = "PASS" if calls_ok and wall_ok else "FAIL: " + "; ".join(m for m in missed if m)
    print(
        f"{verdict} - targets for the in-process live_check: at most {TARGET_CALLS} calls "
        f"({inside.calls}), at most {TARGET_WALL} s ({inside.wall:.3f} s)"
    )
    return calls_ok and wall_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=DOCTOR_RUNS, help="runs of the doctor")
    parser.add_argument("--naive-runs", type=int, default=NAIVE_RUNS, help="runs of the naive way")
    args = parser.parse_args()
    if args.runs < 1 or args.naive_runs < 1:
        parser.error("--runs and --naive-runs must be at least 1")

    refuse_remote_connections()
    try:
        measured, statuses, wrong = measure(args.runs, args.naive_runs)
    except CheckBrokenError as error:
        return _broken(str(error))
    if wrong:
        for line in wrong[:20]:
            print(line, file=sys.stderr)
        return _broken(f"{len(wrong)} decisions differ from the offline engine's")
    requirements = sum(len(f.requirements) for f in select(["all"]))
    return 0 if report(measured, statuses, requirements) else 1


if __name__ == "__main__":
    sys.exit(main())
