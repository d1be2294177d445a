"""``diff`` against IBM's network-config-analyzer (NCA, ``nca --semantic_diff``) on the same Calico
edits: both must find the same changed connections. NCA works on a concrete topology (a pod and a
namespace list, written here) and rejects Calico tiers, so the inputs are tier-less. Skipped when
``nca`` is not on the PATH (``pip install network-config-analyzer`` in any environment)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from calico2cilium.diagnostics.catalog.reviewing import EXAMPLES
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.diff import diff

NCA = shutil.which("nca")
pytestmark = pytest.mark.skipif(NCA is None, reason="network-config-analyzer (nca) is not installed")
FIXTURES = Path(__file__).parent.parent / "fixtures"
ALLOW_BEFORE_DENY = (FIXTURES / "allow-before-deny" / "input.yaml").read_text()


def _topology(tmp_path: Path) -> list[str]:
    """Pods app=db and app=web in namespace prod, as NCA's --pod_list and --ns_list."""
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{app}-0",
                "namespace": "prod",
                "labels": {"app": app},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": app}],
            },
            "spec": {"nodeName": "node1", "containers": [{"name": "c", "image": "x"}]},
            "status": {"podIP": f"10.244.0.{10 + i}", "hostIP": "10.0.0.1", "phase": "Running"},
        }
        for i, app in enumerate(("db", "web"))
    ]
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}}
    (tmp_path / "pods.yaml").write_text(json.dumps({"apiVersion": "v1", "kind": "PodList", "items": pods}))
    (tmp_path / "ns.yaml").write_text(
        json.dumps({"apiVersion": "v1", "kind": "NamespaceList", "items": [namespace]})
    )
    return ["--pod_list", str(tmp_path / "pods.yaml"), "--ns_list", str(tmp_path / "ns.yaml")]


def _nca(tmp_path: Path, old: str, new: str) -> set[tuple[str, str, int]]:
    """NCA's changed connections: (added|removed, protocol, port)."""
    (tmp_path / "old.yaml").write_text(old)
    (tmp_path / "new.yaml").write_text(new)
    out = tmp_path / "nca.json"
    assert NCA is not None
    command = [
        NCA,
        "--semantic_diff",
        str(tmp_path / "new.yaml"),
        "--base_np_list",
        str(tmp_path / "old.yaml"),
    ]
    command += [*_topology(tmp_path), "--output_format", "json", "--file_out", str(out)]
    subprocess.run(command, check=False, capture_output=True, timeout=120)
    found: set[tuple[str, str, int]] = set()
    for query in json.loads(out.read_text()):
        for explanation in query.get("explanation", []):
            change = explanation["description"].split()[0].lower()
            for rule in explanation["rules"]:
                assert rule["src_pods"] == ["web"], rule  # the only peer the policies name
                for connection in rule["connection"]:
                    for port in connection["dst_ports"]:
                        found.add((change, connection["protocols"], port))
    return found


def _ours(old: str, new: str) -> set[tuple[str, str, int]]:
    docs: list[Any] = []
    for text, name in ((old, "old.yaml"), (new, "new.yaml")):
        docs.append(list(read_documents(text, name)[0]))
    result = diff(docs[0], docs[1], Assumptions(pod_cidrs=("10.244.0.0/16",)))
    for change in result.changes:
        assert change.flow.peer.labels.get("app") == "web" and change.flow.subject.labels.get("app") == "db"
    return {
        ("added" if c.new.allowed else "removed", {6: "TCP", 17: "UDP"}[c.flow.protocol], c.flow.dst_port)
        for c in result.changes
    }


EDITS = {
    "port changed": (ALLOW_BEFORE_DENY, ALLOW_BEFORE_DENY.replace("ports: [80]", "ports: [8080]")),
    "allow made deny": (EXAMPLES["C2C410"].old, EXAMPLES["C2C410"].failing),
    "port added": (EXAMPLES["C2C411"].old, EXAMPLES["C2C411"].failing),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_same_changed_connections_as_nca(edit: str, tmp_path: Path) -> None:
    old, new = EDITS[edit]
    ours = _ours(old, new)
    assert ours and ours == _nca(tmp_path, old, new)
