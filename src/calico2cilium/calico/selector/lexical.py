"""Lexical facts shared by the tokenizer, the AST and the printer.

Source: projectcalico/calico ``libcalico-go/lib/selector/tokenizer/tokenizer.go``
(``identifierChar``, ``MaxLabelLength``, and the two quote cases of ``AppendTokens``).
"""

from __future__ import annotations

import re
from typing import Final

LABEL_CHARS: Final = "A-Za-z0-9_./-"
"""Characters of a label key, as a regex character-class body (``identifierChar``: no ``:``)."""

MAX_LABEL_LENGTH: Final = 512
"""``MaxLabelLength``: a longer label is an error (it is not split into two tokens)."""

WHITESPACE: Final = " \t"
"""``trimWhitespace`` skips only spaces and tabs; a newline or CR is an unexpected character."""

LABEL_RE: Final = re.compile(f"[{LABEL_CHARS}]{{1,{MAX_LABEL_LENGTH}}}")
"""A whole label key (use ``fullmatch``)."""


def is_valid_label(key: str) -> bool:
    """True if ``key`` can be written as a label in a selector (``tokenizer.ValidLabel``)."""
    return LABEL_RE.fullmatch(key) is not None


def label_problem(key: object) -> str | None:
    """Why ``key`` cannot be a label key in a selector, or None if it can."""
    if not isinstance(key, str):
        return f"a label key must be a string, not {type(key).__name__}"
    if not key:
        return "a label key cannot be empty"
    if len(key) > MAX_LABEL_LENGTH:
        return f"label key is {len(key)} characters long; Calico's limit is {MAX_LABEL_LENGTH}"
    if not is_valid_label(key):
        return f"label key {key!r} may contain only letters, digits and '_', '.', '/', '-'"
    return None


def value_problem(value: object) -> str | None:
    """Why ``value`` cannot be a string literal in a selector, or None if it can.

    A literal is taken verbatim up to the next identical quote, with no escape sequences, so it
    can hold one kind of quote (inside the other kind) but never both.
    """
    if not isinstance(value, str):
        return f"a label value must be a string, not {type(value).__name__}"
    if '"' in value and "'" in value:
        return f"value {value!r} contains both quote characters; Calico selectors have no escapes"
    return None


def quote(value: str) -> str:
    """The literal for ``value``: double quotes unless it contains one (as Calico's printer does)."""
    return f"'{value}'" if '"' in value else f'"{value}"'
