"""The one exception of the set algebra: a result that has no exact form here or in Cilium."""

from __future__ import annotations


class Inexpressible(Exception):
    """An exact result cannot be represented, so nothing is rounded: the caller must diagnose.

    ``operator`` names the construct (``contains``, ``named port``, ``source ports`` ...);
    ``detail`` says why, in words a diagnostic can quote; ``code`` is the diagnostic a refused
    policy gets (``None``: the generic C2C303), ``hint`` what the user can do.
    """

    operator: str
    detail: str
    code: str | None
    hint: str | None

    def __init__(
        self, operator: str, detail: str = "", *, code: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(operator, detail)
        self.operator = operator
        self.detail = detail
        self.code = code
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.operator}: {self.detail}" if self.detail else self.operator
