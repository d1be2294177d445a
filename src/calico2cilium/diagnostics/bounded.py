"""``Findings``: diagnostics collected in bounded memory, the rest of each kind counted.

A broken input can hold a million findings of one kind (a JSON array of a million numbers: a
million "expected a Kubernetes resource"). Keeping each (some 300 bytes with its position and
message) until the end made memory grow by 100 times the input (issue 15, item 13), although
only the first ``REPEAT_LIMIT`` of a code are ever printed (``render.capped``). ``Findings``
keeps, for each code and severity, the ``REPEAT_LIMIT`` first in report order (file, line,
column) and counts the others, so that what is printed, the counts and the exit status are those
of keeping them all:

- the printed ones: ``capped`` prints the first ``REPEAT_LIMIT`` of a code in report order, and
  those of each severity are kept (so also with ``--quiet``, which prints errors only);
- the counts: ``left_out`` says how many of each code and severity were not kept;
- the exit status, and any other question of the form "is there a finding of this code, of this
  severity": each code and severity met has at least one finding kept.

Narrowing findings are all kept: ``cli.common.explained`` matches each to the resource it names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Protocol

from calico2cilium.diagnostics import Diagnostic, Severity

REPEAT_LIMIT = 100
"""Findings of one code printed before the rest are counted (C2C112)."""

Kind = tuple[str, Severity]
"""A code and a severity: what is kept and counted together."""

LeftOut = Mapping[Kind, int]
"""How many findings of each code and severity were counted but not kept."""


class Findings:
    """Diagnostics in bounded memory: of each ``Kind`` the first ``limit`` in report order (ties
    in the order they were added), every narrowing one, and a count of the others."""

    def __init__(self, limit: int = REPEAT_LIMIT) -> None:
        self.limit = limit
        self._kept: dict[Kind, list[tuple[tuple[str, int, int, str], int, Diagnostic]]] = {}
        self._always: list[tuple[int, Diagnostic]] = []
        self._added = 0
        self._last: dict[Kind, tuple[str, int, int, str]] = {}
        """The last kept one's place, once a kind was cut: a later one not before it is counted."""
        self.left_out: Counter[Kind] = Counter()

    def append(self, diagnostic: Diagnostic) -> None:
        self._added += 1
        if _narrowing(diagnostic):
            self._always.append((self._added, diagnostic))
            return
        kind = (diagnostic.code, diagnostic.severity)
        key = diagnostic.sort_key()
        last = self._last.get(kind)
        if last is not None and key >= last:  # after every kept one (ties: added later)
            self.left_out[kind] += 1
            return
        kept = self._kept.setdefault(kind, [])
        kept.append((key, self._added, diagnostic))
        if len(kept) >= 2 * self.limit:  # amortised: sort and cut once per ``limit`` added
            self._cut(kind, kept)

    def _cut(self, kind: Kind, kept: list[tuple[tuple[str, int, int, str], int, Diagnostic]]) -> None:
        kept.sort(key=_order)
        self.left_out[kind] += len(kept) - self.limit
        del kept[self.limit :]
        self._last[kind] = kept[-1][0]

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            self.append(diagnostic)

    def absorb(self, other: Findings) -> None:
        """Add what ``other`` holds (its kept findings after this one's, its counts)."""
        for diagnostic in other.kept():
            self.append(diagnostic)
        self.left_out.update(other.left_out)

    def kept(self) -> list[Diagnostic]:
        """The findings kept, in the order they were added (each ``Kind`` cut to ``limit``)."""
        entries = list(self._always)
        for kind, kept in self._kept.items():
            if len(kept) > self.limit:
                self._cut(kind, kept)
            entries.extend((added, diagnostic) for _, added, diagnostic in kept)
        entries.sort(key=lambda entry: entry[0])
        return [diagnostic for _, diagnostic in entries]

    def __len__(self) -> int:
        """Every finding added, kept or not."""
        return self._added


def _order(entry: tuple[tuple[str, int, int, str], int, Diagnostic]) -> tuple[tuple[str, int, int, str], int]:
    return entry[0], entry[1]


def _narrowing(diagnostic: Diagnostic) -> bool:
    if diagnostic.narrowing:
        return True
    narrowing = _NARROWING.get(diagnostic.code)
    if narrowing is None:
        from calico2cilium.diagnostics.catalog import CATALOG

        doc = CATALOG.get(diagnostic.code)
        narrowing = _NARROWING[diagnostic.code] = doc is not None and doc.narrowing
    return narrowing


_NARROWING: dict[str, bool] = {}


def count(diagnostics: Iterable[Diagnostic], left_out: LeftOut, severity: Severity) -> int:
    """How many findings of ``severity`` there are: those in ``diagnostics`` and those left out."""
    return sum(d.severity is severity for d in diagnostics) + sum(
        n for (_, level), n in left_out.items() if level is severity
    )


class Sink(Protocol):
    """Where a stage puts its findings: a ``list`` or ``Findings``."""

    def append(self, diagnostic: Diagnostic, /) -> None: ...

    def extend(self, diagnostics: Iterable[Diagnostic], /) -> None: ...

    def __len__(self) -> int: ...
