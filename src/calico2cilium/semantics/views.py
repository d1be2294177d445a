"""How each side sees an endpoint's labels: label keys mapped onto the facts of the flow world.

Calico and Cilium decorate a pod with different derived labels. Both views below read the same
facts (pod labels, namespace name and labels, service account name and labels), so a Calico
selector and a Cilium selector are compared on the same pod by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from calico2cilium.semantics.expr import (
    FALSE,
    TRUE,
    Attr,
    Entity,
    Expr,
    IsApiserver,
    IsKind,
    Present,
    StrOp,
    StrShorter,
    StrTest,
    and_,
    const,
    or_,
)
from calico2cilium.semantics.world import NAMESPACE_NAME_LABEL, str_test


class Unsupported(Exception):
    """A construct the semantics does not model (yet). Reported, never guessed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LabelTerm:
    """A label as one side sees it: when it exists, and where its value comes from.

    ``attr`` is the fact holding the value; ``None`` means the value is the constant ``value``.
    """

    present: Expr
    attr: Attr | None = None
    value: str = ""

    def has(self) -> Expr:
        return self.present

    def test(self, op: StrOp, operand: str) -> Expr:
        if self.attr is None:
            return and_(self.present, const(str_test(self.value, op, operand)))
        return and_(self.present, StrTest(self.attr, op, operand))

    def eq(self, operand: str) -> Expr:
        return self.test("eq", operand)


@dataclass(frozen=True)
class EitherLabel(LabelTerm):
    """A key that names different labels on mutually exclusive kinds of identity (e.g. an
    ``any:`` source key: a pod label on pods, a reserved label on nodes)."""

    options: tuple[LabelTerm, ...] = ()

    def has(self) -> Expr:
        return or_(*(o.has() for o in self.options))

    def test(self, op: StrOp, operand: str) -> Expr:
        return or_(*(o.test(op, operand) for o in self.options))


ABSENT = LabelTerm(FALSE)


def _fact(entity: Entity, space: str, key: str = "") -> LabelTerm:
    attr = Attr(entity, space, key)  # type: ignore[arg-type]
    return LabelTerm(Present(attr), attr)


def namespace_label(entity: Entity, key: str) -> LabelTerm:
    """A label of the entity's namespace; ``kubernetes.io/metadata.name`` is always the name (E9)."""
    if key == NAMESPACE_NAME_LABEL:
        return namespace_name(entity)
    return _fact(entity, "ns", key)


def namespace_name(entity: Entity) -> LabelTerm:
    if entity.startswith("ns:"):
        return LabelTerm(TRUE, None, entity[3:])
    return _fact(entity, "nsname")


# --- Calico --------------------------------------------------------------------------------------

CALICO_NAMESPACE = "projectcalico.org/namespace"
CALICO_ORCHESTRATOR = "projectcalico.org/orchestrator"
CALICO_SERVICE_ACCOUNT = "projectcalico.org/serviceaccount"
CALICO_NAME = "projectcalico.org/name"
PCNS, PCSA = "pcns.", "pcsa."


def calico_pod_label(entity: Entity, key: str) -> LabelTerm:
    """A label of a pod's workload endpoint as Calico selectors see it.

    Sources (docs/reference/semantics.md §1.3, "Labels Calico adds"): ``projectcalico.org/namespace`` and
    ``projectcalico.org/orchestrator=k8s`` (workload_endpoint_default.go);
    ``projectcalico.org/serviceaccount`` only when the name is shorter than 63 characters;
    ``pcns.<nslabel>`` and ``pcns.projectcalico.org/name`` from the namespace profile, ``pcsa.*`` from
    the service-account profile (conversion.go ``NamespaceToProfile``/``ServiceAccountToProfile``).
    """
    if key == CALICO_NAMESPACE:
        return namespace_name(entity)
    if key == CALICO_ORCHESTRATOR:
        return LabelTerm(IsKind(entity, "pod"), None, "k8s")
    if key == CALICO_SERVICE_ACCOUNT:
        attr = Attr(entity, "saname")
        return LabelTerm(StrShorter(attr, 63), attr)
    if key.startswith(PCNS):
        rest = key[len(PCNS) :]
        return namespace_name(entity) if rest == CALICO_NAME else namespace_label(entity, rest)
    if key.startswith(PCSA):
        rest = key[len(PCSA) :]
        return _fact(entity, "saname") if rest == CALICO_NAME else _fact(entity, "sa", rest)
    return _fact(entity, "pod", key)


def calico_set_label(labels: dict[str, str], namespace: str | None, key: str) -> LabelTerm:
    """A label of a NetworkSet (``namespace`` set) or GlobalNetworkSet as Calico selectors see it.

    Namespaced sets get ``projectcalico.org/namespace`` and inherit the namespace profile's
    ``pcns.*`` labels (docs/reference/semantics.md §1.6, networksetprocessor.go).
    """
    if namespace is not None:
        if key == CALICO_NAMESPACE:
            return LabelTerm(TRUE, None, namespace)
        if key.startswith(PCNS):
            rest = key[len(PCNS) :]
            if rest == CALICO_NAME:
                return LabelTerm(TRUE, None, namespace)
            return namespace_label(f"ns:{namespace}", rest)
    if key in labels:
        return LabelTerm(TRUE, None, labels[key])
    return ABSENT


def calico_const_label(labels: dict[str, str], key: str) -> LabelTerm:
    """A label of an endpoint whose labels are all known (a HostEndpoint)."""
    return LabelTerm(TRUE, None, labels[key]) if key in labels else ABSENT


# --- Cilium --------------------------------------------------------------------------------------

CILIUM_NAMESPACE = "io.kubernetes.pod.namespace"
CILIUM_NS_LABELS = "io.cilium.k8s.namespace.labels."
CILIUM_SERVICE_ACCOUNT = "io.cilium.k8s.policy.serviceaccount"
CILIUM_CLUSTER = "io.cilium.k8s.policy.cluster"
RESERVED_KINDS = {"host": "host", "remote-node": "remote-node", "world": "world"}

# Cilium's default identity-label filter (pkg/labelsfilter/filter.go ``defaultLabelPrefixCfg``,
# extended per docs/reference/semantics-check.md claim 2 / E8). A label is kept when the longest matching include is
# longer than the shortest matching ignore, or when no ignore matches. Patterns match at the start.
_INCLUDE = (r"io\.kubernetes\.pod\.namespace", r"io\.cilium\.k8s\.namespace\.labels", r"app\.kubernetes\.io")
_IGNORE = (
    r"io\.kubernetes",
    r"kubernetes\.io",
    r".*beta\.kubernetes\.io",
    r"k8s\.io",
    r"pod-template-generation",
    r"pod-template-hash",
    r"controller-revision-hash",
    r"controller-uid",
    r"annotation.*",
    r"etcd_node",
    r"statefulset\.kubernetes\.io/pod-name",
    r"apps\.kubernetes\.io/pod-index",
    r"batch\.kubernetes\.io/job-completion-index",
    r"batch\.kubernetes\.io/controller-uid",
)


@cache
def cilium_identity_label(key: str) -> bool:
    """Whether a k8s-source label with this key is part of a Cilium security identity (E8)."""
    included = max((m.end() for p in _INCLUDE if (m := re.match(p, key))), default=0)
    ignored = min((m.end() for p in _IGNORE if (m := re.match(p, key))), default=0)
    return ignored == 0 or included > ignored


def split_cilium_key(key: str) -> tuple[str, str]:
    """``source:key`` → (source, key); no source means ``any`` (pkg/policy/api/selector.go)."""
    source, sep, name = key.partition(":")
    return (source, name) if sep else ("any", key)


def cilium_label(entity: Entity, key: str, cluster_name: str) -> LabelTerm:
    """A label of an identity as a Cilium selector sees it (docs/reference/semantics.md §2.2; const.go, utils.go).

    Pods carry k8s-source labels: their filtered own labels and the special namespace, namespace
    label, service-account and cluster labels (user labels under ``io.cilium.k8s`` are removed by
    ``SanitizePodLabels``). Nodes and external addresses carry only reserved labels.
    """
    source, name = split_cilium_key(key)
    if source == "reserved":
        return _reserved(entity, name)
    if source == "k8s":
        return _k8s(entity, name, cluster_name)
    if source == "any":
        k8s, reserved = _k8s(entity, name, cluster_name), _reserved(entity, name)
        if reserved.present == FALSE:
            return k8s
        if k8s.present == FALSE:
            return reserved
        return EitherLabel(or_(k8s.present, reserved.present), options=(k8s, reserved))
    if source in ("cidr", "fqdn", "cidrgroup", "node"):
        raise Unsupported(f"selector keys of source {source!r} ({key!r}) are not modelled")
    return ABSENT  # container:, unspec: ... never on Kubernetes pods


def _reserved(entity: Entity, name: str) -> LabelTerm:
    if name in RESERVED_KINDS:
        return LabelTerm(IsKind(entity, RESERVED_KINDS[name]), None, "")  # type: ignore[arg-type]
    if name == "kube-apiserver":
        return LabelTerm(IsApiserver(entity), None, "")
    if name in ("world-ipv4", "world-ipv6"):
        raise Unsupported(f"selector on reserved:{name} (dual-stack world identities) is not modelled")
    return ABSENT  # health, init, ingress, unmanaged: not in the flow world


def _k8s(entity: Entity, name: str, cluster_name: str) -> LabelTerm:
    if name == CILIUM_NAMESPACE:
        return namespace_name(entity)
    if name.startswith(CILIUM_NS_LABELS):
        if not cilium_identity_label(name):
            return ABSENT
        return namespace_label(entity, name[len(CILIUM_NS_LABELS) :])
    if name == CILIUM_SERVICE_ACCOUNT:
        return _fact(entity, "saname")
    if name == CILIUM_CLUSTER:
        return LabelTerm(IsKind(entity, "pod"), None, cluster_name)
    if name.startswith("io.cilium.k8s") or not cilium_identity_label(name):
        return ABSENT
    return _fact(entity, "pod", name)
