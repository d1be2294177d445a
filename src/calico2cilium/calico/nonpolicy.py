"""Kinds that are not network policy, skipped with a note instead of refused (issue 15, item 6).

Mixed manifests, ``kubectl get all`` and calicoctl exports hold Services, Deployments, BGPPeers and
the like: they decide no traffic, and refusing the whole run over them helped no one. Only what is
surely not policy is skipped; a kind that decides traffic and is not converted (WorkloadEndpoint,
AdminNetworkPolicy, a user-defined Profile) stays an error, and so does a kind whose name is close
to a policy kind's (a typo must not drop a policy silently).
"""

from __future__ import annotations

import difflib

from calico2cilium.calico.kinds import CALICO_NOT_POLICY_KINDS
from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
from calico2cilium.io.documents import RawDocument

CALICO_GROUPS = ("projectcalico.org/", "crd.projectcalico.org/")
KEPT_GROUPS = ("cilium.io/", "policy.networking.k8s.io/")
"""Groups whose unknown kinds stay errors: Cilium policy (not an input of convert) and the
Kubernetes admin network policies, which Calico enforces."""

POLICY_KINDS = (
    "NetworkPolicy",
    "GlobalNetworkPolicy",
    "StagedNetworkPolicy",
    "StagedGlobalNetworkPolicy",
    "StagedKubernetesNetworkPolicy",
    "NetworkSet",
    "GlobalNetworkSet",
    "HostEndpoint",
    "Tier",
    "Profile",
    "WorkloadEndpoint",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
)
GENERATED_PROFILES = ("kns.", "ksa.")
"""Name prefixes of the profiles Calico generates for namespaces (``kns.<ns>``: labels and an
allow-all rule each way) and service accounts (``ksa.<ns>.<sa>``: labels only), docs/reference/semantics.md §1.4
(libcalico-go conversion.go ``NamespaceToProfile``, ``ServiceAccountToProfile``)."""
_ALLOW_ALL = [{"action": "Allow"}]


def _generated(name: str, spec: dict[str, object]) -> bool:
    """A profile of the generated form (by name, and with no rule other than allow-all), which the
    conversion already assumes: an allow after the last tier. Any other profile decides traffic.

    As the API server and calicoctl print it, the allow-all rule carries ``source: {}`` and
    ``destination: {}``: ``Rule.Source`` and ``Rule.Destination`` are struct values, which Go's
    ``omitempty`` never leaves out (projectcalico/api ``pkg/apis/projectcalico/v3/policy_common.go``)."""
    named = name.startswith(GENERATED_PROFILES) or name == "projectcalico-default-allow"
    return named and all(_rules(spec.get(key)) in (None, [], _ALLOW_ALL) for key in ("ingress", "egress"))


def _rules(rules: object) -> object:
    """``rules`` with the empty ``source`` and ``destination`` of each rule left out."""
    if not isinstance(rules, list):
        return rules
    return [
        {k: v for k, v in rule.items() if not (k in ("source", "destination") and v in ({}, None))}
        if isinstance(rule, dict)
        else rule
        for rule in rules
    ]


def skipped(raw: RawDocument, api_version: str, kind: str) -> Diagnostic | None:
    """The note for a document of a kind that is skipped, or ``None`` when it is not skipped (the
    caller reports it as unknown or unsupported)."""
    label = f"{api_version} {kind} {raw.label.split(' ', 1)[1]}"
    where = raw.source(("kind",))
    if api_version.startswith(CALICO_GROUPS):
        if kind in CALICO_NOT_POLICY_KINDS:
            return make("C2C226", f"{label} skipped: not network policy", where)
        return _cluster_fact(raw, kind, label)
    if api_version.startswith(KEPT_GROUPS) or difflib.get_close_matches(kind, POLICY_KINDS, n=1, cutoff=0.8):
        return None
    return make("C2C226", f"{label} skipped: not network policy", where)


def _cluster_fact(raw: RawDocument, kind: str, label: str) -> Diagnostic | None:
    spec = raw.data.get("spec") if isinstance(raw.data.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    if kind == "IPPool":
        cidr = spec.get("cidr")
        return make(
            "C2C228",
            f"{label} skipped: a cluster fact, not policy; 'convert' takes its cidr {cidr!r} as a pod"
            " range when no --pod-cidr (or podCIDRs in --cluster-config) is given (C2C229)",
            raw.source(("spec", "cidr")) if "cidr" in spec else raw.source(("kind",)),
        )
    if kind == "FelixConfiguration":
        # Not adopted as a fact: Felix reads the calico-node environment first, then host-specific
        # then the global FelixConfiguration (docs.tigera.io/calico/latest/reference/felix/
        # configuration, "the value read from the first location containing a value"), and the
        # calico.yaml manifest sets FELIX_DEFAULTENDPOINTTOHOSTACTION=ACCEPT in that environment.
        action = spec.get("defaultEndpointToHostAction")
        stated = (
            f"its defaultEndpointToHostAction {action!r} applies only where calico-node's environment"
            " (FELIX_DEFAULTENDPOINTTOHOSTACTION, which calico.yaml sets to ACCEPT) does not set it:"
            " give the effective value with --endpoint-to-host-action"
            if action is not None
            else "give the effective defaultEndpointToHostAction with --endpoint-to-host-action"
        )
        ports = [
            key
            for key in ("failsafeInboundHostPorts", "failsafeOutboundHostPorts")
            if spec.get(key) is not None
        ]
        failsafe = (
            f"; 'convert' and 'verify' take its {' and '.join(ports)} unless a flag states them (C2C231)"
            if ports
            else ""
        )
        return make(
            "C2C228", f"{label} skipped: cluster facts, not policy; {stated}{failsafe}", raw.source(("kind",))
        )
    if kind == "Profile" and _generated(raw.name, spec):
        return make(
            "C2C228",
            f"{label} skipped: a profile Calico generates (labels and allow), which the conversion"
            " assumes after the last tier",
            raw.source(("kind",)),
        )
    return None
