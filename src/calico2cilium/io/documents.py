"""A raw input document: the parsed value plus where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calico2cilium.diagnostics import Source
from calico2cilium.io.locate import Locator, Path


@dataclass(slots=True)
class RawDocument:
    """One resource as read: ``data`` is the plain parsed mapping.

    ``base`` is the path of the resource inside its YAML document: ``()`` for a plain document,
    ``("items", 3)`` for the fourth item of a ``kind: List``, ``(3,)`` for an item of a top-level
    YAML list (the form calicoctl accepts).
    """

    data: Any
    file: str
    index: int
    locator: Locator
    slot: tuple[int, int]
    base: Path = ()
    kubectl_other: tuple[str, ...] = ()
    """Plain scalars of its YAML document that kubectl reads as no string (``io.goyaml``): some
    may be in this resource (``load`` looks)."""
    unconverted: bool = False
    """Read, but not to be converted (an error says why, C2C205 or C2C108): an item of a list with
    ``items`` and no ``kind`` (a kubectl export cut short: ``kind: List`` comes after the items,
    and the last item may have lost its end), or of a document with a duplicate key. The policies
    among them are quarantined with --allow-partial."""

    def source(self, path: Path = (), *, key: bool = False) -> Source:
        """The position of ``path`` (relative to this resource) in the input file."""
        line, column = self.locator.position(self.slot, self.base + tuple(path), key=key)
        return Source(self.file, line, column, self.index)

    def without_data(self) -> RawDocument:
        """This document's position record alone (``data`` ``None``): what a holder that only
        reports positions keeps, so that the parsed data can be freed (``compile.lower``'s IR,
        the duplicate check of ``load(keep=False)``)."""
        return RawDocument(None, self.file, self.index, self.locator, self.slot, self.base)

    def source_in_string(self, path: Path, offset: int) -> Source:
        """The position of character ``offset`` of the string at ``path`` (e.g. a selector's column)."""
        line, column = self.locator.position_in_string(self.slot, self.base + tuple(path), offset)
        return Source(self.file, line, column, self.index)

    def _str_field(self, *path: str) -> str:
        value: Any = self.data
        for item in path:
            if not isinstance(value, dict):
                return ""
            value = value.get(item)
        return value if isinstance(value, str) else ""

    @property
    def api_version(self) -> str:
        return self._str_field("apiVersion")

    @property
    def kind(self) -> str:
        return self._str_field("kind")

    @property
    def name(self) -> str:
        return self._str_field("metadata", "name")

    @property
    def namespace(self) -> str:
        return self._str_field("metadata", "namespace")

    @property
    def label(self) -> str:
        """How to name this resource to a user: ``Kind ns/name``."""
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind or '?'} {ns}{self.name or '?'}"
