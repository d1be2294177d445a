"""Network sets and host endpoints as Calico rule selectors see them, grouped and indexed.

A rule selector matches the addresses of the sets it selects (docs/reference/semantics.md §1.4,
1.6; felix ``rule_scanner.go``). Evaluating every rule side against every set grows with the
product of the two, so the sets are grouped (a selector cannot tell the members of a group
apart) and indexed by label key: a selector that requires ``k == v`` or ``has(k)`` can only match
groups where that label may have that value or may exist; the others evaluate to false, so they
are skipped without changing the result (``calico_rules.matches_by_ip``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from calico2cilium.semantics.expr import FALSE, TRUE, Expr
from calico2cilium.semantics.views import LabelTerm, calico_const_label, calico_set_label

View = Callable[[str], LabelTerm]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class LabelledSet:
    """A NetworkSet/GlobalNetworkSet (``namespace`` None) or a HostEndpoint (``host=True``): labels
    and the addresses a selector matching it contributes (docs/reference/semantics.md §1.4, 1.6)."""

    labels: Mapping[str, str]
    nets: tuple[Network, ...]
    namespace: str | None = None
    host: bool = False
    ports: tuple[tuple[str, int, int], ...] = ()
    """HostEndpoint named ports: (name, protocol, port)."""


SetGroup = tuple[LabelledSet, tuple[Network, ...]]
"""Sets a selector cannot tell apart (one of them, and the addresses of them all)."""


def group_sets(sets: list[LabelledSet]) -> list[SetGroup]:
    """The sets grouped by what a selector sees of them (``set_view``: labels, namespace, whether a
    host endpoint), in first-seen order. A selector matches all of a group or none of it, so
    ``matches_by_ip`` evaluates it once per group: real sets repeat a few labels (``feed:
    threats``) over many address lists, and host endpoints a few roles over many nodes."""
    groups: dict[object, tuple[LabelledSet, list[Network]]] = {}
    for labelled in sets:
        key = (tuple(sorted(labelled.labels.items())), labelled.namespace, labelled.host)
        found = groups.get(key)
        if found is None:
            groups[key] = (labelled, list(labelled.nets))
        else:
            found[1].extend(labelled.nets)
    return [(first, tuple(nets)) for first, nets in groups.values()]


def set_view(labelled: LabelledSet) -> View:
    if labelled.host:
        return lambda key: calico_const_label(dict(labelled.labels), key)
    return lambda key: calico_set_label(dict(labelled.labels), labelled.namespace, key)


@dataclass
class _KeyIndex:
    """Where one label key stands in each group: absent (left out), a known constant value
    (``by_value``), or present with a value the set view does not fix (``open``, e.g. a namespace
    label of a namespaced set's namespace)."""

    present: set[int] = field(default_factory=set)
    by_value: dict[str, set[int]] = field(default_factory=dict)
    open: set[int] = field(default_factory=set)


Atom = tuple[str, frozenset[str] | None]
"""A requirement every match of a selector meets: label ``key`` exists (``None``) or has one of
the values."""


class SetIndex:
    """The groups of ``sets``, an index of their labels, and a memo of ``matches_by_ip`` per rule
    side (many rules repeat the same side). ``indexed=False``: every group is a candidate and
    nothing is remembered (the plain reading, which the indexed one must equal)."""

    def __init__(self, groups: list[SetGroup], indexed: bool = True) -> None:
        self.groups = groups
        self.views = [set_view(labelled) for labelled, _ in groups]
        self.indexed = indexed
        self.memo: dict[object, Expr] = {}
        self._keys: dict[str, _KeyIndex] = {}

    def _key(self, key: str) -> _KeyIndex:
        found = self._keys.get(key)
        if found is None:
            found = self._keys[key] = _KeyIndex()
            for number, view in enumerate(self.views):
                term = view(key)
                if term.present == FALSE and type(term) is LabelTerm:
                    continue
                found.present.add(number)
                if type(term) is LabelTerm and term.attr is None and term.present == TRUE:
                    found.by_value.setdefault(term.value, set()).add(number)
                else:
                    found.open.add(number)
        return found

    def candidates(self, atoms: list[Atom]) -> list[int]:
        """The groups (by position) that a selector requiring every atom may match: for the others
        one of its conjuncts evaluates to false on the group's labels."""
        if not self.indexed or not atoms:
            return list(range(len(self.groups)))
        chosen: set[int] | None = None
        for key, values in atoms:
            index = self._key(key)
            if values is None:
                allowed = index.present
            else:
                allowed = set(index.open)
                for value in values:
                    allowed |= index.by_value.get(value, set())
            chosen = allowed if chosen is None else chosen & allowed
            if not chosen:
                return []
        return sorted(chosen or ())
