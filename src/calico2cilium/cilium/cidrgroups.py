"""NetworkSets / GlobalNetworkSets -> CiliumCIDRGroups, and CIDR peers written as references.

A CIDR peer whose address set is exactly the union of some network sets is written as
``cidrGroupRef`` entries (Cilium 1.14+) to those sets' CiliumCIDRGroups, so the output keeps the
user's names; any other address set is written inline (``cidr`` with ``except``), and so is every
address set for Cilium 1.16, where a reference empties the policy's other rules
(``CiliumTarget.cidr_group_ref_breaks_other_rules``). Both forms have
the same meaning: a CIDR group matches only addresses outside the cluster, like any CIDR rule
(docs/reference/semantics.md §2.5). Every network set becomes a group, referenced or not, so that none is lost
in the migration (its labels carried over).

CiliumCIDRGroup is cluster-scoped, so a namespaced set's group name carries its namespace:
``calico-ns-<namespace>-<name>``; a global set's is ``calico-gns-<name>``. The API version is
``cilium.io/v2`` from Cilium 1.18, ``cilium.io/v2alpha1`` before (docs/reference/semantics.md §2.5).
Two sets can give one name (namespace ``a-b``'s set ``c`` and namespace ``a``'s set ``b-c`` are
both ``calico-ns-a-b-c``): the cluster would keep one group, and a reference would mean the other
set's addresses. Such groups are never referenced (their peers are written inline), so they can be
renamed like policies (``cilium/naming.py``, C2C319).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from calico2cilium import ir
from calico2cilium.facts.target import CiliumTarget
from calico2cilium.sets import IPSet, to_cidr_with_excepts

ANNOTATION_SOURCE = "calico2cilium.io/source"


def group_name(network_set: ir.NetworkSet) -> str:
    if network_set.namespace is None:
        return f"calico-gns-{network_set.name}"
    return f"calico-ns-{network_set.namespace}-{network_set.name}"


def _without_redundant(names: list[str], ips: dict[str, IPSet]) -> list[str]:
    """``names`` less every group the others already cover (largest groups kept first), so a rule
    does not name a set it does not need (a set nested in another one's nets).

    Groups with equal addresses keep the first name alone before the cover test: the one the
    test would keep anyway (the others are covered by it whatever else goes), and hundreds of
    equal network sets made the test, a union of all the others per group, cubic."""

    def size(group: IPSet) -> int:
        return sum(b - a + 1 for part in (group.v4, group.v6) for a, b in part.ranges)

    first: dict[IPSet, str] = {}
    for name in sorted(names):
        first.setdefault(ips[name], name)
    kept = sorted(first.values(), key=lambda n: (-size(ips[n]), n))
    for name in list(reversed(kept)):
        rest = [n for n in kept if n != name]
        union = IPSet.empty()
        for other in rest:
            union = union | ips[other]
        if rest and ips[name].issubset(union):
            kept = rest
    return sorted(kept)


@dataclass
class CidrGroups:
    """The network sets of the input (``used``: those the output's rules reference)."""

    sets: list[ir.NetworkSet]
    references: bool = True
    """Write ``cidrGroupRef`` items at all; ``False`` for a target where a reference changes what
    the policy's other rules do (``CiliumTarget.cidr_group_ref_breaks_other_rules``): every peer
    is written inline, and the groups are still emitted."""
    used: dict[str, ir.NetworkSet] = field(default_factory=dict)
    _ips: dict[str, IPSet] = field(default_factory=dict)
    _by_name: dict[str, ir.NetworkSet] = field(default_factory=dict)
    _refs: dict[IPSet, list[str] | None] = field(default_factory=dict)
    """``cidr_items``' answers by address set: a peer's addresses recur in many rules."""

    def __post_init__(self) -> None:
        self._by_name = {group_name(s): s for s in self.sets}
        names = Counter(group_name(s) for s in self.sets)
        for network_set in self.sets:
            name = group_name(network_set)
            ips = IPSet.from_cidrs(network_set.nets)
            # A name two sets give is never referenced: it would not say which set (C2C319).
            if not ips.is_empty and len(name) <= 253 and names[name] == 1:
                self._ips[name] = ips

    def cidr_items(self, ips: IPSet) -> list[dict[str, Any]]:
        """``toCIDRSet``/``fromCIDRSet`` items for exactly ``ips``: group references when some
        groups cover exactly ``ips``, else CIDRs with excepts."""
        if not self.references:
            return [dict(item) for item in to_cidr_with_excepts(ips)]
        if ips not in self._refs:
            self._refs[ips] = self._references(ips)
        kept = self._refs[ips]
        if kept is None:
            return [dict(item) for item in to_cidr_with_excepts(ips)]
        for name in kept:
            self.used[name] = self._by_name[name]
        return [{"cidrGroupRef": name} for name in kept]

    def _references(self, ips: IPSet) -> list[str] | None:
        """The groups whose union is exactly ``ips``, less the redundant ones; none if no such."""
        chosen = sorted(name for name, group in self._ips.items() if group.issubset(ips))
        union = IPSet.empty()
        for name in chosen:
            union = union | self._ips[name]
        if chosen and union == ips:
            return _without_redundant(chosen, self._ips)
        return None

    def documents(self, target: CiliumTarget) -> list[dict[str, Any]]:
        api = target.cidr_group_api_version
        out = []
        for network_set in sorted(self.sets, key=group_name):
            name = group_name(network_set)
            cidrs = sorted(
                {str(ipaddress.ip_network(n, strict=False)) for n in network_set.nets},
                key=lambda c: (ipaddress.ip_network(c).version, ipaddress.ip_network(c)),
            )
            metadata: dict[str, Any] = {"name": name}
            if network_set.labels:
                metadata["labels"] = dict(network_set.labels)
            metadata["annotations"] = {ANNOTATION_SOURCE: network_set.origin.resource}
            out.append(
                {
                    "apiVersion": api,
                    "kind": "CiliumCIDRGroup",
                    "metadata": metadata,
                    "spec": {"externalCIDRs": cidrs},
                }
            )
        return out
