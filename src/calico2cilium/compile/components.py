"""One direction's policies split into parts whose subjects cannot meet, compiled apart.

Calico decides a flow of an endpoint by the policies that select it alone: a tier none of whose
policies selects the endpoint (in that direction) is skipped, end of tier included (Felix
``endpointIptablesChain``, felix/rules/endpoints.go; Calico docs tiered-policy.mdx;
docs/reference/semantics.md §1.2). The policies selecting one endpoint all meet there, so
they fall in one connected component of the relation "the subjects (selector within the namespace)
can meet", and that component's rules, in Calico's order, decide the endpoint exactly as all of
them do. Each component can then be compiled on its own, under its own work budget: one that runs
out fails closed for its own subjects (C2C350), not for every pod of the cluster.

A subject the compile cannot narrow (``all()``, ``has(team)``) meets everything it may meet and so
joins those components into one; that only costs the split, never exactness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from calico2cilium.compile.ordering import PolicySpec, TierSpec
from calico2cilium.sets.index import CubeIndex, pick_key
from calico2cilium.sets.labels import LabelCube

_Item = tuple[int, LabelCube]
"""A subject cube of the policy at that position in the direction's order."""


def _no_subtract(item: _Item, other: _Item) -> list[_Item]:
    raise AssertionError("the component index only answers candidates")  # pragma: no cover


def components(tiers: Sequence[TierSpec]) -> list[list[TierSpec]]:
    """``tiers`` split into the connected components of "their subjects meet" (module docstring),
    each as the tiers (in order, with their default actions) holding its policies (in order);
    ordered by their first policy. One component is ``tiers`` itself."""
    specs: list[tuple[int, PolicySpec]] = [(t, p) for t, tier in enumerate(tiers) for p in tier.policies]
    parent = list(range(len(specs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    items: list[_Item] = [(i, cube) for i, (_, spec) in enumerate(specs) for cube in spec.subject.cubes]
    index: CubeIndex[_Item] = CubeIndex(
        pick_key(cube for _, cube in items),
        lambda item: item[1],
        lambda a, b: a[1].intersects(b[1]),
        _no_subtract,
    )
    for item in items:
        for other in index.candidates(item):
            a, b = find(item[0]), find(other[0])
            if a != b and item[1].intersects(other[1]):
                parent[max(a, b)] = min(a, b)
        index.add([item])
    groups: dict[int, list[int]] = {}
    for i in range(len(specs)):
        groups.setdefault(find(i), []).append(i)
    if len(groups) <= 1:
        return [list(tiers)]
    out: list[list[TierSpec]] = []
    for members in groups.values():  # keyed by first member: the roots are the smallest positions
        by_tier: dict[int, list[PolicySpec]] = {}
        for i in members:
            t, spec = specs[i]
            by_tier.setdefault(t, []).append(spec)
        out.append([replace(tiers[t], policies=tuple(ps)) for t, ps in by_tier.items()])
    return out
