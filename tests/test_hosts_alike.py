"""Alike host endpoints (same labels, interface, profiles, ports, and whether they list
addresses) are compiled once (``compile/hosts._alike_key``) and their specs written once
(``cilium/hostpolicies``): the output must be the one compiling every node on its own gives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from calico2cilium.compile import hosts
from calico2cilium.convert import convert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from realistic_mix import generate


@pytest.mark.parametrize("seed", [1, 2])
def test_alike_nodes_convert_as_each_on_its_own(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    text = generate(120, seed=seed)
    assert text.count("kind: HostEndpoint") >= 3
    options = {"pod_cidrs": ("10.244.0.0/16",), "node_cidrs": ("10.0.0.0/24",)}
    shared = convert(text=text, name="mix.yaml", **options)
    monkeypatch.setattr(hosts, "_alike_key", lambda heps: None)
    alone = convert(text=text, name="mix.yaml", **options)
    assert shared.documents == alone.documents
    assert [str(d) for d in shared.diagnostics] == [str(d) for d in alone.diagnostics]
