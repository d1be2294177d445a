"""The symbolic engine on host subjects: per node (HostEndpoint) and direction, ask z3 for a flow on
which the Calico and the Cilium host decisions disagree.

Host subjects are a finite known set (their labels are concrete: ``semantics.hosts``), so they are
enumerated, each with its own programs; the peers stay symbolic (every pod, node, outside address,
protocol and port). A subject with a construct outside the proof is ``unsupported``, never guessed.
"""

from __future__ import annotations

import ipaddress
import time

from calico2cilium.semantics.calico import CalicoSide
from calico2cilium.semantics.cilium import CiliumSide
from calico2cilium.semantics.hosts import HostSubject
from calico2cilium.semantics.program import CalicoProgram, CiliumProgram
from calico2cilium.semantics.world import Assumptions, Direction
from calico2cilium.verify.smt import Query, SymbolicFlow
from calico2cilium.verify.symbolic import LARGE, PartitionResult, search


def host_programs(
    calico: CalicoSide, cilium: CiliumSide, subject: HostSubject, direction: Direction
) -> tuple[CalicoProgram, CiliumProgram]:
    """Both sides' programs at one host subject (a node without Cilium programs: nothing selects it)."""
    calico_p = calico.hosts[subject.key][direction]
    cilium_p = cilium.hosts.get(subject.node, {}).get(direction) or CiliumProgram(direction, [])
    return calico_p, cilium_p


def check_hosts(
    calico: CalicoSide,
    cilium: CiliumSide,
    direction: Direction,
    assumptions: Assumptions,
    max_examples: int = 1,
    timeout_ms: int = 60_000,
    stop_after: int | None = None,
    found: int = 0,
) -> list[PartitionResult]:
    """Every host subject in one direction; ``found``: counterexamples already found (for
    ``stop_after``, as in ``symbolic.check``)."""
    results = []
    for subject in calico.host_subjects:
        if stop_after is not None and found >= stop_after:
            results.append(PartitionResult(direction, subject.label, "skipped"))
            continue
        result = _check_one(calico, cilium, subject, direction, assumptions, max_examples, timeout_ms)
        found += len(result.counterexamples)
        results.append(result)
    return results


def _check_one(
    calico: CalicoSide,
    cilium: CiliumSide,
    subject: HostSubject,
    direction: Direction,
    assumptions: Assumptions,
    max_examples: int,
    timeout_ms: int,
) -> PartitionResult:
    start = time.perf_counter()
    calico_p, cilium_p = host_programs(calico, cilium, subject, direction)
    result = PartitionResult(direction, subject.label, "equivalent")
    result.policies = len(calico_p.policies) + len(cilium_p.policies)
    result.unsupported = [*subject.unsupported, *calico_p.unsupported, *cilium_p.unsupported]
    if result.unsupported or subject.node_labels is None:
        result.status = "unsupported"
        result.seconds = time.perf_counter() - start
        return result
    left, right = calico_p.verdict(), cilium_p.verdict()
    if left == right:
        result.seconds = time.perf_counter() - start
        return result
    placeholder = subject.own_ips[0] if subject.own_ips else ipaddress.ip_address("0.0.0.0")
    sym = SymbolicFlow(assumptions, host=subject.endpoint(placeholder), own_ips=subject.own_ips)
    query = Query(sym, [], (left, right), timeout_ms, large=result.policies > LARGE)
    search(query, calico_p, cilium_p, result, max_examples, prefer=subject.own_ips)
    result.seconds = time.perf_counter() - start
    return result
