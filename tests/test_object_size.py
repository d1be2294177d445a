"""Output objects too large for client-side ``kubectl apply`` (C2C113) or for the API server at
all (C2C114): cilium/object_size.py."""

from __future__ import annotations

from calico2cilium.cilium.object_size import ANNOTATIONS_LIMIT, ETCD_REQUEST_LIMIT, object_size_findings
from calico2cilium.convert import convert
from calico2cilium.diagnostics import Severity


def _many_ports(ports: int, protocols: tuple[str, ...]) -> str:
    """A GlobalNetworkPolicy allowing ``ports`` odd ports of each protocol, 50 to a rule (the CRD's
    maximum): each becomes one port entry of the output, about 34 bytes as JSON."""
    odd = list(range(1, 2 * ports, 2))
    rules = "".join(
        f"  - {{action: Allow, protocol: {p}, destination: {{ports: [{', '.join(map(str, odd[i : i + 50]))}]}}}}\n"
        for p in protocols
        for i in range(0, len(odd), 50)
    )
    return (
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: many-ports}\n"
        f"spec:\n  selector: app == 'web'\n  types: [Ingress]\n  ingress:\n{rules}"
    )


def _convert(text: str):  # type: ignore[no-untyped-def]
    return convert(text=text, pod_cidrs=["10.244.0.0/16"], node_cidrs=["10.0.0.0/24"])


def test_an_object_over_the_annotation_limit_is_a_warning_naming_server_side_apply() -> None:
    result = _convert(_many_ports(10_000, ("TCP",)))
    (found,) = [d for d in result.diagnostics if d.code in ("C2C113", "C2C114")]
    assert found.code == "C2C113" and found.severity is Severity.WARNING
    assert "many-ports" in found.message and "--server-side" in (found.hint or "")
    assert found.source is not None and found.source.line == 1
    assert result.ok and len(result.documents) == 1


def test_an_object_over_etcds_request_limit_is_an_error() -> None:
    result = _convert(_many_ports(25_000, ("TCP", "UDP")))
    (found,) = [d for d in result.diagnostics if d.code in ("C2C113", "C2C114")]
    assert found.code == "C2C114" and found.severity is Severity.ERROR
    assert not result.ok


def test_small_objects_are_not_reported() -> None:
    result = _convert(_many_ports(100, ("TCP",)))
    assert not [d for d in result.diagnostics if d.code in ("C2C113", "C2C114")]


def test_the_limits_are_on_the_compact_json() -> None:
    def doc(size: int) -> dict[str, object]:
        return {"kind": "CiliumNetworkPolicy", "metadata": {"name": "p"}, "spec": {"description": "x" * size}}

    below = [d.code for d in object_size_findings([doc(ANNOTATIONS_LIMIT - 1_000)])]
    above = [d.code for d in object_size_findings([doc(ANNOTATIONS_LIMIT)])]
    stored = [d.code for d in object_size_findings([doc(ETCD_REQUEST_LIMIT)])]
    assert (below, above, stored) == ([], ["C2C113"], ["C2C114"])
