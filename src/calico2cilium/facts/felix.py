"""Felix settings the conversion and the proof depend on, with Felix's values for them."""

from __future__ import annotations

from typing import Literal

FailsafePorts = tuple[tuple[str, int], ...]
"""``(protocol, port)`` pairs, protocol in lower case as Felix writes it (``tcp``)."""


def port_list(text: str) -> FailsafePorts:
    """Felix's ``port-list`` syntax, ``proto:port,...`` (how FelixConfiguration and its defaults
    write failsafe ports)."""
    return tuple((proto, int(port)) for proto, port in (item.split(":") for item in text.split(",")))


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
