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

import os
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
    """``file:line:col`` (or ``file``) as the file's path relative to the common root of the
    inputs given (a directory: itself; a file: its folder), so that one input gives the path below
    it (a file given: its name) and two files of one name in different folders stay apart
    (``a/p.yaml``, ``b/p.yaml``; review5 finding 8). Never an absolute path or one leaving the
    root (``..``): then the file's name alone."""
    file = _strip_position(where)
    if file.startswith("<"):  # <stdin>, <string>
        return file
    bases = [_base(root) for root in roots if root != "-"]
    path = PurePath(os.path.abspath(file))
    if bases:
        common = PurePath(os.path.commonpath(bases))
        if path.is_relative_to(common) and path != common:
            return path.relative_to(common).as_posix()
    plain = PurePath(file)
    if plain.is_absolute() or ".." in plain.parts:
        return plain.name
    return plain.as_posix()


def _base(root: str) -> str:
    """The folder an input root's files are named relative to: a directory itself, a file's folder."""
    absolute = os.path.abspath(root)
    return absolute if os.path.isdir(absolute) else os.path.dirname(absolute)


def _strip_position(where: str) -> str:
    parts = where.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return parts[0]
    return where
