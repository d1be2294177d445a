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
