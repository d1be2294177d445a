"""Pod policies: the plan's policies -> CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy.

One output resource per converted source policy, named after it (Calico NetworkPolicy and
Kubernetes NetworkPolicy -> CNP in the same namespace; GlobalNetworkPolicy -> CCNP), so users
recognise their policies; plus ``calico2cilium-profile-allow`` (a CCNP) for what Calico allows
after every tier passed. Each resource has one ``specs`` entry per subject cube: the subject as
``endpointSelector`` (default deny in every direction the source governs) and the allow rules for
that subject. Rules: one L3 peer kind each (Cilium refuses mixes), ``toPorts`` and ``icmps`` in
separate rules. Output is deterministic: sorted specs, rules and keys.

A ``Resource`` is one output policy before rendering, so that ``l7.py`` can add the http rules'
filters to it first; ``document`` renders it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from calico2cilium import ir
from calico2cilium.cilium.cidrgroups import CidrGroups
from calico2cilium.cilium.cover import Bound, cover, covered_by_others
from calico2cilium.cilium.http import l7_parts
from calico2cilium.cilium.ports import l4_parts, with_icmp_notes
from calico2cilium.cilium.rulekit import (
    ANNOTATION_PREFIX,
    DENY_SECTION,
    SECTION,
    DeniedWider,
    EmitFailure,
    Fail,
    PartsOf,
    canonical,
    choose,
    expressible,
    merge_rules,
    metadata,
    peer_rules,
    source_annotations,
)
from calico2cilium.cilium.selectors import subject_selectors, widened
from calico2cilium.facts.target import CiliumTarget
from calico2cilium.plan import Denial, Grant, Plan, PolicyPlan
from calico2cilium.sets import Inexpressible, LabelCube, LabelSet
from calico2cilium.sets.l4 import L4Set
from calico2cilium.sets.regions import Cube, subtract_cubes

L7Ports = Mapping[ir.Direction, frozenset[int]]
PROFILE_NAME = "calico2cilium-profile-allow"


@dataclass(slots=True)
class Section:
    """One direction of one output resource, before rendering: allowed and denied cubes, and
    L7 filters (cubes, ``rules.http`` items). ``governed``: the source governs the direction, so
    every subject cube is put into default deny there."""

    governed: bool
    allow: list[Cube]
    deny: list[Cube]
    l7: list[tuple[list[Cube], list[dict[str, str]]]] = field(default_factory=list)
    notes: dict[LabelCube, list[str]] = field(default_factory=dict)
    """Per subject cube, the Calico rules its allow and deny rules came from (``description``)."""
    origins: dict[Cube, list[str]] = field(default_factory=dict)
    """Per allowed or denied cube, the Calico rules it came from."""

    def note(self, cubes: Sequence[Cube], text: str) -> None:
        if text:
            for cube in cubes:
                origins = self.origins.setdefault(cube, [])
                if text not in origins:  # a rule that denies another's flows too (``_deny_once``)
                    self.notes.setdefault(cube.subject, []).append(text)
                    origins.append(text)


@dataclass(slots=True)
class Resource:
    """One output policy before rendering; ``owner`` is the plan of its source policy."""

    kind: str
    name: str
    namespace: str | None
    annotations: dict[str, str]
    subject: LabelSet
    layout: dict[ir.Direction, Section]
    fail: Fail
    owner: PolicyPlan | None = None
    split_note: bool = True
    default_note: str = ""
    """The description of a spec that only puts its pods into default deny."""
    open: frozenset[ir.Direction] = frozenset()
    """Directions in which its specs turn default deny off (``PolicyPlan.open``)."""


_NOWHERE: frozenset[ir.Direction] = frozenset()
"""One empty set of directions for every resource that opens none (a set object per resource
was some 2 MB in 10,000 policies' output)."""

_RULE_AT = re.compile(r" (ingress|egress)\[(\d+)\] ")


def _rule_order(note: str) -> tuple[int, str, int]:
    """Descriptions in the source's rule order (direction, then index); others first."""
    found = _RULE_AT.search(note)
    return (1, found.group(1), int(found.group(2))) if found else (0, "", 0)


def lay_out(
    grants: dict[ir.Direction, list[Grant]],
    target: CiliumTarget,
    fail: Fail,
    denies: dict[ir.Direction, list[Denial]] | None = None,
) -> dict[ir.Direction, Section]:
    """Each direction's allow and deny cubes (``choose``, one grant at a time so that each keeps
    its description); ``denies`` are flows to deny (Calico Deny rules kept as deny rules). Each
    rule's cubes are written as ``cover`` finds them, fewer and looser with the same union."""
    out: dict[ir.Direction, Section] = {}

    def fits(cube: Cube) -> bool:
        return expressible([cube], target) is None

    for direction in ir.Direction:
        direction_grants = grants.get(direction)
        extra = (denies or {}).get(direction, [])
        if direction_grants is None and not extra:
            continue
        section = Section(direction_grants is not None, [], [])
        denied: list[tuple[Cube, str]] = []
        for grant in direction_grants or []:
            allow, deny = (cover(cubes, fits) for cubes in choose([grant], target, fail))
            section.allow.extend(allow)
            section.note(allow, grant.description)
            denied.extend(
                (c, grant.description and f"{grant.description}: the part Calico denies") for c in deny
            )
        for denial in extra:
            denied.extend(_deny_cubes(denial, fits))
        _deny_once(section, denied)
        out[direction] = section
    return out


def _deny_cubes(denial: Denial, fits: Callable[[Cube], bool]) -> list[tuple[Cube, str]]:
    """A Deny's cubes as ``cover`` writes them within its bound, or its other writing's where
    that takes fewer specs (subjects), then fewer cubes (``Denial.other``)."""
    best: tuple[tuple[int, int], list[Cube], str] | None = None
    option: Denial | None = denial
    while option is not None:
        bound = Bound(option.within, option.taken) if option.within else None
        cubes = cover(option.cubes, fits, bound)
        cost = (len({c.subject for c in cubes}), len(cubes))
        if best is None or cost < best[0]:
            best = (cost, cubes, option.description)
        option = option.other
    assert best is not None
    _, cubes, text = best
    return [(c, text) for c in cubes]


def _deny_once(section: Section, denied: list[tuple[Cube, str]]) -> None:
    """The deny cubes of several Calico rules into ``section``, less those the others cover
    (``cover.covered_by_others``): the same Deny often reaches one set of pods through one rule
    and a narrower set again through another (``Deny ICMP to has(team)`` then ``Deny ICMP``),
    and each repetition of an ICMP deny lists every type again. A dropped cube's rule is named in
    the description of the cubes that deny its flows, so every Deny stays traceable."""
    cubes = [c for c, _ in denied]
    covered = covered_by_others(cubes)
    for i, (cube, text) in enumerate(denied):
        if i in covered:
            section.note([cubes[k] for k in covered[i]], text)
        else:
            section.deny.append(cube)
            section.note([cube], text)


def with_http(items: list[dict[str, str]]) -> PartsOf:
    def parts(l4: L4Set) -> list[dict[str, Any]]:
        return l7_parts(l4, items)

    return parts


def specs_of(
    resource: Resource, target: CiliumTarget, groups: CidrGroups, l7_ports: L7Ports
) -> list[dict[str, Any]]:
    """Specs for one resource: its rules for each subject cube, and every cube of the subject in
    default deny in each governed direction; written per subject cube, or each rule once for all
    the cubes that have it (``_factored``), whichever is shorter. Plain allows never write a
    range over a TCP port that carries L7 rules in the direction (``l7_ports``; ``ports.py``)."""
    per_subject = _sectioned(resource, target, groups, l7_ports, resource.fail, by_origin=False)
    candidates = [_rendered(resource, _per_subject(per_subject))]
    if len(per_subject) > 1:  # one cube has nothing to share
        refused: list[Inexpressible] = []
        # Rules written per Calico rule, so that each one's description names only its own origin.
        by_origin = _sectioned(
            resource, target, groups, l7_ports, lambda err, _: refused.append(err), by_origin=True
        )
        if not refused:  # else the first form's diagnostics are the ones given
            candidates.append(_rendered(resource, _factored(by_origin)))
    # Both are exact; the JSON length stands for the YAML's, cheaply.
    return min(candidates, key=lambda specs: (len(canonical(specs)), candidates.index(specs)))


def _sectioned(
    resource: Resource,
    target: CiliumTarget,
    groups: CidrGroups,
    l7_ports: L7Ports,
    fail: Fail,
    *,
    by_origin: bool,
) -> dict[LabelCube, dict[str, list[_Tagged]]]:
    """Per subject cube, per section, its rules and the Calico rules they came from: rules
    written for all the cube's allowed (or denied) cubes at once, or ``by_origin``, for each
    Calico rule's cubes on their own (rules that only the union of several Calico rules' cubes
    could merge, such as ``toEntities: [all]``, then stay apart). Cubes with no rule in a
    section they are in default deny in have it empty."""
    namespace = resource.namespace
    per_subject: dict[LabelCube, dict[str, list[_Tagged]]] = defaultdict(dict)

    def plain(l4: L4Set) -> list[dict[str, Any]]:
        return l4_parts(l4, target)

    for direction, sec in resource.layout.items():
        section, deny_section = SECTION[direction], DENY_SECTION[direction]
        closed = sec.governed and direction not in resource.open
        if closed:
            for cube in resource.subject.cubes:
                per_subject[cube].setdefault(section, [])
        beside_l7 = partial(
            l4_parts, target=target, l7_ports=l7_ports.get(direction, frozenset()), allow=True
        )
        pieces: list[tuple[str, list[Cube], PartsOf]] = [
            (section, sec.allow, beside_l7),
            (deny_section, sec.deny, plain),
        ]
        for cubes, items in sec.l7:
            pieces.append((section, cubes, with_http(items)))
        for name, cubes, parts_of in pieces:
            for (subject_cube, notes), group in _by_origin(cubes, sec, by_origin).items():
                try:
                    rules = peer_rules(group, direction, namespace is not None, parts_of, groups)
                except Inexpressible as err:  # only extra denies can get here: the rest was checked
                    # Fail closed: deny the same peers on every protocol and port (a superset).
                    wider = [Cube(c.subject, c.peer, L4Set.all()) for c in group]
                    try:
                        rules = peer_rules(wider, direction, namespace is not None, parts_of, groups)
                    except Inexpressible:
                        fail(err, Grant(None, tuple(group), tuple(group)))
                        continue
                    fail(DeniedWider(err), Grant(None, tuple(group), tuple(group)))
                if name == section or closed:
                    per_subject[subject_cube].setdefault(section, [])
                # A rule of no known origin (an L7 filter's, or all of a cube's rules at once) is
                # said to come from all the Calico rules of its subject cube.
                origin = notes or tuple(sec.notes.get(subject_cube, ()))
                per_subject[subject_cube].setdefault(name, []).extend((rule, origin) for rule in rules)
    for direction in (d for d in ir.Direction if d in resource.open):  # a set: its order is the hash seed's
        # An open policy's pods need no rule where it has none; one spec with an empty rule (that
        # allows nothing and, with enableDefaultDeny false, turns nothing on) keeps it in the
        # output when it has no rule at all.
        if not per_subject and direction in resource.layout and resource.layout[direction].governed:
            for cube in resource.subject.cubes:
                per_subject[cube].setdefault(SECTION[direction], [])
    _drop_covered_defaults(per_subject)
    return per_subject


def _drop_covered_defaults(per_subject: dict[LabelCube, dict[str, list[_Tagged]]]) -> None:
    """Drop a section a subject cube has with no rule (it only puts the cube into default deny)
    where other cubes with rules in that section, or in the deny section of its direction, cover
    it: they put its pods into default deny already (docs/reference/semantics.md §2.4). A cube
    left with no section goes."""
    for name in _SECTIONS:
        deny = _DENY_OF.get(name, name)
        holding = [c for c, sections in per_subject.items() if sections.get(name) or sections.get(deny)]
        if not holding:
            continue
        covered = LabelSet.of(holding)
        for cube in [c for c, sections in per_subject.items() if sections.get(name) == []]:
            if LabelSet.of([cube]).issubset(covered):
                del per_subject[cube][name]
                if not per_subject[cube]:
                    del per_subject[cube]


_Group = tuple[list[LabelCube], dict[str, list[dict[str, Any]]], list[str]]
"""Subject cubes, the rules of each section they all have, and the Calico rules those came from."""


def _rendered(resource: Resource, grouped: list[_Group]) -> list[dict[str, Any]]:
    """Specs for groups of subject cubes and their rules: groups with the same body share its
    specs, one per cube of their subjects' union (a spec's rules and default deny apply to each
    endpoint it selects, docs/reference/semantics.md §2.1). A Calico rule's note is given in full
    in the first spec that has it (``_told_once``)."""
    bodies: dict[str, tuple[dict[str, Any], list[LabelCube], list[str]]] = {}
    for subjects, sections, notes in grouped:
        body = _body(resource, sections, notes)
        bodies.setdefault(canonical(body), (body, [], notes))[1].extend(subjects)
    specs: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for body, subjects, notes in bodies.values():
        for subject_cube in widened(subjects):
            for selector in subject_selectors(subject_cube, resource.namespace):
                spec = {"endpointSelector": selector, **body}
                specs[canonical(spec)] = (spec, notes)
    return _told_once(resource, [specs[k] for k in sorted(specs)])


_NARROWED = re.compile(r"^(\S+ (?:ingress|egress)\[\d+\] \w+) \(.*\)$", re.DOTALL)
"""A note that is a Calico rule's name and, in parentheses, what narrowed it."""


def _told_once(resource: Resource, specs: list[tuple[dict[str, Any], list[str]]]) -> list[dict[str, Any]]:
    """The specs, where a note already given in full by an earlier spec says only the Calico
    rule's name: a rule split over several specs says what narrowed it once, not in each."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for spec, notes in specs:
        short = [_short(n) if n in seen else n for n in notes]
        seen.update(notes)
        if short != notes:
            spec = dict(spec)
            spec["description"] = _description(resource, short, spec)
        out.append(spec)
    return out


def _short(note: str) -> str:
    found = _NARROWED.match(note)
    return f"{found.group(1)} (see above)" if found else note


def _description(resource: Resource, notes: list[str], written: Mapping[str, list[dict[str, Any]]]) -> str:
    return with_icmp_notes("; ".join(sorted(notes, key=_rule_order)) or resource.default_note, written)


def _per_subject(per_subject: Mapping[LabelCube, Mapping[str, list[_Tagged]]]) -> list[_Group]:
    """One group per subject cube: all its rules."""
    out: list[_Group] = []
    for subject_cube, sections in per_subject.items():
        rules = {name: [rule for rule, _ in tagged] for name, tagged in sections.items()}
        notes = [n for tagged in sections.values() for _, origin in tagged for n in origin]
        out.append(([subject_cube], rules, list(dict.fromkeys(notes))))
    return out


_Tagged = tuple[dict[str, Any], tuple[str, ...]]
"""A rule and the descriptions of the Calico rules it came from."""
_SECTIONS = ("ingress", "ingressDeny", "egress", "egressDeny")
_DENY_OF = {SECTION[d]: DENY_SECTION[d] for d in ir.Direction}
_EMPTY_RULE: _Tagged = ({}, ())


def _by_origin(
    cubes: list[Cube], section: Section, by_origin: bool
) -> dict[tuple[LabelCube, tuple[str, ...]], list[Cube]]:
    """``cubes`` by subject, and ``by_origin`` by the Calico rules they came from too
    (``Section.origins``)."""
    out: dict[tuple[LabelCube, tuple[str, ...]], list[Cube]] = defaultdict(list)
    for cube in cubes:
        out[(cube.subject, tuple(section.origins.get(cube, ())) if by_origin else ())].append(cube)
    return out


def _factored(per_subject: Mapping[LabelCube, Mapping[str, list[_Tagged]]]) -> list[_Group]:
    """Each rule once, for every subject cube that has it: the rules grouped by the set of
    subject cubes that have them, one group per set. Exact, since Cilium allows (or denies) for
    an endpoint the union of the rules of every spec selecting it, and puts it into default deny
    in a direction when one of them has that section. A section a subject has with no rule (it
    only puts the subject into default deny) is an empty rule ``{}``, dropped where the group has
    another rule in the section."""
    holders: dict[tuple[str, str], list[LabelCube]] = defaultdict(list)
    rules: dict[tuple[str, str], dict[str, Any]] = {}
    origins: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)
    for subject_cube, sections in per_subject.items():
        for name, tagged in sections.items():
            for rule, notes in tagged or [_EMPTY_RULE]:
                key = (name, canonical(rule))
                if not holders[key] or holders[key][-1] != subject_cube:
                    holders[key].append(subject_cube)
                rules[key] = rule
                origins[key].update(dict.fromkeys(notes))
    grouped: dict[tuple[LabelCube, ...], list[tuple[str, str]]] = defaultdict(list)
    for key, holding in holders.items():
        grouped[tuple(holding)].append(key)
    out: list[_Group] = []
    for cubes, keys in grouped.items():
        written: dict[str, list[dict[str, Any]]] = {}
        for name, text in keys:
            written.setdefault(name, []).append(rules[(name, text)])
        came_from = [n for key in keys for n in origins[key]]
        out.append((list(cubes), written, list(dict.fromkeys(came_from))))
    return out


def _body(resource: Resource, sections: dict[str, list[dict[str, Any]]], notes: list[str]) -> dict[str, Any]:
    """A spec without its ``endpointSelector``: description, ``enableDefaultDeny`` and sections."""
    body: dict[str, Any] = {}
    written = {name: merge_rules([r for r in rules if r]) or [{}] for name, rules in sections.items()}
    for direction in ir.Direction:
        if written.get(SECTION[direction]) == [{}] and any(written.get(DENY_SECTION[direction], ())):
            # The deny rules put the pods into default deny already: Cilium turns it on for a
            # direction where a rule has an ingress or ingressDeny (egress, egressDeny) section
            # (docs/reference/semantics.md §2.4; pkg/policy/api/rule_validation.go Sanitize).
            del written[SECTION[direction]]
    description = _description(resource, notes, written)
    if description:
        body["description"] = description
    opened = sorted(d.value for d in resource.open if SECTION[d] in written or DENY_SECTION[d] in written)
    if opened:
        # Calico never drops these pods' traffic at the end of a tier (the source policy
        # has a rule matching every flow): they must not go into default deny here.
        body["enableDefaultDeny"] = dict.fromkeys(opened, False)
    for name in _SECTIONS:
        if name in written:
            # An empty rule allows nothing but turns default deny on (docs/reference/semantics.md §2.3).
            body[name] = written[name]
    return body


def resource_for(
    pp: PolicyPlan, plan: Plan, target: CiliumTarget, failures: list[EmitFailure]
) -> Resource | None:
    policy = pp.policy
    namespace = policy.namespace if policy.scope is ir.Scope.NAMESPACED else None

    def fail(err: Inexpressible, grant: Grant) -> None:
        failures.append(EmitFailure(grant.rule, policy, err))

    if pp.native is not None:
        return knp_companion(pp, plan, namespace, target, fail)
    kind = "CiliumNetworkPolicy" if namespace is not None else "CiliumClusterwideNetworkPolicy"
    layout = lay_out(pp.allow, target, fail, pp.deny)
    return Resource(
        kind,
        policy.name,
        namespace,
        source_annotations(policy),
        pp.subject,
        layout,
        fail,
        pp,
        default_note=f"{policy.name}: selects these pods, so what no rule allows is denied"
        if not pp.open
        else f"{policy.name}: ends in a rule for every flow, so Calico drops none of these pods' traffic"
        " at the end of its tier and they are not put in default deny",
        open=frozenset(pp.open) if pp.open else _NOWHERE,
    )


def knp_companion(
    pp: PolicyPlan, plan: Plan, namespace: str | None, target: CiliumTarget, fail: Fail
) -> Resource | None:
    """A Kubernetes NetworkPolicy goes to the output unchanged, and Cilium enforces it with its
    own reading, unioned with everything else and with no order. This companion CNP makes the
    result Calico's: it denies what the KNP allows in Cilium but Calico denies (an earlier Calico
    Deny, docs/reference/semantics.md §3.1), and allows what Calico allows through the KNP but Cilium's reading
    does not (an ``ipBlock`` covering pods). ``None`` when neither is needed."""
    assert pp.native is not None
    extras: dict[ir.Direction, list[Grant]] = {}
    denies: dict[ir.Direction, list[Denial]] = {}
    name = pp.policy.name
    for direction, native in pp.native.items():
        for grant in pp.allow.get(direction, []):
            missing = tuple(subtract_cubes(grant.allow, native))
            if missing:
                note = f"{grant.description}: the part Cilium's reading of the NetworkPolicy misses"
                extras.setdefault(direction, []).append(Grant(grant.rule, missing, missing, description=note))
        denied = plan.denied.get(direction)
        if denied is not None and native:
            outside = subtract_cubes(native, denied.cubes)
            overlap = subtract_cubes(native, outside)
            if overlap:
                note = f"what Cilium's reading of the NetworkPolicy {name} allows and Calico denies"
                denies[direction] = [Denial(None, tuple(overlap), note)]
    if not extras and not denies:
        return None
    annotations = source_annotations(pp.policy)
    annotations[ANNOTATION_PREFIX + "note"] = (
        "the Kubernetes NetworkPolicy is kept as it is; this policy corrects what Cilium's unordered"
        " reading of it would change: it denies what Cilium's reading allows and Calico denies"
        " (by an earlier policy, or at the end of the tier), and allows what Calico's reading allows"
        " beyond Cilium's"
    )
    layout = lay_out(extras, target, fail, denies)
    return Resource(
        "CiliumNetworkPolicy",
        f"knp-{pp.policy.name}",
        namespace,
        annotations,
        LabelSet.empty(),
        layout,
        fail,
        split_note=False,
        default_note=f"corrections to Cilium's reading of the NetworkPolicy {name}",
    )


def profile_resource(plan: Plan, target: CiliumTarget, failures: list[EmitFailure]) -> Resource | None:
    grants = {d: g for d, g in plan.profile_allow.items() if g}
    if not grants:
        return None

    def fail(err: Inexpressible, grant: Grant) -> None:
        failures.append(EmitFailure(None, None, err))

    annotations = {
        ANNOTATION_PREFIX + "note": "what Calico allows after every tier passed the traffic on: the"
        " namespace profiles (kns.<namespace>) allow everything"
    }
    layout = lay_out(grants, target, fail)
    return Resource(
        "CiliumClusterwideNetworkPolicy",
        PROFILE_NAME,
        None,
        annotations,
        LabelSet.empty(),
        layout,
        fail,
        split_note=False,
    )


def document(
    resource: Resource, target: CiliumTarget, groups: CidrGroups, l7_ports: L7Ports
) -> dict[str, Any] | None:
    specs = specs_of(resource, target, groups, l7_ports)
    if not specs:
        return None
    annotations = dict(resource.annotations)
    if resource.split_note and len(specs) > 1:
        # One line: earlier policies, or the policy's own selector (an ``||``), split the subject.
        annotations[ANNOTATION_PREFIX + "note"] = (
            "one spec per part of the subject whose traffic is decided differently"
        )
    return {
        "apiVersion": "cilium.io/v2",
        "kind": resource.kind,
        "metadata": metadata(resource.name, resource.namespace, annotations),
        "specs": specs,
    }
