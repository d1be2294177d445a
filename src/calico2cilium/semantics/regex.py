"""The regular expressions of Cilium L7 HTTP rules, for the verifier: a parser for the subset of
RE2 syntax it models, and its concrete interpretation (a Python pattern). The proof reads the same
syntax trees as automata (``verify/smt/http.py``).

Cilium passes ``method`` and ``path`` to Envoy as ``SafeRegexMatch`` (RE2) header matchers
(cilium ``pkg/envoy/server.go`` ``getHTTPRule``), and Envoy's ``RegexMatcher`` "is matched against
the full string, not as a partial match" (``envoy/type/matcher/v3/regex.proto``). Modelled:
literals, ``\\`` before punctuation (the literal), ``.`` (any character but a newline, RE2's
default), classes ``[...]``/``[^...]`` with ranges, groups ``(...)``/``(?:...)``, ``|``, the
postfix ``*``, ``+``, ``?``, and ``^``/``$`` at the very ends (no-ops in a full match). Anything
else (repetition counts, ``\\d``-style classes, flags, lazy operators) raises ``ValueError``, which
callers report as outside the proof.

This module belongs to the verifier: it shares nothing with the converter's regex writer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Node = tuple[Any, ...]
"""``("lit", ch)``, ``("any",)``, ``("class", negated, ((lo, hi), ...))``, ``("cat", nodes)``,
``("alt", nodes)``, ``("star"|"plus"|"opt", node)``."""

_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


@dataclass
class _Parser:
    text: str
    pos: int = 0

    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def take(self) -> str:
        ch = self.text[self.pos]
        self.pos += 1
        return ch

    def alternation(self) -> Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else ("alt", tuple(branches))

    def sequence(self) -> Node:
        items: list[Node] = []
        while self.peek() not in (None, "|", ")"):
            items.append(self.postfix())
        return ("cat", tuple(items))

    def postfix(self) -> Node:
        node = self.atom()
        while self.peek() in ("*", "+", "?"):
            op = self.take()
            if self.peek() in ("?", "+", "*"):
                raise ValueError("lazy or possessive operators are not modelled")
            node = ({"*": "star", "+": "plus", "?": "opt"}[op], node)
        if self.peek() == "{":
            raise ValueError("repetition counts are not modelled")
        return node

    def atom(self) -> Node:
        ch = self.take()
        if ch == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self.peek() == "?":
                raise ValueError("group flags are not modelled")
            inner = self.alternation()
            if self.peek() != ")":
                raise ValueError("unbalanced parenthesis")
            self.take()
            return inner
        if ch == "[":
            return self.char_class()
        if ch == ".":
            return ("any",)
        if ch == "\\":
            return ("lit", self.escape())
        if ch in "^$":
            at_start = ch == "^" and self.pos == 1
            at_end = ch == "$" and self.pos == len(self.text)
            if at_start or at_end:
                return ("cat", ())
            raise ValueError("anchors inside the pattern are not modelled")
        if ch in "*+?{)":
            raise ValueError(f"unexpected {ch!r}")
        return ("lit", ch)

    def escape(self) -> str:
        if self.peek() is None:
            raise ValueError("trailing backslash")
        ch = self.take()
        if ch not in _PUNCT:
            raise ValueError(f"escape \\{ch} is not modelled")
        return ch

    def char_class(self) -> Node:
        negated = self.peek() == "^"
        if negated:
            self.take()
        ranges: list[tuple[str, str]] = []
        first = True
        while True:
            if self.peek() is None:
                raise ValueError("unterminated character class")
            ch = self.take()
            if ch == "]" and not first:
                break
            first = False
            if ch == "[":
                raise ValueError("nested classes are not modelled")
            lo = self.escape() if ch == "\\" else ch
            hi = lo
            if self.peek() == "-" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] != "]":
                self.take()
                end = self.take()
                hi = self.escape() if end == "\\" else end
                if hi < lo:
                    raise ValueError("bad class range")
            ranges.append((lo, hi))
        return ("class", negated, tuple(ranges))


@lru_cache(maxsize=4096)
def parse(pattern: str) -> Node:
    """The pattern's syntax tree, or ``ValueError`` for what is not modelled."""
    parser = _Parser(pattern)
    node = parser.alternation()
    if parser.pos != len(pattern):
        raise ValueError("unbalanced parenthesis")
    return node


def _python(node: Node) -> str:
    kind = node[0]
    if kind == "lit":
        return re.escape(str(node[1]))
    if kind == "any":
        return "[^\\n]"
    if kind == "class":
        body = "".join(re.escape(lo) + ("-" + re.escape(hi) if hi != lo else "") for lo, hi in node[2])
        return f"[{'^' if node[1] else ''}{body}]" if body else ("[\\s\\S]" if node[1] else "(?!)")
    if kind == "cat":
        return "".join(_python(n) for n in node[1])
    if kind == "alt":
        return "(?:" + "|".join(_python(n) for n in node[1]) + ")"
    return "(?:" + _python(node[1]) + ")" + {"star": "*", "plus": "+", "opt": "?"}[kind]


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(_python(parse(pattern)), re.DOTALL)


def full_match(pattern: str, value: str) -> bool:
    """Whether ``value`` is matched in full by ``pattern`` (the concrete interpretation)."""
    return _compiled(pattern).fullmatch(value) is not None


__all__ = ["Node", "full_match", "parse"]
