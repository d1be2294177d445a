"""``verify()``: is a Cilium policy set equivalent to a Calico one, for every flow?

Typical use (what ``calico2cilium verify`` does)::

    from calico2cilium.load import load
    from calico2cilium.verify.api import read_cilium_files, verify
    from calico2cilium.semantics.world import Assumptions

    calico = load(["calico/"], recursive=True)
    cilium, problems = read_cilium_files(["cilium/"])
    result = verify(calico, cilium, Assumptions(pod_cidrs=("10.0.0.0/16",)), diagnostics=problems)
    print(result.render_text()); sys.exit(result.exit_code)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from calico2cilium.diagnostics import Diagnostic, Severity
from calico2cilium.facts.cluster import Cluster
from calico2cilium.semantics.calico import read_calico_side
from calico2cilium.semantics.cilium import read_cilium_side
from calico2cilium.semantics.hosts import read_host_endpoints
from calico2cilium.semantics.program import (
    CalicoProgram,
    CiliumProgram,
    InvalidItem,
    Located,
    PlainDocument,
    Side,
    UnsupportedItem,
)
from calico2cilium.semantics.world import DIRECTIONS, Assumptions, Direction
from calico2cilium.verify.hosts import check_hosts
from calico2cilium.verify.symbolic import CPU_BUDGET_S, Attributor, Counterexample, PartitionResult, check

Status = Literal["equivalent", "narrowed", "different", "incomplete", "invalid"]
EXIT_CODES: dict[Status, int] = {
    "equivalent": 0,
    "narrowed": 1,
    "different": 1,
    "incomplete": 1,
    "invalid": 2,
}


@dataclass
class VerifyResult:
    """The verdict on a pair of policy sets.

    ``status``: ``equivalent`` (proven for every flow), ``narrowed`` (asked with ``narrowing``:
    proven that Cilium allows no flow Calico denies; ``narrowed`` lists flows it denies more),
    ``different`` (counterexamples found; with ``narrowing``, flows Cilium allows more),
    ``incomplete`` (no difference found, but some constructs are outside the proof: see
    ``unsupported``), ``invalid`` (some input would be rejected by its cluster: see ``invalid``).
    Asked with an ``attribute`` too, a narrowed flow no narrowing finding explains (``unexplained``)
    makes it ``different``.
    """

    status: Status
    counterexamples: list[Counterexample] = field(default_factory=list)
    narrowed: list[Counterexample] = field(default_factory=list)
    explained: list[tuple[Counterexample, str]] = field(default_factory=list)
    """With an ``attribute``: the narrowed flows found, each with the finding that explains it."""
    unexplained: list[Counterexample] = field(default_factory=list)
    """With an ``attribute``: narrowed flows that no narrowing finding explains (C2C414)."""
    unattributed: list[PartitionResult] = field(default_factory=list)
    """With an ``attribute``: partitions whose narrowing was not all attributed (C2C415)."""
    unsupported: list[UnsupportedItem] = field(default_factory=list)
    invalid: list[InvalidItem] = field(default_factory=list)
    partitions: list[PartitionResult] = field(default_factory=list)
    assumptions: Assumptions = field(default_factory=Assumptions)
    seconds: float = 0.0
    host_subjects: list[str] = field(default_factory=list)
    """The host subjects checked (``node <name> (HostEndpoint <name>)``), in order."""
    programs: tuple[Any, Any] | None = field(default=None, repr=False, compare=False)
    """Both sides' programs as read for the proof (``replay_flows`` reuses them)."""

    @property
    def equivalent(self) -> bool:
        return self.status == "equivalent"

    @property
    def exit_code(self) -> int:
        """0 equivalent, 1 different or unproven, 2 invalid input (the CLI convention)."""
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "equivalent": self.equivalent,
            "counterexamples": [c.to_dict() for c in self.counterexamples],
            "narrowed": [c.to_dict() for c in self.narrowed],
            "explained": [{**c.to_dict(), "explained_by": why} for c, why in self.explained],
            "unexplained": [c.to_dict() for c in self.unexplained],
            "unattributed": [{"direction": p.direction, "namespace": p.partition} for p in self.unattributed],
            "unsupported": [u.to_dict() for u in self.unsupported],
            "invalid": [i.to_dict() for i in self.invalid],
            "partitions": [
                {
                    "direction": p.direction,
                    "namespace": p.partition,
                    "status": p.status,
                    "seconds": round(p.seconds, 4),
                    "cpu_seconds": round(p.cpu_seconds, 4),
                    "policies": p.policies,
                    **({"note": p.note} if p.note else {}),
                }
                for p in self.partitions
            ],
            "assumptions": self.assumptions.to_dict(),
            "host_subjects": list(self.host_subjects),
            "seconds": round(self.seconds, 3),
        }

    def render_text(self) -> str:
        from calico2cilium.verify.report import render_text

        return render_text(self)


Input = Any
"""A ``LoadResult``, or an iterable of ``Document`` / ``RawDocument`` / plain mappings."""


def _located(items: Input, side: Side) -> tuple[list[Located], list[InvalidItem]]:
    """Normalise the accepted input forms to documents with positions."""
    invalid: list[InvalidItem] = []
    documents = getattr(items, "documents", None)
    if documents is not None:  # a LoadResult
        for d in getattr(items, "diagnostics", []):
            if d.severity is Severity.ERROR:
                invalid.append(InvalidItem(side, d.message, d.code, at=d.source))
        items = documents
    out: list[Located] = []
    for item in items:
        raw = getattr(item, "raw", None)  # a validated Document
        if raw is not None:
            out.append(raw)
        elif hasattr(item, "data") and hasattr(item, "source"):
            out.append(item)
        else:
            out.append(PlainDocument(item))
    return out, invalid


def read_cilium_files(paths: Sequence[str], recursive: bool = True) -> tuple[list[Located], list[Diagnostic]]:
    """Read Cilium (and Kubernetes NetworkPolicy, CiliumCIDRGroup) YAML/JSON files with positions.
    Cilium kinds are not Calico models, so this uses the stream reader, not ``load``."""
    from calico2cilium.io.files import read_files

    documents, diagnostics = read_files(paths, recursive=recursive)
    return list(documents), diagnostics


def _assumptions(given: Assumptions | Cluster | None) -> Assumptions:
    """The proof's assumptions: those given, or a ``Cluster`` read with the proof's default knobs."""
    if isinstance(given, Cluster):
        return Assumptions.of(given)
    return given or Assumptions()


def _with_host_addresses(assumptions: Assumptions, docs: Sequence[Located]) -> Assumptions:
    """The node ranges with every HostEndpoint ``expectedIP`` outside the pod and node ranges added:
    such an address is its node's, and Cilium gives it the node's identity (``host`` /
    ``remote-node``), which CIDR rules never match (review7: the proof took it for a world
    address and called a widening output equivalent). Any node may hold it in the proof: an
    over-approximation, so a difference at it is reported, never hidden. Unknown node ranges (no
    ``node_cidrs``) already let a node hold any address."""
    if not assumptions.node_cidrs:
        return assumptions
    known = (*assumptions.pod_nets, *assumptions.node_nets)
    heps, _ = read_host_endpoints(docs)
    extra: list[str] = []
    for hep in heps:
        for ip in hep.expected_ips:
            cidr = f"{ip}/{ip.max_prefixlen}"
            if not any(ip in net for net in known) and cidr not in extra:
                extra.append(cidr)
    if not extra:
        return assumptions
    return replace(assumptions, node_cidrs=(*assumptions.node_cidrs, *extra))


def verify(
    calico: Input,
    cilium: Iterable[Any],
    assumptions: Assumptions | Cluster | None = None,
    *,
    diagnostics: Iterable[Diagnostic] = (),
    max_examples: int = 1,
    max_counterexamples: int | None = 20,
    default_namespace: str = "default",
    cpu_budget_s: float = CPU_BUDGET_S,
    narrowing: bool = False,
    attribute: Attributor | None = None,
) -> VerifyResult:
    """Compare a Calico policy set (with its NetworkSets, Tiers, HostEndpoints and Kubernetes
    NetworkPolicies) with a Cilium one (CNP, CCNP, CiliumCIDRGroup, Kubernetes NetworkPolicies).

    ``diagnostics``: problems met while reading the Cilium files (made invalid items).
    ``max_examples``: counterexamples per partition of the subjects; ``max_counterexamples``: stop
    looking (per direction) once that many are found (``None``: check every partition).
    ``cpu_budget_s``: CPU seconds the solver may spend on one partition (then: not proven).
    ``assumptions``: the verifier's ``Assumptions``, or the ``Cluster`` that ``convert()`` took
    (read with the proof's default knobs).
    ``narrowing``: for a conversion whose diagnostics say it fails closed, prove only that Cilium
    allows no flow Calico denies (status ``narrowed``, with the flows it denies more in
    ``narrowed``; a widening is ``different``).
    ``attribute`` (with ``narrowing``; ``attribution.Attribution``): each narrowed flow must be
    explained by a narrowing finding of the conversion; one that is not is ``unexplained`` (status
    ``different``).
    """
    start = time.perf_counter()
    assumptions = _assumptions(assumptions)
    calico_docs, invalid = _located(calico, "calico")
    cilium_docs, cilium_invalid = _located(cilium, "cilium")
    invalid.extend(cilium_invalid)
    invalid.extend(
        InvalidItem("cilium", d.message, d.code, at=d.source)
        for d in diagnostics
        if d.severity is Severity.ERROR
    )
    assumptions = _with_host_addresses(assumptions, calico_docs)
    calico_side = read_calico_side(calico_docs, assumptions, default_namespace)
    cilium_side = read_cilium_side(cilium_docs, assumptions, default_namespace, calico_side.node_labels())
    invalid.extend(calico_side.invalid + cilium_side.invalid)
    result = VerifyResult("equivalent", assumptions=assumptions, invalid=invalid)
    result.unsupported = calico_side.unsupported + cilium_side.unsupported
    result.host_subjects = [s.label for s in calico_side.host_subjects]
    result.programs = (calico_side.programs, cilium_side.programs)
    if attribute is not None:
        hosts = [program for programs in calico_side.hosts.values() for program in programs.values()]
        attribute.read([*calico_side.programs.values(), *hosts], default_namespace)
    for direction in DIRECTIONS:
        parts = check(
            calico_side.programs[direction],
            cilium_side.programs[direction],
            assumptions,
            max_examples,
            cpu_budget_s,
            stop_after=max_counterexamples,
            narrowing=narrowing,
            attribute=attribute,
        )
        found = sum(len(p.counterexamples) for p in parts)
        parts += check_hosts(
            calico_side,
            cilium_side,
            direction,
            assumptions,
            max_examples,
            cpu_budget_s,
            stop_after=max_counterexamples,
            found=found,
            narrowing=narrowing,
            attribute=attribute,
        )
        result.partitions.extend(parts)
        for part in parts:
            result.counterexamples.extend(part.counterexamples)
            result.narrowed.extend(part.narrowed)
            result.explained.extend(part.explained)
            result.unexplained.extend(part.unexplained)
            if part.unattributed:
                result.unattributed.append(part)
            for item in part.unsupported:
                if item not in result.unsupported:
                    result.unsupported.append(item)
    result.status = _status(result)
    result.seconds = time.perf_counter() - start
    return result


Outcome = Literal["invalid", "found", "incomplete", "clean"]


def classify(
    invalid: Sequence[Any],
    found: Sequence[Any],
    unsupported: Sequence[Any],
    partitions: Sequence[PartitionResult],
) -> Outcome:
    """A comparison's outcome (``verify``, ``diff``): invalid input first, then differences found,
    then anything outside the proof (constructs, or partitions the solver gave up on)."""
    if invalid:
        return "invalid"
    if found:
        return "found"
    if unsupported or any(p.status in ("unknown", "unsupported") for p in partitions):
        return "incomplete"
    return "clean"


def _status(result: VerifyResult) -> Status:
    found = [*result.counterexamples, *result.unexplained]
    outcome = classify(result.invalid, found, result.unsupported, result.partitions)
    if outcome == "clean" and result.narrowed:
        return "narrowed"  # asked with narrowing: Cilium allows nothing more, and denies some more
    return STATUS_OF[outcome]


STATUS_OF: dict[Outcome, Status] = {
    "invalid": "invalid",
    "found": "different",
    "incomplete": "incomplete",
    "clean": "equivalent",
}


def verify_inventory(
    calico: Input,
    cilium: Iterable[Any],
    inventory: Any,
    assumptions: Assumptions | Cluster | None = None,
    *,
    default_namespace: str = "default",
) -> Any:
    """The concrete engine: verdict tables of both sides over ``inventory`` (see ``concrete``)."""
    from calico2cilium.verify.concrete import tables

    assumptions = _assumptions(assumptions)
    calico_p, cilium_p, hosts = inventory_programs(
        calico, cilium, inventory, assumptions, default_namespace=default_namespace
    )
    return tables(calico_p, cilium_p, inventory, assumptions, hosts)


def inventory_programs(
    calico: Input,
    cilium: Iterable[Any],
    inventory: Any,
    assumptions: Assumptions,
    *,
    default_namespace: str = "default",
) -> tuple[dict[Direction, CalicoProgram], dict[Direction, CiliumProgram], list[Any]]:
    """What the concrete engine compares: both sides' pod programs per direction, and each host
    subject of the proof with its programs (``concrete.HostCase``)."""
    from calico2cilium.verify.hosts import host_programs

    calico_docs = _located(calico, "calico")[0]
    calico_side = read_calico_side(calico_docs, assumptions, default_namespace)
    named = {s.node for s in calico_side.host_subjects}
    # Nodes of the inventory without a HostEndpoint, when it records node labels: Calico polices
    # nothing there, while Cilium host policies may select them.
    known: dict[str, dict[str, str]] = getattr(inventory, "node_labels", None) or {}
    extra = {n: labels for n, labels in known.items() if n not in named}
    if extra:
        calico_side = read_calico_side(calico_docs, assumptions, default_namespace, extra)
    nodes = calico_side.node_labels()
    cilium_side = read_cilium_side(_located(cilium, "cilium")[0], assumptions, default_namespace, nodes)
    hosts = [
        (s, {d: host_programs(calico_side, cilium_side, s, d, assumptions) for d in DIRECTIONS})
        for s in calico_side.host_subjects
        if not s.unsupported and s.node_labels is not None  # outside the proof: not evaluated
    ]
    return calico_side.programs, cilium_side.programs, hosts


def verify_texts(
    calico_yaml: str, cilium_yaml: str, assumptions: Assumptions | None = None, **options: Any
) -> VerifyResult:
    """``verify`` on two YAML/JSON texts (named ``calico.yaml`` and ``cilium.yaml`` in positions)."""
    from calico2cilium.io.yamlstream import read_documents

    calico_docs, calico_problems = read_documents(calico_yaml, "calico.yaml")
    cilium_docs, cilium_problems = read_documents(cilium_yaml, "cilium.yaml")
    result = verify(calico_docs, cilium_docs, assumptions, diagnostics=cilium_problems, **options)
    if calico_problems:
        result.invalid.extend(
            InvalidItem("calico", d.message, d.code, at=d.source)
            for d in calico_problems
            if d.severity is Severity.ERROR
        )
        result.status = _status(result)
    return result


def decide_flow(
    calico: Input, cilium: Iterable[Any], flow: Any, assumptions: Assumptions | None = None
) -> tuple[Any, Any]:
    """Each side's verdict on one concrete ``Flow`` and the rule responsible (for ``explain``)."""
    from calico2cilium.verify.hosts import host_programs

    assumptions = _assumptions(assumptions)
    calico_side = read_calico_side(_located(calico, "calico")[0], assumptions)
    cilium_side = read_cilium_side(
        _located(cilium, "cilium")[0], assumptions, nodes=calico_side.node_labels()
    )
    subject = flow.subject
    if subject.kind == "host":
        for host in calico_side.host_subjects:
            if host.node == subject.name and (host.hep.name if host.hep else "") == subject.host_endpoint:
                calico_p, cilium_p = host_programs(
                    calico_side, cilium_side, host, flow.direction, assumptions
                )
                return calico_p.decide(flow), cilium_p.decide(flow)
        raise ValueError(f"no host subject for node {subject.name!r}")
    return calico_side.programs[flow.direction].decide(flow), cilium_side.programs[flow.direction].decide(
        flow
    )


def replay_flows(
    calico: Input,
    cilium: Iterable[Any],
    flows: Iterable[Any],
    assumptions: Assumptions | Cluster | None = None,
    *,
    default_namespace: str = "default",
    programs: tuple[Any, Any] | None = None,
) -> Any:
    """Observed flows (``verify.flows.read_flows``) through both sides: which would change verdict,
    and which the export says were decided otherwise than its own dataplane's policies do.
    ``programs``: both sides' programs already read from the same inputs (``VerifyResult.programs``
    of a ``verify`` with the same assumptions and default namespace)."""
    from calico2cilium.verify.flows import replay

    if programs is not None:
        return replay(flows, *programs)
    assumptions = _assumptions(assumptions)
    calico_side = read_calico_side(_located(calico, "calico")[0], assumptions, default_namespace)
    cilium_side = read_cilium_side(
        _located(cilium, "cilium")[0], assumptions, default_namespace, calico_side.node_labels()
    )
    return replay(flows, calico_side.programs, cilium_side.programs)
