"""The symbolic interpreter of the formula language, on the z3 SMT solver.

This subpackage is the only place that imports z3 (which has no type stubs). Why z3: its string
theory decides the Calico selector operators (``==``, prefix, suffix, contains) exactly,
bit-vectors decide CIDR membership and port ranges, and a model of a satisfiable query *is* a
concrete counterexample flow. ``terms`` builds variables and translates formulas, ``axioms`` states
the facts of the world, ``models`` turns models back into flows, ``query`` is what the engine uses.
"""

from calico2cilium.verify.smt.models import SymbolicFlow, pin
from calico2cilium.verify.smt.query import Query, value_on

__all__ = ["Query", "SymbolicFlow", "pin", "value_on"]
