"""A generated equivalent Calico/Cilium pair of any size, and a timing of the verifier on it.

For ``make bench`` (issue 14: 1,000 policies in 10 s, 10,000 in 120 s, proven)::

    from calico2cilium.verify.bench import measure
    print(measure(1000))   # {'policies': 1000, 'seconds': ..., 'cpu_seconds': ..., 'peak_rss_mb': ..., ...}

The pair is hand-translated (not produced by the compiler, which the verifier must not import): a
mix of namespaced policies (a deny before an allow, ports, CIDRs with ``except``) and global
policies with namespace selectors, every policy with its own subject, like real policy sets.
"""

from __future__ import annotations

import resource
import time
from typing import Any

import yaml

from calico2cilium.semantics.world import Assumptions


def _namespaced(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    ns, port = f"team-{i % 40}", 8000 + i % 7
    calico = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"svc-{i}", "namespace": ns},
        "spec": {
            "order": 100,
            "selector": f"app == 'svc-{i}'",
            "types": ["Ingress", "Egress"],
            "ingress": [
                {"action": "Deny", "source": {"selector": "quarantine == 'true'"}},
                {
                    "action": "Allow",
                    "protocol": "TCP",
                    "source": {"selector": f"role in {{'client-{i % 11}', 'admin'}}"},
                    "destination": {"ports": [port, "9000:9010"]},
                },
            ],
            "egress": [
                {"action": "Allow", "protocol": "UDP", "destination": {"ports": [53]}},
                {
                    "action": "Allow",
                    "protocol": "TCP",
                    "destination": {
                        "nets": ["198.51.100.0/24"],
                        "notNets": ["198.51.100.0/28"],
                        "ports": [443],
                    },
                },
            ],
        },
    }
    cilium = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": f"svc-{i}", "namespace": ns},
        "spec": {
            "endpointSelector": {"matchLabels": {"app": f"svc-{i}"}},
            "ingressDeny": [{"fromEndpoints": [{"matchLabels": {"quarantine": "true"}}]}],
            "ingress": [
                {
                    "fromEndpoints": [
                        {
                            "matchExpressions": [
                                {"key": "role", "operator": "In", "values": [f"client-{i % 11}", "admin"]}
                            ]
                        }
                    ],
                    "toPorts": [
                        {
                            "ports": [
                                {"port": str(port), "protocol": "TCP"},
                                {"port": "9000", "endPort": 9010, "protocol": "TCP"},
                            ]
                        }
                    ],
                }
            ],
            "egress": [
                {"toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}]}]},
                {
                    "toCIDRSet": [{"cidr": "198.51.100.0/24", "except": ["198.51.100.0/28"]}],
                    "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
                },
            ],
        },
    }
    return calico, cilium


def _global(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    calico = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "GlobalNetworkPolicy",
        "metadata": {"name": f"metrics-{i}"},
        "spec": {
            "order": 1000,
            "namespaceSelector": "env == 'prod'",
            "selector": f"metrics == 'm{i}'",
            "types": ["Ingress"],
            "ingress": [
                {
                    "action": "Allow",
                    "protocol": "TCP",
                    "source": {"namespaceSelector": "team == 'observability'"},
                    "destination": {"ports": [9090]},
                }
            ],
        },
    }
    cilium = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumClusterwideNetworkPolicy",
        "metadata": {"name": f"metrics-{i}"},
        "spec": {
            "endpointSelector": {
                "matchLabels": {"metrics": f"m{i}", "k8s:io.cilium.k8s.namespace.labels.env": "prod"}
            },
            "ingress": [
                {
                    "fromEndpoints": [
                        {"matchLabels": {"k8s:io.cilium.k8s.namespace.labels.team": "observability"}}
                    ],
                    "toPorts": [{"ports": [{"port": "9090", "protocol": "TCP"}]}],
                }
            ],
        },
    }
    return calico, cilium


def generated_documents(
    count: int, global_share: float = 0.2
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``count`` Calico policies and their Cilium equivalents (the first ``global_share`` global);
    policy ``i`` is item ``i`` of both lists."""
    calico: list[dict[str, Any]] = []
    cilium: list[dict[str, Any]] = []
    globals_ = int(count * global_share)
    for i in range(count):
        left, right = _global(i) if i < globals_ else _namespaced(i)
        calico.append(left)
        cilium.append(right)
    return calico, cilium


def dump(documents: list[dict[str, Any]]) -> str:
    dumper = yaml.CSafeDumper if hasattr(yaml, "CSafeDumper") else yaml.SafeDumper
    return str(yaml.dump_all(documents, Dumper=dumper))


def generated_pair(count: int, global_share: float = 0.2) -> tuple[str, str]:
    """``count`` Calico policies and their Cilium equivalents, as two YAML streams."""
    calico, cilium = generated_documents(count, global_share)
    return dump(calico), dump(cilium)


BENCH_ASSUMPTIONS = Assumptions(pod_cidrs=("10.0.0.0/16",), node_cidrs=("192.168.0.0/24",))


def measure(count: int) -> dict[str, Any]:
    """Verify a generated pair of ``count`` policies: wall and CPU seconds (reading included), peak
    RSS, the verdict, the CPU seconds of the partitions' checks (the rest is reading both sides and
    building their programs), and the slowest subject partition."""
    from calico2cilium.verify.api import verify_texts

    calico, cilium = generated_pair(count)
    start, cpu = time.perf_counter(), time.process_time()
    result = verify_texts(calico, cilium, BENCH_ASSUMPTIONS)
    return _figures(count, result, start, cpu)


MIX_ASSUMPTIONS = Assumptions(pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",))
"""The cluster the realistic mix (``scripts/realistic_mix.py``) is written for."""


def measure_files(count: int, calico: str, cilium: str, narrowing: bool) -> dict[str, Any]:
    """Verify a Calico file against a Cilium file (the realistic mix and its conversion), as
    ``measure`` does; every partition is checked (no stop after 20 counterexamples), so the time is
    the whole proof's. ``narrowing``: the conversion said it fails closed (``convert --verify``'s
    question: does Cilium allow nothing Calico denies)."""
    from calico2cilium.load import load
    from calico2cilium.verify.api import read_cilium_files, verify

    start, cpu = time.perf_counter(), time.process_time()
    calico_docs = load([calico])
    cilium_docs, problems = read_cilium_files([cilium])
    result = verify(
        calico_docs,
        cilium_docs,
        MIX_ASSUMPTIONS,
        diagnostics=problems,
        max_counterexamples=None,
        narrowing=narrowing,
    )
    return _figures(count, result, start, cpu)


def _figures(count: int, result: Any, start: float, cpu: float) -> dict[str, Any]:
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    slowest = max(result.partitions, key=lambda p: p.cpu_seconds, default=None)
    return {
        "policies": count,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "peak_rss_mb": round(peak, 1),
        "status": result.status,
        "partitions": len(result.partitions),
        "checks_cpu_seconds": round(sum(p.cpu_seconds for p in result.partitions), 2),
        "slowest": (
            f"{slowest.direction} {slowest.partition} ({slowest.policies} policies, {slowest.cpu_seconds:.2f} CPU s)"
            if slowest is not None
            else ""
        ),
    }
