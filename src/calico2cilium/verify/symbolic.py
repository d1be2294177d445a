"""The symbolic engine: per decision point, ask z3 for a flow on which the two sides disagree.

One query for all subjects would carry every policy. Instead the subjects are *partitioned* by the
values policies pin them to (``partition.py``): the namespace of a namespaced policy, an ``app``
label, a namespace label. A policy that requires another value can never apply in a partition, so
each query carries only the policies that can. Unsat = the sides agree on every flow of the
partition (proven); sat = a counterexample, replayed through both sides' *complete* programs with
the concrete interpreter to name the responsible rules (and to cross-check the engines).

Before partitioning, label values whose policies have one shape are left to one representative
(``symmetry.py``): templated sets would otherwise make the solver face every combination of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from calico2cilium.semantics.expr import FALSE, Expr, and_, not_, or_
from calico2cilium.semantics.program import (
    CalicoPolicy,
    CalicoProgram,
    CiliumPolicy,
    CiliumProgram,
    UnsupportedItem,
    Verdict,
)
from calico2cilium.semantics.world import IP, Assumptions, Direction, Flow
from calico2cilium.verify.attribution import MAX_ROUNDS
from calico2cilium.verify.partition import Partition, partition
from calico2cilium.verify.smt import Query, SymbolicFlow
from calico2cilium.verify.symmetry import policy_formulas, program_formulas, quotient


class _Labelled(Protocol):
    @property
    def label(self) -> str: ...


P = TypeVar("P", bound=_Labelled)


class Explained(Protocol):
    """What explains a narrowed flow (``attribution.Explanation``): the flows it explains at that
    decision point (``exclusion``), and how to name it."""

    @property
    def exclusion(self) -> Expr: ...

    def describe(self) -> str: ...


class Attributor(Protocol):
    """Explains a narrowed flow at the decision point of a complete Calico program, or ``None``
    (``attribution.Attribution``). ``mark``: a policy fact symmetry must keep apart; ``read``:
    told every Calico program of the proof before any flow."""

    def __call__(self, example: Counterexample, calico: CalicoProgram) -> Explained | None: ...

    def mark(self, policy: object) -> bool: ...

    def read(self, programs: Iterable[CalicoProgram], default_namespace: str) -> None: ...


@dataclass(frozen=True)
class Counterexample:
    """A flow on which Calico and Cilium decide differently, with the rules responsible."""

    flow: Flow
    calico: Verdict
    cilium: Verdict
    partition: str

    def to_dict(self) -> dict[str, Any]:
        f = self.flow
        return {
            "direction": f.direction,
            "subject": _endpoint_dict(f.subject),
            "peer": _endpoint_dict(f.peer),
            "protocol": f.protocol,
            "dst_port": f.dst_port,
            "src_port": f.src_port,
            "icmp_type": f.icmp_type,
            "icmp_code": f.icmp_code,
            "calico": self.calico.to_dict(),
            "cilium": self.cilium.to_dict(),
            "flow": f.describe(),
        }

    def describe(self) -> str:
        def verdict(v: Verdict) -> str:
            return f"{'ALLOW' if v.allowed else 'DENY'} by {v.ref}"

        return (
            f"{self.flow.direction} at {self.flow.subject.describe()}\n"
            f"  flow:   {self.flow.describe()}\n"
            f"  calico: {verdict(self.calico)}\n"
            f"  cilium: {verdict(self.cilium)}"
        )


def _endpoint_dict(e: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": e.kind, "ip": str(e.ip)}
    if e.kind == "pod":
        out.update(
            namespace=e.namespace,
            labels=dict(e.labels),
            namespace_labels=dict(e.namespace_labels),
            service_account=e.service_account,
            service_account_labels=dict(e.service_account_labels),
            named_ports={k: list(v) for k, v in e.named_ports.items()},
        )
        if e.node:
            out["node"] = e.node
    elif e.kind == "host" and e.name:  # a host subject: its node and HostEndpoint
        out.update(node=e.name, host_endpoint=e.host_endpoint or None, labels=dict(e.labels))
    elif e.apiserver:
        out["apiserver"] = True
    return out


LARGE = 20
"""Queries with more policies than this use the bit-blasting solver (see ``smt.query``). Measured
(issue 14): the host subjects of 1,000 documents of the realistic mix, ~57 policies a query,
check in 0.5x the CPU of the general solver; at 7 policies they are as fast; the friendly
benchmark's small partitions (up to 42 policies) are unchanged."""
CPU_BUDGET_S = 60.0
"""CPU seconds the solver may spend on one partition (CPU, not wall time: a loaded machine must
not turn a proof into "not proven")."""


class Stopwatch:
    """Wall and CPU time since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def elapsed(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


@dataclass
class PartitionResult:
    direction: Direction
    partition: str
    status: str  # "equivalent" | "different" | "narrowed" | "unsupported" | "unknown" | "skipped"
    counterexamples: list[Counterexample] = field(default_factory=list)
    """Flows decided differently (with ``narrowing``: flows Cilium allows and Calico denies)."""
    narrowed: list[Counterexample] = field(default_factory=list)
    """With ``narrowing``: flows Calico allows and Cilium denies (the output fails closed there)."""
    unsupported: list[UnsupportedItem] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time of this partition's check (the process's, solver included)."""
    note: str = ""
    policies: int = 0
    explained: list[tuple[Counterexample, str]] = field(default_factory=list)
    """With an ``attribute``: narrowed flows (also in ``narrowed``) and the finding explaining each."""
    unexplained: list[Counterexample] = field(default_factory=list)
    """With an ``attribute``: a narrowed flow (also in ``narrowed``) no narrowing finding explains."""
    unattributed: bool = False
    """With an ``attribute``: the narrowed flows here were not all attributed (the solver gave up
    on a later question, or ``MAX_ROUNDS``)."""


def check(
    calico: CalicoProgram,
    cilium: CiliumProgram,
    assumptions: Assumptions,
    max_examples: int = 1,
    budget_s: float = CPU_BUDGET_S,
    stop_after: int | None = None,
    narrowing: bool = False,
    attribute: Attributor | None = None,
) -> list[PartitionResult]:
    """Every partition of one direction; one symbolic flow (and z3 term cache) shared by all.
    ``narrowing``: prove only that Cilium allows nothing Calico denies (``compare_programs``);
    ``attribute``: and explain every narrowed flow.

    ``budget_s``: CPU seconds the solver may spend on one partition before giving up (``unknown``).
    ``stop_after``: once that many counterexamples are found, the remaining partitions are
    ``skipped`` (the answer is "different" anyway; a report needs a few examples, not all)."""
    sym = SymbolicFlow(assumptions)
    sym.prepare(formulas(calico, cilium))
    mark = attribute.mark if attribute is not None and narrowing else None
    reduced = quotient(calico, cilium, assumptions.valid_k8s_values, mark)
    return check_in_turn(
        calico.direction,
        partition(reduced.calico, reduced.cilium, reduced.exclusions),
        lambda part: _check_one(calico, cilium, part, sym, max_examples, budget_s, narrowing, attribute),
        stop_after,
    )


def formulas(calico: CalicoProgram, cilium: CiliumProgram) -> list[Expr]:
    """Every formula the programs' verdicts are built from (for ``SymbolicFlow.prepare``). Either
    program may be of either side (``diff`` compares two of one side)."""
    out = [*program_formulas(calico), *program_formulas(cilium)]
    policies: list[CalicoPolicy | CiliumPolicy] = [*calico.policies, *cilium.policies]
    for policy in policies:
        out.extend(policy_formulas(policy))
    return out


def check_in_turn(
    direction: Direction,
    parts: Iterable[P],
    check_one: Callable[[P], PartitionResult],
    stop_after: int | None,
    found: int = 0,
) -> list[PartitionResult]:
    """``check_one`` on each partition in turn (pod partitions here, host subjects in
    ``verify.hosts``); once ``stop_after`` counterexamples are found (``found`` of them before
    these partitions), the remaining partitions are ``skipped``."""
    results: list[PartitionResult] = []
    for part in parts:
        if stop_after is not None and found >= stop_after:
            results.append(PartitionResult(direction, part.label, "skipped"))
            continue
        result = check_one(part)
        found += len(result.counterexamples)
        results.append(result)
    return results


def _check_one(
    calico: CalicoProgram,
    cilium: CiliumProgram,
    part: Partition,
    sym: SymbolicFlow,
    max_examples: int,
    budget_s: float,
    narrowing: bool = False,
    attribute: Attributor | None = None,
) -> PartitionResult:
    start = Stopwatch()
    result = PartitionResult(calico.direction, part.label, "equivalent")
    result.unsupported = part.calico.unsupported + part.cilium.unsupported
    return compare_programs(
        result,
        (part.calico, part.cilium),
        lambda sides, large: Query(sym, [part.constraint], sides, budget_s, large=large),
        (calico, cilium),
        max_examples,
        start,
        narrowing=narrowing,
        attribute=attribute,
    )


def compare_programs(
    result: PartitionResult,
    programs: tuple[CalicoProgram, CiliumProgram],
    query: Callable[[tuple[Expr, Expr], bool], Query],
    replay: tuple[CalicoProgram, CiliumProgram],
    max_examples: int,
    start: Stopwatch,
    supported: bool = True,
    prefer: tuple[IP, ...] = (),
    narrowing: bool = False,
    no_widening: bool = False,
    attribute: Attributor | None = None,
) -> PartitionResult:
    """The rest of one partition's check, once ``result.unsupported`` is set: ``unsupported`` if
    anything (or ``not supported``) is outside the proof, ``equivalent`` if both ``programs`` give
    the same verdict formula, else a z3 ``query((left, right), large)`` searched for counterexamples,
    replayed through the ``replay`` programs. ``seconds`` and ``cpu_seconds`` count from ``start``.

    ``narrowing`` (a conversion that says it fails closed): the question is only whether Cilium
    allows a flow Calico denies. Such flows are the counterexamples (status ``different``: a
    widening is a bug); if there is none, the flows Calico allows and Cilium denies are listed in
    ``narrowed`` (status ``narrowed``). ``no_widening``: that first question is known unsatisfiable
    already (asked of a weaker set of facts: ``verify.hosts``), so only the second is asked.
    ``attribute`` (with ``narrowing``): each narrowed flow must be explained (``attributed``)."""
    calico_p, cilium_p = programs
    result.policies = len(calico_p.policies) + len(cilium_p.policies)
    if result.unsupported or not supported:
        result.status = "unsupported"
    else:
        left, right = calico_p.verdict(), cilium_p.verdict()
        large = result.policies > LARGE
        if left != right and narrowing:
            # "Cilium allows and Calico denies" as a disagreement with FALSE.
            if not no_widening:
                search(query((and_(not_(left), right), FALSE), large), *replay, result, max_examples, prefer)
            if result.status == "equivalent" and attribute is not None:
                attributed(
                    result, (left, right), lambda sides: query(sides, large), replay, attribute, prefer
                )
            elif result.status == "equivalent":
                probe = PartitionResult(result.direction, result.partition, "equivalent")
                search(query((left, right), large), *replay, probe, max_examples, prefer)
                result.narrowed = probe.counterexamples
                result.status = "narrowed" if probe.status == "different" else probe.status
                result.note = probe.note
        elif left != right:
            search(query((left, right), large), *replay, result, max_examples, prefer)
    result.seconds, result.cpu_seconds = start.elapsed()
    return result


def attributed(
    result: PartitionResult,
    sides: tuple[Expr, Expr],
    query: Callable[[tuple[Expr, Expr]], Query],
    replay: tuple[CalicoProgram, CiliumProgram],
    attribute: Attributor,
    prefer: tuple[IP, ...] = (),
) -> None:
    """The narrowed flows of one partition, each explained (``attribute``): ask for a flow the
    sides decide differently; explained, leave out everything the findings explain here (the
    explanation's ``exclusion``) and ask again; not explained, record it (``unexplained``) and
    stop. Asked after Cilium was proven to allow nothing Calico denies, so every such flow is a
    narrowed one. Usually two questions; when the solver gives up on a later one, or past
    ``MAX_ROUNDS`` (a safety bound: each exclusion is everything explainable), the rest is
    ``unattributed`` (C2C415), never accepted silently."""
    left, right = sides
    explained: Expr = FALSE
    for _ in range(MAX_ROUNDS):
        probe = PartitionResult(result.direction, result.partition, "equivalent")
        search(query((or_(left, explained), or_(right, explained))), *replay, probe, 1, prefer)
        if probe.status == "unknown" and not result.explained:
            result.status, result.note = "unknown", probe.note
            return
        if probe.status == "unknown":
            result.unattributed, result.note = True, f"{probe.note}; the rest was not attributed"
            break
        if probe.status != "different":
            break
        example = probe.counterexamples[0]
        result.narrowed.append(example)
        explanation = attribute(example, replay[0])
        if explanation is None:
            result.unexplained.append(example)
            break
        result.explained.append((example, explanation.describe()))
        explained = or_(explained, explanation.exclusion)
    else:
        result.unattributed = True
        result.note = f"narrowed flows attributed in {MAX_ROUNDS} questions and more are left"
    result.status = "narrowed" if result.narrowed else "equivalent"


def search(
    query: Query,
    calico: CalicoProgram,
    cilium: CiliumProgram,
    result: PartitionResult,
    max_examples: int,
    prefer: tuple[IP, ...] = (),
) -> None:
    """Ask for up to ``max_examples`` differing flows; each is replayed through both programs with
    the concrete interpreter (naming the rules responsible, and cross-checking the engines).
    ``prefer``: show counterexamples with the subject at one of these addresses when there are."""
    for _ in range(max_examples):
        outcome = query.check()
        if outcome == "unsat":
            break
        if outcome == "unknown":
            result.status = "unknown"
            result.note = f"solver gave up: {query.reason}"
            break
        query.prefer_subject_at(prefer)
        flow = query.flow(calico.direction)
        example = Counterexample(flow, calico.decide(flow), cilium.decide(flow), result.partition)
        if example.calico.allowed == example.cilium.allowed:
            result.status = "unknown"
            result.note = "internal error: the engines disagree on a counterexample; please report it"
            break
        result.status = "different"
        result.counterexamples.append(example)
        query.exclude_similar(flow)


def verdict_difference(calico: CalicoProgram, cilium: CiliumProgram) -> Expr:
    """The formula "the sides disagree" (for tests and tools)."""
    left, right = calico.verdict(), cilium.verdict()
    return or_(and_(left, not_(right)), and_(not_(left), right))
