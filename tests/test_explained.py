"""``explained()``: which verifier differences the diagnostics account for (review5 finding 3).

A difference is explained only by a narrowing finding on the resource that decided the flow
(kind/namespace/name, never the YAML document index: every item of a ``kind: List`` has index 0),
and a flow Cilium allows that Calico denies is never explained.
"""

from __future__ import annotations

from types import SimpleNamespace as NS
from typing import Any

from calico2cilium.cli.common import explained
from calico2cilium.diagnostics import Diagnostic, Severity, Source
from calico2cilium.load import load

LIST = """\
apiVersion: v1
kind: List
items:
- apiVersion: projectcalico.org/v3
  kind: NetworkPolicy
  metadata: {name: a, namespace: dev}
  spec:
    selector: all()
    egress: [{action: Allow, destination: {nets: [10.0.0.0/8]}}]
- apiVersion: projectcalico.org/v3
  kind: NetworkPolicy
  metadata: {name: b, namespace: dev}
  spec:
    selector: all()
    ingress: [{action: Allow}]
"""


def _documents() -> list[Any]:
    loaded = load(text=LIST, name="export.yaml")
    assert [d.name for d in loaded.documents] == ["a", "b"]
    return list(loaded.documents)


def _finding(code: str, at: Any, severity: Severity = Severity.WARNING) -> Diagnostic:
    return Diagnostic(code, severity, "finding", at.source(("spec",)))


def _cilium(converting: str) -> Any:
    """A Cilium resource converting Calico policy ``dev/<converting>`` (its source annotation)."""
    annotations = {"calico2cilium.io/source": f"NetworkPolicy dev/{converting}"}
    return NS(
        data={"kind": "CiliumNetworkPolicy", "metadata": {"name": converting, "annotations": annotations}}
    )


def _example(calico_allows: bool, decided_by: Any, cilium_doc: Any = None) -> Any:
    """A difference decided by ``decided_by`` in Calico and by a rule of the Cilium resource
    ``cilium_doc`` (default: the one converting ``decided_by``)."""
    cilium = cilium_doc if cilium_doc is not None else _cilium(decided_by.name)
    return NS(
        calico=NS(allowed=calico_allows, ref=NS(doc=decided_by.raw, what="rule")),
        cilium=NS(allowed=not calico_allows, ref=NS(doc=cilium, what="rule")),
    )


def test_a_warning_on_another_list_item_explains_nothing() -> None:
    a, b = _documents()
    assert a.source().document == b.source().document  # what the old (file, document) key saw
    narrowing = _finding("C2C324", a)
    assert not explained(NS(counterexamples=[_example(True, b)]), [narrowing], [a, b])
    assert explained(NS(counterexamples=[_example(True, a)]), [narrowing], [a, b])


def test_only_narrowing_codes_explain() -> None:
    a, b = _documents()
    for benign in ("C2C302", "C2C307", "C2C318"):
        assert not explained(NS(counterexamples=[_example(True, a)]), [_finding(benign, a)], [a, b])


def test_a_widening_is_never_explained() -> None:
    a, b = _documents()
    findings = [_finding("C2C324", a), _finding("C2C303", a, Severity.ERROR), _finding("C2C302", a)]
    assert not explained(NS(counterexamples=[_example(False, a)]), findings, [a, b])


def test_the_deciding_cilium_resource_names_its_source() -> None:
    # A refused Deny widened in policy a denies (Cilium) what policy b allows (Calico).
    a, b = _documents()
    example = _example(True, b, _cilium("a"))
    assert explained(NS(counterexamples=[example]), [_finding("C2C324", a)], [a, b])


def test_a_default_deny_is_explained_by_any_narrowing_finding() -> None:
    # The converter emits allows only: a left-out rule shows as the default deny of whatever
    # policy selects the subject (review5 f1b), which names no decider.
    a, b = _documents()
    example = _example(True, b)
    example.cilium.ref.what = "default deny (CiliumNetworkPolicy dev/b)"
    assert explained(NS(counterexamples=[example]), [_finding("C2C324", a)], [a, b])
    assert not explained(NS(counterexamples=[example]), [_finding("C2C302", a)], [a, b])


def test_review5_f6_repro() -> None:
    # docs/review5/f6_explained_list.py on branch review5: a benign-for-traffic warning at one
    # item, a widening decided at another with the same document index.
    warn = Diagnostic("C2C307", Severity.WARNING, "nets", Source("export.yaml", 40, 5, document=0))
    ex = NS(
        calico=NS(allowed=False, ref=NS(source=Source("export.yaml", 90, 5, document=0))),
        cilium=NS(allowed=True),
    )
    assert not explained(NS(counterexamples=[ex]), [warn])
