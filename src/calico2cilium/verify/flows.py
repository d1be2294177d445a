"""Observed flows replayed through both sides: which real connections would change verdict.

Two export formats are read, one JSON object a line (detected per line):

- Hubble, ``hubble observe -o json``: a ``GetFlowsResponse`` (``{"flow": {...}}``) or a bare flow,
  with the fields of Cilium's ``api/v1/flow/flow.proto`` (``IP.source``/``IP.destination``,
  ``l4.TCP|UDP|SCTP.destination_port``, ``l4.ICMPv4|ICMPv6.type``, ``source``/``destination``
  endpoints with ``namespace``, ``pod_name`` and ``labels`` as ``k8s:key=value`` strings,
  ``verdict``, ``drop_reason_desc``, ``is_reply``). Both proto names and their lowerCamelCase JSON
  names are accepted. Replies are skipped (the connection was decided at its first packet).
- Calico flow logs, as Calico Enterprise and Cloud export them (docs.tigera.io, "Flow log data
  types"): ``source_ip``, ``source_namespace``, ``source_name``, ``source_type``
  (``wep``/``hep``/``ns``/``net``), ``source_labels``, the same ``dest_*`` fields, ``dest_port``,
  ``proto``, ``action`` (``allow``/``deny``). Labels are accepted as ``{"labels": ["k=v", ...]}``,
  a list of ``k=v`` or a mapping. A ``-`` namespace or name means none.

Each flow is a connection from its source to its destination. It is decided at the source's egress
when the source is a pod and at the destination's ingress when the destination is a pod; it is
allowed when every such decision allows it (host endpoints are not replayed). Identical flows are
decided once, and the decision points of all flows together (``verify.flowbits``), so that an
export of 100,000 flows costs seconds.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from calico2cilium.diagnostics import Diagnostic, Source
from calico2cilium.semantics.expr import Kind
from calico2cilium.semantics.program import Ref, Side, Verdict
from calico2cilium.semantics.world import ICMP, ICMPV6, IP, SCTP, TCP, UDP, Direction, Endpoint

if TYPE_CHECKING:
    from calico2cilium.verify.flowbits import Point

Engine = Literal["calico", "cilium"]
PROTOCOLS = {"tcp": TCP, "udp": UDP, "sctp": SCTP, "icmp": ICMP, "icmpv6": ICMPV6, "icmp6": ICMPV6}
NAMESPACE_NAME = "kubernetes.io/metadata.name"
"""The label Kubernetes sets on every namespace to its name (1.21+)."""


@dataclass(frozen=True)
class End:
    """One end of an observed flow."""

    kind: Kind
    ip: IP
    namespace: str = ""
    name: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    namespace_labels: tuple[tuple[str, str], ...] = ()
    service_account: str = "default"

    def endpoint(self) -> Endpoint:
        if self.kind != "pod":
            return Endpoint(self.kind, self.ip)
        ns_labels = {NAMESPACE_NAME: self.namespace, **dict(self.namespace_labels)}
        return Endpoint(
            "pod",
            self.ip,
            namespace=self.namespace,
            labels=dict(self.labels),
            namespace_labels=ns_labels,
            service_account=self.service_account,
            name=self.name,
        )

    def describe(self) -> str:
        if self.kind != "pod":
            return f"{self.kind} {self.ip}"
        return f"{self.namespace}/{self.name or '?'}"


@dataclass(frozen=True)
class Observed:
    source: End
    destination: End
    protocol: int
    dst_port: int = 0
    icmp_type: int = 0
    allowed: bool | None = None
    """What the export says was done (``None``: not said, or not a policy decision)."""
    engine: Engine = "calico"
    """Which dataplane observed it (Calico logs: Calico; Hubble: Cilium)."""

    def key(self) -> tuple[Any, ...]:
        return (self.source, self.destination, self.protocol, self.dst_port, self.icmp_type)


@dataclass
class Group:
    """Observed flows with the same endpoints' namespaces, protocol, port and rules on each side."""

    example: Observed
    calico: Verdict
    cilium: Verdict
    count: int = 0

    def describe(self) -> str:
        o = self.example
        l4 = f"{_proto(o.protocol)}/{o.dst_port}" if o.dst_port else _proto(o.protocol)
        return f"{o.source.describe()} -> {o.destination.describe()} {l4}"


@dataclass
class FlowReplay:
    seen: int = 0
    skipped: int = 0
    """Replies, flows without addresses, host endpoints: not replayed."""
    changed: list[Group] = field(default_factory=list)
    disagree: list[Group] = field(default_factory=list)
    """Flows the export says were decided otherwise than the policies of its own dataplane do."""

    def to_dict(self) -> dict[str, Any]:
        def groups(items: list[Group], observed: bool = False) -> list[dict[str, Any]]:
            return [
                {
                    "flows": g.count,
                    "example": g.describe(),
                    "calico": g.calico.to_dict(),
                    "cilium": g.cilium.to_dict(),
                    **(
                        {"observed_allowed": g.example.allowed, "observed_by": g.example.engine}
                        if observed
                        else {}
                    ),
                }
                for g in items
            ]

        return {
            "seen": self.seen,
            "skipped": self.skipped,
            "changed": sum(g.count for g in self.changed),
            "changed_regions": groups(self.changed),
            "disagree": sum(g.count for g in self.disagree),
            "disagree_regions": groups(self.disagree, observed=True),
        }

    def render_text(self) -> str:
        changed = sum(g.count for g in self.changed)
        lines = [
            f"Observed flows: {self.seen} seen, {self.seen - self.skipped} replayed; {changed} would change"
            f" verdict ({len(self.changed)} group(s))"
        ]
        for g in sorted(self.changed, key=lambda g: -g.count):
            now = "allowed" if g.cilium.allowed else "denied"
            before = "allowed" if g.calico.allowed else "denied"
            lines.append(
                f"  {g.count} x {g.describe()}: {before} by Calico ({g.calico.ref}), {now} by Cilium ({g.cilium.ref})"
            )
        if self.disagree:
            lines.append(
                f"{sum(g.count for g in self.disagree)} flow(s) were decided otherwise than the policies of the"
                " dataplane that observed them (a stale export, or policies missing from the input):"
            )
            for g in sorted(self.disagree, key=lambda g: -g.count):
                said = "allowed" if g.example.allowed else "denied"
                verdict = g.calico if g.example.engine == "calico" else g.cilium
                lines.append(
                    f"  {g.count} x {g.describe()}: the {g.example.engine} export says {said}, its policies"
                    f" {'allow' if verdict.allowed else 'deny'} ({verdict.ref})"
                )
        return "\n".join(lines)


def _proto(number: int) -> str:
    names = {v: k.upper() for k, v in PROTOCOLS.items() if k not in ("icmp6",)}
    return names.get(number, f"proto {number}")


# --- reading ----------------------------------------------------------------------------------


def read_flows(paths: Sequence[str]) -> tuple[list[Observed | None], list[Diagnostic]]:
    """Every line of every file: an ``Observed`` flow, or ``None`` for one that is not replayed
    (a reply, a flow without addresses). A line that is not a flow of either format is an error."""
    from calico2cilium.diagnostics.catalog import make

    flows: list[Observed | None] = []
    problems: list[Diagnostic] = []
    ends: Ends = {}
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(make("C2C413", f"cannot read the flow export {path}: {exc}", Source(path)))
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                flows.append(parse_flow(json.loads(line), ends))
            # RecursionError: a line nested deeper than json can read; OverflowError: a number such
            # as 1e400 (infinity) where an integer is due (review7: both were internal errors).
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError, OverflowError) as exc:
                problems.append(
                    make("C2C413", f"not a Hubble or Calico flow: {exc}", Source(path, number, 1))
                )
    return flows, problems


Ends = dict[tuple[Any, ...], End]
"""The ends read so far, by the fields they were read from: an export names the same few pods
over and over, and equal ends are then one object (read once, hashed once by ``replay``)."""


def parse_flow(data: Any, ends: Ends | None = None) -> Observed | None:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    ends = {} if ends is None else ends
    if "flow" in data and isinstance(data["flow"], dict):
        return _hubble(data["flow"], ends)
    if any(k in data for k in ("IP", "ip", "l4", "traffic_direction", "trafficDirection")):
        return _hubble(data, ends)
    if any(k in data for k in ("source_namespace", "dest_namespace", "dest_port", "source_ip")):
        return _calico(data, ends)
    raise ValueError("neither a Hubble flow (IP, l4) nor a Calico flow log (source_*, dest_*)")


def _get(data: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in data:
            return data[name]
    return None


def _hubble(flow: Mapping[str, Any], ends: Ends) -> Observed | None:
    reply = _get(flow, "is_reply", "isReply")
    if reply is True or (isinstance(reply, dict) and reply.get("value")):
        return None
    addresses = _get(flow, "IP", "ip") or {}
    if not addresses.get("source") or not addresses.get("destination"):
        return None
    protocol, port, icmp = _hubble_l4(flow.get("l4") or {})
    verdict = str(flow.get("verdict", ""))
    reason = str(_get(flow, "drop_reason_desc", "dropReasonDesc") or "")
    allowed = {"FORWARDED": True, "1": True, "DROPPED": False, "2": False}.get(verdict)
    if allowed is False and reason and reason != "POLICY_DENIED" and "POLICY" not in reason:
        allowed = None  # a drop for another reason than policy
    return _checked(
        Observed(
            _hubble_end(flow.get("source") or {}, addresses["source"], ends),
            _hubble_end(flow.get("destination") or {}, addresses["destination"], ends),
            protocol,
            port,
            icmp,
            allowed,
            "cilium",
        )
    )


def _checked(flow: Observed) -> Observed:
    """A flow that can exist (review6 finding 5: these were replayed without a word)."""
    if not 0 <= flow.dst_port <= 65535:
        raise ValueError(f"destination port {flow.dst_port} is not a port (0-65535)")
    if not 0 <= flow.icmp_type <= 255:
        raise ValueError(f"ICMP type {flow.icmp_type} is not a type (0-255)")
    if flow.source.ip.version != flow.destination.ip.version:
        raise ValueError("the source and destination addresses are of different IP families")
    return flow


def _hubble_l4(l4: Mapping[str, Any]) -> tuple[int, int, int]:
    for name, number in (("TCP", TCP), ("UDP", UDP), ("SCTP", SCTP)):
        if isinstance(l4.get(name), dict):
            return number, int(_get(l4[name], "destination_port", "destinationPort") or 0), 0
    for name, number in (("ICMPv4", ICMP), ("ICMPv6", ICMPV6)):
        if isinstance(l4.get(name), dict):
            return number, 0, int(l4[name].get("type") or 0)
    raise ValueError("l4 has none of TCP, UDP, SCTP, ICMPv4, ICMPv6")


def _hubble_end(data: Mapping[str, Any], ip: str, ends: Ends) -> End:
    labels = data.get("labels") or []
    if not isinstance(labels, list):
        raise ValueError("labels must be a list of 'source:key=value' strings")
    name = _get(data, "pod_name", "podName")
    key = ("hubble", repr(ip), repr(data.get("namespace")), repr(name), *map(str, labels))
    if key not in ends:
        ends[key] = _read_hubble_end(data, ip)
    return ends[key]


def _read_hubble_end(data: Mapping[str, Any], ip: str) -> End:
    labels: dict[str, str] = {}
    namespace_labels: dict[str, str] = {}
    reserved: set[str] = set()
    service_account = "default"
    for item in data.get("labels") or []:
        source, _, rest = str(item).partition(":")
        key, _, value = rest.partition("=")
        if source == "reserved":
            reserved.add(key)
        elif key.startswith("io.cilium.k8s.namespace.labels."):
            namespace_labels[key.removeprefix("io.cilium.k8s.namespace.labels.")] = value
        elif key == "io.cilium.k8s.policy.serviceaccount":
            service_account = value
        elif source == "k8s" and not key.startswith(("io.kubernetes.pod.namespace", "io.cilium.")):
            labels[key] = value
    namespace = str(data.get("namespace") or "")
    name = str(_get(data, "pod_name", "podName") or "")
    address = ipaddress.ip_address(ip)
    if namespace and "host" not in reserved:
        return End(
            "pod", address, namespace, name, _sorted(labels), _sorted(namespace_labels), service_account
        )
    kind: Kind = "host" if "host" in reserved else "remote-node" if "remote-node" in reserved else "world"
    return End(kind, address)


def _calico(data: Mapping[str, Any], ends: Ends) -> Observed | None:
    proto = data.get("proto", data.get("protocol"))
    protocol = PROTOCOLS.get(str(proto).lower()) if not str(proto).isdigit() else int(str(proto))
    if protocol is None:
        raise ValueError(f"unknown proto {proto!r}")
    source, destination = _calico_end(data, "source", ends), _calico_end(data, "dest", ends)
    if source is None or destination is None:
        return None
    action = str(data.get("action", "")).lower()
    allowed = {"allow": True, "deny": False}.get(action)
    port = int(data.get("dest_port") or 0) if protocol in (TCP, UDP, SCTP) else 0
    return _checked(Observed(source, destination, protocol, port, 0, allowed, "calico"))


def _calico_end(data: Mapping[str, Any], side: str, ends: Ends) -> End | None:
    fields = ("ip", "type", "namespace", "name", "name_aggr", "labels")
    key = ("calico", *(repr(data.get(f"{side}_{name}")) for name in fields))
    if key not in ends:
        found = _read_calico_end(data, side)
        if found is None:
            return None
        ends[key] = found
    return ends[key]


def _read_calico_end(data: Mapping[str, Any], side: str) -> End | None:
    ip = data.get(f"{side}_ip")
    if not ip or ip == "-":
        return None  # aggregated: no address to decide on
    kind = str(data.get(f"{side}_type") or "")
    namespace = str(data.get(f"{side}_namespace") or "")
    namespace = "" if namespace == "-" else namespace
    if kind == "hep":
        return End("host", ipaddress.ip_address(ip))
    if kind == "wep" and not namespace:
        raise ValueError(f"{side}_type is wep (a pod) but {side}_namespace is missing")
    if kind != "wep":
        return End("world", ipaddress.ip_address(ip))
    name = str(data.get(f"{side}_name") or data.get(f"{side}_name_aggr") or "")
    return End(
        "pod",
        ipaddress.ip_address(ip),
        namespace,
        "" if name == "-" else name,
        _labels(data.get(f"{side}_labels")),
    )


def _labels(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict) and "labels" in value:
        value = value["labels"]
    if isinstance(value, dict):
        return _sorted({str(k): str(v) for k, v in value.items()})
    if isinstance(value, list):
        pairs = (str(item).partition("=") for item in value)
        return _sorted({k: v for k, _, v in pairs})
    return ()


def _sorted(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


# --- replay -----------------------------------------------------------------------------------


Decider = Any
"""``{"ingress": program, "egress": program}`` of one side (``CalicoProgram``/``CiliumProgram``)."""


def directions(observed: Observed) -> list[Direction]:
    """Where a connection is decided: at its source's egress when the source is a pod, then at its
    destination's ingress when the destination is a pod (the subject; the other end is the peer)."""
    out: list[Direction] = []
    if observed.source.kind == "pod":
        out.append("egress")
    if observed.destination.kind == "pod":
        out.append("ingress")
    return out


def connection(verdicts: Iterable[Verdict], side: Side) -> Verdict:
    """The connection's verdict from its decision points' (in ``directions`` order): every one must allow it."""
    last: Verdict | None = None
    for last in verdicts:
        if not last.allowed:
            return last
    return last or Verdict(True, Ref(side, "no pod at either end: not decided by pod policy"))


def replay(
    flows: Iterable[Observed | None], calico_programs: Decider, cilium_programs: Decider
) -> FlowReplay:
    """Each observed flow through both sides' programs."""
    items = list(flows)
    return _tally(items, *decide_flows(items, calico_programs, cilium_programs))


Decided = tuple[list[int | None], list[Verdict], list[Verdict]]
"""Per flow, its slot (``None``: not replayed); per slot, the Calico and the Cilium verdict."""


def decide_flows(
    items: Sequence[Observed | None], calico_programs: Decider, cilium_programs: Decider
) -> Decided:
    """Both sides' verdicts on the flows. Identical flows (same ends, protocol, port) share a slot
    and are decided once, and all decision points of each side together (``verify.flowbits``)."""
    from calico2cilium.verify.flowbits import decide_points

    ids: dict[End, int] = {}  # each distinct end, numbered
    by_identity: dict[int, int] = {}
    ends: list[End] = []
    index: dict[tuple[int, int, int, int, int], int] = {}
    slots: list[int | None] = []  # per flow: its unique flow, None when not replayed
    unique: list[Observed] = []
    for observed in items:
        if observed is None or "host" in (observed.source.kind, observed.destination.kind):
            slots.append(None)
            continue
        pair = []
        for end in (observed.source, observed.destination):
            number = by_identity.get(id(end))  # the reader gives equal ends as one object
            if number is None:
                number = by_identity[id(end)] = ids.setdefault(end, len(ends))
                if number == len(ends):
                    ends.append(end)
            pair.append(number)
        key = (pair[0], pair[1], observed.protocol, observed.dst_port, observed.icmp_type)
        slot = index.setdefault(key, len(unique))
        if slot == len(unique):
            unique.append(observed)
        slots.append(slot)
    where: list[list[int]] = []
    flat: list[Point] = []
    for (src, dst, protocol, port, icmp), observed in zip(index, unique, strict=True):
        mine = []
        for direction in directions(observed):
            mine.append(len(flat))
            subject, peer = (src, dst) if direction == "egress" else (dst, src)
            flat.append((direction, subject, peer, (protocol, port, icmp)))
        where.append(mine)
    endpoints = [end.endpoint() for end in ends]
    sides: tuple[tuple[Decider, Side], ...] = ((calico_programs, "calico"), (cilium_programs, "cilium"))
    decided = []
    for programs, side in sides:
        at = decide_points(programs, flat, endpoints)
        decided.append([connection((at[i] for i in mine), side) for mine in where])
    return slots, decided[0], decided[1]


def _tally(
    flows: Sequence[Observed | None],
    slots: Sequence[int | None],
    calico: Sequence[Verdict],
    cilium: Sequence[Verdict],
) -> FlowReplay:
    """Count the flows, and group those that change verdict or disagree with their export."""
    out = FlowReplay(seen=len(flows))
    changed: dict[tuple[Any, ...], Group] = {}
    disagree: dict[tuple[Any, ...], Group] = {}
    for observed, at in zip(flows, slots, strict=True):
        if observed is None or at is None:
            out.skipped += 1
            continue
        calico_v, cilium_v = calico[at], cilium[at]
        own = calico_v if observed.engine == "calico" else cilium_v
        changes = calico_v.allowed != cilium_v.allowed
        disagrees = observed.allowed is not None and observed.allowed != own.allowed
        if not (changes or disagrees):
            continue
        group_key = (
            observed.source.namespace or observed.source.kind,
            observed.destination.namespace or observed.destination.kind,
            observed.protocol,
            observed.dst_port,
            calico_v.ref.what,
            cilium_v.ref.what,
        )
        if changes:
            changed.setdefault(group_key, Group(observed, calico_v, cilium_v)).count += 1
        if disagrees:
            disagree.setdefault(
                (observed.engine, observed.allowed, *group_key), Group(observed, calico_v, cilium_v)
            ).count += 1
    out.changed = list(changed.values())
    out.disagree = list(disagree.values())
    return out
