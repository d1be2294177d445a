"""The verifier's request-level model: Calico http matches as Dikastes evaluates them, Cilium L7
HTTP rules as Envoy full-string regexes, both compared per request. Written against the verifier
only (semantics/, verify/), never the converter's regex writer."""

from __future__ import annotations

import itertools

import pytest

from calico2cilium.semantics.expr import HttpTest
from calico2cilium.semantics.regex import full_match, parse
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify_texts
from calico2cilium.verify.smt.http import cells

CLUSTER = Assumptions(pod_cidrs=("10.0.0.0/16",), node_cidrs=("192.168.0.0/24",))

CALICO = """
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  selector: app == 'api'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: app == 'web'}
    destination: {ports: [80]}
    http:
      methods: [GET]
      paths: [{exact: /a.b}, {prefix: /p/}]
"""

CILIUM = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: api}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: web}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules:
        http:
        - {method: GET, path: "%s"}
        - {method: GET, path: "%s"}
"""


def _run(exact: str, prefix: str) -> tuple[str, list[str]]:
    result = verify_texts(CALICO, CILIUM % (exact, prefix), CLUSTER, max_examples=1)
    assert not result.invalid
    return result.status, [c.describe() for c in result.counterexamples]


def test_the_faithful_regexes_are_proven_equivalent_per_request() -> None:
    assert _run("/a\\\\.b([?#].*)?", "/p/.*") == ("equivalent", [])


@pytest.mark.parametrize(
    ("exact", "prefix", "shows"),
    [
        ("/a\\\\.b", "/p/.*", "'/a.b"),  # the query string is not optional
        ("/a.b([?#].*)?", "/p/.*", "/a"),  # '.' unescaped matches another character
        ("/a\\\\.b([?#].*)?", "/p/.+", "'/p/'"),  # the prefix itself must match
    ],
)
def test_a_wrong_regex_gives_a_request_counterexample(exact: str, prefix: str, shows: str) -> None:
    status, examples = _run(exact, prefix)
    assert status == "different"
    assert "HTTP GET" in examples[0] and shows in examples[0], examples[0]


def test_a_plain_allow_on_the_same_port_lets_every_request_through() -> None:
    plain = CILIUM % ("/a\\\\.b([?#].*)?", "/p/.*") + (
        "  - fromEndpoints: [{matchLabels: {app: web}}]\n    toPorts: [{ports: [{port: '80', protocol: TCP}]}]\n"
    )
    result = verify_texts(CALICO, plain, CLUSTER, max_examples=1)
    assert result.status == "different"
    assert "ALLOW by CiliumNetworkPolicy shop/api spec.ingress[1]" in result.counterexamples[0].describe()


@pytest.mark.parametrize("pattern", ["a{2}", "\\d+", "(?i)get", "a*?", "x^y", "[[:alpha:]]"])
def test_regex_syntax_outside_the_model_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError):
        parse(pattern)


def test_unmodelled_cilium_http_fields_are_outside_the_proof() -> None:
    text = CILIUM.replace('{method: GET, path: "%s"}', "{method: GET, host: x.example}", 1) % "/p/.*"
    result = verify_texts(CALICO, text, CLUSTER, max_examples=1)
    assert result.status in ("incomplete", "different")
    assert any("L7 http host" in u.reason for u in result.unsupported)


ATOMS = (
    HttpTest("path", "eq", "/a.b"),
    HttpTest("path", "prefix", "/a.b?"),
    HttpTest("path", "prefix", "/p/"),
    HttpTest("path", "regex", "/a\\.b([?#].*)?"),
    HttpTest("path", "regex", "/(a|p)/[^/]*"),
    HttpTest("path", "regex", "/p/.*"),
)


def test_cells_partition_the_domain_exactly() -> None:
    # Every visible-ASCII string up to length 5 over a small alphabet falls in exactly the cell
    # whose truth vector the plain-Python reading gives, and every cell's witness is in it.
    found = cells("path", ATOMS)
    alphabet = "/ap.b?#x"
    seen = set()
    for n in range(6):
        for chars in itertools.product(alphabet, repeat=n):
            value = "".join(chars)
            cell = found.of(value)
            assert cell is not None, value
            seen.add(cell)
    for index, witness in enumerate(found.witnesses):
        assert found.of(witness) == index
    assert seen <= set(range(len(found.members)))


def test_regex_reading_is_full_string() -> None:
    assert full_match("GET", "GET") and not full_match("GET", "GETX") and not full_match("GET", "xGET")
    assert full_match("/a(b|c)+", "/abcb") and not full_match("/a(b|c)+", "/a")
    assert not full_match("/x.", "/x\n")  # RE2's '.' does not match a newline
