"""The one exception type a selector can raise, and its "too complex to expand" subclass."""

from __future__ import annotations


class SelectorError(ValueError):
    """A selector expression that Calico would reject (or that we cannot handle).

    ``message`` says what is wrong, without position; ``column`` is the 1-based column in ``expr``
    where the problem is (``len(expr) + 1`` for "unexpected end of selector"); ``expr`` is the
    whole expression. ``str(err)`` combines the three into one line.
    """

    message: str
    expr: str
    column: int

    def __init__(self, message: str, expr: str = "", column: int = 1) -> None:
        # All three go to ``args`` so that the exception pickles and copies faithfully.
        super().__init__(message, expr, column)
        self.message = message
        self.expr = expr
        self.column = column

    def __str__(self) -> str:
        return f"{self.message} (column {self.column} of selector {self.expr!r})"


class SelectorTooComplex(SelectorError):
    """Raised by ``to_dnf`` when the disjunctive normal form would exceed its size limit."""
