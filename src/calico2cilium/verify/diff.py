"""``diff()``: the flows whose verdict changes between two policy sets, each Calico or Cilium.

Each side is decided by the semantics of the engine that enforces it: Calico against Calico by
Calico's decision (tiers, first match), Cilium against Cilium by Cilium's (deny wins, default deny
by selection), and a Calico side against a Cilium side each by its own: that is ``verify()``, and
its result is read as a diff. The symbolic engine is the verifier's (``symbolic.check``): per
partition of the subjects z3 looks for flows one side allows and the other denies, each replayed
through both complete programs to name the rules responsible.

A side may mix both kinds (a repository holding the Calico policies and the Cilium ones during a
migration). Then the Calico policies of one side are compared with the Calico policies of the
other, and the Cilium ones with the Cilium ones; Kubernetes NetworkPolicies, which both enforce,
take part in both comparisons.

A *change* is a region of flows: one direction at one subject partition (a namespace, a label
value, a node), with a peer kind and protocol, on which the old side's verdict and rule and the new
side's verdict and rule are the same; it carries one concrete flow of it as the example.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

from calico2cilium.facts.cluster import Cluster
from calico2cilium.semantics.calico import read_calico_side
from calico2cilium.semantics.cilium import HOST_NOT_VERIFIED, read_cilium_side
from calico2cilium.semantics.hosts import HostSubject
from calico2cilium.semantics.program import (
    CalicoProgram,
    CiliumProgram,
    InvalidItem,
    Located,
    UnsupportedItem,
    Verdict,
)
from calico2cilium.semantics.world import DIRECTIONS, Assumptions, Direction, Flow, proto_name
from calico2cilium.verify.api import Outcome, _assumptions, _located, classify, verify
from calico2cilium.verify.hosts import compare_host
from calico2cilium.verify.symbolic import Counterexample, PartitionResult, check

Engine = Literal["calico", "cilium"]
DiffStatus = Literal["same", "changed", "incomplete", "invalid"]
EXIT_CODES: dict[DiffStatus, int] = {"same": 0, "changed": 1, "incomplete": 1, "invalid": 2}
CALICO_API_GROUPS = ("projectcalico.org/", "crd.projectcalico.org/")
CILIUM_API_GROUP = "cilium.io/"
Program = CalicoProgram | CiliumProgram


def engine_of(data: Any) -> Engine | None:
    """The engine that enforces a resource; ``None`` for both or neither (Kubernetes
    NetworkPolicy, or a kind neither models)."""
    api = str(data.get("apiVersion", "")) if isinstance(data, dict) else ""
    if api.startswith(CALICO_API_GROUPS):
        return "calico"
    if api.startswith(CILIUM_API_GROUP):
        return "cilium"
    return None


@dataclass(frozen=True)
class Change:
    """One region of flows whose verdict changes, with one concrete flow of it."""

    direction: Direction
    subject: str
    """The subjects the region is about (a namespace and partition, a node): the report's groups."""
    flow: Flow
    old: Verdict
    new: Verdict
    comparison: str
    """Which semantics decided each side: ``calico``, ``cilium``, ``calico -> cilium``, ..."""

    @property
    def now(self) -> Literal["denied", "allowed"]:
        return "allowed" if self.new.allowed else "denied"

    @property
    def region(self) -> str:
        """The region in words: direction, peer kind, protocol."""
        peer = self.flow.peer
        what = "pods" if peer.kind == "pod" else f"{peer.kind} peers"
        way = "from" if self.direction == "ingress" else "to"
        return f"{self.direction} {way} {what} over {proto_name(self.flow.protocol)}"

    def key(self) -> tuple[str, ...]:
        """Two examples with the same key are the same region."""
        return (
            self.comparison,
            self.direction,
            self.subject,
            self.flow.peer.kind,
            str(self.flow.protocol),
            self.old.ref.what,
            self.new.ref.what,
            self.now,
        )

    def to_dict(self) -> dict[str, Any]:
        example = Counterexample(self.flow, self.old, self.new, self.subject).to_dict()
        del example["calico"], example["cilium"]  # the verifier's names for the two sides
        return {
            "change": f"{'denied' if self.new.allowed else 'allowed'} -> {self.now}",
            "direction": self.direction,
            "subject": self.subject,
            "region": self.region,
            "comparison": self.comparison,
            "example": example,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
        }


@dataclass
class DiffResult:
    """What changes between ``old`` and ``new``. ``status``: ``same`` (proven: no flow changes),
    ``changed``, ``incomplete`` (no change found but some constructs are outside the proof),
    ``invalid`` (some input would be rejected)."""

    status: DiffStatus
    changes: list[Change] = field(default_factory=list)
    comparisons: list[str] = field(default_factory=list)
    unsupported: list[UnsupportedItem] = field(default_factory=list)
    invalid: list[InvalidItem] = field(default_factory=list)
    partitions: list[PartitionResult] = field(default_factory=list)
    assumptions: Assumptions = field(default_factory=Assumptions)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def groups(self) -> dict[str, list[Change]]:
        """The changes by subject, in order of first appearance."""
        out: dict[str, list[Change]] = {}
        for change in self.changes:
            out.setdefault(change.subject, []).append(change)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "changed": bool(self.changes),
            "comparisons": list(self.comparisons),
            "changes": [c.to_dict() for c in self.changes],
            "unsupported": [u.to_dict() for u in self.unsupported],
            "invalid": [i.to_dict() for i in self.invalid],
            "assumptions": self.assumptions.to_dict(),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Part:
    engine: Engine
    docs: list[Located]


def _split(docs: Sequence[Located]) -> dict[Engine | None, list[Located]]:
    out: dict[Engine | None, list[Located]] = {"calico": [], "cilium": [], None: []}
    for doc in docs:
        out[engine_of(doc.data)].append(doc)
    return out


def _engine(parts: dict[Engine | None, list[Located]]) -> Engine | Literal["mixed"] | None:
    present = [e for e in ("calico", "cilium") if parts[e]]
    if len(present) == 2:
        return "mixed"
    return cast(Engine, present[0]) if present else None


def _pairs(old: Sequence[Located], new: Sequence[Located]) -> list[tuple[_Part, _Part]]:
    """Which comparisons the two sides make (see the module docstring)."""
    old_parts, new_parts = _split(old), _split(new)
    old_engine, new_engine = _engine(old_parts), _engine(new_parts)
    if "mixed" in (old_engine, new_engine):
        return [
            (
                _Part(engine, [*old_parts[engine], *old_parts[None]]),
                _Part(engine, [*new_parts[engine], *new_parts[None]]),
            )
            for engine in cast(tuple[Engine, ...], ("calico", "cilium"))
            if old_parts[engine] or new_parts[engine]
        ]
    first: Engine = cast(Engine, old_engine or new_engine or "calico")
    second: Engine = cast(Engine, new_engine or old_engine or "calico")
    return [(_Part(first, list(old)), _Part(second, list(new)))]


def diff(
    old: Iterable[Any],
    new: Iterable[Any],
    assumptions: Assumptions | Cluster | None = None,
    *,
    max_examples: int = 4,
    max_changes: int | None = 50,
    default_namespace: str = "default",
) -> DiffResult:
    """The flows ``old`` and ``new`` decide differently, as regions with one example each.

    ``old`` and ``new``: documents (``RawDocument``, validated ``Document`` or plain mappings) of
    Calico, Cilium and Kubernetes NetworkPolicy resources, any mix. ``max_examples``: flows asked
    per subject partition (each with another peer kind or protocol); ``max_changes``: stop looking
    once that many regions are found (``None``: look everywhere).
    """
    start = time.perf_counter()
    assumptions = _assumptions(assumptions)
    old_docs, invalid = _located(old, "calico")
    new_docs, new_invalid = _located(new, "calico")
    result = DiffResult("same", assumptions=assumptions, invalid=invalid + new_invalid)
    seen: set[tuple[str, ...]] = set()
    for old_part, new_part in _pairs(old_docs, new_docs):
        name = (
            old_part.engine
            if old_part.engine == new_part.engine
            else f"{old_part.engine} -> {new_part.engine}"
        )
        result.comparisons.append(name)
        run = _Run(name, assumptions, result, max_examples, max_changes, default_namespace)
        for change in _compare(old_part, new_part, run):
            if change.key() not in seen:
                seen.add(change.key())
                result.changes.append(change)
    result.status = _status(result)
    result.seconds = time.perf_counter() - start
    return result


def _status(result: DiffResult) -> DiffStatus:
    outcome = classify(result.invalid, result.changes, result.unsupported, result.partitions)
    return STATUS_OF[outcome]


STATUS_OF: dict[Outcome, DiffStatus] = {
    "invalid": "invalid",
    "found": "changed",
    "incomplete": "incomplete",
    "clean": "same",
}


@dataclass
class _Run:
    """One comparison's settings, and the result it adds to."""

    name: str
    assumptions: Assumptions
    result: DiffResult
    max_examples: int
    stop_after: int | None
    default_namespace: str


def _compare(old: _Part, new: _Part, run: _Run) -> list[Change]:
    if old.engine != new.engine:
        return _across(old, new, run)
    assumptions, result, max_examples = run.assumptions, run.result, run.max_examples
    sides = [_read(old.engine, part.docs, assumptions, run.default_namespace) for part in (old, new)]
    # Without known nodes Cilium's host policies are not compared; when both sides hold the same
    # ones (and the same CIDR groups) they decide every node alike, and nothing changes there.
    same_hosts = old.engine == "cilium" and _host_inputs(old.docs) == _host_inputs(new.docs)
    for side in sides:
        result.invalid.extend(side.invalid)
        result.unsupported.extend(
            u
            for u in side.unsupported
            if u not in result.unsupported and not (same_hosts and u.reason == HOST_NOT_VERIFIED)
        )
    changes: list[Change] = []
    for direction in DIRECTIONS:
        # check() is typed Calico against Cilium, but it only uses what both programs offer
        # (verdict, decide, policies, restrict): it compares any two programs.
        parts = check(
            cast(CalicoProgram, sides[0].programs[direction]),
            cast(CiliumProgram, sides[1].programs[direction]),
            assumptions,
            max_examples,
            stop_after=run.stop_after,
        )
        parts += [
            compare_host(
                subject,
                cast(tuple[CalicoProgram, CiliumProgram], programs),
                direction,
                assumptions,
                max_examples,
            )
            for subject, programs in _host_pairs(old.engine, sides, direction, assumptions)
        ]
        changes.extend(_changes(parts, run.name, result))
    return changes


def _host_inputs(docs: Sequence[Located]) -> list[str]:
    """What a Cilium side's host decisions depend on: its host policies and CIDR groups."""

    def host(data: Any) -> bool:
        if not isinstance(data, dict):
            return False
        if data.get("kind") == "CiliumCIDRGroup":
            return True
        spec = data.get("spec")
        specs = [spec, *(data.get("specs") or [])] if isinstance(data.get("specs"), list) else [spec]
        return any(isinstance(s, dict) and "nodeSelector" in s for s in specs)

    return sorted(json.dumps(d.data, sort_keys=True, default=str) for d in docs if host(d.data))


def _changes(parts: list[PartitionResult], name: str, result: DiffResult) -> list[Change]:
    changes: list[Change] = []
    for part in parts:
        result.partitions.append(part)
        result.unsupported.extend(u for u in part.unsupported if u not in result.unsupported)
        for example in part.counterexamples:
            changes.append(
                Change(
                    part.direction,
                    _subject(example.flow, part.partition),
                    example.flow,
                    example.calico,
                    example.cilium,
                    name,
                )
            )
    return changes


def _subject(flow: Flow, partition: str) -> str:
    """The group a change is shown under: the subject's namespace and the partition's values."""
    subject = flow.subject
    if subject.kind != "pod":
        return partition
    where = f"pods in namespace {subject.namespace}"
    extra = [p for p in partition.split(", ") if p != "all subjects" and not p.startswith("namespace=")]
    return f"{where} ({', '.join(extra)})" if extra else where


@dataclass
class _Side:
    programs: dict[Direction, Program]
    hosts: dict[str, tuple[HostSubject, dict[Direction, Program]]]
    invalid: list[InvalidItem]
    unsupported: list[UnsupportedItem]


def _read(engine: Engine, docs: list[Located], assumptions: Assumptions, default_namespace: str) -> _Side:
    hosts: dict[str, tuple[HostSubject, dict[Direction, Program]]] = {}
    if engine == "calico":
        calico = read_calico_side(docs, assumptions, default_namespace)
        for s in calico.host_subjects:
            hosts[s.key] = (s, {d: p for d, p in calico.hosts[s.key].items()})
        return _Side({d: p for d, p in calico.programs.items()}, hosts, calico.invalid, calico.unsupported)
    nodes = {name: dict(labels) for name, labels in assumptions.node_labels or ()} or None
    cilium = read_cilium_side(docs, assumptions, default_namespace, nodes)
    for name, labels in (nodes or {}).items():
        if name in cilium.hosts:
            hosts[name] = (HostSubject(name, labels), {d: p for d, p in cilium.hosts[name].items()})
    return _Side({d: p for d, p in cilium.programs.items()}, hosts, cilium.invalid, cilium.unsupported)


def _host_pairs(
    engine: Engine, sides: list[_Side], direction: Direction, assumptions: Assumptions
) -> list[tuple[HostSubject, tuple[Program, Program]]]:
    """Each host subject of either side with both sides' programs. A host one side does not
    police: Calico without a HostEndpoint allows everything (no policy applies); Cilium without a
    selecting host policy too."""
    old, new = sides
    keys = list(dict.fromkeys([*old.hosts, *new.hosts]))
    out: list[tuple[HostSubject, tuple[Program, Program]]] = []
    for key in keys:
        subject = (new.hosts.get(key) or old.hosts[key])[0]
        programs = tuple(
            side.hosts[key][1][direction] if key in side.hosts else _unpoliced(engine, direction)
            for side in (old, new)
        )
        out.append((subject, cast(tuple[Program, Program], programs)))
    return out


def _unpoliced(engine: Engine, direction: Direction) -> Program:
    return CalicoProgram(direction, []) if engine == "calico" else CiliumProgram(direction, [])


def _across(old: _Part, new: _Part, run: _Run) -> list[Change]:
    """A Calico side against a Cilium side: the verifier's comparison, read as old and new."""
    calico, cilium = (old, new) if old.engine == "calico" else (new, old)
    verified = verify(
        calico.docs,
        cilium.docs,
        run.assumptions,
        max_examples=run.max_examples,
        max_counterexamples=run.stop_after,
        default_namespace=run.default_namespace,
    )
    result = run.result
    result.invalid.extend(verified.invalid)
    result.unsupported.extend(u for u in verified.unsupported if u not in result.unsupported)
    result.partitions.extend(verified.partitions)
    changes = changes_of(verified.counterexamples, run.name)
    if old.engine == "calico":
        return changes
    return [replace(c, old=c.new, new=c.old) for c in changes]


def changes_of(counterexamples: Iterable[Any], comparison: str = "calico -> cilium") -> list[Change]:
    """The verifier's counterexamples (or the concrete engine's differences) as changes from the
    Calico side (old) to the Cilium side (new), one per region."""
    out: dict[tuple[str, ...], Change] = {}
    for c in counterexamples:
        partition = getattr(c, "partition", "inventory")
        change = Change(c.flow.direction, _subject(c.flow, partition), c.flow, c.calico, c.cilium, comparison)
        out.setdefault(change.key(), change)
    return list(out.values())
