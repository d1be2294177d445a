"""``calico2cilium diff``: the traffic whose verdict changes between two policy sets."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from calico2cilium.cli.cluster_options import CLUSTER_HELP, ClusterOptions, assumptions_from, cluster_options
from calico2cilium.cli.common import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INVALID,
    FORMAT_NAMES,
    guarded,
    recursive_option,
)
from calico2cilium.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from calico2cilium.io.documents import RawDocument
    from calico2cilium.verify.diff import Change, DiffResult


@click.command("diff", short_help="Show the traffic whose verdict changes between two policy sets.")
@click.argument("sides", nargs=-1, type=click.Path(), metavar="[OLD NEW]")
@click.option(
    "--old", "old_paths", multiple=True, type=click.Path(), help="More of the old side (repeatable)."
)
@click.option(
    "--new", "new_paths", multiple=True, type=click.Path(), help="More of the new side (repeatable)."
)
@recursive_option
@cluster_options
@click.option(
    "--max-changes",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Stop looking after this many changed regions.",
)
@click.option(
    "-o",
    "--format",
    "fmt",
    type=click.Choice(FORMAT_NAMES),
    default="text",
    show_default=True,
    help="How to print the result (github and sarif: one annotation per changed region).",
)
@guarded
def command(
    sides: tuple[str, ...],
    old_paths: tuple[str, ...],
    new_paths: tuple[str, ...],
    recursive: bool,
    cluster: ClusterOptions,
    max_changes: int,
    fmt: str,
) -> None:
    """Show the regions of traffic that OLD and NEW decide differently (allowed -> denied,
    denied -> allowed), grouped by subject, each with one concrete example flow and the rule
    responsible on each side (file:line:col). Every flow is considered (every pod and namespace
    labelling, address, protocol and port, both directions): no change printed means none exists.

    \b
    OLD and NEW are each a file, a directory or '-' (one of them); --old and --new add more.
    Either side may hold Calico resources (projectcalico.org, with their Tiers, NetworkSets and
    HostEndpoints), Cilium resources (cilium.io) or Kubernetes NetworkPolicies. Each side is
    decided by the semantics of the engine that enforces it: 'diff calico-main/ calico-pr/' reviews
    a Calico change, 'diff cilium-then/ cilium-now/' a Cilium one, 'diff calico/ cilium/' a
    migration. A side holding both Calico and Cilium policies is compared engine by engine
    (C2C412).

    \b
    Exit status: 0 nothing changes (proven); 1 some traffic changes (C2C410 now denied, C2C411 now
    allowed), or no change found but some constructs are outside the proof (C2C402); 2 invalid
    input or usage; 3 internal error.
    """
    from calico2cilium.verify.diff import diff

    if len(sides) not in (0, 2):
        raise click.UsageError("give OLD and NEW (two paths), or --old and --new")
    old = [*sides[:1], *old_paths]
    new = [*sides[1:], *new_paths]
    if not old or not new:
        raise click.UsageError("both sides are needed: OLD NEW, or --old PATH --new PATH")
    if [*old, *new].count("-") > 1:
        raise click.UsageError("'-' (standard input) can be read once: give it to one side only")
    assumptions = assumptions_from(cluster)
    version = assumptions.target.name
    old_docs, diagnostics = read_side(old, recursive, version)
    new_docs, more = read_side(new, recursive, version)
    diagnostics.extend(more)
    result = diff(old_docs, new_docs, assumptions, max_changes=max_changes)
    diagnostics.extend(result_diagnostics(result))
    diagnostics.extend(_mixed(old, old_docs) + _mixed(new, new_docs))
    diagnostics.sort(key=Diagnostic.sort_key)
    status = exit_code(result, diagnostics)
    if status == EXIT_INVALID and result.status != "invalid":
        # An input that could not be read, or a Calico resource in error (left out of the
        # comparison): nothing is proven about what it holds.
        result.status = "invalid"
    if fmt == "text":
        click.echo(render_text(result, diagnostics))
    elif fmt == "json":
        data = result.to_dict() | {"exit_code": status}
        from calico2cilium.diagnostics.render import as_dict

        data["diagnostics"] = [as_dict(d) for d in diagnostics]
        click.echo(json.dumps(data, indent=2))
    else:
        from calico2cilium.diagnostics.render import FORMATS

        click.echo(FORMATS[fmt](diagnostics), nl=False)
        click.echo(headline(result), err=True)
    sys.exit(status)


command.help = f"{inspect.cleandoc(command.help or '')}\n\n{CLUSTER_HELP}"


def read_side(
    paths: Sequence[str], recursive: bool, cilium_version: str
) -> tuple[list[RawDocument], list[Diagnostic]]:
    """One side's documents: Calico ones validated as ``lint`` does (only valid ones are compared),
    Cilium ones checked against their CRD schema (as ``verify`` does)."""
    from calico2cilium.cli.verify import schema_diagnostics
    from calico2cilium.io.documents import RawDocument
    from calico2cilium.validate import validate
    from calico2cilium.verify.api import read_cilium_files
    from calico2cilium.verify.diff import engine_of

    found, diagnostics = read_cilium_files(list(paths), recursive=recursive)
    docs: list[RawDocument] = []
    for raw in (d for d in found if isinstance(d, RawDocument)):
        engine = engine_of(raw.data)
        if engine == "calico":
            document, problems = validate(raw)
            diagnostics.extend(problems)
            if document is not None:
                docs.append(raw)
        else:
            diagnostics.extend(schema_diagnostics(raw, cilium_version))
            docs.append(raw)
    return docs, diagnostics


def _mixed(paths: Sequence[str], docs: Sequence[RawDocument]) -> list[Diagnostic]:
    from calico2cilium.cli.verify import _make
    from calico2cilium.verify.diff import engine_of

    engines = {engine_of(d.data) for d in docs}
    if {"calico", "cilium"} <= engines:
        return [
            _make(
                "C2C412",
                f"{', '.join(paths)} holds both Calico and Cilium policies: each engine's are compared"
                " with the same engine's of the other side",
            )
        ]
    return []


def result_diagnostics(result: DiffResult) -> list[Diagnostic]:
    """Changes (C2C410, C2C411, at the new side's rule), constructs outside the proof (C2C402) and
    resources their cluster rejects (C2C403)."""
    from calico2cilium.cli.verify import _make

    out: list[Diagnostic] = []
    for item in result.invalid:
        if item.doc is not None:
            out.append(_make("C2C403", f"[{item.side}] {item.resource}: {item.message}", item.source))
    for unsupported in result.unsupported:
        what = f"{unsupported.resource}: " if unsupported.resource else ""
        out.append(_make("C2C402", f"[{unsupported.side}] {what}{unsupported.reason}", unsupported.source))
    for change in result.changes:
        code = "C2C411" if change.new.allowed else "C2C410"
        source = change.new.ref.source or change.old.ref.source
        out.append(_make(code, describe(change), source))
    return out


def describe(change: Change) -> str:
    """A change in one line."""
    old = "allowed" if change.old.allowed else "denied"
    return (
        f"{change.subject}, {change.region}: {old} -> {change.now}; e.g. {change.flow.describe()};"
        f" old: {change.old.ref}; new: {change.new.ref}"
    )


def exit_code(result: DiffResult, diagnostics: Sequence[Diagnostic]) -> int:
    if result.exit_code == EXIT_INVALID or any(d.severity is Severity.ERROR for d in diagnostics):
        return EXIT_INVALID
    return EXIT_FINDINGS if result.exit_code != EXIT_CLEAN else EXIT_CLEAN


HEADLINES = {
    "same": "NO CHANGE: both sides decide every flow the same (proven).",
    "changed": "CHANGED: {n} region(s) of traffic change verdict.",
    "incomplete": "NO CHANGE FOUND, NOT PROVEN: some constructs are outside the proof (listed below).",
    "invalid": "INVALID INPUT: some resources would be rejected or could not be read (listed below).",
}


def headline(result: DiffResult) -> str:
    return HEADLINES[result.status].format(n=len(result.changes))


def render_text(result: DiffResult, diagnostics: Sequence[Diagnostic]) -> str:
    """The headline, the changes grouped by subject, then every other finding."""
    from calico2cilium.diagnostics.render import text

    parts = [headline(result)]
    for subject, changes in result.groups().items():
        lines = [f"{subject}:"]
        for change in changes:
            old = "allowed" if change.old.allowed else "denied"
            lines.append(f"  {old} -> {change.now}: {change.region}  [{change.comparison}]")
            lines.append(f"    e.g. {change.flow.describe()}")
            lines.append(f"    old: {_verdict(change.old)}")
            lines.append(f"    new: {_verdict(change.new)}")
        parts.append("\n".join(lines))
    findings = [d for d in diagnostics if d.code not in ("C2C410", "C2C411")]
    if findings:
        parts.append(f"Findings ({len(findings)}):\n" + text(findings).rstrip("\n"))
    a = result.assumptions
    parts.append(
        f"Compared: {', '.join(result.comparisons)}; {len(result.partitions)} subject partitions in"
        f" {result.seconds:.2f}s; assumptions: pod CIDRs {list(a.pod_cidrs) or 'unknown'}, node CIDRs"
        f" {list(a.node_cidrs) or 'unknown'}, Cilium {a.cilium_version[0]}.{a.cilium_version[1]}."
    )
    return "\n\n".join(parts)


def _verdict(verdict: Any) -> str:
    return f"{'ALLOW' if verdict.allowed else 'DENY'} by {verdict.ref}"
