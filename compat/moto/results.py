"""Outcome bookkeeping for the moto suite run.

As a pytest plugin (`-p results`, with this directory on PYTHONPATH) it records each test's outcome
by node id into the JSON file named by $LAMINA_MOTO_RESULTS. As a script it compares that file with
expected-failures.txt, prints the counts, and exits non-zero only for failures not in the list:

    python results.py RESULTS.json EXPECTED_FAILURES.txt
"""

from __future__ import annotations

import json
import os
import sys

_outcomes: dict[str, str] = {}
_RANK = {"passed": 0, "skipped": 1, "failed": 2}


def pytest_runtest_logreport(report):
    if report.when == "call":
        outcome = "skipped" if report.skipped else report.outcome
    elif report.failed:
        outcome = "failed"  # an error in setup or teardown
    elif report.skipped:
        outcome = "skipped"
    else:
        outcome = "passed"
    previous = _outcomes.get(report.nodeid)
    if previous is None or _RANK[outcome] > _RANK[previous]:
        _outcomes[report.nodeid] = outcome


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("LAMINA_MOTO_RESULTS")
    if path:
        with open(path, "w") as f:
            json.dump(_outcomes, f, indent=1, sort_keys=True)


def load_expected(path: str) -> dict[str, str]:
    """expected-failures.txt: `<node id> <reason>` per line; `#` starts a comment line."""
    expected = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            node, _, reason = line.partition(" ")
            expected[node] = reason.strip()
    return expected


def main(results_path: str, expected_path: str) -> int:
    with open(results_path) as f:
        outcomes = json.load(f)
    expected = load_expected(expected_path)
    passed = sorted(n for n, o in outcomes.items() if o == "passed")
    skipped = sorted(n for n, o in outcomes.items() if o == "skipped")
    failed = sorted(n for n, o in outcomes.items() if o == "failed")
    unexpected = [n for n in failed if n not in expected]
    expected_failed = [n for n in failed if n in expected]
    fixed = sorted(n for n in expected if outcomes.get(n) == "passed")
    missing = sorted(n for n in expected if n not in outcomes)

    print()
    print(f"moto's tests as pytest saw them: {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
    print(f"{len(expected_failed)} of the failures are listed in expected-failures.txt")
    if fixed:
        print(f"\n{len(fixed)} listed as expected failures now pass (remove them from the list):")
        for n in fixed:
            print(f"  {n}")
    if missing:
        print(f"\n{len(missing)} listed expected failures did not run:")
        for n in missing:
            print(f"  {n}")
    if unexpected:
        print(f"\n{len(unexpected)} UNEXPECTED failures:")
        for n in unexpected:
            print(f"  {n}")
    if not outcomes:
        print("no test ran", file=sys.stderr)
        return 1
    # Last line: failures that count (the listed ones are reported above).
    print(f"moto: {len(passed)} passed, {len(unexpected)} failed, {len(skipped)} skipped")
    return 1 if unexpected else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
