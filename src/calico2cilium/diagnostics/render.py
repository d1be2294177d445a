"""Diagnostic output formats, in a table keyed by name (as yamllint's formats are)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from calico2cilium.diagnostics import Diagnostic, Severity
from calico2cilium.diagnostics.bounded import REPEAT_LIMIT, LeftOut


def text(diagnostics: Sequence[Diagnostic]) -> str:
    """``file:line:col: severity CODE message`` (and an indented hint), one finding a line."""
    lines = []
    for d in diagnostics:
        where = f"{d.source}: " if d.source else ""
        lines.append(f"{where}{d.severity.value} {d.code} {d.message}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    return "\n".join(lines) + ("\n" if lines else "")


def as_dict(d: Diagnostic) -> dict[str, Any]:
    source = d.source
    out: dict[str, Any] = {
        "code": d.code,
        "severity": d.severity.value,
        "message": d.message,
        "file": source.file if source else None,
        "line": source.line if source else None,
        "column": source.column if source else None,
        "hint": d.hint,
    }
    if d.scope is not None:
        # What a narrowing finding narrows beyond its position (Diagnostic.scope), for a reader
        # that must not parse the message either.
        out["scope"] = {
            "policies": [str(s) for s in d.scope.policies],
            "directions": list(d.scope.directions),
            "every": d.scope.every,
        }
    return out


def json_lines(diagnostics: Sequence[Diagnostic]) -> str:
    """One JSON document: a list of findings."""
    return json.dumps([as_dict(d) for d in diagnostics], indent=2) + "\n"


def github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands, which annotate the files in a pull request."""
    level = {"error": "error", "warning": "warning", "info": "notice"}
    lines = []
    for d in diagnostics:
        props = [f"title={d.code}"]
        if d.source:
            file = _escape_github_property(d.source.file)
            props = [f"file={file}", f"line={d.source.line}", f"col={d.source.column}", *props]
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        lines.append(f"::{level[d.severity.value]} {','.join(props)}::{_escape_github(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _escape_github(message: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped (as @actions/core escapeData)."""
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_github_property(value: str) -> str:
    """A workflow command's property value: also ``:`` and ``,``, which end a value (as
    @actions/core escapeProperty); a file named ``a,b.yaml`` would otherwise lose its annotation."""
    return _escape_github(value).replace(":", "%3A").replace(",", "%2C")


def sarif(diagnostics: Sequence[Diagnostic]) -> str:
    """SARIF 2.1.0, for code-scanning dashboards."""
    return json.dumps(_sarif_log(diagnostics), indent=2) + "\n"


def _sarif_log(diagnostics: Sequence[Diagnostic]) -> dict[str, Any]:
    from calico2cilium import __version__
    from calico2cilium.diagnostics.catalog import CATALOG

    used = sorted({d.code for d in diagnostics})
    rules = [
        {
            "id": code,
            "name": CATALOG[code].name if code in CATALOG else code,
            "shortDescription": {"text": CATALOG[code].summary if code in CATALOG else code},
        }
        for code in used
    ]
    level = {"error": "error", "warning": "warning", "info": "note"}
    results = []
    for d in diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "level": level[d.severity.value],
            "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
        }
        if d.source:
            result["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(d.source.file)},
                        "region": {"startLine": d.source.line, "startColumn": d.source.column},
                    }
                }
            ]
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "calico2cilium", "version": __version__, "rules": rules}},
                "results": results,
            }
        ],
    }
    return log


def _uri(file: str) -> str:
    """A file name as the URI reference SARIF requires: relative names stay relative (resolved
    against the checkout by code scanning), absolute ones become ``file://`` URIs, and characters
    a URI cannot hold (spaces, ``#``, ``%``, ``<stdin>``'s brackets) are percent-encoded."""
    from urllib.parse import quote

    if file.startswith("/"):
        return "file://" + quote(file)
    return quote(file)


def capped(
    diagnostics: Sequence[Diagnostic],
    limit: int = REPEAT_LIMIT,
    left_out: LeftOut | None = None,
    severities: Collection[Severity] = tuple(Severity),
) -> list[Diagnostic]:
    """``diagnostics`` with at most ``limit`` of each code (the first ones, in order), and for each
    code with more, one C2C112 note at the end saying how many more: a huge broken input must not
    print a million lines. The exit status is computed from all of them, not from this.

    ``left_out``: findings counted but not kept (``bounded.Findings``), of the ``severities``
    shown (``--quiet``: errors), counted among the ones not shown."""
    from calico2cilium.diagnostics.catalog import make

    more: dict[str, int] = {}
    for (code, severity), n in (left_out or {}).items():
        if severity in severities:
            more[code] = more.get(code, 0) + n
    seen: dict[str, int] = {}
    kept: list[Diagnostic] = []
    for d in diagnostics:
        seen[d.code] = seen.get(d.code, 0) + 1
        if seen[d.code] <= limit:
            kept.append(d)
    for code in {**seen, **more}:
        total = seen.get(code, 0) + more.get(code, 0)
        if total > limit:
            kept.append(make("C2C112", f"{total - limit} more {code} not shown (first {limit} above)"))
    return kept


@dataclass(frozen=True)
class Report:
    """Everything a command prints about a run on one stream: its findings, the verifier's
    verdict (if it ran) and the summary line. In a machine format (json, github, sarif) the
    verdict and the summary are part of that format, so the stream parses as a whole."""

    diagnostics: Sequence[Diagnostic]
    summary: str = ""
    exit_code: int = 0
    verdict: str = ""
    """The verifier's status (``equivalent``, ``different``, ``incomplete``, ``invalid``); empty
    when it did not run."""
    verdict_text: str = ""
    """The verifier's report as text (headline, counterexamples, assumptions)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Machine-readable verdict details (the verifier's ``to_dict()``) for json and sarif."""
    notes: Sequence[str] = ()
    """Lines about the run itself (files written, nothing written and why), after the summary."""


def render_report(fmt: str, report: Report) -> str:
    """``report`` in format ``fmt`` (a name of :data:`FORMATS`)."""
    if fmt == "json":
        data: dict[str, Any] = {
            "exit_code": report.exit_code,
            "summary": report.summary or None,
            "verdict": ({"status": report.verdict, **report.details} if report.verdict else None),
            "notes": list(report.notes),
            "diagnostics": [as_dict(d) for d in report.diagnostics],
        }
        return json.dumps(data, indent=2) + "\n"
    if fmt == "sarif":
        log = _sarif_log(report.diagnostics)
        run = log["runs"][0]
        run["invocations"] = [
            {
                "executionSuccessful": report.exit_code in (0, 1),
                "exitCode": report.exit_code,
                **(
                    {"toolExecutionNotifications": [{"message": {"text": n}} for n in report.notes]}
                    if report.notes
                    else {}
                ),
            }
        ]
        run["properties"] = {
            "summary": report.summary or None,
            "verdict": ({"status": report.verdict, **report.details} if report.verdict else None),
        }
        return json.dumps(log, indent=2) + "\n"
    if fmt == "github":
        lines = [github(report.diagnostics).rstrip("\n")]
        if report.verdict:
            level = {"equivalent": "notice", "incomplete": "warning"}.get(report.verdict, "error")
            headline = report.verdict_text.strip().splitlines()[0] if report.verdict_text.strip() else ""
            lines.append(
                f"::{level} title=calico2cilium verify::{_escape_github(headline or report.verdict)}"
            )
        if report.summary:
            lines.append(f"::notice title=calico2cilium::{_escape_github(report.summary)}")
        for note in report.notes:  # a problem of the run ("calico2cilium: ...") or a note on it
            level = "error" if note.startswith("calico2cilium:") else "notice"
            lines.append(f"::{level} title=calico2cilium::{_escape_github(note)}")
        return "\n".join(line for line in lines if line) + "\n"
    parts = [text(report.diagnostics).rstrip("\n")]
    if report.verdict_text:
        parts.append(report.verdict_text.rstrip("\n"))
    if report.summary:
        parts.append(report.summary)
    parts.extend(report.notes)
    out = "\n".join(part for part in parts if part)
    return out + "\n" if out else ""


FORMATS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "text": text,
    "json": json_lines,
    "github": github,
    "sarif": sarif,
}
