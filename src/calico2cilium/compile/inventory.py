"""Expanding ``contains``/``starts with``/``ends with`` against a label inventory (issue 3).

These string tests have no Kubernetes label-selector form (docs/reference/semantics.md §3.3). Given the cluster's
pods and namespaces (``io.inventory``), each test becomes ``k in {the values of k in the inventory
that pass it}`` (``calico.selector.expand_string_tests``), before the selector reaches the DNF.
That is exact for every endpoint whose value of ``k`` is absent or one of the inventory's, and only
for those: the result is a snapshot, and every expanded selector gets a warning (C2C316).

Which values ``k`` can take depends on what the selector is evaluated against, in Calico's own
terms (docs/reference/semantics.md §1.3, labels Calico adds):

- a policy ``selector`` (the subject): workload endpoints, i.e. pods, with the labels Calico adds:
  ``projectcalico.org/namespace`` (the pod's namespace), ``projectcalico.org/serviceaccount`` (the
  service account's name, only when shorter than 63 characters), ``projectcalico.org/orchestrator``
  (``k8s``), ``pcns.<k>`` (the namespace's labels; ``pcns.projectcalico.org/name`` its name) and
  ``pcsa.<k>`` (the service account's labels; ``pcsa.projectcalico.org/name`` its name);
- a rule ``selector``/``notSelector``: the same, plus the NetworkSets and GlobalNetworkSets of the
  input (their labels, and ``projectcalico.org/namespace`` for namespaced ones), which Calico's
  rule selectors match too: their values are known exactly, so they stay exact;
- a ``namespaceSelector``: namespace labels (``kubernetes.io/metadata.name`` included), and
  ``projectcalico.org/name`` for the name; the namespaces of the inventory, of its pods and of the
  input's namespaced NetworkSets.

Service-account selectors (a policy's ``serviceAccountSelector``, a rule's
``serviceAccounts.selector``) are matched against the labels of service accounts, which Cilium
cannot see at all. With the inventory's ServiceAccounts (and the accounts its pods name) a
selector becomes ``projectcalico.org/name in {the names of the accounts it matches}``
(``expand_service_accounts``): Calico gives every account's profile ``pcsa.projectcalico.org/name``
(docs/reference/semantics.md §1.3), so that is the same test on every account of the inventory, and a name test is
what Cilium's ``io.cilium.k8s.policy.serviceaccount`` label can say. Exact on the snapshot only
when no name is matched in one namespace and not in another (the label carries no namespace), and
when no matched name has 63 or more characters (Cilium label values stop at 63); otherwise the
field stays refused, with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from calico2cilium import ir
from calico2cilium.calico.selector import In, Selector, StringTest, expand_string_tests
from calico2cilium.compile import labelspace as ls
from calico2cilium.io.inventory import Inventory

CALICO_MAX_SA_LABEL = ls.CALICO_MAX_SA_LABEL


class Universe(Enum):
    """What a selector field is evaluated against."""

    SUBJECT = "pod"
    PEER = "endpoint"
    NAMESPACE = "namespace"
    SERVICE_ACCOUNT = "service account"


@dataclass(frozen=True)
class Expansion:
    """One selector field rewritten against the inventory: ``terms`` are the replacements."""

    original: Selector
    expanded: Selector
    terms: tuple[tuple[StringTest, In], ...]
    universe: Universe


def _collect(target: dict[str, set[str]], labels: Iterable[tuple[str, str]]) -> None:
    for key, value in labels:
        target[key].add(value)


class LabelValues:
    """The label values of an inventory and of the input's network sets, per Calico key."""

    def __init__(self, inventory: Inventory, network_sets: Sequence[ir.NetworkSet] = ()) -> None:
        self.pod: dict[str, set[str]] = defaultdict(set)
        self.sets: dict[str, set[str]] = defaultdict(set)
        self.namespace: dict[str, set[str]] = defaultdict(set)
        self.service_account: dict[str, set[str]] = defaultdict(set)
        namespaces = set(inventory.namespaces) | {p.namespace for p in inventory.pods}
        accounts = set(inventory.service_accounts) | {
            (p.namespace, p.service_account) for p in inventory.pods
        }
        for pod in inventory.pods:
            _collect(self.pod, pod.labels.items())
            self.pod[ls.CALICO_NAMESPACE].add(pod.namespace)
            self.pod[ls.CALICO_ORCHESTRATOR].add("k8s")
            if len(pod.service_account) < CALICO_MAX_SA_LABEL:
                self.pod[ls.CALICO_SERVICE_ACCOUNT].add(pod.service_account)
        for name in namespaces:
            _collect(self.namespace, inventory.namespace_labels(name).items())
            self.namespace[ls.CALICO_NAMESPACE_NAME].add(name)
        for key in accounts:
            _collect(self.service_account, inventory.service_accounts.get(key, {}).items())
            self.service_account[ls.CALICO_NAMESPACE_NAME].add(key[1])
        for network_set in network_sets:
            _collect(self.sets, network_set.labels)
            if network_set.namespace is not None:
                self.sets[ls.CALICO_NAMESPACE].add(network_set.namespace)
                self.namespace[ls.CALICO_NAMESPACE_NAME].add(network_set.namespace)
                self.namespace[ls.NAMESPACE_NAME_LABEL].add(network_set.namespace)

    def endpoint(self, key: str, with_sets: bool) -> set[str]:
        """Values of ``key`` on pods (as Calico labels them), and on network sets if asked."""
        if key.startswith(ls.CALICO_NS_LABEL):
            return self.namespace.get(key[len(ls.CALICO_NS_LABEL) :], set())
        if key.startswith(ls.CALICO_SA_LABEL):
            return self.service_account.get(key[len(ls.CALICO_SA_LABEL) :], set())
        values = self.pod.get(key, set())
        return values | self.sets.get(key, set()) if with_sets else values

    def of(self, universe: Universe, key: str) -> set[str]:
        if universe is Universe.NAMESPACE:
            return self.namespace.get(key, set())
        return self.endpoint(key, with_sets=universe is Universe.PEER)


class Expander:
    """Expands the string tests of selectors against one inventory."""

    def __init__(self, inventory: Inventory, network_sets: Sequence[ir.NetworkSet] = ()) -> None:
        self.values = LabelValues(inventory, network_sets)
        accounts = set(inventory.service_accounts) | {
            (p.namespace, p.service_account) for p in inventory.pods
        }
        self.accounts = {key: inventory.service_accounts.get(key, {}) for key in sorted(accounts)}

    def expand(self, selector: Selector, universe: Universe) -> Expansion | None:
        """The expansion of ``selector`` (``None`` when it has no string test)."""
        expanded, terms = expand_string_tests(selector, lambda key: sorted(self.values.of(universe, key)))
        if not terms:
            return None
        return Expansion(selector, expanded, tuple(terms), universe)

    def expand_service_accounts(self, selector: Selector) -> Expansion | str:
        """``selector`` (on service-account labels) as ``projectcalico.org/name in {...}``, or why
        that is not exact on the inventory."""
        matched: dict[str, list[str]] = defaultdict(list)
        unmatched: dict[str, list[str]] = defaultdict(list)
        for (namespace, name), labels in self.accounts.items():
            profile = {**labels, ls.CALICO_NAMESPACE_NAME: name}
            (matched if selector.matches(profile) else unmatched)[name].append(namespace)
        clash = sorted(set(matched) & set(unmatched))
        if clash:
            name = clash[0]
            return (
                f"service account '{name}' matches in namespace {matched[name][0]} but not in"
                f" {unmatched[name][0]}, and Cilium's service-account label carries the name only"
            )
        long = sorted(n for n in matched if len(n) >= CALICO_MAX_SA_LABEL)
        if long:
            return (
                f"service account '{long[0]}' has 63 or more characters, more than a Cilium label value holds"
            )
        expanded = In(ls.CALICO_NAMESPACE_NAME, frozenset(matched))
        return Expansion(selector, expanded, (), Universe.SERVICE_ACCOUNT)
