"""How Cilium lets plain allows and L7 HTTP rules meet on one port (docs/reference/semantics.md §2.3; the sources
are quoted in ``docs/research/l7-wildcard-research.md``).

1. A plain allow (no ``rules``) lets every request of its peers through on a port that also
   carries L7 rules, whatever the peer kind: endpoints, entities or CIDRs. The agent no longer
   copies L3/L4 rules into L7 wildcards at policy resolution (``wildcardL3L4Rules``, whose
   ``IsLabelBased`` test left CIDR rules out, is gone from cilium ``pkg/policy/rules.go`` @
   965d0079); the proxy gets one NPDS policy per L4 filter instead (``pkg/envoy/xds_server.go`` @
   593a24bf ``getDirectionNetworkPolicy``):

   * a filter on port 0 (an L3-only rule, or ``toPorts`` port ``"0"``) becomes the wildcard-port
     policy, with the identities of its peers and no L7 rules ("L3-only rule, must generate L7
     allow-all in case there are other port-specific rules", ``getWildcardNetworkPolicyRule``);
   * rules on the same port and protocol share one filter, in which a selector without L7 rules
     is a rule with its identities and no L7 ("L3/L4 only rule, everything in L7 is allowed",
     ``getPortNetworkPolicyRule``); one selector with and without L7 rules merges into an
     allow-all (``pkg/policy/rule.go`` ``mergePortProto``, ``appendL7WildcardRule``).

   cilium-envoy allows a request when any rule of the port's policies or of the wildcard-port
   policy allows it (cilium/proxy ``cilium/network_policy.cc`` @ f26fc7b3 ``PortPolicy::for_range``;
   older ones: "Check for any rules that wildcard the port"). Whether the datapath sends such a
   flow to the proxy or allows it at L4, it is allowed. So per request Cilium's decision is the
   union of its allow rules, which is what ``semantics/cilium.py`` models.

2. The exception: in ``xds_server.go`` @ 593a24bf (and older) a filter on a port other than 0
   with a single selector goes to the proxy with no identities at all ("A single selector is
   effectively a wildcard, as bpf passes through only allowed l3"). A plain allow written as a
   port range (``endPort``) or a named port is a filter of its own; where it covers a port that
   another filter holds L7 rules on (whose redirect brings other peers to the proxy), its rule lets
   every request from every peer there through. Newer code keeps the identities
   (``pkg/envoy/xds_server_test.go`` @ 995915343, a one-selector filter keeps ``RemotePolicies``);
   in which release that changed was not established. So such a pair of entries is outside the
   verifier's proof (``overlaps_unsafely``) and the converter never writes one
   (``cilium/ports.py`` ``split_around``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PORT_MAX = 65535


@dataclass(frozen=True)
class PortEntry:
    """One ``toPorts[].ports[]`` entry: ``port`` as written (number or name), ``end_port`` when a
    range, ``protocol`` (``TCP``, ``UDP``, ``SCTP``, ``ANY``)."""

    port: str
    end_port: int | None
    protocol: str

    @property
    def reaches_proxy(self) -> bool:
        """Only TCP filters (``ANY`` includes TCP) are sent to the HTTP proxy (``xds_server.go``:
        "Other protocol rules not sent to Envoy")."""
        return self.protocol in ("TCP", "ANY")

    @property
    def named(self) -> bool:
        return not self.port.isdigit()

    @property
    def span(self) -> tuple[int, int] | None:
        """The numbered ports, ``None`` for a named port; port 0 is every port."""
        if self.named:
            return None
        lo = int(self.port)
        if lo == 0:
            return (1, PORT_MAX)
        hi = self.end_port if self.end_port is not None and self.end_port > lo else lo
        return (lo, hi)

    @property
    def key(self) -> tuple[str, int]:
        """The L4 filter the entry joins (Cilium keys filters by port, end port and protocol)."""
        span = self.span
        return (self.port, span[1] if span is not None else 0)


def overlaps_unsafely(plain: PortEntry, l7: Iterable[PortEntry]) -> bool:
    """Whether a plain allow's entry may reach the proxy as a peer-less allow-all rule on a port
    that one of the ``l7`` entries carries L7 rules on (module docstring, 2): both go to the proxy,
    the plain entry is not port 0 (the wildcard-port policy keeps its identities), it is a different
    filter from the L7 entry, and they may share a port (a named port may be any number)."""
    if not plain.reaches_proxy or plain.port == "0":
        return False
    for entry in l7:
        if not entry.reaches_proxy or entry.key == plain.key:
            continue
        a, b = plain.span, entry.span
        if a is None or b is None or (a[0] <= b[1] and b[0] <= a[1]):
            return True
    return False


__all__ = ["PORT_MAX", "PortEntry", "overlaps_unsafely"]
