"""Cluster facts read from the input (issue 15, item 6): an IPPool's ``cidr`` is where Calico IPAM
takes pod addresses from, so with no ``--pod-cidr`` (nor ``podCIDRs`` in ``--cluster-config``) the
pools that serve workloads are the pod ranges, each one said at its position (C2C229)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
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
