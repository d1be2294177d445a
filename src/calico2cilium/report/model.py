"""What a migration report says, gathered from one conversion: the verdict, the assumptions with
where each came from, each source policy with its outputs and diagnostics, and the cut-over
checklist (``checklist.py``). Rendering is ``render.py``'s job."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from calico2cilium import __version__
from calico2cilium.cilium.naming import SOURCE_ANNOTATION, SOURCE_FILE_ANNOTATION
from calico2cilium.diagnostics import Diagnostic, Severity
from calico2cilium.diagnostics.catalog import CATALOG
from calico2cilium.report.checklist import Step, checklist
from calico2cilium.verify.diff import Change, changes_of

Verdict = Literal["proven", "narrowed", "different", "not proven", "invalid", "not verified"]

VERDICT_WORDS: dict[Verdict, str] = {
    "proven": "Proven: the Cilium output allows exactly the flows the Calico input allows, for every flow.",
    "narrowed": "Narrowed: Cilium denies some traffic that Calico allowed (listed below); it allows"
    " nothing Calico denied.",
    "different": "Different: Cilium allows some traffic that Calico denied (listed below). Do not apply"
    " as is.",
    "not proven": "Not proven: no difference was found, but some constructs are outside the proof"
    " (listed with C2C402).",
    "invalid": "Invalid: some input or output would be rejected; see the diagnostics.",
    "not verified": "Not verified.",
}


@dataclass(frozen=True)
class Assumption:
    """One fact the conversion and its proof take as given, and where it came from."""

    name: str
    value: str
    origin: str


@dataclass
class Finding:
    """A diagnostic in plain words: the message, what the code means, the hint."""

    code: str
    severity: str
    message: str
    meaning: str
    where: str
    hint: str = ""

    @staticmethod
    def of(d: Diagnostic) -> Finding:
        doc = CATALOG.get(d.code)
        return Finding(
            d.code, d.severity.value, d.message, doc.summary if doc else "", str(d.source or ""), d.hint or ""
        )


@dataclass
class Output:
    kind: str
    name: str
    namespace: str
    file: str

    @property
    def title(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass
class PolicyEntry:
    """One source resource: where it is, what it became, what was said about it."""

    title: str
    where: str
    outputs: list[Output] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "policy-" + "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")

    @property
    def status(self) -> str:
        severities = {f.severity for f in self.findings}
        if Severity.ERROR.value in severities:
            return "refused" if not self.outputs else "error"
        if Severity.WARNING.value in severities:
            return "converted with warnings"
        return "converted" if self.outputs else "no output of its own"


@dataclass
class Report:
    verdict: Verdict
    assumptions: list[Assumption]
    policies: list[PolicyEntry]
    other_outputs: list[Output]
    """Outputs that convert no one source policy (the converter's own: defaults, host policies)."""
    other_findings: list[Finding]
    changes: list[Change]
    steps: list[Step]
    inputs: list[str]
    generated: str = field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    )
    version: str = __version__

    @property
    def verdict_words(self) -> str:
        return VERDICT_WORDS[self.verdict]

    @property
    def counts(self) -> dict[str, int]:
        findings = [f for p in self.policies for f in p.findings] + self.other_findings
        return {
            "policies": len(self.policies),
            "outputs": sum(len(p.outputs) for p in self.policies) + len(self.other_outputs),
            "errors": sum(f.severity == "error" for f in findings),
            "warnings": sum(f.severity == "warning" for f in findings),
        }


def verdict_of(check: Any, diagnostics: Sequence[Diagnostic]) -> Verdict:
    """proven / narrowed / different / not proven / invalid, from a ``ConversionCheck``."""
    if check is None:
        return "not verified"
    if any(d.severity is Severity.ERROR for d in diagnostics) or check.status == "invalid":
        return "invalid"
    if check.status == "equivalent":
        return "proven"
    if check.proof.unexplained:
        return "different"  # Cilium denies more where no narrowing finding says so (C2C414)
    if check.status == "narrowed":
        return "narrowed"
    examples = _examples(check)
    if examples and all(e.calico.allowed and not e.cilium.allowed for e in examples):
        return "narrowed"
    if examples:
        return "different"
    return "not proven"


def _examples(check: Any) -> list[Any]:
    concrete = check.concrete.differences if check.concrete is not None else []
    return [*check.proof.counterexamples, *check.proof.narrowed, *concrete]


def build(
    result: Any,
    check: Any,
    assumptions: Sequence[Assumption],
    inputs: Sequence[str],
    files: Mapping[int, str],
    output_dir: str | None,
    cluster_flags: Sequence[str] = (),
) -> Report:
    """The report of one conversion (``ConvertResult``) and its check (``ConversionCheck`` or
    ``None``). ``files``: the file each output document was written to, by ``id``."""
    entries: dict[str, PolicyEntry] = {}
    by_position: dict[tuple[str, int], PolicyEntry] = {}
    by_start: dict[str, PolicyEntry] = {}
    """By ``file:line:col`` of the document's start, as outputs' source-file annotation names it."""
    documents = result.loaded.documents if result.loaded is not None else []
    for doc in documents:
        raw = doc.raw
        title = f"{raw.kind} {raw.namespace + '/' if raw.namespace else ''}{raw.name}"
        by_position[(raw.file, raw.index)] = entries.setdefault(title, PolicyEntry(title, str(raw.source())))
        by_start[str(raw.source())] = entries[title]
    others: list[Output] = []
    for out in result.documents:
        meta = out.get("metadata") or {}
        output = Output(
            str(out.get("kind")),
            str(meta.get("name")),
            str(meta.get("namespace") or ""),
            files.get(id(out), ""),
        )
        annotations = meta.get("annotations") or {}
        source = str(annotations.get(SOURCE_ANNOTATION, ""))
        at = by_start.get(str(annotations.get(SOURCE_FILE_ANNOTATION, "")))
        owners = (
            [at]
            if at is not None
            else [entries[s.strip()] for s in source.split(",") if s.strip() in entries]
        )
        for owner in owners:
            owner.outputs.append(output)
        if not owners:
            others.append(output)
    loose: list[Finding] = []
    diagnostics = list(result.diagnostics)
    if check is not None:
        diagnostics.extend(_check_diagnostics(check))
    diagnostics.extend(_left_out(getattr(result, "left_out", {})))
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        where = d.source
        entry: PolicyEntry | None = None
        if where is not None and where.document is not None:
            entry = by_position.get((where.file, where.document))
        if entry is None and where is not None:
            entry = _by_line(documents, entries, where.file, where.line)
        (entry.findings if entry is not None else loose).append(Finding.of(d))
    changes = changes_of(_examples(check), "calico -> cilium") if check is not None else []
    policies = sorted(entries.values(), key=lambda e: e.title)
    steps = checklist(result, inputs, output_dir, host_node_labels(result), cluster_flags)
    return Report(
        verdict_of(check, result.diagnostics),
        list(assumptions),
        policies,
        others,
        loose,
        changes,
        steps,
        list(inputs),
    )


def _by_line(
    documents: Sequence[Any], entries: dict[str, PolicyEntry], file: str, line: int
) -> PolicyEntry | None:
    """The document of ``file`` starting last at or before ``line``."""
    best: tuple[int, PolicyEntry] | None = None
    for doc in documents:
        raw = doc.raw
        if raw.file != file:
            continue
        start = raw.source().line
        title = f"{raw.kind} {raw.namespace + '/' if raw.namespace else ''}{raw.name}"
        if start <= line and (best is None or start >= best[0]):
            best = (start, entries[title])
    return best[1] if best else None


def _left_out(left_out: Mapping[tuple[str, Severity], int]) -> list[Diagnostic]:
    """One C2C112 for each code whose findings past the limit were counted, not kept
    (``ConvertResult.left_out``): the report cannot place them, but says how many there are."""
    from calico2cilium.diagnostics.bounded import REPEAT_LIMIT
    from calico2cilium.diagnostics.catalog import make

    counts: dict[str, int] = {}
    for (code, _), n in left_out.items():
        counts[code] = counts.get(code, 0) + n
    return [
        make("C2C112", f"{n} more {code} not kept (past the first {REPEAT_LIMIT} of the code)")
        for code, n in counts.items()
        if n
    ]


def _check_diagnostics(check: Any) -> list[Diagnostic]:
    """The proof's findings (outside the proof, rejected) as diagnostics, placed at their source."""
    from calico2cilium.diagnostics.catalog import make

    out = []
    for item in check.proof.unsupported:
        out.append(
            make(
                "C2C402",
                f"[{item.side}] {item.resource + ': ' if item.resource else ''}{item.reason}",
                item.source,
            )
        )
    for invalid in check.proof.invalid:
        out.append(make("C2C403", f"[{invalid.side}] {invalid}", invalid.source))
    return out


def host_node_labels(result: Any) -> dict[str, dict[str, str]]:
    """The labels the proof takes each host node to carry (the cluster's ``node_labels``, else each
    HostEndpoint's node with its labels and ``calico2cilium.io/node=<node>``): what to label."""
    from calico2cilium.semantics.calico import read_calico_side
    from calico2cilium.semantics.world import Assumptions

    documents = result.loaded.documents if result.loaded is not None else []
    side = read_calico_side([d.raw for d in documents], Assumptions.of(result.cluster))
    return {node: dict(labels) for node, labels in side.node_labels().items()}
