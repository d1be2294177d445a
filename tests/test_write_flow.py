"""The YAML writer puts short leaf mappings and lists on one line (``io/write._flowed``): the same
data, a shorter page. A reader must get back exactly what was written, whatever the strings hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from calico2cilium.io.write import dump_yaml

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
