"""Quarantine policies: what ``--allow-partial`` writes in place of a policy it cannot convert.

For each policy in error (``compile/quarantine.py`` reads what it can of it), a
CiliumNetworkPolicy (its namespace known) or CiliumClusterwideNetworkPolicy that denies every flow
of the endpoints it could govern, in the directions it could govern: ``ingressDeny`` from, and
``egressDeny`` to, the entity ``all``. Cilium applies deny rules before any allow, whatever policy
the allow comes from (docs/reference/semantics.md §2.4, "Deny takes precedence"; Cilium
``language.rst`` §Deny Policies), so no other policy of the output can allow these endpoints what
the policy in error might have denied. Traffic from a pod's own node is whatever Cilium's
``--allow-localhost`` makes of it; Calico allows it whatever the policy says
(docs/reference/semantics.md §1.5), so a deny of it could only narrow.

The quarantine has the name the corrected policy converts to, so that applying the corrected
conversion replaces it; one that has no such successor (a Kubernetes NetworkPolicy's quarantine,
or a policy whose corrected conversion needs no Cilium policy) is left behind:
``kubectl apply --prune -l app.kubernetes.io/managed-by=calico2cilium`` removes it
(docs/cli-safety.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from calico2cilium import ir
from calico2cilium.calico.names import dns_subdomain_problems
from calico2cilium.cilium.rulekit import ANNOTATION_PREFIX, DENY_SECTION, metadata
from calico2cilium.cilium.selectors import subject_selectors, widened
from calico2cilium.compile.hosts import applies_to_hosts
from calico2cilium.compile.quarantine import Suspect, directions, quarantined_subjects
from calico2cilium.diagnostics import Diagnostic, Source
from calico2cilium.diagnostics.catalog import make
from calico2cilium.io.documents import RawDocument
from calico2cilium.sets import LabelCube

QUARANTINE_ANNOTATION = ANNOTATION_PREFIX + "quarantine"
_DENY_ALL = {
    ir.Direction.INGRESS: {"fromEntities": ["all"]},
    ir.Direction.EGRESS: {"toEntities": ["all"]},
}
_WORDS = {ir.Direction.INGRESS: "ingress", ir.Direction.EGRESS: "egress"}


def quarantine_documents(
    found: Sequence[Suspect], host_endpoints: bool
) -> tuple[list[dict[str, Any]], list[Diagnostic]]:
    """The quarantine policies of ``found`` (the quarantines of one resource share one document:
    the copies of a policy defined twice) and a C2C236 at each. ``host_endpoints``: the
    input has HostEndpoints, which a GlobalNetworkPolicy's quarantine also covers (their nodes
    are closed by the host compiler)."""
    documents: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    notes: list[Diagnostic] = []
    for suspect in found:
        policy = suspect.policy
        subjects = quarantined_subjects(policy)
        kind = "CiliumNetworkPolicy" if policy.namespace is not None else "CiliumClusterwideNetworkPolicy"
        name = _name(policy)
        governed = directions(policy)
        what = " and ".join(_WORDS[d] for d in governed)
        description = (
            f"quarantine of {policy.origin.resource}, which is not converted"
            f" because {suspect.why}: every {what} flow of {subjects.what} is denied, whatever other"
            " policies allow, until it is corrected and converted again"
        )
        body = {DENY_SECTION[d]: [_DENY_ALL[d]] for d in governed}
        specs = [
            {"endpointSelector": selector, "description": description, **body}
            for cube in widened(subjects.pods.cubes)
            for selector in subject_selectors(cube, policy.namespace)
        ]
        key = (kind, policy.namespace or "", name, policy.origin.resource)
        doc = documents.get(key)
        if doc is None:
            annotations = {
                ANNOTATION_PREFIX + "source": policy.origin.resource,
                ANNOTATION_PREFIX + "source-file": _file(policy.origin.source),
                QUARANTINE_ANNOTATION: f"{policy.origin.resource} is not converted because {suspect.why}:"
                " this policy denies all traffic of the endpoints it could govern",
            }
            doc = {
                "apiVersion": "cilium.io/v2",
                "kind": kind,
                "metadata": metadata(name, policy.namespace, annotations),
                "specs": [],
            }
            documents[key] = doc
        doc["specs"].extend(s for s in specs if s not in doc["specs"])
        notes.append(_note(suspect, subjects.what, what, kind, name, host_endpoints))
    return [d for d in documents.values() if d["specs"]], notes


def _note(suspect: Suspect, pods: str, what: str, kind: str, name: str, host_endpoints: bool) -> Diagnostic:
    policy = suspect.policy
    hosts = (
        "; the nodes whose HostEndpoints it could select are kept in host default deny with only the"
        " failsafe ports allowed (C2C312)"
        if host_endpoints and applies_to_hosts(policy)
        else ""
    )
    where = f"{policy.namespace}/" if policy.namespace else ""
    return make(
        "C2C236",
        f"{policy.origin.resource} is not converted because {suspect.why}. The --allow-partial output"
        f" quarantines it: {kind} {where}{name} denies all {what} traffic of {pods}{hosts}. Cilium's"
        " deny wins over every allow, so the output allows nothing the policy could have denied, and"
        " denies those endpoints' traffic that Calico would allow",
        policy.origin.source,
        hint="correct the document and convert again; the corrected conversion replaces the quarantine",
        narrowing=True,
    )


def unquarantined(others: Iterable[RawDocument], unread: Iterable[Diagnostic]) -> list[Diagnostic]:
    """C2C237 at each resource in error that is not a policy, and at each input that could not be
    read into resources at all: the output has no quarantine for them. A Tier in error needs
    none: its policies are then in a tier missing from the input, which the compiler closes."""
    notes: list[Diagnostic] = []
    for raw in others:
        if raw.kind == "Tier":
            continue
        notes.append(
            make(
                "C2C237",
                f"{raw.label} is in error and is not a NetworkPolicy or GlobalNetworkPolicy, so the"
                f" --allow-partial output has no quarantine for it: {_left_out(raw.kind)}",
                raw.source(),
                hint="correct it and convert again before applying the output",
            )
        )
    for error in unread:
        notes.append(
            make(
                "C2C237",
                f"{error.source or 'the input'} could not be read into resources ({error.code}), so no"
                " kind or name is known and the --allow-partial output has no quarantine for what it"
                " holds: if it holds a policy, the output may allow what that policy denies",
                error.source,
                hint="correct it and convert again before applying the output",
            )
        )
    return notes


def _left_out(kind: str) -> str:
    if kind in ("NetworkSet", "GlobalNetworkSet"):
        return (
            "rules that select it match none of its nets, so a Deny of them denies nothing and the"
            " output may allow traffic to or from them that Calico denies"
        )
    if kind == "HostEndpoint":
        return "its node's host traffic is not governed by the policies that select it, so the output may allow it"
    return "if it decides traffic (another policy kind, or a policy kind misspelt), the output may allow what it denies"


def _name(policy: ir.Policy) -> str:
    """The name the corrected policy converts to (``cilium/policies.py``: the policy's name), or a
    digest of its position when it has no valid one."""
    name = policy.name
    if name and not dns_subdomain_problems(name):
        return name
    source = policy.origin.source
    where = f"{source.file}#{source.document}" if source is not None else policy.origin.resource
    return "calico2cilium-quarantine-" + hashlib.sha256(where.encode()).hexdigest()[:12]


def _file(source: Source | None) -> str:
    return source.file if source is not None else "?"


def stand_in_for_invalid(
    document: dict[str, Any], problem: str, *, own_selectors: bool = True
) -> tuple[dict[str, Any] | None, bool]:
    """A quarantine in place of an output ``document`` that fails the Cilium CRD schema (C2C399, a
    bug): same kind, namespace and name, denying every flow, in the directions it has rules for,
    of the pods it selects; with ``own_selectors=False`` (its selectors being what fails), of every
    pod of its namespace, or every pod. Returns the stand-in (``None`` if it has no pod spec) and
    whether it stands for every spec: a host spec (``nodeSelector``) is not stood in for, since
    denying all of a node's traffic would cut the node off, failsafe ports included."""
    if document.get("kind") not in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
        return None, False
    meta = document.get("metadata") or {}
    namespace = meta.get("namespace")
    specs = document.get("specs") or [document.get("spec") or {}]
    annotations = {
        key: value
        for key, value in (meta.get("annotations") or {}).items()
        if key in (ANNOTATION_PREFIX + "source", ANNOTATION_PREFIX + "source-file")
    }
    annotations[QUARANTINE_ANNOTATION] = (
        f"the converted policy fails the Cilium CRD schema ({problem}; a bug in calico2cilium): this"
        " policy denies all traffic of the pods it selects instead"
    )
    out: list[dict[str, Any]] = []
    every = True
    for spec in specs:
        if not isinstance(spec, dict) or "nodeSelector" in spec:
            every = False
            continue
        governed = [
            direction for direction, words in _SECTIONS.items() if any(word in spec for word in words)
        ] or list(_SECTIONS)
        selector = spec.get("endpointSelector") if own_selectors else None
        if selector is None:  # every pod of its namespace, or every pod (and nothing else)
            (selector,) = subject_selectors(LabelCube.all(), namespace)
        candidate = {
            "endpointSelector": selector,
            "description": "quarantine: the converted policy failed the Cilium CRD schema (C2C399)",
            **{DENY_SECTION[d]: [_DENY_ALL[d]] for d in governed},
        }
        if candidate not in out:
            out.append(candidate)
    if not out:
        return None, False
    stand_in = {
        "apiVersion": "cilium.io/v2",
        "kind": document["kind"],
        "metadata": metadata(str(meta.get("name")), namespace, annotations),
        "specs": out,
    }
    return stand_in, every


_SECTIONS = {
    ir.Direction.INGRESS: ("ingress", "ingressDeny"),
    ir.Direction.EGRESS: ("egress", "egressDeny"),
}
