"""Random end-to-end differential test of the converter (``calico_strategies.py`` generates the
inputs): small policy sets with tiers, mixed policy kinds, orders (equal and absent), Allow / Deny /
Pass rules over selectors, namespace selectors, nets, protocols, ports and ICMP types.

For every generated set:

(a) every output document validates against the Cilium CRD schema of the target version;
(b) unless a diagnostic says the conversion changed semantics (an error, or a warning other than
    those that change nothing: ``BENIGN``), the verifier proves the output EQUIVALENT, and the
    concrete engine agrees on the flows of a generated inventory (``fixture_inventory.py``);
    where every such diagnostic says the output fails closed (``Diagnostic.narrowing``), the
    verifier proves that Cilium allows no flow Calico denies (``verify(narrowing=True)``), and
    that a narrowing finding explains each flow it denies more (``attribution``, C2C414). The
    strategies mix in constructs that cannot be converted (``unconvertible``: services and string
    tests without an inventory, egress named ports, unknown tiers, service-account selectors,
    source ports), so refusals are checked to fail closed (issue 15 item 1);
(c) nothing raises.

The default run is small and seeded; set ``C2C_DIFFTEST_EXAMPLES=5000`` and
``C2C_DIFFTEST_SEED=<n>`` to hunt locally. The verifier shares no code with the compiler, so a
counterexample is a bug in one of the two.

The run ends with the refusal rate by cause (``REFUSALS``, printed by ``conftest.py``): how many
sets were converted with a diagnostic that changed or left out something, and which causes. Each
cause should be one that no Cilium form avoids (issue 12); a new frequent cause is worth a look.
"""

from __future__ import annotations

import os
import random
import re
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, event, given, seed, settings

from calico2cilium.convert import convert
from calico2cilium.diagnostics import Severity
from calico2cilium.schemas import validate
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify, verify_inventory
from calico2cilium.verify.attribution import Attribution
from calico_strategies import Scenario, dump, scenarios
from fixture_inventory import Case, generated_inventory

BENIGN = frozenset({"C2C302", "C2C311", "C2C318", "C2C351", "C2C352"})
"""Warnings that change no verdict: a Log rule dropped, an order tie broken by name (the conversion
follows Calico's current rule), an output renamed, a rule or policy that decides nothing."""

OUTSIDE_THE_PROOF = ("is not defined in the input", "no Service objects are given")
"""What the verifier cannot model (``UnsupportedItem`` reasons): a tier missing from the input, a
``services`` match without its Service object."""

EXAMPLES = int(os.environ.get("C2C_DIFFTEST_EXAMPLES", "30"))
SEED = int(os.environ.get("C2C_DIFFTEST_SEED", "1"))
"""The default run is seeded (the same 30 sets every time, about 7 s: run times vary a lot with
the sets drawn, up to 10 s for one); give another seed or more examples to hunt."""
MAX_PODS, MAX_EXTERNAL, MAX_RULES = 4, 3, 8
"""The concrete cross-check runs on a sample of the generated inventory, and only for outputs of
at most ``MAX_RULES`` rules: the symbolic engine is the proof, and the concrete engine takes a few
milliseconds per flow on a large output (thousands of flows per inventory)."""


class Refusals:
    """What the generated sets came to: converted cleanly, or diagnosed, by cause."""

    def __init__(self) -> None:
        self.sets: Counter[str] = Counter()
        self.diagnosed: Counter[str] = Counter()
        self.causes: Counter[str] = Counter()

    def record(self, cluster: str, diagnosed: list[str]) -> None:
        self.sets[cluster] += 1
        if diagnosed:
            self.diagnosed[cluster] += 1
        self.causes.update({cause(line) for line in diagnosed})

    def summary(self) -> list[str]:
        total, diagnosed = self.sets.total(), self.diagnosed.total()
        if not total:
            return []
        split = ", ".join(
            f"{name} {self.diagnosed[name]}/{count}" for name, count in sorted(self.sets.items())
        )
        lines = [f"{total} generated sets, {diagnosed} diagnosed ({100 * diagnosed / total:.1f}%; {split})"]
        lines += [f"  {count:4d}  {text}" for text, count in self.causes.most_common()]
        return lines


def cause(line: str) -> str:
    """A diagnostic line without the names and rule numbers that differ between sets."""
    code, _, message = line.partition(" ")
    for pattern, replacement in _CAUSE_PATTERNS:
        message = re.sub(pattern, replacement, message)
    return f"{code} {message}"[:150]


_CAUSE_PATTERNS = (
    (r"^(Global)?NetworkPolicy \S+ (ingress|egress)\.\d+: ", r"\2 rule: "),
    (r"^(Global)?NetworkPolicy \S+ ", "policy "),
    (r"the addresses \S+ cover", "the addresses cover"),
    (r"\(protocols [0-9,-]+ are", "(protocols ... are"),
)

REFUSALS = Refusals()


def _rules(documents: list[dict[str, Any]]) -> int:
    specs = [s for d in documents for s in (d.get("specs") or [d.get("spec") or {}])]
    keys = ("ingress", "egress", "ingressDeny", "egressDeny")
    return sum(len(spec.get(k) or []) for spec in specs for k in keys)


def changed(result: Any) -> list[str]:
    """The diagnostics that say the conversion changed (or refused) something."""
    return [
        f"{d.code} {d.message}"
        for d in result.diagnostics
        if d.severity is Severity.ERROR or (d.severity is Severity.WARNING and d.code not in BENIGN)
    ]


def widening(result: Any) -> list[str]:
    """The diagnostics that say the output may allow more than Calico: errors that do not fail
    closed (invalid input, a finding marked widening). Every other conversion, exact, warned or
    refused, must allow nothing Calico denies (review5: the subset proof used to run only when
    every diagnostic was narrowing, so a refusal without the flag could escape it)."""
    return [
        f"{d.code} {d.message}"
        for d in result.diagnostics
        if d.severity is Severity.ERROR and not d.narrowing
    ]


def check_scenario(scenario: Scenario) -> str:
    """Run (a)-(c) on one generated set; returns what was checked (for statistics)."""
    text = scenario.text
    pods, nodes = scenario.pod_cidrs, scenario.node_cidrs
    version = scenario.cilium_version
    text = f"# pod CIDRs {', '.join(pods)}; node CIDRs {', '.join(nodes)}; Cilium {version}\n" + text
    result = convert(text=text, name="in.yaml", pod_cidrs=pods, node_cidrs=nodes, cilium_version=version)
    for document in result.documents:
        assert validate(document, cilium_version=version) == [], (text, document)
    assert not any(d.code == "C2C399" for d in result.diagnostics), text
    major, minor = (int(x) for x in version.split("."))
    assumptions = Assumptions(pod_cidrs=pods, node_cidrs=nodes, cilium_version=(major, minor))
    diagnosed = changed(result)
    REFUSALS.record("dual-stack" if len(pods) > 1 else "IPv4-only", diagnosed)
    if diagnosed:
        if not widening(result):
            # Nothing says the output allows more (issue 15 item 1): it may deny more, never allow
            # more. The verifier proves Cilium allows no flow Calico denies, and that every flow it
            # denies more is explained by a narrowing finding (C2C414: status "different").
            attribution = Attribution(result.diagnostics, result.loaded.documents)
            proof = verify(
                result.loaded, result.documents, assumptions, narrowing=True, attribute=attribution
            )
            # A tier missing from the input (its order is unknown) and a Service without its object
            # are outside the proof; nothing else may be.
            unknown = proof.unsupported and all(
                any(reason in str(u) for reason in OUTSIDE_THE_PROOF) for u in proof.unsupported
            )
            allowed = ("narrowed", "equivalent", "incomplete") if unknown else ("narrowed", "equivalent")
            assert proof.status in allowed, text + "\n" + dump(result.documents) + proof.render_text()
            return "narrowed" if proof.status != "incomplete" else "narrowed (outside the proof)"
        # An error says the output may allow more (or the input is invalid): the verifier still
        # reads the input and the output without raising (c); its verdict is not checked.
        verify(result.loaded, result.documents, assumptions, max_counterexamples=1)
        return "diagnosed"
    proof = verify(result.loaded, result.documents, assumptions)
    assert proof.status == "equivalent", text + "\n" + dump(result.documents) + proof.render_text()
    if _rules(result.documents) > MAX_RULES:
        return "proven (symbolic only)"
    case = Case("difftest", {}, result, assumptions, scenario.docs)
    inventory = generated_inventory(case)
    rng = random.Random(text)
    if len(inventory.pods) > MAX_PODS:
        inventory.pods = rng.sample(inventory.pods, MAX_PODS)
    if len(inventory.external) > MAX_EXTERNAL:
        inventory.external = sorted(
            rng.sample(inventory.external, MAX_EXTERNAL), key=lambda a: (a.version, int(a))
        )
    concrete = verify_inventory(result.loaded, result.documents, inventory, assumptions)
    assert concrete.equivalent, text + "\n" + dump(result.documents) + concrete.render_text()
    return "proven"


_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@seed(SEED)
@_settings
@given(scenarios())
def test_conversion_is_proven_unless_diagnosed(scenario: Scenario) -> None:
    event(check_scenario(scenario))  # counts: pytest --hypothesis-show-statistics
