"""L4 sets -> Cilium ``toPorts`` and ``icmps`` (docs/reference/semantics.md §2.3 and 3.5).

* No L4 part at all means every protocol, so only the full set may be written that way.
* ``toPorts`` speaks of TCP, UDP and SCTP only (``ANY`` = those three); ``port: "0"`` is every
  port; ranges need ``endPort`` (Cilium 1.16+); at most 40 ports per ``toPorts`` item.
* A range never covers a TCP port that carries L7 rules (``l7_ports``): it is split so that such a
  port is an entry of its own, which joins the L7 rule's filter. A range is a filter of its own,
  which some Cilium versions hand to the proxy as a peer-less allow-all (docs/reference/semantics.md §2.3;
  the verifier's model of it: ``semantics/cilium_l7.py``).
* ``icmps`` speaks of ICMP types per family, with no code; at most 40 fields per item. Type 0 is
  refused by Cilium's datapath as "every type" (cilium/cilium#41304), so a set holding type 0
  but not every type cannot be written.
* Any other protocol (GRE, ESP, ...) has no Cilium form unless it is part of "everything".

``l4_parts`` returns the pieces whose union is the set, each to be put in its own rule (Cilium
refuses ``toPorts`` and ``icmps`` in one rule), or raises ``Inexpressible``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from calico2cilium.facts.protocols import iana_svc_name
from calico2cilium.facts.target import CiliumTarget
from calico2cilium.sets import Inexpressible, IntervalSet, L4Set, cilium_names
from calico2cilium.sets.l4 import ICMP, ICMPV6, SCTP, TCP, UDP, IcmpMap

MAX_PORTS_PER_ITEM = 40
PORT_MAX = 65535
MAX_ICMP_FIELDS = 40


def split_around(lo: int, hi: int, ports: Iterable[int]) -> list[tuple[int, int]]:
    """``lo..hi`` as ordered ranges in which each of ``ports`` it holds stands alone, so that a range
    never covers a port that carries L7 rules (each such port becomes its own single-port entry,
    which joins the L7 rule's filter)."""
    out: list[tuple[int, int]] = []
    start = lo
    for port in sorted({p for p in ports if lo <= p <= hi}):
        if port > start:
            out.append((start, port - 1))
        out.append((port, port))
        start = port + 1
    if start <= hi:
        out.append((start, hi))
    return out


_NAMES = {TCP: "TCP", UDP: "UDP", SCTP: "SCTP"}
_FAMILIES = {ICMP: "IPv4", ICMPV6: "IPv6"}


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _from_one(numbers: IntervalSet) -> bool:
    """Whether ``numbers`` holds every port from 1 to 65535."""
    return any(lo <= 1 and hi == PORT_MAX for lo, hi in numbers.ranges)


def _port_entries(l4: L4Set, target: CiliumTarget, l7_ports: frozenset[int]) -> list[dict[str, Any]]:
    per_proto: dict[int, list[dict[str, Any]]] = {}
    for proto, pm in l4.ports:
        numbers, names = cilium_names(pm)
        entries: list[dict[str, Any]] = []
        for name in sorted(names):
            if not iana_svc_name(name) or name != name.lower():
                raise Inexpressible(
                    "named port",
                    f"'{name}' is not an IANA service name in lower case, the only named ports Cilium accepts",
                )
            entries.append({"port": name})
        # Port 0 is no destination port (connect/sendto refuse it; the verifier's world has no
        # such flow), and Cilium reads port "0" as every port: so 1-65535 is written "0".
        if _from_one(numbers):
            entries.append({"port": "0"})
        else:
            for lo, hi in (
                part for r in numbers.ranges for part in split_around(max(r[0], 1), r[1], l7_ports)
            ):
                if lo == hi:
                    entries.append({"port": str(lo)})
                elif target.end_port:
                    entries.append({"port": str(lo), "endPort": hi})
                elif hi - lo < MAX_PORTS_PER_ITEM * 4:
                    entries.extend({"port": str(p)} for p in range(lo, hi + 1))
                else:
                    raise Inexpressible(
                        "port range", f"ports {lo}-{hi} need endPort, which Cilium has from 1.16"
                    )
        per_proto[proto] = entries
    # TCP, UDP and SCTP with the same ports: one ANY entry list.
    if set(per_proto) == {TCP, UDP, SCTP} and per_proto[TCP] == per_proto[UDP] == per_proto[SCTP]:
        return [{**e, "protocol": "ANY"} for e in per_proto[TCP]]
    return [{**e, "protocol": _NAMES[p]} for p, entries in sorted(per_proto.items()) for e in entries]


def _every_type(types: IcmpMap) -> bool:
    """Whether an ICMP type map holds every type with every code."""
    return len(types.segments) == 1 and types.segments[0][:2] == (0, 255) and types.segments[0][2].is_full


def icmp_field(family: str, number: int) -> dict[str, Any]:
    """An ``icmps`` field; ``family`` left out for IPv4, which is what Cilium reads an empty family
    as: the CRD's ``default: IPv4``, and in Go ``ICMPField.PortProtocol`` (pkg/policy/api/icmp.go)
    takes every family but ``IPv6`` as ICMPv4, in every supported release (1.15's
    ``if i.Family == IPv6Family {...} else {proto = ProtoICMP}`` and the later ``switch
    i.Family {case IPv6Family: ... default: proto = ProtoICMP}``). A type enumerated one by one
    is 11 characters instead of 25."""
    return {"type": number} if family == "IPv4" else {"family": family, "type": number}


def icmp_family(field: dict[str, Any]) -> str:
    """The family of an ``icmps`` field as Cilium reads it (``icmp_field``)."""
    return str(field.get("family") or "IPv4")


def _icmp_fields(l4: L4Set, target: CiliumTarget, *, allow: bool) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []
    for proto, types in l4.icmp:
        family = _FAMILIES[proto]
        if allow and target.icmp_type_zero_matches_every_type and _every_type(types):
            # Every type of the family: type 0 alone says it (cilium/cilium#41304). Allows only:
            # a Cilium that fixed the bug would allow less here (type 0 alone), never more,
            # while a deny written so would deny less.
            fields.append(icmp_field(family, 0))
            continue
        covered = 0
        for lo, hi, codes in types.segments:
            if not codes.is_full:
                raise Inexpressible(
                    "ICMP code", "Cilium ICMP rules match a type, never a code (icmps has no code field)"
                )
            covered += hi - lo + 1
            fields.extend(icmp_field(family, t) for t in range(lo, hi + 1))
        holds_zero = bool(types.segments) and types.segments[0][0] == 0
        if holds_zero and covered < 256 and target.icmp_type_zero_matches_every_type:
            raise Inexpressible(
                "ICMP type 0",
                "Cilium matches ICMP type 0 as every type (cilium/cilium#41304), so a type set holding"
                " 0 but not every type cannot be written",
            )
    return fields


ICMP_EVERY_TYPE_NOTE = "ICMP type 0 in an allow stands for every type of its family (cilium/cilium#41304)"
"""Said in the description of a spec whose allows write an ICMP type 0: with every supported
Cilium (``CiliumTarget.icmp_type_zero_matches_every_type``) type 0 matches every type, so a type
set holding 0 is only ever written for every type."""

_SECTIONS = ("ingress", "ingressDeny", "egress", "egressDeny")
ICMP_LISTED_MIN = 9
"""The fewest fields of an ``icmps`` rule whose types the spec's description sums up."""


def allows_icmp_type_zero(rules: list[dict[str, Any]]) -> bool:
    """Whether some rule writes an ICMP field of type 0."""
    return any(f.get("type") == 0 for r in rules for item in r.get("icmps", ()) for f in item["fields"])


def _ranges(numbers: list[int]) -> str:
    """``1-5, 9, 11-255``: sorted numbers as runs of consecutive ones."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in runs)


def _types_said(family: str, types: set[int]) -> str:
    """``every ICMPv4 type``, ``every ICMPv4 type but 0``, or ``ICMPv4 types 3-5, 8``: whichever
    of the set and its complement reads shorter."""
    name = "ICMPv4" if family == "IPv4" else "ICMPv6"
    missing = sorted(set(range(256)) - types)
    if not missing:
        return f"every {name} type"
    listed = _ranges(sorted(types))
    if len(_ranges(missing)) < len(listed):
        return f"every {name} type but {_ranges(missing)}"
    return f"{name} types {listed}"


def icmp_listing(rules: list[dict[str, Any]]) -> list[str]:
    """What the long ``icmps`` lists of ``rules`` hold, one phrase per distinct list (``every
    ICMPv4 type but 0``): Cilium matches one ICMP type per field and has no rule for a whole ICMP
    protocol, so a deny of every type (or of all but a few) lists them one by one, and a reviewer
    should not have to read a few hundred types to learn that."""
    said: dict[str, None] = {}
    for rule in rules:
        fields = [f for item in rule.get("icmps", ()) for f in item["fields"]]
        if len(fields) < ICMP_LISTED_MIN:
            continue
        families: dict[str, set[int]] = {}
        for f in fields:
            families.setdefault(icmp_family(f), set()).add(int(f["type"]))
        said[" and ".join(_types_said(fam, types) for fam, types in sorted(families.items()))] = None
    return list(said)


def with_icmp_notes(description: str, sections: Mapping[str, list[dict[str, Any]]]) -> str:
    """``description`` with what a reader of the spec's ICMP rules needs told: that a type 0 in
    an allow is every type (``ICMP_EVERY_TYPE_NOTE``), and what a long type list holds
    (``icmp_listing``)."""
    notes = []
    if any(allows_icmp_type_zero(sections.get(name, [])) for name in ("ingress", "egress")):
        notes.append(ICMP_EVERY_TYPE_NOTE)
    listed = icmp_listing([r for name in _SECTIONS for r in sections.get(name, [])])
    if listed:
        notes.append(f"icmps list {'; '.join(listed)}, one type per field")
    return "".join([description, *(f" ({note})" for note in notes)])


def tcp_numbers(l4: L4Set) -> set[int]:
    """The numbered TCP ports of ``l4`` (for the ports that carry L7 rules: a few hundred at most)."""
    found: set[int] = set()
    for proto, pm in l4.ports:
        if proto == TCP:
            for lo, hi in cilium_names(pm)[0].ranges:
                found.update(range(max(lo, 1), hi + 1))
    return found


def l4_parts(
    l4: L4Set, target: CiliumTarget, l7_ports: frozenset[int] = frozenset(), *, allow: bool = False
) -> list[dict[str, Any]]:
    """Rule fragments (``{}``, ``{"toPorts": ...}``, ``{"icmps": ...}``) whose union is ``l4``; no
    range entry covers one of ``l7_ports`` (the TCP ports that carry L7 rules next to it).
    ``allow``: the fragments are for an allow rule, where every ICMP type of a family is written
    as type 0 (``ICMP_EVERY_TYPE_NOTE``)."""
    if l4.is_full:
        return [{}]
    if not l4.others.is_empty:
        raise Inexpressible(
            "protocol",
            f"protocols {l4.others} are part of the set but not every protocol is; Cilium rules match"
            " only TCP, UDP, SCTP and ICMP, or every protocol",
        )
    parts: list[dict[str, Any]] = []
    ports = _port_entries(l4, target, l7_ports)
    if ports:
        parts.append({"toPorts": [{"ports": chunk} for chunk in chunks(ports, MAX_PORTS_PER_ITEM)]})
    fields = _icmp_fields(l4, target, allow=allow)
    if fields:
        parts.append({"icmps": [{"fields": chunk} for chunk in chunks(fields, MAX_ICMP_FIELDS)]})
    return parts
