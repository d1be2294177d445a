"""Cilium's decision at a host subject (a node), per direction: host policies.

Sources: docs/reference/semantics.md §2.1 (a CiliumClusterwideNetworkPolicy with ``nodeSelector`` is a host policy:
it applies to the selected nodes' host namespace; it needs ``hostFirewall.enabled``; among L7 rules
only DNS is allowed), 2.3 (entities: ``host`` is the local node, ``remote-node`` the others), 2.4
(default deny per direction once a selecting rule has rules for it, ``enableDefaultDeny``; deny
wins); docs/reference/semantics-check.md claims 3-5. Host policies are enforced between the host and its local pods
as well as remote peers (cilium/cilium#13121: "host policies are only enforced in the bpf_host
program attached to cilium_host/cilium_net (for hostns<->local pods) and native devices (for
hostns<->remote pods/remote nodes/world)"), so, unlike Calico, Cilium has no always-allowed
"host to its own pods" path at the host's egress.

The rules are the pods' rules (``_Builder``): peers are endpoints (CCNP: ``namespace Exists``
injected), entities, CIDRs; the subject's facts are constants here, so a ``nodeSelector`` is decided
by the node's labels (``Assumptions.node_labels``) and each node gets its own program.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from calico2cilium.semantics.cilium_read import CiliumPolicyDoc, RuleSpec, Selector
from calico2cilium.semantics.expr import SUBJECT, TRUE, NamedPort, walk
from calico2cilium.semantics.program import CiliumPolicy, CiliumProgram, Located, Ref, UnsupportedItem
from calico2cilium.semantics.views import Unsupported, cilium_identity_label, split_cilium_key
from calico2cilium.semantics.world import Assumptions, Direction

if TYPE_CHECKING:
    from calico2cilium.semantics.cilium import _Builder

HostSpec = tuple[CiliumPolicyDoc, Located, RuleSpec]


def _node_label(labels: Mapping[str, str], key: str) -> str | None:
    """A label of a node's host identity: ``reserved:host`` and the node's labels with source
    ``k8s``, passed through the identity-label filter (cilium ``pkg/endpoint/endpoint.go``
    ``InitWithNodeLabels``: ``labels.Map2Labels(nodeLabels, labels.LabelSourceK8s)`` then
    ``labelsfilter.Filter``), so e.g. ``kubernetes.io/hostname`` is not selectable; a key without a
    source matches any source (pkg/policy/api/selector.go)."""
    source, name = split_cilium_key(key)
    if source == "reserved":
        return "" if name == "host" else None
    if source not in ("k8s", "any"):
        raise Unsupported(f"nodeSelector key of source {source!r} ({key!r}) is not modelled")
    if name in labels and cilium_identity_label(name):
        return labels[name]
    return "" if source == "any" and name == "host" else None


def node_selects(selector: Selector, labels: Mapping[str, str]) -> bool:
    """A ``nodeSelector`` on one node's labels."""
    return selector.matches(lambda key: _node_label(labels, key))


def host_program(
    builder: _Builder,
    specs: list[HostSpec],
    node: str,
    labels: Mapping[str, str],
    direction: Direction,
    assumptions: Assumptions,
    built: dict[tuple[int, Direction], CiliumPolicy] | None = None,
) -> CiliumProgram:
    """The host policies selecting ``node`` in one direction; none when the host firewall is off.

    ``built``: the policies of ``specs`` read for earlier nodes, by spec and direction (a host
    policy's reading does not depend on the node once its ``nodeSelector`` selects it; one policy
    selecting many nodes is read once, and their programs share its formulas)."""
    open_ref = Ref("cilium", f"no host policy puts node {node} in default deny")
    if not assumptions.host_firewall:
        open_ref = Ref("cilium", "host firewall off: host policies are not enforced")
        return CiliumProgram(direction, [], open_ref=open_ref)
    policies: list[CiliumPolicy] = []
    for doc, located, spec in specs:
        title = f"{doc.kind} {doc.name}"
        ref = Ref("cilium", title, located, spec.path)
        assert spec.node_selector is not None
        try:
            if not node_selects(spec.node_selector, labels):
                continue
        except Unsupported as exc:
            item = UnsupportedItem("cilium", exc.reason, title, located, (*spec.path, "nodeSelector"))
            policies.append(CiliumPolicy(TRUE, [], [], False, ref, None, [item]))
            continue
        policy = built.get((id(spec), direction)) if built is not None else None
        if policy is None:
            policy = _host_policy(builder, spec, ref, direction, title, located)
            if built is not None:
                built[(id(spec), direction)] = policy
        policies.append(policy)
    return CiliumProgram(direction, policies, open_ref=open_ref)


def _host_policy(
    builder: _Builder, spec: RuleSpec, ref: Ref, direction: Direction, title: str, located: Located
) -> CiliumPolicy:
    """One host policy's rules in one direction, its subject a host it selects."""
    policy = builder._rules(spec, TRUE, ref, direction, None, title, located)
    for rule in policy.allows + policy.denies:
        if any(isinstance(n, NamedPort) and n.entity == SUBJECT for n in walk(rule.match)):
            reason = "named port in a host policy: the host's named ports are not modelled"
            policy.unsupported.append(UnsupportedItem("cilium", reason, title, located, rule.ref.path))
    return policy
