"""Verifier benchmark: seconds and peak memory to prove generated equivalent sets of policies.

    make bench            # or: python scripts/bench_verify.py [--sizes 1000,10000]

Each size runs in a fresh Python process, so that its peak resident memory (``ru_maxrss``,
interpreter and solver included) is its own. The pairs come from ``calico2cilium.verify.bench``
(hand-translated Calico/Cilium sets: namespaced policies with a deny before an allow, ports, CIDRs
with ``except``, and 20% global policies with namespace selectors, each selecting its own
``metrics`` value). Seconds include reading the YAML.

Targets (issue 14): 1,000 policies in 10 s and 10,000 in 120 s, proven equivalent. A target is met
on CPU seconds: on a shared machine the wall time also counts other processes' turns (the load
average is printed). The exit status is 1 when a size misses its target or is not proven.
Timings are measured here, never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

CHILD = "import json, sys; from calico2cilium.verify.bench import measure; print(json.dumps(measure(int(sys.argv[1]))))"
TARGETS = {1000: 10.0, 10000: 120.0}
"""Seconds allowed per size (issue 14)."""


def measure_in_subprocess(count: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(count)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"verifying {count} policies failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated policy counts")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(
        f"{'verify':<8} {'policies':>8} {'CPU s':>7} {'wall s':>7} {'target':>8} {'peak RSS':>10} "
        f"{'parts':>6}  status       slowest partition"
    )
    missed = []
    for count in sizes:
        load = os.getloadavg()[0]
        r = measure_in_subprocess(count)
        target = TARGETS.get(count)
        print(
            f"{'':<8} {r['policies']:>8} {r['cpu_seconds']:>7.2f} {r['seconds']:>7.2f} "
            f"{f'<= {target:.0f} s' if target else '-':>8} {r['peak_rss_mb']:>7.1f} MB {r['partitions']:>6}  "
            f"{r['status']:<12} {r['slowest']}   (load average {load:.1f} on {os.cpu_count()} CPUs)"
        )
        if r["status"] != "equivalent":
            missed.append(f"{count} policies not proven ({r['status']})")
        elif target is not None and r["cpu_seconds"] > target:
            missed.append(f"{count} policies took {r['cpu_seconds']:.1f} CPU s > {target:.0f} s")
    targets = ", ".join(f"{n:,} policies <= {s:.0f} s" for n, s in TARGETS.items())
    print(f"Targets ({targets}, proven; on CPU seconds): {'; '.join(missed) if missed else 'met'}.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
