"""The symbolic engine on host subjects: per node (HostEndpoint) and direction, ask z3 for a flow on
which the Calico and the Cilium host decisions disagree.

Host subjects are a finite known set (their labels are concrete: ``semantics.hosts``), so they are
enumerated, each with its own programs; the peers stay symbolic (every pod, node, outside address,
protocol and port). A subject with a construct outside the proof is ``unsupported``, never guessed.

Nodes alike are asked about once (issue 14: the realistic mix has a HostEndpoint on one document in
twenty, most with one of a few label sets). The argument: the question at node ``h`` is "is there a
flow satisfying the world facts ``W`` and ``own(h)`` (no peer has one of ``h``'s addresses) on which
the verdict formulas ``L_h`` and ``R_h`` disagree?". Translation does not depend on which host the
subject is (``SymbolicFlow.at_host``): only ``own(h)`` does. For a group ``G`` of nodes with equal
verdict formulas ``L`` and ``R``, the group question drops ``own(h)`` down to the addresses every
node of ``G`` has (``own(G)``, usually none): each node's flows are a subset of the group's, so
"no such flow" for the group is "no such flow" at every node of it. Only that answer is taken from
the group; when the group's answer is "yes", each node needs a counterexample that is a flow
at that node. The group's flow is one when its peer has none of the node's own
addresses (the only fact the node adds): then it is the node's example, replayed through the
node's programs; otherwise the node is asked on its own, as without grouping. With
``narrowing`` the two questions ("Cilium allows a flow Calico denies", then "they disagree") go
the same way: the first answered "no" for the group is not asked again per node.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from calico2cilium.semantics.calico import CalicoSide
from calico2cilium.semantics.cilium import CiliumSide
from calico2cilium.semantics.expr import FALSE, Expr, OnSubjectNode, and_, not_, or_
from calico2cilium.semantics.hosts import HostSubject
from calico2cilium.semantics.program import CalicoProgram, CiliumProgram, Ref
from calico2cilium.semantics.world import Assumptions, Direction
from calico2cilium.verify.smt import Query, SymbolicFlow
from calico2cilium.verify.symbolic import (
    CPU_BUDGET_S,
    LARGE,
    Attributor,
    Counterexample,
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
    attribute: Attributor | None = None,
) -> list[PartitionResult]:
    """Every host subject in one direction; ``found``: counterexamples already found (for
    ``stop_after``, as in ``symbolic.check``); ``attribute``: explain each narrowed flow (a group's
    narrowed answer is then asked again per node, where its flows are attributed). The nodes share one encoding and term cache
    (``shared_host_flow``): most of their programs are the same global policies; nodes alike are
    asked about once (see the module docstring)."""
    programs = {s.key: host_programs(calico, cilium, s, direction, assumptions) for s in calico.host_subjects}
    shared = shared_host_flow(assumptions, calico.host_subjects, programs.values())
    groups = _alike(calico.host_subjects, programs)
    answers: dict[int, GroupAnswer] = {}

    def check_one(subject: HostSubject) -> PartitionResult:
        start = Stopwatch()
        group = groups.get(subject.key)
        answer = GroupAnswer()
        if group is not None and shared is not None:
            if id(group) not in answers:  # charged to the group's first node checked
                answers[id(group)] = _ask_group(group, programs, shared, budget_s, narrowing)
            answer = answers[id(group)]
            result = PartitionResult(direction, subject.label, "equivalent")
            result.policies = sum(len(p.policies) for p in programs[subject.key])
            if answer.status == "equivalent" or (
                answer.query is not None
                and max_examples == 1
                and (attribute is None or answer.status != "narrowed")
                and _example_of_group(subject, programs[subject.key], answer, shared, result)
            ):
                result.note = f"asked once for the {len(group)} nodes of the same programs"
                result.seconds, result.cpu_seconds = start.elapsed()
                return result
        return compare_host(
            subject,
            programs[subject.key],
            direction,
            assumptions,
            max_examples,
            budget_s,
            narrowing,
            shared,
            no_widening=answer.no_widening,
            start=start,
            attribute=attribute,
        )

    return check_in_turn(direction, calico.host_subjects, check_one, stop_after, found)


@dataclass
class GroupAnswer:
    """What a group's question showed: ``equivalent`` (for each node), ``different`` or ``narrowed``
    (a flow of ``query``'s model, maybe not one at every node), or nothing (``None``).
    ``no_widening``: with ``narrowing``, Cilium allows no flow Calico denies at any node;
    ``widening``: ``query`` asked for such a flow (else for any disagreement)."""

    status: Literal["equivalent", "different", "narrowed"] | None = None
    no_widening: bool = False
    query: Query | None = None
    widening: bool = False


def _alike(
    subjects: Sequence[HostSubject], programs: dict[str, tuple[CalicoProgram, CiliumProgram]]
) -> dict[str, list[HostSubject]]:
    """The groups of two or more nodes with the same verdict formulas on both sides (each node's
    key to its group), among those wholly inside the proof and not decided by the formulas alone."""
    by_formulas: dict[tuple[Expr, Expr], list[HostSubject]] = {}
    for subject in subjects:
        calico_p, cilium_p = programs[subject.key]
        if subject.node_labels is None or subject.unsupported or calico_p.unsupported or cilium_p.unsupported:
            continue
        left, right = calico_p.verdict(), cilium_p.verdict()
        if left != right:
            by_formulas.setdefault((left, right), []).append(subject)
    return {s.key: group for group in by_formulas.values() if len(group) > 1 for s in group}


def _ask_group(
    group: list[HostSubject],
    programs: dict[str, tuple[CalicoProgram, CiliumProgram]],
    shared: SymbolicFlow,
    budget_s: float,
    narrowing: bool,
) -> GroupAnswer:
    """The group's question, with only the addresses all its nodes own kept from other peers."""
    first = group[0]
    calico_p, cilium_p = programs[first.key]
    left, right = calico_p.verdict(), cilium_p.verdict()
    common = set(first.own_ips).intersection(*(s.own_ips for s in group[1:]))
    sym = shared.at_host(
        first.endpoint(_placeholder(first)), tuple(ip for ip in first.own_ips if ip in common)
    )
    large = len(calico_p.policies) + len(cilium_p.policies) > LARGE

    def ask(sides: tuple[Expr, Expr]) -> tuple[str, Query]:
        query = Query(sym, [], sides, budget_s, large=large)
        return query.check(), query

    if narrowing:
        outcome, query = ask((and_(not_(left), right), FALSE))
        if outcome == "sat":
            return GroupAnswer("different", query=query, widening=True)
        if outcome != "unsat":
            return GroupAnswer()
    outcome, query = ask((left, right))
    if outcome == "unsat":
        return GroupAnswer("equivalent", no_widening=narrowing)
    if outcome == "sat":
        return GroupAnswer("narrowed" if narrowing else "different", narrowing, query)
    return GroupAnswer(no_widening=narrowing)


def _example_of_group(
    subject: HostSubject,
    programs: tuple[CalicoProgram, CiliumProgram],
    answer: GroupAnswer,
    shared: SymbolicFlow,
    result: PartitionResult,
) -> bool:
    """The group's flow as this node's example, when it is a flow at this node: its peer has none of
    the node's own addresses (the only fact the node adds to the group's question). Replayed
    through the node's programs (naming its rules, and cross-checking the engines); ``False``
    (ask the node on its own) when it is not the node's flow or the replay does not confirm it."""
    assert answer.query is not None and answer.query.model is not None
    calico_p, cilium_p = programs
    view = shared.at_host(subject.endpoint(_placeholder(subject)), subject.own_ips)
    flow = view.flow(answer.query.model, result.direction)
    if flow.peer.ip in subject.own_ips or subject.unsupported or calico_p.unsupported or cilium_p.unsupported:
        return False
    example = Counterexample(flow, calico_p.decide(flow), cilium_p.decide(flow), result.partition)
    calico_allows, cilium_allows = example.calico.allowed, example.cilium.allowed
    if answer.status == "narrowed" and calico_allows and not cilium_allows:
        result.status, result.narrowed = "narrowed", [example]
        return True
    widens = cilium_allows and not calico_allows
    if answer.status == "different" and (widens if answer.widening else calico_allows != cilium_allows):
        result.status, result.counterexamples = "different", [example]
        return True
    return False


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
    no_widening: bool = False,
    start: Stopwatch | None = None,
    attribute: Attributor | None = None,
) -> PartitionResult:
    """One host subject's two ``programs`` compared, the peers symbolic (also used by ``diff``).
    ``shared``: a symbolic flow prepared with these programs' formulas (``shared_host_flow``);
    ``no_widening``, ``attribute``: see ``compare_programs``; ``start``: when the check began."""
    start = start or Stopwatch()
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
        no_widening=no_widening,
        attribute=attribute,
    )
