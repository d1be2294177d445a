"""review11: adversarial review of the dense YAML writer, ICMPv4 family, the merged entities rule,
the failsafe ports read from a FelixConfiguration and the JSON size walk."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from calico2cilium.io.write import DENSE_MIN, dump_yaml
from helpers import verify_explained

# kubectl reads YAML with sigs.k8s.io/yaml, which decodes with go-yaml v2 (its goyaml.v2 fork) into
# interface{} and converts that to JSON: a plain scalar go-yaml resolves to a bool, a number or null
# is no string any more, and a number or bool *key* is turned into a string by formatting it again
# (`1e3` -> "1000", `y` -> "true"). Port of resolve() in gopkg.in/yaml.v2/resolve.go (kubernetes
# vendor/gopkg.in/yaml.v2/resolve.go) and of convertToJSONableObject in sigs.k8s.io/yaml/yaml.go.
_GO_WORDS = {
    **dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"], True),
    **dict.fromkeys(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"], False),
    **dict.fromkeys(["", "~", "null", "Null", "NULL"], None),
    **dict.fromkeys([".nan", ".NaN", ".NAN"], float("nan")),
    **dict.fromkeys([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], float("inf")),
    **dict.fromkeys(["-.inf", "-.Inf", "-.INF"], float("-inf")),
}
_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def _go_parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64) (prefixes 0x, 0o, 0b in either case, a bare leading 0 for
    octal; no range check needed here)."""
    sign, body = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
    bases = {"0x": 16, "0o": 8, "0b": 2}
    base, digits = bases.get(body[:2].lower(), 0), body[2:]
    if not base:
        base, digits = (8, body[1:]) if body.startswith("0") and len(body) > 1 else (10, body)
    # Digits only: Python's int("0O0", 8) takes a prefix that Go's ParseInt("0O0", 8, 64) refuses
    # (so "00O0", a string to go-yaml, was taken for 0 here: a flaky failure, review15).
    if not digits or any(c not in "0123456789abcdef"[:base] for c in digits.lower()):
        return None
    value = int(digits, base)
    return -value if sign == "-" else value


def go_resolve(text: str) -> Any:
    """What go-yaml v2 makes of the plain scalar ``text`` (timestamps stay strings when decoded
    into interface{}, as decode.go keeps them)."""
    if text in _GO_WORDS:
        return _GO_WORDS[text]
    hint = text[:1]
    if hint == ".":
        # strconv.ParseFloat(in, 64): no underscore without a base prefix (Python's float takes
        # '.5_0'); an overflow is a range error, and go-yaml keeps the string (review16).
        if "_" not in text:
            try:
                value = float(text)
            except ValueError:
                return text
            return value if math.isfinite(value) else text
        return text
    if hint and hint in "0123456789+-":
        plain = text.replace("_", "")
        if (value := _go_parse_int(plain)) is not None:
            return value
        if _YAML_STYLE_FLOAT.match(plain) and math.isfinite(float(plain)):
            return float(plain)  # ParseFloat overflowing (7e12345) is an error: a string (review16)
    return text


def _go_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return f"{key:g}"  # FormatFloat(k, 'g', -1, 32): the point is only that it differs
    return str(key)


def kubectl_read(text: str) -> list[Any]:
    """The documents of ``text`` as kubectl's reader would hand them to the API server: plain
    scalars resolved as go-yaml v2 resolves them, keys made strings."""

    def build(node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            return {_go_key(build(k)): build(v) for k, v in node.value}
        if isinstance(node, yaml.SequenceNode):
            return [build(v) for v in node.value]
        assert isinstance(node, yaml.ScalarNode)
        return go_resolve(node.value) if node.style in (None, "") else node.value

    return [build(n) for n in yaml.compose_all(text, Loader=yaml.SafeLoader) if n is not None]


GO_NUMBERS = ["1e3", "1E3", "1e-3", "09", "0o17", "0O17", "0X1F", "0B101", "1_0e5", "y", "n", "N"]


@pytest.mark.parametrize("word", GO_NUMBERS)
def test_a_string_kubectl_reads_as_no_string_is_quoted(word: str) -> None:
    # Was: written plain (PyYAML's YAML 1.1 reads these as strings), so `matchLabels: {1e3: web}`
    # reached the API server as {"1000": "web"} (another label) and `commit: 1e3` as a number.
    assert go_resolve(word) != word
    rows = [{"key": word, "operator": "In", "values": [word, f"v{i}"]} for i in range(DENSE_MIN + 3)]
    document = {
        "kind": "CiliumNetworkPolicy",
        "specs": [{"endpointSelector": {"matchLabels": {word: word}, "matchExpressions": rows}}],
    }
    text = dump_yaml([document])
    assert kubectl_read(text) == [document], text
    assert list(yaml.safe_load_all(text)) == [document]


label_text = st.text(alphabet="0123456789eExXoObB._-+yYnN~", min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(label_text, label_text, min_size=1, max_size=DENSE_MIN + 4))
def test_what_is_written_reads_back_the_same_in_kubectl(labels: dict[str, str]) -> None:
    rows = [{"key": k, "operator": "In", "values": [v]} for k, v in labels.items()]
    document = {"specs": [{"matchLabels": labels, "matchExpressions": rows, "toEntities": list(labels)}]}
    text = dump_yaml([document])
    assert kubectl_read(text) == [document], text


def _traced_peak(text: str) -> tuple[int, list[Any]]:
    import tracemalloc

    from calico2cilium.io.yamlstream import read_documents

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        _, diagnostics = read_documents(text, "big.json")
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return peak, diagnostics


def test_a_json_array_of_scalars_is_refused_in_memory_near_its_size() -> None:
    # A 40 MB JSON array of 20,000,000 numbers took 187 s and 11.8 GB RSS: no container, so the
    # size walk let it through, then each item's C2C201 asked the locator for its position, which
    # composed the whole text as YAML (a node per number), and every item kept its own diagnostic.
    count = 200_000
    text = "[" + ",".join(["1"] * count) + "]"
    peak, diagnostics = _traced_peak(text)
    assert {d.code for d in diagnostics} == {"C2C201"}
    assert (diagnostics[0].source.line, diagnostics[0].source.column) == (1, 2)
    assert len(diagnostics) <= 1_001  # the rest summarised in the last one
    assert "more" in diagnostics[-1].message and f"{count - 1_000:,}" in diagnostics[-1].message
    assert peak < 40 * len(text), peak / len(text)


def test_a_position_in_a_large_json_list_does_not_compose_it_as_yaml() -> None:
    # One positioned diagnostic in a `kubectl get -o json` List composed the whole List as YAML
    # (about 20 times the text; 100 times for compact JSON). A JSON text is scanned instead.
    item = '{"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy", "metadata": {"name": "p%d", "namespace": "x"}, "spec": {"selector": "all()"}}'
    items = [item % i for i in range(20_000)] + [
        '{"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy", "metadata": {"name": "last"}, "spec": {"selector": "all(", "order": 1}}'
    ]
    text = '{"apiVersion": "v1", "kind": "List",\n "items": [\n' + ",\n".join(items) + "]}\n"
    import tracemalloc

    from calico2cilium.load import load

    tracemalloc.start()
    try:
        result = load(text=text, name="list.json")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    bad = [d for d in result.diagnostics if d.code != "C2C361"]
    assert bad and bad[0].source.line == 20_003, [(d.code, d.source) for d in bad]
    # after 'all(' in the string: its quote's column, one for the quote, four characters
    assert bad[0].source.column == text.splitlines()[20_002].index('"all(') + 1 + 1 + 4
    assert peak < 35 * len(text), peak / len(text)  # 22 without the position, 60 with it before


_BMP = st.characters(max_codepoint=0xFFFF, whitelist_categories=("L", "N", "P", "S", "Zs"))
"""Printable characters YAML reads as JSON does: no surrogate escape (what ensure_ascii writes for
a character past U+FFFF), no control or line-separator character."""
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(_BMP, max_size=6)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(_BMP, max_size=5), inner, max_size=4)
    ),
    max_leaves=15,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for step, child in items:
        out.extend(_paths(child, (*prefix, step)))
    return out


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([None, 1, 2]), st.booleans(), st.booleans())
def test_json_positions_are_the_ones_yaml_gives(
    value: Any, indent: int | None, ascii_: bool, key: bool
) -> None:
    import json as json_module

    from calico2cilium.io.locate import Chunk, JsonLocator, Locator

    text = "\n " + json_module.dumps(value, indent=indent, ensure_ascii=ascii_)
    scanned, composed = JsonLocator(text), Locator([Chunk(0, text)])
    for path in [*_paths(value), ("missing",), (99,)]:
        assert scanned.position((0, 0), path, key=key) == composed.position((0, 0), path, key=key), path
        assert scanned.position_in_string((0, 0), path, 1) == composed.position_in_string((0, 0), path, 1)


def test_an_exhausted_budget_leaves_unrelated_namespaces_their_allows() -> None:
    # 8 random NetworkPolicies (~300 lines, review11-budget-heavy.yaml) exhaust the default budget
    # in namespace a1 (C2C350); a trivial policy in namespace 'light', which no Calico rule of the
    # others can reach (NetworkPolicies of other namespaces, no GlobalNetworkPolicy, one tier),
    # then loses its allow too: Cilium denies all ingress cluster-wide. Safe (narrowing, said by
    # C2C350), but an outage for every namespace from one namespace's policies.
    from pathlib import Path

    import calico2cilium

    heavy = (Path(__file__).parent / "data" / "review11-budget-heavy.yaml").read_text()
    light = (
        "---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: web, namespace: light}\n"
        "spec: {selector: app == 'web', ingress: [{action: Allow, protocol: TCP,"
        " source: {selector: app == 'fe'}, destination: {ports: [80]}}]}\n"
    )
    result = calico2cilium.convert(text=heavy + light, endpoint_to_host_action="Accept")
    assert "C2C350" in [d.code for d in result.diagnostics]
    (web,) = [d for d in result.documents if d["metadata"].get("namespace") == "light"]
    assert any("fromEndpoints" in rule for spec in web["specs"] for rule in spec.get("ingress", [])), web
    # Only the component of namespace 09 fails closed (compile/components.py); the output still
    # allows nothing Calico denies.
    (closed,) = [d for d in result.diagnostics if d.code == "C2C350"]
    assert "(namespace 09)" in closed.message and "light" not in closed.message

    assert verify_explained(result).status == "narrowed"


CILIUM_Y = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: ns1}
spec:
  endpointSelector: {matchLabels: {y: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: 1e3}}]
"""


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        (CILIUM_Y, "y, 1e3"),
        (CILIUM_Y.replace("{y: web}", "{'y': web}").replace("1e3", "'1e3'"), None),
        (CILIUM_Y.replace("web}", "yes}"), "y, 1e3"),  # yes: a boolean to both readers, not flagged
    ],
)
def test_a_plain_scalar_kubectl_reads_otherwise_is_warned_about(text: str, flagged: str | None) -> None:
    # `verify` proved a hand-written Cilium policy with `matchLabels: {y: web}` equivalent to
    # Calico's `y == 'web'`; kubectl applies it as {"true": web}, another selector.
    from calico2cilium.load import load

    found = [d for d in load(text=text, name="p.yaml").diagnostics if d.code == "C2C348"]
    if flagged is None:
        assert not found
    else:
        assert len(found) == 1 and f"plain scalar(s) {flagged}:" in found[0].message
        assert (found[0].source.line, found[0].source.column) == (1, 1)


def test_the_warning_is_per_document_and_json_is_never_flagged() -> None:
    from calico2cilium.load import load

    two = CILIUM_Y + "---\n" + CILIUM_Y.replace("{y: web}", "{app: web}").replace("1e3", "x")
    assert [d.source.line for d in load(text=two, name="p.yaml").diagnostics if d.code == "C2C348"] == [1]
    as_json = '{"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "y"}}'
    assert not [d for d in load(text=as_json, name="p.json").diagnostics if d.code == "C2C348"]


def test_dense_rows_keep_mappings_json_writes_alike_apart() -> None:
    # The dense rows' text cache was keyed by json.dumps(item), which writes the keys 1 and "1"
    # alike: the second list was written with the first one's text (int keys, read back as 1).
    rows = [{"k": "v" * 10, 1: "x"}] * DENSE_MIN
    other = [{"k": "v" * 10, "1": "x"}] * DENSE_MIN
    documents = [{"a": rows, "b": other}]
    assert list(yaml.safe_load_all(dump_yaml(documents))) == documents
