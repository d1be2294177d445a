"""Concrete engine benchmark: flows per second over an inventory of 1,000 pods (issue 14).

    make bench            # or: python scripts/bench_concrete.py [--pods 1000] [--policies 1000]

The policies are ``make bench``'s own equivalent pair (``calico2cilium.verify.bench``); the
inventory is generated to exercise them: pods in the 40 team namespaces, each the subject of one
namespaced policy, some carrying the client, admin, quarantine and metrics labels the rules look
at, namespaces labelled ``env: prod`` or ``team: observability``, 10 nodes and addresses outside
the cluster on both sides of the policies' CIDR ``except``.

The engine's rate is over every flow of the inventory (each pod, both directions, every peer,
every probe). The per-flow engine it replaced (``tests/concrete_reference.py``: ``decide`` on both
sides per flow, then tables and a deepdiff) is far too slow for that, so its rate is measured on a
random sample of the same flows, counting only the two ``decide`` calls: an upper bound of its
speed, which makes the printed ratio a lower bound. Issue 14 asks for at least 10x.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import resource
import sys
import time

from calico2cilium.io.inventory import Inventory, PodInfo
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.world import TCP
from calico2cilium.verify.api import inventory_programs
from calico2cilium.verify.bench import BENCH_ASSUMPTIONS, generated_pair
from calico2cilium.verify.concrete import tables

TARGET = 10.0


def inventory(pods: int, policies: int) -> Inventory:
    """Pods whose labels the generated policies select and look at (see the module docstring)."""
    globals_ = int(policies * 0.2)
    inv = Inventory(
        namespaces={
            f"team-{n}": {
                "env": "prod" if n % 2 == 0 else "dev",
                **({"team": "observability"} if n < 4 else {}),
            }
            for n in range(40)
        },
        nodes={f"node-{n}": (ipaddress.ip_address(f"192.168.0.{n + 1}"),) for n in range(10)},
        external=[
            ipaddress.ip_address(a) for a in ("198.51.100.5", "198.51.100.20", "203.0.113.9", "8.8.8.8")
        ],
    )
    for k in range(pods):
        i = globals_ + k % max(1, policies - globals_)  # a namespaced policy selects it ...
        labels = {"app": f"svc-{i}", "role": "admin" if k % 13 == 0 else f"client-{k % 11}"}
        if k % 5 == 0:
            labels["metrics"] = f"m{k % max(1, globals_)}"  # ... and some a global one too
        if k % 50 == 0:
            labels["quarantine"] = "true"
        ip = ipaddress.ip_address(f"10.0.{k // 250}.{k % 250 + 1}")
        ports = {"http": (TCP, 8000 + k % 7)} if k % 3 == 0 else {}
        inv.pods.append(
            PodInfo(f"pod-{k}", f"team-{i % 40}", labels, "default", (ip,), f"node-{k % 10}", ports)
        )
    return inv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=20000, help="most flows the per-flow engine decides")
    parser.add_argument("--budget", type=float, default=10.0, help="most CPU seconds it decides for")
    args = parser.parse_args(argv)
    calico_text, cilium_text = generated_pair(args.policies)
    inv = inventory(args.pods, args.policies)
    calico_p, cilium_p, hosts = inventory_programs(
        read_documents(calico_text, "calico.yaml")[0],
        read_documents(cilium_text, "cilium.yaml")[0],
        inv,
        BENCH_ASSUMPTIONS,
    )
    start = time.perf_counter()
    cpu = time.process_time()
    result = tables(calico_p, cilium_p, inv, BENCH_ASSUMPTIONS, hosts)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = result.flows / cpu

    # The per-flow engine, on a random sample of the same flows, for at most --budget seconds of CPU.
    rows = result._rows
    rng = random.Random(14)
    decided = 0
    old_cpu = time.process_time()
    while decided < args.sample and time.process_time() - old_cpu < args.budget:
        row = rng.choice(rows)
        universe = row.universe
        peer = rng.randrange(len(universe.peers))
        if not (row.valid >> (peer * universe.width)) & universe.probe_full:
            continue  # not a peer of this subject
        flow = universe.flow(row.subject, peer, rng.randrange(universe.width))
        row.programs[0].decide(flow)
        row.programs[1].decide(flow)
        decided += 1
    old_rate = decided / (time.process_time() - old_cpu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ratio = rate / old_rate
    print(
        f"concrete   {args.pods} pods, {args.policies} policies: {result.flows:,} flows in {seconds:.1f}s "
        f"({cpu:.1f}s CPU), {rate:,.0f} flows/s, peak RSS {peak:.0f} MB, "
        f"{'equivalent' if result.equivalent else f'{len(result.differences)} differences'}"
    )
    print(
        f"           per-flow engine: {old_rate:,.0f} flows/s (decide only, {decided:,} sampled flows); "
        f"{ratio:.0f}x faster (target >= {TARGET:.0f}x)"
    )
    return 0 if result.equivalent and ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
