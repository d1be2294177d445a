"""YAML scalars parsed into small immutable models: ``Cidr``, ``IPAddress``, ``Port``, ``Protocol``.

Each is built from one scalar, keeps what it needs to compare and match (the network, the port
range, the protocol number), and is written back as the scalar it was read from. Decoding and
range checks follow [NS] and [V]; CIDRs follow Go's ``net.ParseCIDR`` as Calico uses it.

Sources cited as [V], [CEL], [NS], [PC], [K8S]: listed in the ``calico2cilium.calico`` docstring.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Final, Literal, Self, TypeAlias

from pydantic import ModelWrapValidatorHandler, model_serializer, model_validator
from pydantic_core import PydanticKnownError

from calico2cilium.calico.base import CalicoModel
from calico2cilium.calico.errors import INVALID_CIDR, INVALID_PORT, INVALID_PROTOCOL, invalid
from calico2cilium.calico.names import port_name_problems

IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
_CIDR_TEXT_RE = re.compile(r"[0-9A-Fa-f:.]+(/[0-9]+)?")


class _Scalar(CalicoModel):
    """A model read from (and written back as) one YAML scalar. Build it with ``parse``."""

    @classmethod
    def _fields_from(cls, value: Any) -> dict[str, Any]:
        raise NotImplementedError

    @model_validator(mode="wrap")
    @classmethod
    def _from_scalar(cls, value: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(value, cls):
            return value
        return handler(cls._fields_from(value))

    @classmethod
    def parse(cls, value: Any) -> Self:
        """Parse a YAML scalar (raises pydantic.ValidationError)."""
        return cls.model_validate(value)


class _TextScalar(_Scalar):
    """A scalar kept as the text it was written as, and written back as that text."""

    text: str

    @model_serializer(mode="plain")
    def as_yaml(self) -> str:
        """The value as written in the input (also what ``model_dump`` produces)."""
        return self.text

    def __str__(self) -> str:
        return self.text


def parse_network(text: str, *, allow_bare_ip: bool) -> IPNetwork:
    """Parse a CIDR as Go's ``net.ParseCIDR`` would, normalising host bits like Calico.

    - ``a.b.c.d/n`` or an IPv6 prefix; the prefix length is decimal digits (Go does not accept
      Python's netmask form ``10.0.0.0/255.0.0.0``, nor zones ``%eth0``).
    - Host bits (``10.0.0.1/24``) are accepted and masked: Calico's backend conversion uses
      ``cnet.ParseCIDROrIP``, which returns the masked network (``updateprocessors/rules.go``).
      Note: calicoctl's field tag ``net`` ([PC] ``dive,net``, [V] validateIPNetwork) refuses host
      bits, but the Kubernetes CRD path does not; ``Cidr.has_host_bits`` tells them apart.
    - A bare address is accepted only with ``allow_bare_ip`` (as /32 or /128).
    - IPv4-mapped IPv6 networks are refused (Go would call them IPv4).
    """
    if not _CIDR_TEXT_RE.fullmatch(text):
        raise ValueError("not an IP network in CIDR notation (e.g. 10.0.0.0/8 or 2001:db8::/32)")
    if "/" not in text:
        if not allow_bare_ip:
            raise ValueError("a prefix length is required (write a single address as /32 or /128)")
        address = ipaddress.ip_address(text)
        _refuse_ipv4_mapped(address)
        return ipaddress.ip_network(address)
    network = ipaddress.ip_network(text, strict=False)
    _refuse_ipv4_mapped(network.network_address)
    return network


def _refuse_ipv4_mapped(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    # Go's net.IP.To4() treats ::ffff:a.b.c.d as IPv4, so Calico would count such an entry as
    # IPv4 (cnet IPNet.Version) while Python sees IPv6: the family is ambiguous, refuse it.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        raise ValueError("IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are ambiguous; write the IPv4 form")


def is_strict_subnet(inner: IPNetwork, outer: IPNetwork) -> bool:
    """True when ``inner`` lies inside ``outer`` and is smaller (same IP family)."""
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer) and inner.prefixlen > outer.prefixlen
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer) and inner.prefixlen > outer.prefixlen
    return False


class Cidr(_TextScalar):
    """An IP network from ``nets``/``notNets``/``ipBlock``: the text as written and the network.

    Parsed as Felix reads a stored rule: ``cnet.ParseCIDROrIP`` then masked
    (``normalizeIPNets`` in ``libcalico-go/lib/backend/syncersv1/updateprocessors/rules.go``), so
    ``1.2.3.4`` is ``1.2.3.4/32`` and ``10.0.0.1/8`` is ``10.0.0.0/8``. Whether the validator of
    ``projectcalico.org/v3`` documents lets them through is a per-document question
    (``PolicyResource``, ``v3_net_problems``). Serialised back as the original text.
    """

    allow_bare_ip: ClassVar[bool] = True

    network: IPNetwork

    @classmethod
    def _fields_from(cls, value: Any) -> dict[str, Any]:
        if not isinstance(value, str):
            raise PydanticKnownError("string_type")
        try:
            network = parse_network(value, allow_bare_ip=cls.allow_bare_ip)
        except ValueError as exc:
            raise invalid(INVALID_CIDR, f"invalid CIDR {value!r}: {exc}") from None
        return {"text": value, "network": network}

    @property
    def version(self) -> Literal[4, 6]:
        return 4 if self.network.version == 4 else 6

    @property
    def is_bare(self) -> bool:
        """True for a single address written without a prefix length (``1.2.3.4``)."""
        return "/" not in self.text

    @property
    def has_host_bits(self) -> bool:
        """True for e.g. ``10.0.0.1/24``: Calico matches ``10.0.0.0/24``; calicoctl would refuse it."""
        address = self.text.split("/", 1)[0]
        return ipaddress.ip_address(address) != self.network.network_address


class PrefixCidr(Cidr):
    """A CIDR that must carry a prefix length: a Kubernetes ``ipBlock`` (``ValidateIPBlock``
    parses with ``ParseCIDRSloppy``, which has no bare-address form)."""

    allow_bare_ip: ClassVar[bool] = False


class SetCidr(Cidr):
    """A NetworkSet/GlobalNetworkSet entry: a bare address is ``/32`` or ``/128``, host bits masked.

    [V] field tag ``cidr`` ([PC]-style tag on ``NetworkSetSpec.Nets``) is validateCIDR, which uses
    ``cnet.ParseCIDROrIP`` and does not require strict masking (unlike ``net``); the set
    processors convert with the same function (``updateprocessors/globalnetworksetprocessor.go``).
    [V]'s own tests accept ``"10.0.0.1"`` in both set kinds. Valid for every apiVersion.
    """


class IPAddress(_TextScalar):
    """A single IP address (HostEndpoint ``expectedIPs``; [V] tag ``ip`` = Go ``net.ParseIP``)."""

    address: ipaddress.IPv4Address | ipaddress.IPv6Address

    @classmethod
    def _fields_from(cls, value: Any) -> dict[str, Any]:
        if not isinstance(value, str):
            raise PydanticKnownError("string_type")
        if not re.fullmatch(r"[0-9A-Fa-f:.]+", value):
            raise invalid(INVALID_CIDR, f"invalid IP address {value!r}")
        try:
            address = ipaddress.ip_address(value)
            _refuse_ipv4_mapped(address)
        except ValueError as exc:
            raise invalid(INVALID_CIDR, f"invalid IP address {value!r}: {exc}") from None
        return {"text": value, "address": address}


_ASCII_DIGITS_RE = re.compile(r"[0-9]+")
_PORT_RANGE_RE = re.compile(r"([0-9]+):([0-9]+)")
_NAMED_PORT_RE = re.compile(r"[a-zA-Z0-9_.-]{1,128}")
MAX_PORT = 65535


class Port(_Scalar):
    """A Calico rule port: a number, an inclusive range ``"min:max"``, or a named port.

    Decoding follows [NS] ``PortFromString``/``UnmarshalJSON`` (numbers fit in uint16; ranges are
    ``^\\d+:\\d+$`` with min ≤ max; anything else must match ``^[a-zA-Z0-9_.-]{1,128}$``), then [V]
    validatePort (numbers and range bounds are 1–65535: **0 is rejected**) and the [V] ``portName``
    tag on ``Port.PortName`` (Kubernetes IANA_SVC_NAME: ≤ 15 lower-case alphanumerics and '-',
    at least one letter).
    """

    min_port: int | None = None
    max_port: int | None = None
    name: str | None = None

    @classmethod
    def _fields_from(cls, value: Any) -> dict[str, Any]:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise invalid(
                INVALID_PORT, f"a port must be a number, a range 'min:max' or a name, not {value!r}"
            )
        if isinstance(value, int):
            return cls._number(value, value)
        if _ASCII_DIGITS_RE.fullmatch(value):
            return cls._number(int(value), value)
        match = _PORT_RANGE_RE.fullmatch(value)
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            for bound in (low, high):
                if not 1 <= bound <= MAX_PORT:
                    raise invalid(INVALID_PORT, f"invalid port range {value!r}: ports must be 1–{MAX_PORT}")
            if low > high:
                raise invalid(INVALID_PORT, f"invalid port range {value!r}: minimum is greater than maximum")
            return {"min_port": low, "max_port": high}
        if not _NAMED_PORT_RE.fullmatch(value):
            raise invalid(INVALID_PORT, f"invalid port {value!r}: not a number, a range 'min:max' or a name")
        problems = port_name_problems(value)
        if problems:
            raise invalid(INVALID_PORT, f"invalid named port {value!r}: " + "; ".join(problems))
        return {"name": value}

    @staticmethod
    def _number(number: int, original: int | str) -> dict[str, Any]:
        if not 1 <= number <= MAX_PORT:
            raise invalid(INVALID_PORT, f"invalid port {original!r}: port numbers must be 1–{MAX_PORT}")
        return {"min_port": number, "max_port": number}

    @model_serializer(mode="plain")
    def as_yaml(self) -> int | str:
        """The YAML scalar for this value (also what ``model_dump`` produces)."""
        if self.name is not None:
            return self.name
        if self.min_port == self.max_port:
            return self.min_port or 0
        return f"{self.min_port}:{self.max_port}"

    def __str__(self) -> str:
        return str(self.as_yaml())

    @property
    def is_named(self) -> bool:
        return self.name is not None


PROTOCOL_NUMBERS: Final[Mapping[str, int]] = {
    "TCP": 6,
    "UDP": 17,
    "ICMP": 1,
    "ICMPv6": 58,
    "SCTP": 132,
    "UDPLite": 136,
}
ProtocolName = Literal["TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite"]
_PORT_PROTOCOLS: Final = frozenset({6, 17, 132})  # [NS] SupportsPorts: TCP, UDP, SCTP (not UDPLite)


class Protocol(_Scalar):
    """A Calico protocol: one of the names (case-sensitive) or a number 1–255.

    [NS] Uint8OrString.UnmarshalJSON turns a string of digits that fits in uint8 into a number
    (``"6"`` is 6); [V] validateProtocol rejects 0 and names outside
    ``^(TCP|UDP|ICMP|ICMPv6|SCTP|UDPLite)$``.
    """

    value: ProtocolName | int

    @classmethod
    def _fields_from(cls, value: Any) -> dict[str, Any]:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise invalid(INVALID_PROTOCOL, f"a protocol must be a name or a number 1–255, not {value!r}")
        if isinstance(value, str) and _ASCII_DIGITS_RE.fullmatch(value) and int(value) <= 255:
            value = int(value)
        if isinstance(value, int):
            if not 1 <= value <= 255:
                raise invalid(INVALID_PROTOCOL, f"invalid protocol number {value}: must be 1–255")
            return {"value": value}
        if value not in PROTOCOL_NUMBERS:
            names = ", ".join(PROTOCOL_NUMBERS)
            close = [n for n in PROTOCOL_NUMBERS if n.lower() == value.lower()]
            hint = f" (protocol names are case-sensitive: {close[0]!r})" if close else f" (expected {names})"
            raise invalid(INVALID_PROTOCOL, f"invalid protocol {value!r}{hint}")
        return {"value": value}

    @model_serializer(mode="plain")
    def as_yaml(self) -> int | str:
        """The YAML scalar for this value (also what ``model_dump`` produces)."""
        return self.value

    def __str__(self) -> str:
        return str(self.value)

    @property
    def number(self) -> int:
        """The IANA protocol number (TCP 6, UDP 17, ICMP 1, ICMPv6 58, SCTP 132, UDPLite 136)."""
        return self.value if isinstance(self.value, int) else PROTOCOL_NUMBERS[self.value]

    def supports_ports(self) -> bool:
        return self.number in _PORT_PROTOCOLS
