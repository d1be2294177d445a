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
    return Emission(plan, target, notes).documents()


class Emission:
    """``emit_policies`` in two steps, so that a caller can let go of the plan between them
    (``convert``): made, an ``Emission`` holds every output policy before rendering (the L7
    filters placed, which needs them all) and of the plan only what the documents still need;
    ``documents`` then renders each policy and lets go of it (and so of its part of the plan),
    so that the plan and the whole output are never held at once (issue 15, item 13)."""

    def __init__(self, plan: Plan, target: CiliumTarget, notes: Diagnostics) -> None:
        self.target = target
        self.notes = notes
        self.failures: list[EmitFailure] = []
        failures = self.failures
        self.groups = CidrGroups(
            list(plan.network_sets), references=not target.cidr_group_ref_breaks_other_rules
        )
        resources = [r for pp in plan.policies if (r := resource_for(pp, plan, target, failures)) is not None]
        profile = profile_resource(plan, target, failures)
        if profile is not None:
            resources.append(profile)
        self.placed = place_l7(plan, resources, target, failures)
        self.l7_ports = l7_ports_of(resources)
        self.resources = resources
        self.hosts = plan.hosts
        self.passthrough = plan.passthrough

    def documents(self) -> list[dict[str, Any]]:
        """The output documents, sorted by kind, namespace, name (once: the policies are gone after)."""
        target, groups, failures = self.target, self.groups, self.failures
        out = [
            doc
            for r in drained(self.resources)
            if (doc := document(r, target, groups, self.l7_ports)) is not None
        ]
        host_specs, host_defaults = host_documents(self.hosts, target, groups, failures)
        merge_host_specs(out, host_specs)
        out.extend(host_defaults)
        out.extend(groups.documents(target))
        out.extend(dict(doc) for doc in self.passthrough)
        out.sort(key=lambda r: (r["kind"], r["metadata"].get("namespace", ""), r["metadata"]["name"]))
        self.notes.extend(failure_diagnostic(f) for f in failures)
        self.notes.extend(converted(rule, filtered) for rule, filtered in self.placed)
        return out
