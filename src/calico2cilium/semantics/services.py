"""The verifier's reading of a Calico ``services`` rule match: the endpoints a Service stands for.

Written apart from the compiler's reading (``compile/services.py``) on purpose: both read the same
Service objects (``facts.cluster.Services``), and a mistake in one must not be repeated in the
other, or the proof would confirm it.

Calico (projectcalico/calico ``felix/calc/rule_scanner.go`` ``ruleToParsedRule``;
``felix/serviceindex/service_index.go`` ``membersFromEndpointSlice``): the members are every
address of every endpoint of the Service's EndpointSlices, paired, in a destination, with every
slice port that has a number (TCP unless the port says UDP or SCTP). For a Service with a pod
selector the EndpointSlice controller writes the pods of its namespace that carry the selector's
labels, on each port's ``targetPort`` (absent: ``port``; a name: each pod's container port of that
name and protocol, ``FindPort``), and only for the Service's ``ipFamilies``
(``getAddressTypesForService``). docs/reference/semantics.md §1.4.

What has no exact model here is left outside the proof (``Unresolvable``): no Service objects, an
unknown Service, one without a selector or ``ExternalName``, a destination Service without ports,
one selecting a ``hostNetwork`` pod (its endpoint is its node's address), and a Service that does
not say its families in a dual-stack cluster.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from calico2cilium.facts.cluster import Services
from calico2cilium.io.inventory import ServiceSpec


class Unresolvable(Exception):
    """The Service's endpoints are not known exactly; ``str(err)`` says why."""


@dataclass(frozen=True)
class ServiceEndpoints:
    """The endpoints of a Service with a pod selector: the pods of ``namespace`` carrying every
    ``labels`` pair, of IP version ``family`` only when set; with ``ports`` the (protocol, number)
    and ``named`` the (protocol, container port name) they are reached on, when ports matter."""

    namespace: str
    labels: tuple[tuple[str, str], ...]
    ports: tuple[tuple[int, int], ...] = ()
    named: tuple[tuple[int, str], ...] = ()
    family: int | None = None


def service_endpoints(
    services: Services | None, name: str, namespace: str, *, with_ports: bool, families: Collection[int]
) -> ServiceEndpoints:
    """The endpoints ``services {name, namespace}`` matches (``with_ports``: as a destination)."""
    if services is None:
        raise Unresolvable(f"no Service objects are given, so Service {namespace}/{name} is unknown")
    spec = next((s for s in services.specs if (s.namespace, s.name) == (namespace, name)), None)
    if spec is None:
        raise Unresolvable(f"Service {namespace}/{name} is not among the Service objects given")
    if spec.type == "ExternalName" or not spec.selector:
        raise Unresolvable(f"Service {namespace}/{name} has no pod selector: its endpoints are not pods")
    if with_ports and not spec.ports:
        raise Unresolvable(f"Service {namespace}/{name} has no ports, so no endpoint port is known")
    labels = dict(spec.selector)
    for pod in services.host_network_pods:
        if pod.namespace == namespace and labels.items() <= dict(pod.labels).items():
            raise Unresolvable(
                f"Service {namespace}/{name} selects hostNetwork pod {pod.namespace}/{pod.name}, whose"
                " endpoint is its node's address"
            )
    ports: set[tuple[int, int]] = set()
    named: set[tuple[int, str]] = set()
    for port in spec.ports if with_ports else ():
        target = port.port if port.target is None else port.target
        if isinstance(target, str):
            named.add((port.protocol, target))
        else:
            ports.add((port.protocol, target))
    return ServiceEndpoints(
        namespace, spec.selector, tuple(sorted(ports)), tuple(sorted(named)), _family(spec, families)
    )


def _family(spec: ServiceSpec, families: Collection[int]) -> int | None:
    """The one IP version of the Service's endpoints where the cluster has more (``None``: every
    family the cluster has)."""
    given = spec.ip_families
    if given is None:
        if len(set(families)) > 1:
            raise Unresolvable(
                f"Service {spec.namespace}/{spec.name} does not say its ipFamilies in a dual-stack cluster"
            )
        return None
    missing = set(families) - set(given)
    if not missing:
        return None
    return given[0] if len(given) == 1 else None


__all__ = ["ServiceEndpoints", "Unresolvable", "service_endpoints"]
