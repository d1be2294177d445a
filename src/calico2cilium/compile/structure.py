"""Calico's ordered rules as Cilium rules that keep their own shape (issue 13).

docs/design/structure-preserving-compile.md states and proves the conditions; in short, per
direction, with ``M(r)`` a rule's region within its policy's subject:

* a Deny is denied as written (``M(d)``) when no earlier Allow and no earlier Pass of its tier
  meets ``M(d)``; else as ``M(d)`` less those rules' reach (``D(d)``); when ``D(d)`` is too large
  to build, it is absorbed (``Absorbed``): default deny says it, and it is denied only where later
  allows meet it;
* an Allow is allowed as written when no earlier Pass of its tier meets ``M(a)`` where a later
  tier selects the subject (elsewhere what the Pass sends on goes to the namespace profile, which
  allows it), no earlier Deny's part with no Cilium form meets it, and no earlier Deny-default
  tier can drop part of it at its end (a test on subject label cubes); else narrowed by exactly
  those (or, past such a Deny, by the Deny's whole reach where that is shorter, or not at all
  where the Deny's rule can deny its part: ``_past_left_out``);
* a Pass becomes an allow of what the namespace profile allows after it, for the subjects in
  Cilium's default deny that no later tier selects: a policy whose subjects never meet the end
  of a tier keeps default deny off (``Structure.closed`` lists the others).

Nothing builds "everything minus the union of the rules": a subtraction takes only the rules that
meet the region at hand (``Walk.meeting``, through ``compile/rule_index.py``). ``Walk.denied`` evaluates
Calico's order on a window of flows only (for the Kubernetes NetworkPolicies' companions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Final

from calico2cilium.compile.ordering import Action, DefaultAction, TierSpec
from calico2cilium.compile.rule_index import RuleIndex, merged
from calico2cilium.sets.budget import (
    OwnBudgetExceeded,
    WorkBudgetExceeded,
    charge,
    item_budget,
    left,
    own_budget,
    scale,
    working_on,
)
from calico2cilium.sets.index import CubeIndex
from calico2cilium.sets.l4 import PORT_PROTOCOLS, L4Set
from calico2cilium.sets.labels import LabelCube, LabelSet, label_index, subtract_all
from calico2cilium.sets.peers import ALL_HOSTS, HostPeer, NetPeer, PodPeer, all_peers
from calico2cilium.sets.regions import Cube, Region, cube_index, subject_key, subtract_cubes
from calico2cilium.sets.replay import Replayed

Expressible = Callable[[Sequence[Cube]], bool]
"""Whether the target can say a region (its L4 parts have a Cilium form)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One rule in Calico's order: its region ``cubes`` (``M(r)``, disjoint, within its policy's
    subject), its tier's index, and the provenances the caller gave."""

    position: int
    tier: int
    action: Action
    cubes: tuple[Cube, ...]
    rule: object
    policy: object


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one rule becomes in Cilium.

    ``action``: ALLOW (an allow of ``cubes``, or of ``wide`` with ``wide - cubes`` denied), DENY
    (a deny of ``cubes``), or PASS (a piece of the profile's allow, like ALLOW). ``narrowers``: the
    rules whose regions made the rule lose part of its own (``Entry.rule``s), and ``tiers``: the
    tiers whose end may drop part of it; both empty when ``cubes`` is the rule as written.
    A Deny's part with no Cilium form is ``left_out`` (the allows that meet it lose it instead)."""

    entry: Entry
    action: Action
    cubes: tuple[Cube, ...]
    wide: tuple[Cube, ...]
    narrowers: tuple[object, ...] = ()
    tiers: tuple[str, ...] = ()
    left_out: tuple[Cube, ...] = ()
    """A Deny's part with no Cilium form (not in ``cubes``): the allows that meet it lose it."""
    met: bool = False
    """A Deny with a ``left_out`` part whose ``cubes`` also hold the later allows' parts of it
    that have a Cilium form (``_LeftOuts.parts``): those allows keep them."""
    absorbed: bool = False
    """A Deny said by default deny and, where later allows meet it, by ``cubes`` (``Absorbed``)."""
    other: tuple[Cube, ...] = ()
    """An absorbed Deny's other exact writing, ``D(d)`` (``Absorbed.narrowed``): the emitter
    writes the shorter."""
    taken: tuple[Cube, ...] | None = None
    """A Deny's upper bound: what of ``wide`` (its region) the rules before it take (``_bound``).
    Any flow of ``wide`` outside ``taken`` may be denied too, so the emitter may write ``cubes``
    as looser cubes inside ``wide - taken``; ``None``: as ``cubes``."""

    @property
    def as_written(self) -> bool:
        return not self.narrowers and not self.tiers and not self.left_out


def _entry_subject(item: tuple[Cube, object]) -> LabelCube:
    """The subject of an indexed ``(cube, what it belongs to)`` pair."""
    return item[0].subject


def _meets(a: tuple[Cube, object], b: tuple[Cube, object]) -> bool:
    return a[0].intersects(b[0])


def _pair_sub(a: tuple[Cube, Entry], b: tuple[Cube, Entry]) -> list[tuple[Cube, Entry]]:
    """``a - b`` for a ``b`` that meets ``a`` (as ``CubeIndex`` asks)."""
    return [(piece, a[1]) for piece in a[0].cut(b[0])]


@dataclass
class _Tier:
    name: str
    default: DefaultAction
    subjects: list[LabelCube]
    selected: CubeIndex[LabelCube]
    catch_all: CubeIndex[LabelCube]
    """Subjects of the tier's policies that have a rule matching every flow (no end-of-tier drop)."""
    risky: CubeIndex[LabelCube]
    """The subjects the tier may drop at its end (Deny default): its policies' subjects less
    ``catch_all``. Empty for a Pass-default tier."""
    parts: Replayed[tuple[LabelCube, bool], _Parts] = field(default_factory=Replayed)
    """Per subject cube (and whether its inside part is wanted), its parts inside and outside
    ``selected`` (``_split``). ``selected`` never changes once built, so the parts depend on the
    cube alone; the walks of a direction's rules ask for the same subjects again and again (a
    policy's rules share its subject), and a remembered answer charges its work again."""


_Parts = tuple[tuple[LabelCube, ...], tuple[LabelCube, ...]] | None
"""A subject's disjoint parts inside and outside a tier's subjects; ``None``: it meets none."""


def _is_catch_all(cubes: Sequence[Cube]) -> bool:
    """Whether a rule's criteria match every flow (its region is its policy's subject x all)."""
    kinds = set()
    for cube in cubes:
        if not (cube.subject.is_full and cube.l4.is_full):
            return False
        peer = cube.peer
        if isinstance(peer, PodPeer) and peer.labels.is_full:
            kinds.add("pod")
        elif isinstance(peer, NetPeer) and peer.ips.is_full:
            kinds.add("net")
        elif isinstance(peer, HostPeer) and peer.kinds == ALL_HOSTS:
            kinds.add("host")
        else:
            return False
    return kinds == {"pod", "net", "host"}


def _index(cubes: list[LabelCube]) -> CubeIndex[LabelCube]:
    index = label_index(cubes)
    index.add(cubes)
    return index


def _meeting(index: CubeIndex[LabelCube], cube: LabelCube, charged: bool = True) -> list[LabelCube]:
    """The indexed subjects meeting ``cube``; the candidates scanned are charged to the work
    budget (a broad subject scans a whole tier's: inside a rule's budget, that rule pays) unless
    ``charged`` is off (a caller whose own work bounds it)."""
    candidates = index.candidates(cube)
    if charged:
        charge(len(candidates))
    return [c for c in candidates if c.intersects(cube)]


def _position(entry: Entry) -> int:
    return entry.position


def _entry_position(item: LeftOut | Absorbed) -> int:
    return item.entry.position


@dataclass
class Walk:
    """One direction's rules in Calico's order, indexed for window walks and overlap tests."""

    entries: list[Entry]
    tiers: list[_Tier]
    rules: RuleIndex[Entry]
    allows: RuleIndex[Entry]
    """The Allows only (what takes part of a Deny's region, with its tier's Passes)."""
    passes: list[RuleIndex[Entry]]
    """Per tier, its Passes only."""
    subjects: dict[int, list[LabelCube]] = field(default_factory=dict)
    """Each policy's subject cubes, by ``id`` of its provenance."""
    closing: dict[int, int] = field(default_factory=dict)
    """Policies (``id`` of the provenance -> tier index) with a subject the catch-all rules of
    their tier do not cover in a Deny-default tier: only these can drop at the end of a tier."""
    _passes: dict[int, list[Entry]] = field(default_factory=dict)
    _reach: dict[int, list[Cube] | OwnBudgetExceeded] = field(default_factory=dict)
    _later: dict[int, CubeIndex[LabelCube]] = field(default_factory=dict)
    _to_later: dict[int, tuple[Cube, ...]] = field(default_factory=dict)

    @staticmethod
    def of(tiers: Sequence[TierSpec]) -> Walk:
        entries: list[Entry] = []
        out_tiers: list[_Tier] = []
        by_policy: dict[int, list[LabelCube]] = {}
        closing: dict[int, int] = {}
        decides_all: set[int] = set()
        for index, tier in enumerate(tiers):
            subjects: list[LabelCube] = []
            catch_all: list[LabelCube] = []
            for policy in tier.policies:
                if policy.subject.is_empty:
                    continue
                subjects.extend(policy.subject.cubes)
                by_policy[id(policy.provenance)] = list(policy.subject.cubes)
                subject_cubes = policy.subject.disjoint_cubes()
                for rule in policy.rules:
                    cubes = rule.match.restrict_subject(subject_cubes).cubes
                    if rule.action is not Action.LOG and _is_catch_all(rule.match.cubes):
                        catch_all.extend(policy.subject.cubes)
                        if rule.action is Action.ALLOW:
                            decides_all.add(id(policy.provenance))
                    if cubes:
                        entries.append(
                            Entry(len(entries), index, rule.action, cubes, rule.provenance, policy.provenance)
                        )
            covered = _index(catch_all)
            risky: list[LabelCube] = []
            if tier.default_action is DefaultAction.DENY:
                for policy in tier.policies:
                    working_on(policy.provenance)  # named if the work budget runs out
                    dropped = [
                        r
                        for c in policy.subject.cubes
                        for r in subtract_all([c], _meeting(covered, c, False))
                    ]
                    risky.extend(dropped)
                    # A policy that allows every flow left (a final Allow for all) keeps Cilium's
                    # plain shape, default deny on: nothing of it goes on to the profile.
                    if id(policy.provenance) in decides_all or dropped:
                        closing[id(policy.provenance)] = index
            out_tiers.append(
                _Tier(tier.name, tier.default_action, subjects, _index(subjects), covered, _index(risky))
            )
        rules = RuleIndex(((c, e) for e in entries for c in e.cubes), _position)
        allows = RuleIndex(((c, e) for e in entries if e.action is Action.ALLOW for c in e.cubes), _position)
        passes = [
            RuleIndex(
                ((c, e) for e in entries if e.tier == index and e.action is Action.PASS for c in e.cubes),
                _position,
            )
            for index in range(len(out_tiers))
        ]
        return Walk(entries, out_tiers, rules, allows, passes, by_policy, closing)

    def size(self, entry: Entry) -> int:
        """A rule's size for its work budget: its cubes and the rule cubes a look-up of its region
        scans (a bound on the rules meeting it, counted without testing them: counting those was
        itself quadratic in a large set)."""
        return len(entry.cubes) + self.rules.candidates(entry.cubes)

    def passes_before(self, entry: Entry) -> list[Entry]:
        """The Passes before the rule in its tier that meet its region, remembered."""
        found = self._passes.get(entry.position)
        if found is None:
            found = self.passes[entry.tier].meeting(entry.cubes, before=entry.position)
            self._passes[entry.position] = found
        return found

    def takers(self, cubes: Sequence[Cube], deny: Entry) -> list[Entry]:
        """Of the rules meeting ``cubes``, those that take part of the Deny's reach there: the
        Allows before it and the Passes before it in its tier (``D(d)``), in Calico's order."""
        allows = self.allows.meeting(cubes, before=deny.position)
        passes = self.passes[deny.tier].meeting(cubes, before=deny.position)
        return merged(allows, passes, order=_position)

    def later_selected(self, tier: int) -> CubeIndex[LabelCube]:
        """The subjects some tier after ``tier`` selects, indexed (built once per tier)."""
        found = self._later.get(tier)
        if found is None:
            found = _index([s for t in self.tiers[tier + 1 :] for s in t.subjects])
            self._later[tier] = found
        return found

    def sent_on(self, entry: Entry, passes: Sequence[Entry]) -> tuple[list[Cube], list[Entry], bool]:
        """What an Allow must lose of the earlier Passes ``passes`` of its tier: each of their
        cubes whose subject a later tier may select (``to_later``), with the Passes whose part
        meets the Allow, and whether some cube of theirs was kept out of it. What they send on of
        the other subjects has no later tier: the namespace profile allows it, so the Allow may
        keep it (design note, "Allows")."""
        cut: list[Cube] = []
        named: list[Entry] = []
        kept_out = False
        for p in passes:
            part = self.to_later(p)
            kept_out = kept_out or len(part) < len(p.cubes)
            if part and any(x.intersects(y) for x in part for y in entry.cubes):
                cut.extend(part)
                named.append(p)
        return cut, named, kept_out

    def to_later(self, entry: Entry) -> tuple[Cube, ...]:
        """The cubes of a Pass whose subject a later tier may select, whole (cut to those
        subjects, a Pass of a broad subject broke into a piece per later policy's subject, and
        the Allows after it with it). Found once per Pass, not charged to the rule asking: at
        most the Pass's cubes times the later subjects' index candidates, and a test usually
        ends at the first candidate (a Pass's subject is its policy's)."""
        found = self._to_later.get(entry.position)
        if found is None:
            later = self.later_selected(entry.tier)
            found = tuple(
                c for c in entry.cubes if any(s.intersects(c.subject) for s in later.candidates(c.subject))
            )
            self._to_later[entry.position] = found
        return found

    def reach(self, entry: Entry) -> list[Cube]:
        """``R(r)``: the rule's region less what the Passes before it in its tier send on. Built
        once, within its own work budget (an Allow's is needed by every Deny it takes part of:
        built inside each Deny's budget, a costly one was begun again and dropped by each);
        past it, ``OwnBudgetExceeded`` every time it is asked for."""
        found = self._reach.get(entry.position)
        if found is None:
            try:
                with _rule_budget(len(entry.cubes) + len(self.passes[entry.tier]), REACH_BASE):
                    passes = self.passes_before(entry)
                    found = list(entry.cubes)
                    if passes:
                        found = subtract_cubes(entry.cubes, [c for e in passes for c in e.cubes])
            except OwnBudgetExceeded as exceeded:
                found = exceeded
            self._reach[entry.position] = found
        if isinstance(found, OwnBudgetExceeded):
            raise OwnBudgetExceeded(found.err)
        return found

    def past_tier(self, pieces: Sequence[Cube], tier: int) -> list[Cube]:
        """The pieces less the end-of-tier drops of ``tier``, a tier before theirs: the part whose
        subject the tier cannot drop at its end (outside ``_Tier.risky``: not selected there, or
        covered by a catch-all rule of the tier, so decided by its rules), and the part its Passes
        send on (what its Allows and Denies decide is covered by their own outcomes; design note
        "Allows"). The two may overlap."""
        risky = self.tiers[tier].risky
        out = _unselected(pieces, risky)
        for piece in pieces:
            if _meeting(risky, piece.subject):
                for entry in self.passes[tier].meeting([piece]):
                    out.extend(h for c in entry.cubes if (h := piece & c) is not None)
        return out

    def meeting(self, cubes: Iterable[Cube]) -> list[Entry]:
        """The entries whose region meets ``cubes``, in Calico's order."""
        return self.rules.meeting(cubes)

    def end_of_tier_risk(self, cubes: Iterable[Cube], tier: int) -> bool:
        """Whether tier ``tier`` (Deny default) may drop at its end a flow of ``cubes``: some
        subject of ``cubes`` is selected there without a catch-all rule of the tier for it. A
        sufficient test for "no": it looks at subject label cubes only."""
        return _meets_any(self.tiers[tier].risky, cubes)

    def reaches(self, entry: Entry) -> bool:
        """Whether some flow of the rule's region reaches it in Calico's order, i.e. the rule
        decides (or passes on) something: the restricted walk over ``entry.cubes`` up to its
        position. ``False`` when every flow it matches was decided before it, or passed on by an
        earlier rule of its tier (C2C351 / C2C352, ``compile/shadows.py``)."""
        relevant: dict[int, list[Entry]] = {}
        for other in self.rules.meeting(entry.cubes, before=entry.position):
            if other.action is not Action.LOG:
                relevant.setdefault(other.tier, []).append(other)
        undecided = list(entry.cubes)
        for index in range(entry.tier):
            if not undecided:
                return False
            tier = self.tiers[index]
            rules = relevant.get(index, ())
            if tier.default is DefaultAction.DENY and all(r.action is not Action.PASS for r in rules):
                # Nothing selected here gets past this tier (no Pass, no Pass default): only what
                # it does not select goes on, and its rules need not be subtracted.
                undecided = _split(undecided, tier, inside=False)[1]
                continue
            inside, outside = _split(undecided, tier)
            passed: list[Cube] = []
            for other in rules:
                if not inside:
                    break
                if other.action is Action.PASS:
                    passed.extend(h for p in inside for c in other.cubes if (h := p & c) is not None)
                inside = subtract_cubes(inside, other.cubes)
            if tier.default is DefaultAction.PASS:
                passed.extend(inside)
            undecided = outside + passed
        # In its own tier every piece is selected (its policy's subject): only earlier rules take.
        taken = [(c, e) for e in relevant.get(entry.tier, ()) for c in e.cubes]
        if not taken:
            return bool(undecided)
        before: CubeIndex[tuple[Cube, Entry]] = CubeIndex(self.rules.key, _entry_subject, _meets, _pair_sub)
        before.add(taken)
        return before.leaves_any((c, entry) for c in undecided)

    def denied(self, window: Sequence[Cube]) -> list[Cube]:
        """``DENIED & window`` for pairwise disjoint ``window`` cubes: Calico's evaluation of the
        window's flows only, through the rules that meet it. (What it allows is not built: no
        caller needs it, and the profile's part cost a look-up of every selected subject.)"""
        relevant: dict[int, list[Entry]] = {}
        # Not charged: the caller's window bounds it (the subtractions below are charged).
        for entry in self.rules.meeting(window, charged=False):
            relevant.setdefault(entry.tier, []).append(entry)
        undecided = list(window)
        denied: list[Cube] = []
        for index, tier in enumerate(self.tiers):
            if not undecided:
                break
            inside, outside = _split(undecided, tier)
            if not inside:
                continue
            passed: list[Cube] = []
            for entry in relevant.get(index, ()):
                if not inside:
                    break
                if entry.action is Action.LOG:
                    continue
                if entry.action is Action.ALLOW:  # takes what it meets; nothing to keep of it
                    if any(p.intersects(c) for p in inside for c in entry.cubes):
                        inside = subtract_cubes(inside, entry.cubes)
                    continue
                hit = [h for p in inside for c in entry.cubes if (h := p & c) is not None]
                if not hit:
                    continue
                inside = subtract_cubes(inside, entry.cubes)
                (denied if entry.action is Action.DENY else passed).extend(hit)
            (denied if tier.default is DefaultAction.DENY else passed).extend(inside)
            undecided = outside + passed
        return _tidy(denied)


def _leaves_any(pieces: Sequence[Cube], entries: Sequence[Entry]) -> bool:
    """Whether ``pieces`` hold a flow outside every region of ``entries`` (stops at the first)."""
    cubes = [c for e in entries for c in e.cubes]
    index = cube_index(subject_key(c.subject for c in cubes))
    index.add(cubes)
    return index.leaves_any(pieces)


def _tidy(cubes: list[Cube]) -> list[Cube]:
    return list(Region(tuple(cubes)).simplify().cubes)


def _meets_any(subjects: CubeIndex[LabelCube], cubes: Iterable[Cube]) -> bool:
    return any(_meeting(subjects, cube.subject) for cube in cubes)


def _unselected(pieces: Iterable[Cube], subjects: CubeIndex[LabelCube]) -> list[Cube]:
    """The pieces less every subject of ``subjects``."""
    out: list[Cube] = []
    for piece in pieces:
        meeting = _meeting(subjects, piece.subject)
        if not meeting:
            out.append(piece)
        else:
            out.extend(Cube(s, piece.peer, piece.l4) for s in subtract_all([piece.subject], meeting))
    return out


def _split(pieces: Iterable[Cube], tier: _Tier, inside: bool = True) -> tuple[list[Cube], list[Cube]]:
    """The pieces cut into those whose subject the tier selects and those whose it does not (the
    first list left empty unless ``inside``: building it is most of the work)."""
    within: list[Cube] = []
    outside: list[Cube] = []
    for piece in pieces:
        key = (piece.subject, inside)
        parts = tier.parts.get(key, partial(_subject_parts, piece.subject, tier.selected, inside))
        if parts is None:
            outside.append(piece)
            continue
        within.extend(Cube(s, piece.peer, piece.l4) for s in parts[0])
        outside.extend(Cube(s, piece.peer, piece.l4) for s in parts[1])
    return within, outside


def _subject_parts(subject: LabelCube, subjects: CubeIndex[LabelCube], inside: bool) -> _Parts:
    """``subject`` cut into disjoint cubes inside ``subjects`` (only if ``inside``) and outside."""
    meeting = _meeting(subjects, subject, False)  # as before: its subtraction is charged
    if not meeting:
        return None
    within = tuple(LabelSet.of(m & subject for m in meeting).disjoint_cubes()) if inside else ()
    return within, tuple(subtract_all([subject], meeting))


@dataclass
class Structure:
    """The outcome of every Allow, Deny and Pass rule for one direction, and which policies keep
    Cilium's default deny (``closed``)."""

    walk: Walk
    outcomes: list[Outcome] = field(default_factory=list)
    profile: list[Outcome] = field(default_factory=list)
    """Pieces of the profile's allow: per Pass rule (``entry.rule`` set), and per Pass-default
    tier (``entry.rule`` is ``None``)."""
    closed: set[int] = field(default_factory=set)
    """``id`` of the policy provenances whose output must turn default deny on; the others'
    subjects never meet the end of a tier, so Cilium's "allowed unless denied" is Calico's."""
    absorbed: list[Absorbed] = field(default_factory=list)
    """Denies said by Cilium's default deny instead of a deny rule (``Absorbed``)."""
    partly: list[tuple[Entry, tuple[object, ...]]] = field(default_factory=list)
    """Denies narrowed by only some of the earlier rules meeting them (``_partly_narrowed``),
    with the rules left out (``Entry.rule``s): Cilium also denies what those allowed of them."""
    too_complex: list[tuple[Entry, WorkBudgetExceeded]] = field(default_factory=list)
    """Allows and profile pieces whose form was too large to build (``rule_limit``), left out
    (C2C350: Cilium denies what they allowed); a Deny past its budget is partly narrowed
    (``partly``) instead."""


def compile_structure(
    tiers: Sequence[TierSpec],
    expressible: Expressible,
    *,
    open_policies: bool = True,
    enforced: Iterable[object] = (),
) -> Structure:
    """Every rule's Cilium form (module docstring). ``open_policies``: the target can turn a
    policy's default deny off (``enableDefaultDeny``, Cilium 1.16); without it every policy
    keeps default deny and the profile's pieces cover every selected subject. ``enforced``: policy
    provenances the output keeps in default deny whatever they say (Kubernetes NetworkPolicies,
    which Cilium enforces itself)."""
    walk = Walk.of(tiers)
    out = Structure(walk)
    kept = {id(e) for e in enforced}
    for index, spec in enumerate(tiers):
        for policy in spec.policies:
            if not open_policies or id(policy.provenance) in kept:
                walk.closing.setdefault(id(policy.provenance), index)
    out.closed = set(walk.closing)
    left_out: list[LeftOut] = []  # Denies with no Cilium form, and D(d)
    for entry in walk.entries:
        working_on(entry.policy)
        if entry.action is Action.DENY:
            cubes = entry.cubes
            takers = _deny_takers(walk, entry)
            if takers is None:
                # Too many to look up: the Deny as written, which also denies what they allowed
                # (fails closed, C2C353 naming no rule).
                out.partly.append((entry, ()))
                takers = []
            elif takers:
                narrowed = _narrowed_deny(walk, entry, takers)
                # Either form may be the shorter to write: an absorbed Deny keeps D(d) as
                # another writing for the emitter to choose (``cilium/policies._deny_cubes``).
                other = _other_writing(entry, narrowed, expressible)
                if (
                    narrowed is None
                    or _too_long(entry, narrowed)
                    or _absorbing_is_smaller(walk, entry, narrowed)
                    or other
                ):
                    # D(d) is large: Cilium's default deny says d instead (design note,
                    # "Absorbed denies"), if few later rules meet it and its reach can be built.
                    # A Deny with another writing may take more later rules: the emitter writes
                    # the shorter of the two.
                    reach = _absorbable_reach(walk, entry, takers, LONG_ABSORB_CAP if other else ABSORB_CAP)
                    partly: tuple[tuple[Cube, ...], list[Entry]] | None = None
                    if reach is None and (narrowed is None or _too_long(entry, narrowed)):
                        # Else partly narrowed (inexact, C2C353): absorbed instead (exact) if not
                        # many more later rules meet it, and written partly narrowed after all
                        # where its parts span many subjects (``_Absorbing.outcomes``).
                        partly = _partly_narrowed(walk, entry, takers)
                        if partly[0] and expressible(partly[0]):
                            reach = _absorbable_reach(walk, entry, takers, LONG_ABSORB_CAP)
                    if reach is not None:
                        bound = _bound(walk, entry, takers)
                        fallback = (
                            None if partly is None else _Partly(partly[0], tuple(partly[1]), tuple(takers))
                        )
                        out.absorbed.append(
                            Absorbed(entry, reach, tuple(e.rule for e in takers), bound, other, fallback)
                        )
                        out.closed.add(id(entry.policy))
                        walk.closing.setdefault(id(entry.policy), entry.tier)
                        continue
                    # Else D(d) where it is within the cap (absorbing only looked shorter), or d
                    # less what as many earlier rules take as keep it short: it also denies what
                    # the others allowed or passed on of it (fails closed, C2C353).
                    if narrowed is None or _too_long(entry, narrowed):
                        narrowed, skipped = partly or _partly_narrowed(walk, entry, takers)
                        if skipped:
                            out.partly.append((entry, tuple(e.rule for e in skipped)))
                            left = {e.position for e in skipped}  # a set: thousands of each
                            takers = [e for e in takers if e.position not in left]
                cubes = narrowed
            if not cubes:
                continue
            rest: tuple[Cube, ...] = ()
            if not expressible(cubes):
                cubes, rest = _expressible_part(cubes, expressible)
                left_out.append(LeftOut(entry, rest))
                out.closed.add(id(entry.policy))
                walk.closing.setdefault(id(entry.policy), entry.tier)
            narrowers = tuple(e.rule for e in takers)
            taken = _bound(walk, entry, takers)
            out.outcomes.append(
                Outcome(entry, Action.DENY, cubes, entry.cubes, narrowers, (), rest, taken=taken)
            )
    gone = _Absorbing(out.absorbed, expressible)
    unsaid = _LeftOuts(left_out, expressible)
    for entry in walk.entries:
        if entry.action is Action.ALLOW:
            working_on(entry.policy)
            outcome = _within_budget(out, walk, entry, unsaid, gone, None)
            if outcome is not None:
                out.outcomes.append(outcome)
    # A profile piece is needed only for subjects in default deny, and of those only for the ones
    # a tier up to its own closes: a later tier that closes a subject selects it, so its flows
    # that reach the profile pass that tier's Passes, whose own pieces hold them.
    # In the order of the policies (``out.closed`` is a set of ids: its order is the memory layout).
    closed = [
        (walk.closing.get(p, -1), c) for p, cubes in walk.subjects.items() if p in out.closed for c in cubes
    ]
    upto = [_index([c for t, c in closed if t <= index]) for index in range(len(walk.tiers))]
    for entry in walk.entries:
        if entry.action is Action.PASS:
            outcome = _within_budget(out, walk, entry, unsaid, gone, upto[entry.tier])
            if outcome is not None:
                out.profile.append(outcome)
    everything = L4Set.all()
    for index, tier in enumerate(walk.tiers):
        if tier.default is DefaultAction.PASS and tier.subjects:
            # What such a tier matches with no rule goes on: a window over its whole subjects.
            window = [
                Cube(s, p, everything)
                for s in LabelSet.of(tier.subjects).disjoint_cubes()
                for p in all_peers()
            ]
            entry = Entry(-1, index, Action.PASS, tuple(window), None, None)
            outcome = _within_budget(out, walk, entry, unsaid, gone, upto[index])
            if outcome is not None:
                out.profile.append(outcome)
    out.outcomes = unsaid.outcomes(out.outcomes)
    out.outcomes.extend(gone.outcomes(walk, out.partly))
    return out


@dataclass(frozen=True, slots=True)
class Absorbed:
    """A Deny whose narrowed form ``D(d)`` would be large (earlier Allows cut it up), said instead
    by Cilium's default deny: its policy keeps default deny, and it is denied only where a later
    Allow or a profile piece meets ``reach`` (``R(d)``, its region less what the Passes before it
    in its tier send on), each such part less the earlier Allows meeting that part
    (``_Absorbing.localize``). Exact: design note, "Absorbed denies". ``narrowers``: the earlier
    rules that would have cut it up."""

    entry: Entry
    reach: tuple[Cube, ...]
    narrowers: tuple[object, ...]
    taken: tuple[Cube, ...] | None = None
    """What the rules before it take of its region (``_bound``, ``Outcome.taken``)."""
    narrowed: tuple[Cube, ...] = ()
    """``D(d)``, when it is short and has a Cilium form (``_other_writing``): the parts where later
    rules meet it are inside it, so denying all of it is as exact (``Outcome.other``)."""
    partly: _Partly | None = None
    """Its partly narrowed form, when it would else have been written so (``LONG_ABSORB_CAP``):
    written so after all when its parts span too many subjects."""


@dataclass(frozen=True, slots=True)
class _Partly:
    """A Deny's partly narrowed form (``_partly_narrowed``): its cubes, the rules left out of it
    (C2C353) and all the rules before it that take part of it."""

    cubes: tuple[Cube, ...]
    skipped: tuple[Entry, ...]
    takers: tuple[Entry, ...]


DENY_PIECES: Final = 8
"""A narrowed Deny of at most this many cubes (or as many as its own region) is kept as it is;
a larger one is absorbed where that is shorter (``_absorbing_is_smaller``)."""
DENY_BASE: Final = 100_000
"""The work a narrowed Deny ``D(d)`` may take before it is absorbed instead (plus
``RULE_PER_ITEM`` per cube of its region and per earlier rule meeting it)."""


def _other_writing(
    entry: Entry, narrowed: Sequence[Cube] | None, expressible: Expressible
) -> tuple[Cube, ...]:
    """``D(d)`` as another writing of a Deny to absorb, when it is within the cap, has a Cilium
    form, and its subjects are not one cube (a spec each: absorbing may need fewer); else
    nothing (the Deny is written as ``D(d)`` when it is short, absorbed when it is long)."""
    if not narrowed or _too_long(entry, narrowed) or not expressible(narrowed):
        return ()
    if len({c.subject for c in narrowed}) < 2:
        return ()
    return tuple(narrowed)


def _absorbing_is_smaller(walk: Walk, entry: Entry, narrowed: Sequence[Cube]) -> bool:
    """Whether absorbing a Deny (``Absorbed``) likely says it in fewer cubes than its narrowed
    form: that form is large (``DENY_PIECES``), and fewer later rules meet the Deny (an absorbed
    Deny costs about a piece per later Allow, Pass or Pass-default tier meeting it) than it has
    cubes. Either form is exact; this only picks the shorter output."""
    if len(narrowed) <= max(DENY_PIECES, len(entry.cubes)):
        return False
    return _later_meeting(walk, entry, len(narrowed)) < len(narrowed)


DENY_CAP: Final = 16
"""A Deny's output may take this many cubes (or twice its own region's), a reviewable size;
past it, it is absorbed or partly narrowed (``_partly_narrowed``)."""
ABSORB_CAP: Final = 16
"""A Deny is absorbed only when at most this many later rules (and Pass-default tiers) meet
it: each takes a piece of it, and a broad Deny met by every later Allow would grow with the
square of the input (realistic mixes, issue 13)."""
LONG_ABSORB_CAP: Final = 96
"""``ABSORB_CAP`` for a Deny with another writing, or that would else be partly narrowed (C2C353,
inexact): absorbed, it is exact; the emitter writes the shorter form."""
LONG_SUBJECTS: Final = 8
"""An absorbed Deny that would else be partly narrowed has its pieces written only where they
span at most this many subject cubes; else its partly narrowed form (``_Absorbing.outcomes``)."""
PIECE_WORK: Final = 2_000
"""The work an allow may spend on its part of one absorbed Deny that has another form (``D(d)``
or partly narrowed), all such Denies together at most half of what the allow has left: past it,
the Deny is written in that form instead (``_Absorbing.whole``), so absorbing never takes an
allow past its budget."""


def _too_long(entry: Entry, narrowed: Sequence[Cube]) -> bool:
    return _weight(narrowed) > max(DENY_CAP, 2 * _weight(entry.cubes))


ICMP_TYPES_PER_RULE: Final = 16
"""ICMP types that weigh as much as a rule: Cilium names each type of a partial set apart."""


def _weight(cubes: Sequence[Cube]) -> int:
    """About how many Cilium rules ``cubes`` take: one per cube, and one more per
    ``ICMP_TYPES_PER_RULE`` types of an ICMP family that only some types of are in it (a Deny
    less an Allow of one ICMP type other than 0 names the other 255). A partial set holding type
    0 weighs nothing more: no supported Cilium can write it (type 0 matches every type,
    ``cilium/ports.py``), so a Deny leaves it out and the allows meeting it lose it instead
    (``_expressible_part``; review9: "allow ping, then deny" looked 19 rules long)."""
    total = 0
    for cube in cubes:
        total += 1
        for _, types in cube.l4.icmp:
            segments = types.segments
            every = len(segments) == 1 and segments[0][:2] == (0, 255) and segments[0][2].is_full
            if not every and segments and segments[0][0] != 0:
                total += sum(b - a + 1 for a, b, _ in segments) // ICMP_TYPES_PER_RULE
    return total


def _lists_icmp(cubes: Sequence[Cube]) -> bool:
    """Whether ``cubes`` hold more than ``ICMP_TYPES_PER_RULE`` types of an ICMP family: a deny
    names each type apart (``cilium/ports.py``), every type too (type 0 is every type only in an
    allow)."""
    return any(
        sum(b - a + 1 for a, b, _ in types.segments) > ICMP_TYPES_PER_RULE
        for cube in cubes
        for _, types in cube.l4.icmp
    )


def _later_meeting(walk: Walk, entry: Entry, limit: int) -> int:
    """How many later rules and Pass-default tiers meet a Deny: about the pieces absorbing it
    takes (an absorbed Deny costs a piece per later Allow, Pass or Pass-default tier meeting it).
    Counted up to ``limit`` (more than ``limit`` when there are more), within the Deny's work
    budget: past it, more than ``limit`` (absorbing, the option this counts for, is not taken)."""
    try:
        with _rule_budget(len(entry.cubes)):
            later = len(walk.allows.meeting(entry.cubes, after=entry.position, limit=limit))
            later += sum(len(p.meeting(entry.cubes, limit=limit)) for p in walk.passes)
            passing = sum(
                1
                for t in walk.tiers
                if t.default is DefaultAction.PASS
                and any(_meeting(t.selected, c.subject) for c in entry.cubes)
            )
            return later + passing
    except OwnBudgetExceeded:
        return limit + 1


def _absorbable_reach(
    walk: Walk, entry: Entry, takers: Sequence[Entry], cap: int = ABSORB_CAP
) -> tuple[Cube, ...] | None:
    """``R(d)`` of a Deny to absorb (``Absorbed``); ``None`` when absorbing it is not bounded:
    more than ``cap`` later rules meet it, or its reach is past its budget."""
    if _later_meeting(walk, entry, cap) > cap:
        return None
    try:
        with _rule_budget(len(entry.cubes) + len(takers)):
            return tuple(walk.reach(entry))
    except OwnBudgetExceeded:
        return None


def _partly_narrowed(
    walk: Walk, entry: Entry, takers: Sequence[Entry]
) -> tuple[tuple[Cube, ...], list[Entry]]:
    """A Deny's region less what the earlier rules ``takers`` take, one rule at a time in
    Calico's order, leaving out a rule whose part would take the form past ``_too_long`` (and
    every rule left when its budget runs out): a superset of ``D(d)``, so Cilium denies more than
    Calico, namely what the rules left out (returned) allowed or passed on of it, and never less.
    With every rule left out it is ``M(d)``, the Deny as written."""
    current = list(entry.cubes)
    skipped: list[Entry] = []
    done = 0
    try:
        with _rule_budget(len(entry.cubes) + len(takers)):
            for taker in takers:
                try:
                    taken = _taken(walk, [taker])
                except OwnBudgetExceeded:  # its reach is past its own budget: left out
                    skipped.append(taker)
                    done += 1
                    continue
                fewer = subtract_cubes(current, taken)
                if _too_long(entry, fewer):
                    skipped.append(taker)
                else:
                    current = fewer
                done += 1
            current = _tidy(current)
            # A rule left out whose part meets nothing kept (a later rule took it) denies
            # nothing more: it is no narrowing, and C2C353 must not name it.
            skipped = [e for e in skipped if any(c.intersects(t) for t in _region(walk, e) for c in current)]
    except OwnBudgetExceeded:
        skipped.extend(takers[done:])
    return tuple(current), skipped


REACH_BASE: Final = 100_000
"""The work an Allow's reach (``Walk.reach``) may take, plus ``RULE_PER_ITEM`` per cube of it and
per Pass of its tier; past it, the Denies it takes part of leave it out (C2C353)."""
LOOKUP_BASE: Final = 100_000
"""The work a Deny's look-up of the rules that take part of it (``Walk.takers``) may take, plus
``RULE_PER_ITEM`` per rule cube it scans: from the shared pool like a rule's (``_rule_budget``)."""


def _deny_takers(walk: Walk, entry: Entry) -> list[Entry] | None:
    """``Walk.takers`` of a Deny's region within its look-up budget (``LOOKUP_BASE``); ``None``
    past it."""
    try:
        with _rule_budget(walk.size(entry), LOOKUP_BASE):
            return walk.takers(entry.cubes, entry)
    except OwnBudgetExceeded:
        return None


def _region(walk: Walk, taker: Entry) -> list[Cube]:
    """What ``taker`` takes (``_taken``), or its whole region when its reach is past its budget."""
    try:
        return _taken(walk, [taker])
    except OwnBudgetExceeded:
        return list(taker.cubes)


def _taken(walk: Walk, takers: Iterable[Entry]) -> list[Cube]:
    """What ``takers`` take: an Allow its reach, a Pass its whole region (``OwnBudgetExceeded``
    when an Allow's reach is past its budget, ``Walk.reach``: the caller falls back)."""
    return [c for e in takers for c in (walk.reach(e) if e.action is Action.ALLOW else e.cubes)]


def _narrowed_deny(walk: Walk, entry: Entry, takers: Sequence[Entry]) -> tuple[Cube, ...] | None:
    """``D(d)``: the Deny's region less what the earlier Allows (their reach) and the earlier
    Passes of its tier take; ``None`` when that is too large to build (``DENY_BASE``)."""
    try:
        with _rule_budget(len(entry.cubes) + len(takers), DENY_BASE):
            return tuple(_tidy(subtract_cubes(entry.cubes, _taken(walk, takers))))
    except OwnBudgetExceeded:
        return None


def _bound(walk: Walk, entry: Entry, takers: Sequence[Entry]) -> tuple[Cube, ...] | None:
    """What ``takers`` (the rules before a Deny that its outcome is narrowed by) take of its
    region ``M(d)``, as ``Outcome.taken``: every flow of ``M(d)`` they do not take is denied by
    Calico (it is in ``D(d)``: design note, "Writing a Deny between its bounds"), or, for a partly
    narrowed Deny, also denied by its outcome. The takers meet ``M(d)``; not every cube of their
    reach does (the emitter's index skips those). ``None`` past the Deny's budget (an Allow's
    reach past its own: the emitter writes the outcome as it is)."""
    if not takers:
        return ()
    try:
        with _rule_budget(len(entry.cubes) + len(takers)):
            taken = _taken(walk, takers)
            charge(len(taken))
            return tuple(taken)
    except OwnBudgetExceeded:
        return None


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A Deny's part that no Cilium deny says: the allows (and profile pieces) meeting it lose it."""

    entry: Entry
    cubes: tuple[Cube, ...]


class _LeftOuts:
    """The Denies' parts with no Cilium form (``LeftOut``), indexed by subject: every allow looks
    up the ones meeting it (a scan of them all per allow grew with the square of the input: a
    10,000-document mix spent most of its time there)."""

    def __init__(self, left_out: Sequence[LeftOut], expressible: Expressible) -> None:
        self.left_out = left_out
        self.expressible = expressible
        self.index = RuleIndex(((c, g) for g in left_out for c in g.cubes), _entry_position)
        self.parts: dict[int, list[Cube]] = {}
        """Per Deny (its position), the later allows' parts of its ``LeftOut`` that have a Cilium
        form (an allow of ICMP type 8 meeting "every ICMP type but 3"): denied by the Deny's own
        rule instead of taken out of each allow (``_past_left_out``)."""

    def outcomes(self, outcomes: list[Outcome]) -> list[Outcome]:
        """``outcomes`` with each Deny's recorded ``parts`` added to its cubes (merged where that
        is within a rule's budget: the parts as recorded are as exact)."""
        if not self.parts:
            return outcomes
        out: list[Outcome] = []
        for outcome in outcomes:
            parts = self.parts.get(outcome.entry.position) if outcome.action is Action.DENY else None
            if parts:
                try:
                    with _rule_budget(len(parts)):
                        merged = _tidy(list(parts))
                except OwnBudgetExceeded:
                    merged = parts
                if not self.expressible(merged):  # merging can make a cube Cilium cannot say
                    merged = parts
                outcome = replace(outcome, cubes=(*outcome.cubes, *merged), met=True)
            out.append(outcome)
        return out

    def meeting(self, pieces: Sequence[Cube], before: int | None = None) -> list[LeftOut]:
        """The left-out parts meeting ``pieces`` (of the Denies before position ``before``, if
        given), in Calico's order (the look-up is charged)."""
        if not self.left_out or not pieces:
            return []
        return self.index.meeting(pieces, before=before)


@dataclass(frozen=True, slots=True)
class _Denied:
    """An allow's part that an absorbed Deny denies, and the rest of it with no Cilium form."""

    part: list[Cube]
    rest: list[Cube]


class _Absorbing:
    """The absorbed Denies' reaches, indexed by subject for the allows to look up."""

    def __init__(self, absorbed: Sequence[Absorbed], expressible: Expressible) -> None:
        self.absorbed = absorbed
        self.expressible = expressible
        self.pieces: dict[int, list[Cube]] = {}
        """Per absorbed Deny (its position), what it must deny: its part of the allows after it."""
        self.whole: set[int] = set()
        """Absorbed Denies (their positions) written in their other form after all (``D(d)``, or
        partly narrowed): an allow's look-up of its part ran past the work it may take."""
        self.index = RuleIndex(((c, a) for a in absorbed for c in a.reach), _entry_position)
        self._taken: dict[int, CubeIndex[Cube]] = {}
        self.tried: list[int] = []
        """The Denies with another form whose part the allow being localized looked for."""

    def give_up(self) -> bool:
        """Write the Denies with another form whose part the last allow looked for in that form
        (``whole``), so that the allow, past its budget, can be tried again without their parts:
        absorbing never leaves an allow out. Whether there was any."""
        new = [p for p in self.tried if p not in self.whole]
        self.whole.update(new)
        self.tried = []
        return bool(new)

    def taken_by(self, gone: Absorbed) -> CubeIndex[Cube] | None:
        """What the rules before the absorbed Deny take of its region (``Absorbed.taken``), indexed
        once per Deny (``None`` when it was past the Deny's budget): an allow's part of the Deny
        subtracts it through this index instead of looking up, in every Allow of the direction,
        the rules before the Deny that meet the part (that look-up scanned thousands of
        candidates for a broad part, and ran past the work an allow may spend on it)."""
        if gone.taken is None:
            return None
        found = self._taken.get(gone.entry.position)
        if found is None:  # not charged: as long as ``taken``, which the Deny's budget paid for
            found = cube_index(subject_key(c.subject for c in gone.taken))
            found.add(gone.taken)
            self._taken[gone.entry.position] = found
        return found

    def meeting(self, pieces: Sequence[Cube], before: int | None) -> list[Absorbed]:
        """The absorbed Denies (before position ``before``, if given) whose reach meets ``pieces``,
        in Calico's order (the look-up is charged)."""
        if not self.absorbed or not pieces:
            return []
        return self.index.meeting(pieces, before=before)

    def localize(self, walk: Walk, outcome: Outcome, profile: bool) -> Outcome | None:
        """Record, for every absorbed Deny ``b`` before the allow ``outcome`` (every one, for a
        profile piece), the part of the allow that ``b`` denies: ``X & R(b)`` less what the Allows
        before ``b`` (their reach) and the Passes before it in its tier take, a few cubes where a
        narrowed ``D(b)`` would be many (design note, "Absorbed denies"). Such a part with no
        Cilium form is taken out of the allow instead (Calico denies it); returns the allow."""
        cubes = outcome.cubes
        hits = self.meeting(cubes, None if profile else outcome.entry.position)
        lost: list[Cube] = []
        taken_out = False
        named: list[object] = []  # the Denies the allow itself lost something to
        # What the Denies with another form may take of the allow's budget, all together: half
        # of what it has left now (the rest is its own), at most ``PIECE_WORK`` each.
        room = left()
        share = None if room is None else room // 2
        self.tried = []
        for gone in hits:
            d = gone.entry
            if d.position in self.whole:
                continue  # written whole: its form holds D(d), so this allow's part
            if gone.narrowed or gone.partly:
                self.tried.append(d.position)
                # Past its share, such a Deny is written in its other form, and the allow stays
                # within its own budget.
                before = left()
                try:
                    with own_budget(PIECE_WORK if share is None else min(PIECE_WORK, share)):
                        found = self._part(walk, gone, cubes)
                except OwnBudgetExceeded:
                    self.whole.add(d.position)
                    continue
                finally:
                    after = left()
                    if share is not None and before is not None and after is not None:
                        share = max(0, share - (before - after))
            else:
                found = self._part(walk, gone, cubes)
            if found is None:
                continue
            if not isinstance(found, _Denied):
                cubes, taken_out = found, True
                named.append(d.rule)
                if not cubes:
                    return None
                continue
            part, rest = found.part, found.rest
            if rest:
                lost.extend(rest)
                named.append(d.rule)
            self.pieces.setdefault(d.position, []).extend(part)
        if not lost and not taken_out:
            return outcome
        kept = tuple(_tidy(subtract_cubes(cubes, lost)))
        if not kept:
            return None
        # ``wide - kept`` is all denied by Calico if only ``lost`` (a part of ``D(b)``) went; a
        # taken ``R(b)`` may hold flows an earlier Allow allows: then no wide form.
        narrowers = (*outcome.narrowers, *named)
        wide = kept if taken_out else outcome.wide
        return Outcome(outcome.entry, outcome.action, kept, wide, narrowers, outcome.tiers)

    def _part(self, walk: Walk, gone: Absorbed, cubes: tuple[Cube, ...]) -> tuple[Cube, ...] | _Denied | None:
        """What the absorbed Deny ``gone`` does to an allow's ``cubes``: nothing (``None``), the
        cubes less ``R(b)`` (a tuple of cubes), or its part to deny and the rest with no Cilium form
        (``_Denied``; ``localize``)."""
        d = gone.entry
        part = [h for c in cubes for r in gone.reach if (h := c & r) is not None]
        if not part:
            return None
        # Where ``R(b)`` takes whole cubes of the allow's peers and ports (a Deny of a whole
        # subject, say), the allow loses ``R(b)`` at the cost of a term in its subjects; what it
        # loses that an Allow before ``b`` allowed, that Allow allows itself.
        fewer = subtract_cubes(cubes, gone.reach)
        if len(fewer) <= len(cubes) and (not fewer or self.expressible(fewer)):
            return tuple(fewer)
        # A Deny with another form: through its own takers' index, within the part's work
        # (``PIECE_WORK``); a plain absorbed Deny's part is charged to the allow, and the look-up
        # of the rules meeting the part is the cheaper there.
        taken = self.taken_by(gone) if gone.narrowed or gone.partly else None
        if taken is not None:
            part = taken.subtract(part)
        else:
            takers = walk.takers(part, d)
            if takers:
                part = subtract_cubes(part, _taken(walk, takers))
        if not part:
            return None
        rest: list[Cube] = []
        if not self.expressible(part):
            said, unsaid = _expressible_part(part, self.expressible)
            part, rest = list(said), list(unsaid)
        return _Denied(part, rest)

    def outcomes(self, walk: Walk, partly: list[tuple[Entry, tuple[object, ...]]]) -> list[Outcome]:
        """The absorbed Denies that deny something, as Cilium denies of their recorded parts; one
        that would else have been partly narrowed (``Absorbed.takers``) is written so after all
        (and added to ``partly``) when its parts span more than ``LONG_SUBJECTS`` subjects."""
        out: list[Outcome] = []
        for gone in self.absorbed:
            if gone.entry.position in self.whole:
                out.append(_whole(walk, gone, partly))
                continue
            parts = self.pieces.get(gone.entry.position)
            if parts:
                cubes = tuple(parts)  # each recorded part has a form (``localize``)
                try:
                    with _rule_budget(len(parts)):
                        merged = tuple(_tidy(list(Region.of(parts).cubes)))
                except OwnBudgetExceeded:  # the parts as recorded: longer, as exact
                    merged = cubes
                if self.expressible(merged):  # merging can make a cube Cilium cannot say
                    cubes = merged
                if gone.partly is not None and len({c.subject for c in cubes}) > LONG_SUBJECTS:
                    out.append(_partly_written(walk, gone.entry, gone.partly, partly))
                    continue
                out.append(
                    Outcome(
                        gone.entry,
                        Action.DENY,
                        cubes,
                        gone.entry.cubes,
                        gone.narrowers,
                        absorbed=True,
                        other=gone.narrowed,
                        taken=gone.taken,
                    )
                )
        return out


def _whole(walk: Walk, gone: Absorbed, partly: list[tuple[Entry, tuple[object, ...]]]) -> Outcome:
    """An absorbed Deny written in its other form after all (``_Absorbing.whole``): ``D(d)``
    (``Absorbed.narrowed``), else its partly narrowed form. Either holds ``D(d)``, so every
    allow's part of it; the allows' changes from absorbing hold whatever its form."""
    entry = gone.entry
    if gone.narrowed:
        narrowers = gone.narrowers
        return Outcome(entry, Action.DENY, gone.narrowed, entry.cubes, narrowers, taken=gone.taken)
    assert gone.partly is not None
    return _partly_written(walk, entry, gone.partly, partly)


def _partly_written(
    walk: Walk, entry: Entry, form: _Partly, partly: list[tuple[Entry, tuple[object, ...]]]
) -> Outcome:
    """An absorbed Deny written in its partly narrowed ``form`` (which has a Cilium form) after
    all, its skipped rules added to ``partly`` (C2C353). As exact as C2C353 says: the form holds
    ``D(d)``, so every absorbed part, and the allows' changes (``_Absorbing.localize``) hold
    whichever way it is written; its policy keeps default deny either way."""
    skipped = {e.position for e in form.skipped}
    takers = [e for e in form.takers if e.position not in skipped]
    if form.skipped:
        partly.append((entry, tuple(e.rule for e in form.skipped)))
    taken = _bound(walk, entry, takers)
    narrowers = tuple(e.rule for e in takers)
    return Outcome(entry, Action.DENY, form.cubes, entry.cubes, narrowers, taken=taken)


RULE_BASE: Final = 100_000
RULE_PER_ITEM: Final = 200


FRUGAL_BASE: Final = 5_000
FRUGAL_PER_ITEM: Final = 50
FRUGAL_MAX: Final = 20_000
"""The frugal budget's ceiling, whatever the rule's size: a broad rule meets thousands of others
in a large set, and a budget growing with them let the rules after the pool's end take minutes."""


def rule_limit(size: int) -> int:
    """The work one rule's form may take (``sets/budget.py``): what stays linear in real policy
    sets; a rule past it takes its fallback instead of holding up the whole direction."""
    return scale(RULE_BASE + RULE_PER_ITEM * size)


def _rule_budget(size: int, base: int | None = None) -> AbstractContextManager[None]:
    """One rule's budget, ``base`` (``RULE_BASE``) plus ``RULE_PER_ITEM`` per cube and meeting rule of its
    ``size``, drawn from the direction's shared pool (``sets/budget.py``, ``shared_pool``): once
    a few costly rules have spent it, each later rule gets the frugal ``FRUGAL_BASE`` plus
    ``FRUGAL_PER_ITEM`` per item, and past that takes its own fallback (failing closed for that
    rule alone). Realistic mixes of a thousand policies spent a whole direction's budget on a
    handful of narrowed Denies, and the direction then failed closed for every pod (issue 13)."""
    full = (RULE_BASE if base is None else base) + RULE_PER_ITEM * size
    frugal = min(FRUGAL_BASE + FRUGAL_PER_ITEM * size, FRUGAL_MAX)
    return item_budget(scale(full), scale(frugal))


def _within_budget(
    out: Structure,
    walk: Walk,
    entry: Entry,
    left_out: _LeftOuts,
    absorbed: _Absorbing,
    closed: CubeIndex[LabelCube] | None,
) -> Outcome | None:
    """``_narrowed`` within the rule's work budget; past it the rule is left out (recorded in
    ``Structure.too_complex``: Cilium denies what it allowed)."""
    size = walk.size(entry) if entry.position >= 0 else len(entry.cubes)
    while True:
        try:
            with _rule_budget(size):
                outcome = _narrowed(walk, entry, left_out, closed)
                if outcome is not None:
                    outcome = absorbed.localize(walk, outcome, closed is not None)
                return outcome
        except OwnBudgetExceeded as exceeded:
            # Its parts of absorbed Denies with another form may have taken it past: those are
            # written in that form instead, and it is tried once more without them.
            if absorbed.give_up():
                continue
            out.too_complex.append((entry, exceeded.err))
            return None


def closed_denied(walk: Walk, cubes: Sequence[Cube], closed: Sequence[Cube]) -> tuple[Cube, ...] | None:
    """What Calico denies of ``closed - cubes``, for an allow's closed form (``compile/plan.py``,
    ``_structural_closed``: ``cubes`` widened to ``closed``, the added part that Calico denies
    denied), within the rule's work budget and no heavier than a Deny's form may be
    (``_too_long``); ``None`` past either. The allow then has no closed form, and where no other
    form has one the emitter leaves it out (C2C310 at the rule: fails closed). Unbounded, on the
    1,000-document mix an ICMP type 0 allow over ``has(team)`` took 810,000 output lines, and
    before that these walks spent the whole ingress direction's budget (C2C350 for every pod)."""
    try:
        with _rule_budget(len(cubes) + len(closed)):
            added = Region.of(subtract_cubes(closed, cubes)).cubes
            denied = walk.denied(added)
    except OwnBudgetExceeded:
        return None
    if _weight(denied) > max(DENY_CAP, 2 * _weight(cubes)):
        return None
    return tuple(denied)


_SAYABLE = L4Set.protocols(PORT_PROTOCOLS)
"""The protocols a Cilium rule names by ports (ICMP takes one entry per type, and the other
protocols can only be said as "every protocol")."""


def _expressible_part(
    cubes: Sequence[Cube], expressible: Expressible
) -> tuple[tuple[Cube, ...], tuple[Cube, ...]]:
    """A region cut into a part the target can say and the rest: per cube, its flows of the
    port protocols (e.g. "every protocol but TCP/443" keeps TCP but 443, UDP and SCTP), when
    that has a form, else nothing."""
    said: list[Cube] = []
    rest: list[Cube] = []
    for cube in cubes:
        if expressible([cube]):
            said.append(cube)
            continue
        named = Cube(cube.subject, cube.peer, cube.l4 & _SAYABLE)
        if not named.is_empty and expressible([named]):
            said.append(named)
            other = cube.l4 - _SAYABLE
            if not other.is_empty:
                rest.append(Cube(cube.subject, cube.peer, other))
        else:
            rest.append(cube)
    return tuple(said), tuple(rest)


def _narrowed(
    walk: Walk,
    entry: Entry,
    left_out: _LeftOuts,
    closed: CubeIndex[LabelCube] | None,
) -> Outcome | None:
    """An Allow's (or a profile piece's) region less what deny-wins does not take care of: the
    flows an earlier Pass of its tier sends on to a later tier selecting their subject (Allows
    only: a Pass piece passes them anyway; ``Walk.sent_on``),
    the end-of-tier drops of the tiers before an Allow's (every other tier for a profile piece)
    that may meet it, and what Denies with no Cilium form deny (design note, "Allows" and "The
    profile"). ``closed``: only these subjects need a profile piece (the others are not in
    Cilium's default deny); the pieces may overlap until the end."""
    pieces = list(entry.cubes)
    narrowers: list[object] = []
    restricted = False
    if closed is not None:
        # Whole cubes, not cut to the closed subjects: an allow changes nothing for a subject
        # outside default deny (Cilium allows it all unless denied), and cutting fragments.
        inside = [p for p in pieces if _meeting(closed, p.subject)]
        restricted = len(inside) != len(pieces)
        pieces = inside
    elif entry.position >= 0:
        passes = walk.passes_before(entry)
        if passes:
            # Only where a later tier selects the subject: what the Passes send on of the other
            # subjects goes to the profile, which allows it (design note, "Allows").
            cut, named, kept_out = walk.sent_on(entry, passes)
            if cut:
                pieces = subtract_cubes(pieces, cut)
                narrowers.extend(e.rule for e in named)
            if pieces and kept_out and not _leaves_any(pieces, passes):
                return None  # the Passes send on all of it: it decides nothing (C2C352)
    # The wide form (allow ``wide``, deny ``wide - cubes``) is exact only where Calico denies all of
    # ``wide - cubes``: the left-out Denies below are denied, but what a Pass sends on (or a
    # subject outside ``closed``) may be allowed later, so ``wide`` is taken after those are
    # subtracted (differential test, seed 11: a Pass of ICMP type 3 before an Allow whose ICMP part
    # needs the wide form was denied by Cilium, allowed by the profile), and an end of tier below
    # takes flows that tier's own Allows allow (review8), so then there is no wide form at all.
    wide = tuple(pieces) if (narrowers or restricted) else entry.cubes
    tiers: list[str] = []
    if closed is not None:
        # A flow reaches the profile through the Passes of the last tier that selects its
        # subject, whose own pieces hold it: a piece keeps the subjects no later tier selects.
        for tier in walk.tiers[entry.tier + 1 :]:
            if pieces and _meets_any(tier.selected, pieces):
                tiers.append(tier.name)
                pieces = _unselected(pieces, tier.selected)
    for index, tier in enumerate(walk.tiers[: entry.tier]):
        if tier.default is DefaultAction.DENY and pieces and walk.end_of_tier_risk(pieces, index):
            tiers.append(tier.name)
            pieces = walk.past_tier(pieces, index)
    # Only the Denies before the rule: a Deny after it never decides a flow of its region (the
    # rule decided it, or an earlier Pass sent it where the Deny cannot see it: design note,
    # "Allows"), so its part is no flow Calico denies there. (A partly narrowed Deny's part, C2C353,
    # holds flows the earlier rules allowed: taken out of them, it only denied more.)
    reached: list[Cube] = []  # the left-out Denies' reaches taken out whole
    for gone in left_out.meeting(pieces, entry.position if entry.position >= 0 else None):
        charge(len(pieces))  # the test below, counted against the rule's budget
        if pieces and any(a.intersects(b) for a in gone.cubes for b in pieces):
            kept, reach = _past_left_out(walk, pieces, gone, left_out)
            if kept is not pieces:  # else the Deny's rule denies the allow's part of it
                narrowers.append(gone.entry.rule)
                pieces = kept
            reached.extend(reach)
    if not pieces:
        return None
    if not narrowers and not tiers and not restricted:
        return Outcome(entry, entry.action, entry.cubes, entry.cubes)
    if reached:  # ``wide - cubes`` must stay what Calico denies: it loses the reaches too
        wide = tuple(subtract_cubes(wide, reached))
    cubes = tuple(_tidy(list(Region.of(pieces).cubes)))
    if tiers:  # no wide form (above): ``wide - cubes`` holds flows an earlier tier allows
        wide = cubes
    return Outcome(entry, entry.action, cubes, wide, tuple(narrowers), tuple(tiers))


def _past_left_out(
    walk: Walk, pieces: list[Cube], gone: LeftOut, left_out: _LeftOuts
) -> tuple[list[Cube], list[Cube]]:
    """An allow's ``pieces`` past a Deny's part with no Cilium form (``LeftOut``) (``pieces``
    itself when it loses nothing), and what was taken out whole. The allow loses the Deny's whole
    reach ``R(d)`` where that leaves fewer cubes than it has; else, where its part of the
    ``LeftOut`` has a short Cilium form (an allow of ICMP type 8 meeting "every ICMP type but 3";
    not a list of ICMP types, which a deny names one by one: ``_lists_icmp``), the Deny's rule
    denies that part (``_LeftOuts.parts``) and the allow keeps its cubes; else it loses ``R(d)``
    or the part with no form, whichever leaves fewer cubes.

    ``R(d)`` holds no flow the allow decides (it comes after the Deny, which decides every flow of
    ``R(d)`` that reaches it): what the allow loses of it that an earlier Allow allows, that
    Allow allows itself, and the rest the Deny's own rule denies (as for an absorbed Deny: design
    note, "Absorbed denies"). The part denied lies in the ``LeftOut``, which Calico denies (a
    partly narrowed Deny's, C2C353: which Cilium denies anyway). A Deny after many Allows leaves
    only their pieces of its part with no form: an allow losing that kept exactly those pieces,
    one spec each."""
    try:
        reach = walk.reach(gone.entry)
    except OwnBudgetExceeded:
        reach = None
    fewer = None if reach is None else subtract_cubes(pieces, reach)
    if fewer is not None and reach is not None and len(fewer) < len(pieces):
        return fewer, reach
    part = [h for p in pieces for c in gone.cubes if (h := p & c) is not None]
    charge(len(part))
    if left_out.expressible(part) and not _lists_icmp(part):
        left_out.parts.setdefault(gone.entry.position, []).extend(part)
        return pieces, []
    cut = subtract_cubes(pieces, gone.cubes)
    if fewer is not None and reach is not None and len(fewer) < len(cut):
        return fewer, reach
    return cut, []
