"""Benchmark: output size, conversion time and memory on friendly and realistic inputs (issue 13).

    python scripts/bench_mix.py [--sizes 100,1000,10000] [--timeout 1800] [--rows friendly,mix,...]

One row per input: ``bench.generate``'s friendly policies and ``realistic_mix.generate``'s
realistic mix (seed 1) at each size, ``examples/cluster`` (with its ``cluster.yaml``), and the
corpus in ``../shared/corpus/calico-docs`` converted as one run when it is present. Each row runs
in its own process (so peak memory is the row's own) and is time-boxed: a row that does not finish
within ``--timeout`` seconds prints ``timeout after N s`` and the next row starts.

Columns: input and output lines and their ratio (the issue's target: at most 1.5x); the
conversion time (``convert()`` plus the YAML dump, one run) over libyaml load + dump of the same
text (best of 3; the issue's target at 10,000 documents of the mix: at most 3x); the row process's
peak resident memory; the largest output object as YAML (target: at most 256 KB); how many
error diagnostics the conversion gave; and how many findings narrow (Cilium denies traffic Calico
allowed, each coded: a rule left out past its work budget, C2C350, is one). A row's size and time
are only comparable with another's at the same narrowing count: a rule left out is cheaper. Nothing is asserted; timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

CLUSTER_DIR = ROOT / "examples" / "cluster"
CORPUS = ROOT.parent / "shared" / "corpus" / "calico-docs"
BENCH_CLUSTER = {"pod_cidrs": ["10.244.0.0/16"], "node_cidrs": ["10.0.0.0/24"]}


def _texts(row: str, size: int, corpus: Path = CORPUS) -> tuple[str | None, list[str], dict[str, Any]]:
    """The row's input: generated text, or paths; and ``convert`` keyword arguments."""
    if row == "friendly":
        from bench import generate

        return generate(size), [], dict(BENCH_CLUSTER)
    if row == "mix":
        from realistic_mix import generate as mix

        return mix(size, seed=1), [], dict(BENCH_CLUSTER)
    if row == "cluster":
        config = yaml.safe_load((CLUSTER_DIR / "cluster.yaml").read_text())
        options = {
            "pod_cidrs": config.get("podCIDRs", []),
            "node_cidrs": config.get("nodeCIDRs", []),
            "endpoint_to_host_action": config.get("defaultEndpointToHostAction", "Accept"),
        }
        return None, [str(CLUSTER_DIR / "calico")], options
    if row == "corpus":
        return None, [str(corpus)], {}
    raise SystemExit(f"unknown row {row}")


def _files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out.extend(sorted(f for f in Path(p).rglob("*") if f.suffix in (".yaml", ".yml", ".json")))
    return out


def _load_dump(texts: list[str]) -> None:
    for text in texts:
        # A corpus file libyaml refuses is converted (and diagnosed) all the same.
        with contextlib.suppress(yaml.YAMLError):
            yaml.dump_all(list(yaml.load_all(text, Loader=yaml.CSafeLoader)), Dumper=yaml.CSafeDumper)


def run_row(row: str, size: int, corpus: Path = CORPUS) -> dict[str, Any]:
    """Measure one row in this process (the child's side)."""
    import resource

    from calico2cilium.convert import convert
    from calico2cilium.diagnostics import Severity
    from calico2cilium.io.write import dump_yaml
    from calico2cilium.verify.attribution import is_narrowing

    text, paths, options = _texts(row, size, corpus)
    texts = [text] if text is not None else [f.read_text() for f in _files(paths)]
    base = []
    for _ in range(3):
        start = time.perf_counter()
        _load_dump(texts)
        base.append(time.perf_counter() - start)
    start = time.perf_counter()
    if text is not None:
        result = convert(text=text, name=f"{row}.yaml", recursive=True, **options)
    else:
        result = convert(paths, recursive=True, **options)
    output = dump_yaml(result.documents)
    took = time.perf_counter() - start
    largest = max((len(dump_yaml([d])) for d in result.documents), default=0)
    return {
        "in_lines": sum(t.count("\n") for t in texts),
        "out_lines": output.count("\n"),
        "convert": took,
        "baseline": min(base),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "largest_kb": largest / 1024,
        "errors": sum(d.severity is Severity.ERROR for d in result.diagnostics),
        "narrowing": sum(is_narrowing(d) for d in result.diagnostics),
        "outputs": len(result.documents),
    }


def _rows(sizes: list[int], wanted: set[str], corpus: Path) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = [(row, n) for row in ("friendly", "mix") if row in wanted for n in sizes]
    if "cluster" in wanted:
        out.append(("cluster", 0))
    if "corpus" in wanted and corpus.is_dir():
        out.append(("corpus", 0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000")
    # The 10,000-document mix takes about 12 minutes on a 2-core machine: the default lets it finish.
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per row")
    parser.add_argument("--rows", default="friendly,mix,cluster,corpus")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the calico-docs corpus directory")
    parser.add_argument("--row", help=argparse.SUPPRESS)  # the child's side: ROW:SIZE
    args = parser.parse_args()
    if args.row:
        row, size = args.row.split(":")
        print(json.dumps(run_row(row, int(size), args.corpus)))
        return
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Output size, conversion time and memory per input; load average {load:.2f} at start.")
    head = (
        f"{'input':<15} {'in lines':>9} {'out lines':>10} {'out/in':>7} {'convert':>9} {'load+dump':>10}"
        f" {'ratio':>7} {'peak MB':>8} {'largest KB':>11} {'errors':>7} {'narrowing':>10}"
    )
    print(head)
    for row, size in _rows([int(s) for s in args.sizes.split(",")], set(args.rows.split(",")), args.corpus):
        label = f"{row} {size}" if size else row
        command = [sys.executable, str(Path(__file__).resolve()), "--row", f"{row}:{size}"]
        command += ["--corpus", str(args.corpus)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout, check=False)
        except subprocess.TimeoutExpired:
            print(f"{label:<15} timeout after {args.timeout:g} s", flush=True)
            continue
        if done.returncode != 0:
            print(f"{label:<15} failed: {done.stderr.strip().splitlines()[-1:]}", flush=True)
            continue
        r = json.loads(done.stdout)
        print(
            f"{label:<15} {r['in_lines']:>9} {r['out_lines']:>10} {r['out_lines'] / r['in_lines']:>6.2f}x"
            f" {r['convert']:>8.2f}s {r['baseline']:>9.3f}s {r['convert'] / r['baseline']:>6.1f}x"
            f" {r['peak_mb']:>8.0f} {r['largest_kb']:>11.1f} {r['errors']:>7} {r['narrowing']:>10}",
            flush=True,
        )
    print(
        "convert: calico2cilium.convert() + YAML dump, one run; load+dump: yaml.load_all (CSafeLoader) +"
        " yaml.dump_all (CSafeDumper) of the same text, best of 3; peak MB: the row process's maximum"
        " resident set; largest KB: the largest output object as YAML; errors: error diagnostics;"
        " narrowing: findings where Cilium denies traffic Calico allowed (each coded)."
    )


if __name__ == "__main__":
    main()
