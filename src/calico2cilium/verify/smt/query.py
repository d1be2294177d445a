"""One satisfiability question over the symbolic flow: "is there a flow where these hold?"."""

from __future__ import annotations

import threading
import time
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
        budget_s: float,
        large: bool = False,
    ) -> None:
        """``budget_s``: CPU seconds each ``check`` may take before it gives up (``unknown``)."""
        self.sym = sym
        self.budget_s = budget_s
        sym.prepare([*holds, *(differ or ())])
        self.solver: Any = _solver(sym, large)
        self.solver.add(*(sym.term(e) for e in holds))
        self.left: Any = None
        if differ is not None:
            self.left = sym.term(differ[0])
            self.solver.add(self.left != sym.term(differ[1]))
        self.solver.add(*sym.axioms())
        self.reason = ""
        self.model: Any = None

    def check(self) -> Outcome:
        outcome, out_of_budget = check_within(self.solver, self.budget_s)
        if outcome == z3.sat:
            self.model = self.solver.model()
            return "sat"
        if outcome == z3.unsat:
            return "unsat"
        self.reason = (
            f"CPU budget of {self.budget_s:g}s spent" if out_of_budget else str(self.solver.reason_unknown())
        )
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


def _solver(sym: SymbolicFlow, large: bool) -> Any:
    """Without string families the query is pure bit-vector logic: for a large query, simplify,
    eliminate, bit-blast and hand it to the SAT solver (about 4x faster than the general solver on
    a thousand policies; slower on small queries, whose fixed cost it raises)."""
    if not large or any(f.strings for f in sym.families.values()):
        return z3.Solver()
    return z3.Then("simplify", "solve-eqs", "elim-uncnstr", "bit-blast", "sat").solver()


def check_within(solver: Any, budget_s: float) -> tuple[Any, bool]:
    """``solver.check()``, interrupted once this process has spent ``budget_s`` CPU seconds in it;
    and whether it was. CPU time, not wall time: on a loaded machine the same question gets the
    same answer, only later (z3's own ``timeout`` counts wall time)."""
    start = time.process_time()
    done = threading.Event()
    interrupted = threading.Event()

    def watch() -> None:
        while not done.is_set():
            left = budget_s - (time.process_time() - start)
            if left <= 0:
                interrupted.set()
                solver.ctx.interrupt()
                left = 0.05  # and again, should the check not have started yet
            # CPU time grows no faster than wall time per thread: sleep until it could be spent.
            done.wait(min(max(left, 0.01), 1.0))

    watcher = threading.Thread(target=watch, name="z3-cpu-budget", daemon=True)
    watcher.start()
    try:
        outcome = solver.check()
    finally:
        done.set()
        watcher.join()
    return outcome, interrupted.is_set() and outcome == z3.unknown


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
