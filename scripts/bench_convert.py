"""Benchmark: converting generated Calico policies, as a ratio to libyaml load + dump of the text.

    python scripts/bench_convert.py [--sizes 1000,10000] [--repeat 3]

The baseline is what any YAML-to-YAML tool must do at least: ``yaml.load_all`` with libyaml's
CSafeLoader and ``yaml.dump_all`` with CSafeDumper of the same text. The measured job is the whole
conversion a user runs: load and validate, lower to the IR, compile Calico's ordering to exact
regions, emit, schema-validate every output, and dump the YAML stream. The policies are
``bench.generate``'s: half namespaced, half global, each with Allow/Deny/Pass rules, ``||``
selectors, ports and nets. Speed is reported here, never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import generate
from calico2cilium.convert import convert
from calico2cilium.io.write import dump_yaml

CLUSTER = {"pod_cidrs": ("10.244.0.0/16",), "node_cidrs": ("10.0.0.0/24",)}


def baseline(text: str) -> str:
    data = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    return str(yaml.dump_all(data, Dumper=yaml.CSafeDumper))


def conversion(text: str) -> tuple[str, int, int]:
    result = convert(text=text, name="bench.yaml", **CLUSTER)  # type: ignore[arg-type]
    return dump_yaml(result.documents), len(result.documents), len(result.diagnostics)


def best_of(fn: object, text: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn(text)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the baseline (conversion: 1 run)")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Converting generated policies; load average {load:.2f} at start.")
    print(f"{'policies':>9} {'load+dump':>10} {'convert':>9} {'ratio':>7} {'outputs':>8} {'diagnostics':>12}")
    for size in (int(s) for s in args.sizes.split(",")):
        text = generate(size)
        base = best_of(baseline, text, args.repeat)
        gc.collect()
        start = time.perf_counter()
        _, outputs, diagnostics = conversion(text)
        took = time.perf_counter() - start
        print(
            f"{size:>9} {base:>9.2f}s {took:>8.2f}s {took / base:>6.1f}x {outputs:>8} {diagnostics:>12}",
            flush=True,
        )
    print(
        "load+dump: yaml.load_all (CSafeLoader) + yaml.dump_all (CSafeDumper), best of"
        f" {args.repeat}; convert: calico2cilium.convert() + YAML dump, one run."
    )


if __name__ == "__main__":
    main()
