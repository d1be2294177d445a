"""What the input leaves open, said once per run by ``convert`` (issue 15, items 3 and 4): a
namespaced document without a namespace when no ``-n`` was given (C2C360), and rule selectors
with no network set or host endpoint in the input to match (C2C361)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
from calico2cilium.io.documents import RawDocument
from calico2cilium.load import NAMESPACED
from calico2cilium.validate import Document

SET_KINDS = ("NetworkSet", "GlobalNetworkSet")
EXPORT_COMMAND = (
    "kubectl get networkpolicies.p,globalnetworkpolicies.p,tiers.p,networksets.p,globalnetworksets.p,"
    "hostendpoints.p,ippools.p,felixconfigurations.p,networkpolicies.networking.k8s.io -A -o yaml"
)
"""Every kind ``convert`` reads (``.p``: the projectcalico.org API group, served by the Calico API
server; with only the CRDs installed, use the ``.crd.projectcalico.org`` names)."""


def namespace_notes(documents: Sequence[Document], namespace: str | None) -> list[Diagnostic]:
    """C2C360 at each namespaced document without ``metadata.namespace`` when ``-n`` was not
    given: it is converted into ``default``, while ``kubectl apply`` would use its context's.
    With ``-n``, C2C365 at each namespaced document that names another namespace."""
    if namespace is not None:
        return _mismatches(documents, namespace)
    return [
        make(
            "C2C360",
            f"{d.raw.label} has no metadata.namespace and no -n/--namespace was given: converted into"
            " namespace 'default' (kubectl apply would use its context's namespace)",
            d.source(("metadata",), key=True),
            hint="give the namespace with -n/--namespace, or write it into the manifest",
        )
        for d in documents
        if d.kind in NAMESPACED and not d.namespace
    ]


def _mismatches(documents: Sequence[Document], namespace: str) -> list[Diagnostic]:
    """C2C365: ``-n`` names another namespace than the document's own. kubectl refuses to apply
    such a manifest with ``-n`` (k8s.io/cli-runtime pkg/resource/visitor.go RequireNamespace: "the
    namespace from the provided object ... does not match the namespace ... You must pass
    '--namespace=...'"); the conversion keeps the document's namespace."""
    return [
        make(
            "C2C365",
            f"{d.raw.label} says metadata.namespace {d.namespace!r} but -n/--namespace is {namespace!r}:"
            f" converted into {d.namespace!r}, as written (kubectl apply -n {namespace} refuses such a"
            " manifest: the namespace from the object does not match the namespace given)",
            d.source(("metadata", "namespace")),
            hint=f"drop -n {namespace}, or correct the manifest's namespace",
        )
        for d in documents
        if d.kind in NAMESPACED and d.namespace and d.namespace != namespace
    ]


class Selecting(NamedTuple):
    """What ``export_notes`` needs of one document: its kind and, when one of its rules selects
    peers by label, the first such selector (how to name it and where it is). Small, so that
    ``convert`` can keep it for each document instead of the document (``load(lower=...)``)."""

    kind: str
    label: str = ""
    path: tuple[str | int, ...] = ()
    where: RawDocument | None = None
    """The document's position record (``RawDocument.without_data``): the position of ``path``
    is found only for the selector the note names."""


def selecting(document: Document) -> Selecting:
    """``document``'s ``Selecting``."""
    fields = getattr(document.model, "selector_fields", None)
    for path, _ in fields() if fields is not None else ():
        # A service-account selector picks accounts' labels, never a set or a host endpoint.
        if ("source" in path or "destination" in path) and "serviceAccounts" not in path:
            return Selecting(document.kind, document.raw.label, path, document.raw.without_data())
    return Selecting(document.kind)


def export_notes(documents: Sequence[Document]) -> list[Diagnostic]:
    """``export_notes_of`` the documents."""
    return export_notes_of([selecting(d) for d in documents])


def export_notes_of(documents: Sequence[Selecting]) -> list[Diagnostic]:
    """C2C361, once, when rules select by label and the input holds no network set (or, for a
    GlobalNetworkPolicy's rules, which may select host endpoints, no HostEndpoint): converted
    without them, a rule matches no address of theirs, and a Deny of their nets becomes nothing."""
    kinds = {d.kind for d in documents}
    missing: list[str] = []
    first = next((d for d in documents if d.where is not None), None)
    global_first = next(
        (d for d in documents if d.where is not None and d.kind == "GlobalNetworkPolicy"), None
    )
    at = None
    if global_first is not None and "HostEndpoint" not in kinds:
        missing.append("HostEndpoint")
        at = global_first
    if first is not None and not kinds & set(SET_KINDS):
        missing.insert(0, "NetworkSet or GlobalNetworkSet")
        at = first
    if at is None or at.where is None:
        return []
    return [
        make(
            "C2C361",
            f"rules select by label ({at.label} {'.'.join(str(p) for p in at.path)}, and maybe"
            f" others) and the input holds no {' and no '.join(missing)}: if the cluster has any, the"
            " export may be incomplete, and the rules would not match their addresses",
            at.where.source(at.path),
            hint=f"export every kind the converter reads: {EXPORT_COMMAND}",
        )
    ]
