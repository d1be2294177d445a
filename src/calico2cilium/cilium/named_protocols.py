"""An allow with no Cilium form kept by the protocols Cilium names (issue 13, fail closed by the
smallest unit).

A Cilium rule names TCP, UDP and SCTP by port (``port: "0"`` is every port) and ICMP/ICMPv6 by
type; any other IP protocol (GRE 47, ESP 50, IPIP 4, ...) only as part of a rule with no L4 part,
which would take TCP too (docs/reference/semantics.md §3.5, ``cilium/ports.py``). So an allowed
region holding some but not all of those other protocols (``notProtocol: TCP`` less an earlier
Deny of GRE, say) has no Cilium form; rather than leave the whole rule out, the emitter allows its
flows of the named protocols and leaves out only the rest (C2C310 says which protocols).

Exact where kept: every form of the narrowed grant allows a subset of what the grant's own form
allows (``allow & NAMED``), and its denied part, ``(wide - allow) & NAMED``, is inside what Calico
denies (``plan.Grant``). VRRP and IGMP are not named: Cilium 1.19 accepts them only with the agent
option ``enable-extended-ip-protocols`` (docs/reference/semantics.md §3.5), which the converter cannot see.
"""

from __future__ import annotations

from calico2cilium.plan import Grant
from calico2cilium.sets import Inexpressible
from calico2cilium.sets.l4 import ICMP_PROTOCOLS, PORT_PROTOCOLS, L4Set
from calico2cilium.sets.regions import Cube

NAMED = L4Set.protocols(PORT_PROTOCOLS + ICMP_PROTOCOLS)
"""The protocols a Cilium rule names: TCP, UDP and SCTP by port, ICMP and ICMPv6 by type."""
_UNNAMED = (L4Set.all() - NAMED).others
_NAMES = "TCP, UDP, SCTP, ICMP and ICMPv6"


class PartlyNamed(Inexpressible):
    """An allow with no Cilium form, written for its flows of the named protocols only: its flows
    of ``lost`` (other IP protocols) are left out, so Cilium denies them."""

    def __init__(self, cause: Inexpressible, lost: L4Set) -> None:
        super().__init__(cause.operator, cause.detail, code=cause.code, hint=cause.hint)
        self.lost = lost

    @property
    def lost_said(self) -> str:
        """``every IP protocol but TCP, UDP, SCTP, ICMP, ICMPv6 and 47``, or ``IP protocols
        4,47``: whichever reads shorter."""
        others = self.lost.others
        if others == _UNNAMED:
            return f"every IP protocol but {_NAMES}"
        kept = _UNNAMED - others
        if len(str(kept)) < len(str(others)):
            return f"every IP protocol but {_NAMES.replace(' and ', ', ')} and {kept}"
        single = len(others.ranges) == 1 and others.ranges[0][0] == others.ranges[0][1]
        return f"IP protocol{'' if single else 's'} {others}"


def _cut(cubes: tuple[Cube, ...]) -> tuple[Cube, ...]:
    out = (Cube(c.subject, c.peer, c.l4 & NAMED) for c in cubes)
    return tuple(c for c in out if not c.is_empty)


def named_part(grant: Grant) -> tuple[Grant, L4Set] | None:
    """``grant`` cut to the protocols Cilium names, and the L4 flows it loses by that (all of
    other IP protocols); ``None`` when it loses nothing (its form fails for another reason) or
    keeps nothing."""
    lost = L4Set.empty()
    for cube in grant.allow:
        lost = lost | (cube.l4 - NAMED)
    allow = _cut(grant.allow)
    if lost.is_empty or not allow:
        return None
    closed = None if grant.closed is None else _cut(grant.closed)
    cut = Grant(grant.rule, allow, _cut(grant.wide), closed, _cut(grant.closed_deny), grant.description)
    return cut, lost
