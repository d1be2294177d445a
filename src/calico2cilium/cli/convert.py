"""``calico2cilium convert``: Calico policy in, Cilium policy out (stdout or --output-dir)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import click

from calico2cilium.cli.cluster_options import (
    CLUSTER_HELP,
    ClusterOptions,
    cluster_from,
    cluster_options,
)
from calico2cilium.cli.common import (
    EXIT_FINDINGS,
    EXIT_INVALID,
    FORMAT_NAMES,
    Progress,
    exit_status,
    guarded,
    input_options,
    inputs,
    reading_stage,
)
from calico2cilium.diagnostics import Diagnostic, Severity


@click.command("convert", short_help="Convert Calico policy to Cilium policy (stdout or --output-dir).")
@input_options
@click.option(
    "-o",
    "--output",
    "output_format",
    type=click.Choice(("yaml", "json")),
    default="yaml",
    show_default=True,
    help="Output format: a YAML stream, or a JSON kind: List.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write one file per resource here (atomically; input files are never overwritten).",
)
@click.option(
    "--verify",
    "run_verify",
    is_flag=True,
    help="Prove the output equivalent to the input with the verifier; exit 1 on any difference.",
)
@click.option(
    "--inventory",
    "inventory_paths",
    multiple=True,
    type=click.Path(),
    help="Expand contains/starts with/ends with selectors against the pods and namespaces of this"
    " 'kubectl get pods,namespaces,serviceaccounts,nodes,services -A -o yaml' export, and convert"
    " services matches from its Services (repeatable; a snapshot, with a warning at each expanded"
    " selector and services match). With --verify, also check the output on it.",
)
@cluster_options
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also prove the output and write the migration report here: FILE.md or FILE.html (see 'report').",
)
@click.option(
    "--diagnostics-format",
    "diag_format",
    type=click.Choice(FORMAT_NAMES),
    default="text",
    show_default=True,
    help="How to print diagnostics (on standard error).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print errors only, and no summary.")
@guarded
def command(
    paths: tuple[str, ...],
    files: tuple[str, ...],
    recursive: bool,
    output_format: str,
    output_dir: str | None,
    run_verify: bool,
    inventory_paths: tuple[str, ...],
    cluster: ClusterOptions,
    report_path: str | None,
    diag_format: str,
    quiet: bool,
) -> None:
    """Convert Calico GlobalNetworkPolicy, NetworkPolicy, Tier and Kubernetes NetworkPolicy to
    CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy, keeping exactly what traffic is allowed.

    PATHS are files, directories (their .yaml/.yml/.json files) or '-' for standard input, which is
    also read when no path is given, so 'kubectl get networkpolicies.p -A -o yaml | calico2cilium
    convert > cilium.yaml' works. The Cilium resources go to standard output (or --output-dir);
    diagnostics and a summary go to standard error.

    Calico decides by first match over tiers, policy order and rule order; Cilium by "some allow
    and no deny". The converter computes Calico's exact decision and emits allow rules for exactly
    what Calico allows. What cannot be said exactly in Cilium is refused or left out with an error
    diagnostic naming the rule; run 'calico2cilium explain CODE' for any code.

    \b
    Exit status: 0 converted exactly; 1 converted with warnings (or, with --verify, a difference
    was found); 2 invalid input, refused policies or usage error; 3 internal error.
    """
    from calico2cilium.convert import convert
    from calico2cilium.diagnostics.render import FORMATS
    from calico2cilium.io.write import UnsafeOutput, dump_json, dump_yaml, write_directory
    from calico2cilium.load import LoadResult, load

    facts = cluster_from(cluster)
    given = inputs(paths, files)
    progress = Progress(enabled=not quiet)
    reading_stage(progress, given, "reading inputs")
    readable = _without(given, recursive, [cluster.cluster_config, *inventory_paths])
    loaded = load(readable, recursive=recursive, progress=progress) if readable or not given else LoadResult()
    progress.stage(f"converting {loaded.resources} resources")
    result = convert(
        loaded=loaded,
        recursive=recursive,
        cluster=facts,
        inventory=list(inventory_paths) if inventory_paths else None,
    )
    diagnostics = list(result.diagnostics)
    unwritten = None
    if output_dir is not None:
        progress.stage(f"writing {len(result.documents)} files")
        try:
            written = write_directory(result.documents, output_dir, output_format, _input_files(given))
        except UnsafeOutput as err:
            unwritten = f"calico2cilium: {err}"
        progress.done()
        if not unwritten and not quiet:
            click.echo(f"wrote {len(written)} files to {output_dir}", err=True)
            _note_stale(output_dir, written)
    else:
        progress.done()  # standard output shows its own progress
        if result.documents:
            text = dump_json(result.documents) if output_format == "json" else dump_yaml(result.documents)
            click.echo(text, nl=False)
    status = EXIT_INVALID if unwritten else exit_status(diagnostics)
    verdict = ""
    check = None
    if run_verify or report_path:
        from calico2cilium.semantics.world import Assumptions
        from calico2cilium.verify.conversion import check_conversion

        progress.stage("verifying the output against the input")
        check = check_conversion(result, Assumptions.of(facts))
        progress.done()
    if run_verify and check is not None:
        verdict = check.render_text()
        if not check.equivalent and status != EXIT_INVALID:
            status = EXIT_FINDINGS
    if report_path:
        from calico2cilium.cli.report import write_report

        unwritten = unwritten or write_report(
            report_path, result, check, cluster, given, output_dir, inventory_paths, quiet
        )
        status = EXIT_INVALID if unwritten else status
    shown = [d for d in diagnostics if not quiet or d.severity is Severity.ERROR]
    shown.sort(key=Diagnostic.sort_key)
    rendered = FORMATS[diag_format](shown)
    if rendered:
        click.echo(rendered, err=True, nl=False)
    if verdict:
        click.echo(verdict.rstrip("\n"), err=True)
    if not quiet:
        errors = sum(d.severity is Severity.ERROR for d in diagnostics)
        warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
        click.echo(
            f"{loaded.files} files, {loaded.resources} resources in, {len(result.documents)} Cilium"
            f" resources out (Cilium {facts.target.name}), {errors} errors, {warnings} warnings",
            err=True,
        )
    if unwritten:  # last, where a user looks first; the diagnostics above still say what was found
        click.echo(unwritten, err=True)
    sys.exit(status)


def _note_stale(output_dir: str, written: list[Path]) -> None:
    """Say which files of an earlier run this one did not rewrite: nothing deletes them, and
    ``kubectl apply -f`` on the directory would apply them with the fresh output."""
    from calico2cilium.io.write import stale_outputs

    stale = stale_outputs(output_dir, written)
    if stale:
        names = ", ".join(p.name for p in stale[:3]) + (", ..." if len(stale) > 3 else "")
        click.echo(
            f"note: {output_dir} also holds {len(stale)} file(s) an earlier convert wrote and this run"
            f" did not ({names}): their source policies are gone or renamed; delete them before"
            f" applying the directory",
            err=True,
        )


def _without(given: list[str], recursive: bool, excluded: list[str | None]) -> list[str]:
    """The inputs, minus the --cluster-config and --inventory files when a directory input holds
    them (they are not manifests). Such a file named as an input itself stays: the user asked."""
    from calico2cilium.io.discover import discover

    targets = {Path(name).resolve() for name in excluded if name is not None and name != "-"}
    if not targets:
        return given
    out: list[str] = []
    for name in given:
        path = Path(name)
        if name != "-" and path.is_dir() and any(t.is_relative_to(path.resolve()) for t in targets):
            found, _ = discover([name], recursive=recursive)
            out.extend(f.name for f in found if f.path is not None and not _inside(f.path.resolve(), targets))
        else:
            out.append(name)
    return out


def _inside(path: Path, targets: set[Path]) -> bool:
    """Whether ``path`` is one of ``targets`` or inside one (an --inventory may be a directory)."""
    return any(path.is_relative_to(t) for t in targets)


def _input_files(given: list[str]) -> list[str]:
    """Every file under the run's inputs (for the never-overwrite-an-input check)."""

    out: list[str] = []
    for name in given:
        path = Path(name)
        if path.is_dir():
            out.extend(str(p) for p in path.rglob("*") if p.is_file())
        elif name != "-":
            out.append(name)
    return out


command.help = f"{inspect.cleandoc(command.help or '')}\n\n{CLUSTER_HELP}"
