"""``verify --flows``: observed flows (the sample Hubble and Calico exports in examples/flows/,
written from the documented schemas) replayed through both sides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.world import TCP, Assumptions
from calico2cilium.verify.api import replay_flows
from calico2cilium.verify.flows import parse_flow, read_flows
from helpers import run_cli

ROOT = Path(__file__).parent.parent
HUBBLE = ROOT / "examples" / "flows" / "hubble.jsonl"
CALICO_LOGS = ROOT / "examples" / "flows" / "calico-flows.jsonl"
CASE = ROOT / "fixtures" / "allow-before-deny"
CALICO = (CASE / "input.yaml").read_text()
CILIUM = (CASE / "expected.yaml").read_text()
NARROWED = CILIUM.replace("port: '80'", "port: '8080'")
assert NARROWED != CILIUM
ASSUMPTIONS = Assumptions(pod_cidrs=("10.244.0.0/16",))


def _replay(cilium: str):  # type: ignore[no-untyped-def]
    flows, problems = read_flows([str(HUBBLE), str(CALICO_LOGS)])
    assert problems == []
    calico_docs = read_documents(CALICO, "calico.yaml")[0]
    cilium_docs = read_documents(cilium, "cilium.yaml")[0]
    return replay_flows(calico_docs, cilium_docs, flows, ASSUMPTIONS)


def test_both_formats_are_read() -> None:
    flows, problems = read_flows([str(HUBBLE), str(CALICO_LOGS)])
    assert problems == [] and len(flows) == 11
    assert flows[2] is None  # a Hubble reply: the connection was decided at its first packet
    first = flows[0]
    assert first is not None and first.engine == "cilium" and first.allowed is True
    assert (first.protocol, first.dst_port) == (TCP, 80)
    assert first.source.namespace == "prod" and dict(first.source.labels) == {"app": "web"}
    assert dict(first.source.namespace_labels) == {"kubernetes.io/metadata.name": "prod"}
    world = flows[5]
    assert world is not None and world.source.kind == "world" and world.allowed is False
    logged = flows[6]
    assert (
        logged is not None and logged.engine == "calico" and dict(logged.destination.labels) == {"app": "db"}
    )


def test_lower_camel_case_hubble_names_are_read_too() -> None:
    line = json.loads(HUBBLE.read_text().splitlines()[0])["flow"]
    line["l4"] = {"TCP": {"sourcePort": 1, "destinationPort": 443}}
    line["trafficDirection"] = line.pop("traffic_direction")
    observed = parse_flow(line)
    assert observed is not None and observed.dst_port == 443


def test_an_equivalent_conversion_changes_no_observed_flow() -> None:
    replayed = _replay(CILIUM)
    assert replayed.seen == 11 and replayed.skipped == 1 and replayed.changed == []
    # The Calico export says web reached db on 6379, which the Calico policies deny.
    [disagree] = replayed.disagree
    assert disagree.count == 1 and disagree.example.dst_port == 6379 and disagree.example.engine == "calico"


def test_a_narrowed_conversion_counts_the_connections_it_breaks() -> None:
    replayed = _replay(NARROWED)
    [group] = replayed.changed
    assert group.count == 5  # 3 Hubble flows (the reply skipped) and 2 Calico records on TCP/80
    assert group.example.dst_port == 80 and group.calico.allowed and not group.cilium.allowed


def test_cli(tmp_path: Path) -> None:
    (tmp_path / "calico.yaml").write_text(CALICO)
    (tmp_path / "cilium.yaml").write_text(CILIUM)
    base = ["verify", "--pod-cidr", "10.244.0.0/16", "--calico", str(tmp_path / "calico.yaml")]
    flows = ["--flows", str(HUBBLE), "--flows", str(CALICO_LOGS)]
    code, out, _ = run_cli(*base, "--cilium", str(tmp_path / "cilium.yaml"), *flows, "-o", "json")
    data = json.loads(out)
    assert code == 0 and data["flows"]["seen"] == 11 and data["flows"]["changed"] == 0
    (tmp_path / "narrowed.yaml").write_text(NARROWED)
    code, out, _ = run_cli(*base, "--cilium", str(tmp_path / "narrowed.yaml"), *flows)
    # a Cilium side that denies what Calico allows, with no diagnostic explaining it: exit 4
    assert code == 4 and "5 would change verdict" in out
    (tmp_path / "bad.jsonl").write_text('{"flow": {"IP": {"source": "10.0.0.1"}}}\nnot json\n')
    code, out, _ = run_cli(
        *base, "--cilium", str(tmp_path / "cilium.yaml"), "--flows", str(tmp_path / "bad.jsonl")
    )
    assert code == 2 and "bad.jsonl:2:1: error C2C413" in out


def test_the_per_subject_restriction_decides_as_the_whole_program() -> None:
    import ipaddress
    import itertools

    from calico2cilium.semantics.calico import read_calico_side
    from calico2cilium.semantics.cilium import read_cilium_side
    from calico2cilium.verify.flows import End, Observed, _BySubject, _decide

    case = ROOT / "fixtures" / "order-multi-tier"
    sides = [
        read_calico_side(
            read_documents((case / "input.yaml").read_text(), "c.yaml")[0], ASSUMPTIONS
        ).programs,
        read_cilium_side(
            read_documents((case / "expected.yaml").read_text(), "x.yaml")[0], ASSUMPTIONS
        ).programs,
    ]
    ends = [
        End("pod", ipaddress.ip_address(f"10.244.0.{i}"), ns, app, (("app", app),))
        for i, (ns, app) in enumerate(
            itertools.product(("shop", "dev", "monitoring"), ("frontend", "gateway")), 1
        )
    ] + [End("world", ipaddress.ip_address("198.51.100.1"))]
    for programs in sides:
        restricted = _BySubject(programs)

        def whole_program(flow: Any, programs: Any = programs) -> Any:
            return programs[flow.direction]

        for src, dst, port in itertools.product(ends, ends, (8080, 9090, 22)):
            if src != dst:
                observed = Observed(src, dst, TCP, port)
                whole = _decide(whole_program, observed, "calico")
                assert _decide(restricted, observed, "calico") == whole, observed
