"""``--allow-partial`` output fails closed (issue 15): a policy in error is quarantined, not dropped.

Each case converts an input whose policy in error holds a Deny that a later valid Allow would
otherwise reach, with ``convert --allow-partial``, and proves with the verifier that the output
allows no flow that Calico denies with the *corrected* document (what the user meant):
``verify(corrected, output, narrowing=True)``. The same proof on the output without its
quarantines (what ``--allow-partial`` wrote before) finds the widening, so each case can fail.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, seed, settings
from hypothesis import strategies as st

from calico2cilium.cilium.quarantine import QUARANTINE_ANNOTATION
from calico2cilium.compile.quarantine import suspect_of
from calico2cilium.convert import convert
from calico2cilium.diagnostics.catalog.quarantine import DENY_EXAMPLE
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.load import load
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify
from calico_strategies import Scenario, dump, scenarios
from helpers import run_cli
from test_convert_differential import OUTSIDE_THE_PROOF, widening

DIFF_EXAMPLES = int(os.environ.get("C2C_DIFFTEST_EXAMPLES", "20"))
DIFF_SEED = int(os.environ.get("C2C_DIFFTEST_SEED", "1"))
"""As in test_convert_differential.py: a small seeded run by default; raise both to hunt."""
CLUSTER = ["--pod-cidr", "10.244.0.0/16", "--node-cidr", "192.168.0.0/24"]
ASSUMED = Assumptions(pod_cidrs=("10.244.0.0/16",), node_cidrs=("192.168.0.0/24",))

DENY = DENY_EXAMPLE.format(side="source")
ALLOW_ALL = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-all, namespace: dev}
spec:
  order: 20
  selector: all()
  types: [Ingress, Egress]
  ingress: [{action: Allow}]
  egress: [{action: Allow}]
"""
GNP_DENY = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: no-egress-to-db}
spec:
  order: 10
  selector: tier == 'front'
  types: [Egress]
  egress:
    - action: Deny
      destination:
        selector: app == 'db'
"""
GNP_ALLOW = ALLOW_ALL.replace("kind: NetworkPolicy", "kind: GlobalNetworkPolicy").replace(
    ", namespace: dev", ""
)
KNP = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: dev}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector: {matchLabels: {app: web}}
"""


def _partial(tmp_path: Path, text: str, *flags: str) -> tuple[int, list[dict[str, Any]], str]:
    path = tmp_path / "input.yaml"
    path.write_text(text)
    code, out, err = run_cli("convert", str(path), *CLUSTER, "--allow-partial", *flags)
    return code, [d for d in yaml.safe_load_all(out) if d], err


def _quarantines(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if QUARANTINE_ANNOTATION in (d["metadata"].get("annotations") or {})]


def _proof(corrected: str, docs: list[dict[str, Any]]) -> str:
    """The verifier's verdict on ``docs`` against the corrected input: ``narrowed`` or
    ``equivalent`` when Cilium allows no flow Calico denies, ``different`` otherwise."""
    calico = load(text=corrected, name="corrected.yaml")
    assert not calico.has_errors
    result = verify(calico, docs, ASSUMED, narrowing=True)
    assert not result.invalid, result.invalid
    return result.status


def _fails_closed(tmp_path: Path, broken: str, corrected: str, *flags: str) -> list[dict[str, Any]]:
    """Convert ``broken`` with --allow-partial and prove the output fails closed against
    ``corrected``; and that without its quarantines the same output would allow more."""
    code, docs, err = _partial(tmp_path, broken, *flags)
    assert code == 2 and "C2C236" in err, err
    quarantines = _quarantines(docs)
    assert quarantines
    assert _proof(corrected, docs) in ("narrowed", "equivalent")
    unguarded = [d for d in docs if d not in quarantines]
    assert _proof(corrected, unguarded) == "different"  # what --allow-partial wrote before
    return quarantines


@pytest.mark.parametrize(
    ("broken", "code"),
    [
        (DENY.replace("source:", "sorce:"), "C2C210"),  # a typo in a rule
        (DENY.replace("role == 'attacker'", "role == 'attacker"), "C2C211"),  # a bad rule selector
        (DENY.replace("order: 10", "order: first"), "C2C212"),  # a wrong type
        (DENY.replace("selector: app == 'db'", "selector: app = 'db'"), "C2C211"),  # a bad subject
    ],
    ids=["typo", "rule-selector", "wrong-type", "subject-selector"],
)
def test_an_invalid_deny_policy_is_quarantined_not_dropped(tmp_path: Path, broken: str, code: str) -> None:
    (quarantine,) = _fails_closed(tmp_path, f"{broken}---\n{ALLOW_ALL}", f"{DENY}---\n{ALLOW_ALL}")
    assert quarantine["kind"] == "CiliumNetworkPolicy"
    assert quarantine["metadata"]["name"] == "deny-db" and quarantine["metadata"]["namespace"] == "dev"
    assert quarantine["metadata"]["annotations"]["calico2cilium.io/source"] == "NetworkPolicy dev/deny-db"
    (spec,) = quarantine["specs"]
    assert spec["ingressDeny"] == [{"fromEntities": ["all"]}] and "egressDeny" not in spec
    assert "deny-db" in spec["description"]
    # The file is named by the source-file annotation, relative to the input root; no absolute
    # path reaches the output (issue 15 item 8): the description once carried the path as given.
    assert quarantine["metadata"]["annotations"]["calico2cilium.io/source-file"].startswith("input.yaml")
    assert str(tmp_path) not in repr(quarantine)
    # The subject selector as written when it parses, else every pod of the namespace.
    expected = {} if "app = 'db'" in broken else {"matchLabels": {"app": "db"}}
    assert spec["endpointSelector"] == expected


def test_a_global_policy_is_quarantined_cluster_wide(tmp_path: Path) -> None:
    broken = GNP_DENY.replace("destination:", "destinaton:")
    (quarantine,) = _fails_closed(tmp_path, f"{broken}---\n{GNP_ALLOW}", f"{GNP_DENY}---\n{GNP_ALLOW}")
    assert quarantine["kind"] == "CiliumClusterwideNetworkPolicy"
    (spec,) = quarantine["specs"]
    assert spec["egressDeny"] == [{"toEntities": ["all"]}] and "ingressDeny" not in spec
    assert spec["endpointSelector"]["matchLabels"] == {"tier": "front"}


def test_without_a_namespace_the_quarantine_covers_every_namespace(tmp_path: Path) -> None:
    # kubectl would apply it to its context's namespace, which the converter cannot know.
    broken = DENY.replace("namespace: dev", "namespace: Not_Valid").replace("source:", "sorce:")
    corrected = DENY + "---\n" + ALLOW_ALL
    (quarantine,) = _fails_closed(tmp_path, f"{broken}---\n{ALLOW_ALL}", corrected)
    assert quarantine["kind"] == "CiliumClusterwideNetworkPolicy"
    # With -n the namespace is known.
    no_namespace = DENY.replace(", namespace: dev", "").replace("source:", "sorce:")
    (quarantine,) = _fails_closed(tmp_path, f"{no_namespace}---\n{ALLOW_ALL}", corrected, "-n", "dev")
    assert quarantine["kind"] == "CiliumNetworkPolicy" and quarantine["metadata"]["namespace"] == "dev"


def test_a_kubernetes_network_policy_is_quarantined(tmp_path: Path) -> None:
    # Allow rules only, but it isolates its pods: dropped, the namespace profile would allow all.
    broken = KNP.replace("- from:", "- form:")
    (quarantine,) = _fails_closed(tmp_path, broken, KNP)
    assert quarantine["metadata"]["annotations"]["calico2cilium.io/source"] == (
        "KubernetesNetworkPolicy dev/db-from-web"
    )


def test_two_differing_copies_are_both_quarantined(tmp_path: Path) -> None:
    # C2C224: which copy the cluster holds is unknown, so the output must fail closed for both.
    other = DENY.replace("app == 'db'", "app == 'cache'").replace(
        "projectcalico.org/v3", "crd.projectcalico.org/v1"
    )
    text = f"{DENY}---\n{other}---\n{ALLOW_ALL}"
    for flags in ((), ("--verify",)):  # documents streamed, and kept for the verifier
        code, docs, err = _partial(tmp_path, text, *flags)
        assert code == 2 and "C2C224" in err and "C2C236" in err
        (quarantine,) = _quarantines(docs)
        selectors = [s["endpointSelector"] for s in quarantine["specs"]]
        assert {"matchLabels": {"app": "db"}} in selectors and {"matchLabels": {"app": "cache"}} in selectors
        for meant in (DENY, other):
            assert _proof(f"{meant}---\n{ALLOW_ALL}", docs) in ("narrowed", "equivalent")


def test_a_global_policy_that_could_select_host_endpoints_closes_their_nodes(tmp_path: Path) -> None:
    hep = """\
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: n1-eth0, labels: {tier: front}}
spec: {node: n1, interfaceName: "*", expectedIPs: [192.168.0.5]}
"""
    broken = GNP_DENY.replace("destination:", "destinaton:")
    code, docs, err = _partial(tmp_path, f"{broken}---\n{GNP_ALLOW}---\n{hep}")
    assert code == 2 and "C2C236" in err and "C2C312" in err
    assert "kept in host default deny" in err
    host = [d for d in docs if any("nodeSelector" in s for s in d.get("specs", []))]
    # Only the failsafe ports are allowed to and from the node: every host rule names ports.
    rules = [
        r
        for d in host
        for s in d["specs"]
        if "nodeSelector" in s
        for k in ("ingress", "egress")
        for r in s.get(k, [])
    ]
    assert host and rules and all("toPorts" in r for r in rules)
    corrected = f"{GNP_DENY}---\n{GNP_ALLOW}---\n{hep}"
    assert _proof(corrected, docs) in ("narrowed", "equivalent")
    # The pod quarantine alone, with the host policies of a run that does not close the node,
    # lets node n1 reach the db pods its corrected egress Deny denies.
    text = f"{broken}---\n{GNP_ALLOW}---\n{hep}"
    cluster = {"pod_cidrs": ("10.244.0.0/16",), "node_cidrs": ("192.168.0.0/24",)}
    unclosed = convert(text=text, name="input.yaml", quarantine=False, **cluster).documents  # type: ignore[arg-type]
    assert _proof(corrected, unclosed + _quarantines(docs)) == "different"


def test_what_cannot_be_quarantined_is_said(tmp_path: Path) -> None:
    broken_set = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: blocked, labels: {role: blocked}}
spec: {nets: [10.0.0.0/33]}
"""
    code, _, err = _partial(tmp_path, f"{broken_set}---\n{ALLOW_ALL}")
    assert (
        code == 2 and "warning C2C237 GlobalNetworkSet blocked is in error and is not a NetworkPolicy" in err
    )
    code, _, err = _partial(tmp_path, f"kind: [unclosed\n---\n{ALLOW_ALL}")
    assert code == 2 and "C2C237" in err and "could not be read into resources (C2C104)" in err
    # Without --allow-partial nothing is written, and nothing is said about quarantines.
    (tmp_path / "p.yaml").write_text(f"{DENY.replace('source:', 'sorce:')}---\n{ALLOW_ALL}")
    code, out, err = run_cli("convert", str(tmp_path / "p.yaml"), *CLUSTER)
    assert code == 2 and out == "" and "C2C236" not in err


def test_the_library_quarantines_by_default() -> None:
    text = f"{DENY.replace('source:', 'sorce:')}---\n{ALLOW_ALL}"
    result = convert(text=text, name="p.yaml", pod_cidrs=("10.244.0.0/16",))
    assert not result.ok and "C2C236" in {d.code for d in result.diagnostics}
    assert len(_quarantines(result.documents)) == 1
    off = convert(text=text, name="p.yaml", pod_cidrs=("10.244.0.0/16",), quarantine=False)
    assert not _quarantines(off.documents) and "C2C236" not in {d.code for d in off.diagnostics}


def _read(text: str, namespace: str | None = None) -> Any:
    (raw,), _ = read_documents(text, "x.yaml")
    found = suspect_of(raw, namespace)
    assert found is not None
    return found.policy


@pytest.mark.parametrize(
    ("edit", "ingress", "egress"),
    [
        (("types: [Ingress]", "types: [Egress]"), False, True),
        (("types: [Ingress]", "types: [Ingres]"), True, True),  # unreadable: both
        (("  types: [Ingress]\n", ""), True, False),  # Calico's default from the rules
        (("types: [Ingress]", "tpyes: [Egress]"), True, True),  # a misspelt key: both
        (("projectcalico.org/v3", "crd.projectcalico.org/v1"), True, False),
    ],
)
def test_the_directions_read(edit: tuple[str, str], ingress: bool, egress: bool) -> None:
    policy = _read(DENY.replace(*edit).replace("source:", "sorce:"))
    assert (policy.ingress is not None, policy.egress is not None) == (ingress, egress)
    no_types = _read(
        DENY.replace("  types: [Ingress]\n", "").replace("projectcalico.org/v3", "crd.projectcalico.org/v1")
    )
    assert no_types.ingress is not None and no_types.egress is not None  # v1: no defaulting


def test_unreadable_selector_fields_select_everything() -> None:
    gnp = GNP_DENY.replace("types: [Egress]", 'namespaceSelector: 7\n  serviceAccountSelector: "a =="')
    policy = _read(gnp)
    assert policy.namespace_selector is None and policy.service_account_selector is None
    assert str(policy.selector) == 'tier == "front"'
    assert _read(KNP.replace("{matchLabels: {app: db}}", "[app]")).selector.__class__.__name__ == "All"
    assert _read(DENY.replace(", namespace: dev", "")).namespace is None
    assert _read(DENY.replace(", namespace: dev", ""), "prod").namespace == "prod"


CORRUPTIONS = (
    "rule-typo",
    "subject-selector",
    "wrong-type",
    "types-unreadable",
    "types-misspelt",
    "bad-namespace",
)


def _corrupt(doc: dict[str, Any], how: str) -> None:
    """Make one policy document invalid, as a user's typo would (in place)."""
    spec = doc.setdefault("spec", {})
    k8s = doc["apiVersion"].startswith("networking.k8s.io/")
    types = "policyTypes" if k8s else "types"
    if how == "rule-typo":
        rules = [r for key in ("ingress", "egress") for r in spec.get(key) or [] if isinstance(r, dict)]
        if rules:
            rules[0]["form" if k8s else "sorce"] = rules[0].pop("from" if k8s else "source", {})
        else:
            spec["ingres"] = []
    elif how == "subject-selector":
        spec["podSelector" if k8s else "selector"] = "app in {" if not k8s else "app"
    elif how == "wrong-type":
        spec[types if k8s else "order"] = "Ingress" if k8s else "first"
    elif how == "types-unreadable":
        spec[types] = ["Ingres"]
    elif how == "types-misspelt":
        spec["tpyes"] = spec.pop(types, ["Egress"])
    else:
        doc.setdefault("metadata", {})["namespace"] = "Bad_NS"


@st.composite
def _corrupted(draw: st.DrawFn) -> tuple[Scenario, int, str]:
    scenario = draw(scenarios())
    policies = [
        i for i, d in enumerate(scenario.docs) if d.get("kind") in ("NetworkPolicy", "GlobalNetworkPolicy")
    ]
    assume(policies)
    return scenario, draw(st.sampled_from(policies)), draw(st.sampled_from(CORRUPTIONS))


@seed(DIFF_SEED)
@settings(
    max_examples=DIFF_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    database=None,
)
@given(_corrupted())
def test_random_sets_with_a_corrupted_policy_fail_closed(case: tuple[Scenario, int, str]) -> None:
    """Random policy sets (``calico_strategies``) with one policy made invalid: the quarantined
    output allows no flow that Calico denies with the policy as it was (what the user meant)."""
    scenario, index, how = case
    pods, nodes, version = scenario.pod_cidrs, scenario.node_cidrs, scenario.cilium_version
    original = dump(scenario.docs)
    docs = copy.deepcopy(scenario.docs)
    _corrupt(docs[index], how)
    options: dict[str, Any] = {"pod_cidrs": pods, "node_cidrs": nodes, "cilium_version": version}
    result = convert(text=dump(docs), name="in.yaml", **options)
    codes = {d.code for d in result.diagnostics}
    assume("C2C236" in codes)  # the corruption made the document invalid
    meant = convert(text=original, name="in.yaml", **options)
    assume(not widening(meant))  # the set as meant converts without an error of its own
    major, minor = (int(x) for x in version.split("."))
    assumptions = Assumptions(pod_cidrs=pods, node_cidrs=nodes, cilium_version=(major, minor))
    assert meant.loaded is not None
    proof = verify(meant.loaded, result.documents, assumptions, narrowing=True)
    unknown = proof.unsupported and all(
        any(reason in str(u) for reason in OUTSIDE_THE_PROOF) for u in proof.unsupported
    )
    allowed = ("narrowed", "equivalent", "incomplete") if unknown else ("narrowed", "equivalent")
    assert proof.status in allowed, (
        f"{how} of document {index}\n{original}\n{dump(result.documents)}{proof.render_text()}"
    )
    event(how)


def test_a_policy_without_a_name_is_quarantined_under_a_digest(tmp_path: Path) -> None:
    nameless = DENY.replace("name: deny-db, ", "").replace("source:", "sorce:")
    code, docs, _ = _partial(tmp_path, f"{nameless}---\n{ALLOW_ALL}")
    (quarantine,) = _quarantines(docs)
    assert code == 2 and quarantine["metadata"]["name"].startswith("calico2cilium-quarantine-")
    assert quarantine["metadata"]["annotations"]["calico2cilium.io/source"] == "NetworkPolicy dev/?"
    assert _proof(f"{DENY}---\n{ALLOW_ALL}", docs) in ("narrowed", "equivalent")
