"""Property tests for the selector language (hypothesis).

Besides round-trip and DNF properties, the parser is checked differentially against a direct,
unoptimised Python transcription of Calico's Go code (projectcalico/calico
``libcalico-go/lib/selector/tokenizer/tokenizer.go`` ``AppendTokens``, ``parser/parser.go``
``parseRoot``/``parseOrExpression``/``parseAndExpression``/``parseOperation`` and the
``Evaluate`` methods of ``parser/ast.go``): for generated text, both must accept the same strings
and, when they do, agree on every label set.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from calico2cilium.selector import (
    MAX_DEPTH,
    All,
    And,
    Contains,
    EndsWith,
    Eq,
    Global,
    Has,
    In,
    Not,
    Or,
    Selector,
    SelectorError,
    SelectorTooComplex,
    StartsWith,
    conjoin,
    disjoin,
    from_dnf,
    ne,
    negate,
    normalize,
    not_in,
    parse,
    prefix_labels,
    quote,
    replace_all,
    to_dnf,
)

# ----------------------------------------------------------------------------------------------
# Reference: Calico's Go code transcribed statement by statement (an oracle, not optimised).
# ----------------------------------------------------------------------------------------------


class GoError(Exception):
    pass


def _ident_char(c: str) -> bool:  # tokenizer.go identifierChar
    return c in string.ascii_letters or c in string.digits or c in "_./-"


def _trim(s: str) -> str:  # trimWhitespace
    return s.lstrip(" \t")


def _cut_identifier(s: str) -> tuple[str, str]:
    i = 0
    while i < len(s) and _ident_char(s[i]):
        i += 1
    ident = s[:i]
    if len(ident) > 512:
        raise GoError("label too long")
    if not ident:
        raise GoError("expected identifier")
    return ident, s[i:]


def _is_word_boundary(s: str) -> bool:
    return s == "" or not _ident_char(s[0])


def _cut_prefix_check_break(s: str, prefix: str) -> tuple[str, bool]:
    if not s.startswith(prefix):
        return s, False
    rest = s[len(prefix) :]
    return (rest, True) if _is_word_boundary(rest) else (s, False)


def _cut_multi_word(s: str, *words: str) -> tuple[str, bool]:
    rest = s
    for word in words:
        if not rest.startswith(word):
            return s, False
        rest = _trim(rest[len(word) :])
    return (rest, True) if _is_word_boundary(rest) else (s, False)


_GO_SIMPLE = {"(": "LPAREN", ")": "RPAREN", "{": "LBRACE", "}": "RBRACE", ",": "COMMA"}
_GO_DOUBLE = {"=": ("==", "EQ"), "&": ("&&", "AND"), "|": ("||", "OR")}
_GO_WORD_OPS = (
    ("CONTAINS", ("contains",)),
    ("STARTSWITH", ("starts", "with")),
    ("ENDSWITH", ("ends", "with")),
    ("NOTIN", ("not", "in")),
    ("IN", ("in",)),
)


def go_tokenize(s: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    while True:
        s = _trim(s)
        if not s:
            tokens.append(("EOF", ""))
            return tokens
        last = tokens[-1][0] if tokens else None
        c = s[0]
        if c in _GO_SIMPLE:
            tokens.append((_GO_SIMPLE[c], ""))
            s = s[1:]
        elif c in "\"'":
            end = s.find(c, 1)
            if end == -1:
                raise GoError("unterminated string")
            tokens.append(("STRING", s[1:end]))
            s = s[end + 1 :]
        elif c in _GO_DOUBLE:
            pair, kind = _GO_DOUBLE[c]
            if not s.startswith(pair):
                raise GoError("expected " + pair)
            tokens.append((kind, ""))
            s = s[2:]
        elif c == "!":
            if s.startswith("!="):
                tokens.append(("NE", ""))
                s = s[2:]
            else:
                tokens.append(("NOT", ""))
                s = s[1:]
        elif last == "LABEL":
            for kind, words in _GO_WORD_OPS:
                if len(words) == 1:
                    rest, found = _cut_prefix_check_break(s, words[0])
                else:
                    rest, found = _cut_multi_word(s, *words)
                if found:
                    tokens.append((kind, ""))
                    s = rest
                    break
            else:
                raise GoError("expected operator after label")
        elif s.startswith("has("):
            ident, s = _cut_identifier(_trim(s[4:]))
            s = _trim(s)
            if not s.startswith(")"):
                raise GoError("no closing ')' after has(")
            tokens.append(("HAS", ident))
            s = s[1:]
        elif s.startswith(("all(", "global(")):
            word = "all" if s.startswith("all(") else "global"
            s = _trim(s[len(word) + 1 :])
            if not s.startswith(")"):
                raise GoError("no closing ')'")
            tokens.append((word.upper(), ""))
            s = s[1:]
        else:
            ident, s = _cut_identifier(s)
            tokens.append(("LABEL", ident))


Node = tuple[Any, ...]


def go_parse(s: str) -> Node:
    tokens = go_tokenize(s)
    if tokens[0][0] == "EOF":
        return ("all",)
    node, i = _go_or(tokens, 0)
    if len(tokens) - i != 1:
        raise GoError("unexpected content at end of selector")
    return node


def _go_or(tokens: list[tuple[str, str]], i: int) -> tuple[Node, int]:
    node, i = _go_and(tokens, i)
    nodes = [node]
    while tokens[i][0] == "OR":
        node, i = _go_and(tokens, i + 1)
        nodes.append(node)
    return (nodes[0] if len(nodes) == 1 else ("or", nodes)), i


def _go_and(tokens: list[tuple[str, str]], i: int) -> tuple[Node, int]:
    node, i = _go_operation(tokens, i)
    nodes = [node]
    while tokens[i][0] == "AND":
        node, i = _go_operation(tokens, i + 1)
        nodes.append(node)
    return (nodes[0] if len(nodes) == 1 else ("and", nodes)), i


def _go_operation(tokens: list[tuple[str, str]], i: int) -> tuple[Node, int]:
    negated = False
    while tokens[i][0] == "NOT":
        negated = not negated
        i += 1
    kind, value = tokens[i]
    node: Node
    if kind == "HAS":
        node, i = ("has", value), i + 1
    elif kind in ("ALL", "GLOBAL"):
        node, i = (kind.lower(),), i + 1
    elif kind == "LABEL":
        if len(tokens) - i < 3:
            raise GoError("unexpected EOF")
        op = tokens[i + 1][0]
        if op in ("EQ", "NE", "CONTAINS", "STARTSWITH", "ENDSWITH"):
            if tokens[i + 2][0] != "STRING":
                raise GoError("expected string")
            node, i = (op.lower(), value, tokens[i + 2][1]), i + 3
        elif op in ("IN", "NOTIN"):
            if tokens[i + 2][0] != "LBRACE":
                raise GoError("expected set literal")
            j = i + 3
            values = []
            while tokens[j][0] == "STRING":
                values.append(tokens[j][1])
                j += 1
                if tokens[j][0] != "COMMA":
                    break
                j += 1
            if tokens[j][0] != "RBRACE":
                raise GoError("expected }")
            node, i = (op.lower(), value, frozenset(values)), j + 1
        else:
            raise GoError("expected == or !=")
    elif kind == "LPAREN":
        node, i = _go_or(tokens, i + 1)
        if tokens[i][0] != "RPAREN":
            raise GoError("expected )")
        i += 1
    else:
        raise GoError("unexpected token")
    return (("not", node) if negated else node), i


def go_eval(node: Node, labels: dict[str, str]) -> bool:
    kind = node[0]
    if kind in ("all", "global"):
        return True
    if kind == "not":
        return not go_eval(node[1], labels)
    if kind == "and":
        return all(go_eval(n, labels) for n in node[1])
    if kind == "or":
        return any(go_eval(n, labels) for n in node[1])
    key = node[1]
    present = key in labels
    value = labels.get(key, "")
    if kind == "has":
        return present
    if kind in ("ne", "notin"):  # LabelNeValueNode / LabelNotInSetNode: true when absent
        return not present or (value != node[2] if kind == "ne" else value not in node[2])
    if not present:
        return False
    if kind == "eq":
        return bool(value == node[2])
    if kind == "in":
        return value in node[2]
    if kind == "contains":
        return node[2] in value
    if kind == "startswith":
        return value.startswith(node[2])
    assert kind == "endswith"
    return value.endswith(node[2])


# ----------------------------------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------------------------------

KEYS = ["a", "b", "c/d.e", "in"]
VALUES = ["", "x", "y", "xy", "yx", "x'", '"y', "'", '"']

keys = st.sampled_from(KEYS)
values = st.one_of(
    st.sampled_from(VALUES),
    st.text(max_size=4).filter(lambda v: not ('"' in v and "'" in v)),
)
label_maps = st.dictionaries(keys, st.sampled_from([*VALUES, "xyz", "zx", "a b"]), max_size=4)

atoms: st.SearchStrategy[Selector] = st.one_of(
    st.just(All()),
    st.just(Global()),
    st.builds(Has, keys),
    st.builds(Eq, keys, values),
    st.builds(Contains, keys, values),
    st.builds(StartsWith, keys, values),
    st.builds(EndsWith, keys, values),
    st.builds(In, keys, st.frozensets(values, max_size=3)),
)


def _normal(children: st.SearchStrategy[Selector]) -> st.SearchStrategy[Selector]:
    many = st.lists(children, min_size=2, max_size=3)
    return st.one_of(children.map(negate), many.map(conjoin), many.map(disjoin))


def _raw(children: st.SearchStrategy[Selector]) -> st.SearchStrategy[Selector]:
    some = st.lists(children, max_size=3).map(tuple)
    return st.one_of(children.map(Not), some.map(And), some.map(Or))


selectors = st.recursive(atoms, _normal, max_leaves=10)
raw_selectors = st.recursive(atoms, _raw, max_leaves=10)

# Text from the grammar, with Calico's alternative spellings and spacing.
_blank = st.sampled_from(["", " ", "\t", "  "])
_sep = st.sampled_from([" ", "\t", " \t "])  # between a label and a word operator


@st.composite
def _literal(draw: st.DrawFn) -> str:
    value = draw(st.sampled_from(VALUES))
    if '"' in value or "'" in value:
        return quote(value)
    q = draw(st.sampled_from("\"'"))
    return f"{q}{value}{q}"


@st.composite
def _atom_text(draw: st.DrawFn) -> str:
    key = draw(keys)
    b1, b2, b3 = draw(_blank), draw(_blank), draw(_blank)
    choice = draw(st.integers(0, 8))
    if choice == 0:
        return f"has({b1}{key}{b2})"
    if choice == 1:
        return f"{draw(st.sampled_from(['all', 'global']))}({b1})"
    if choice in (2, 3):
        op = "==" if choice == 2 else "!="
        return f"{key}{b1}{op}{b2}{draw(_literal())}"
    if choice in (4, 5, 6):
        word = draw(st.sampled_from(["contains", "starts with", "startswith", "ends\twith", "endswith"]))
        return f"{key}{draw(_sep)}{word}{b2}{draw(_literal())}"
    items: list[str] = draw(st.lists(_literal(), max_size=3))
    comma: bool = draw(st.booleans())
    trailing = "," if items and comma else ""
    word = draw(st.sampled_from(["in", "not in", "notin", "not  in"]))
    return f"{key}{draw(_sep)}{word}{b2}{{{b3}{', '.join(items)}{trailing}}}"


def _compound_text(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(st.integers(1, 3), _blank, children).map(lambda t: "!" * t[0] + t[1] + t[2]),
        st.tuples(_blank, children, _blank).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        st.tuples(children, _blank, st.sampled_from(["&&", "||"]), _blank, children).map("".join),
    )


grammar_text = st.one_of(_blank, st.recursive(_atom_text(), _compound_text, max_leaves=8))

FRAGMENTS = [
    "a", "in", "not", "contains", "starts", "with", "has", "all", "global", "has(a)", "has( b )",
    "has(", "all()", "global()", "(", ")", "{", "}", ",", "==", "!=", "!", "&&", "||", "=", "&",
    "|", '"x"', "'y'", '""', "'\"'", '"', "'", "\n", "%", " ", "\t", ":", "k" * 513,
]  # fmt: skip


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    text = draw(grammar_text)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        action = draw(st.integers(0, 2))
        if action == 0:
            text = text[:i] + text[i + 1 :]
        elif action == 1:
            text = text[:i] + draw(st.sampled_from(FRAGMENTS)) + text[i:]
        else:
            text = text[:i] + draw(st.sampled_from(FRAGMENTS)) + text[i + 1 :]
    return text


token_soup = st.lists(st.tuples(st.sampled_from(FRAGMENTS), _blank), max_size=10).map(
    lambda parts: "".join(f + b for f, b in parts)
)


def parse_or_none(text: str) -> Selector | None:
    try:
        return parse(text)
    except SelectorError:
        return None


def go_parse_or_none(text: str) -> Node | None:
    try:
        return go_parse(text)
    except GoError:
        return None


# ----------------------------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------------------------


@given(selectors)
def test_print_parse_round_trip(sel: Selector) -> None:
    text = str(sel)
    again = parse(text)
    assert again == sel
    assert str(again) == text
    assert normalize(sel) == sel


@given(raw_selectors, st.lists(label_maps, max_size=4))
def test_any_tree_prints_to_an_equivalent_selector(sel: Selector, maps: list[dict[str, str]]) -> None:
    again = parse(str(sel))
    assert again == normalize(sel)
    for labels in maps:
        assert again.matches(labels) == sel.matches(labels) == normalize(sel).matches(labels)


@given(raw_selectors, st.lists(label_maps, min_size=1, max_size=6))
def test_dnf_is_equivalent(sel: Selector, maps: list[dict[str, str]]) -> None:
    try:
        dnf = to_dnf(sel)
    except SelectorTooComplex:
        assume(False)
        raise
    back = from_dnf(dnf)
    for labels in maps:
        expected = sel.matches(labels)
        assert any(all(lit.matches(labels) for lit in conj) for conj in dnf) == expected
        assert back.matches(labels) == expected
    for conj in dnf:
        assert not any(isinstance(lit.atom, All) for lit in conj)


@given(keys, values, st.frozensets(values, max_size=3), label_maps)
def test_ne_and_not_in_match_when_label_absent(
    key: str, value: str, members: frozenset[str], labels: dict[str, str]
) -> None:
    labels.pop(key, None)
    assert ne(key, value).matches(labels)
    assert not_in(key, members).matches(labels)
    assert parse(f"{key} != {quote(value)}").matches(labels)
    assert parse(str(not_in(key, members))).matches(labels)
    assert not Eq(key, value).matches(labels)
    assert not In(key, members).matches(labels)


@given(selectors, label_maps, keys, st.sampled_from(VALUES))
def test_only_mentioned_labels_matter(sel: Selector, labels: dict[str, str], key: str, value: str) -> None:
    assume(key not in sel.labels())
    changed = {**labels, key: value}
    assert sel.matches(changed) == sel.matches(labels)
    del changed[key]
    assert sel.matches(changed) == sel.matches(labels)


@given(selectors, label_maps)
def test_prefix_labels_renames_consistently(sel: Selector, labels: dict[str, str]) -> None:
    prefixed = prefix_labels(sel, "pcns.")
    assert prefixed.labels() == {"pcns." + k for k in sel.labels()}
    assert prefixed.matches({"pcns." + k: v for k, v in labels.items()}) == sel.matches(labels)
    assert parse(str(prefixed)) == prefixed


@given(selectors, selectors, label_maps)
def test_replace_all_substitutes(sel: Selector, replacement: Selector, labels: dict[str, str]) -> None:
    replaced = replace_all(sel, replacement)
    assert parse(str(replaced)) == replaced
    if replacement.matches(labels):  # where the replacement is true it acts like all()
        assert replaced.matches(labels) == sel.matches(labels)


@settings(max_examples=400)
@given(grammar_text, st.lists(label_maps, max_size=5))
@example("a in {'x',}", [{"a": "x"}])
@example("!a notin{} || in in {'in'}", [{}, {"in": "in"}])
def test_grammar_text_agrees_with_calico(text: str, maps: list[dict[str, str]]) -> None:
    reference = go_parse(text)  # the generator only produces valid selectors
    sel = parse(text)
    assert parse(str(sel)) == sel
    for labels in maps:
        assert sel.matches(labels) == go_eval(reference, labels), labels


@settings(max_examples=600)
@given(st.one_of(mutated_text(), token_soup), st.lists(label_maps, max_size=3))
@example("a starts with x", [])
@example("a not in x", [])
@example("has (a)", [])
@example("a == 'b'\n", [])
@example("k" * 512 + "in {}", [])
def test_accepts_exactly_what_calico_accepts(text: str, maps: list[dict[str, str]]) -> None:
    reference = go_parse_or_none(text)
    sel = parse_or_none(text)
    assert (sel is None) == (reference is None), (text, reference, sel)
    if sel is not None and reference is not None:
        for labels in maps:
            assert sel.matches(labels) == go_eval(reference, labels), labels


@settings(max_examples=500)
@given(st.one_of(st.text(), st.text(alphabet="ab()!=&|\"' {},\t\nhasl.-/", max_size=40), token_soup))
def test_garbage_raises_only_selector_error(text: str) -> None:
    try:
        sel = parse(text)
    except SelectorError as err:
        assert err.expr == text
        assert 1 <= err.column <= len(text) + 1
        assert err.message
    else:
        assert isinstance(sel, Selector)
        assert parse(str(sel)) == sel


@given(st.integers(0, MAX_DEPTH + 3), st.sampled_from(["(", "!(", "! ("]))
def test_deep_nesting_is_handled(depth: int, opener: str) -> None:
    text = opener * depth + "has(a)" + ")" * depth
    if depth <= MAX_DEPTH:
        assert parse(text) == (Has("a") if opener == "(" or depth % 2 == 0 else Not(Has("a")))
    else:
        try:
            parse(text)
        except SelectorError as err:
            assert "nested" in err.message
        else:
            raise AssertionError("expected SelectorError")
