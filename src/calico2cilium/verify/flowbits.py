"""Observed flows' decision points decided together, as bitsets (the concrete engine's machinery).

A decision point is a direction, a pod subject, a peer and a probe (protocol, port, ICMP type). The
points of one direction are laid out like the concrete engine's (``verify.bitsets``): per subject,
``bit = peer * len(probes) + probe`` over a universe of peers and probes, the subject's observed
points its ``valid`` bits. So an atom about the peer is decided once per peer, not once per flow,
and each policy's rules once per subject. Subjects are cut into chunks whose universe (the peers
and probes of their points) stays small, so that a few subjects with very many peers (an export
where every flow has its own address) do not make every subject's bitsets wide.

Each side's verdict, reference included, is what ``CalicoProgram.decide``/``CiliumProgram.decide``
return for the point's flow (``verify.decisions``; ``tests/test_verify_flows.py`` holds the replay
to the per-flow decision).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from calico2cilium.semantics.expr import PEER, SUBJECT, Entity, InNet, walk
from calico2cilium.semantics.program import CalicoProgram, CiliumProgram, Verdict
from calico2cilium.semantics.world import TCP, Direction, Endpoint, Flow
from calico2cilium.verify.bitsets import Probe, Space, Subjects, Universe
from calico2cilium.verify.concrete import candidates
from calico2cilium.verify.decisions import Decisions, calico_decisions, cilium_decisions

CHUNK_BITS = 1 << 16
"""The widest universe (peers times probes) a chunk of more than one subject may have."""
_PLACEHOLDER = Endpoint("world", ipaddress.ip_address("0.0.0.0"))

Point = tuple[Direction, int, int, Probe]
"""(direction, subject, peer, probe); subject and peer index the endpoints given."""


class _Universe(Universe):
    """The replay's flows: source port 40000 whatever the protocol (``verify.flows._decide``)."""

    def flow(self, subject: Endpoint, peer: int, probe: int) -> Flow:
        proto, port, icmp = self.probes[probe]
        return Flow(self.direction, subject, self.peers[peer], proto, port, 40000, icmp)


def decide_points(
    programs: Mapping[Direction, Any], points: Sequence[Point], endpoints: Sequence[Endpoint]
) -> list[Verdict]:
    """One side's verdict on every point (``programs``: ``CalicoProgram`` or ``CiliumProgram`` per
    direction; every subject a pod).

    Endpoints the programs cannot tell apart are decided once: the programs read an endpoint's
    address only through ``InNet`` (and its family, ``IsIPv6``) and never its name (a host
    subject's name is read by ``OnSubjectNode``, and hosts are not replayed), so endpoints equal
    in every other field, of one family and inside the same of the programs' networks are one
    class. A pod's many replicas, or an export where every flow has its own address, then cost
    what one endpoint does."""
    nets = _nets(programs)
    classes: dict[tuple[Any, ...], int] = {}
    representatives: list[Endpoint] = []
    memo: dict[tuple[Entity, int], int] = {}

    def klass(role: Entity, index: int) -> int:
        found = memo.get((role, index))
        if found is None:
            e = endpoints[index]
            address, version = int(e.ip), e.ip.version
            inside = tuple(v == version and address & mask == base for v, mask, base in nets[role])
            found = classes.setdefault((role, _facts(e), version, inside), len(representatives))
            if found == len(representatives):
                representatives.append(e)
            memo[(role, index)] = found
        return found

    unique: dict[Point, int] = {}
    back = [
        unique.setdefault((d, klass(SUBJECT, s), klass(PEER, p), probe), len(unique))
        for d, s, p, probe in points
    ]
    verdicts = _decide_unique(programs, list(unique), representatives)
    return [verdicts[i] for i in back]


def _facts(e: Endpoint) -> tuple[Any, ...]:
    """Every field of ``e`` but its address and name, hashable."""
    out: list[Any] = []
    for f in fields(e):
        if f.name not in ("ip", "name"):
            value = getattr(e, f.name)
            out.append(tuple(sorted(value.items())) if isinstance(value, Mapping) else value)
    return tuple(out)


def _nets(programs: Mapping[Direction, Any]) -> dict[Entity, list[tuple[int, int, int]]]:
    """The networks the programs test the subject's and the peer's address against, as (version,
    mask, network address)."""
    found: dict[Entity, set[Any]] = {SUBJECT: set(), PEER: set()}
    for program in programs.values():
        formulas = [program.always_allow]
        if isinstance(program, CalicoProgram):
            formulas.append(program.always_deny)
            rules: Any = (r for p in program.policies for r in p.rules)
        else:
            rules = (r for p in program.policies for r in (*p.allows, *p.denies))
        formulas += [p.selects for p in program.policies] + [r.match for r in rules]
        for formula in formulas:
            for node in walk(formula):
                if isinstance(node, InNet) and node.entity in found:
                    found[node.entity].add(node.net)
    return {
        role: [(n.version, int(n.netmask), int(n.network_address)) for n in sorted(nets, key=str)]
        for role, nets in found.items()
    }


def _decide_unique(
    programs: Mapping[Direction, Any], points: Sequence[Point], endpoints: Sequence[Endpoint]
) -> list[Verdict]:
    out: list[Verdict | None] = [None] * len(points)
    for direction, program in programs.items():
        by_subject: dict[int, list[int]] = {}
        for i, point in enumerate(points):
            if point[0] == direction:
                by_subject.setdefault(point[1], []).append(i)
        if not by_subject:
            continue
        subjects = list(by_subject)
        domain = Subjects([Flow(direction, endpoints[s], _PLACEHOLDER, TCP, 80, 40000) for s in subjects])
        if isinstance(program, CalicoProgram):
            flat = [(t, p) for t, tier in enumerate(program.tiers) for p in tier.policies]
        else:
            flat = [(0, p) for p in program.policies]
        chosen = dict(zip(subjects, candidates(flat, domain), strict=True))
        for chunk in _chunks(subjects, by_subject, points):
            _decide_chunk(program, direction, chunk, by_subject, chosen, points, endpoints, out)
    assert all(v is not None for v in out), "a point of no direction"
    return out  # type: ignore[return-value]


def _chunks(
    subjects: list[int], by_subject: Mapping[int, list[int]], points: Sequence[Point]
) -> list[list[int]]:
    out: list[list[int]] = []
    peers: set[int] = set()
    probes: set[Probe] = set()
    for subject in subjects:
        new_peers = {points[i][2] for i in by_subject[subject]} - peers
        new_probes = {points[i][3] for i in by_subject[subject]} - probes
        if not out or (len(peers) + len(new_peers)) * (len(probes) + len(new_probes)) > CHUNK_BITS:
            out.append([])
            peers, probes = set(), set()
            new_peers = {points[i][2] for i in by_subject[subject]}
            new_probes = {points[i][3] for i in by_subject[subject]}
        out[-1].append(subject)
        peers |= new_peers
        probes |= new_probes
    return out


def _decide_chunk(
    program: CalicoProgram | CiliumProgram,
    direction: Direction,
    chunk: list[int],
    by_subject: Mapping[int, list[int]],
    chosen: Mapping[int, list[tuple[int, Any]]],
    points: Sequence[Point],
    endpoints: Sequence[Endpoint],
    out: list[Verdict | None],
) -> None:
    peer_index: dict[int, int] = {}
    probe_index: dict[Probe, int] = {}
    for subject in chunk:
        for i in by_subject[subject]:
            peer_index.setdefault(points[i][2], len(peer_index))
            probe_index.setdefault(points[i][3], len(probe_index))
    probes = list(probe_index)
    universe = _Universe(
        direction,
        [str(peer) for peer in peer_index],
        [endpoints[peer] for peer in peer_index],
        probes,
        [str(probe) for probe in probes],
        {},
        None,
        _PLACEHOLDER,
    )
    width = len(probes)
    for subject in chunk:
        where = {i: peer_index[points[i][2]] * width + probe_index[points[i][3]] for i in by_subject[subject]}
        valid = 0
        for bit in where.values():
            valid |= 1 << bit
        space = Space(universe, endpoints[subject], valid)
        decisions: Decisions
        if isinstance(program, CalicoProgram):
            decisions = calico_decisions(program, chosen[subject], space)
        else:
            decisions = cilium_decisions(program, [p for _, p in chosen[subject]], space)
        verdict_at: dict[int, Verdict] = {}
        for mask, verdict in decisions:
            for bit in positions(mask):
                verdict_at[bit] = verdict
        for i, bit in where.items():
            out[i] = verdict_at[bit]


def positions(mask: int) -> list[int]:
    """The positions of the set bits, lowest first, in time linear in the width (``bitsets.bits``
    is quadratic on wide, dense masks)."""
    text = bin(mask)[:1:-1]
    out: list[int] = []
    at = text.find("1")
    while at >= 0:
        out.append(at)
        at = text.find("1", at + 1)
    return out
