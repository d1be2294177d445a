"""``convert()``: Calico (and Kubernetes) NetworkPolicy documents -> Cilium policy documents.

The pipeline, one module per stage: ``load`` (read and validate) -> ``compile.lower`` (models to
IR, ``ir.py``) -> ``compile.plan`` and ``compile.hosts`` (Calico's ordering to exact allow regions:
a ``plan.Plan``) -> ``cilium.emit`` (Cilium resources) -> ``schemas`` (every output validated
against the target version's Cilium CRD). The cluster and the target are one ``facts.Cluster``.

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
from functools import partial
from typing import Any

from calico2cilium.cilium.emit import Emission
from calico2cilium.cilium.gitops import finalize
from calico2cilium.cilium.naming import deduplicate_names, source_of
from calico2cilium.cilium.object_size import object_size_findings
from calico2cilium.cilium.quarantine import quarantine_documents, stand_in_for_invalid, unquarantined
from calico2cilium.cilium.rulekit import expressible
from calico2cilium.compile.endpoint_to_host import endpoint_to_host
from calico2cilium.compile.hosts import compile_hosts
from calico2cilium.compile.inventory import Expansion
from calico2cilium.compile.lower import DEFAULT_NAMESPACE, Lowered, Lowering, joined, lower
from calico2cilium.compile.match import Ranges
from calico2cilium.compile.node_ranges import summarise
from calico2cilium.compile.plan import compile_plan
from calico2cilium.compile.quarantine import Suspect, host_refusals, suspects
from calico2cilium.diagnostics import Diagnostic, Severity
from calico2cilium.diagnostics.bounded import Kind
from calico2cilium.diagnostics.catalog import make, severity_of
from calico2cilium.diagnostics.collector import Diagnostics
from calico2cilium.drain import drained
from calico2cilium.facts.cluster import Cluster, Services
from calico2cilium.facts.felix import EndpointToHostAction
from calico2cilium.facts.target import CiliumTarget, cilium_target
from calico2cilium.io.documents import RawDocument
from calico2cilium.io.inventory import Inventory, read_inventory_files
from calico2cilium.ir import JsonPath
from calico2cilium.load import LoadResult, load
from calico2cilium.plan import Plan
from calico2cilium.schemas import validate
from calico2cilium.sets.budget import scaled
from calico2cilium.sets.regions import Cube
from calico2cilium.validate import Document


@dataclass
class ConvertResult:
    documents: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    loaded: LoadResult | None = None
    inventory: Inventory | None = None
    """The label inventory string tests were expanded against (``None``: none given, or unusable)."""
    expansions: list[tuple[Document, JsonPath, Expansion]] = field(default_factory=list)
    """Selector fields rewritten against the inventory (each has a C2C316 warning)."""
    cluster: Cluster = field(default_factory=Cluster)
    """The cluster the conversion was for (with the inventory's Services, when one was used)."""
    left_out: dict[Kind, int] = field(default_factory=dict)
    """How many findings of each code and severity are counted but not in ``diagnostics``
    (``LoadResult.left_out``: of a kind met more than ``REPEAT_LIMIT`` times, only the first are
    kept, as only they are printed)."""

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


def convert(
    paths: Sequence[str] | None = None,
    *,
    text: str | None = None,
    name: str = "<stdin>",
    loaded: LoadResult | None = None,
    recursive: bool = False,
    cluster: Cluster | None = None,
    cilium_version: str | None = None,
    pod_cidrs: Sequence[str] = (),
    node_cidrs: Sequence[str] = (),
    default_namespace: str = DEFAULT_NAMESPACE,
    inventory: Inventory | str | Sequence[str] | None = None,
    endpoint_to_host_action: EndpointToHostAction | None = None,
    roots: Sequence[str] | None = None,
    work_budget: float = 1.0,
    keep_input: bool = True,
    lowered: Lowered | None = None,
    quarantine: bool = True,
    namespace_given: bool = True,
) -> ConvertResult:
    """Convert everything in ``paths`` (or ``text``, or an already ``loaded`` result) for
    ``cluster`` (``facts.cluster.Cluster``: CIDRs, Felix settings, the Cilium target).

    ``cilium_version``, ``pod_cidrs``, ``node_cidrs`` and ``endpoint_to_host_action`` are shorthands
    that replace the ``cluster``'s value when given. ``pod_cidrs``/``node_cidrs`` tell which
    addresses are pods and nodes: Calico ``nets`` match those, Cilium CIDR rules do not, so without
    them a net is assumed to hold none (a warning says where). Every output is validated against
    the Cilium CRD schema of the target version.

    ``inventory`` (an ``Inventory``, or paths of ``kubectl get pods,namespaces,serviceaccounts,nodes,
    services -A -o yaml`` exports): ``contains``/``starts with``/``ends with`` selectors, refused
    without it, are expanded against its label values (a snapshot; C2C316 says where), and
    ``services`` matches are converted from its Service objects (a snapshot; C2C333).

    ``endpoint_to_host_action``: Felix ``DefaultEndpointToHostAction`` of the Calico cluster
    (``Drop`` adds a policy denying every pod's traffic to its own node; ``compile.endpoint_to_host``).

    ``roots``: the input paths the ``source-file`` annotations are relative to (default ``paths``);
    every output carries the ``app.kubernetes.io/managed-by: calico2cilium`` label (``cilium.gitops``).

    ``work_budget``: a factor on the work the compile may spend before it fails closed (C2C350;
    ``sets/budget.py``): larger lets large, overlapping policy sets convert exactly, in more time.

    ``keep_input=False``: drop the input documents (typed models and parsed data, some 30 times
    the input's text) each as soon as it is lowered to the IR, instead of holding them through the
    compile and the output: ``loaded.documents`` is emptied (the caller's ``loaded`` too), and the
    result's ``loaded`` and ``expansions`` then hold no documents. For callers that need nothing
    of the input afterwards (the command line without ``--verify`` or ``--report``); positions
    for diagnostics stay available (the IR keeps them compact: ``RawDocument.without_data``).
    When ``convert`` reads the input itself (no ``loaded``) and no ``inventory`` is given, each
    document is lowered as it is read (``load(lower=...)``), so that the typed documents are
    never all held at once either.

    ``lowered``: the IR of ``loaded``'s documents, lowered as they were read (``load(lower=...)``
    with ``compile.lower.Lowering``, ``default_namespace`` and no inventory); ``loaded`` then
    holds no documents.

    ``quarantine``: each policy that is not converted because of an error (invalid, or defined
    twice differently) is replaced in ``documents`` by a policy denying all traffic of the
    endpoints it could govern (``cilium/quarantine.py``, C2C236), so that the documents of a run
    with errors still allow nothing Calico denies; what cannot be quarantined gets C2C237. It
    needs the input loaded with ``load(quarantine=True)`` (as ``convert`` does when it reads the
    input itself). ``namespace_given``: whether ``default_namespace`` is where namespaced
    documents without a namespace go (``-n``); if not, their quarantine covers every namespace.
    """
    # Not a decorator: its wrapper would hold the arguments (``lowered``) for the whole call.
    with _gc_relaxed():
        cluster = _cluster(cluster, cilium_version, pod_cidrs, node_cidrs, endpoint_to_host_action)
        target = cluster.target
        if loaded is None and lowered is None and not keep_input and inventory is None:
            loaded = load(
                paths,
                text=text,
                name=name,
                recursive=recursive,
                keep=False,
                lower=Lowering(default_namespace).one,
                namespace=default_namespace,
                quarantine=quarantine,
            )
            lowered = joined(loaded.lowered)
        elif loaded is None:
            loaded = load(
                paths,
                text=text,
                name=name,
                recursive=recursive,
                namespace=default_namespace,
                quarantine=quarantine,
            )
        given = _inventory(inventory, recursive)
        problems = list(given.diagnostics) if given is not None else []
        if given is not None and not given.ok:
            given = None  # a partial inventory would expand to a partial snapshot: not used
        if given is not None and cluster.services is None:
            cluster = replace(cluster, services=Services.of(given))
        notes = Diagnostics()
        notes.extend(loaded.diagnostics)
        notes.extend(problems)
        if lowered is None:
            lowered = lower(
                loaded.documents if keep_input else drained(loaded.documents), default_namespace, given
            )
        if not keep_input:
            lowered.expansions.clear()
        found, others = (
            suspects(loaded, default_namespace if namespace_given else None) if quarantine else ([], [])
        )
        lowered.refused_global.extend(host_refusals(found))
        host_endpoints = bool(lowered.host_endpoints)
        ranges = Ranges.of(cluster, tuple(lowered.sets))
        with scaled(work_budget):
            plan = compile_plan(lowered, ranges, notes, target, partial(_can_say, target=target))
        notes.extend(_open_policies(plan, target))
        plan = replace(plan, hosts=compile_hosts(lowered, ranges, plan, notes))
        emission = Emission(plan, target, notes)
        hosts, expansions = plan.hosts, lowered.expansions
        # The output policies are made (not yet rendered): the plan and the IR now live on only in
        # them, and go one by one as they are rendered.
        del plan, lowered, ranges
        documents = emission.documents()
        del emission
        documents.extend(endpoint_to_host(cluster, hosts, notes, fail_closed=quarantine))
        left_out = dict(loaded.left_out)
        if quarantine:
            documents.extend(_quarantines(found, others, loaded, host_endpoints, notes, left_out))
        notes.extend(deduplicate_names(documents))
        # Checked before ``finalize`` relativises ``source-file``: a C2C399 is at its policy's source.
        documents = _schema_check(documents, target.name, notes, fail_closed=quarantine)
        notes.extend(object_size_findings(documents))
        finalize(documents, roots if roots is not None else list(paths or ()))
        diagnostics = summarise(notes.sorted(), cluster.node_cidrs)
        return ConvertResult(documents, diagnostics, loaded, given, expansions, cluster, left_out)


def _quarantines(
    found: list[Suspect],
    others: list[RawDocument],
    loaded: LoadResult,
    host_endpoints: bool,
    notes: Diagnostics,
    left_out: dict[Kind, int],
) -> list[dict[str, Any]]:
    """The quarantine policies of the policies in error (C2C236), and C2C237 at what has none:
    the resources in error that are not policies, and the inputs read into no resource (one each;
    those of the reading errors left out are counted in ``left_out``, as left out too)."""
    documents, quarantined = quarantine_documents(found, host_endpoints)
    notes.extend(quarantined)
    unread = [d for d in loaded.diagnostics if _unread(d.code, d.severity)]
    notes.extend(unquarantined(others, unread))
    more = sum(n for (code, severity), n in loaded.left_out.items() if _unread(code, severity))
    if more:
        kind = ("C2C237", severity_of("C2C237"))
        left_out[kind] = left_out.get(kind, 0) + more
    return documents


def _unread(code: str, severity: Severity) -> bool:
    """Whether a reading finding says an input was read into no resource."""
    return severity is Severity.ERROR and code.startswith("C2C1") and code not in _NOTHING_READ


_NOTHING_READ = frozenset({"C2C105", "C2C108", "C2C109"})
"""Reading errors about inputs that hold nothing (an empty input, an empty directory), or whose
resources are read all the same (a duplicate key: they are quarantined, io/yamlstream._resources)."""


def _can_say(cubes: Sequence[Cube], target: CiliumTarget) -> bool:
    """Whether ``target`` can say a region as rules (``compile_plan``'s ``expressible``)."""
    return expressible(cubes, target) is None


def _open_policies(plan: Plan, target: CiliumTarget) -> list[Diagnostic]:
    """C2C380 once when some output policy turns default deny off and the agent decides whether
    that is honoured (Cilium 1.17+)."""
    opened = [pp.policy for pp in plan.policies if pp.open]
    if not target.non_default_deny_needs_flag or not opened:
        return []
    names = ", ".join(p.origin.resource for p in opened[:3]) + (", ..." if len(opened) > 3 else "")
    return [
        make(
            "C2C380",
            f"{len(opened)} output policies ({names}) have enableDefaultDeny false: Calico never drops"
            " their pods' traffic at the end of a tier (each ends in a rule matching every flow), so"
            " they must not put the pods in default deny. Cilium honours that only while the agent's"
            " enable-non-default-deny-policies is true (the default)",
            hint="keep enable-non-default-deny-policies (Helm enableNonDefaultDenyPolicies) true",
        )
    ]


def _cluster(
    cluster: Cluster | None,
    cilium_version: str | None,
    pod_cidrs: Sequence[str],
    node_cidrs: Sequence[str],
    endpoint_to_host_action: EndpointToHostAction | None,
) -> Cluster:
    """``cluster`` (default: an unknown one) with the shorthand arguments given replacing its values."""
    out = cluster or Cluster()
    if cilium_version is not None:
        out = replace(out, target=cilium_target(cilium_version))
    if pod_cidrs:
        out = replace(out, pod_cidrs=tuple(pod_cidrs))
    if node_cidrs:
        out = replace(out, node_cidrs=tuple(node_cidrs))
    if endpoint_to_host_action is not None:
        out = replace(out, endpoint_to_host_action=endpoint_to_host_action)
    return out


def _inventory(inventory: Inventory | str | Sequence[str] | None, recursive: bool) -> Inventory | None:
    """The inventory given, read as ``verify --inventory`` reads it (``recursive`` as for the inputs)."""
    if inventory is None or isinstance(inventory, Inventory):
        return inventory
    paths = [inventory] if isinstance(inventory, str) else list(inventory)
    return read_inventory_files(paths, recursive=recursive)


def _schema_check(
    documents: list[dict[str, Any]], version: str, notes: Diagnostics, fail_closed: bool = False
) -> list[dict[str, Any]]:
    """The documents that pass the Cilium CRD schema, and a C2C399 for each one that does not: the
    apiserver would reject it, so it is never printed. ``fail_closed``: a policy left out so would
    take its pods out of default deny, so a quarantine denying all their traffic stands in for it
    (``cilium/quarantine.stand_in_for_invalid``)."""
    kept = []
    for doc in documents:
        errors = validate(doc, cilium_version=version)
        if not errors:
            kept.append(doc)
            continue
        name = doc["metadata"]["name"]
        stand_in, every = _stand_in(doc, errors[0].message, version) if fail_closed else (None, False)
        if stand_in is not None:
            kept.append(stand_in)
        instead = (
            " A quarantine of the same name denies all traffic of the pods it selects instead (fails"
            " closed)" + ("" if every else "; its host rules are left out")
            if stand_in is not None
            else ""
        )
        for message in errors[:3]:
            diagnostic = make(
                "C2C399",
                f"internal error: output {doc['kind']} '{name}' fails the Cilium {version} CRD schema:"
                f" {message}. It is left out of the output.{instead} This is a bug in calico2cilium;"
                " please report it",
                source_of(doc),
            )
            # Still an error (a bug; nothing is written without --allow-partial), but where the
            # stand-in covers the whole policy, what is written only denies more than Calico.
            notes.add(replace(diagnostic, narrowing=True) if stand_in is not None and every else diagnostic)
    return kept


def _stand_in(doc: dict[str, Any], problem: str, version: str) -> tuple[dict[str, Any] | None, bool]:
    """The quarantine for an invalid output policy, with its own selectors where they pass the
    schema, else its namespace's (or every) pod."""
    for own in (True, False):
        stand_in, every = stand_in_for_invalid(doc, problem, own_selectors=own)
        if stand_in is None or not validate(stand_in, cilium_version=version):
            return stand_in, every
    return None, False
