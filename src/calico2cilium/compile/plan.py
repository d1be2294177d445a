"""The whole compile: IR policies -> per direction, Calico's first-match decision as exact regions
-> what each output policy must allow and which subjects it must put into default deny.

Cilium's model (docs/reference/semantics.md §2.4): a flow is allowed iff some allow rule matches it and no deny
rule does; an endpoint selected by any policy in a direction is default-deny there. So if every
subject Calico governs in a direction is selected by some output policy in that direction, and the
output's allow rules cover exactly Calico's allowed region, Cilium decides every flow as Calico
did, with no deny rules at all (DESIGN.md "One way to compile ordering exactly", step 4). Subjects
no Calico policy selects stay unselected in Cilium too, and both allow them.

The allowed region is attributed to the rule that decided it (``OrderingResult.decisions``), so
each output policy carries the part of the traffic its own source policy allowed; what Calico
allows after every tier passed (the namespace profile ``kns.<ns>``) goes to a separate output.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from calico2cilium import ir
from calico2cilium.calico.selector import All
from calico2cilium.compile import labelspace as ls
from calico2cilium.compile.components import components
from calico2cilium.compile.failclosed import closed_policy, unknown_tier, widened_policy, widened_rules
from calico2cilium.compile.hostpeers import cover, cover_region
from calico2cilium.compile.http import http_grant
from calico2cilium.compile.lower import Lowered
from calico2cilium.compile.match import Ranges, l4, policy_subject, rule_region
from calico2cilium.compile.ordering import (
    Action,
    AfterTiers,
    DefaultAction,
    PolicySpec,
    RuleSpec,
    TierSpec,
    compile_ordering,
)
from calico2cilium.compile.shadows import shadowed
from calico2cilium.compile.structure import (
    DENY_CAP,
    Entry,
    Expressible,
    Outcome,
    Structure,
    Walk,
    closed_denied,
    compile_structure,
    rule_limit,
)
from calico2cilium.diagnostics import Diagnostic, Scope
from calico2cilium.diagnostics.catalog import make
from calico2cilium.diagnostics.collector import Diagnostics
from calico2cilium.diagnostics.http_rules import refused
from calico2cilium.facts.target import DEFAULT_TARGET, CiliumTarget
from calico2cilium.plan import Denial, Grant, Plan, PolicyPlan
from calico2cilium.sets import Inexpressible, IPSet, L4Set, LabelCube
from calico2cilium.sets.budget import (
    OwnBudgetExceeded,
    WorkBudgetExceeded,
    budget,
    limit_for,
    own_budget,
    shared_pool,
)
from calico2cilium.sets.index import CubeIndex
from calico2cilium.sets.peers import ALL_HOSTS, HostPeer, NetPeer, all_peers
from calico2cilium.sets.regions import Cube, Region, cube_index, subject_key, subtract_cubes
from calico2cilium.sets.selectors import STRING_TEST_OPERATORS

ACTIONS = {ir.Action.ALLOW: Action.ALLOW, ir.Action.DENY: Action.DENY, ir.Action.PASS: Action.PASS}
"""A rule's action in the ordering engine (``compile/ordering.py``); Log rules are dropped when
lowering (C2C302)."""


def tier_specs(by_tier: Mapping[str, Sequence[PolicySpec]], tiers: Mapping[str, ir.Tier]) -> list[TierSpec]:
    """The ordering engine's tiers: those in ``by_tier`` (the policies of each, in order), in
    Calico's tier order, each with its ``defaultAction``."""
    return [
        TierSpec(
            DefaultAction.PASS if tiers[name].default_action is ir.Action.PASS else DefaultAction.DENY,
            tuple(by_tier[name]),
            name,
        )
        for name in sorted(by_tier, key=lambda n: tiers[n].sort_key)
    ]


@dataclass(frozen=True)
class RuleRef:
    """Provenance of a compiled rule: its policy and the rule."""

    policy: ir.Policy
    rule: ir.Rule


def _tier_of(policy: ir.Policy, lowered: Lowered) -> ir.Tier | None:
    return lowered.tiers.get(policy.tier) or ir.BUILTIN_TIERS.get(policy.tier)


def compile_plan(
    lowered: Lowered,
    cluster: Ranges,
    diagnostics: Diagnostics,
    target: CiliumTarget = DEFAULT_TARGET,
    expressible: Expressible | None = None,
) -> Plan:
    """Calico's decision as allow (and deny) rules per output policy (``plan.Plan``, without its
    hosts); what cannot be compiled is said in ``diagnostics``. ``target`` decides how Cilium
    itself reads the Kubernetes NetworkPolicies kept in the output (``_native_reading``). With
    ``expressible`` (whether the target can say a region), rules keep their own shape where that
    is exact (``_structural``); without it, every direction takes the region form."""
    diagnostics.extend(lowered.diagnostics)
    compiled: list[tuple[ir.Tier, PolicyPlan, dict[ir.Direction, list[tuple[ir.Rule, Region]]]]] = []
    wider_rules: set[ir.Origin] = set()
    """Rules the conversion made wider (failing closed): what they overlap may look shadowed in
    the output although Calico's own rules decide it (``shadows.shadowed``)."""
    closed_tiers = False
    native_cluster = Ranges(IPSet.empty(), IPSet.empty(), cluster.families)
    for policy in lowered.policies:
        tier = _tier_of(policy, lowered)
        if tier is None:
            diagnostics.add(
                make(
                    "C2C309",
                    f"{policy.origin.resource} is in tier '{policy.tier}', which is not in the input, so"
                    " its place in the evaluation order is unknown, and the end of that tier may deny"
                    " whatever its other policies do not allow; its pods are kept in Cilium's default"
                    " deny with nothing allowed in the directions it governs (Cilium denies all of"
                    " their traffic there that Calico allowed)",
                    policy.origin.source,
                    hint="add the Tier resource to the input",
                    narrowing=True,
                )
            )
            tier = unknown_tier(policy.tier)
            policy = closed_policy(policy)
            closed_tiers = True
        entry = _compile_policy(policy, cluster, diagnostics, wider_rules, lowered.host_endpoints)
        if entry is not None:
            pp, regions = entry
            if policy.kind == KNP_KIND:
                pp = replace(pp, native=_native_reading(pp, native_cluster, target))
            compiled.append((tier, pp, regions))
    compiled.sort(key=lambda t: (t[0].sort_key, t[1].policy.sort_key))
    _warn_ties(compiled, diagnostics)
    policies = tuple(pp for _, pp, _ in compiled)
    profile_allow: dict[ir.Direction, list[Grant]] = {}
    denied_by: dict[ir.Direction, Region] = {}

    for direction in ir.Direction:
        by_tier: dict[str, list[PolicySpec]] = defaultdict(list)
        tier_of: dict[str, ir.Tier] = {}
        has_http = False
        for tier, pp, regions in compiled:
            if pp.policy.rules(direction) is None:
                continue
            rules = []
            for rule, region in regions[direction]:
                ref = RuleRef(pp.policy, rule)
                # An http rule decides per request, not per flow: in the L3/L4 order it decides
                # nothing (as a Log rule), and what it saw is filtered at L7 (compile/http.py).
                action = Action.LOG if rule.http is not None else ACTIONS[rule.action]
                has_http = has_http or rule.http is not None
                rules.append(RuleSpec(action, region, ref))
            by_tier[tier.name].append(PolicySpec(pp.subject, tuple(rules), pp))
            tier_of[tier.name] = tier
        tiers = tier_specs(by_tier, tier_of)
        # With ``expressible`` and no http rule, the output keeps each rule's own shape
        # (compile/structure.py), else it takes the region form. Each part whose subjects meet no
        # other part's is compiled apart, under its own budget (compile/components.py).
        notes = (wider_rules, closed_tiers)
        part_regions: list[Region] = []
        profile_allow[direction] = []
        parts = components(tiers)
        for part in parts:
            whole = len(parts) == 1
            members = policies if whole else [_owner(ps) for t in part for ps in t.policies]
            one = _Part(direction, part, members, whole)
            if expressible is not None and not has_http:
                part_denied, part_profile = _structural_part(one, expressible, target, diagnostics, notes)
            else:
                part_denied, part_profile = _region_part(one, diagnostics, notes)
            part_regions.append(part_denied)
            profile_allow[direction].extend(part_profile)
        # The parts' subjects are disjoint, so are their deny regions.
        denied_by[direction] = (
            part_regions[0] if len(part_regions) == 1 else Region.of(c for r in part_regions for c in r.cubes)
        )
        for pp in policies:
            if pp.policy.rules(direction) is not None:
                pp.allow.setdefault(direction, [])
    return Plan(
        policies,
        profile_allow,
        denied_by,
        network_sets=tuple(lowered.sets),
        passthrough=tuple(lowered.passthrough),
    )


KNP_KIND = "KubernetesNetworkPolicy"


REGION_FORM = "region form: this direction has http rules"
PROFILE_NOTE = "namespace profile: allowed after every tier passed"
PASSED = "passed on; what no later tier decides, the namespace profile allows"
ABSORBED_NOTE = (
    "denied here only where a later rule would allow it; its pods stay in default deny, which denies the rest"
)


def rule_name(ref: RuleRef) -> str:
    """``<policy> <direction>[<index>] <Action>``, e.g. ``security.block-threats ingress[2] Deny``."""
    path = ref.rule.origin.path
    where = f"{path[0]}[{path[1]}]" if len(path) >= 2 else "rule"
    return f"{ref.policy.name} {where} {ref.rule.action.value}"


NAMED_NARROWERS = 6
"""A description names at most this many of the rules that narrowed its rule: a broad rule late in
a large policy set can be narrowed by dozens, and every spec of it repeats the description."""


def _why(outcome: Outcome) -> str:
    """What narrowed a rule, for its description ("" when it is as written)."""
    parts = []
    if outcome.narrowers:
        parts.append(f"earlier rules {_named(outcome.narrowers)}")
    if outcome.tiers:
        parts.append(f"the end of tier {', '.join(outcome.tiers)}")
    return f" (narrowed by {' and '.join(parts)})" if parts else ""


def _structural(
    policies: Sequence[PolicyPlan],
    tiers: list[TierSpec],
    direction: ir.Direction,
    expressible: Expressible,
    target: CiliumTarget,
) -> tuple[Region, list[Grant], Structure]:
    """Each rule in its own shape where that is exact, else narrowed by what deny-wins does not
    take care of (``compile/structure.py``; docs/design/structure-preserving-compile.md). Returns
    Calico's deny region inside the Kubernetes NetworkPolicies' native readings (what their
    companions deny), the profile's grants (Pass-default tiers only: a Pass rule's piece goes
    to its own policy), and the structure (its walk, for the notes on rules that decide nothing,
    and the rules too large to build)."""
    enforced = [pp for pp in policies if pp.native is not None]
    result = compile_structure(
        tiers, expressible, open_policies=target.enable_default_deny, enforced=enforced
    )
    partly = {e.position: kept_out for e, kept_out in result.partly}
    for outcome in result.outcomes:
        ref, owner = outcome.entry.rule, outcome.entry.policy
        assert isinstance(ref, RuleRef) and isinstance(owner, PolicyPlan)
        note = rule_name(ref) + _why(outcome)
        if outcome.action is Action.DENY:
            plain = note
            if outcome.absorbed:
                note += f" ({ABSORBED_NOTE})"
            if outcome.entry.position in partly:
                kept_out = _named(partly[outcome.entry.position]) or UNNAMED_TAKERS
                note += f" (also denied where {kept_out} allowed it, C2C353)"
            if outcome.left_out and outcome.met:
                note += (
                    " (only its flows of the protocols Cilium names by port, and the later allows'"
                    " flows Cilium can name; those allows lose the rest)"
                )
            elif outcome.left_out:
                note += " (only its flows of the protocols Cilium names by port; allows lose the rest)"
            if outcome.cubes:
                bound = () if outcome.taken is None else outcome.wide
                other = (
                    Denial(ref.rule, outcome.other, plain, bound, outcome.taken or ())
                    if outcome.other
                    else None
                )
                denial = Denial(ref.rule, outcome.cubes, note, bound, outcome.taken or (), other)
                owner.deny.setdefault(direction, []).append(denial)
            continue
        form, form_deny = _structural_closed(outcome.cubes, result.walk, expressible) or (None, ())
        owner.allow.setdefault(direction, []).append(
            Grant(ref.rule, outcome.cubes, outcome.wide, form, form_deny, note)
        )
    profile: list[Grant] = []
    for outcome in result.profile:
        ref, owner = outcome.entry.rule, outcome.entry.policy
        if isinstance(ref, RuleRef) and isinstance(owner, PolicyPlan):
            note = f"{rule_name(ref)}: {PASSED}{_why(outcome)}"
            owner.allow.setdefault(direction, []).append(
                Grant(ref.rule, outcome.cubes, outcome.wide, description=note)
            )
        else:
            note = f"{PROFILE_NOTE}, after tier {', '.join(outcome.tiers)} (defaultAction Pass)"
            profile.append(Grant(None, outcome.cubes, outcome.wide, description=note))
    for pp in policies:
        if pp.policy.rules(direction) is not None and not pp.subject.is_empty and id(pp) not in result.closed:
            pp.open.add(direction)
    denied: list[Cube] = []
    for pp in enforced:
        native = (pp.native or {}).get(direction)
        if native:
            denied.extend(result.walk.denied(native))
    return Region.of(denied), profile, result


def _owner(spec: PolicySpec) -> PolicyPlan:
    assert isinstance(spec.provenance, PolicyPlan)
    return spec.provenance


def _size(tiers: Sequence[TierSpec]) -> int:
    """The cubes of a compile's input, which its work budget is sized by (``limit_for``)."""
    return sum(
        len(ps.subject.cubes) + sum(len(r.match.cubes) for r in ps.rules) for t in tiers for ps in t.policies
    )


@dataclass(frozen=True)
class _Part:
    """One independent part of a direction's compile (``components.components``): its tiers, the
    output policies it covers (every policy of the input when it is the whole direction)."""

    direction: ir.Direction
    tiers: list[TierSpec]
    members: Sequence[PolicyPlan]
    whole: bool


def _structural_part(
    part: _Part,
    expressible: Expressible,
    target: CiliumTarget,
    diagnostics: Diagnostics,
    notes: tuple[set[ir.Origin], bool],
) -> tuple[Region, list[Grant]]:
    """``_structural`` for one part under its own work budget (sized by its own input): Calico's
    deny region (as ``_structural``) and the profile's grants of the part. A part past its budget
    fails closed alone (``_closed_part``)."""
    direction, size = part.direction, _size(part.tiers)
    try:
        # The rules' own budgets come out of a pool of the same size (``_rule_budget``): a rule
        # past its own falls back alone; the part's budget counts the rest.
        with budget(limit_for(size)), shared_pool(limit_for(size)):
            denied, profile, structure = _structural(part.members, part.tiers, direction, expressible, target)
    except WorkBudgetExceeded as err:
        return _closed_part(part, diagnostics, err), []
    for rule_entry, rule_err in structure.too_complex:
        diagnostics.add(_left_out(direction, rule_entry, rule_err))
    for rule_entry, kept_out in structure.partly:
        diagnostics.add(_partly_narrowed(rule_entry, kept_out))
    spoke = _speaking(structure.walk, size)
    wider_rules, closed_tiers = notes
    for shadow in shadowed(direction, part.tiers, spoke, wider_rules, closed_tiers):
        diagnostics.add(shadow)
    return denied, profile


def _region_part(
    part: _Part, diagnostics: Diagnostics, notes: tuple[set[ir.Origin], bool]
) -> tuple[Region, list[Grant]]:
    """The region form of one part of a direction (its rules' regions less what Calico denies,
    from the ordering engine's walk) under its own work budget: Calico's deny region and the
    profile's grants of the part. A part past its budget fails closed alone (``_closed_part``)."""
    wider_rules, closed_tiers = notes
    direction, tiers = part.direction, part.tiers
    try:
        with budget(limit_for(_size(tiers))):
            result = compile_ordering(tiers)
    except WorkBudgetExceeded as err:
        return _closed_part(part, diagnostics, err), []
    spoke = {id(d.provenance) for d in (*result.decisions, *result.passes)}
    for shadow in shadowed(direction, tiers, spoke, wider_rules, closed_tiers):
        diagnostics.add(shadow)
    # What a rule may be emitted as: its own region (within its policy's subject) minus what
    # Calico denies. That covers the part it decided and stays inside the allowed region; it
    # is usually far simpler than the decided part, which also lost what earlier *allow*
    # rules took (the union is the same, and the union is all Cilium sees).
    denied = cube_index(subject_key(c.subject for c in result.deny.cubes))
    denied.add(list(result.deny.cubes))
    allowed_l4 = cube_index(subject_key(c.subject for c in result.allow.cubes))
    allowed_l4.add(list(result.allow.cubes))
    seen_by = {id(d.provenance): d.region for d in result.logs}
    # A rule that decided nothing (earlier rules, a Pass or the tier before took all of its
    # region) needs no grant: the union of the grants covers every decided part all the same,
    # and its widened form could be inexpressible for no reason (a spurious C2C310).
    deciding = {id(d.provenance) for d in result.decisions if d.action is Action.ALLOW}
    for tier_spec in tiers:
        for policy_spec in tier_spec.policies:
            owner = policy_spec.provenance
            assert isinstance(owner, PolicyPlan)
            subject_cubes = owner.subject.disjoint_cubes()
            for rule_spec in policy_spec.rules:
                rule_ref = rule_spec.provenance
                assert isinstance(rule_ref, RuleRef)
                if rule_spec.action is Action.LOG:
                    _http(
                        rule_ref,
                        rule_spec,
                        subject_cubes,
                        direction,
                        seen_by,
                        allowed_l4,
                        owner,
                        diagnostics,
                    )
                    continue
                if rule_spec.action is not Action.ALLOW or id(rule_ref) not in deciding:
                    continue
                wide = rule_spec.match.restrict_subject(subject_cubes).cubes
                try:
                    with budget(limit_for(len(wide) + len(result.deny.cubes))):
                        allowed = denied.subtract(wide)
                except WorkBudgetExceeded as err:  # the rule is left out: Cilium denies it
                    diagnostics.add(_too_complex(direction, owner.policy, err, rule_ref.rule))
                    continue
                if allowed:
                    note = f"{rule_name(rule_ref)}, less what Calico denies ({REGION_FORM})"
                    form, form_deny = closed_form(allowed, denied, allowed_l4) or (None, ())
                    grant = Grant(rule_ref.rule, tuple(allowed), wide, form, form_deny, note)
                    owner.allow.setdefault(direction, []).append(grant)
    # The profile's part, widened the same way: each (subject, peer) piece with every L4 flow,
    # minus what Calico denies (the pieces it decided lost what earlier allows took).
    profile: list[Grant] = []
    widened: set[tuple[object, object]] = set()
    everything = L4Set.all()
    for decision in result.decisions:
        if decision.action is Action.ALLOW and isinstance(decision.provenance, AfterTiers):
            for cube in decision.region.cubes:
                key = (cube.subject, cube.peer)
                if key not in widened:
                    widened.add(key)
                    wide_cube = Cube(cube.subject, cube.peer, everything)
                    allowed = denied.subtract([wide_cube])
                    form, form_deny = closed_form(allowed, denied, allowed_l4) or (None, ())
                    note = f"{PROFILE_NOTE} ({REGION_FORM})"
                    profile.append(Grant(None, tuple(allowed), (wide_cube,), form, form_deny, note))
    return result.deny, profile


def _speaking(walk: Walk, size: int) -> set[int]:
    """The rules that decide or pass on some flow (``Walk.reaches``), each within its own work
    budget; a rule past it counts as speaking (no note rather than a wrong one), and past the
    direction's budget every rule does."""
    spoke: set[int] = set()
    try:
        with budget(limit_for(size)):
            for entry in walk.entries:
                if entry.action is Action.LOG:
                    continue
                try:
                    with own_budget(rule_limit(walk.size(entry))):
                        reached = walk.reaches(entry)
                except OwnBudgetExceeded:
                    reached = True
                if reached:
                    spoke.add(id(entry.rule))
    except WorkBudgetExceeded:
        return {id(e.rule) for e in walk.entries}
    return spoke


_LOST_BY_ACTION = {
    ir.Action.DENY: (
        "it is denied as written, so Cilium also denies what earlier rules allowed (or passed on)"
        " of the traffic it matches"
    ),
    ir.Action.PASS: (
        "what it passes on and the namespace profile allows is left out of the output, so Cilium"
        " denies that traffic"
    ),
}


def _left_out(direction: ir.Direction, entry: Entry, err: WorkBudgetExceeded) -> Diagnostic:
    """C2C350 for one rule whose narrowed form was too large to build (``Structure.too_complex``)."""
    ref, owner = entry.rule, entry.policy
    if isinstance(ref, RuleRef) and ref.rule.action not in _LOST_BY_ACTION:
        return _too_complex(direction, ref.policy, err, ref.rule)
    if isinstance(ref, RuleRef):
        where, source, lost = str(ref.rule.origin), ref.rule.origin.source, _LOST_BY_ACTION[ref.rule.action]
    else:
        origin = owner.policy.origin if isinstance(owner, PolicyPlan) else None
        where = origin.resource if origin else "a Pass-default tier"
        source = origin.source if origin else None
        lost = (
            f"what a tier with defaultAction Pass hands on in {direction.value} and the namespace"
            " profile allows is left out of the output, so Cilium denies that traffic"
        )
    return make("C2C350", f"{where}: {err.detail}; {lost}", source, hint=err.hint, narrowing=True)


def _named(rules: Sequence[object], name: Callable[[RuleRef], str] = rule_name) -> str:
    """The rules (``RuleRef``s) by ``name``, at most ``NAMED_NARROWERS`` of them."""
    names = list(dict.fromkeys(name(r) for r in rules if isinstance(r, RuleRef)))
    more = f" and {len(names) - NAMED_NARROWERS} more" if len(names) > NAMED_NARROWERS else ""
    return f"{', '.join(names[:NAMED_NARROWERS])}{more}"


def _origin(ref: RuleRef) -> str:
    """A rule as a diagnostic names it (``NetworkPolicy shop/db ingress.3``): unlike ``rule_name``
    it says the kind and namespace, since the rules a diagnostic names may be anywhere."""
    return str(ref.rule.origin)


UNNAMED_TAKERS = "the earlier rules meeting it (too many to look up within its work budget)"
"""Whom a partly narrowed Deny's notes name when its look-up of them ran out of budget (it is
then denied as written: ``structure._deny_takers``)."""


def _partly_narrowed(entry: Entry, kept_out: Sequence[object]) -> Diagnostic:
    """C2C353 for a Deny narrowed by only some of the earlier rules meeting it (``Structure.partly``)."""
    ref = entry.rule
    assert isinstance(ref, RuleRef)
    return make(
        "C2C353",
        f"{ref.rule.origin}: its exact Cilium form is too large (Cilium has no rule order, so the Deny"
        " must leave out what earlier rules allowed of it, and those cut it into more than"
        f" {DENY_CAP} rules or past its work budget); it leaves out what only some of them allowed,"
        f" so Cilium also denies what {_named(kept_out, _origin) or UNNAMED_TAKERS} allowed (or passed on) of"
        " the traffic it matches",
        ref.rule.origin.source,
        hint="move the Deny before the Allows it overlaps (a security tier), narrow its selector, or"
        " give the Allows it must leave out a label of their own",
        narrowing=True,
    )


def _structural_closed(
    cubes: Sequence[Cube], walk: Walk, expressible: Expressible
) -> tuple[tuple[Cube, ...], tuple[Cube, ...]] | None:
    """``closed_form`` for a structural allow: where ``cubes`` have no Cilium form, the widening
    (``_widened``) with the part of what it adds that Calico denies, from the walk restricted to
    the added flows (all of a selected subject: Calico allows the rest of them); none when that
    is past the rule's budget or too long (``closed_denied``)."""
    if expressible(cubes):
        return None
    closed = [Cube(c.subject, c.peer, _widened(c.l4)) for c in cubes]
    if all(a.l4 == c.l4 for a, c in zip(cubes, closed, strict=True)):
        return None
    denied = closed_denied(walk, cubes, closed)
    return None if denied is None else (tuple(closed), denied)


def _closed_part(part: _Part, diagnostics: Diagnostics, err: WorkBudgetExceeded) -> Region:
    """Calico's order in one part of a direction could not be computed within the work budget:
    fail closed. Every policy of the part keeps its subjects selected (Cilium's default deny) and
    allows nothing; nothing is allowed after the tiers either for them. Returns Calico's deny
    region taken to be every flow of the part's subjects (every flow, for the whole direction), so
    a Kubernetes NetworkPolicy's companion denies all it allows."""
    direction = part.direction
    owner = err.owner.policy if isinstance(err.owner, PolicyPlan) else None
    name = None if part.whole else _part_name(part)
    diagnostics.add(_too_complex(direction, owner, err, None, name, _part_scope(part)))
    subjects: list[LabelCube] = []
    for tier_spec in part.tiers:
        for policy_spec in tier_spec.policies:
            assert isinstance(policy_spec.provenance, PolicyPlan)
            policy_spec.provenance.allow[direction] = []
            policy_spec.provenance.deny.pop(direction, None)  # the structural form's, if any
            policy_spec.provenance.open.discard(direction)  # default deny stays on
            subjects.extend(policy_spec.subject.cubes)
    # Calico's deny region over-approximated by every flow (not computed: that is what ran out).
    if part.whole:
        return Region(tuple(Cube(LabelCube(), p, L4Set.all()) for p in all_peers()))
    return Region.of(Cube(s, p, L4Set.all()) for s in subjects for p in all_peers())


NAMED_POLICIES = 6
"""A C2C350 for one part of a direction names at most this many of its policies (its ``scope``
holds them all)."""


def _part_scope(part: _Part) -> Scope:
    """What a part failing closed narrows, for the verifier (``Diagnostic.scope``): the subjects of
    its policies (each by its resource's position) in its direction; every subject of the
    direction when the part is the whole direction, or when a policy has no position to name it."""
    direction = (part.direction.value,)
    sources = [_owner(ps).policy.origin.source for t in part.tiers for ps in t.policies]
    if part.whole or any(s is None for s in sources):
        return Scope(directions=direction, every=True)
    return Scope(tuple(dict.fromkeys(s for s in sources if s is not None)), direction)


def _part_name(part: _Part) -> str:
    """The policies of a part (and their namespaces), for its C2C350."""
    names = [pp.policy.origin.resource for pp in part.members]
    more = f" and {len(names) - NAMED_POLICIES} more" if len(names) > NAMED_POLICIES else ""
    spaces = sorted({pp.policy.namespace for pp in part.members if pp.policy.namespace})
    where = f" (namespace {', '.join(spaces)})" if spaces else ""
    return f"{', '.join(names[:NAMED_POLICIES])}{more}{where}"


def _too_complex(
    direction: ir.Direction,
    policy: ir.Policy | None,
    err: WorkBudgetExceeded,
    rule: ir.Rule | None,
    part: str | None = None,
    scope: Scope | None = None,
) -> Diagnostic:
    """C2C350 for a rule left out, or (no ``rule``) a direction failing closed: all of it, or the
    ``part`` of it (its policies named) whose subjects no other policy's meet. ``scope``: what a
    direction or part failing closed narrows (``_part_scope``; a rule's position says its own)."""
    if rule is not None:
        where, source = str(rule.origin), rule.origin.source
        lost = "this rule is left out, so Cilium denies the traffic it allowed"
    else:
        where = policy.origin.resource if policy is not None else f"the {direction.value} policies"
        source = policy.origin.source if policy is not None else None
        if part is None:
            lost = (
                f"every pod a policy selects for {direction.value} is left in Cilium's default deny with"
                f" nothing allowed in that direction, so Cilium denies all {direction.value} traffic Calico"
                " allowed there"
            )
        else:
            lost = (
                f"every pod selected for {direction.value} by {part} is left in Cilium's default deny"
                f" with nothing allowed in that direction, so Cilium denies all {direction.value} traffic"
                " Calico allowed there (pods no policy of these selects keep theirs)"
            )
    return make(
        "C2C350", f"{where}: {err.detail}; {lost}", source, hint=err.hint, narrowing=True, scope=scope
    )


def closed_form(
    allowed: Sequence[Cube], denied: CubeIndex[Cube], allows: CubeIndex[Cube]
) -> tuple[tuple[Cube, ...], tuple[Cube, ...]] | None:
    """``allowed`` widened (``_widened``) where Cilium cannot write it, with the part of the
    widening that Calico denies (``denied``), when Calico allows the rest of it (``allows``, its
    allowed region); else ``None``.

    Cilium matches ICMP type 0 as every type of its family (cilium/cilium#41304), so a type set
    holding 0 but not every type has no allow form of its own; the whole family has, and what it
    adds, the types the set lacks, has a deny form (no type 0 in it). Likewise a protocol Cilium
    cannot name (GRE, ESP, ...) is only part of "every protocol", and what that adds may be the
    named ones. Allowing the widened set and denying Calico's denied part of the widening decides
    as Calico does: a Cilium deny wins over every allow (docs/reference/semantics.md §2.4), and the rest of the
    widening is allowed by Calico anyway (by other rules, whose grants allow it too). The emitter
    checks that both have a Cilium form (``rulekit.choose``)."""
    closed = [Cube(c.subject, c.peer, _widened(c.l4)) for c in allowed]
    if all(a.l4 == c.l4 for a, c in zip(allowed, closed, strict=True)):
        return None
    added = subtract_cubes(closed, allowed)
    kept = denied.subtract(added)  # what Calico does not deny of the widening
    if allows.subtract(kept):
        return None  # flows Calico neither allows nor denies: an ungoverned subject
    return tuple(closed), tuple(subtract_cubes(added, kept))


def _widened(flows: L4Set) -> L4Set:
    """``flows`` with each ICMP protocol whose type set holds type 0 given every type and code;
    every flow when it holds a protocol Cilium cannot name (``others``: all of them, which only
    "every protocol" covers)."""
    if not flows.others.is_empty:
        return L4Set.all()
    holding = [proto for proto, types in flows.icmp if types.cell_at(0) is not None]
    return flows | L4Set.protocols(holding) if holding else flows


def _http(
    ref: RuleRef,
    spec: RuleSpec,
    subject_cubes: list[LabelCube],
    direction: ir.Direction,
    seen_by: dict[int, Region],
    allowed: CubeIndex[Cube],
    owner: PolicyPlan,
    diagnostics: Diagnostics,
) -> None:
    """The L7 grant of one http rule, or the diagnostic saying why there is none."""
    wide = spec.match.restrict_subject(subject_cubes).cubes
    try:
        grant = http_grant(ref.rule, direction, wide, seen_by.get(id(ref)), allowed)
    except Inexpressible as err:
        diagnostics.add(refused(ref.rule, err))
        return
    if grant is not None:
        owner.l7.setdefault(direction, []).append(grant)


def _native_reading(
    pp: PolicyPlan, cluster: Ranges, target: CiliumTarget
) -> dict[ir.Direction, tuple[Cube, ...]]:
    """What Cilium itself allows for a Kubernetes NetworkPolicy: the same rules, except that an
    ``ipBlock`` is a CIDR rule, which never matches pods or nodes (docs/reference/semantics.md §2.3, 3.6 trap 2).
    A cluster with empty pod and node ranges gives exactly that reading. A peer whose selector
    needs no label present also matches every identity without labels (``_matches_unlabelled``).
    Before 1.16 Cilium has no ``endPort`` (``_without_end_port``)."""
    out: dict[ir.Direction, tuple[Cube, ...]] = {}
    subject_cubes = pp.subject.disjoint_cubes()
    unlabelled = (NetPeer(cluster.family_space()), HostPeer(ALL_HOSTS))
    for direction in ir.Direction:
        rules = pp.policy.rules(direction)
        if rules is None:
            continue
        cubes: list[Cube] = []
        for rule in rules:
            if not target.end_port:
                rule = _without_end_port(rule)
            cubes.extend(
                _native_rule_region(rule, pp.policy, direction, cluster).restrict_subject(subject_cubes).cubes
            )
            peer = rule.source if direction is ir.Direction.INGRESS else rule.destination
            flows = l4(rule)
            if _matches_unlabelled(peer) and not flows.is_empty:
                cubes.extend(Cube(s, p, flows) for s in subject_cubes for p in unlabelled)
        out[direction] = tuple(Region.of(cubes).cubes)
    return out


def _native_rule_region(rule: ir.Rule, policy: ir.Policy, direction: ir.Direction, cluster: Ranges) -> Region:
    """One rule of a Kubernetes NetworkPolicy in Cilium's reading. A rule the tool cannot read
    (a peer selecting on a label key Cilium's identity filter drops, ``compile/labelspace.py``)
    is read wider, without the part it cannot (``failclosed.widened_rules``): the companion then
    denies at least what Cilium allows through the rule and Calico denies, and may add less of
    what Calico allows (the rule itself is left out, with its diagnostic, by ``_compile_rule``).
    It raised, an internal error, on the cilium-cli connectivity-test NetworkPolicies (review16)."""
    try:
        return rule_region(rule, policy, direction, cluster, Diagnostics())
    except Inexpressible as err:
        for wider, _ in widened_rules(rule, direction):
            try:
                return rule_region(
                    replace(wider, action=rule.action), policy, direction, cluster, Diagnostics()
                )
            except Inexpressible:
                continue
        raise AssertionError("a rule with no criteria always compiles") from err


def _without_end_port(rule: ir.Rule) -> ir.Rule:
    """A Kubernetes NetworkPolicy rule as Cilium before 1.16 reads it: ``endPort`` did not exist
    there (docs/reference/semantics-check.md claim 8: added in 1.16, commit 4fe60e5214, absent in 1.15), so
    ``parsePorts`` keeps only ``port``. ``lower._knp_l4`` wrote ``port``..``endPort`` as the range
    ``"port:endPort"``, the only way a KNP port becomes a range."""
    ports = tuple(p.split(":")[0] if isinstance(p, str) and ":" in p else p for p in rule.l4.dst_ports)
    if ports == rule.l4.dst_ports:
        return rule
    first = tuple(int(p) if isinstance(p, str) and p.isdigit() else p for p in ports)
    return replace(rule, l4=replace(rule.l4, dst_ports=first))


K8S_ORCHESTRATOR = "projectcalico.org/orchestrator"
"""The label ``lower.K8S_ONLY`` tests (pods carry it with value ``k8s``)."""


def _matches_unlabelled(peer: ir.Peer | None) -> bool:
    """Whether Cilium's reading of a Kubernetes NetworkPolicy peer also matches identities that
    carry no ``k8s:`` labels: the world (and CIDR identities), host, remote-node, kube-apiserver.

    ``parseNetworkPolicyPeer`` (cilium ``pkg/k8s/network_policy.go``) prefixes a non-empty
    ``namespaceSelector`` to namespace-label keys and injects no namespace term (only an empty one
    becomes "namespace label exists"), so a selector with only ``NotIn``/``DoesNotExist`` terms in
    both its namespace and pod parts selects identities without labels too (docs/reference/semantics-check.md,
    "Negative-only peer selectors can select non-endpoint identities"; cilium/cilium#46949, which
    affects 1.19 and 1.20 too). Calico matches pods only there (``projectcalico.org/orchestrator``
    is ANDed in, ``lower._knp_peer``), so the reading differs on those peers."""
    if peer is None or peer.namespace_selector is None or isinstance(peer.namespace_selector, All):
        return False
    pods = peer.selector is None or peer.selector.matches({K8S_ORCHESTRATOR: "k8s"})
    return pods and peer.namespace_selector.matches({})


def _compile_policy(
    policy: ir.Policy,
    cluster: Ranges,
    diagnostics: Diagnostics,
    widened: set[ir.Origin],
    heps: Sequence[ir.HostEndpoint] = (),
) -> tuple[PolicyPlan, dict[ir.Direction, list[tuple[ir.Rule, Region]]]] | None:
    """The policy's subject and rule regions. What cannot be converted fails closed at the
    smallest unit (``compile/failclosed.py``): never the whole policy. The origins of the rules
    made wider go into ``widened``. Rules whose peers pick (or leave out) host endpoints fail
    closed on their addresses (``compile/hostpeers.py``)."""
    try:
        subject = policy_subject(policy)
    except Inexpressible as err:
        wider, what = widened_policy(policy)
        diagnostics.add(
            _narrowed(
                policy,
                _subject_field(policy, err),
                err,
                f"its subject is widened to {what}, kept in Cilium's default deny with only its Deny and"
                " Pass rules (as Denies): Cilium denies what its Allow rules allowed, and the pods it"
                " does not select may be denied more",
            )
        )
        policy = wider
        subject = policy_subject(policy)
        widened.update(r.origin for d in ir.Direction for r in policy.rules(d) or ())
    regions: dict[ir.Direction, list[tuple[ir.Rule, Region]]] = {}
    for direction in ir.Direction:
        rules = policy.rules(direction)
        if rules is None:
            continue
        regions[direction] = []
        for rule in rules:
            compiled = _compile_rule(policy, rule, direction, cluster, diagnostics)
            if compiled is None:
                continue
            if compiled[0] is not rule:
                widened.add(rule.origin)
            closed = _closed_on_hosts(policy, compiled, direction, cluster, heps)
            if closed is not None:
                widened.add(rule.origin)
            regions[direction].extend(closed or [compiled])
    return PolicyPlan(policy, subject), regions


def _compile_rule(
    policy: ir.Policy, rule: ir.Rule, direction: ir.Direction, cluster: Ranges, diagnostics: Diagnostics
) -> tuple[ir.Rule, Region] | None:
    """One rule's region; a rule that cannot be converted fails closed: an Allow is left out, a
    Deny or Pass becomes a Deny of a wider region (``failclosed.widened_rules``)."""
    notes = Diagnostics()  # merged once the rule is known to be converted as written
    try:
        region = rule_region(rule, policy, direction, cluster, notes)
    except Inexpressible as err:
        diagnostics.merge(notes, without=("C2C333",))  # its services matches are not in the output
        if rule.action is ir.Action.ALLOW:
            diagnostics.add(
                _narrowed(
                    policy, rule.origin, err, "the rule is left out, so Cilium denies the traffic it allowed"
                )
            )
            return None
        for wider, dropped in widened_rules(rule, direction):
            try:
                region = rule_region(wider, policy, direction, cluster, Diagnostics())
            except Inexpressible:
                continue
            was = "a Pass (which let later tiers decide)" if rule.action is ir.Action.PASS else "a Deny"
            diagnostics.add(
                _narrowed(
                    policy,
                    rule.origin,
                    err,
                    f"the rule, {was}, is converted as a Deny without {dropped}: Cilium denies that"
                    " wider traffic where Calico's later rules and policies allowed it",
                )
            )
            return wider, region
        raise AssertionError("a rule with no criteria always compiles") from err
    diagnostics.merge(notes)
    return rule, region


def _closed_on_hosts(
    policy: ir.Policy,
    compiled: tuple[ir.Rule, Region],
    direction: ir.Direction,
    cluster: Ranges,
    heps: Sequence[ir.HostEndpoint],
) -> list[tuple[ir.Rule, Region]] | None:
    """The rule failing closed on the host endpoints its peer picks or leaves out
    (``compile/hostpeers.py``): a Deny denies their cover too, a Pass is preceded by a Deny of it,
    an Allow whose notSelector leaves them out loses it. ``None``: the rule is kept as compiled
    (no host endpoint at stake, or the difference only makes Cilium deny more)."""
    rule, region = compiled
    found = cover(rule, policy, direction, heps, cluster)
    if found is None or not found.peers:
        return None
    covered = cover_region(rule, policy, direction, cluster, found)
    if rule.action is ir.Action.DENY and found.matched:
        return [(rule, region | covered)]
    if rule.action is ir.Action.PASS:
        return [(replace(rule, action=ir.Action.DENY, http=None), covered), (rule, region)]
    if rule.action is ir.Action.ALLOW and found.excluded:
        return [(rule, region - covered)]
    return None


def _subject_field(policy: ir.Policy, err: Inexpressible) -> ir.Origin:
    """The field of the policy whose subject could not be expressed: ``spec.selector``, else
    ``spec.namespaceSelector`` or ``spec.serviceAccountSelector`` (positioned there)."""
    if err.operator == "serviceAccountSelector":
        return policy.field_origin("spec", "serviceAccountSelector")
    try:
        ls.pod_labels(policy.selector)
    except Inexpressible:
        return policy.field_origin("spec", "selector")
    if policy.namespace_selector is not None:
        return policy.field_origin("spec", "namespaceSelector")
    return policy.origin


def _narrowed(policy: ir.Policy, origin: ir.Origin, err: Inexpressible, change: str) -> Diagnostic:
    """The refusal of one construct of ``policy`` and how the output fails closed there."""
    where = str(origin) if origin.path else origin.resource
    hint = err.hint
    if err.operator in STRING_TEST_OPERATORS:
        hint = (
            "give the cluster's pods and namespaces with --inventory (kubectl get"
            " pods,namespaces,serviceaccounts,nodes -A -o yaml) to expand it against their label values"
        )
    return make(
        err.code or "C2C303",
        f"{where}: {err.detail or err.operator}; {change}",
        origin.source,
        hint=hint,
        narrowing=True,
    )


def _allow_only(policy: ir.Policy) -> bool:
    return all(r.action is ir.Action.ALLOW for rules in (policy.ingress, policy.egress) for r in rules or ())


def _same_order(order: float) -> str:
    return "no order (both last)" if order == ir.NO_ORDER else f"the same order {order:g}"


def _warn_ties(
    compiled: Iterable[tuple[ir.Tier, PolicyPlan, dict[ir.Direction, list[tuple[ir.Rule, Region]]]]],
    diagnostics: Diagnostics,
) -> None:
    """Calico breaks order ties by name, in a version-dependent way (docs/reference/semantics.md §1.2).
    Policies with no order tie too: Felix maps a missing order to +inf, which "compares equal to
    itself" (felix/calc/policy_sorter.go ``PolKVLess``), so the name decides between them as well
    (review15: a GlobalNetworkPolicy and a NetworkPolicy with no order were ordered without a word,
    the other way round from Calico up to v3.31, whose names are 'default.<name>' and
    '<namespace>/default.<name>')."""
    # Per (tier, order), the policies seen, by namespace (None: global), each with its place: a
    # namespaced policy meets only its namespace's and the global ones (every policy with no order
    # is one such group: comparing all pairs took a 2,000-policy input from 12 s to 40 s).
    seen: dict[tuple[str, float], dict[str | None, list[tuple[int, PolicyPlan]]]] = defaultdict(dict)
    for place, (tier, pp, _) in enumerate(compiled):
        group = seen[(tier.name, pp.policy.order)]
        namespace = pp.policy.namespace
        if namespace is None:
            candidates = [c for members in group.values() for c in members]
        else:
            candidates = [*group.get(namespace, ()), *group.get(None, ())]
        allow_only = _allow_only(pp.policy)
        for _, other in sorted(candidates, key=lambda c: c[0]):
            if allow_only and _allow_only(other.policy):
                continue  # the order of two allow-only policies cannot change any verdict
            if not (other.subject & pp.subject).is_empty:
                diagnostics.add(
                    make(
                        "C2C311",
                        f"{pp.policy.origin.resource} and {other.policy.origin.resource} have"
                        f" {_same_order(pp.policy.order)} in tier '{tier.name}' and can select the same pods;"
                        " Calico breaks such ties by name in a version-dependent way. This conversion"
                        f" evaluates {other.policy.origin.resource} first",
                        pp.policy.origin.source,
                        hint="give the policies distinct orders",
                    )
                )
                break
        group.setdefault(namespace, []).append((place, pp))
