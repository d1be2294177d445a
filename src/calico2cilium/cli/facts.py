"""Cluster facts read from the input (issue 15, item 6): an IPPool's ``cidr`` is where Calico IPAM
takes pod addresses from, so with no ``--pod-cidr`` (nor ``podCIDRs`` in ``--cluster-config``) the
pools that serve workloads are the pod ranges, each one said at its position (C2C229); a
FelixConfiguration's failsafe ports are the ones Calico allows to and from host endpoints whatever
the policy says (C2C231, C2C232)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import replace

from calico2cilium.cli.cluster_options import ClusterOptions, stated_failsafe
from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
from calico2cilium.facts.cluster import Cluster
from calico2cilium.facts.felix import FAILSAFE_INBOUND, FAILSAFE_OUTBOUND, FailsafePorts, failsafe_entry
from calico2cilium.io.documents import RawDocument


def pool_cidrs(facts: Sequence[RawDocument]) -> tuple[tuple[str, ...], list[Diagnostic]]:
    """The pod ranges of the input's IPPools, and a C2C229 note at each. Pools whose
    ``allowedUses`` leave out ``Workload`` (tunnel-only or LoadBalancer pools) give no pod
    addresses and are not taken (Calico's default ``allowedUses`` is ``[Workload, Tunnel]``)."""
    cidrs: list[str] = []
    notes: list[Diagnostic] = []
    for raw in facts:
        spec = raw.data.get("spec") if isinstance(raw.data.get("spec"), dict) else None
        if raw.kind != "IPPool" or spec is None:
            continue
        uses = spec.get("allowedUses")
        if isinstance(uses, list) and "Workload" not in uses:
            continue
        try:
            cidr = str(ipaddress.ip_network(str(spec.get("cidr")), strict=False))
        except ValueError:
            continue
        cidrs.append(cidr)
        notes.append(
            make(
                "C2C229",
                f"pod range {cidr} taken from IPPool {raw.name} (its pods' addresses; --pod-cidr"
                " overrides). Tunnel addresses a pool also gives nodes are node addresses",
                raw.source(("spec", "cidr")),
            )
        )
    return tuple(dict.fromkeys(cidrs)), notes


FAILSAFE_FIELDS = {
    "failsafe_inbound": "failsafeInboundHostPorts",
    "failsafe_outbound": "failsafeOutboundHostPorts",
}
"""``Cluster`` field name -> the FelixConfiguration key that sets it."""
FAILSAFE_FLAGS = {
    "failsafe_inbound": "--failsafe-inbound-host-ports",
    "failsafe_outbound": "--failsafe-outbound-host-ports",
}


def with_input_facts(
    cluster: Cluster, facts: Sequence[RawDocument], options: ClusterOptions
) -> tuple[Cluster, list[Diagnostic]]:
    """``cluster`` with what the input's cluster resources say where the flags and
    ``--cluster-config`` do not: the pod CIDRs of its IPPools (``pool_cidrs``) and the failsafe
    ports of its FelixConfigurations (``with_felix_failsafe``); and the notes on them. One place,
    so that ``convert`` and ``report`` convert an input the same way."""
    notes: list[Diagnostic] = []
    if not facts:
        return cluster, notes
    if not cluster.pod_cidrs:
        cidrs, notes = pool_cidrs(facts)
        cluster = replace(cluster, pod_cidrs=cidrs) if cidrs else cluster
    cluster, felix_notes = with_felix_failsafe(cluster, facts, options)
    return cluster, [*notes, *felix_notes]


def with_felix_failsafe(
    cluster: Cluster, facts: Sequence[RawDocument], options: ClusterOptions
) -> tuple[Cluster, list[Diagnostic]]:
    """``cluster`` with the failsafe ports the input's FelixConfigurations set where no flag or
    ``--cluster-config`` states them (``felix_failsafe``), and the notes on them."""
    ports, notes = felix_failsafe(facts, stated_failsafe(options))
    inbound = ports.get("failsafe_inbound", cluster.failsafe_inbound)
    outbound = ports.get("failsafe_outbound", cluster.failsafe_outbound)
    return replace(cluster, failsafe_inbound=inbound, failsafe_outbound=outbound), notes


def felix_failsafe(
    facts: Sequence[RawDocument], stated: Iterable[str]
) -> tuple[dict[str, FailsafePorts], list[Diagnostic]]:
    """The failsafe ports the input's FelixConfigurations set, for the ``Cluster`` fields not in
    ``stated`` (given by a flag or ``--cluster-config``), and the notes on them.

    Felix reads a setting from calico-node's environment first, then the host-specific
    FelixConfiguration ``node.<node>``, then the global ``default`` (docs.tigera.io, "Configuring
    Felix": "the value read from the first location containing a value"); unset, Felix's defaults
    hold. calico.yaml and the Tigera operator set no failsafe ports in the environment (the operator
    does only with Calico Enterprise's AWS security-group integration), so the global
    FelixConfiguration is taken (C2C231, the flag overrides it). The host policies hold one list for
    every node: where a ``node.<node>`` configuration sets another one, only the ports every
    configuration allows are kept, and an entry that cannot be read (a ``net``, which limits the port
    to some addresses; a bad protocol or port) is left out too. Either way Cilium denies what Calico
    allowed on those ports, never allows more (C2C232, a narrowing warning)."""
    out: dict[str, FailsafePorts] = {}
    notes: list[Diagnostic] = []
    felix = [
        raw for raw in facts if raw.kind == "FelixConfiguration" and isinstance(raw.data.get("spec"), dict)
    ]
    for field, key in FAILSAFE_FIELDS.items():
        # null is unset, as Go decodes it into the nil *[]ProtoPort: Felix's defaults hold
        setting = [raw for raw in felix if raw.data["spec"].get(key) is not None]
        if field in stated or not setting:
            continue
        lists: list[tuple[RawDocument, FailsafePorts]] = []
        for raw in setting:
            ports, unread = _ports_of(raw.data["spec"][key])
            lists.append((raw, ports))
            if unread:
                notes.append(
                    make(
                        "C2C232",
                        f"FelixConfiguration {raw.name} {key}: {'; '.join(unread)}; left out, so the host"
                        " policies deny traffic to those ports that Calico's failsafe rules allowed",
                        raw.source(("spec", key)),
                        hint=f"state the ports in force with {FAILSAFE_FLAGS[field]} (or {key} in --cluster-config)",
                        narrowing=True,
                    )
                )
        # Every list, Felix's defaults first where no global one is given (nodes without their own
        # list use them); two copies of one configuration that differ are both kept.
        named = [(raw.name, raw, ports) for raw, ports in lists]
        if not any(name == "default" for name, _, _ in named):
            named.insert(0, ("default (unset: Felix's defaults)", lists[0][0], _FELIX_DEFAULTS[field]))
        named.sort(key=lambda entry: not entry[0].startswith("default"))
        kept = tuple(port for port in named[0][2] if all(port in ports for _, _, ports in named))
        out[field] = kept
        for name, raw, ports in named:
            dropped = tuple(port for port in ports if port not in kept)
            if dropped:
                notes.append(
                    make(
                        "C2C232",
                        f"FelixConfiguration {name} allows failsafe {key} {_written(dropped)}, which another"
                        " FelixConfiguration (default or node.<node>) does not: the host policies hold one"
                        " list for every node, the ports every configuration allows, so Cilium denies"
                        " traffic to these ports that Calico allowed where this configuration applies",
                        raw.source(("spec", key)),
                        hint=f"state the ports in force with {FAILSAFE_FLAGS[field]} (or {key} in --cluster-config)",
                        narrowing=True,
                    )
                )
        where = {raw.name: raw for raw, _ in lists}
        first = where.get("default", lists[0][0])
        notes.append(
            make(
                "C2C231",
                f"failsafe ports {key}: {_written(kept) or 'none'}, taken from FelixConfiguration"
                f" {', '.join(where)} ({FAILSAFE_FLAGS[field]} overrides; calico-node's environment"
                f" variable FELIX_{key.upper()} takes precedence over it where set)",
                first.source(("spec", key)),
            )
        )
    return out, notes


_FELIX_DEFAULTS = {"failsafe_inbound": FAILSAFE_INBOUND, "failsafe_outbound": FAILSAFE_OUTBOUND}


def _ports_of(value: object) -> tuple[FailsafePorts, list[str]]:
    """The entries of a FelixConfiguration failsafe list that can be read, and why the others
    cannot."""
    if not isinstance(value, list):
        return (), [f"{value!r} is not a list of ports"]
    ports: list[tuple[str, int]] = []
    unread: list[str] = []
    for item in value:
        try:
            if not isinstance(item, dict):
                raise ValueError(f"{item!r} is not a mapping of protocol and port")
            unknown = sorted(str(key) for key in item if key not in ("protocol", "port", "net"))
            if unknown:
                # A misspelt key (``protocl: udp``) would read as tcp: a port Felix may not allow.
                raise ValueError(f"{item!r} has field(s) {', '.join(unknown)}, not protocol, port or net")
            ports.append(failsafe_entry(item.get("protocol"), item.get("port"), item.get("net")))
        except ValueError as exc:
            unread.append(str(exc))
    return tuple(dict.fromkeys(ports)), unread


def _written(ports: FailsafePorts) -> str:
    return ", ".join(f"{protocol}:{port}" for protocol, port in ports)
