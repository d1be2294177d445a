"""The policy spec and document behaviour shared by NetworkPolicy and GlobalNetworkPolicy.

``PolicySpec`` holds the common fields and checks; ``PolicyResource`` the tier, name and
``types`` defaulting both kinds read the same way, for v3 and crd v1 documents alike.

Sources cited as [V], [CEL], [NS], [PC], [K8S]: listed in the ``calico2cilium.calico`` docstring.
"""

from __future__ import annotations

from typing import Final, Literal, Self

from pydantic import Field, model_validator

from calico2cilium.calico.base import API_CRD_V1, CalicoModel, Resource, Selector, has_global_selector
from calico2cilium.calico.errors import INVALID_CIDR, INVALID_RULE, Problems
from calico2cilium.calico.fields import Items, Order
from calico2cilium.calico.metadata import ObjectMeta
from calico2cilium.calico.rules import Rule

PolicyType = Literal["Ingress", "Egress"]
DEFAULT_TIER: Final = "default"


class PolicySpec(CalicoModel):
    """Fields common to NetworkPolicy and GlobalNetworkPolicy specs."""

    tier: str | None = None
    order: Order = None
    selector: Selector = None
    types: Items[PolicyType] | None = None
    ingress: Items[Rule] = ()
    egress: Items[Rule] = ()
    service_account_selector: Selector = Field(default=None, alias="serviceAccountSelector")
    performance_hints: Items[Literal["AssumeNeededOnEveryNode"]] = Field(default=(), alias="performanceHints")

    def defaulted_types(self) -> tuple[PolicyType, ...]:
        """``types`` as written, or Calico's default when absent or empty.

        Default (field doc of ``Types`` and ``api/pkg/defaults/networkpolicy.go``, by list length):
        Ingress if there are no egress rules; Egress if egress rules but no ingress rules; both
        if both. (Calico ≥ 3.32 in native-CRD mode defaults by key presence instead, so
        ``egress: []`` there gives both; docs/reference/semantics-check.md claim 14a.)
        """
        if self.types:
            return tuple(self.types)
        if not self.egress:
            return ("Ingress",)
        if not self.ingress:
            return ("Egress",)
        return ("Ingress", "Egress")

    def _common_problems(self, problems: Problems) -> None:
        # listType=set on `types` (the API server rejects duplicates; [V] before v3.32 too).
        seen: set[str] = set()
        for index, kind in enumerate(self.types or ()):
            if kind in seen:
                problems.add(("types", index), INVALID_RULE, f"'{kind}' type specified more than once", kind)
            seen.add(kind)
        # [CEL]/[V] global() only in a rule namespaceSelector.
        for key, value in (
            ("selector", self.selector),
            ("serviceAccountSelector", self.service_account_selector),
        ):
            if has_global_selector(value):
                message = "global() can only be used in an EntityRule namespaceSelector"
                problems.add((key,), INVALID_RULE, message, value)
        # [V] validate(Global)NetworkPolicySpec: services only as egress destination or ingress
        # source; no application-layer (http) match on egress rules.
        for index, rule in enumerate(self.egress):
            if rule.source.services is not None:
                loc = ("egress", index, "source", "services")
                problems.add(loc, INVALID_RULE, "services are not allowed in an egress rule source", None)
            if rule.http is not None:
                problems.add(
                    ("egress", index, "http"), INVALID_RULE, "http is not allowed in egress rules", None
                )
        for index, rule in enumerate(self.ingress):
            if rule.destination.services is not None:
                loc = ("ingress", index, "destination", "services")
                problems.add(
                    loc, INVALID_RULE, "services are not allowed in an ingress rule destination", None
                )


class PolicyResource(Resource):
    """Behaviour shared by the NetworkPolicy and GlobalNetworkPolicy documents (v3 and v1)."""

    api_version: str = Field(alias="apiVersion")
    kind: str
    metadata: ObjectMeta
    spec: PolicySpec

    @model_validator(mode="after")
    def _v3_nets(self) -> Self:
        if not self.is_crd_v1:
            problems = Problems(type(self).__name__)
            v3_net_problems(self.spec, problems)
            problems.raise_if_any()
        return self

    @property
    def is_crd_v1(self) -> bool:
        """True for ``crd.projectcalico.org/v1`` objects (Calico's Kubernetes storage form)."""
        return self.api_version == API_CRD_V1

    @property
    def tier_name(self) -> str:
        """``spec.tier``, or ``"default"`` when absent or empty."""
        return self.spec.tier or DEFAULT_TIER

    @property
    def policy_name(self) -> str:
        """The user-facing name.

        Up to Calico v3.31 the Kubernetes backend stored policies as ``<tier>.<name>``
        (``libcalico-go/lib/names/policy.go`` at v3.31.7; docs/reference/semantics.md §1.2): for a v1 object
        whose name starts with ``<tier>.`` the prefix is stripped. v3 names are kept as written.
        """
        name = self.metadata.name
        prefix = f"{self.tier_name}."
        if self.is_crd_v1 and name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
        return name

    def effective_types(self) -> tuple[PolicyType, ...]:
        """The directions the policy governs.

        With ``types`` set: those. Otherwise, for ``projectcalico.org/v3`` input, Calico's
        defaulting on create (``PolicySpec.defaulted_types``). A ``crd.projectcalico.org/v1``
        object is Calico's stored form: defaulting already happened when it was written through
        Calico, and if it was not (``kubectl apply`` of a v1 object), nothing defaults it and
        felix treats empty types as **Ingress and Egress** ("Back compatibility: no Types means
        Ingress and Egress", ``felix/calc/policy_sorter.go``; docs/reference/semantics-check.md claim 14b).
        """
        if self.spec.types:
            return tuple(self.spec.types)
        if self.is_crd_v1:
            return ("Ingress", "Egress")
        return self.spec.defaulted_types()


def v3_net_problems(spec: PolicySpec, problems: Problems) -> None:
    """What Calico's validator refuses in the rule ``nets``/``notNets`` of a v3 document.

    [V] applies two checks to each entry (libcalico-go/lib/validator/v3/validator.go):

    - the field tag ``net`` of ``EntityRule.Nets`` ([PC] ``validate:"omitempty,dive,net"``) is
      ``validateIPNetwork``: ``cnet.ParseCIDROrIP`` and then "correctly masked" (the parsed
      address must equal the network's), so ``10.0.0.1/8`` is refused; a bare address alone
      would pass that tag, as /32 or /128;
    - ``validateRule``'s ``scanNets`` parses every entry again with ``cnet.ParseCIDR`` (Go
      ``net.ParseCIDR``, which needs ``/len``) and reports "invalid CIDR" otherwise, so ``1.2.3.4``
      is refused too.

    A ``crd.projectcalico.org/v1`` object written with ``kubectl`` passes through neither check
    and Felix reads both forms (``Cidr``), so this applies to ``projectcalico.org/v3`` only.
    """
    for direction in ("ingress", "egress"):
        rules: tuple[Rule, ...] = getattr(spec, direction)
        for index, rule in enumerate(rules):
            for loc, cidr in rule.net_entries():
                where = ("spec", direction, index, *loc)
                if cidr.is_bare:
                    message = (
                        f"invalid CIDR {cidr.text!r}: Calico's validator needs a prefix length in rule "
                        f"nets (validateRule parses them with net.ParseCIDR); write {cidr.network}"
                    )
                    problems.add(where, INVALID_CIDR, message, cidr.text)
                elif cidr.has_host_bits:
                    message = (
                        f"invalid CIDR {cidr.text!r}: not strictly masked, which Calico's validator "
                        f"refuses in rule nets (validateIPNetwork); write {cidr.network}"
                    )
                    problems.add(where, INVALID_CIDR, message, cidr.text)
