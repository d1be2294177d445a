"""Which documents are the same stored object (C2C224 refuses a resource defined twice with different
content; C2C225 keeps one of two copies with the same content).

docs/reference/semantics.md §1.2, tier-prefixed names (libcalico-go/lib/names/policy.go at v3.31.7): up to Calico
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
    return [d.message for d in result.diagnostics if d.code in ("C2C224", "C2C225")]


def test_v3_default_tier_name_and_its_v1_storage_name_are_one_object() -> None:
    assert _duplicates(_doc(V3, "block", "default"), _doc(V1, "default.block", "default"))


def test_the_same_name_in_two_tiers_is_two_objects() -> None:
    assert not _duplicates(_doc(V1, "sec.block", "sec"), _doc(V1, "default.block", "default"))
    assert not _duplicates(_doc(V3, "sec.block", "sec"), _doc(V3, "block", "default"))


def test_v3_and_v1_forms_of_one_tiered_policy_are_one_object() -> None:
    assert _duplicates(_doc(V3, "sec.block", "sec"), _doc(V1, "sec.block", "sec"))


def test_copies_with_the_same_content_are_one_policy_kept_once() -> None:
    # Was: both copies dropped (C2C224), so a v3 + crd v1 export converted to nothing of them.
    result = load(text="---\n".join([_doc(V3, "block", "default"), _doc(V1, "default.block", "default")]))
    assert [d.code for d in result.diagnostics] == ["C2C225"]
    assert [d.api_version for d in result.documents] == ["projectcalico.org/v3"]


def test_copies_that_differ_are_both_refused() -> None:
    other = _doc(V1, "default.block", "default").replace("action: Allow", "action: Deny")
    result = load(text="---\n".join([_doc(V3, "block", "default"), other]))
    assert [d.code for d in result.diagnostics] == ["C2C224"]
    assert result.documents == [] and result.has_errors
