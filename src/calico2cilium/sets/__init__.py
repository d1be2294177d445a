"""Exact, target-neutral set algebra for the compiler.

Modules: ``labels`` (label maps: ``KeyConstraint``, ``LabelCube``, ``LabelSet``), ``selectors``
(Calico selector DNF in, Kubernetes label selectors out), ``intervals`` (integer interval sets),
``piecewise`` (range -> cell maps), ``ports`` (destination ports with named ports), ``l4``
(protocol x port/ICMP flows, Calico rule fields), ``ipsets`` (IPv4/IPv6 sets, CIDR output),
``peers`` and ``regions`` (subject x peer x L4 products), ``index`` (a subject-label index that
keeps bulk subtraction near linear). Nothing is ever rounded: what has no exact form (string
selector tests, source ports, named-port sets Cilium cannot say) raises ``Inexpressible``.
"""

from calico2cilium.sets.coset import CoSet
from calico2cilium.sets.errors import Inexpressible
from calico2cilium.sets.intervals import IntervalSet
from calico2cilium.sets.ipsets import CidrRule, IPSet, to_cidr_with_excepts, to_cidrs
from calico2cilium.sets.l4 import L4Point, L4Set, from_calico, parse_protocol
from calico2cilium.sets.labels import KeyConstraint, LabelCube, LabelSet
from calico2cilium.sets.peers import (
    HostAt,
    HostKind,
    HostPeer,
    NetAt,
    NetPeer,
    PeerCube,
    PeerPoint,
    PodAt,
    PodPeer,
)
from calico2cilium.sets.ports import NameCell, PortMap, cilium_names, parse_ports
from calico2cilium.sets.regions import Cube, Flow, Region
from calico2cilium.sets.selectors import (
    LabelSelectorDict,
    Requirement,
    cube_from_literals,
    from_literals,
    from_selector,
    set_to_kubernetes_selectors,
    to_kubernetes_selectors,
)

__all__ = [
    "CidrRule",
    "CoSet",
    "Cube",
    "Flow",
    "HostAt",
    "HostKind",
    "HostPeer",
    "IPSet",
    "Inexpressible",
    "IntervalSet",
    "KeyConstraint",
    "L4Point",
    "L4Set",
    "LabelCube",
    "LabelSelectorDict",
    "LabelSet",
    "NameCell",
    "NetAt",
    "NetPeer",
    "PeerCube",
    "PeerPoint",
    "PodAt",
    "PodPeer",
    "PortMap",
    "Region",
    "Requirement",
    "cilium_names",
    "cube_from_literals",
    "from_calico",
    "from_literals",
    "from_selector",
    "parse_ports",
    "parse_protocol",
    "set_to_kubernetes_selectors",
    "to_cidr_with_excepts",
    "to_cidrs",
    "to_kubernetes_selectors",
]
