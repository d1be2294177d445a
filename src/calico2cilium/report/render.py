"""A ``Report`` as Markdown or as one self-contained HTML page (inline CSS, no script, no font or
other external resource: it reads the same offline), each policy under its own anchor."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from calico2cilium.report.model import Finding, Output, PolicyEntry, Report
from calico2cilium.verify.diff import Change


def _ref(ref: Any) -> str:
    """A rule and its position; the position left out for an output not read from a file."""
    source = ref.source
    return ref.what if source is None or source.file == "<input>" else f"{ref.what} ({source})"


# --- Markdown -----------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text safe in a Markdown table cell or line."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def markdown(report: Report) -> str:
    c = report.counts
    lines = [
        "# Calico to Cilium migration report",
        "",
        f"Generated {report.generated} by calico2cilium {report.version} from {', '.join(report.inputs) or 'standard input'}.",
        "",
        f"**Verdict: {report.verdict}.** {report.verdict_words}",
        "",
        f"{c['policies']} source resources, {c['outputs']} Cilium resources, {c['errors']} errors,"
        f" {c['warnings']} warnings.",
        "",
    ]
    if report.changes:
        lines += ["## Traffic that changes", "", *_md_changes(report.changes), ""]
    lines += ["## Assumptions", "", "| Assumption | Value | From |", "| --- | --- | --- |"]
    lines += [f"| {_md(a.name)} | {_md(a.value)} | {_md(a.origin)} |" for a in report.assumptions]
    lines += ["", "## Cut-over checklist", ""]
    for i, step in enumerate(report.steps, 1):
        lines += [f"{i}. **{_md(step.title)}**: {_md(step.why)}", "", "   ```sh"]
        lines += [f"   {command}" for command in step.commands]
        lines += ["   ```", ""]
    lines += ["## Source policies", ""]
    lines += ["| Policy | Status | Outputs | Findings |", "| --- | --- | --- | --- |"]
    lines += [
        f"| [{_md(p.title)}](#{p.anchor}) | {p.status} | {len(p.outputs)} | {len(p.findings)} |"
        for p in report.policies
    ]
    lines.append("")
    for policy in report.policies:
        lines += _md_policy(policy)
    if report.other_outputs or report.other_findings:
        lines += ["## Other outputs and findings", ""]
        lines += _md_outputs(report.other_outputs)
        lines += _md_findings(report.other_findings)
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_changes(changes: Iterable[Change]) -> list[str]:
    out = []
    for change in changes:
        old = "allowed" if change.old.allowed else "denied"
        out += [
            f"- **{_md(change.subject)}**, {_md(change.region)}: {old} by Calico, {change.now} by Cilium.",
            f"  Example: {_code(change.flow.describe())}.",
            f"  Calico: {_md(_ref(change.old.ref))}; Cilium: {_md(_ref(change.new.ref))}.",
        ]
    return out


def _md_policy(policy: PolicyEntry) -> list[str]:
    lines = [
        f'<a id="{policy.anchor}"></a>',
        f"### {_md(policy.title)}",
        "",
        f"{_code(policy.where)}: {policy.status}.",
        "",
    ]
    return lines + _md_outputs(policy.outputs) + _md_findings(policy.findings)


def _md_outputs(outputs: list[Output]) -> list[str]:
    if not outputs:
        return []
    return [
        "Outputs:",
        "",
        *(f"- {_md(o.title)}" + (f" ({_code(o.file)})" if o.file else "") for o in outputs),
        "",
    ]


def _md_findings(findings: list[Finding]) -> list[str]:
    if not findings:
        return []
    lines = ["Findings:", ""]
    for f in findings:
        lines.append(
            f"- {f.severity} **{f.code}** {_md(f.message)}" + (f" ({_code(f.where)})" if f.where else "")
        )
        if f.meaning:
            lines.append(f"  {_md(f.meaning)}")
        if f.hint:
            lines.append(f"  Hint: {_md(f.hint)}")
    return [*lines, ""]


# --- HTML ---------------------------------------------------------------------------------------

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:70em;
padding:0 1em;color:#1b1f24}
h1{font-size:1.6em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;width:100%;margin:.6em 0}
th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
td code{overflow-wrap:anywhere}
th{background:#f6f8fa}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
pre{background:#f6f8fa;padding:.6em;white-space:pre-wrap;overflow-wrap:anywhere}
.verdict{padding:.7em 1em;border-radius:6px;font-weight:600}
.proven{background:#dafbe1}.narrowed,.not-proven,.not-verified{background:#fff8c5}
.different,.invalid{background:#ffebe9}
.error{color:#cf222e;font-weight:600}.warning{color:#9a6700;font-weight:600}.info{color:#0969da}
section.policy{border:1px solid #d0d7de;border-radius:6px;padding:.2em 1em;margin:1em 0}
section.policy:target{outline:3px solid #0969da}
"""


def html(report: Report) -> str:
    c = report.counts
    verdict_class = report.verdict.replace(" ", "-")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Calico to Cilium migration report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Calico to Cilium migration report</h1>",
        f"<p>Generated {escape(report.generated)} by calico2cilium {escape(report.version)} from"
        f" {escape(', '.join(report.inputs) or 'standard input')}.</p>",
        f'<p class="verdict {verdict_class}" id="verdict">Verdict: {escape(report.verdict)}.'
        f" {escape(report.verdict_words)}</p>",
        f"<p>{c['policies']} source resources, {c['outputs']} Cilium resources, {c['errors']} errors,"
        f" {c['warnings']} warnings.</p>",
        '<nav><a href="#assumptions">Assumptions</a> · <a href="#checklist">Cut-over checklist</a> ·'
        ' <a href="#policies">Source policies</a></nav>',
    ]
    if report.changes:
        parts += ['<h2 id="changes">Traffic that changes</h2>', _html_changes(report.changes)]
    parts += [
        '<h2 id="assumptions">Assumptions</h2>',
        "<table><tr><th>Assumption</th><th>Value</th><th>From</th></tr>",
    ]
    parts += [
        f"<tr><td>{escape(a.name)}</td><td>{escape(a.value)}</td><td>{escape(a.origin)}</td></tr>"
        for a in report.assumptions
    ]
    parts += ["</table>", '<h2 id="checklist">Cut-over checklist</h2>', "<ol>"]
    for step in report.steps:
        commands = "\n".join(escape(command) for command in step.commands)
        parts.append(
            f"<li><strong>{escape(step.title)}</strong>: {escape(step.why)}<pre>{commands}</pre></li>"
        )
    parts += ["</ol>", '<h2 id="policies">Source policies</h2>']
    parts.append("<table><tr><th>Policy</th><th>Status</th><th>Outputs</th><th>Findings</th></tr>")
    parts += [
        f'<tr><td><a href="#{p.anchor}">{escape(p.title)}</a></td><td>{escape(p.status)}</td>'
        f"<td>{len(p.outputs)}</td><td>{len(p.findings)}</td></tr>"
        for p in report.policies
    ]
    parts.append("</table>")
    for policy in report.policies:
        parts.append(
            f'<section class="policy" id="{policy.anchor}"><h3>{escape(policy.title)}</h3>'
            f"<p><code>{escape(policy.where)}</code>: {escape(policy.status)}.</p>"
            + _html_outputs(policy.outputs)
            + _html_findings(policy.findings)
            + "</section>"
        )
    if report.other_outputs or report.other_findings:
        parts.append('<h2 id="other">Other outputs and findings</h2>')
        parts.append(_html_outputs(report.other_outputs) + _html_findings(report.other_findings))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_changes(changes: Iterable[Change]) -> str:
    rows = [
        "<table><tr><th>Subjects</th><th>Region</th><th>Change</th><th>Example flow</th><th>Calico</th>"
        "<th>Cilium</th></tr>"
    ]
    for ch in changes:
        old = "allowed" if ch.old.allowed else "denied"
        rows.append(
            f"<tr><td>{escape(ch.subject)}</td><td>{escape(ch.region)}</td><td>{old} → {ch.now}</td>"
            f"<td><code>{escape(ch.flow.describe())}</code></td><td>{escape(_ref(ch.old.ref))}</td>"
            f"<td>{escape(_ref(ch.new.ref))}</td></tr>"
        )
    return "".join(rows) + "</table>"


def _html_outputs(outputs: list[Output]) -> str:
    if not outputs:
        return ""
    items = "".join(
        f"<li>{escape(o.title)}" + (f" (<code>{escape(o.file)}</code>)" if o.file else "") + "</li>"
        for o in outputs
    )
    return f"<p>Outputs:</p><ul>{items}</ul>"


def _html_findings(findings: list[Finding]) -> str:
    if not findings:
        return ""
    items = []
    for f in findings:
        where = f" (<code>{escape(f.where)}</code>)" if f.where else ""
        meaning = f"<br>{escape(f.meaning)}" if f.meaning else ""
        hint = f"<br>Hint: {escape(f.hint)}" if f.hint else ""
        items.append(
            f'<li><span class="{escape(f.severity)}">{escape(f.severity)} {escape(f.code)}</span>'
            f" {escape(f.message)}{where}{meaning}{hint}</li>"
        )
    return f"<p>Findings:</p><ul>{''.join(items)}</ul>"


def render(report: Report, path: str) -> str:
    """The report in the format ``path``'s suffix names (``.html``/``.htm``, else Markdown)."""
    return html(report) if path.lower().endswith((".html", ".htm")) else markdown(report)
