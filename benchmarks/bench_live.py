"""AWS calls and wall time of a live check of the whole catalog, next to the naive way.

A live check pays a network round trip per AWS call, so the count of calls and how many of
them overlap decide how long CI waits. The check runs as a role session against a fake
AWS endpoint on loopback (``fake_aws.py``) whose every call takes 100 ms and is counted.
No ids are given, so the only dry-run probes are the three that need none (API Gateway's
``GetAccount``, Route 53's ``GetChange`` of a made-up change, IAM ``GetRole`` of the
service-linked role). Measured in the same run, alternately, median of a few repetitions:

* the doctor in this process (``live_check``) with its probes, as it runs by default, and
  without them (``probe=False``): the same work without interpreter start-up and imports;
* the doctor as CI runs it: ``python -m wsgw_doctor check --feature all`` in a subprocess,
  probes on;
* the naive way: one ``SimulatePrincipalPolicy`` per requirement, one after another.

The targets: without probes, at most 8 calls and 0.6 s; with them, no calls beyond the
probes and at most one round trip more (100 ms, plus 30 ms for the noise of a loaded
machine), taken as the median difference of repetitions run side by side. The table also
shows the round trips each way waits for, so that time spent in the process is told apart
from time spent waiting for AWS.

The decisions the doctor reads from the fake endpoint must equal those of the offline
engine on the same policy, every requirement must carry a probe outcome, and every probe
sent must be confirmed, since the fake authorizes a probe by the same policy the simulator
decides on; otherwise the numbers would be for a check that does not work. Nothing leaves
127.0.0.1: connections elsewhere are refused in this process, and the subprocess gets an
environment naming only the fake endpoint and fake credentials.

    python benchmarks/bench_live.py [--runs N] [--naive-runs N]

Exit 0 when every target is met, 1 when one is missed, 3 when the check did not work.
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
from functools import partial
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
from wsgw_doctor.probing import ProbeStatus
from wsgw_doctor.results import Report

if TYPE_CHECKING:
    from mypy_boto3_iam.type_defs import ContextEntryTypeDef

TARGET_CALLS = 8
TARGET_WALL = 0.6
LATENCY = 0.1
#: What the probes may add to the wall time: one round trip, and the noise of a busy machine.
PROBE_ROUND_TRIPS = 1
TOLERANCE = 0.03
#: The calls the probes may add without ids: GetAccount, GetChange, and GetRole of the
#: service-linked role.
PROBES_WITHOUT_IDS = 3
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
    """One timed repetition: its wall time, the AWS calls answered, and the round trips.

    ``round_trips`` is the longest chain of calls each sent after the one before was
    answered: the latency the run cannot help waiting for. The rest of its wall time is
    work in the process.
    """

    wall: float
    calls: Counter[str]
    round_trips: int


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
        return sum(self.worst.values())

    @property
    def round_trips(self) -> int:
        """The most round trips any repetition waited for."""
        return max(r.round_trips for r in self.runs)

    def trips(self) -> str:
        """The round trips, as a range when they varied between repetitions."""
        fewest = min(r.round_trips for r in self.runs)
        return str(fewest) if fewest == self.round_trips else f"{fewest}-{self.round_trips}"

    @property
    def worst(self) -> Counter[str]:
        """The calls, by operation, of the repetition that made the most."""
        return max(self.runs, key=lambda r: sum(r.calls.values())).calls

    def breakdown(self) -> str:
        varied = len({sum(r.calls.values()) for r in self.runs}) > 1
        return _by_operation(self.worst) + (" (the most; it varied between runs)" if varied else "")


@dataclass(frozen=True)
class Seen:
    """What one benchmark run measured and checked.

    ``statuses`` and ``probes`` count the results by status and by probe outcome; ``wrong``
    says how the check failed to work, when it did.
    """

    measured: tuple[Measured, ...]
    statuses: Mapping[str, int]
    probes: Mapping[str, int]
    facts: tuple[str, ...]
    wrong: tuple[str, ...]


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
    before, answered = fake.counts(), len(fake.spans())
    start = time.perf_counter()
    result = work()
    wall = time.perf_counter() - start
    return Run(wall, fake.counts() - before, sequential(fake.spans()[answered:])), result


def sequential(spans: Iterable[tuple[float, float]]) -> int:
    """The most calls of ``spans`` that follow one another without overlapping."""
    chain, free = 0, float("-inf")
    for start, end in sorted(spans, key=lambda span: span[1]):
        if start >= free:
            chain, free = chain + 1, end
    return chain


def doctor_in_process(features: Sequence[Feature], probe: bool) -> Report:
    try:
        return live_check(features, IdOptions(region=REGION), probe=probe)
    except DoctorError as error:
        raise CheckBrokenError(f"live_check failed: {error}; {error.hint}") from None


def doctor_cli(env: Mapping[str, str], home: Path) -> tuple[list[Outcome], list[str]]:
    """The CLI as CI runs it; its JSON report, read back as outcomes and probe statuses."""
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **env}
    done = subprocess.run(
        CLI, env=environment, capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise CheckBrokenError(f"the CLI exited {done.returncode}: {done.stderr.strip()}")
    results = json.loads(done.stdout)["results"]
    return [_json_outcome(r) for r in results], [r["probe"]["status"] for r in results]


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


def probe_statuses(report: Report) -> list[str]:
    return [r.probe.status.value if r.probe else "(none)" for r in report.results]


def probe_problems(name: str, report: Report, probing: bool) -> list[str]:
    """How the probe outcomes are wrong, if they are: one per requirement, each sent confirmed.

    The fake endpoint authorizes a probe by the policy the simulator decides on, so a probe
    sent and not confirmed was misread. With probes off, nothing may be sent and no fact
    established.
    """
    wrong: list[str] = []
    for result in report.results:
        where = f"{name}: {result.feature} {result.operation}"
        outcome = result.probe
        if outcome is None:
            wrong.append(f"{where}: no probe outcome")
        elif outcome.call is not None and not probing:
            wrong.append(f"{where}: probed ({outcome.call}) with probes off")
        elif outcome.call is not None and outcome.status is not ProbeStatus.CONFIRMED:
            wrong.append(f"{where}: the probe is {outcome.status.value}: {outcome.reason}")
        elif outcome.call is None and outcome.status is not ProbeStatus.NOT_PROBED:
            wrong.append(f"{where}: {outcome.status.value} without a call: {outcome.reason}")
    sent = any(r.probe is not None and r.probe.call for r in report.results)
    if probing:
        wrong += [
            f"{name}: {f.name} could not be told: {f.detail}" for f in report.facts if f.ok is None
        ]
        if not sent:
            wrong.append(f"{name}: no probe was sent")
    elif report.facts:
        wrong.append(f"{name}: {len(report.facts)} facts established with probes off")
    return wrong


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


def measure(runs: int, naive_runs: int) -> Seen:
    """Every way of checking, alternately, and whether each of them worked."""
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

    lifetime = 20.0 + runs * 4.0 + naive_runs * 8.0
    with tempfile.TemporaryDirectory() as tmp, FakeAws(stored, LATENCY, lifetime) as fake:
        home = Path(tmp)
        env = fake_environment(fake.endpoint, home)
        use_environment(env)
        wrong: list[str] = []
        inside: dict[bool, list[Run]] = {True: [], False: []}
        cli: list[Run] = []
        naive: list[Run] = []
        probed: list[str] = []
        facts: tuple[str, ...] = ()
        for index in range(max(runs, naive_runs)):
            if index < runs:
                for probing in (True, False) if index % 2 == 0 else (False, True):
                    run, report, problems = _in_process(fake, features, probing, expected)
                    inside[probing].append(run)
                    wrong += problems
                    if probing:
                        probed = probe_statuses(report)
                        facts = tuple(f"{f.name} {_fact(f.ok)}" for f in report.facts)
                run, (seen, cli_probed) = timed(fake, lambda: doctor_cli(env, home))
                cli.append(run)
                wrong += _differences("CLI", seen, expected)
                wrong += _differences("CLI probes", cli_probed, probed)
            if index < naive_runs:
                run, decisions = timed(fake, lambda: naive_check(features))
                naive.append(run)
                wrong += _differences("naive", decisions, engine)
        refused = fake.refused()
    wrong += [f"the fake endpoint refused {n} x {call}" for call, n in sorted(refused.items())]

    measured = (
        Measured("doctor in-process, probes on", tuple(inside[True])),
        Measured("doctor in-process, probes off", tuple(inside[False])),
        Measured("doctor CLI subprocess, probes on", tuple(cli)),
        Measured("naive, one call per requirement", tuple(naive)),
    )
    statuses = Counter(r.status.value for r in offline.results)
    return Seen(measured, dict(statuses), dict(Counter(probed)), facts, tuple(sorted(set(wrong))))


def _in_process(
    fake: FakeAws, features: Sequence[Feature], probing: bool, expected: Sequence[Outcome]
) -> tuple[Run, Report, list[str]]:
    """One timed ``live_check``, its report, and how it is wrong, if it is."""
    run, report = timed(fake, partial(doctor_in_process, features, probing))
    name = f"live_check, probes {'on' if probing else 'off'}"
    wrong = _differences(name, outcomes(report), expected)
    wrong += [
        f"{name}: {r.action} on {r.resource} decided by {r.source}"
        for r in report.results
        if r.source != SOURCE_SIMULATION
    ]
    return run, report, wrong + probe_problems(name, report, probing)


def paired_difference(more: Measured, less: Measured) -> float:
    """The median difference of repetitions run side by side, so that a machine busier in
    some repetitions than in others weighs on both sides of each difference alike.
    """
    return statistics.median(a.wall - b.wall for a, b in zip(more.runs, less.runs, strict=True))


def _fact(ok: bool | None) -> str:
    return "unknown" if ok is None else "met" if ok else "not met"


def _by_operation(calls: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(calls.items()))


def _counted(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


def report(seen: Seen, requirements: int) -> bool:
    """Print the table and a verdict per target; whether every target is met."""
    on, off, cli, naive = seen.measured
    print(
        f"live check of all 8 features ({requirements} requirements, no ids) as {CALLER_ARN}, "
        f"a session of {ROLE_ARN}; {LATENCY * 1000:.0f} ms per AWS call"
    )
    print(f"decisions from the fake endpoint equal the offline engine's: {_counted(seen.statuses)}")
    print(f"probe outcomes, one per requirement, in-process and CLI: {_counted(seen.probes)}")
    print(f"facts the probes established: {', '.join(seen.facts) or 'none'}")
    print()
    print(f"{'':34} {'calls':>5} {'trips':>5} {'wall (median)':>14}  runs  calls made")
    for m in seen.measured:
        print(
            f"{m.name:34} {m.calls:5d} {m.trips():>5} {m.wall:12.3f} s  {len(m.runs):4d}  "
            f"{m.breakdown()}"
        )
    print("trips: the longest chain of calls each sent after the one before was answered")
    print()
    extra_wall, extra_calls = paired_difference(on, off), on.calls - off.calls
    print(
        f"probes on minus off: {extra_wall:+.3f} s (median of the {len(on.runs)} pairs run "
        f"side by side; {on.wall - off.wall:+.3f} s between the medians), {extra_calls:+d} calls "
        f"({_by_operation(on.worst - off.worst) or 'none'}), "
        f"{on.round_trips - off.round_trips:+d} round trips at the most"
    )
    print(f"CLI minus in-process: {cli.wall - on.wall:.3f} s, interpreter start-up and imports")
    print(
        f"naive / doctor in-process with probes off: {naive.calls / off.calls:.1f}x the calls, "
        f"{naive.wall / off.wall:.1f}x the wall time"
    )
    print(
        f"naive / doctor CLI (start-up and probes included): {naive.wall / cli.wall:.1f}x the wall"
    )
    print()

    allowance = PROBE_ROUND_TRIPS * LATENCY + TOLERANCE
    verdicts = [
        (off.calls <= TARGET_CALLS, f"probes off: at most {TARGET_CALLS} calls ({off.calls})"),
        (off.wall <= TARGET_WALL, f"probes off: at most {TARGET_WALL} s ({off.wall:.3f} s)"),
        (
            extra_wall <= allowance,
            f"probes on: at most one round trip more, {LATENCY:.3f} s + {TOLERANCE:.3f} s "
            f"of noise ({extra_wall:+.3f} s)",
        ),
        (
            extra_calls <= PROBES_WITHOUT_IDS,
            f"probes on: at most {PROBES_WITHOUT_IDS} calls more, the probes that need no id "
            f"({extra_calls:+d})",
        ),
    ]
    for ok, target in verdicts:
        print(f"{'PASS' if ok else 'FAIL'} - {target}")
    return all(ok for ok, _ in verdicts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=DOCTOR_RUNS, help="runs of the doctor")
    parser.add_argument("--naive-runs", type=int, default=NAIVE_RUNS, help="runs of the naive way")
    args = parser.parse_args()
    if args.runs < 1 or args.naive_runs < 1:
        parser.error("--runs and --naive-runs must be at least 1")

    refuse_remote_connections()
    try:
        seen = measure(args.runs, args.naive_runs)
    except CheckBrokenError as error:
        return _broken(str(error))
    if seen.wrong:
        for line in seen.wrong[:20]:
            print(line, file=sys.stderr)
        return _broken(f"{len(seen.wrong)} answers differ from those of a working check")
    requirements = sum(len(f.requirements) for f in select(["all"]))
    return 0 if report(seen, requirements) else 1


if __name__ == "__main__":
    sys.exit(main())
