"""Review 16's findings in the reading of inputs (each test fails on the code before its fix).

kubectl reads manifests with go-yaml v2 (kubernetes-sigs/yaml goyaml.v2/resolve.go): ``y``/``n``
are booleans; after dropping ``_``, what strconv.ParseInt/ParseUint(s, 0, 64) read is an int, else
what yamlStyleFloat matches and strconv.ParseFloat reads without error is a float; a scalar
starting with ``.`` is a float if ParseFloat reads it as written; base 60 is "purposefully
unsupported". Everything else is a string.
"""

from __future__ import annotations

import pytest

import helpers
from calico2cilium.convert import convert
from calico2cilium.diagnostics import Severity
from calico2cilium.io.goyaml import kubectl_reads_as_other
from test_review15 import DENY_PORT, _errors


@pytest.mark.parametrize(
    "text",
    [
        "0beef",  # ParseInt base 2 fails on 'eef'; no float: a short commit hash, a string
        "0bad",
        "0b2",
        "0o9",  # ParseInt base 8 fails on 9
        "7e12345",  # yamlStyleFloat matches, ParseFloat overflows (range error): a string
        "1e400",
        ".5abc",  # hint '.': ParseFloat(".5abc") fails
        "0x",
        "1.2.3",
        "yes",  # a boolean to PyYAML too (never asked), not y
        "yEs",
        "-",
    ],
)
def test_strings_to_go_yaml_are_not_taken_for_numbers(text: str) -> None:
    assert not kubectl_reads_as_other(text)


@pytest.mark.parametrize(
    "text",
    ["y", "N", "0o10", "0O17", "0x1F", "+0x10", "-0b1", "0B1", "09", "090", "0_8", "1e3", "1E3",
     "1.5e3", ".5e3", "-.5", "1e-400", "0xFFFFFFFFFFFFFFFFFFFFFFFF"],
)  # fmt: skip
def test_numbers_and_booleans_to_go_yaml(text: str) -> None:
    assert kubectl_reads_as_other(text)


def test_a_named_port_kubectl_keeps_as_a_string_is_converted() -> None:
    # '0beef' is a valid named port (IANA_SVC_NAME) and a string to kubectl; it was refused as
    # C2C348 (exit 2, not converted) since the check became an error (review15).
    assert _errors(convert(text=DENY_PORT.replace("PORT", "0beef"), name="p.yaml")) == []
    assert _errors(convert(text=DENY_PORT.replace("PORT", "0o10"), name="p.yaml")) == [
        ("C2C348", "NetworkPolicy shop/db")
    ]


def test_a_base_60_port_range_is_the_range_kubectl_reads() -> None:
    # PyYAML (YAML 1.1) reads a plain 20:22 as the base 60 number 1222; go-yaml v2 (kubectl,
    # calicoctl) as the string '20:22', which Calico takes for the port range 20-22. It was
    # converted, exit 0 and no word, to an Allow of port 1222 and none of 20-22.
    text = DENY_PORT.replace("Deny", "Allow").replace("  - {action: Allow}\n", "").replace("PORT", "20:22")
    result = convert(text=text, name="p.yaml")
    assert _errors(result) == []
    ports = [p for d in result.documents for s in d["specs"] for r in s["ingress"] for p in r["toPorts"]]
    assert ports == [{"ports": [{"port": "20", "endPort": 22, "protocol": "TCP"}]}]


KUBECTL_GET = """\
apiVersion: v1
items:
- apiVersion: projectcalico.org/v3
  kind: NetworkPolicy
  metadata:
    annotations:
      commit: 0beef12
    creationTimestamp: "2024-05-01T10:00:00Z"
    labels:
      build: 7e12345
      rev: 0b2
    name: db
    namespace: shop
    resourceVersion: "123456"
  spec:
    selector: app == 'db'
    types:
    - Ingress
kind: List
metadata:
  resourceVersion: ""
"""


def test_kubectl_get_output_is_not_refused() -> None:
    # go-yaml v2's encoder writes a string plain when its own resolve() reads it back as a string
    # (encode.go stringv), so 'kubectl get -o yaml' prints these plain; all were refused (C2C348).
    result = convert(text=KUBECTL_GET, name="get.yaml")
    assert [d.code for d in result.diagnostics if d.code == "C2C348"] == []
    assert [d["metadata"]["name"] for d in result.documents] == ["db"]


FILTERED_PEER_KNP = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: echo-ingress-from-other-client, namespace: cilium-test}
spec:
  podSelector:
    matchLabels: {kind: echo}
  ingress:
  - from:
    - podSelector:
        matchLabels: {other: client}
        matchExpressions:
        - {key: io.cilium.k8s.policy.cluster, operator: Exists}
  - from:
    - podSelector:
        matchLabels: {kind: client}
"""


def test_a_networkpolicy_peer_on_a_filtered_label_is_no_internal_error() -> None:
    # cilium-cli's connectivity tests (echo-ingress-from-other-client-knp.yaml) select peers on
    # io.cilium.k8s.policy.cluster, a key the tool takes for one Cilium's identity filter drops:
    # the Kubernetes NetworkPolicy's Cilium reading (the companion's input) raised Inexpressible,
    # exit 3. Now it is read wider, and the result allows nothing Calico denies.
    result = helpers.convert(text=FILTERED_PEER_KNP, name="k.yaml")
    assert [d.code for d in result.diagnostics if d.severity is Severity.ERROR] == []
    assert "C2C303" in [d.code for d in result.diagnostics]
    proof = helpers.verify_explained(result)
    assert proof.status in ("narrowed", "equivalent"), proof.render_text()
