"""Exact sets of IPv4 and IPv6 addresses, as sorted disjoint address ranges per family.

``to_cidrs`` gives the minimal list of CIDRs whose union is the set; ``to_cidr_with_excepts`` gives
Cilium ``{cidr, except}`` items (``fromCIDRSet``/``toCIDRSet``), choosing per prefix between plain
CIDRs and "prefix minus excepts", whichever needs fewer strings. Both are exact.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, NotRequired, TypedDict

from calico2cilium.sets.intervals import IntervalSet

V4_MAX: Final = (1 << 32) - 1
V6_MAX: Final = (1 << 128) - 1

CidrRule = TypedDict("CidrRule", {"cidr": str, "except": NotRequired[list[str]]})
"""A Cilium ``CIDRRule`` item: ``cidr`` minus every ``except`` (each inside ``cidr``, same family)."""


def _empty4() -> IntervalSet:
    return IntervalSet.empty(0, V4_MAX)


def _empty6() -> IntervalSet:
    return IntervalSet.empty(0, V6_MAX)


@dataclass(frozen=True, slots=True)
class IPSet:
    """A set of addresses: ``v4`` over 0..2**32-1 and ``v6`` over 0..2**128-1."""

    v4: IntervalSet = field(default_factory=_empty4)
    v6: IntervalSet = field(default_factory=_empty6)

    @staticmethod
    def empty() -> IPSet:
        return IPSet()

    @staticmethod
    def all() -> IPSet:
        return IPSet(IntervalSet.full(0, V4_MAX), IntervalSet.full(0, V6_MAX))

    @staticmethod
    def from_cidrs(cidrs: Iterable[str]) -> IPSet:
        """The union of ``cidrs``; host bits are masked (Calico normalises masks); a bare IP is /32 or /128."""
        r4: list[tuple[int, int]] = []
        r6: list[tuple[int, int]] = []
        for text in cidrs:
            net = ipaddress.ip_network(text.strip(), strict=False)
            span = (int(net.network_address), int(net.broadcast_address))
            (r4 if net.version == 4 else r6).append(span)
        return IPSet(IntervalSet.of(0, V4_MAX, r4), IntervalSet.of(0, V6_MAX, r6))

    @property
    def is_empty(self) -> bool:
        return self.v4.is_empty and self.v6.is_empty

    @property
    def is_full(self) -> bool:
        return self.v4.is_full and self.v6.is_full

    def __and__(self, other: IPSet) -> IPSet:
        return IPSet(self.v4 & other.v4, self.v6 & other.v6)

    def intersects(self, other: IPSet) -> bool:
        return self.v4.intersects(other.v4) or self.v6.intersects(other.v6)

    def __or__(self, other: IPSet) -> IPSet:
        return IPSet(self.v4 | other.v4, self.v6 | other.v6)

    def __sub__(self, other: IPSet) -> IPSet:
        return IPSet(self.v4 - other.v4, self.v6 - other.v6)

    def complement(self) -> IPSet:
        return IPSet(~self.v4, ~self.v6)

    def __invert__(self) -> IPSet:
        return self.complement()

    def issubset(self, other: IPSet) -> bool:
        return (self - other).is_empty

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str | ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        ip = ipaddress.ip_address(address)
        return int(ip) in (self.v4 if ip.version == 4 else self.v6)

    def sort_key(self) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
        return (self.v4.ranges, self.v6.ranges)

    def __str__(self) -> str:
        return ",".join(to_cidrs(self)) or "none"


def to_cidrs(ips: IPSet) -> list[str]:
    """The fewest CIDRs whose union is exactly ``ips``: IPv4 first, each family by address."""
    out: list[str] = []
    for version, ranges in ((4, ips.v4.ranges), (6, ips.v6.ranges)):
        for a, b in ranges:
            first, last = _addr(version, a), _addr(version, b)
            out.extend(n.with_prefixlen for n in ipaddress.summarize_address_range(first, last))
    return out


def to_cidr_with_excepts(ips: IPSet) -> list[CidrRule]:
    """Cilium CIDR items whose union is exactly ``ips``, minimising the number of CIDR strings.

    Each item's ``except`` entries lie strictly inside its ``cidr`` and never overlap each other;
    items never overlap. IPv4 items come first, then IPv6, each by address.
    """
    out: list[CidrRule] = []
    for version, iset, bits in ((4, ips.v4, 32), (6, ips.v6, 128)):
        if iset.is_empty:
            continue
        planner = _Planner(iset, bits)
        for base, plen, excepts in planner.items(0, 0):
            item: CidrRule = {"cidr": _cidr(version, base, plen)}
            if excepts:
                item["except"] = [_cidr(version, b, p) for b, p in excepts]
            out.append(item)
    return out


def _addr(version: int, value: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


def _cidr(version: int, base: int, plen: int) -> str:
    net = ipaddress.IPv4Network((base, plen)) if version == 4 else ipaddress.IPv6Network((base, plen))
    return net.with_prefixlen


_EMPTY, _PARTIAL, _FULL = 0, 1, 2


class _Planner:
    """Dynamic programme over the prefix tree, visiting only prefixes that are partly in the set.

    For a prefix P: ``pos`` = CIDRs needed for S∩P, ``neg`` = CIDRs needed for P−S, and
    ``cost`` = min(cost(P0) + cost(P1), 1 + neg(P)) strings for S∩P as CIDR items.
    """

    def __init__(self, iset: IntervalSet, bits: int) -> None:
        self.ranges = iset.ranges
        self.starts = [a for a, _ in iset.ranges]
        self.bits = bits
        self.memo: dict[tuple[int, int], tuple[int, int]] = {}  # (neg, cost)

    def status(self, base: int, plen: int) -> int:
        end = base + (1 << (self.bits - plen)) - 1
        i = bisect_right(self.starts, end) - 1
        if i < 0 or self.ranges[i][1] < base:
            return _EMPTY
        a, b = self.ranges[i]
        return _FULL if a <= base and b >= end else _PARTIAL

    def _children(self, base: int, plen: int) -> tuple[tuple[int, int], tuple[int, int]]:
        half = 1 << (self.bits - plen - 1)
        return (base, plen + 1), (base + half, plen + 1)

    def solve(self, base: int, plen: int) -> tuple[int, int]:
        """``(neg, cost)`` of a prefix."""
        st = self.status(base, plen)
        if st == _FULL:
            return 0, 1
        if st == _EMPTY:
            return 1, 0
        key = (base, plen)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        (b0, p0), (b1, p1) = self._children(base, plen)
        n0, c0 = self.solve(b0, p0)
        n1, c1 = self.solve(b1, p1)
        result = (n0 + n1, min(c0 + c1, 1 + n0 + n1))
        self.memo[key] = result
        return result

    def negatives(self, base: int, plen: int) -> list[tuple[int, int]]:
        st = self.status(base, plen)
        if st == _FULL:
            return []
        if st == _EMPTY:
            return [(base, plen)]
        c0, c1 = self._children(base, plen)
        return self.negatives(*c0) + self.negatives(*c1)

    def items(self, base: int, plen: int) -> list[tuple[int, int, list[tuple[int, int]]]]:
        st = self.status(base, plen)
        if st == _FULL:
            return [(base, plen, [])]
        if st == _EMPTY:
            return []
        _, cost = self.solve(base, plen)
        c0, c1 = self._children(base, plen)
        split = self.solve(*c0)[1] + self.solve(*c1)[1]
        if split <= cost:  # ties prefer plain CIDRs
            return self.items(*c0) + self.items(*c1)
        return [(base, plen, self.negatives(base, plen))]
