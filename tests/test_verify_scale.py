"""Proof at scale (issue 14): label values whose policies have one shape are proven through one
representative (``verify/symmetry.py``) and the subjects are partitioned (``verify/partition.py``).
Neither may hide a difference: a difference inside a large set is still found, and the split
question agrees with the whole one."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
import z3  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.calico import read_calico_side
from calico2cilium.semantics.cilium import read_cilium_side
from calico2cilium.semantics.world import DIRECTIONS
from calico2cilium.verify.api import VerifyResult, verify_texts
from calico2cilium.verify.bench import BENCH_ASSUMPTIONS, dump, generated_documents, generated_pair
from calico2cilium.verify.smt import Query, SymbolicFlow
from calico2cilium.verify.smt.query import check_within
from calico2cilium.verify.symmetry import quotient
from helpers import run_cli

Documents = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def verify_documents(documents: Documents, **options: Any) -> VerifyResult:
    calico, cilium = documents
    return verify_texts(dump(calico), dump(cilium), BENCH_ASSUMPTIONS, **options)


@pytest.fixture(scope="module")
def thousand() -> Documents:
    return generated_documents(1000)


@pytest.mark.slow  # verifies make bench's 1,000 pairs
def test_a_thousand_generated_pairs_are_proven_through_representatives(thousand: Documents) -> None:
    result = verify_documents(thousand)
    assert result.status == "equivalent"
    ingress = [p for p in result.partitions if p.direction == "ingress"]
    assert len(ingress) > 1  # the global policies no longer keep the namespaces together
    assert max(p.policies for p in ingress) < 200  # of 2 x 1,000


@pytest.mark.slow  # verifies make bench's 1,000 pairs
def test_a_namespaced_policy_changed_among_a_thousand_is_found(thousand: Documents) -> None:
    calico, cilium = copy.deepcopy(thousand)
    assert cilium[500]["metadata"]["name"] == "svc-500"
    cilium[500]["spec"]["ingress"][0]["toPorts"][0]["ports"][0]["port"] = "7999"  # was 8000 + 500 % 7
    result = verify_documents((calico, cilium))
    assert result.status == "different"
    assert [e.partition for e in result.counterexamples] == ["namespace=team-20"]
    for example in result.counterexamples:
        assert example.flow.subject.labels.get("app") == "svc-500"
        assert example.flow.dst_port in (7999, 8003)
        assert "svc-500" in example.calico.ref.what + example.cilium.ref.what


@pytest.mark.slow  # verifies make bench's 1,000 pairs
def test_a_global_policy_changed_among_a_thousand_is_found(thousand: Documents) -> None:
    calico, cilium = copy.deepcopy(thousand)
    assert calico[123]["metadata"]["name"] == "metrics-123"
    calico[123]["spec"]["ingress"][0]["destination"]["ports"] = [9091]  # Cilium still says 9090
    result = verify_documents((calico, cilium), max_counterexamples=3)
    assert result.status == "different"
    assert len(result.counterexamples) == 3  # each namespace's subjects may carry it
    for example in result.counterexamples:
        assert example.flow.subject.labels.get("metrics") == "m123"
        assert example.flow.dst_port in (9090, 9091)
        assert "metrics-123" in example.calico.ref.what + example.cilium.ref.what


# Two policies of one shape for app=a and app=b, but a global policy stands between them in
# Calico's order: b's allow comes first, a's after the global deny. Cilium (no order) denies both:
# right for a, wrong for b. Were b left to a as its representative, the difference would be lost.
ORDERED_CALICO = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: a, namespace: prod}
spec:
  order: 300
  selector: app == 'a'
  types: [Ingress]
  ingress: [{action: Allow, protocol: TCP, source: {selector: role == 'x'}, destination: {ports: [80]}}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: b, namespace: prod}
spec:
  order: 100
  selector: app == 'b'
  types: [Ingress]
  ingress: [{action: Allow, protocol: TCP, source: {selector: role == 'x'}, destination: {ports: [80]}}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: u}
spec:
  order: 200
  selector: all()
  types: [Ingress]
  ingress:
    - {action: Deny, source: {selector: role == 'x'}}
    - {action: Allow}
"""

ORDERED_CILIUM = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: a, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: a}}
  ingress: [{fromEndpoints: [{matchLabels: {role: x}}], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: b, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: b}}
  ingress: [{fromEndpoints: [{matchLabels: {role: x}}], toPorts: [{ports: [{port: "80", protocol: TCP}]}]}]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: u}
spec:
  endpointSelector: {}
  ingressDeny: [{fromEndpoints: [{matchLabels: {role: x}}]}]
  ingress: [{fromEntities: [all]}]
"""


def test_values_in_different_places_of_calicos_order_are_not_interchangeable() -> None:
    result = verify_texts(ORDERED_CALICO, ORDERED_CILIUM, BENCH_ASSUMPTIONS)
    assert result.status == "different"
    assert {e.flow.subject.labels.get("app") for e in result.counterexamples} == {"b"}
    assert agrees_with_one_query(ORDERED_CALICO, ORDERED_CILIUM, result)


def programs(calico: str, cilium: str, direction: str = "ingress") -> Any:
    calico_side = read_calico_side(read_documents(calico, "c.yaml")[0], BENCH_ASSUMPTIONS)
    cilium_side = read_cilium_side(read_documents(cilium, "l.yaml")[0], BENCH_ASSUMPTIONS)
    return calico_side.programs[direction], cilium_side.programs[direction]


def test_one_shape_keeps_one_value_and_a_prefix_test_keeps_them_all() -> None:
    calico, cilium = generated_documents(30, global_share=0.5)
    reduced = quotient(*programs(dump(calico), dump(cilium)))
    assert reduced.families[("pod", "metrics")] == 14  # 15 global policies, one shape
    assert len(reduced.exclusions) >= 14
    # A peer selector testing a prefix of "metrics" tells the values apart: nothing is left out.
    calico[20]["spec"]["ingress"][0]["source"]["selector"] = "metrics starts with 'm1'"
    cilium[20]["spec"]["ingress"][0]["fromEndpoints"] = [{"matchLabels": {"role": "never"}}]
    reduced = quotient(*programs(dump(calico), dump(cilium)))
    assert ("pod", "metrics") not in reduced.families


# --- the split question agrees with the whole one ------------------------------------------------


def one_query_differs(calico: str, cilium: str) -> bool:
    """Unpartitioned, without representatives: one query per direction over every policy."""
    assumptions = BENCH_ASSUMPTIONS
    calico_side = read_calico_side(read_documents(calico, "c.yaml")[0], assumptions)
    cilium_side = read_cilium_side(read_documents(cilium, "l.yaml")[0], assumptions)
    for direction in DIRECTIONS:
        sides = (calico_side.programs[direction].verdict(), cilium_side.programs[direction].verdict())
        if Query(SymbolicFlow(assumptions), [], sides, 60.0).check() == "sat":
            return True
    return False


def agrees_with_one_query(calico: str, cilium: str, result: VerifyResult) -> bool:
    return (result.status == "different") == one_query_differs(calico, cilium)


RULE = st.tuples(st.sampled_from(["Allow", "Deny"]), st.sampled_from(["x", "y"]), st.sampled_from([80, 443]))
POLICY = st.fixed_dictionaries(
    {
        "scope": st.sampled_from(["namespaced", "global"]),
        "value": st.sampled_from(["a", "b", "c"]),
        "order": st.sampled_from([100, 200, 300]),
        "rules": st.lists(RULE, min_size=1, max_size=2),
        "broken": st.booleans(),
    }
)


def translate(specs: list[dict[str, Any]]) -> tuple[str, str]:
    """A Calico set and a Cilium transcription that ignores Calico's order (so some sets differ);
    ``broken`` also drops a rule from the Cilium side. Namespaced policies select by ``app``,
    global ones by ``metrics``: a pod may carry both."""
    calico: list[dict[str, Any]] = []
    cilium: list[dict[str, Any]] = []
    for i, spec in enumerate(specs):
        key = "app" if spec["scope"] == "namespaced" else "metrics"
        meta: dict[str, Any] = {"name": f"p{i}"}
        if spec["scope"] == "namespaced":
            meta["namespace"] = "prod"
        rules = [
            {
                "action": a,
                "protocol": "TCP",
                "source": {"selector": f"role == '{r}'"},
                "destination": {"ports": [p]},
            }
            for a, r, p in spec["rules"]
        ]
        calico.append(
            {
                "apiVersion": "projectcalico.org/v3",
                "kind": "NetworkPolicy" if spec["scope"] == "namespaced" else "GlobalNetworkPolicy",
                "metadata": meta,
                "spec": {
                    "order": spec["order"],
                    "selector": f"{key} == '{spec['value']}'",
                    "types": ["Ingress"],
                    "ingress": rules,
                },
            }
        )
        kept = spec["rules"][1:] if spec["broken"] else spec["rules"]

        def cilium_rules(action: str, kept: list[tuple[str, str, int]] = kept) -> list[dict[str, Any]]:
            return [
                {
                    "fromEndpoints": [{"matchLabels": {"role": r}}],
                    "toPorts": [{"ports": [{"port": str(p), "protocol": "TCP"}]}],
                }
                for a, r, p in kept
                if a == action
            ]

        cilium.append(
            {
                "apiVersion": "cilium.io/v2",
                "kind": "CiliumNetworkPolicy"
                if spec["scope"] == "namespaced"
                else "CiliumClusterwideNetworkPolicy",
                "metadata": meta,
                "spec": {
                    "endpointSelector": {"matchLabels": {key: spec["value"]}},
                    "ingress": cilium_rules("Allow") or [{}],
                    "ingressDeny": cilium_rules("Deny"),
                },
            }
        )
    return dump(calico), dump(cilium)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(POLICY, min_size=2, max_size=7))
def test_representatives_and_partitions_agree_with_one_query(specs: list[dict[str, Any]]) -> None:
    calico, cilium = translate(specs)
    result = verify_texts(calico, cilium, BENCH_ASSUMPTIONS)
    assert result.status in ("equivalent", "different"), result.render_text()
    assert agrees_with_one_query(calico, cilium, result)


# --- the solver's budget is CPU time -------------------------------------------------------------


def pigeonhole(holes: int) -> Any:
    """n + 1 pigeons in n holes: unsatisfiable, and hard for a SAT solver."""
    solver = z3.Solver()
    p = [[z3.Bool(f"p{i}_{j}") for j in range(holes)] for i in range(holes + 1)]
    for row in p:
        solver.add(z3.Or(*row))
    for j in range(holes):
        for i in range(holes + 1):
            for k in range(i + 1, holes + 1):
                solver.add(z3.Or(z3.Not(p[i][j]), z3.Not(p[k][j])))
    return solver


def test_a_query_over_its_cpu_budget_is_interrupted() -> None:
    solver = pigeonhole(14)
    start = time.process_time()
    outcome, out_of_budget = check_within(solver, 0.3)
    spent = time.process_time() - start
    assert outcome == z3.unknown and out_of_budget
    assert 0.3 <= spent < 10


def test_a_query_within_its_budget_is_answered() -> None:
    solver = z3.Solver()
    solver.add(z3.Int("x") > 3)
    assert check_within(solver, 5.0) == (z3.sat, False)


def test_timings_name_the_partitions_slowest_first(tmp_path: Path) -> None:
    calico, cilium = generated_pair(60)
    (tmp_path / "calico.yaml").write_text(calico)
    (tmp_path / "cilium.yaml").write_text(cilium)
    args = ["--calico", str(tmp_path / "calico.yaml"), "--cilium", str(tmp_path / "cilium.yaml")]
    code, out, _ = run_cli(
        "verify", *args, "--pod-cidr", "10.0.0.0/16", "--node-cidr", "192.168.0.0/24", "--timings"
    )
    assert code == 0, out
    table = out[out.index("Timings: ") :].splitlines()
    assert "CPU s" in table[1] and "partition" in table[1]
    rows = [line.split() for line in table[2:] if not line.lstrip().startswith("...")]
    # Which namespaces make the (capped) list depends on their timings: any of them will do.
    assert rows and any("namespace=team-" in line for line in table[2:])
    cpu = [float(row[0]) for row in rows]
    assert cpu == sorted(cpu, reverse=True)
    code, out, _ = run_cli(
        "verify", *args, "--pod-cidr", "10.0.0.0/16", "--node-cidr", "192.168.0.0/24", "-o", "json"
    )
    partitions = json.loads(out)["partitions"]
    assert all({"cpu_seconds", "seconds", "policies"} <= set(p) for p in partitions)


def test_exclusions_follow_the_subjects_they_concern_into_partitions() -> None:
    """Subjects ``app=b`` left to a representative belong to the ``app=(other)`` partition of a
    split on ``app`` (no policy left pins ``b``): they are excluded there, and only there."""
    from calico2cilium.semantics.expr import SUBJECT, Attr, StrTest, not_, walk
    from calico2cilium.verify.partition import partition
    from calico2cilium.verify.symmetry import Exclusion

    def policy(app: str, port: int) -> str:
        return (
            f"apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: p-{app}, namespace: prod}}\n"
            f"spec:\n  selector: app == '{app}'\n  ingress: [{{action: Allow, protocol: TCP, destination: {{ports: [{port}]}}}}]\n"
        )

    calico, _ = programs("---\n".join(policy(app, 80 + i) for i, app in enumerate("adefghij")), "")
    dropped, _ = programs(policy("b", 80), "")
    exclude_b = not_(StrTest(Attr(SUBJECT, "pod", "app"), "eq", "b"))
    cilium = read_cilium_side([], BENCH_ASSUMPTIONS).programs["ingress"]
    parts = partition(calico, cilium, [Exclusion(exclude_b, tuple(dropped.policies))])
    by_label = {p.label.removeprefix("namespace=prod, "): p for p in parts}
    assert {"label app=a", "label app=(other)"} <= set(by_label)
    assert exclude_b in walk(by_label["label app=(other)"].constraint)
    assert exclude_b not in walk(by_label["label app=a"].constraint)
    assert exclude_b not in walk(by_label["namespace=(other)"].constraint)  # p-b selects prod only


def test_two_programs_of_one_side_have_representatives_too() -> None:
    """``diff`` asks ``check`` about two Calico (or two Cilium) programs."""
    from typing import cast

    from calico2cilium.semantics.program import CiliumProgram
    from calico2cilium.verify.symbolic import check

    calico, cilium = generated_documents(30, global_share=0.5)
    old, _ = programs(dump(calico), "")
    calico[5]["spec"]["ingress"][0]["destination"]["ports"] = [9091]
    new, _ = programs(dump(calico), "")
    assert quotient(old, cast(CiliumProgram, new)).families[("pod", "metrics")] == 13  # m5 apart
    parts = check(old, cast(CiliumProgram, new), BENCH_ASSUMPTIONS)
    assert [e.flow.subject.labels.get("metrics") for p in parts for e in p.counterexamples] == ["m5"]
    _, cilium_new = programs("", dump(cilium))
    _, cilium_old = programs("", dump(cilium))
    parts = check(cast(Any, cilium_old), cilium_new, BENCH_ASSUMPTIONS)
    assert all(p.status == "equivalent" for p in parts)


def test_a_cilium_policy_without_rules_in_a_direction_is_in_no_partition_of_it() -> None:
    from calico2cilium.verify.partition import partition

    calico = CALICO_EGRESS_ONLY
    cilium = CILIUM_EGRESS_ONLY
    ingress = partition(*programs(calico, cilium, "ingress"))
    assert all(not p.cilium.policies and not p.calico.policies for p in ingress)
    egress = partition(*programs(calico, cilium, "egress"))
    assert sum(len(p.cilium.policies) for p in egress) == 1
    assert verify_texts(calico, cilium, BENCH_ASSUMPTIONS).status == "equivalent"
    # Still judged: the same Cilium policy with an ingress rule is in the ingress question.
    broken = cilium + "  ingress: [{fromEndpoints: [{matchLabels: {role: x}}]}]\n"
    assert verify_texts(calico, broken, BENCH_ASSUMPTIONS).status == "different"


CALICO_EGRESS_ONLY = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: out, namespace: prod}
spec:
  selector: app == 'web'
  types: [Egress]
  egress: [{action: Allow, protocol: UDP, destination: {ports: [53]}}]
"""

CILIUM_EGRESS_ONLY = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: out, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress: [{toPorts: [{ports: [{port: "53", protocol: UDP}]}]}]
"""
