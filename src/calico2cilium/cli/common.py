"""What every command shares: exit statuses, the internal-error guard, progress, input flags."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import click

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


def guarded(command: F) -> F:
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


class Progress:
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


recursive_option = click.option(
    "-R", "--recursive", is_flag=True, help="Descend into subdirectories of directory inputs."
)


def input_options(command: F) -> F:
    """The input flags: ``PATHS...``, ``-f/--filename`` (repeatable; joined by :func:`inputs`) and
    ``-R/--recursive``."""
    command = recursive_option(command)
    command = click.option(
        "-f",
        "--filename",
        "files",
        multiple=True,
        type=click.Path(),
        help="File, directory or '-' (repeatable).",
    )(command)
    return click.argument("paths", nargs=-1, type=click.Path())(command)


def inputs(paths: tuple[str, ...], files: tuple[str, ...]) -> list[str]:
    return [*files, *paths]
