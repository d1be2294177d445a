"""``convert --verify`` checks that narrowing is explained (C2C414, C2C415; ``verify/attribution.py``).

Before, one narrowing finding anywhere made the verifier accept *any* narrowing anywhere: asked
``narrowing=True`` it proves only that Cilium allows nothing Calico denies. A compiler bug that
over-denies the traffic of a policy no diagnostic mentions then passed as "narrowed". Each test
that injects such an over-deny also shows the old judge accepting it (``verify(narrowing=True)``
without an ``attribute``), so it fails on the code before attribution.
"""

from __future__ import annotations

import copy
import importlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from calico2cilium.diagnostics import Diagnostic, Scope, Severity, Source
from calico2cilium.semantics.expr import FALSE, SUBJECT, Attr, StrTest
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify import attribution as attribution_module
from calico2cilium.verify import conversion, symbolic
from calico2cilium.verify.api import verify
from calico2cilium.verify.attribution import Attribution
from calico2cilium.verify.conversion import check_conversion
from helpers import convert, run_cli

CLUSTER = {"pod_cidrs": ("10.244.0.0/16",), "node_cidrs": ("10.0.0.0/24",)}
ASSUMPTIONS = Assumptions(pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",))
CLI_CLUSTER = ("--pod-cidr", "10.244.0.0/16", "--node-cidr", "10.0.0.0/24", "--endpoint-to-host-action", "Accept")  # fmt: skip


def _np(name: str, namespace: str, selector: str, port: int = 80) -> str:
    """A NetworkPolicy allowing ingress on TCP ``port`` to the pods of ``selector`` (exact)."""
    return f"""\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  selector: {selector}
  types: [Ingress]
  ingress: [{{action: Allow, protocol: TCP, destination: {{ports: [{port}]}}}}]
"""


# billing: one rule refused (C2C303, narrowing: Cilium denies what it allowed). web, in another
# namespace, converts exactly: nothing is said about it.
INPUT = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: billing, namespace: shop}
spec:
  selector: app == 'billing'
  types: [Egress]
  egress:
  - action: Allow
    protocol: TCP
    destination: {selector: team contains 'pay', ports: [443]}
---
""" + _np("web", "front", "app == 'web'")

OVER_DENY = {"fromEntities": ["all"], "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]}
"""What the injected bug adds to a policy's output: Cilium denies TCP 80 from everything."""


def _injected(documents: list[dict[str, Any]], name: str, egress: bool = False) -> list[dict[str, Any]]:
    """The output with ``OVER_DENY`` (or its egress form) added to the policy named ``name`` (a
    compiler over-deny)."""
    out = copy.deepcopy(documents)
    deny = {"toEntities": ["all"], "toPorts": OVER_DENY["toPorts"]} if egress else OVER_DENY
    for document in out:
        if document["metadata"]["name"] == name:
            specs = document.get("specs") or [document["spec"]]
            specs[0].setdefault("egressDeny" if egress else "ingressDeny", []).append(deny)
            return out
    raise AssertionError(f"no output policy {name}")


def _convert(text: str = INPUT, **options: Any) -> Any:
    return convert(text=text, name="input.yaml", **CLUSTER, **options)


def test_a_genuine_narrowing_is_explained_by_its_finding() -> None:
    result = _convert()
    assert [d.code for d in result.diagnostics if d.narrowing] == ["C2C303"]
    check = check_conversion(result, ASSUMPTIONS)
    assert check.status == "narrowed", check.render_text()
    assert check.proof.unexplained == [] and check.proof.explained
    _, why = check.proof.explained[0]
    assert why.startswith("C2C303 at input.yaml:")
    assert "explained by: C2C303" in check.render_text()


def test_an_over_deny_of_a_policy_no_finding_mentions_is_reported() -> None:
    result = _convert()
    result.documents = _injected(result.documents, "web")
    # The old judge: one unrelated narrowing finding, so "narrowed" whatever else is denied.
    assert verify(result.loaded, result.documents, ASSUMPTIONS, narrowing=True).status == "narrowed"
    check = check_conversion(result, ASSUMPTIONS)
    assert check.status == "different", check.render_text()
    (example,) = check.proof.unexplained
    assert example.flow.subject.namespace == "front" and example.flow.dst_port == 80
    assert example.calico.allowed and not example.cilium.allowed
    assert "NetworkPolicy front/web" in str(example.calico.ref)
    assert "no narrowing finding explains it (C2C414" in check.render_text()
    assert check.proof.to_dict()["unexplained"]


def test_an_over_deny_in_the_narrowed_policy_itself_is_explained_in_its_direction() -> None:
    # The finding is on billing's egress: billing's subjects may be denied more egress (the
    # attribution is per policy and direction, not per rule: what a refused rule costs is the
    # compiler's business), but not ingress, where billing decides nothing.
    result = _convert()
    documents = result.documents
    result.documents = _injected(documents, "billing", egress=True)
    assert check_conversion(result, ASSUMPTIONS).status == "narrowed"
    result.documents = _injected(documents, "billing")
    check = check_conversion(result, ASSUMPTIONS)
    assert check.status == "different"
    assert {e.flow.direction for e in check.proof.unexplained} == {"ingress"}


def test_convert_verify_exits_4_on_an_unexplained_narrowing(tmp_path: Path, monkeypatch: Any) -> None:
    convert_module = importlib.import_module("calico2cilium.convert")
    real = convert_module.convert

    def buggy(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        result.documents = _injected(result.documents, "web")
        return result

    path = tmp_path / "input.yaml"
    path.write_text(INPUT)
    code, out, err = run_cli("convert", str(path), *CLI_CLUSTER, "--verify")
    assert code == 1 and "NARROWED" in err and "CiliumNetworkPolicy" in out
    monkeypatch.setattr(convert_module, "convert", buggy)
    code, out, err = run_cli("convert", str(path), *CLI_CLUSTER, "--verify")
    assert code == 4 and out == "" and "nothing was written" in err, err
    assert "C2C414" in err and "front/subject-pod" in err
    code, out, err = run_cli("convert", str(path), *CLI_CLUSTER, "--verify", "--diagnostics-format", "json")
    assert code == 4 and '"code": "C2C414"' in err


def test_a_finding_on_a_policy_subject_explains_its_namespace_only() -> None:
    # A subject selector with no Cilium form is widened to the namespace (C2C303 at spec.selector):
    # the finding explains narrowing of every pod of that namespace, and no other.
    text = (
        _np("jobs", "batch", "job starts with 'nightly-'", 9000)
        + "---\n"
        + _np("web", "front", "app == 'web'")
    )
    result = _convert(text)
    assert any(d.code == "C2C303" and d.narrowing for d in result.diagnostics)
    assert check_conversion(result, ASSUMPTIONS).status == "narrowed"
    result.documents = _injected(result.documents, "web")
    assert verify(result.loaded, result.documents, ASSUMPTIONS, narrowing=True).status == "narrowed"
    check = check_conversion(result, ASSUMPTIONS)
    assert check.status == "different"
    assert {e.flow.subject.namespace for e in check.proof.unexplained} == {"front"}


TEMPLATED = _np("a1", "apps", "app == 'a1'") + "---\n" + _np("a2", "apps", "app == 'a2'")


def test_symmetry_keeps_apart_policies_a_finding_concerns() -> None:
    # a1 and a2 have one shape on both sides, so the proof asks about one of them only. A finding
    # on a1 alone must not let a1 stand for a2: a2's over-deny would be "explained" by a1's finding.
    result = _convert(TEMPLATED)
    result.documents = _injected(_injected(result.documents, "a1"), "a2")
    a1 = next(d for d in result.loaded.documents if d.name == "a1")
    finding = Diagnostic(
        "C2C303", Severity.WARNING, "a1: refused", a1.raw.source(("spec", "ingress", 0)), None, True
    )
    check = check_conversion(result, ASSUMPTIONS, findings=[finding])
    assert check.status == "different", check.render_text()
    assert {e.flow.subject.labels.get("app") for e in check.proof.unexplained} == {"a2"}


def test_two_questions_attribute_every_narrowing_and_the_bound_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two policies on subjects the partitioner does not split (has(a), has(b)), each with a refused
    # rule. The first narrowed flow explained, everything the findings explain there is left out:
    # the next question finds nothing. Past the bound of questions (here forced: an explanation
    # that leaves nothing out), a narrowed flow still left is reported (C2C415), not accepted.
    text = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: pa}
spec:
  selector: has(a)
  types: [Egress]
  egress: [{action: Allow, protocol: TCP, destination: {selector: team contains 'x', ports: [1]}}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: pb}
spec:
  selector: has(b)
  types: [Egress]
  egress: [{action: Allow, protocol: TCP, destination: {selector: team contains 'y', ports: [2]}}]
"""
    result = _convert(text)
    check = check_conversion(result, ASSUMPTIONS)
    assert check.status == "narrowed" and not check.proof.unattributed
    assert len(check.proof.explained) == 1  # the second question found nothing left
    monkeypatch.setattr(Attribution, "explainable", lambda self, calico, subject: FALSE)
    check = check_conversion(result, ASSUMPTIONS)
    assert check.status == "narrowed" and check.proof.unattributed
    assert len(check.proof.explained) == symbolic.MAX_ROUNDS
    assert "Narrowing not all attributed (C2C415)" in check.render_text()
    from calico2cilium.cli.verify import result_diagnostics

    assert "C2C415" in {d.code for d in result_diagnostics(check.proof)}


def test_verifier_findings_explain_nothing() -> None:
    # C2C401 is a narrowing code (a difference), but the verifier's own findings are no reason.
    finding = Diagnostic("C2C401", Severity.WARNING, "a difference", None)
    assert not Attribution([finding], [])


def test_check_conversion_is_asked_with_the_attribution(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    real = conversion.verify

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(conversion, "verify", spy)
    check_conversion(_convert(), ASSUMPTIONS)
    assert seen["narrowing"] is True and isinstance(seen["attribute"], Attribution)


HOSTS = Path(__file__).resolve().parent.parent / "fixtures" / "host-hep-with-policy" / "input.yaml"


def test_a_node_local_finding_explains_node_local_traffic_only() -> None:
    # C2C343 (a node's own pods to it: never policed by its HostEndpoint in Calico, and by Cilium's
    # host policy) explains the host's narrowed flows from its own pods, which Calico decides
    # before any policy; not an over-deny of the host's other egress.
    from calico2cilium.semantics.world import node_labels

    labels = node_labels({"node1": {"calico2cilium.io/node": "node1", "kubernetes.io/hostname": "node1"}})
    assumptions = Assumptions(pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",), node_labels=labels)
    result = convert(text=HOSTS.read_text(), name="input.yaml", **CLUSTER)
    assert "C2C343" in {d.code for d in result.diagnostics}
    check = check_conversion(result, assumptions)
    assert check.status == "narrowed", check.render_text()
    assert {why.split()[0] for _, why in check.proof.explained} == {"C2C343"}
    result.documents = copy.deepcopy(result.documents)
    host_specs = [s for d in result.documents for s in d.get("specs") or [d["spec"]] if "nodeSelector" in s]
    host_specs[0].setdefault("egressDeny", []).append(
        {"toEntities": ["all"], "toPorts": OVER_DENY["toPorts"]}
    )
    assert verify(result.loaded, result.documents, assumptions, narrowing=True).status == "narrowed"
    check = check_conversion(result, assumptions)
    assert check.status == "different", check.render_text()
    # (a host spec with a deny rule is in egress default deny too: any host egress may show)
    assert {(e.flow.subject.kind, e.flow.direction) for e in check.proof.unexplained} == {("host", "egress")}


def test_the_migration_report_says_narrowed_or_different() -> None:
    # The report's verdict read only counterexamples: a conversion proven narrowed (its narrowed
    # flows are not counterexamples) was "not proven". Now narrowed, and an unexplained narrowing
    # is "different", its flows listed as traffic that changes.
    from calico2cilium.report.model import changes_of, verdict_of

    result = _convert()
    check = check_conversion(result, ASSUMPTIONS)
    assert verdict_of(check, result.diagnostics) == "narrowed"
    result.documents = _injected(result.documents, "web")
    check = check_conversion(result, ASSUMPTIONS)
    assert verdict_of(check, result.diagnostics) == "different"
    assert changes_of(check.proof.narrowed, "calico -> cilium")


def _c2c350(result: Any, *names: str, message: str = "", every: bool = False) -> Diagnostic:
    """A C2C350 for a part of the ingress direction whose scope names the policies ``names`` of
    ``result``'s input (with no position: one at a policy would concern that policy's whole
    namespace, as a finding on the policy as a whole), its message ``message``."""
    sources = tuple(d.raw.source() for name in names for d in result.loaded.documents if d.name == name)
    scope = Scope(sources, ("ingress",), every=every)
    return Diagnostic("C2C350", Severity.WARNING, message, None, None, True, scope)


WEB_API = _np("web", "front", "app == 'web'") + "---\n" + _np("api", "front", "app == 'api'")


def test_c2c350_explains_the_subjects_of_the_policies_its_scope_names() -> None:
    result = _convert(WEB_API)
    result.documents = _injected(_injected(result.documents, "web"), "api")
    both = _c2c350(result, "web", "api")
    assert check_conversion(result, ASSUMPTIONS, findings=[both]).status == "narrowed"
    one = _c2c350(result, "web")
    check = check_conversion(result, ASSUMPTIONS, findings=[one])
    assert {e.flow.subject.labels.get("app") for e in check.proof.unexplained} == {"api"}
    # Its direction only: an egress over-deny of a policy it names is not explained.
    result.documents = _injected(result.documents, "api", egress=True)
    check = check_conversion(result, ASSUMPTIONS, findings=[both])
    assert {e.flow.direction for e in check.proof.unexplained} == {"egress"}
    # A whole direction (``every``): every subject of it, and still no other direction.
    whole = _c2c350(result, every=True)
    check = check_conversion(result, ASSUMPTIONS, findings=[whole])
    assert {e.flow.direction for e in check.proof.unexplained} == {"egress"}


def test_c2c350_is_read_from_its_scope_never_from_its_message() -> None:
    # Before, the policies a C2C350 concerns were found in its message text: rewording the message
    # changed what --verify accepted. Here the message names api and says "every pod a policy
    # selects ... and 1 more" (all the old reading looked for), the scope names web alone.
    result = _convert(WEB_API)
    result.documents = _injected(_injected(result.documents, "web"), "api")
    misleading = (
        "NetworkPolicy front/api: work budget; every pod a policy selects for ingress by"
        " NetworkPolicy front/api and 1 more is left in Cilium's default deny"
    )
    check = check_conversion(result, ASSUMPTIONS, findings=[_c2c350(result, "web", message=misleading)])
    assert check.status == "different", check.render_text()
    assert {e.flow.subject.labels.get("app") for e in check.proof.unexplained} == {"api"}
    reworded = _c2c350(result, "web", "api", message="a part of ingress failed closed")
    assert check_conversion(result, ASSUMPTIONS, findings=[reworded]).status == "narrowed"


def test_each_region_is_held_while_the_memo_is_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    # review12: ``evaluate``'s memo is keyed by node identity and was shared by the findings'
    # regions, each built and freed in turn: a fresh region could take a freed one's ``id`` and
    # read its memoised verdict, so a narrowed flow its own finding explains was reported as
    # unexplained (C2C414, exit 4) depending on the allocator (the differential test, seed 9123).
    result = _convert()
    findings = [
        Diagnostic("C2C303", Severity.WARNING, f"finding {i}", None, narrowing=True) for i in range(2)
    ]
    attribution = Attribution(findings, result.loaded.documents)
    proof = verify(result.loaded, result.documents, ASSUMPTIONS, narrowing=True)
    (example,) = proof.narrowed
    namespace = example.flow.subject.namespace
    # Fresh nodes on each call, the first false for the flow, the second true (as a finding on a
    # policy of another namespace, then one on the flow's own, builds them).
    regions = iter(("elsewhere", namespace))

    def region(reason: Any, calico: Any, subject: Any) -> Any:
        return StrTest(Attr(SUBJECT, "nsname"), "eq", next(regions))

    monkeypatch.setattr(attribution_module, "_region", region)
    assert proof.programs is not None
    explanation = attribution(example, proof.programs[0][example.flow.direction])
    assert explanation is not None and explanation.finding.message == "finding 1"


def test_a_rule_finding_explains_its_own_direction_only() -> None:
    # review12: billing governs both directions here, and the finding is on an egress rule; an
    # over-deny of its ingress (TCP 80 from everything, which its ingress rule allows) was
    # explained by it, since the finding's policy selects the flow's subject. A rule decides only
    # its own direction: the finding is positioned in spec.egress, so it explains egress alone.
    text = INPUT.replace(
        "  types: [Egress]\n", "  types: [Ingress, Egress]\n  ingress: [{action: Allow}]\n", 1
    )
    result = _convert(text)
    (finding,) = [d for d in result.diagnostics if d.narrowing]
    assert finding.code == "C2C303"
    assert check_conversion(result, ASSUMPTIONS).status == "narrowed"
    documents = result.documents
    result.documents = _injected(documents, "billing", egress=True)
    assert check_conversion(result, ASSUMPTIONS).status == "narrowed"
    result.documents = _injected(documents, "billing")
    check = check_conversion(result, ASSUMPTIONS)
    assert check.status == "different", check.render_text()
    assert {e.flow.direction for e in check.proof.unexplained} == {"ingress"}


KNP_WEB = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: billing, namespace: shop}
spec:
  podSelector: {matchLabels: {app: other}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {}}]}]
---
"""
"""A Kubernetes NetworkPolicy of the same kind, namespace and name as the Calico one after it."""


@pytest.mark.parametrize(
    "calico",
    [
        INPUT,  # the finding in billing's egress rule list
        INPUT.replace("selector: app == 'billing'", "selector: app contains 'bill'", 1),  # on its subject
    ],
)
def test_a_finding_is_read_in_its_own_document_when_another_has_its_label(calico: str) -> None:
    # review12: the index kept one document per label (the first), so a finding on the Calico
    # NetworkPolicy shop/billing was placed in the Kubernetes NetworkPolicy shop/billing before it:
    # its subject-widening finding did not concern the namespace (main: C2C414, exit 4, on a
    # genuine narrowing), nor its rule finding the egress direction.
    result = _convert(KNP_WEB + calico)
    assert {d.code for d in result.diagnostics if d.narrowing} == {"C2C303"}
    check = check_conversion(result, ASSUMPTIONS)
    assert check.status == "narrowed", check.render_text()


PART = (
    """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g}
spec:
  selector: app == 'web'
  types: [Ingress]
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
---
"""
    + _np("web", "front", "app == 'web'")
    + "---\n"
    + _np("db", "back", "app == 'db'")
)
"""g and front/web select meeting pods (one part of ingress); back/db is a part of its own."""


def test_a_part_failing_closed_names_its_policies_in_its_scope() -> None:
    from test_components import _exhausted

    with _exhausted("front"):
        result = _convert(PART)
    (finding,) = [d for d in result.diagnostics if d.code == "C2C350"]
    starts = {d.name: d.raw.source() for d in result.loaded.documents}
    assert finding.scope is not None and not finding.scope.every
    assert set(finding.scope.policies) == {starts["g"], starts["web"]}
    assert finding.scope.directions == ("ingress",)
    # g's pods outside namespace front are narrowed too: only the scope says so (it is positioned at
    # front/web). A reworded message (no policy named) is attributed the same.
    for said in (finding, replace(finding, message="reworded")):
        check = check_conversion(result, ASSUMPTIONS, findings=[said])
        assert check.status == "narrowed", check.render_text()
    result.documents = _injected(result.documents, "db")
    check = check_conversion(result, ASSUMPTIONS)
    assert check.status == "different", check.render_text()
    assert {e.flow.subject.labels.get("app") for e in check.proof.unexplained} == {"db"}


def test_the_json_diagnostics_carry_the_scope() -> None:
    from calico2cilium.diagnostics.render import as_dict

    finding = Diagnostic(
        "C2C350", Severity.WARNING, "m", None, None, True, Scope((Source("in.yaml", 3, 1),), ("egress",))
    )
    assert as_dict(finding)["scope"] == {
        "policies": ["in.yaml:3:1"],
        "directions": ["egress"],
        "every": False,
    }
    assert "scope" not in as_dict(replace(finding, scope=None))


KNP_OTHER = KNP_WEB.replace(
    "policyTypes: [Ingress]\n  ingress: [{from: [{podSelector: {}}]}]",
    "policyTypes: [Egress]\n  egress: [{}]",
)
"""A Kubernetes NetworkPolicy of the namespace and name of the Calico one after it (``INPUT``),
allowing all egress of other pods."""


def test_a_finding_on_a_calico_policy_does_not_explain_the_kubernetes_one_of_its_name() -> None:
    # Both were labelled "NetworkPolicy shop/billing": the Calico policy's finding (C2C303 in its
    # egress rules) explained an over-deny of the Kubernetes NetworkPolicy's pods, and the other
    # way round. Now they are two resources (KubernetesNetworkPolicy shop/billing).
    result = _convert(KNP_OTHER + INPUT)
    assert check_conversion(result, ASSUMPTIONS).status == "narrowed"
    documents = copy.deepcopy(result.documents)
    (knp,) = [d for d in documents if d["kind"] == "NetworkPolicy"]
    knp["spec"]["egress"] = [{"ports": [{"port": 443, "protocol": "TCP"}]}]  # a compiler over-deny
    result.documents = documents
    assert verify(result.loaded, result.documents, ASSUMPTIONS, narrowing=True).status == "narrowed"
    check = check_conversion(result, ASSUMPTIONS)
    assert check.status == "different", check.render_text()
    assert {e.flow.subject.labels.get("app") for e in check.proof.unexplained} == {"other"}


def test_a_finding_on_a_kubernetes_policy_does_not_explain_the_calico_one_of_its_name() -> None:
    # The Calico policy's genuine narrowing (its refused egress rule) with only a finding on the
    # Kubernetes NetworkPolicy of its name, in the same direction: nothing explains it.
    result = _convert(KNP_OTHER + INPUT)
    knp = next(d for d in result.loaded.documents if d.raw.api_version.startswith("networking.k8s.io/"))
    finding = Diagnostic("C2C303", Severity.WARNING, "m", knp.raw.source(("spec", "egress", 0)), None, True)
    check = check_conversion(result, ASSUMPTIONS, findings=[finding])
    assert check.status == "different", check.render_text()
    assert {e.flow.subject.labels.get("app") for e in check.proof.unexplained} == {"billing"}


INVALID = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: bad, namespace: back}
spec:
  selector: app == 'x'
  types: [Ingress]
  ingress: [{action: Allow, protocol: TCP, bogus: 1}]
"""
"""A policy in error (an unknown field): ``--allow-partial`` quarantines it (C2C236)."""


def test_a_finding_on_a_policy_not_converted_is_placed_in_it() -> None:
    # The index held only the converted resources: the quarantine's C2C236, positioned at back/bad,
    # fell in front/web before it in the file (its last field, spec.ingress): it explained an
    # over-deny of web's ingress, and not the quarantine's own narrowing of back (review13 found
    # the second half too: test_review13).
    result = _convert(_np("web", "front", "app == 'web'") + "---\n" + INVALID, quarantine=True)
    assert [d.name for d in result.loaded.rejected] == ["bad"]
    check = check_conversion(result, ASSUMPTIONS)
    assert check.proof.unexplained == [], check.render_text()
    assert {e.flow.subject.namespace for e, _ in check.proof.explained} == {"back"}
    result.documents = _injected(result.documents, "web")
    check = check_conversion(result, ASSUMPTIONS)
    assert {e.flow.subject.namespace for e in check.proof.unexplained} == {"front"}, check.render_text()


def _has_a(name: str, order: int, rule: str) -> str:
    """A GlobalNetworkPolicy of the pods with label ``a``, with one egress ``rule``."""
    return f"""\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {{name: {name}}}
spec:
  order: {order}
  selector: has(a)
  types: [Egress]
  egress: [{rule}]
---
"""


SHADOWED = (
    _has_a("wide", 10, "{action: Deny, protocol: TCP, destination: {selector: team contains 'x'}}")
    + _has_a("later", 20, "{action: Allow, protocol: TCP, destination: {ports: [443]}}")
    + _np("web", "front", "app == 'web'").replace("Ingress", "Egress").replace("ingress:", "egress:")
)
"""wide's refused Deny becomes a Deny of all TCP (C2C303), which takes all later allows: C2C352 on
later, a policy as a whole. web, egress TCP 80 of other pods, is exact."""


def test_a_policy_shadowed_by_a_wider_deny_concerns_its_own_pods_only() -> None:
    # C2C352 is positioned at the policy as a whole, which alone reads as a subject widened to
    # everything its namespace (here: the cluster) could select: it explained an over-deny of any
    # pod's egress. Its scope says what it narrows: later's pods, in egress.
    result = _convert(SHADOWED)
    (shadowed,) = [d for d in result.diagnostics if d.code == "C2C352"]
    later = next(d for d in result.loaded.documents if d.name == "later")
    assert shadowed.narrowing and shadowed.scope == Scope((later.raw.source(),), ("egress",))
    assert check_conversion(result, ASSUMPTIONS).status == "narrowed"
    result.documents = _injected(result.documents, "web", egress=True)
    check = check_conversion(result, ASSUMPTIONS)
    assert check.status == "different", check.render_text()
    assert {e.flow.subject.labels.get("app") for e in check.proof.unexplained} == {"web"}
