"""IP sets against ``ipaddress`` brute force on small prefixes, and exact CIDR output."""

from __future__ import annotations

import ipaddress
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from calico2cilium.sets import IPSet, to_cidr_with_excepts, to_cidrs

FAST = settings(max_examples=200, deadline=None)

# Universe: 10.0.0.0/28 and fe80::/124 (16 addresses each) plus one address outside each block.
V4 = [ipaddress.ip_address(f"10.0.0.{i}") for i in range(16)] + [ipaddress.ip_address("192.168.0.1")]
V6 = [ipaddress.ip_address(f"fe80::{i:x}") for i in range(16)] + [ipaddress.ip_address("2001:db8::1")]
POINTS = V4 + V6
ALL = set(range(len(POINTS)))

v4_cidrs = st.builds(lambda a, p: f"10.0.0.{a}/{p}", st.integers(0, 15), st.integers(28, 32))
v6_cidrs = st.builds(lambda a, p: f"fe80::{a:x}/{p}", st.integers(0, 15), st.integers(124, 128))
big = st.sampled_from(["0.0.0.0/0", "::/0", "10.0.0.0/8", "fe80::/64", "10.0.0.8/29", "192.168.0.1/32"])
cidr_lists = st.lists(st.one_of(v4_cidrs, v6_cidrs, big), max_size=5)


def truth(cidrs: list[str]) -> set[int]:
    nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    return {i for i, p in enumerate(POINTS) if any(p.version == n.version and p in n for n in nets)}


def members(s: IPSet) -> set[int]:
    return {i for i, p in enumerate(POINTS) if str(p) in s}


@FAST
@given(cidr_lists, cidr_lists)
def test_ip_set_algebra(c1: list[str], c2: list[str]) -> None:
    a, b = IPSet.from_cidrs(c1), IPSet.from_cidrs(c2)
    t1, t2 = truth(c1), truth(c2)
    assert members(a) == t1
    assert members(a & b) == t1 & t2
    assert members(a | b) == t1 | t2
    assert members(a - b) == t1 - t2
    assert members(a.complement()) == ALL - t1
    assert a.is_empty == (not c1)
    assert (a | a.complement()).is_full


def _exact_union(items: list[str]) -> IPSet:
    return IPSet.from_cidrs(items)


@FAST
@given(cidr_lists, cidr_lists)
def test_to_cidrs_is_exact_and_minimal(c1: list[str], c2: list[str]) -> None:
    s = IPSet.from_cidrs(c1) - IPSet.from_cidrs(c2)
    cidrs = to_cidrs(s)
    assert _exact_union(cidrs) == s
    nets = [ipaddress.ip_network(c) for c in cidrs]  # strict: host bits clear
    # disjoint and sorted (v4 first), and no two siblings that could merge into one CIDR
    for x, y in pairwise(nets):
        assert (x.version, x.network_address) < (y.version, y.network_address)
        assert x.version != y.version or not x.overlaps(y)
        if x.version == y.version and x.prefixlen == y.prefixlen and x.prefixlen > 0:
            assert x.supernet() != y.supernet()
    assert len(cidrs) == sum(
        len(list(ipaddress.summarize_address_range(ipaddress.ip_address(lo), ipaddress.ip_address(hi))))
        for lo, hi in _ranges(s)
    )


def _ranges(s: IPSet) -> list[tuple[int | str, int | str]]:
    out: list[tuple[int | str, int | str]] = [
        (str(ipaddress.IPv4Address(a)), str(ipaddress.IPv4Address(b))) for a, b in s.v4.ranges
    ]
    out += [(str(ipaddress.IPv6Address(a)), str(ipaddress.IPv6Address(b))) for a, b in s.v6.ranges]
    return out


@FAST
@given(cidr_lists, cidr_lists)
def test_cidr_with_excepts_is_exact(c1: list[str], c2: list[str]) -> None:
    s = IPSet.from_cidrs(c1) - IPSet.from_cidrs(c2)
    items = to_cidr_with_excepts(s)
    rebuilt = IPSet()
    seen = IPSet()
    for item in items:
        cidr = ipaddress.ip_network(item["cidr"])
        part = IPSet.from_cidrs([item["cidr"]])
        for exc in item.get("except", []):
            net = ipaddress.ip_network(exc)
            assert net.version == cidr.version and net.subnet_of(cidr) and net != cidr
            part = part - IPSet.from_cidrs([exc])
        assert item.get("except", None) != []
        assert (seen & part).is_empty, "items overlap"
        seen = seen | part
        rebuilt = rebuilt | part
    assert rebuilt == s
    strings = sum(1 + len(i.get("except", [])) for i in items)
    assert strings <= len(to_cidrs(s))


def test_excepts_shapes() -> None:
    s = IPSet.from_cidrs(["10.0.0.0/8"]) - IPSet.from_cidrs(["10.1.2.3/32", "10.200.0.0/16"])
    assert to_cidr_with_excepts(s) == [{"cidr": "10.0.0.0/8", "except": ["10.1.2.3/32", "10.200.0.0/16"]}]
    assert len(to_cidrs(s)) == 30
    everything_but_v6_loopback = IPSet.all() - IPSet.from_cidrs(["::1/128"])
    assert to_cidr_with_excepts(everything_but_v6_loopback) == [
        {"cidr": "0.0.0.0/0"},
        {"cidr": "::/0", "except": ["::1/128"]},
    ]
    assert to_cidr_with_excepts(IPSet.from_cidrs(["10.0.0.0/31", "10.0.0.3/32"])) == [
        {"cidr": "10.0.0.0/31"},
        {"cidr": "10.0.0.3/32"},
    ]
    assert to_cidrs(IPSet.from_cidrs(["10.0.0.5/24"])) == ["10.0.0.0/24"]  # masks are normalised
    assert to_cidrs(IPSet.empty()) == [] and to_cidr_with_excepts(IPSet.empty()) == []
    assert "10.0.0.1" in IPSet.from_cidrs(["10.0.0.1"]) and "::1" not in IPSet.from_cidrs(["10.0.0.1"])
