"""Calico ``http`` matches -> Cilium ``toPorts[].rules.http`` (docs/reference/semantics.md §2.3, 3.5).

Cilium hands ``method`` and ``path`` to Envoy as ``SafeRegexMatch`` (RE2) header matchers on
``:method`` and ``:path`` (cilium ``pkg/envoy/server.go`` ``getHTTPRule``), and an Envoy
``RegexMatcher`` "is matched against the full string, not as a partial match"
(``envoy/type/matcher/v3/regex.proto``). The items of ``http`` are ORed and the fields inside one
item ANDed, while Calico ANDs its method list with its path list (each ORed inside), so the items
are the cross product method x path.

* Methods: Dikastes compares them as exact, case-sensitive strings, and ``*`` matches every method
  (projectcalico/calico ``app-policy/checker/match.go`` ``matchHTTPMethods``): a regex-escaped
  literal, no ``method`` at all for ``*``.
* Paths: Dikastes cuts the request path at the first ``?`` or ``#`` and compares the rest:
  ``exact`` for equality, ``prefix`` as a plain string prefix (``matchHTTPPaths``). Envoy's
  ``:path`` is the whole request target, query included (RFC 9113 8.3.1: ":path ... includes the
  path and query parts of the target URI"), so ``exact: P`` is ``<P>([?#].*)?`` and
  ``prefix: P`` is ``<P>.*`` (a path without ``?``/``#``; ``compile/http.py`` refuses the others).
  **[uncertain]** Both sides are read on the raw request path: projectcalico/calico @ 03510ccb
  compares it as sent, but one newer Tigera copy of ``match.go`` normalizes it first
  (percent-decoding, dot segments, repeated slashes) and anchors prefixes at segment boundaries;
  whether Cilium's policy listener normalizes ``:path`` (Envoy ``normalize_path``) before matching
  was not established. Requests with such paths may be judged differently; C2C314 is a warning.

L7 rules need explicit TCP ports: Cilium refuses L7 on port 0 ("L7 rules can not be used when a
port is 0") and on any protocol but TCP ("L7 rules can only apply to TCP", ``rule_validation.go``
``PortRule.sanitize``). Ranges would be accepted with ``endPort``; this version lists single ports
only (at most ``MAX_L7_PORTS``), and refuses named ports, as the narrower, well-trodden form.
"""

from __future__ import annotations

from typing import Any

from calico2cilium import ir
from calico2cilium.cilium.ports import MAX_PORTS_PER_ITEM, PORT_MAX
from calico2cilium.sets import Inexpressible, L4Set, cilium_names
from calico2cilium.sets.l4 import TCP

MAX_L7_PORTS = 200
_RE2_SPECIAL = frozenset("\\.+*?()|[]{}^$")


def regex_literal(text: str) -> str:
    """``text`` as an RE2 regex matching exactly that string (the metacharacters escaped; RE2
    reads ``\\`` before punctuation as the literal character)."""
    return "".join("\\" + c if c in _RE2_SPECIAL else c for c in text)


def _path_regex(kind: str, value: str) -> str:
    if kind == "exact":
        return regex_literal(value) + "([?#].*)?"
    return regex_literal(value) + ".*"


def http_items(match: ir.HttpMatch) -> list[dict[str, str]]:
    """The ``rules.http`` list saying exactly Calico's method-and-path match (module docstring)."""
    methods: list[str | None] = [None]
    if match.methods and "*" not in match.methods:
        methods = [*sorted(set(match.methods))]
    paths: list[str | None] = [None]
    if match.paths:
        paths = [*sorted({_path_regex(k, v) for k, v in match.paths})]
    items: list[dict[str, str]] = []
    for method in methods:
        for path in paths:
            item: dict[str, str] = {}
            if method is not None:
                item["method"] = regex_literal(method)
            if path is not None:
                item["path"] = path
            items.append(item)
    return items


def l7_parts(l4: L4Set, items: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The ``toPorts`` fragment carrying ``items`` on exactly the flows of ``l4``, or
    ``Inexpressible`` when ``l4`` is not a finite set of numbered TCP ports."""
    if l4.is_full or not l4.others.is_empty or l4.icmp or any(proto != TCP for proto, _ in l4.ports):
        raise Inexpressible(
            "http", "Cilium L7 rules apply to TCP only, and the rule also matches other protocols"
        )
    ports: list[int] = []
    for _, port_map in l4.ports:
        numbers, names = cilium_names(port_map)
        if names:
            raise Inexpressible("http", "L7 rules on named ports are not converted by this version")
        for lo, hi in numbers.ranges:
            lo = max(lo, 1)
            if lo <= 1 and hi >= PORT_MAX:
                raise Inexpressible(
                    "http",
                    "the rule covers every TCP port, and Cilium refuses L7 rules on port 0, its only"
                    " every-port form",
                )
            if hi - lo + 1 + len(ports) > MAX_L7_PORTS:
                raise Inexpressible(
                    "http",
                    f"Cilium L7 rules need explicit TCP ports, and the rule covers more than {MAX_L7_PORTS}",
                )
            ports.extend(range(lo, hi + 1))
    if not ports:
        raise Inexpressible("http", "no TCP port to put the L7 rule on")
    entries = [{"port": str(p), "protocol": "TCP"} for p in ports]
    chunks = [entries[i : i + MAX_PORTS_PER_ITEM] for i in range(0, len(entries), MAX_PORTS_PER_ITEM)]
    return [{"toPorts": [{"ports": chunk, "rules": {"http": items}} for chunk in chunks]}]


__all__ = ["MAX_L7_PORTS", "http_items", "l7_parts", "regex_literal"]
