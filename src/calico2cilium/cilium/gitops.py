"""Output metadata a GitOps repository can live with (issue 15, item 8).

- Every output resource carries the label ``app.kubernetes.io/managed-by: calico2cilium`` (the
  Kubernetes recommended label for the tool managing a resource), so ``kubectl apply --prune -l
  app.kubernetes.io/managed-by=calico2cilium`` and ``kubectl delete -l ...`` find exactly them.
- The ``source-file`` annotation names the input file relative to the input root it was found
  under (a directory given: the path below it; a file given: its name), with no line and column:
  adding a comment line to an input must not rewrite the output, and no absolute path of the
  machine that ran the conversion may reach a cluster. Positions stay in the diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

from calico2cilium.cilium.naming import SOURCE_FILE_ANNOTATION

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "calico2cilium"
_METADATA_ORDER = ("name", "namespace", "labels", "annotations")


def finalize(documents: Iterable[dict[str, Any]], roots: Sequence[str]) -> None:
    """Label every document and rewrite its ``source-file`` annotation (in place)."""
    for doc in documents:
        meta = doc.setdefault("metadata", {})
        labels = dict(meta.get("labels") or {})
        labels[MANAGED_BY_LABEL] = MANAGED_BY
        meta["labels"] = labels
        annotations = meta.get("annotations")
        if isinstance(annotations, dict) and SOURCE_FILE_ANNOTATION in annotations:
            annotations[SOURCE_FILE_ANNOTATION] = source_path(str(annotations[SOURCE_FILE_ANNOTATION]), roots)
        ordered = {key: meta[key] for key in _METADATA_ORDER if key in meta}
        ordered.update((key, value) for key, value in meta.items() if key not in ordered)
        doc["metadata"] = ordered


def source_path(where: str, roots: Sequence[str]) -> str:
    """``file:line:col`` (or ``file``) as the file's path relative to the root it was found under:
    below a directory given, the path under it; a file given, its name. Never an absolute path or
    one leaving its root (``..``): then the file's name alone."""
    file = _strip_position(where)
    if file.startswith("<"):  # <stdin>, <string>
        return file
    path = PurePath(file)
    for root in sorted((r for r in roots if r != "-"), key=len, reverse=True):
        base = PurePath(root)
        if path == base:
            return path.name
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    if path.is_absolute() or ".." in path.parts:
        return path.name
    return path.as_posix()


def _strip_position(where: str) -> str:
    parts = where.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return parts[0]
    return where
