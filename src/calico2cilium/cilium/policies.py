"""The compile plan -> CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy documents.

One output resource per converted source policy, named after it (Calico NetworkPolicy and
Kubernetes NetworkPolicy -> CNP in the same namespace; GlobalNetworkPolicy -> CCNP), so users
recognise their policies; plus ``calico2cilium-profile-allow`` (a CCNP) for what Calico allows
after every tier passed. Each resource has one ``specs`` entry per subject cube: the subject as
``endpointSelector`` (default deny in every direction the source governs) and the allow rules for
that subject. Rules: one L3 peer kind each (Cilium refuses mixes), ``toPorts`` and ``icmps`` in
separate rules. Output is deterministic: sorted specs, rules and keys.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from calico2cilium import ir
from calico2cilium.cilium.cidrgroups import CidrGroups
from calico2cilium.cilium.http import http_items, l7_parts
from calico2cilium.cilium.ports import l4_parts, tcp_numbers
from calico2cilium.cilium.selectors import peer_selectors, subject_selectors
from calico2cilium.compile.hosts import HostPlan
from calico2cilium.compile.plan import Grant, Plan, PolicyPlan
from calico2cilium.facts.target import CiliumTarget
from calico2cilium.sets import (
    HostPeer,
    Inexpressible,
    LabelCube,
    LabelSet,
    NetPeer,
    PodPeer,
    cilium_names,
)
from calico2cilium.sets.l4 import TCP, L4Set
from calico2cilium.sets.regions import Cube, subtract_cubes

ANNOTATION_PREFIX = "calico2cilium.io/"
L7Ports = Mapping[ir.Direction, frozenset[int]]
PROFILE_NAME = "calico2cilium-profile-allow"
_PEER_FIELDS = {
    ir.Direction.INGRESS: ("fromEndpoints", "fromCIDRSet", "fromEntities"),
    ir.Direction.EGRESS: ("toEndpoints", "toCIDRSet", "toEntities"),
}
_SECTION = {ir.Direction.INGRESS: "ingress", ir.Direction.EGRESS: "egress"}


@dataclass(frozen=True)
class EmitFailure:
    """A piece of an allowed region with no Cilium form: the rule that allowed it and why.
    ``http``: the rule's http filter (an L7 grant) is what could not be written."""

    rule: ir.Rule | None
    policy: ir.Policy | None
    error: Inexpressible
    http: bool = False


@dataclass
class Emitted:
    documents: list[dict[str, Any]]
    failures: list[EmitFailure]
    l7_rules: list[tuple[ir.Rule, bool]]
    """The http rules converted: ``True`` with Cilium L7 rules, ``False`` needing none."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


PartsOf = Callable[[L4Set], list[dict[str, Any]]]


def _peer_rules(
    cubes: list[Cube], direction: ir.Direction, namespaced: bool, parts_of: PartsOf, groups: CidrGroups
) -> list[dict[str, Any]]:
    """Rules whose union (for one subject) is exactly the given (peer, L4) cubes; ``parts_of``
    writes an L4 set as rule fragments (``l4_parts``, or ``l7_parts`` with HTTP rules)."""
    endpoints_f, cidr_f, entities_f = _PEER_FIELDS[direction]
    by_l4: dict[str, tuple[L4Set, list[Cube]]] = {}
    for cube in cubes:
        key = _canonical(str(cube.l4)) + repr(cube.l4.sort_key())
        by_l4.setdefault(key, (cube.l4, []))[1].append(cube)
    rules: list[dict[str, Any]] = []
    for l4, group in by_l4.values():
        parts = parts_of(l4)
        pods = [c.peer.labels for c in group if isinstance(c.peer, PodPeer)]
        hosts = frozenset().union(*(c.peer.kinds for c in group if isinstance(c.peer, HostPeer)))
        nets = [c.peer.ips for c in group if isinstance(c.peer, NetPeer)]
        ips = nets[0] if nets else None
        for more in nets[1:]:
            ips = ips | more if ips is not None else more
        peers: list[dict[str, Any]] = []
        everyone = LabelSet.of(pods).is_full and len(hosts) == 2 and ips is not None and ips.is_full
        if everyone:
            peers.append({entities_f: ["all"]})
        else:
            selectors = [s for cube in pods for s in peer_selectors(cube, namespaced)]
            if selectors:
                unique = {_canonical(s): s for s in selectors}
                peers.append({endpoints_f: [unique[k] for k in sorted(unique)]})
            if ips is not None and not ips.is_empty:
                peers.append({cidr_f: groups.cidr_items(ips)})
            if hosts:
                peers.append({entities_f: sorted(k.value for k in hosts)})
        for peer in peers:
            for part in parts:
                rules.append({**peer, **part})
    return sorted(rules, key=_canonical)


_DENY_SECTION = {ir.Direction.INGRESS: "ingressDeny", ir.Direction.EGRESS: "egressDeny"}


def _expressible(cubes: Sequence[Cube], target: CiliumTarget) -> Inexpressible | None:
    """``None`` if every cube's L4 part has a Cilium form (peers always have one), else why not."""
    for cube in cubes:
        try:
            l4_parts(cube.l4, target)
        except Inexpressible as err:
            return err
    return None


def _choose(
    grants: list[Grant], target: CiliumTarget, fail: Callable[[Inexpressible, Grant], None]
) -> tuple[list[Cube], list[Cube]]:
    """Allow and deny cubes for a direction: each grant's exact allowed part, or, where that has
    no Cilium form, its whole region allowed and Calico's denied part of it denied."""
    allow: list[Cube] = []
    deny: list[Cube] = []
    for grant in grants:
        err = _expressible(grant.allow, target)
        if err is None:
            allow.extend(grant.allow)
            continue
        denied = subtract_cubes(grant.wide, grant.allow)
        if _expressible(grant.wide, target) is None and _expressible(denied, target) is None:
            allow.extend(grant.wide)
            deny.extend(denied)
            continue
        fail(err, grant)
    return allow, deny


def _by_subject(cubes: list[Cube]) -> dict[LabelCube, list[Cube]]:
    groups: dict[LabelCube, list[Cube]] = defaultdict(list)
    for cube in cubes:
        groups[cube.subject].append(cube)
    return groups


@dataclass
class _Section:
    """One direction of one output resource, before rendering: allowed and denied cubes, and
    L7 filters (cubes, ``rules.http`` items). ``governed``: the source governs the direction, so
    every subject cube is put into default deny there."""

    governed: bool
    allow: list[Cube]
    deny: list[Cube]
    l7: list[tuple[list[Cube], list[dict[str, str]]]] = field(default_factory=list)


Fail = Callable[[Inexpressible, Grant], None]


@dataclass
class _Resource:
    """One output policy before rendering; ``owner`` is the plan of its source policy."""

    kind: str
    name: str
    namespace: str | None
    annotations: dict[str, str]
    subject: LabelSet
    layout: dict[ir.Direction, _Section]
    fail: Fail
    owner: PolicyPlan | None = None
    split_note: bool = True


def _layout(
    grants: dict[ir.Direction, list[Grant]],
    target: CiliumTarget,
    fail: Fail,
    denies: dict[ir.Direction, list[Cube]] | None = None,
) -> dict[ir.Direction, _Section]:
    """Each direction's allow and deny cubes (``_choose``); ``denies`` are extra flows to deny."""
    out: dict[ir.Direction, _Section] = {}
    for direction in ir.Direction:
        direction_grants = grants.get(direction)
        extra = (denies or {}).get(direction, [])
        if direction_grants is None and not extra:
            continue
        allow, deny = _choose(direction_grants or [], target, fail)
        out[direction] = _Section(direction_grants is not None, allow, deny + list(extra))
    return out


def _with_http(items: list[dict[str, str]]) -> PartsOf:
    def parts(l4: L4Set) -> list[dict[str, Any]]:
        return l7_parts(l4, items)

    return parts


def _specs(
    resource: _Resource, target: CiliumTarget, groups: CidrGroups, l7_ports: L7Ports
) -> list[dict[str, Any]]:
    """Specs for one resource: every subject cube that has rules, and every cube of the subject
    (default deny) in each governed direction. Plain allows never write a range over a TCP port
    that carries L7 rules in the direction (``l7_ports``; ``ports.py``)."""
    namespace, fail = resource.namespace, resource.fail
    per_subject: dict[LabelCube, dict[str, list[dict[str, Any]]]] = defaultdict(dict)

    def plain(l4: L4Set) -> list[dict[str, Any]]:
        return l4_parts(l4, target)

    for direction, sec in resource.layout.items():
        section, deny_section = _SECTION[direction], _DENY_SECTION[direction]
        if sec.governed:
            for cube in resource.subject.cubes:
                per_subject[cube].setdefault(section, [])
        beside_l7 = partial(l4_parts, target=target, l7_ports=l7_ports.get(direction, frozenset()))
        pieces: list[tuple[str, list[Cube], PartsOf]] = [
            (section, sec.allow, beside_l7),
            (deny_section, sec.deny, plain),
        ]
        for cubes, items in sec.l7:
            pieces.append((section, cubes, _with_http(items)))
        for name, cubes, parts_of in pieces:
            for subject_cube, group in _by_subject(cubes).items():
                try:
                    rules = _peer_rules(group, direction, namespace is not None, parts_of, groups)
                except Inexpressible as err:  # only extra denies can get here: the rest was checked
                    fail(err, Grant(None, tuple(group), tuple(group)))
                    continue
                if name == section or sec.governed:
                    per_subject[subject_cube].setdefault(section, [])
                per_subject[subject_cube].setdefault(name, []).extend(rules)
    specs: dict[str, dict[str, Any]] = {}
    for subject_cube, sections in per_subject.items():
        for selector in subject_selectors(subject_cube, namespace):
            spec: dict[str, Any] = {"endpointSelector": selector}
            for name in ("ingress", "ingressDeny", "egress", "egressDeny"):
                if name in sections:
                    # An empty rule allows nothing but turns default deny on (semantics.md 2.3).
                    spec[name] = sections[name] or [{}]
            key = _canonical(spec)
            specs[key] = spec
    return [specs[k] for k in sorted(specs)]


def _metadata(name: str, namespace: str | None, annotations: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["annotations"] = dict(sorted(annotations.items()))
    return meta


def _source_annotations(policy: ir.Policy) -> dict[str, str]:
    out = {ANNOTATION_PREFIX + "source": policy.origin.resource}
    if policy.origin.source is not None:
        out[ANNOTATION_PREFIX + "source-file"] = str(policy.origin.source)
    if policy.tier != "default" or policy.kind != "KubernetesNetworkPolicy":
        order = "none" if policy.order == ir.NO_ORDER else f"{policy.order:g}"
        out[ANNOTATION_PREFIX + "calico-order"] = f"tier {policy.tier}, order {order}"
    return out


def _resource_for(
    pp: PolicyPlan, plan: Plan, target: CiliumTarget, failures: list[EmitFailure]
) -> _Resource | None:
    policy = pp.policy
    namespace = policy.namespace if policy.scope is ir.Scope.NAMESPACED else None

    def fail(err: Inexpressible, grant: Grant) -> None:
        failures.append(EmitFailure(grant.rule, policy, err))

    if pp.native is not None:
        return _knp_companion(pp, plan, namespace, target, fail)
    kind = "CiliumNetworkPolicy" if namespace is not None else "CiliumClusterwideNetworkPolicy"
    layout = _layout(pp.allow, target, fail)
    return _Resource(kind, policy.name, namespace, _source_annotations(policy), pp.subject, layout, fail, pp)


def _knp_companion(
    pp: PolicyPlan, plan: Plan, namespace: str | None, target: CiliumTarget, fail: Fail
) -> _Resource | None:
    """A Kubernetes NetworkPolicy goes to the output unchanged, and Cilium enforces it with its
    own reading, unioned with everything else and with no order. This companion CNP makes the
    result Calico's: it denies what the KNP allows in Cilium but Calico denies (an earlier Calico
    Deny, semantics.md 3.1), and allows what Calico allows through the KNP but Cilium's reading
    does not (an ``ipBlock`` covering pods). ``None`` when neither is needed."""
    assert pp.native is not None
    extras: dict[ir.Direction, list[Grant]] = {}
    denies: dict[ir.Direction, list[Cube]] = {}
    for direction, native in pp.native.items():
        for grant in pp.allow.get(direction, []):
            missing = tuple(subtract_cubes(grant.allow, native))
            if missing:
                extras.setdefault(direction, []).append(Grant(grant.rule, missing, missing))
        denied = plan.denied.get(direction)
        if denied is not None and native:
            outside = subtract_cubes(native, denied.cubes)
            overlap = subtract_cubes(native, outside)
            if overlap:
                denies[direction] = overlap
    if not extras and not denies:
        return None
    annotations = _source_annotations(pp.policy)
    annotations[ANNOTATION_PREFIX + "note"] = (
        "the Kubernetes NetworkPolicy is kept as it is; this policy corrects what Cilium's unordered"
        " reading of it would change: it denies what Cilium's reading allows and Calico denies"
        " (by an earlier policy, or at the end of the tier), and allows what Calico's reading allows"
        " beyond Cilium's"
    )
    layout = _layout(extras, target, fail, denies)
    return _Resource(
        "CiliumNetworkPolicy",
        f"knp-{pp.policy.name}",
        namespace,
        annotations,
        LabelSet.empty(),
        layout,
        fail,
        split_note=False,
    )


def _profile_resource(plan: Plan, target: CiliumTarget, failures: list[EmitFailure]) -> _Resource | None:
    grants = {d: g for d, g in plan.profile_allow.items() if g}
    if not grants:
        return None

    def fail(err: Inexpressible, grant: Grant) -> None:
        failures.append(EmitFailure(None, None, err))

    annotations = {
        ANNOTATION_PREFIX + "note": "what Calico allows after every tier passed the traffic on: the"
        " namespace profiles (kns.<namespace>) allow everything"
    }
    layout = _layout(grants, target, fail)
    return _Resource(
        "CiliumClusterwideNetworkPolicy",
        PROFILE_NAME,
        None,
        annotations,
        LabelSet.empty(),
        layout,
        fail,
        split_note=False,
    )


def _overlaps(cubes: Sequence[Cube], others: Sequence[Cube]) -> bool:
    return any(a.intersects(b) for a in cubes for b in others)


def _named_beside(l7: Sequence[Cube], plain: Sequence[Cube]) -> bool:
    """Whether a plain allow on a named TCP port selects pods that ``l7`` puts L7 rules on: it is an
    L4 filter of its own whose number is unknown here (``cilium_l7.overlaps_unsafely``)."""
    return any(
        p.subject.intersects(c.subject)
        and any(cilium_names(pm)[1] for proto, pm in p.l4.ports if proto == TCP)
        for p in plain
        for c in l7
    )


def _place_l7(
    plan: Plan, resources: list[_Resource], target: CiliumTarget, failures: list[EmitFailure]
) -> list[tuple[ir.Rule, bool]]:
    """Add each http rule's L7 filter (``compile/http.py``) to its policy's resource, in the first
    form Cilium can say, unless a deny rule or a plain allow of the output covers part of the
    flows it must filter (the deny would drop them, the allow let every request through)."""
    plain: dict[ir.Direction, list[Cube]] = defaultdict(list)
    denied: dict[ir.Direction, list[Cube]] = defaultdict(list)
    for resource in resources:
        for direction, sec in resource.layout.items():
            plain[direction].extend(sec.allow)
            denied[direction].extend(sec.deny)
    for pp in plan.policies:
        for direction, native in (pp.native or {}).items():
            plain[direction].extend(native)  # Cilium enforces the Kubernetes NetworkPolicy itself
    placed: list[tuple[ir.Rule, bool]] = []
    for resource in resources:
        owner = resource.owner
        if owner is None:
            continue
        for direction, grants in owner.l7.items():
            for grant in grants:
                if not grant.exact:
                    placed.append((grant.rule, False))
                    continue
                items = http_items(grant.http)
                error: Inexpressible | None = None
                chosen: tuple[Cube, ...] | None = None
                for form in grant.forms:
                    try:
                        for cube in form:
                            l7_parts(cube.l4, items)
                    except Inexpressible as err:
                        error = error or err
                        continue
                    chosen = form
                    break
                if chosen is not None and _overlaps(grant.exact, denied[direction]):
                    chosen, error = (
                        None,
                        Inexpressible(
                            "http", "a deny rule of the output covers part of its traffic and would drop it"
                        ),
                    )
                if chosen is not None and _overlaps(grant.exact, plain[direction]):
                    chosen, error = (
                        None,
                        Inexpressible(
                            "http", "an allow rule of the output without L7 rules covers part of its traffic"
                        ),
                    )
                if chosen is not None and _named_beside(chosen, plain[direction]):
                    chosen, error = (
                        None,
                        Inexpressible(
                            "http",
                            "an allow rule of the output on a named TCP port selects the same pods, and"
                            " Cilium may hand such a rule to its proxy as an allow-all for every peer on"
                            " the port's number (semantics/cilium_l7.py)",
                        ),
                    )
                if chosen is None:
                    assert error is not None
                    failures.append(EmitFailure(grant.rule, owner.policy, error, http=True))
                    continue
                resource.layout[direction].l7.append((list(chosen), items))
                placed.append((grant.rule, True))
    return placed


def _l7_ports(resources: Sequence[_Resource]) -> L7Ports:
    """Per direction, the TCP port numbers on which the output has L7 rules."""
    found: dict[ir.Direction, set[int]] = defaultdict(set)
    for resource in resources:
        for direction, sec in resource.layout.items():
            for cubes, _ in sec.l7:
                for cube in cubes:
                    found[direction].update(tcp_numbers(cube.l4))
    return {d: frozenset(ports) for d, ports in found.items()}


def _document(
    resource: _Resource, target: CiliumTarget, groups: CidrGroups, l7_ports: L7Ports
) -> dict[str, Any] | None:
    specs = _specs(resource, target, groups, l7_ports)
    if not specs:
        return None
    annotations = dict(resource.annotations)
    if resource.split_note and len(specs) > 1:
        annotations[ANNOTATION_PREFIX + "note"] = (
            "the subject is split where earlier policies, or the policy's own selector, decide part"
            " of its traffic differently"
        )
    return {
        "apiVersion": "cilium.io/v2",
        "kind": resource.kind,
        "metadata": _metadata(resource.name, resource.namespace, annotations),
        "specs": specs,
    }


def emit_policies(
    plan: Plan,
    target: CiliumTarget,
    network_sets: Sequence[ir.NetworkSet] = (),
    passthrough: Sequence[dict[str, Any]] = (),
    hosts: Sequence[HostPlan] = (),
) -> Emitted:
    """Every output document: the policies (with their host rules, ``hostpolicies.py``), the
    CIDR groups (``cidrgroups.py``) and the Kubernetes NetworkPolicies, passed through."""
    from calico2cilium.cilium.hostpolicies import host_documents, merge_host_specs

    failures: list[EmitFailure] = []
    groups = CidrGroups(list(network_sets))
    resources = [r for pp in plan.policies if (r := _resource_for(pp, plan, target, failures)) is not None]
    profile = _profile_resource(plan, target, failures)
    if profile is not None:
        resources.append(profile)
    placed = _place_l7(plan, resources, target, failures)
    l7_ports = _l7_ports(resources)
    out = [doc for r in resources if (doc := _document(r, target, groups, l7_ports)) is not None]
    host_specs, host_defaults = host_documents(hosts, target, groups, failures)
    merge_host_specs(out, host_specs)
    out.extend(host_defaults)
    out.extend(groups.documents(target))
    out.extend(dict(doc) for doc in passthrough)
    out.sort(key=lambda r: (r["kind"], r["metadata"].get("namespace", ""), r["metadata"]["name"]))
    return Emitted(out, failures, placed)
