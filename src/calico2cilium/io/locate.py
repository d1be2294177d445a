"""Positions on demand.

Loading keeps no YAML nodes (keeping them makes Python's garbage collector rescan millions of objects).
A :class:`Locator` keeps the text instead, and where each document starts, and indexes a document's
nodes only when a diagnostic needs a position in it, once per document (a document alone when its
text can be cut out, else with all of its chunk; the last few indexes are kept). A path such as
``("spec", "ingress", 0, "action")`` is then walked through the nodes; the deepest node that exists
answers, so a missing field points at its parent.

An index (:class:`_Tree`) is a document's nodes in flat arrays, made from libyaml's events: some 30
bytes a node (a JSON text is scanned instead, :class:`JsonLocator`). A composed PyYAML node tree, with its marks,
took some 900 bytes a node: a ``kind: List`` of a million bad items, or a JSON array of a million
numbers, peaked at 600 to 900 MB for a few MB of text (issue 15, item 13).
"""

from __future__ import annotations

import bisect
import json
import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

PathItem = str | int
Path = tuple[PathItem, ...]


@dataclass(frozen=True)
class Chunk:
    """A piece of a file parsed as one YAML stream, starting at ``line_offset`` (0-based)."""

    line_offset: int
    text: str


KEPT_TREES = 16
"""Indexes kept for reuse. The stages ask for a document's positions together, so a few recent
indexes answer nearly every request; an older document is indexed again (from its own text)."""

DocumentStart = tuple[int, int, int]
"""Where a document's root node is in its chunk: (character offset of its line, that line, its
column), all from 0."""


class DocumentStarts(Protocol):
    """Where each document of a chunk starts: a list of ``DocumentStart`` or ``Starts``."""

    def __getitem__(self, index: int, /) -> DocumentStart: ...

    def __len__(self) -> int: ...


class Starts:
    """A growing list of ``DocumentStart`` in arrays (a tuple of three integers each took some 130
    bytes: a stream of a million tiny documents held 130 MB of them)."""

    def __init__(self) -> None:
        self._values = array("q")

    def append(self, start: DocumentStart) -> None:
        self._values.extend(start)

    def __getitem__(self, index: int) -> DocumentStart:
        values, at = self._values, 3 * index
        if not 0 <= at < len(values):
            raise IndexError(index)
        return values[at], values[at + 1], values[at + 2]

    def __len__(self) -> int:
        return len(self._values) // 3


_NEXT_DOCUMENT = re.compile(r"^---(?=[ \t]|$)", re.MULTILINE)
"""A document start marker: no document's text runs past one (YAML forbids ``---`` at the start
of a line inside content)."""


@dataclass
class Locator:
    """Maps (document slot, path) to a 1-based (line, column) in one file.

    ``starts[c][d]``, when given, is where document ``d`` of chunk ``c`` starts (the document runs
    to the next document's start).
    """

    chunks: Sequence[Chunk]
    starts: Sequence[DocumentStarts] = ()
    _trees: dict[tuple[int, int], tuple[_Tree | None, int]] = field(default_factory=dict)
    _chunk_trees: dict[int, list[_Tree]] = field(default_factory=dict)

    def position(self, slot: tuple[int, int], path: Path = (), *, key: bool = False) -> tuple[int, int]:
        """Line and column of the node at ``path`` in document ``slot`` = (chunk, document in chunk).

        With ``key=True`` and a path ending in a mapping key, the key's own position is returned
        (where an "unknown field" is); otherwise the value's.
        """
        if not path:
            root = self._root(slot)
            if root is not None:  # known from the reading: no index needed (a million scalars)
                return root
        line, column, _, _ = self._find(slot, path, key)
        return line, column

    def position_in_string(self, slot: tuple[int, int], path: Path, offset: int) -> tuple[int, int]:
        """The position of character ``offset`` inside the string value at ``path``.

        Exact for plain and quoted one-line scalars (what selectors are written as); for anything
        else (block scalars, escapes), the start of the value.
        """
        line, column, tree, node = self._find(slot, path, False)
        if tree is not None and node is not None and tree.kind[node] == _SCALAR:
            exact = tree.exact[node]
            if exact == _PLAIN:
                return line, column + offset
            if exact == _QUOTED:
                return line, column + 1 + offset
        return line, column

    def _root(self, slot: tuple[int, int]) -> tuple[int, int] | None:
        chunk_index, doc_index = slot
        if chunk_index >= len(self.starts) or doc_index >= len(self.starts[chunk_index]):
            return None
        _, line, column = self.starts[chunk_index][doc_index]
        return self.chunks[chunk_index].line_offset + line + 1, column + 1

    def _find(
        self, slot: tuple[int, int], path: Path, key: bool
    ) -> tuple[int, int, _Tree | None, int | None]:
        chunk = self.chunks[slot[0]]
        tree, line_offset = self._tree(slot)
        if tree is None:
            return chunk.line_offset + line_offset + 1, 1, None, None
        node = 0
        at = 0
        found: int | None = node
        for depth, item in enumerate(path):
            child = tree.child(node, item)
            if child is None:
                found = None
                break
            key_node, node = child
            at = key_node if (depth == len(path) - 1 and key and key_node is not None) else node
            found = node
        line = chunk.line_offset + line_offset + tree.line[at] + 1
        return line, tree.column[at] + 1, tree, found

    def _tree(self, slot: tuple[int, int]) -> tuple[_Tree | None, int]:
        """The index of document ``slot``, and the line (in its chunk) its lines count from."""
        tree = self._trees.get(slot)
        if tree is None:
            tree = self._alone(slot) or self._in_chunk(slot)
            if len(self._trees) >= KEPT_TREES:
                del self._trees[next(iter(self._trees))]  # the oldest: documents are visited in turn
            self._trees[slot] = tree
        return tree

    def _alone(self, slot: tuple[int, int]) -> tuple[_Tree, int] | None:
        """Index the document from its own text: cost in proportion to the document, not the file."""
        chunk_index, doc_index = slot
        if chunk_index >= len(self.starts) or doc_index >= len(self.starts[chunk_index]):
            return None
        starts = self.starts[chunk_index]
        text = self.chunks[chunk_index].text
        offset, line, _ = starts[doc_index]
        if doc_index + 1 < len(starts):
            end = starts[doc_index + 1][0]
        else:  # the stream is still being read: the document ends at the next marker, if any
            marker = _NEXT_DOCUMENT.search(text, offset + 1)
            end = marker.start() if marker is not None else len(text)
        if not (0 <= offset < end <= len(text)) or (offset and text[offset - 1] not in "\n\r"):
            return None
        trees = yaml_trees(text[offset:end], limit=1)
        # Anything odd (a %TAG directive left behind, say): index the whole chunk instead.
        return (trees[0], line) if trees else None

    def _in_chunk(self, slot: tuple[int, int]) -> tuple[_Tree | None, int]:
        chunk_index, doc_index = slot
        trees = self._chunk_trees.get(chunk_index)
        if trees is None:
            self._chunk_trees.clear()  # one chunk's indexes at a time (see KEPT_TREES)
            trees = self._chunk_trees[chunk_index] = yaml_trees(self.chunks[chunk_index].text)
        return (trees[doc_index], 0) if doc_index < len(trees) else (None, 0)


_SCALAR, _SEQUENCE, _MAPPING = 0, 1, 2
_INEXACT, _PLAIN, _QUOTED = 0, 1, 2
"""Where the characters of a scalar are (``position_in_string``): not known one for one (a block
scalar, escapes, several lines); its value as written; its value inside one pair of quotes."""

_INDEXED_MAPPING = 32
"""A mapping with more pairs than this gets a dictionary from key to pair when a key is looked up
in it (a path through a mapping of a million keys must not scan it a million times)."""


class _Tree:
    """One document's nodes in flat arrays, in document order (the root is node 0): each node's
    line and column (0-based), kind, and, for a container, its children (a mapping's as key,
    value, key, value...: keys are nodes too). A mapping key's text is kept (a path names keys)."""

    __slots__ = ("_lookup", "children", "column", "count", "exact", "first", "keys", "kind", "line")

    def __init__(self) -> None:
        self.line = array("i")
        self.column = array("i")
        self.kind = bytearray()
        self.exact = bytearray()
        self.first = array("i")
        """A container's first child, in ``children``."""
        self.count = array("i")
        """A container's number of children."""
        self.children = array("i")
        self.keys: list[str | None] = []
        """A scalar's text where it is (or may be, through an alias) a mapping key, else ``None``."""
        self._lookup: dict[int, dict[str, int]] = {}

    def add(self, line: int, column: int, kind: int, exact: int, key: str | None) -> int:
        self.line.append(line)
        self.column.append(column)
        self.kind.append(kind)
        self.exact.append(exact)
        self.first.append(0)
        self.count.append(0)
        self.keys.append(key)
        return len(self.kind) - 1

    def close(self, node: int, children: array[int]) -> None:
        self.first[node] = len(self.children)
        self.count[node] = len(children)
        self.children.extend(children)

    def child(self, node: int, item: PathItem) -> tuple[int | None, int] | None:
        """(key node or ``None``, value node) of ``item`` in container ``node``, or ``None``."""
        kind, first, count = self.kind[node], self.first[node], self.count[node]
        if kind == _MAPPING:
            name = str(item)
            children, keys = self.children, self.keys
            if count > 2 * _INDEXED_MAPPING:
                pair = self._pairs(node).get(name)
                if pair is None:
                    return None
                return children[first + 2 * pair], children[first + 2 * pair + 1]
            found = None
            for at in range(first, first + count - 1, 2):
                if keys[children[at]] == name:
                    found = (children[at], children[at + 1])  # the last one wins, as in the data
            return found
        if kind == _SEQUENCE and isinstance(item, int) and 0 <= item < count:
            return None, self.children[self.first[node] + item]
        return None

    def _pairs(self, node: int) -> dict[str, int]:
        pairs = self._lookup.get(node)
        if pairs is None:
            first, keys, children = self.first[node], self.keys, self.children
            pairs = {}
            for pair in range(self.count[node] // 2):
                name = keys[children[first + 2 * pair]]
                if name is not None:
                    pairs[name] = pair
            self._lookup[node] = pairs
        return pairs


def yaml_trees(text: str, limit: int | None = None) -> list[_Tree]:
    """The indexes of the documents of ``text`` (at most ``limit``), up to any syntax error."""
    trees: list[_Tree] = []
    parser = _Events(text.replace("\t", " "))
    try:
        while limit is None or len(trees) < limit:
            tree = _yaml_tree(parser)
            if tree is None:
                break
            trees.append(tree)
    except yaml.YAMLError:
        pass  # positions for the documents before the error are still good
    finally:
        parser.dispose()
    return trees


def _yaml_tree(parser: _Events) -> _Tree | None:
    """The next document's index from ``parser``'s events (``None`` at the end of the stream), as
    PyYAML's composer would make its nodes: the same marks, an alias standing for its anchor."""
    tree = _Tree()
    add, close = tree.add, tree.close
    anchors: dict[str, int] = {}
    names: dict[str, str] = {}
    open_: list[tuple[int, array[int], bool]] = []  # container, its children so far, is a mapping
    started = False
    while True:
        event: Any = parser.get_event()  # typed as a bare Event: read by its class
        cls = event.__class__
        if cls is DocumentEndEvent:
            return tree if started else None
        if cls is StreamEndEvent:
            return None
        if cls is SequenceEndEvent or cls is MappingEndEvent:
            node, children, _ = open_.pop()
            close(node, children)
            continue
        if cls is AliasEvent:
            if event.anchor not in anchors:
                raise yaml.YAMLError(f"undefined alias {event.anchor!r}")
            node = anchors[event.anchor]
        elif cls is ScalarEvent or cls is SequenceStartEvent or cls is MappingStartEvent:
            start = event.start_mark
            if cls is ScalarEvent:
                key = bool(open_) and open_[-1][2] and len(open_[-1][1]) % 2 == 0
                value = event.value
                text = names.setdefault(value, value) if key or event.anchor else None
                node = add(start.line, start.column, _SCALAR, _exactness(event), text)
            else:
                node = add(
                    start.line, start.column, _SEQUENCE if cls is SequenceStartEvent else _MAPPING, 0, None
                )
            if event.anchor:
                anchors[event.anchor] = node
        else:
            continue  # stream and document start
        started = True
        if open_:
            open_[-1][1].append(node)
        if cls is SequenceStartEvent or cls is MappingStartEvent:
            open_.append((node, array("i"), cls is MappingStartEvent))


def _exactness(event: Any) -> int:
    start, end = event.start_mark, event.end_mark
    if start.line != end.line:
        return _INEXACT
    if not event.style:  # plain (libyaml reports "" or None)
        return _PLAIN
    if event.style in ("'", '"') and end.column - start.column == len(event.value) + 2:
        return _QUOTED  # quoted, no escapes
    return _INEXACT


class _Events(yaml.CSafeLoader):
    """libyaml's parser, for its events alone (no tag resolution, no nodes)."""


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[][{}]')
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BLANK = re.compile(r"[ \t\r\n]*")
_JSON_SCALAR = re.compile(r"[^,\]}\s]*")
_CURSORS = 64
"""Containers whose scan is kept, so that the positions of a list's items, asked for in turn, cost
one scan of the list, not one per item."""


class JsonLocator(Locator):
    """Positions in one JSON text (a file ``json.loads`` read), found by scanning the text: never
    by composing it as YAML, which costs 20 to 100 times the text (one positioned diagnostic in a
    large ``kubectl get -o json`` List composed all of it; the C2C201 of each item of a JSON array
    of numbers made a YAML node per number). The text is valid JSON, so a scan of its strings and
    brackets finds each member."""

    def __init__(self, text: str) -> None:
        super().__init__([Chunk(0, text)])
        self.text = text
        self._newlines: array[int] | None = None
        self._cursors: dict[
            int, tuple[Iterator[tuple[PathItem, int, int]], list[tuple[PathItem, int, int]]]
        ] = {}

    def position(self, slot: tuple[int, int], path: Path = (), *, key: bool = False) -> tuple[int, int]:
        return self._line_column(self._offset(path, key)[0])

    def position_in_string(self, slot: tuple[int, int], path: Path, offset: int) -> tuple[int, int]:
        start, found = self._offset(path, False)
        line, column = self._line_column(start)
        if not found:
            return line, column
        if start < len(self.text) and self.text[start] not in '"[{':
            return line, column + offset  # a number, true, false or null: as a plain YAML scalar
        token = _JSON_STRING.match(self.text, start)
        if token is not None and "\\" not in token.group():
            return line, column + 1 + offset
        return line, column

    def _offset(self, path: Path, key: bool) -> tuple[int, bool]:
        """Where the value at ``path`` starts (its key, with ``key``), and whether it is there: if
        not, where the deepest value that is there starts."""
        text = self.text
        at = _blank(text, 0)
        for depth, item in enumerate(path):
            member = self._member(at, item) if at < len(text) and text[at] in "[{" else None
            if member is None:
                return at, False
            at = member[1] if key and depth == len(path) - 1 else member[2]
        return at, True

    def _member(self, container: int, item: PathItem) -> tuple[PathItem, int, int] | None:
        """``(name, key offset, value offset)`` of ``item`` in the container opening at ``container``."""
        cursor = self._cursors.pop(container, None)
        members, seen = cursor if cursor is not None else (_members(self.text, container), [])
        self._cursors[container] = (members, seen)
        if len(self._cursors) > _CURSORS:
            del self._cursors[next(iter(self._cursors))]
        if isinstance(item, int) and self.text[container] == "[":
            while len(seen) <= item:
                found = next(members, None)
                if found is None:
                    return None
                seen.append(found)
            return seen[item] if item >= 0 else None
        for found in seen:
            if found[0] == item:
                return found
        for found in members:
            seen.append(found)
            if found[0] == item:
                return found
        return None

    def _line_column(self, offset: int) -> tuple[int, int]:
        if self._newlines is None:
            self._newlines = array("q", (m.start() for m in re.finditer("\n", self.text)))
        line = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line else 0
        return line + 1, offset - start + 1


def _members(text: str, container: int) -> Iterator[tuple[PathItem, int, int]]:
    """The members of the JSON object or array opening at ``container``: ``(key or index, key
    offset, value offset)``."""
    is_object = text[container] == "{"
    at = _blank(text, container + 1)
    index = 0
    while at < len(text) and text[at] not in "]}":
        if is_object:
            token = _JSON_STRING.match(text, at)
            if token is None:
                return
            name: PathItem = json.loads(token.group())
            key_at = at
            at = _blank(text, token.end()) + 1  # past the ':'
            at = _blank(text, at)
        else:
            name, key_at = index, at
        yield name, key_at, at
        at = _blank(text, _value_end(text, at))
        if at >= len(text) or text[at] != ",":
            return
        at = _blank(text, at + 1)
        index += 1


def _blank(text: str, at: int) -> int:
    """Where the JSON whitespace from ``at`` ends."""
    blank = _JSON_BLANK.match(text, at)
    return blank.end() if blank else at


def _value_end(text: str, at: int) -> int:
    """Where the JSON value starting at ``at`` ends."""
    if text[at] == '"':
        token = _JSON_STRING.match(text, at)
        return token.end() if token else len(text)
    if text[at] not in "[{":
        scalar = _JSON_SCALAR.match(text, at)
        return scalar.end() if scalar else at
    depth = 0
    for token in _JSON_TOKEN.finditer(text, at):
        mark = token.group()
        if mark in "[{":
            depth += 1
        elif mark in "]}":
            depth -= 1
            if depth == 0:
                return token.end()
    return len(text)
