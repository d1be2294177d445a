"""Turn command-line paths into input files, the way kubectl's ``-f``/``-R`` do.

A path named explicitly is read whatever its extension (a named pipe too, as ``<(kubectl get
...)`` gives); a directory contributes its ``.yaml``, ``.yml`` and ``.json`` files (recursively
with ``recursive=True``); ``-`` is standard input.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from calico2cilium.diagnostics import Diagnostic, Severity, Source
from calico2cilium.io import decode as limits

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class InputFile:
    """One input stream: a file on disk, or standard input (``path is None``)."""

    name: str
    path: Path | None
    walked: bool = False
    """Found in a directory walk, not named on the command line: a YAML file there need not be a
    manifest (``.pre-commit-config.yaml``), see ``C2C227``."""

    def read_bytes(self) -> bytes:
        """The stream's bytes, at most one past the size ``decode`` accepts (it refuses more,
        C2C106): 'yes | calico2cilium lint' read without end, until the memory ran out."""
        limit = limits.MAX_INPUT_BYTES + 1
        if self.path is None:
            if sys.stdin is None:  # 'convert <&-': there is no standard input to read
                raise OSError(errno.EBADF, "standard input is closed")
            return sys.stdin.buffer.read(limit)
        with self.path.open("rb") as stream:
            return stream.read(limit)


def discover(paths: Iterable[str], *, recursive: bool = False) -> tuple[list[InputFile], list[Diagnostic]]:
    """Expand ``paths`` into input files, in a stable order. No paths means standard input."""
    files: list[InputFile] = []
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()
    given = list(paths) or ["-"]
    stdin_used = False
    for raw in given:
        if raw == "-":
            if not stdin_used:
                files.append(InputFile(STDIN_NAME, None))
                stdin_used = True
            continue
        path = Path(raw)
        if path.is_dir():
            before = len(diagnostics)
            found = _walk(path, recursive, diagnostics)
            if not found and len(diagnostics) == before:
                diagnostics.append(
                    _problem("C2C109", raw, f"directory has no {'/'.join(MANIFEST_SUFFIXES)} files")
                )
            for child in found:
                _add(child, files, seen, walked=True)
        elif path.is_file() or _is_pipe(path):
            _add(path, files, seen)
        elif path.exists():
            diagnostics.append(_problem("C2C101", raw, "not a regular file or directory"))
        else:
            diagnostics.append(_problem("C2C101", raw, "no such file or directory"))
    return files, diagnostics


def _is_pipe(path: Path) -> bool:
    """A named pipe, as bash's process substitution gives ('convert <(kubectl get ... -o yaml)'):
    read once, like standard input (every input is read once)."""
    try:
        return stat.S_ISFIFO(path.stat().st_mode)
    except OSError:
        return False


def _walk(directory: Path, recursive: bool, diagnostics: list[Diagnostic]) -> list[Path]:
    """The manifest files in ``directory`` (and, with ``recursive``, its subdirectories; symbolic
    links to directories are not followed, as kubectl's -R does not). A directory that cannot be
    read, or a manifest name that is no regular file (a symbolic link to nothing), is an error
    (C2C101), never silently skipped: its policies would be missing from the run."""

    def unreadable(exc: OSError) -> None:
        name = exc.filename if exc.filename is not None else str(directory)
        diagnostics.append(_problem("C2C101", str(name), f"cannot read directory: {exc.strerror or exc}"))

    found: list[Path] = []
    for root, dirs, names in os.walk(directory, onerror=unreadable):
        dirs.sort()
        if not recursive:
            dirs.clear()
        for name in names:
            path = Path(root, name)
            if path.suffix.lower() not in MANIFEST_SUFFIXES:
                continue
            if path.is_file():
                found.append(path)
            else:  # skipped, its pods would leave default deny (review15)
                why = "a symbolic link to nothing" if path.is_symlink() and not path.exists() else None
                diagnostics.append(_problem("C2C101", str(path), why or "not a regular file"))
    return sorted(found)


def _add(path: Path, files: list[InputFile], seen: set[Path], walked: bool = False) -> None:
    key = path.resolve()
    if key not in seen:
        seen.add(key)
        files.append(InputFile(str(path), path, walked))


def _problem(code: str, name: str, message: str) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, f"{name}: {message}", Source(name))
