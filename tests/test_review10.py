"""review10: adversarial review of memory2 (documents lowered as read, duplicates by digest)."""

from __future__ import annotations

import pytest

from calico2cilium.load import load

SET = "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata: {name: ext, namespace: prod, labels: {role: ROLE}}\nspec: {nets: [10.1.0.0/16]}\n"
HEP = "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h, labels: {role: ROLE}}\nspec: {node: n1, expectedIPs: [10.9.0.1]}\n"


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize(
    "template",
    [SET, HEP, SET.replace("kind: NetworkSet", "kind: GlobalNetworkSet").replace(" namespace: prod,", "")],
)
def test_copies_whose_labels_differ_are_refused(template: str, keep: bool) -> None:
    # A set's (or host endpoint's) labels decide which rule selectors match it: two copies with
    # one spec and different labels are not one resource. Was: merged as "the same content"
    # (C2C225, spec compared only), the first copy's labels kept, so a rule selecting
    # role == 'trusted' allowed the set's nets though the cluster may hold the 'other' copy.
    text = template.replace("ROLE", "trusted") + "---\n" + template.replace("ROLE", "other")
    result = load(text=text, keep=keep)
    assert [d.code for d in result.diagnostics] == ["C2C224"]
    text = template.replace("ROLE", "trusted") + "---\n" + template.replace("ROLE", "trusted")
    assert [d.code for d in load(text=text, keep=keep).diagnostics] == ["C2C225"]
