"""Review 15's findings in the reading of inputs (each test fails on the code before its fix)."""

from __future__ import annotations

import textwrap

from calico2cilium.convert import convert
from calico2cilium.diagnostics import Severity

DENY_PORT = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  selector: app == 'db'
  ingress:
  - {action: Deny, protocol: TCP, destination: {ports: [PORT]}}
  - {action: Allow}
"""


def _errors(result: object) -> list[tuple[str, str]]:
    return [
        (d.code, d.message.split(":")[0])
        for d in result.diagnostics  # type: ignore[attr-defined]
        if d.severity is Severity.ERROR
    ]


def test_a_plain_scalar_kubectl_reads_as_a_number_in_a_policy_is_an_error() -> None:
    # kubectl (go-yaml v2, strconv.ParseInt base 0) applies 'ports: [0o10]' as port 8; read as the
    # string '0o10', it was converted to a Deny of the named port '0o10', which no pod has:
    # Cilium allowed port 8, which Calico denies, with a warning (C2C348), exit 1, the output
    # written and --verify EQUIVALENT (review15). Now the policy is in error (quarantined with
    # --allow-partial), as any resource the cluster does not hold as read.
    result = convert(text=DENY_PORT.replace("PORT", "0o10"), name="p.yaml")
    assert ("C2C348", "NetworkPolicy shop/db") in _errors(result)
    quarantined = [
        d for d in result.documents if "calico2cilium.io/quarantine" in d["metadata"]["annotations"]
    ]
    assert [d["metadata"]["name"] for d in quarantined] == ["db"]
    assert not [d for d in result.documents if "port" in str(d.get("specs"))]
    # Quoted, it is the string both read: a named port, converted.
    assert _errors(convert(text=DENY_PORT.replace("PORT", "'0o10'"), name="p.yaml")) == []
    # A plain 80 is a number to both.
    assert _errors(convert(text=DENY_PORT.replace("PORT", "80"), name="p.yaml")) == []


def test_only_the_list_items_holding_such_a_scalar_are_in_error() -> None:
    listed = """\
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: keyed, namespace: shop}
  spec:
    podSelector: {matchLabels: {y: web}}
    policyTypes: [Ingress]
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: plain, namespace: shop}
  spec:
    podSelector: {matchLabels: {'n': web}}
    policyTypes: [Ingress]
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: notes, namespace: shop}
  data: {flag: y}
"""
    result = convert(text=listed, name="l.yaml")
    # {y: web} is applied as {"true": web}: another selector. The ConfigMap, skipped, is no error.
    # (The values are looked for per YAML document: a quoted 'y' beside a plain one in the same
    # document would be taken for it, an error too many, gone once the plain one is quoted.)
    assert _errors(result) == [("C2C348", "NetworkPolicy shop/keyed")]


TIE = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: b-deny, namespace: 0ns}
spec:
  selector: app == 'a'
  ingress:
  - {action: Deny, source: {selector: app == 'x'}}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: a-allow}
spec:
  selector: app == 'a'
  ingress:
  - {action: Allow, source: {selector: app == 'x'}}
"""


def test_policies_with_no_order_tie_and_the_tie_is_diagnosed() -> None:
    # Felix maps a missing order to +inf, "which compares equal to itself", and breaks the tie by
    # name (felix/calc/policy_sorter.go PolKVLess): up to v3.31 by the legacy key names
    # '0ns/default.b-deny' < 'default.a-allow' (the Deny first: x -> a denied in 0ns), since
    # v3.32 by 'name/namespace/kind' (the Allow first). The conversion follows the latter and
    # allowed x -> a without a word (C2C311 was given for equal numeric orders only).
    result = convert(text=TIE, name="t.yaml")
    (tie,) = [d for d in result.diagnostics if d.code == "C2C311"]
    assert "no order" in tie.message and "evaluates GlobalNetworkPolicy a-allow first" in tie.message
    # Two allow-only policies cannot change a verdict by their order: no finding.
    both_allow = TIE.replace("action: Deny", "action: Allow")
    assert not [d for d in convert(text=both_allow, name="t.yaml").diagnostics if d.code == "C2C311"]


def _item(name: str, *rules: str) -> str:
    """One NetworkPolicy of namespace shop as an item of a kubectl List export."""
    head = f"- apiVersion: projectcalico.org/v3\n  kind: NetworkPolicy\n  metadata: {{name: {name}, namespace: shop}}\n"
    return (
        head
        + f"  spec:\n    selector: app == '{name}'\n    ingress:\n"
        + "".join(f"    - {r}\n" for r in rules)
    )


EXPORT = (
    "apiVersion: v1\nitems:\n"
    + _item("a", "{action: Allow, source: {selector: app == 'x'}}")
    + _item("b", "{action: Deny, source: {selector: app == 'x'}}", "{action: Allow}")
    + 'kind: List\nmetadata:\n  resourceVersion: ""\n'
)


def test_a_kubectl_export_cut_short_quarantines_its_policies() -> None:
    # kubectl writes 'kind: List' after the items: an export cut short (a full disk, a broken
    # pipe) keeps items and no kind. It was one resource in error (C2C205) and its policies were
    # not read at all: --allow-partial wrote nothing for them (C2C237), so their pods left
    # Cilium's default deny. Cut after b's Deny, b converted as read would allow all (review15).
    cut = EXPORT[: EXPORT.index("    - {action: Allow}\nkind")]
    result = convert(text=cut, name="export.yaml")
    assert ("C2C205", "a document with 'items' and no 'kind'") in _errors(result)
    names = {d["metadata"]["name"]: d for d in result.documents}
    assert set(names) == {"a", "b"}
    assert all("calico2cilium.io/quarantine" in d["metadata"]["annotations"] for d in names.values())
    # Whole, it converts; a mapping with items and no apiVersion either is no manifest, as before.
    assert _errors(convert(text=EXPORT, name="export.yaml")) == []
    plain = convert(text="items: [{a: 1}]\n", name="values.yaml")
    assert [d.code for d in plain.diagnostics if d.severity is Severity.ERROR] == ["C2C205"]


def test_a_policy_with_a_duplicate_key_is_quarantined() -> None:
    # A document with a duplicate key (C2C108) was dropped unread: --allow-partial had no
    # quarantine for it (C2C237, "no kind or name is known", though both were), and its pods left
    # Cilium's default deny. Now its resources are read (the last value wins, as in go-yaml's
    # decoding into a map) and not converted: the policy is quarantined (review15).
    item = _item("a", "{action: Deny, source: {selector: app == 'x'}}", "{action: Allow}")
    twice = textwrap.dedent("  " + item[2:]).replace(
        "spec:\n", "spec:\n  types: [Ingress]\n  types: [Ingress]\n"
    )
    for text, name in ((twice, "p.yaml"), (_as_json(twice), "p.json")):
        result = convert(text=text, name=name)
        assert [code for code, _ in _errors(result)] == ["C2C108"], name
        assert not [d for d in result.diagnostics if d.code == "C2C237"], name
        (quarantine,) = result.documents
        assert quarantine["metadata"]["name"] == "a" and "ingressDeny" in quarantine["specs"][0], name


def _as_json(text: str) -> str:
    """``text``'s one document as JSON, its duplicate key kept (json.dumps would merge them)."""
    import json

    import yaml

    pairs = yaml.compose(text)
    assert pairs is not None

    def dump(node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "{" + ", ".join(f"{dump(k)}: {dump(v)}" for k, v in node.value) + "}"
        if isinstance(node, yaml.SequenceNode):
            return "[" + ", ".join(dump(v) for v in node.value) + "]"
        return json.dumps(node.value)

    return dump(pairs)
