"""Recursive-descent selector parser, a port of Calico's ``parser.go``.

Source: projectcalico/calico ``libcalico-go/lib/selector/parser/parser.go``. Grammar::

    selector := <blank>                      (=> all())
              | or
    or       := and { "||" and }
    and      := unary { "&&" unary }
    unary    := { "!" } primary              (the "!"s collapse by parity)
    primary  := has(LABEL) | all() | global() | "(" or ")"
              | LABEL ("==" | "!=" | contains | starts with | ends with) STRING
              | LABEL (in | not in) "{" [ STRING { "," STRING } [ "," ] ] "}"

``!`` binds tightest: ``!a == "x" && b == "y"`` is ``(!(a == "x")) && b == "y"``. A trailing comma
in a set is accepted (the loop in ``parseOperation`` stops at any non-string after a comma).

Our only deliberate difference: parentheses nested more than ``MAX_DEPTH`` deep are an error
(Calico has no limit; Python's recursion has one).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from calico2cilium.calico.selector import tokenizer as t
from calico2cilium.calico.selector.errors import SelectorError
from calico2cilium.calico.selector.nodes import (
    All,
    Contains,
    EndsWith,
    Eq,
    Global,
    Has,
    In,
    Not,
    Selector,
    StartsWith,
    conjoin,
    disjoin,
    negate,
)

MAX_DEPTH: Final = 100
"""Deepest nesting of parentheses accepted."""

_VALUE_OPS: Final = {
    t.EQ: ("==", Eq),
    t.NE: ("!=", Eq),
    t.CONTAINS: ("contains", Contains),
    t.STARTS_WITH: ("starts with", StartsWith),
    t.ENDS_WITH: ("ends with", EndsWith),
}
_SET_OPS: Final = {t.IN: "in", t.NOT_IN: "not in"}
_SYMBOLS: Final = {
    t.LPAREN: "'('",
    t.RPAREN: "')'",
    t.LBRACE: "'{'",
    t.RBRACE: "'}'",
    t.COMMA: "','",
    t.EQ: "'=='",
    t.NE: "'!='",
    t.NOT: "'!'",
    t.AND: "'&&'",
    t.OR: "'||'",
    t.HAS: "has(...)",
    t.ALL: "all()",
    t.GLOBAL: "global()",
    t.CONTAINS: "'contains'",
    t.STARTS_WITH: "'starts with'",
    t.ENDS_WITH: "'ends with'",
    t.IN: "'in'",
    t.NOT_IN: "'not in'",
    t.EOF: "the end of the selector",
}


@lru_cache(maxsize=16384)
def parse(expr: str) -> Selector:
    """Parse a Calico selector expression; an empty or blank one means ``all()``.

    Raises ``SelectorError`` (and nothing else) for any string Calico would reject.
    """
    if not isinstance(expr, str):
        raise TypeError(f"a selector expression must be a string, not {type(expr).__name__}")
    tokens = t.tokenize(expr)
    if tokens[0].kind == t.EOF:
        return All()
    parser = _Parser(expr, tokens)
    node = parser.or_expr(0)
    token = parser.tokens[parser.i]
    if token.kind != t.EOF:
        detail = "a missing '&&' or '||'?" if token.kind != t.RPAREN else "no '(' to match it"
        raise parser.error(f"unexpected {_describe(token)} after a complete expression ({detail})", token)
    return node


def _describe(token: t.Token) -> str:
    if token.kind == t.LABEL:
        return f"label '{token.value}'"
    if token.kind == t.STRING:
        return f"string {token.value!r}"
    return _SYMBOLS[token.kind]


class _Parser:
    __slots__ = ("expr", "i", "tokens")

    def __init__(self, expr: str, tokens: list[t.Token]) -> None:
        self.expr = expr
        self.tokens = tokens
        self.i = 0

    def error(self, message: str, token: t.Token) -> SelectorError:
        return SelectorError(message, self.expr, token.start + 1)

    def or_expr(self, depth: int) -> Selector:
        operands = [self.and_expr(depth)]
        while self.tokens[self.i].kind == t.OR:
            self.i += 1
            operands.append(self.and_expr(depth))
        return operands[0] if len(operands) == 1 else disjoin(operands)

    def and_expr(self, depth: int) -> Selector:
        operands = [self.unary(depth)]
        while self.tokens[self.i].kind == t.AND:
            self.i += 1
            operands.append(self.unary(depth))
        return operands[0] if len(operands) == 1 else conjoin(operands)

    def unary(self, depth: int) -> Selector:
        negated = False
        while self.tokens[self.i].kind == t.NOT:
            negated = not negated
            self.i += 1
        node = self.primary(depth)
        return negate(node) if negated else node

    def primary(self, depth: int) -> Selector:
        token = self.tokens[self.i]
        self.i += 1
        kind = token.kind
        if kind == t.LABEL:
            return self.operation(token)
        if kind == t.HAS:
            return Has(token.value)
        if kind == t.ALL:
            return All()
        if kind == t.GLOBAL:
            return Global()
        if kind == t.LPAREN:
            if depth >= MAX_DEPTH:
                raise self.error(f"parentheses nested more than {MAX_DEPTH} deep", token)
            node = self.or_expr(depth + 1)
            close = self.tokens[self.i]
            if close.kind != t.RPAREN:
                raise self.error(
                    f"expected ')' to close the '(' at column {token.start + 1}, found {_describe(close)}",
                    close,
                )
            self.i += 1
            return node
        if kind == t.EOF:
            raise self.error("unexpected end of selector: expected an expression", token)
        raise self.error(
            f"expected an expression (such as has(k), k == 'v', all(), '(' or '!'), found {_describe(token)}",
            token,
        )

    def operation(self, label: t.Token) -> Selector:
        op = self.tokens[self.i]
        self.i += 1
        key = label.value
        if op.kind in _VALUE_OPS:
            spelling, node_type = _VALUE_OPS[op.kind]
            value = self.tokens[self.i]
            if value.kind != t.STRING:
                hint = " (the right-hand side must be a quoted literal)" if value.kind == t.LABEL else ""
                raise self.error(
                    f"expected a quoted string after '{spelling}', found {_describe(value)}{hint}", value
                )
            self.i += 1
            node = node_type(key, value.value)
            return Not(node) if op.kind == t.NE else node
        if op.kind in _SET_OPS:
            return self.set_operation(key, op)
        if key in ("has", "all", "global") and op.kind == t.LPAREN:
            message = f"'{key} (' is not allowed: write '{key}(' with no space before '('"
            raise self.error(message, op)
        raise self.error(
            f"expected an operator after label '{key}' (==, !=, in, not in, contains, starts with or "
            f"ends with), found {_describe(op)}",
            op,
        )

    def set_operation(self, key: str, op: t.Token) -> Selector:
        tokens = self.tokens
        brace = tokens[self.i]
        if brace.kind != t.LBRACE:
            raise self.error(
                f'expected a set literal such as {{"a", "b"}} after \'{_SET_OPS[op.kind]}\', found {_describe(brace)}',
                brace,
            )
        self.i += 1
        values: list[str] = []
        while tokens[self.i].kind == t.STRING:
            values.append(tokens[self.i].value)
            self.i += 1
            if tokens[self.i].kind != t.COMMA:
                break
            self.i += 1  # a trailing comma before '}' is accepted, as in parser.go
        close = tokens[self.i]
        if close.kind != t.RBRACE:
            raise self.error(
                f"expected a quoted string, ',' or '}}' in the set, found {_describe(close)}", close
            )
        self.i += 1
        node = In(key, frozenset(values))
        return Not(node) if op.kind == t.NOT_IN else node
