"""Felix settings the conversion and the proof depend on, with Felix's values for them."""

from __future__ import annotations

from typing import Literal

FailsafePorts = tuple[tuple[str, int], ...]
"""``(protocol, port)`` pairs, protocol in lower case as Felix writes it (``tcp``)."""


def port_list(text: str) -> FailsafePorts:
    """Felix's ``port-list`` syntax, ``proto:port,...`` (how FelixConfiguration and its defaults
    write failsafe ports)."""
    return tuple((proto, int(port)) for proto, port in (item.split(":") for item in text.split(",")))


FAILSAFE_PROTOCOLS = ("tcp", "udp", "sctp")
"""The protocols a failsafe port may name (Felix ``config/param_port_list.go``, ``ProtoPort``)."""


def failsafe_entry(protocol: object, port: object, net: object = None) -> tuple[str, int]:
    """One failsafe port as FelixConfiguration writes it (``{protocol, port, net}``), ValueError
    (with the reason) if it is none. The protocol defaults to ``tcp``, as Felix's does (Felix
    configuration reference, ``FailsafeInboundHostPorts``: "if the protocol is not specified, it
    defaults to \"tcp\""; tigera/docs felix/configuration.mdx). A ``net``
    is refused: it limits the port to some addresses, which ``FailsafePorts`` cannot hold, and
    allowing the port from everywhere would allow more than Calico."""
    if net not in (None, ""):
        raise ValueError(f"a failsafe port limited to addresses (net {net}) is not supported")
    name = "tcp" if protocol in (None, "") else str(protocol).lower()
    if name not in FAILSAFE_PROTOCOLS:
        raise ValueError(f"protocol {protocol!r} is not one of {', '.join(FAILSAFE_PROTOCOLS)}")
    if isinstance(port, bool) or not isinstance(port, int | str) or not str(port).isdigit():
        raise ValueError(f"port {port!r} is not a port number")
    if not 1 <= int(port) <= 65535:
        raise ValueError(f"port {port} is not between 1 and 65535")
    return name, int(port)


def failsafe_setting(text: str) -> FailsafePorts:
    """Felix's environment form of a failsafe port list (``FELIX_FAILSAFEINBOUNDHOSTPORTS``):
    ``proto:port`` or ``port`` (tcp) items separated by commas, ``none`` (or nothing) for no port;
    ``proto:net:port`` items are refused (``failsafe_entry``). ValueError naming the bad item."""
    if text.strip().lower() in ("", "none"):
        return ()
    out: list[tuple[str, int]] = []
    for item in text.split(","):
        parts = item.strip().split(":")
        if len(parts) > 2:  # proto:net:port (an IPv6 net has colons too)
            raise ValueError(f"{item.strip()!r}: a failsafe port limited to addresses is not supported")
        try:
            out.append(failsafe_entry(parts[0] if len(parts) == 2 else None, parts[-1].strip()))
        except ValueError as exc:
            raise ValueError(f"{item.strip()!r}: {exc}") from None
    return tuple(dict.fromkeys(out))


FAILSAFE_INBOUND: FailsafePorts = port_list(
    "tcp:22,udp:68,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667"
)
"""Felix ``failsafeInboundHostPorts`` default (docs/reference/semantics.md §1.5; docs/reference/semantics-check.md claim 13,
calico ``felix/config/config_params.go``, where the default is this same string)."""
FAILSAFE_OUTBOUND: FailsafePorts = port_list(
    "udp:53,udp:67,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667"
)
"""Felix ``failsafeOutboundHostPorts`` default (same sources)."""

EndpointToHostAction = Literal["Drop", "Return", "Accept"]
ENDPOINT_TO_HOST_ACTIONS: tuple[EndpointToHostAction, ...] = ("Drop", "Return", "Accept")
DEFAULT_ENDPOINT_TO_HOST_ACTION: EndpointToHostAction = "Accept"
"""Felix ``DefaultEndpointToHostAction`` as every supported install sets it: the calico.yaml manifest
and its Helm chart (``FELIX_DEFAULTENDPOINTTOHOSTACTION: ACCEPT``, projectcalico/calico
``charts/calico/templates/calico-node.yaml``) and the Tigera operator (tigera/operator
``pkg/render/node.go`` ``nodeEnvVars``). Felix's own default, without them, is ``Drop``
(``felix/config/config_params.go``). docs/research/endpoint-to-host-research.md has the sources."""


def endpoint_to_host_action(text: str) -> EndpointToHostAction | None:
    """Felix's spelling of the action (``DROP``, ``Drop``, ...: Felix reads it case-insensitively,
    ``config_params.go`` ``oneof(DROP,RETURN,ACCEPT)``) in canonical form; ``None`` if not one."""
    for action in ENDPOINT_TO_HOST_ACTIONS:
        if text.strip().lower() == action.lower():
            return action
    return None
