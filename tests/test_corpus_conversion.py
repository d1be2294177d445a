"""Every Calico document of the public corpus (../shared/corpus/calico-docs) converts or carries a
diagnostic: none is lost. Each file is converted on its own (the docs' snippets are independent
examples), with cluster ranges given, and every input resource must be accounted for by

* an output resource whose ``calico2cilium.io/source`` annotation names it, or
* a diagnostic inside its document, or
* being a Tier (it orders policies; it has no output of its own).

Conversions without an error diagnostic must also be proven equivalent by the verifier, and the
concrete engine must agree on an inventory generated from what the file mentions (issue 4). Host
policies (HostEndpoints as targets, CCNP ``nodeSelector``) need the Nodes' labels to be proven:
without them the answer must be "not proven" with only host constructs outside the proof, and
every pod partition proven.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from calico2cilium.convert import convert
from calico2cilium.diagnostics import Severity
from calico2cilium.io.decode import decode
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify, verify_inventory
from fixture_inventory import Case, generated_inventory
from helpers import verify_explained

pytestmark = pytest.mark.slow  # not in make quick (tests/conftest.py)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "calico-docs"
FILES = sorted(CORPUS.glob("*.yaml")) if CORPUS.is_dir() else []
PODS, NODES = ("10.244.0.0/16",), ("10.0.0.0/24",)
TIER_KINDS = {"Tier"}


@pytest.mark.skipif(not FILES, reason="../shared/corpus is not beside this checkout")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_file_is_accounted_for(path: Path) -> None:
    result = convert([str(path)], pod_cidrs=PODS, node_cidrs=NODES)
    decoded = decode(path.read_bytes(), str(path))
    assert decoded.text is not None
    raws, _ = read_documents(decoded.text, str(path))
    sources = {doc["metadata"]["annotations"].get("calico2cilium.io/source") for doc in result.documents}
    flagged = {d.source.document for d in result.diagnostics if d.source is not None}
    unaccounted = []
    for raw in raws:
        if raw.kind in TIER_KINDS:
            continue
        label = f"{raw.kind} {raw.namespace + '/' if raw.namespace else ''}{raw.name}"
        names = {label, label.replace("NetworkPolicy", "KubernetesNetworkPolicy", 1)}
        if names & sources:
            continue
        if raw.source().document in flagged:
            continue
        unaccounted.append(label)
    assert not unaccounted, f"lost without a diagnostic: {unaccounted}"
    if not any(d.severity is Severity.ERROR for d in result.diagnostics) and result.documents:
        assumptions = Assumptions(pod_cidrs=PODS, node_cidrs=NODES)
        if any(d.narrowing for d in result.diagnostics):
            # A refusal that fails closed is a warning now (review5 finding 6): proven narrowed,
            # Cilium allowing no flow Calico denies (a missing tier stays outside the proof).
            proof = verify_explained(result, assumptions)
            assert proof.status in ("narrowed", "equivalent", "incomplete"), proof.render_text()
            assert not proof.counterexamples, proof.render_text()
            return
        proof = verify(result.loaded, result.documents, assumptions)
        if proof.status == "incomplete" and _host_policies(result.documents):
            hosts = set(proof.host_subjects)
            assert all(any(h in u.reason.lower() for h in HOST_REASONS) for u in proof.unsupported), (
                proof.render_text()
            )
            assert all(p.status == "equivalent" for p in proof.partitions if p.partition not in hosts), (
                proof.render_text()
            )
            return
        assert proof.status == "equivalent", proof.render_text()
        raw_data = [raw.data for raw in raws]
        inventory = generated_inventory(Case(path.name, {}, result, assumptions, raw_data))
        concrete = verify_inventory(result.loaded, result.documents, inventory, assumptions)
        assert concrete.flows > 0
        assert concrete.equivalent, concrete.render_text()


HOST_REASONS = ("host endpoint", "host policy", "nodeselector")


def _host_policies(documents: list[dict[str, Any]]) -> bool:
    return any("nodeSelector" in spec for doc in documents for spec in doc.get("specs") or ())


def test_corpus_accounting_covers_every_file() -> None:
    if not FILES:
        pytest.skip("../shared/corpus is not beside this checkout")
    assert len(FILES) >= 50
