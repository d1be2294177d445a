"""The one diagnostic type every stage reports with.

Problems are data (as in yamllint): a stable code, a severity, a message, where it is, and a hint.
Positions are 1-based, as editors and ``file:line:col`` consumers expect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is. ``ERROR`` means the document was not (or cannot be) used as given."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True, slots=True)
class Source:
    """Where something came from: a file (or ``<stdin>``), 1-based line and column, document index."""

    file: str
    line: int = 1
    column: int = 1
    document: int | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose traffic a narrowing finding narrows, where its position does not say it (a C2C350 of
    a part of a direction, or of a whole direction, failing closed; a C2C352 of a policy a wider
    Deny shadows, which narrows its pods in one direction only): facts the verifier's attribution
    reads (``verify/attribution.py``) instead of the message and the position, so that rewording
    a message cannot change what ``convert --verify`` accepts.

    Only identities and directions, never the compiler's reading of them: the verifier works out
    with its own semantics which flows the named policies' subjects are."""

    policies: tuple[Source, ...] = ()
    """The input policies whose subjects it narrows, each by the position of its resource (its
    document, or its item of a ``kind: List``): a position tells apart resources that a label
    would not (a Calico and a Kubernetes NetworkPolicy of one namespace and name)."""
    directions: tuple[str, ...] = ()
    """The directions (``ingress``, ``egress``) it narrows them in."""
    every: bool = False
    """Every subject of ``directions``, not only those of ``policies`` (a whole direction)."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding. ``code`` is stable across releases; see ``calico2cilium explain CODE``."""

    code: str
    severity: Severity
    message: str
    source: Source | None = None
    hint: str | None = None
    narrowing: bool = False
    """The conversion fails closed here: the output denies more than Calico, never allows more
    (``verify --narrowing`` proves it; the message says what Cilium now denies)."""
    scope: Scope | None = None
    """What it narrows, where its position alone does not say it (``Scope``)."""

    def sort_key(self) -> tuple[str, int, int, str]:
        src = self.source
        if src is None:
            return ("", 0, 0, self.code)
        return (src.file, src.line, src.column, self.code)


def worst(diagnostics: list[Diagnostic]) -> Severity | None:
    """The most severe level among ``diagnostics`` (``None`` when empty)."""
    levels = {d.severity for d in diagnostics}
    for level in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        if level in levels:
            return level
    return None
