"""Shared by ``test_fixtures_concrete.py`` and ``test_mutations_of_conversions.py``: a fixture's
conversion under its case options, and a generated, seeded inventory for the concrete engine.

The inventory is built only from what the fixture *mentions*, read directly from the documents
(no code of the compiler or of the verifier's semantics is used to find it):

* namespaces: those policies live in, those named by selectors (``projectcalico.org/name``,
  ``projectcalico.org/namespace``, ``kubernetes.io/metadata.name``,
  ``k8s:io.kubernetes.pod.namespace``) and one that nothing names;
* namespace labels, pod labels and service accounts: every key and value the Calico selectors and
  the Cilium / Kubernetes label selectors mention, plus an unmentioned value of each key;
* pods in every namespace: one without labels, one per *witness* label set (the labels one selector
  requires, each ``In`` set's first value, each ``Exists`` key) and per *near miss* (the witness
  failing one negative term: a ``NotIn`` value, a ``DoesNotExist`` key), placed where the selector
  looks (a named namespace, the policy's own, or any: a random one and the unmentioned one), and
  seeded random combinations; named ports for every port name mentioned;
* two nodes inside ``nodeCIDRs`` (so a pod's own node is ``host`` and the other ``remote-node``);
* external addresses at the boundaries of every CIDR the fixture mentions (first, last, one
  below, one above) and a few far away, kept only where a ``world`` address may be (outside the pod
  and node CIDRs).
"""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from calico2cilium.convert import convert
from calico2cilium.facts.cluster import Services
from calico2cilium.facts.target import DEFAULT_CILIUM_VERSION
from calico2cilium.io.inventory import Inventory, PodInfo
from calico2cilium.semantics.world import DEFAULT_ENDPOINT_TO_HOST_ACTION, TCP, UDP, Assumptions, node_labels

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

OTHER = "zz-unmentioned"
"""A label value, namespace or service account name that no fixture mentions."""

NS_NAME_KEYS = frozenset(
    {
        "projectcalico.org/name",
        "projectcalico.org/namespace",
        "kubernetes.io/metadata.name",
        "k8s:io.kubernetes.pod.namespace",
        "io.kubernetes.pod.namespace",
    }
)
CILIUM_NS_LABEL = "io.cilium.k8s.namespace.labels."
CILIUM_SA = "io.cilium.k8s.policy.serviceaccount"
CILIUM_IGNORED = ("io.cilium.k8s.policy.cluster", "reserved:", "cidr:")
CALICO_SELECTOR_FIELDS = frozenset({"selector", "notSelector", "namespaceSelector"})


# --- a fixture, converted ------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    case: dict[str, Any]
    result: Any
    assumptions: Assumptions
    raw: list[Any]

    @property
    def documents(self) -> list[dict[str, Any]]:
        return self.result.documents  # type: ignore[no-any-return]


def case_names(verify: str = "equivalent") -> list[str]:
    """Fixtures whose case says the conversion is (``verify``) equivalent."""
    if not FIXTURES.is_dir():
        return []
    out = []
    for path in sorted(FIXTURES.iterdir()):
        if (path / "input.yaml").is_file():
            case = yaml.safe_load((path / "case.yaml").read_text()) or {}
            if case.get("verify", "equivalent") == verify:
                out.append(path.name)
    return out


@cache
def load_case(name: str) -> Case:
    """The fixture converted as ``test_fixtures.py`` converts it (cached: tests must not mutate)."""
    case = yaml.safe_load((FIXTURES / name / "case.yaml").read_text()) or {}
    options = case.get("options") or {}
    version = str(options.get("ciliumVersion", DEFAULT_CILIUM_VERSION))
    major, minor = (int(x) for x in version.split("."))
    pods, nodes = tuple(options.get("podCIDRs", ())), tuple(options.get("nodeCIDRs", ()))
    input_path = FIXTURES / name / "input.yaml"
    action = options.get("defaultEndpointToHostAction", DEFAULT_ENDPOINT_TO_HOST_ACTION)
    given = str(FIXTURES / name / options["inventory"]) if "inventory" in options else None
    result = convert(
        [str(input_path)],
        pod_cidrs=pods,
        node_cidrs=nodes,
        cilium_version=version,
        endpoint_to_host_action=action,
        inventory=given,
    )
    labels = node_labels(options["nodeLabels"]) if "nodeLabels" in options else None
    # The fixture's inventory Services are the assumption for services matches, as in test_fixtures.
    services = Services.of(result.inventory) if result.inventory is not None else None
    assumptions = Assumptions(
        pod_cidrs=pods,
        node_cidrs=nodes,
        cilium_version=(major, minor),
        node_labels=labels,
        calico_endpoint_to_host_action=action,
        services=services,
    )
    raw = [d for d in yaml.safe_load_all(input_path.read_text()) if d is not None]
    return Case(name, case, result, assumptions, raw)


# --- what a fixture mentions ---------------------------------------------------------------------

_KEY = r"[A-Za-z0-9_./-]+"
_QUOTED = r"'([^']*)'|\"([^\"]*)\""
_CMP = re.compile(rf"({_KEY})\s*(==|!=)\s*(?:{_QUOTED})")
_IN = re.compile(rf"({_KEY})\s+(?:not\s+)?in\s*\{{([^}}]*)\}}")
_HAS = re.compile(rf"has\(\s*({_KEY})\s*\)")
_STRING_OP = re.compile(rf"({_KEY})\s+(?:starts with|ends with|contains)\s+(?:{_QUOTED})")


@dataclass
class Mentions:
    namespaces: set[str] = field(default_factory=set)
    pod_labels: dict[str, set[str]] = field(default_factory=dict)
    ns_labels: dict[str, set[str]] = field(default_factory=dict)
    sa_labels: dict[str, set[str]] = field(default_factory=dict)
    service_accounts: set[str] = field(default_factory=set)
    port_names: set[str] = field(default_factory=set)
    ports: set[int] = field(default_factory=set)
    cidrs: set[str] = field(default_factory=set)
    witnesses: list[tuple[str | None, dict[str, str]]] = field(default_factory=list)
    """Pod label sets one selector requires (values chosen from the mentioned ones), with the
    namespace where the selector looks for them (``None``: any)."""

    def key(self, table: dict[str, set[str]], key: str, values: Iterable[str] = ()) -> None:
        table.setdefault(key, set()).update(str(v) for v in values)


_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def _possible(values: Iterable[str]) -> list[str]:
    """The values a Kubernetes label (pod or namespace) can hold: the apiserver validates them
    (IsValidLabelValue), so a pod labelled 'x y' cannot exist and is left out of the inventory."""
    return [v for v in values if _LABEL_VALUE.fullmatch(v)]


def _calico_selector(text: str, mentions: Mentions, scope: str, namespace: str | None) -> None:
    """One Calico selector expression: ``scope`` is ``pod``, ``namespace`` or ``serviceaccount``."""
    table = {"pod": mentions.pod_labels, "namespace": mentions.ns_labels}.get(scope, mentions.sa_labels)
    witness: dict[str, str] = {}
    misses: list[tuple[str, str]] = []

    def add(key: str, values: list[str], positive: bool) -> None:
        values = _possible(values)
        if key in NS_NAME_KEYS:
            mentions.namespaces.update(values)
        elif key.startswith("pcns."):
            mentions.key(mentions.ns_labels, key.removeprefix("pcns."), values)
        elif key.startswith("projectcalico.org/"):
            return
        else:
            mentions.key(table, key, values)
            if scope == "pod" and positive:
                witness.setdefault(key, values[0] if values else OTHER)
            elif scope == "pod":
                misses.append((key, values[0] if values else OTHER))

    def negated(m: re.Match[str]) -> bool:
        return text[: m.start()].rstrip().endswith("!")

    for m in _CMP.finditer(text):
        add(m.group(1), [m.group(3) if m.group(3) is not None else m.group(4)], m.group(2) == "==")
    for m in _IN.finditer(text):
        values = [a or b for a, b in re.findall(_QUOTED, m.group(2))]
        add(m.group(1), values, " not " not in m.group(0) and not negated(m))
    for m in _HAS.finditer(text):
        add(m.group(1), [], not negated(m))
    for m in _STRING_OP.finditer(text):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        add(m.group(1), [value, f"{value}x", f"x{value}"], False)
    _witnesses(mentions, namespace, witness, misses)


def _label_selector(selector: dict[str, Any], mentions: Mentions, scope: str, namespace: str | None) -> None:
    """A Kubernetes / Cilium label selector (``matchLabels`` / ``matchExpressions``)."""
    witness: dict[str, str] = {}
    misses: list[tuple[str, str]] = []
    named: list[str] = []
    anywhere = False

    def add(key: str, values: list[str], positive: bool) -> None:
        bare = key.removeprefix("k8s:").removeprefix("any:")
        if key in NS_NAME_KEYS or (scope == "namespace" and bare == "kubernetes.io/metadata.name"):
            nonlocal anywhere
            mentions.namespaces.update(values)
            named.extend(values if positive else ())
            anywhere = anywhere or not (positive and len(values) == 1)
        elif bare.startswith(CILIUM_NS_LABEL):
            mentions.key(mentions.ns_labels, bare.removeprefix(CILIUM_NS_LABEL), values)
        elif bare == CILIUM_SA:
            mentions.service_accounts.update(values)
        elif bare.startswith(CILIUM_IGNORED) or key.startswith(CILIUM_IGNORED):
            return
        elif scope == "namespace":
            mentions.key(mentions.ns_labels, bare, values)
        else:
            mentions.key(mentions.pod_labels, bare, values)
            if positive:
                witness.setdefault(bare, values[0] if values else OTHER)
            else:
                misses.append((bare, values[0] if values else OTHER))

    for key, value in (selector.get("matchLabels") or {}).items():
        add(str(key), [str(value)], True)
    for term in selector.get("matchExpressions") or []:
        operator = term.get("operator")
        add(str(term.get("key")), [str(v) for v in term.get("values") or []], operator in ("In", "Exists"))
    hint = None if anywhere else named[0] if len(named) == 1 else namespace
    _witnesses(mentions, hint, witness, misses)


def _witnesses(
    mentions: Mentions, hint: str | None, witness: dict[str, str], misses: list[tuple[str, str]]
) -> None:
    """The pod a selector requires, and its near misses: the same pod failing one negative term."""
    if witness:
        mentions.witnesses.append((hint, witness))
    for key, value in misses:
        mentions.witnesses.append((hint, {**witness, key: value}))


def _walk(node: Any, mentions: Mentions, namespace: str | None, parent: str = "") -> None:
    """Everything a document mentions; ``namespace``: the document's own (where its selectors look
    for pods unless they name another)."""
    if isinstance(node, list):
        for item in node:
            _walk(item, mentions, namespace, parent)
        return
    if not isinstance(node, dict):
        return
    if "matchLabels" in node or "matchExpressions" in node or parent in _SELECTOR_PARENTS:
        scope = "namespace" if parent == "namespaceSelector" else "pod"
        _label_selector(node, mentions, scope, namespace)
    for key, value in node.items():
        if key in CALICO_SELECTOR_FIELDS and isinstance(value, str):
            scope = "namespace" if key == "namespaceSelector" else "pod"
            _calico_selector(value, mentions, scope, namespace)
        elif key == "serviceAccounts" and isinstance(value, dict):
            mentions.service_accounts.update(str(n) for n in value.get("names") or [])
            if isinstance(value.get("selector"), str):
                _calico_selector(value["selector"], mentions, "serviceaccount", namespace)
        elif key == "metadata" and isinstance(value, dict) and value.get("namespace"):
            mentions.namespaces.add(str(value["namespace"]))
        elif key in ("nets", "notNets", "fromCIDR", "toCIDR", "except") and isinstance(value, list):
            mentions.cidrs.update(str(v) for v in value)
        elif key == "cidr" and isinstance(value, str):
            mentions.cidrs.add(value)
        elif key in ("ports", "notPorts", "port", "endPort"):
            for item in value if isinstance(value, list) else [value]:
                _port(item, mentions)
        _walk(value, mentions, namespace, key)


_SELECTOR_PARENTS = frozenset({"podSelector", "namespaceSelector", "endpointSelector"})


def _port(item: Any, mentions: Mentions) -> None:
    if isinstance(item, dict):
        return  # a Cilium/Kubernetes port item: its fields are walked on their own
    text = str(item)
    for part in text.split(":"):
        if part.isdigit():
            mentions.ports.add(int(part))
        elif part and not text.replace(":", "").isdigit():
            mentions.port_names.add(part)


def mentions_of(documents: Iterable[Any]) -> Mentions:
    mentions = Mentions()
    for doc in documents:
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        namespace = meta.get("namespace") if isinstance(meta, dict) else None
        _walk(doc, mentions, str(namespace) if namespace else None)
    return mentions


# --- the generated inventory ---------------------------------------------------------------------


def _hosts(cidr: str) -> Iterator[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    net = ipaddress.ip_network(cidr, strict=False)
    first = int(net.network_address) + 1
    for i in range(first, int(net.broadcast_address)):
        yield ipaddress.ip_address(i) if net.version == 4 else ipaddress.IPv6Address(i)


def _boundaries(cidr: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    net = ipaddress.ip_network(cidr, strict=False)
    top = 2**32 - 1 if net.version == 4 else 2**128 - 1
    lo, hi = int(net.network_address), int(net.broadcast_address)
    values = {v for v in (lo - 1, lo, hi, hi + 1) if 0 <= v <= top}
    return [ipaddress.ip_address(v) if net.version == 4 else ipaddress.IPv6Address(v) for v in sorted(values)]


FAR_AWAY = ("8.8.8.8", "1.1.1.1", "198.18.0.1", "2001:db8::1")


def generated_inventory(case: Case, extra: Iterable[Any] = (), random_pods: int = 1) -> Inventory:
    """A seeded inventory for ``case`` (and any ``extra`` documents, e.g. a mutated output)."""
    mentions = mentions_of([*case.raw, *case.documents, *extra])
    rng = random.Random(f"inventory:{case.name}")
    assumptions = case.assumptions
    namespaces = sorted((mentions.namespaces or {"default"}) | {OTHER})

    def values(table: dict[str, set[str]], key: str) -> list[str]:
        return sorted(table.get(key, set()) | {OTHER})

    inv = Inventory()
    # Namespace labels: the first namespaces get each mentioned value in turn, the others random.
    ns_keys = sorted(mentions.ns_labels)
    for i, ns in enumerate(namespaces):
        labels: dict[str, str] = {}
        for key in ns_keys:
            choices = values(mentions.ns_labels, key)
            if ns == OTHER:
                continue
            pick = choices[i % len(choices)] if i < len(choices) else rng.choice([*choices, None])
            if pick is not None:
                labels[key] = pick
        inv.namespaces[ns] = labels
    # Service accounts: every mentioned name, with the mentioned SA labels spread over them.
    accounts = sorted(mentions.service_accounts | {"default"})
    sa_keys = sorted(mentions.sa_labels)
    for ns in namespaces:
        for j, sa in enumerate(accounts):
            inv.service_accounts[(ns, sa)] = {
                k: values(mentions.sa_labels, k)[j % len(values(mentions.sa_labels, k))] for k in sa_keys
            }
    # Nodes inside the node CIDRs.
    node_cidrs = assumptions.node_cidrs or ("192.0.2.0/24",)
    node_hosts = _hosts(node_cidrs[0])
    inv.nodes = {"node-a": (next(node_hosts),), "node-b": (next(node_hosts),)}
    # Pods.
    pod_cidrs = assumptions.pod_cidrs or ("10.244.0.0/16",)
    pod_hosts = _hosts(pod_cidrs[0])
    ports = sorted(mentions.ports) or [80]
    pod_keys = sorted(mentions.pod_labels)
    # Every namespace: a pod without labels, and (but the unmentioned one) random combinations;
    # each witness label set in the namespace its selector looks at (any namespace: a mentioned
    # one chosen at random and the unmentioned one).
    label_sets: dict[str, list[dict[str, str]]] = {ns: [{}] for ns in namespaces}
    for ns in namespaces:
        if ns != OTHER:
            for _ in range(random_pods):
                label_sets[ns].append(
                    {k: rng.choice(values(mentions.pod_labels, k)) for k in pod_keys if rng.random() < 0.5}
                )
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for hint, witness in mentions.witnesses:
        if hint is not None and hint in label_sets:
            homes = [hint]
        else:
            homes = sorted({rng.choice([n for n in namespaces if n != OTHER]), OTHER})
        for ns in homes:
            placed = (ns, tuple(sorted(witness.items())))
            if placed not in seen:
                seen.add(placed)
                label_sets[ns].append(witness)
    n = 0
    for ns in namespaces:
        for index, labels in enumerate(label_sets[ns]):
            # Named ports are TCP but on the random pods, which may declare them UDP.
            variety = 1 <= index <= random_pods and ns != OTHER
            named = {
                name: (rng.choice([TCP, UDP]) if variety else TCP, rng.choice([*ports, 8080]))
                for name in mentions.port_names
            }
            inv.pods.append(
                PodInfo(
                    f"pod-{n}",
                    ns,
                    labels,
                    accounts[n % len(accounts)],
                    (next(pod_hosts),),
                    "node-a" if n % 2 == 0 else "node-b",
                    named,
                )
            )
            n += 1
    # External probe addresses: CIDR boundaries and a few far away, where a world address may be.
    cluster = [*assumptions.pod_nets, *assumptions.node_nets, *assumptions.service_nets]
    external: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for cidr in mentions.cidrs:
        try:
            external.update(_boundaries(cidr))
        except ValueError:
            continue
    external.update(ipaddress.ip_address(a) for a in FAR_AWAY)
    inv.external = sorted(
        (a for a in external if a.version in assumptions.families and not any(a in net for net in cluster)),
        key=lambda a: (a.version, int(a)),
    )
    return inv
