"""review10: adversarial review of memory2 (documents lowered as read, duplicates by digest)."""

from __future__ import annotations

from pathlib import Path

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


NP = (
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: db NS}\n"
    "spec: {selector: app == 'db', ingress: [{action: Allow, protocol: TCP, destination: {ports: [PORT]}}]}\n"
)


@pytest.mark.parametrize("keep_input", [True, False])
def test_a_copy_without_namespace_is_the_object_in_the_default_namespace(keep_input: bool) -> None:
    # With -n prod (default_namespace), a NetworkPolicy 'db' without metadata.namespace and one
    # in namespace prod are one object (kubectl apply -n prod writes both to prod/db; the last
    # wins). Was: two identities, both converted (the second renamed db-2, C2C318), so the
    # output allowed ports 80 and 81 while the cluster holds one of the two policies.
    import calico2cilium

    text = (
        NP.replace(" NS", "").replace("PORT", "81")
        + "---\n"
        + NP.replace(" NS", ", namespace: prod").replace("PORT", "80")
    )
    result = calico2cilium.convert(text=text, default_namespace="prod", keep_input=keep_input)
    assert "C2C224" in [d.code for d in result.diagnostics]
    # Neither copy is converted; their quarantine (C2C236) denies the pods' ingress and allows nothing.
    (policy,) = [d for d in result.documents if d["kind"] == "CiliumNetworkPolicy"]
    assert "calico2cilium.io/quarantine" in policy["metadata"]["annotations"]
    assert all(set(spec) == {"endpointSelector", "description", "ingressDeny"} for spec in policy["specs"])


def test_verify_reads_a_copy_without_namespace_as_the_object_in_its_namespace(tmp_path: Path) -> None:
    from calico2cilium.cli.verify import read_inputs

    path = tmp_path / "p.yaml"
    path.write_text(
        NP.replace(" NS", "").replace("PORT", "81")
        + "---\n"
        + NP.replace(" NS", ", namespace: prod").replace("PORT", "80")
    )
    inputs = read_inputs([str(path)], [], False, "prod")
    assert [d.code for d in inputs.calico.diagnostics] == ["C2C224"]
    assert [d.code for d in read_inputs([str(path)], [], False, "default").calico.diagnostics] == []
