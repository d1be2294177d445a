"""The input layer: discovery, decoding, YAML/JSON streams, Lists, positions, hostile input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from calico2cilium.io import yamlstream
from calico2cilium.io.construct import Built, Loader
from calico2cilium.io.decode import decode
from calico2cilium.io.discover import discover
from calico2cilium.io.locate import Locator
from calico2cilium.io.yamlstream import MAX_DEPTH, read_documents

TIER = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: {name}\nspec:\n  order: 100\n"


def codes(diagnostics: list) -> list[str]:
    return [d.code for d in diagnostics]


def test_multi_document_stream_keeps_positions() -> None:
    text = TIER.format(name="a") + "---\n" + TIER.format(name="b")
    docs, diags = read_documents(text, "t.yaml")
    assert diags == []
    assert [d.name for d in docs] == ["a", "b"]
    assert docs[1].index == 1
    src = docs[1].source(("metadata", "name"))
    assert (src.file, src.line, src.column) == ("t.yaml", 11, 9)
    assert docs[1].source(("spec",), key=True).line == 12


def test_empty_documents_are_skipped_but_an_empty_file_is_an_error() -> None:
    docs, diags = read_documents("---\n" + TIER.format(name="a") + "---\n---\n", "t.yaml")
    assert len(docs) == 1 and diags == []
    docs, diags = read_documents("# only a comment\n", "e.yaml")
    assert docs == [] and codes(diags) == ["C2C105"]
    assert read_documents("", "e.yaml")[1][0].code == "C2C105"


def test_kind_list_is_flattened_and_items_keep_positions() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: projectcalico.org/v3\n  kind: Tier\n  metadata:\n    name: a\n"
        "- apiVersion: projectcalico.org/v3\n  kind: Tier\n  metadata:\n    name: b\n"
    )
    docs, diags = read_documents(text, "l.yaml")
    assert diags == [] and [d.name for d in docs] == ["a", "b"]
    assert docs[1].base == ("items", 1)
    assert docs[1].source(("metadata", "name")).line == 11


def test_a_list_inside_a_list_is_flattened_as_kubectl_does() -> None:
    # kubectl apply -f expands lists until no item is a list (cli-runtime pkg/resource/visitor.go,
    # FlattenListVisitor); review7: the inner list was skipped as "v1 List", with an info only,
    # so a policy kubectl applies was left out of the conversion (exit 0).
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: List\n  items:\n"
        "  - apiVersion: projectcalico.org/v3\n    kind: Tier\n    metadata:\n      name: a\n"
        "- apiVersion: projectcalico.org/v3\n  kind: Tier\n  metadata:\n    name: b\n"
    )
    docs, diags = read_documents(text, "l.yaml")
    assert diags == [] and [d.name for d in docs] == ["a", "b"]
    assert docs[0].base == ("items", 0, "items", 0)
    assert docs[0].source(("metadata", "name")).line == 10


def test_typed_list_items_inherit_api_version_and_kind() -> None:
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems:\n- metadata:\n    name: a\n"
    docs, _ = read_documents(text, "l.yaml")
    assert (docs[0].api_version, docs[0].kind) == ("networking.k8s.io/v1", "NetworkPolicy")


def test_top_level_yaml_list_is_flattened_as_calicoctl_does() -> None:
    text = "- apiVersion: projectcalico.org/v3\n  kind: Tier\n  metadata:\n    name: a\n- 42\n"
    docs, diags = read_documents(text, "l.yaml")
    assert [d.name for d in docs] == ["a"]
    assert codes(diags) == ["C2C201"] and diags[0].source.line == 5


def test_json_input_with_tabs_and_positions() -> None:
    data = {"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "a"}}
    text = json.dumps(data, indent="\t")
    docs, diags = read_documents(text, "t.json")
    assert diags == [] and docs[0].data == data
    assert docs[0].source(("metadata", "name")).line == 5


def test_invalid_json_has_a_position() -> None:
    docs, diags = read_documents('{"a": 1,\n "b": ]', "t.json")
    assert docs == [] and codes(diags) == ["C2C104"]
    assert (diags[0].source.line, diags[0].source.column) == (2, 7)


def test_syntax_error_spares_the_other_documents() -> None:
    bad = "apiVersion: x\nkind: [unclosed\n"
    text = TIER.format(name="a") + "---\n" + bad + "---\n" + TIER.format(name="c")
    docs, diags = read_documents(text, "t.yaml")
    assert [d.name for d in docs] == ["a", "c"]
    assert codes(diags) == ["C2C104"]
    assert diags[0].source.line >= 8  # inside the second document, not at the top of the file
    assert docs[1].source(("metadata", "name")).line == 14


def test_tab_indentation_is_a_positioned_syntax_error_with_a_hint() -> None:
    _, diags = read_documents("a:\n\tb: 1\n", "t.yaml")
    assert codes(diags) == ["C2C104"]
    assert diags[0].source.line == 2 and diags[0].hint and "tab" in diags[0].hint


@pytest.mark.parametrize(
    ("value", "read_as"),
    [("!has(app)", '""'), ("!has(app) # no team", '""'), ("!has(a) b == 'x'", "\"b == 'x'\"")],
)
def test_an_unquoted_bang_selector_is_a_yaml_tag_and_says_what_kubectl_reads(
    value: str, read_as: str
) -> None:
    # go-yaml (kubectl and Helm, via sigs.k8s.io/yaml) keeps the text of a scalar with an unknown
    # tag (resolve: `if !resolvableTag(tag) { return tag, in }`), so `selector: !has(app)` is "".
    text = f"kind: x\nspec:\n  selector: {value}\n"
    _, diags = read_documents(text, "t.yaml")
    assert codes(diags) == ["C2C104"] and diags[0].source.line == 3
    assert "YAML tag" in diags[0].message and f"read this value as {read_as}" in diags[0].message
    assert diags[0].hint is not None and diags[0].hint.startswith("quote the value")


def test_duplicate_keys_are_refused() -> None:
    text = "apiVersion: projectcalico.org/v3\nkind: Tier\nkind: Tier\nmetadata:\n  name: a\n"
    docs, diags = read_documents(text, "t.yaml")
    assert codes(diags) == ["C2C108"] and diags[0].source.line == 3
    # Read all the same, not to be converted: --allow-partial quarantines a policy so refused.
    assert [d.unconverted for d in docs] == [True]


def test_duplicate_keys_in_json_are_refused() -> None:
    _, diags = read_documents('{"kind": "a", "kind": "b"}', "t.json")
    assert codes(diags) == ["C2C108"]


def test_merge_keys_are_not_duplicates() -> None:
    docs, diags = read_documents("base: &b {x: 1}\nother:\n  <<: *b\n  z: 2\n", "t.yaml")
    assert diags == [] and docs[0].data["other"] == {"x": 1, "z": 2}


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    docs, diags = read_documents("\n".join(lines) + "\n", "bomb.yaml")
    assert docs == [] and codes(diags) == ["C2C106"]


def test_deep_nesting_is_refused() -> None:
    depth = 10_000
    docs, diags = read_documents("a: " + "[" * depth + "]" * depth + "\n", "deep.yaml")
    assert docs == [] and codes(diags) == ["C2C107"]
    docs, diags = read_documents("[" * depth + "]" * depth, "deep.json")
    assert docs == [] and codes(diags) == ["C2C107"]
    docs, diags = read_documents("a: " + "[" * (MAX_DEPTH - 5) + "]" * (MAX_DEPTH - 5) + "\n", "ok.yaml")
    assert diags == []


def test_timestamps_stay_strings() -> None:
    docs, _ = read_documents("metadata:\n  creationTimestamp: 2024-05-01T10:00:00Z\n", "t.yaml")
    assert docs[0].data["metadata"]["creationTimestamp"] == "2024-05-01T10:00:00Z"


@pytest.mark.parametrize(
    ("data", "code", "line", "column"),
    [
        (b"a: 1\nb: caf\xe9\n", "C2C102", 2, 7),
        (b"a: 1\nb: \x00\n", "C2C103", 2, 4),
    ],
)
def test_decode_refuses_with_positions(data: bytes, code: str, line: int, column: int) -> None:
    decoded = decode(data, "x.yaml")
    assert decoded.text is None and decoded.diagnostic is not None
    assert decoded.diagnostic.code == code
    assert (decoded.diagnostic.source.line, decoded.diagnostic.source.column) == (line, column)


def test_decode_accepts_a_leading_bom_and_utf16() -> None:
    assert decode(b"\xef\xbb\xbfa: 1\n", "x").text == "a: 1\n"
    assert decode("a: 1\n".encode("utf-16"), "x").text == "a: 1\n"


def test_a_bom_may_open_a_document_but_not_stand_inside_one() -> None:
    bom = "\ufeff".encode()
    assert decode(b"a: 1\n---\n" + bom + b"b: 2\n", "x").text == "a: 1\n---\n\ufeffb: 2\n"
    assert decode(b"a: 1\n" + bom + b"---\nb: 2\n", "x").text is not None
    stray = decode(b"a: 1\nb: " + bom + b"x\n", "x").diagnostic
    assert stray is not None and stray.code == "C2C104"
    assert (stray.source.line, stray.source.column) == (2, 4)


def test_discover_walks_directories_like_kubectl(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x: 1\n")
    (tmp_path / "b.txt").write_text("x: 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.json").write_text("{}")
    explicit = tmp_path / "b.txt"
    files, diags = discover([str(tmp_path), str(explicit), str(tmp_path / "missing.yaml")])
    assert [f.name for f in files] == [str(tmp_path / "a.yaml"), str(explicit)]
    assert codes(diags) == ["C2C101"]
    files, _ = discover([str(tmp_path)], recursive=True)
    assert [Path(f.name).name for f in files] == ["a.yaml", "c.json"]
    files, diags = discover([str(tmp_path / "sub")])
    assert diags == [] and len(files) == 1


def test_discover_reports_an_empty_directory_and_defaults_to_stdin(tmp_path: Path) -> None:
    files, diags = discover([str(tmp_path)])
    assert files == [] and codes(diags) == ["C2C109"]
    files, diags = discover([])
    assert [f.name for f in files] == ["<stdin>"] and diags == []


def test_recursive_alias_is_refused() -> None:
    docs, diags = read_documents("a: &a [1, *a]\n", "cycle.yaml")
    assert docs == [] and codes(diags) == ["C2C107"]


def test_too_deep_points_at_the_deep_branch() -> None:
    depth = MAX_DEPTH + 20
    text = "spec:\n  ok: 1\n  deep: " + "[" * depth + "]" * depth + "\n"
    _, diags = read_documents(text, "deep.yaml")
    assert codes(diags) == ["C2C107"] and diags[0].source.line == 3


# The fast constructor (io/construct.py) must build exactly what PyYAML builds.


class _PyYAML(yaml.CSafeLoader):
    """The reference: PyYAML's own constructor, with timestamps kept as strings as we keep them,
    and plain base 60 numbers (``1:30``) too, as kubectl's go-yaml v2 reads them."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        tag = super().resolve(kind, value, implicit)
        plain = implicit if isinstance(implicit, bool) else implicit[0]  # also called with a bool
        if plain and tag.endswith(("int", "float")) and ":" in value:
            return "tag:yaml.org,2002:str"
        return tag


_PyYAML.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: str(node.value))

TRICKY_YAML = [
    "a: 1\nb: 0x1f\nc: 0o17\nd: 1_000\ne: 1:30\nf: -0b101\ng: +12\nh: 010\n",
    "a: 1.5\nb: .inf\nc: -.Inf\nd: 1e3\ne: 6.8523015e+5\nf: 190:20:30.15\n",
    "a: yes\nb: No\nc: on\nd: OFF\ne: true\nf: ~\ng: null\nh:\ni: Null\n",
    "x: &a {k: v}\ny: *a\nz: [*a, *a]\ns: &s text\nt: *s\n",
    "base: &b {x: 1}\nother:\n  <<: [*b, {z: 3}]\n  x: 2\n",
    "a: !!binary aGVsbG8=\nb: !!omap [{x: 1}, {y: 2}]\nc: !!set {p, q}\n",
    "a: !!str 123\nb: !!int '42'\nc: !!float '1'\nd: !!map {e: !!seq [1]}\n",
    "a: 2024-05-01T10:00:00Z\nb: 2001-12-14\nc: !!timestamp x\n",
    "---\n---\na: 1\n...\n---\n- 1\n- [2, {3: 4}]\n--- foo\n--- !!str\n",
    "a: 'quoted'\nb: \"double\\n\"\nc: |\n  block\nd: >\n  folded\n? complex\n: key\n",
    "1: int\n'1': str\n1.5: float\nfalse: bool\n~: null\n",
    "a: 1\n--- {b: 2,\n  c: 3}\n...\n# c\n---\n  d: 4\n  e: [5]\n--- &x\nf: &y [1]\ng: *y\n",
    "a: 1\r\nb:\r\n  c: 2\r\n---\r\nd: 3\r\n",
    "%TAG !e! tag:example.com,2000:\n--- !!map\na: {x: 1}\n---\nb: [2]\n",
    "\ufeff---\na: 1\n---\n\ufeffb:\n  c: 2\n",
    "--- |\n  text\n---\nx: 1\n",
]


@pytest.mark.parametrize("text", TRICKY_YAML)
def test_construction_builds_what_pyyaml_builds(text: str) -> None:
    expected = list(yaml.load_all(text, Loader=_PyYAML))
    loader = Loader(text)
    built = []
    while loader.check_node():
        node = loader.get_node()
        assert node is not None
        built.append(loader.build_document(node))
    assert [b.data for b in built] == expected
    assert [[type(v) for v in _leaves(b.data)] for b in built] == [
        [type(v) for v in _leaves(e)] for e in expected
    ]
    assert all(b.duplicates == [] for b in built)


EVENT_CASES = [
    *TRICKY_YAML,
    "a: 1\n---\nb: !!set {x}\nc: [1, 2]\n---\nd: {e: 1, e: 2}\n---\n- &k x\n- {*k : 1, x: 2}\n",
    "a: {b: 1, b: 2, c: {d: 1, d: 2}}\n---\nbase: &b {x: 1}\nz: {<<: *b}\n---\n[1, 2]\n",
    "a: &x [1]\nb: &x [2]\nc: *x\n",
    "---\n" + "a:\n  " * 3 + "b: 1\n",
]


@pytest.mark.parametrize("text", EVENT_CASES)
def test_built_from_events_is_built_from_nodes(text: str) -> None:
    # ``next_document`` builds from libyaml's events without composing nodes (issue 15 item 13);
    # what it cannot build it builds from nodes composed by a second parser: the same in all.
    by_nodes, by_events = Loader(text), Loader(text)
    for loader in (by_nodes, by_events):
        loader.max_depth = 3
    nodes: list[Built] = []
    events: list[Built] = []
    errors = []
    try:
        while by_nodes.check_node():
            node = by_nodes.get_node()
            assert node is not None
            nodes.append(by_nodes.build_document(node))
    except yaml.YAMLError as exc:
        errors.append(str(exc))
    try:
        while (built := by_events.next_document()) is not None:
            events.append(built)
    except yaml.YAMLError as exc:
        errors.append(str(exc))
    assert len(errors) in (0, 2) and len(set(errors)) <= 1, errors
    assert [b.data for b in events] == [b.data for b in nodes]
    for a, b in zip(events, nodes, strict=True):
        assert (a.start, a.tree, a.containers) == (b.start, b.tree, b.containers)
        assert sorted((m.index, k) for m, k in a.duplicates) == sorted((m.index, k) for m, k in b.duplicates)


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [*value, *(leaf for v in value.values() for leaf in _leaves(v))]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def test_aliases_share_data_and_are_accepted() -> None:
    docs, diags = read_documents("x: &a {k: v}\nw: *a\nz: [*a, *a]\n", "t.yaml")
    assert diags == []
    data = docs[0].data
    assert data["w"] is data["x"] and data["z"][1] is data["x"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("on: 1\nyes: 2\n", 2),  # both are the key True, as YAML 1.1 (and PyYAML) read them
        ("1: a\n01: b\n", 2),
        ("1: a\ntrue: b\n", 2),  # 1 == True in a Python dict: the first value would be lost
        ("a:\n  b: 1\n  c: {d: 1, d: 2}\n", 3),
        ("base: &b {x: 1}\nother:\n  <<: *b\n  w: 1\n  w: 2\n", 5),  # written twice, next to a merge
    ],
)
def test_keys_yaml_reads_as_equal_are_duplicates(text: str, line: int) -> None:
    docs, diags = read_documents(text, "t.yaml")
    assert codes(diags) == ["C2C108"] and diags[0].source.line == line
    assert all(d.unconverted for d in docs)


def test_duplicates_are_reported_in_order_of_position() -> None:
    _, diags = read_documents("a: {b: 1, b: 2, c: {d: 1, d: 1}}\n", "t.yaml")
    assert codes(diags) == ["C2C108", "C2C108"]
    assert [d.source.column for d in diags] == [11, 27]


@pytest.mark.parametrize("value", ["!!int eighty", "!!bool maybe", "!!float x", "!!set [1]"])
def test_a_tag_on_a_value_it_cannot_hold_is_a_positioned_error(value: str) -> None:
    text = TIER.format(name="a") + "---\nbad: " + value + "\n---\n" + TIER.format(name="c")
    docs, diags = read_documents(text, "t.yaml")
    assert [d.name for d in docs] == ["a", "c"]
    assert codes(diags) == ["C2C104"] and (diags[0].source.line, diags[0].source.column) == (8, 6)


def test_nesting_limit_is_exact() -> None:
    def nested(depth: int) -> str:
        return "a: " + "{b: " * (depth - 1) + "1" + "}" * (depth - 1) + "\n"

    assert read_documents(nested(MAX_DEPTH), "ok.yaml")[1] == []
    _, diags = read_documents(nested(MAX_DEPTH + 1), "deep.yaml")
    assert codes(diags) == ["C2C107"]


@pytest.mark.parametrize("text", [*TRICKY_YAML, "a: 1\n---\nkind: [unclosed\n---\nx:\n  y: 1\n"])
def test_positions_of_a_document_composed_alone_match_the_whole_file(text: str) -> None:
    docs, _ = read_documents(text, "t.yaml")
    assert docs
    for doc in docs:
        whole = Locator(doc.locator.chunks)  # no document starts: composes the whole chunk
        for path in _paths(doc.data, doc.base):
            for key in (False, True):
                assert doc.locator.position(doc.slot, path, key=key) == whole.position(
                    doc.slot, path, key=key
                )


def _paths(value: object, base: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    found = [base]
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(_paths(v, (*base, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_paths(v, (*base, i)))
    return found


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a: 1\nb: x\x11y\n", 2, 5),
        ("a: caf\u00e9 \U0001f600\x7f\n", 1, 10),  # the mark counts characters, not UTF-8 bytes
        ("a: 1\n---\nb: \x9b\n", 3, 4),
        ("a: '\ufffe'\n", 1, 5),
    ],
)
def test_characters_yaml_forbids_are_a_positioned_syntax_error(text: str, line: int, column: int) -> None:
    # libyaml refuses them with a ReaderError that has no mark and a byte offset; it used to
    # escape as an internal error (review 3).
    docs, diags = read_documents(text, "c.yaml")
    assert docs == [] or [d.data for d in docs] == [{"a": 1}]
    assert codes(diags) == ["C2C104"]
    assert (diags[0].source.line, diags[0].source.column) == (line, column)
    assert "is not allowed in YAML" in diags[0].message


def test_a_bad_character_spares_the_other_documents_of_the_stream() -> None:
    docs, diags = read_documents(TIER.format(name="a") + "---\nb: \x01\n---\n" + TIER.format(name="c"), "t")
    assert [d.name for d in docs] == ["a", "c"] and codes(diags) == ["C2C104"]


def test_allowed_characters_still_read() -> None:
    # Tab, the BMP from U+00A0 on and astral characters are printable YAML (NEL, U+0085, too,
    # as a line break); JSON may hold C1 controls in strings unescaped.
    docs, diags = read_documents("a: 'x\tyz\u00a0\U0001f600'\n", "ok.yaml")
    assert diags == [] and docs[0].data == {"a": "x\tyz\u00a0\U0001f600"}
    docs, diags = read_documents("a: 1 # \u0085\n", "nel.yaml")
    assert diags == [] and docs[0].data == {"a": 1}
    docs, diags = read_documents('{"a": "\u0080"}', "ok.json")
    assert diags == [] and docs[0].data == {"a": "\u0080"}


def test_an_unreadable_directory_is_an_error_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Path.rglob skips a directory it may not read without a word, so its policies were silently
    # missing from the run (review 3). Simulated: the tests may run as root, which reads anything.
    import os

    (tmp_path / "a.yaml").write_text(TIER.format(name="a"))
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "b.yaml").write_text(TIER.format(name="b"))
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if Path(str(path)).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    files, diags = discover([str(tmp_path)], recursive=True)
    assert [f.path.name for f in files if f.path] == ["a.yaml"]
    assert codes(diags) == ["C2C101"] and "cannot read directory" in diags[0].message
    assert diags[0].source.file == str(tmp_path / "locked")
    # Without -R the subdirectory is not read, so it cannot be a problem.
    files, diags = discover([str(tmp_path)], recursive=False)
    assert [f.path.name for f in files if f.path] == ["a.yaml"] and diags == []
    # A directory that cannot be read at all is the one error, not also "has no .yaml files".
    files, diags = discover([str(tmp_path / "locked")], recursive=True)
    assert files == [] and codes(diags) == ["C2C101"]


def test_recursive_discovery_order_and_symlinked_directories(tmp_path: Path) -> None:
    # Sorted by path, subdirectories' files included with -R; a symbolic link to a directory is
    # not followed (as kubectl's -R), a symbolic link to a file is read.
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.yaml").write_text("a: 1\n")
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "c.yml").write_text("a: 1\n")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "b", target_is_directory=True)
    (tmp_path / "d.yaml").symlink_to(tmp_path / "c.yml")
    files, diags = discover([str(tmp_path)], recursive=True)
    assert diags == []
    assert [str(f.path.relative_to(tmp_path)) for f in files if f.path] == ["a.json", "b/x.yaml", "c.yml"]


def test_a_number_too_long_for_python_is_a_positioned_error_in_json_and_yaml() -> None:
    # json.loads raises a plain ValueError past sys.get_int_max_str_digits(): it escaped as an
    # internal error (review 3). YAML reported it, but echoed all 5,000 digits.
    digits = "9" * 5000
    docs, diags = read_documents('{"apiVersion": "v1",\n "n": ' + digits + "}", "n.json")
    assert docs == [] and codes(diags) == ["C2C104"]
    assert (diags[0].source.line, diags[0].source.column) == (2, 7)
    assert "more than 4300 digits" in diags[0].message
    docs, diags = read_documents("n: " + digits + "\n", "n.yaml")
    assert codes(diags) == ["C2C104"] and "(5000 characters)" in diags[0].message
    assert len(diags[0].message) < 200


def test_a_huge_json_array_is_refused_in_memory_near_what_json_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 15 item 13: a JSON array of 1,000,000 empty objects peaked at 540 MB traced (600 MB RSS)
    # before C2C106: every container was measured by its id, as YAML aliases need, and the root's
    # position composed the whole text as YAML. JSON shares no container: the walk keeps its depth.
    import tracemalloc

    monkeypatch.setattr(yamlstream, "MAX_NODES_PER_DOCUMENT", 100_000)
    text = "\n [" + ",".join(["{}"] * 100_001) + "]"
    tracemalloc.start()
    try:
        json.loads(text)
        parsed = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        docs, diags = read_documents(text, "big.json")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert docs == [] and codes(diags) == ["C2C106"]
    assert (diags[0].source.line, diags[0].source.column) == (2, 2)
    assert peak < 1.5 * parsed, (peak, parsed)


def test_a_manifest_name_that_is_no_file_in_a_directory_is_an_error_not_skipped(tmp_path: Path) -> None:
    # A .yaml symbolic link whose target is missing (not checked out, a moved base) was skipped
    # without a word: its policies were missing from the output, exit 0, and their pods out of
    # Cilium's default deny (review15). kubectl apply -f on the directory fails on it.
    (tmp_path / "a.yaml").write_text(TIER.format(name="a"))
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "missing" / "policy.yaml")
    (tmp_path / "loop.yml").symlink_to(tmp_path / "loop.yml")
    (tmp_path / "notes.txt").symlink_to(tmp_path / "missing.txt")  # not a manifest name: ignored
    files, diags = discover([str(tmp_path)])
    assert [f.path.name for f in files if f.path] == ["a.yaml"]
    assert codes(diags) == ["C2C101", "C2C101"]
    assert [(d.source.file, d.message.split(": ", 1)[1]) for d in diags] == [
        (str(tmp_path / "gone.yaml"), "a symbolic link to nothing"),
        (str(tmp_path / "loop.yml"), "a symbolic link to nothing"),
    ]


def test_an_endless_input_is_read_only_past_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # 'yes | calico2cilium lint' (or '< /dev/zero') read standard input to its end, which never
    # came: memory ran out before C2C106 could refuse it (review15). Now at most one byte past
    # the limit is read, and the input is refused.
    import io
    import sys

    from calico2cilium.io import decode as limits
    from calico2cilium.io.discover import InputFile

    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            buffer[:] = b"y\n" * (len(buffer) // 2) + b"y" * (len(buffer) % 2)
            return len(buffer)

    monkeypatch.setattr(limits, "MAX_INPUT_BYTES", 1000)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Endless())))
    data = InputFile("<stdin>", None).read_bytes()
    assert len(data) == 1001
    assert decode(data, "<stdin>").diagnostic.code == "C2C106"  # type: ignore[union-attr]


def test_a_named_pipe_is_read_as_a_file(tmp_path: Path) -> None:
    # 'calico2cilium verify --calico <(kubectl get ...) --cilium <(kubectl get cnp ...)': bash
    # gives /dev/fd/63, a pipe, which was refused as "not a regular file or directory" (review15).
    # It is read once, like standard input.
    import os
    import threading

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_text(TIER.format(name="a")), daemon=True)
    writer.start()
    files, diags = discover([str(pipe), str(pipe)])
    assert diags == [] and [f.name for f in files] == [str(pipe)]
    assert files[0].read_bytes() == TIER.format(name="a").encode()
    writer.join()
