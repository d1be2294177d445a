"""Conversion fixtures: ``fixtures/<case>/`` holds

* ``input.yaml`` — Calico (and Kubernetes NetworkPolicy) documents;
* ``case.yaml`` — ``description``, ``reasoning`` (why the expected output is right, from the
  sourced semantics), optional ``options`` (``podCIDRs``, ``nodeCIDRs``, ``ciliumVersion``,
  ``inventory``: a label inventory file in the case directory, given as ``--inventory``;
  ``nodeLabels``: the Nodes' labels, by node name, for verifying host policies;
  ``defaultEndpointToHostAction``: Felix's Drop | Return | Accept, default Accept) and
  ``verify`` (``equivalent``, the default; ``different`` for a conversion that changed something
  and said so with an error or warning; ``incomplete`` when the input holds something outside the
  verifier's proof, such as host-only policies or a tier missing from the input;
  ``equivalent-on-inventory`` for selectors expanded against the inventory: proven against the
  expanded input and equal over the inventory, while the original input differs elsewhere). With
  an inventory, its Service objects are the verifier's assumption for ``services`` matches
  (``Assumptions.services``), as ``convert --verify`` takes them;
* ``expected.yaml`` — the exact Cilium output;
* ``expected-diagnostics.txt`` — one ``CODE line:column`` per diagnostic, sorted (empty: none).

Each case is converted and compared; the output is validated against the Cilium CRD schema of
the target version and proven equivalent (or shown different) by the verifier, which shares no
interpretation with the compiler, only neutral facts (``calico2cilium.facts``): the import-linter
contracts in pyproject.toml, run by ``make test``, keep it so.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from calico2cilium.convert import convert
from calico2cilium.facts.cluster import Services
from calico2cilium.facts.target import DEFAULT_CILIUM_VERSION
from calico2cilium.io.write import dump_yaml
from calico2cilium.schemas import validate
from calico2cilium.semantics.world import DEFAULT_ENDPOINT_TO_HOST_ACTION, Assumptions, node_labels
from calico2cilium.verify.api import verify
from calico2cilium.verify.attribution import Attribution
from calico2cilium.verify.conversion import check_conversion

pytestmark = pytest.mark.slow  # not in make quick (tests/conftest.py)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = (
    sorted(p.name for p in FIXTURES.iterdir() if (p / "input.yaml").is_file()) if FIXTURES.is_dir() else []
)


def _case(name: str) -> dict[str, Any]:
    path = FIXTURES / name / "case.yaml"
    data = yaml.safe_load(path.read_text()) if path.is_file() else None
    return data or {}


def _run(name: str, keep_input: bool = True) -> tuple[dict[str, Any], Any]:
    """Convert the case. ``keep_input=False`` as the command line without --verify runs it: the
    input documents are dropped once lowered, so every position a diagnostic gives later comes
    from the IR's compact form (``RawDocument.without_data``)."""
    case = _case(name)
    options = case.get("options") or {}
    result = convert(
        [str(FIXTURES / name / "input.yaml")],
        pod_cidrs=tuple(options.get("podCIDRs", ())),
        node_cidrs=tuple(options.get("nodeCIDRs", ())),
        cilium_version=str(options.get("ciliumVersion", DEFAULT_CILIUM_VERSION)),
        inventory=str(FIXTURES / name / options["inventory"]) if "inventory" in options else None,
        endpoint_to_host_action=options.get("defaultEndpointToHostAction", DEFAULT_ENDPOINT_TO_HOST_ACTION),
        keep_input=keep_input,
    )
    return case, result


def _diagnostic_lines(result: Any) -> list[str]:
    lines = []
    for d in result.diagnostics:
        where = f"{d.source.line}:{d.source.column}" if d.source is not None else "-"
        lines.append(f"{d.code} {where}")
    return sorted(lines)


def test_there_are_fixtures() -> None:
    assert len(CASES) >= 1


@pytest.mark.parametrize("name", CASES)
def test_fixture(name: str) -> None:
    case, result = _run(name, keep_input=False)
    assert case.get("description") and case.get("reasoning"), "every case explains itself"
    expected = (FIXTURES / name / "expected.yaml").read_text()
    relative = str(FIXTURES / name / "input.yaml")
    actual = dump_yaml(result.documents).replace(relative, "input.yaml")
    assert actual == expected
    diag_file = FIXTURES / name / "expected-diagnostics.txt"
    wanted = sorted(line.strip() for line in diag_file.read_text().splitlines() if line.strip())
    assert _diagnostic_lines(result) == wanted


@pytest.mark.parametrize("name", CASES)
def test_fixture_output_validates_against_cilium_crd(name: str) -> None:
    case, result = _run(name)
    version = str((case.get("options") or {}).get("ciliumVersion", DEFAULT_CILIUM_VERSION))
    for document in result.documents:
        assert validate(document, cilium_version=version) == [], document["metadata"]["name"]


@pytest.mark.parametrize("name", CASES)
def test_fixture_is_proven_by_the_verifier(name: str) -> None:
    case, result = _run(name)
    options = case.get("options") or {}
    version = str(options.get("ciliumVersion", DEFAULT_CILIUM_VERSION))
    major, minor = (int(x) for x in version.split("."))
    assumptions = Assumptions(
        pod_cidrs=tuple(options.get("podCIDRs", ())),
        node_cidrs=tuple(options.get("nodeCIDRs", ())),
        cilium_version=(major, minor),
        node_labels=node_labels(options["nodeLabels"]) if "nodeLabels" in options else None,
        calico_endpoint_to_host_action=options.get(
            "defaultEndpointToHostAction", DEFAULT_ENDPOINT_TO_HOST_ACTION
        ),
        services=Services.of(result.inventory) if result.inventory is not None else None,
    )
    expected = case.get("verify", "equivalent")
    if expected == "equivalent-on-inventory":
        check = check_conversion(result, assumptions)
        assert check.expanded and check.concrete is not None, (
            "the case expands selectors against its inventory"
        )
        assert check.status == "equivalent", check.render_text()
        # The snapshot is real: the original string tests differ on values outside the inventory.
        assert verify(result.loaded, result.documents, assumptions).status == "different"
        return
    # A conversion that says it fails closed is proven to: Cilium allows no flow Calico denies,
    # and a narrowing finding explains each flow it denies more (C2C414: "different").
    narrowing = any(d.narrowing for d in result.diagnostics)
    attribution = Attribution(result.diagnostics, result.loaded.documents) if narrowing else None
    proof = verify(result.loaded, result.documents, assumptions, narrowing=narrowing, attribute=attribution)
    assert proof.status == expected, proof.render_text()
    if expected != "equivalent":
        assert any(d.severity.value in ("error", "warning") for d in result.diagnostics), (
            "a conversion that is not proven equivalent must say why with an error or a warning"
        )


SERVICE_CASES = [name for name in CASES if "services:" in (FIXTURES / name / "input.yaml").read_text()]


@pytest.mark.parametrize(
    "name", [n for n in SERVICE_CASES if _case(n).get("verify", "equivalent") == "equivalent"]
)
def test_converted_services_are_proven_only_with_the_service_objects(name: str) -> None:
    """The Service objects are a real assumption: without them the verifier cannot say what a
    ``services`` match is, so the same proof is not complete."""
    case, result = _run(name)
    options = case.get("options") or {}
    assert result.inventory is not None and result.inventory.services
    plain = Assumptions(
        pod_cidrs=tuple(options.get("podCIDRs", ())), node_cidrs=tuple(options.get("nodeCIDRs", ()))
    )
    assert verify(result.loaded, result.documents, plain).status == "incomplete"
    given = replace(plain, services=Services.of(result.inventory))
    assert verify(result.loaded, result.documents, given).status == "equivalent"
