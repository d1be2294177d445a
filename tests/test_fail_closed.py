"""Refusals fail closed at the smallest unit (issue 15, item 1): what cannot be converted costs a
rule (or widens a Deny, or a subject), never its policy, so Cilium's default deny holds and the
output only ever denies more than Calico. Each catalogued refusal's failing example is converted
and the verifier proves that Cilium allows no flow Calico denies (``verify(narrowing=True)``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from calico2cilium.convert import convert
from calico2cilium.diagnostics import Severity
from calico2cilium.diagnostics.catalog import CATALOG
from helpers import verify_explained

REFUSALS = ("C2C303", "C2C309", "C2C312", "C2C330", "C2C331", "C2C332", "C2C350")


@pytest.mark.parametrize("code", REFUSALS)
def test_the_catalogued_refusal_fails_closed(code: str, tmp_path: Path) -> None:
    doc = CATALOG[code]
    assert doc.failing is not None
    path = tmp_path / "example.yaml"
    path.write_text(str(doc.failing))
    inventory = None
    if doc.failing_inventory is not None:
        inventory = str(tmp_path / "inventory.yaml")
        (tmp_path / "inventory.yaml").write_text(doc.failing_inventory)
    result = convert([str(path)], inventory=inventory)
    refused = [d for d in result.diagnostics if d.code == code]
    assert refused and all(d.narrowing for d in refused), [d.message for d in refused]
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert all(d.narrowing for d in errors), [d.message for d in errors]
    # The refused policy is still in the output: its pods stay in Cilium's default deny.
    assert result.documents, "a refusal must not drop the policy"
    if code == "C2C350":
        return  # the hostile selectors: tests/test_hostile_inputs.py checks the output
    proof = verify_explained(result)
    assert not proof.counterexamples, proof.render_text()  # no flow Cilium allows and Calico denies
    assert proof.status in ("narrowed", "incomplete"), proof.render_text()


GNP = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n{spec}---\n"


def _narrowed(spec: str, said: str) -> None:
    """``spec`` in a GlobalNetworkPolicy converts with one narrowing C2C303 whose message holds
    ``said``, and the verifier proves the output only narrows."""
    text = GNP.format(name="p", spec=spec)
    result = convert(text=text, name="in.yaml", pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",))
    [diagnostic] = [d for d in result.diagnostics if d.code == "C2C303"]
    assert diagnostic.narrowing and said in diagnostic.message
    proof = verify_explained(result, result.cluster)
    assert proof.status == "narrowed", proof.render_text()


def test_a_refused_deny_is_widened_not_dropped() -> None:
    # The Deny's peer selector needs an inventory; dropped, it would let the Allow after it allow
    # everything. Widened to "deny from everyone", Cilium denies all ingress of the app=db pods.
    _narrowed(
        "  selector: app == 'db'\n  ingress:\n  - action: Deny\n    source: {selector: app contains 'we'}\n"
        "  - action: Allow\n",
        "converted as a Deny without its source",
    )


def test_a_refused_subject_is_widened_with_only_its_denies() -> None:
    _narrowed(
        "  selector: app contains 'd'\n  ingress:\n  - action: Deny\n    protocol: TCP\n  - action: Allow\n",
        "its subject is widened to",
    )


def test_a_rule_and_a_policy_that_decide_nothing_are_named() -> None:
    # Issue 15 item 5: an Allow after an Allow-all decides nothing (C2C351, naming the rule before
    # it); a later policy whose rules all match traffic already decided is said once (C2C352).
    text = GNP.format(
        name="first", spec="  order: 1\n  selector: all()\n  ingress:\n  - action: Allow\n  - action: Deny\n"
    ) + GNP.format(name="second", spec="  order: 2\n  selector: app == 'db'\n  ingress:\n  - action: Deny\n")
    result = convert(text=text, name="in.yaml")
    by_code = {d.code: d.message for d in result.diagnostics if d.code in ("C2C351", "C2C352")}
    assert "GlobalNetworkPolicy first ingress.1" in by_code["C2C351"]
    assert "overlapping GlobalNetworkPolicy first ingress.0" in by_code["C2C351"]
    assert by_code["C2C352"].startswith("GlobalNetworkPolicy second decides nothing in ingress")
    assert "(overlapping GlobalNetworkPolicy first ingress.0" in by_code["C2C352"]  # what shadows it


def test_a_policy_an_earlier_pass_makes_unreachable_is_named_with_the_pass() -> None:
    # Issue 15 item 5, the Pass half: a later policy of the tier never sees the traffic an earlier
    # Pass sent on to the next tier (was: an empty shell without a word).
    tier = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: sec}\nspec: {order: 10}\n---\n"
    text = (
        tier
        + GNP.format(
            name="sec.pass",
            spec="  tier: sec\n  order: 5\n  selector: app == 'web'\n  types: [Egress]\n  egress: [{action: Pass}]\n",
        )
        + GNP.format(
            name="sec.later",
            spec="  tier: sec\n  order: 50\n  selector: app == 'web'\n  types: [Egress]\n  egress: [{action: Deny}]\n",
        )
    )
    result = convert(text=text, name="in.yaml")
    [message] = [d.message for d in result.diagnostics if d.code == "C2C352"]
    assert message.startswith("GlobalNetworkPolicy sec.later decides nothing in egress")
    assert "(overlapping GlobalNetworkPolicy sec.pass egress.0)" in message
