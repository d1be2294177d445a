"""Calico's decision at a host subject (a HostEndpoint with ``interfaceName: "*"``), per direction.

Sources: docs/reference/semantics.md §1.1 (which policies can select a host endpoint), 1.2 (tiers, order, first
match, Pass, end of tier, profiles after the tiers), 1.5 (host endpoints); docs/reference/semantics-check.md claim 10
and claim 13; Calico docs ``reference/resources/hostendpoint.mdx`` ("Host to local workload traffic
... is always allowed, despite any policy in place") and ``reference/host-endpoints/failsafe.mdx``.

- The policies that apply are those whose (rewritten) selector matches the HEP's labels: a
  GlobalNetworkPolicy without namespaceSelector/serviceAccountSelector selects host endpoints too; a
  namespaceSelector rewrites ``all()`` to ``has(projectcalico.org/namespace)`` and prefixes ``pcns.``
  labels, a NetworkPolicy adds ``projectcalico.org/namespace == <ns>``: labels no host endpoint has
  (globalnetworkpolicyprocessor.go, networkpolicyprocessor.go). The selector is evaluated on the
  HEP's labels, which are constants, so each host subject gets its own program.
- Tiers, order, rules, Pass and end-of-tier drops are the pods' machinery, with the rules built once.
- After the tiers (no tier applied, or Pass out of the last one): the profiles.
  ``projectcalico-default-allow`` allows everything; no profile: **deny** (unlike pods, whose
  namespace profile allows); another profile: not modelled.
- Failsafe ports are allowed whatever the policy (a first tier that only allows, else passes).
- Traffic from the host to its own workloads is always allowed (egress to a pod on the node).
- Traffic from the node's own pods to the host is not the host endpoint's to decide: Felix sends a
  packet arriving from a workload interface to its workload-to-host chain before the host endpoint
  dispatch (felix ``rules/static.go`` ``filterInputChain``), where the pod's egress policy and
  ``DefaultEndpointToHostAction`` decide it (projectcalico/calico#7398: "there is no way to block
  traffic from workloads to host endpoints"). So it is allowed here (ingress from a pod on the
  node); the pod's egress decision point applies the action (``Assumptions``,
  ``calico_endpoint_to_host_action``).
- ``doNotTrack``/``preDNAT``/``applyOnForward`` policies selecting the HEP govern untracked,
  pre-DNAT or forwarded traffic, which the flow world does not hold: the subject is not proven.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from calico2cilium.semantics.calico_rules import composite_on
from calico2cilium.semantics.expr import FALSE, TRUE, OnSubjectNode, ProtoIs, and_, port_range
from calico2cilium.semantics.hosts import DEFAULT_ALLOW_PROFILE, HostSubject
from calico2cilium.semantics.program import (
    CalicoPolicy,
    CalicoProgram,
    CalicoRule,
    CalicoTier,
    Ref,
    UnsupportedItem,
)
from calico2cilium.semantics.protocols import calico_protocol
from calico2cilium.semantics.views import Unsupported, calico_const_label
from calico2cilium.semantics.world import Assumptions, Direction, FailsafePorts

if TYPE_CHECKING:
    from calico2cilium.semantics.calico import CalicoSide, PolicyInput


def failsafe_tier(direction: Direction, ports: FailsafePorts) -> CalicoTier | None:
    """Felix's failsafe rules come before any policy and only accept (felix ``rules/static.go``
    ``failsafeInChain``/``failsafeOutChain``: protocol and destination port); a flow they do not
    match goes on to the policies, which is a tier of Allow rules whose default is Pass."""
    setting = "failsafeInboundHostPorts" if direction == "ingress" else "failsafeOutboundHostPorts"
    rules = []
    for protocol, port in ports:
        number = calico_protocol(protocol.upper())
        if number is None:
            continue
        ref = Ref("calico", f"Felix failsafe port {protocol}:{port} ({setting})")
        rules.append(CalicoRule(and_(ProtoIs(number), port_range("dst", port, port)), "Allow", ref))
    if not rules:
        return None
    end = Ref("calico", f"no failsafe port ({setting})")
    return CalicoTier("failsafe", True, [CalicoPolicy(TRUE, rules, end, end)], end)


def _note(notes: list[UnsupportedItem], item: UnsupportedItem) -> None:
    if item not in notes:
        notes.append(item)


def _profiles(subject: HostSubject, notes: list[UnsupportedItem]) -> tuple[bool, Ref]:
    """Profiles in order after the tiers (docs/reference/semantics.md §1.2, 1.5): the default-allow profile allows
    everything; none left: deny."""
    hep = subject.hep
    assert hep is not None
    for index, profile in enumerate(hep.profiles):
        where = ("spec", "profiles", index)
        if profile == DEFAULT_ALLOW_PROFILE:
            return True, Ref("calico", f"{hep.title}: profile {profile} (allow)", hep.doc, where)
        reason = f"profile {profile!r} of a host endpoint is not modelled"
        _note(notes, UnsupportedItem("calico", reason, hep.title, hep.doc, where))
        return False, Ref("calico", f"{hep.title}: profile {profile} (not modelled)", hep.doc, where)
    return False, Ref(
        "calico", f"{hep.title}: no policy decided and no profile allows (deny)", hep.doc, ("spec",)
    )


@dataclass(frozen=True)
class _Choice:
    """A policy whose selector does not rule out a host endpoint's labels: it selects it, it is
    not decided by them, or reading it is not modelled (``reason``)."""

    tier: int
    policy: PolicyInput
    built: CalicoPolicy
    outcome: Literal["selects", "undecided", "unsupported"]
    reason: str = ""


HostChoices = dict[tuple[Direction, tuple[tuple[str, str], ...]], list[_Choice]]
"""``_choices`` per direction and set of host endpoint labels: nodes are alike (a few roles over
many nodes), so each set of labels is read against every policy once."""


def _choices(labels: dict[str, str], direction: Direction, side: CalicoSide) -> list[_Choice]:
    """The policies, tier by tier, whose selector does not evaluate to false on ``labels``."""
    out: list[_Choice] = []
    for number, members in enumerate(side.members.get(direction, [])):
        for policy, built in members:
            if direction.capitalize() not in policy.types:
                continue
            try:
                selects = composite_on(policy.subject, lambda key: calico_const_label(labels, key))
            except Unsupported as exc:
                out.append(_Choice(number, policy, built, "unsupported", exc.reason))
                continue
            if selects != FALSE:
                out.append(_Choice(number, policy, built, "selects" if selects == TRUE else "undecided"))
    return out


def host_program(
    subject: HostSubject,
    direction: Direction,
    side: CalicoSide,
    assumptions: Assumptions,
    choices: HostChoices | None = None,
) -> CalicoProgram:
    """Calico's program at one host subject and direction (see the module docstring).
    ``choices``: shared by the host subjects of one side (``None``: read for this one alone)."""
    if subject.hep is None:
        ref = Ref("calico", f"node {subject.node} has no HostEndpoint: Calico does not police its traffic")
        return CalicoProgram(direction, [], profile_ref=ref)
    hep = subject.hep
    labels = dict(hep.labels)
    notes = subject.unsupported
    tiers: list[CalicoTier] = []
    ports = (
        assumptions.calico_failsafe_inbound
        if direction == "ingress"
        else assumptions.calico_failsafe_outbound
    )
    failsafe = failsafe_tier(direction, ports)
    if failsafe is not None:
        tiers.append(failsafe)
    key = (direction, tuple(sorted(labels.items())))
    found = choices.get(key) if choices is not None else None
    if found is None:
        found = _choices(labels, direction, side)
        if choices is not None:
            choices[key] = found
    chosen: dict[int, list[CalicoPolicy]] = {}
    for choice in found:
        policy, built = choice.policy, choice.built
        if choice.outcome == "unsupported":
            _note(notes, UnsupportedItem("calico", choice.reason, policy.title, policy.doc, ("spec",)))
            continue
        if choice.outcome == "undecided":  # cannot happen: every label of a host endpoint is known
            reason = f"selector of {policy.title} is not decided by the labels of {hep.title}"
            _note(notes, UnsupportedItem("calico", reason, policy.title, policy.doc, ("spec",)))
            continue
        if policy.host_only or policy.apply_on_forward:
            reason = (
                f"doNotTrack/preDNAT/applyOnForward policy selects {hep.title}: untracked, pre-DNAT "
                "and forwarded traffic are outside the flow world"
            )
            _note(notes, UnsupportedItem("calico", reason, policy.title, policy.doc, ("spec",)))
            if policy.host_only:
                continue
        chosen.setdefault(choice.tier, []).append(
            CalicoPolicy(TRUE, built.rules, built.ref, built.end_ref, None, list(built.unsupported))
        )
    for number, tier in enumerate(side.programs[direction].tiers):
        if number in chosen:
            tiers.append(CalicoTier(tier.name, tier.pass_by_default, chosen[number], tier.end_ref))
    allows, profile_ref = _profiles(subject, notes)
    program = CalicoProgram(direction, tiers, profile_ref=profile_ref, profile_allows=allows)
    if (
        direction == "egress"
        and assumptions.calico_local_host_allowed
        and assumptions.calico_host_to_own_pods_allowed
    ):
        program.always_allow = OnSubjectNode()
        program.always_ref = Ref("calico", "traffic from the host to its own workloads (always allowed)")
    if direction == "ingress" and not assumptions.calico_hep_polices_own_pods:
        program.always_allow = OnSubjectNode()
        program.always_ref = Ref(
            "calico",
            "traffic from the node's own pods: decided by the pod's egress policy and Felix"
            f" defaultEndpointToHostAction {assumptions.calico_endpoint_to_host_action}, not by host"
            " endpoint policy",
        )
    return program
