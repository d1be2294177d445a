"""``load()``: paths or text in, typed documents and diagnostics out.

Every input is processed whatever happens to the others: a bad file, a bad document in a stream or
a bad item of a ``kind: List`` each yields its diagnostics and nothing stops the rest.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

from calico2cilium.diagnostics import Diagnostic, Severity, Source
from calico2cilium.diagnostics.bounded import Findings, Kind, Sink
from calico2cilium.diagnostics.catalog import make
from calico2cilium.io.construct import gc_paused
from calico2cilium.io.decode import decode
from calico2cilium.io.discover import InputFile, discover
from calico2cilium.io.documents import RawDocument
from calico2cilium.io.files import not_a_manifest
from calico2cilium.io.yamlstream import Broken, read_into, stream_documents
from calico2cilium.validate import Document, validate


@dataclass
class LoadResult:
    """What a load produced. ``documents`` holds only resources without errors (none when the
    load did not keep them: ``load(keep=False)``; ``valid`` counts them either way)."""

    documents: list[Document] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    """The findings, in the order they were met; of each code and severity, the first
    ``REPEAT_LIMIT`` in report order (file, line, column) and every narrowing one: the others
    are counted in ``left_out`` (``diagnostics.bounded``)."""
    left_out: dict[Kind, int] = field(default_factory=dict)
    """How many findings of each code and severity are not in ``diagnostics``."""
    files: int = 0
    resources: int = 0
    facts: list[RawDocument] = field(default_factory=list)
    """Calico resources that are cluster facts, not policy (IPPools): skipped (C2C228), kept here
    for the command line to read (``cli.facts``)."""
    valid: int = 0
    """Resources without errors, duplicates left out: ``len(documents)`` when they are kept."""
    lowered: list[Any] = field(default_factory=list)
    """``load(lower=...)``: what ``lower`` made of each resource without errors, in input order,
    duplicates left out as from ``documents``."""
    rejected: list[RawDocument] = field(default_factory=list)
    """``load(quarantine=True)``: each resource that is not converted because it is invalid, as
    read: what ``--allow-partial`` quarantines (``compile.quarantine``)."""
    refused: list[RawDocument] = field(default_factory=list)
    """``load(quarantine=True)``: each copy of an object given twice with different content
    (C2C224) that is still held, as read."""
    refused_lowered: list[Any] = field(default_factory=list)
    """``load(quarantine=True, lower=..., keep=False)``: what ``lower`` made of the first copy of
    each object refused as differing, whose data is no longer held (it is not in ``rejected``)."""

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
    keep: bool = True,
    lower: Callable[[Document], Any] | None = None,
    namespace: str = "default",
    quarantine: bool = False,
) -> LoadResult:
    """Read inputs into typed documents.

    Give ``paths`` (files, directories, ``"-"`` for stdin; none means stdin), or ``text`` to read a
    string (reported as ``name``). Directories contribute their .yaml/.yml/.json files, and their
    subdirectories' too with ``recursive=True``.

    Files are read and checked one at a time. With ``keep=False`` (``lint``) each document is
    dropped once checked, keeping only its diagnostics and what the duplicate check needs (its
    identity and a digest of its content): memory then grows with the largest file, not with the
    whole input (a typed document with its parsed data is some 30 times its text).

    ``lower``: called on each resource without errors as it is checked (a copy of one given
    before is not), its results kept in ``lowered``; those of a resource refused as a differing
    copy (C2C224) are dropped at the end. With ``keep=False`` that is ``convert``'s way to read
    an input holding each typed document only while it is lowered (``compile.lower.Lowering``).

    ``namespace``: the one a namespaced document without ``metadata.namespace`` goes to (``-n``),
    for the duplicate check: such a document and one naming that namespace are one object.

    ``quarantine``: keep what ``--allow-partial`` needs to quarantine the resources in error
    (``LoadResult.rejected``, ``LoadResult.refused_lowered``); off, they are not held.
    """
    result = LoadResult()
    findings = Findings()
    copies = _Copies(keep, lower, namespace, quarantine)
    if text is not None:
        result.files = 1
        _check_text(text, name, False, result, copies, findings)
    else:
        files, problems = discover([str(p) for p in paths or []], recursive=recursive)
        findings.extend(problems)
        for done, input_file in enumerate(files, 1):
            read = _read(input_file, result, findings)
            if read is not None:
                _check_text(read, input_file.name, input_file.walked, result, copies, findings)
            if progress is not None:
                progress(input_file.name, done, len(files))
    copies.finish(result)
    result.diagnostics = findings.kept()
    result.left_out = {kind: n for kind, n in findings.left_out.items() if n}
    return result


_COLLECT_EVERY = 1000
FACT_KINDS = ("IPPool", "FelixConfiguration")
CALICO_GROUPS = ("projectcalico.org/", "crd.projectcalico.org/")


def _check_text(
    text: str, name: str, walked: bool, result: LoadResult, copies: _Copies, findings: Findings
) -> None:
    """Read and validate one file's text, a resource at a time (``stream_documents``). A stream
    found broken after some resources were checked is checked again from ``read_into``, which
    recovers the documents around the error; what the first pass found is forgotten."""
    found, sink = LoadResult(), Findings()
    mark = copies.mark()
    try:
        _check(stream_documents(text, name, sink), walked, found, copies, sink)
    except Broken:
        copies.undo(mark)
        found, sink = LoadResult(), Findings()
        _check(read_into(text, name, sink), walked, found, copies, sink)
    findings.absorb(sink)
    result.documents.extend(found.documents)
    result.facts.extend(found.facts)
    result.rejected.extend(found.rejected)
    result.refused.extend(found.refused)
    result.resources += found.resources


def _check(
    raws: Iterator[RawDocument], walked: bool, result: LoadResult, copies: _Copies, sink: Sink
) -> None:
    """Validate resources in order, holding none once done (unless ``copies`` keeps them)."""
    with gc_paused():  # the collector would rescan the growing set of models again and again
        for raw in raws:
            result.resources += 1
            note = not_a_manifest(raw) if walked else None
            if note is not None:
                sink.append(note)
                continue
            document, failed = _validate(raw, sink)
            if raw.unconverted:  # an error at its document says why (C2C205, C2C108)
                document, failed = None, True
            if raw.kubectl_other and (document is not None or raw.kind in FACT_KINDS):
                other = _read_otherwise(raw)
                if other is not None:
                    sink.append(other)
                    document, failed = None, True  # not what the cluster holds: not converted
            if document is not None:
                copies.see(document, result, sink)
            elif failed and copies.quarantine:
                result.rejected.append(raw)
            if raw.kind in FACT_KINDS and raw.api_version.startswith(CALICO_GROUPS):
                result.facts.append(raw)
            copies.checked += 1
            if copies.checked % _COLLECT_EVERY == 0:
                gc.collect(1)  # reference cycles (failed validations' tracebacks), young objects only


def _read_otherwise(raw: RawDocument) -> Diagnostic | None:
    """C2C348 as an error at a resource this tool converts or reads facts from, holding a plain
    scalar that kubectl reads as a boolean or a number (``RawDocument.kubectl_other``): the
    cluster holds another resource than the one read, or none (the API server refuses a number
    where a string is due). A warning was not enough: '- {action: Deny, protocol: TCP,
    destination: {ports: [0o10]}}' denies port 8 in the cluster, and converted as the named port
    '0o10' it denied nothing, with exit 1 and the output written (review15)."""
    wanted = set(raw.kubectl_other)
    found: list[str] = []
    stack: list[Any] = [raw.data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            found.extend(k for k in value if k in wanted)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and value in wanted:
            found.append(value)
    if not found:
        return None
    shown = ", ".join(sorted(set(found)))
    return make(
        "C2C348",
        f"{raw.label}: plain scalar(s) {shown} are strings here, but kubectl reads them as a boolean"
        " or a number, so the cluster holds another resource than the one read (or refuses it);"
        " it is not converted",
        raw.source(),
        hint="quote them ('1e3', 'y')",
        widening=True,
    )


def _validate(raw: RawDocument, sink: Sink) -> tuple[Document | None, bool]:
    """The valid document, or ``None``; and whether an error was found (not only a note: a kind
    skipped as not policy, a staged policy)."""
    try:
        document, diagnostics = validate(raw)
    except Exception as exc:  # a bug must cost one document, not the run
        if os.environ.get("CALICO2CILIUM_DEBUG"):
            raise
        message = f"internal error validating {raw.label}: {type(exc).__name__}: {exc}"
        document, diagnostics = None, [make("C2C000", message, raw.source())]
    sink.extend(diagnostics)
    return document, any(d.severity is Severity.ERROR for d in diagnostics)


def _read(input_file: InputFile, result: LoadResult, sink: Sink) -> str | None:
    """The file's text, or ``None`` (and a diagnostic) when it cannot be read or decoded."""
    result.files += 1
    try:
        data = input_file.read_bytes()
    except OSError as exc:
        sink.append(make("C2C101", f"{input_file.name}: cannot read: {exc.strerror or exc}"))
        return None
    decoded = decode(data, input_file.name)
    if decoded.text is None:
        assert decoded.diagnostic is not None
        sink.append(decoded.diagnostic)
    return decoded.text


NAMESPACED = ("NetworkPolicy", "NetworkSet")


def _identity(document: Document, namespace: str) -> tuple[str, str, str, str, str]:
    """Which stored object a document is, a namespaced one without a namespace in ``namespace``
    (``kubectl apply -n`` writes both to one object: the last applied wins). A policy is its tier and its name without the
    ``<tier>.`` prefix (v3 ``block`` in the default tier and v1 ``default.block`` are one object;
    v1 ``sec.block`` and ``default.block`` are two: docs/reference/semantics.md §1.2, tier-prefixed names)."""
    family = "k8s" if document.api_version.startswith("networking.k8s.io/") else "calico"
    model = document.model
    tier = str(getattr(model, "tier_name", "") or "")
    name = str(getattr(model, "policy_name", None) or document.name)
    if tier and name.startswith(f"{tier}.") and len(name) > len(tier) + 1:
        name = name[len(tier) + 1 :]
    where = (document.namespace or namespace) if document.kind in NAMESPACED else document.namespace
    return family, document.kind, where, tier, name


Identity = tuple[str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class _Seen:
    """The first copy of a stored object: the document itself when documents are kept, else the
    digest of its content."""

    where: RawDocument
    """Where it is: the document's raw form, without its data when documents are not kept (its
    position is found only when a copy needs it)."""
    document: Document | None
    digest: bytes | None

    @property
    def source(self) -> Source:
        return self.where.source()


class _Copies:
    """One stored object given twice: copies with the same content (a v3 and a crd v1 export of
    one policy, one file read twice) are one resource, kept once with an info (C2C225); copies that
    differ are refused (C2C224), since which one the cluster holds is unknown.

    Documents are seen one at a time as they are validated. When they are not kept, a copy is
    compared by digest (``_digest``), which tells apart some values Python's ``==`` takes as equal
    (``1`` and ``true``): such copies are then refused rather than merged, the safe side."""

    def __init__(
        self,
        keep: bool,
        lower: Callable[[Document], Any] | None = None,
        namespace: str = "default",
        quarantine: bool = False,
    ) -> None:
        self.keep = keep
        self.namespace = namespace
        self.quarantine = quarantine
        self.lower = lower
        self.lowered: list[tuple[Identity, Any]] = []
        """``lower``'s result for each first copy, with its identity (``finish`` drops the refused)."""
        self.checked = 0
        self.first: dict[Identity, _Seen] = {}
        self.refused: set[Identity] = set()
        self.left_out: set[int] = set()
        """The ``id`` of each kept document left out (a copy, or refused)."""
        self.count = 0
        self._journal: list[tuple[str, Any]] = []
        """What ``see`` added since the oldest ``mark`` still open, for ``undo``."""

    def mark(self) -> tuple[int, int]:
        """A point ``undo`` can go back to (``_check_text``: one file's first reading)."""
        self._journal.clear()
        return self.count, self.checked

    def undo(self, mark: tuple[int, int]) -> None:
        """Forget every document seen since ``mark``."""
        for what, value in reversed(self._journal):
            if what == "first":
                del self.first[value]
            elif what == "refused":
                self.refused.discard(value)
            elif what == "lowered":
                self.lowered.pop()
            else:
                self.left_out.discard(value)
        self._journal.clear()
        self.count, self.checked = mark

    def see(self, document: Document, result: LoadResult, sink: Sink) -> None:
        self.count += 1
        if self.keep:
            result.documents.append(document)
        key = _identity(document, self.namespace)
        earlier = self.first.get(key)
        if earlier is None:
            if self.keep:
                self.first[key] = _Seen(document.raw, document, None)
            else:
                self.first[key] = _Seen(document.raw.without_data(), None, _digest(document))
            self._journal.append(("first", key))
            if self.lower is not None:
                self.lowered.append((key, self.lower(document)))
                self._journal.append(("lowered", None))
            return
        self._leave_out(document)
        if self._same(earlier, document):
            message = (
                f"{document.raw.label} is given again with the same content (first at"
                f" {earlier.source}): one resource, converted once"
            )
            sink.append(make("C2C225", message, document.source()))
            return
        if key not in self.refused:
            self.refused.add(key)
            self._journal.append(("refused", key))
            if earlier.document is not None:
                self._leave_out(earlier.document)
                if self.quarantine:
                    result.refused.append(earlier.document.raw)
            else:
                self.count -= 1
        if self.quarantine:
            result.refused.append(document.raw)
        message = f"{document.raw.label} is defined again, differently (first at {earlier.source})"
        sink.append(make("C2C224", message, document.source()))

    def _leave_out(self, document: Document) -> None:
        self.left_out.add(id(document))
        self._journal.append(("left_out", id(document)))
        self.count -= 1

    def _same(self, earlier: _Seen, document: Document) -> bool:
        if earlier.document is not None:
            return _same_content(earlier.document, document)
        return earlier.digest == _digest(document)

    def finish(self, result: LoadResult) -> None:
        if self.left_out:
            result.documents = [d for d in result.documents if id(d) not in self.left_out]
        result.valid = self.count
        result.lowered = [made for key, made in self.lowered if key not in self.refused]
        if self.quarantine and not self.keep:
            # The first copy of a refused object is no longer held: what it was lowered to stands
            # for it (a kept one is in ``rejected``).
            result.refused_lowered = [made for key, made in self.lowered if key in self.refused]
        self.lowered = []


def _refuse_duplicates(result: LoadResult, namespace: str = "default") -> None:
    """The duplicate check (``_Copies``) over documents validated elsewhere (``verify``'s reader)."""
    documents, result.documents = result.documents, []
    copies = _Copies(keep=True, namespace=namespace)
    for document in documents:
        copies.see(document, result, result.diagnostics)
    copies.finish(result)


def _same_content(a: Document, b: Document) -> bool:
    """Whether two copies of one object say the same: the same model type of spec with the same
    values (and, for ``LABELLED_KINDS``, the same labels), the ``tier`` field aside (v3 leaves the default tier out, v1 names it; the identity
    already compared the tiers)."""
    spec_a, spec_b = getattr(a.model, "spec", None), getattr(b.model, "spec", None)
    if spec_a is None or spec_b is None or type(spec_a) is not type(spec_b):
        return bool(a.raw.data == b.raw.data)
    if _matched_labels(a) != _matched_labels(b):
        return False
    exclude = {"tier"}
    return bool(spec_a.model_dump(exclude=exclude) == spec_b.model_dump(exclude=exclude))


LABELLED_KINDS = ("NetworkSet", "GlobalNetworkSet", "HostEndpoint")
"""Kinds whose labels are content: rule selectors match them (a set's nets, a host endpoint's
addresses), so two copies with one spec and other labels are not the same resource (review10)."""


def _matched_labels(document: Document) -> dict[str, str]:
    """The labels that are part of ``document``'s content (``LABELLED_KINDS``), else none."""
    if document.kind not in LABELLED_KINDS:
        return {}
    metadata = getattr(document.model, "metadata", None)
    return dict(getattr(metadata, "labels", None) or {})


def _digest(document: Document) -> bytes:
    """A digest of what ``_same_content`` compares: the spec's values (``tier`` aside) and its
    type, or the raw data when there is no typed spec. The spec's JSON form, keys sorted, is
    exact for a spec's values (its keys are field names and label keys, all strings) and fast."""
    spec = getattr(document.model, "spec", None)
    if spec is None:
        text = repr(_canonical(document.raw.data))
    else:
        try:
            values = spec.model_dump(mode="json", exclude={"tier"})
            text = json.dumps(values, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):  # a value without a JSON form: the slow exact way
            text = repr(_canonical(spec.model_dump(exclude={"tier"})))
        text = type(spec).__name__ + json.dumps(_matched_labels(document), sort_keys=True) + text
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _canonical(value: Any) -> Any:
    """``value`` with every mapping's items in a fixed order and every leaf tagged with its type."""
    if isinstance(value, dict):
        return ("map", sorted(((type(k).__name__, repr(k)), _canonical(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("seq", [_canonical(v) for v in value])
    return (type(value).__name__, repr(value))
