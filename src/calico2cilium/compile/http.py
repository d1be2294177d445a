"""Calico ``http`` matches -> the flows on which Cilium must filter HTTP requests.

Calico (docs/reference/semantics.md §1.4): an ``http`` match is evaluated per request by Application Layer Policy
(Dikastes behind the pod's Envoy sidecar), which walks the whole policy set for every request
(projectcalico/calico ``app-policy/checker/check.go`` ``checkRules``: first matching rule decides,
a rule whose ``http`` does not match the request does not match, and evaluation goes on with the
next rule). Cilium (docs/reference/semantics.md §2.3): L7 rules on a port filter requests, and an L3/L4 allow that
covers the same peer and port without L7 rules lets every request through, whatever the peer kind
(endpoints, entities, CIDRs): the proxy ORs the port's rules with the wildcard-port rule of the
L3-only and port-0 allows (``semantics/cilium_l7.py``; the old agent-side ``wildcardL3L4Rules``,
which skipped CIDR rules, is gone); L7 filters of several rules on one port are ORed; deny rules
drop the flow whatever L7 says. The one shape where that fails in some Cilium versions, a plain
allow written as a range or a named port over an L7 port, is never emitted (``cilium/ports.py``,
``cilium/policies.py``).

So at one flow (subject, peer, L4), Calico allows the requests that match the ``http`` of some
http rule reached at that flow (``E_R``: the rule's region minus what the rules and tiers before
it decided or passed), plus every request if the L3/L4 rules, with the http rules left out,
allow the flow (``A0``). The compiler therefore orders with http rules as non-deciding (like
``Log``; ``ordering.py`` reports what each saw as ``E_R``), emits ``A0`` as plain allows, and for
each http rule an L7 rule over ``L_R = E_R - A0``: there, and only there, its requests are
allowed and every other request is refused. That is exact per request:

* where later rules deny all of ``E_R`` (``L_R = E_R``): matching requests allowed, others not;
* where later rules allow all of ``E_R`` (``L_R`` empty): the filter changes nothing, plain allow;
* in between, the flows split: plain allow where later rules allow, L7 where they deny.

The L7 rule may be written over any region ``X`` with ``L_R <= X <= E_R | A0`` (on ``X & A0`` a
plain allow wins anyway); ``forms`` lists such regions, simplest first, for the emitter to pick
one Cilium can say. The emitter also checks that no deny rule and no plain allow of the output
covers part of ``L_R`` (a deny would drop the matching requests, a plain allow would let every
request through).
"""

from __future__ import annotations

from collections.abc import Sequence

from calico2cilium import ir
from calico2cilium.plan import L7Grant
from calico2cilium.sets import Inexpressible
from calico2cilium.sets.index import CubeIndex
from calico2cilium.sets.regions import Cube, Region, subtract_cubes


def http_grant(
    rule: ir.Rule,
    direction: ir.Direction,
    wide: Sequence[Cube],
    effective: Region | None,
    allowed: CubeIndex[Cube],
) -> L7Grant | None:
    """The L7 grant of an http rule (module docstring), ``None`` when it reaches no flow (the
    rules before it decided all of its region).

    ``wide``: the rule's region within its policy's subject; ``effective``: ``E_R``; ``allowed``:
    Calico's allowed region with the http rules left out (``A0``). Raises ``Inexpressible`` when
    the rule decides something that cannot be converted."""
    assert rule.http is not None
    if effective is None or effective.is_empty:
        return None
    exact = tuple(allowed.subtract(list(effective.cubes)))
    if not exact:
        return L7Grant(rule, rule.http, (), ())
    if direction is ir.Direction.EGRESS:
        # Calico docs: "Calico network policy supports restricting traffic based on HTTP methods
        # and paths only for ingress traffic" (calico/network-policy/istio/http-methods); ALP
        # "can restrict only ingress traffic" (calico-enterprise .../alp). What Felix's L3/L4
        # dataplane does with an egress http rule is not established, so it is not guessed.
        raise Inexpressible(
            "http",
            "Calico enforces http matches on ingress only (Application Layer Policy), and what it does"
            " with one on an egress rule is not established",
        )
    for kind, value in rule.http.paths:
        if "?" in value or "#" in value:
            # Dikastes cuts the request path at the first '?' or '#' before comparing
            # (app-policy/checker/match.go matchHTTPPaths), so such a path never matches there.
            raise Inexpressible(
                "http.paths",
                f"the {kind} path {value!r} holds '?' or '#', which Calico's path match never sees",
            )
    forms: list[tuple[Cube, ...]] = []
    outside = subtract_cubes(wide, effective.cubes)
    if not allowed.subtract(outside):
        forms.append(tuple(wide))  # what it misses of E_R was decided before it, all allowed
    forms.append(effective.cubes)
    forms.append(exact)
    unique: list[tuple[Cube, ...]] = []
    for form in forms:
        if form not in unique:
            unique.append(form)
    return L7Grant(rule, rule.http, exact, tuple(unique))


__all__ = ["http_grant"]
