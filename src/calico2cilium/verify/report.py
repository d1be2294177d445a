"""Human-readable rendering of a verification result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from calico2cilium.semantics.world import FAILSAFE_INBOUND, FAILSAFE_OUTBOUND, FailsafePorts

if TYPE_CHECKING:
    from calico2cilium.verify.api import VerifyResult

HEADLINES = {
    "equivalent": "EQUIVALENT: Calico and Cilium allow exactly the same flows (proven for every flow).",
    "narrowed": "NARROWED: Cilium allows no flow that Calico denies (proven for every flow); it denies"
    " some that Calico allows, as the diagnostics said (examples below).",
    "different": "DIFFERENT: some flows are decided differently; counterexamples below.",
    "unexplained": "DIFFERENT: Cilium allows no flow that Calico denies (proven for every flow), but it"
    " denies some that Calico allows where no diagnostic says it narrows (examples below).",
    "incomplete": "NOT PROVEN: no difference found, but some constructs are outside the proof (listed below).",
    "invalid": "INVALID INPUT: some resources would be rejected or could not be read (listed below).",
}


def render_text(result: VerifyResult) -> str:
    headline = "unexplained" if result.unexplained and not result.counterexamples else result.status
    lines = [HEADLINES[headline]]
    if result.counterexamples:
        lines.append("")
        lines.append(f"Counterexamples ({len(result.counterexamples)}):")
        for i, example in enumerate(result.counterexamples, 1):
            lines.append(f"{i}. {example.describe()}")
    if result.unexplained:
        lines.append("")
        lines.append(
            f"Denied by Cilium, allowed by Calico, and no narrowing finding explains it (C2C414;"
            f" {len(result.unexplained)} examples):"
        )
        for i, example in enumerate(result.unexplained, 1):
            lines.append(f"{i}. {example.describe()}")
    shown = [e for e in result.narrowed if e not in result.unexplained]
    if shown:
        why = {id(example): reason for example, reason in result.explained}
        lines.append("")
        lines.append(f"Denied by Cilium, allowed by Calico ({len(shown)} examples):")
        for i, example in enumerate(shown, 1):
            lines.append(f"{i}. {example.describe()}")
            if id(example) in why:
                lines.append(f"  explained by: {why[id(example)]}")
    if result.unattributed:
        lines.append("")
        lines.append(
            f"Narrowing not all attributed (C2C415) at {len(result.unattributed)} decision point(s):"
        )
        lines.extend(f"  ! {p.direction} {p.partition}: {p.note}" for p in result.unattributed)
    if result.invalid:
        lines.append("")
        lines.append(f"Invalid ({len(result.invalid)}):")
        lines.extend(f"  - {item}" for item in result.invalid)
    if result.unsupported:
        lines.append("")
        lines.append(f"Outside the proof ({len(result.unsupported)}):")
        lines.extend(f"  - [{item.side}] {item}" for item in result.unsupported)
    unknown = [p for p in result.partitions if p.status == "unknown"]
    if unknown:
        lines.append("")
        lines.extend(f"  ! {p.direction} {p.partition}: {p.note}" for p in unknown)
    checked = len(result.partitions)
    proven = sum(1 for p in result.partitions if p.status in ("equivalent", "narrowed"))
    a = result.assumptions
    lines.append("")
    lines.append(
        f"{proven}/{checked} subject partitions proven (both directions) in {result.seconds:.2f}s; "
        f"assumptions: pod CIDRs {list(a.pod_cidrs) or 'unknown'}, node CIDRs {_nodes(a.node_cidrs)}, "
        f"Cilium {a.cilium_version[0]}.{a.cilium_version[1]}, IPv{'/'.join(str(f) for f in a.families)}, "
        f"Felix defaultEndpointToHostAction {a.calico_endpoint_to_host_action}, "
        # verify/smt/axioms.py: a TCP, UDP or SCTP flow has a port of 1-65535 (port 0 is
        # reserved; Cilium's port "0" means every port, so a deny listing ports never names it).
        "TCP/UDP/SCTP ports 1-65535 (no flow to port 0)"
        + (
            f", the inventory's {len(a.services.specs)} Service object(s) as given (services matches)."
            if a.services is not None
            else "."
        )
    )
    if result.host_subjects:
        inbound = (
            "Felix defaults"
            if a.calico_failsafe_inbound == FAILSAFE_INBOUND
            else _ports(a.calico_failsafe_inbound)
        )
        outbound = (
            "Felix defaults"
            if a.calico_failsafe_outbound == FAILSAFE_OUTBOUND
            else _ports(a.calico_failsafe_outbound)
        )
        labels = (
            "each carries the labels of its HostEndpoints and calico2cilium.io/node=<node>"
            if a.node_labels is None
            else "as given"
        )
        lines.append(
            f"Host subjects: {_some(result.host_subjects)}; node labels (Cilium's nodeSelector): {labels}; "
            f"Calico failsafe ports: inbound {inbound}, outbound {outbound}; Cilium host firewall "
            f"{'on' if a.host_firewall else 'off'}. Other nodes are not host subjects."
        )
    return "\n".join(lines)


def render_timings(result: VerifyResult, most: int = 20) -> str:
    """The partitions that took longest (CPU seconds, the solver's budget; wall seconds; policies
    of both sides in the query), so a slow one can be found and its policies looked at."""
    parts = sorted(result.partitions, key=lambda p: (-p.cpu_seconds, p.direction, p.partition))
    cpu = sum(p.cpu_seconds for p in parts)
    lines = [
        f"Timings: {len(parts)} subject partitions, {cpu:.2f} CPU s in their checks "
        f"({result.seconds:.2f} s wall for the whole verification); slowest first:",
        f"  {'CPU s':>7} {'wall s':>7} {'policies':>8}  {'status':<11} direction  partition",
    ]
    lines.extend(
        f"  {p.cpu_seconds:>7.2f} {p.seconds:>7.2f} {p.policies:>8}  {p.status:<11} {p.direction:<10} {p.partition}"
        for p in parts[:most]
    )
    if len(parts) > most:
        rest = parts[most:]
        lines.append(f"  ... {len(rest)} more, {sum(p.cpu_seconds for p in rest):.2f} CPU s together")
    return "\n".join(lines)


def _some(names: list[str], most: int = 5) -> str:
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"


def _ports(ports: FailsafePorts) -> str:
    return "[" + ", ".join(f"{p}:{n}" for p, n in ports) + "]"


def _nodes(cidrs: tuple[str, ...]) -> str:
    """The node ranges as assumed: given, they hold every address of every node (C2C388)."""
    return f"{list(cidrs)} (every node address inside them)" if cidrs else "unknown"
