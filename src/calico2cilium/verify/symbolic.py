"""The symbolic engine: per decision point, ask z3 for a flow on which the two sides disagree.

One query for all subjects would carry every policy. Instead the subjects are *partitioned* by the
values policies pin them to (``partition.py``): the namespace of a namespaced policy, an ``app``
label, a namespace label. A policy that requires another value can never apply in a partition, so
each query carries only the policies that can. Unsat = the sides agree on every flow of the
partition (proven); sat = a counterexample, replayed through both sides' *complete* programs with
the concrete interpreter to name the responsible rules (and to cross-check the engines).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from calico2cilium.semantics.expr import Expr, Kind, and_, not_, or_
from calico2cilium.semantics.program import CalicoProgram, CiliumProgram, UnsupportedItem, Verdict
from calico2cilium.semantics.world import Assumptions, Direction, Flow
from calico2cilium.verify.partition import Partition, partition
from calico2cilium.verify.smt import Query, SymbolicFlow


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
    elif e.apiserver:
        out["apiserver"] = True
    return out


LARGE = 100
"""Queries with more policies than this use the bit-blasting solver (see ``smt.query``)."""


@dataclass
class PartitionResult:
    direction: Direction
    partition: str
    status: str  # "equivalent" | "different" | "unsupported" | "unknown" | "skipped"
    counterexamples: list[Counterexample] = field(default_factory=list)
    unsupported: list[UnsupportedItem] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""
    policies: int = 0


def check(
    calico: CalicoProgram,
    cilium: CiliumProgram,
    assumptions: Assumptions,
    max_examples: int = 1,
    timeout_ms: int = 60_000,
    stop_after: int | None = None,
    subject_kind: Kind = "pod",
    label: str = "",
) -> list[PartitionResult]:
    """Every partition of one direction; one symbolic flow (and z3 term cache) shared by all.

    ``stop_after``: once that many counterexamples are found, the remaining partitions are
    ``skipped`` (the answer is "different" anyway; a report needs a few examples, not all)."""
    sym = SymbolicFlow(assumptions, subject_kind)
    sym.prepare([calico.verdict(), cilium.verdict()])
    results: list[PartitionResult] = []
    found = 0
    for part in partition(calico, cilium):
        if label:
            part.label = label if part.label == "all subjects" else f"{label}, {part.label}"
        if stop_after is not None and found >= stop_after:
            results.append(PartitionResult(calico.direction, part.label, "skipped"))
            continue
        result = _check_one(calico, cilium, part, sym, max_examples, timeout_ms)
        found += len(result.counterexamples)
        results.append(result)
    return results


def _check_one(
    calico: CalicoProgram,
    cilium: CiliumProgram,
    part: Partition,
    sym: SymbolicFlow,
    max_examples: int,
    timeout_ms: int,
) -> PartitionResult:
    start = time.perf_counter()
    calico_p, cilium_p = part.calico, part.cilium
    result = PartitionResult(calico.direction, part.label, "equivalent")
    result.policies = len(calico_p.policies) + len(cilium_p.policies)
    result.unsupported = calico_p.unsupported + cilium_p.unsupported
    if result.unsupported:
        result.status = "unsupported"
        result.seconds = time.perf_counter() - start
        return result
    left, right = calico_p.verdict(), cilium_p.verdict()
    if left == right:
        result.seconds = time.perf_counter() - start
        return result
    query = Query(sym, [part.constraint], (left, right), timeout_ms, large=result.policies > LARGE)
    for _ in range(max_examples):
        outcome = query.check()
        if outcome == "unsat":
            break
        if outcome == "unknown":
            result.status = "unknown"
            result.note = f"solver gave up: {query.reason}"
            break
        flow = query.flow(calico.direction)
        example = Counterexample(flow, calico.decide(flow), cilium.decide(flow), part.label)
        if example.calico.allowed == example.cilium.allowed:
            result.status = "unknown"
            result.note = "internal error: the engines disagree on a counterexample; please report it"
            break
        result.status = "different"
        result.counterexamples.append(example)
        query.exclude_similar(flow)
    result.seconds = time.perf_counter() - start
    return result


def verdict_difference(calico: CalicoProgram, cilium: CiliumProgram) -> Expr:
    """The formula "the sides disagree" (for tests and tools)."""
    left, right = calico.verdict(), cilium.verdict()
    return or_(and_(left, not_(right)), and_(not_(left), right))
