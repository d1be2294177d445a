"""Host subjects: the decision points of the host firewall, as both sides see them.

Calico polices a host through its HostEndpoints (labels from the HEP, the host from ``spec.node``;
docs/reference/semantics.md §1.5); Cilium through host policies, CCNPs whose ``nodeSelector`` matches the *node's*
labels (docs/reference/semantics.md §2.1). The link between the two is an explicit assumption
(``Assumptions.node_labels``): by default each node named by a HostEndpoint carries the labels of its
HostEndpoints and ``calico2cilium.io/node=<node>`` (the label the converter has users add), and a
node whose HostEndpoints disagree on labels is not proven.

Only nodes named by a HEP (or given with ``node_labels``) are host subjects: on any other node Calico
has no HostEndpoint, so it polices nothing there, and a Cilium host policy selecting such a node is a
difference the verifier reports only when the node is known (``node_labels``, an inventory).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from calico2cilium.semantics.program import InvalidItem, Located, UnsupportedItem
from calico2cilium.semantics.world import IP, Assumptions, Endpoint

CALICO_APIS = ("projectcalico.org/v3", "crd.projectcalico.org/v1")
ALL_INTERFACES = "*"
DEFAULT_ALLOW_PROFILE = "projectcalico-default-allow"
"""The profile with allow-all ingress and egress rules (docs/reference/semantics.md §1.5, hostendpoint.mdx)."""


@dataclass(frozen=True)
class HostEndpointInfo:
    """A Calico HostEndpoint, read from its plain data."""

    name: str
    node: str
    labels: Mapping[str, str]
    interface: str
    profiles: tuple[str, ...]
    expected_ips: tuple[IP, ...]
    doc: Located | None = field(default=None, compare=False, repr=False)

    @property
    def title(self) -> str:
        return f"HostEndpoint {self.name}"


@dataclass
class HostSubject:
    """One host decision point: a node, Cilium's labels for it, and the HostEndpoint standing for it
    on the Calico side (``None``: a node without one, where Calico polices nothing)."""

    node: str
    node_labels: dict[str, str] | None
    """``None``: unknown (the node's HostEndpoints disagree); then the subject is not proven."""
    hep: HostEndpointInfo | None = None
    unsupported: list[UnsupportedItem] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.node}/{self.hep.name}" if self.hep is not None else self.node

    @property
    def label(self) -> str:
        hep = f"HostEndpoint {self.hep.name}" if self.hep is not None else "no HostEndpoint"
        return f"node {self.node} ({hep})"

    @property
    def own_ips(self) -> tuple[IP, ...]:
        """Addresses known to be this node's (no other endpoint has them)."""
        return self.hep.expected_ips if self.hep is not None else ()

    def endpoint(self, ip: IP) -> Endpoint:
        return Endpoint(
            "host",
            ip,
            labels=dict(self.node_labels or {}),
            name=self.node,
            host_endpoint=self.hep.name if self.hep is not None else "",
        )


def _data(doc: Located) -> Mapping[str, object]:
    return doc.data if isinstance(doc.data, Mapping) else {}


def read_host_endpoints(docs: Iterable[Located]) -> tuple[list[HostEndpointInfo], list[InvalidItem]]:
    heps: list[HostEndpointInfo] = []
    invalid: list[InvalidItem] = []
    for doc in docs:
        data = _data(doc)
        if data.get("kind") != "HostEndpoint" or data.get("apiVersion") not in CALICO_APIS:
            continue
        meta = data.get("metadata") if isinstance(data.get("metadata"), Mapping) else {}
        spec = data.get("spec") if isinstance(data.get("spec"), Mapping) else {}
        assert isinstance(meta, Mapping) and isinstance(spec, Mapping)
        name = str(meta.get("name") or "?")
        try:
            labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
            ips = tuple(ipaddress.ip_address(str(ip)) for ip in spec.get("expectedIPs") or [])
            profiles = tuple(str(p) for p in spec.get("profiles") or [])
        except (ValueError, TypeError, AttributeError) as exc:
            invalid.append(InvalidItem("calico", str(exc), f"HostEndpoint {name}", doc))
            continue
        heps.append(
            HostEndpointInfo(
                name=name,
                node=str(spec.get("node") or ""),
                labels=labels,
                interface=str(spec.get("interfaceName") or ""),
                profiles=profiles,
                expected_ips=ips,
                doc=doc,
            )
        )
    return heps, invalid


def _interface_note(hep: HostEndpointInfo) -> UnsupportedItem | None:
    """A named-interface HEP governs only that interface's traffic (an empty ``interfaceName``: the
    interface holding one of its ``expectedIPs``); which interface a flow uses is not in the flow
    world, so such a host endpoint is reported, never guessed (docs/reference/semantics.md §1.5; claim 13)."""
    if hep.interface == ALL_INTERFACES:
        return None
    which = (
        f"interfaceName {hep.interface!r}"
        if hep.interface
        else "no interfaceName (the interface of its expectedIPs)"
    )
    reason = (
        f"host endpoint with {which} governs only that interface's traffic: interfaces are not in "
        "the flow world, so it is not verified as a policy target (it is modelled as a peer by its "
        "expectedIPs and labels)"
    )
    return UnsupportedItem("calico", reason, hep.title, hep.doc, ("spec",))


NODE_LABEL = "calico2cilium.io/node"
"""The label ``calico2cilium convert`` tells users to put on each node (C2C321), assumed present."""


def host_subjects(
    heps: list[HostEndpointInfo], assumptions: Assumptions, extra_nodes: Mapping[str, Mapping[str, str]] = {}
) -> list[HostSubject]:
    """The host subjects: one per HostEndpoint, plus one per node known without one (``node_labels``
    or ``extra_nodes``, e.g. an inventory's nodes)."""
    given = {name: dict(pairs) for name, pairs in (assumptions.node_labels or ())}
    for name, extra in extra_nodes.items():
        given.setdefault(name, dict(extra))
    by_node: dict[str, list[HostEndpointInfo]] = {}
    for hep in heps:
        by_node.setdefault(hep.node, []).append(hep)
    out: list[HostSubject] = []
    for node, members in sorted(by_node.items()):
        notes: list[UnsupportedItem] = []
        labels: dict[str, str] | None
        if node in given:
            labels = given[node]
        elif len({tuple(sorted(h.labels.items())) for h in members}) == 1:
            labels = {**members[0].labels, NODE_LABEL: node}
        else:
            labels = None
            names = ", ".join(h.name for h in members)
            notes.append(
                UnsupportedItem(
                    "calico",
                    f"the HostEndpoints of node {node!r} ({names}) carry different labels: which labels "
                    "the node carries for Cilium's nodeSelector is not known (give node labels)",
                    f"node {node}",
                    members[0].doc,
                )
            )
        named = [h for h in members if h.interface != ALL_INTERFACES]
        if named and len(members) > 1:
            notes.append(
                UnsupportedItem(
                    "calico",
                    f"node {node!r} also has a named-interface HostEndpoint ({named[0].name}): which "
                    "HostEndpoint governs a flow depends on its interface",
                    f"node {node}",
                    named[0].doc,
                )
            )
        for hep in sorted(members, key=lambda h: h.name):
            subject = HostSubject(node, labels, hep, list(notes))
            note = _interface_note(hep)
            if note is not None:
                subject.unsupported.append(note)
            out.append(subject)
    for node, known in sorted(given.items()):
        if node not in by_node:
            out.append(HostSubject(node, known))
    return out
