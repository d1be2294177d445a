"""Every validation rule of the input models: the exact error ``type`` and ``loc`` it reports."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from calico2cilium.calico import kinds
from calico2cilium.calico.errors import ERROR_TYPES

Errors = set[tuple[str, tuple[Any, ...]]]


def errors_of(text: str) -> Errors:
    data = yaml.safe_load(text)
    model = kinds.model_for(data["apiVersion"], data["kind"])
    assert model is not None
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return {(e["type"], e["loc"]) for e in info.value.errors()}


def gnp(spec: str, *, name: str = "p", api: str = "projectcalico.org/v3", meta: str = "") -> str:
    return f"apiVersion: {api}\nkind: GlobalNetworkPolicy\nmetadata:\n  name: {name}\n{meta}spec:\n{spec}"


def np(spec: str, *, name: str = "p") -> str:
    return f"apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: ns\nspec:\n{spec}"


def rule(body: str, direction: str = "ingress") -> str:
    """One rule given as a YAML flow mapping body, e.g. ``action: Allow, protocol: TCP``."""
    return f"  {direction}:\n    - {{{body}}}\n"


def knp(spec: str, *, name: str = "k") -> str:
    return f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n{spec}"


R0 = ("spec", "ingress", 0)
E0 = ("spec", "egress", 0)
SEEN: set[str] = set()


def check(text: str, expected: Errors) -> None:
    assert errors_of(text) == expected
    SEEN.update(kind for kind, _ in expected)


# ------------------------------------------------------------------------------------------------
# invalid_cidr
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            gnp(rule("action: Allow, source: {nets: [10.0.0.300/8]}")),
            {("invalid_cidr", (*R0, "source", "nets", 0))},
        ),
        # A bare address in a rule: validateRule parses with the strict cnet.ParseCIDR.
        (
            gnp(rule("action: Allow, source: {nets: [10.0.0.0/8, 192.0.2.7]}")),
            {("invalid_cidr", (*R0, "source", "nets", 1))},
        ),
        # Go's To4() makes ::ffff:a.b.c.d an IPv4 network for Calico; the family is ambiguous.
        (
            gnp(rule("action: Allow, destination: {nets: ['::ffff:10.0.0.0/104']}")),
            {("invalid_cidr", (*R0, "destination", "nets", 0))},
        ),
        # Python's netmask form is not Go's CIDR syntax.
        (
            gnp(rule("action: Allow, destination: {notNets: [10.0.0.0/255.0.0.0]}")),
            {("invalid_cidr", (*R0, "destination", "notNets", 0))},
        ),
        (
            gnp(rule("action: Allow, destination: {nets: ['10.0.0.0/33']}")),
            {("invalid_cidr", (*R0, "destination", "nets", 0))},
        ),
        (
            gnp(rule("action: Allow, destination: {nets: ['fe80::1%eth0/64']}")),
            {("invalid_cidr", (*R0, "destination", "nets", 0))},
        ),
        (
            gnp(rule("action: Allow, destination: {nets: [' 10.0.0.0/8']}")),
            {("invalid_cidr", (*R0, "destination", "nets", 0))},
        ),
        (
            "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: s}\nspec:\n  nets: [10.0.0.0/8, 300.0.0.1]\n",
            {("invalid_cidr", ("spec", "nets", 1))},
        ),
        (
            "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec:\n"
            "  node: n\n  expectedIPs: [192.0.2.1, 192.0.2.0/24]\n",
            {("invalid_cidr", ("spec", "expectedIPs", 1))},
        ),
        (
            knp(
                "  ingress:\n    - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 192.168.0.0/16, 10.0.0.0/8]}}]\n"
            ),
            {
                ("invalid_cidr", ("spec", "ingress", 0, "from", 0, "ipBlock", "except", 1)),
                ("invalid_cidr", ("spec", "ingress", 0, "from", 0, "ipBlock", "except", 2)),
            },
        ),
        (
            knp("  egress:\n    - to: [{ipBlock: {cidr: 10.0.0.1}}]\n"),
            {("invalid_cidr", ("spec", "egress", 0, "to", 0, "ipBlock", "cidr"))},
        ),
    ],
)
def test_invalid_cidr(text: str, expected: Errors) -> None:
    check(text, expected)


# ------------------------------------------------------------------------------------------------
# invalid_port
# ------------------------------------------------------------------------------------------------

PORTS = ("spec", "ingress", 0, "destination", "ports")


@pytest.mark.parametrize(
    ("port", "why"),
    [
        ("0", "validatePort: port numbers are 1–65535, 0 included in the refusal"),
        ("'0'", "a string of digits is a number"),
        ("65536", "does not fit in uint16"),
        ("-1", "negative"),
        ("'10:5'", "min > max"),
        ("'0:10'", "range bounds are 1–65535 too"),
        ("'1:70000'", "range bound does not fit"),
        # Calico's validator: numorstring.Port ``PortName ... validate:"omitempty,portName"`` and
        # validator.go validatePortName -> k8svalidation.IsValidPortName (not only the parser's
        # ^[a-zA-Z0-9_.-]{1,128}$): invalid input, not a conversion refusal.
        ("'HTTP'", "named ports are IANA service names: lower case"),
        ("'Metrics'", "upper case"),
        ("'http_alt'", "no '_' in IANA service names"),
        ("'port_1'", "no '_' in IANA service names"),
        ("'very-long-port-name'", "more than 15 characters"),
        ("'80-90'", "not a range syntax; as a name it has no letter"),
        ("'a--b'", "consecutive hyphens"),
        ("'x y'", "not a number, range or name"),
        ("8.5", "a float"),
        ("true", "a boolean"),
    ],
)
def test_invalid_port(port: str, why: str) -> None:
    text = gnp(rule(f"action: Allow, protocol: TCP, destination: {{ports: [80, {port}]}}"))
    check(text, {("invalid_port", (*PORTS, 1))})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec:\n  node: n\n"
            "  interfaceName: eth0\n  ports: [{name: web, protocol: TCP, port: 0}, {name: Web, protocol: TCP, port: 80}]\n",
            {("invalid_port", ("spec", "ports", 0, "port")), ("invalid_port", ("spec", "ports", 1, "name"))},
        ),
        (
            knp("  ingress:\n    - ports: [{port: '80'}]\n"),
            {("invalid_port", ("spec", "ingress", 0, "ports", 0, "port"))},
        ),
        (
            knp("  ingress:\n    - ports: [{port: 0}]\n"),
            {("invalid_port", ("spec", "ingress", 0, "ports", 0, "port"))},
        ),
        (
            knp("  ingress:\n    - ports: [{port: 90, endPort: 80}]\n"),
            {("invalid_port", ("spec", "ingress", 0, "ports", 0, "endPort"))},
        ),
        (
            knp("  ingress:\n    - ports: [{port: http, endPort: 80}]\n"),
            {("invalid_port", ("spec", "ingress", 0, "ports", 0, "endPort"))},
        ),
        (
            knp("  ingress:\n    - ports: [{endPort: 80}]\n"),
            {("invalid_port", ("spec", "ingress", 0, "ports", 0, "endPort"))},
        ),
        (
            knp("  ingress:\n    - ports: [{port: 80, endPort: 70000}]\n"),
            {("invalid_port", ("spec", "ingress", 0, "ports", 0, "endPort"))},
        ),
        (
            knp("  ingress:\n    - ports: [{port: 80.0}]\n"),
            {("invalid_port", ("spec", "ingress", 0, "ports", 0, "port"))},
        ),
    ],
)
def test_invalid_port_elsewhere(text: str, expected: Errors) -> None:
    check(text, expected)


# ------------------------------------------------------------------------------------------------
# invalid_protocol
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "protocol", ["tcp", "Tcp", "any", "GRE", "0", "256", "'256'", "-6", "''", "true", "6.0"]
)
def test_invalid_protocol(protocol: str) -> None:
    check(gnp(rule(f"action: Allow, protocol: {protocol}")), {("invalid_protocol", (*R0, "protocol"))})
    check(gnp(rule(f"action: Allow, notProtocol: {protocol}")), {("invalid_protocol", (*R0, "notProtocol"))})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec:\n  node: n\n"
            "  interfaceName: eth0\n  ports: [{name: ping, protocol: ICMP, port: 1}]\n",
            {("invalid_protocol", ("spec", "ports", 0, "protocol"))},
        ),
        (
            knp("  ingress:\n    - ports: [{protocol: tcp, port: 80}]\n"),
            {("invalid_protocol", ("spec", "ingress", 0, "ports", 0, "protocol"))},
        ),
        (
            knp("  ingress:\n    - ports: [{protocol: ICMP}]\n"),
            {("invalid_protocol", ("spec", "ingress", 0, "ports", 0, "protocol"))},
        ),
    ],
)
def test_invalid_protocol_elsewhere(text: str, expected: Errors) -> None:
    check(text, expected)


# ------------------------------------------------------------------------------------------------
# invalid_icmp
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("icmp", "field"),
    [
        ("{type: 255}", "type"),
        ("{type: -1}", "type"),
        ("{type: 8, code: 256}", "code"),
        ("{type: 8, code: -1}", "code"),
        ("{code: 0}", "code"),
    ],
)
def test_invalid_icmp(icmp: str, field: str) -> None:
    check(gnp(rule(f"action: Allow, protocol: ICMP, icmp: {icmp}")), {("invalid_icmp", (*R0, "icmp", field))})
    check(
        gnp(rule(f"action: Allow, protocol: ICMP, notICMP: {icmp}")),
        {("invalid_icmp", (*R0, "notICMP", field))},
    )


# ------------------------------------------------------------------------------------------------
# invalid_label
# ------------------------------------------------------------------------------------------------

LABELS = ("metadata", "labels")


@pytest.mark.parametrize(
    ("labels", "key"),
    [
        ("{'a/b/c': x}", "a/b/c"),
        ("{'Example.com/app': x}", "Example.com/app"),  # the prefix is a lower-case DNS subdomain
        ("{'/app': x}", "/app"),
        ("{'-app': x}", "-app"),
        ("{'': x}", ""),
        ("{" + "a" * 64 + ": x}", "a" * 64),
        ("{app: 'bad value!'}", "app"),
        ("{app: '-x'}", "app"),
        ("{app: " + "v" * 64 + "}", "app"),
    ],
)
def test_invalid_label(labels: str, key: str) -> None:
    check(gnp("  selector: all()\n", meta=f"  labels: {labels}\n"), {("invalid_label", (*LABELS, key))})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            gnp("  selector: all()\n", meta="  annotations: {'bad key!': x}\n"),
            {("invalid_label", ("metadata", "annotations", "bad key!"))},
        ),
        (
            gnp(rule("action: Allow, metadata: {annotations: {'a/b/c': x}}")),
            {("invalid_label", (*R0, "metadata", "annotations", "a/b/c"))},
        ),
        # validateNetworkSet / validateGlobalNetworkSet: a label Calico reserves for itself.
        (
            "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata:\n  name: s\n  namespace: n\n"
            "  labels: {projectcalico.org/namespace: n}\nspec: {nets: [10.0.0.0/8]}\n",
            {("invalid_label", (*LABELS, "projectcalico.org/namespace"))},
        ),
        (
            "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: s\n"
            "  labels: {projectcalico.org/namespace: n}\nspec: {nets: [10.0.0.0/8]}\n",
            {("invalid_label", (*LABELS, "projectcalico.org/namespace"))},
        ),
        (
            knp("  podSelector: {matchLabels: {app: 'a b'}}\n"),
            {("invalid_label", ("spec", "podSelector", "matchLabels", "app"))},
        ),
        (
            knp(
                "  podSelector: {matchExpressions: [{key: 'a b', operator: Exists}, {key: k, operator: In, values: [ok, 'n o']}]}\n"
            ),
            {
                ("invalid_label", ("spec", "podSelector", "matchExpressions", 0, "key")),
                ("invalid_label", ("spec", "podSelector", "matchExpressions", 1, "values", 1)),
            },
        ),
    ],
)
def test_invalid_label_elsewhere(text: str, expected: Errors) -> None:
    check(text, expected)


# ------------------------------------------------------------------------------------------------
# invalid_order
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [".nan", ".inf", "-.inf", "1" + "0" * 400])
def test_invalid_order(order: str) -> None:
    check(gnp(f"  order: {order}\n"), {("invalid_order", ("spec", "order"))})
    check(
        f"apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {{name: t}}\nspec: {{order: {order}}}\n",
        {("invalid_order", ("spec", "order"))},
    )


@pytest.mark.parametrize(
    ("name", "spec", "expected"),
    [
        ("default", "{order: 100, defaultAction: Deny}", {("invalid_order", ("spec", "order"))}),
        ("default", "{defaultAction: Deny}", {("invalid_order", ("spec", "order"))}),
        ("default", "{order: 1000000, defaultAction: Pass}", {("invalid_rule", ("spec", "defaultAction"))}),
        ("kube-admin", "{order: 1000}", {("invalid_rule", ("spec", "defaultAction"))}),
        ("kube-baseline", "{order: 1, defaultAction: Pass}", {("invalid_order", ("spec", "order"))}),
    ],
)
def test_builtin_tiers(name: str, spec: str, expected: Errors) -> None:
    # Tier CRD CEL: default 1000000/Deny, kube-admin 1000/Pass, kube-baseline 10000000/Pass.
    check(
        f"apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {{name: {name}}}\nspec: {spec}\n", expected
    )


def test_builtin_tiers_with_their_fixed_values_are_valid() -> None:
    for name, spec in (("default", "{order: 1000000}"), ("kube-admin", "{order: 1000, defaultAction: Pass}")):
        kinds.MODELS[("projectcalico.org/v3", "Tier")].model_validate(
            yaml.safe_load(
                f"apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {{name: {name}}}\nspec: {spec}\n"
            )
        )


# ------------------------------------------------------------------------------------------------
# invalid_rule
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        # validateRule: numeric ports need TCP/UDP/SCTP; with no protocol only named ports pass.
        ("action: Allow, destination: {ports: [http, 80]}", (*R0, "destination", "ports", 1)),
        ("action: Allow, source: {notPorts: ['1:1024']}", (*R0, "source", "notPorts", 0)),
        ("action: Allow, protocol: ICMP, destination: {ports: [http]}", (*R0, "destination", "ports")),
        ("action: Allow, protocol: UDPLite, destination: {ports: [53]}", (*R0, "destination", "ports")),
        ("action: Allow, protocol: 1, source: {notPorts: [80]}", (*R0, "source", "notPorts")),
        # CEL: icmp needs protocol ICMP/ICMPv6/1/58.
        ("action: Allow, icmp: {type: 8}", (*R0, "icmp")),
        ("action: Allow, protocol: TCP, icmp: {type: 8}", (*R0, "icmp")),
        # CEL/validateRule: ICMP needs ipVersion 4, ICMPv6 needs 6 (protocol or notProtocol).
        ("action: Allow, protocol: ICMP, ipVersion: 6", (*R0, "ipVersion")),
        ("action: Allow, protocol: 58, ipVersion: 4", (*R0, "ipVersion")),
        ("action: Allow, notProtocol: ICMPv6, ipVersion: 4", (*R0, "ipVersion")),
        # validateRule scanNets: family agrees with ipVersion; one family per rule.
        ("action: Allow, ipVersion: 6, source: {nets: ['10.0.0.0/8']}", (*R0, "source", "nets", 0)),
        (
            "action: Allow, ipVersion: 4, destination: {notNets: ['2001:db8::/32']}",
            (*R0, "destination", "notNets", 0),
        ),
        (
            "action: Allow, source: {nets: ['10.0.0.0/8']}, destination: {nets: ['2001:db8::/32']}",
            (*R0, "destination", "nets", 0),
        ),
        ("action: Allow, source: {nets: ['10.0.0.0/8', '2001:db8::/32']}", (*R0, "source", "nets", 1)),
        # validateRule: a catch-all in notNets matches nothing.
        ("action: Allow, source: {notNets: ['0.0.0.0/0']}", (*R0, "source", "notNets", 0)),
        ("action: Allow, destination: {notNets: ['::/0']}", (*R0, "destination", "notNets", 0)),
        (
            "action: Allow, destination: {notNets: ['10.0.0.0/8', '0.0.0.1/0']}",
            (*R0, "destination", "notNets", 1),
        ),
        # EntityRule CEL / validateEntityRule: services stand alone.
        ("action: Allow, source: {services: {name: s}, selector: 'a == \"b\"'}", (*R0, "source", "selector")),
        (
            "action: Allow, source: {services: {name: s}, notSelector: 'a == \"b\"'}",
            (*R0, "source", "notSelector"),
        ),
        (
            "action: Allow, source: {services: {name: s}, namespaceSelector: all()}",
            (*R0, "source", "namespaceSelector"),
        ),
        ("action: Allow, source: {services: {name: s}, nets: ['10.0.0.0/8']}", (*R0, "source", "nets")),
        ("action: Allow, source: {services: {name: s}, notNets: ['10.0.0.0/8']}", (*R0, "source", "notNets")),
        (
            "action: Allow, source: {services: {name: s}, serviceAccounts: {names: [a]}}",
            (*R0, "source", "serviceAccounts"),
        ),
        ("action: Allow, source: {services: {namespace: n}}", (*R0, "source", "services")),
        # global() belongs only in a rule namespaceSelector, and alone there.
        ("action: Allow, source: {selector: 'global()'}", (*R0, "source", "selector")),
        (
            "action: Allow, source: {namespaceSelector: 'global() && a == \"b\"'}",
            (*R0, "source", "namespaceSelector"),
        ),
        # CEL: http only on Allow, with protocol TCP or unset.
        ("action: Deny, http: {methods: [GET]}", (*R0, "http")),
        ("action: Allow, protocol: UDP, http: {methods: [GET]}", (*R0, "protocol")),
        ("action: Allow, http: {methods: [GET, PUT, GET]}", (*R0, "http", "methods", 2)),
        ("action: Allow, http: {paths: [{exact: /a, prefix: /b}]}", (*R0, "http", "paths", 0)),
        ("action: Allow, http: {paths: [{}]}", (*R0, "http", "paths", 0)),
        ("action: Allow, http: {paths: [{prefix: '/a?b'}]}", (*R0, "http", "paths", 0, "prefix")),
    ],
)
def test_invalid_rule(body: str, loc: tuple[Any, ...]) -> None:
    check(np(rule(body)), {("invalid_rule", loc)})


@pytest.mark.parametrize(
    ("spec", "loc"),
    [
        # validate(Global)NetworkPolicySpec: services only as ingress source / egress destination,
        # no http on egress rules; destination services carry their own ports.
        (rule("action: Allow, source: {services: {name: s}}", "egress"), (*E0, "source", "services")),
        (rule("action: Allow, destination: {services: {name: s}}"), (*R0, "destination", "services")),
        (rule("action: Allow, http: {methods: [GET]}", "egress"), (*E0, "http")),
        (
            rule("action: Allow, protocol: TCP, destination: {services: {name: s}, ports: [80]}", "egress"),
            (*E0, "destination", "ports"),
        ),
        (  # review 4, s2: notPorts too
            rule(
                "action: Allow, protocol: TCP, destination: {services: {name: s}, notPorts: [80]}", "egress"
            ),
            (*E0, "destination", "notPorts"),
        ),
        ("  types: [Ingress, Ingress]\n", ("spec", "types", 1)),
        ("  selector: global()\n", ("spec", "selector")),
        ("  serviceAccountSelector: 'global() || a == \"b\"'\n", ("spec", "serviceAccountSelector")),
    ],
)
def test_invalid_rule_in_network_policy_spec(spec: str, loc: tuple[Any, ...]) -> None:
    check(np(spec), {("invalid_rule", loc)})


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # GlobalNetworkPolicySpec CEL.
        (
            "  preDNAT: true\n  doNotTrack: true\n  applyOnForward: true\n",
            {("invalid_rule", ("spec", "preDNAT"))},
        ),
        (
            "  preDNAT: true\n  applyOnForward: true\n" + rule("action: Allow", "egress"),
            {("invalid_rule", ("spec", "egress"))},
        ),
        (
            "  preDNAT: true\n  applyOnForward: true\n  types: [Ingress, Egress]\n",
            {("invalid_rule", ("spec", "types", 1))},
        ),
        ("  preDNAT: true\n", {("invalid_rule", ("spec", "preDNAT"))}),
        ("  doNotTrack: true\n", {("invalid_rule", ("spec", "doNotTrack"))}),
        ("  doNotTrack: true\n  applyOnForward: false\n", {("invalid_rule", ("spec", "applyOnForward"))}),
        ("  namespaceSelector: global()\n", {("invalid_rule", ("spec", "namespaceSelector"))}),
        # validateGlobalNetworkPolicySpec: a service at global scope needs its namespace.
        (
            rule("action: Allow, destination: {services: {name: s}}", "egress"),
            {("invalid_rule", (*E0, "destination", "services"))},
        ),
        (
            rule("action: Allow, source: {services: {name: s}}"),
            {("invalid_rule", (*R0, "source", "services"))},
        ),
    ],
)
def test_invalid_rule_in_global_network_policy_spec(spec: str, expected: Errors) -> None:
    check(gnp(spec), expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec: {node: n, interfaceName: ''}\n",
            {("invalid_rule", ("spec",))},
        ),
        (knp("  ingress:\n    - from: [{}]\n"), {("invalid_rule", ("spec", "ingress", 0, "from", 0))}),
        (
            knp("  egress:\n    - to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]\n"),
            {("invalid_rule", ("spec", "egress", 0, "to", 0, "ipBlock"))},
        ),
        (
            knp(
                "  podSelector: {matchExpressions: [{key: a, operator: In}, {key: b, operator: Exists, values: [x]}]}\n"
            ),
            {
                ("invalid_rule", ("spec", "podSelector", "matchExpressions", 0, "values")),
                ("invalid_rule", ("spec", "podSelector", "matchExpressions", 1, "values")),
            },
        ),
        (knp("  policyTypes: [Ingress, Egress, Ingress]\n"), {("invalid_rule", ("spec", "policyTypes"))}),
    ],
)
def test_invalid_rule_elsewhere(text: str, expected: Errors) -> None:
    check(text, expected)


# ------------------------------------------------------------------------------------------------
# invalid_name
# ------------------------------------------------------------------------------------------------

NAME = ("metadata", "name")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (gnp("  selector: all()\n", name="Bad_Name"), {("invalid_name", NAME)}),
        (gnp("  selector: all()\n", name="''"), {("invalid_name", NAME)}),
        (gnp("  selector: all()\n", name="a.b.c"), {("invalid_name", NAME)}),  # one dot at most
        (gnp("  selector: all()\n", name="knp.default.x"), {("invalid_name", NAME)}),
        (gnp("  selector: all()\n", name="a" * 254), {("invalid_name", NAME)}),
        (np("  selector: all()\n", name="a.b.c"), {("invalid_name", NAME)}),
        (np("  selector: all()\n", name="-a"), {("invalid_name", NAME)}),
        (
            "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: a.b}\nspec: {}\n",
            {("invalid_name", NAME)},
        ),
        (
            "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: " + "t" * 64 + "}\nspec: {}\n",
            {("invalid_name", NAME)},
        ),
        (
            "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: UPPER}\nspec: {}\n",
            {("invalid_name", NAME)},
        ),
        (
            "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata: {name: s, namespace: Bad_NS}\nspec: {}\n",
            {("invalid_name", ("metadata", "namespace"))},
        ),
        (knp("  podSelector: {}\n", name="Web"), {("invalid_name", NAME)}),
        (
            "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec:\n"
            "  node: Node_1\n  interfaceName: this-name-is-too-long0\n  profiles: [ok, Not_OK]\n",
            {
                ("invalid_name", ("spec", "node")),
                ("invalid_name", ("spec", "interfaceName")),
                ("invalid_name", ("spec", "profiles", 1)),
            },
        ),
        (
            gnp(rule("action: Allow, source: {services: {name: My_Svc, namespace: ns}}")),
            {("invalid_name", (*R0, "source", "services", "name"))},
        ),
    ],
)
def test_invalid_name(text: str, expected: Errors) -> None:
    check(text, expected)


def test_valid_policy_names() -> None:
    for name in ("allow", "tier1.allow", "a-b.c-d"):
        kinds.MODELS[("projectcalico.org/v3", "GlobalNetworkPolicy")].model_validate(
            yaml.safe_load(gnp("  selector: all()\n", name=name))
        )
    for name in ("allow", "tier1.allow", "knp.default.a.b.c", "ossg.default.x"):
        kinds.MODELS[("projectcalico.org/v3", "NetworkPolicy")].model_validate(
            yaml.safe_load(np("  selector: all()\n", name=name))
        )


# ------------------------------------------------------------------------------------------------
# pydantic's own error types: missing, extra, wrong types (never coerced)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (gnp("  selector: all()\n  egres: []\n"), {("extra_forbidden", ("spec", "egres"))}),
        (
            gnp(rule("action: Allow, source: {notnets: []}")),
            {("extra_forbidden", (*R0, "source", "notnets"))},
        ),
        (gnp("  selector: all()\n", meta="  nmespace: x\n"), {("extra_forbidden", ("metadata", "nmespace"))}),
        (gnp("  selector: all()\n") + "specs: {}\n", {("extra_forbidden", ("specs",))}),
        (
            "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {}\nspec: {}\n",
            {("missing", NAME)},
        ),
        (gnp(rule("protocol: TCP")), {("missing", (*R0, "action"))}),
        (gnp(rule("action: Accept")), {("literal_error", (*R0, "action"))}),
        (gnp("  order: '10'\n"), {("float_type", ("spec", "order"))}),
        (gnp("  order: true\n"), {("float_type", ("spec", "order"))}),
        (gnp("  doNotTrack: 'true'\n"), {("bool_type", ("spec", "doNotTrack"))}),
        (gnp("  applyOnForward: 1\n"), {("bool_type", ("spec", "applyOnForward"))}),
        (gnp(rule("action: Allow, ipVersion: '4'")), {("int_type", (*R0, "ipVersion"))}),
        (gnp(rule("action: Allow, ipVersion: 4.0")), {("int_type", (*R0, "ipVersion"))}),
        (gnp(rule("action: Allow, ipVersion: 5")), {("literal_error", (*R0, "ipVersion"))}),
        (
            gnp(rule("action: Allow, protocol: ICMP, icmp: {type: '8'}")),
            {("int_type", (*R0, "icmp", "type"))},
        ),
        (
            gnp("  selector: all()\n", meta="  labels: {version: 1}\n"),
            {("string_type", ("metadata", "labels", "version"))},
        ),
        (gnp("  types: [Inbound]\n"), {("literal_error", ("spec", "types", 0))}),
        (gnp("  selector: [a]\n"), {("string_type", ("spec", "selector"))}),
        (gnp(rule("action: Allow, source: {nets: [10]}")), {("string_type", (*R0, "source", "nets", 0))}),
        (
            gnp(rule("action: Allow, source: {nets: [{text: 10.0.0.0/8}]}")),
            {("string_type", (*R0, "source", "nets", 0))},
        ),
        (gnp("  ingress: {action: Allow}\n"), {("tuple_type", ("spec", "ingress"))}),
        (knp("  podSelector: {}\n") + "status: {}\nextra: 1\n", {("extra_forbidden", ("extra",))}),
    ],
)
def test_pydantic_error_types(text: str, expected: Errors) -> None:
    assert errors_of(text) == expected


def test_every_custom_error_type_is_exercised() -> None:
    # Runs last in this module (pytest keeps definition order).
    if len(SEEN) < len(ERROR_TYPES):
        pytest.skip("run the whole module to see every error type")
    assert SEEN == ERROR_TYPES
