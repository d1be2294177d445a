"""``load()``: paths or text in, typed documents and diagnostics out.

Every input is processed whatever happens to the others: a bad file, a bad document in a stream or
a bad item of a ``kind: List`` each yields its diagnostics and nothing stops the rest.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from os import PathLike

from calico2cilium.diagnostics import Diagnostic, Severity
from calico2cilium.diagnostics.catalog import make
from calico2cilium.io.construct import gc_paused
from calico2cilium.io.decode import decode
from calico2cilium.io.discover import InputFile, discover
from calico2cilium.io.documents import RawDocument
from calico2cilium.io.files import not_a_manifest
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.validate import Document, validate


@dataclass
class LoadResult:
    """What a load produced. ``documents`` holds only resources without errors."""

    documents: list[Document] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0
    resources: int = 0
    facts: list[RawDocument] = field(default_factory=list)
    """Calico resources that are cluster facts, not policy (IPPools): skipped (C2C228), kept here
    for the command line to read (``cli.facts``)."""

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


Progress = Callable[[str, int, int], None]
"""Called as ``progress(file_name, files_done, files_total)`` after each input file."""


def load(
    paths: Iterable[str | PathLike[str]] | None = None,
    *,
    recursive: bool = False,
    text: str | None = None,
    name: str = "<string>",
    progress: Progress | None = None,
) -> LoadResult:
    """Read inputs into typed documents.

    Give ``paths`` (files, directories, ``"-"`` for stdin; none means stdin), or ``text`` to read a
    string (reported as ``name``). Directories contribute their .yaml/.yml/.json files, and their
    subdirectories' too with ``recursive=True``.
    """
    result = LoadResult()
    raws: list[RawDocument] = []
    walked: set[str] = set()
    if text is not None:
        result.files = 1
        documents, diagnostics = read_documents(text, name)
        raws.extend(documents)
        result.diagnostics.extend(diagnostics)
    else:
        files, problems = discover([str(p) for p in paths or []], recursive=recursive)
        result.diagnostics.extend(problems)
        walked = {f.name for f in files if f.walked}
        for done, input_file in enumerate(files, 1):
            raws.extend(_read(input_file, result))
            if progress is not None:
                progress(input_file.name, done, len(files))
    result.resources = len(raws)
    with gc_paused():  # the collector would rescan the growing set of models again and again
        for done, raw in enumerate(raws, 1):
            note = not_a_manifest(raw) if raw.file in walked else None
            if note is not None:
                result.diagnostics.append(note)
                continue
            _validate(raw, result)
            if raw.kind in FACT_KINDS and raw.api_version.startswith(CALICO_GROUPS):
                result.facts.append(raw)
            if done % _COLLECT_EVERY == 0:
                gc.collect(1)  # reference cycles (failed validations' tracebacks), young objects only
    _refuse_duplicates(result)
    return result


_COLLECT_EVERY = 1000
FACT_KINDS = ("IPPool",)
CALICO_GROUPS = ("projectcalico.org/", "crd.projectcalico.org/")


def _validate(raw: RawDocument, result: LoadResult) -> None:
    try:
        document, diagnostics = validate(raw)
    except Exception as exc:  # a bug must cost one document, not the run
        if os.environ.get("CALICO2CILIUM_DEBUG"):
            raise
        message = f"internal error validating {raw.label}: {type(exc).__name__}: {exc}"
        document, diagnostics = None, [make("C2C000", message, raw.source())]
    result.diagnostics.extend(diagnostics)
    if document is not None:
        result.documents.append(document)


def _read(input_file: InputFile, result: LoadResult) -> list[RawDocument]:
    result.files += 1
    try:
        data = input_file.read_bytes()
    except OSError as exc:
        result.diagnostics.append(make("C2C101", f"{input_file.name}: cannot read: {exc.strerror or exc}"))
        return []
    decoded = decode(data, input_file.name)
    if decoded.text is None:
        assert decoded.diagnostic is not None
        result.diagnostics.append(decoded.diagnostic)
        return []
    documents, diagnostics = read_documents(decoded.text, input_file.name)
    result.diagnostics.extend(diagnostics)
    return documents


def _identity(document: Document) -> tuple[str, str, str, str, str]:
    """Which stored object a document is. A policy is its tier and its name without the
    ``<tier>.`` prefix (v3 ``block`` in the default tier and v1 ``default.block`` are one object;
    v1 ``sec.block`` and ``default.block`` are two: docs/reference/semantics.md §1.2, tier-prefixed names)."""
    family = "k8s" if document.api_version.startswith("networking.k8s.io/") else "calico"
    model = document.model
    tier = str(getattr(model, "tier_name", "") or "")
    name = str(getattr(model, "policy_name", None) or document.name)
    if tier and name.startswith(f"{tier}.") and len(name) > len(tier) + 1:
        name = name[len(tier) + 1 :]
    return family, document.kind, document.namespace, tier, name


def _refuse_duplicates(result: LoadResult) -> None:
    """One stored object given twice: copies with the same content (a v3 and a crd v1 export of
    one policy, one file read twice) are one resource, kept once with an info (C2C225); copies that
    differ are refused (C2C224), since which one the cluster holds is unknown."""
    first: dict[tuple[str, str, str, str, str], Document] = {}
    duplicated: set[int] = set()
    dropped: set[int] = set()
    for document in result.documents:
        key = _identity(document)
        earlier = first.setdefault(key, document)
        if earlier is document:
            continue
        if _same_content(earlier, document):
            dropped.add(id(document))
            message = (
                f"{document.raw.label} is given again with the same content (first at"
                f" {earlier.source()}): one resource, converted once"
            )
            result.diagnostics.append(make("C2C225", message, document.source()))
            continue
        duplicated.update({id(earlier), id(document)})
        message = f"{document.raw.label} is defined again, differently (first at {earlier.source()})"
        result.diagnostics.append(make("C2C224", message, document.source()))
    if duplicated or dropped:
        result.documents = [d for d in result.documents if id(d) not in duplicated | dropped]


def _same_content(a: Document, b: Document) -> bool:
    """Whether two copies of one object say the same: the same model type of spec with the same
    values, the ``tier`` field aside (v3 leaves the default tier out, v1 names it; the identity
    already compared the tiers)."""
    spec_a, spec_b = getattr(a.model, "spec", None), getattr(b.model, "spec", None)
    if spec_a is None or spec_b is None or type(spec_a) is not type(spec_b):
        return bool(a.raw.data == b.raw.data)
    exclude = {"tier"}
    return bool(spec_a.model_dump(exclude=exclude) == spec_b.model_dump(exclude=exclude))
