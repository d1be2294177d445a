"""Every diagnostic code, documented once: what it means, an input that triggers it, one that does not.

Codes are stable: a code is never reused for another meaning. Ranges:

- ``C2C0xx`` the tool itself (internal errors)
- ``C2C1xx`` reading input (files, encodings, YAML/JSON syntax)
- ``C2C2xx`` document validation (kinds, fields, values, selectors)
- ``C2C3xx`` conversion findings
- ``C2C4xx`` verification findings (``C2C41x``: ``diff`` and the migration report)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from calico2cilium.diagnostics import Diagnostic, Scope, Severity, Source


@dataclass(frozen=True)
class CodeDoc:
    """The documentation of one code, printed by ``calico2cilium explain CODE``.

    ``failing`` and ``passing`` are file contents for ``calico2cilium lint``; the test suite runs
    both, so the catalog cannot drift from what the tool does. ``None`` means the condition is
    not about file contents (e.g. a missing path).
    """

    code: str
    name: str
    severity: Severity
    summary: str
    explanation: str
    failing: str | bytes | None = None
    passing: str | bytes | None = None
    failing_inventory: str | None = None
    passing_inventory: str | None = None
    """For codes about a label inventory: the ``--inventory`` file each example is converted with."""
    failing_flags: tuple[tuple[str, str], ...] = ()
    passing_flags: tuple[tuple[str, str], ...] = ()
    """For codes about a cluster assumption: ``convert`` flags (``--endpoint-to-host-action``,
    ``--cilium-version``) each example is converted with."""
    narrowing: bool = False
    """The output decides some traffic otherwise than Calico where this code is reported (a rule
    left out, narrowed or widened; a difference found): what ``--fail-on narrowing`` fails on.
    Codes without it state an assumption or a requirement, with the traffic unchanged."""


def indented(text: str) -> str:
    """``text`` indented by four spaces, for an example shown in an explanation."""
    return "".join(f"    {line}\n" for line in text.splitlines())


def _register(*docs: CodeDoc) -> dict[str, CodeDoc]:
    table: dict[str, CodeDoc] = {}
    for doc in docs:
        if doc.code in table:
            raise ValueError(f"duplicate diagnostic code {doc.code}")
        table[doc.code] = doc
    return table


def _all() -> dict[str, CodeDoc]:
    from calico2cilium.diagnostics.catalog import (
        converting,
        documents,
        quarantine,
        reading,
        reviewing,
        runs,
        verifying,
    )

    docs = (
        *reading.CODES,
        *documents.CODES,
        *converting.CODES,
        *verifying.CODES,
        *reviewing.CODES,
        *runs.CODES,
        *quarantine.CODES,
    )
    return _register(*(replace(doc, narrowing=True) if doc.code in NARROWING else doc for doc in docs))


NARROWING = frozenset(
    {
        # left out or refused: Cilium decides that traffic otherwise than Calico
        *("C2C301", "C2C303", "C2C309", "C2C310", "C2C312", "C2C315"),
        *("C2C330", "C2C331", "C2C332", "C2C335", "C2C341", "C2C353"),
        # a failsafe port Felix allows and the host policies do not
        "C2C232",
        # host endpoints Cilium cannot say exactly: the rule fails closed around them
        *("C2C323", "C2C325", "C2C326", "C2C327"),
        # host and node-local traffic decided by other rules than in Calico
        *("C2C324", "C2C342", "C2C343"),
        # differences found by the verifier, and narrowing it could not attribute
        *("C2C401", "C2C414", "C2C415"),
    }
)
"""The codes whose ``CodeDoc.narrowing`` is set, listed in one place."""

FAILS_CLOSED = frozenset(
    {"C2C303", "C2C309", "C2C310", "C2C312", "C2C315", "C2C330", "C2C331", "C2C332", "C2C350"}
)
"""Error codes whose findings are warnings where the output fails closed (``make(narrowing=True)``:
Cilium denies more than Calico, never allows more), so the output is written with exit 1."""

WIDENS: frozenset[str] = frozenset({"C2C348"})
"""Warning codes whose findings are errors where the output would allow more than Calico
(``make(widening=True)``): exit 2, nothing written without --allow-partial. C2C348 in a resource
the tool converts (``load._read_otherwise``); the host endpoint findings (C2C325, C2C326,
C2C327) fail closed (``compile/hostpeers.py``)."""


CATALOG: dict[str, CodeDoc] = _all()


def lookup(code: str) -> CodeDoc | None:
    """The documentation of ``code`` (case-insensitive), or of the code whose name is ``code``."""
    wanted = code.strip()
    found = CATALOG.get(wanted.upper())
    if found is None:
        found = next((doc for doc in CATALOG.values() if doc.name == wanted.lower()), None)
    return found


def make(
    code: str,
    message: str,
    source: Source | None = None,
    hint: str | None = None,
    *,
    narrowing: bool = False,
    widening: bool = False,
    scope: Scope | None = None,
) -> Diagnostic:
    """A diagnostic for ``code`` at its catalogued severity. Unknown codes are a programming error.
    ``narrowing``: the output fails closed there (Cilium only denies more than Calico), so a
    refusal is a warning, not an error: the output is safe to apply (exit 1, written).
    ``widening``: the output allows more than Calico there, so it is an error (exit 2, nothing
    written without --allow-partial) whatever the code's usual severity. ``scope``: what a
    narrowing finding narrows where its position does not say it (``Diagnostic.scope``)."""
    return Diagnostic(
        code,
        severity_of(code, narrowing=narrowing, widening=widening),
        message,
        source,
        hint,
        narrowing,
        scope,
    )


def severity_of(code: str, *, narrowing: bool = False, widening: bool = False) -> Severity:
    """The severity of one finding of ``code``: an error when the output widens there, a warning
    (at most) when it fails closed, else the catalogued one (the issue's exit contract: 1 for
    assumptions and narrowing, 2 for invalid input and for output that would allow more)."""
    if widening:
        return Severity.ERROR
    if narrowing and CATALOG[code].severity is Severity.ERROR:
        return Severity.WARNING
    return CATALOG[code].severity
