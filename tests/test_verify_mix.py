"""Proof at scale on the realistic mix (issue 14): the converter's output for 300 documents of
``scripts/realistic_mix.py`` (overlapping broad selectors, tiers, Deny and Pass, network sets, host
endpoints) is proven, and a deliberately broken output is still found DIFFERENT, with a
counterexample replayed through both sides, at a pod and at a host subject (whose nodes share one
symbolic encoding and term cache, ``SymbolicFlow.at_host``)."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from calico2cilium.convert import convert
from calico2cilium.verify.api import VerifyResult, verify_texts
from calico2cilium.verify.bench import MIX_ASSUMPTIONS, dump

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "realistic_mix.py"
SIZE = 300

Mix = tuple[str, list[dict[str, Any]]]


def _generate(count: int) -> str:
    spec = importlib.util.spec_from_file_location("realistic_mix", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.generate(count, seed=1)
    return text


@pytest.fixture(scope="module")
def mix() -> Mix:
    text = _generate(SIZE)
    result = convert(
        text=text,
        name="mix.yaml",
        pod_cidrs=MIX_ASSUMPTIONS.pod_cidrs,
        node_cidrs=MIX_ASSUMPTIONS.node_cidrs,
    )
    assert result.documents
    return text, result.documents


def _verify(text: str, documents: list[dict[str, Any]]) -> VerifyResult:
    # The conversion fails closed in places (refusals, C2C343 host rules): the question is
    # convert --verify's, "does Cilium allow no flow Calico denies?", over every partition.
    return verify_texts(text, dump(documents), MIX_ASSUMPTIONS, narrowing=True, max_counterexamples=None)


def _broken(documents: list[dict[str, Any]], spec: dict[str, Any], name: str) -> list[dict[str, Any]]:
    extra = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumClusterwideNetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }
    return [*copy.deepcopy(documents), extra]


@pytest.mark.slow  # converts and verifies 300 documents
def test_the_conversion_of_the_mix_is_proven(mix: Mix) -> None:
    text, documents = mix
    result = _verify(text, documents)
    assert result.status in ("equivalent", "narrowed"), result.render_text()[:2000]
    assert not result.counterexamples
    assert any(p.partition.startswith("node ") for p in result.partitions)  # host subjects checked


@pytest.mark.slow
def test_a_widened_pod_policy_in_the_mix_is_found(mix: Mix) -> None:
    text, documents = mix
    broken = _broken(
        documents,
        {"endpointSelector": {}, "ingress": [{"fromEntities": ["world"]}]},
        "broken-world-ingress",
    )
    result = _verify(text, broken)
    assert result.status == "different"
    assert result.counterexamples
    for example in result.counterexamples:
        assert example.flow.direction == "ingress"
        assert example.flow.peer.kind == "world"
        assert example.cilium.allowed and not example.calico.allowed  # replayed through both sides
        assert "broken-world-ingress" in str(example.cilium.ref)


@pytest.mark.slow
def test_a_widened_host_policy_in_the_mix_is_found(mix: Mix) -> None:
    text, documents = mix
    broken = _broken(
        documents,
        {"nodeSelector": {}, "egress": [{"toEntities": ["world"]}]},
        "broken-host-egress",
    )
    result = _verify(text, broken)
    assert result.status == "different"
    at_hosts = [e for e in result.counterexamples if e.flow.subject.kind == "host"]
    assert at_hosts
    for example in at_hosts:
        assert example.flow.direction == "egress"
        assert example.cilium.allowed and not example.calico.allowed
        assert "broken-host-egress" in str(example.cilium.ref)
