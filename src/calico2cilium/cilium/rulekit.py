"""The rule kit every Cilium policy writer shares: Calico's allowed region as Cilium rules.

``peer_rules`` writes (peer, L4) cubes as rules with one L3 peer kind each (Cilium refuses mixes);
``choose`` picks each grant's exact form or its wide form with a deny (``plan.Grant``); the rest
are the metadata every output carries. Used by ``policies.py`` (pod policies) and
``hostpolicies.py`` (host policies).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from calico2cilium import ir
from calico2cilium.cilium.cidrgroups import CidrGroups
from calico2cilium.cilium.named_protocols import PartlyNamed, named_part
from calico2cilium.cilium.ports import MAX_ICMP_FIELDS, MAX_PORTS_PER_ITEM, chunks, icmp_family, l4_parts
from calico2cilium.cilium.selectors import peer_selectors, widened
from calico2cilium.facts.target import CiliumTarget
from calico2cilium.plan import Grant
from calico2cilium.sets import HostPeer, Inexpressible, LabelSet, NetPeer, PodPeer
from calico2cilium.sets.l4 import L4Set
from calico2cilium.sets.regions import Cube, subtract_cubes

ANNOTATION_PREFIX = "calico2cilium.io/"
PEER_FIELDS = {
    ir.Direction.INGRESS: ("fromEndpoints", "fromCIDRSet", "fromEntities"),
    ir.Direction.EGRESS: ("toEndpoints", "toCIDRSet", "toEntities"),
}
SECTION = {ir.Direction.INGRESS: "ingress", ir.Direction.EGRESS: "egress"}

DENY_SECTION = {ir.Direction.INGRESS: "ingressDeny", ir.Direction.EGRESS: "egressDeny"}


@dataclass(frozen=True)
class EmitFailure:
    """A piece of an allowed region with no Cilium form: the rule that allowed it and why.
    ``http``: the rule's http filter (an L7 grant) is what could not be written."""

    rule: ir.Rule | None
    policy: ir.Policy | None
    error: Inexpressible
    http: bool = False


class DeniedWider(Inexpressible):
    """A deny with no exact Cilium form, written with every protocol and port instead (a wider
    deny: the output fails closed there, issue 15 item 1)."""

    def __init__(self, cause: Inexpressible) -> None:
        super().__init__(cause.operator, cause.detail, code=cause.code, hint=cause.hint)


Fail = Callable[[Inexpressible, Grant], None]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


PartsOf = Callable[[L4Set], list[dict[str, Any]]]


def peer_rules(
    cubes: list[Cube], direction: ir.Direction, namespaced: bool, parts_of: PartsOf, groups: CidrGroups
) -> list[dict[str, Any]]:
    """Rules whose union (for one subject) is exactly the given (peer, L4) cubes; ``parts_of``
    writes an L4 set as rule fragments (``l4_parts``, or ``l7_parts`` with HTTP rules)."""
    endpoints_f, cidr_f, entities_f = PEER_FIELDS[direction]
    by_l4: dict[str, tuple[L4Set, list[Cube]]] = {}
    for cube in cubes:
        key = canonical(str(cube.l4)) + repr(cube.l4.sort_key())
        by_l4.setdefault(key, (cube.l4, []))[1].append(cube)
    rules: list[dict[str, Any]] = []
    for l4, group in by_l4.values():
        parts = parts_of(l4)
        pods = [c.peer.labels for c in group if isinstance(c.peer, PodPeer)]
        hosts = frozenset().union(*(c.peer.kinds for c in group if isinstance(c.peer, HostPeer)))
        nets = [c.peer.ips for c in group if isinstance(c.peer, NetPeer)]
        ips = nets[0] if nets else None
        for more in nets[1:]:
            ips = ips | more if ips is not None else more
        peers: list[dict[str, Any]] = []
        everyone = len(hosts) == 2 and ips is not None and ips.is_full and LabelSet.of(pods).is_full
        if everyone:
            peers.append({entities_f: ["all"]})
        else:
            selectors = [s for cube in widened(pods) for s in peer_selectors(cube, namespaced)]
            if selectors:
                unique = {canonical(s): s for s in selectors}
                peers.append({endpoints_f: [unique[k] for k in sorted(unique)]})
            # Every address and both host kinds: the entities world, host and remote-node, one
            # rule where a CIDR rule and an entity rule would repeat the same ports (or ICMP
            # types). Entity world is 0.0.0.0/0 and ::/0 (docs/reference/semantics.md §2.3); with
            # policy-cidr-match-mode=nodes those CIDRs also match the nodes, which host and
            # remote-node name here anyway.
            world = ips is not None and ips.is_full and len(hosts) == 2
            if ips is not None and not ips.is_empty and not world:
                peers.append({cidr_f: groups.cidr_items(ips)})
            if hosts:
                peers.append({entities_f: sorted([*(k.value for k in hosts), *(["world"] if world else [])])})
        for peer in peers:
            for part in parts:
                rules.append({**peer, **part})
    return sorted(rules, key=canonical)


_L4_FIELDS = ("toPorts", "icmps")
_PEER_FIELDS = frozenset(f for fields in PEER_FIELDS.values() for f in fields)


def _plain_l4(rule: dict[str, Any]) -> bool:
    """Whether ``rule`` is one peer field with at most one plain L4 field (``toPorts`` items with
    ``ports`` only, or ``icmps``): a rule ``merge_rules`` may merge."""
    peers = [k for k in rule if k in _PEER_FIELDS]
    l4 = [k for k in rule if k in _L4_FIELDS]
    if len(peers) != 1 or len(peers) + len(l4) != len(rule) or len(l4) > 1:
        return False
    return all(set(item) == {"ports"} for item in rule.get("toPorts", ()))


_PROTOCOL_ORDER = {"TCP": 0, "UDP": 1, "SCTP": 2}


def _port_order(entry: dict[str, Any]) -> tuple[int, int, str]:
    """``ports.py``'s order: by protocol (TCP, UDP, SCTP, then ANY), named ports first, then by
    number."""
    port = str(entry["port"])
    number = int(port) if port.isdigit() else -1
    return (_PROTOCOL_ORDER.get(entry.get("protocol", "ANY"), 3), number, port)


def _union_l4(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules of one peer whose union is theirs, as few as possible: a rule without an L4 field
    (every protocol) covers the others; else one ``toPorts`` and one ``icmps`` rule, their entries
    unioned and chunked as ``ports.py`` does."""
    peer = {k: v for k, v in rules[0].items() if k in _PEER_FIELDS}
    if any(not any(f in r for f in _L4_FIELDS) for r in rules):
        return [peer]
    out = []
    ports = {canonical(e): e for r in rules for item in r.get("toPorts", ()) for e in item["ports"]}
    if ports:
        entries = sorted(ports.values(), key=_port_order)
        out.append({**peer, "toPorts": [{"ports": c} for c in chunks(entries, MAX_PORTS_PER_ITEM)]})
    fields = {canonical(f): f for r in rules for item in r.get("icmps", ()) for f in item["fields"]}
    if fields:
        found = sorted(fields.values(), key=lambda f: (icmp_family(f), f["type"]))
        out.append({**peer, "icmps": [{"fields": c} for c in chunks(found, MAX_ICMP_FIELDS)]})
    return out


def _union_peers(rules: list[dict[str, Any]]) -> dict[str, Any]:
    """Rules of one peer field and the same L4 part as one rule: the peer lists concatenated."""
    field_ = next(k for k in rules[0] if k in _PEER_FIELDS)
    items = {canonical(item): item for r in rules for item in r[field_]}
    merged: dict[str, Any] = {field_: [items[k] for k in sorted(items)]}
    return {**merged, **{k: v for k, v in rules[0].items() if k != field_}}


def merge_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same allowed (or denied) flows in fewer rules: rules of one peer become one rule
    per L4 field (their ports unioned), then rules of one peer field and the same L4 part become
    one rule (their peers listed together). Both are exact: a rule matches the union of its
    peers times the union of its ports, and a section matches the union of its rules
    (docs/reference/semantics.md §2.3). Rules with L7 filters (``rules`` in ``toPorts``), and the
    empty rule, stay as they are."""
    fixed = [r for r in rules if not _plain_l4(r)]
    plain = [r for r in rules if _plain_l4(r)]
    by_peer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rule in plain:
        by_peer[canonical({k: v for k, v in rule.items() if k in _PEER_FIELDS})].append(rule)
    unioned = [r for group in by_peer.values() for r in _union_l4(group)]
    by_l4: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rule in unioned:
        field_ = next(k for k in rule if k in _PEER_FIELDS)
        by_l4[canonical([field_, {k: v for k, v in rule.items() if k not in _PEER_FIELDS}])].append(rule)
    merged = [_union_peers(group) for group in by_l4.values()]
    unique = {canonical(r): r for r in [*fixed, *merged]}
    return [unique[k] for k in sorted(unique)]


def expressible(cubes: Sequence[Cube], target: CiliumTarget) -> Inexpressible | None:
    """``None`` if every cube's L4 part has a Cilium form (peers always have one), else why not."""
    for cube in cubes:
        try:
            l4_parts(cube.l4, target)
        except Inexpressible as err:
            return err
    return None


def _forms(grant: Grant, target: CiliumTarget) -> tuple[list[Cube], list[Cube]] | Inexpressible:
    """A grant's exact allowed part, or, where that has no Cilium form, its whole region (or its
    ICMP-closed form, ``Grant.closed``) allowed and Calico's denied part of it denied; else why
    its exact part has no form."""
    err = expressible(grant.allow, target)
    if err is None:
        return list(grant.allow), []
    forms = [(grant.wide, subtract_cubes(grant.wide, grant.allow))]
    if grant.closed is not None:
        forms.append((grant.closed, list(grant.closed_deny)))
    for wide, denied in forms:
        if expressible(wide, target) is None and expressible(denied, target) is None:
            return list(wide), denied
    return err


NAMED_PART_SMALL = 4
"""A named part written in at most this many cubes is kept whatever its grant's size (``_too_long``)."""


def _too_long(written: tuple[list[Cube], list[Cube]], grant: Grant) -> bool:
    """The named part written in more cubes than the grant's exact part has (and more than
    ``NAMED_PART_SMALL``): it is left out whole instead (still failing closed). On the realistic
    mix of 1,000 the named part of an allow-all narrowed by earlier Denies was 3 allow and 393
    deny cubes (most with ICMP types enumerated one by one) against 379: one GlobalNetworkPolicy
    grew from 4 KB to 863 KB, near the API server's 1.5 MB object limit, and the output by 18%."""
    return len(written[0]) + len(written[1]) > max(len(grant.allow), NAMED_PART_SMALL)


def choose(
    grants: list[Grant], target: CiliumTarget, fail: Callable[[Inexpressible, Grant], None]
) -> tuple[list[Cube], list[Cube]]:
    """Allow and deny cubes for a direction: each grant in one of its forms (``_forms``), or,
    where none has a Cilium form, in one of the forms of its flows of the protocols Cilium names
    (``named_protocols``: the other protocols are left out, ``PartlyNamed``), or not at all."""
    allow: list[Cube] = []
    deny: list[Cube] = []
    for grant in grants:
        written = _forms(grant, target)
        if isinstance(written, Inexpressible):
            cut = named_part(grant)
            kept = None if cut is None else _forms(cut[0], target)
            if cut is None or kept is None or isinstance(kept, Inexpressible) or _too_long(kept, grant):
                fail(written, grant)
                continue
            fail(PartlyNamed(written, cut[1]), grant)
            written = kept
        allow.extend(written[0])
        deny.extend(written[1])
    return allow, deny


def metadata(name: str, namespace: str | None, annotations: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["annotations"] = dict(sorted(annotations.items()))
    return meta


def source_annotations(policy: ir.Policy) -> dict[str, str]:
    out = {ANNOTATION_PREFIX + "source": policy.origin.resource}
    if policy.origin.source is not None:
        out[ANNOTATION_PREFIX + "source-file"] = str(policy.origin.source)
    if policy.tier != "default" or policy.kind != "KubernetesNetworkPolicy":
        order = "none" if policy.order == ir.NO_ORDER else f"{policy.order:g}"
        out[ANNOTATION_PREFIX + "calico-order"] = f"tier {policy.tier}, order {order}"
    return out
