"""Which documents are the same stored object (C2C224 refuses a resource defined twice).

semantics.md 1.2, tier-prefixed names (libcalico-go/lib/names/policy.go at v3.31.7): up to Calico
v3.31 a policy in tier T is stored as ``T.<name>`` (``crd.projectcalico.org/v1``), and a default-tier
policy's v3 name may omit ``default.``. So v3 ``block`` and v1 ``default.block`` are one object,
while v1 ``sec.block`` and ``default.block`` are two.
"""

from __future__ import annotations

from calico2cilium.load import load

V3 = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: NAME}\nspec: {tier: TIER, selector: all(), ingress: [{action: Allow}]}\n"
V1 = V3.replace("projectcalico.org/v3", "crd.projectcalico.org/v1")
TIER = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: sec}\nspec: {order: 10}\n"


def _doc(template: str, name: str, tier: str) -> str:
    return template.replace("NAME", name).replace("TIER", tier)


def _duplicates(*docs: str) -> list[str]:
    result = load(text="---\n".join([TIER, *docs]), name="p.yaml")
    return [d.message for d in result.diagnostics if d.code == "C2C224"]


def test_v3_default_tier_name_and_its_v1_storage_name_are_one_object() -> None:
    assert _duplicates(_doc(V3, "block", "default"), _doc(V1, "default.block", "default"))


def test_the_same_name_in_two_tiers_is_two_objects() -> None:
    assert not _duplicates(_doc(V1, "sec.block", "sec"), _doc(V1, "default.block", "default"))
    assert not _duplicates(_doc(V3, "sec.block", "sec"), _doc(V3, "block", "default"))


def test_v3_and_v1_forms_of_one_tiered_policy_are_one_object() -> None:
    assert _duplicates(_doc(V3, "sec.block", "sec"), _doc(V1, "sec.block", "sec"))
