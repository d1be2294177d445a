"""What ``convert`` holds (issue 15, item 13: memory proportional to the input, small constant).

A typed document (its pydantic model and parsed data) is some 30 times its text. ``convert``
without ``--verify``/``--report`` (``keep_input=False``) must drop every input document once it is
lowered to the IR, instead of holding them through the compile and the output as it did (which
made convert peak at ~84 times its input). Checked by reference, not by timing or a memory bound:
a weak reference to each model, and a weakly referenced marker put into each document's data,
must be dead after the conversion, while the diagnostics keep their file:line:col.
(scripts/bench_memory.py measures the peak.)
"""

from __future__ import annotations

import gc
import io
import sys
import tracemalloc
import weakref
from pathlib import Path
from typing import Any

import pytest

from calico2cilium.convert import ConvertResult, convert
from calico2cilium.io.write import dump_json, dump_yaml, write_json, write_yaml
from calico2cilium.load import load
from helpers import run_cli

INPUT = """\
apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: security
spec:
  order: 100
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: security.deny-db
spec:
  tier: security
  order: 10
  selector: app == 'db'
  serviceAccountSelector: all()
  ingress:
  - action: Deny
    source:
      selector: role == 'bad'
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
spec:
  order: 5
  selector: app == 'web'
  ingress:
  - action: Allow
    protocol: TCP
    source:
      selector: app == 'lb'
    destination:
      ports: [80]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: web2
  namespace: shop
spec:
  order: 5
  selector: app == 'web'
  egress:
  - action: Allow
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: k8s
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: bad-nets
  labels:
    role: bad
spec:
  nets: [192.0.2.0/24]
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: node-1-eth0
  labels:
    host: "yes"
spec:
  node: node-1
  interfaceName: eth0
  expectedIPs: [10.0.0.1]
"""
PODS, NODES = ("10.244.0.0/16",), ("10.0.0.0/24",)


class _Marker:
    """Put into each document's data: the data is freed exactly when this is."""


def _findings(result: ConvertResult) -> list[tuple[str, str, int, int]]:
    return sorted(
        (d.code, d.message, d.source.line if d.source else 0, d.source.column if d.source else 0)
        for d in result.diagnostics
    )


def test_convert_drops_the_input_documents_once_lowered(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load(text=INPUT, name="in.yaml")
    assert len(loaded.documents) == 7
    models = [weakref.ref(d.model) for d in loaded.documents]
    markers = []
    for document in loaded.documents:
        marker = _Marker()
        document.raw.data["x-marker"] = marker  # read by nothing: the models are built already
        markers.append(weakref.ref(marker))
        del marker
    del document
    alive: list[int] = []
    module = sys.modules["calico2cilium.convert"]  # the package's ``convert`` is the function
    compile_plan = module.compile_plan

    def counting(*args: Any, **kwargs: Any) -> Any:
        """What is still alive while the IR is compiled (and held: the output is made from it)."""
        gc.collect()
        alive.append(sum(ref() is not None for ref in [*models, *markers]))
        return compile_plan(*args, **kwargs)

    lowering: list[int] = []
    lower_module = sys.modules["calico2cilium.compile.lower"]
    calico_policy = lower_module._calico_policy

    def lowering_one(*args: Any, **kwargs: Any) -> Any:
        """How many models are alive as each Calico policy is lowered: those lowered before are not."""
        gc.collect()
        lowering.append(sum(ref() is not None for ref in models))
        return calico_policy(*args, **kwargs)

    monkeypatch.setattr(module, "compile_plan", counting)
    monkeypatch.setattr(lower_module, "_calico_policy", lowering_one)
    result = convert(loaded=loaded, keep_input=False, pod_cidrs=PODS, node_cidrs=NODES)
    assert lowering == [6, 5, 4], "the documents already lowered were held while lowering the rest"
    assert alive == [0], "an input document's model or parsed data outlived its lowering"
    assert loaded.documents == []
    assert result.documents


def test_dropping_the_input_changes_no_output_and_no_position() -> None:
    kept = convert(text=INPUT, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES)
    dropped = convert(text=INPUT, name="in.yaml", keep_input=False, pod_cidrs=PODS, node_cidrs=NODES)
    assert kept.loaded is not None and len(kept.loaded.documents) == 7
    assert dump_yaml(dropped.documents) == dump_yaml(kept.documents)
    assert _findings(dropped) == _findings(kept)
    assert any(code == "C2C303" and line for code, _, line, _ in _findings(dropped))


def test_the_output_is_written_as_it_is_made_with_the_same_text() -> None:
    documents = convert(text=INPUT, name="in.yaml", pod_cidrs=PODS, node_cidrs=NODES).documents
    writes: list[str] = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    for write, dump in ((write_yaml, dump_yaml), (write_json, dump_json)):
        writes.clear()
        stream = Stream()
        write(documents, stream)
        assert stream.getvalue() == dump(documents)
        assert len(writes) > 1


def test_cli_output_is_the_conversion(tmp_path: Path) -> None:
    """The command line drops the input (no --verify) and writes its output as it is made."""
    path = tmp_path / "in.yaml"
    path.write_text(INPUT)
    args = ["convert", str(path), "--pod-cidr", PODS[0], "--node-cidr", NODES[0], "-q"]
    expected = convert([str(path)], pod_cidrs=PODS, node_cidrs=NODES).documents
    for fmt, dump in (("yaml", dump_yaml), ("json", dump_json)):
        status, out, err = run_cli(*args, "-o", fmt)
        assert status in (0, 1), err
        assert out == dump(expected)


TINY = (
    "---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: p{i}\n"
    "  namespace: ns{ns}\nspec:\n  selector: app == 'a{i}'\n  ingress:\n  - action: Allow\n"
    "    source:\n      selector: app == 'b'\n"
)


def _peak(count: int) -> tuple[int, int]:
    """Input size and traced peak of converting ``count`` tiny policies as the command line does
    without --verify (``keep_input=False``: each document lowered as it is read)."""
    text = "".join(TINY.format(i=i, ns=i % 50) for i in range(count))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = convert(text=text, name="in.yaml", keep_input=False, pod_cidrs=PODS, node_cidrs=NODES)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert len(result.documents) == count and result.ok
    return len(text), peak


def test_convert_memory_grows_with_the_input_by_a_small_constant() -> None:
    """The traced peak per extra input byte, between 200 and 600 tiny policies (the slope, so
    that imports and caches do not count). Deterministic (allocations, not RSS or time). Was 44
    (every typed document held until all were read, the plan while the output was made, and the
    resources with all their documents) with ``keep_input=False``, and 71 with the input kept;
    now about 30. ``scripts/bench_memory.py`` measures the peak RSS of the command line."""
    _peak(5)  # imports and caches first
    small, large = _peak(200), _peak(600)
    slope = (large[1] - small[1]) / (large[0] - small[0])
    assert slope < 36, slope


NOTED = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: a}
spec:
  selector: app == 'a'
  ingress: [{action: Allow, source: {selector: app == 'b'}}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: b, namespace: other}
spec:
  selector: app == 'a'
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g}
spec:
  selector: app == 'a'
  egress: [{action: Deny, destination: {selector: app == 'c'}}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g}
spec:
  selector: app == 'x'
"""


@pytest.mark.parametrize("namespace", [None, "shop"])
def test_the_notes_on_the_input_do_not_depend_on_keeping_it(namespace: str | None) -> None:
    """The command line without --verify keeps per document only what the notes on the input
    need (C2C360, C2C365, C2C361: ``cli.input_notes``); they are those of the kept documents,
    a copy refused (C2C224, ``g`` here) left out either way."""
    from calico2cilium.cli.convert import _Reader
    from calico2cilium.cli.input_notes import export_notes, export_notes_of, namespace_notes

    kept = load(text=NOTED, name="in.yaml")
    expected = [*namespace_notes(kept.documents, namespace), *export_notes(kept.documents)]
    streamed = load(text=NOTED, name="in.yaml", keep=False, lower=_Reader(namespace))
    found = [d for read in streamed.lowered for d in read.notes]
    found.extend(export_notes_of([read.selecting for read in streamed.lowered]))
    assert sorted(map(str, found)) == sorted(map(str, expected))
    assert {d.code for d in found} == ({"C2C361", "C2C360"} if namespace is None else {"C2C361", "C2C365"})
