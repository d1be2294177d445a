"""The concrete engine: both sides' verdicts on every flow of an inventory, and where they differ.

For every pod of the inventory (the subject), both directions, every peer (other pods, the pod's
own node, other nodes, external probe addresses) and a set of probes (protocol, port or ICMP
type) chosen from the boundaries the policies mention, each side's program decides. The flows of
one subject are decided together, as bitsets (``verify.bitsets``: one integer per formula, one bit
per flow), which is what makes thousands of pods affordable; the flows where the sides differ are
then decided one by one (``decide``) to say which rule decided on each side. The verdicts are also
available as nested dicts (``ConcreteResult.calico``/``cilium``) and their deepdiff (``diff``).

It is exhaustive only over the inventory and the probes; the symbolic engine is the proof. Use it on
a real cluster export, and as a cross-check of the symbolic engine in tests.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, TypeVar

from calico2cilium.io.inventory import Inventory
from calico2cilium.semantics.expr import Expr, IcmpTypeIs, PortIn, ProtoIs, walk
from calico2cilium.semantics.hosts import HostSubject
from calico2cilium.semantics.program import CalicoPolicy, CalicoProgram, CiliumPolicy, CiliumProgram, Verdict
from calico2cilium.semantics.world import (
    DIRECTIONS,
    ICMP,
    ICMPV6,
    IP,
    PORT_PROTOCOLS,
    SCTP,
    TCP,
    UDP,
    Assumptions,
    Direction,
    Endpoint,
    Flow,
)
from calico2cilium.verify.bitsets import SUBJECT_BIT, Probe, Space, Subjects, Universe, bits, formula_depends
from calico2cilium.verify.decisions import allowed_bits, calico_decisions, cilium_decisions
from calico2cilium.verify.inventory import cluster_named_ports, pod_endpoint

_NAMES = {TCP: "TCP", UDP: "UDP", SCTP: "SCTP", ICMP: "ICMP", ICMPV6: "ICMPv6"}


def probe_name(probe: Probe) -> str:
    proto, port, icmp = probe
    name = _NAMES.get(proto, f"proto{proto}")
    if proto in PORT_PROTOCOLS:
        return f"{name}/{port}"
    if proto in (ICMP, ICMPV6):
        return f"{name}/type{icmp}"
    return name


def probes(formulas: Iterable[Expr], inventory: Inventory) -> list[Probe]:
    """Probes at every boundary the formulas mention (each port range's ends and neighbours), each
    declared named port, each ICMP type mentioned, and one protocol without ports (GRE)."""
    ports = {1, 80, 65535}
    protocols = {TCP, UDP, SCTP, ICMP, ICMPV6, 47}
    types = {0, 8, 128, 255}
    for formula in formulas:
        for node in walk(formula):
            if isinstance(node, PortIn):
                ports.update(p for p in (node.lo - 1, node.lo, node.hi, node.hi + 1) if 1 <= p <= 65535)
            elif isinstance(node, ProtoIs):
                protocols.add(node.number)
            elif isinstance(node, IcmpTypeIs):
                types.update(t for t in (node.value - 1, node.value, node.value + 1) if 0 <= t <= 255)
    for pod in inventory.pods:
        ports.update(port for _, port in pod.named_ports.values())
    out: list[Probe] = []
    for proto in sorted(protocols):
        if proto in PORT_PROTOCOLS:
            out.extend((proto, port, 0) for port in sorted(ports))
        elif proto in (ICMP, ICMPV6):
            out.extend((proto, 0, t) for t in sorted(types))
        else:
            out.append((proto, 0, 0))
    return out


@dataclass
class Difference:
    flow: Flow
    calico: Verdict
    cilium: Verdict

    def describe(self) -> str:
        def v(x: Verdict) -> str:
            return f"{'allow' if x.allowed else 'deny'} ({x.ref})"

        return f"{self.flow.direction}: {self.flow.describe()}\n    calico {v(self.calico)}\n    cilium {v(self.cilium)}"


@dataclass
class _Row:
    """One subject in one direction: which of its flows (bits of ``universe``) each side allows."""

    direction: Direction
    name: str
    subject: Endpoint
    universe: Universe
    valid: int
    calico: int
    cilium: int
    programs: tuple[CalicoProgram, CiliumProgram]


class ConcreteResult:
    """The verdicts of both sides on every flow, and the flows where they differ (with the rule that
    decided on each side). ``calico``/``cilium`` (nested dicts direction -> subject -> peer -> probe
    -> ``allow``/``deny``) and ``diff`` (their deepdiff) are built only when asked for."""

    def __init__(self, rows: list[_Row], differences: list[Difference]) -> None:
        self._rows = rows
        self.differences = differences
        self.flows = sum(row.valid.bit_count() for row in rows)

    @property
    def equivalent(self) -> bool:
        return not self.differences

    @cached_property
    def calico(self) -> dict[str, Any]:
        return _table(self._rows, 0)

    @cached_property
    def cilium(self) -> dict[str, Any]:
        return _table(self._rows, 1)

    @cached_property
    def diff(self) -> dict[str, Any]:
        """``DeepDiff(calico, cilium).to_dict()``, computed on the differing cells only (the tables
        have the same keys, so the other cells add nothing to it)."""
        if not self.differences:
            return {}
        from deepdiff import DeepDiff

        left: dict[str, Any] = {}
        right: dict[str, Any] = {}
        for row in self._rows:
            for bit in bits((row.calico ^ row.cilium) & row.valid):
                peer, probe = divmod(bit, row.universe.width)
                keys = (row.direction, row.name, row.universe.names[peer])
                cell = row.universe.probe_names[probe]
                _at(left, keys)[cell] = _cell(row.calico >> bit & 1)
                _at(right, keys)[cell] = _cell(row.cilium >> bit & 1)
        result: dict[str, Any] = DeepDiff(left, right).to_dict()
        return result

    def render_text(self) -> str:
        if self.equivalent:
            return f"No difference on {self.flows} flows of the inventory."
        lines = [f"{len(self.differences)} of {self.flows} flows differ:"]
        lines.extend(f"  - {d.describe()}" for d in self.differences)
        return "\n".join(lines)


def _cell(allowed: int) -> str:
    return "allow" if allowed else "deny"


def _at(table: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    for key in keys:
        table = table.setdefault(key, {})
    return table


def _table(rows: list[_Row], side: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in rows:
        u, mask = row.universe, (row.calico, row.cilium)[side]
        for peer in range(len(u.peers)):
            shift = peer * u.width
            if not (row.valid >> shift) & u.probe_full:
                continue
            cells = (mask >> shift) & u.probe_full
            table = _at(out, (row.direction, row.name, u.names[peer]))
            for probe, name in enumerate(u.probe_names):
                table[name] = _cell(cells >> probe & 1)
    return out


HostCase = tuple[HostSubject, dict[Direction, tuple[CalicoProgram, CiliumProgram]]]
"""A host subject and both sides' programs at it, per direction."""


def tables(
    calico: dict[Direction, CalicoProgram],
    cilium: dict[Direction, CiliumProgram],
    inventory: Inventory,
    assumptions: Assumptions,
    hosts: Sequence[HostCase] = (),
) -> ConcreteResult:
    """Verdicts of both sides over the inventory (pods, then host subjects), and their differences.

    Every pod of the inventory (each of its addresses in the assumed families) is a subject, its
    peers every other pod, its own node (``host``), the other nodes and the outside addresses; a
    host subject's peers are the pods, the other nodes and the outside. Each flow is decided as
    ``CalicoProgram.decide``/``CiliumProgram.decide`` would, on bitsets (``verify.bitsets``); the
    differing flows are then decided one by one to name the responsible rules."""
    formulas = [p.verdict() for p in calico.values()] + [p.verdict() for p in cilium.values()]
    formulas += [p.verdict() for _, programs in hosts for pair in programs.values() for p in pair]
    world = _World(inventory, assumptions, probes(formulas, inventory))
    rows: list[_Row] = []
    for direction in DIRECTIONS:
        rows.extend(world.pod_rows(direction, calico[direction], cilium[direction]))
        rows.extend(world.host_rows(direction, hosts))
    differences = []
    for row in rows:
        calico_p, cilium_p = row.programs
        for bit in bits((row.calico ^ row.cilium) & row.valid):
            flow = row.universe.flow(row.subject, *divmod(bit, row.universe.width))
            a, b = calico_p.decide(flow), cilium_p.decide(flow)
            # The per-flow reading must agree with the bitsets: a disagreement is a bug here.
            assert (a.allowed, b.allowed) == (bool(row.calico >> bit & 1), bool(row.cilium >> bit & 1))
            differences.append(Difference(flow, a, b))
    differences.sort(key=lambda d: (d.flow.direction, d.flow.describe()))
    return ConcreteResult(rows, differences)


_UNSPECIFIED = {4: ipaddress.ip_address("0.0.0.0"), 6: ipaddress.ip_address("::")}


class _World:
    """The inventory's subjects and peers, built once per family and direction."""

    def __init__(self, inventory: Inventory, assumptions: Assumptions, probe_list: list[Probe]) -> None:
        self.inventory = inventory
        self.assumptions = assumptions
        self.probe_list = probe_list
        self.namespaces = {name: inventory.namespace_labels(name) for name in inventory.namespaces}
        self.resolved = cluster_named_ports(inventory)
        self.apiserver = assumptions.apiserver_nets or ()
        self.subjects = [
            (f"{pod.namespace}/{pod.name} {ip}", pod, ip, pod_endpoint(inventory, pod, ip))
            for pod in sorted(inventory.pods, key=lambda p: (p.namespace, p.name))
            for ip in pod.ips
            if ip.version in assumptions.families
        ]

    def _probes(self, version: int) -> list[Probe]:
        return [
            p
            for p in self.probe_list
            if not ((p[0] == ICMP and version == 6) or (p[0] == ICMPV6 and version == 4))
        ]

    def _universe(
        self, direction: Direction, version: int, peers: list[tuple[str, Endpoint]], pods: bool
    ) -> Universe:
        probe_list = self._probes(version)
        return Universe(
            direction,
            [name for name, _ in peers],
            [peer for _, peer in peers],
            probe_list,
            [probe_name(p) for p in probe_list],
            self.namespaces,
            self.resolved if pods else None,
            Endpoint("world", _UNSPECIFIED[version]),
        )

    def _on_api(self, ip: IP) -> bool:
        return any(ip in n for n in self.apiserver)

    def _outside(self, version: int) -> list[tuple[str, Endpoint]]:
        return [
            (f"world {ext}", Endpoint("world", ext, apiserver=self._on_api(ext)))
            for ext in self.inventory.external
            if ext.version == version
        ]

    def pod_rows(self, direction: Direction, calico: CalicoProgram, cilium: CiliumProgram) -> Iterator[_Row]:
        """The pod subjects (``peers_of`` in tests/concrete_reference.py lists the same peers, one
        subject at a time)."""
        placeholder = Endpoint("world", _UNSPECIFIED[4])
        domain = Subjects(
            [
                Flow(
                    direction,
                    e,
                    placeholder,
                    TCP,
                    80,
                    40000,
                    0,
                    0,
                    self.namespaces,
                    cluster_named_ports=self.resolved,
                )
                for _, _, _, e in self.subjects
            ]
        )
        calico_candidates = candidates(
            [(t, p) for t, tier in enumerate(calico.tiers) for p in tier.policies], domain
        )
        cilium_candidates = candidates([(0, p) for p in cilium.policies], domain)
        layouts: dict[int, tuple[Universe, dict[IP, int], dict[str, tuple[int, int]], int]] = {}
        for s, (name, pod, ip, subject) in enumerate(self.subjects):
            if ip.version not in layouts:
                layouts[ip.version] = self._pod_layout(direction, ip.version)
            universe, by_ip, by_node, base = layouts[ip.version]
            host, remote = by_node.get(pod.node, (0, 0))
            valid = (base | host) & ~remote & ~by_ip.get(ip, 0)
            if not valid:
                continue
            space = Space(universe, subject, valid)
            yield _Row(
                direction,
                name,
                subject,
                universe,
                valid,
                _calico_allowed(calico, calico_candidates[s], space),
                _cilium_allowed(cilium, [p for _, p in cilium_candidates[s]], space),
                (calico, cilium),
            )

    def _pod_layout(
        self, direction: Direction, version: int
    ) -> tuple[Universe, dict[IP, int], dict[str, tuple[int, int]], int]:
        """The universe of pod subjects of one family, the bits of the pods at each address, of each
        node's ``host`` and ``remote-node`` entries, and the bits valid for a subject on no node."""
        peers: list[tuple[str, Endpoint]] = []
        at_ip: dict[IP, list[int]] = {}
        at_node: dict[str, tuple[list[int], list[int]]] = {}
        for other in self.inventory.pods:
            for other_ip in other.ips:
                if other_ip.version == version:
                    at_ip.setdefault(other_ip, []).append(len(peers))
                    endpoint = pod_endpoint(self.inventory, other, other_ip)
                    peers.append((f"pod {other.namespace}/{other.name} {other_ip}", endpoint))
        for node, ips in sorted(self.inventory.nodes.items()):
            host, remote = at_node.setdefault(node, ([], []))
            for node_ip in ips:
                if node_ip.version == version:
                    on_api = self._on_api(node_ip)
                    host.append(len(peers))
                    peers.append((f"host {node} {node_ip}", Endpoint("host", node_ip, apiserver=on_api)))
                    remote.append(len(peers))
                    peers.append(
                        (f"remote-node {node} {node_ip}", Endpoint("remote-node", node_ip, apiserver=on_api))
                    )
        peers.extend(self._outside(version))
        universe = self._universe(direction, version, peers, pods=True)

        def blocks(indices: list[int]) -> int:
            return sum(universe.block(i) for i in indices)

        hosts = blocks([i for host, _ in at_node.values() for i in host])
        by_node = {node: (blocks(host), blocks(remote)) for node, (host, remote) in at_node.items()}
        return universe, {ip: blocks(i) for ip, i in at_ip.items()}, by_node, universe.full & ~hosts

    def host_rows(self, direction: Direction, hosts: Sequence[HostCase]) -> Iterator[_Row]:
        """The host subjects (``host_peers`` in tests/concrete_reference.py lists the same peers)."""
        layouts: dict[int, tuple[Universe, list[tuple[str, IP | None]]]] = {}
        for host, programs in hosts:
            calico, cilium = programs[direction]
            for ip in self.inventory.nodes.get(host.node) or host.own_ips:
                if ip.version not in self.assumptions.families:
                    continue
                if ip.version not in layouts:
                    layouts[ip.version] = self._host_layout(direction, ip.version)
                universe, owners = layouts[ip.version]
                valid = universe.full
                for i, (node, node_ip) in enumerate(owners):
                    if node_ip is not None and (node == host.node or node_ip == ip):
                        valid &= ~universe.block(i)
                if not valid:
                    continue
                subject = host.endpoint(ip)
                space = Space(universe, subject, valid)
                flat = [(t, p) for t, tier in enumerate(calico.tiers) for p in tier.policies]
                yield _Row(
                    direction,
                    f"{host.label} {ip}",
                    subject,
                    universe,
                    valid,
                    _calico_allowed(calico, flat, space),
                    _cilium_allowed(cilium, cilium.policies, space),
                    (calico, cilium),
                )

    def _host_layout(
        self, direction: Direction, version: int
    ) -> tuple[Universe, list[tuple[str, IP | None]]]:
        """The universe of host subjects of one family, and each entry's node and address (``None``
        for pods and outside addresses, which every host subject sees)."""
        peers: list[tuple[str, Endpoint]] = []
        owners: list[tuple[str, IP | None]] = []
        for pod in self.inventory.pods:
            for pod_ip in pod.ips:
                if pod_ip.version == version:
                    peer = replace(pod_endpoint(self.inventory, pod, pod_ip), node=pod.node)
                    peers.append((f"pod {pod.namespace}/{pod.name} {pod_ip}", peer))
                    owners.append(("", None))
        for node, ips in sorted(self.inventory.nodes.items()):
            for node_ip in ips:
                if node_ip.version == version:
                    endpoint = Endpoint("remote-node", node_ip, apiserver=self._on_api(node_ip))
                    peers.append((f"remote-node {node} {node_ip}", endpoint))
                    owners.append((node, node_ip))
        outside = self._outside(version)
        peers.extend(outside)
        owners.extend(("", None) for _ in outside)
        return self._universe(direction, version, peers, pods=False), owners


Policy = TypeVar("Policy", CalicoPolicy, CiliumPolicy)


def candidates(flat: list[tuple[int, Policy]], domain: Subjects) -> list[list[tuple[int, Policy]]]:
    """Per subject, the policies (with their tier) that may select it, in order: those whose
    selector reads only the subject and holds for it, and every policy whose selector reads more."""
    per: list[list[int]] = [[] for _ in domain.flows]
    everywhere: list[int] = []
    for k, (_, policy) in enumerate(flat):
        if formula_depends(policy.selects, True) & ~SUBJECT_BIT:
            everywhere.append(k)
        else:
            for s in bits(domain.eval(policy.selects)):
                per[s].append(k)
    return [[flat[k] for k in (sorted(ks + everywhere) if everywhere else ks)] for ks in per]


def _calico_allowed(program: CalicoProgram, chosen: list[tuple[int, CalicoPolicy]], space: Space) -> int:
    """``CalicoProgram.decide`` on every flow of ``space`` at once: the bits it allows."""
    return allowed_bits(calico_decisions(program, chosen, space))


def _cilium_allowed(program: CiliumProgram, chosen: list[CiliumPolicy], space: Space) -> int:
    """``CiliumProgram.decide`` on every flow of ``space`` at once: the bits it allows."""
    return allowed_bits(cilium_decisions(program, chosen, space))
