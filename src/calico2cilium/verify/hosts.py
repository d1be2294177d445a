"""The symbolic engine on host subjects: per node (HostEndpoint) and direction, ask z3 for a flow on
which the Calico and the Cilium host decisions disagree.

Host subjects are a finite known set (their labels are concrete: ``semantics.hosts``), so they are
enumerated, each with its own programs; the peers stay symbolic (every pod, node, outside address,
protocol and port). A subject with a construct outside the proof is ``unsupported``, never guessed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import replace

from calico2cilium.semantics.calico import CalicoSide
from calico2cilium.semantics.cilium import CiliumSide
from calico2cilium.semantics.expr import Expr, OnSubjectNode, or_
from calico2cilium.semantics.hosts import HostSubject
from calico2cilium.semantics.program import CalicoProgram, CiliumProgram, Ref
from calico2cilium.semantics.world import Assumptions, Direction
from calico2cilium.verify.smt import Query, SymbolicFlow
from calico2cilium.verify.symbolic import (
    CPU_BUDGET_S,
    PartitionResult,
    Stopwatch,
    check_in_turn,
    compare_programs,
    formulas,
)


def host_programs(
    calico: CalicoSide,
    cilium: CiliumSide,
    subject: HostSubject,
    direction: Direction,
    assumptions: Assumptions,
) -> tuple[CalicoProgram, CiliumProgram]:
    """Both sides' programs at one host subject (a node without Cilium programs: nothing selects it).

    Under Felix ``defaultEndpointToHostAction: Drop`` the traffic from the node's own pods to the
    host is decided at those pods' egress decision points (Calico drops it there; the Cilium output
    must deny it there too, and those points are checked for every pod), so it is taken out of the
    host's ingress comparison: both sides allow it here. Otherwise the host's ingress policy in
    Cilium must allow it as Calico does (C2C343)."""
    calico_p = calico.hosts[subject.key][direction]
    cilium_p = cilium.hosts.get(subject.node, {}).get(direction) or CiliumProgram(direction, [])
    if (
        direction == "ingress"
        and assumptions.calico_endpoint_to_host_action == "Drop"
        and not assumptions.calico_hep_polices_own_pods
    ):
        cilium_p = replace(
            cilium_p,
            always_allow=or_(cilium_p.always_allow, OnSubjectNode()),
            always_ref=Ref(
                "cilium",
                "traffic from the node's own pods (defaultEndpointToHostAction Drop: decided at the"
                " pods' egress)",
            ),
        )
    return calico_p, cilium_p


def check_hosts(
    calico: CalicoSide,
    cilium: CiliumSide,
    direction: Direction,
    assumptions: Assumptions,
    max_examples: int = 1,
    budget_s: float = CPU_BUDGET_S,
    stop_after: int | None = None,
    found: int = 0,
    narrowing: bool = False,
) -> list[PartitionResult]:
    """Every host subject in one direction; ``found``: counterexamples already found (for
    ``stop_after``, as in ``symbolic.check``). The nodes share one encoding and term cache
    (``shared_host_flow``): most of their programs are the same global policies."""
    programs = {s.key: host_programs(calico, cilium, s, direction, assumptions) for s in calico.host_subjects}
    shared = shared_host_flow(assumptions, calico.host_subjects, programs.values())
    return check_in_turn(
        direction,
        calico.host_subjects,
        lambda subject: compare_host(
            subject, programs[subject.key], direction, assumptions, max_examples, budget_s, narrowing, shared
        ),
        stop_after,
        found,
    )


def shared_host_flow(
    assumptions: Assumptions,
    subjects: Sequence[HostSubject],
    programs: Iterable[tuple[CalicoProgram, CiliumProgram]],
) -> SymbolicFlow | None:
    """One symbolic flow for all these host subjects' queries (``SymbolicFlow.at_host``), prepared
    with every formula of their ``programs``; ``None`` without subjects."""
    if not subjects:
        return None
    sym = SymbolicFlow(assumptions, host=subjects[0].endpoint(_placeholder(subjects[0])))
    sym.prepare(f for calico_p, cilium_p in programs for f in formulas(calico_p, cilium_p))
    return sym


def _placeholder(subject: HostSubject) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The subject's address in its endpoint (the proof's address is symbolic)."""
    return subject.own_ips[0] if subject.own_ips else ipaddress.ip_address("0.0.0.0")


def compare_host(
    subject: HostSubject,
    programs: tuple[CalicoProgram, CiliumProgram],
    direction: Direction,
    assumptions: Assumptions,
    max_examples: int = 1,
    budget_s: float = CPU_BUDGET_S,
    narrowing: bool = False,
    shared: SymbolicFlow | None = None,
) -> PartitionResult:
    """One host subject's two ``programs`` compared, the peers symbolic (also used by ``diff``).
    ``shared``: a symbolic flow prepared with these programs' formulas (``shared_host_flow``)."""
    start = Stopwatch()
    calico_p, cilium_p = programs
    result = PartitionResult(direction, subject.label, "equivalent")
    result.unsupported = [*subject.unsupported, *calico_p.unsupported, *cilium_p.unsupported]

    def query(sides: tuple[Expr, Expr], large: bool) -> Query:
        host = subject.endpoint(_placeholder(subject))
        if shared is not None:
            sym = shared.at_host(host, subject.own_ips)
        else:
            sym = SymbolicFlow(assumptions, host=host, own_ips=subject.own_ips)
        return Query(sym, [], sides, budget_s, large=large)

    return compare_programs(
        result,
        (calico_p, cilium_p),
        query,
        (calico_p, cilium_p),
        max_examples,
        start,
        supported=subject.node_labels is not None,
        prefer=subject.own_ips,
        narrowing=narrowing,
    )
