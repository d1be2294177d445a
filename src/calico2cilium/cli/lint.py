"""``calico2cilium lint``: load, validate and report."""

from __future__ import annotations

import sys

import click

from calico2cilium.cli.common import (
    FORMAT_NAMES,
    Progress,
    exit_status,
    fail_on_option,
    guarded,
    input_options,
    inputs,
    reading_stage,
)
from calico2cilium.diagnostics import Diagnostic, Severity


@click.command("lint", short_help="Check Calico and Kubernetes NetworkPolicy manifests.")
@input_options
@click.option(
    "-o",
    "--format",
    "fmt",
    type=click.Choice(FORMAT_NAMES),
    default="text",
    show_default=True,
    help="How to print findings.",
)
@fail_on_option
@click.option("-q", "--quiet", is_flag=True, help="Print errors only, and no summary.")
@guarded
def command(
    paths: tuple[str, ...], files: tuple[str, ...], recursive: bool, fmt: str, fail_on: str, quiet: bool
) -> None:
    """Check Calico (and Kubernetes NetworkPolicy) manifests: syntax, kinds, fields, values, selectors.

    PATHS are files, directories (their .yaml/.yml/.json files) or '-' for standard input, which is
    also read when no path is given. Findings go to standard output; a summary to standard error.

    Exit status: 0 clean, 1 warnings only (see --fail-on), 2 errors (invalid input), 3 internal
    error ('calico2cilium explain exit-status').
    """
    from calico2cilium.diagnostics.bounded import count
    from calico2cilium.diagnostics.render import FORMATS, capped
    from calico2cilium.load import load

    progress = Progress(enabled=not quiet)
    given = inputs(paths, files)
    reading_stage(progress, given, "reading and checking inputs")
    result = load(given, recursive=recursive, progress=progress, keep=False)  # findings only
    progress.done()
    shown = [d for d in result.diagnostics if not quiet or d.severity is Severity.ERROR]
    levels = (Severity.ERROR,) if quiet else tuple(Severity)
    shown = capped(sorted(shown, key=Diagnostic.sort_key), left_out=result.left_out, severities=levels)
    click.echo(FORMATS[fmt](shown), nl=False)
    if not quiet:
        errors = count(result.diagnostics, result.left_out, Severity.ERROR)
        warnings = count(result.diagnostics, result.left_out, Severity.WARNING)
        click.echo(
            f"{result.files} files, {result.resources} resources, {result.valid} valid, "
            f"{errors} errors, {warnings} warnings",
            err=True,
        )
    sys.exit(exit_status(result.diagnostics, fail_on))
