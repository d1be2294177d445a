"""libyaml node trees to plain Python data, fast, noting what the structure checks need.

libyaml (PyYAML's ``CParser``) composes each document's node tree in C; PyYAML then builds the data
with its pure-Python constructor, which costs more than the parsing itself (a generator, a state
stack and several dictionary look-ups per node). :class:`Loader` builds the same data in one
recursive pass for what manifests contain (mappings, sequences and the core scalar types) and hands
anything else (merge keys ``<<``, explicit ``!!set``/``!!binary``/unknown tags, unhashable keys, a
document nested deeper than ``max_depth``) back to PyYAML's constructor, so the result, and every
error, is exactly what ``yaml.load_all(text, Loader=yaml.CSafeLoader)`` gives, except that
timestamps stay strings (Kubernetes reads manifests as JSON, where a timestamp is just a string),
and so do base 60 numbers (``20:22``), which kubectl's go-yaml v2 reads as strings (``io.goyaml``).

While building, it notes duplicate keys (compared as YAML compares them, after resolution, so
``on:`` and ``yes:`` are the same key ``True``), whether any container is shared through an alias,
and how many containers the document has. A document without shared containers is a tree, so it
has no cycles and its size and depth are known: the caller runs its alias-bomb and cycle check only
on documents that share containers.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from calico2cilium.io.goyaml import base60, kubectl_reads_as_other

STR_TAG = "tag:yaml.org,2002:str"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
NUMBER_TAGS = frozenset(("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"))

Duplicate = tuple[yaml.Mark, str]
"""Where a repeated mapping key stands (its second occurrence) and how it is written."""


@dataclass
class Built:
    """One document's data and what was noticed while building it."""

    data: Any
    duplicates: list[Duplicate] = field(default_factory=list)
    containers: int = 0
    """Mappings and sequences built; the document's expanded size when ``tree`` is true."""
    tree: bool = True
    """No container is reached twice (through aliases): no cycles, and nothing expands."""
    start: tuple[int, int, int] = (0, 0, 0)
    """Where the document's root node is: (character offset of its line, line, column), all from 0."""
    kubectl_other: list[str] = field(default_factory=list)
    """Plain scalars read as strings that kubectl reads as a boolean or a number (``io.goyaml``)."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the garbage collector: building many containers would make it rescan them repeatedly."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_MISSING = object()


class _Fallback(Exception):
    """Something the fast path does not build; PyYAML's constructor builds the document instead."""


_resolve = cast(
    Callable[[Any, type[Node], str | None, tuple[bool, bool]], str], yaml.resolver.BaseResolver.resolve
)


class Loader(yaml.CSafeLoader):
    """libyaml loader: fast construction, duplicate keys recorded, timestamps kept as strings."""

    max_depth = 100
    """Deeper documents are built by PyYAML's (non-recursive) constructor, for the caller to refuse."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._text = stream
        self._documents = 0
        """Documents begun by ``next_document``."""
        self._nodes: Loader | None = None
        """A second parser over the text, for the documents ``next_document`` builds from nodes."""
        self._nodes_at = 0
        """Documents the second parser has read."""
        self._constants: dict[tuple[str, str], Any] = {}
        self._built: dict[Node, Any] = {}
        self._result = Built(None)
        self._duplicates: list[Duplicate] = []
        self._tags: dict[str, str] = {}
        self._kubectl_other: set[str] = set()
        self._pending_other: list[str] = []
        self._scalars: dict[str, Callable[[Any, Node], Any]] = {
            tag: self.yaml_constructors[tag]
            for tag in (
                "tag:yaml.org,2002:null",
                "tag:yaml.org,2002:bool",
                "tag:yaml.org,2002:int",
                "tag:yaml.org,2002:float",
                TIMESTAMP_TAG,
            )
        }

    def resolve(self, kind: type[Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        """PyYAML's resolver, remembering the tag of each plain scalar (keys repeat endlessly).

        Exact: without path resolvers (the safe loader has none) a tag depends only on the value.
        """
        if kind is ScalarNode and implicit[0]:
            assert value is not None
            tag = self._tags.get(value)
            if tag is None:
                tag = _resolve(self, kind, value, implicit)
                if tag in NUMBER_TAGS and base60(value):
                    tag = STR_TAG  # kubectl's go-yaml has no base 60: ``ports: [20:22]`` is a range
                if len(self._tags) < 20_000:
                    self._tags[value] = tag
                if tag == STR_TAG and kubectl_reads_as_other(value):
                    self._kubectl_other.add(value)
            if (
                self._kubectl_other
                and value in self._kubectl_other
                and value not in self._pending_other
                and len(self._pending_other) < 20
            ):
                self._pending_other.append(value)  # 20 values: ``load`` looks for them per resource
            return tag
        return _resolve(self, kind, value, implicit)

    def dispose(self) -> None:
        if self._nodes is not None:
            self._nodes.dispose()
        super().dispose()

    def next_document(self) -> Built | None:
        """The next document of the stream (``None`` at its end), built from libyaml's events as
        ``build_document`` builds it from its nodes, without composing them: a composed node
        takes some 400 bytes (a ``kind: List`` of a million items took 380 MB to read, issue 15
        item 13). A document the fast path does not build (see ``build_document``) is composed
        by a second parser over the text and built from its nodes, so the result and every
        error are those of ``build_document``."""
        event = self.get_event()
        if isinstance(event, yaml.StreamStartEvent):
            event = self.get_event()
        if isinstance(event, yaml.StreamEndEvent):
            return None
        self._documents += 1
        try:
            return self._from_events()
        except _Fallback:
            self._to_document_end()
            return self._from_nodes(self._documents - 1)

    def _to_document_end(self) -> None:
        """Read the rest of the document's events (a syntax error in it is raised, as composing it
        would)."""
        while not isinstance(self.get_event(), yaml.DocumentEndEvent | yaml.StreamEndEvent | None):
            pass

    def _from_nodes(self, index: int) -> Built:
        if self._nodes is None:
            self._nodes = Loader(self._text)
            self._nodes.max_depth = self.max_depth
        nodes = self._nodes
        while self._nodes_at < index and nodes.check_node():
            nodes.get_node()
            self._nodes_at += 1
        nodes.check_node()
        nodes._pending_other = []  # noted in the documents skipped
        node = nodes.get_node()
        self._nodes_at += 1
        assert node is not None, "the first parser read this document"
        return nodes.build_document(node)

    def _from_events(self) -> Built:
        """The fast path of ``build_document``, from the events of one document."""
        built = Built(None)
        self._pending_other = built.kubectl_other  # what ``resolve`` notes while it is built
        anchors: dict[str, tuple[Any, bool, str]] = {}  # anchor -> value, is a container, text
        open_: list[list[Any]] = []  # [container, is a mapping, a key is waiting, the key]
        while True:
            event: Any = self.get_event()
            cls = event.__class__
            anchor = None
            if cls is yaml.ScalarEvent:
                text = event.value
                value = self._scalar_event(event)
                container = False
                anchor = event.anchor
            elif cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
                mapping = cls is yaml.MappingStartEvent
                if event.tag not in (None, "!", MAP_TAG if mapping else SEQ_TAG):
                    raise _Fallback
                if len(open_) + 1 > self.max_depth:
                    raise _Fallback
                built.containers += 1
                value = {} if mapping else []
                container, text = True, ""
                anchor = event.anchor
            elif cls is yaml.AliasEvent:
                found = anchors.get(event.anchor)
                if found is None:
                    raise _Fallback  # an undefined alias: the composer's error
                value, container, text = found
                if container:
                    built.tree = False
                container = False  # already built: nothing to open
            elif cls is yaml.SequenceEndEvent or cls is yaml.MappingEndEvent:
                open_.pop()
                continue
            elif cls is yaml.DocumentEndEvent:
                return built
            else:
                continue
            if anchor is not None:
                if anchor in anchors:
                    raise _Fallback  # the composer decides
                anchors[anchor] = (value, container, text)
            if not open_:
                mark = event.start_mark
                built.data = value
                built.start = (mark.index - mark.column, mark.line, mark.column)
            else:
                parent = open_[-1]
                if not parent[1]:
                    parent[0].append(value)
                elif parent[2]:
                    parent[0][parent[3]] = value
                    parent[2] = False
                else:
                    if container or (cls is yaml.AliasEvent and isinstance(value, dict | list)):
                        raise _Fallback  # a key that is not a scalar: PyYAML decides
                    if value in parent[0]:
                        built.duplicates.append((event.start_mark, text))
                    parent[2], parent[3] = True, value
            if container:
                open_.append([value, cls is yaml.MappingStartEvent, False, None])

    def _scalar_event(self, event: Any) -> Any:
        tag = event.tag
        value = event.value
        if tag is None or tag == "!":
            tag = self.resolve(ScalarNode, value, event.implicit)
        if tag == STR_TAG:
            return value
        known = self._constants.get((tag, value), _MISSING)
        if known is not _MISSING:
            return known
        construct = self._scalars.get(tag)
        if construct is None:
            raise _Fallback
        try:
            made = construct(self, ScalarNode(tag, value, event.start_mark, event.end_mark, event.style))
        except (ValueError, KeyError) as exc:  # an explicit tag on a value it cannot hold
            raise _Fallback from exc
        if len(self._constants) < 20_000:
            self._constants[tag, value] = made
        return made

    def build_document(self, node: Node) -> Built:
        """The data of one document (as ``construct_document`` builds it), with its findings."""
        mark = node.start_mark
        start = (mark.index - mark.column, mark.line, mark.column)
        built = self._result = Built(None, start=start, kubectl_other=self._pending_other)
        self._pending_other = []
        try:
            built.data = self._value(node, 1)
        except _Fallback:
            built = Built(None, tree=False, start=start, kubectl_other=built.kubectl_other)
            self._duplicates = built.duplicates
            try:
                built.data = self.construct_document(node)
            except yaml.YAMLError:
                raise
            except (ValueError, KeyError, TypeError) as exc:
                raise _bad_value(node) from exc
        finally:
            self._built = {}
        return built

    # The fast path. Plain strings (most scalars) are taken inline, without a call.

    def _value(self, node: Node, level: int) -> Any:
        cls = node.__class__
        if cls is ScalarNode:
            return self._scalar(node)
        done = self._built.get(node)
        if done is not None:
            self._result.tree = False
            return done
        if level > self.max_depth:
            raise _Fallback
        self._result.containers += 1
        if cls is MappingNode and node.tag == MAP_TAG:
            return self._mapping(node, level)
        if cls is SequenceNode and node.tag == SEQ_TAG:
            return self._sequence(node, level)
        raise _Fallback

    def _scalar(self, node: Node) -> Any:
        tag = node.tag
        if tag == STR_TAG:
            return node.value
        construct = self._scalars.get(tag)
        if construct is None:
            raise _Fallback
        try:
            return construct(self, node)
        except (ValueError, KeyError) as exc:  # an explicit tag on a value it cannot hold: !!int abc
            raise _bad_value(node) from exc

    def _mapping(self, node: Node, level: int) -> dict[Any, Any]:
        data: dict[Any, Any] = {}
        self._built[node] = data
        level += 1
        for key_node, value_node in node.value:
            if key_node.__class__ is not ScalarNode:
                raise _Fallback  # unhashable, or an odd key: PyYAML decides
            key = key_node.value if key_node.tag == STR_TAG else self._scalar(key_node)
            if value_node.__class__ is ScalarNode and value_node.tag == STR_TAG:
                data[key] = value_node.value
            else:
                data[key] = self._value(value_node, level)
        if len(data) != len(node.value):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self._scalar(key_node)
                if key in seen:
                    self._result.duplicates.append((key_node.start_mark, key_node.value))
                seen.add(key)
        return data

    def _sequence(self, node: Node, level: int) -> list[Any]:
        data: list[Any] = []
        self._built[node] = data
        level += 1
        append = data.append
        for item in node.value:
            if item.__class__ is ScalarNode and item.tag == STR_TAG:
                append(item.value)
            else:
                append(self._value(item, level))
        return data

    # The fallback path: PyYAML's constructor, recording duplicate keys.

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise _bad_value(node) from exc

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):  # e.g. !!set on a sequence: PyYAML's own error
            return super().construct_mapping(node, deep=deep)
        written = [key_node for key_node, _ in node.value if key_node.tag != MERGE_TAG]
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)  # merges '<<' in
        seen: set[Any] = set()
        for key_node in written:  # keys merged in may be overridden; keys written twice may not
            key = self.construct_object(key_node)
            if key in seen:
                self._duplicates.append((key_node.start_mark, str(key_node.value)))
            seen.add(key)
        return mapping


def _bad_value(node: Node) -> yaml.constructor.ConstructorError:
    tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
    if isinstance(node, ScalarNode):
        value = str(node.value)
        # A value may be thousands of characters (a 5,000-digit integer): show its start.
        shown = repr(value) if len(value) <= 80 else f"{value[:40]!r}... ({len(value)} characters)"
    else:
        shown = f"a {type(node).__name__}"
    return yaml.constructor.ConstructorError(None, None, f"{tag} cannot hold {shown}", node.start_mark)


def _timestamp_as_string(loader: Loader, node: Node) -> str:
    assert isinstance(node, ScalarNode)
    return str(loader.construct_scalar(node))


Loader.add_constructor(TIMESTAMP_TAG, _timestamp_as_string)
