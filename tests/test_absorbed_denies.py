"""A Deny whose narrowed form ``D(d)`` is too large to build is absorbed (compile/structure.py,
``Absorbed``; design note "Absorbed denies"): its pods stay in default deny, and it is denied only
where a later Allow or a profile piece meets it, less the earlier Allows there. That is exact, not a
fallback that fails closed. Forced here for every Deny that earlier rules narrow, on a hand-written
case and on the differential test's random sets; the verifier is the judge."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from hypothesis import event, given, seed, settings
from hypothesis import strategies as st

from calico2cilium.compile import structure
from calico2cilium.convert import ConvertResult, convert
from calico2cilium.semantics.world import Assumptions
from calico2cilium.sets.regions import Cube
from calico2cilium.verify.api import verify
from calico_strategies import Scenario, scenarios
from test_convert_differential import check_scenario

TEXT = """
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: early}
spec:
  order: 10
  selector: has(app)
  ingress:
    - {action: Allow, protocol: TCP, source: {selector: app == 'monitor'}, destination: {ports: [9090]}}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: guard}
spec:
  order: 20
  selector: tier == 'data'
  ingress:
    - action: Deny
      source: {selector: has(team)}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  order: 30
  selector: app == 'db'
  ingress:
    - action: Allow
      protocol: TCP
      source: {selector: role == 'api'}
      destination: {ports: [5432]}
"""


ABSORBED: list[int] = []


def _never_narrowed(*_: object) -> None:
    ABSORBED.append(1)
    return None


def test_an_absorbed_deny_is_exact_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(structure, "_narrowed_deny", _never_narrowed)
    monkeypatch.setattr(structure, "ABSORB_CAP", 10**9)  # absorbed however many later rules meet it
    result = convert(text=TEXT, name="in.yaml")
    assert not any(d.code == "C2C350" for d in result.diagnostics)
    descriptions = [s.get("description", "") for d in result.documents for s in d.get("specs", [])]
    # The Deny stays in its own policy, where the later Allow of db would let its traffic through.
    assert any(t.startswith("guard ingress[0] Deny") and "later rule would allow" in t for t in descriptions)
    proof = verify(result.loaded, result.documents, Assumptions())
    assert proof.status == "equivalent", proof.render_text()


def test_without_absorption_the_same_input_keeps_a_narrowed_deny() -> None:
    """The control: the forced path above is not the default one for so small a case."""
    result = convert(text=TEXT, name="in.yaml")
    descriptions = [s.get("description", "") for d in result.documents for s in d.get("specs", [])]
    assert not any("later rule would allow" in t for t in descriptions)
    assert any(t.startswith("guard ingress[0] Deny (narrowed by earlier rules early") for t in descriptions)


def test_an_allow_past_its_budget_for_its_parts_is_tried_again_without_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An allow whose parts of absorbed Denies with another form take it past its own budget
    (each part has its own, but the allow's is what is left after all of them) is not left out
    (C2C350): those Denies are written in their other form (``_Absorbing.give_up``), which holds
    the allow's part, and the allow is tried again without them."""
    _both(monkeypatch, whole=False)
    localize = structure._Absorbing.localize
    tries: list[list[int]] = []

    def spending(self: structure._Absorbing, walk: object, outcome: object, profile: bool) -> object:
        found = localize(self, walk, outcome, profile)  # type: ignore[arg-type]
        tries.append(list(self.tried))
        if any(p not in self.whole for p in self.tried):
            structure.charge(10**12)  # past any rule's budget
        return found

    monkeypatch.setattr(structure._Absorbing, "localize", spending)
    # Of TCP only, the Deny narrowed by the earlier Allow has a form: absorbed with it as the other.
    text = TEXT.replace("- action: Deny\n", "- action: Deny\n      protocol: TCP\n")
    assert text != TEXT
    result = convert(text=text, name="in.yaml")
    assert [t for t in tries if t] and [] in tries  # tried with a part, then again without it
    assert not any(d.code == "C2C350" for d in result.diagnostics)
    descriptions = [s.get("description", "") for d in result.documents for s in d.get("specs", [])]
    deny = [t for t in descriptions if "guard ingress[0] Deny" in t]
    assert deny and not any("later rule would allow" in t for t in deny)  # written in its other form
    proof = verify(result.loaded, result.documents, Assumptions())
    assert proof.status == "equivalent", proof.render_text()


EXAMPLES = int(os.environ.get("C2C_DIFFTEST_EXAMPLES", "30"))
SEED = int(os.environ.get("C2C_DIFFTEST_SEED", "1"))


@seed(SEED + 7)
@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(scenarios())
def test_random_sets_with_every_narrowed_deny_absorbed(scenario: Scenario) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(structure, "_narrowed_deny", _never_narrowed)
        patch.setattr(structure, "ABSORB_CAP", 10**9)  # absorbed however many later rules meet it
        before = len(ABSORBED)
        checked = check_scenario(scenario)
        event(f"{checked}, {'with' if len(ABSORBED) > before else 'without'} absorbed denies")


sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from realistic_mix import CLUSTER, documents  # noqa: E402


def convert_mix(mix_seed: int) -> ConvertResult:
    """A realistic mix of 60 documents (broad Denies after many Allows), without its
    HostEndpoints (whose host rules fail closed by design), converted."""
    docs = [d for d in documents(60, seed=mix_seed) if d["kind"] != "HostEndpoint"]
    return convert(text=yaml.safe_dump_all(docs, sort_keys=False), name="mix.yaml", **CLUSTER)


def assert_never_wider(result: ConvertResult) -> None:
    """The verifier's proof: equivalent, or (where a diagnostic says the output narrows) Cilium
    allows nothing Calico denies."""
    assumptions = Assumptions(pod_cidrs=CLUSTER["pod_cidrs"], node_cidrs=CLUSTER["node_cidrs"])
    narrowing = any(d.narrowing for d in result.diagnostics)
    proof = verify(result.loaded, result.documents, assumptions, narrowing=narrowing)
    expected = ("narrowed", "equivalent") if narrowing else ("equivalent",)
    assert proof.status in expected, proof.render_text()


@pytest.mark.parametrize("mix_seed", range(1, 9))
def test_realistic_mixes_with_every_narrowed_deny_absorbed(
    mix_seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The realistic mix is what absorption is for: proven."""
    monkeypatch.setattr(structure, "_narrowed_deny", _never_narrowed)
    monkeypatch.setattr(structure, "ABSORB_CAP", 10**9)  # absorbed however many later rules meet it
    before = len(ABSORBED)
    result = convert_mix(mix_seed)
    assert len(ABSORBED) > before  # the forced path ran
    assert not [d for d in result.diagnostics if d.code == "C2C350"]
    assert_never_wider(result)


def _both_writings(
    entry: object, narrowed: Sequence[Cube] | None, expressible: structure.Expressible
) -> tuple[Cube, ...]:
    """``_other_writing`` for every narrowed Deny with a form, whatever its subjects."""
    return tuple(narrowed) if narrowed and expressible(narrowed) else ()


def _both(patch: pytest.MonkeyPatch, whole: bool) -> None:
    """Every narrowed Deny absorbed with ``D(d)`` as its other writing (the emitter picks), and
    with ``whole`` every one written in that form after all (no allow may spend on its part)."""
    patch.setattr(structure, "_other_writing", _both_writings)
    patch.setattr(structure, "ABSORB_CAP", 10**9)
    patch.setattr(structure, "LONG_ABSORB_CAP", 10**9)
    if whole:
        patch.setattr(structure, "PIECE_WORK", 0)


@seed(SEED + 11)
@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(scenarios(), st.booleans())
def test_random_sets_with_every_narrowed_deny_given_both_writings(scenario: Scenario, whole: bool) -> None:
    with pytest.MonkeyPatch.context() as patch:
        _both(patch, whole)
        event(f"{check_scenario(scenario)}, {'written whole' if whole else 'either writing'}")


@pytest.mark.parametrize("mix_seed", range(1, 5))
@pytest.mark.parametrize("whole", [False, True])
def test_realistic_mixes_with_every_narrowed_deny_given_both_writings(
    mix_seed: int, whole: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Absorbed with ``D(d)`` as the other writing (the emitter writes the one with fewer specs),
    or written in it after all: proven, and no allow left out for it."""
    _both(monkeypatch, whole)
    result = convert_mix(mix_seed)
    assert not [d for d in result.diagnostics if d.code == "C2C350"]
    assert_never_wider(result)


LATE_DENY = "\n---\n".join(
    [
        f"""apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {{name: allow-{i}}}
spec:
  order: {i}
  selector: role == 'r{i}'
  ingress:
    - {{action: Allow, protocol: TCP, destination: {{ports: [{8000 + i}]}}}}"""
        for i in range(10)
    ]
    + [
        """apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: deny-blue}
spec:
  order: 100
  selector: color == 'red'
  ingress:
    - {action: Deny, protocol: TCP, source: {selector: color == 'blue'}}"""
    ]
)


def _specs(result: object) -> int:
    return sum(len(d.get("specs", [])) for d in result.documents)  # type: ignore[attr-defined]


def test_a_late_deny_cut_up_by_earlier_allows_is_absorbed_where_that_is_shorter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Like the docs' deny-blue converted with other examples: nothing after it, so absorbed it
    needs no deny at all (its pods are in default deny), where narrowed it takes a spec per piece."""
    absorbed = convert(text=LATE_DENY, name="in.yaml")
    proof = verify(absorbed.loaded, absorbed.documents, Assumptions())
    assert proof.status == "equivalent", proof.render_text()
    monkeypatch.setattr(structure, "DENY_PIECES", 10**9)  # never absorbed for its size
    monkeypatch.setattr(structure, "_other_writing", lambda *_: ())  # nor for its subjects
    narrowed = convert(text=LATE_DENY, name="in.yaml")
    assert _specs(absorbed) + 8 < _specs(narrowed)


PORT_DENY_IN_A_PASS_TIER = """
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: t1}
spec: {order: 100, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: t1.a}
spec:
  tier: t1
  order: 10
  selector: has(app)
  ingress:
    - {action: Allow, protocol: TCP, source: {selector: role == 'api'}, destination: {ports: [80]}}
    - {action: Deny, protocol: TCP, destination: {ports: ['1:1000']}}
"""


def test_an_absorbed_port_deny_keeps_the_profile_piece_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(structure, "_narrowed_deny", _never_narrowed)
    monkeypatch.setattr(structure, "ABSORB_CAP", 10**9)  # absorbed however many later rules meet it
    result = convert(text=PORT_DENY_IN_A_PASS_TIER, name="in.yaml", cilium_version="1.16")
    assert not [d for d in result.diagnostics if d.narrowing], [str(d) for d in result.diagnostics]
    proof = verify(result.loaded, result.documents, Assumptions(cilium_version=(1, 16)))
    assert proof.status == "equivalent", proof.render_text()


def test_without_absorption_the_port_deny_in_a_pass_tier_is_exact() -> None:
    """The control for the test above: the narrowed Deny converts it exactly."""
    result = convert(text=PORT_DENY_IN_A_PASS_TIER, name="in.yaml", cilium_version="1.16")
    assert not [d for d in result.diagnostics if d.narrowing]
    proof = verify(result.loaded, result.documents, Assumptions(cilium_version=(1, 16)))
    assert proof.status == "equivalent", proof.render_text()


MERGED_PARTS = """
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: t1}
spec: {order: 110, defaultAction: Deny}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: t1.p1}
spec:
  tier: t1
  order: 10
  selector: "!has(team)"
  ingress:
    - {action: Allow, protocol: UDP, source: {selector: has(app)}}
    - {action: Deny, source: {selector: role == 'api'}}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: t1.p3}
spec:
  tier: t1
  order: 30
  selector: app == 'db'
  ingress:
    - {action: Allow, protocol: TCP, destination: {ports: [80]}}
    - {action: Pass}
"""


@pytest.mark.parametrize("version", ["1.15", "1.16"])
def test_an_absorbed_denys_parts_stay_expressible_when_merged(
    version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(structure, "_narrowed_deny", _never_narrowed)
    monkeypatch.setattr(structure, "ABSORB_CAP", 10**9)  # absorbed however many later rules meet it
    result = convert(text=MERGED_PARTS, name="in.yaml", cilium_version=version)
    assert not [d for d in result.diagnostics if d.code == "C2C310"], [str(d) for d in result.diagnostics]
    major, minor = (int(x) for x in version.split("."))
    proof = verify(result.loaded, result.documents, Assumptions(cilium_version=(major, minor)))
    assert proof.status == "equivalent", proof.render_text()
