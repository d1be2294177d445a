"""The http rules' L7 filters (``plan.L7Grant``) -> ``rules.http`` on the pod policies' resources.

Each filter goes to its policy's resource, in the first form Cilium can say, unless a deny rule or
a plain allow of the output covers part of the flows it must filter (the deny would drop them,
the allow let every request through).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from calico2cilium import ir
from calico2cilium.cilium.http import http_items, l7_parts
from calico2cilium.cilium.policies import L7Ports, Resource
from calico2cilium.cilium.ports import tcp_numbers
from calico2cilium.cilium.rulekit import EmitFailure
from calico2cilium.facts.target import CiliumTarget
from calico2cilium.plan import Plan
from calico2cilium.sets import Inexpressible, cilium_names
from calico2cilium.sets.l4 import TCP
from calico2cilium.sets.regions import Cube


def _overlaps(cubes: Sequence[Cube], others: Sequence[Cube]) -> bool:
    return any(a.intersects(b) for a in cubes for b in others)


def _named_beside(l7: Sequence[Cube], plain: Sequence[Cube]) -> bool:
    """Whether a plain allow on a named TCP port selects pods that ``l7`` puts L7 rules on: it is an
    L4 filter of its own whose number is unknown here (``cilium_l7.overlaps_unsafely``)."""
    return any(
        p.subject.intersects(c.subject)
        and any(cilium_names(pm)[1] for proto, pm in p.l4.ports if proto == TCP)
        for p in plain
        for c in l7
    )


def place_l7(
    plan: Plan, resources: list[Resource], target: CiliumTarget, failures: list[EmitFailure]
) -> list[tuple[ir.Rule, bool]]:
    """Add each http rule's L7 filter (``compile/http.py``) to its policy's resource, in the first
    form Cilium can say, unless a deny rule or a plain allow of the output covers part of the
    flows it must filter (the deny would drop them, the allow let every request through)."""
    plain: dict[ir.Direction, list[Cube]] = defaultdict(list)
    denied: dict[ir.Direction, list[Cube]] = defaultdict(list)
    for resource in resources:
        for direction, sec in resource.layout.items():
            plain[direction].extend(sec.allow)
            denied[direction].extend(sec.deny)
    for pp in plan.policies:
        for direction, native in (pp.native or {}).items():
            plain[direction].extend(native)  # Cilium enforces the Kubernetes NetworkPolicy itself
    placed: list[tuple[ir.Rule, bool]] = []
    for resource in resources:
        owner = resource.owner
        if owner is None:
            continue
        for direction, grants in owner.l7.items():
            for grant in grants:
                if not grant.exact:
                    placed.append((grant.rule, False))
                    continue
                items = http_items(grant.http)
                error: Inexpressible | None = None
                chosen: tuple[Cube, ...] | None = None
                for form in grant.forms:
                    try:
                        for cube in form:
                            l7_parts(cube.l4, items)
                    except Inexpressible as err:
                        error = error or err
                        continue
                    chosen = form
                    break
                if chosen is not None and _overlaps(grant.exact, denied[direction]):
                    chosen, error = (
                        None,
                        Inexpressible(
                            "http", "a deny rule of the output covers part of its traffic and would drop it"
                        ),
                    )
                if chosen is not None and _overlaps(grant.exact, plain[direction]):
                    chosen, error = (
                        None,
                        Inexpressible(
                            "http", "an allow rule of the output without L7 rules covers part of its traffic"
                        ),
                    )
                if chosen is not None and _named_beside(chosen, plain[direction]):
                    chosen, error = (
                        None,
                        Inexpressible(
                            "http",
                            "an allow rule of the output on a named TCP port selects the same pods, and"
                            " Cilium may hand such a rule to its proxy as an allow-all for every peer on"
                            " the port's number (semantics/cilium_l7.py)",
                        ),
                    )
                if chosen is None:
                    assert error is not None
                    failures.append(EmitFailure(grant.rule, owner.policy, error, http=True))
                    continue
                resource.layout[direction].l7.append((list(chosen), items))
                placed.append((grant.rule, True))
    return placed


def l7_ports_of(resources: Sequence[Resource]) -> L7Ports:
    """Per direction, the TCP port numbers on which the output has L7 rules."""
    found: dict[ir.Direction, set[int]] = defaultdict(set)
    for resource in resources:
        for direction, sec in resource.layout.items():
            for cubes, _ in sec.l7:
                for cube in cubes:
                    found[direction].update(tcp_numbers(cube.l4))
    return {d: frozenset(ports) for d, ports in found.items()}
