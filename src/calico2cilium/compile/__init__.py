"""Lowering passes from the policy IR towards Cilium: ordering, selector normal forms, sets."""

from calico2cilium.compile.ordering import (
    Action,
    AfterTiers,
    Decision,
    DefaultAction,
    EndOfTier,
    OrderingResult,
    PolicySpec,
    RuleSpec,
    TierSpec,
    compile_ordering,
)

__all__ = [
    "Action",
    "AfterTiers",
    "Decision",
    "DefaultAction",
    "EndOfTier",
    "OrderingResult",
    "PolicySpec",
    "RuleSpec",
    "TierSpec",
    "compile_ordering",
]
