"""``load(keep=False)`` (what ``lint`` runs): each resource is validated and dropped, so memory
stays a small multiple of the input (issue 15, item 13). Was: every parsed document, its typed
model and its position tree were held to the end, about 35 times the input's size.

The findings must be exactly those of a load that keeps the documents, broken streams included
(a stream found broken after some resources were checked is read again with error recovery)."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from calico2cilium.compile.lower import Lowering, joined, lower
from calico2cilium.diagnostics import Severity
from calico2cilium.load import load

POLICY = (
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: p{i}\n  namespace: ns{ns}\n"
    "spec:\n  selector: app == 'a{i}'\n  ingress:\n  - action: Allow\n    source:\n      selector: app == 'b'\n"
)


def _policies(count: int, namespaces: int = 50) -> str:
    return "---\n" + "---\n".join(POLICY.format(i=i, ns=i % namespaces) for i in range(count))


def _findings(text: str, keep: bool) -> list[tuple[str, int, int, str]]:
    result = load(text=text, name="in.yaml", keep=keep)
    out = [
        (d.code, d.source.line if d.source else 0, d.source.column if d.source else 0, d.message)
        for d in result.diagnostics
    ]
    return sorted(out)


BROKEN = {
    "syntax error after good documents": _policies(3)
    + "---\nkind: [unclosed\n---\n"
    + POLICY.format(i=9, ns=1),
    "syntax error first": "kind: [unclosed\n---\n" + _policies(2),
    "invalid documents around a good one": POLICY.format(i=1, ns=1).replace("Allow", "Alow")
    + "---\n"
    + POLICY.format(i=2, ns=1)
    + "---\n"
    + POLICY.format(i=3, ns=1).replace("app ==", "app ="),
    "duplicate key after good documents": _policies(2) + "---\nkind: A\nkind: B\n",
    "empty": "",
    "only comments": "# nothing\n",
    "empty documents": "---\n---\n" + POLICY.format(i=1, ns=1) + "---\n",
    "copies, same and different": POLICY.format(i=1, ns=1)
    + "---\n"
    + POLICY.format(i=1, ns=1)
    + "---\n"
    + POLICY.format(i=1, ns=1).replace("'b'", "'c'"),
    "a list": "apiVersion: v1\nkind: List\nitems:\n- "
    + POLICY.format(i=1, ns=1).replace("\n", "\n  ")[:-2]
    + "- 3\n",
}


@pytest.mark.parametrize("text", list(BROKEN.values()), ids=list(BROKEN))
def test_findings_do_not_depend_on_keeping_the_documents(text: str) -> None:
    assert _findings(text, keep=False) == _findings(text, keep=True)


def test_the_counts_are_those_of_a_kept_load() -> None:
    text = BROKEN["copies, same and different"] + "---\n" + _policies(5)
    kept, dropped = load(text=text, keep=True), load(text=text, keep=False)
    # p1 in ns1 is given four times (_policies has one too), differently: all refused.
    assert dropped.documents == [] and dropped.valid == kept.valid == len(kept.documents) == 4
    assert dropped.resources == kept.resources == 8


def test_memory_stays_a_small_multiple_of_the_input() -> None:
    text = _policies(4000)
    load(text=_policies(10), keep=False)  # imports and caches first
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = load(text=text, keep=False)
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.valid == 4000
    size = len(text)
    # Was about 33x retained. The input's text is held (positions), and per resource its identity
    # (the duplicate check); the peak adds the parser's copy of the text.
    assert retained - before < 4 * size, (retained - before) / size
    assert peak - before < 12 * size, (peak - before) / size


@pytest.mark.parametrize("text", list(BROKEN.values()), ids=list(BROKEN))
def test_lowering_each_document_as_read_is_lowering_the_kept_ones(text: str) -> None:
    """``load(lower=...)`` (``convert`` without --verify): each resource lowered as it is read
    gives the IR of lowering the documents a kept load returns, copies refused (C2C224) and
    given twice (C2C225) and broken streams (read again) included."""
    text = text + "---\n" + BROKEN["copies, same and different"]
    kept = load(text=text, name="in.yaml")
    streamed = load(text=text, name="in.yaml", keep=False, lower=Lowering().one)
    assert streamed.documents == [] and len(streamed.lowered) == len(kept.documents)
    assert joined(streamed.lowered) == lower(kept.documents)
    assert sorted(map(str, streamed.diagnostics)) == sorted(map(str, kept.diagnostics))


def test_findings_past_the_limit_are_counted_not_kept() -> None:
    # Issue 15 item 13: a JSON array of a million numbers peaked at ~630 MB, every finding kept
    # until the end for counting, and positions found by composing the text as YAML.
    from calico2cilium.diagnostics.render import REPEAT_LIMIT
    from calico2cilium.io.yamlstream import MAX_NOT_RESOURCES

    n = 100_000
    text = "[" + ",".join(["1"] * n) + "]"
    load(text="[1]", name="warm.json")  # imports and caches first
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = load(text=text, name="many.json", keep=False)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert len(result.diagnostics) == REPEAT_LIMIT  # the first ones, in report order
    assert [d.source.column for d in result.diagnostics if d.source] == list(
        range(2, 2 * REPEAT_LIMIT + 1, 2)
    )
    # Items of one list past MAX_NOT_RESOURCES are counted in the last report and in left_out,
    # so the error count is every item's, not MAX_NOT_RESOURCES.
    assert n > MAX_NOT_RESOURCES
    assert result.left_out == {("C2C201", Severity.ERROR): n - REPEAT_LIMIT}
    assert result.has_errors
    # Was some 200 times the text (a million kept: ~300 bytes each). json.loads alone takes ~5.
    assert peak < 30 * len(text), peak / len(text)


def test_a_yaml_stream_of_many_bad_documents_keeps_the_first_with_positions() -> None:
    # Each document's position used to cut out the rest of the file (its end was not yet known)
    # and parse it: 40,000 documents took 6 s, a million did not finish.
    text = "---\n1\n" * 20_000
    result = load(text=text, name="many.yaml", keep=False)
    assert result.left_out == {("C2C201", Severity.ERROR): 20_000 - 100}
    assert len(result.diagnostics) == 100
    assert [(d.source.line, d.source.column) for d in result.diagnostics[:2] if d.source] == [(2, 1), (4, 1)]
