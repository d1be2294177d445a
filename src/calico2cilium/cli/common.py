"""What every command shares: exit statuses, the internal-error guard, progress, input flags."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TextIO, TypeVar

import click

from calico2cilium.diagnostics import Diagnostic, Severity

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what the shell reports for a program killed by writing to a closed pipe."""
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
        except BrokenPipeError:
            # The reader went away ('calico2cilium explain --list | head'): stop quietly, as a
            # program killed by SIGPIPE does, instead of reporting a bug.
            _silence_stdout()
            sys.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:
            if _debug():
                raise
            click.echo(f"calico2cilium: internal error: {type(exc).__name__}: {exc}", err=True)
            click.echo(
                "This is a bug. Rerun with CALICO2CILIUM_DEBUG=1 for a traceback and report it.", err=True
            )
            sys.exit(EXIT_INTERNAL)

    return run  # type: ignore[return-value]


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that flushing it at exit raises nothing more."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test runner's buffer): nothing is flushed to a closed pipe


def _debug() -> bool:
    import os

    return bool(os.environ.get("CALICO2CILIUM_DEBUG"))


class Progress:
    """A one-line progress display on standard error, only on a terminal (never when piped or
    redirected, so logs and CI output stay clean) and only for long runs: each stage that is still
    going after one second shows with its elapsed time, e.g. ``converting 10000 resources... 12s``
    (while reading, the count of files read, from 20 files). Updates overwrite the line;
    :meth:`done` erases it, so what follows starts on a clean line.

    ``progress(name, done, total)`` is the callback ``load()`` calls after each file."""

    DELAY = 1.0
    """Seconds a stage runs before it is shown (short runs show nothing)."""
    TICK = 1.0

    def __init__(self, enabled: bool, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and _is_terminal(self.stream)
        self.shown = 0
        self._what = ""
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    def __call__(self, name: str, done: int, total: int) -> None:
        if total >= 20:
            with self._lock:
                self._what = f"reading {done}/{total} files"

    def stage(self, what: str) -> None:
        """Start stage ``what`` (ending the one before): shown, with a running clock, from
        :attr:`DELAY` seconds on."""
        self.done()
        if not self.enabled:
            return
        self._what = what
        stop = self._stop = threading.Event()
        started = time.monotonic()

        def tick() -> None:
            wait = self.DELAY
            while not stop.wait(wait):
                with self._lock:
                    if stop.is_set():
                        return
                    self._show(f"{self._what}... {time.monotonic() - started:.0f}s")
                wait = self.TICK

        self._thread = threading.Thread(target=tick, name="calico2cilium-progress", daemon=True)
        self._thread.start()

    def done(self) -> None:
        """End the current stage, if any, and erase the line."""
        if self._stop is not None and self._thread is not None:
            with self._lock:
                self._stop.set()
            self._thread.join()
        self._stop = self._thread = None
        if self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0

    close = done

    def _show(self, text: str) -> None:
        pad = " " * max(0, self.shown - len(text))
        self.stream.write(f"\r{text}{pad}")
        self.stream.flush()
        self.shown = max(self.shown, len(text))


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def reading_stage(progress: Progress, given: Sequence[str], what: str) -> None:
    """Start the reading stage, unless the user is typing the input on the terminal (standard
    input named, or no path): the progress line would overwrite what they type."""
    if (not given or "-" in given) and _is_terminal(sys.stdin):
        progress.done()
        return
    progress.stage(what)


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
