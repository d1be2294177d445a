"""One satisfiability question over the symbolic flow: "is there a flow where these hold?"."""

from __future__ import annotations

from typing import Any, Literal

import z3  # type: ignore[import-untyped]

from calico2cilium.semantics.expr import SUBJECT, Expr
from calico2cilium.semantics.world import IP, Direction, Flow
from calico2cilium.verify.smt.models import SymbolicFlow, pin

Outcome = Literal["sat", "unsat", "unknown"]


class Query:
    """Assert that every formula holds (and that the two formulas of ``differ`` disagree), under
    the world's facts; then ``check`` and read counterexample flows."""

    def __init__(
        self,
        sym: SymbolicFlow,
        holds: list[Expr],
        differ: tuple[Expr, Expr] | None,
        timeout_ms: int,
        large: bool = False,
    ) -> None:
        self.sym = sym
        sym.prepare([*holds, *(differ or ())])
        self.solver: Any = _solver(sym, timeout_ms, large)
        self.solver.add(*(sym.term(e) for e in holds))
        self.left: Any = None
        if differ is not None:
            self.left = sym.term(differ[0])
            self.solver.add(self.left != sym.term(differ[1]))
        self.solver.add(*sym.axioms())
        self.reason = ""
        self.model: Any = None

    def check(self) -> Outcome:
        outcome = self.solver.check()
        if outcome == z3.sat:
            self.model = self.solver.model()
            return "sat"
        if outcome == z3.unsat:
            return "unsat"
        self.reason = str(self.solver.reason_unknown())
        return "unknown"

    def prefer_subject_at(self, ips: tuple[IP, ...]) -> None:
        """After a satisfying ``check``: if some model also puts the subject at one of ``ips`` (a host
        subject's known addresses), show that one; the counterexample reads more easily."""
        if not ips:
            return
        sym = self.sym
        try:
            self.solver.push()
            self.solver.add(
                z3.Or(*(z3.And(sym.ipv6 == (ip.version == 6), sym.ip[SUBJECT] == int(ip)) for ip in ips))
            )
            if self.solver.check() == z3.sat:
                self.model = self.solver.model()
            self.solver.pop()
        except z3.Z3Exception:  # a solver without incremental use: keep the first model
            return

    def flow(self, direction: Direction) -> Flow:
        """The flow of the last satisfying model."""
        return self.sym.flow(self.model if self.model is not None else self.solver.model(), direction)

    def exclude_similar(self, flow: Flow) -> None:
        """Ask next for a flow with another peer kind or protocol, or that the sides decide the other
        way round (``diff`` shows allowed -> denied and denied -> allowed as separate regions)."""
        sym = self.sym
        other = [sym.kind_var != sym.kind_value(flow.peer.kind), sym.proto != flow.protocol]
        if self.left is not None and self.model is not None:
            other.append(self.left != self.model.eval(self.left, model_completion=True))
        self.solver.add(z3.Or(*other))


def _solver(sym: SymbolicFlow, timeout_ms: int, large: bool) -> Any:
    """Without string families the query is pure bit-vector logic: for a large query, simplify,
    eliminate, bit-blast and hand it to the SAT solver (about 4x faster than the general solver on
    a thousand policies; slower on small queries, whose fixed cost it raises)."""
    if not large or any(f.strings for f in sym.families.values()):
        solver = z3.Solver()
    else:
        tactic = z3.Then("simplify", "solve-eqs", "elim-uncnstr", "bit-blast", "sat")
        solver = z3.TryFor(tactic, timeout_ms).solver()
    solver.set("timeout", timeout_ms)
    return solver


def value_on(sym: SymbolicFlow, expr: Expr, flow: Flow) -> bool | None:
    """The z3 reading of ``expr`` on one concrete flow (``None``: the flow breaks the world facts).
    Used to test that the symbolic and concrete interpreters agree."""
    sym.prepare([expr])
    term = sym.term(expr)
    solver = z3.Solver()
    solver.add(*sym.axioms())
    solver.add(*pin(sym, flow))
    if solver.check() != z3.sat:
        return None
    return bool(z3.is_true(solver.model().eval(term, model_completion=True)))
