"""Verifier benchmark: seconds and peak memory to verify generated equivalent sets of policies.

    make bench            # or: python scripts/bench_verify.py [--sizes 100,1000] [--limit 60]

Each size runs in a fresh Python process, so that its peak resident memory (``ru_maxrss``,
interpreter and solver included) is its own. The pairs come from ``calico2cilium.verify.bench``
(hand-translated Calico/Cilium sets: namespaced policies with a deny before an allow, ports, CIDRs
with ``except``, and global policies with namespace selectors). Seconds include reading the YAML.

Issue 4 asks for 1,000 policies under a minute on one core; ``--limit`` makes a slower run (or a
result other than "equivalent") exit 1. Timings on a shared machine are noisy: this is measured here,
never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

CHILD = "import json, sys; from calico2cilium.verify.bench import measure; print(json.dumps(measure(int(sys.argv[1]))))"


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
    parser.add_argument("--sizes", default="100,1000", help="comma-separated policy counts")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds allowed for the largest size")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"{'verify':<10} {'policies':>8} {'seconds':>9} {'peak RSS':>10} {'partitions':>10}  status")
    ok = True
    for count in sizes:
        r = measure_in_subprocess(count)
        print(
            f"{'':<10} {r['policies']:>8} {r['seconds']:>9.2f} {r['peak_rss_mb']:>7.1f} MB "
            f"{r['partitions']:>10}  {r['status']}"
        )
        ok = ok and r["status"] == "equivalent"
        if count == max(sizes) and r["seconds"] > args.limit:
            print(f"  slower than the {args.limit:.0f}s limit for {count} policies")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
