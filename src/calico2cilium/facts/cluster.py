"""``Cluster``: the one value describing the cluster a conversion (``convert``) or a proof
(``verify``) is for. The CLI builds it from its flags and ``--cluster-config``
(``cli/cluster_options.py``); library users build it directly.

Unknown is a value here: an empty CIDR list means "not given", and then any address may be of that
kind (the sound reading; the compiler warns where it assumed otherwise, C2C307).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from calico2cilium.facts.felix import (
    DEFAULT_ENDPOINT_TO_HOST_ACTION,
    FAILSAFE_INBOUND,
    FAILSAFE_OUTBOUND,
    EndpointToHostAction,
    FailsafePorts,
)
from calico2cilium.facts.target import DEFAULT_TARGET, CiliumTarget
from calico2cilium.io.inventory import HostNetworkPod, ServiceSpec

NodeLabels = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
"""(node name, sorted (key, value) labels) pairs: hashable, for the frozen ``Cluster``."""


def node_labels(mapping: Mapping[str, Mapping[str, str]]) -> NodeLabels:
    """``NodeLabels`` from a plain mapping of node name to labels."""
    return tuple(sorted((n, tuple(sorted(dict(ls).items()))) for n, ls in mapping.items()))


@dataclass(frozen=True)
class Services:
    """The Kubernetes Service objects taken as given (an inventory's), and the inventory's
    ``hostNetwork`` pods (whose endpoint address is their node's). What a ``services`` match means
    given them is an interpretation, read separately by the compiler (``compile/services.py``) and
    the verifier (``semantics/services.py``)."""

    specs: tuple[ServiceSpec, ...] = ()
    host_network_pods: tuple[HostNetworkPod, ...] = ()

    @staticmethod
    def of(inventory: Any) -> Services:
        """From an ``io.inventory.Inventory``."""
        return Services(tuple(inventory.services.values()), tuple(inventory.host_network_pods))

    def by_name(self) -> dict[tuple[str, str], ServiceSpec]:
        """The specs keyed by (namespace, name)."""
        return {(s.namespace, s.name): s for s in self.specs}


@dataclass(frozen=True)
class Cluster:
    """The cluster's facts.

    - ``pod_cidrs`` / ``node_cidrs``: where pod and node addresses come from (empty: unknown).
    - ``service_cidrs``: virtual IPs, never seen by policy (translated before it).
    - ``ip_families``: which families carry traffic; ``None``: those of ``pod_cidrs``, else both.
    - ``node_labels``: the labels Cilium sees on nodes (``None``: each node's HostEndpoints' labels
      and ``calico2cilium.io/node=<node>``, the label the converter tells users to add, C2C321).
    - ``endpoint_to_host_action``: Felix ``DefaultEndpointToHostAction`` (``None``: not stated;
      ``DEFAULT_ENDPOINT_TO_HOST_ACTION`` is assumed and the conversion says so, C2C340).
    - ``failsafe_inbound`` / ``failsafe_outbound``: Felix failsafe ports (docs/reference/semantics.md §1.5).
    - ``services``: the Service objects known (``None``: none given).
    - ``policy_cidr_match_nodes``: Cilium ``--policy-cidr-match-mode=nodes`` (CIDR rules match nodes).
    - ``target``: the Cilium release (``facts/target.py``).
    """

    pod_cidrs: tuple[str, ...] = ()
    node_cidrs: tuple[str, ...] = ()
    service_cidrs: tuple[str, ...] = ()
    ip_families: tuple[int, ...] | None = None
    node_labels: NodeLabels | None = None
    endpoint_to_host_action: EndpointToHostAction | None = None
    failsafe_inbound: FailsafePorts = FAILSAFE_INBOUND
    failsafe_outbound: FailsafePorts = FAILSAFE_OUTBOUND
    services: Services | None = None
    policy_cidr_match_nodes: bool = False
    target: CiliumTarget = field(default=DEFAULT_TARGET)

    @property
    def families(self) -> tuple[int, ...]:
        """The IP versions in use: ``ip_families`` if given, else those of the pod CIDRs, else both."""
        if self.ip_families:
            return tuple(sorted(set(self.ip_families)))
        if self.pod_cidrs:
            return tuple(sorted({ipaddress.ip_network(c, strict=False).version for c in self.pod_cidrs}))
        return (4, 6)

    @property
    def endpoint_to_host(self) -> EndpointToHostAction:
        """The action in force: the one stated, else the default."""
        return self.endpoint_to_host_action or DEFAULT_ENDPOINT_TO_HOST_ACTION
