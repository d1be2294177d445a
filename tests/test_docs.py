"""The documentation cannot drift: docs/codes.md is what the catalog generates, the README stays a
short page that starts with the two commands, and every relative link in README.md and docs/
points at a file of the repository."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)#\s]+)(?:#[^)]*)?\)")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_codes_doc", ROOT / "scripts" / "gen_codes_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_codes_doc"] = module
    spec.loader.exec_module(module)
    return module


def test_codes_page_is_generated_from_the_catalog() -> None:
    from calico2cilium.diagnostics.catalog import CATALOG

    expected = _generator().render()
    assert (DOCS / "codes.md").read_text() == expected, "docs/codes.md is stale: run 'make docs'"
    for code in CATALOG:
        assert f"\n### {code} " in expected


def test_readme_starts_with_the_two_commands_and_stays_short() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    first_block = text.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert [line.split()[:2] for line in first_block[:2]] == [["make", "demo"], ["make", "test"]]


def test_every_relative_link_in_the_docs_exists() -> None:
    pages = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    missing = []
    for page in pages:
        for target in LINK.findall(page.read_text()):
            if not (page.parent / target).exists():
                missing.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not missing, missing


EXAMPLE = re.compile(
    r"<!-- example (?P<name>[\w-]+) (?P<kind>input|output) -->\n```yaml\n(?P<text>.*?)```", re.DOTALL
)


def test_the_concepts_examples_show_what_the_tool_writes(tmp_path: Path) -> None:
    """docs/concepts.md's worked examples, converted again with the flags the page names."""
    from calico2cilium.convert import convert
    from calico2cilium.io.write import dump_yaml

    blocks: dict[str, dict[str, str]] = {}
    for match in EXAMPLE.finditer((DOCS / "concepts.md").read_text()):
        blocks.setdefault(match["name"], {})[match["kind"]] = match["text"]
    assert sorted(blocks) == ["deny", "knp", "policy"]
    for name, block in blocks.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(block["input"])
        result = convert(
            [str(path)],
            pod_cidrs=("10.244.0.0/16",),
            node_cidrs=("10.0.0.0/24",),
            endpoint_to_host_action="Accept",
        )
        assert not result.diagnostics, result.diagnostics
        written = dump_yaml(result.documents).replace(f"{tmp_path}/", "")
        assert written.strip() == block["output"].strip(), name


CITED = re.compile(r"(?<![\w/.-])(docs/[\w./-]+\.md)")
SECTION = re.compile(r"docs/reference/semantics\.md\s+§(\d+\.\d+)((?:(?:,|/| and)\s*§?\d+\.\d+)*)")
CLAIM = re.compile(r"docs/reference/semantics-check\.md\s+(?:claims?\s+)?(\d+)(?:\s*-\s*(\d+))?\b")
CHECKED = ("src", "tests", "scripts", "fixtures", "examples")


def _cited_texts() -> list[tuple[Path, str]]:
    texts = []
    for top in CHECKED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in (".py", ".yaml", ".md") and path.is_file() and path != Path(__file__):
                texts.append((path, path.read_text(encoding="utf-8", errors="replace")))
    return texts


def test_the_semantics_reference_is_cited_by_its_path_in_the_repository() -> None:
    """Issue 10: the semantics reference is cited by its copy in the repository,
    docs/reference/semantics.md and docs/reference/semantics-check.md, never by a bare file name."""
    bare = re.compile(r"(?<!docs/reference/)\bsemantics(?:-check)?\.md")
    found = [
        f"{p.relative_to(ROOT)}: {m.group(0)}" for p, text in _cited_texts() for m in bare.finditer(text)
    ]
    assert not found, found


def test_every_cited_doc_and_section_exists() -> None:
    semantics = (ROOT / "docs/reference/semantics.md").read_text()
    sections = set(re.findall(r"^## (\d+\.\d+) ", semantics, re.MULTILINE))
    check = (ROOT / "docs/reference/semantics-check.md").read_text()
    claims = set(re.findall(r"^\| (\d+) \|", check, re.MULTILINE))
    missing = []
    for path, text in _cited_texts():
        where = path.relative_to(ROOT)
        for cited in CITED.findall(text):
            if not (ROOT / cited.rstrip(".")).is_file():
                missing.append(f"{where}: {cited}")
        for match in SECTION.finditer(text):
            for number in [match[1], *re.findall(r"\d+\.\d+", match[2])]:
                if number not in sections:
                    missing.append(f"{where}: docs/reference/semantics.md §{number}")
        for match in CLAIM.finditer(text):
            for number in filter(None, (match[1], match[2])):
                if number not in claims:
                    missing.append(f"{where}: docs/reference/semantics-check.md claim {number}")
    assert not missing, missing
    assert len(sections) >= 18 and len(claims) == 14
