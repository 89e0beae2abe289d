"""Wall time of ``wsgw-doctor check --documented`` next to ``python -c "import boto3"``.

The offline check should cost no more than 1.3 times loading boto3, which every AWS tool
pays before doing anything. Both commands run alternately in the same run, many times, and
the medians are compared, so that a noisy machine slows both alike.

    python benchmarks/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TARGET = 1.3
CHECK = [
    sys.executable,
    "-m",
    "wsgw_doctor",
    "check",
    "--documented",
    "--region",
    "eu-west-1",
    "--account",
    "123456789012",
]
BOTO3 = [sys.executable, "-c", "import boto3"]
HELP = [
    sys.executable,
    "-c",
    "import sys\nfrom wsgw_doctor.cli import main\nsys.argv=['wsgw-doctor','--help']\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "assert 'boto3' not in sys.modules, 'wsgw-doctor --help imported boto3'",
]


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=25)
    runs = parser.parse_args().runs

    subprocess.run(HELP, check=True, stdout=subprocess.DEVNULL)
    for command in (CHECK, BOTO3):  # warm the file cache for both
        wall(command)
    check_times, boto3_times = [], []
    for _ in range(runs):
        check_times.append(wall(CHECK))
        boto3_times.append(wall(BOTO3))

    check_median = statistics.median(check_times)
    boto3_median = statistics.median(boto3_times)
    ratio = check_median / boto3_median
    print(f"check --documented  median {check_median * 1000:7.1f} ms over {runs} runs")
    print(f"import boto3        median {boto3_median * 1000:7.1f} ms over {runs} runs")
    print("--help imports boto3: no")
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"ratio {ratio:.2f} ({verdict} the target of at most {TARGET})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
