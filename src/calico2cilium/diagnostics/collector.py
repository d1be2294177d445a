"""``Diagnostics``: the one collector every pipeline stage reports into.

Passed down ``convert()``'s pipeline (as sqlglot's generator has ``unsupported()``): the compiler,
the emitter and the cluster facts all say what they assumed, refused or left out here, so a library
user of ``convert()`` gets every diagnostic the CLI prints, from one place.

Some findings are said once however often they are met (the same rule side compiled for pods and
for hosts): ``once`` drops a repeat of the same code, position, message and scope.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

from calico2cilium.diagnostics import Diagnostic


class Diagnostics:
    """An ordered collection of findings; ``sorted()`` gives them in report order."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []
        self._seen: set[tuple[object, ...]] = set()

    def add(self, diagnostic: Diagnostic) -> None:
        self._items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            self.add(diagnostic)

    def once(self, diagnostic: Diagnostic) -> None:
        """Add ``diagnostic`` unless the same finding (code, position, message, scope) was added with
        ``once``."""
        key = _same(diagnostic)
        if key not in self._seen:
            self._seen.add(key)
            self._items.append(diagnostic)

    def merge(self, other: Diagnostics, without: Collection[str] = ()) -> None:
        """Add ``other``'s findings (its ``once`` ones as ``once``), but none whose code is in
        ``without`` (a stage that collected findings for something it then dropped)."""
        for diagnostic in other._items:
            if diagnostic.code in without:
                continue
            if _same(diagnostic) in other._seen:
                self.once(diagnostic)
            else:
                self.add(diagnostic)

    def sorted(self) -> list[Diagnostic]:
        """Every finding by file, line, column and code (ties in the order they were added)."""
        return sorted(self._items, key=Diagnostic.sort_key)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def _same(diagnostic: Diagnostic) -> tuple[object, ...]:
    """What makes two findings one for ``once``: a scope (``Diagnostic.scope``) is part of what a
    narrowing finding says, though its message may not show it all."""
    return (diagnostic.code, diagnostic.source, diagnostic.message, diagnostic.scope)
