"""The one exception of the set algebra: a result that has no exact form here or in Cilium."""

from __future__ import annotations


class Inexpressible(Exception):
    """An exact result cannot be represented, so nothing is rounded: the caller must diagnose.

    ``operator`` names the construct (``contains``, ``named port``, ``source ports`` ...);
    ``detail`` says why, in words a diagnostic can quote.
    """

    operator: str
    detail: str

    def __init__(self, operator: str, detail: str = "") -> None:
        super().__init__(operator, detail)
        self.operator = operator
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.operator}: {self.detail}" if self.detail else self.operator
