"""Public API for Calico selector expressions.

>>> from calico2cilium.selector import parse
>>> s = parse("app == 'web' && tier != 'db'")
>>> s.matches({"app": "web"})  # tier is absent, and != is true for an absent label
True
>>> str(s)
'app == "web" && tier != "db"'

``parse(expr)`` returns an immutable AST (``Selector``) or raises ``SelectorError`` (with
``message``, ``column`` and ``expr``). See :mod:`calico2cilium.calico.selector` for the details.
"""

from calico2cilium.calico.selector import (
    ATOM_TYPES,
    DNF,
    MAX_CONJUNCTIONS,
    MAX_DEPTH,
    MAX_LABEL_LENGTH,
    All,
    And,
    Atom,
    Conjunction,
    Contains,
    EndsWith,
    Eq,
    Global,
    Has,
    In,
    Literal,
    Not,
    Or,
    Selector,
    SelectorError,
    SelectorTooComplex,
    StartsWith,
    conjoin,
    disjoin,
    from_dnf,
    is_valid_label,
    map_atoms,
    map_labels,
    ne,
    negate,
    normalize,
    not_in,
    parse,
    prefix_labels,
    quote,
    replace_all,
    replace_global,
    to_dnf,
)

__all__ = [
    "ATOM_TYPES",
    "DNF",
    "MAX_CONJUNCTIONS",
    "MAX_DEPTH",
    "MAX_LABEL_LENGTH",
    "All",
    "And",
    "Atom",
    "Conjunction",
    "Contains",
    "EndsWith",
    "Eq",
    "Global",
    "Has",
    "In",
    "Literal",
    "Not",
    "Or",
    "Selector",
    "SelectorError",
    "SelectorTooComplex",
    "StartsWith",
    "conjoin",
    "disjoin",
    "from_dnf",
    "is_valid_label",
    "map_atoms",
    "map_labels",
    "ne",
    "negate",
    "normalize",
    "not_in",
    "parse",
    "prefix_labels",
    "quote",
    "replace_all",
    "replace_global",
    "to_dnf",
]
