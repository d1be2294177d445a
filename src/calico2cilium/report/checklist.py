"""The cut-over checklist: the steps, in order, that *this* conversion needs, with exact commands.

Each agent setting is listed only when the output uses what needs it:

- host policies (a ``nodeSelector``) are enforced only with the host firewall (Helm
  ``hostFirewall.enabled=true``; docs/reference/semantics.md §2.1, catalog C2C321);
- ``enableDefaultDeny: false`` is honoured from Cilium 1.17 only while the agent flag
  ``enable-non-default-deny-policies`` is true (its default; docs/reference/semantics.md, ``facts/target.py``);
- HTTP rules need the L7 proxy (``enable-l7-proxy``, Helm ``l7Proxy``, on by default; docs/reference/semantics.md);
- a conversion for ``--policy-cidr-match-mode=nodes`` needs that agent setting.

Node labels come from the proof's assumption (the labels each host node must carry for the
``nodeSelector`` to select it), CIDR groups go before the policies referring to them (a
``cidrGroupRef`` to a missing group matches nothing), and everything is applied and removed by the
managed-by label.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from calico2cilium.cilium import gitops

MANAGED_BY = f"{gitops.MANAGED_BY_LABEL}={gitops.MANAGED_BY}"
"""The label every output carries (``cilium/gitops.py``), which the commands select by."""
CIDR_GROUP = "CiliumCIDRGroup"
PLURALS = {
    "GlobalNetworkPolicy": "globalnetworkpolicies",
    "NetworkPolicy": "networkpolicies",
    "GlobalNetworkSet": "globalnetworksets",
    "NetworkSet": "networksets",
    "HostEndpoint": "hostendpoints",
    "Tier": "tiers",
}
"""The kinds a migration removes, by kubectl's plural resource names (with the input's API group)."""


@dataclass
class Step:
    title: str
    why: str
    commands: list[str] = field(default_factory=list)


def _walk(value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _uses(documents: Sequence[dict[str, Any]], key: str, test: Any = None) -> bool:
    return any(k == key and (test is None or test(v)) for d in documents for k, v in _walk(d))


def checklist(
    result: Any,
    inputs: Sequence[str],
    output_dir: str | None,
    node_labels: Mapping[str, Mapping[str, str]],
    cluster_flags: Sequence[str] = (),
) -> list[Step]:
    """The steps; ``cluster_flags``: the cluster options the conversion was given, repeated for
    ``verify`` so that it proves under the same assumptions."""
    documents: list[dict[str, Any]] = list(result.documents)
    cluster = result.cluster
    where = shlex.quote(output_dir) if output_dir else "cilium.yaml"
    steps: list[Step] = []
    settings: list[str] = []
    if _uses(documents, "nodeSelector"):
        settings.append("hostFirewall.enabled=true (agent: enable-host-firewall), for the host policies")
    if cluster.target.non_default_deny_needs_flag and _uses(
        documents, "enableDefaultDeny", lambda v: isinstance(v, dict) and False in v.values()
    ):
        settings.append(
            "enableNonDefaultDenyPolicies=true (agent: enable-non-default-deny-policies; the default),"
            " for the policies with enableDefaultDeny false"
        )
    if _uses(documents, "http"):
        settings.append("l7Proxy=true (agent: enable-l7-proxy; the default), for the HTTP rules")
    if cluster.policy_cidr_match_nodes:
        settings.append("policyCIDRMatchMode=nodes (agent: policy-cidr-match-mode=nodes), as converted for")
    if settings:
        steps.append(
            Step(
                f"Cilium {cluster.target.name} agent settings",
                "The output relies on these; check them in the Helm values (or cilium-config ConfigMap).",
                ["cilium config view | grep -E 'host-firewall|non-default-deny|l7-proxy|policy-cidr-match'"]
                + [f"# {s}" for s in settings],
            )
        )
    if _uses(documents, "nodeSelector") and node_labels:
        steps.append(
            Step(
                "Label the nodes",
                "Host policies select nodes by these labels: the proof assumed each node carries them.",
                [
                    "kubectl label node --overwrite "
                    + shlex.quote(node)
                    + " "
                    + " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(labels.items()))
                    for node, labels in sorted(node_labels.items())
                ],
            )
        )
    groups = [d for d in documents if d.get("kind") == CIDR_GROUP]
    if groups:
        if output_dir:
            command = "kubectl apply " + " ".join(f"-f {where}/{shlex.quote(_file(d))}" for d in groups)
        else:
            command = f"# apply the {len(groups)} CiliumCIDRGroup document(s) of {where} on their own first"
        steps.append(
            Step(
                "Apply the CIDR groups first",
                f"{len(groups)} CiliumCIDRGroup(s): a cidrGroupRef to a group not yet there matches nothing.",
                [command],
            )
        )
    steps.append(
        Step(
            "Apply the Cilium policies",
            f"Every output resource carries the label {MANAGED_BY}.",
            [f"kubectl apply -f {where}", f"kubectl get cnp,ccnp,ciliumcidrgroups -A -l {MANAGED_BY}"],
        )
    )
    quoted = " ".join(shlex.quote(i) for i in inputs) or "CALICO-INPUTS"
    steps.append(
        Step(
            "Verify",
            "Prove the applied set against the Calico one again, and watch for drops.",
            [
                f"calico2cilium verify --calico {quoted} --cilium {where}"
                + "".join(f" {shlex.quote(flag)}" for flag in cluster_flags),
                "hubble observe --verdict DROPPED --last 1000",
            ],
        )
    )
    removals = _removals(result)
    if removals:
        steps.append(
            Step(
                "Remove the Calico policies",
                "Once Cilium enforces the output and it is verified; the tiers after their policies.",
                removals,
            )
        )
    steps.append(
        Step(
            "Rollback",
            "Remove what this conversion added (and re-apply the Calico inputs if they were removed).",
            [f"kubectl delete cnp,ccnp,ciliumcidrgroups -A -l {MANAGED_BY}", f"kubectl apply -f {quoted}"],
        )
    )
    return steps


def _file(doc: dict[str, Any]) -> str:
    from calico2cilium.io.write import file_name

    return file_name(doc, "yaml")


def _removals(result: Any) -> list[str]:
    """``kubectl delete`` for each converted input resource, by the API group and name it was given
    with (``projectcalico.org`` needs the Calico API server, ``crd.projectcalico.org`` does not).
    Kubernetes NetworkPolicies are removed too: Cilium enforces them itself, beside their
    conversion, and their conversion already keeps Calico's order."""
    commands: list[str] = []
    tiers: list[str] = []
    documents = result.loaded.documents if result.loaded is not None else []
    for doc in documents:
        raw = doc.raw
        group = str(raw.data.get("apiVersion", "")).split("/")[0]
        plural = PLURALS.get(raw.kind)
        if plural is None or group not in ("projectcalico.org", "crd.projectcalico.org", "networking.k8s.io"):
            continue
        if group == "networking.k8s.io" and raw.kind != "NetworkPolicy":
            continue
        namespace = f" -n {shlex.quote(raw.namespace)}" if raw.namespace else ""
        command = f"kubectl delete {plural}.{group}{namespace} {shlex.quote(str(raw.name))}"
        (tiers if raw.kind == "Tier" else commands).append(command)
    return commands + tiers
