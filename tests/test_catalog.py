"""The diagnostic catalog cannot drift from the tool: every example is run through the loader, and
conversion codes (C2C3xx) through the converter."""

from __future__ import annotations

import re
from typing import Any

import pytest

from calico2cilium.convert import convert
from calico2cilium.diagnostics.catalog import CATALOG, lookup
from calico2cilium.load import load

RUNNABLE = [doc for doc in CATALOG.values() if doc.failing is not None]


FLAG_ARGUMENTS = {
    "--endpoint-to-host-action": "endpoint_to_host_action",
    "--cilium-version": "cilium_version",
    "--pod-cidr": "pod_cidrs",
    "--node-cidr": "node_cidrs",
    "--allow-partial": "quarantine",
}
LIST_ARGUMENTS = {"pod_cidrs", "node_cidrs"}


def _codes(  # type: ignore[no-untyped-def]
    example: str | bytes,
    tmp_path,
    code: str = "",
    inventory: str | None = None,
    flags: tuple[tuple[str, str], ...] = (),
) -> set[str]:
    path = tmp_path / "example.yaml"
    path.write_bytes(example if isinstance(example, bytes) else example.encode())
    if code.startswith("C2C3") or flags:
        given = None
        if inventory is not None:
            given = str(tmp_path / "inventory.yaml")
            (tmp_path / "inventory.yaml").write_text(inventory)
        options: dict[str, Any] = {}
        for flag, value in flags:
            name = FLAG_ARGUMENTS[flag]
            options[name] = (*options.get(name, ()), value) if name in LIST_ARGUMENTS else value or True
        if code != "C2C340":  # stated, so that only the example's own code can appear
            options.setdefault("endpoint_to_host_action", "Accept")
        return {d.code for d in convert([str(path)], inventory=given, **options).diagnostics}
    return {d.code for d in load([str(path)]).diagnostics}


def test_codes_are_well_formed_and_names_unique() -> None:
    assert all(re.fullmatch(r"C2C\d{3}", code) for code in CATALOG)
    names = [doc.name for doc in CATALOG.values()]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in names)
    assert all(doc.summary and doc.explanation for doc in CATALOG.values())


@pytest.mark.parametrize("doc", RUNNABLE, ids=[doc.code for doc in RUNNABLE])
def test_failing_example_reports_its_code(doc, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert doc.failing is not None
    assert doc.code in _codes(doc.failing, tmp_path, doc.code, doc.failing_inventory, doc.failing_flags)


@pytest.mark.parametrize("doc", RUNNABLE, ids=[doc.code for doc in RUNNABLE])
def test_passing_example_is_clean(doc, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert doc.passing is not None, "a documented failing example needs a passing one"
    assert _codes(doc.passing, tmp_path, doc.code, doc.passing_inventory, doc.passing_flags) == set()


def test_lookup_by_code_or_name() -> None:
    assert lookup("c2c211") is CATALOG["C2C211"]
    assert lookup("invalid-selector") is CATALOG["C2C211"]
    assert lookup("C2C999") is None
