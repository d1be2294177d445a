"""The Calico selector language: parse, evaluate, print, rewrite and expand to DNF.

A port of projectcalico/calico ``libcalico-go/lib/selector`` (``tokenizer/tokenizer.go``,
``parser/parser.go``, ``parser/ast.go``). Modules: ``lexical`` (label/quote rules), ``tokenizer``,
``parser`` (``parse``), ``nodes`` (the AST and evaluation), ``dnf`` (``to_dnf``), ``rewrite``
(``prefix_labels``, ``replace_all``...), ``errors``.
"""

from calico2cilium.calico.selector.dnf import DNF, MAX_CONJUNCTIONS, Conjunction, Literal, from_dnf, to_dnf
from calico2cilium.calico.selector.errors import SelectorError, SelectorTooComplex
from calico2cilium.calico.selector.lexical import MAX_LABEL_LENGTH, is_valid_label, quote
from calico2cilium.calico.selector.nodes import (
    ATOM_TYPES,
    All,
    And,
    Atom,
    Contains,
    EndsWith,
    Eq,
    Global,
    Has,
    In,
    Not,
    Or,
    Selector,
    StartsWith,
    conjoin,
    disjoin,
    ne,
    negate,
    not_in,
)
from calico2cilium.calico.selector.parser import MAX_DEPTH, parse
from calico2cilium.calico.selector.rewrite import (
    StringTest,
    expand_string_tests,
    map_atoms,
    map_labels,
    normalize,
    prefix_labels,
    replace_all,
    replace_global,
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
    "StringTest",
    "conjoin",
    "disjoin",
    "expand_string_tests",
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
