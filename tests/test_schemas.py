"""The JSON Schemas in ``schemas/`` and the validation API in ``calico2cilium.schemas``.

Tests that need the upstream CRDs or the public corpus (``../shared`` next to the repository) are
skipped when it is absent; everything else runs from the committed files alone.
"""

from __future__ import annotations

import copy
import filecmp
import hashlib
import importlib.util
import itertools
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from calico2cilium import schemas
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.schemas import SUPPORTED_CILIUM_VERSIONS, SchemaViolation

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "schemas"
SHARED = REPO.parent / "shared"
CRDS = SHARED / "crds"
CORPUS = SHARED / "corpus"

needs_crds = pytest.mark.skipif(not CRDS.is_dir(), reason=f"{CRDS} (the upstream CRDs) is absent")
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} (the public corpus) is absent")


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_schemas", REPO / "scripts" / "gen_schemas.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_schemas"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


# ----------------------------------------------------------------------------------------------
# Document builders
# ----------------------------------------------------------------------------------------------


def calico(
    kind: str = "GlobalNetworkPolicy", spec: dict[str, Any] | None = None, **meta: Any
) -> dict[str, Any]:
    metadata = {"name": "p", **meta}
    if kind in ("NetworkPolicy", "NetworkSet") and "namespace" not in meta:
        metadata["namespace"] = "ns"
    body = {"selector": "all()", "ingress": [{"action": "Allow"}]} if spec is None else spec
    return {"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": metadata, "spec": body}


def cnp(rule: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    egress = [rule if rule is not None else {"toEndpoints": [{}]}]
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"endpointSelector": {}, "egress": egress, **spec},
    }


def ports_rule(**port: Any) -> dict[str, Any]:
    return {"toEndpoints": [{}], "toPorts": [{"ports": [port]}]}


def ccg(api_version: str = "cilium.io/v2") -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "CiliumCIDRGroup",
        "metadata": {"name": "g"},
        "spec": {"externalCIDRs": ["192.0.2.0/24"]},
    }


def knp(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": spec,
    }


def found(violations: list[SchemaViolation]) -> set[tuple[tuple[str | int, ...], str]]:
    return {(v.path, v.validator) for v in violations}


# ----------------------------------------------------------------------------------------------
# The committed files: regenerated identically, sources unchanged, well-formed, indexed
# ----------------------------------------------------------------------------------------------


@needs_crds
def test_regenerating_from_the_crds_gives_the_committed_files(tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_schemas.py"), str(CRDS), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    generated = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(SCHEMAS).as_posix() for p in SCHEMAS.rglob("*") if p.is_file())
    assert sorted(set(committed) - gen.HAND_MAINTAINED) == generated, "run `make schemas` and commit"
    _, mismatch, errors = filecmp.cmpfiles(SCHEMAS, out, generated, shallow=False)
    assert mismatch == [] and errors == [], f"stale generated files {mismatch + errors}: run `make schemas`"


@needs_crds
def test_source_crds_match_the_recorded_checksums() -> None:
    recorded = {}
    for line in (SCHEMAS / "checksums.txt").read_text().splitlines():
        digest, name = line.split("  ", 1)
        recorded[name] = digest
    assert recorded, "checksums.txt is empty"
    for name, digest in recorded.items():
        actual = hashlib.sha256((CRDS / name).read_bytes()).hexdigest()
        assert actual == digest, f"{name} changed upstream copy: regenerate with `make schemas` and review"


def _schema_files() -> list[Path]:
    return sorted(SCHEMAS.rglob("*.json"))


def test_every_schema_file_is_a_valid_draft_2020_12_schema() -> None:
    files = [p for p in _schema_files() if p.name != "index.json"]
    assert len(files) == 30
    for path in files:
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$comment"]


def test_the_index_names_every_schema_file_and_nothing_else() -> None:
    index = json.loads((SCHEMAS / "index.json").read_text())
    assert tuple(index["cilium_versions"]) == SUPPORTED_CILIUM_VERSIONS
    named = {file for table in index["other"].values() for file in table.values()}
    for version in SUPPORTED_CILIUM_VERSIONS:
        named |= {file for table in index["cilium"][version].values() for file in table.values()}
    on_disk = {p.relative_to(SCHEMAS).as_posix() for p in _schema_files()} - {"index.json"}
    assert named == on_disk


def test_shipped_with_readme_license_and_checksums() -> None:
    readme = (SCHEMAS / "README.md").read_text()
    for fact in ("additionalProperties: false", "x-kubernetes-validations", "1.15", "1.16", "1.18"):
        assert fact in readme
    license_text = (SCHEMAS / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert len((SCHEMAS / "checksums.txt").read_text().splitlines()) == len(gen.ALL_SOURCES)


def test_schema_root_is_the_packaged_directory_or_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = schemas.schema_root()
    assert root.joinpath("index.json").is_file()
    assert str(root).endswith(("_schemas", "schemas"))
    # A wheel force-includes schemas/ as calico2cilium/_schemas; that copy wins.
    (tmp_path / "_schemas").mkdir()
    (tmp_path / "_schemas" / "index.json").write_text("{}")
    monkeypatch.setattr("calico2cilium.schemas.resources.files", lambda package: tmp_path)
    schemas.schema_root.cache_clear()
    try:
        assert Path(str(schemas.schema_root())) == tmp_path / "_schemas"
    finally:
        monkeypatch.undo()
        schemas.schema_root.cache_clear()
    assert Path(str(schemas.schema_root())) == SCHEMAS


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [(api, kind) for api in ("projectcalico.org/v3", "crd.projectcalico.org/v1") for kind in
     ("GlobalNetworkPolicy", "NetworkPolicy", "HostEndpoint", "NetworkSet", "GlobalNetworkSet", "Tier")]
    + [("networking.k8s.io/v1", "NetworkPolicy"), ("cilium.io/v2", "CiliumNetworkPolicy"),
       ("cilium.io/v2", "CiliumClusterwideNetworkPolicy"), ("cilium.io/v2", "CiliumCIDRGroup"),
       ("cilium.io/v2alpha1", "CiliumCIDRGroup")],
)  # fmt: skip
def test_has_schema_for_every_input_and_output_kind(api_version: str, kind: str) -> None:
    assert schemas.has_schema(api_version, kind)
    assert schemas.schema_for(api_version, kind)["title"] == f"{api_version} {kind}"


# ----------------------------------------------------------------------------------------------
# The corpus: real manifests validate (or fail exactly where the docs are wrong)
# ----------------------------------------------------------------------------------------------

Expected = dict[int, set[tuple[tuple[str | int, ...], str]]]

# Calico docs examples that genuinely violate the CRD schema: file → document index → violations.
CALICO_DOCS_VIOLATIONS: dict[str, tuple[str, Expected]] = {
    "calico__network-policy__get-started__calico-policy__calico-network-policy__1.yaml": (
        "a metadata-only snippet; the projectcalico.org/v3 CRD requires spec",
        {0: {((), "required")}},
    ),
    "calico__network-policy__get-started__calico-policy__calico-network-policy__2.yaml": (
        "a metadata-only snippet; the projectcalico.org/v3 CRD requires spec",
        {0: {((), "required")}},
    ),
    "calico__network-policy__policy-rules__icmp-ping__2.yaml": (
        "the '# Ping request' comments lost their '#': icmp.type is the string '8  Ping request'",
        {
            0: {
                (("spec", "ingress", 0, "icmp", "type"), "type"),
                (("spec", "ingress", 1, "icmp", "type"), "type"),
            }
        },
    ),
    "calico__network-policy__policy-rules__icmp-ping__3.yaml": (
        "the comments lost their '#': icmp type and code are strings",
        {
            0: {
                (("spec", "ingress", 0, "icmp", "type"), "type"),
                (("spec", "ingress", 0, "icmp", "code"), "type"),
            }
        },
    ),
    "calico__network-policy__services__services-cluster-ips__3.yaml": (
        "the `ingress:` key is missing, so the two rules are items of `types`",
        {
            0: {
                (("spec", "types"), "maxItems"),
                (("spec", "types", 1), "enum"),
                (("spec", "types", 1), "type"),
                (("spec", "types", 2), "enum"),
                (("spec", "types", 2), "type"),
            }
        },
    ),
    "calico__reference__resources__overview__2.yaml": (
        "HostEndpoint `interface:` is not a field (it is `interfaceName`)",
        {
            0: {(("spec", "interface"), "additionalProperties")},
            1: {(("spec", "interface"), "additionalProperties")},
        },
    ),
}


def _corpus_files(*patterns: str) -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(itertools.chain.from_iterable(CORPUS.glob(pattern) for pattern in patterns))


def _documents(path: Path) -> list[dict[str, Any]]:
    documents, diagnostics = read_documents(path.read_text(encoding="utf-8"), str(path))
    assert diagnostics == []
    return [document.data for document in documents]


@needs_corpus
@pytest.mark.parametrize(
    "path", _corpus_files("calico-docs/*.yaml", "calico-docs/k8s/*.yaml"), ids=lambda p: p.name
)
def test_calico_docs_corpus(path: Path) -> None:
    _reason, expected = CALICO_DOCS_VIOLATIONS.get(path.name, ("", {}))
    documents = _documents(path)
    assert documents
    actual = {index: found(schemas.validate(doc)) for index, doc in enumerate(documents)}
    assert {index: v for index, v in actual.items() if v} == expected


@needs_corpus
def test_every_listed_calico_docs_violation_exists() -> None:
    names = {path.name for path in _corpus_files("calico-docs/*.yaml")}
    assert set(CALICO_DOCS_VIOLATIONS) <= names


@needs_corpus
@pytest.mark.parametrize("path", _corpus_files("cilium-cli/*.yaml"), ids=lambda p: p.name)
def test_cilium_cli_corpus(path: Path) -> None:
    for document in _documents(path):
        if not document["apiVersion"].startswith("cilium.io/"):
            assert schemas.validate(document) == []  # the *-knp.yaml Kubernetes NetworkPolicies
            continue
        for version in ("1.16", "1.17", "1.18", "1.19"):
            assert schemas.validate(document, cilium_version=version) == [], version
        assert schemas.validate(document) == []
        # Port ranges (`endPort`) need Cilium 1.16: the connectivity test's *-port-range policies.
        old = schemas.validate(document, cilium_version="1.15")
        assert all(v.validator == "additionalProperties" and v.path[-1] == "endPort" for v in old)
        assert bool(old) == path.name.endswith("-port-range.yaml")


# ----------------------------------------------------------------------------------------------
# Negative and version tests
# ----------------------------------------------------------------------------------------------


def test_a_valid_document_has_no_violations() -> None:
    assert schemas.validate(calico()) == []
    assert schemas.validate(calico("NetworkPolicy")) == []
    assert schemas.validate(cnp()) == []
    assert schemas.validate(knp({"podSelector": {}, "policyTypes": ["Ingress"]})) == []


def test_wrong_type() -> None:
    (violation,) = schemas.validate(calico(spec={"order": "first"}))
    assert violation == SchemaViolation(("spec", "order"), 'must be a number, got a string "first"', "type")


def test_an_unknown_field_is_reported_at_its_own_path_with_a_hint() -> None:
    (violation,) = schemas.validate(calico(spec={"selector": "all()", "egres": [{"action": "Allow"}]}))
    assert violation.path == ("spec", "egres")
    assert violation.validator == "additionalProperties"
    assert "did you mean 'egress'" in violation.message


@pytest.mark.parametrize(
    "document",
    [
        {**calico(), "sepc": {}},
        calico(spec={"selector": "all()", "ingress": [{"action": "Allow", "sourc": {}}]}),
        cnp({"toEndpoints": [{"matchLabel": {"a": "b"}}]}),
        cnp({"toPort": [{"ports": [{"port": "80"}]}]}),
        knp({"podSelectr": {}}),
        {**ccg(), "metadata": {"name": "g", "labells": {}}},
    ],
    ids=["top-level", "calico-rule", "cilium-selector", "cilium-rule", "k8s-spec", "metadata"],
)
def test_unknown_fields_are_rejected_everywhere(document: dict[str, Any]) -> None:
    assert [v.validator for v in schemas.validate(document)] == ["additionalProperties"]


def test_maps_still_take_any_key() -> None:
    labels = {"app.kubernetes.io/name": "x", "anything": "y"}
    assert schemas.validate(calico(labels=labels, annotations={"k": "v"})) == []
    assert schemas.validate(cnp({"toEndpoints": [{"matchLabels": labels}]})) == []


def test_a_cluster_scoped_kind_has_no_namespace() -> None:
    (violation,) = schemas.validate(calico(namespace="default"))
    assert violation.path == ("metadata", "namespace")
    assert "cluster-scoped" in violation.message
    assert schemas.validate(calico("NetworkPolicy", namespace="default")) == []
    assert schemas.validate(calico("NetworkPolicy", namespace=None)) == []  # kubectl may omit it


def test_metadata_name_is_required() -> None:
    document = calico()
    del document["metadata"]["name"]
    assert found(schemas.validate(document)) == {(("metadata",), "required")}
    document["metadata"]["name"] = ""
    assert found(schemas.validate(document)) == {(("metadata", "name"), "minLength")}


def test_standard_object_meta_fields_are_accepted() -> None:
    metadata: dict[str, Any] = {
        "uid": "1d5a",
        "resourceVersion": "42",
        "generation": 3,
        "creationTimestamp": "2024-05-01T10:00:00Z",
        "managedFields": [{"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:spec": {}}}],
        "finalizers": ["x"],
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": "u"}],
        "labels": {"a": "b"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
    }
    assert schemas.validate(calico("NetworkPolicy", **metadata)) == []
    document = cnp()
    document["status"] = {"conditions": [{"type": "Valid", "status": "True"}]}
    assert schemas.validate(document) == []


def test_null_means_absent_as_in_the_api_server() -> None:
    assert schemas.validate(calico(spec={"selector": "all()", "ingress": None, "egress": None})) == []
    assert schemas.validate(calico(creationTimestamp=None, labels=None)) == []
    document = calico()
    document["metadata"]["name"] = None
    assert found(schemas.validate(document)) == {(("metadata",), "required")}
    assert found(schemas.validate(cnp(egress=None))) == {(("spec",), "anyOf")}


def test_cilium_rule_combinations_get_readable_messages() -> None:
    (both,) = schemas.validate(cnp(nodeSelector={}))
    assert both.validator == "oneOf"
    assert (
        both.message
        == "exactly one of 'endpointSelector', 'nodeSelector' must be set; got 'endpointSelector', 'nodeSelector'"
    )
    document = cnp()
    del document["spec"]["egress"]
    (none,) = schemas.validate(document)
    assert none.message == "at least one of 'ingress', 'ingressDeny', 'egress', 'egressDeny' must be set"
    (cidr_set,) = schemas.validate(cnp({"toCIDRSet": [{"cidr": "10.0.0.0/8", "cidrGroupRef": "g"}]}))
    assert cidr_set.path == ("spec", "egress", 0, "toCIDRSet", 0)
    assert cidr_set.message.startswith("exactly one of 'cidr', 'cidrGroupRef', 'cidrGroupSelector'")


def test_cidr_format_follows_go_parse_cidr() -> None:
    for good in ("10.0.0.0/8", "10.1.2.3/8", "2001:db8::/32", "0.0.0.0/0"):
        assert schemas.validate(cnp({"toCIDR": [good]})) == [], good
    for bad in (
        "10.0.0.0",
        "10.0.0.0/33",
        "10.0.0.0/255.0.0.0",
        "example.com/8",
        "fe80::1%eth0/64",
        "10.0.0.0/+8",
    ):
        assert found(schemas.validate(cnp({"toCIDR": [bad]}))) == {
            (("spec", "egress", 0, "toCIDR", 0), "format")
        }, bad
    bad_block = knp({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0"]}}]}]})
    assert found(schemas.validate(bad_block)) == {
        (("spec", "ingress", 0, "from", 0, "ipBlock", "except", 0), "format")
    }


def test_date_time_format() -> None:
    assert schemas.validate(calico(creationTimestamp="2024-05-01T10:00:00.5+02:00")) == []
    assert found(schemas.validate(calico(creationTimestamp="yesterday"))) == {
        (("metadata", "creationTimestamp"), "format")
    }
    assert found(schemas.validate(calico(creationTimestamp="2024-13-01T10:00:00Z"))) == {
        (("metadata", "creationTimestamp"), "format")
    }


def test_set_lists_must_not_repeat() -> None:
    document = calico("GlobalNetworkSet", spec={"nets": ["10.0.0.0/8", "10.0.0.0/8"]})
    (violation,) = schemas.validate(document)
    assert (violation.path, violation.validator) == (("spec", "nets"), "uniqueItems")


def test_int_or_string_fields() -> None:
    rule: dict[str, Any] = {
        "action": "Allow",
        "protocol": "TCP",
        "destination": {"ports": [80, "http", "1000:2000"]},
    }
    assert schemas.validate(calico(spec={"ingress": [rule]})) == []
    rule["protocol"] = True
    (violation,) = schemas.validate(calico(spec={"ingress": [rule]}))
    assert violation.message == "must be an integer or a string, got a boolean true"


def test_kubernetes_network_policy() -> None:
    full = {
        "podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a"]}]},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"a": "b"}}}]}],
        "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 80, "endPort": 90}]}],
    }
    assert schemas.validate(knp(full)) == []
    assert schemas.validate(knp({})) == []  # podSelector is optional in the current API
    assert found(schemas.validate(knp({"policyTypes": ["Ingres"]}))) == {(("spec", "policyTypes", 0), "enum")}
    icmp = knp({"ingress": [{"ports": [{"protocol": "ICMP"}]}]})
    assert found(schemas.validate(icmp)) == {(("spec", "ingress", 0, "ports", 0, "protocol"), "enum")}
    no_key = knp({"podSelector": {"matchExpressions": [{"operator": "Exists"}]}})
    assert found(schemas.validate(no_key)) == {(("spec", "podSelector", "matchExpressions", 0), "required")}


# --- Cilium versions -------------------------------------------------------------------------


def _valid_in(document: dict[str, Any]) -> list[str]:
    return [v for v in SUPPORTED_CILIUM_VERSIONS if not schemas.validate(document, cilium_version=v)]


def test_end_port_needs_cilium_1_16() -> None:
    document = cnp(ports_rule(port="8000", endPort=8080, protocol="TCP"))
    assert _valid_in(document) == ["1.16", "1.17", "1.18", "1.19"]
    (violation,) = schemas.validate(document, cilium_version="1.15")
    assert violation.path == ("spec", "egress", 0, "toPorts", 0, "ports", 0, "endPort")
    assert violation.validator == "additionalProperties"


def test_cidr_group_selector_needs_cilium_1_17() -> None:
    document = cnp({"toCIDRSet": [{"cidrGroupSelector": {"matchLabels": {"team": "a"}}}]})
    assert _valid_in(document) == ["1.17", "1.18", "1.19"]
    violations = schemas.validate(document, cilium_version="1.16")
    assert ("spec", "egress", 0, "toCIDRSet", 0, "cidrGroupSelector") in {v.path for v in violations}
    assert _valid_in(cnp({"toCIDRSet": [{"cidrGroupRef": "g"}]})) == list(SUPPORTED_CILIUM_VERSIONS)


def test_cilium_cidr_group_v2_needs_cilium_1_18() -> None:
    assert _valid_in(ccg("cilium.io/v2")) == ["1.18", "1.19"]
    assert _valid_in(ccg("cilium.io/v2alpha1")) == list(SUPPORTED_CILIUM_VERSIONS)
    (violation,) = schemas.validate(ccg("cilium.io/v2"), cilium_version="1.17")
    assert violation.path == ("apiVersion",)
    assert (
        violation.message
        == "Cilium 1.17 does not serve CiliumCIDRGroup cilium.io/v2; it serves cilium.io/v2alpha1"
    )
    assert not schemas.has_schema("cilium.io/v2", "CiliumCIDRGroup", cilium_version="1.17")
    assert schemas.has_schema("cilium.io/v2", "CiliumCIDRGroup", cilium_version="1.18")
    with pytest.raises(KeyError):
        schemas.schema_for("cilium.io/v2", "CiliumCIDRGroup", cilium_version="1.17")
    bad = ccg("cilium.io/v2")
    bad["spec"] = {"externalCIDRs": ["nope"]}
    assert found(schemas.validate(bad, cilium_version="1.17")) == {
        (("apiVersion",), "const"),
        (("spec", "externalCIDRs", 0), "format"),
    }


def test_default_deny_and_node_peers_need_cilium_1_16() -> None:
    assert _valid_in(cnp(enableDefaultDeny={"egress": False})) == ["1.16", "1.17", "1.18", "1.19"]
    assert _valid_in(cnp({"toNodes": [{}]})) == ["1.16", "1.17", "1.18", "1.19"]


def test_icmp_type_names_need_cilium_1_16() -> None:
    named = cnp({"icmps": [{"fields": [{"type": "EchoRequest", "family": "IPv4"}]}]})
    assert _valid_in(named) == ["1.16", "1.17", "1.18", "1.19"]
    assert _valid_in(cnp({"icmps": [{"fields": [{"type": 8}]}]})) == list(SUPPORTED_CILIUM_VERSIONS)
    # The CRD's pattern only constrains strings, so 1.16+ accept any integer (Cilium's Go code
    # rejects 256); the 1.15 field is a uint8.
    assert _valid_in(cnp({"icmps": [{"fields": [{"type": 256}]}]})) == ["1.16", "1.17", "1.18", "1.19"]
    assert _valid_in(cnp({"icmps": [{"fields": [{"type": "Ping"}]}]})) == []


def test_log_needs_cilium_1_18() -> None:
    assert _valid_in(cnp(log={"value": "audit"})) == ["1.18", "1.19"]
    assert _valid_in(cnp(log={"value": "bad\u0007bell"})) == []


def test_requires_peers_end_with_cilium_1_18() -> None:
    assert _valid_in(cnp({"toEndpoints": [{}], "toRequires": [{}]})) == ["1.15", "1.16", "1.17", "1.18"]


def test_extended_protocols_and_portless_entries_need_cilium_1_19() -> None:
    assert _valid_in(cnp(ports_rule(port="0", protocol="VRRP"))) == ["1.19"]
    assert _valid_in(cnp(ports_rule(protocol="TCP"))) == ["1.19"]
    assert _valid_in(cnp(ports_rule(port="80", protocol="TCP"))) == list(SUPPORTED_CILIUM_VERSIONS)


def test_server_name_constraints_start_with_cilium_1_18() -> None:
    rule = {
        "toFQDNs": [{"matchName": "a.example"}],
        "toPorts": [{"ports": [{"port": "443"}], "serverNames": []}],
    }
    assert _valid_in(cnp(rule)) == ["1.15", "1.16", "1.17"]


def test_clusterwide_policies_have_no_namespace_and_allow_node_selectors() -> None:
    document = cnp()
    document["kind"] = "CiliumClusterwideNetworkPolicy"
    del document["metadata"]["namespace"]
    document["spec"] = {"nodeSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}
    assert schemas.validate(document) == []
    document["metadata"]["namespace"] = "ns"
    assert found(schemas.validate(document)) == {(("metadata", "namespace"), "additionalProperties")}


def test_specs_use_the_same_rule_schema() -> None:
    document = cnp()
    document["specs"] = [document.pop("spec"), {"endpointSelector": {}, "ingress": [{"fromCIDR": ["bad"]}]}]
    assert found(schemas.validate(document)) == {(("specs", 1, "ingress", 0, "fromCIDR", 0), "format")}


def test_cilium_version_only_matters_for_cilium_kinds() -> None:
    assert schemas.validate(calico(), cilium_version="1.15") == []
    for document in (cnp(), calico()):
        with pytest.raises(ValueError, match="supported versions"):
            schemas.validate(document, cilium_version="1.14")


def _rule(version: str) -> dict[str, Any]:
    path = SCHEMAS / "cilium" / version / "cilium.io_v2" / "ciliumnetworkpolicy.json"
    rule: dict[str, Any] = json.loads(path.read_text())["$defs"]["rule"]
    return rule


def _server_names(rule: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for direction in ("ingress", "egress"):
        to_ports = rule["properties"][direction]["items"]["properties"]["toPorts"]["items"]
        yield to_ports["properties"]["serverNames"]


def test_derived_1_18_differs_from_1_17_only_by_the_documented_1_18_changes() -> None:
    rule_118, rule_117 = _rule("1.18"), _rule("1.17")
    del rule_118["properties"]["log"]
    for names in _server_names(rule_118):
        del names["minItems"], names["uniqueItems"], names["items"]["maxLength"], names["items"]["pattern"]
    assert rule_118 == rule_117
    clusterwide = json.loads(
        (SCHEMAS / "cilium/1.18/cilium.io_v2/ciliumclusterwidenetworkpolicy.json").read_text()
    )
    assert clusterwide["$defs"]["rule"] == _rule("1.18")


# --- Lookup errors and versions --------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        {"apiVersion": "projectcalico.org/v3", "kind": "StagedNetworkPolicy", "metadata": {"name": "x"}},
        {"apiVersion": "v1", "kind": "Pod"},
        {"apiVersion": "cilium.io/v2", "kind": "CiliumEnvoyConfig"},
        {"kind": "NetworkPolicy"},
        {"apiVersion": 3, "kind": "NetworkPolicy"},
        {},
    ],
)
def test_unknown_kinds_raise_key_error(document: dict[str, Any]) -> None:
    with pytest.raises(KeyError):
        schemas.validate(document)
    api, kind = document.get("apiVersion"), document.get("kind")
    if isinstance(api, str) and isinstance(kind, str):
        assert not schemas.has_schema(api, kind)


@pytest.mark.parametrize(
    ("given", "minor"),
    [("1.17", "1.17"), ("1.17.5", "1.17"), ("v1.17", "1.17"), ("v1.15.4", "1.15"), ("1.19.0-pre.4", "1.19"), (" 1.16 ", "1.16")],
)  # fmt: skip
def test_normalize_cilium_version(given: str, minor: str) -> None:
    assert schemas.normalize_cilium_version(given) == minor


@pytest.mark.parametrize("bad", ["1.14", "1.20", "2.0", "latest", "", "1", "1.x", "v", "1.17.5.1"])
def test_normalize_cilium_version_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match=r"Cilium|version"):
        schemas.normalize_cilium_version(bad)


def test_violations_are_sorted_short_and_frozen() -> None:
    document = calico(spec={"ingress": [{"action": "Maybe", "protocol": {"x": ["y"] * 1000}}], "order": "x"})
    violations = schemas.validate(document)
    assert [v.path for v in violations] == sorted((v.path for v in violations), key=str)
    assert all(len(v.message) < 300 for v in violations)
    with pytest.raises(AttributeError):
        violations[0].message = "changed"  # type: ignore[misc]


# ----------------------------------------------------------------------------------------------
# Regular expressions: rewrites keep upstream's language and are fast on hostile input
# ----------------------------------------------------------------------------------------------


def _strings(alphabet: str, longest: int) -> Iterator[str]:
    for length in range(longest + 1):
        for letters in itertools.product(alphabet, repeat=length):
            yield "".join(letters)


SAME_LANGUAGE = [upstream for upstream in gen.PATTERNS if "\\PC" not in upstream and "6553" not in upstream]


@pytest.mark.parametrize("upstream", SAME_LANGUAGE)
def test_pattern_rewrites_accept_the_same_strings(upstream: str) -> None:
    rewritten = re.compile(gen.PATTERNS[upstream].python)
    original = re.compile(upstream)
    for text in _strings("a1-_.*/:Z", 5):
        assert bool(original.search(text)) == bool(rewritten.search(text)), text
    if upstream.endswith("$"):
        assert not rewritten.search("a\n"), "Go's $ does not match before a final newline"


def test_port_pattern_is_the_anchored_upstream_pattern() -> None:
    (upstream,) = [p for p in gen.PATTERNS if "6553" in p]
    rewritten = re.compile(gen.PATTERNS[upstream].python)
    number, name = upstream[2:].removesuffix("$").split(")|", 1)
    anchored = re.compile(f"(?:{number})|(?:{name})")
    for text in _strings("a1-6Z/", 5):
        assert bool(rewritten.search(text)) == bool(anchored.fullmatch(text)), text
    assert all(rewritten.search(str(port)) for port in (0, 1, 80, 8080, 65535))
    assert not any(rewritten.search(text) for text in ("65536", "80/tcp", "-http", "http-", "a--b", "123456"))


def test_printable_pattern() -> None:
    (upstream,) = [p for p in gen.PATTERNS if "\\PC" in p]
    rewritten = re.compile(gen.PATTERNS[upstream].python)
    assert rewritten.search("audit: é 中 ✓ 🙂")
    for control in ("\x00", "\x1b", "\x7f", "\u200b", "\ufeff", "\ue000", "\U000e0001"):
        assert not rewritten.search(f"a{control}b"), repr(control)


def _patterns_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns_in(value)


def test_every_pattern_is_fast_on_hostile_strings() -> None:
    patterns = {p for path in _schema_files() for p in _patterns_in(json.loads(path.read_text()))}
    assert len(patterns) >= 10
    hostile = [
        unit * (4000 // len(unit)) + tail
        for unit in ("a", "a-", "a.", "1", "a1-", "-", "*a")
        for tail in ("!", "-", "")
    ]
    for pattern in patterns:
        compiled = re.compile(pattern)
        start = time.perf_counter()
        for text in hostile:
            compiled.search(text)
        assert time.perf_counter() - start < 0.5, pattern


def test_a_hostile_document_validates_quickly() -> None:
    rule = {
        "toFQDNs": [{"matchName": "a" * 5000 + "!"}],
        "toPorts": [{"ports": [{"port": "a" * 5000 + "!"}]}],
    }
    start = time.perf_counter()
    violations = schemas.validate(cnp(rule))
    assert time.perf_counter() - start < 1.0
    assert {v.validator for v in violations} == {"pattern", "maxLength"}


# ----------------------------------------------------------------------------------------------
# The compiled fast path agrees with jsonschema
# ----------------------------------------------------------------------------------------------


def _agrees(document: Any, cilium_version: str | None = None) -> None:
    file, _ = schemas._lookup(document.get("apiVersion"), document.get("kind"), cilium_version)
    fast = schemas._fast_check(file)(document)
    slow = schemas._validator(file).is_valid(document)
    assert fast == slow, (file, document)


SEEDS: list[dict[str, Any]] = [
    calico(),
    calico(
        "NetworkPolicy",
        spec={"ingress": [{"action": "Allow", "protocol": 6, "destination": {"ports": [80]}}]},
    ),
    calico("HostEndpoint", spec={"node": "n", "interfaceName": "eth0", "expectedIPs": ["10.0.0.1"]}),
    calico("Tier", spec={"order": 100, "defaultAction": "Pass"}),
    calico("GlobalNetworkSet", spec={"nets": ["10.0.0.0/8"]}),
    cnp(ports_rule(port="80", endPort=90, protocol="TCP")),
    cnp(
        {
            "toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}],
            "icmps": [{"fields": [{"type": 8}]}],
        }
    ),
    ccg(),
    ccg("cilium.io/v2alpha1"),
    knp(
        {
            "podSelector": {},
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 53}]}],
        }
    ),
]


def _seed_documents() -> list[dict[str, Any]]:
    documents = list(SEEDS)
    for path in _corpus_files("calico-docs/*.yaml", "calico-docs/k8s/*.yaml", "cilium-cli/*.yaml"):
        documents.extend(_documents(path))
    return documents


SEED_DOCUMENTS = _seed_documents()


def test_fast_path_agrees_on_the_seeds_in_every_version() -> None:
    for document in SEED_DOCUMENTS:
        for version in SUPPORTED_CILIUM_VERSIONS:
            _agrees(document, version)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.sampled_from(
        ["TCP", "Allow", "Ingress", "10.0.0.0/8", "10.0.0.1", "EchoRequest", "80", "http", "", "a" * 70]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["name", "port", "action", "selector", "matchLabels", "x"]), inner, max_size=3
        )
    ),
    max_leaves=6,
)
FIELD_NAMES = st.sampled_from(
    ["name", "namespace", "spec", "ingress", "egres", "port", "endPort", "cidr", "type", "zz"]
)


def _slots(node: Any, slots: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            slots.append((node, key))
            _slots(value, slots)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            slots.append((node, index))
            _slots(value, slots)
    return slots


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_agrees_on_mutated_documents(data: st.DataObject) -> None:
    document = copy.deepcopy(data.draw(st.sampled_from(SEED_DOCUMENTS)))
    for _ in range(data.draw(st.integers(1, 3))):
        slots = _slots(document, [])
        container, key = data.draw(st.sampled_from(slots))
        operation = data.draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if key in ("apiVersion", "kind") and container is document:
            continue
        if operation == "replace":
            container[key] = data.draw(VALUES)
        elif operation == "delete":
            del container[key]
        elif operation == "add" and isinstance(container[key], dict):
            container[key][data.draw(FIELD_NAMES)] = data.draw(VALUES)
        elif operation == "duplicate" and isinstance(container[key], list) and container[key]:
            container[key].append(copy.deepcopy(container[key][0]))
    version = data.draw(st.sampled_from(SUPPORTED_CILIUM_VERSIONS))
    _agrees(document, version)
    schemas.validate(document, cilium_version=version)  # never raises on any shape of value


def test_validation_is_fast() -> None:
    document = cnp(ports_rule(port="80", protocol="TCP"))
    schemas.validate(document)
    start = time.perf_counter()
    for _ in range(200):
        schemas.validate(document)
    assert (time.perf_counter() - start) / 200 < 0.002  # well under the cost of parsing the YAML
