"""``calico2cilium convert``: Calico policy in, Cilium policy out (stdout or --output-dir)."""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from calico2cilium.cli.cluster_options import (
    CLUSTER_HELP,
    ClusterOptions,
    cluster_from,
    cluster_options,
)
from calico2cilium.cli.common import (
    EXIT_DIFFERENT,
    EXIT_INVALID,
    FORMAT_NAMES,
    Progress,
    exit_status,
    explained,
    fail_on_option,
    guarded,
    input_files,
    input_options,
    inputs,
    namespace_option,
    reading_stage,
    refuse_overwriting_an_input,
    refuse_writing_stdout_to_an_input,
    write_stdout,
)
from calico2cilium.diagnostics import Diagnostic, Severity
from calico2cilium.diagnostics.bounded import count
from calico2cilium.diagnostics.catalog import make
from calico2cilium.diagnostics.render import Report, capped, render_report

if TYPE_CHECKING:
    from calico2cilium.cli.input_notes import Selecting
    from calico2cilium.compile.lower import Lowered
    from calico2cilium.convert import ConvertResult
    from calico2cilium.semantics.world import Assumptions
    from calico2cilium.validate import Document


MAX_WORK_BUDGET = 1e6
"""The largest ``--work-budget`` factor: past it a limit no longer fits an integer (``inf``, ``1e308``
were internal errors, exit 3), and a million times the default work is days of CPU anyway."""


def _finite_budget(value: float) -> float:
    """Refuse ``nan``, which passes every range test (usage error, exit 2)."""
    if value != value:  # NaN is the one float unequal to itself
        raise click.BadParameter("not a number", param_hint="'--work-budget'")
    return value


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
    help="Prove the output equivalent to the input with the verifier before writing it; a"
    " difference that no diagnostic explains exits 4 and writes nothing.",
)
@click.option(
    "-n",
    "--namespace",
    default=None,
    callback=lambda _ctx, _param, value: namespace_option(value),
    help="Namespace for namespaced documents without one, as kubectl's -n (without it: 'default',"
    " with a warning, C2C360).",
)
@click.option(
    "--allow-partial",
    is_flag=True,
    help="Write the output even when the run has errors or an unexplained difference (exit status"
    " unchanged). It still fails closed: each policy in error (invalid, or defined twice"
    " differently) is replaced by a quarantine that denies all traffic of the endpoints it could"
    " govern (C2C236). It may allow more than Calico only where an input in error cannot be"
    " quarantined (C2C237: not a policy, or not readable at all) or a conversion error says so."
    " Refusals that fail closed are warnings and need no flag.",
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
    help="How to print diagnostics, the verdict and the summary (on standard error, which then"
    " holds only that format).",
)
@fail_on_option
@click.option(
    "--work-budget",
    type=click.FloatRange(min=0, min_open=True, max=MAX_WORK_BUDGET),
    callback=lambda _ctx, _param, value: _finite_budget(value),
    default=1.0,
    show_default=True,
    help="A factor on the work the conversion may spend on Calico's order before a rule, or a whole"
    " direction, fails closed (C2C350). Raise it (e.g. 20) to convert large sets of overlapping"
    " policies exactly, in more time.",
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
    namespace: str | None,
    allow_partial: bool,
    inventory_paths: tuple[str, ...],
    cluster: ClusterOptions,
    report_path: str | None,
    diag_format: str,
    fail_on: str,
    work_budget: float,
    quiet: bool,
) -> None:
    """Convert Calico GlobalNetworkPolicy, NetworkPolicy, Tier and Kubernetes NetworkPolicy to
    CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy, keeping exactly what traffic is allowed.

    PATHS are files, directories (their .yaml/.yml/.json files) or '-' for standard input, which is
    also read when no path is given, so 'kubectl get networkpolicies.p -A -o yaml | calico2cilium
    convert > cilium.yaml' works. The Cilium resources go to standard output (or --output-dir);
    diagnostics, the verdict and a summary go to standard error.

    Calico decides by first match over tiers, policy order and rule order; Cilium by "some allow
    and no deny". The converter computes Calico's exact decision and emits allow rules for exactly
    what Calico allows. What cannot be said exactly in Cilium fails closed where it can (the rule
    left out or widened into a Deny, a warning: Cilium denies more, never allows more) and is an
    error where it cannot; run 'calico2cilium explain CODE' for any code.

    \b
    No unsafe output: when the run has an error (exit 2: invalid input, or output that would allow
    more than Calico) or --verify finds a difference no diagnostic explains (exit 4), nothing is
    written to standard output or --output-dir, so 'convert ... | kubectl apply -f -' applies
    nothing. --allow-partial writes it anyway, still failing closed: a policy in error is replaced
    by a quarantine denying all traffic of the endpoints it could govern (C2C236).

    \b
    Exit status: 0 converted exactly (with --verify: proven equivalent); 1 converted with warnings
    (assumptions or narrowing, refusals that fail closed included; no difference beyond what the
    diagnostics say); 2 invalid input, output that would allow more than Calico, or usage error;
    3 internal error; 4 --verify found a difference that no diagnostic explains (a flow Cilium
    allows and Calico denies never is; a flow Cilium denies more is explained only by a narrowing
    finding on a policy selecting its endpoint, C2C414). --fail-on sets which findings give 1.
    """
    from calico2cilium.cli.input_notes import export_notes, export_notes_of, namespace_notes
    from calico2cilium.compile.lower import DEFAULT_NAMESPACE, joined
    from calico2cilium.convert import convert
    from calico2cilium.load import LoadResult, load

    facts = cluster_from(cluster)
    given = inputs(paths, files)
    if report_path:
        refuse_overwriting_an_input(
            report_path, "'--report'", input_files(given, inventory_paths, cluster.cluster_config)
        )
    if output_dir is None:
        refuse_writing_stdout_to_an_input(lambda: input_files(given, inventory_paths, cluster.cluster_config))
    progress = Progress(enabled=not quiet)
    reading_stage(progress, given, "reading inputs")
    readable = _without(given, recursive, [cluster.cluster_config, *inventory_paths])
    # Only the verifier reads the input again; without it (and without an inventory, whose
    # expansion needs every network set first) each document is lowered as it is read, and only
    # its IR and what the notes on the input need are kept.
    streamed = not (run_verify or report_path or inventory_paths)
    reader = _Reader(namespace) if streamed else None
    loaded = (
        load(
            readable,
            recursive=recursive,
            progress=progress,
            keep=not streamed,
            lower=reader,
            namespace=namespace or DEFAULT_NAMESPACE,
            quarantine=allow_partial,
        )
        if readable or not given
        else LoadResult()
    )
    pieces: list[Lowered] | None = None
    if reader is not None:
        read: list[_Read] = loaded.lowered
        pieces = [r.lowered for r in read]
        read_notes = [d for r in read for d in r.notes]
        read_notes.extend(export_notes_of([r.selecting for r in read]))
        loaded.lowered = []
        loaded.refused_lowered = [r.lowered for r in loaded.refused_lowered]
        del read  # ``pieces`` alone holds the IR now: ``joined`` hands it over to ``convert``
    from calico2cilium.cli.facts import with_input_facts

    facts, pool_notes = with_input_facts(facts, loaded.facts, cluster)
    input_notes = [
        *pool_notes,
        *(read_notes if reader is not None else namespace_notes(loaded.documents, namespace)),
        *(export_notes(loaded.documents) if reader is None else []),
    ]
    progress.stage(f"converting {loaded.resources} resources")
    result = convert(
        loaded=loaded,
        recursive=recursive,
        cluster=facts,
        inventory=list(inventory_paths) if inventory_paths else None,
        default_namespace=namespace or DEFAULT_NAMESPACE,
        roots=given,
        work_budget=work_budget,
        keep_input=not streamed,
        lowered=joined(pieces) if pieces is not None else None,
        quarantine=allow_partial,
        namespace_given=namespace is not None,
    )
    diagnostics = [d for d in result.diagnostics if d.code != "C2C340" or _assumption_matters(result)]
    diagnostics.extend(input_notes)
    run = _Run(diagnostics=diagnostics)
    if run_verify or report_path:
        from calico2cilium.semantics.world import Assumptions

        progress.stage("verifying the output against the input")
        _verify(result, Assumptions.of(facts), run, diag_format != "text", namespace or DEFAULT_NAMESPACE)
        progress.done()
    status = exit_status(run.diagnostics + run.unproven, fail_on, unexplained=run.unexplained)
    target = _Target(output_dir, output_format, allow_partial, quiet)
    status, notes = _deliver(
        result.documents,
        status,
        target,
        run,
        progress,
        input_files(given, inventory_paths, cluster.cluster_config),
    )
    if report_path:
        from calico2cilium.cli.report import write_report

        problem = write_report(
            report_path, result, run.check, cluster, given, output_dir, inventory_paths, True
        )
        if problem:
            status = EXIT_INVALID
            notes.append(problem)
        elif not quiet:
            notes.append(f"wrote the report {report_path}: verdict {run.verdict or 'not proven'}")
    shown = [d for d in run.diagnostics if not quiet or d.severity is Severity.ERROR]
    levels = (Severity.ERROR,) if quiet else tuple(Severity)
    shown = capped(sorted(shown, key=Diagnostic.sort_key), left_out=result.left_out, severities=levels)
    summary = ""
    if not quiet:
        errors = count(diagnostics, result.left_out, Severity.ERROR)
        warnings = count(diagnostics, result.left_out, Severity.WARNING)
        summary = (
            f"{loaded.files} files, {loaded.resources} resources in, {len(result.documents)} Cilium"
            f" resources out (Cilium {facts.target.name}), {errors} errors, {warnings} warnings"
        )
    report = Report(
        shown,
        summary=summary,
        exit_code=status,
        verdict=run.verdict,
        verdict_text=run.verdict_text,
        details=run.details,
        notes=notes,
    )
    click.echo(render_report(diag_format, report), err=True, nl=False)
    sys.exit(status)


class _Read(NamedTuple):
    """What ``convert`` keeps of one input document read without ``--verify``: its IR and what
    the notes on the input (``cli.input_notes``) need of it."""

    lowered: Lowered
    notes: tuple[Diagnostic, ...]
    selecting: Selecting


class _Reader:
    """``load(lower=...)``'s callback for ``convert``: each document as a ``_Read``."""

    def __init__(self, namespace: str | None) -> None:
        from calico2cilium.compile.lower import DEFAULT_NAMESPACE, Lowering

        self.namespace = namespace
        self.lowering = Lowering(namespace or DEFAULT_NAMESPACE)

    def __call__(self, document: Document) -> _Read:
        from calico2cilium.cli.input_notes import namespace_notes, selecting

        notes = tuple(namespace_notes([document], self.namespace))
        return _Read(self.lowering.one(document), notes, selecting(document))


@dataclass(frozen=True)
class _Target:
    """Where the output goes and how: standard output (``directory`` None) or ``--output-dir``."""

    directory: str | None
    fmt: str
    allow_partial: bool
    quiet: bool


def _deliver(
    documents: list[dict[str, Any]],
    status: int,
    target: _Target,
    run: _Run,
    progress: Progress,
    protected: list[str],
) -> tuple[int, list[str]]:
    """Write the output unless the run failed (exit 2 or 4) without ``--allow-partial``; the exit
    status after writing (2 when the output could not be delivered, C2C111) and notes on it."""
    from calico2cilium.io.write import UnsafeOutput, write_directory, write_json, write_yaml

    notes: list[str] = []
    if status in (EXIT_INVALID, EXIT_DIFFERENT) and not target.allow_partial:
        progress.done()
        if documents:
            where = target.directory if target.directory is not None else "standard output"
            why = (
                "the run has errors"
                if status == EXIT_INVALID
                else "the verifier found an unexplained difference"
            )
            notes.append(
                f"calico2cilium: nothing was written to {where}: {why}, so the output is not"
                f" equivalent to the input ({len(documents)} resources withheld; --allow-partial"
                " writes them anyway)"
            )
        return status, notes
    if target.directory is not None:
        progress.stage(f"writing {len(documents)} files")
        try:
            written = write_directory(documents, target.directory, target.fmt, protected)
        except UnsafeOutput as err:
            run.diagnostics.append(make("C2C111", f"--output-dir {target.directory}: {err}"))
            status = EXIT_INVALID
        else:
            if not target.quiet:
                notes.append(f"wrote {len(written)} files to {target.directory}")
                notes.extend(_stale_note(target.directory, written))
        progress.done()
        return status, notes
    progress.done()  # standard output shows its own progress
    if documents:
        write = write_json if target.fmt == "json" else write_yaml
        problem = write_stdout(partial(write, documents))
        if problem is not None:
            run.diagnostics.append(make("C2C111", problem))
            status = EXIT_INVALID
    return status, notes


@dataclass
class _Run:
    """What the run found, as the exit status and the report need it."""

    diagnostics: list[Diagnostic]
    unproven: list[Diagnostic] = field(default_factory=list)
    """The verifier's C2C402 (outside the proof): count for the exit status like warnings."""
    unexplained: bool = False
    verdict: str = ""
    verdict_text: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    check: Any = None
    """The verifier's ``ConversionCheck``, for the migration report."""


def _verify(
    result: ConvertResult, assumptions: Assumptions, run: _Run, machine: bool, namespace: str
) -> None:
    """Run the verifier on the conversion and record its verdict in ``run``. In a machine format
    its differences are diagnostics (C2C401) too, so that GitHub and SARIF annotate them."""
    from calico2cilium.cli.verify import result_diagnostics
    from calico2cilium.verify.conversion import check_conversion

    check = check_conversion(result, assumptions, findings=run.diagnostics, default_namespace=namespace)
    run.check = check
    found = result_diagnostics(check.proof)
    run.unproven = [d for d in found if d.code in ("C2C402", "C2C415")]
    documents = result.loaded.documents if result.loaded is not None else []
    # A narrowed flow no narrowing finding explains (C2C414) is a difference as unexplained as a
    # widening: exit 4.
    run.unexplained = check.status == "different" and (
        bool(check.proof.unexplained) or not explained(check.proof, run.diagnostics, documents)
    )
    run.verdict = check.status
    run.verdict_text = check.render_text()
    run.details = check.proof.to_dict()
    run.details.pop("status", None)
    # An output the verifier finds invalid (C2C403, an error) fails the run in every format; the
    # differences and what is outside the proof are in the verdict text, and diagnostics too in a
    # machine format.
    run.diagnostics.extend(d for d in found if machine or d.severity is Severity.ERROR)
    run.unproven = [] if machine else run.unproven


def _assumption_matters(result: ConvertResult) -> bool:
    """Whether the assumed endpoint-to-host action (C2C340) is worth saying: only for a run that
    converted without errors (not for a missing file, an empty input, a refused run) an egress
    policy, whose allow rules may reach the pod's own node (which the action decides with them)."""

    def has_egress(doc: dict[str, Any]) -> bool:
        specs = [doc.get("spec") or {}, *(doc.get("specs") or [])]
        return any(isinstance(spec, dict) and "egress" in spec for spec in specs)

    return result.ok and any(has_egress(doc) for doc in result.documents)


def _stale_note(output_dir: str, written: list[Path]) -> list[str]:
    """Say which files of an earlier run this one did not rewrite: nothing deletes them, and
    ``kubectl apply -f`` on the directory would apply them with the fresh output."""
    from calico2cilium.io.write import stale_outputs

    stale = stale_outputs(output_dir, written)
    if not stale:
        return []
    names = ", ".join(p.name for p in stale[:3]) + (", ..." if len(stale) > 3 else "")
    return [
        f"note: {output_dir} also holds {len(stale)} file(s) an earlier convert wrote and this run"
        f" did not ({names}): their source policies are gone or renamed; delete them before"
        f" applying the directory"
    ]


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


command.help = f"{inspect.cleandoc(command.help or '')}\n\n{CLUSTER_HELP}"
