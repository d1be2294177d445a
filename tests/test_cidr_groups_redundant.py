"""``cidrgroups._without_redundant``: equal groups are reduced to one before the cover test (the
test was a union of all the other groups per group, cubic in hundreds of equal network sets),
and the groups kept cover what all did, none of them covered by the others."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from calico2cilium.cilium.cidrgroups import _without_redundant
from calico2cilium.sets import IPSet


def _union(names: list[str], ips: dict[str, IPSet]) -> IPSet:
    union = IPSet.empty()
    for name in names:
        union = union | ips[name]
    return union


_CIDRS = ["10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16", "10.1.2.0/24", "192.168.0.0/24", "fd00::/64"]


@given(st.lists(st.sets(st.sampled_from(_CIDRS), min_size=1), min_size=1, max_size=8))
def test_the_kept_groups_cover_the_same_and_none_is_redundant(groups: list[set[str]]) -> None:
    ips = {f"g{i}": IPSet.from_cidrs(sorted(cidrs)) for i, cidrs in enumerate(groups)}
    names = sorted(ips)
    kept = _without_redundant(names, ips)
    assert kept == sorted(kept) and set(kept) <= set(names)
    assert _union(kept, ips) == _union(names, ips)
    for name in kept:
        others = [n for n in kept if n != name]
        assert not others or not ips[name].issubset(_union(others, ips))
    for name in names:
        equal = [n for n in names if ips[n] == ips[name]]
        assert len(set(equal) & set(kept)) <= 1


def test_many_equal_groups_keep_the_first_name() -> None:
    ips = {f"set-{i:03}": IPSet.from_cidrs(["203.0.113.0/24"]) for i in range(300)}
    ips["wide"] = IPSet.from_cidrs(["198.51.100.0/24"])
    assert _without_redundant(sorted(ips), ips) == ["set-000", "wide"]
