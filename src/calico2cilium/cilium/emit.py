"""The emitter: a ``plan.Plan`` -> every output document, and what could not be written.

Orchestrates the writers: pod policies (``policies.py``) with their L7 filters (``l7.py``), host
policies merged into their source policies' CCNPs (``hostpolicies.py``), the CIDR groups
(``cidrgroups.py``) and the Kubernetes NetworkPolicies, passed through.
"""

from __future__ import annotations

from typing import Any

from calico2cilium.cilium.cidrgroups import CidrGroups
from calico2cilium.cilium.failures import failure_diagnostic
from calico2cilium.cilium.hostpolicies import host_documents, merge_host_specs
from calico2cilium.cilium.l7 import l7_ports_of, place_l7
from calico2cilium.cilium.policies import document, profile_resource, resource_for
from calico2cilium.cilium.rulekit import EmitFailure
from calico2cilium.diagnostics.collector import Diagnostics
from calico2cilium.diagnostics.http_rules import converted
from calico2cilium.drain import drained
from calico2cilium.facts.target import CiliumTarget
from calico2cilium.plan import Plan


def emit_policies(plan: Plan, target: CiliumTarget, notes: Diagnostics) -> list[dict[str, Any]]:
    """Every output document of ``plan`` for Cilium ``target``, sorted by kind, namespace, name;
    what could not be written (C2C310, C2C315) and the http rules converted (C2C314) go to
    ``notes``."""
    failures: list[EmitFailure] = []
    groups = CidrGroups(list(plan.network_sets), references=not target.cidr_group_ref_breaks_other_rules)
    resources = [r for pp in plan.policies if (r := resource_for(pp, plan, target, failures)) is not None]
    profile = profile_resource(plan, target, failures)
    if profile is not None:
        resources.append(profile)
    placed = place_l7(plan, resources, target, failures)
    l7_ports = l7_ports_of(resources)
    out = [doc for r in drained(resources) if (doc := document(r, target, groups, l7_ports)) is not None]
    host_specs, host_defaults = host_documents(plan.hosts, target, groups, failures)
    merge_host_specs(out, host_specs)
    out.extend(host_defaults)
    out.extend(groups.documents(target))
    out.extend(dict(doc) for doc in plan.passthrough)
    out.sort(key=lambda r: (r["kind"], r["metadata"].get("namespace", ""), r["metadata"]["name"]))
    notes.extend(failure_diagnostic(f) for f in failures)
    notes.extend(converted(rule, filtered) for rule, filtered in placed)
    return out
