"""The compiler's reading of a Calico ``services`` rule match, given the Kubernetes Service object.

``compile/match.py`` turns the result into a region of flows, and the refusals into diagnostics
(codes, hints). The verifier reads the same Service objects (``facts.cluster.Services``) with its
own code (``semantics/services.py``), so a mistake here is not repeated in the proof.

Calico (projectcalico/calico ``felix/calc/rule_scanner.go`` ``ruleToParsedRule``: a destination
service becomes an IP *and port* set, ``IPSetData{Service, ServiceIncludePorts: true}`` in
``DstIPPortSetIDs``; a source service an address-only set, ``ServiceIncludePorts: false``, ANDed
like a selector; ``felix/serviceindex/service_index.go`` ``membersFromEndpointSlice``: the members
are every address of every endpoint of the Service's EndpointSlices, paired in the destination
case with every slice port that has a number, TCP unless the port says UDP or SCTP; slice
endpoints are not filtered by their ``ready`` condition). docs/reference/semantics.md §1.4.

The EndpointSlices of a Service *with a pod selector* are written by Kubernetes' EndpointSlice
controller: the pods of the Service's namespace matching ``spec.selector`` (with an address, not
terminal), each with the ``targetPort`` of every Service port (a number; a name is looked up in
the pod's container ports, per pod; absent: the same as ``port``). So, for such a Service, the
match is exactly:

- destination: pods in the namespace whose labels include the selector, on (protocol, target
  port) for each Service port;
- source: the same pods, any port.

This holds while the Service keeps that selector and those ports (the converter warns, C2C333),
except where a ``hostNetwork`` pod is selected: its endpoint address is its node's, which no pod
peer stands for. Refused (no exact form is known here):

- no Service object given (C2C303) or the Service not among those given (C2C330);
- a Service without a selector, or ``ExternalName`` (C2C331): its EndpointSlices hold whatever
  addresses their writer chose;
- in a destination, a Service without ports, and a Service whose selector picks a
  ``hostNetwork`` pod of the inventory (C2C332); the compiler also refuses a named ``targetPort``
  in a destination (C2C332: Cilium resolves egress named ports cluster-wide), which the verifier
  models per pod.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from calico2cilium.facts.cluster import Services
from calico2cilium.io.inventory import HostNetworkPod, ServiceSpec

PROTOCOL_NAMES = {6: "TCP", 17: "UDP", 132: "SCTP"}


@dataclass(frozen=True)
class ServiceBackends:
    """A resolved ``services`` match: pods of ``namespace`` with every ``selector`` label, and (for a
    destination) the ``(protocol, port)`` pairs of their endpoint ports."""

    namespace: str
    name: str
    selector: tuple[tuple[str, str], ...]
    ports: tuple[tuple[int, int], ...]
    destination: bool
    named_ports: tuple[tuple[int, str], ...] = ()
    """``(protocol, name)`` of named targetPorts: each pod's container port of that name and
    protocol (the EndpointSlice controller's ``FindPort``); pods without one get no endpoint port."""
    only_family: int | None = None
    """The one IP version of a single-stack Service in a cluster whose pods have both: its
    EndpointSlices hold the pods' addresses of that family only (``None``: no restriction)."""

    def describe(self) -> str:
        labels = ", ".join(f"{k}={v}" for k, v in self.selector)
        text = f"the pods of namespace {self.namespace} labelled {labels}"
        if self.destination:
            ports = ", ".join(f"{PROTOCOL_NAMES.get(p, p)}/{n}" for p, n in (*self.ports, *self.named_ports))
            text += f" on {ports}"
        if self.only_family is not None:
            text += f" (their IPv{self.only_family} addresses only)"
        return text


class ServiceRefused(Exception):
    """The match has no exact form here: ``code`` is the diagnostic, ``reason`` says why."""

    def __init__(self, code: str, reason: str, hint: str | None = None) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason
        self.hint = hint


INVENTORY_HINT = (
    "give the Service with --inventory (kubectl get pods,namespaces,serviceaccounts,nodes,services"
    " -A -o yaml)"
)


def resolve_known(
    known: Services | None, name: str, namespace: str, *, destination: bool, families: Collection[int]
) -> ServiceBackends:
    """``resolve`` against ``known`` (``None``: no Service object is known)."""
    if known is None:
        return resolve(None, name, namespace, destination=destination, families=families)
    return resolve(
        known.by_name(),
        name,
        namespace,
        destination=destination,
        families=families,
        host_network_pods=known.host_network_pods,
    )


def resolve(
    services: Mapping[tuple[str, str], ServiceSpec] | None,
    name: str,
    namespace: str,
    *,
    destination: bool,
    families: Collection[int],
    host_network_pods: Sequence[HostNetworkPod] = (),
) -> ServiceBackends:
    """The backends of Service ``namespace/name``, or ``ServiceRefused``. ``services`` ``None``:
    no Service objects are known at all; ``families``: the IP versions the cluster's pods have."""
    what = f"Service {namespace}/{name}"
    if services is None:
        raise ServiceRefused(
            "C2C303",
            f"a services match ({what}) stands for the Service's endpoints, which only the Service"
            " object says (its pod selector and target ports); none was given",
            INVENTORY_HINT,
        )
    spec = services.get((namespace, name))
    if spec is None:
        raise ServiceRefused("C2C330", f"{what} is not in the inventory", INVENTORY_HINT)
    if spec.type == "ExternalName" or not spec.selector:
        kind = (
            "an ExternalName Service" if spec.type == "ExternalName" else "a Service without a pod selector"
        )
        raise ServiceRefused(
            "C2C331",
            f"{what} is {kind}: its endpoints are whatever addresses its EndpointSlices list, which"
            " no Cilium pod peer stands for (Cilium's toServices turns them into CIDR rules, which"
            " never match pods or nodes)",
        )
    if destination and not spec.ports:
        raise ServiceRefused(
            "C2C332", f"{what} declares no ports, so its endpoints' IP:port set has no exact form"
        )
    selector = dict(spec.selector)
    for pod in host_network_pods:
        if pod.namespace == namespace and all(dict(pod.labels).get(k) == v for k, v in selector.items()):
            raise ServiceRefused(
                "C2C332",
                f"{what} selects the hostNetwork pod {pod.namespace}/{pod.name}, whose endpoint is"
                " its node's address, which no pod peer stands for",
            )
    ports: tuple[tuple[int, int], ...] = ()
    named: tuple[tuple[int, str], ...] = ()
    if destination:
        ports = tuple(
            sorted(
                {
                    (p.protocol, p.port if p.target is None else p.target)
                    for p in spec.ports
                    if not isinstance(p.target, str)
                }
            )
        )
        named = tuple(sorted({(p.protocol, p.target) for p in spec.ports if isinstance(p.target, str)}))
    return ServiceBackends(
        namespace, name, spec.selector, ports, destination, named, _only_family(what, spec, families)
    )


def _only_family(what: str, spec: ServiceSpec, families: Collection[int]) -> int | None:
    """The EndpointSlice controller writes slices only for the Service's ``ipFamilies``
    (kubernetes pkg/controller/endpointslice ``getAddressTypesForService``), so a single-stack
    Service's endpoints are its pods' addresses of that one family (review 4, finding 1)."""
    cluster = set(families)
    if spec.ip_families is None:
        if len(cluster) > 1:
            raise ServiceRefused(
                "C2C332",
                f"{what} does not say its ipFamilies, and the cluster's pods have both IPv4 and IPv6"
                " addresses: which of them are its endpoints is not known",
                "export the Service from the cluster (the API server fills in spec.ipFamilies)",
            )
        return None
    if cluster <= set(spec.ip_families):
        return None
    if len(spec.ip_families) == 1:
        return spec.ip_families[0]
    return None  # pragma: no cover - a Service's families are a subset of {4, 6}


__all__ = ["ServiceBackends", "ServiceRefused", "resolve", "resolve_known"]
