"""Benchmarks, reported as ratios against plain libyaml parsing of the same text.

    make bench            # or: python scripts/bench.py [--sizes 1000,10000] [--repeat 3]

Speed is measured here, never asserted in the test suite: timings on shared machines are noisy.
Each measurement is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from typing import Any

import yaml

from calico2cilium.io.yamlstream import read_documents
from calico2cilium.load import load


def generate(count: int) -> str:
    """``count`` Calico policies, alternating namespaced and global, with a few rules each."""
    documents: list[dict[str, Any]] = []
    for i in range(count):
        rules_in = [
            {
                "action": "Allow",
                "protocol": "TCP",
                "source": {"selector": f"app == 'client-{i % 17}' || role in {{'a', 'b'}}"},
                "destination": {"ports": [80, 443, "8000:8080"]},
            },
            {"action": "Deny", "protocol": "UDP", "source": {"nets": [f"10.{i % 250}.0.0/16"]}},
        ]
        rules_out = [
            {"action": "Allow", "protocol": "UDP", "destination": {"ports": [53]}},
            {"action": "Pass", "destination": {"notNets": ["192.168.0.0/16"], "nets": ["0.0.0.0/0"]}},
        ]
        spec: dict[str, Any] = {
            "order": i,
            "selector": f"app == 'svc-{i}' && env != 'dev'",
            "types": ["Ingress", "Egress"],
            "ingress": rules_in,
            "egress": rules_out,
        }
        metadata: dict[str, Any] = {"name": f"policy-{i}"}
        if i % 2:
            kind = "NetworkPolicy"
            metadata["namespace"] = f"team-{i % 40}"
        else:
            kind = "GlobalNetworkPolicy"
        documents.append(
            {"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": metadata, "spec": spec}
        )
    return yaml.dump_all(documents, Dumper=yaml.CSafeDumper, sort_keys=False)


def best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'policies':>9} {'libyaml load':>13} {'read (pos.)':>12} {'ratio':>6} {'load+validate':>14} {'ratio':>6}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        text = generate(size)
        baseline = best(args.repeat, lambda text=text: list(yaml.load_all(text, Loader=yaml.CSafeLoader)))
        reading = best(args.repeat, lambda text=text: read_documents(text, "bench.yaml"))
        full = best(args.repeat, lambda text=text: load(text=text, name="bench.yaml"))
        print(
            f"{size:>9} {baseline:>12.3f}s {reading:>11.3f}s {reading / baseline:>5.2f}x"
            f" {full:>13.3f}s {full / baseline:>5.2f}x"
        )
    print(
        "read (pos.) = parse to documents with lazy positions; load+validate adds models, selectors, schemas"
    )


if __name__ == "__main__":
    main()
