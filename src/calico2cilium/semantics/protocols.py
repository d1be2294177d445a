"""Protocol names and ICMP type names, per side."""

from __future__ import annotations

from calico2cilium.facts.protocols import ICMP, ICMPV6, SCTP, TCP, UDP, UDPLITE
from calico2cilium.facts.protocols import iana_svc_name as iana_svc_name

CALICO_PROTOCOLS = {"TCP": TCP, "UDP": UDP, "ICMP": ICMP, "ICMPv6": ICMPV6, "SCTP": SCTP, "UDPLite": UDPLITE}
"""Calico protocol names (case-sensitive; docs/reference/semantics.md §1.4, validator.go ``validateProtocol``)."""


def calico_protocol(value: object) -> int | None:
    """A Calico ``protocol`` value (name or 1-255) as a number; ``None`` when invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= 255 else None
    if isinstance(value, str):
        if value in CALICO_PROTOCOLS:
            return CALICO_PROTOCOLS[value]
        if value.isdigit():
            return calico_protocol(int(value))
    return None


CILIUM_L4 = {"TCP": (TCP,), "UDP": (UDP,), "SCTP": (SCTP,), "ANY": (TCP, UDP, SCTP), "": (TCP, UDP, SCTP)}
"""Cilium ``toPorts`` protocols: ``ANY`` or empty means TCP, UDP and SCTP only, never ICMP
(docs/reference/semantics-check.md claim 8, E12). ``VRRP``/``IGMP`` (1.19 with a flag) are not modelled."""

# Cilium pkg/policy/api/icmp.go (``icmpIpv4TypeNameToCode`` / ``icmpIpv6TypeNameToCode``), 1.16+.
CILIUM_ICMPV4_TYPES = {
    "EchoReply": 0,
    "DestinationUnreachable": 3,
    "Redirect": 5,
    "Echo": 8,
    "EchoRequest": 8,
    "RouterAdvertisement": 9,
    "RouterSelection": 10,
    "TimeExceeded": 11,
    "ParameterProblem": 12,
    "Timestamp": 13,
    "TimestampReply": 14,
    "Photuris": 40,
    "ExtendedEchoRequest": 42,
    "ExtendedEchoReply": 43,
}
CILIUM_ICMPV6_TYPES = {
    "DestinationUnreachable": 1,
    "PacketTooBig": 2,
    "TimeExceeded": 3,
    "ParameterProblem": 4,
    "EchoRequest": 128,
    "EchoReply": 129,
    "MulticastListenerQuery": 130,
    "MulticastListenerReport": 131,
    "MulticastListenerDone": 132,
    "RouterSolicitation": 133,
    "RouterAdvertisement": 134,
    "NeighborSolicitation": 135,
    "NeighborAdvertisement": 136,
    "RedirectMessage": 137,
    "RouterRenumbering": 138,
    "ICMPNodeInformationQuery": 139,
    "ICMPNodeInformationResponse": 140,
    "InverseNeighborDiscoverySolicitation": 141,
    "InverseNeighborDiscoveryAdvertisement": 142,
    "HomeAgentAddressDiscoveryRequest": 144,
    "HomeAgentAddressDiscoveryReply": 145,
    "MobilePrefixSolicitation": 146,
    "MobilePrefixAdvertisement": 147,
    "DuplicateAddressRequestCodeSuffix": 157,
    "DuplicateAddressConfirmationCodeSuffix": 158,
    "ExtendedEchoRequest": 160,
    "ExtendedEchoReply": 161,
}


def cilium_icmp_type(value: object, family: str) -> int | None:
    """An ``icmps[].fields[].type`` (number or CamelCase name of that family) as a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 255 else None
    if isinstance(value, str):
        if value.isdigit():
            return cilium_icmp_type(int(value), family)
        table = CILIUM_ICMPV6_TYPES if family == "IPv6" else CILIUM_ICMPV4_TYPES
        return table.get(value)
    return None


def container_port_name(value: str) -> bool:
    """A name a pod's container port can have (IANA_SVC_NAME, lower case: k8s validation)."""
    return iana_svc_name(value) and value == value.lower()
