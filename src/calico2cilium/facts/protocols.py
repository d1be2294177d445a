"""Protocol numbers and the IANA service-name syntax, as both Calico and Cilium use them."""

from __future__ import annotations

TCP, UDP, SCTP, ICMP, ICMPV6, UDPLITE = 6, 17, 132, 1, 58, 136
PORT_PROTOCOLS = frozenset({TCP, UDP, SCTP})
"""Protocols whose flows carry ports (Calico ``SupportsPorts``; Cilium L4 protocols)."""

_IANA_SVC_NAME_MAX = 15


def iana_svc_name(value: str) -> bool:
    """Kubernetes/Cilium ``IsSvcName``: 1-15 chars of ``[a-z0-9-]`` (any case for Cilium, which then
    lower-cases), at least one letter, no leading/trailing or double hyphen."""
    if not 1 <= len(value) <= _IANA_SVC_NAME_MAX:
        return False
    if not all(c.isascii() and (c.isalnum() or c == "-") for c in value):
        return False
    if value.startswith("-") or value.endswith("-") or "--" in value:
        return False
    return any(c.isalpha() for c in value)
