"""Positions on demand.

Loading keeps no YAML nodes (keeping them makes Python's garbage collector rescan millions of objects).
A :class:`Locator` keeps the text instead, and where each document starts, and composes a document's
node tree only when a diagnostic needs a position in it, once per document (a document alone when
its text can be cut out, else with all of its chunk; the last few trees are kept). A path such as
``("spec", "ingress", 0, "action")`` is then walked through the nodes; the deepest node that exists
answers, so a missing field points at its parent.
"""

from __future__ import annotations

import bisect
import json
import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import yaml

from calico2cilium.io.construct import gc_paused

PathItem = str | int
Path = tuple[PathItem, ...]


@dataclass(frozen=True)
class Chunk:
    """A piece of a file parsed as one YAML stream, starting at ``line_offset`` (0-based)."""

    line_offset: int
    text: str


KEPT_TREES = 16
"""Node trees kept for reuse. A composed tree is about 40 times its text, so keeping every tree a
position was asked for made memory grow with the input by that much (lowering asks for positions
in every document). The stages ask for a document's positions together, so a few recent trees
answer nearly every request; an older document is composed again (from its own text)."""

DocumentStart = tuple[int, int]
"""Where a document's text starts in its chunk: (character offset of its first line, that line)."""


@dataclass
class Locator:
    """Maps (document slot, path) to a 1-based (line, column) in one file.

    ``starts[c][d]``, when given, is where document ``d`` of chunk ``c`` starts: the start of the line
    of its root node (the document runs to the next document's start).
    """

    chunks: Sequence[Chunk]
    starts: Sequence[Sequence[DocumentStart]] = ()
    _trees: dict[tuple[int, int], tuple[yaml.Node | None, int]] = field(default_factory=dict)
    _chunk_trees: dict[int, list[yaml.Node]] = field(default_factory=dict)

    def position(self, slot: tuple[int, int], path: Path = (), *, key: bool = False) -> tuple[int, int]:
        """Line and column of the node at ``path`` in document ``slot`` = (chunk, document in chunk).

        With ``key=True`` and a path ending in a mapping key, the key's own position is returned
        (where an "unknown field" is); otherwise the value's.
        """
        line, column, _ = self._find(slot, path, key)
        return line, column

    def position_in_string(self, slot: tuple[int, int], path: Path, offset: int) -> tuple[int, int]:
        """The position of character ``offset`` inside the string value at ``path``.

        Exact for plain and quoted one-line scalars (what selectors are written as); for anything
        else (block scalars, escapes), the start of the value.
        """
        line, column, node = self._find(slot, path, False)
        if isinstance(node, yaml.ScalarNode) and node.start_mark.line == node.end_mark.line:
            if not node.style:  # plain (libyaml reports "" or None)
                return line, column + offset
            written = node.end_mark.column - node.start_mark.column
            if node.style in ("'", '"') and written == len(node.value) + 2:  # quoted, no escapes
                return line, column + 1 + offset
        return line, column

    def _find(self, slot: tuple[int, int], path: Path, key: bool) -> tuple[int, int, yaml.Node | None]:
        chunk = self.chunks[slot[0]]
        tree, line_offset = self._tree(slot)
        if tree is None:
            return chunk.line_offset + line_offset + 1, 1, None
        node: yaml.Node = tree
        mark = node.start_mark
        found: yaml.Node | None = node
        for depth, item in enumerate(path):
            last = depth == len(path) - 1
            child = _child(node, item)
            if child is None:
                found = None
                break
            key_node, value_node = child
            mark = key_node.start_mark if (last and key and key_node is not None) else value_node.start_mark
            node = found = value_node
        return chunk.line_offset + line_offset + mark.line + 1, mark.column + 1, found

    def _tree(self, slot: tuple[int, int]) -> tuple[yaml.Node | None, int]:
        """The node tree of document ``slot``, and the line (in its chunk) its marks count from."""
        tree = self._trees.get(slot)
        if tree is None:
            tree = self._alone(slot) or self._in_chunk(slot)
            if len(self._trees) >= KEPT_TREES:
                del self._trees[next(iter(self._trees))]  # the oldest: documents are visited in turn
            self._trees[slot] = tree
        return tree

    def _alone(self, slot: tuple[int, int]) -> tuple[yaml.Node, int] | None:
        """Compose the document from its own text: cost in proportion to the document, not the file."""
        chunk_index, doc_index = slot
        if chunk_index >= len(self.starts) or doc_index >= len(self.starts[chunk_index]):
            return None
        starts = self.starts[chunk_index]
        text = self.chunks[chunk_index].text
        offset, line = starts[doc_index]
        end = starts[doc_index + 1][0] if doc_index + 1 < len(starts) else len(text)
        if not (0 <= offset < end <= len(text)) or (offset and text[offset - 1] not in "\n\r"):
            return None
        trees = _compose(text[offset:end], limit=1)
        # Anything odd (a %TAG directive left behind, say): compose the whole chunk instead.
        return (trees[0], line) if trees else None

    def _in_chunk(self, slot: tuple[int, int]) -> tuple[yaml.Node | None, int]:
        chunk_index, doc_index = slot
        trees = self._chunk_trees.get(chunk_index)
        if trees is None:
            self._chunk_trees.clear()  # one chunk's trees at a time (see KEPT_TREES)
            trees = self._chunk_trees[chunk_index] = _compose(self.chunks[chunk_index].text)
        return (trees[doc_index], 0) if doc_index < len(trees) else (None, 0)


def _compose(text: str, limit: int | None = None) -> list[yaml.Node]:
    """The node trees of the documents of ``text`` (at most ``limit``), up to any syntax error."""
    trees: list[yaml.Node] = []
    loader = _Composer(text.replace("\t", " "))
    try:
        with gc_paused():
            while (limit is None or len(trees) < limit) and loader.check_node():
                node = loader.get_node()
                if node is not None:
                    trees.append(node)
    except yaml.YAMLError:
        pass  # positions for the documents before the error are still good
    finally:
        loader.dispose()
    return trees


class _Composer(yaml.CSafeLoader):
    """libyaml's composer without tag resolution (a regular-expression search per scalar).

    Positions need the nodes' structure, values and marks, never their tags.
    """

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        return ""


def _child(node: yaml.Node, item: PathItem) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        found = None
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(item):
                found = (key_node, value_node)  # the last one wins, as in the constructed data
        return found
    if isinstance(node, yaml.SequenceNode) and isinstance(item, int) and 0 <= item < len(node.value):
        return None, node.value[item]
    return None


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

    def _find(self, slot: tuple[int, int], path: Path, key: bool) -> tuple[int, int, yaml.Node | None]:
        offset, _ = self._offset(path, key)
        line, column = self._line_column(offset)
        return line, column, None

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
