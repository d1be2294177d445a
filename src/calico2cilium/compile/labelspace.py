"""One label space for pods, in Cilium's key names, and Calico selectors mapped into it.

Calico evaluates a workload selector over the pod's labels plus a few it adds itself
(docs/reference/semantics.md §1.3); Cilium exposes the same facts under its own keys (docs/reference/semantics.md §2.2). The
compiler works with Cilium's keys from the start, so a ``LabelCube`` over this space prints
directly as a Cilium selector:

====================================  ==========================================  ==============
Calico selector key                   Cilium pod label key                        note
====================================  ==========================================  ==============
``projectcalico.org/namespace``       ``io.kubernetes.pod.namespace``
``projectcalico.org/serviceaccount``  ``io.cilium.k8s.policy.serviceaccount``
``pcns.projectcalico.org/name``       ``io.kubernetes.pod.namespace``
``pcns.<k>``                          ``io.cilium.k8s.namespace.labels.<k>``
``projectcalico.org/orchestrator``    (always ``k8s`` on pods: evaluated away)
``pcsa.<k>``                          (none: Cilium has no service-account labels)  refused
any other key                         the same key (a pod label)
====================================  ==========================================  ==============

In a ``namespaceSelector`` the keys are namespace labels, and ``projectcalico.org/name`` is the
namespace's name. Results are cached per selector: real policy sets repeat the same few peer
selectors many times, and the sets are immutable values.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from calico2cilium.calico.names import label_value_problems, qualified_name_problems
from calico2cilium.calico.selector import (
    All,
    Atom,
    Eq,
    Global,
    Has,
    In,
    Selector,
    SelectorError,
    map_atoms,
    map_labels,
    negate,
    replace_global,
)
from calico2cilium.plan import NAMESPACE, NAMESPACE_LABEL_PREFIX, SERVICE_ACCOUNT
from calico2cilium.sets import Inexpressible, KeyConstraint, LabelCube, LabelSet, from_selector
from calico2cilium.sets.selectors import STRING_TEST_OPERATORS

SPECIAL_KEYS: Final = (NAMESPACE, SERVICE_ACCOUNT)

CALICO_NAMESPACE: Final = "projectcalico.org/namespace"
CALICO_SERVICE_ACCOUNT: Final = "projectcalico.org/serviceaccount"
CALICO_ORCHESTRATOR: Final = "projectcalico.org/orchestrator"
CALICO_NAMESPACE_NAME: Final = "projectcalico.org/name"
NAMESPACE_NAME_LABEL: Final = "kubernetes.io/metadata.name"
CALICO_NS_LABEL: Final = "pcns."
CALICO_SA_LABEL: Final = "pcsa."

_NEVER: Final = negate(All())
CALICO_MAX_SA_LABEL: Final = 63
"""Calico sets ``projectcalico.org/serviceaccount`` only for names shorter than this: projectcalico/calico
``libcalico-go/lib/backend/k8s/conversion/workload_endpoint_default.go``, ``if
pod.Spec.ServiceAccountName != "" && len(pod.Spec.ServiceAccountName) < 63`` (docs/reference/semantics.md §1.3)."""


# Cilium's default identity-label filter (cilium pkg/labelsfilter/filter.go ``defaultLabelPrefixCfg``;
# docs/reference/semantics-check.md claim 2). Each entry is a Go regexp that counts only when it matches at the
# *start* of the key (``FindStringIndex``, ``res[0] == 0``), so ``!controller-uid`` also drops
# ``controller-uid-x`` and ``!annotation.*`` every key starting with ``annotation``. A label is kept
# when no ignore entry matches, or when the longest matching include is longer than the shortest
# matching ignore (``filterLabels``). ``controller-uid`` and ``batch.kubernetes.io/controller-uid``
# are in main (1.19) but not in every older release: refusing them there too is only a refusal.
_INCLUDED: Final = (
    "io.kubernetes.pod.namespace",
    "io.cilium.k8s.namespace.labels",
    "app.kubernetes.io",
    "io.cilium.k8s.policy.cluster",
)
_IGNORED: Final = (
    "io.kubernetes",
    "kubernetes.io",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/job-completion-index",
    "batch.kubernetes.io/controller-uid",
    "k8s.io",
    "pod-template-generation",
    "pod-template-hash",
    "controller-revision-hash",
    "controller-uid",
    "etcd_node",
)
_ANNOTATION: Final = "annotation"  # `annotation.*`: the match runs to the end of the key
_BETA: Final = "beta.kubernetes.io"  # `.*beta\.kubernetes\.io`: greedy, to its last occurrence


def _ignored_match(key: str) -> int:
    """The length of the shortest ignore entry matching at the start of ``key`` (0: none)."""
    lengths = [len(p) for p in _IGNORED if key.startswith(p)]
    if key.startswith(_ANNOTATION):
        lengths.append(len(key))
    if _BETA in key:
        lengths.append(key.rindex(_BETA) + len(_BETA))
    return min(lengths, default=0)


def is_filtered_label(key: str) -> bool:
    """Whether Cilium's default label filter keeps this k8s label out of identities."""
    ignored = _ignored_match(key)
    included = max((len(p) for p in _INCLUDED if key.startswith(p)), default=0)
    return ignored > 0 and included <= ignored


def _filtered(key: str) -> Inexpressible:
    return Inexpressible(
        "filtered label",
        f"'{key}' is dropped by Cilium's default identity-label filter, so no Cilium selector can"
        " match on it",
    )


def _pod_key(key: str) -> str:
    if key == CALICO_NAMESPACE:
        return NAMESPACE
    if key == CALICO_SERVICE_ACCOUNT:
        return SERVICE_ACCOUNT
    if key.startswith(CALICO_NS_LABEL):
        # ``pcns.projectcalico.org/name`` is the namespace's name, not one of its labels
        # (conversion.go NamespaceToProfile; docs/reference/semantics.md §1.3), as in a namespaceSelector.
        return _namespace_key(key[len(CALICO_NS_LABEL) :])
    if key.startswith(CALICO_SA_LABEL):
        raise Inexpressible(
            "service account labels",
            f"'{key}' selects on service-account labels, which Cilium does not expose on pods",
        )
    if key == NAMESPACE or key.startswith("io.cilium.k8s") or is_filtered_label(key):
        # A pod's own label under io.cilium.k8s is removed (SanitizePodLabels), and one named
        # io.kubernetes.pod.namespace is replaced by the namespace (docs/reference/semantics-check.md claim 2).
        raise _filtered(key)
    return key


def _orchestrator(atom: Atom) -> Selector:
    """Every pod carries ``projectcalico.org/orchestrator == 'k8s'``: evaluate such atoms."""
    key = getattr(atom, "key", None)
    if key == CALICO_ORCHESTRATOR:
        return All() if atom.matches({CALICO_ORCHESTRATOR: "k8s"}) else _NEVER
    return atom


def _cilium_extended_key(key: str) -> str:
    """The key Cilium validates: ``source.key`` (``labels.GetExtendedKeyFrom``). The emitter writes
    the special keys with source ``k8s:`` and the others with none (source ``any``)."""
    special = key in SPECIAL_KEYS or key.startswith(NAMESPACE_LABEL_PREFIX)
    return ("k8s." if special else "any.") + key


def _possible_value(key: str, value: str) -> bool:
    """Whether some pod can match ``key == value`` in Calico and in Cilium. Kubernetes label values
    are validated (IsValidLabelValue), and so are namespace names; Calico sets
    ``projectcalico.org/serviceaccount`` only for names shorter than 63 characters (docs/reference/semantics.md
    1.3; ``workload_endpoint_default.go``: ``len(pod.Spec.ServiceAccountName) < 63``), so a longer
    name never matches in Calico, whatever Cilium's label holds."""
    if key == SERVICE_ACCOUNT and len(value) >= CALICO_MAX_SA_LABEL:
        return False
    return not label_value_problems(value)


def _label_syntax(atom: Atom) -> Selector:
    """Simplify terms no pod can satisfy, exactly, before they reach a Cilium selector.

    Cilium builds every selector with ``labels.NewRequirement``, which validates the extended key
    and each value; on an error ``labelSelectorToRequirements`` returns nil and "the Matches()
    implementation will refuse to match any labels" (cilium ``pkg/policy/api/selector.go``;
    cilium#43771, cilium#47817), and the CRD rejects such ``matchLabels`` values. No pod can carry
    an invalid value, so ``k == v``/``k in {v}`` are false on it and ``!=``/``not in`` true
    (docs/reference/semantics.md §3.3, last rows: "Simplify before emitting"): the value is dropped from the atom.
    A key whose Cilium form is not a valid label key (for example a namespace label longer than 28
    characters, ``k8s.io.cilium.k8s.namespace.labels.<k>`` being limited to 63) has no Cilium form:
    refused."""
    key = getattr(atom, "key", None)
    if key is None:
        return atom
    problems = qualified_name_problems(_cilium_extended_key(key))
    if problems:
        raise Inexpressible(
            "label key",
            f"label key '{key}' has no Cilium selector form: Cilium validates it as"
            f" '{_cilium_extended_key(key)}' ({problems[0]}), and a selector with an invalid key"
            " matches nothing",
        )
    if isinstance(atom, Eq):
        return atom if _possible_value(key, atom.value) else _NEVER
    if isinstance(atom, In):
        return In(key, frozenset(v for v in atom.values if _possible_value(key, v)))
    if isinstance(atom, Has) and key == SERVICE_ACCOUNT:
        raise Inexpressible(
            "service account label",
            "Calico sets projectcalico.org/serviceaccount only for service-account names shorter than"
            f" {CALICO_MAX_SA_LABEL} characters (docs/reference/semantics.md §1.3), while Cilium's {SERVICE_ACCOUNT}"
            " is on every pod, so testing its presence (has(), or a GlobalNetworkPolicy"
            " serviceAccountSelector, which turns all() into has()) has no exact Cilium form",
        )
    return atom


@lru_cache(maxsize=4096)
def pod_labels(selector: Selector) -> LabelSet:
    """The pods a workload ``selector`` matches, in Cilium keys (``global()`` is false for pods)."""
    try:
        mapped = map_labels(map_atoms(replace_global(selector, _NEVER), _orchestrator), _pod_key)
        return from_selector(map_atoms(mapped, _label_syntax))
    except (SelectorError, ValueError) as err:
        raise Inexpressible("selector", str(err)) from err
    except Inexpressible as err:
        raise _as_written(err, selector) from err


def _namespace_key(key: str) -> str:
    if key == CALICO_NAMESPACE_NAME:
        return NAMESPACE
    return _namespace_label(key)


def _namespace_label(key: str) -> str:
    """A namespace label as Cilium names it on pods; the label filter applies to that name too
    (``io.cilium.k8s.namespace.labels.beta.kubernetes.io/x`` is dropped)."""
    cilium = NAMESPACE_LABEL_PREFIX + key
    if is_filtered_label(cilium):
        raise _filtered(cilium)
    return cilium


@lru_cache(maxsize=4096)
def namespace_labels(selector: Selector) -> LabelSet:
    """The pods whose namespace a ``namespaceSelector`` matches (``global()`` is false for pods)."""
    try:
        mapped = map_labels(replace_global(selector, _NEVER), _namespace_key)
        return from_selector(map_atoms(mapped, _label_syntax))
    except (SelectorError, ValueError) as err:
        raise Inexpressible("selector", str(err)) from err
    except Inexpressible as err:
        raise _as_written(err, selector) from err


def _as_written(err: Inexpressible, selector: Selector) -> Inexpressible:
    """The refusal in the user's words: the selector as written, not Cilium's mapped keys
    (``io.cilium.k8s.namespace.labels.name ends with ...``)."""
    if err.operator not in STRING_TEST_OPERATORS:
        return err
    return Inexpressible(
        err.operator,
        f"{selector} uses '{err.operator}', a string test that no Kubernetes label selector can express exactly",
        code=err.code,
        hint=err.hint,
    )


def in_namespace(namespace: str) -> LabelSet:
    return LabelSet.of([LabelCube.of({NAMESPACE: KeyConstraint.eq(namespace)})])


def service_accounts(names: tuple[str, ...]) -> LabelSet:
    """``serviceAccounts.names``: Calico matches ``projectcalico.org/serviceaccount in {names}``
    (docs/reference/semantics.md §1.4, rules.go ``parseServiceAccounts``), a label it sets only for names shorter
    than 63 characters (1.3): longer names never match."""
    possible = tuple(n for n in names if _possible_value(SERVICE_ACCOUNT, n))
    return LabelSet.of([LabelCube.of({SERVICE_ACCOUNT: KeyConstraint.in_(possible)})])


def service_account_name_test(selector: Selector | None) -> tuple[str, ...] | None:
    """The names a service-account selector of the form ``projectcalico.org/name in {...}`` (or
    ``==``) tests, else ``None``. On an account's profile that key is its name (docs/reference/semantics.md §1.3,
    ``pcsa.projectcalico.org/name``); ``compile/inventory.py`` expands label selectors to it.
    ``None`` too when a name has 63 or more characters: Calico matches it, Cilium cannot say it."""
    names: tuple[str, ...] | None = None
    if isinstance(selector, In) and selector.key == CALICO_NAMESPACE_NAME:
        names = tuple(sorted(selector.values))
    elif isinstance(selector, Eq) and selector.key == CALICO_NAMESPACE_NAME:
        names = (selector.value,)
    if names is None or any(len(n) >= CALICO_MAX_SA_LABEL for n in names):
        return None  # a long name matches in Calico (the profile label) but has no Cilium label value
    return names


def with_service_account_label() -> LabelSet:
    """``has(projectcalico.org/serviceaccount)``, what a GlobalNetworkPolicy's ``all()`` becomes
    beside a non-empty serviceAccountSelector (docs/reference/semantics.md §1.1): refused by ``_label_syntax``."""
    return pod_labels(Has(CALICO_SERVICE_ACCOUNT))


def is_all(selector: Selector | None) -> bool:
    return selector is None or isinstance(selector, All)


def mentions_global(selector: Selector | None) -> bool:
    return selector is not None and "global()" in str(selector)


__all__ = [
    "NAMESPACE",
    "NAMESPACE_LABEL_PREFIX",
    "SERVICE_ACCOUNT",
    "Global",
    "Has",
    "in_namespace",
    "is_all",
    "mentions_global",
    "namespace_labels",
    "pod_labels",
    "service_accounts",
]
