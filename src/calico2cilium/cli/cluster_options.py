"""The cluster facts a command takes as given: pod, node and service CIDRs and the Cilium version.

Shared by ``verify`` and ``convert``: decorate the command with :func:`cluster_options`, which adds
the flags and hands the command one ``cluster: ClusterOptions`` argument; turn it into the
verifier's :class:`~calico2cilium.semantics.world.Assumptions` with :func:`assumptions_from`.

The values may also come from a file (``--cluster-config``)::

    podCIDRs: [10.0.0.0/16]
    nodeCIDRs: [192.168.0.0/24]
    serviceCIDRs: [10.96.0.0/12]
    ciliumVersion: "1.17"
    nodeLabels:                      # the Nodes' labels (default: their HostEndpoints' labels
                                     # and calico2cilium.io/node=<node>), for host policies
      node1: {calico2cilium.io/node: node1}
    defaultEndpointToHostAction: Accept   # Felix DefaultEndpointToHostAction: Drop | Return | Accept
                                     # (default Accept, as calico.yaml and the Tigera operator set it)
    failsafeInboundHostPorts: [{protocol: TCP, port: 22}]   # Felix's failsafe ports, as
    failsafeOutboundHostPorts: "udp:53,tcp:6443"            # FelixConfiguration or its environment
                                     # writes them ([] or none: no port; default Felix's defaults)

A flag given on the command line replaces the file's value for that key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Any, TypeVar

import click

from calico2cilium.facts.cluster import Cluster, node_labels
from calico2cilium.facts.felix import (
    DEFAULT_ENDPOINT_TO_HOST_ACTION,
    ENDPOINT_TO_HOST_ACTIONS,
    FAILSAFE_INBOUND,
    FAILSAFE_OUTBOUND,
    EndpointToHostAction,
    FailsafePorts,
    failsafe_entry,
    failsafe_setting,
)
from calico2cilium.facts.felix import endpoint_to_host_action as endpoint_to_host
from calico2cilium.facts.target import DEFAULT_CILIUM_VERSION, SUPPORTED_CILIUM_VERSIONS, cilium_target
from calico2cilium.semantics.world import Assumptions

CILIUM_VERSIONS = SUPPORTED_CILIUM_VERSIONS
CONFIG_KEYS = {"podCIDRs": "pod_cidrs", "nodeCIDRs": "node_cidrs", "serviceCIDRs": "service_cidrs"}
VERSION_KEY = "ciliumVersion"
NODE_LABELS_KEY = "nodeLabels"
ENDPOINT_TO_HOST_KEY = "defaultEndpointToHostAction"
FAILSAFE_KEYS = {
    "failsafeInboundHostPorts": "failsafe_inbound",
    "failsafeOutboundHostPorts": "failsafe_outbound",
}
"""The config file's keys for Felix's failsafe ports, and the ``Cluster`` fields they set."""
F = TypeVar("F", bound=Callable[..., Any])

CLUSTER_HELP = """\b
Cluster assumptions: addresses are classified by the CIDRs given. A CIDR list that is not given
is unknown, and then any address may be of that kind: with no --pod-cidr, any address may be a
pod, so a Calico 'nets' rule (which matches pod addresses) and a Cilium CIDR rule (which never
does) are compared over every address. That is the sound reading, but it reports differences
that cannot happen in a cluster whose pod CIDR excludes them: give --pod-cidr (and --node-cidr)
to prove what holds in your cluster."""


@dataclass(frozen=True)
class ClusterOptions:
    """The flags as given (``None``: not given on the command line)."""

    pod_cidrs: tuple[str, ...] = ()
    node_cidrs: tuple[str, ...] = ()
    service_cidrs: tuple[str, ...] = ()
    cilium_version: str | None = None
    cluster_config: str | None = None
    endpoint_to_host_action: str | None = None
    failsafe_inbound: str | None = None
    failsafe_outbound: str | None = None

    @cached_property
    def config_values(self) -> dict[str, Any]:
        """The ``--cluster-config`` file's values (read once, however many settings are asked)."""
        return _read_config(self.cluster_config) if self.cluster_config else {}


def _cidr(text: str) -> str:
    """``text`` as an IPv4 or IPv6 network in canonical form (host bits cleared); ValueError if not."""
    return str(ipaddress.ip_network(text.strip(), strict=False))


def _cidrs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for value in values:
        try:
            out.append(_cidr(value))
        except ValueError:
            raise click.BadParameter(f"{value!r} is not an IPv4 or IPv6 CIDR (e.g. 10.0.0.0/16)") from None
    return tuple(out)


def cluster_options(command: F) -> F:
    """Add ``--pod-cidr``, ``--node-cidr``, ``--service-cidr`` (repeatable), ``--cilium-version``
    and ``--cluster-config``; the command receives them as one ``cluster: ClusterOptions``."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        kwargs["cluster"] = ClusterOptions(
            pod_cidrs=kwargs.pop("pod_cidrs"),
            node_cidrs=kwargs.pop("node_cidrs"),
            service_cidrs=kwargs.pop("service_cidrs"),
            cilium_version=kwargs.pop("cilium_version"),
            cluster_config=kwargs.pop("cluster_config"),
            endpoint_to_host_action=kwargs.pop("endpoint_to_host_action"),
            failsafe_inbound=kwargs.pop("failsafe_inbound"),
            failsafe_outbound=kwargs.pop("failsafe_outbound"),
        )
        return command(*args, **kwargs)

    options = [
        click.option(
            "--pod-cidr",
            "pod_cidrs",
            multiple=True,
            metavar="CIDR",
            callback=_cidrs,
            help="A pod CIDR of the cluster (repeatable). Not given: unknown, any address may be a pod.",
        ),
        click.option(
            "--node-cidr",
            "node_cidrs",
            multiple=True,
            metavar="CIDR",
            callback=_cidrs,
            help="A CIDR holding the nodes' addresses (repeatable). Not given: unknown.",
        ),
        click.option(
            "--service-cidr",
            "service_cidrs",
            multiple=True,
            metavar="CIDR",
            callback=_cidrs,
            help="The service (cluster IP) CIDR (repeatable); never seen by policy.",
        ),
        click.option(
            "--cilium-version",
            type=click.Choice(CILIUM_VERSIONS),
            default=None,
            help=f"The Cilium version of the cluster, which decides some semantics. [default: {DEFAULT_CILIUM_VERSION}]",
        ),
        click.option(
            "--endpoint-to-host-action",
            "endpoint_to_host_action",
            type=click.Choice(ENDPOINT_TO_HOST_ACTIONS, case_sensitive=False),
            default=None,
            help="Felix DefaultEndpointToHostAction of the Calico cluster: what Calico does with traffic"
            " from a pod to its own node after the pod's egress policy allowed it."
            f" [default: {DEFAULT_ENDPOINT_TO_HOST_ACTION}, as calico.yaml and the Tigera operator set it]",
        ),
        *(
            click.option(
                f"--failsafe-{way}-host-ports",
                f"failsafe_{way}",
                metavar="PORTS",
                callback=_failsafe_ports,
                default=None,
                help=f"Felix failsafe{way.capitalize()}HostPorts of the Calico cluster, as calico-node's"
                f" environment writes them ('tcp:22,udp:68'; 'none'): the destination ports Calico allows"
                f" {what} whatever the policy says. [default: a FelixConfiguration 'default' in the"
                " input ('convert', 'verify'), else Felix's defaults]",
            )
            for way, what in (("inbound", "to host endpoints"), ("outbound", "from host endpoints"))
        ),
        click.option(
            "--cluster-config",
            type=click.Path(dir_okay=False),
            default=None,
            help="YAML file with podCIDRs, nodeCIDRs, serviceCIDRs (lists), ciliumVersion, nodeLabels"
            " ({node: {key: value}}), defaultEndpointToHostAction, failsafeInboundHostPorts and"
            " failsafeOutboundHostPorts; flags override it.",
        ),
    ]
    decorated: Callable[..., Any] = run
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[return-value]


def _read_config(path: str) -> dict[str, Any]:
    """The cluster config file's values, keyed by ``ClusterOptions`` field names; a usage error
    (exit 2) on anything unexpected, never a traceback."""
    from pathlib import Path

    from calico2cilium.io.decode import decode
    from calico2cilium.io.yamlstream import read_documents

    def bad(message: str) -> click.BadParameter:
        return click.BadParameter(f"{path}: {message}", param_hint="'--cluster-config'")

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise bad(f"cannot read: {exc.strerror or exc}") from None
    # Read as manifests are: a duplicate key (a second podCIDRs silently replacing the first), an
    # alias bomb, a bad byte or a 5,000-digit number is an error with its position, never a crash.
    decoded = decode(raw, path)
    documents, problems = read_documents(decoded.text, path) if decoded.text is not None else ([], [])
    if decoded.diagnostic is not None:
        problems = [decoded.diagnostic]
    if [p.code for p in problems] == ["C2C105"]:
        return {}  # empty, or only comments
    expected = (
        "expected a mapping (one YAML document) of podCIDRs, nodeCIDRs, serviceCIDRs, ciliumVersion, nodeLabels"
        ", defaultEndpointToHostAction, failsafeInboundHostPorts, failsafeOutboundHostPorts"
    )
    if problems and all(p.code == "C2C201" for p in problems):
        raise bad(expected)  # a top-level list of scalars, read as a list of resources
    if problems:  # positioned: file:line:col: message
        raise click.BadParameter(
            f"{problems[0].source}: {problems[0].message}", param_hint="'--cluster-config'"
        )
    if len(documents) != 1 or documents[0].base or not isinstance(documents[0].data, dict):
        raise bad(expected)
    data = documents[0].data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in CONFIG_KEYS:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list):
                raise bad(f"{key}: expected a list of CIDRs")
            cidrs = []
            for item in value:
                try:
                    if not isinstance(item, str):
                        raise ValueError(item)
                    cidrs.append(_cidr(item))
                except ValueError:
                    raise bad(f"{key}: {item!r} is not an IPv4 or IPv6 CIDR") from None
            out[CONFIG_KEYS[key]] = tuple(cidrs)
        elif key == NODE_LABELS_KEY:
            if not isinstance(value, dict) or not all(
                isinstance(labels, dict)
                # strings only, as Kubernetes labels are: str(True) would be "True", not "true"
                and all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
                for labels in value.values()
            ):
                raise bad(
                    f"{key}: expected a mapping of node name to a mapping of labels (quoted string values)"
                )
            out["node_labels"] = node_labels(
                {str(n): {str(k): str(v) for k, v in labels.items()} for n, labels in value.items()}
            )
        elif key == VERSION_KEY:
            if not isinstance(value, str | float) or str(value) not in CILIUM_VERSIONS:
                raise bad(f"{key}: {value!r} is not one of {', '.join(CILIUM_VERSIONS)}")
            out["cilium_version"] = str(value)
        elif key == ENDPOINT_TO_HOST_KEY:
            action = endpoint_to_host(str(value))
            if action is None:
                raise bad(f"{key}: {value!r} is not one of {', '.join(ENDPOINT_TO_HOST_ACTIONS)}")
            out["endpoint_to_host_action"] = action
        elif key in FAILSAFE_KEYS:
            try:
                out[FAILSAFE_KEYS[key]] = failsafe_ports(value)
            except ValueError as exc:
                raise bad(f"{key}: {exc}") from None
        else:
            known = ", ".join(
                [*CONFIG_KEYS, VERSION_KEY, NODE_LABELS_KEY, ENDPOINT_TO_HOST_KEY, *FAILSAFE_KEYS]
            )
            raise bad(f"unknown key {key!r} (known: {known})")
    return out


def _failsafe_ports(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            failsafe_setting(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


def failsafe_ports(value: object) -> FailsafePorts:
    """A failsafe port list as FelixConfiguration writes it (a list of ``{protocol, port}``) or as
    calico-node's environment does (``"tcp:22,udp:68"``, ``none``); ValueError with the reason."""
    if isinstance(value, str):
        return failsafe_setting(value)
    if not isinstance(value, list):
        raise ValueError("expected a list of {protocol, port} or a string such as 'tcp:22,udp:68'")
    out: list[tuple[str, int]] = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"protocol", "port", "net"}:
            raise ValueError(f"{item!r} is not a mapping of protocol, port (and net)")
        out.append(failsafe_entry(item.get("protocol"), item.get("port"), item.get("net")))
    return tuple(dict.fromkeys(out))


def stated_failsafe(options: ClusterOptions) -> dict[str, FailsafePorts]:
    """The failsafe port lists the flags or the config file state, by ``Cluster`` field name."""
    out: dict[str, FailsafePorts] = {}
    for name in FAILSAFE_KEYS.values():
        flag: str | None = getattr(options, name)
        if flag is not None:
            out[name] = failsafe_setting(flag)
        elif name in options.config_values:
            out[name] = options.config_values[name]
    return out


def stated_endpoint_to_host(cluster: ClusterOptions) -> EndpointToHostAction | None:
    """The ``DefaultEndpointToHostAction`` the flag or the config file states (``None``: neither)."""
    if cluster.endpoint_to_host_action:
        return endpoint_to_host(cluster.endpoint_to_host_action)
    action: EndpointToHostAction | None = cluster.config_values.get("endpoint_to_host_action")
    return action


def cluster_from(options: ClusterOptions) -> Cluster:
    """The one ``Cluster`` value: the config file's values, replaced by any flag given."""
    values = dict(options.config_values)
    for name in ("pod_cidrs", "node_cidrs", "service_cidrs"):
        given: tuple[str, ...] = getattr(options, name)
        if given:
            values[name] = given
    version = options.cilium_version or values.get("cilium_version") or DEFAULT_CILIUM_VERSION
    failsafe = stated_failsafe(options)
    return Cluster(
        pod_cidrs=values.get("pod_cidrs", ()),
        node_cidrs=values.get("node_cidrs", ()),
        service_cidrs=values.get("service_cidrs", ()),
        node_labels=values.get("node_labels"),
        endpoint_to_host_action=stated_endpoint_to_host(options),
        target=cilium_target(version),
        failsafe_inbound=failsafe.get("failsafe_inbound", FAILSAFE_INBOUND),
        failsafe_outbound=failsafe.get("failsafe_outbound", FAILSAFE_OUTBOUND),
    )


def assumptions_from(options: ClusterOptions) -> Assumptions:
    """The verifier's assumptions for the cluster the options describe."""
    return Assumptions.of(cluster_from(options))
