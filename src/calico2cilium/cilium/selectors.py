"""Label cubes (in the compiler's Cilium-key label space) -> Cilium endpoint selectors.

Cilium rewrites selectors before use (docs/reference/semantics.md §2.1, ``ParseToCiliumRule``):

* a CiliumNetworkPolicy's ``endpointSelector`` always gets ``io.kubernetes.pod.namespace=<ns>``;
* its ``fromEndpoints``/``toEndpoints`` get the same unless they name the namespace key (or, from
  1.16, a namespace-label key): so a peer in any namespace must say
  ``io.kubernetes.pod.namespace Exists`` explicitly;
* a CCNP's peer selectors get ``io.kubernetes.pod.namespace Exists`` when they name no namespace.

The functions here write every selector so that the rewrite changes nothing it means.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from calico2cilium.plan import NAMESPACE, NAMESPACE_LABEL_PREFIX, SERVICE_ACCOUNT
from calico2cilium.sets import KeyConstraint, LabelCube, LabelSet, to_kubernetes_selectors
from calico2cilium.sets.coset import CoSet
from calico2cilium.sets.labels import HAS, label_index

_K8S_SOURCE = (NAMESPACE, SERVICE_ACCOUNT)


def _cilium_key(key: str) -> str:
    if key in _K8S_SOURCE or key.startswith(NAMESPACE_LABEL_PREFIX):
        return "k8s:" + key
    return key


def _rekey(selector: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "matchLabels" in selector:
        out["matchLabels"] = {_cilium_key(k): v for k, v in sorted(selector["matchLabels"].items())}
    if "matchExpressions" in selector:
        exprs = []
        for req in selector["matchExpressions"]:
            item: dict[str, Any] = {"key": _cilium_key(req["key"]), "operator": req["operator"]}
            if "values" in req:
                item["values"] = sorted(req["values"])
            exprs.append(item)
        out["matchExpressions"] = sorted(exprs, key=lambda r: (r["key"], r["operator"]))
    return out


def subject_selectors(cube: LabelCube, namespace: str | None) -> list[dict[str, Any]]:
    """``endpointSelector``s whose OR is ``cube`` (pods). For a CNP (``namespace`` given) the
    namespace constraint, which must be ``== namespace``, is left to Cilium's injection; for a
    CCNP a namespace term is always present."""
    kc = cube.get(NAMESPACE)
    if namespace is not None:
        if not kc.is_any:
            if kc != KeyConstraint.eq(namespace):
                raise ValueError(f"subject {cube} is not inside namespace {namespace}")
            cube = LabelCube.of(cube.without(NAMESPACE))
    elif kc.absent:
        # The subjects are pods, and every pod has a namespace. Without a positive namespace term
        # a CCNP's endpointSelector (which gets no namespace injection) could also select
        # non-pod endpoints such as the host (docs/reference/semantics-check.md E7), putting them into default
        # deny; with it, the selector means exactly the pods.
        cube = cube & LabelCube.of({NAMESPACE: HAS})
    return [_rekey(dict(s)) for s in to_kubernetes_selectors(cube)]


def peer_selectors(cube: LabelCube, namespaced_policy: bool) -> list[dict[str, Any]]:
    """``fromEndpoints``/``toEndpoints`` entries whose OR is ``cube`` (pods). A cube that does not
    pin the namespace to a positive value gets ``io.kubernetes.pod.namespace Exists``; every pod has
    a namespace, so it adds no constraint."""
    namespace = cube.get(NAMESPACE)
    if namespace.absent and (namespaced_policy or not namespace.is_any):
        # Every pod has a namespace, so this changes nothing for pods; without it a selector whose
        # namespace terms are all negative (NotIn, DoesNotExist) also matches world, CIDR and host
        # identities (docs/reference/semantics-check.md "Negative-only peer selectors", E7), and a CNP would
        # inject its own namespace into one that names none.
        cube = cube & LabelCube.of({NAMESPACE: HAS})
    return [_rekey(dict(s)) for s in to_kubernetes_selectors(cube)]


WIDEN_LIMIT = 200
"""Cubes ``widened`` works on at most (each try is a subset test against all of them)."""


def _wider(kc: KeyConstraint) -> list[KeyConstraint]:
    """Constraints wider than ``kc`` that are no longer to write, widest first: any value; absent
    allowed too (a ``NotIn`` set); one excluded value fewer. An ``In`` set is only widened by
    merging (``LabelSet``): "absent or in S" would need two selectors."""
    out = [KeyConstraint(True, CoSet(frozenset(), True))]
    if kc.values.cofinite and not kc.absent:
        out.append(KeyConstraint(True, kc.values))  # Exists && NotIn X -> NotIn X
    if kc.values.cofinite:
        out.extend(
            KeyConstraint(kc.absent, CoSet(kc.values.values - {v}, True)) for v in sorted(kc.values.values)
        )
    return out


def widened(cubes: Iterable[LabelCube]) -> tuple[LabelCube, ...]:
    """The same union as ``cubes`` in cubes with fewer or looser terms: each cube's terms are
    dropped or loosened where the result stays inside the union (``LabelSet``'s index checks it
    exactly), then subsumed cubes go. The compiler splits subjects and peers into disjoint
    pieces (``app == 'a' || role == 'b'`` becomes ``app == 'a'`` and ``app != 'a' && role ==
    'b'``); this writes ``role == 'b'`` again, as the input did. Exact: every cube only grows,
    and never past the union."""
    return _widened(tuple(dict.fromkeys(cubes)))


@lru_cache(maxsize=4096)
def _widened(cubes: tuple[LabelCube, ...]) -> tuple[LabelCube, ...]:
    whole = LabelSet.of(cubes)
    if len(whole.cubes) < 2 or len(whole.cubes) > WIDEN_LIMIT:
        return whole.cubes  # one cube cannot grow inside itself
    index = label_index(whole.cubes)
    index.add(whole.cubes)
    out: list[LabelCube] = []
    for cube in whole.cubes:
        for key in cube.label_keys():
            grown = True
            while grown and not cube.get(key).is_any:
                grown = False
                for looser in _wider(cube.get(key)):
                    candidate = LabelCube.of((*cube.without(key), (key, looser)))
                    if not index.leaves_any((candidate,)):
                        cube, grown = candidate, True
                        break
        out.append(cube)
    return LabelSet.of(out).cubes
