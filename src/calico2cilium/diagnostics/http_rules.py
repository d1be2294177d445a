"""What is said about an http rule: converted to Cilium L7 rules (C2C314), or not (C2C315).

Said by the compiler (a rule whose L7 grant cannot be computed, ``compile/plan.py``) and by the
emitter (a grant no Cilium form can carry, ``cilium/failures.py``), so the wording lives here once.
"""

from __future__ import annotations

from calico2cilium import ir
from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
from calico2cilium.sets import Inexpressible

_ASSUMPTION = (
    "this assumes Calico enforced it with Application Layer Policy (Dikastes and the Envoy sidecar;"
    " pods without the sidecar enforced only the L3/L4 part of the policy)"
)


def converted(rule: ir.Rule, filtered: bool = True) -> Diagnostic:
    """C2C314: an http match became a Cilium L7 HTTP rule (``filtered``), or needed none."""
    source = rule.http.source if rule.http is not None and rule.http.source else rule.origin.source
    if not filtered:
        return make(
            "C2C314",
            f"{rule.origin}: the http match has no effect: the rules after it allow all the traffic it"
            " matches, whatever the request, so it is converted as those plain allows (no L7 rule)",
            source,
            hint="the http match can be deleted, or the broader rule after it narrowed",
        )
    return make(
        "C2C314",
        f"{rule.origin}: the http match is converted to Cilium L7 HTTP rules (toPorts[].rules.http)"
        f" where the rules after it do not allow the traffic anyway; {_ASSUMPTION}. Cilium needs its L7"
        " proxy (enable-l7-proxy) for these rules, accepts the connection, and answers a request that"
        " matches no rule with HTTP 403 instead of dropping it",
        source,
        hint="check that the pods had the ALP sidecar in Calico, and that Cilium's L7 proxy is on",
    )


def refused(rule: ir.Rule, err: Inexpressible) -> Diagnostic:
    """C2C315: an http match that decides traffic has no faithful Cilium form."""
    source = rule.http.source if rule.http is not None and rule.http.source else rule.origin.source
    return make(
        "C2C315",
        f"{rule.origin}: the http match is not converted ({err.detail or err.operator}); the requests"
        " it allows where the rules after it do not are left out, so Cilium denies them. The rest of"
        " the policy is converted",
        source,
        hint="allow the traffic with an L3/L4 rule, or write the Cilium L7 rule by hand",
        narrowing=True,  # only an Allow has an http match (a Deny's is invalid input): it fails closed
    )
