"""The notes on rules and policies that decide nothing (C2C351 / C2C352) come from the structural
walk (``Walk.reaches``, a restricted walk per rule) when the output takes the structural form, and
from the region walk (``compile_ordering``) otherwise. Both read Calico's order; on every fixture
and on random policy sets they must name the same rules and policies.
"""

from __future__ import annotations

from functools import partial

import pytest
from hypothesis import HealthCheck, given, seed, settings

from calico2cilium.compile.lower import lower
from calico2cilium.compile.match import Ranges
from calico2cilium.compile.plan import compile_plan
from calico2cilium.convert import _can_say, _cluster
from calico2cilium.diagnostics.collector import Diagnostics
from calico2cilium.facts.target import DEFAULT_CILIUM_VERSION
from calico2cilium.load import load
from calico_strategies import Scenario, scenarios
from test_fixtures import CASES, FIXTURES, _case

SHADOW_CODES = ("C2C351", "C2C352")


def _notes(
    text: str, pods: tuple[str, ...], nodes: tuple[str, ...], version: str, *, structural: bool
) -> list[str]:
    cluster = _cluster(None, version, pods, nodes, None)
    loaded = load(text=text, name="in.yaml")
    lowered = lower(loaded.documents, "default", None)
    ranges = Ranges.of(cluster, tuple(lowered.sets))
    notes = Diagnostics()
    say = partial(_can_say, target=cluster.target) if structural else None
    compile_plan(lowered, ranges, notes, cluster.target, say)
    return sorted(f"{d.code} {d}" for d in notes.sorted() if d.code in SHADOW_CODES)


def _both(
    text: str, pods: tuple[str, ...], nodes: tuple[str, ...], version: str
) -> tuple[list[str], list[str]]:
    return (
        _notes(text, pods, nodes, version, structural=True),
        _notes(text, pods, nodes, version, structural=False),
    )


@pytest.mark.parametrize("name", CASES)
def test_fixture_notes_agree(name: str) -> None:
    options = _case(name).get("options") or {}
    if "inventory" in options:
        pytest.skip("expansions need the inventory; the random sets below cover the walk")
    text = (FIXTURES / name / "input.yaml").read_text()
    pods = tuple(options.get("podCIDRs", ()))
    nodes = tuple(options.get("nodeCIDRs", ()))
    structural, region = _both(text, pods, nodes, str(options.get("ciliumVersion", DEFAULT_CILIUM_VERSION)))
    assert structural == region


@seed(7)
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_random_notes_agree(scenario: Scenario) -> None:
    structural, region = _both(
        scenario.text, scenario.pod_cidrs, scenario.node_cidrs, scenario.cilium_version
    )
    assert structural == region, scenario.text


def test_fixtures_have_notes_to_compare() -> None:
    """The comparison above is not vacuous: fixtures with dead rules and policies exist."""
    with_notes = [
        name for name in CASES if "C2C35" in (FIXTURES / name / "expected-diagnostics.txt").read_text()
    ]
    assert len(with_notes) >= 3
