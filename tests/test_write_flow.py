"""The YAML writer puts short leaf mappings and lists on one line (``io/write._flowed``): the same
data, a shorter page. A reader must get back exactly what was written, whatever the strings hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from calico2cilium.io.write import DENSE_MIN, LINE_WIDTH, dump_yaml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(
        ["true", "no", "0x1F", "1e3", "k8s:app", "a, b", "{x}", "[y]", "#c", "- z", "'q'", '"d"', ""]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.text(min_size=1, max_size=8), values, max_size=4), min_size=1, max_size=3))
def test_what_is_written_reads_back_the_same(documents: list[dict[str, Any]]) -> None:
    assert list(yaml.safe_load_all(dump_yaml(documents))) == documents


def test_every_fixture_output_reads_back_the_same() -> None:
    cases = sorted(FIXTURES.glob("*/expected.yaml"))
    assert cases
    for path in cases:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert list(yaml.safe_load_all(dump_yaml(documents))) == documents, path


def test_leaves_go_on_one_line_and_metadata_stays_as_kubectl_writes_it() -> None:
    document = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "db", "labels": {"app.kubernetes.io/managed-by": "calico2cilium"}},
        "specs": [
            {
                "endpointSelector": {"matchLabels": {"app": "db"}},
                "ingress": [{"toPorts": [{"ports": [{"port": "5432", "protocol": "TCP"}]}]}],
            }
        ],
    }
    text = dump_yaml([document])
    assert "matchLabels: {app: db}" in text
    assert "- ports: [{port: '5432', protocol: TCP}]" in text
    assert "  labels:\n    app.kubernetes.io/managed-by: calico2cilium\n" in text


def test_a_list_of_one_line_mappings_is_one_line_while_it_fits() -> None:
    short = [{"port": "53", "protocol": "TCP"}, {"port": "53", "protocol": "UDP"}]
    long = [{"port": str(p), "protocol": "TCP"} for p in range(8000, 8006)]
    text = dump_yaml([{"specs": [{"toPorts": [{"ports": short}, {"ports": long}]}]}])
    assert "- ports: [{port: '53', protocol: TCP}, {port: '53', protocol: UDP}]" in text
    assert "    - {port: '8005', protocol: TCP}\n" in text  # too long for one line: a block
    assert max(len(line) for line in text.splitlines()) <= 100


def test_a_long_list_of_scalars_is_one_flow_list_wrapped_at_the_line_width() -> None:
    nodes = [f"node-{i}" for i in range(40)]
    document = {
        "specs": [{"nodeSelector": {"matchExpressions": [{"key": "n", "operator": "In", "values": nodes}]}}]
    }
    text = dump_yaml([document])
    assert "values: [node-0, node-1," in text
    assert len(text.splitlines()) < 12  # not one line per node
    assert list(yaml.safe_load_all(text)) == [document]


def _spec(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "X", "specs": [{"ingressDeny": [{"toEntities": ["all"], "icmps": [{"fields": fields}]}]}]}


def test_a_long_list_of_one_line_mappings_is_packed_and_broken_only_between_items() -> None:
    # libyaml's own wrapping would break inside an item ('{family: IPv4,' / 'type: 4}').
    fields = [{"family": "IPv4", "type": t} for t in range(40)]
    document = _spec(fields)
    text = dump_yaml([document])
    assert list(yaml.safe_load_all(text)) == [document]
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if "fields: [" in line)
    column = lines[first].index("[") + 1
    body = lines[first : first + 1 + next(i for i, line in enumerate(lines[first:]) if line.endswith("]"))]
    assert 5 < len(body) < 20  # several items to a line
    for line in body:
        assert len(line) <= LINE_WIDTH
        items = line[column:].rstrip(",]").removeprefix("[")
        assert items.startswith("{family: IPv4, type: ") and items.endswith("}"), line
    assert all(line[:column].isspace() for line in body[1:])  # continuation aligned after the '['


def test_dense_rows_read_back_the_same_where_they_stand() -> None:
    rows = [{"port": str(p), "protocol": "TCP"} for p in range(DENSE_MIN)]
    documents = [
        {"a": [[{"k": i} for i in range(30)]], "b": {"c": {"d": rows}}},  # in a list, deep in mappings
        {"e": [{"x": "y: z", "q": "it's"} for _ in range(DENSE_MIN)]},  # scalars that need quotes
        {"f": [{"n": "v" * 120} for _ in range(DENSE_MIN)]},  # an item longer than a line
        {"g": [{"s": "a\nb"} for _ in range(DENSE_MIN)]},  # an item with no one-line text: a block
    ]
    text = dump_yaml(documents)
    assert list(yaml.safe_load_all(text)) == documents
    assert "c2c-dense-" not in text


def test_a_string_like_the_placeholder_is_written_as_it_is() -> None:
    # The placeholders hold a nonce drawn per stream: an input string cannot be one.
    document = {"name": "c2c-dense-0123456789abcdef-0", "fields": [{"type": t} for t in range(20)]}
    assert list(yaml.safe_load_all(dump_yaml([document]))) == [document]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.text(min_size=1, max_size=6), scalars, min_size=1, max_size=3),
        min_size=DENSE_MIN,
        max_size=DENSE_MIN + 30,
    )
)
def test_long_lists_of_mappings_read_back_the_same(rows: list[dict[str, Any]]) -> None:
    documents = [{"spec": {"rules": [{"fields": rows}]}}]
    assert list(yaml.safe_load_all(dump_yaml(documents))) == documents
