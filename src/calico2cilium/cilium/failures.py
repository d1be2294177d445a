"""What the emitter could not write (``rulekit.EmitFailure``), said as diagnostics."""

from __future__ import annotations

from calico2cilium.cilium.named_protocols import PartlyNamed
from calico2cilium.cilium.rulekit import DeniedWider, EmitFailure
from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
from calico2cilium.diagnostics.http_rules import refused


def failure_diagnostic(failure: EmitFailure) -> Diagnostic:
    """C2C310 (or C2C315 for an http filter): what the emitter could not write, and what Cilium
    does instead."""
    err = failure.error
    if failure.http and failure.rule is not None:
        return refused(failure.rule, err)
    detail = err.detail or err.operator
    hint = "rewrite the rule or the rules before it so the allowed region is expressible"
    left_out = "it is left out, so Cilium denies it"
    if isinstance(err, PartlyNamed):
        left_out = (
            "Cilium allows its TCP, UDP, SCTP and ICMP flows, and its flows of"
            f" {err.lost_said} are left out, so Cilium denies those"
        )
    if failure.rule is not None:
        source = failure.rule.origin.source
        message = (
            f"{failure.rule.origin}: the part of the traffic this rule allows, after earlier rules and"
            f" policies took theirs, has no exact Cilium form ({detail}); {left_out}"
        )
    elif failure.policy is not None and isinstance(err, DeniedWider):
        source = failure.policy.origin.source
        message = (
            f"{failure.policy.origin.resource} is kept for Cilium to enforce, and Calico denies part of"
            f" what it allows (an earlier Calico Deny); no Cilium deny rule says exactly that part"
            f" ({detail}), so the companion policy denies those peers on every protocol and port:"
            " Cilium denies more than Calico there"
        )
        hint = "narrow the Kubernetes NetworkPolicy, or the Calico rules before it, so the denied part is expressible"
        return make("C2C310", message, source, hint=hint, narrowing=True)
    elif failure.policy is not None:
        source = failure.policy.origin.source
        message = (
            f"{failure.policy.origin.resource} is kept for Cilium to enforce, and Calico denies part of"
            f" what it allows (an earlier Calico Deny); no Cilium deny rule says exactly that part"
            f" ({detail}), so Cilium allows it"
        )
        hint = "narrow the Kubernetes NetworkPolicy, or the Calico rules before it, so the denied part is expressible"
    else:
        source = None
        message = (
            "traffic allowed after every tier passed (the namespace profiles): part of it has no exact"
            f" Cilium form ({detail}); {left_out}"
        )
    # Left out: Cilium denies it (fails closed); a kept Kubernetes NetworkPolicy's part: it allows it.
    return make(
        "C2C310", message, source, hint=hint, narrowing=failure.rule is not None or failure.policy is None
    )
