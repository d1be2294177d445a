"""String tests (``contains``/``starts with``/``ends with``) expanded against a label inventory:
the rewrite itself, which label values each selector field meets, reading inventories, and the
verdict ``convert --verify --inventory`` gives (issue 3)."""

from __future__ import annotations

import copy
import ipaddress
from itertools import product

import pytest

from calico2cilium.calico.selector import expand_string_tests, parse
from calico2cilium.compile.inventory import LabelValues, Universe
from calico2cilium.io.inventory import Inventory, PodInfo, read_inventory
from calico2cilium.ir import NetworkSet, Origin
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.conversion import check_conversion
from helpers import convert

A = Assumptions(pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",))
CLUSTER = {"pod_cidrs": A.pod_cidrs, "node_cidrs": A.node_cidrs}

SELECTORS = [
    "app starts with 'web'",
    "!(app starts with 'web')",
    "app ends with '-db' || team contains 'ops'",
    "!(app contains 'e' && has(team)) || team == 'x'",
    "!(app startswith '')",
]


@pytest.mark.parametrize("text", SELECTORS)
def test_expansion_agrees_on_every_label_map_of_the_universe(text: str) -> None:
    """Absent labels included: the string tests and ``in`` are both false there, ``!`` of both true."""
    universe = {"app": ["web", "web-1", "api-db", "x"], "team": ["ops", "devops", "x"]}
    selector = parse(text)
    expanded, terms = expand_string_tests(selector, lambda key: universe.get(key, []))
    assert terms and "with" not in str(expanded) and "contains" not in str(expanded)
    for app, team in product([None, *universe["app"]], [None, *universe["team"]]):
        labels = {k: v for k, v in (("app", app), ("team", team)) if v is not None}
        assert expanded.matches(labels) == selector.matches(labels), labels


def test_expansion_is_a_snapshot_outside_the_universe() -> None:
    selector = parse("!(app starts with 'web')")
    expanded, _ = expand_string_tests(selector, lambda key: ["web-1"])
    assert selector.matches({"app": "web-new"}) is False
    assert expanded.matches({"app": "web-new"}) is True


def test_no_matching_value_expands_to_the_empty_set() -> None:
    expanded, terms = expand_string_tests(parse("app ends with '-canary'"), lambda key: ["web"])
    assert str(expanded) == "app in {}" and not expanded.matches({"app": "web"})
    assert str(terms[0][1]) == "app in {}"


def _inventory() -> Inventory:
    inv = Inventory(
        namespaces={"shop": {"team": "retail"}, "ops": {}},
        service_accounts={("shop", "builder"): {"tier": "ci"}},
    )
    long_sa = "s" * 63
    ip = ipaddress.ip_address("10.244.0.1")
    inv.pods = [
        PodInfo("a", "shop", {"app": "web-1"}, "builder", (ip,), "n1", {}),
        PodInfo("b", "batch", {"app": "job"}, long_sa, (), "n1", {}),
    ]
    return inv


def test_label_values_follow_calicos_labels() -> None:
    network_set = NetworkSet(
        "NetworkSet", "ext", "shop", (("app", "web-ext"),), ("192.0.2.0/24",), Origin("", "")
    )
    values = LabelValues(_inventory(), [network_set])
    assert values.of(Universe.SUBJECT, "app") == {"web-1", "job"}
    assert values.of(Universe.PEER, "app") == {"web-1", "job", "web-ext"}  # network sets match rule selectors
    assert values.of(Universe.SUBJECT, "projectcalico.org/namespace") == {"shop", "batch"}
    # Calico omits the service-account label for names of 63 characters or more.
    assert values.of(Universe.SUBJECT, "projectcalico.org/serviceaccount") == {"builder"}
    assert values.of(Universe.SUBJECT, "projectcalico.org/orchestrator") == {"k8s"}
    assert values.of(Universe.SUBJECT, "pcns.team") == {"retail"}
    assert values.of(Universe.SUBJECT, "pcns.projectcalico.org/name") == {"shop", "ops", "batch"}
    assert values.of(Universe.SUBJECT, "pcsa.tier") == {"ci"}
    assert values.of(Universe.NAMESPACE, "projectcalico.org/name") == {"shop", "ops", "batch"}
    assert values.of(Universe.NAMESPACE, "kubernetes.io/metadata.name") == {"shop", "ops", "batch"}
    assert values.of(Universe.NAMESPACE, "app") == set()


def test_reading_reports_what_is_not_an_inventory() -> None:
    inv = read_inventory(
        [
            {
                "kind": "List",
                "items": [
                    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}},
                    {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {}},
                    "text",
                ],
            },
            {"kind": "Pod", "metadata": {"labels": {"a": "b"}}},
            {"kind": "Namespace", "metadata": {"name": "x", "labels": {"a": {"b": "c"}}}},
            {"kind": "Namespace", "metadata": {"name": "ok"}},
        ]
    )
    messages = [d.message for d in inv.diagnostics]
    assert all(d.code == "C2C317" for d in inv.diagnostics) and not inv.ok
    assert any("'GlobalNetworkPolicy' is not part of an inventory" in m for m in messages)
    # Other workload kinds of a `kubectl get all` export carry nothing an inventory uses: skipped.
    assert not any("'Service'" in m for m in messages)
    assert any("not a Kubernetes object" in m for m in messages)
    assert any("Pod without metadata.name" in m for m in messages)
    assert any("label 'a' has no string value" in m for m in messages)
    assert list(inv.namespaces) == ["ok"]


@pytest.mark.parametrize("value", [True, 1, 1.5])
def test_an_unquoted_label_value_is_refused_not_read_as_text(value: object) -> None:
    """Kubernetes label values are strings (the API server refuses `tier: true`). Read with str(),
    `true` would become "True" and a `starts with 'tr'` test would silently match nothing."""
    inv = read_inventory(
        [
            {"kind": "Pod", "metadata": {"name": "p", "namespace": "a", "labels": {"tier": value}}},
            {
                "kind": "Service",
                "metadata": {"name": "s", "namespace": "a"},
                "spec": {"selector": {"x": value}},
            },
        ]
    )
    assert not inv.ok and {d.code for d in inv.diagnostics} == {"C2C317"}
    messages = [d.message for d in inv.diagnostics]
    assert any("label 'tier' has no string value" in m for m in messages)
    assert any("spec.selector is not a label map" in m for m in messages)
    assert not inv.pods


POLICY = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: web
spec:
  order: 10
  selector: app starts with 'web'
  namespaceSelector: projectcalico.org/name starts with 'sh'
  types: [Egress]
  egress:
    - action: Allow
      protocol: TCP
      destination:
        selector: app starts with 'web'
        ports: [443]
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata:
  name: ext
  namespace: shop
  labels: {app: web-ext}
spec:
  nets: [192.0.2.0/24]
"""


def _pods(*labels: tuple[str, str, str]) -> Inventory:
    inv = Inventory(namespaces={"shop": {}, "other": {}}, nodes={"n1": (ipaddress.ip_address("10.0.0.1"),)})
    for i, (namespace, key, value) in enumerate(labels):
        ip = ipaddress.ip_address(f"10.244.0.{i + 10}")
        inv.pods.append(PodInfo(f"p{i}", namespace, {key: value}, "default", (ip,), "n1", {}))
    return inv


FULL = _pods(
    ("shop", "app", "web-1"), ("shop", "app", "web-2"), ("other", "app", "web-3"), ("shop", "app", "db")
)


def test_network_sets_stay_exact_and_the_conversion_is_equivalent_on_the_inventory() -> None:
    result = convert(text=POLICY, name="p.yaml", inventory=FULL, **CLUSTER)
    assert sorted(d.code for d in result.diagnostics) == ["C2C316"] * 3
    assert "192.0.2.0/24" in str(result.documents)  # the set's app=web-ext still matches
    check = check_conversion(result, A)
    assert check.equivalent, check.render_text()
    assert check.expanded == 3 and check.concrete is not None and check.concrete.flows > 0


def test_the_inventory_check_catches_an_expansion_that_missed_a_value() -> None:
    """The proof is against the expanded input, so it cannot see a wrong expansion; the concrete
    engine, with the verifier's own semantics of ``starts with``, must."""
    partial = _pods(("shop", "app", "web-1"), ("other", "app", "web-3"), ("shop", "app", "db"))
    result = convert(text=POLICY, name="p.yaml", inventory=partial, **CLUSTER)
    result.inventory = FULL  # as if the expansion had dropped app=web-2
    check = check_conversion(result, A)
    assert check.proof.equivalent and check.concrete is not None and not check.concrete.equivalent
    assert check.status == "different"


def test_the_proof_still_catches_any_other_change_of_the_output() -> None:
    result = convert(text=POLICY, name="p.yaml", inventory=FULL, **CLUSTER)
    result.documents = copy.deepcopy(result.documents)
    text = str(result.documents)
    assert "'443'" in text
    for doc in result.documents:
        for spec in doc.get("specs", [doc.get("spec")]):
            for rule in (spec or {}).get("egress", []):
                for port in rule.get("toPorts", [{}])[0].get("ports", []):
                    port["port"] = "444"
    check = check_conversion(result, A)
    assert check.proof.status == "different" and not check.equivalent
