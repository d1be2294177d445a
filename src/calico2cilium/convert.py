"""``convert()``: Calico (and Kubernetes) NetworkPolicy documents -> Cilium policy documents.

The pipeline, one module per stage: ``load`` (read and validate) -> ``compile.lower`` (models to
IR) -> ``compile.plan`` (Calico's ordering to exact allow regions) -> ``cilium.policies`` (Cilium
resources) -> ``schemas`` (every output validated against the target version's Cilium CRD).

    from calico2cilium import convert
    result = convert(["calico/"], recursive=True, pod_cidrs=("10.244.0.0/16",))
    for doc in result.documents: ...
    for d in result.diagnostics: print(d)
"""

from __future__ import annotations

import copy
import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from calico2cilium.cilium.gitops import finalize
from calico2cilium.cilium.naming import deduplicate_names
from calico2cilium.cilium.policies import EmitFailure, emit_policies
from calico2cilium.compile import http
from calico2cilium.compile.endpoint_to_host import endpoint_to_host
from calico2cilium.compile.hosts import compile_hosts
from calico2cilium.compile.inventory import Expansion
from calico2cilium.compile.lower import DEFAULT_NAMESPACE, lower
from calico2cilium.compile.match import Cluster
from calico2cilium.compile.plan import Plan, compile_plan
from calico2cilium.diagnostics import Diagnostic, Severity
from calico2cilium.diagnostics.catalog import make
from calico2cilium.io.inventory import Inventory, read_inventory_files
from calico2cilium.ir import JsonPath
from calico2cilium.load import LoadResult, load
from calico2cilium.schemas import normalize_cilium_version, validate
from calico2cilium.semantics.services import KnownServices
from calico2cilium.semantics.world import DEFAULT_ENDPOINT_TO_HOST_ACTION, EndpointToHostAction
from calico2cilium.validate import Document

DEFAULT_CILIUM_VERSION = "1.18"


@dataclass
class ConvertResult:
    documents: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    loaded: LoadResult | None = None
    inventory: Inventory | None = None
    """The label inventory string tests were expanded against (``None``: none given, or unusable)."""
    expansions: list[tuple[Document, JsonPath, Expansion]] = field(default_factory=list)
    """Selector fields rewritten against the inventory (each has a C2C316 warning)."""

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)

    def expanded_input(self) -> LoadResult | None:
        """The input as the conversion read it: each expanded selector field replaced by its
        expansion (same positions). What the output is exact for; the verifier can prove that,
        while the original string tests differ from it on label values outside the inventory."""
        if self.loaded is None or not self.expansions:
            return self.loaded
        rewritten: dict[int, Any] = {}
        for doc, path, expansion in self.expansions:
            data = rewritten.setdefault(id(doc), copy.deepcopy(doc.raw.data))
            target = data
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = str(expansion.expanded)
        documents = [
            replace(doc, raw=replace(doc.raw, data=rewritten[id(doc)])) if id(doc) in rewritten else doc
            for doc in self.loaded.documents
        ]
        return replace(self.loaded, documents=documents)


def _version_tuple(version: str) -> tuple[int, int]:
    major, minor = normalize_cilium_version(version).split(".")[:2]
    return int(major), int(minor)


_GC_THRESHOLD = 100_000
"""Allocations between young collections while converting (CPython's default: 700)."""


@contextmanager
def _gc_relaxed() -> Iterator[None]:
    """Collect garbage less often while converting. The set algebra allocates millions of small
    immutable values and makes no reference cycles, so the default schedule mostly rescans live
    data (about a quarter of the compile time on 1,000 policies); cycles are still collected,
    only later. The previous thresholds come back afterwards."""
    before = gc.get_threshold()
    if before[0]:  # 0: automatic collection is off; leave it off
        gc.set_threshold(max(before[0], _GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@_gc_relaxed()
def convert(
    paths: Sequence[str] | None = None,
    *,
    text: str | None = None,
    name: str = "<stdin>",
    loaded: LoadResult | None = None,
    recursive: bool = False,
    cilium_version: str = DEFAULT_CILIUM_VERSION,
    pod_cidrs: Sequence[str] = (),
    node_cidrs: Sequence[str] = (),
    default_namespace: str = DEFAULT_NAMESPACE,
    inventory: Inventory | str | Sequence[str] | None = None,
    endpoint_to_host_action: EndpointToHostAction = DEFAULT_ENDPOINT_TO_HOST_ACTION,
    roots: Sequence[str] | None = None,
) -> ConvertResult:
    """Convert everything in ``paths`` (or ``text``, or an already ``loaded`` result).

    ``pod_cidrs``/``node_cidrs`` tell which addresses are pods and nodes: Calico ``nets`` match
    those, Cilium CIDR rules do not, so without them a net is assumed to hold none (a warning says
    where). Every output is validated against the Cilium CRD schema of ``cilium_version``.

    ``inventory`` (an ``Inventory``, or paths of ``kubectl get pods,namespaces,serviceaccounts,nodes,
    services -A -o yaml`` exports): ``contains``/``starts with``/``ends with`` selectors, refused
    without it, are expanded against its label values (a snapshot; C2C316 says where), and
    ``services`` matches are converted from its Service objects (a snapshot; C2C333).

    ``endpoint_to_host_action``: Felix ``DefaultEndpointToHostAction`` of the Calico cluster
    (``Drop`` adds a policy denying every pod's traffic to its own node; ``compile.endpoint_to_host``).

    ``roots``: the input paths the ``source-file`` annotations are relative to (default ``paths``);
    every output carries the ``app.kubernetes.io/managed-by: calico2cilium`` label (``cilium.gitops``).
    """
    if loaded is None:
        loaded = load(paths, text=text, name=name, recursive=recursive)
    version = _version_tuple(cilium_version)
    given = _inventory(inventory, recursive)
    problems = list(given.diagnostics) if given is not None else []
    if given is not None and not given.ok:
        given = None  # a partial inventory would expand to a partial snapshot: not used
    lowered = lower(loaded.documents, default_namespace, given)
    services = KnownServices.of(given) if given is not None else None
    cluster = Cluster.of(tuple(pod_cidrs), tuple(node_cidrs), tuple(lowered.sets), services)
    plan = compile_plan(lowered, cluster, version)
    hosts = compile_hosts(lowered, cluster, plan)
    emitted = emit_policies(plan, version, lowered.sets, lowered.passthrough, hosts.hosts)
    extra, host_notes = endpoint_to_host(endpoint_to_host_action, version, hosts.hosts)
    documents = [*emitted.documents, *extra]
    renamed = deduplicate_names(documents)
    diagnostics = [*loaded.diagnostics, *problems, *plan.diagnostics, *hosts.diagnostics, *host_notes]
    diagnostics.extend(renamed)
    diagnostics.extend(_assumed(cluster))
    diagnostics.extend(_services_snapshot(cluster))
    diagnostics.extend(_failure(f, plan) for f in emitted.failures)
    diagnostics.extend(http.converted(rule, filtered) for rule, filtered in emitted.l7_rules)
    finalize(documents, roots if roots is not None else list(paths or ()))
    documents, invalid = _schema_check(documents, normalize_cilium_version(cilium_version))
    diagnostics.extend(invalid)
    diagnostics.sort(key=Diagnostic.sort_key)
    return ConvertResult(documents, diagnostics, loaded, given, lowered.expansions)


def _inventory(inventory: Inventory | str | Sequence[str] | None, recursive: bool) -> Inventory | None:
    """The inventory given, read as ``verify --inventory`` reads it (``recursive`` as for the inputs)."""
    if inventory is None or isinstance(inventory, Inventory):
        return inventory
    paths = [inventory] if isinstance(inventory, str) else list(inventory)
    return read_inventory_files(paths, recursive=recursive)


def _assumed(cluster: Cluster) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for origin, what in cluster.assumed:
        key = (str(origin), what)
        if key in seen:
            continue
        seen.add(key)
        option = "--pod-cidr" if what == "pod" else "--node-cidr"
        out.append(
            make(
                "C2C307",
                f"{origin}: the rule's nets may hold {what} addresses, which Calico matches and Cilium CIDR"
                f" rules never do; converted assuming they hold none",
                origin.source,
                hint=f"give the cluster's ranges with {option} so that the conversion is exact",
            )
        )
    return out


def _services_snapshot(cluster: Cluster) -> list[Diagnostic]:
    """C2C333 at each ``services`` match converted from the inventory's Service object."""
    out: list[Diagnostic] = []
    seen: set[str] = set()
    for origin, backends in cluster.resolved:
        if str(origin) in seen:
            continue
        seen.add(str(origin))
        out.append(
            make(
                "C2C333",
                f"{origin}: the services match (Service {backends.namespace}/{backends.name}) is"
                f" converted as {backends.describe()}, from the inventory's Service object: a"
                " snapshot. Calico follows the Service's EndpointSlices, so a later change of its"
                " selector or ports is followed by Calico and not by the converted rule",
                origin.source,
                hint="convert again whenever the Service's selector or ports change",
            )
        )
    return out


def _failure(failure: EmitFailure, plan: Plan) -> Diagnostic:
    err = failure.error
    if failure.http and failure.rule is not None:
        return http.refused(failure.rule, err)
    detail = err.detail or err.operator
    hint = "rewrite the rule or the rules before it so the allowed region is expressible"
    if failure.rule is not None:
        source = failure.rule.origin.source
        message = (
            f"{failure.rule.origin}: the part of the traffic this rule allows, after earlier rules and"
            f" policies took theirs, has no exact Cilium form ({detail}); it is left out, so Cilium"
            " denies it"
        )
    elif failure.policy is not None:
        source = failure.policy.origin.source
        message = (
            f"{failure.policy.origin.resource} is kept for Cilium to enforce, and Calico denies part of"
            f" what it allows (an earlier Calico Deny); no Cilium deny rule says exactly that part"
            f" ({detail}), so Cilium allows it"
        )
        hint = "narrow the Kubernetes NetworkPolicy, or the Calico rules before it, so the denied part is expressible"
    else:
        source = None
        message = (
            "traffic allowed after every tier passed (the namespace profiles): part of it has no exact"
            f" Cilium form ({detail}); it is left out, so Cilium denies it"
        )
    return make("C2C310", message, source, hint=hint)


def _schema_check(
    documents: list[dict[str, Any]], version: str
) -> tuple[list[dict[str, Any]], list[Diagnostic]]:
    """The documents that pass the Cilium CRD schema, and a C2C399 for each one that does not: the
    apiserver would reject it, so it is never printed."""
    kept, out = [], []
    for doc in documents:
        errors = validate(doc, cilium_version=version)
        if not errors:
            kept.append(doc)
        for message in errors[:3]:
            name = doc["metadata"]["name"]
            out.append(
                make(
                    "C2C399",
                    f"internal error: output {doc['kind']} '{name}' fails the Cilium {version} CRD schema:"
                    f" {message}. It is left out of the output. This is a bug in calico2cilium;"
                    " please report it",
                )
            )
    return kept, out
