"""The verifier's API: inputs it accepts, the result's statuses, JSON and text forms, partitions."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from calico2cilium.diagnostics import Diagnostic, Severity, Source
from calico2cilium.facts.target import DEFAULT_CILIUM_VERSION
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.calico import read_calico_side
from calico2cilium.semantics.cilium import read_cilium_side
from calico2cilium.semantics.expr import SUBJECT, Attr
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import read_cilium_files, verify, verify_texts
from calico2cilium.verify.partition import partition, pins

CALICO = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  selector: app == 'api'\n  ingress: [{action: Allow, protocol: TCP, destination: {ports: [80]}}]\n"
CILIUM = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  endpointSelector: {matchLabels: {app: api}}\n  ingress: [{toPorts: [{ports: [{port: '80', protocol: TCP}]}]}]\n"


def test_equivalent_result_forms() -> None:
    result = verify_texts(CALICO, CILIUM)
    assert result.equivalent and result.exit_code == 0
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "equivalent" and data["counterexamples"] == []
    assert data["assumptions"]["cilium_version"] == DEFAULT_CILIUM_VERSION
    assert {p["direction"] for p in data["partitions"]} == {"ingress", "egress"}
    assert result.render_text().startswith("EQUIVALENT")


def test_different_result_forms() -> None:
    result = verify_texts(CALICO, CILIUM.replace("'80'", "'81'"))
    assert result.status == "different" and result.exit_code == 1
    data = json.loads(json.dumps(result.to_dict()))
    example = data["counterexamples"][0]
    assert example["direction"] == "ingress" and example["dst_port"] in (80, 81)
    assert example["subject"]["labels"] == {"app": "api"} and example["subject"]["namespace"] == "ns"
    assert example["calico"]["by"]["source"].startswith("calico.yaml:")
    assert example["cilium"]["by"]["source"].startswith("cilium.yaml:")
    text = result.render_text()
    assert "DIFFERENT" in text and "calico:" in text and "cilium:" in text


def test_documents_plain_mappings_and_load_results_are_accepted() -> None:
    plain_calico = list(yaml.safe_load_all(CALICO))
    plain_cilium = list(yaml.safe_load_all(CILIUM))
    assert verify(plain_calico, plain_cilium).equivalent

    @dataclass
    class FakeDocument:  # what calico2cilium.load returns: a typed model and its raw document
        raw: Any
        model: Any = None

    @dataclass
    class FakeLoad:
        documents: list[Any]
        diagnostics: list[Diagnostic] = field(default_factory=list)

    docs = [FakeDocument(d) for d in read_documents(CALICO, "c.yaml")[0]]
    assert verify(FakeLoad(docs), read_documents(CILIUM, "k.yaml")[0]).equivalent
    broken = FakeLoad(docs, [Diagnostic("C2C104", Severity.ERROR, "invalid YAML", Source("x.yaml", 3, 1))])
    result = verify(broken, read_documents(CILIUM, "k.yaml")[0])
    assert result.status == "invalid" and result.exit_code == 2
    assert "x.yaml:3:1" in result.render_text()


def test_read_cilium_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(CILIUM)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text("kind: [unclosed\n")
    docs, problems = read_cilium_files([str(tmp_path)])
    assert len(docs) == 1 and problems and problems[0].severity is Severity.ERROR
    result = verify(read_documents(CALICO, "c.yaml")[0], docs, diagnostics=problems)
    assert result.status == "invalid"


def test_unknown_kinds_are_reported_not_ignored() -> None:
    result = verify_texts(CALICO, CILIUM + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert result.status == "incomplete"
    assert any("ConfigMap" in u.reason for u in result.unsupported)


def test_pins_and_partitions() -> None:
    docs = read_documents(
        "".join(
            f"apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: ns{i % 3}}}\n"
            f"spec:\n  selector: app in {{'a{i}', 'b{i}'}}\n  ingress: [{{action: Allow}}]\n---\n"
            for i in range(12)
        ),
        "c.yaml",
    )[0]
    side = read_calico_side(docs, Assumptions())
    program = side.programs["ingress"]
    found = pins(program.policies[0].selects)
    assert found[Attr(SUBJECT, "pod", "app")] == frozenset({"a0", "b0"})
    assert found[Attr(SUBJECT, "nsname")] == frozenset({"ns0"})
    cilium = read_cilium_side([], Assumptions()).programs["ingress"]
    parts = partition(program, cilium)
    assert len(parts) > 3
    assert max(len(p.calico.policies) for p in parts) < len(program.policies)
    assert sum(len(p.calico.policies) for p in parts) <= 1.5 * 3 * len(program.policies)


def _generated(count: int) -> tuple[str, str]:
    calico, cilium = [], []
    for i in range(count):
        ns = f"ns{i % 20}"
        calico.append(
            {
                "apiVersion": "projectcalico.org/v3",
                "kind": "NetworkPolicy",
                "metadata": {"name": f"p{i}", "namespace": ns},
                "spec": {
                    "order": 10,
                    "selector": f"app == 'a{i}'",
                    "types": ["Ingress"],
                    "ingress": [
                        {"action": "Deny", "source": {"selector": "quarantine == 'yes'"}},
                        {
                            "action": "Allow",
                            "protocol": "TCP",
                            "source": {"selector": f"role == 'r{i % 7}'"},
                            "destination": {"ports": [8000 + i % 5]},
                        },
                    ],
                },
            }
        )
        cilium.append(
            {
                "apiVersion": "cilium.io/v2",
                "kind": "CiliumNetworkPolicy",
                "metadata": {"name": f"p{i}", "namespace": ns},
                "spec": {
                    "endpointSelector": {"matchLabels": {"app": f"a{i}"}},
                    "ingressDeny": [{"fromEndpoints": [{"matchLabels": {"quarantine": "yes"}}]}],
                    "ingress": [
                        {
                            "fromEndpoints": [{"matchLabels": {"role": f"r{i % 7}"}}],
                            "toPorts": [{"ports": [{"port": str(8000 + i % 5), "protocol": "TCP"}]}],
                        }
                    ],
                },
            }
        )
    return yaml.safe_dump_all(calico), yaml.safe_dump_all(cilium)


def test_a_few_hundred_policies_verify_quickly() -> None:
    # The target is 1,000 policies in under a minute on one core (``make bench`` measures it);
    # here a smoke test with generous headroom for shared CI machines.
    calico, cilium = _generated(300)
    start = time.perf_counter()
    result = verify_texts(calico, cilium, Assumptions(pod_cidrs=("10.0.0.0/16",)))
    assert result.equivalent, result.render_text()
    assert time.perf_counter() - start < 30
