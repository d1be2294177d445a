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
decided once.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from calico2cilium.diagnostics import Diagnostic, Source
from calico2cilium.semantics.expr import (
    SUBJECT,
    And,
    Const,
    Expr,
    IsKind,
    Kind,
    Not,
    Or,
    Present,
    StrShorter,
    StrTest,
    walk,
)
from calico2cilium.semantics.program import Ref, Side, Verdict
from calico2cilium.semantics.world import ICMP, ICMPV6, IP, SCTP, TCP, UDP, Endpoint, Flow, evaluate

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
                flows.append(parse_flow(json.loads(line)))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                problems.append(
                    make("C2C413", f"not a Hubble or Calico flow: {exc}", Source(path, number, 1))
                )
    return flows, problems


def parse_flow(data: Any) -> Observed | None:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    if "flow" in data and isinstance(data["flow"], dict):
        return _hubble(data["flow"])
    if any(k in data for k in ("IP", "ip", "l4", "traffic_direction", "trafficDirection")):
        return _hubble(data)
    if any(k in data for k in ("source_namespace", "dest_namespace", "dest_port", "source_ip")):
        return _calico(data)
    raise ValueError("neither a Hubble flow (IP, l4) nor a Calico flow log (source_*, dest_*)")


def _get(data: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in data:
            return data[name]
    return None


def _hubble(flow: Mapping[str, Any]) -> Observed | None:
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
    return Observed(
        _hubble_end(flow.get("source") or {}, addresses["source"]),
        _hubble_end(flow.get("destination") or {}, addresses["destination"]),
        protocol,
        port,
        icmp,
        allowed,
        "cilium",
    )


def _hubble_l4(l4: Mapping[str, Any]) -> tuple[int, int, int]:
    for name, number in (("TCP", TCP), ("UDP", UDP), ("SCTP", SCTP)):
        if isinstance(l4.get(name), dict):
            return number, int(_get(l4[name], "destination_port", "destinationPort") or 0), 0
    for name, number in (("ICMPv4", ICMP), ("ICMPv6", ICMPV6)):
        if isinstance(l4.get(name), dict):
            return number, 0, int(l4[name].get("type") or 0)
    raise ValueError("l4 has none of TCP, UDP, SCTP, ICMPv4, ICMPv6")


def _hubble_end(data: Mapping[str, Any], ip: str) -> End:
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


def _calico(data: Mapping[str, Any]) -> Observed | None:
    proto = data.get("proto", data.get("protocol"))
    protocol = PROTOCOLS.get(str(proto).lower()) if not str(proto).isdigit() else int(str(proto))
    if protocol is None:
        raise ValueError(f"unknown proto {proto!r}")
    source, destination = _calico_end(data, "source"), _calico_end(data, "dest")
    if source is None or destination is None:
        return None
    action = str(data.get("action", "")).lower()
    allowed = {"allow": True, "deny": False}.get(action)
    port = int(data.get("dest_port") or 0) if protocol in (TCP, UDP, SCTP) else 0
    return Observed(source, destination, protocol, port, 0, allowed, "calico")


def _calico_end(data: Mapping[str, Any], side: str) -> End | None:
    ip = data.get(f"{side}_ip")
    if not ip or ip == "-":
        return None  # aggregated: no address to decide on
    kind = str(data.get(f"{side}_type") or "")
    namespace = str(data.get(f"{side}_namespace") or "")
    namespace = "" if namespace == "-" else namespace
    if kind == "hep":
        return End("host", ipaddress.ip_address(ip))
    if kind != "wep" or not namespace:
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
Programs = Any
"""``flow -> program`` deciding it: ``_BySubject``."""


def _decide(programs: Programs, observed: Observed, side: Side) -> Verdict:
    """The connection's verdict: every decision point on the way must allow it."""
    source, destination = observed.source.endpoint(), observed.destination.endpoint()
    last: Verdict | None = None
    points = []
    if source.kind == "pod":
        points.append(
            Flow(
                "egress", source, destination, observed.protocol, observed.dst_port, 40000, observed.icmp_type
            )
        )
    if destination.kind == "pod":
        points.append(
            Flow(
                "ingress",
                destination,
                source,
                observed.protocol,
                observed.dst_port,
                40000,
                observed.icmp_type,
            )
        )
    for flow in points:
        last = programs(flow).decide(flow)
        if not last.allowed:
            return last
    return last or Verdict(True, Ref(side, "no pod at either end: not decided by pod policy"))


class _BySubject:
    """One side's programs restricted, per subject, to the policies selecting it, built once per
    subject (labels, namespace, service account; not its address). Sound because a policy that
    does not select the subject never applies to its flows; a selector that reads more than the
    subject's labels and kind (an address, a port) keeps its policy in every restriction."""

    def __init__(self, programs: Decider) -> None:
        self.programs = programs
        self.cache: dict[tuple[Any, ...], Any] = {}
        self.plain: dict[int, bool] = {}

    def __call__(self, flow: Flow) -> Any:
        e = flow.subject
        key = (
            flow.direction,
            e.kind,
            e.namespace,
            tuple(sorted(e.labels.items())),
            tuple(sorted(e.namespace_labels.items())),
            e.service_account,
        )
        if key not in self.cache:
            memo: dict[int, bool] = {}
            self.cache[key] = self.programs[flow.direction].restrict(
                lambda p: not self._plain(p.selects) or evaluate(p.selects, flow, memo)
            )
        return self.cache[key]

    def _plain(self, selects: Expr) -> bool:
        """Whether ``selects`` reads only the subject's labels, names and kind."""
        if id(selects) not in self.plain:
            self.plain[id(selects)] = all(_plain_node(n) for n in walk(selects))
        return self.plain[id(selects)]


def _plain_node(node: Expr) -> bool:
    if isinstance(node, Const | And | Or | Not):
        return True
    if isinstance(node, Present | StrTest | StrShorter):
        return node.attr.entity == SUBJECT
    if isinstance(node, IsKind):
        return node.entity == SUBJECT
    return False


def replay(
    flows: Iterable[Observed | None], calico_programs: Decider, cilium_programs: Decider
) -> FlowReplay:
    """Each observed flow through both sides' programs."""
    calico, cilium = _BySubject(calico_programs), _BySubject(cilium_programs)
    out = FlowReplay()
    cache: dict[tuple[Any, ...], tuple[Verdict, Verdict]] = {}
    changed: dict[tuple[Any, ...], Group] = {}
    disagree: dict[tuple[Any, ...], Group] = {}
    for observed in flows:
        out.seen += 1
        if observed is None or "host" in (observed.source.kind, observed.destination.kind):
            out.skipped += 1
            continue
        key = observed.key()
        if key not in cache:
            cache[key] = (_decide(calico, observed, "calico"), _decide(cilium, observed, "cilium"))
        calico_v, cilium_v = cache[key]
        group_key = (
            observed.source.namespace or observed.source.kind,
            observed.destination.namespace or observed.destination.kind,
            observed.protocol,
            observed.dst_port,
            calico_v.ref.what,
            cilium_v.ref.what,
        )
        if calico_v.allowed != cilium_v.allowed:
            changed.setdefault(group_key, Group(observed, calico_v, cilium_v)).count += 1
        own = calico_v if observed.engine == "calico" else cilium_v
        if observed.allowed is not None and observed.allowed != own.allowed:
            disagree.setdefault(
                (observed.engine, observed.allowed, *group_key), Group(observed, calico_v, cilium_v)
            ).count += 1
    out.changed = list(changed.values())
    out.disagree = list(disagree.values())
    return out
