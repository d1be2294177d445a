"""The concrete engine: inventories as kubectl prints them, verdict tables, the deepdiff report."""

from __future__ import annotations

from calico2cilium.io.inventory import read_inventory
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify_inventory
from calico2cilium.verify.concrete import probe_name

INVENTORY = """
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {env: prod}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: monitoring}}
- apiVersion: v1
  kind: Pod
  metadata: {name: api-1, namespace: shop, labels: {app: api, pod-template-hash: abc}}
  spec:
    nodeName: n1
    serviceAccountName: api
    containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]
  status: {podIP: 10.0.0.5, podIPs: [{ip: 10.0.0.5}]}
- {apiVersion: v1, kind: Pod, metadata: {name: fe-1, namespace: shop, labels: {app: frontend}}, spec: {nodeName: n2}, status: {podIP: 10.0.1.5}}
- {apiVersion: v1, kind: Pod, metadata: {name: prom, namespace: monitoring, labels: {app: prometheus}}, spec: {nodeName: n2}, status: {podIP: 10.0.2.5}}
- {apiVersion: v1, kind: Pod, metadata: {name: agent, namespace: kube-system}, spec: {nodeName: n1, hostNetwork: true}, status: {podIP: 192.168.0.1}}
- {apiVersion: v1, kind: Node, metadata: {name: n1}, status: {addresses: [{type: InternalIP, address: 192.168.0.1}, {type: Hostname, address: n1}]}}
- {apiVersion: v1, kind: Node, metadata: {name: n2}, status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}}
"""

CALICO = """
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  selector: app == 'api'
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: app == 'frontend'}
    destination: {ports: [http]}
"""

CILIUM_OK = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: api}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: frontend}}]
    toPorts: [{ports: [{port: http, protocol: TCP}]}]
"""

A = Assumptions(ip_families=(4,))


def inventory():  # type: ignore[no-untyped-def]
    return read_inventory(read_documents(INVENTORY, "inv.yaml")[0], external=["203.0.113.7", "not-an-ip"])


def test_inventory_reading() -> None:
    inv = inventory()
    assert [p.name for p in inv.pods] == ["api-1", "fe-1", "prom"]  # host-network pods are their node
    api = inv.pods[0]
    assert api.service_account == "api" and api.named_ports == {"http": (6, 8080)}
    assert inv.namespace_labels("monitoring") == {"kubernetes.io/metadata.name": "monitoring"}
    assert [str(ip) for ip in inv.nodes["n1"]] == ["192.168.0.1"]
    assert [str(ip) for ip in inv.external] == ["203.0.113.7"]


def test_equivalent_tables_have_no_difference() -> None:
    result = verify_inventory(
        read_documents(CALICO, "c.yaml")[0], read_documents(CILIUM_OK, "k.yaml")[0], inventory(), A
    )
    assert result.equivalent, result.render_text()
    assert result.diff == {}
    table = result.calico["ingress"]["shop/api-1 10.0.0.5"]
    assert table["pod shop/fe-1 10.0.1.5"]["TCP/8080"] == "allow"
    assert table["pod shop/fe-1 10.0.1.5"]["TCP/80"] == "deny"
    # the local node (docs/reference/semantics.md §1.5, 2.4)
    assert table["host n1 192.168.0.1"]["TCP/80"] == "allow"
    assert "No difference" in result.render_text()


def test_differences_come_from_the_deepdiff_and_name_the_rules() -> None:
    wrong = CILIUM_OK.replace("port: http", 'port: "8081"')
    result = verify_inventory(
        read_documents(CALICO, "c.yaml")[0], read_documents(wrong, "k.yaml")[0], inventory(), A
    )
    assert not result.equivalent
    assert "values_changed" in result.diff
    ports = sorted({d.flow.dst_port for d in result.differences})
    assert ports == [8080, 8081]
    text = result.render_text()
    assert "c.yaml:8:5" in text and "k.yaml:8:5" in text


def test_probe_names() -> None:
    assert probe_name((6, 80, 0)) == "TCP/80"
    assert probe_name((1, 0, 8)) == "ICMP/type8"
    assert probe_name((47, 0, 0)) == "proto47"
