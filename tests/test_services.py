"""Calico ``services`` rule matches: reading Services from an inventory, resolving a match against
them (the compiler's ``compile/services.py`` and, written apart, the verifier's
``semantics/services.py``), the conversion, and the verifier catching a conversion that gets the
endpoints or their ports wrong.

Sources: projectcalico/calico felix ``calc/rule_scanner.go`` (a destination service is an IP and
port set, a source service an address set) and ``serviceindex/service_index.go``
(``membersFromEndpointSlice``); docs/reference/semantics.md §1.4 and 3.4.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from click.testing import CliRunner

from calico2cilium.cli import main
from calico2cilium.compile.services import ServiceRefused, resolve_known
from calico2cilium.facts.cluster import Services
from calico2cilium.io.inventory import read_inventory
from calico2cilium.io.write import dump_yaml
from calico2cilium.semantics.services import Unresolvable, service_endpoints
from calico2cilium.semantics.world import Assumptions, node_labels
from calico2cilium.verify.api import verify
from calico2cilium.verify.conversion import check_conversion
from helpers import convert

CLUSTER = {"pod_cidrs": ("10.244.0.0/16",), "node_cidrs": ("10.0.0.0/24",)}


def _service(name: str, spec: dict[str, Any], namespace: str = "backend") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


API = _service("api", {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8080}]})
NAMESPACES = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "backend"}},
]


def _known(*items: dict[str, Any]) -> Services:
    inventory = read_inventory([*NAMESPACES, *items])
    assert inventory.ok, inventory.diagnostics
    return Services.of(inventory)


def test_services_are_read_and_target_ports_default_to_the_port() -> None:
    svc = _service(
        "dns",
        {
            "selector": {"k8s-app": "kube-dns"},
            "ports": [
                {"port": 53, "protocol": "UDP", "targetPort": 53},
                {"port": 53, "protocol": "TCP", "targetPort": "53"},
                {"port": 9153},
            ],
        },
    )
    backends = resolve_known(_known(svc), "dns", "backend", destination=True, families=(4,))
    assert backends.ports == ((6, 53), (6, 9153), (17, 53))
    assert backends.selector == (("k8s-app", "kube-dns"),)
    # A source match is the endpoints' addresses only: no ports.
    assert resolve_known(_known(svc), "dns", "backend", destination=False, families=(4,)).ports == ()


REFUSALS = [
    ([API], "other", True, "C2C330"),
    ([_service("db", {"ports": [{"port": 5432}]})], "db", True, "C2C331"),
    ([_service("db", {"selector": {}, "ports": [{"port": 5432}]})], "db", False, "C2C331"),
    (
        [_service("ext", {"type": "ExternalName", "externalName": "db.example.com"})],
        "ext",
        False,
        "C2C331",
    ),
    ([_service("hl", {"clusterIP": "None", "selector": {"app": "api"}})], "hl", True, "C2C332"),
    (
        [
            API,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "api-host", "namespace": "backend", "labels": {"app": "api"}},
                "spec": {"hostNetwork": True},
            },
        ],
        "api",
        False,
        "C2C332",
    ),
]


@pytest.mark.parametrize(("items", "name", "destination", "code"), REFUSALS)
def test_refusals(items: list[dict[str, Any]], name: str, destination: bool, code: str) -> None:
    with pytest.raises(ServiceRefused) as err:
        resolve_known(_known(*items), name, "backend", destination=destination, families=(4,))
    assert err.value.code == code


@pytest.mark.parametrize(
    ("items", "name", "destination", "code"),
    REFUSALS,
)
def test_the_verifier_leaves_what_the_compiler_refuses_outside_the_proof(
    items: list[dict[str, Any]], name: str, destination: bool, code: str
) -> None:
    with pytest.raises(Unresolvable):
        service_endpoints(_known(*items), name, "backend", with_ports=destination, families=(4,))


def test_the_two_readings_agree_on_a_resolvable_service() -> None:
    svc = _service(
        "web",
        {
            "selector": {"app": "web"},
            "ports": [{"port": 80, "targetPort": 8080}, {"port": 81, "targetPort": "m"}],
        },
    )
    compiled = resolve_known(_known(svc), "web", "backend", destination=True, families=(4,))
    proved = service_endpoints(_known(svc), "web", "backend", with_ports=True, families=(4,))
    assert (proved.labels, proved.ports, proved.named) == (
        compiled.selector,
        compiled.ports,
        compiled.named_ports,
    )
    assert service_endpoints(_known(svc), "web", "backend", with_ports=False, families=(4,)).ports == ()


def test_no_service_objects_at_all_is_c2c303_with_the_inventory_hint() -> None:
    with pytest.raises(ServiceRefused) as err:
        resolve_known(None, "api", "backend", destination=True, families=(4,))
    assert err.value.code == "C2C303" and err.value.hint and "--inventory" in err.value.hint


def test_headless_service_with_ports_and_a_named_target_port_resolve() -> None:
    """Headless Services with a selector get EndpointSlices too; a named targetPort is kept by name
    (each pod resolves it), for the verifier to model and the compiler to refuse."""
    svc = _service(
        "hl", {"clusterIP": "None", "selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": "http"}]}
    )
    backends = resolve_known(_known(svc), "hl", "backend", destination=True, families=(4,))
    assert backends.ports == () and backends.named_ports == ((6, "http"),)


POLICY = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  selector: app == 'web'
  types: [Egress]
  egress:
"""


def _convert(rules: str, *services: dict[str, Any]) -> Any:
    inventory = read_inventory([*NAMESPACES, *services])
    return convert(text=POLICY + rules, inventory=inventory, **CLUSTER)  # type: ignore[arg-type]


def _proof(result: Any, documents: list[dict[str, Any]] | None = None) -> str:
    given = Assumptions(**CLUSTER, services=Services.of(result.inventory))  # type: ignore[arg-type]
    return verify(result.loaded, result.documents if documents is None else documents, given).status


TO_API = "    - action: Allow\n      destination:\n        services: {name: api, namespace: backend}\n"


def test_egress_to_a_service_is_proven_and_warned() -> None:
    result = _convert(TO_API, API)
    assert [d.code for d in result.diagnostics] == ["C2C333"]
    assert _proof(result) == "equivalent"
    assert check_conversion(result, Assumptions(**CLUSTER)).status == "equivalent"  # type: ignore[arg-type]


def _egress_rule(documents: list[dict[str, Any]]) -> dict[str, Any]:
    rule: dict[str, Any] = documents[0]["specs"][0]["egress"][0]
    return rule


def test_the_verifier_catches_a_conversion_without_the_target_ports() -> None:
    result = _convert(TO_API, API)
    wide = copy.deepcopy(result.documents)
    del _egress_rule(wide)["toPorts"]
    assert _proof(result, wide) == "different"


def test_the_verifier_catches_the_service_port_instead_of_the_target_port() -> None:
    result = _convert(TO_API, API)
    wrong = copy.deepcopy(result.documents)
    _egress_rule(wrong)["toPorts"][0]["ports"][0]["port"] = "80"
    assert _proof(result, wrong) == "different"


def test_the_verifier_catches_the_wrong_namespace() -> None:
    result = _convert(TO_API, API)
    wrong = copy.deepcopy(result.documents)
    _egress_rule(wrong)["toEndpoints"][0]["matchLabels"]["k8s:io.kubernetes.pod.namespace"] = "shop"
    assert _proof(result, wrong) == "different"


def test_the_rule_protocol_intersects_the_service_ports() -> None:
    dual = _service(
        "dns",
        {
            "selector": {"app": "dns"},
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        },
    )
    rule = "    - action: Allow\n      protocol: UDP\n      destination:\n        services: {name: dns, namespace: backend}\n"
    result = _convert(rule, dual)
    ports = _egress_rule(result.documents)["toPorts"][0]["ports"]
    assert ports == [{"port": "53", "protocol": "UDP"}]
    assert _proof(result) == "equivalent"
    # ICMP never reaches an IP:port set: the rule matches nothing, so nothing is allowed (an
    # empty Cilium egress rule selects the pods for default deny and allows nothing).
    icmp = _convert(rule.replace("UDP", "ICMP"), dual)
    assert icmp.documents[0]["specs"][0]["egress"] == [{}]
    assert _proof(icmp) == "equivalent"


def test_a_deny_to_a_service_before_an_allow_all_denies_only_the_endpoint_ports() -> None:
    rules = TO_API.replace("Allow", "Deny") + "    - action: Allow\n"
    result = _convert(rules, API)
    assert _proof(result) == "equivalent"
    text = dump_yaml(result.documents)
    assert "8080" in text and "app: api" in text


def test_named_target_port_is_refused_in_egress_but_modelled_by_the_verifier() -> None:
    named = _service("api", {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": "http"}]})
    result = _convert(TO_API, named)
    assert [d.code for d in result.diagnostics] == ["C2C332"]
    # Fails closed (issue 15 item 1): the Allow rule is left out, the pods stay in default deny.
    assert result.diagnostics[0].narrowing and result.documents[0]["specs"][0]["egress"] == [{}]
    proof = verify(
        result.loaded,
        result.documents,
        Assumptions(**CLUSTER, services=Services.of(result.inventory)),  # type: ignore[arg-type]
        narrowing=True,
    )
    assert proof.status == "narrowed" and not proof.unsupported


def test_ip_version_with_a_service_in_a_dual_stack_cluster_is_refused() -> None:
    rule = TO_API.replace("- action: Allow\n", "- action: Allow\n      ipVersion: 4\n")
    inventory = read_inventory([*NAMESPACES, API])
    result = convert(text=POLICY + rule, inventory=inventory, pod_cidrs=("10.244.0.0/16", "fd00::/48"))
    assert [d.code for d in result.diagnostics] == ["C2C303"]


def test_cli_verify_takes_the_inventory_services_as_given(tmp_path: Any) -> None:
    result = _convert(TO_API, API)
    (tmp_path / "calico.yaml").write_text(POLICY + TO_API)
    (tmp_path / "cilium.yaml").write_text(dump_yaml(result.documents))
    (tmp_path / "inv.yaml").write_text(dump_yaml([*NAMESPACES, API]))
    args = ["verify", "--calico", str(tmp_path / "calico.yaml"), "--cilium", str(tmp_path / "cilium.yaml")]
    args += ["--pod-cidr", "10.244.0.0/16", "--node-cidr", "10.0.0.0/24"]
    given = CliRunner().invoke(main, [*args, "--inventory", str(tmp_path / "inv.yaml")])
    assert given.exit_code == 0, given.output
    assert "Service object(s) as given" in given.output
    unknown = CliRunner().invoke(main, args)
    assert unknown.exit_code == 1, unknown.output


def test_a_refused_later_rule_keeps_the_converted_services_match() -> None:
    """A later rule is refused: only that rule is left out (issue 15 item 1, fail closed), so the
    services match is in the output and C2C333 says it is a snapshot."""
    refused = "    - action: Allow\n      source:\n        ports: [53]\n      protocol: UDP\n"
    result = _convert(TO_API + refused, API)
    assert sorted(d.code for d in result.diagnostics) == ["C2C303", "C2C333"]
    assert "8080" in dump_yaml(result.documents)


HOST_TO_API = """\
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: n1-eth0, labels: {role: node}}
spec: {node: n1, interfaceName: "*", expectedIPs: [10.0.0.1]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: nodes-to-api}
spec:
  order: 10
  selector: role == 'node'
  types: [Egress]
  egress:
"""


def test_host_endpoint_egress_to_a_service_keeps_the_endpoint_ports() -> None:
    """Host policies compile rules on their own path (compile/hosts.py): the Service's ports must
    restrict them there too. Calico's host -> own pods allowance (C2C324) is taken out of the
    comparison so that it cannot hide a difference."""
    inventory = read_inventory([*NAMESPACES, API])
    # Felix Drop for pod -> own node on both sides, so that the host ingress policy's narrowing of
    # a node's own pods under Accept (C2C343) does not hide the egress comparison this test is about.
    result = convert(
        text=HOST_TO_API + TO_API,
        inventory=inventory,
        endpoint_to_host_action="Drop",
        **CLUSTER,  # type: ignore[arg-type]
    )
    assert "C2C333" in {d.code for d in result.diagnostics}
    host = next(d for d in result.documents if d["metadata"]["name"] == "nodes-to-api")
    assert host["specs"][0]["egress"][0]["toPorts"] == [{"ports": [{"port": "8080", "protocol": "TCP"}]}]
    assumptions = Assumptions(
        **CLUSTER,  # type: ignore[arg-type]
        node_labels=node_labels({"n1": {"calico2cilium.io/node": "n1"}}),
        calico_host_to_own_pods_allowed=False,
        calico_endpoint_to_host_action="Drop",
        services=Services.of(inventory),
    )
    assert verify(result.loaded, result.documents, assumptions).status == "equivalent"


DUAL_STACK = {"pod_cidrs": ("10.244.0.0/16", "fd00:10:244::/56"), "node_cidrs": ("10.0.0.0/24",)}


def _api(families: list[str] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8080}]}
    if families is not None:
        spec["ipFamilies"] = families
    return _service("api", spec)


@pytest.mark.parametrize(
    ("families", "codes"),
    [
        (["IPv4", "IPv6"], ["C2C333"]),  # dual-stack: every address of the pods, as Cilium's peer
        (["IPv4"], ["C2C332"]),  # single-stack: only their IPv4 addresses, which no pod peer says
        (None, ["C2C332"]),  # not stated (hand-written): which family is not known
    ],
)
def test_a_services_match_in_a_dual_stack_cluster_follows_the_service_ip_families(
    families: list[str] | None, codes: list[str]
) -> None:
    """The EndpointSlice controller writes slices only for the Service's ipFamilies (review 4,
    finding 1): a single-stack Service in a dual-stack cluster matches one family of its pods."""
    inventory = read_inventory([*NAMESPACES, _api(families)])
    result = convert(text=POLICY + TO_API, inventory=inventory, **DUAL_STACK)  # type: ignore[arg-type]
    assert [d.code for d in result.diagnostics] == codes
    given = Assumptions(**DUAL_STACK, services=Services.of(inventory))  # type: ignore[arg-type]
    proof = verify(result.loaded, result.documents, given)
    if codes == ["C2C333"]:
        assert proof.status == "equivalent"
    elif families is not None:  # refused, and the verifier knows what was lost
        assert proof.status == "different" and not proof.unsupported


def test_the_verifier_catches_a_single_stack_service_converted_as_dual_stack() -> None:
    """The output made for a dual-stack Service allows IPv6 too: against the single-stack Service
    it is wider, and the proof says so."""
    dual = read_inventory([*NAMESPACES, _api(["IPv4", "IPv6"])])
    result = convert(text=POLICY + TO_API, inventory=dual, **DUAL_STACK)  # type: ignore[arg-type]
    single = Services.of(read_inventory([*NAMESPACES, _api(["IPv4"])]))
    given = Assumptions(**DUAL_STACK, services=single)  # type: ignore[arg-type]
    assert verify(result.loaded, result.documents, given).status == "different"


def test_a_service_of_the_other_family_matches_nothing_in_a_single_stack_cluster() -> None:
    inventory = read_inventory([*NAMESPACES, _api(["IPv6"])])
    result = convert(text=POLICY + TO_API, inventory=inventory, **CLUSTER)  # type: ignore[arg-type]
    assert result.documents[0]["specs"][0]["egress"] == [{}]
    # still a snapshot (the Service may turn dual-stack), and the warning says what was converted
    snapshot = next(d.message for d in result.diagnostics if d.code == "C2C333")
    assert "(their IPv6 addresses only)" in snapshot
    given = Assumptions(**CLUSTER, services=Services.of(inventory))  # type: ignore[arg-type]
    assert verify(result.loaded, result.documents, given).status == "equivalent"


def test_ip_families_must_name_ip_versions() -> None:
    inventory = read_inventory([*NAMESPACES, _api(["IPv5"])])
    assert not inventory.ok and "ipFamilies" in inventory.diagnostics[0].message
