"""Calico ``http`` matches -> Cilium L7 HTTP rules: the regexes say exactly Calico's path and method
match (checked against an independent reading of Dikastes' ``matchHTTPPaths``), the L7 port
limits are enforced, and the compiler keeps per-request first-match semantics."""

from __future__ import annotations

import re
from typing import Any

import pytest

from calico2cilium import ir
from calico2cilium.cilium.http import http_items, l7_parts, regex_literal
from calico2cilium.compile.http import http_grant
from calico2cilium.sets import Inexpressible, IntervalSet, L4Set
from calico2cilium.sets.l4 import TCP, UDP
from calico2cilium.sets.regions import Region, cube_index
from helpers import convert


def _calico_path_match(kind: str, value: str, request_path: str) -> bool:
    """Dikastes (projectcalico/calico app-policy/checker/match.go): split at '?', then at '#',
    then compare: equality for exact, strings.HasPrefix for prefix."""
    path = request_path.split("?")[0].split("#")[0]
    return path == value if kind == "exact" else path.startswith(value)


RULE_PATHS = [
    ("exact", "/healthz"),
    ("exact", "/v1/items.json"),
    ("exact", "/a+b(c)[d]{2}^$|*\\"),
    ("prefix", "/api/"),
    ("prefix", "/v1/search+"),
    ("prefix", ""),
    ("prefix", "/a.b"),
]
REQUESTS = [
    "/healthz",
    "/healthz?x=1",
    "/healthz#top",
    "/healthzz",
    "/healthz/",
    "/v1/items.json",
    "/v1/itemsXjson",
    "/v1/items.json?q",
    "/a+b(c)[d]{2}^$|*\\",
    "/a+b(c)[d]{2}^$|*\\?z",
    "/aab(c)[d]{2}^$|*\\",
    "/api/",
    "/api/v1/x?y",
    "/api",
    "/v1/search+",
    "/v1/searchh",
    "/v1/search+more#f",
    "/",
    "/a.b/c",
    "/aXb",
]


@pytest.mark.parametrize(("kind", "value"), RULE_PATHS)
def test_path_regex_is_calicos_match_under_full_string_matching(kind: str, value: str) -> None:
    # Envoy's RegexMatcher is a full-string match (envoy/type/matcher/v3/regex.proto); RE2 and
    # Python's re agree on these plain constructs.
    [item] = http_items(ir.HttpMatch(paths=((kind, value),)))
    pattern = re.compile(item["path"])
    for request in REQUESTS:
        assert (pattern.fullmatch(request) is not None) == _calico_path_match(kind, value, request), request


def test_regex_literal_escapes_only_metacharacters() -> None:
    assert regex_literal("/a.b-c_d~e#f") == "/a\\.b-c_d~e#f"
    assert re.fullmatch(regex_literal("x+y"), "x+y")


def test_items_are_the_cross_product_of_methods_and_paths() -> None:
    items = http_items(ir.HttpMatch(("POST", "GET"), (("exact", "/a"), ("prefix", "/b"))))
    assert items == [
        {"method": "GET", "path": "/a([?#].*)?"},
        {"method": "GET", "path": "/b.*"},
        {"method": "POST", "path": "/a([?#].*)?"},
        {"method": "POST", "path": "/b.*"},
    ]


def test_star_method_and_empty_lists_mean_no_constraint() -> None:
    # matchHTTPMethods: "*" matches every method; an empty list matches everything.
    assert http_items(ir.HttpMatch(("GET", "*"), (("prefix", "/x"),))) == [{"path": "/x.*"}]
    assert http_items(ir.HttpMatch()) == [{}]


def _ports(*pairs: tuple[int, int], protocols: tuple[int, ...] = (TCP,)) -> L4Set:
    return L4Set.dst_ports(IntervalSet.of(0, 65535, pairs), protocols=protocols)


def test_l7_parts_lists_single_tcp_ports_in_items_of_forty() -> None:
    [part] = l7_parts(_ports((8000, 8044)), [{"method": "GET"}])
    items: list[dict[str, Any]] = part["toPorts"]
    assert [len(i["ports"]) for i in items] == [40, 5]
    assert all(i["rules"] == {"http": [{"method": "GET"}]} for i in items)
    assert items[0]["ports"][0] == {"port": "8000", "protocol": "TCP"}


@pytest.mark.parametrize(
    "l4",
    [
        _ports((1, 65535)),  # every port: Cilium refuses L7 on port 0
        _ports((80, 80), protocols=(TCP, UDP)),  # L7 is TCP only
        _ports((1000, 1300)),  # more ports than this version lists
        L4Set.all(),
        L4Set.dst_ports(IntervalSet.empty(0, 65535), names=("http",), protocols=(TCP,)),
    ],
)
def test_l7_parts_refuses_what_cilium_l7_rules_cannot_say(l4: L4Set) -> None:
    with pytest.raises(Inexpressible):
        l7_parts(l4, [{}])


def test_egress_http_rule_that_decides_traffic_is_refused() -> None:
    rule = ir.Rule(ir.Action.ALLOW, http=ir.HttpMatch(("GET",)))
    everything = Region.full()
    with pytest.raises(Inexpressible, match="ingress only"):
        http_grant(rule, ir.Direction.EGRESS, everything.cubes, everything, cube_index(None))
    # Where later rules allow all of it, it decides nothing, in either direction.
    allowed = cube_index(None)
    allowed.add(list(everything.cubes))
    grant = http_grant(rule, ir.Direction.EGRESS, everything.cubes, everything, allowed)
    assert grant is not None and grant.exact == ()


def _convert(rules: str) -> Any:
    text = (
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: shop\n"
        f"spec:\n  selector: app == 'api'\n  types: [Ingress]\n  ingress:\n{rules}"
    )
    return convert(text=text, name="p.yaml", pod_cidrs=("10.244.0.0/16",), node_cidrs=("10.0.0.0/24",))


def _l7_items(result: Any) -> list[list[dict[str, str]]]:
    out = []
    for doc in result.documents:
        for spec in doc.get("specs", []):
            for rule in spec.get("ingress", []):
                for item in rule.get("toPorts", []):
                    if "rules" in item:
                        out.append(item["rules"]["http"])
    return out


def test_two_http_rules_on_one_port_are_both_emitted_and_union_in_cilium() -> None:
    rule = (
        "    - action: Allow\n      protocol: TCP\n      source:\n        selector: app == 'web'\n"
        "      destination:\n        ports: [80]\n      http:\n        methods: [{method}]\n"
    )
    result = _convert(rule.format(method="GET") + rule.format(method="POST"))
    assert sorted(map(str, _l7_items(result))) == ["[{'method': 'GET'}]", "[{'method': 'POST'}]"]
    assert [d.code for d in result.diagnostics] == ["C2C314", "C2C314"]


def test_paths_calico_never_matches_are_refused_by_the_compiler() -> None:
    # Calico's validator refuses them already (C2C220); the compiler does not rely on that.
    rule = ir.Rule(ir.Action.ALLOW, http=ir.HttpMatch(paths=(("exact", "/a?b"),)))
    everything = Region.full()
    with pytest.raises(Inexpressible, match="'\\?' or '#'"):
        http_grant(rule, ir.Direction.INGRESS, everything.cubes, everything, cube_index(None))


def test_http_rule_on_every_port_is_refused_with_c2c315_and_the_rest_kept() -> None:
    rules = (
        "    - action: Allow\n      protocol: TCP\n      source:\n        selector: app == 'web'\n"
        "      http:\n        methods: [GET]\n"
        "    - action: Allow\n      protocol: TCP\n      destination:\n        ports: [9090]\n"
    )
    result = _convert(rules)
    [diag] = result.diagnostics
    assert diag.code == "C2C315" and "every TCP port" in diag.message
    # It fails closed (Cilium denies the requests), so it is a narrowing warning: output written, exit 1.
    assert diag.narrowing and diag.severity.value == "warning"
    assert not _l7_items(result)
    # The other rule is kept: TCP 9090 from anyone.
    [doc] = result.documents
    assert "9090" in str(doc["specs"])


def test_http_rule_without_protocol_is_refused_where_it_decides_non_tcp_flows() -> None:
    rules = "    - action: Allow\n      source:\n        selector: app == 'web'\n      http:\n        methods: [GET]\n"
    [diag] = _convert(rules).diagnostics
    assert diag.code == "C2C315" and "TCP only" in diag.message
