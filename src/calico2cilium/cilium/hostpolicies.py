"""Host plans (``compile/hosts.py``) -> Cilium host policies: CCNP rules with ``nodeSelector``.

Each GlobalNetworkPolicy that applies to a host endpoint gets, in its own CCNP (the one that
carries its pod rules, or a new one of the same name), ``nodeSelector`` rules with the allow rules
of its share of Calico's allowed region: one per group of nodes whose rules are the same (a
selector such as ``all()`` over alike host endpoints gives every node the same rules; one spec
selecting them all by ``In`` says the same as one spec per node, since a spec's rules apply to
each node it selects: docs/reference/semantics.md §2.1). ``calico2cilium-host-defaults`` holds,
per node, what no policy rule allowed: the failsafe ports and what the profile allows after every
tier passed, again one spec per group of nodes where that is the same; a node's spec selects it in
every direction where Calico does not allow everything, so default deny holds exactly where
Calico's does (an empty rule ``{}`` turns default deny on and
allows nothing, docs/reference/semantics.md §2.3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from calico2cilium import ir
from calico2cilium.cilium.cidrgroups import CidrGroups
from calico2cilium.cilium.cover import cover
from calico2cilium.cilium.ports import l4_parts, with_icmp_notes
from calico2cilium.cilium.rulekit import (
    ANNOTATION_PREFIX,
    DENY_SECTION,
    SECTION,
    EmitFailure,
    canonical,
    choose,
    expressible,
    metadata,
    peer_rules,
    source_annotations,
)
from calico2cilium.facts.target import CiliumTarget
from calico2cilium.plan import HOST_DEFAULTS, NODE_LABEL, Grant, HostPlan
from calico2cilium.sets import Inexpressible
from calico2cilium.sets.regions import Cube


def _spec(
    node_selector: dict[str, Any],
    grants: dict[ir.Direction, list[Grant]],
    target: CiliumTarget,
    fail: Callable[[Inexpressible, Grant], None],
    groups: CidrGroups,
    *,
    default_deny: bool,
    description: str,
) -> dict[str, Any] | None:
    spec: dict[str, Any] = {"nodeSelector": node_selector, "description": description}

    def fits(cube: Cube) -> bool:
        return expressible([cube], target) is None

    for direction in ir.Direction:
        direction_grants = grants.get(direction)
        if direction_grants is None:
            continue
        allow, deny = (cover(cubes, fits) for cubes in choose(direction_grants, target, fail))
        sections = {SECTION[direction]: allow, DENY_SECTION[direction]: deny}
        for name, cubes in sections.items():
            rules: list[dict[str, Any]] = []
            if cubes:
                try:
                    parts = partial(l4_parts, target=target, allow=name == SECTION[direction])
                    rules = peer_rules(cubes, direction, False, parts, groups)
                except Inexpressible as err:
                    fail(err, Grant(None, tuple(cubes), tuple(cubes)))
            if rules:
                spec[name] = rules
        if default_deny and SECTION[direction] not in spec and DENY_SECTION[direction] not in spec:
            # Default deny, allowing nothing; deny rules turn it on already
            # (docs/reference/semantics.md §2.4).
            spec[SECTION[direction]] = [{}]
    return spec if len(spec) > 2 else None


def host_documents(
    hosts: Sequence[HostPlan], target: CiliumTarget, groups: CidrGroups, failures: list[EmitFailure]
) -> tuple[dict[str, tuple[ir.Policy, list[dict[str, Any]]]], list[dict[str, Any]]]:
    """The ``nodeSelector`` specs per source policy, and the defaults CCNP (``HOST_DEFAULTS``)."""
    by_policy: dict[str, tuple[ir.Policy, list[dict[str, Any]]]] = {}
    per_node: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    documents: list[dict[str, Any]] = []
    defaults: list[tuple[HostPlan, dict[str, Any]]] = []
    written: dict[tuple[object, ...], dict[str, Any] | None] = {}
    """Specs by the grants they write: alike nodes share their grants (``compile/hosts._like``)."""

    def spec_of(
        selector: dict[str, Any],
        grants: dict[ir.Direction, list[Grant]],
        fail: Callable[[Inexpressible, Grant], None],
        *,
        default_deny: bool,
        description: str,
    ) -> dict[str, Any] | None:
        key = (default_deny, tuple((d, tuple(id(g) for g in grants[d])) for d in ir.Direction if d in grants))
        if key not in written:
            written[key] = _spec({}, grants, target, fail, groups, default_deny=default_deny, description="")
        body = written[key]
        if body is None:
            return None
        sections = {k: v for k, v in body.items() if k not in ("nodeSelector", "description")}
        return {"nodeSelector": selector, "description": description, **sections}

    for host in hosts:
        selector = {"matchLabels": {NODE_LABEL: host.label_value}}
        for key in sorted(host.grants):
            policy = host.policies[key]

            def fail(err: Inexpressible, grant: Grant, policy: ir.Policy = policy) -> None:
                failures.append(EmitFailure(grant.rule, policy, err))

            governed = {d: g for d, g in host.grants[key].items() if d in host.governed}
            spec = spec_of(selector, governed, fail, default_deny=False, description="")
            if spec is not None:
                by_policy.setdefault(key, (policy, []))
                per_node.setdefault(key, []).append((host.label_value, host.node, spec))

        def fail_default(err: Inexpressible, grant: Grant) -> None:
            failures.append(EmitFailure(None, None, err))

        spec = spec_of(selector, host.defaults, fail_default, default_deny=True, description="")
        if spec is not None:
            defaults.append((host, spec))
    for key, (policy, specs) in by_policy.items():
        specs.extend(_policy_specs(policy, per_node[key]))
    if defaults:
        documents.append(_defaults_document(defaults))
    return by_policy, documents


def _defaults_document(defaults: list[tuple[HostPlan, dict[str, Any]]]) -> dict[str, Any]:
    """``HOST_DEFAULTS``: every node's defaults, one spec per set of nodes whose defaults are
    the same (``_grouped``)."""
    hosts = [host for host, _ in defaults]
    members = [(host.label_value, host.node, spec) for host, spec in defaults]
    specs = _grouped(
        members,
        lambda node: f"Calico's defaults for the host endpoints of node {node} (failsafe ports, profiles)",
        lambda count, shown: (
            f"Calico's defaults for the host endpoints of {count} nodes ({shown}), the"
            " same for each (failsafe ports, profiles)"
        ),
    )
    first = hosts[0].first
    annotations = {ANNOTATION_PREFIX + "source": first.origin.resource}
    if first.origin.source is not None:
        annotations[ANNOTATION_PREFIX + "source-file"] = str(first.origin.source)
    endpoints = [h.name for host in hosts for h in host.endpoints]
    if len(endpoints) > 1:
        annotations[ANNOTATION_PREFIX + "host-endpoints"] = ", ".join(endpoints)
    annotations[ANNOTATION_PREFIX + "note"] = (
        "Calico's defaults for the host endpoints of each node: default deny where Calico denies"
        " what no policy allows, the failsafe ports (FelixConfiguration defaults), and what the"
        " profile allows after every tier passed"
    )
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumClusterwideNetworkPolicy",
        "metadata": metadata(HOST_DEFAULTS, None, annotations),
        "specs": sorted(specs, key=canonical),
    }


def _policy_specs(policy: ir.Policy, specs: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return _grouped(
        specs,
        lambda node: f"{policy.name}: its rules for the host endpoints of node {node}",
        lambda count, shown: (
            f"{policy.name}: its rules for the host endpoints of {count} nodes ({shown}), the same for each"
        ),
    )


def _grouped(
    specs: list[tuple[str, str, dict[str, Any]]],
    one: Callable[[str], str],
    many: Callable[[int, str], str],
) -> list[dict[str, Any]]:
    """One spec per set of nodes (node label value, node name, spec) with the same rules,
    selecting them by their node label: a spec's rules apply to each node it selects
    (docs/reference/semantics.md §2.1). Its description is ``one(node)`` or ``many(count,
    first names)``."""
    groups: dict[str, list[tuple[str, str]]] = {}
    bodies: dict[str, dict[str, Any]] = {}
    for label, node, spec in specs:
        body = {k: v for k, v in spec.items() if k not in ("nodeSelector", "description")}
        key = canonical(body)
        groups.setdefault(key, []).append((label, node))
        bodies[key] = body
    out = []
    for key, members in groups.items():
        labels = sorted(label for label, _ in members)
        names = sorted(node for _, node in members)
        if len(members) == 1:
            selector: dict[str, Any] = {"matchLabels": {NODE_LABEL: labels[0]}}
            note = one(names[0])
        else:
            selector = {"matchExpressions": [{"key": NODE_LABEL, "operator": "In", "values": labels}]}
            note = many(len(names), ", ".join(names[:_NAMED]) + (", ..." if len(names) > _NAMED else ""))
        body = bodies[key]
        out.append({"nodeSelector": selector, "description": with_icmp_notes(note, body), **body})
    return out


_NAMED = 5
"""Nodes named in a grouped spec's description (its ``nodeSelector`` lists them all)."""


def merge_host_specs(
    documents: list[dict[str, Any]], by_policy: dict[str, tuple[ir.Policy, list[dict[str, Any]]]]
) -> None:
    """Add each policy's host specs to its CCNP (created if the policy selects no pods)."""
    index = {
        doc["metadata"]["annotations"].get(ANNOTATION_PREFIX + "source"): doc
        for doc in documents
        if doc["kind"] == "CiliumClusterwideNetworkPolicy"
    }
    for key, (policy, specs) in by_policy.items():
        doc = index.get(key)
        if doc is None:
            doc = {
                "apiVersion": "cilium.io/v2",
                "kind": "CiliumClusterwideNetworkPolicy",
                "metadata": metadata(policy.name, None, source_annotations(policy)),
                "specs": [],
            }
            documents.append(doc)
            index[key] = doc
        doc["specs"] = [*doc["specs"], *sorted(specs, key=canonical)]
