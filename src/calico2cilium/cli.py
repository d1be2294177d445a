"""The ``calico2cilium`` command. Thin: parse flags, call the library, render, pick the exit status.

Exit status for every command: 0 clean, 1 findings (warnings), 2 invalid input or usage,
3 internal error (a bug: please report it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import click

from calico2cilium import __version__
from calico2cilium.diagnostics import Diagnostic, Severity

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 2, 3
FORMAT_NAMES = ("text", "json", "github", "sarif")
F = TypeVar("F", bound=Callable[..., Any])


def exit_status(diagnostics: Sequence[Diagnostic]) -> int:
    severities = {d.severity for d in diagnostics}
    if Severity.ERROR in severities:
        return EXIT_INVALID
    if Severity.WARNING in severities:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _guarded(command: F) -> F:
    """Turn an unexpected exception into one line and exit status 3, never a traceback."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            if _debug():
                raise
            click.echo(f"calico2cilium: internal error: {type(exc).__name__}: {exc}", err=True)
            click.echo(
                "This is a bug. Rerun with CALICO2CILIUM_DEBUG=1 for a traceback and report it.", err=True
            )
            sys.exit(EXIT_INTERNAL)

    return run  # type: ignore[return-value]


def _debug() -> bool:
    import os

    return bool(os.environ.get("CALICO2CILIUM_DEBUG"))


class _Progress:
    """A one-line progress display on stderr, only for long runs on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.shown = False

    def __call__(self, name: str, done: int, total: int) -> None:
        if self.enabled and total >= 20:
            click.echo(f"\rreading {done}/{total} files", err=True, nl=False)
            self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("\r" + " " * 40 + "\r", err=True, nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="calico2cilium")
def main() -> None:
    """Carry Calico network policy to Cilium without changing what traffic is allowed.

    Every input document is converted exactly, converted with a diagnostic naming what changed,
    or refused with one. Run 'calico2cilium explain CODE' for any diagnostic code.
    """


def _inputs(paths: tuple[str, ...], files: tuple[str, ...]) -> list[str]:
    return [*files, *paths]


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "-f", "--filename", "files", multiple=True, type=click.Path(), help="File, directory or '-' (repeatable)."
)
@click.option("-R", "--recursive", is_flag=True, help="Descend into subdirectories of directory inputs.")
@click.option(
    "-o",
    "--format",
    "fmt",
    type=click.Choice(FORMAT_NAMES),
    default="text",
    show_default=True,
    help="How to print findings.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print errors only, and no summary.")
@_guarded
def lint(paths: tuple[str, ...], files: tuple[str, ...], recursive: bool, fmt: str, quiet: bool) -> None:
    """Check Calico (and Kubernetes NetworkPolicy) manifests: syntax, kinds, fields, values, selectors.

    PATHS are files, directories (their .yaml/.yml/.json files) or '-' for standard input, which is
    also read when no path is given. Findings go to standard output; a summary to standard error.

    Exit status: 0 clean, 1 warnings only, 2 errors (invalid input), 3 internal error.
    """
    from calico2cilium.diagnostics.render import FORMATS
    from calico2cilium.load import load

    progress = _Progress(enabled=not quiet)
    result = load(_inputs(paths, files), recursive=recursive, progress=progress)
    progress.close()
    shown = [d for d in result.diagnostics if not quiet or d.severity is Severity.ERROR]
    shown.sort(key=Diagnostic.sort_key)
    click.echo(FORMATS[fmt](shown), nl=False)
    if not quiet:
        errors = sum(d.severity is Severity.ERROR for d in result.diagnostics)
        warnings = sum(d.severity is Severity.WARNING for d in result.diagnostics)
        click.echo(
            f"{result.files} files, {result.resources} resources, {len(result.documents)} valid, "
            f"{errors} errors, {warnings} warnings",
            err=True,
        )
    sys.exit(exit_status(result.diagnostics))


@main.command()
@click.argument("code", required=False)
@click.option("--list", "list_all", is_flag=True, help="List every diagnostic code.")
@_guarded
def explain(code: str | None, list_all: bool) -> None:
    """Explain a diagnostic CODE (e.g. C2C211, or its name: invalid-selector), with examples."""
    from calico2cilium.diagnostics.catalog import CATALOG, lookup

    if list_all or code is None:
        for doc in CATALOG.values():
            click.echo(f"{doc.code}  {doc.name:<24} {doc.severity.value:<8} {doc.summary}")
        return
    found = lookup(code)
    if found is None:
        click.echo(
            f"calico2cilium: unknown diagnostic code {code!r}; see 'calico2cilium explain --list'", err=True
        )
        sys.exit(EXIT_INVALID)
    doc = found
    click.echo(f"{doc.code} {doc.name} ({doc.severity.value})\n")
    click.echo(f"{doc.summary}\n\n{doc.explanation}")
    for title, example in (("Fails", doc.failing), ("Passes", doc.passing)):
        if example is not None:
            shown = example if isinstance(example, str) else repr(example)
            click.echo(f"\n{title}:\n" + "".join(f"    {line}\n" for line in shown.splitlines()))
