"""Hypothesis strategies for small Calico policy sets (``test_convert_differential.py``).

A generated set has 0-2 Tiers (orders distinct, equal or absent; ``defaultAction`` Deny, Pass or
absent) besides ``default``, and 1-4 policies mixed from GlobalNetworkPolicy, (namespaced) Calico
NetworkPolicy and Kubernetes NetworkPolicy. Policies get orders distinct, equal (ties by name) or
absent, ``types`` explicit or implicit, and rules with Allow/Deny/Pass over selectors (``==``,
``!=``, ``in``, ``not in``, ``has``, ``!has``, ``||``, ``&&``, ``!``, ``all()``), namespace
selectors, nets/notNets (small overlapping CIDRs, IPv6 too, some covering the pod or node range),
protocol/notProtocol (names and numbers), ports/notPorts with ranges, ICMP types and service
account names, on the peer side and (selectors, ``global()``, nets) on the rule's local side; and
0-2 GlobalNetworkSets / NetworkSets labelled like pods, some holding pod addresses. No http,
services or host endpoints: other tests cover those.

The vocabulary is small on purpose: few keys, values and CIDRs make the generated policies overlap,
which is where ordering bugs live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st

from calico2cilium.facts.target import DEFAULT_CILIUM_VERSION

CLUSTERS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("10.244.0.0/16",), ("10.0.0.0/24",)),
    (("10.244.0.0/16", "fd00:10:244::/56"), ("10.0.0.0/24", "fd00:10:0:1::/64")),
)
"""(pod CIDRs, node CIDRs): IPv4 only, or dual-stack."""
CILIUM_VERSIONS = ("1.18", "1.18", "1.15", "1.16", "1.19")
"""Target versions: endPort and namespace injection change at 1.16, the local-cluster term at 1.19."""

NAMESPACES = ("ns1", "ns2")
POD_KEYS = ("app", "role")
VALUES = ("a", "b")
NS_KEYS = ("env",)
NS_VALUES = ("prod", "dev")
ACCOUNTS = ("sa1", "sa2")

NETS_V4 = (
    "192.0.2.0/24",
    "192.0.2.0/25",
    "192.0.2.64/26",
    "198.51.100.0/24",
    "0.0.0.0/0",
    "10.0.0.0/8",  # covers the pod and node ranges: rules for all pods and nodes
    "10.244.0.0/16",  # exactly the pod range
    "10.0.0.0/24",  # exactly the node range
)
NETS_V6 = ("2001:db8::/32", "2001:db8:1::/48", "::/0", "fd00::/8")
PORTS: tuple[int | str, ...] = (53, 80, 443, 8080, "80:90", "1000:2000", "1500:1600")
NAMED_PORTS: tuple[int | str, ...] = ("http", "dns")


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _atoms(keys: tuple[str, ...], values: tuple[str, ...]) -> st.SearchStrategy[str]:
    key = st.sampled_from(keys)
    value = st.sampled_from(values)
    subset = st.lists(value, min_size=1, max_size=2, unique=True).map(lambda vs: _quoted(tuple(vs)))
    return st.one_of(
        st.builds(lambda k, v: f"{k} == '{v}'", key, value),
        st.builds(lambda k, v: f"{k} != '{v}'", key, value),
        st.builds(lambda k, vs: f"{k} in {{{vs}}}", key, subset),
        st.builds(lambda k, vs: f"{k} not in {{{vs}}}", key, subset),
        st.builds(lambda k: f"has({k})", key),
        st.builds(lambda k: f"!has({k})", key),
        st.just("all()"),
    )


def selector_expressions(
    keys: tuple[str, ...] = POD_KEYS, values: tuple[str, ...] = VALUES
) -> st.SearchStrategy[str]:
    """Calico selector expressions of depth <= 2 over ``keys`` and ``values``."""
    atom = _atoms(keys, values)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(lambda a, b: f"({a}) && ({b})", inner, inner),
            st.builds(lambda a, b: f"({a}) || ({b})", inner, inner),
            st.builds(lambda a: f"!({a})", inner),
        )

    return st.recursive(atom, extend, max_leaves=3)


_SPECIAL = st.sampled_from(
    [
        "projectcalico.org/namespace == 'ns1'",
        "projectcalico.org/namespace != 'ns2'",
        "projectcalico.org/serviceaccount == 'sa1'",
        "projectcalico.org/serviceaccount in {'sa1', 'sa2'}",
        "pcns.env == 'prod'",
        "has(pcns.env)",
        "projectcalico.org/orchestrator == 'k8s'",
    ]
)
"""Labels Calico adds to every pod: its namespace, service account, namespace labels (``pcns.``)."""


def _with_special(plain: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        plain,
        plain,
        _SPECIAL,
        st.builds(lambda a, b: f"({a}) && ({b})", plain, _SPECIAL),
        st.builds(lambda a, b: f"({a}) || ({b})", _SPECIAL, plain),
    )


pod_selectors = _with_special(selector_expressions())
namespace_selectors = st.one_of(
    selector_expressions(NS_KEYS, NS_VALUES),
    st.sampled_from([f"projectcalico.org/name == '{n}'" for n in NAMESPACES]),
)


def _l4(draw: st.DrawFn) -> dict[str, Any]:
    """protocol/notProtocol, and the port or ICMP fields that go with them (Calico's rule
    validation: ports need TCP/UDP/SCTP, icmp needs ICMP/ICMPv6)."""
    out: dict[str, Any] = {}
    proto = draw(
        st.sampled_from([None, None, "TCP", "UDP", "SCTP", "ICMP", 6, 17, 1, "ICMPv6", 58, "UDPLite", 132])
    )
    if proto is not None:
        out["protocol"] = proto
    if draw(st.integers(0, 4)) == 0:
        choices = [p for p in ("TCP", "UDP", "ICMP", 17, 132) if p != proto]
        out["notProtocol"] = draw(st.sampled_from(choices))
    if proto in ("ICMP", 1, "ICMPv6", 58):
        kind = draw(st.sampled_from([None, "icmp", "notICMP"]))
        if kind is not None:
            out[kind] = {"type": draw(st.sampled_from([0, 3, 8, 128]))}
    return out


@st.composite
def entities(draw: st.DrawFn, ports: bool, family: int) -> dict[str, Any]:
    """A rule's source or destination (``ports``: the rule's protocol carries ports)."""
    out: dict[str, Any] = {}
    nets = NETS_V4 if family == 4 else NETS_V6
    if draw(st.integers(0, 3)) == 0:
        out["nets"] = draw(st.lists(st.sampled_from(nets), min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 4)) == 0:
        # Calico's validator rejects a catch-all in notNets (it matches nothing).
        narrow = [n for n in nets if not n.endswith("/0")]
        out["notNets"] = draw(st.lists(st.sampled_from(narrow), min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 2)) == 0:
        out["selector"] = draw(pod_selectors)
    if draw(st.integers(0, 5)) == 0:
        out["notSelector"] = draw(pod_selectors)
    if draw(st.integers(0, 4)) == 0:
        out["namespaceSelector"] = draw(
            st.one_of(namespace_selectors, st.sampled_from(["all()", "global()"]))
        )
    if draw(st.integers(0, 6)) == 0:
        out["serviceAccounts"] = {
            "names": draw(st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=2, unique=True))
        }
    if ports and draw(st.integers(0, 2)) == 0:
        out["ports"] = draw(st.lists(st.sampled_from(PORTS), min_size=1, max_size=2, unique=True))
    if ports and draw(st.integers(0, 5)) == 0:
        out["notPorts"] = draw(st.lists(st.sampled_from(PORTS), min_size=1, max_size=2, unique=True))
    return out


@st.composite
def local_entities(draw: st.DrawFn, family: int) -> dict[str, Any]:
    """A rule's local side: selectors, notSelector, namespace selectors (``global()`` too) and,
    rarely, nets; no ports (a source's ports are source ports, refused)."""
    out: dict[str, Any] = {}
    if draw(st.integers(0, 5)) == 0:
        out["nets"] = [draw(st.sampled_from(NETS_V4 if family == 4 else NETS_V6))]
    if draw(st.booleans()):
        out["selector"] = draw(pod_selectors)
    if draw(st.integers(0, 3)) == 0:
        out["notSelector"] = draw(pod_selectors)
    if draw(st.integers(0, 2)) == 0:
        out["namespaceSelector"] = draw(
            st.one_of(st.sampled_from(["all()", "global()", "global()"]), namespace_selectors)
        )
    return out


def _unconvertible(draw: st.DrawFn, rule: dict[str, Any], peer_side: str) -> None:
    """Mix into ``rule`` one construct the converter must refuse (no inventory, no Cilium form),
    so that refusals are checked to fail closed (issue 15 item 1)."""
    kind = draw(
        st.sampled_from(["services", "contains", "starts", "named-egress", "sa-selector", "source-ports"])
    )
    peer = rule.setdefault(peer_side, {})
    if kind == "services":  # no Service objects without an inventory
        rule[peer_side] = {"services": {"name": "api", "namespace": draw(st.sampled_from(NAMESPACES))}}
        rule.pop("ipVersion", None)
        if peer_side == "destination":
            rule.get("destination", {}).pop("ports", None)
    elif kind in ("contains", "starts"):  # string tests need an inventory's label values
        op = "contains" if kind == "contains" else "starts with"
        peer["selector"] = f"{draw(st.sampled_from(POD_KEYS))} {op} '{draw(st.sampled_from(VALUES))}'"
    elif kind == "named-egress" and peer_side == "destination":  # one number cluster-wide in Cilium
        rule["protocol"] = "TCP"
        rule.pop("notProtocol", None)
        rule.pop("icmp", None)
        rule.pop("notICMP", None)
        peer["ports"] = ["http"]
    elif kind == "sa-selector":  # service-account labels are not visible to Cilium
        peer["serviceAccounts"] = {"selector": f"{draw(st.sampled_from(POD_KEYS))} == 'a'"}
    else:  # source ports have no Cilium form
        rule["protocol"] = "TCP"
        rule.pop("notProtocol", None)
        rule.pop("icmp", None)
        rule.pop("notICMP", None)
        rule.setdefault("source", {})["ports"] = [draw(st.sampled_from([53, 1000]))]


@st.composite
def rules(draw: st.DrawFn, peer_side: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"action": draw(st.sampled_from(["Allow", "Allow", "Deny", "Pass", "Log"]))}
    rule.update(_l4(draw))
    if draw(st.integers(0, 9)) == 0:
        # Calico's validateRule: (not)protocol ICMP needs ipVersion 4, ICMPv6 needs 6.
        named = {rule.get("protocol"), rule.get("notProtocol")}
        families = [v for v, other in ((4, ("ICMPv6", 58)), (6, ("ICMP", 1))) if not named & set(other)]
        if families:
            rule["ipVersion"] = draw(st.sampled_from(families))
    proto = rule.get("protocol")
    ports = proto in ("TCP", "UDP", "SCTP", 6, 17, 132)  # SupportsPorts: not UDPLite
    family = rule.get("ipVersion") or (6 if proto in ("ICMPv6", 58) else draw(st.sampled_from([4, 4, 6])))
    peer = draw(entities(False, family))
    if peer:
        rule[peer_side] = peer
    if draw(st.integers(0, 19)) == 7:  # a middle value: Hypothesis favours the bounds
        _unconvertible(draw, rule, peer_side)
    if draw(st.integers(0, 3)) == 0:
        # The rule's local side (the policy's own endpoint, matched by its address: network sets
        # the selector picks count, issue 15 item 10).
        local = draw(local_entities(family))
        if local:
            rule["destination" if peer_side == "source" else "source"] = local
    if ports and draw(st.booleans()) and "services" not in rule.get("destination", {}):
        dst = rule.setdefault("destination", {})
        key = draw(st.sampled_from(["ports", "ports", "notPorts"]))
        # Named ports only on ingress: on egress Cilium resolves them cluster-wide (refused, C2C303).
        choices = PORTS + NAMED_PORTS if peer_side == "source" else PORTS
        dst[key] = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=2, unique=True))
    return rule


_TYPES = st.sampled_from([None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]])


@st.composite
def calico_specs(draw: st.DrawFn, global_: bool, tier: str | None, order: float | None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if tier is not None:
        spec["tier"] = tier
    if order is not None:
        spec["order"] = order
    if draw(st.booleans()):
        spec["selector"] = draw(pod_selectors)
    if draw(st.integers(0, 30)) == 13:  # a subject Cilium cannot say without an inventory
        spec["selector"] = (
            f"({spec.get('selector', 'all()')}) && {draw(st.sampled_from(POD_KEYS))} contains 'a'"
        )
    if global_ and draw(st.integers(0, 2)) == 0:
        spec["namespaceSelector"] = draw(namespace_selectors)
    types = draw(_TYPES)
    if types is not None:
        spec["types"] = types
    want_ingress = types is None or "Ingress" in types
    want_egress = types is None or "Egress" in types
    if want_ingress and (types is not None or draw(st.booleans())):
        spec["ingress"] = draw(st.lists(rules("source"), min_size=0, max_size=3))
    if want_egress and (types is not None or draw(st.booleans())):
        spec["egress"] = draw(st.lists(rules("destination"), min_size=0, max_size=3))
    return spec


_MATCH = st.one_of(
    st.just({}),
    st.builds(lambda k, v: {"matchLabels": {k: v}}, st.sampled_from(POD_KEYS), st.sampled_from(VALUES)),
    st.builds(
        lambda k, op, vs: {"matchExpressions": [{"key": k, "operator": op, "values": vs}]},
        st.sampled_from(POD_KEYS),
        st.sampled_from(["In", "NotIn"]),
        st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True),
    ),
    st.builds(
        lambda k, op: {"matchExpressions": [{"key": k, "operator": op}]},
        st.sampled_from(POD_KEYS),
        st.sampled_from(["Exists", "DoesNotExist"]),
    ),
)
_NS_MATCH = st.one_of(
    st.just({}),
    st.builds(
        lambda op, vs: {"matchExpressions": [{"key": "env", "operator": op, "values": vs}]},
        st.sampled_from(["In", "NotIn"]),
        st.lists(st.sampled_from(NS_VALUES), min_size=1, max_size=2, unique=True),
    ),
    st.builds(lambda v: {"matchLabels": {"env": v}}, st.sampled_from(NS_VALUES)),
    st.builds(lambda n: {"matchLabels": {"kubernetes.io/metadata.name": n}}, st.sampled_from(NAMESPACES)),
)


@st.composite
def _knp_peer(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["pod", "ns", "both", "ip"]))
    if kind == "ip":
        cidr = draw(st.sampled_from(["192.0.2.0/24", "0.0.0.0/0", "10.0.0.0/8", "2001:db8::/32"]))
        block: dict[str, Any] = {"cidr": cidr}
        inner = {"192.0.2.0/24": "192.0.2.0/25", "0.0.0.0/0": "192.0.2.0/24", "10.0.0.0/8": "10.244.0.0/16"}
        if cidr in inner and draw(st.booleans()):
            block["except"] = [inner[cidr]]
        return {"ipBlock": block}
    out: dict[str, Any] = {}
    if kind in ("pod", "both"):
        out["podSelector"] = draw(_MATCH)
    if kind in ("ns", "both"):
        out["namespaceSelector"] = draw(_NS_MATCH)
    return out


@st.composite
def _knp_ports(draw: st.DrawFn, ingress: bool) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 2))):
        item: dict[str, Any] = {}
        proto = draw(st.sampled_from([None, "TCP", "UDP", "SCTP"]))
        if proto is not None:
            item["protocol"] = proto
        if draw(st.integers(0, 3)) > 0:
            port = draw(st.sampled_from([53, 80, 443, 1000, "http"] if ingress else [53, 80, 443, 1000]))
            item["port"] = port
            if isinstance(port, int) and draw(st.integers(0, 3)) == 0:
                item["endPort"] = port + 50
        out.append(item)
    return out


@st.composite
def knp_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": draw(_MATCH)}
    types = draw(st.sampled_from([None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
    if types is not None:
        spec["policyTypes"] = types
    for direction, side in (("Ingress", "from"), ("Egress", "to")):
        if (types is None and direction == "Egress") or (types is not None and direction not in types):
            continue
        items = []
        for _ in range(draw(st.integers(0, 2))):
            item: dict[str, Any] = {}
            if draw(st.integers(0, 3)) > 0:
                item[side] = draw(st.lists(_knp_peer(), min_size=1, max_size=2))
            if draw(st.booleans()):
                item["ports"] = draw(_knp_ports(direction == "Ingress"))
            items.append(item)
        spec[direction.lower()] = items
    return spec


_ORDERS = st.sampled_from([None, 10, 10, 20, 100, 1000, 1500.5])


@dataclass(frozen=True)
class Scenario:
    """One generated input: the documents and the cluster's ranges."""

    docs: list[dict[str, Any]]
    pod_cidrs: tuple[str, ...]
    node_cidrs: tuple[str, ...]
    cilium_version: str = DEFAULT_CILIUM_VERSION

    @property
    def text(self) -> str:
        return dump(self.docs)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    pods, nodes = draw(st.sampled_from(CLUSTERS))
    version = draw(st.sampled_from(CILIUM_VERSIONS))
    return Scenario(draw(policy_sets()), pods, nodes, version)


SET_NETS_V4 = (
    "192.0.2.0/24",
    "192.0.2.0/25",
    "198.51.100.0/24",
    "10.244.0.0/16",  # exactly the pod range: every pod's address is in the set
    "10.0.0.0/8",  # pods and nodes
    "10.244.5.0/24",  # part of the pod range (no exact Cilium form where it decides)
    "0.0.0.0/0",
)
SET_NETS_V6 = ("2001:db8::/32", "fd00::/8", "fd00:10:244::/56")


@st.composite
def network_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    """0-2 GlobalNetworkSets / NetworkSets labelled from the pod vocabulary (so rule selectors
    pick them), some holding pod or node addresses (issue 15 item 10)."""
    out: list[dict[str, Any]] = []
    for i in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        labels = draw(
            st.dictionaries(st.sampled_from(POD_KEYS), st.sampled_from(VALUES), min_size=0, max_size=2)
        )
        nets = draw(st.lists(st.sampled_from(SET_NETS_V4 + SET_NETS_V6), min_size=1, max_size=2, unique=True))
        metadata: dict[str, Any] = {"name": f"s{i}"}
        if labels:
            metadata["labels"] = labels
        kind = "GlobalNetworkSet"
        if draw(st.booleans()):
            kind = "NetworkSet"
            metadata["namespace"] = draw(st.sampled_from(NAMESPACES))
        out.append(
            {"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": metadata, "spec": {"nets": nets}}
        )
    return out


@st.composite
def policy_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A list of Calico / Kubernetes documents (as mappings) making one small policy set."""
    docs: list[dict[str, Any]] = []
    tiers: list[str] = ["default"]
    for name in ("t1", "t2")[: draw(st.integers(0, 2))]:
        spec: dict[str, Any] = {}
        order = draw(st.sampled_from([None, 100, 100, 200]))
        if order is not None:
            spec["order"] = order
        action = draw(st.sampled_from([None, "Deny", "Pass"]))
        if action is not None:
            spec["defaultAction"] = action
        docs.append(
            {"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": name}, "spec": spec}
        )
        tiers.append(name)
    docs.extend(draw(network_sets()))
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["GlobalNetworkPolicy", "NetworkPolicy", "NetworkPolicy", "knp"]))
        namespace = draw(st.sampled_from(NAMESPACES))
        if kind == "knp":
            docs.append(
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "NetworkPolicy",
                    "metadata": {"name": f"k{i}", "namespace": namespace},
                    "spec": draw(knp_specs()),
                }
            )
            continue
        tier = draw(st.sampled_from(tiers))
        if draw(st.integers(0, 40)) == 17:
            tier = "missing"  # a tier not in the input: its place in the order is unknown (C2C309)
        name = f"p{i}" if tier == "default" else f"{tier}.p{i}"
        metadata: dict[str, Any] = {"name": name}
        if kind == "NetworkPolicy":
            metadata["namespace"] = namespace
        spec = draw(
            calico_specs(kind == "GlobalNetworkPolicy", None if tier == "default" else tier, draw(_ORDERS))
        )
        docs.append({"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": metadata, "spec": spec})
    return docs


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(docs: list[dict[str, Any]]) -> str:
    """YAML for ``docs``, without anchors (a generated mapping may be shared by two places)."""
    return yaml.dump_all(docs, Dumper=_NoAliases, sort_keys=False)
