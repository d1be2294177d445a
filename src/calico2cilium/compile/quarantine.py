"""What ``--allow-partial`` quarantines: the policies in error, read as far as they can be.

A policy document that is invalid, or given twice with different content (C2C224), is not
converted. Left out of the output, it would stop governing its pods in Cilium, and since Cilium
decides by "some allow and no deny", another policy's allow would then reach what its Deny rules
denied (issue 15). ``--allow-partial`` writes a *quarantine* in its place instead
(``cilium/quarantine.py``): a policy denying every flow of the endpoints the document could
govern, in the directions it could govern. Deny wins over every allow in Cilium, so whatever the
document meant, the output allows nothing it would have denied.

Here each such document is read into a closed ``ir.Policy`` (no rules; ``()`` in each direction
it could govern), over-approximating what cannot be read:

* **subjects**: its selector fields when they parse (``selector``, ``namespaceSelector``,
  ``serviceAccountSelector``; a Kubernetes ``podSelector``), each one that does not (or that is
  missing, or misspelt) taken as selecting everything; the namespace from ``metadata.namespace``,
  else the ``-n`` namespace, else unknown: then the selector applies in every namespace;
* **directions**: ``types`` (``policyTypes``) when it is a valid list; the kind's default from
  its rules when it is absent and the spec has no key the kind does not know (a misspelt ``types``
  could say anything); else both.

A GlobalNetworkPolicy that could apply to host endpoints (no readable ``namespaceSelector`` or
``serviceAccountSelector``) is also handed to the host compiler as refused, which keeps each node
whose host endpoints it selects in host default deny with only the failsafe ports allowed
(``compile/hosts.py``, C2C312), as for any refused GlobalNetworkPolicy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from pydantic import ValidationError

from calico2cilium import ir
from calico2cilium.calico.globalnetworkpolicy import GlobalNetworkPolicySpec
from calico2cilium.calico.networkpolicy import NetworkPolicySpec
from calico2cilium.calico.selector import All, Selector, SelectorError, parse
from calico2cilium.compile.failclosed import closed_policy, widened_policy
from calico2cilium.compile.hosts import applies_to_hosts
from calico2cilium.compile.lower import KNP_ORDER, k8s_selector
from calico2cilium.compile.match import policy_subject
from calico2cilium.io.documents import RawDocument
from calico2cilium.k8s.networkpolicy import KubernetesNetworkPolicySpec, LabelSelector
from calico2cilium.load import LoadResult
from calico2cilium.sets import Inexpressible, LabelSet

POLICY_KINDS = ("NetworkPolicy", "GlobalNetworkPolicy")
KNP_KIND = "KubernetesNetworkPolicy"
_CRD_V1 = "crd.projectcalico.org/v1"
_K8S_GROUP = "networking.k8s.io/"
_DIRECTIONS = ("Ingress", "Egress")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@dataclass(frozen=True, slots=True)
class Suspect:
    """One policy the output quarantines: ``policy`` is closed (no rules) and holds what could be
    read of it; ``why`` says why it is not converted."""

    policy: ir.Policy
    why: str


@dataclass(frozen=True, slots=True)
class Subjects:
    """The endpoints a quarantine denies: pods (in the compiler's label space) and what they are
    in words."""

    pods: LabelSet
    what: str


INVALID = "it is invalid (see the errors at it)"
DEFINED_TWICE = (
    "it is defined twice with different content (C2C224), so which copy the cluster holds is unknown"
)


def suspects(loaded: LoadResult, namespace: str | None) -> tuple[list[Suspect], list[RawDocument]]:
    """The quarantines of what ``load(quarantine=True)`` rejected (invalid documents, refused
    copies, and refused copies lowered before they were found refused); and the rejected
    documents that are not policies, which get none. ``namespace``: the one given for namespaced
    documents without one (``-n``), or ``None``."""
    out: list[Suspect] = []
    others: list[RawDocument] = []
    for rejected, why in ((loaded.rejected, INVALID), (loaded.refused, DEFINED_TWICE)):
        for raw in rejected:
            found = suspect_of(raw, namespace, why)
            if found is None:
                others.append(raw)
            else:
                out.append(found)
    for lowered in loaded.refused_lowered:
        out.extend(Suspect(closed_policy(p), DEFINED_TWICE) for p in lowered.policies)
    return out, others


def suspect_of(raw: RawDocument, namespace: str | None, why: str = INVALID) -> Suspect | None:
    """``raw`` read as a closed policy, or ``None`` when it is not a policy kind."""
    data = _mapping(raw.data) or {}
    kind, api = data.get("kind"), data.get("apiVersion")
    if kind not in POLICY_KINDS:
        return None
    meta = _mapping(data.get("metadata")) or {}
    spec = _mapping(data.get("spec"))
    is_global = kind == "GlobalNetworkPolicy"
    known = _namespace(meta.get("namespace"), namespace)
    where = None if is_global else known
    k8s = not is_global and isinstance(api, str) and api.startswith(_K8S_GROUP)
    name = _name(meta.get("name"), spec, api)
    origin = ir.Origin(KNP_KIND if k8s else kind, name, where, (), raw.source())
    scope = ir.Scope.GLOBAL if is_global else ir.Scope.NAMESPACED
    policy = ir.Policy(
        kind=origin.kind,
        name=name,
        scope=scope,
        namespace=where,
        tier="default",
        order=KNP_ORDER if k8s else ir.NO_ORDER,
        selector=All(),
        origin=origin,
    )
    if spec is None:
        return Suspect(replace(policy, ingress=(), egress=()), why)
    ingress, egress = _k8s_directions(spec) if k8s else _calico_directions(spec, kind, api == _CRD_V1)
    policy = replace(
        policy,
        ingress=() if ingress else None,
        egress=() if egress else None,
        selector=_pods(spec.get("podSelector")) if k8s else _calico(spec.get("selector")),
        namespace_selector=_calico_optional(spec.get("namespaceSelector")) if is_global else None,
        service_account_selector=None if k8s else _calico_optional(spec.get("serviceAccountSelector")),
    )
    return Suspect(policy, why)


def quarantined_subjects(policy: ir.Policy) -> Subjects:
    """The pods a quarantine of ``policy`` denies: its subject when Cilium can say it, else a wider
    one (``failclosed.widened_policy``: string tests and the service-account selector dropped,
    else every pod of its namespace, or every pod)."""
    try:
        return Subjects(policy_subject(policy), _words(policy))
    except Inexpressible:
        wider, what = widened_policy(policy)
        return Subjects(policy_subject(wider), what)


def host_refusals(found: Iterable[Suspect]) -> list[tuple[ir.Origin, Selector]]:
    """The quarantined GlobalNetworkPolicies that could apply to host endpoints, as refused ones
    for ``compile/hosts.py`` (``Lowered.refused_global``)."""
    return [(s.policy.origin, s.policy.selector) for s in found if applies_to_hosts(s.policy)]


def directions(policy: ir.Policy) -> tuple[ir.Direction, ...]:
    """The directions a closed policy governs."""
    return tuple(d for d in ir.Direction if policy.rules(d) is not None)


def _words(policy: ir.Policy) -> str:
    parts = [f"pods matching {policy.selector}"]
    if policy.scope is ir.Scope.NAMESPACED:
        parts.append(f"in namespace {policy.namespace}" if policy.namespace else "in every namespace")
    if policy.namespace_selector is not None:
        parts.append(f"in namespaces matching {policy.namespace_selector}")
    if policy.service_account_selector is not None:
        parts.append(f"with service accounts matching {policy.service_account_selector}")
    return " ".join(parts)


def _mapping(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _namespace(given: Any, default: str | None) -> str | None:
    """The namespace of a namespaced document: ``metadata.namespace``; absent (or empty),
    ``default`` (``-n``); given but invalid, unknown (``None``): the user meant some namespace,
    and neither ``-n`` nor ``default`` is known to be it."""
    if given is None or given == "":
        return default
    if isinstance(given, str) and len(given) <= 63 and _NAMESPACE.fullmatch(given):
        return given
    return None


def _name(value: Any, spec: dict[str, Any] | None, api: Any) -> str:
    """The policy's name as its conversion would have it (a crd v1 ``<tier>.`` prefix stripped,
    ``PolicyResource.policy_name``), or ``"?"`` when it has none (as ``RawDocument.label``)."""
    if not isinstance(value, str) or not value:
        return "?"
    tier = spec.get("tier") if spec is not None else None
    prefix = f"{tier if isinstance(tier, str) and tier else 'default'}."
    if api == _CRD_V1 and value.startswith(prefix) and len(value) > len(prefix):
        return value[len(prefix) :]
    return value


def _calico(value: Any) -> Selector:
    """A Calico ``selector``: parsed; ``all()`` when it is absent or empty (Calico's default), and
    when it cannot be read."""
    found = _calico_optional(value)
    return All() if found is None else found


def _calico_optional(value: Any) -> Selector | None:
    """A Calico selector field that Calico ANDs in only when non-empty (``namespaceSelector``,
    ``serviceAccountSelector``): parsed; ``None`` (no constraint) when it is absent or empty, and
    when it cannot be read."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse(value)
    except SelectorError:
        return None


def _pods(value: Any) -> Selector:
    """A Kubernetes ``podSelector``: absent is every pod (``{}``), and so is one that cannot be read."""
    if value is None:
        return All()
    try:
        return k8s_selector(LabelSelector.model_validate(value))
    except (ValidationError, SelectorError, ValueError):
        return All()


def _readable_types(value: Any) -> set[str] | None:
    """A valid ``types``/``policyTypes`` list as a set, else ``None``."""
    if isinstance(value, list) and value and all(isinstance(t, str) and t in _DIRECTIONS for t in value):
        return set(value)
    return None


@cache
def _known_keys(model: type[Any]) -> frozenset[str]:
    return frozenset(field.alias or name for name, field in model.model_fields.items())


def _calico_directions(spec: dict[str, Any], kind: str, crd_v1: bool) -> tuple[bool, bool]:
    """Which directions a Calico policy could govern (``PolicyResource.effective_types``)."""
    types = spec.get("types")
    if types not in (None, []):
        given = _readable_types(types)
        return (True, True) if given is None else ("Ingress" in given, "Egress" in given)
    model = GlobalNetworkPolicySpec if kind == "GlobalNetworkPolicy" else NetworkPolicySpec
    if crd_v1 or set(spec) - _known_keys(model):
        return True, True
    ingress, egress = bool(spec.get("ingress")), bool(spec.get("egress"))
    return (not egress or ingress), egress


def _k8s_directions(spec: dict[str, Any]) -> tuple[bool, bool]:
    """Which directions a Kubernetes NetworkPolicy could govern (``compile.lower._knp``)."""
    types = spec.get("policyTypes")
    if types not in (None, []):
        given = _readable_types(types)
        return (True, True) if given is None else ("Ingress" in given, "Egress" in given)
    if set(spec) - _known_keys(KubernetesNetworkPolicySpec):
        return True, True
    return True, bool(spec.get("egress"))
