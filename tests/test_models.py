"""Typed input models: the corpus, the registry, and the helpers other stages rely on.

Negative cases (one per rule, with ``loc`` and error ``type``) are in ``test_models_errors.py``;
property tests for ports and CIDRs in ``test_models_properties.py``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from calico2cilium.calico import kinds
from calico2cilium.calico.base import Resource
from calico2cilium.calico.globalnetworkpolicy import GlobalNetworkPolicy, GlobalNetworkPolicyV1
from calico2cilium.calico.hostendpoint import HostEndpoint
from calico2cilium.calico.networkpolicy import NetworkPolicyV1
from calico2cilium.calico.networkset import NetworkSet
from calico2cilium.calico.scalars import Cidr, Port, Protocol, SetCidr
from calico2cilium.calico.tier import Tier
from calico2cilium.k8s.networkpolicy import KubernetesNetworkPolicy

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"


def load(text: str) -> BaseModel:
    data = yaml.safe_load(text)
    model = kinds.model_for(data["apiVersion"], data["kind"])
    assert model is not None
    return model.model_validate(data)


def _corpus_resources() -> list[Any]:
    params: list[Any] = []
    if not CORPUS.is_dir():
        return params
    files = sorted((CORPUS / "calico-docs").glob("*.yaml")) + sorted(
        (CORPUS / "calico-docs" / "k8s").glob("*.yaml")
    )
    files += sorted((CORPUS / "cilium-cli").glob("*.yaml"))  # Kubernetes NetworkPolicies only
    for path in files:
        for doc_index, document in enumerate(yaml.safe_load_all(path.read_text())):
            items = document if isinstance(document, list) else [document]
            for item_index, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                if "cilium-cli" in path.parts and item.get("apiVersion") != "networking.k8s.io/v1":
                    continue
                key = (path.name, doc_index, item_index)
                params.append(pytest.param(key, item, id=f"{path.name}[{doc_index}.{item_index}]"))
    return params


# Corpus documents that Calico itself refuses; each entry lists the exact errors, as
# {(file, document index, list item index): {(error type, loc), ...}}.
KNOWN_INVALID: dict[tuple[str, int, int], set[tuple[str, tuple[Any, ...]]]] = {
    # A numeric port without a protocol: validateRule refuses it ("rules with numeric port or port
    # range must set protocol to TCP or UDP or SCTP"). Only all-named ports may omit the protocol.
    ("calico__network-policy__get-started__calico-policy__calico-labels__1.yaml", 0, 0): {
        ("invalid_rule", ("spec", "ingress", 0, "destination", "ports", 0)),
    },
    ("calico__network-policy__get-started__calico-policy__calico-labels__6.yaml", 0, 0): {
        ("invalid_rule", ("spec", "ingress", 0, "destination", "ports", 0)),
    },
    # Metadata-only fragments: the v3 CRDs require `spec` (required: [metadata, spec]).
    ("calico__network-policy__get-started__calico-policy__calico-network-policy__1.yaml", 0, 0): {
        ("missing", ("spec",)),
    },
    ("calico__network-policy__get-started__calico-policy__calico-network-policy__2.yaml", 0, 0): {
        ("missing", ("spec",)),
    },
    # `type: 8  Ping request`: the comment lost its '#', so YAML reads a string, not an integer.
    ("calico__network-policy__policy-rules__icmp-ping__2.yaml", 0, 0): {
        ("int_type", ("spec", "ingress", 0, "icmp", "type")),
        ("int_type", ("spec", "ingress", 1, "icmp", "type")),
    },
    ("calico__network-policy__policy-rules__icmp-ping__3.yaml", 0, 0): {
        ("int_type", ("spec", "ingress", 0, "icmp", "type")),
        ("int_type", ("spec", "ingress", 0, "icmp", "code")),
    },
    # `nets: [1.2.3.4/16, 100.100.100.0/16]` in a v3 GlobalNetworkPolicy: not strictly masked,
    # which the tag `net` (validateIPNetwork) refuses; calicoctl would reject the example as
    # written (test_rule_nets_follow_the_validator_for_v3_and_felix_for_crd_v1).
    ("calico__network-policy__services__kubernetes-node-ports__1.yaml", 0, 0): {
        ("invalid_cidr", ("spec", "ingress", 0, "source", "nets", 0)),
        ("invalid_cidr", ("spec", "ingress", 0, "source", "nets", 1)),
    },
    # A placeholder, not an IP address.
    ("calico__network-policy__services__kubernetes-node-ports__3.yaml", 0, 0): {
        ("invalid_cidr", ("spec", "expectedIPs", 0)),
    },
    # `'10.20.30.40/32  Cluster IP A'`: a comment inside the quoted CIDR.
    ("calico__network-policy__services__services-cluster-ips__1.yaml", 0, 0): {
        ("invalid_cidr", ("spec", "ingress", 0, "destination", "nets", 0)),
        ("invalid_cidr", ("spec", "ingress", 1, "destination", "nets", 0)),
    },
    ("calico__network-policy__services__services-cluster-ips__2.yaml", 0, 0): {
        ("invalid_cidr", ("spec", "ingress", 0, "destination", "nets", 0)),
    },
    # The `ingress:` key is missing, so the two rules became items of `types`.
    ("calico__network-policy__services__services-cluster-ips__3.yaml", 0, 0): {
        ("literal_error", ("spec", "types", 1)),
        ("literal_error", ("spec", "types", 2)),
    },
    # A HostEndpoint with neither interfaceName nor expectedIPs (CEL "at least one of
    # interfaceName or expectedIPs must be specified"; validateHostEndpointSpec before v3.32).
    ("calico__reference__calicoctl__get__1.yaml", 0, 1): {
        ("invalid_rule", ("spec",)),
    },
    # `interface:` is not a HostEndpoint field (it is `interfaceName`).
    ("calico__reference__resources__overview__2.yaml", 0, 0): {("extra_forbidden", ("spec", "interface"))},
    ("calico__reference__resources__overview__2.yaml", 0, 1): {("extra_forbidden", ("spec", "interface"))},
}

CORPUS_RESOURCES = _corpus_resources()


@pytest.mark.parametrize(("key", "document"), CORPUS_RESOURCES or [pytest.param(None, None, id="no-corpus")])
def test_corpus_document(key: tuple[str, int, int] | None, document: dict[str, Any] | None) -> None:
    if key is None or document is None:
        pytest.skip(f"{SHARED} is not available")
    model = kinds.model_for(document["apiVersion"], document["kind"])
    assert model is not None, f"no model for {document['apiVersion']} {document['kind']}"
    expected = KNOWN_INVALID.get(key)
    if expected is None:
        resource = model.model_validate(document)
        assert isinstance(resource, Resource)
        list(resource.selector_fields())
        # What the model writes back reads in again to the same model.
        assert (
            model.model_validate(resource.model_dump(mode="json", by_alias=True, exclude_unset=True))
            == resource
        )
    else:
        with pytest.raises(ValidationError) as info:
            model.model_validate(document)
        assert {(e["type"], e["loc"]) for e in info.value.errors()} == expected


def test_known_invalid_entries_are_all_in_the_corpus() -> None:
    if not CORPUS_RESOURCES:
        pytest.skip(f"{SHARED} is not available")
    keys = {p.values[0] for p in CORPUS_RESOURCES}
    assert set(KNOWN_INVALID) <= keys


# ------------------------------------------------------------------------------------------------
# Registry
# ------------------------------------------------------------------------------------------------


def test_registry_covers_every_kind_in_both_calico_api_versions() -> None:
    calico = {
        "GlobalNetworkPolicy",
        "NetworkPolicy",
        "HostEndpoint",
        "NetworkSet",
        "GlobalNetworkSet",
        "Tier",
    }
    for api in ("projectcalico.org/v3", "crd.projectcalico.org/v1"):
        for kind in calico:
            model = kinds.model_for(api, kind)
            assert model is not None and model.model_fields["api_version"].alias == "apiVersion"
    assert kinds.model_for("networking.k8s.io/v1", "NetworkPolicy") is KubernetesNetworkPolicy
    assert len(kinds.MODELS) == 13
    assert kinds.model_for("projectcalico.org/v3", "Profile") is None
    assert kinds.model_for("projectcalico.org/v1", "NetworkPolicy") is None
    assert "Profile" in kinds.KNOWN_UNSUPPORTED_KINDS
    assert {"StagedGlobalNetworkPolicy", "StagedNetworkPolicy", "StagedKubernetesNetworkPolicy"} <= (
        kinds.KNOWN_UNSUPPORTED_KINDS
    )
    assert not kinds.KNOWN_UNSUPPORTED_KINDS & {kind for _, kind in kinds.MODELS}


def test_a_model_refuses_the_other_api_version() -> None:
    doc = {"apiVersion": "crd.projectcalico.org/v1", "kind": "Tier", "metadata": {"name": "a"}, "spec": {}}
    with pytest.raises(ValidationError) as info:
        Tier.model_validate(doc)
    assert [(e["type"], e["loc"]) for e in info.value.errors()] == [("literal_error", ("apiVersion",))]


# ------------------------------------------------------------------------------------------------
# Selector fields
# ------------------------------------------------------------------------------------------------

GNP_ALL_SELECTORS = """
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: sel}
spec:
  selector: app == 'web'
  namespaceSelector: team == 'a'
  serviceAccountSelector: role == 'api'
  ingress:
    - action: Allow
      source:
        selector: app == 'client'
        notSelector: bad == 'true'
        namespaceSelector: global()
        serviceAccounts: {names: [sa], selector: tier == 'fe'}
  egress:
    - action: Allow
      destination:
        selector: ""
"""


def test_selector_fields_yields_every_selector_with_its_yaml_path() -> None:
    gnp = load(GNP_ALL_SELECTORS)
    assert isinstance(gnp, GlobalNetworkPolicy)
    assert sorted(gnp.selector_fields(), key=str) == sorted(
        [
            (("spec", "selector"), "app == 'web'"),
            (("spec", "namespaceSelector"), "team == 'a'"),
            (("spec", "serviceAccountSelector"), "role == 'api'"),
            (("spec", "ingress", 0, "source", "selector"), "app == 'client'"),
            (("spec", "ingress", 0, "source", "notSelector"), "bad == 'true'"),
            (("spec", "ingress", 0, "source", "namespaceSelector"), "global()"),
            (("spec", "ingress", 0, "source", "serviceAccounts", "selector"), "tier == 'fe'"),
            (("spec", "egress", 0, "destination", "selector"), ""),
        ],
        key=str,
    )


def test_selector_fields_of_kinds_without_calico_selectors_is_empty() -> None:
    tier = load("apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\nspec: {order: 1}\n")
    knp = load(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: k}\n"
        "spec: {podSelector: {matchLabels: {a: b}}}\n"
    )
    assert isinstance(tier, Resource) and isinstance(knp, Resource)
    assert list(tier.selector_fields()) == [] and list(knp.selector_fields()) == []


# ------------------------------------------------------------------------------------------------
# types defaulting, tiers and names
# ------------------------------------------------------------------------------------------------


def _policy(api: str, kind: str, spec: str, name: str = "p") -> Any:
    return load(f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n{spec}")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("  selector: all()\n", ("Ingress",)),
        ("  ingress: [{action: Allow}]\n", ("Ingress",)),
        ("  egress: [{action: Allow}]\n", ("Egress",)),
        ("  ingress: [{action: Allow}]\n  egress: [{action: Allow}]\n", ("Ingress", "Egress")),
        ("  egress: []\n", ("Ingress",)),  # by length, as clientv3's defaulting does
        ("  types: [Egress]\n  ingress: [{action: Allow}]\n", ("Egress",)),
        ("  types: []\n  egress: [{action: Deny}]\n", ("Egress",)),
    ],
)
def test_effective_types_follow_calico_defaulting(spec: str, expected: tuple[str, ...]) -> None:
    for kind in ("GlobalNetworkPolicy", "NetworkPolicy"):
        policy = _policy("projectcalico.org/v3", kind, spec)
        assert policy.effective_types() == expected
        assert policy.spec.defaulted_types() == expected


def test_types_are_kept_as_written() -> None:
    assert _policy("projectcalico.org/v3", "NetworkPolicy", "  selector: all()\n").spec.types is None
    assert _policy("projectcalico.org/v3", "NetworkPolicy", "  types: [Egress, Ingress]\n").spec.types == (
        "Egress",
        "Ingress",
    )


def test_crd_v1_policy_without_types_governs_both_directions() -> None:
    # The v1 object is Calico's stored form; nothing defaults it and felix reads empty types as
    # Ingress + Egress (felix/calc/policy_sorter.go, docs/reference/semantics-check.md claim 14b).
    policy = _policy("crd.projectcalico.org/v1", "GlobalNetworkPolicy", "  ingress: [{action: Allow}]\n")
    assert isinstance(policy, GlobalNetworkPolicyV1)
    assert policy.effective_types() == ("Ingress", "Egress")
    assert policy.spec.defaulted_types() == ("Ingress",)
    typed = _policy("crd.projectcalico.org/v1", "NetworkPolicy", "  types: [Ingress]\n")
    assert typed.effective_types() == ("Ingress",)


@pytest.mark.parametrize(
    ("api", "name", "tier", "tier_name", "policy_name"),
    [
        ("projectcalico.org/v3", "allow", None, "default", "allow"),
        ("projectcalico.org/v3", "default.allow", None, "default", "default.allow"),
        ("projectcalico.org/v3", "devops.allow", "devops", "devops", "devops.allow"),
        ("crd.projectcalico.org/v1", "default.allow", None, "default", "allow"),
        ("crd.projectcalico.org/v1", "default.allow", "", "default", "allow"),
        ("crd.projectcalico.org/v1", "devops.allow", "devops", "devops", "allow"),
        ("crd.projectcalico.org/v1", "allow", None, "default", "allow"),
        ("crd.projectcalico.org/v1", "other.allow", "devops", "devops", "other.allow"),
    ],
)
def test_tier_and_policy_names(
    api: str, name: str, tier: str | None, tier_name: str, policy_name: str
) -> None:
    spec = "  selector: all()\n" + (f"  tier: '{tier}'\n" if tier is not None else "")
    for kind in ("GlobalNetworkPolicy", "NetworkPolicy"):
        policy = _policy(api, kind, spec, name=name)
        assert (policy.tier_name, policy.policy_name) == (tier_name, policy_name)
        assert policy.is_crd_v1 == (api == "crd.projectcalico.org/v1")


def test_kubectl_get_metadata_is_accepted() -> None:
    text = """
apiVersion: crd.projectcalico.org/v1
kind: NetworkPolicy
metadata:
  annotations:
    projectcalico.org/metadata: '{"creationTimestamp":"2024-05-01T10:00:00Z"}'
    kubectl.kubernetes.io/last-applied-configuration: '{}'
  creationTimestamp: "2024-05-01T10:00:00Z"
  deletionTimestamp: 2024-05-02T10:00:00Z
  deletionGracePeriodSeconds: 30
  finalizers: [example.com/keep]
  generateName: gen-
  generation: 3
  labels: {projectcalico.org/tier: default, app.kubernetes.io/name: web}
  managedFields:
    - apiVersion: crd.projectcalico.org/v1
      fieldsType: FieldsV1
      fieldsV1: {f:spec: {}}
      manager: calico
      operation: Update
  name: default.allow-web
  namespace: prod
  ownerReferences:
    - {apiVersion: v1, kind: Namespace, name: prod, uid: 1234}
  resourceVersion: "987"
  selfLink: /apis/crd.projectcalico.org/v1/namespaces/prod/networkpolicies/default.allow-web
  uid: 5d5e4e2a-0000-4000-8000-000000000000
spec:
  tier: default
  order: 100
  selector: app == 'web'
  types: [Ingress]
  ingress:
    - action: Allow
      protocol: TCP
      destination: {ports: [443]}
"""
    policy = load(text)
    assert isinstance(policy, NetworkPolicyV1)
    assert policy.policy_name == "allow-web" and policy.metadata.namespace == "prod"
    assert (
        policy.metadata.deletion_timestamp == "2024-05-02T10:00:00Z"
    )  # datetime from safe_load, kept as text


# ------------------------------------------------------------------------------------------------
# Values: ports, protocols, CIDRs
# ------------------------------------------------------------------------------------------------


def test_ports_parse_numbers_ranges_and_names() -> None:
    assert Port.parse(80) == Port.parse("80")
    single, text, rng, named = (Port.parse(v) for v in (80, "0080", "1000:2000", "http-alt"))
    assert (single.min_port, single.max_port, single.name) == (80, 80, None)
    assert (text.min_port, text.max_port) == (80, 80)
    assert (rng.min_port, rng.max_port, rng.is_named) == (1000, 2000, False)
    assert (named.name, named.is_named) == ("http-alt", True)
    assert [p.model_dump() for p in (single, rng, named)] == [80, "1000:2000", "http-alt"]


def test_protocols_parse_names_and_numbers() -> None:
    assert Protocol.parse("TCP").number == 6
    assert Protocol.parse("6").value == 6  # numorstring: a string of digits is the number
    assert Protocol.parse(132).supports_ports()
    assert not Protocol.parse("UDPLite").supports_ports()  # Calico's SupportsPorts: TCP, UDP, SCTP
    assert Protocol.parse("ICMPv6").number == 58


def test_cidrs_keep_text_and_normalised_network() -> None:
    cidr = Cidr.parse("10.1.2.3/16")
    assert cidr.network == ipaddress.ip_network("10.1.0.0/16")
    assert cidr.has_host_bits and cidr.text == "10.1.2.3/16" and cidr.as_yaml() == "10.1.2.3/16"
    dumped: Any = cidr.model_dump()
    assert dumped == "10.1.2.3/16"
    assert not Cidr.parse("2001:db8::/32").has_host_bits and Cidr.parse("2001:db8::/32").version == 6
    assert SetCidr.parse("192.0.2.7").network == ipaddress.ip_network("192.0.2.7/32")
    assert SetCidr.parse("2001:db8::1").network.prefixlen == 128


def test_named_ports_need_no_protocol_and_numeric_strings_work_as_protocols() -> None:
    policy = _policy(
        "projectcalico.org/v3",
        "NetworkPolicy",
        "  ingress:\n    - action: Allow\n      destination: {ports: [http, metrics]}\n"
        "    - action: Allow\n      protocol: '17'\n      destination: {ports: ['53', '1000:2000']}\n",
    )
    assert [p.name for p in policy.spec.ingress[0].destination.ports] == ["http", "metrics"]
    assert policy.spec.ingress[1].protocol.value == 17


def test_network_set_accepts_bare_addresses_as_host_prefixes() -> None:
    netset = load(
        "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata: {name: s, namespace: n, labels: {a: b}}\n"
        "spec:\n  nets: [192.0.2.7, 10.0.0.0/8, '2001:db8::/64']\n"
    )
    assert isinstance(netset, NetworkSet)
    assert [str(c.network) for c in netset.spec.nets] == ["192.0.2.7/32", "10.0.0.0/8", "2001:db8::/64"]


def test_global_selector_alone_in_a_rule_namespace_selector_is_fine() -> None:
    policy = _policy(
        "projectcalico.org/v3",
        "NetworkPolicy",
        "  ingress:\n    - action: Allow\n      source: {namespaceSelector: ' global() ', selector: 'a == \"b\"'}\n",
    )
    assert policy.spec.ingress[0].source.namespace_selector == " global() "


def test_null_lists_and_flags_mean_absent() -> None:
    policy = load(
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: n, labels: null}\n"
        "spec:\n  ingress:\n  egress:\n  doNotTrack:\n  selector:\n"
    )
    assert isinstance(policy, GlobalNetworkPolicy)
    assert policy.spec.ingress == () and policy.spec.egress == () and policy.spec.do_not_track is False
    assert policy.spec.selector is None and policy.metadata.labels == {}


# ------------------------------------------------------------------------------------------------
# Models are immutable; names and aliases both work
# ------------------------------------------------------------------------------------------------


def test_models_are_frozen_and_hashable() -> None:
    policy = load(GNP_ALL_SELECTORS)
    assert isinstance(policy, GlobalNetworkPolicy)
    with pytest.raises(ValidationError):
        policy.spec.ingress[0].action = "Deny"  # type: ignore[misc]
    assert hash(policy.spec.ingress[0]) == hash(load(GNP_ALL_SELECTORS).spec.ingress[0])  # type: ignore[attr-defined]


def test_python_names_populate_fields_too() -> None:
    from calico2cilium.calico.rules import EntityRule, Rule

    rule = Rule(action="Allow", ip_version=4, source=EntityRule(not_nets=(Cidr.parse("10.0.0.0/8"),)))
    assert rule.model_dump(by_alias=True, exclude_defaults=True) == {
        "action": "Allow",
        "ipVersion": 4,
        "source": {"notNets": ("10.0.0.0/8",)},
    }


def test_host_endpoint_fields() -> None:
    hep = load(
        "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec:\n"
        "  node: node-1\n  interfaceName: '*'\n  expectedIPs: [192.0.2.1, '2001:db8::1']\n"
        "  profiles: [projectcalico-default-allow]\n  ports: [{name: ssh, protocol: TCP, port: 22}]\n"
    )
    assert isinstance(hep, HostEndpoint)
    assert hep.spec.all_interfaces and [str(ip) for ip in hep.spec.expected_ips] == [
        "192.0.2.1",
        "2001:db8::1",
    ]
    assert hep.spec.ports[0].protocol.number == 6


# ------------------------------------------------------------------------------------------------
# Kubernetes NetworkPolicy
# ------------------------------------------------------------------------------------------------

KNP = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: prod}
spec:
  podSelector:
    matchLabels: {app: web}
    matchExpressions:
      - {key: tier, operator: In, values: [fe, be]}
      - {key: legacy, operator: DoesNotExist}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: a}}
          podSelector: {matchExpressions: [{key: role, operator: NotIn, values: [db]}]}
        - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
      ports:
        - {port: 8000, endPort: 8080}
        - {protocol: UDP, port: dns}
status:
  conditions: []
"""


def test_kubernetes_network_policy_full_spec() -> None:
    knp = load(KNP)
    assert isinstance(knp, KubernetesNetworkPolicy)
    rule = knp.spec.ingress[0]
    assert rule.from_[1].ip_block is not None and str(rule.from_[1].ip_block.except_[0]) == "10.1.0.0/16"
    assert [(p.effective_protocol, p.port, p.end_port) for p in rule.ports] == [
        ("TCP", 8000, 8080),
        ("UDP", "dns", None),
    ]
    assert knp.effective_policy_types() == ("Ingress",)
    assert knp.spec.pod_selector.match_expressions[1].values == ()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("{}", ("Ingress",)),
        ("{egress: []}", ("Ingress",)),  # the API server tests len(spec.egress) != 0
        ("{egress: [{}]}", ("Ingress", "Egress")),
        ("{policyTypes: [Egress], ingress: [{}]}", ("Egress",)),
        ("{policyTypes: []}", ("Ingress",)),
    ],
)
def test_kubernetes_policy_types_defaulting(spec: str, expected: tuple[str, ...]) -> None:
    knp = load(
        f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: k}}\nspec: {spec}\n"
    )
    assert isinstance(knp, KubernetesNetworkPolicy)
    assert knp.effective_policy_types() == expected


_NETS_POLICY = """
apiVersion: {api}
kind: GlobalNetworkPolicy
metadata: {{name: p}}
spec:
  selector: all()
  egress:
  - action: Allow
    destination: {{nets: [{net}]}}
"""


@pytest.mark.parametrize(
    ("net", "v3_valid", "felix_network"),
    [
        ("10.0.0.0/8", True, "10.0.0.0/8"),
        ("2001:db8::/32", True, "2001:db8::/32"),
        ("1.2.3.4", False, "1.2.3.4/32"),  # validateRule: cnet.ParseCIDR needs "/len"
        ("2001:db8::1", False, "2001:db8::1/128"),
        ("10.0.0.1/8", False, "10.0.0.0/8"),  # tag `net` = validateIPNetwork: strictly masked
    ],
)
def test_rule_nets_follow_the_validator_for_v3_and_felix_for_crd_v1(
    net: str, v3_valid: bool, felix_network: str
) -> None:
    """Rule ``nets`` as Calico checks and reads them (projectcalico/calico, read 2026).

    ``libcalico-go/lib/validator/v3/validator.go``: the field tag ``net`` of ``EntityRule.Nets``
    (``api/pkg/apis/projectcalico/v3/policy_common.go``, ``validate:"omitempty,dive,net"``) is
    ``validateIPNetwork``, which takes a bare address as /32 or /128 but refuses a CIDR that is
    not strictly masked; ``validateRule``'s ``scanNets`` then parses every entry with
    ``cnet.ParseCIDR`` (Go ``net.ParseCIDR``) and reports "invalid CIDR" for a bare address. So a
    ``projectcalico.org/v3`` document can carry neither. A ``crd.projectcalico.org/v1`` object is
    not validated, and Felix reads its nets with ``cnet.ParseCIDROrIP`` and masks them
    (``normalizeIPNets``, ``libcalico-go/lib/backend/syncersv1/updateprocessors/rules.go``).
    """
    v3 = _NETS_POLICY.format(api="projectcalico.org/v3", net=net)
    if v3_valid:
        load(v3)
    else:
        with pytest.raises(ValidationError) as info:
            load(v3)
        (error,) = info.value.errors()
        assert error["type"] == "invalid_cidr"
        assert error["loc"] == ("spec", "egress", 0, "destination", "nets", 0)
        assert felix_network in error["msg"]  # the message says what to write instead
    v1: Any = load(_NETS_POLICY.format(api="crd.projectcalico.org/v1", net=net))
    (cidr,) = v1.spec.egress[0].destination.nets
    assert cidr.network == ipaddress.ip_network(felix_network)


@pytest.mark.parametrize("net", ["10.0.0.1", "10.0.0.1/24", "dead:beef::", "dead:beef::1/96"])
def test_network_set_nets_take_bare_and_unmasked_entries(net: str) -> None:
    # [V] NetworkSetSpec/GlobalNetworkSetSpec.Nets carry the tag `cidr` (validateCIDR:
    # cnet.ParseCIDROrIP, "not strictly masked"); validator_test.go accepts "10.0.0.1" there.
    for kind in ("NetworkSet", "GlobalNetworkSet"):
        namespace = ", namespace: ns" if kind == "NetworkSet" else ""
        text = f"apiVersion: projectcalico.org/v3\nkind: {kind}\nmetadata: {{name: s{namespace}}}\n"
        model: Any = load(text + f"spec: {{nets: ['{net}']}}\n")
        assert model.spec.nets[0].network == ipaddress.ip_network(net, strict=False)
