"""``convert --verify``: the verifier's verdict on one conversion.

Without string tests expanded against an inventory, that is the proof (``verify``) of the output
against the input, and, given an inventory, the concrete engine's check over it.

An output with selectors expanded against an inventory (C2C316) is exact only for label values the
inventory holds, so the proof against the original input rightly finds flows of pods labelled
otherwise: a difference the user was warned about, not a finding. Two checks then cover everything
else, without weakening either engine:

- the proof (symbolic, every flow) against the input *as the conversion read it*, each expanded
  selector field replaced by its ``in {...}`` form (``ConvertResult.expanded_input``): every other
  part of the conversion is proven, for every labelling;
- the concrete engine over the inventory against the *original* input: the expansion itself is
  checked there, with the verifier's own semantics of ``contains``/``starts with``/``ends with``,
  on every pod of the inventory.

Both must pass for the verdict to be "equivalent on the inventory".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from calico2cilium.diagnostics import Diagnostic
from calico2cilium.facts.cluster import Services
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import Status, VerifyResult, verify, verify_inventory
from calico2cilium.verify.attribution import Attribution
from calico2cilium.verify.concrete import ConcreteResult


@dataclass
class ConversionCheck:
    proof: VerifyResult
    """Against the expanded input when ``expanded``, else against the input."""
    concrete: ConcreteResult | None = None
    """The original input against the output over the inventory (``None``: no inventory)."""
    expanded: int = 0
    """How many selector fields were expanded against the inventory."""

    @property
    def status(self) -> Status:
        if self.proof.status != "equivalent":
            return self.proof.status
        if self.concrete is not None and not self.concrete.equivalent:
            return "different"
        return "equivalent"

    @property
    def equivalent(self) -> bool:
        return self.status == "equivalent"

    def render_text(self) -> str:
        report = self.proof.render_text()
        if self.expanded and self.status == "equivalent":
            _, _, rest = report.partition("\n")
            report = (
                "EQUIVALENT ON THE INVENTORY: proven for every flow against the Calico input with its"
                f" {self.expanded} string-test selector field(s) expanded against the inventory (C2C316),"
                " and the original selectors decide every flow of the inventory the same way. Pods or"
                " namespaces with label values outside the inventory are decided differently (the"
                " snapshot).\n" + rest
            )
        elif self.expanded:
            report += (
                f"\n\nThe proof is against the Calico input with {self.expanded} string-test selector"
                " field(s) expanded against the inventory (C2C316)."
            )
        if self.concrete is not None:
            report += "\n\nInventory (concrete engine, original Calico input): " + self.concrete.render_text()
        return report


def with_inventory_services(assumptions: Assumptions, inventory: Any) -> Assumptions:
    """``assumptions`` with the inventory's Service objects as given, unless they already name
    some: a conversion read them for ``services`` matches, so the proof takes the same objects
    (an assumption the report names)."""
    if assumptions.services is not None:
        return assumptions
    return replace(assumptions, services=Services.of(inventory))


def check_conversion(
    result: Any,
    assumptions: Assumptions,
    findings: Sequence[Diagnostic] | None = None,
    **options: Any,
) -> ConversionCheck:
    """The verdict on a ``ConvertResult`` (``options`` go to ``verify``). A conversion whose
    diagnostics say it fails closed somewhere (``attribution.is_narrowing``) is checked for that:
    Cilium must allow nothing Calico denies (``verify(narrowing=True)``), and every flow it denies
    more must be explained by one of those findings (``attribution``): one that is not makes the
    verdict ``different`` (C2C414). ``findings``: the run's diagnostics (default: the
    conversion's; ``convert`` adds those it made reading the input, C2C232 among them)."""
    expanded = len(result.expansions)
    given = list(result.diagnostics if findings is None else findings)
    loaded = result.loaded
    attribution = (
        Attribution(given, loaded.documents, [*loaded.rejected, *loaded.refused])
        if loaded is not None
        else Attribution(given, [])
    )
    if attribution:
        options.setdefault("narrowing", True)
        options.setdefault("attribute", attribution)
    calico = result.expanded_input() if expanded else result.loaded
    if result.inventory is not None:
        assumptions = with_inventory_services(assumptions, result.inventory)
    proof = verify(calico, result.documents, assumptions, **options)
    concrete = None
    if result.inventory is not None:
        namespace = str(options.get("default_namespace", "default"))
        concrete = verify_inventory(
            result.loaded, result.documents, result.inventory, assumptions, default_namespace=namespace
        )
    return ConversionCheck(proof, concrete, expanded)
