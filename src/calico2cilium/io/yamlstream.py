"""Text to raw documents: multi-document YAML, JSON, ``kind: List`` and top-level lists.

Speed: libyaml (PyYAML's ``CSafeLoader``) parses; ``construct`` builds the same data as
``yaml.load_all(text, Loader=yaml.CSafeLoader)`` without PyYAML's slow generic constructor;
positions are recovered lazily (see ``locate``). Garbage collection is paused while a stream is
built (the collector would otherwise rescan the growing data again and again).

Safety: duplicate keys (which would silently drop the earlier value, e.g. a second ``ingress:``),
alias bombs and absurd nesting are refused with a positioned diagnostic instead of being expanded.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from calico2cilium.diagnostics import Diagnostic, Severity, Source
from calico2cilium.diagnostics.bounded import Findings, Sink
from calico2cilium.io.construct import Built, Loader, gc_paused
from calico2cilium.io.documents import RawDocument
from calico2cilium.io.locate import Chunk, JsonLocator, Locator, Path, Starts

MAX_DEPTH = 100
MAX_NODES_PER_DOCUMENT = 1_000_000
_DOCUMENT_START = re.compile(r"^---(?=[ \t]|$)", re.MULTILINE)


@dataclass
class _Parsed:
    """What parsing one chunk gave: its documents, then maybe an error."""

    documents: list[Built] = field(default_factory=list)
    error: yaml.MarkedYAMLError | None = None


def _parse(text: str) -> _Parsed:
    parsed = _Parsed()
    loader = Loader(text)
    loader.max_depth = MAX_DEPTH
    try:
        with gc_paused():
            while (built := loader.next_document()) is not None:
                parsed.documents.append(built)
    except yaml.MarkedYAMLError as exc:
        parsed.error = exc
    except yaml.reader.ReaderError as exc:
        parsed.error = _reader_error(text, exc)
    finally:
        loader.dispose()
    return parsed


def _reader_error(text: str, exc: yaml.reader.ReaderError) -> yaml.MarkedYAMLError:
    """libyaml's refusal of a character YAML does not allow (a control character other than tab,
    LF and CR; DEL; C1 controls other than NEL; U+FFFE, U+FFFF), which comes without a mark and
    with a UTF-8 byte offset, as an error marked at that character."""
    offset = len(text.encode("utf-8")[: exc.position].decode("utf-8", errors="ignore"))
    line_start = text.rfind("\n", 0, offset) + 1
    mark = yaml.Mark("", offset, text.count("\n", 0, offset), offset - line_start, None, 0)
    character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
    problem = (
        f"character U+{character:04X} is not allowed in YAML ({exc.reason});"
        " write it as an escape in a double-quoted string"
    )
    return yaml.MarkedYAMLError(problem=problem, problem_mark=mark)


def read_documents(text: str, name: str) -> tuple[list[RawDocument], list[Diagnostic]]:
    """Parse ``text`` (the contents of file ``name``) into resources and diagnostics."""
    diagnostics: list[Diagnostic] = []
    return list(read_into(text, name, diagnostics)), diagnostics


def read_into(text: str, name: str, diagnostics: Sink) -> Iterator[RawDocument]:
    """``read_documents``, the resources given one at a time (a ``kind: List``'s items are made
    as they are asked for), the diagnostics put into ``diagnostics`` (a bounded ``Findings``)."""
    if text.lstrip()[:1] in ("{", "["):
        resources = _read_json(text, name, diagnostics)
        if resources is not None:
            return resources
    whole = _parse(text)
    if whole.error is None:
        chunks = [Chunk(0, text)]
        parts = [whole]
    else:
        # Recover: parse each '---'-separated piece alone, so one bad document spares the others.
        chunks = _split(text)
        parts = [_parse(chunk.text) for chunk in chunks]
    return _collect(name, chunks, parts, diagnostics)


def _split(text: str) -> list[Chunk]:
    starts = [_with_directives(text, m.start()) for m in _DOCUMENT_START.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = [*dict.fromkeys(starts), len(text)]
    return [Chunk(text.count("\n", 0, a), text[a:b]) for a, b in itertools.pairwise(bounds)]


def _with_directives(text: str, start: int) -> int:
    """Where the document whose ``---`` is at ``start`` begins: before the directives (``%YAML``,
    ``%TAG``) just above its marker, which belong to it (a chunk holding only them is no document:
    libyaml reports "did not find expected <document start>"). Blank and comment lines between
    them go with them."""
    begin = start
    while begin > 0:
        line_start = text.rfind("\n", 0, begin - 1) + 1
        line = text[line_start : begin - 1]
        if line.startswith("%"):  # a directive starts its line; an indented '%' is content
            start = line_start
        elif line.strip() and not line.lstrip().startswith("#"):
            break
        begin = line_start
    return start


def _collect(
    name: str, chunks: list[Chunk], parts: list[_Parsed], diagnostics: Sink
) -> Iterator[RawDocument]:
    locator = Locator(chunks, [[built.start for built in part.documents] for part in parts])
    before = len(diagnostics)
    index = 0
    for chunk_index, (chunk, part) in enumerate(zip(chunks, parts, strict=True)):
        for doc_index, built in enumerate(part.documents):
            if built.data is None:
                continue  # an empty document, as kubectl skips
            document = RawDocument(
                built.data, name, index, locator, (chunk_index, doc_index), (), tuple(built.kubectl_other)
            )
            problems = _problems(name, chunk, built, document)
            diagnostics.extend(problems)
            _note_kubectl(built, document, diagnostics)
            yield from _resources(document, problems, diagnostics)
            index += 1
        if part.error is not None:
            diagnostics.append(_syntax_error(name, chunk, part.error))
    if index == 0 and len(diagnostics) == before:
        diagnostics.append(_no_documents(name))


def _resources(document: RawDocument, problems: list[Diagnostic], diagnostics: Sink) -> Iterator[RawDocument]:
    """The document's resources: none when it has problems, but for duplicate keys alone (C2C108),
    which leave a tree whose last value won, as in go-yaml's decoding into a map: its resources
    are read, not converted (``RawDocument.unconverted``), so that --allow-partial quarantines the
    policies among them. They were dropped unread (C2C237), and their pods left default deny
    (review15)."""
    if not problems:
        return _expand(document, diagnostics)
    if all(p.code == "C2C108" for p in problems):
        return _unconverted(_expand(document, diagnostics))
    return iter(())


def _unconverted(resources: Iterator[RawDocument]) -> Iterator[RawDocument]:
    for resource in resources:
        resource.unconverted = True
        yield resource


def _problems(name: str, chunk: Chunk, built: Built, document: RawDocument) -> list[Diagnostic]:
    """What keeps a non-empty document from being read into resources: duplicate keys, and a
    structure too large or too deep."""
    duplicates = sorted(built.duplicates, key=lambda found: found[0].index)
    problems = [_duplicate(name, chunk, mark, key) for mark, key in duplicates]
    if not built.tree or built.containers > MAX_NODES_PER_DOCUMENT:
        # Shared containers (aliases) may form cycles or expand beyond reason: measure.
        # A tree built by the fast path is known to be no deeper than MAX_DEPTH.
        check = _check_tree if built.tree else _check_structure
        problems.extend(check(built.data, document))
    return problems


def _note_kubectl(built: Built, document: RawDocument, diagnostics: Sink) -> None:
    if built.kubectl_other:
        diagnostics.append(_kubectl_reads_otherwise(document, built.kubectl_other))


def _kubectl_reads_otherwise(document: RawDocument, values: list[str]) -> Diagnostic:
    shown = ", ".join(dict.fromkeys(values))
    return Diagnostic(
        "C2C348",
        Severity.WARNING,
        f"plain scalar(s) {shown}: strings here, but kubectl reads them as a boolean or a number"
        " (a mapping key so read becomes another string: 1e3 -> '1000', y -> 'true'), so the"
        " cluster holds other data than what was read",
        document.source(),
        hint="quote them ('1e3', 'y')",
    )


def _no_documents(name: str) -> Diagnostic:
    return Diagnostic("C2C105", Severity.ERROR, "no documents in input", Source(name))


class Broken(Exception):
    """``stream_documents`` met an error after it had given resources: read the text again with
    ``read_into``, which recovers the documents around the error."""


def stream_documents(text: str, name: str, diagnostics: Findings) -> Iterator[RawDocument]:
    """``read_into``, reading the stream a document at a time: only the document being read and
    the one after it are held, so a caller that drops each resource once done holds a small part
    of a large stream. A document's resources are made once the next one has started, when its
    end in the text is known (its positions are then found from its own text).

    A stream with an error after the first document raises ``Broken`` (the caller starts again
    with ``read_into``); one with an error in its first document, or JSON, is read whole.
    """
    if text.lstrip()[:1] in ("{", "["):
        yield from read_into(text, name, diagnostics)
        return
    chunk = Chunk(0, text)
    starts = Starts()
    locator = Locator([chunk], [starts])  # ``starts`` grows as documents are read
    loader = Loader(text)
    loader.max_depth = MAX_DEPTH
    held: Iterator[RawDocument] | None = None  # the resources of the document read last
    first = Findings()  # the first document's problems, forgotten if it is read again whole
    given = False
    index = 0
    try:
        while (built := loader.next_document()) is not None:
            slot = (0, len(starts))
            starts.append(built.start)
            if held is not None:
                if not given:
                    given = True
                    diagnostics.absorb(first)
                yield from held
                held = None
            if built.data is not None:
                document = RawDocument(built.data, name, index, locator, slot, (), tuple(built.kubectl_other))
                problems = _problems(name, chunk, built, document)
                (diagnostics if given else first).extend(problems)
                _note_kubectl(built, document, diagnostics if given else first)
                held = _resources(document, problems, diagnostics)
                index += 1
    except (yaml.MarkedYAMLError, yaml.reader.ReaderError):
        if given:
            raise Broken() from None
        held = None  # nothing was given: read again from the start
        yield from read_into(text, name, diagnostics)
        return
    finally:
        loader.dispose()
    if not given:
        diagnostics.absorb(first)
    if held is not None:
        yield from held
    if index == 0 and not len(first):
        diagnostics.append(_no_documents(name))


def _read_json(text: str, name: str, diagnostics: Sink) -> Iterator[RawDocument] | None:
    """Strict JSON (as ``kubectl -o json`` prints it). ``None``: not JSON, read it as YAML."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(items)
        if len(result) != len(items):
            seen: set[str] = set()
            duplicates.extend(k for k, _ in items if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        if _parse(text).error is None:
            return None  # YAML flow style, not JSON
        message = f"invalid JSON: {exc.msg}"
        diagnostics.append(Diagnostic("C2C104", Severity.ERROR, message, Source(name, exc.lineno, exc.colno)))
        return iter(())
    except RecursionError:
        diagnostics.append(_too_deep(Source(name)))
        return iter(())
    except ValueError:  # an integer beyond Python's int_max_str_digits (4,300 digits)
        limit = sys.get_int_max_str_digits()
        long_number = re.search(r"\d{" + str(limit + 1) + ",}", text)
        offset = long_number.start() if long_number else 0
        line, column = text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1
        message = f"invalid JSON: a number of more than {limit} digits"
        diagnostics.append(Diagnostic("C2C104", Severity.ERROR, message, Source(name, line, column)))
        return iter(())
    locator = JsonLocator(text)
    document = RawDocument(data, name, 0, locator, (0, 0))
    if duplicates:
        diagnostics.extend(_json_duplicates(text, name, duplicates, document.source()))
        return _unconverted(_expand(document, diagnostics))
    # json.loads shares no container. The root's position is the first character that is not
    # blank, known without the locator.
    start = len(text) - len(text.lstrip())
    root = Source(name, text.count("\n", 0, start) + 1, start - (text.rfind("\n", 0, start) + 1) + 1)
    problems = _check_tree(data, document, root)
    if problems:
        diagnostics.extend(problems)
        return iter(())
    return _expand(document, diagnostics)


def _json_duplicates(text: str, name: str, keys: list[str], start: Source) -> list[Diagnostic]:
    """C2C108 at each duplicate key of a JSON text. ``json.loads`` tells no position, so the text
    is composed as YAML (which JSON is) to find them: only when it has duplicates, so the cost is
    paid for a document refused anyway. Where YAML reads it otherwise, each is at ``start``."""
    parsed = _parse(text)
    found = sorted(
        (found for built in parsed.documents for found in built.duplicates), key=lambda f: f[0].index
    )
    if parsed.error is None and len(found) == len(keys):
        located = [(Source(name, mark.line + 1, mark.column + 1), str(key)) for mark, key in found]
    else:
        located = [(start, key) for key in keys]
    return [
        Diagnostic("C2C108", Severity.ERROR, f"duplicate key {key!r} in JSON object", source)
        for source, key in located
    ]


def _check_structure(data: Any, document: RawDocument) -> list[Diagnostic]:
    """Refuse documents that are too deep, cyclic, or that expand (through YAML aliases) beyond reason.

    Sizes and depths are computed once per distinct object (aliases share objects), so an alias
    bomb, whose expansion is exponential, is measured without being expanded.
    """
    measured: dict[int, tuple[int, int]] = {}  # id -> (expanded size, depth)
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        value, children_done = stack.pop()
        key = id(value)
        children = value.values() if isinstance(value, dict) else value
        if children_done:
            open_.discard(key)
            size, depth = 1, 0
            for child in children:
                if isinstance(child, dict | list):
                    child_size, child_depth = measured[id(child)]
                    size, depth = size + child_size, max(depth, child_depth)
            measured[key] = (size, depth + 1)
            continue
        if key in measured:
            continue
        if key in open_:
            return [make_too_deep(document.source(), "a YAML alias refers to its own ancestor")]
        open_.add(key)
        stack.append((value, True))
        stack.extend((child, False) for child in children if isinstance(child, dict | list))
    size, depth = measured[id(data)] if isinstance(data, dict | list) else (1, 0)
    if size > MAX_NODES_PER_DOCUMENT:
        message = f"document expands to more than {MAX_NODES_PER_DOCUMENT:,} values (YAML alias bomb?)"
        return [Diagnostic("C2C106", Severity.ERROR, message, document.source())]
    if depth > MAX_DEPTH:
        return [_too_deep(document.source(_deepest_path(data, measured, MAX_DEPTH + 1)))]
    return []


def _check_tree(data: Any, document: RawDocument, root: Source | None = None) -> list[Diagnostic]:
    """``_check_structure`` for a tree (no container shared: JSON, or YAML without aliases), in
    memory proportional to its depth: the walk stops at the first container past either limit.
    Measuring every container by its id, as aliases need, took ~470 bytes per container (a JSON
    array of 1,000,000 empty objects peaked at 540 MB before it was refused). ``root``: the
    document's position, where the caller knows it without the locator."""
    if not isinstance(data, dict | list):
        return []
    size = 1
    path: list[str | int] = []
    stack = [_children(data)]
    while stack:
        for step, child in stack[-1]:
            if isinstance(child, dict | list):
                size += 1
                if size > MAX_NODES_PER_DOCUMENT:
                    message = (
                        f"document expands to more than {MAX_NODES_PER_DOCUMENT:,} values (YAML alias bomb?)"
                    )
                    return [Diagnostic("C2C106", Severity.ERROR, message, root or document.source())]
                path.append(step)
                if len(path) >= MAX_DEPTH:  # the container at ``path`` is MAX_DEPTH + 1 deep
                    return [_too_deep(document.source(tuple(path)))]
                stack.append(_children(child))
                break
        else:
            stack.pop()
            if path:
                path.pop()
    return []


def _children(value: dict[str, Any] | list[Any]) -> Iterator[tuple[str | int, Any]]:
    return iter(value.items()) if isinstance(value, dict) else enumerate(value)


def _deepest_path(data: Any, measured: dict[int, tuple[int, int]], limit: int) -> Path:
    """The path down the deepest branch, ``limit`` levels long (where the nesting limit is crossed)."""
    path: list[str | int] = []
    value = data
    while len(path) < limit - 1:
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        deeper = [(measured[id(v)][1], k, v) for k, v in items if isinstance(v, dict | list)]
        if not deeper:
            break
        _, step, value = max(deeper, key=lambda entry: entry[0])
        path.append(step)
    return tuple(path)


def _expand(document: RawDocument, diagnostics: Sink) -> Iterator[RawDocument]:
    """Flatten ``kind: List``/``*List`` (kubectl output) and top-level YAML lists (calicoctl input).

    A list inside a list is flattened too, as ``kubectl apply -f`` does (cli-runtime
    pkg/resource/visitor.go ``FlattenListVisitor``: lists are expanded until no item is a list);
    its resources were skipped as "v1 List" (review7), so a policy kubectl applies went unconverted."""
    data = document.data
    if isinstance(data, list):
        yield from _items(document, data, (), None, diagnostics)
        return
    if not isinstance(data, dict):
        diagnostics.append(_not_a_resource(document, (), data))
        return
    if _is_list(data):
        yield from _listed(document, data, (), diagnostics)
    elif "kind" not in data and "apiVersion" in data and isinstance(data.get("items"), list):
        # kubectl writes a List's items before its 'kind: List': an export cut short keeps them
        # without it. Their resources were not read at all, so --allow-partial had no quarantine
        # for the policies among them, whose pods then left default deny (review15).
        diagnostics.append(_cut_list(document))
        yield from _unconverted(_items(document, data["items"], ("items",), None, diagnostics))
    else:
        yield document


def _cut_list(document: RawDocument) -> Diagnostic:
    return Diagnostic(
        "C2C205",
        Severity.ERROR,
        "a document with 'items' and no 'kind': a kubectl List export cut short ('kind: List' comes"
        " after the items)? Its items are not converted, as the last may have lost its end (each"
        " policy among them is quarantined with --allow-partial)",
        document.source(),
        hint="export again, or add 'kind: List' if the list is whole",
    )


def _is_list(data: dict[str, Any]) -> bool:
    kind = data.get("kind")
    return isinstance(kind, str) and kind.endswith("List") and "items" in data


def _listed(
    document: RawDocument, data: dict[str, Any], base: Path, diagnostics: Sink
) -> Iterator[RawDocument]:
    """The resources of the list ``data`` (at ``base`` in ``document``)."""
    kind = str(data["kind"])
    items = data.get("items")
    if not isinstance(items, list):
        diagnostics.append(_not_a_resource(document, (*base, "items"), items, "'items' must be a list"))
        return
    # A typed list from the API (e.g. NetworkPolicyList) may omit apiVersion/kind on its items.
    inherited = (str(data.get("apiVersion", "")), kind[: -len("List")]) if kind != "List" else None
    yield from _items(document, items, (*base, "items"), inherited, diagnostics)


MAX_NOT_RESOURCES = 1_000
"""Items of one list that are no resource reported one by one; the rest are counted in the last
report (and in ``Findings.left_out``, so the error count is every item's). An array of millions
of numbers made as many diagnostics (and positions)."""


def _items(
    document: RawDocument,
    items: list[Any],
    base: Path,
    inherited: tuple[str, str] | None,
    diagnostics: Sink,
) -> Iterator[RawDocument]:
    reported = more = 0
    last: Diagnostic | None = None  # given at the end, with the count of the items not reported
    for i, item in enumerate(items):
        if isinstance(item, dict):
            yield from _item(document, item, (*base, i), inherited, diagnostics)
        elif reported < MAX_NOT_RESOURCES:
            reported += 1
            child = RawDocument(
                item, document.file, document.index, document.locator, document.slot, (*base, i)
            )
            if last is not None:
                diagnostics.append(last)
            last = _not_a_resource(child, (), item)
        else:
            more += 1
    if last is not None:
        if more:
            message = f"{last.message}; and {more:,} more items of this list that are not resources"
            last = replace(last, message=message)
            if isinstance(diagnostics, Findings):  # the counts and the summary say every item
                diagnostics.left_out[(last.code, last.severity)] += more
        diagnostics.append(last)


def _item(
    document: RawDocument,
    item: Any,
    base: Path,
    inherited: tuple[str, str] | None,
    diagnostics: Sink,
) -> Iterator[RawDocument]:
    child = RawDocument(
        item, document.file, document.index, document.locator, document.slot, base, document.kubectl_other
    )
    if not isinstance(item, dict):
        diagnostics.append(_not_a_resource(child, (), item))
        return
    if inherited is not None and ("apiVersion" not in item or "kind" not in item):
        child.data = {"apiVersion": inherited[0], "kind": inherited[1], **item}
    if _is_list(item):
        yield from _listed(document, item, base, diagnostics)
        return
    yield child


def _not_a_resource(document: RawDocument, path: Path, value: Any, message: str = "") -> Diagnostic:
    text = message or f"expected a Kubernetes resource (a mapping), found {type(value).__name__}"
    return Diagnostic("C2C201", Severity.ERROR, text, document.source(path))


def _too_deep(source: Source) -> Diagnostic:
    return make_too_deep(source, f"document is nested deeper than {MAX_DEPTH} levels")


def make_too_deep(source: Source, message: str) -> Diagnostic:
    return Diagnostic("C2C107", Severity.ERROR, message, source)


def _duplicate(name: str, chunk: Chunk, mark: yaml.Mark, key: str) -> Diagnostic:
    source = Source(name, chunk.line_offset + mark.line + 1, mark.column + 1)
    message = f"duplicate key {key!r}: YAML keeps only the last value, silently dropping the earlier one"
    return Diagnostic("C2C108", Severity.ERROR, message, source, hint="merge the two entries into one")


def _syntax_error(name: str, chunk: Chunk, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    source = Source(name, chunk.line_offset + line, column)
    problem = exc.problem or "invalid YAML"
    if "nesting depth" in problem:
        return _too_deep(source)  # libyaml's own limit (1,000 levels) came first
    if exc.context:
        problem = f"{problem} ({exc.context})"
    lines = chunk.text.splitlines()
    at_tab = (
        mark is not None
        and mark.line < len(lines)
        and lines[mark.line][mark.column : mark.column + 1] == "\t"
    )
    hint = "YAML does not allow tabs for indentation; use spaces" if at_tab else None
    tag = _LOCAL_TAG_RE.search(problem)
    if tag is not None:
        rest = ""
        if mark is not None and mark.line < len(lines):
            after = lines[mark.line][mark.column :].split(tag.group(1), 1)
            rest = after[1].split(" #", 1)[0].strip() if len(after) == 2 else ""
        problem = f"{problem}. {_local_tag_note(tag.group(1), rest)}"
        hint = f"quote the value: '{tag.group(1)}'"
    return Diagnostic("C2C104", Severity.ERROR, f"invalid YAML: {problem}", source, hint)


_LOCAL_TAG_RE = re.compile(r"could not determine a constructor for the tag '(![^!'][^']*)'")


def _local_tag_note(tag: str, rest: str) -> str:
    """Why an unquoted ``selector: !has(x)`` is refused rather than read as the user meant.

    A plain scalar starting with ``!`` is a YAML tag: ``!has(x)`` tags an empty value. kubectl and
    Helm read manifests with go-yaml (through sigs.k8s.io/yaml), whose ``resolve`` returns an
    unknown tag's text unchanged (``if !resolvableTag(tag) { return tag, in }``), so the cluster
    got ``""``, and an empty Calico selector is ``all()``. Neither reading is safe to convert.
    """
    read = f"{rest!r}" if rest else '"" (and an empty selector is all(): every endpoint)'
    return (
        f"{tag} is a YAML tag, not text: an unquoted value starting with '!' tags what follows it. "
        f"kubectl and Helm (go-yaml) ignore an unknown tag, so they read this value as {read}"
    )
