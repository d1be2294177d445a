"""Exact sets of L4 flows: protocol number x destination port (with named ports) or ICMP type/code.

Model (one flow = one value of each applicable field):

* TCP (6), UDP (17), SCTP (132): a destination port, 0-65535, plus the named ports standing for it
  (``ports.py``);
* ICMP (1), ICMPv6 (58): a type and a code, each 0-255;
* every other protocol 0-255: no further field (all-or-nothing).

Source ports are not a dimension: Cilium cannot match them, so ``from_calico`` raises
``Inexpressible`` for ``source.ports``/``source.notPorts`` instead of widening the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, TypeVar

from calico2cilium.sets.errors import Inexpressible
from calico2cilium.sets.intervals import IntervalSet
from calico2cilium.sets.piecewise import Piecewise
from calico2cilium.sets.ports import PortMap, full_ports, parse_ports, port_map

TCP: Final = 6
UDP: Final = 17
SCTP: Final = 132
ICMP: Final = 1
ICMPV6: Final = 58
UDPLITE: Final = 136
PORT_PROTOCOLS: Final = (TCP, UDP, SCTP)
ICMP_PROTOCOLS: Final = (ICMP, ICMPV6)
_SPECIAL: Final = frozenset(PORT_PROTOCOLS + ICMP_PROTOCOLS)
PROTOCOL_NAMES: Final = {
    "TCP": TCP,
    "UDP": UDP,
    "ICMP": ICMP,
    "ICMPv6": ICMPV6,
    "SCTP": SCTP,
    "UDPLite": UDPLITE,
}
"""Calico's protocol names (case-sensitive, ``validator.go`` ``validateProtocol``)."""

IcmpMap = Piecewise[IntervalSet]
"""ICMP type (0-255) -> set of codes (0-255)."""

M = TypeVar("M", PortMap, IcmpMap)


def _full_codes() -> IntervalSet:
    return IntervalSet.full(0, 255)


def _full_icmp() -> IcmpMap:
    return Piecewise(0, 255, ((0, 255, _full_codes()),))


_NO_OTHERS: Final = IntervalSet.empty(0, 255)
_ALL_OTHERS: Final = IntervalSet.full(0, 255) - IntervalSet.of(0, 255, ((p, p) for p in _SPECIAL))


@dataclass(frozen=True, slots=True)
class L4Point:
    """One L4 flow, for membership tests: ``port`` for TCP/UDP/SCTP (``names`` = the named ports
    standing for it on the destination endpoint), ``icmp_type``/``icmp_code`` for ICMP(v6)."""

    protocol: int
    port: int = 0
    names: frozenset[str] = frozenset()
    icmp_type: int = 0
    icmp_code: int = 0


@dataclass(frozen=True, slots=True)
class L4Set:
    """A set of L4 flows in normal form (equal sets compare equal). Use the constructors."""

    ports: tuple[tuple[int, PortMap], ...] = ()
    icmp: tuple[tuple[int, IcmpMap], ...] = ()
    others: IntervalSet = field(default=_NO_OTHERS)
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)
    """``hash(self)``, once computed: the ordering walk groups cubes by their L4 set often."""

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash((self.ports, self.icmp, self.others))
            object.__setattr__(self, "_hash", h)
        return h

    # ------------------------------------------------------------------ constructors

    @staticmethod
    def empty() -> L4Set:
        return L4Set()

    @staticmethod
    def all() -> L4Set:
        return _ALL

    @staticmethod
    def protocols(numbers: Iterable[int]) -> L4Set:
        """Every flow of the given protocol numbers."""
        nums = sorted(set(numbers))
        if any(not 0 <= n <= 255 for n in nums):
            raise ValueError("protocol numbers are 0-255")
        others = IntervalSet.of(0, 255, ((n, n) for n in nums if n not in _SPECIAL))
        return L4Set(
            tuple((n, full_ports()) for n in nums if n in PORT_PROTOCOLS),
            tuple((n, _full_icmp()) for n in nums if n in ICMP_PROTOCOLS),
            others,
        )

    @staticmethod
    def dst_ports(
        numbers: IntervalSet, names: Iterable[str] = (), protocols: Iterable[int] = PORT_PROTOCOLS
    ) -> L4Set:
        """Flows of ``protocols`` (only TCP/UDP/SCTP take part) to a port in ``numbers`` or named."""
        pm = port_map(numbers, names)
        if pm.is_empty:
            return L4Set()
        return L4Set(tuple((p, pm) for p in sorted(set(protocols)) if p in PORT_PROTOCOLS))

    @staticmethod
    def icmp_type(
        icmp_type: int, code: int | None = None, protocols: Iterable[int] = ICMP_PROTOCOLS
    ) -> L4Set:
        """ICMP(v6) flows of one type (and one code, if given)."""
        if not 0 <= icmp_type <= 255 or (code is not None and not 0 <= code <= 255):
            raise ValueError("ICMP type and code are 0-255")
        codes = _full_codes() if code is None else IntervalSet(0, 255, ((code, code),))
        m: IcmpMap = Piecewise(0, 255, ((icmp_type, icmp_type, codes),))
        return L4Set((), tuple((p, m) for p in sorted(set(protocols)) if p in ICMP_PROTOCOLS))

    # ------------------------------------------------------------------ algebra

    @property
    def is_empty(self) -> bool:
        return not self.ports and not self.icmp and self.others.is_empty

    @property
    def is_full(self) -> bool:
        return self == _ALL

    def intersects(self, other: L4Set) -> bool:
        # Shortcuts: an identical operand, or the full set (which meets any non-empty set).
        if self is other or other is _ALL:
            return not self.is_empty
        if self is _ALL:
            return not other.is_empty
        return _meets(self, other)

    # Shortcuts: an identical operand, or the full set (the form is normal, so these are exact).

    def __and__(self, other: L4Set) -> L4Set:
        if self is other or other is _ALL:
            return self
        if self is _ALL:
            return other
        return _intersection(self, other)

    def __or__(self, other: L4Set) -> L4Set:
        if self is other or self is _ALL:
            return self
        if other is _ALL:
            return other
        return L4Set(
            _zip(self.ports, other.ports, _or),
            _zip(self.icmp, other.icmp, _or),
            self.others | other.others,
        )

    def __sub__(self, other: L4Set) -> L4Set:
        if self is other or other is _ALL:
            return _EMPTY
        return _difference(self, other)

    def complement(self) -> L4Set:
        return _ALL - self

    def __invert__(self) -> L4Set:
        return self.complement()

    def issubset(self, other: L4Set) -> bool:
        return (self - other).is_empty

    def __contains__(self, point: object) -> bool:
        if not isinstance(point, L4Point):
            return False
        proto = point.protocol
        if proto in PORT_PROTOCOLS:
            cell = dict(self.ports).get(proto)
            found = None if cell is None else cell.cell_at(point.port)
            return found is not None and found.holds(point.names)
        if proto in ICMP_PROTOCOLS:
            m = dict(self.icmp).get(proto)
            codes = None if m is None else m.cell_at(point.icmp_type)
            return codes is not None and point.icmp_code in codes
        return proto in self.others

    def sort_key(self) -> tuple[object, ...]:
        """A total order on L4 sets (for deterministic output), cheaper than ``str``."""
        return _sort_key(self)

    def __str__(self) -> str:
        if self.is_full:
            return "any"
        parts: list[str] = []
        for p, pm in self.ports:
            segs = ",".join(_seg(a, b) + ("" if c.is_full else f"[{c}]") for a, b, c in pm.segments)
            parts.append(f"{p}:{segs}")
        for p, im in self.icmp:
            segs = ",".join(_seg(a, b) + ("" if c.is_full else f"[{c}]") for a, b, c in im.segments)
            parts.append(f"{p}:type {segs}")
        if self.others:
            parts.append(f"proto {self.others}")
        return "; ".join(parts) or "none"


def _seg(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}-{b}"


def _meet(a: tuple[tuple[int, M], ...], b: tuple[tuple[int, M], ...]) -> bool:
    """Whether two (protocol, map) tuples share a flow."""
    if not a or not b:
        return False
    lookup = dict(b)
    for proto, m in a:
        other = lookup.get(proto)
        if other is not None and m.intersects(other):
            return True
    return False


# The ordering walk meets the same few L4 sets (each rule's, and the pieces left of "everything")
# over and over, as equal values: memoise the operations it uses (values are immutable).


@lru_cache(maxsize=1 << 12)
def _sort_key(l4: L4Set) -> tuple[object, ...]:
    """``L4Set.sort_key``, remembered: every sort of region cubes asks it of each cube's set."""
    return (
        tuple(
            (p, tuple((a, b, "" if c.is_full else repr(c.node)) for a, b, c in m.segments))
            for p, m in l4.ports
        ),
        tuple((p, tuple((a, b, c.ranges) for a, b, c in m.segments)) for p, m in l4.icmp),
        l4.others.ranges,
    )


@lru_cache(maxsize=1 << 12)
def _meets(a: L4Set, b: L4Set) -> bool:
    return a.others.intersects(b.others) or _meet(a.ports, b.ports) or _meet(a.icmp, b.icmp)


@lru_cache(maxsize=1 << 12)
def _intersection(a: L4Set, b: L4Set) -> L4Set:
    return _shared(L4Set(_zip(a.ports, b.ports, _and), _zip(a.icmp, b.icmp, _and), a.others & b.others))


@lru_cache(maxsize=1 << 12)
def _difference(a: L4Set, b: L4Set) -> L4Set:
    return _shared(L4Set(_zip(a.ports, b.ports, _sub), _zip(a.icmp, b.icmp, _sub), a.others - b.others))


@lru_cache(maxsize=1 << 12)
def _shared(l4: L4Set) -> L4Set:
    """The first set equal to ``l4`` the operations above built (``l4`` itself if none): equal
    results are one object, so the caches find them by identity instead of comparing their
    fields (mix of 1,000: 1.4% of the run in those comparisons), and ``is`` shortcuts hold.
    Sets are immutable values, and nothing tells equal ones apart by identity."""
    return l4


def _and(a: M | None, b: M | None) -> M | None:
    return None if a is None or b is None else a & b


def _or(a: M | None, b: M | None) -> M | None:
    return b if a is None else a if b is None else a | b


def _sub(a: M | None, b: M | None) -> M | None:
    return a if a is None or b is None else a - b


def _zip(
    a: tuple[tuple[int, M], ...], b: tuple[tuple[int, M], ...], op: Callable[[M | None, M | None], M | None]
) -> tuple[tuple[int, M], ...]:
    """Combine two sorted (protocol, map) tuples per protocol, dropping empty maps."""
    out: list[tuple[int, M]] = []
    i = j = 0
    na, nb = len(a), len(b)
    while i < na or j < nb:
        if j == nb or (i < na and a[i][0] < b[j][0]):
            proto, m = a[i][0], op(a[i][1], None)
            i += 1
        elif i == na or b[j][0] < a[i][0]:
            proto, m = b[j][0], op(None, b[j][1])
            j += 1
        else:
            proto, m = a[i][0], op(a[i][1], b[j][1])
            i += 1
            j += 1
        if m is not None and not m.is_empty:
            out.append((proto, m))
    return tuple(out)


_ALL: Final = L4Set.protocols(range(256))
_EMPTY: Final = L4Set()


# ---------------------------------------------------------------------- Calico rule fields


def parse_protocol(value: int | str) -> int:
    """A Calico protocol: a name (``TCP``, ``UDP``, ``ICMP``, ``ICMPv6``, ``SCTP``, ``UDPLite``) or 0-255."""
    if isinstance(value, bool):
        raise ValueError(f"invalid protocol {value!r}")
    if isinstance(value, str):
        if value in PROTOCOL_NAMES:
            return PROTOCOL_NAMES[value]
        if not value.isdigit():
            raise ValueError(f"invalid protocol {value!r}")
        value = int(value)
    if not 0 <= value <= 255:
        raise ValueError(f"invalid protocol {value!r}")
    return value


def from_calico(
    *,
    protocol: int | str | None = None,
    not_protocol: int | str | None = None,
    ports: Iterable[int | str] | None = None,
    not_ports: Iterable[int | str] | None = None,
    icmp: Mapping[str, int | None] | None = None,
    not_icmp: Mapping[str, int | None] | None = None,
    source_ports: Iterable[int | str] | None = None,
    source_not_ports: Iterable[int | str] | None = None,
) -> L4Set:
    """The L4 part of one Calico rule: the AND of every criterion given (docs/reference/semantics.md §1.4).

    ``ports``/``not_ports`` are ``destination.ports``/``destination.notPorts``; a list with only
    named ports and no protocol matches those names on TCP, UDP and SCTP (the protocols a named
    port can be declared with). ``icmp``/``not_icmp`` are ``{"type": t, "code": c}`` mappings
    (``code`` optional) and apply to ICMP and ICMPv6. Empty lists count as absent, as in Calico.
    Validity (e.g. numeric ports need TCP/UDP/SCTP) is the caller's business.
    """
    if source_ports or source_not_ports:
        raise Inexpressible("source ports", "Cilium cannot match on the source port")
    result = _ALL
    if protocol is not None:
        result = result & L4Set.protocols((parse_protocol(protocol),))
    if not_protocol is not None:
        result = result - L4Set.protocols((parse_protocol(not_protocol),))
    if ports:
        numbers, names = parse_ports(ports)
        result = result & L4Set.dst_ports(numbers, names)
    if not_ports:
        numbers, names = parse_ports(not_ports)
        result = result - L4Set.dst_ports(numbers, names)
    if icmp:
        result = result & _icmp(icmp)
    if not_icmp:
        result = result - _icmp(not_icmp)
    return result


def _icmp(spec: Mapping[str, int | None]) -> L4Set:
    icmp_type = spec.get("type")
    if icmp_type is None:
        raise ValueError("an ICMP match needs a type")
    return L4Set.icmp_type(icmp_type, spec.get("code"))
