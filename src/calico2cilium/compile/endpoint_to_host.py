"""Felix ``DefaultEndpointToHostAction``: traffic from a pod to its own node, after its egress policy.

Calico (iptables dataplane; projectcalico/calico ``felix/rules/static.go``): ``filterInputChain``
sends a packet that arrives from a workload interface to ``cali-wl-to-host`` (a goto, before the
host endpoint dispatch), which runs the pod's egress policy (``cali-from-wl-dispatch``) and then the
configured action (``inputAcceptActions``, ``felix/rules/rule_defs.go`` ``NewRenderer``): ``DROP``
drops, ``ACCEPT`` accepts, ``RETURN`` returns to the kernel's INPUT chain, where only rules outside
Calico are left. Cilium has no such setting: a pod's traffic to its node (entity ``host``) is
decided by the pod's egress policy (and, with the host firewall, the host's ingress policy).

- ``Accept`` (the default: calico.yaml and the Tigera operator set it): the pod's egress policy
  decides on both sides; nothing to add.
- ``Drop``: Calico denies every pod's traffic to its own node, whatever the policy. The exact
  Cilium form is one CiliumClusterwideNetworkPolicy selecting every pod (``namespace Exists``) with
  ``egressDeny: [{toEntities: [host]}]`` (deny wins over any allow, semantics.md 2.4) and
  ``enableDefaultDeny: {egress: false}`` so that it puts no pod in default deny (1.16+). Before
  1.16 there is no such form: refused (C2C341), and Cilium allows what the egress policies allow.
- ``Return``: converted as ``Accept`` (what Calico's own rules do), with a warning (C2C342) that the
  host's other INPUT rules, which are not in the input, decided the traffic in Calico.

docs/reviews/endpoint-to-host-research.md has the sources.
"""

from __future__ import annotations

from typing import Any

from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
from calico2cilium.semantics.world import EndpointToHostAction

DROP_POLICY_NAME = "calico2cilium-endpoint-to-host-drop"
ANNOTATION_PREFIX = "calico2cilium.io/"


def _drop_policy() -> dict[str, Any]:
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumClusterwideNetworkPolicy",
        "metadata": {
            "name": DROP_POLICY_NAME,
            "annotations": {
                ANNOTATION_PREFIX + "note": "Felix defaultEndpointToHostAction Drop: Calico drops every"
                " pod's traffic to its own node after the pod's egress policy; this denies it for every"
                " pod without putting any pod in default deny",
                ANNOTATION_PREFIX + "source": "FelixConfiguration defaultEndpointToHostAction: Drop",
            },
        },
        "spec": {
            # Every pod, and nothing else (not the host, health or other reserved endpoints): the
            # namespace label only pods carry, as the other clusterwide outputs select pods.
            "endpointSelector": {
                "matchExpressions": [{"key": "k8s:io.kubernetes.pod.namespace", "operator": "Exists"}]
            },
            "enableDefaultDeny": {"egress": False},
            "egressDeny": [{"toEntities": ["host"]}],
        },
    }


def endpoint_to_host(
    action: EndpointToHostAction, version: tuple[int, int]
) -> tuple[list[dict[str, Any]], list[Diagnostic]]:
    """The documents and diagnostics ``action`` adds to a conversion for Cilium ``version``."""
    if action == "Drop":
        if version >= (1, 16):
            return [_drop_policy()], []
        return [], [
            make(
                "C2C341",
                "defaultEndpointToHostAction Drop: Calico drops every pod's traffic to its own node; the"
                f" Cilium form (a deny-only policy with enableDefaultDeny) needs Cilium 1.16, not"
                f" {version[0]}.{version[1]}, so the output allows pod to own node traffic wherever the"
                " egress policies allow it (for pods without egress policy: all of it)",
                hint="target Cilium 1.16 or later (--cilium-version), or add an egressDeny to entity"
                " host in every pod's policy by hand",
            )
        ]
    if action == "Return":
        return [], [
            make(
                "C2C342",
                "defaultEndpointToHostAction Return: after a pod's egress policy allows traffic to its own"
                " node, Calico hands it to the host's INPUT chain, whose other rules (not in the input)"
                " decided it; converted as Accept: the pod's egress policy alone decides in Cilium",
                hint="if the host's own INPUT rules dropped pod traffic, express that as Cilium host"
                " policy or egressDeny rules to entity host",
            )
        ]
    return [], []


def assumed(action: EndpointToHostAction) -> Diagnostic:
    """C2C340: the action was not stated, so the default was assumed."""
    return make(
        "C2C340",
        f"assumed Felix defaultEndpointToHostAction {action} (what calico.yaml and the Tigera operator"
        " set): pod traffic to its own node is decided by the pod's egress policy alone. Felix's own"
        " default is Drop; if your cluster runs Felix without those settings, the output allows more",
        hint="state it: --endpoint-to-host-action, or defaultEndpointToHostAction in --cluster-config"
        " (kubectl get felixconfiguration default -o yaml; calico-node env FELIX_DEFAULTENDPOINTTOHOSTACTION)",
    )
