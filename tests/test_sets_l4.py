"""Interval sets, named ports and L4 sets against brute force on reduced ranges."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, combinations, pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calico2cilium.sets import Inexpressible, IntervalSet, L4Point, L4Set, from_calico, parse_protocol
from calico2cilium.sets.l4 import ICMP, ICMPV6, SCTP, TCP, UDP, UDPLITE
from calico2cilium.sets.ports import PortMap, cilium_names, numeric_part, parse_ports, port_map

FAST = settings(max_examples=200, deadline=None)

# ------------------------------------------------------------------------------ intervals

LO, HI = 0, 20
ranges = st.lists(
    st.tuples(st.integers(LO, HI), st.integers(0, 5)).map(lambda t: (t[0], min(HI, t[0] + t[1])))
)


def elems(s: IntervalSet) -> set[int]:
    return {v for v in range(LO, HI + 1) if v in s}


@FAST
@given(ranges, ranges)
def test_interval_set_algebra(r1: list[tuple[int, int]], r2: list[tuple[int, int]]) -> None:
    a, b = IntervalSet.of(LO, HI, r1), IntervalSet.of(LO, HI, r2)
    ea = {v for lo, hi in r1 for v in range(lo, hi + 1)}
    eb = {v for lo, hi in r2 for v in range(lo, hi + 1)}
    assert elems(a) == ea
    assert elems(a & b) == ea & eb
    assert elems(a | b) == ea | eb
    assert elems(a - b) == ea - eb
    assert elems(~a) == set(range(LO, HI + 1)) - ea
    assert a.size() == len(ea)
    assert a.issubset(b) == (ea <= eb)
    # normal form: sorted, disjoint, not touching; equal sets are equal values
    rs = a.ranges
    assert all(x[1] + 1 < y[0] for x, y in pairwise(rs))
    assert IntervalSet.of(LO, HI, [(v, v) for v in ea]) == a


def test_interval_set_bounds() -> None:
    with pytest.raises(ValueError):
        IntervalSet.of(0, 10, [(5, 11)])
    with pytest.raises(ValueError):
        IntervalSet.full(0, 10) | IntervalSet.full(0, 11)
    assert str(IntervalSet.of(0, 10, [(1, 1), (3, 5)])) == "1,3-5"


# ------------------------------------------------------------------------------ Calico rule fields

NAMES = ("http", "dns")
PROTOS = (TCP, UDP, SCTP, ICMP, ICMPV6, UDPLITE, 47, 0, 255)
# Every port a generated item can mention (0-7, ranges up to 7+3), plus one beyond: the universe
# must separate every set the strategies build, or the canonical-form checks compare projections.
PORTS = (*range(0, 12), 65535)
NAME_SETS = [frozenset(c) for c in chain.from_iterable(combinations(NAMES, n) for n in range(3))]
TYPES = (0, 1, 2, 255)
CODES = (0, 1, 255)


def universe() -> list[L4Point]:
    pts: list[L4Point] = []
    for proto in PROTOS:
        if proto in (TCP, UDP, SCTP):
            pts += [L4Point(proto, port=p, names=n) for p in PORTS for n in NAME_SETS]
        elif proto in (ICMP, ICMPV6):
            pts += [L4Point(proto, icmp_type=t, icmp_code=c) for t in TYPES for c in CODES]
        else:
            pts.append(L4Point(proto))
    return pts


POINTS = universe()


@dataclass(frozen=True)
class Fields:
    protocol: int | str | None = None
    not_protocol: int | str | None = None
    ports: tuple[int | str, ...] = ()
    not_ports: tuple[int | str, ...] = ()
    icmp: tuple[int, int | None] | None = None
    not_icmp: tuple[int, int | None] | None = None

    def build(self) -> L4Set:
        def icmp(v: tuple[int, int | None] | None) -> dict[str, int | None] | None:
            return None if v is None else {"type": v[0], "code": v[1]}

        return from_calico(
            protocol=self.protocol,
            not_protocol=self.not_protocol,
            ports=self.ports,
            not_ports=self.not_ports,
            icmp=icmp(self.icmp),
            not_icmp=icmp(self.not_icmp),
        )


def _port_hit(items: tuple[int | str, ...], pt: L4Point) -> bool:
    if pt.protocol not in (TCP, UDP, SCTP):
        return False
    for item in items:
        if isinstance(item, int):
            if pt.port == item:
                return True
        elif ":" in item:
            lo, hi = item.split(":")
            if int(lo) <= pt.port <= int(hi):
                return True
        elif item in pt.names:
            return True
    return False


def _icmp_hit(v: tuple[int, int | None], pt: L4Point) -> bool:
    return pt.protocol in (ICMP, ICMPV6) and pt.icmp_type == v[0] and (v[1] is None or pt.icmp_code == v[1])


def reference(f: Fields, pt: L4Point) -> bool:
    """Calico's rule match, written directly from docs/reference/semantics.md §1.4 (all criteria ANDed)."""
    if f.protocol is not None and pt.protocol != parse_protocol(f.protocol):
        return False
    if f.not_protocol is not None and pt.protocol == parse_protocol(f.not_protocol):
        return False
    if f.ports and not _port_hit(f.ports, pt):
        return False
    if f.not_ports and _port_hit(f.not_ports, pt):
        return False
    if f.icmp is not None and not _icmp_hit(f.icmp, pt):
        return False
    return not (f.not_icmp is not None and _icmp_hit(f.not_icmp, pt))


port_items = st.one_of(
    st.integers(0, 7),
    st.tuples(st.integers(0, 7), st.integers(0, 3)).map(lambda t: f"{t[0]}:{t[0] + t[1]}"),
    st.sampled_from(NAMES),
)
icmps = st.none() | st.tuples(st.sampled_from(TYPES[:3]), st.none() | st.sampled_from(CODES[:2]))
protocols = st.none() | st.sampled_from(["TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite", 47, "6"])
fields = st.builds(
    Fields,
    protocol=protocols,
    not_protocol=protocols,
    ports=st.lists(port_items, max_size=3).map(tuple),
    not_ports=st.lists(port_items, max_size=2).map(tuple),
    icmp=icmps,
    not_icmp=icmps,
)


def members(s: L4Set) -> set[int]:
    return {i for i, p in enumerate(POINTS) if p in s}


def truth(f: Fields) -> set[int]:
    return {i for i, p in enumerate(POINTS) if reference(f, p)}


ALL = set(range(len(POINTS)))


@settings(max_examples=200, deadline=None)
@given(fields)
def test_from_calico_matches_reference(f: Fields) -> None:
    assert members(f.build()) == truth(f)


@settings(max_examples=200, deadline=None)
@given(fields, fields)
def test_l4_algebra_against_brute_force(f1: Fields, f2: Fields) -> None:
    a, b = f1.build(), f2.build()
    t1, t2 = truth(f1), truth(f2)
    assert members(a & b) == t1 & t2
    assert members(a | b) == t1 | t2
    assert members(a - b) == t1 - t2
    assert members(a.complement()) == ALL - t1
    assert a.is_empty == (not t1)


@FAST
@given(fields, fields)
def test_l4_normal_form_is_canonical(f1: Fields, f2: Fields) -> None:
    a, b = f1.build(), f2.build()
    t1, t2 = truth(f1), truth(f2)
    assert a.issubset(b) == (t1 <= t2)
    # normal form: equal sets are equal values (the universe separates every cell used here)
    assert (a == b) == (t1 == t2)
    assert (a | b) - b == a - b


@FAST
@given(fields)
def test_cilium_named_ports_are_exact_or_refused(f: Fields) -> None:
    s = f.build()
    for proto, pm in s.ports:
        try:
            numbers, names = cilium_names(pm)
        except Inexpressible as err:
            assert err.operator == "named port"
            continue
        rebuilt = L4Set.dst_ports(numbers, names, [proto])
        assert rebuilt == L4Set(((proto, pm),))


def test_named_ports_are_never_numbers() -> None:
    http = from_calico(protocol="TCP", ports=["http"])
    eighty = from_calico(protocol="TCP", ports=[80])
    assert L4Point(TCP, port=80, names=frozenset({"http"})) in http
    assert L4Point(TCP, port=80) not in http
    assert L4Point(TCP, port=81, names=frozenset({"http"})) not in eighty
    both = http | eighty
    assert L4Point(TCP, port=80) in both and L4Point(TCP, port=9, names=frozenset({"http"})) in both
    # "http but not 80": a flow to port 80 is out whatever the name says
    rest = http - eighty
    assert L4Point(TCP, port=80, names=frozenset({"http"})) not in rest
    assert L4Point(TCP, port=81, names=frozenset({"http"})) in rest
    # "everything but http"
    others = from_calico(protocol="TCP") - http
    assert L4Point(TCP, port=80) in others and L4Point(TCP, port=80, names=frozenset({"http"})) not in others
    # Allow http then Allow dns: the second rule's effective part is exact, and re-merges
    dns = from_calico(protocol="TCP", ports=["dns"])
    second = dns - http
    assert L4Point(TCP, port=53, names=frozenset({"dns", "http"})) not in second
    assert L4Point(TCP, port=53, names=frozenset({"dns"})) in second
    assert (http | second) == from_calico(protocol="TCP", ports=["http", "dns"])


def test_what_cilium_can_say_about_named_ports() -> None:
    def tcp(s: L4Set) -> PortMap:
        return dict(s.ports)[TCP]

    mixed = from_calico(protocol="TCP", ports=[80, "8000:8080", "http"])
    numbers, names = cilium_names(tcp(mixed))
    assert str(numbers) == "80,8000-8080" and names == {"http"}
    for bad in (
        from_calico(protocol="TCP", not_ports=["http"]),
        from_calico(protocol="TCP", ports=["dns"], not_ports=["http"]),
        from_calico(protocol="TCP", ports=["http"], not_ports=[80]),
    ):
        with pytest.raises(Inexpressible) as info:
            cilium_names(tcp(bad))
        assert info.value.operator == "named port"


def test_named_ports_without_protocol_cover_tcp_udp_sctp() -> None:
    s = from_calico(ports=["http"])
    assert [p for p, _ in s.ports] == [TCP, UDP, SCTP]
    assert not s.icmp and s.others.is_empty


def test_port_parsing() -> None:
    numbers, names = parse_ports([80, "443", "8000:8080", "http", "metrics-port"])
    assert str(numbers) == "80,443,8000-8080"
    assert names == {"http", "metrics-port"}
    for bad in ["9:1", "70000", "a:b", "", "x y", True]:
        with pytest.raises(ValueError):
            parse_ports([bad])  # type: ignore[list-item]
    assert numeric_part(port_map(numbers)) == numbers
    assert numeric_part(port_map(numbers, ["http"])) is None


def test_protocol_parsing() -> None:
    assert [parse_protocol(p) for p in ("TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite", 47, "4")] == [
        6,
        17,
        1,
        58,
        132,
        136,
        47,
        4,
    ]
    for bad in ("tcp", "Tcp", 256, -1, "x", True):
        with pytest.raises(ValueError):
            parse_protocol(bad)  # type: ignore[arg-type]


def test_source_ports_are_inexpressible() -> None:
    with pytest.raises(Inexpressible) as info:
        from_calico(protocol="TCP", source_ports=[1024])
    assert info.value.operator == "source ports"
    with pytest.raises(Inexpressible):
        from_calico(protocol="TCP", source_not_ports=["1:1023"])
    assert from_calico(protocol="TCP", source_ports=[]) == from_calico(protocol="TCP")


def test_l4_constants_and_text() -> None:
    assert L4Set.all().is_full and L4Set.empty().is_empty
    assert (~L4Set.all()).is_empty
    assert str(L4Set.all()) == "any"
    assert str(from_calico(protocol="TCP", ports=[80])) == "6:80"
    assert str(from_calico(protocol="ICMP", icmp={"type": 8, "code": 0})) == "1:type 8[0]"
    assert L4Set.protocols([TCP]) | L4Set.protocols([UDP]) == L4Set.protocols([UDP, TCP])
    with pytest.raises(ValueError):
        from_calico(protocol="ICMP", icmp={"code": 1})
    kwargs: dict[str, Any] = {"protocol": "ICMP", "icmp": {"type": 300}}
    with pytest.raises(ValueError):
        from_calico(**kwargs)
