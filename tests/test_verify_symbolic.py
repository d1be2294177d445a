"""The symbolic engine: proves equivalent pairs, catches known mistranslations and every mutation
of a correct conversion with a counterexample that the concrete semantics confirms."""

from __future__ import annotations

import pytest

from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import VerifyResult, verify_texts

CLUSTER = Assumptions(
    pod_cidrs=("10.0.0.0/16",), node_cidrs=("192.168.0.0/24",), service_cidrs=("10.96.0.0/12",)
)

CALICO = """
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  order: 100
  selector: app == 'web'
  types: [Ingress, Egress]
  ingress:
  - action: Deny
    source: {selector: quarantine == 'true'}
  - action: Allow
    protocol: TCP
    source: {selector: role == 'frontend'}
    destination: {ports: [8080]}
  egress:
  - action: Allow
    protocol: UDP
    destination: {ports: [53]}
  - action: Allow
    protocol: TCP
    destination: {nets: [203.0.113.0/24], notNets: [203.0.113.0/28], ports: [443]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: prod-metrics}
spec:
  order: 2000
  namespaceSelector: env == 'prod'
  selector: has(metrics)
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    source: {namespaceSelector: team == 'observability'}
    destination: {ports: [9090]}
"""

CILIUM = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  DENYKEY:
  - fromEndpoints: [{matchLabels: {quarantine: "true"}}]
  ALLOWKEY:
  - fromEndpoints: [{matchLabels: {role: frontend}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
  egress:
  - toPorts: [{ports: [{port: "53", protocol: UDP}]}]
  - toCIDRSet: [{cidr: 203.0.113.0/24, except: [203.0.113.0/28]}]
    toPorts: [{ports: [{port: "443", protocol: TCP}]}]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: prod-metrics}
spec:
  endpointSelector:
    matchLabels: {k8s:io.cilium.k8s.namespace.labels.env: prod}
    matchExpressions: [{key: metrics, operator: Exists}]
  ingress:
  - fromEndpoints: [{matchLabels: {k8s:io.cilium.k8s.namespace.labels.team: observability}}]
    toPorts: [{ports: [{port: "9090", protocol: TCP}]}]
"""


def cilium(**replacements: str) -> str:
    text = CILIUM.replace("DENYKEY", "ingressDeny").replace("ALLOWKEY", "ingress")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def run(calico: str, cilium_text: str, assumptions: Assumptions = CLUSTER) -> VerifyResult:
    result = verify_texts(calico, cilium_text, assumptions, max_examples=2)
    assert not result.invalid, [str(i) for i in result.invalid]
    return result


def test_a_correct_conversion_is_proven_equivalent() -> None:
    result = run(CALICO, cilium())
    assert result.status == "equivalent", result.render_text()
    assert result.exit_code == 0
    assert all(p.status == "equivalent" for p in result.partitions)


def test_ordering_matters_an_earlier_allow_beats_a_later_deny_in_calico_only() -> None:
    # docs/reference/semantics.md §3.2: with the namespaced policy after the global one, Calico's GNP Allow wins
    # over the NetworkPolicy's Deny, while Cilium's deny always wins.
    result = run(CALICO.replace("  order: 100\n", ""), cilium())
    assert result.status == "different"
    example = result.counterexamples[0]
    assert example.calico.allowed and "prod-metrics" in example.calico.ref.what
    assert not example.cilium.allowed and "ingressDeny" in example.cilium.ref.what


MUTATIONS = {
    "delete a rule": {'  - toPorts: [{ports: [{port: "53", protocol: UDP}]}]\n': ""},
    "flip allow and deny": {},  # handled below: the two ingress keys are swapped
    "drop an except": {", except: [203.0.113.0/28]": ""},
    "widen a selector": {"[{matchLabels: {role: frontend}}]": "[{}]"},
    "change a port": {'port: "8080"': 'port: "8081"'},
    "change a protocol": {'port: "53", protocol: UDP': 'port: "53", protocol: TCP'},
    "drop a namespace constraint": {
        "[{matchLabels: {k8s:io.cilium.k8s.namespace.labels.team: observability}}]": "[{}]"
    },
    "drop a policy": {},  # handled below
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_every_mutation_is_caught_with_a_confirmed_counterexample(mutation: str) -> None:
    if mutation == "flip allow and deny":
        text = CILIUM.replace("DENYKEY", "ingress").replace("ALLOWKEY", "ingressDeny")
    elif mutation == "drop a policy":
        text = cilium().split("---")[0]
    else:
        text = cilium(**MUTATIONS[mutation])
    result = run(CALICO, text)
    assert result.status == "different", result.render_text()
    assert result.exit_code == 1
    for example in result.counterexamples:
        # Counterexamples were replayed through both concrete semantics: the verdicts differ and
        # name the rule (with its position) or default responsible.
        assert example.calico.allowed != example.cilium.allowed
        assert example.calico.ref.what and example.cilium.ref.what


def test_deny_transcribed_as_allow_is_caught() -> None:
    calico = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  selector: app == 'db'\n  ingress:\n  - action: Deny\n    source: {selector: role == 'guest'}\n  - action: Allow\n"
    bad = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  endpointSelector: {matchLabels: {app: db}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {role: guest}}]\n  - fromEntities: [all]\n"
    result = run(calico, bad)
    assert result.status == "different"
    example = result.counterexamples[0]
    assert example.flow.peer.labels.get("role") == "guest"
    assert not example.calico.allowed and example.cilium.allowed
    assert "ingress[0] (Deny)" in example.calico.ref.what
    assert example.calico.ref.source is not None and example.calico.ref.source.line == 7
    good = bad.replace("  ingress:\n  - fromEndpoints", "  ingressDeny:\n  - fromEndpoints").replace(
        "  - fromEntities: [all]\n", "  ingress:\n  - fromEntities: [all]\n"
    )
    assert run(calico, good).status == "equivalent"


def test_not_equal_mistranslated_as_notin_and_exists_is_caught() -> None:
    # Calico `tier != 'db'` is true when tier is absent (docs/reference/semantics.md §1.3); NotIn + Exists is not.
    calico = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  selector: app == 'api'\n  ingress:\n  - action: Allow\n    source: {selector: tier != 'db'}\n"
    good = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  endpointSelector: {matchLabels: {app: api}}\n  ingress:\n  - fromEndpoints: [{matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}]\n"
    bad = good.replace("values: [db]}]", "values: [db]}, {key: tier, operator: Exists}]")
    assert run(calico, good).status == "equivalent"
    result = run(calico, bad)
    assert result.status == "different"
    assert "tier" not in result.counterexamples[0].flow.peer.labels


def test_peer_selector_missing_its_namespace_is_caught() -> None:
    # A GNP rule selector matches pods of every namespace; in a CNP the same selector is injected
    # with the policy's namespace (docs/reference/semantics.md §2.1).
    calico = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: g}\nspec:\n  selector: app == 'api'\n  ingress:\n  - action: Allow\n    source: {selector: role == 'client'}\n"
    bad = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: g, namespace: ns}\nspec:\n  endpointSelector: {matchLabels: {app: api}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {role: client}}]\n"
    result = run(calico, bad)
    assert result.status == "different"
    good = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: g}\nspec:\n  endpointSelector: {matchLabels: {app: api}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {role: client}}]\n"
    assert run(calico, good).status == "equivalent"


def test_nets_covering_pods_transcribed_to_to_cidr_is_caught() -> None:
    # Calico nets match pod IPs; Cilium CIDR rules never do (trap 2, docs/reference/semantics-check.md claim 6).
    calico = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  selector: app == 'api'\n  types: [Egress]\n  egress:\n  - action: Allow\n    destination: {nets: [10.0.0.0/8]}\n"
    bad = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  endpointSelector: {matchLabels: {app: api}}\n  egress:\n  - toCIDR: [10.0.0.0/8]\n"
    result = run(calico, bad)
    assert result.status == "different"
    assert result.counterexamples[0].flow.peer.kind == "pod"
    good = (
        bad
        + "  - toEndpoints: [{matchExpressions: [{key: io.kubernetes.pod.namespace, operator: Exists}]}]\n"
    )
    assert run(calico, good).status == "equivalent"
    # Without the pod CIDR, a pod may have any address: the same output is no longer provable.
    assert run(calico, good, Assumptions()).status == "different"


def test_action_only_rule_is_not_an_empty_cilium_rule() -> None:
    # Trap 5: a Calico action-only rule matches everything; a Cilium `{}` rule allows nothing.
    calico = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  selector: all()\n  ingress: [{action: Allow}]\n"
    bad = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  endpointSelector: {}\n  ingress: [{}]\n"
    assert run(calico, bad).status == "different"
    assert run(calico, bad.replace("[{}]", "[{fromEntities: [all]}]")).status == "equivalent"


def test_unsupported_constructs_make_the_result_incomplete() -> None:
    calico = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  selector: all()\n  ingress: [{action: Allow, source: {services: {name: s}}}]\n"
    cilium_text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: other}\nspec:\n  endpointSelector: {}\n  ingress: [{}]\n"
    result = run(calico, cilium_text)
    assert result.status in ("incomplete", "different")
    assert any("services" in u.reason for u in result.unsupported)
    assert any(p.status == "unsupported" for p in result.partitions)


def test_string_operators_are_decided_exactly() -> None:
    # z3 string theory decides prefix/suffix/contains: `starts with` has no Cilium form, so only an
    # enumeration (e.g. In [web-1, web-2]) can be tried, and the verifier shows it is not equivalent.
    calico = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  selector: app starts with 'web-'\n  ingress: [{action: Deny}]\n"
    enumerated = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  endpointSelector: {matchExpressions: [{key: app, operator: In, values: [web-1, web-2]}]}\n  ingress: [{}]\n"
    result = run(calico, enumerated)
    assert result.status == "different"
    app = result.counterexamples[0].flow.subject.labels["app"]
    assert app.startswith("web-") and app not in ("web-1", "web-2")


def test_invalid_cilium_output_is_reported_not_judged() -> None:
    bad = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  endpointSelector: {}\n  ingress: [{toPorts: [{ports: [{protocol: TCP}]}]}]\n"
    result = verify_texts("", bad, CLUSTER)
    assert result.status == "invalid" and result.exit_code == 2
    assert any("Port must be specified" in str(i) for i in result.invalid)
