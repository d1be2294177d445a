"""Writing output: a YAML or JSON stream, or one file per resource, written atomically.

The rules for ``--output-dir``: file names come from the resource's kind, namespace and name, which
must be Kubernetes names (so no ``/``, ``..`` or other path tricks can appear); each file is
written to a temporary file in the same directory and renamed over the target, so a reader never
sees half a file; and a target that is one of the run's input files is refused, so the user's
input is never overwritten.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

_SAFE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_SHORT_KIND = {
    "CiliumNetworkPolicy": "cnp",
    "CiliumClusterwideNetworkPolicy": "ccnp",
    "CiliumCIDRGroup": "ccg",
}

_Base: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when PyYAML has it


class _Dumper(_Base):  # type: ignore[misc]
    """Never write anchors and aliases: output documents may share sub-objects, and a reader
    (kubectl, a human) should see each value spelled out."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class UnsafeOutput(Exception):
    """An output file that must not be written (unsafe name, or it is an input), or that could not
    be written (the message says which files were written before)."""


def dump_yaml(documents: Iterable[dict[str, Any]]) -> str:
    """A multi-document YAML stream (``---`` between documents), keys in the order given."""
    return yaml.dump_all(
        list(documents), Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )


def dump_json(documents: Sequence[dict[str, Any]]) -> str:
    """A ``kind: List`` (what ``kubectl get -o json`` prints for several objects)."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(documents)}, indent=2) + "\n"


def file_name(document: dict[str, Any], fmt: str) -> str:
    """``<kind>-<namespace>-<name>.<ext>`` (``<kind>-<name>`` for cluster-scoped kinds)."""
    meta = document.get("metadata", {})
    parts = [_SHORT_KIND.get(str(document.get("kind")), str(document.get("kind", "")).lower())]
    for value in (meta.get("namespace"), meta.get("name")):
        if value is None:
            continue
        if not isinstance(value, str) or not _SAFE_NAME.match(value) or len(value) > 253:
            raise UnsafeOutput(f"refusing to derive a file name from {value!r}: not a Kubernetes name")
        parts.append(value)
    return "-".join(parts) + (".json" if fmt == "json" else ".yaml")


def _new_file_mode() -> int:
    """The mode ``open()`` would give a new file (0o666 less the umask); mkstemp's is 0o600."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over ``path``, so a reader
    sees the old file or the new one, never half of one. The file gets the mode of the file it
    replaces, else that of a newly created file (mkstemp's 0o600 would hide the output from the
    other users and the group that a plain ``> file`` redirection lets read it)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else _new_file_mode()
    except OSError:
        mode = _new_file_mode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_directory(
    documents: Sequence[dict[str, Any]], directory: str, fmt: str, inputs: Iterable[str] = ()
) -> list[Path]:
    """Write one file per document into ``directory`` (created if missing). Raises ``UnsafeOutput``
    before writing anything if a name is unsafe, two documents share a file, a target is one of
    ``inputs`` or is not a file; and if the system refuses a write (permissions, a full disk),
    with the message saying how many files were written before."""
    root = Path(directory)
    protected = {Path(p).resolve() for p in inputs if p != "-"}
    planned: dict[Path, dict[str, Any]] = {}
    for doc in documents:
        target = root / file_name(doc, fmt)
        if target in planned:
            raise UnsafeOutput(f"two output resources would both be written to {target}; nothing was written")
        if target.resolve() in protected:
            raise UnsafeOutput(f"refusing to overwrite the input file {target}; nothing was written")
        if target.exists() and not target.is_file():
            raise UnsafeOutput(f"{target} exists and is not a regular file; nothing was written")
        planned[target] = doc
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnsafeOutput(
            f"cannot create the directory {root}: {exc.strerror or exc}; nothing was written"
        ) from None
    written: list[Path] = []
    for target, doc in planned.items():
        text = json.dumps(doc, indent=2) + "\n" if fmt == "json" else dump_yaml([doc])
        try:
            write_atomic(target, text)
        except OSError as exc:
            raise UnsafeOutput(
                f"cannot write {target}: {exc.strerror or exc}; {len(written)} of {len(planned)} files"
                " were written before it"
            ) from None
        written.append(target)
    return written


def stale_outputs(directory: str, written: Iterable[Path]) -> list[Path]:
    """The files in ``directory`` that an earlier ``convert`` wrote (a manifest holding the
    ``calico2cilium.io/source`` annotation) and this run did not: the output of a policy since
    deleted or renamed, which ``kubectl apply -f <directory>`` would still apply."""
    from calico2cilium.cilium.naming import SOURCE_ANNOTATION

    fresh = {p.resolve() for p in written}
    out: list[Path] = []
    try:
        entries = sorted(Path(directory).iterdir())
    except OSError:
        return out
    for path in entries:
        if path.suffix not in (".yaml", ".json") or path.resolve() in fresh or not path.is_file():
            continue
        try:
            with path.open(encoding="utf-8", errors="replace") as stream:
                head = stream.read(4096)
        except OSError:
            continue
        if SOURCE_ANNOTATION in head:
            out.append(path)
    return out
