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
  ``egressDeny: [{toEntities: [host]}]`` (deny wins over any allow, docs/reference/semantics.md §2.4) and
  ``enableDefaultDeny: {egress: false}`` so that it puts no pod in default deny (1.16+). Before
  1.16 there is no such form: refused (C2C341). Where the output must still fail closed (the
  library's default, ``convert --allow-partial``), the policy is written without
  ``enableDefaultDeny``: it then puts every pod in egress default deny, so Cilium denies the pods'
  egress that no converted policy allows as well (only less than Calico allows); otherwise
  nothing stands for it and Cilium allows what the egress policies allow.
  From 1.17 Cilium honours ``enableDefaultDeny: false`` only while the agent flag
  ``enable-non-default-deny-policies`` is true (the default): said by C2C344 (review 4, finding 2).
- ``Return``: converted as ``Accept`` (what Calico's own rules do), with a warning (C2C342) that the
  host's other INPUT rules, which are not in the input, decided the traffic in Calico.
- Host endpoints: Calico never applies a host endpoint's ingress policy to traffic from the node's
  own pods (the workload-to-host chain comes before the host endpoint dispatch;
  projectcalico/calico#7398), while Cilium's host ingress policy governs it (the host firewall
  enforces host policy between the host and its local pods, cilium/cilium#13121) and cannot say
  "this node's pods". With Accept or Return, a node whose ingress the host policies govern (C2C343)
  then admits its own pods only where the converted ingress rules allow pods. With Drop, the pods'
  own egress denies that traffic on both sides, so nothing changes.

docs/research/endpoint-to-host-research.md has the sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from calico2cilium import ir
from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
from calico2cilium.diagnostics.collector import Diagnostics
from calico2cilium.facts.cluster import Cluster
from calico2cilium.facts.felix import EndpointToHostAction
from calico2cilium.facts.target import CiliumTarget
from calico2cilium.plan import HostPlan

DROP_POLICY_NAME = "calico2cilium-endpoint-to-host-drop"
ANNOTATION_PREFIX = "calico2cilium.io/"


def _drop_policy(default_deny_off: bool = True) -> dict[str, Any]:
    """The CCNP that denies every pod's traffic to its own node. ``default_deny_off``: with
    ``enableDefaultDeny {egress: false}`` (1.16+), the exact form; without it (1.15), it also puts
    every pod in egress default deny: the fail-closed stand-in of C2C341."""
    policy: dict[str, Any] = {
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
            "description": "Felix defaultEndpointToHostAction Drop: pods never reach their own node",
            "enableDefaultDeny": {"egress": False},
            "egressDeny": [{"toEntities": ["host"]}],
        },
    }
    if not default_deny_off:
        spec = policy["spec"]
        del spec["enableDefaultDeny"]
        spec["description"] += (
            "; without enableDefaultDeny (Cilium 1.15) every pod is also in egress default deny:"
            " fails closed, C2C341"
        )
        policy["metadata"]["annotations"][ANNOTATION_PREFIX + "note"] = (
            "Felix defaultEndpointToHostAction Drop: Calico drops every pod's traffic to its own node"
            " after the pod's egress policy; Cilium 1.15 has no enableDefaultDeny, so this also puts"
            " every pod in egress default deny (denies more than Calico, C2C341)"
        )
    return policy


def _own_pods(action: EndpointToHostAction, hosts: Sequence[HostPlan]) -> list[Diagnostic]:
    """C2C343 for every node whose host ingress the converted policies govern (Accept, Return)."""
    out = []
    for host in hosts:
        if ir.Direction.INGRESS not in host.governed or not any(h.all_interfaces for h in host.endpoints):
            continue
        out.append(
            make(
                "C2C343",
                f"Calico never applies HostEndpoint {host.first.name}'s ingress policy to traffic from"
                f" node {host.node}'s own pods (with defaultEndpointToHostAction {action}, their egress"
                " policy alone decides it); Cilium's host ingress policy governs it too, and cannot say"
                " 'the pods of this node', so that traffic is now allowed only where the converted"
                " ingress rules allow pods",
                host.first.source("interfaceName"),
                hint="allow ingress from the pods that must reach the node (a host rule fromEndpoints) if"
                " the policy does not already, or run Felix with defaultEndpointToHostAction Drop",
            )
        )
    return out


def endpoint_to_host(
    cluster: Cluster, hosts: Sequence[HostPlan], notes: Diagnostics, *, fail_closed: bool = False
) -> list[dict[str, Any]]:
    """The documents the cluster's action adds to a conversion whose host policies are ``hosts``;
    what it changes goes to ``notes``, with C2C340 when the cluster does not state the action.
    ``fail_closed``: where the action has no exact form (C2C341), write the form that denies more
    rather than nothing (the output of a run with errors is then still no wider than Calico)."""
    action = cluster.endpoint_to_host
    if cluster.endpoint_to_host_action is None:
        notes.add(assumed(action))
    documents, said = _by_action(action, cluster.target, fail_closed)
    notes.extend(said)
    if action != "Drop":
        notes.extend(_own_pods(action, hosts))
    return documents


def _by_action(
    action: EndpointToHostAction, target: CiliumTarget, fail_closed: bool
) -> tuple[list[dict[str, Any]], list[Diagnostic]]:
    if action == "Drop":
        if target.non_default_deny_needs_flag:
            return [_drop_policy()], [
                make(
                    "C2C344",
                    "defaultEndpointToHostAction Drop is converted to a policy with enableDefaultDeny"
                    " {egress: false}, which Cilium honours only while the agent's"
                    " enable-non-default-deny-policies is true (the default); set to false, every pod"
                    " would be put in egress default deny",
                    hint="keep enable-non-default-deny-policies (Helm enableNonDefaultDenyPolicies) true",
                )
            ]
        if target.enable_default_deny:
            return [_drop_policy()], []
        if fail_closed:
            stands = (
                f"so the output denies it with {DROP_POLICY_NAME} without enableDefaultDeny, which"
                " puts every pod in egress default deny: Cilium also denies the egress of pods that no"
                " converted policy allows (fails closed)"
            )
        else:
            stands = (
                "so the output allows pod to own node traffic wherever the egress policies allow it"
                " (for pods without egress policy: all of it)"
            )
        refused = make(
            "C2C341",
            "defaultEndpointToHostAction Drop: Calico drops every pod's traffic to its own node; the"
            f" Cilium form (a deny-only policy with enableDefaultDeny) needs Cilium 1.16, not"
            f" {target.name}, {stands}",
            hint="target Cilium 1.16 or later (--cilium-version), or add an egressDeny to entity"
            " host in every pod's policy by hand",
        )
        if not fail_closed:
            return [], [refused]
        # Still an error (every pod's unallowed egress is cut: nothing is written without
        # --allow-partial), but what is written denies only more than Calico: the verifier is asked
        # for that alone (``Diagnostic.narrowing``; ``make(narrowing=True)`` would make it a warning).
        return [_drop_policy(default_deny_off=False)], [replace(refused, narrowing=True)]
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
