"""Positions on demand.

Loading keeps no YAML nodes (keeping them makes Python's garbage collector rescan millions of objects).
A :class:`Locator` keeps the text instead and composes a file's node trees only when a diagnostic
needs a position, once per file. A path such as ``("spec", "ingress", 0, "action")`` is then walked
through the nodes; the deepest node that exists answers, so a missing field points at its parent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

PathItem = str | int
Path = tuple[PathItem, ...]


@dataclass(frozen=True)
class Chunk:
    """A piece of a file parsed as one YAML stream, starting at ``line_offset`` (0-based)."""

    line_offset: int
    text: str


@dataclass
class Locator:
    """Maps (document slot, path) to a 1-based (line, column) in one file."""

    chunks: Sequence[Chunk]
    _trees: dict[int, list[yaml.Node]] = field(default_factory=dict)

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
        chunk_index, doc_index = slot
        chunk = self.chunks[chunk_index]
        trees = self._compose(chunk_index)
        if doc_index >= len(trees):
            return chunk.line_offset + 1, 1, None
        node: yaml.Node = trees[doc_index]
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
        return chunk.line_offset + mark.line + 1, mark.column + 1, found

    def _compose(self, chunk_index: int) -> list[yaml.Node]:
        trees = self._trees.get(chunk_index)
        if trees is None:
            trees = []
            loader = yaml.CSafeLoader(self.chunks[chunk_index].text.replace("\t", " "))
            try:
                while loader.check_node():
                    node = loader.get_node()
                    if node is not None:
                        trees.append(node)
            except yaml.YAMLError:
                pass  # positions for the documents before the error are still good
            finally:
                loader.dispose()
            self._trees[chunk_index] = trees
        return trees


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
