"""Files to raw documents with positions, without validating them as Calico models.

For inputs that are not Calico policy (Cilium policies read back, a cluster inventory): the same
discovery (``-R``, directories), decoding and YAML/JSON stream reading as ``load``, and no more.
"""

from __future__ import annotations

from collections.abc import Sequence

from calico2cilium.diagnostics import Diagnostic
from calico2cilium.io.decode import decode
from calico2cilium.io.discover import discover
from calico2cilium.io.documents import RawDocument
from calico2cilium.io.yamlstream import read_documents


def read_files(paths: Sequence[str], recursive: bool = True) -> tuple[list[RawDocument], list[Diagnostic]]:
    """Every resource in ``paths`` (``kind: List`` items one by one), and the problems met."""
    files, diagnostics = discover(list(paths), recursive=recursive)
    documents: list[RawDocument] = []
    for input_file in files:
        try:
            data = input_file.read_bytes()
        except OSError as exc:
            from calico2cilium.diagnostics.catalog import make

            diagnostics.append(make("C2C101", f"{input_file.name}: cannot read: {exc.strerror or exc}"))
            continue
        decoded = decode(data, input_file.name)
        if decoded.text is None:
            if decoded.diagnostic is not None:
                diagnostics.append(decoded.diagnostic)
            continue
        docs, problems = read_documents(decoded.text, input_file.name)
        for doc in docs:
            if doc.unconverted:  # its error is in ``problems``; only a policy is quarantined
                continue
            note = not_a_manifest(doc) if input_file.walked else None
            if note is None:
                documents.append(doc)
            else:
                diagnostics.append(note)
        diagnostics.extend(problems)
    return documents, diagnostics


def not_a_manifest(raw: RawDocument) -> Diagnostic | None:
    """C2C227 for a document with neither ``kind`` nor ``apiVersion`` (one of the two is a broken
    manifest, not this): in a file found by a directory walk it is skipped ('convert -R .' meets
    ``.pre-commit-config.yaml``), while a file named on the command line is read as given."""
    if not isinstance(raw.data, dict) or "kind" in raw.data or "apiVersion" in raw.data:
        return None
    from calico2cilium.diagnostics.catalog import make

    message = f"document {raw.index + 1} has neither kind nor apiVersion: not a Kubernetes manifest, skipped"
    return make("C2C227", message, raw.source())
