"""Selector tokenizer: a port of Calico's ``AppendTokens`` onto one compiled regex.

Source: projectcalico/calico ``libcalico-go/lib/selector/tokenizer/tokenizer.go`` (the version with
``MaxLabelLength``, ``cutPrefixCheckBreak`` and ``cutMultiWordPrefixCheckBreak``). The rules it
encodes, each of which differs from what one might guess:

- Only space and tab are skipped (``trimWhitespace``); a newline outside a string is an error.
- Strings run verbatim to the next identical quote: no escapes, newlines allowed inside.
- Context matters: right after a *label* token, ``contains``, ``starts with``, ``ends with``,
  ``not in`` and ``in`` are operators (the multi-word ones with any blanks between the words,
  including none: ``startswith``, ``notin``), each followed by a word boundary; anywhere else those
  words are labels (``contains contains "x"`` is valid).
- ``has(``, ``all(`` and ``global(`` need the ``(`` right after the word (``has (a)`` makes ``has``
  a label, and the parser then rejects it); blanks are allowed inside the parentheses.
- A label is ``[A-Za-z0-9_./-]+``, at most 512 characters; a longer one is an error, not two tokens.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from calico2cilium.calico.selector.errors import SelectorError
from calico2cilium.calico.selector.lexical import LABEL_CHARS, MAX_LABEL_LENGTH

# Token kinds.
LPAREN: Final = "LPAREN"
RPAREN: Final = "RPAREN"
LBRACE: Final = "LBRACE"
RBRACE: Final = "RBRACE"
COMMA: Final = "COMMA"
EQ: Final = "EQ"
NE: Final = "NE"
NOT: Final = "NOT"
AND: Final = "AND"
OR: Final = "OR"
STRING: Final = "STRING"
LABEL: Final = "LABEL"
HAS: Final = "HAS"
ALL: Final = "ALL"
GLOBAL: Final = "GLOBAL"
CONTAINS: Final = "CONTAINS"
STARTS_WITH: Final = "STARTSWITH"
ENDS_WITH: Final = "ENDSWITH"
IN: Final = "IN"
NOT_IN: Final = "NOTIN"
EOF: Final = "EOF"


class Token(NamedTuple):
    kind: str
    value: str  # the label or string contents; "" for the other kinds
    start: int  # 0-based index in the expression


_L = f"[{LABEL_CHARS}]"
_B = f"[ \t]*+(?!{_L})"  # blanks then a word boundary (``isWordBoundary`` after ``trimWhitespace``)

# One pass with ``finditer``: every alternative starts with the blanks it skips, and the last one
# takes any single character, so the matches tile the whole input. The operator words are only
# recognised in the same match as the label before them, which is Calico's "right after a label"
# rule; a bare label followed by another label-like token is then rejected in ``tokenize``.
# (Few capturing groups on purpose: each one makes every match slower.)
_TOKEN: Final = re.compile(
    r"[ \t]*+(?:"
    r"(?P<SYM>==|!=|&&|\|\||[(){},!])"
    r"|(?P<BADOP>[=&|])"
    r"""|(?P<STRING>"[^"]*+"?|'[^']*+'?)"""
    rf"|(?P<HAS>has\([ \t]*+{_L}*+[ \t]*+\)?)"
    r"|(?P<FUNC>(?:all|global)\([ \t]*+\)?)"
    rf"|(?P<LABEL>{_L}++)(?:[ \t]*+(?P<OP>"
    rf"contains(?!{_L})|(?:starts[ \t]*+with|ends[ \t]*+with|not[ \t]*+in){_B}|in(?!{_L})"
    r"))?"
    r"|(?P<EOF>\Z)|(?P<BADCHAR>.)"
    r")",
    re.DOTALL,
)
_SYMBOL_KINDS: Final = {
    "==": EQ,
    "!=": NE,
    "&&": AND,
    "||": OR,
    "(": LPAREN,
    ")": RPAREN,
    "{": LBRACE,
    "}": RBRACE,
    ",": COMMA,
    "!": NOT,
}
_OP_KINDS: Final = {"c": CONTAINS, "s": STARTS_WITH, "e": ENDS_WITH, "n": NOT_IN, "i": IN}
_WORDS: Final = frozenset({"LABEL", "HAS", "FUNC"})  # what cannot follow a bare label
_BAD_OP_HINT: Final = {"=": "'==' (a single '=' is not an operator)", "&": "'&&'", "|": "'||'"}
_new = tuple.__new__


def tokenize(expr: str) -> list[Token]:
    """The tokens of ``expr``, ending with an ``EOF`` token. Raises ``SelectorError``."""
    tokens: list[Token] = []
    append = tokens.append
    bare_label = False  # the previous token is a label with no operator after it
    for m in _TOKEN.finditer(expr):
        group = m.lastgroup
        assert group is not None
        start = m.start(group)
        if group == "SYM":
            append(_new(Token, (_SYMBOL_KINDS[m[group]], "", start)))
            bare_label = False
            continue
        if bare_label and group in _WORDS:
            raise _expected_operator(expr, tokens[-1], start)
        bare_label = False
        text: str = m[group]
        if group == "STRING":
            if len(text) < 2 or text[-1] != text[0]:
                quote = text[0]
                raise SelectorError(
                    f"unterminated string: no closing {quote} (selectors have no escapes)", expr, start + 1
                )
            append(_new(Token, (STRING, text[1:-1], start)))
        elif group == "LABEL":
            append(_new(Token, (LABEL, _label(expr, text, start), start)))
            bare_label = True
        elif group == "OP":
            label_start = m.start("LABEL")
            append(_new(Token, (LABEL, _label(expr, m["LABEL"], label_start), label_start)))
            append(_new(Token, (_OP_KINDS[text[0]], "", start)))
        elif group == "HAS":
            append(_new(Token, (HAS, _has_key(expr, text, start), start)))
        elif group == "FUNC":
            name = ALL if text[0] == "a" else GLOBAL
            if not text.endswith(")"):
                raise SelectorError(f"expected ')' after '{name.lower()}('", expr, m.end() + 1)
            append(_new(Token, (name, "", start)))
        elif group == "EOF":
            append(_new(Token, (EOF, "", start)))
            return tokens
        elif group == "BADOP":
            raise SelectorError(f"unexpected '{text}': expected {_BAD_OP_HINT[text]}", expr, start + 1)
        else:
            raise _bad_char(expr, start, tokens)
    raise AssertionError("unreachable: the EOF alternative matches at the end")  # pragma: no cover


def _label(expr: str, label: str, start: int) -> str:
    if len(label) > MAX_LABEL_LENGTH:
        raise _too_long(expr, start, label)
    return label


def _has_key(expr: str, text: str, start: int) -> str:
    """The label in ``text`` (``has(`` + blanks + label + blanks + optional ``)``)."""
    inner = text[4:]
    key = inner.strip(" \t)")
    key_start = start + 4 + len(inner) - len(inner.lstrip(" \t"))
    if not key:
        raise SelectorError("expected a label name inside has(...)", expr, key_start + 1)
    if len(key) > MAX_LABEL_LENGTH:
        raise _too_long(expr, key_start, key)
    if not text.endswith(")"):
        raise SelectorError("expected ')' to close has(", expr, start + len(text) + 1)
    return key


def _too_long(expr: str, start: int, label: str) -> SelectorError:
    return SelectorError(
        f"label {label[:32]}... is {len(label)} characters long; the limit is {MAX_LABEL_LENGTH}",
        expr,
        start + 1,
    )


def _expected_operator(expr: str, label: Token, pos: int) -> SelectorError:
    return SelectorError(
        f"expected an operator after label '{label.value}' "
        "(==, !=, in, not in, contains, starts with or ends with)",
        expr,
        pos + 1,
    )


def _bad_char(expr: str, pos: int, tokens: list[Token]) -> SelectorError:
    char = expr[pos]
    if char in "\r\n":
        message = (
            "unexpected line break: only spaces and tabs may separate tokens "
            "(a YAML block scalar, '|' or '>', adds a trailing newline)"
        )
    elif tokens and tokens[-1].kind == LABEL:
        return _expected_operator(expr, tokens[-1], pos)
    else:
        message = f"unexpected character {char!r}"
    return SelectorError(message, expr, pos + 1)
