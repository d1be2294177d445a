"""Host decision points: a node with Calico HostEndpoints, one direction, both sides' programs.

The subject is a host (the node's host network namespace), whose Calico labels are all known (its
HostEndpoints') and whose Cilium labels are the Node's (``Assumptions.node_labels``). Peers are
pods, other nodes and outside addresses; the host itself is never its own peer.

Calico (semantics.md 1.2, 1.5; semantics-check.md 13): the GlobalNetworkPolicies whose selector
matches the endpoint's labels (with ``all()`` rewritten as for every endpoint: a
``namespaceSelector`` or ``serviceAccountSelector`` makes it require a namespace or service
account, which host endpoints lack; NetworkPolicies require a namespace) are evaluated in tiers
as for pods; after the tiers, or when none applies, the profiles decide:
``projectcalico-default-allow`` allows, no profile denies (other profiles are not in the input:
not modelled). The failsafe ports are allowed whatever the policy. Traffic from the host to its
local pods is always allowed; a pod peer's locality is a fact of the flow with no label a
selector could name (``LOCAL_POD``). Only ``interfaceName: "*"`` endpoints are modelled (the
world has no interfaces).

Cilium (semantics.md 2.1): rules with ``nodeSelector`` select the node when the selector matches
the host endpoint's labels: ``reserved:host`` plus the Node's labels (source ``k8s``) through the
identity-label filter (cilium ``pkg/endpoint/endpoint.go`` ``InitWithNodeLabels`` runs
``labelsfilter.Filter`` over them); only with the host firewall on. They put the host into default
deny per direction like any rule; peers read as in any CCNP rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from calico2cilium.semantics.calico import CalicoSide, _tiers
from calico2cilium.semantics.cilium import CIDR_GROUP_KIND, CILIUM_KINDS, _Builder
from calico2cilium.semantics.cilium_read import Invalid, Selector, read_cidr_group, read_policy
from calico2cilium.semantics.expr import (
    FALSE,
    PEER,
    TRUE,
    Attr,
    Expr,
    IsKind,
    Present,
    ProtoIs,
    and_,
    or_,
    port_range,
)
from calico2cilium.semantics.program import (
    CalicoProgram,
    CiliumPolicy,
    CiliumProgram,
    Located,
    Ref,
    UnsupportedItem,
)
from calico2cilium.semantics.views import calico_const_label, cilium_identity_label, split_cilium_key
from calico2cilium.semantics.world import DIRECTIONS, Assumptions, Direction

DEFAULT_ALLOW = "projectcalico-default-allow"
LOCAL_POD = Attr(PEER, "pod", " on the host's own node")
"""A pod peer on the subject host's node. The key cannot be written in any selector (it starts
with a space), so it is a free fact of the flow that only this model reads."""


@dataclass
class HostPoint:
    node: str
    direction: Direction
    calico: CalicoProgram
    cilium: CiliumProgram
    unsupported: list[UnsupportedItem] = field(default_factory=list)


def _data(doc: Located) -> dict[str, Any]:
    return doc.data if isinstance(doc.data, dict) else {}


def _title(doc: Located) -> str:
    return f"HostEndpoint {(_data(doc).get('metadata') or {}).get('name', '?')}"


def host_points(
    calico: CalicoSide, cilium_docs: Iterable[Located], assumptions: Assumptions
) -> list[HostPoint]:
    """One point per (node with host endpoints, direction). Needs ``assumptions.node_labels``."""
    nodes = assumptions.nodes
    assert nodes is not None
    by_node: dict[str, list[Located]] = defaultdict(list)
    for doc in calico.host_endpoints:
        by_node[str((_data(doc).get("spec") or {}).get("node") or "")].append(doc)
    cilium_docs = list(cilium_docs)
    out: list[HostPoint] = []
    for node in sorted(set(nodes) - set(by_node)):
        # No host endpoint: Calico does not police the host at all.
        for direction in DIRECTIONS:
            unpoliced = CalicoProgram(direction, [], TRUE, Ref("calico", f"node {node} has no host endpoint"))
            cilium, cilium_notes = _cilium_program(cilium_docs, nodes[node], direction, assumptions)
            out.append(HostPoint(node, direction, unpoliced, cilium, cilium_notes))
    for node in sorted(by_node):
        heps = by_node[node]
        notes = _calico_notes(heps, node, nodes)
        labels = {
            str(k): str(v) for k, v in ((_data(heps[0]).get("metadata") or {}).get("labels") or {}).items()
        }
        profiles = [str(p) for p in (_data(heps[0]).get("spec") or {}).get("profiles") or []]
        for direction in DIRECTIONS:
            program = _calico_program(calico, labels, profiles, direction, assumptions)
            cilium, cilium_notes = _cilium_program(cilium_docs, nodes.get(node, {}), direction, assumptions)
            point = HostPoint(node, direction, program, cilium, [*notes, *cilium_notes])
            out.append(point)
    return out


def _calico_notes(
    heps: list[Located], node: str, nodes: Mapping[str, Mapping[str, str]]
) -> list[UnsupportedItem]:
    out: list[UnsupportedItem] = []
    first = heps[0]
    if node not in nodes:
        out.append(
            UnsupportedItem("calico", f"the labels of node {node!r} are not given", _title(first), first)
        )

    def key(doc: Located) -> tuple[object, ...]:
        data = _data(doc)
        spec = data.get("spec") or {}
        return (
            sorted(((data.get("metadata") or {}).get("labels") or {}).items()),
            list(spec.get("profiles") or []),
        )

    if any(key(doc) != key(first) for doc in heps[1:]):
        reason = "several host endpoints of one node with different labels or profiles (per-interface policy)"
        out.append(UnsupportedItem("calico", reason, _title(first), first))
    for doc in heps:
        spec = _data(doc).get("spec") or {}
        if spec.get("interfaceName") != "*":
            reason = "a host endpoint of one interface: the world has no interfaces (only '*' is modelled)"
            out.append(UnsupportedItem("calico", reason, _title(doc), doc, ("spec",)))
        others = [p for p in spec.get("profiles") or [] if p != DEFAULT_ALLOW]
        if others:
            reason = f"profiles {others} are not in the input"
            out.append(UnsupportedItem("calico", reason, _title(doc), doc, ("spec", "profiles")))
    return out


def _failsafe(ports: Iterable[tuple[int, int]]) -> Expr:
    return or_(*(and_(ProtoIs(proto), port_range("dst", port, port)) for proto, port in ports))


def _calico_program(
    calico: CalicoSide,
    labels: dict[str, str],
    profiles: list[str],
    direction: Direction,
    assumptions: Assumptions,
) -> CalicoProgram:
    side = CalicoSide({})
    tiers = _tiers(
        calico.tiers, calico.policies, direction, calico.sets, side, lambda k: calico_const_label(labels, k)
    )
    program = CalicoProgram(direction, tiers).restrict(lambda p: p.selects != FALSE or bool(p.unsupported))
    if direction == "ingress":
        program.always_allow = _failsafe(assumptions.calico_failsafe_inbound)
        program.always_ref = Ref("calico", "failsafe inbound port (FelixConfiguration)")
    else:
        local = (
            and_(IsKind(PEER, "pod"), Present(LOCAL_POD))
            if assumptions.calico_host_to_own_pods_allowed
            else FALSE
        )
        program.always_allow = or_(_failsafe(assumptions.calico_failsafe_outbound), local)
        program.always_ref = Ref("calico", "failsafe outbound port, or the host's own pod (always allowed)")
    allow = DEFAULT_ALLOW in profiles
    program.after_tiers_allow = allow
    program.profile_ref = Ref(
        "calico",
        f"profile {DEFAULT_ALLOW} (allow)" if allow else "host endpoint default (no profile allows: deny)",
    )
    return program


def host_endpoint_labels(node_labels: Mapping[str, str]) -> dict[tuple[str, str], str]:
    """The Cilium host endpoint's labels as (source, key) -> value."""
    out = {("reserved", "host"): ""}
    for key, value in node_labels.items():
        if cilium_identity_label(key):
            out[("k8s", key)] = value
    return out


def _matches(selector: Selector, labels: Mapping[tuple[str, str], str]) -> bool:
    """A Kubernetes LabelSelector with Cilium key sources over concrete labels (``any`` matches
    every source; ``NotIn``/``DoesNotExist`` hold when the key is absent)."""

    def value(key: str) -> str | None:
        source, name = split_cilium_key(key)
        for (s, k), v in labels.items():
            if k == name and source in ("any", s):
                return v
        return None

    if any(value(k) != v for k, v in selector.match_labels):
        return False
    for req in selector.match_expressions:
        found = value(req.key)
        ok = {
            "In": found is not None and found in req.values,
            "NotIn": found is None or found not in req.values,
            "Exists": found is not None,
            "DoesNotExist": found is None,
        }.get(req.operator, False)
        if not ok:
            return False
    return True


def _cilium_program(
    docs: list[Located], node_labels: Mapping[str, str], direction: Direction, assumptions: Assumptions
) -> tuple[CiliumProgram, list[UnsupportedItem]]:
    labels = host_endpoint_labels(node_labels)
    groups = []
    for doc in docs:
        if _data(doc).get("kind") == CIDR_GROUP_KIND:
            with suppress(Invalid):  # reported by the pod reading
                groups.append(read_cidr_group(_data(doc)))
    builder = _Builder(assumptions, groups)
    policies: list[CiliumPolicy] = []
    notes: list[UnsupportedItem] = []
    for doc in docs:
        data = _data(doc)
        if data.get("kind") not in CILIUM_KINDS:
            continue
        try:
            policy = read_policy(data, assumptions, "default")
        except Invalid:
            continue  # reported by the pod reading
        title = f"{policy.kind} {policy.namespace + '/' if policy.namespace else ''}{policy.name}"
        for spec in policy.specs:
            if spec.node_selector is not None:
                if assumptions.host_firewall and _matches(spec.node_selector, labels):
                    ref = Ref("cilium", title, doc, spec.path)
                    policies.append(builder._rules(spec, TRUE, ref, direction, None, title, doc))
            elif (
                policy.namespace is None
                and spec.endpoint_selector is not None
                and _matches(spec.endpoint_selector, labels)
            ):
                reason = "an endpointSelector that matches the host endpoint's labels is not modelled"
                notes.append(UnsupportedItem("cilium", reason, title, doc, spec.path))
    program = CiliumProgram(direction, policies)
    program.open_ref = Ref("cilium", "no host policy puts the node in default deny")
    return program, notes
