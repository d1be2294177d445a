"""What every command shares: exit statuses, the internal-error guard, progress, input flags."""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from calico2cilium.diagnostics import Diagnostic, Severity

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INVALID, EXIT_INTERNAL, EXIT_DIFFERENT = 0, 1, 2, 3, 4
"""The exit statuses, one meaning each, the same for ``convert``, ``convert --verify``, ``verify``
and ``lint``: 0 clean (proven equivalent; info only), 1 findings at or above ``--fail-on``
(warnings: assumptions or narrowing, no difference beyond what the diagnostics say), 2 invalid
input or usage (errors), 3 internal error, 4 the verifier found a difference that no diagnostic
explains."""
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what the shell reports for a program killed by writing to a closed pipe."""
FORMAT_NAMES = ("text", "json", "github", "sarif")
F = TypeVar("F", bound=Callable[..., Any])


FAIL_ON = ("error", "narrowing", "warning")


def exit_status(
    diagnostics: Sequence[Diagnostic], fail_on: str = "warning", *, unexplained: bool = False
) -> int:
    """The run's exit status (see :data:`EXIT_DIFFERENT`'s note). ``fail_on`` is the lowest
    finding that makes it non-zero, as linters' ``--fail-on``: ``warning`` (the default) any
    warning; ``narrowing`` only the warnings whose code says the output decides traffic otherwise
    than Calico (``CodeDoc.narrowing``); ``error`` only errors. ``unexplained``: the verifier
    found a difference no diagnostic explains (exit 4 whatever ``fail_on`` says)."""
    if any(d.severity is Severity.ERROR for d in diagnostics):
        return EXIT_INVALID
    if unexplained:
        return EXIT_DIFFERENT
    warnings = [d for d in diagnostics if d.severity is Severity.WARNING]
    if fail_on == "narrowing":
        warnings = [d for d in warnings if _is_narrowing(d)]
    if warnings and fail_on != "error":
        return EXIT_FINDINGS
    return EXIT_CLEAN


fail_on_option = click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="warning",
    show_default=True,
    help="Lowest finding that makes the exit status non-zero: 'warning' any warning (exit 1);"
    " 'narrowing' only warnings where the output decides some traffic otherwise than Calico"
    " (narrowed, widened or left out); 'error' only errors (exit 2). A difference the verifier"
    " finds that no diagnostic explains always exits 4.",
)


def explained(proof: Any, diagnostics: Sequence[Diagnostic], documents: Sequence[Any] = ()) -> bool:
    """Whether the diagnostics explain every difference the verifier found (``proof`` a
    ``VerifyResult``; ``documents`` the run's input resources, ``RawDocument`` or ``Document``).

    With any narrowing finding in the run, ``convert --verify`` asks the verifier to attribute
    every narrowed flow itself (``verify.attribution``, C2C414), which is stricter than the rules
    below: its counterexamples are then widenings only, which nothing explains. These rules decide
    the rest: a run without narrowing findings, whose narrowed flows nothing explains either.

    Only narrowing findings explain (``CodeDoc.narrowing``, or a diagnostic marked ``narrowing``):
    an assumption or a benign note (a rename, a shadowed rule) says nothing about traffic. A
    difference where Cilium allows a flow Calico denies is never explained: that is a widening,
    what ``--verify`` exists to catch (exit 4). A flow Cilium denies and Calico allows is explained
    by a narrowing finding on the resource that decided it, on either side (the Calico resource, or
    the one the deciding Cilium resource converts, its ``calico2cilium.io/source`` annotation), or
    by any narrowing finding when a side's decision names no resource (a profile, a tier's end,
    Cilium's default deny: the converter emits allows only, so a left-out rule shows as the default
    deny of whatever policy selects the subject). Resources
    are told apart by kind, namespace and name, never by document index: every item of a
    ``kind: List`` shares one."""
    findings = [d for d in diagnostics if _is_narrowing(d)]
    if not proof.counterexamples:
        return True
    if not findings:
        return False
    from calico2cilium.verify.attribution import ResourceIndex

    index = ResourceIndex(documents)
    flagged = {index.resource_at(d.source) for d in findings}
    for example in proof.counterexamples:
        if example.cilium.allowed or not example.calico.allowed:
            return False
        calico = _calico_resource(example.calico.ref)
        cilium = _cilium_source(example.cilium.ref)
        if {calico, cilium} & (flagged - {None}):
            continue
        # Cilium's default deny names the first policy selecting the subject, not the rule that
        # was left out (the converter emits allows only), and a profile or a tier's default names
        # no resource: any narrowing finding of the run then explains the narrowed flow.
        if calico is None or cilium is None:
            continue
        return False
    return True


def _is_narrowing(diagnostic: Diagnostic) -> bool:
    from calico2cilium.verify.attribution import is_narrowing

    return is_narrowing(diagnostic)


def _calico_resource(ref: Any) -> str | None:
    """The Calico resource that decided, named as ``ResourceIndex`` names it (``resource_key``)."""
    from calico2cilium.verify.attribution import resource_key

    return resource_key(getattr(getattr(ref, "doc", None), "data", None))


def _cilium_source(ref: Any) -> str | None:
    """The Calico resource the deciding Cilium rule converts (its source annotation); ``None``
    for a default deny, which names the first policy selecting the subject, not who decided."""
    if str(getattr(ref, "what", "")).startswith("default deny"):
        return None
    data = getattr(getattr(ref, "doc", None), "data", None)
    if not isinstance(data, dict):
        return None
    annotations = (data.get("metadata") or {}).get("annotations") or {}
    source = annotations.get("calico2cilium.io/source") if isinstance(annotations, dict) else None
    return source if isinstance(source, str) and source else None


def write_stdout(text: str | Callable[[TextIO], None]) -> str | None:
    """Write ``text`` to standard output and flush it; the problem (a message) when it could not be
    delivered: standard output closed (``>&-``), a full disk (``> /dev/full``). A reader that went
    away (``| head -1``) raises ``BrokenPipeError``, which :func:`guarded` turns into exit 141.
    ``text`` may be a function that writes to the stream it is given (``io.write.write_yaml``), so
    that a large output is written as it is made rather than first built as one string."""
    stream = sys.stdout
    if stream is None:
        return "cannot write to standard output: it is closed"
    try:
        if isinstance(text, str):
            stream.write(text)
        else:
            text(stream)
        stream.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _silence_stdout()  # what is left in the buffer must not fail again at exit
        return f"cannot write to standard output: {exc.strerror or exc}"
    if not _delivered(stream):
        raise BrokenPipeError("the reader of standard output went away before reading it all")
    return None


DRAIN_SECONDS = 2.0
"""How long to wait for the reader of a pipe to take the output (:func:`_delivered`)."""


def _delivered(stream: TextIO) -> bool:
    """Whether the reader of a pipe on standard output took everything written. A reader that
    stops early ('| head -1') and exits after the last write went into the pipe's buffer gives the
    writer no error; its output was still lost. So, for a pipe, wait (up to :data:`DRAIN_SECONDS`)
    until the pipe's buffer is empty: lost when the reader is gone with bytes unread; taken when
    the buffer empties; assumed taken when a live reader is slower than that (a pager)."""
    import fcntl
    import os
    import select
    import stat
    import termios

    try:
        fd = stream.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return True
        poller = select.poll()
        poller.register(fd, 0)  # POLLERR (no reader left) is reported whatever is asked
        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline:
            unread = bytearray(4)
            fcntl.ioctl(fd, termios.FIONREAD, unread)
            if int.from_bytes(unread, sys.byteorder) == 0:
                return True
            if any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0)):
                return False
            time.sleep(0.01)
    except (OSError, ValueError, AttributeError):
        pass  # not a real pipe or no such call here: nothing more can be known
    return True


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


def input_files(given: Sequence[str], inventory: Sequence[str], cluster_config: str | None) -> list[str]:
    """Every file under the run's inputs, its --cluster-config and --inventory files included (for
    the never-overwrite-an-input checks)."""
    out: list[str] = []
    for name in [*given, *inventory, *([cluster_config] if cluster_config else [])]:
        path = Path(name)
        if path.is_dir():
            out.extend(str(p) for p in path.rglob("*") if p.is_file())
        elif name != "-":
            out.append(name)
    return out


def refuse_overwriting_an_input(path: str, option: str, inputs: Sequence[str]) -> None:
    """A usage error (exit 2, before anything is read or written) when ``path``, where ``option``
    writes, is one of the run's input files (review7: ``convert p.md --report p.md`` replaced the
    input with the report)."""
    target = Path(path).resolve()
    if any(Path(name).resolve() == target for name in inputs):
        raise click.BadParameter(
            f"{path} is an input of this run; refusing to overwrite it", param_hint=option
        )


def refuse_writing_stdout_to_an_input(inputs: Callable[[], Sequence[str]]) -> None:
    """A usage error (exit 2, before anything is read or written) when standard output is a
    regular file that is one of the run's input files: ``convert p.yaml >> p.yaml`` appended the
    output to the input, and ``convert dir/ > dir/out.yaml`` read the empty ``out.yaml`` the shell
    had made and reported "no documents in input" (review13). ``inputs`` lists the input files; it
    is called only when standard output is a regular file."""
    import os
    import stat

    try:
        out = os.fstat(sys.stdout.fileno()) if sys.stdout is not None else None
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return  # not a file descriptor (a test runner's buffer)
    if out is None or not stat.S_ISREG(out.st_mode):
        return
    for name in inputs():
        try:
            found = os.stat(name)
        except OSError:
            continue
        if (found.st_dev, found.st_ino) == (out.st_dev, out.st_ino):
            raise click.UsageError(
                f"standard output is the input file {name} (redirected to one of the inputs);"
                " write the output elsewhere, or use --output-dir"
            )


def namespace_option(value: str | None) -> str | None:
    """``-n``/``--namespace``: a namespace name (DNS-1123 label), as kubectl requires, or a usage
    error (exit 2). review7: ``-n BAD_NS`` was written into the output unchecked (exit 0, rejected
    by the API server), ``-n ''`` silently became 'default', and a name over 63 characters was an
    'internal error' (C2C399, the output failing its own schema check)."""
    from calico2cilium.calico.names import dns_label_problems

    if value is None:
        return None
    problems = dns_label_problems(value)
    if problems:
        raise click.BadParameter(f"{value!r} is not a namespace name: {'; '.join(problems)}")
    return value
