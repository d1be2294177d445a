"""Writing output: a YAML or JSON stream, or one file per resource, written atomically.

The rules for ``--output-dir``: file names come from the resource's kind, namespace and name, which
must be Kubernetes names (so no ``/``, ``..`` or other path tricks can appear); each file is
written to a temporary file in the same directory and renamed over the target, so a reader never
sees half a file; and a target that is one of the run's input files is refused, so the user's
input is never overwritten.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import yaml

from calico2cilium.io.goyaml import kubectl_reads_as_other

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


class _FlowMap(dict[str, Any]):
    """A short mapping of scalars, written on one line: ``{port: '443', protocol: TCP}``."""


class _FlowList(list[Any]):
    """A list of scalars, written in flow style: ``[web, api]`` (wrapped where it is long)."""


class _FlowRows(list[Any]):
    """A short list of one-line mappings, written on one line:
    ``[{port: '53', protocol: TCP}, {port: '53', protocol: UDP}]``."""


class _Token(str):
    """A dense-rows placeholder (``_DenseRows``): a plain scalar that is never part of a flow
    leaf, so that it stands on the line of its key."""


def _represent_flow_map(dumper: Any, data: _FlowMap) -> Any:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


def _represent_flow_list(dumper: Any, data: _FlowList | _FlowRows) -> Any:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _represent_str(dumper: Any, data: str) -> Any:
    """A string, quoted where kubectl would read it plain as something else (``io.goyaml``:
    ``matchLabels: {1e3: web}`` reached the API server as ``{"1000": "web"}``, another label)."""
    node = dumper.represent_str(data)
    if kubectl_reads_as_other(data):
        node.style = "'"
    return node


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_FlowMap, _represent_flow_map)
_Dumper.add_representer(_FlowList, _represent_flow_list)
_Dumper.add_representer(_FlowRows, _represent_flow_list)
_Dumper.add_representer(_Token, lambda dumper, data: dumper.represent_str(str(data)))

FLOW_WIDTH = 72
"""The longest leaf mapping, or list of them (about, in characters), written on one line; a list
of scalars is always written in flow style, wrapped past the line width."""
LINE_WIDTH = FLOW_WIDTH + 28
"""The line width: libyaml wraps flow lists of scalars past it, and dense rows are packed to it."""
DENSE_MIN = 9
"""The fewest one-line mappings in a list too long for one line that are written as dense rows
(several to a line) rather than one to a line: a short list reads best as a column, a long one
(ICMP types enumerated one by one, dozens of ports) is a table to scan."""


def _scalar(value: Any) -> bool:
    return value is None or (isinstance(value, (str, int, float, bool)) and not isinstance(value, _Token))


def _width(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_width(k) + _width(v) + 4 for k, v in value.items())
    if isinstance(value, list):
        return sum(_width(v) + 2 for v in value) + 2
    return len(str(value)) + 2


def _text_width(value: Any) -> int:
    """The width of ``value`` written in flow style (a scalar's quotes counted where a number in
    a string needs them)."""
    if isinstance(value, dict):
        return 2 + sum(len(str(k)) + 2 + _text_width(v) for k, v in value.items()) + 2 * (len(value) - 1)
    if isinstance(value, list):
        return 2 + sum(_text_width(v) for v in value) + 2 * max(len(value) - 1, 0)
    text = str(value)
    return len(text) + 2 if isinstance(value, str) and not text.isalpha() else len(text)


class _DenseRows:
    """Long lists of one-line mappings, written as flow lists packed several items to a line and
    broken only between items (libyaml's own wrapping breaks inside an item:
    ``{family: IPv4,`` / ``type: 4}``). Each such list goes to libyaml as a placeholder scalar,
    a token holding a nonce no input can guess; ``_Substituting`` puts the packed list in its
    place as the text streams out, where the token's column is known. Each item's text is
    libyaml's own (a flow mapping on one line), so its scalars are quoted as libyaml quotes them.
    """

    def __init__(self) -> None:
        self.prefix = f"c2c-dense-{secrets.token_hex(8)}-"
        self.lists: dict[str, list[str]] = {}
        self._items: dict[str, str | None] = {}

    def token(self, items: list[Any]) -> _Token | None:
        """The placeholder for ``items``; ``None`` when an item has no one-line text (then the
        list is written as it would be without dense rows)."""
        texts = [self._text(item) for item in items]
        if any(t is None for t in texts):
            return None
        token = _Token(f"{self.prefix}{len(self.lists)}")
        self.lists[token] = [t for t in texts if t is not None]
        return token

    def _text(self, item: Any) -> str | None:
        key = repr(item)  # not json.dumps, which writes the keys 1 and "1" alike
        if key not in self._items:
            text = yaml.dump(
                item, Dumper=_Dumper, default_flow_style=True, allow_unicode=True, width=2**30
            ).rstrip("\n")
            one_line = "\n" not in text and text.startswith("{") and text.endswith("}")
            self._items[key] = text if one_line else None
        return self._items[key]

    def packed(self, prefix: str, token: str) -> str:
        """The list of ``token`` as a flow list after ``prefix`` (the line up to the token):
        items packed to the line width, continuation lines aligned after the ``[``."""
        items = self.lists.pop(token)
        indent = " " * (len(prefix) + 1)
        lines: list[str] = []
        line = prefix + "["
        first = True
        for i, item in enumerate(items):
            piece = item + ("]" if i == len(items) - 1 else ",")
            if not first and len(line) + 1 + len(piece) > LINE_WIDTH:
                lines.append(line)
                line, first = indent + piece, False
                continue
            line += piece if first else " " + piece
            first = False
        lines.append(line)
        return "\n".join(lines)


class _Substituting:
    """The text stream libyaml writes to: complete lines go on to ``stream``, each line ending
    with a dense-rows token replaced by its packed list (``_DenseRows``)."""

    def __init__(self, stream: TextIO, dense: _DenseRows) -> None:
        self.stream = stream
        self.dense = dense
        self.pending = ""
        self.line = re.compile(rf"^(?P<prefix>.*?)(?P<token>{re.escape(dense.prefix)}\d+)$", re.MULTILINE)

    def write(self, text: str) -> None:
        text = self.pending + text
        end = text.rfind("\n") + 1
        self.pending = text[end:]
        done = text[:end]
        if self.dense.prefix in done:
            done = self.line.sub(lambda m: self.dense.packed(m["prefix"], m["token"]), done)
        self.stream.write(done)

    def flush(self) -> None:
        self.stream.write(self.pending)
        self.pending = ""


def _flowed(value: Any, dense: _DenseRows | None = None, depth: int = 0) -> Any:
    """The document with its leaves marked for flow writing: lists of scalars (wrapped past the
    line width, as words are), mappings of scalars (and such lists) of at most four keys, and
    lists of such mappings, each of these within ``FLOW_WIDTH`` (``ports: [{port: '80', protocol:
    TCP}]``, not three lines); longer lists of such mappings, of at least ``DENSE_MIN``, as dense
    rows where ``dense`` is given. The document's own fields (``spec``, ``metadata``) and
    everything in ``metadata`` stay in block style, as kubectl writes them. The same data either
    way (only the layout differs)."""
    if isinstance(value, dict):
        out = {k: v if k == "metadata" else _flowed(v, dense, depth + 1) for k, v in value.items()}
        leaf = all(_scalar(v) or isinstance(v, _FlowList) for v in out.values())
        if depth > 1 and leaf and len(out) <= 4 and _width(out) <= FLOW_WIDTH:
            return _FlowMap(out)
        return out
    if isinstance(value, list):
        items = [_flowed(v, dense, depth + 1) for v in value]
        if items and all(_scalar(v) for v in items):
            return _FlowList(items)  # wrapped past the line width, as words are
        if items and all(isinstance(v, _FlowMap) for v in items):
            if _text_width(items) <= FLOW_WIDTH:
                return _FlowRows(items)
            if dense is not None and len(items) >= DENSE_MIN:
                return dense.token(items) or items
        return items
    return value


class UnsafeOutput(Exception):
    """An output file that must not be written (unsafe name, or it is an input), or that could not
    be written (the message says which files were written before)."""


def dump_yaml(documents: Iterable[dict[str, Any]]) -> str:
    """A multi-document YAML stream (``---`` between documents), keys in the order given."""
    text = io.StringIO()
    write_yaml(documents, text)
    return text.getvalue()


def write_yaml(documents: Iterable[dict[str, Any]], stream: TextIO) -> None:
    """``dump_yaml``'s text written to ``stream`` as it is made (libyaml hands it over a buffer at
    a time), so that a large output is never held as one string besides its documents."""
    dense = _DenseRows()
    out = _Substituting(stream, dense)
    yaml.dump_all(
        (_flowed(d, dense) for d in documents),
        out,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=LINE_WIDTH,
    )
    out.flush()


def dump_json(documents: Sequence[dict[str, Any]]) -> str:
    """A ``kind: List`` (what ``kubectl get -o json`` prints for several objects)."""
    text = io.StringIO()
    write_json(documents, text)
    return text.getvalue()


def write_json(documents: Sequence[dict[str, Any]], stream: TextIO) -> None:
    """``dump_json``'s text written to ``stream`` a piece at a time (as ``write_yaml``)."""
    json.dump({"apiVersion": "v1", "kind": "List", "items": list(documents)}, stream, indent=2)
    stream.write("\n")


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
    # A short fixed prefix: '.<name>.' would make a name the file system takes too long here.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".calico2cilium.", suffix=".tmp")
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
    before writing anything if a name is unsafe or too long for the file system, two documents
    share a file, a target is one of ``inputs`` or is not a file; and if the system refuses a
    write (permissions, a full disk), with the message saying how many files were written before.
    SIGTERM while writing removes the temporary file being written before the process ends."""
    root = Path(directory)
    protected = {Path(p).resolve() for p in inputs if p != "-"}
    planned: dict[Path, dict[str, Any]] = {}
    owners: dict[Path, str] = {}
    limit = _name_max(root)
    for doc in documents:
        target = root / file_name(doc, fmt)
        what = _describe(doc)
        if target in planned:
            raise UnsafeOutput(
                f"{owners[target]} and {what} would both be written to {target}; nothing was written"
            )
        if len(target.name.encode()) > limit:
            raise UnsafeOutput(
                f"the file name for {what} ({target.name}) is longer than the file system allows"
                f" ({limit} bytes); nothing was written"
            )
        owners[target] = what
        if target.resolve() in protected:
            raise UnsafeOutput(f"refusing to overwrite the input file {target}; nothing was written")
        if target.exists() and not target.is_file():
            raise UnsafeOutput(f"{target} exists and is not a regular file; nothing was written")
        if target.is_file() and not _written_by_us(target):
            # A file of that name that this tool did not write (no managed-by label, no source
            # annotation): the user's own, which a rerun must not replace.
            raise UnsafeOutput(
                f"refusing to overwrite {target}, which calico2cilium did not write (it carries no"
                f" {_MANAGED_BY_TEXT} label); move it away or choose another directory; nothing was written"
            )
        planned[target] = doc
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnsafeOutput(
            f"cannot create the directory {root}: {exc.strerror or exc}; nothing was written"
        ) from None
    written: list[Path] = []
    with _terminate_cleanly() as terminated:
        for target, doc in planned.items():
            if terminated:
                raise Terminated(128 + signal.SIGTERM)
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


def _describe(doc: dict[str, Any]) -> str:
    meta = doc.get("metadata") or {}
    where = f"{meta.get('namespace')}/" if meta.get("namespace") else ""
    return f"{doc.get('kind')} {where}{meta.get('name')}"


def _name_max(root: Path) -> int:
    """The longest file name (in bytes) the file system of ``root`` (or of its nearest existing
    parent, before it is created) takes; 255 where the system does not say."""
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return int(os.pathconf(probe if probe.exists() else ".", "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


class Terminated(SystemExit):
    """SIGTERM arrived while files were being written: raised between two files (never inside
    ``write_atomic``) and ends the process with 143, as SIGTERM would."""


@contextmanager
def _terminate_cleanly() -> Iterator[list[int]]:
    """While writing, SIGTERM only records itself (in the list yielded): the writer stops before
    its next file, so no temporary file is ever left behind (raising from the handler could land
    between ``mkstemp`` creating a file and the cleanup that knows its name). The process then
    ends with 143, as SIGTERM would. Only in the main thread, where signal handlers can be set;
    elsewhere nothing changes."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def stop(signum: int, frame: object) -> None:
        received.append(signum)

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, before)
    if received:
        raise Terminated(128 + received[0])


def stale_outputs(directory: str, written: Iterable[Path]) -> list[Path]:
    """The files in ``directory`` that an earlier ``convert`` wrote and this run did not: the
    output of a policy since deleted or renamed, which ``kubectl apply -f <directory>`` would still
    apply. Every file the tool writes carries the ``app.kubernetes.io/managed-by: calico2cilium``
    label; files of versions before it are known by the ``calico2cilium.io/source`` annotation or
    by the name of the converter's own policy."""
    fresh = {p.resolve() for p in written}
    out: list[Path] = []
    try:
        entries = sorted(Path(directory).iterdir())
    except OSError:
        return out
    for path in entries:
        if path.suffix not in (".yaml", ".json") or path.resolve() in fresh or not path.is_file():
            continue
        if _written_by_us(path):
            out.append(path)
    return out


_MANAGED_BY_TEXT = "app.kubernetes.io/managed-by: calico2cilium"

_LEGACY_NAMES = ("ccnp-calico2cilium-profile-allow.yaml", "ccnp-calico2cilium-profile-allow.json")


def _written_by_us(path: Path) -> bool:
    """Whether ``path`` is a file this tool wrote: its head holds the managed-by label (in the YAML
    or the JSON form this module writes; metadata comes before the spec), or the source annotation
    of the versions before the label, or it has the name of the converter's own policy. Only the
    head is read, so a directory of thousands of outputs is checked quickly."""
    from calico2cilium.cilium.gitops import MANAGED_BY, MANAGED_BY_LABEL
    from calico2cilium.cilium.naming import SOURCE_ANNOTATION

    if path.name in _LEGACY_NAMES:
        return True
    try:
        with path.open(encoding="utf-8", errors="replace") as stream:
            head = stream.read(4096)
    except OSError:
        return False
    markers = (
        f"{MANAGED_BY_LABEL}: {MANAGED_BY}",
        f'"{MANAGED_BY_LABEL}": "{MANAGED_BY}"',
        SOURCE_ANNOTATION,
    )
    return any(marker in head for marker in markers)
