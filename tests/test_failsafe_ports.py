"""Felix's failsafe ports are cluster facts (issue 15, "inputs as clusters hold them"): read from a
FelixConfiguration in the input (C2C231, at the setting), stated by ``--failsafe-inbound-host-ports``
/ ``--failsafe-outbound-host-ports`` or the same keys in ``--cluster-config``, which override it.

Before, the input's FelixConfiguration was skipped with a note and the host policies allowed
Felix's defaults whatever it said: with ``failsafeInboundHostPorts: [tcp:22]`` the output allowed
tcp:179, tcp:2379, ... to every node, which Calico denied (and there was no way to state the ports).
Where one list for every node cannot hold what the configurations say (a ``node.<node>`` list that
differs, an entry limited to a ``net``), ports are left out: Cilium denies more, never allows more
(C2C232, a narrowing warning)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from calico2cilium.facts.felix import failsafe_setting
from helpers import run_cli

CLUSTER = (
    "--pod-cidr",
    "10.244.0.0/16",
    "--node-cidr",
    "192.168.0.0/24",
    "--endpoint-to-host-action",
    "Accept",
)
HEP = """\
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: n1-eth0, labels: {role: node}}
spec: {node: n1, interfaceName: "*", expectedIPs: [192.168.0.5]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: n2-eth0, labels: {role: node}}
spec: {node: n2, interfaceName: "*", expectedIPs: [192.168.0.6]}
"""


def felix(name: str, inbound: str) -> str:
    return (
        f"---\napiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {{name: {name}}}\n"
        f"spec:\n  failsafeInboundHostPorts: {inbound}\n"
    )


def inbound_ports(out: str) -> set[str]:
    """The ports the host defaults allow inbound, as ``protocol:port``."""
    found = set()
    for document in yaml.safe_load_all(out):
        for spec in document.get("specs") or [document.get("spec")]:
            for rule in spec.get("ingress") or []:
                for to in rule.get("toPorts") or []:
                    found |= {f"{p['protocol'].lower()}:{p['port']}" for p in to["ports"]}
    return found


def convert(tmp_path: Path, text: str, *flags: str) -> tuple[int, str, str]:
    path = tmp_path / "in.yaml"
    path.write_text(text)
    return run_cli("convert", str(path), *CLUSTER, *flags)


def test_the_inputs_felixconfiguration_gives_the_failsafe_ports(tmp_path: Path) -> None:
    code, out, err = convert(tmp_path, HEP + felix("default", "[{protocol: TCP, port: 22}]"), "--verify")
    assert inbound_ports(out) == {"tcp:22"}  # was Felix's nine default ports
    assert "in.yaml:15:29: info C2C231 failsafe ports failsafeInboundHostPorts: tcp:22, taken from" in err
    assert "egress udp:53" in err  # the outbound list is not set: Felix's defaults
    # The proof reads Calico with the same ports: no flow Cilium allows and Calico denies.
    assert code == 1 and "cilium: ALLOW" not in err, err


def test_a_null_setting_is_unset_and_an_empty_list_is_no_port(tmp_path: Path) -> None:
    code, out, err = convert(tmp_path, HEP + felix("default", "null"))
    assert "tcp:179" in inbound_ports(out) and "C2C231" not in err and "C2C232" not in err
    code, out, err = convert(tmp_path, HEP + felix("default", "[]"))
    assert code == 1 and inbound_ports(out) == set() and "failsafeInboundHostPorts: none, taken from" in err


def test_a_flag_or_the_cluster_config_overrides_it(tmp_path: Path) -> None:
    text = HEP + felix("default", "[{protocol: TCP, port: 22}]")
    code, out, err = convert(tmp_path, text, "--failsafe-inbound-host-ports", "udp:68, 2222")
    assert code == 1 and inbound_ports(out) == {"udp:68", "tcp:2222"} and "info C2C231" not in err
    config = tmp_path / "cluster.yaml"
    config.write_text(
        "failsafeInboundHostPorts: [{protocol: UDP, port: 68}]\nfailsafeOutboundHostPorts: none\n"
    )
    code, out, err = convert(tmp_path, text, "--cluster-config", str(config))
    assert code == 1 and inbound_ports(out) == {"udp:68"} and "egress none" in err


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("tcp:10.0.0.0/8:22", "limited to addresses"),
        ("icmp:8", "not one of tcp, udp, sctp"),
        ("tcp:http", "not a port number"),
        ("udp:70000", "not between 1 and 65535"),
    ],
)
def test_ports_that_cannot_be_stated_are_usage_errors(tmp_path: Path, value: str, reason: str) -> None:
    code, out, err = convert(tmp_path, HEP, "--failsafe-inbound-host-ports", value)
    assert code == 2 and out == "" and reason in err
    config = tmp_path / "cluster.yaml"
    config.write_text(f"failsafeOutboundHostPorts: '{value}'\n")
    code, out, err = convert(tmp_path, HEP, "--cluster-config", str(config))
    assert code == 2 and out == "" and reason in err


def test_felix_syntax() -> None:
    assert failsafe_setting("tcp:22,udp:68") == (("tcp", 22), ("udp", 68))
    assert failsafe_setting(" 22 , SCTP:9 ") == (("tcp", 22), ("sctp", 9))  # tcp when not named
    assert failsafe_setting("none") == failsafe_setting("") == ()


def test_what_one_list_cannot_hold_is_left_out_never_widened(tmp_path: Path) -> None:
    # node.n1 allows tcp:2222 and not tcp:179, the global list the other way round; the net-limited
    # entry cannot be said without its addresses. Only tcp:22 is allowed, to every node.
    text = (
        HEP
        + felix(
            "default",
            "[{protocol: TCP, port: 22}, {protocol: TCP, port: 179}, {port: 68, protocol: UDP, net: 10.0.0.0/8}]",
        )
        + felix("node.n1", "[{protocol: TCP, port: 22}, {protocol: TCP, port: 2222}]")
    )
    code, out, err = convert(tmp_path, text, "--verify")
    assert inbound_ports(out) == {"tcp:22"}
    left_out = [line for line in err.splitlines() if "warning C2C232" in line]
    assert len(left_out) == 3, err
    assert any("default allows failsafe failsafeInboundHostPorts tcp:179" in line for line in left_out)
    assert any("node.n1 allows failsafe failsafeInboundHostPorts tcp:2222" in line for line in left_out)
    assert any("net 10.0.0.0/8" in line for line in left_out)
    assert code == 1 and "cilium: ALLOW" not in err
    code, _, err = run_cli("convert", str(tmp_path / "in.yaml"), *CLUSTER, "--fail-on", "narrowing")
    assert code == 1 and "C2C232" in err  # counts as narrowing


def test_verify_reads_the_same_ports(tmp_path: Path) -> None:
    text = HEP + felix("default", "[{protocol: TCP, port: 22}]")
    code, out, _ = convert(tmp_path, text)
    (tmp_path / "out.yaml").write_text(out)
    calico, cilium = str(tmp_path / "in.yaml"), str(tmp_path / "out.yaml")
    code, stdout, _ = run_cli("verify", "--calico", calico, "--cilium", cilium, *CLUSTER, "--narrowing")
    assert "C2C231" in stdout and "cilium: ALLOW" not in stdout and "NARROWED" in stdout, stdout
    # Stated otherwise, the proof reads Calico with those ports, and sees the output allow tcp:22.
    flag = ("--failsafe-inbound-host-ports", "none")
    code, stdout, _ = run_cli(
        "verify", "--calico", calico, "--cilium", cilium, *CLUSTER, *flag, "--narrowing"
    )
    assert code == 4 and "cilium: ALLOW" in stdout and "TCP dport 22" in stdout, stdout


def test_a_misspelt_entry_key_is_left_out_not_read_as_tcp(tmp_path: Path) -> None:
    # ``protocl: UDP`` would read as Felix's default protocol, tcp: a port Felix may not allow.
    text = HEP + felix("default", "[{protocol: TCP, port: 22}, {protocl: UDP, port: 68}]")
    code, out, err = convert(tmp_path, text, "--verify")
    assert inbound_ports(out) == {"tcp:22"}
    (left_out,) = [line for line in err.splitlines() if "warning C2C232" in line]
    assert "field(s) protocl" in left_out
    assert code == 1 and "cilium: ALLOW" not in err
