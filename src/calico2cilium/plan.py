"""The compiler -> emitter hand-off: what every output policy must do, in plain frozen types.

``ir.py`` is what the compiler reads; this is what it writes and the emitter (``cilium/``) reads.
The emitter imports only ``ir``, this module, ``sets`` and ``facts``: it never looks into the
compiler's working state. The compiler fills the containers of these values while it builds them
(``compile/plan.py``, ``compile/hosts.py``); after the hand-off nobody changes them.

Regions are ``sets.regions.Cube`` tuples over the compiler's label space, whose special keys the
emitter writes as Cilium's (``NAMESPACE``, ``NAMESPACE_LABEL_PREFIX``, ``SERVICE_ACCOUNT``), and
hosts are selected by ``NODE_LABEL``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from calico2cilium import ir
from calico2cilium.sets import LabelSet
from calico2cilium.sets.regions import Cube, Region

# --- the label space's keys the emitter writes as Cilium label keys -------------------------------

NAMESPACE: Final = "io.kubernetes.pod.namespace"
"""A pod's namespace (Cilium's ``k8s:io.kubernetes.pod.namespace``)."""
NAMESPACE_LABEL_PREFIX: Final = "io.cilium.k8s.namespace.labels."
"""Prefix of the labels of a pod's namespace."""
SERVICE_ACCOUNT: Final = "io.cilium.k8s.policy.serviceaccount"
"""A pod's service account name."""
NODE_LABEL: Final = "calico2cilium.io/node"
HOST_DEFAULTS: Final = "calico2cilium-host-defaults"
"""The CCNP holding every node's defaults (failsafe ports, profiles), one spec per set of nodes
whose defaults are the same."""
"""The Node label host policies select nodes by (``compile/hosts.py`` says why)."""


@dataclass(frozen=True, slots=True)
class Grant:
    """One rule's share of the allowed region, in two exact forms for the emitter to choose from.

    ``allow``: what Calico allows of the rule's region (the region minus Calico's deny region).
    ``wide``: the rule's whole region; ``wide - allow`` is all denied by Calico, so allowing
    ``wide`` and denying ``wide - allow`` (deny wins in Cilium) means the same, and is the form to
    use when ``allow`` has no Cilium form (e.g. "every protocol but TCP") while ``wide`` and the
    denied part do. ``rule`` is ``None`` for the namespace profiles' part.
    """

    rule: ir.Rule | None
    allow: tuple[Cube, ...]
    wide: tuple[Cube, ...]
    closed: tuple[Cube, ...] | None = None
    """A third form, tried when neither of the others has a Cilium form: ``allow`` widened where
    Cilium cannot write it (an ICMP type set holding type 0, Cilium's wildcard,
    ``CiliumTarget.icmp_type_zero_matches_every_type``, to every type of its family; protocols
    Cilium cannot name to every protocol), to be allowed with ``closed_deny`` denied: Calico
    denies ``closed_deny`` and allows the rest of ``closed - allow`` (``compile/plan.py``
    ``closed_form``)."""
    closed_deny: tuple[Cube, ...] = ()
    description: str = ""
    """Which Calico rule this came from, and what narrowed it (the output spec's ``description``)."""


@dataclass(frozen=True, slots=True)
class Denial:
    """A Calico Deny rule kept as a Cilium deny rule (``compile/structure.py``): every flow in
    ``cubes`` is denied by Calico, and ``cubes`` hold every flow the rule itself denies (or, for a
    Kubernetes NetworkPolicy's companion, what Cilium's reading of it allows and Calico denies)."""

    rule: ir.Rule | None
    cubes: tuple[Cube, ...]
    description: str
    within: tuple[Cube, ...] = ()
    """With ``taken``, how far the emitter may widen ``cubes`` (``cilium/cover.py``, ``Bound``):
    the flows of ``within`` that no cube of ``taken`` holds, a set holding ``cubes``. Calico denies
    each of them (a Deny's region ``M(d)`` less what the rules before it allow or pass on), or,
    for a partly narrowed Deny (C2C353), its diagnostic says Cilium denies them. Empty: exactly
    ``cubes``."""
    taken: tuple[Cube, ...] = ()
    other: Denial | None = None
    """Another exact writing of the same rule (an absorbed Deny's ``D(d)``): the emitter writes
    whichever takes fewer specs."""


@dataclass(frozen=True, slots=True)
class L7Grant:
    """What one http rule needs in Cilium: an L7 HTTP filter over ``exact`` (``L_R``), which may
    be written over any of ``forms`` (each holds ``exact`` and stays inside ``E_R | A0``). An
    empty ``exact``: the rules after it allow everything it reaches, so it needs nothing
    (``compile/http.py``)."""

    rule: ir.Rule
    http: ir.HttpMatch
    exact: tuple[Cube, ...]
    forms: tuple[tuple[Cube, ...], ...]


@dataclass(frozen=True, slots=True)
class PolicyPlan:
    """What one output policy must do, per direction it governs."""

    policy: ir.Policy
    subject: LabelSet
    allow: dict[ir.Direction, list[Grant]] = field(default_factory=dict)
    deny: dict[ir.Direction, list[Denial]] = field(default_factory=dict)
    """Calico Deny rules kept as Cilium deny rules, per direction (structure-preserving directions)."""
    open: set[ir.Direction] = field(default_factory=set)
    """Directions in which the output must not put the subject in default deny
    (``enableDefaultDeny: false``): Calico never drops its traffic at the end of a tier."""
    l7: dict[ir.Direction, list[L7Grant]] = field(default_factory=dict)
    """HTTP filters the output must add (``compile/http.py``), per direction."""
    native: dict[ir.Direction, tuple[Cube, ...]] | None = None
    """For a Kubernetes NetworkPolicy, which Cilium enforces itself: what Cilium's own reading of
    it allows (``ipBlock`` never matches pods or nodes there), per direction."""


@dataclass(frozen=True, slots=True)
class HostPlan:
    """What one node's host policy must do."""

    node: str
    endpoints: tuple[ir.HostEndpoint, ...]
    label_value: str
    """The node's ``NODE_LABEL`` value."""
    governed: set[ir.Direction] = field(default_factory=set)
    """Directions in which Calico does not allow everything: Cilium must select the node there."""
    grants: dict[str, dict[ir.Direction, list[Grant]]] = field(default_factory=dict)
    """Per source policy (``Origin.resource``), its share of the allowed region (its allow rules'
    regions minus Calico's deny region)."""
    policies: dict[str, ir.Policy] = field(default_factory=dict)
    named_ports: list[ir.Rule] = field(default_factory=list)
    """Ingress rules whose named destination ports were resolved to the endpoint's port numbers."""
    defaults: dict[ir.Direction, list[Grant]] = field(default_factory=dict)
    """Failsafe ports and what the profile allows after every tier passed."""

    @property
    def first(self) -> ir.HostEndpoint:
        return self.endpoints[0]

    @property
    def resource_name(self) -> str:
        """The output policy holding the node's defaults."""
        return HOST_DEFAULTS


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the emitter writes: the policies, the profile's part, the host policies, the
    network sets (as CIDR groups) and the documents passed through unchanged."""

    policies: tuple[PolicyPlan, ...] = ()
    profile_allow: dict[ir.Direction, list[Grant]] = field(default_factory=dict)
    """Allowed after every tier passed (Calico's namespace profiles), per direction."""
    denied: dict[ir.Direction, Region] = field(default_factory=dict)
    """Calico's deny region per direction; in a structure-preserving direction only its part
    inside the Kubernetes NetworkPolicies' native readings (all the emitter asks about)."""
    hosts: tuple[HostPlan, ...] = ()
    network_sets: tuple[ir.NetworkSet, ...] = ()
    passthrough: tuple[dict[str, Any], ...] = ()
    """Documents the output carries unchanged (Kubernetes NetworkPolicies)."""
