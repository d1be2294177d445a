"""Label algebra against brute force over every label map of a small alphabet.

Alphabet: keys a, b, c; values x, y, z used by constraints, and w standing for "any other value";
each key absent or one of the four values: 5**3 = 125 label maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calico2cilium.calico.selector import (
    All,
    And,
    Contains,
    EndsWith,
    Eq,
    Global,
    Has,
    In,
    Not,
    Or,
    Selector,
    StartsWith,
    parse,
    to_dnf,
)
from calico2cilium.sets import Inexpressible, KeyConstraint, LabelCube, LabelSet
from calico2cilium.sets.coset import CoSet
from calico2cilium.sets.labels import ANY, NONE, merge_cubes, subtract_all
from calico2cilium.sets.selectors import (
    LabelSelectorDict,
    from_literals,
    from_selector,
    set_to_kubernetes_selectors,
    to_kubernetes_selectors,
)

KEYS = ("a", "b", "c")
VALUES = ("x", "y", "z")
OTHER = "w"
MAPS: list[dict[str, str]] = [
    {k: v for k, v in zip(KEYS, combo, strict=True) if v is not None}
    for combo in product((None, *VALUES, OTHER), repeat=len(KEYS))
]
FAST = settings(max_examples=150, deadline=None)

# A spec is (absent_ok, cofinite, values): evaluated below independently of KeyConstraint.
Spec = tuple[bool, bool, frozenset[str]]
specs = st.tuples(st.booleans(), st.booleans(), st.frozensets(st.sampled_from(VALUES), max_size=3))
cube_specs = st.dictionaries(st.sampled_from(KEYS), specs, max_size=3)


def spec_matches(spec: Spec, value: str | None) -> bool:
    absent_ok, cofinite, values = spec
    if value is None:
        return absent_ok
    return (value not in values) if cofinite else (value in values)


def cube_spec_matches(cs: dict[str, Spec], labels: Mapping[str, str]) -> bool:
    return all(spec_matches(s, labels.get(k)) for k, s in cs.items())


def to_cube(cs: dict[str, Spec]) -> LabelCube:
    return LabelCube.of({k: KeyConstraint(a, CoSet(v, c)) for k, (a, c, v) in cs.items()})


def members_cube(c: LabelCube) -> set[int]:
    return {i for i, m in enumerate(MAPS) if c.matches(m)}


def members(s: LabelSet) -> set[int]:
    return {i for i, m in enumerate(MAPS) if s.matches(m)}


def truth(cs_list: list[dict[str, Spec]]) -> set[int]:
    return {i for i, m in enumerate(MAPS) if any(cube_spec_matches(cs, m) for cs in cs_list)}


ALL = set(range(len(MAPS)))


# ------------------------------------------------------------------------------ key constraints


def test_key_constraint_forms_match_calico_operators() -> None:
    assert KeyConstraint.ne("x").matches(None)  # != is true when absent
    assert KeyConstraint.not_in(["x"]).matches(None)
    assert not KeyConstraint.eq("x").matches(None)
    assert not KeyConstraint.in_(["x"]).matches(None)
    assert (~KeyConstraint.eq("x")) == KeyConstraint.ne("x")
    assert ANY.is_any and NONE.is_empty
    assert KeyConstraint.in_([]).is_empty
    assert KeyConstraint.not_in([]).is_any


@FAST
@given(specs, specs)
def test_key_constraint_algebra(s1: Spec, s2: Spec) -> None:
    k1, k2 = (KeyConstraint(a, CoSet(v, c)) for a, c, v in (s1, s2))
    for value in (None, *VALUES, OTHER):
        m1, m2 = spec_matches(s1, value), spec_matches(s2, value)
        assert (k1 & k2).matches(value) == (m1 and m2)
        assert (k1 | k2).matches(value) == (m1 or m2)
        assert (k1 - k2).matches(value) == (m1 and not m2)
        assert (~k1).matches(value) == (not m1)


# ------------------------------------------------------------------------------ cubes


@FAST
@given(cube_specs, cube_specs)
def test_cube_operations_against_brute_force(cs1: dict[str, Spec], cs2: dict[str, Spec]) -> None:
    a, b = to_cube(cs1), to_cube(cs2)
    ta, tb = truth([cs1]), truth([cs2])
    assert members_cube(a) == ta
    assert a.is_empty == (not ta)
    assert a.is_full == (ta == ALL)
    assert members_cube(a & b) == ta & tb
    assert a.intersects(b) == bool(ta & tb)
    assert a.issubset(b) == (ta <= tb)
    pieces = a - b
    seen: set[int] = set()
    for piece in pieces:
        assert not piece.is_empty
        got = members_cube(piece)
        assert not (got & seen), "subtraction pieces overlap"
        seen |= got
    assert seen == ta - tb
    assert len(pieces) <= len(b.constraints) or pieces == [a]


def test_cube_normal_form() -> None:
    assert LabelCube.of({"a": ANY}) == LabelCube.all()
    assert LabelCube.of({"a": NONE, "b": KeyConstraint.eq("x")}) == LabelCube.empty()
    assert LabelCube.of([("a", KeyConstraint.ne("x")), ("a", KeyConstraint.ne("y"))]) == LabelCube.of(
        {"a": KeyConstraint.not_in(["x", "y"])}
    )
    assert LabelCube.of({"b": KeyConstraint.eq("x"), "a": KeyConstraint.eq("y")}).label_keys() == ("a", "b")


@FAST
@given(cube_specs)
def test_cube_text_is_an_equivalent_calico_selector(cs: dict[str, Spec]) -> None:
    cube = to_cube(cs)
    sel = parse(str(cube))
    assert {i for i, m in enumerate(MAPS) if sel.matches(m)} == members_cube(cube)


# ------------------------------------------------------------------------------ sets


set_specs = st.lists(cube_specs, max_size=4)


@FAST
@given(set_specs, set_specs)
def test_set_operations_against_brute_force(l1: list[dict[str, Spec]], l2: list[dict[str, Spec]]) -> None:
    s1, s2 = LabelSet.of(map(to_cube, l1)), LabelSet.of(map(to_cube, l2))
    t1, t2 = truth(l1), truth(l2)
    assert members(s1) == t1  # simplification preserves membership
    assert members(s1 & s2) == t1 & t2
    assert members(s1 | s2) == t1 | t2
    assert members(s1 - s2) == t1 - t2
    assert members(s1.complement()) == ALL - t1
    assert s1.issubset(s2) == (t1 <= t2)
    assert s1.is_empty == (not t1)
    assert s1.is_full == (t1 == ALL)
    disjoint = s1.disjoint_cubes()
    counted = [i for c in disjoint for i in members_cube(c)]
    assert len(counted) == len(set(counted)) and set(counted) == t1


@FAST
@given(set_specs)
def test_simplified_sets_have_no_empty_or_subsumed_cubes(l1: list[dict[str, Spec]]) -> None:
    s = LabelSet.of(map(to_cube, l1))
    assert all(not c.is_empty for c in s.cubes)
    for i, c in enumerate(s.cubes):
        assert not any(j != i and c.issubset(d) for j, d in enumerate(s.cubes))
    assert list(s.cubes) == sorted(s.cubes, key=LabelCube.sort_key)
    assert LabelSet.of(reversed(s.cubes)) == s  # deterministic


@FAST
@given(set_specs)
def test_merge_keeps_disjoint_cubes_disjoint(l1: list[dict[str, Spec]]) -> None:
    disjoint = LabelSet.of(map(to_cube, l1)).disjoint_cubes()
    merged = merge_cubes(disjoint)
    counted = [i for c in merged for i in members_cube(c)]
    assert len(counted) == len(set(counted))
    assert set(counted) == truth(l1)


def test_merge_joins_cubes_that_differ_in_one_key() -> None:
    x, y = KeyConstraint.eq("x"), KeyConstraint.eq("y")
    merged = merge_cubes([LabelCube.of({"a": x, "b": x}), LabelCube.of({"a": x, "b": y})])
    assert merged == [LabelCube.of({"a": x, "b": KeyConstraint.in_(["x", "y"])})]
    # and a cube absorbing its neighbour through ANY
    assert LabelSet.of([LabelCube.of({"a": x}), LabelCube.of({"a": x, "b": y})]).cubes == (
        LabelCube.of({"a": x}),
    )
    # complement of a cube, back together
    cube = LabelCube.of({"a": x, "b": y})
    assert LabelSet.of([*subtract_all([LabelCube.all()], [cube]), cube]).is_full


# ------------------------------------------------------------------------------ Kubernetes selectors


def k8s_matches(selector: LabelSelectorDict, labels: Mapping[str, str]) -> bool:
    """Reference Kubernetes LabelSelector semantics (apimachinery ``Requirement.Matches``)."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for req in selector.get("matchExpressions", []):
        key, op, values = req["key"], req["operator"], req.get("values", [])
        present = key in labels
        if op == "In":
            ok = present and labels[key] in values
        elif op == "NotIn":
            ok = not present or labels[key] not in values
        elif op == "Exists":
            ok = present and not values
        elif op == "DoesNotExist":
            ok = not present and not values
        else:
            raise AssertionError(op)
        if not ok:
            return False
    return True


@FAST
@given(cube_specs)
def test_kubernetes_selectors_are_exactly_the_cube(cs: dict[str, Spec]) -> None:
    cube = to_cube(cs)
    selectors = to_kubernetes_selectors(cube)
    got = {i for i, m in enumerate(MAPS) if any(k8s_matches(s, m) for s in selectors)}
    assert got == members_cube(cube)
    assert selectors == to_kubernetes_selectors(to_cube(dict(reversed(cs.items()))))
    for sel in selectors:
        for req in sel.get("matchExpressions", []):
            assert req.get("values", []) == sorted(req.get("values", []))
            assert req["operator"] in ("In", "NotIn", "Exists", "DoesNotExist")
            if req["operator"] == "In":
                assert len(req["values"]) > 1, "single-value In must be a matchLabels entry"
        keys = [r["key"] for r in sel.get("matchExpressions", [])]
        assert keys == sorted(keys)


def test_kubernetes_selector_shapes() -> None:
    x = KeyConstraint.eq("x")
    assert to_kubernetes_selectors(LabelCube.all()) == [{}]
    assert to_kubernetes_selectors(LabelCube.empty()) == []
    assert to_kubernetes_selectors(LabelCube.of({"a": x})) == [{"matchLabels": {"a": "x"}}]
    assert to_kubernetes_selectors(LabelCube.of({"a": KeyConstraint.ne("x")})) == [
        {"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["x"]}]}
    ]
    present_not_x = KeyConstraint(False, CoSet(frozenset({"x"}), True))
    assert to_kubernetes_selectors(LabelCube.of({"a": present_not_x})) == [
        {
            "matchExpressions": [
                {"key": "a", "operator": "Exists"},
                {"key": "a", "operator": "NotIn", "values": ["x"]},
            ]
        }
    ]
    absent_or_x = KeyConstraint(True, CoSet(frozenset({"x"})))
    assert to_kubernetes_selectors(LabelCube.of({"a": absent_or_x})) == [
        {"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]},
        {"matchLabels": {"a": "x"}},
    ]
    both = LabelSet.of([LabelCube.of({"a": x}), LabelCube.of({"b": x})])
    assert set_to_kubernetes_selectors(both) == [{"matchLabels": {"a": "x"}}, {"matchLabels": {"b": "x"}}]


# ------------------------------------------------------------------------------ from selectors


def atoms() -> st.SearchStrategy[Selector]:
    key, val = st.sampled_from(KEYS), st.sampled_from((*VALUES, OTHER))
    return st.one_of(
        st.just(All()),
        st.builds(Has, key),
        st.builds(Eq, key, val),
        st.builds(In, key, st.frozensets(val, max_size=3)),
    )


selectors = st.recursive(
    atoms(),
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(And, st.lists(inner, min_size=2, max_size=3).map(tuple)),
        st.builds(Or, st.lists(inner, min_size=2, max_size=3).map(tuple)),
    ),
    max_leaves=8,
)


@FAST
@given(selectors)
def test_from_literals_matches_calico_evaluation(sel: Selector) -> None:
    got = from_literals(to_dnf(sel))
    assert members(got) == {i for i, m in enumerate(MAPS) if sel.matches(m)}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "all()",
        "!all()",
        'a != "x"',
        'a not in {"x", "y"}',
        "!has(a)",
        'has(a) && a != "x"',
        'a == "x" || b in {"y"}',
        '!(a == "x" && b == "y")',
        "a in {} || b not in {}",
    ],
)
def test_from_selector_examples(text: str) -> None:
    sel = parse(text)
    assert members(from_selector(sel)) == {i for i, m in enumerate(MAPS) if sel.matches(m)}


@pytest.mark.parametrize(
    ("node", "operator"),
    [
        (Contains("a", "x"), "contains"),
        (StartsWith("a", "x"), "starts with"),
        (EndsWith("a", "x"), "ends with"),
        (Not(Contains("a", "x")), "contains"),
    ],
)
def test_string_tests_are_inexpressible(node: Selector, operator: str) -> None:
    with pytest.raises(Inexpressible) as info:
        from_selector(And((Has("b"), node)))
    assert info.value.operator == operator


def test_global_must_be_rewritten_first() -> None:
    with pytest.raises(ValueError, match="global"):
        from_selector(Global())
