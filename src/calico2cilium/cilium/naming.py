"""Output names are unique: ``kubectl apply`` keeps only the last of two resources with the same
kind, namespace and name, so a collision would silently drop a policy.

Names come from the inputs (a policy's own name) and from the converter (``knp-<name>``
companions, ``calico2cilium-profile-allow``), and two inputs can map to one name (``crd.projectcalico.org/v1``
policies ``sec.block`` and ``default.block`` are both ``block``). Where names collide, the resource
that converts a source policy of exactly that name keeps it; every other one gets the first free
``<name>-<n>`` and a warning (C2C318) says so. Policies are renamed only where nothing refers to
them by name. A CiliumCIDRGroup is referred to by ``cidrGroupRef``, but the emitter never refers to
a name two groups share (``calico-ns-a-b-c`` is namespace ``a-b``'s set ``c`` and namespace ``a``'s
set ``b-c``: ``cilium/cidrgroups.py`` writes their peers inline), so those are renamed too, with
C2C319; one that some rule refers to anyway keeps its name, and C2C319 is then an error.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from calico2cilium.diagnostics import Diagnostic, Source
from calico2cilium.diagnostics.catalog import make

SOURCE_ANNOTATION = "calico2cilium.io/source"
SOURCE_FILE_ANNOTATION = "calico2cilium.io/source-file"
RENAMEABLE = frozenset({"CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"})
MAX_NAME = 253
"""Kubernetes object names are DNS subdomains (at most 253 characters)."""

Key = tuple[str, str, str]


def _key(doc: dict[str, Any], name: str | None = None) -> Key:
    meta = doc["metadata"]
    return (doc["kind"], meta.get("namespace") or "", name or meta["name"])


def _owns(doc: dict[str, Any]) -> bool:
    """Whether ``doc`` converts a source policy whose own name is its output name."""
    meta = doc["metadata"]
    source = (meta.get("annotations") or {}).get(SOURCE_ANNOTATION, "")
    return bool(source) and source.rsplit("/", 1)[-1].rsplit(" ", 1)[-1] == meta["name"]


def source_of(doc: dict[str, Any]) -> Source | None:
    """The position of the resource's source (its ``source-file`` annotation, ``file:line:col``)."""
    where = (doc["metadata"].get("annotations") or {}).get(SOURCE_FILE_ANNOTATION, "")
    parts = where.rsplit(":", 2)
    if len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    return Source(parts[0], int(parts[1]), int(parts[2]))


def deduplicate_names(documents: list[dict[str, Any]]) -> list[Diagnostic]:
    """Rename colliding policies in place (deterministically, in output order); report them."""
    groups: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for doc in documents:
        groups[_key(doc)].append(doc)
    taken = set(groups)
    referenced = (
        _group_references(documents)
        if any(len(docs) > 1 and key[0] not in RENAMEABLE for key, docs in groups.items())
        else set()
    )
    diagnostics: list[Diagnostic] = []
    for key, docs in groups.items():
        if len(docs) < 2:
            continue
        keeper = next((d for d in docs if _owns(d)), docs[0])
        for doc in docs:
            if doc is keeper:
                continue
            name = doc["metadata"]["name"]
            what = f"{doc['kind']} {key[1] + '/' if key[1] else ''}{name}"
            if doc["kind"] not in RENAMEABLE and name in referenced:
                diagnostics.append(
                    make(
                        "C2C319",
                        f"two output resources are both {what}, which rules refer to by name, so neither"
                        " can be renamed: the output holds both, and the cluster would keep only one",
                        source_of(doc),
                        hint="rename one of the network sets",
                        widening=True,
                    )
                )
                continue
            n = 2
            while _key(doc, f"{name}-{n}") in taken:
                n += 1
            new = f"{name[: MAX_NAME - len(str(n)) - 1]}-{n}"
            taken.add(_key(doc, new))
            doc["metadata"]["name"] = new
            source = (doc["metadata"].get("annotations") or {}).get(SOURCE_ANNOTATION)
            which = f"the one converting {source}" if source else "the converter's own one"
            if doc["kind"] not in RENAMEABLE:
                diagnostics.append(
                    make(
                        "C2C319",
                        f"two network sets both give {what}; no rule refers to it (their addresses are"
                        f" written inline in the rules), and {which} is written as '{new}'",
                        source_of(doc),
                        hint="rename one of the network sets to keep a group named after it",
                    )
                )
                continue
            diagnostics.append(
                make(
                    "C2C318",
                    f"output name {what} is taken by another resource; {which} is written as '{new}'",
                    source_of(doc),
                )
            )
    if any(len(docs) > 1 for docs in groups.values()):
        documents.sort(key=lambda r: _key(r))
    return diagnostics


def _group_references(documents: list[dict[str, Any]]) -> set[str]:
    """The CiliumCIDRGroup names the documents' rules refer to (``cidrGroupRef``)."""
    found: set[str] = set()
    stack: list[Any] = [d.get("spec") or d.get("specs") for d in documents if d["kind"] in RENAMEABLE]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("cidrGroupRef")
            if isinstance(ref, str):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
