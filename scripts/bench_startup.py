"""Start-up benchmark: what a pre-commit hook pays per run (issue 14: ``lint`` of one file <= 0.3 s).

    make bench            # or: python scripts/bench_startup.py [--repeat 7]

Each command runs ``--repeat`` times as a fresh process (the console script, as a hook runs it);
the table shows the best wall time and the best CPU time (user + system) of the runs, after one
untimed run that compiles the modules. On a shared
machine the wall time waits for other processes; CPU time is what the command itself costs, and is
what is compared with the target. ``python -c pass`` is printed for scale.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from calico2cilium.verify.bench import generated_pair

LINT_TARGET = 0.3


# An installed hook has its modules compiled (pip writes the .pyc files): so do these runs, even
# where the environment says not to write bytecode.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(argv: list[str], repeat: int) -> tuple[float, float]:
    """Best wall and best CPU seconds of ``repeat`` runs of ``argv`` (after one untimed run)."""
    subprocess.run(argv, capture_output=True, check=False, env=ENV)
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, env=ENV)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    exe = str(Path(sys.executable).with_name("calico2cilium"))
    calico, cilium = generated_pair(5)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "calico").mkdir()
        (root / "cilium").mkdir()
        (root / "calico" / "policies.yaml").write_text(calico)
        (root / "cilium" / "policies.yaml").write_text(cilium)
        one = root / "one.yaml"
        one.write_text(calico.split("\n---\n")[-1])
        jobs = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("calico2cilium --help", [exe, "--help"], None),
            ("lint one policy", [exe, "lint", str(one)], LINT_TARGET),
            (
                "verify 5 policies",
                [exe, "verify", "-R", "--calico", f"{root}/calico", "--cilium", f"{root}/cilium"],
                None,
            ),
        ]
        print(f"{'start-up':<24} {'wall s':>7} {'CPU s':>7}  target")
        for name, command, target in jobs:
            wall, cpu = run(command, args.repeat)
            verdict = ""
            if target is not None:
                verdict = f"CPU <= {target}s: {'met' if cpu <= target else 'MISSED'}"
                ok = ok and cpu <= target
            print(f"{name:<24} {wall:>7.2f} {cpu:>7.2f}  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
