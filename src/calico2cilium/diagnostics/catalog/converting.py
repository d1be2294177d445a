"""C2C3xx: conversion findings (what changed, what was refused, and why)."""

from __future__ import annotations

from calico2cilium.diagnostics import Severity
from calico2cilium.diagnostics.catalog import CodeDoc


def _np(spec: str, kind: str = "NetworkPolicy", name: str = "example") -> str:
    ns = "  namespace: prod\n" if kind == "NetworkPolicy" else ""
    return f"apiVersion: projectcalico.org/v3\nkind: {kind}\nmetadata:\n  name: {name}\n{ns}spec:\n{spec}"


_GOOD = _np(
    "  selector: app == 'db'\n  ingress:\n    - action: Allow\n      protocol: TCP\n"
    "      source:\n        selector: app == 'web'\n      destination:\n        ports: [5432]\n"
)

CODES = (
    CodeDoc(
        "C2C301",
        "untranslatable-policy-stage",
        Severity.ERROR,
        "A GlobalNetworkPolicy with doNotTrack, preDNAT or applyOnForward is not converted.",
        "These policies act on host traffic before connection tracking, before DNAT, or on traffic"
        " forwarded through a host. Cilium has no policy stage at those points (semantics.md 3.1),"
        " so there is no equivalent; the policy is left out of the output.",
        failing=_np(
            "  selector: has(node-role)\n  doNotTrack: true\n  applyOnForward: true\n"
            "  ingress:\n    - action: Allow\n",
            kind="GlobalNetworkPolicy",
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C302",
        "log-rule-dropped",
        Severity.WARNING,
        "A rule with action Log was dropped.",
        "Calico's Log action logs the packet and goes on with the next rule; it never decides a"
        " verdict. Cilium has no per-rule logging (policy-verdict logs come from Hubble), so the rule"
        " is dropped. Traffic is unchanged.",
        failing=_np(
            "  selector: app == 'db'\n  ingress:\n    - action: Log\n    - action: Allow\n"
            "      source:\n        selector: app == 'web'\n"
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C303",
        "policy-not-expressible",
        Severity.ERROR,
        "A policy uses something Cilium cannot express exactly, so it is not converted.",
        "Examples: the selector operators contains, starts with and ends with (no label-selector"
        " form), service-account label selectors (Cilium exposes no service-account labels), source"
        " ports, Kubernetes Service matches (not converted by this version), nets"
        " that cover part of the pod or node address range, ipVersion in a dual-stack cluster. The"
        " whole policy is left out: converting only some of its rules would change what its later"
        " rules decide. The traffic it decided is then decided by the policies after it.",
        failing=_np(
            "  selector: app == 'db'\n  ingress:\n    - action: Allow\n"
            "      source:\n        selector: app starts with 'web'\n"
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C307",
        "nets-may-match-cluster",
        Severity.WARNING,
        "A rule's nets may contain pod or node addresses, and the cluster's ranges were not given.",
        "Calico nets match any endpoint by IP, pods and nodes included; Cilium CIDR rules never match"
        " pods or nodes (semantics.md 3.6). Without --pod-cidr and --node-cidr the converter cannot"
        " tell which part of a net is pods, so it converts the net as if it held no cluster"
        " address. Give the ranges and the conversion is exact: nets that cover the pod range become"
        " rules for all pods, and nets that cover part of it are refused.",
        failing=_np(
            "  selector: app == 'db'\n  ingress:\n    - action: Allow\n"
            "      source:\n        nets: [10.0.0.0/8]\n"
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C309",
        "unknown-tier",
        Severity.ERROR,
        "A policy names a tier that is not in the input.",
        "A tier's order decides when its policies are evaluated; without the Tier resource the order"
        " is unknown, so the policy is not converted. Add the Tier to the input (kubectl get tiers"
        " -o yaml).",
        failing=_np(
            "  tier: security\n  selector: app == 'db'\n  ingress:\n    - action: Deny\n",
            kind="GlobalNetworkPolicy",
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C310",
        "region-not-expressible",
        Severity.ERROR,
        "Part of the traffic a rule allows has no exact Cilium form once earlier rules took theirs.",
        "Calico decides by first match, so a rule allows only what the rules and policies before it"
        " did not decide. That remainder can need something Cilium cannot say: an ICMP code, a"
        " protocol other than TCP, UDP, SCTP and ICMP, named ports combined with exclusions. That"
        " part is left out of the output, so Cilium denies it; the message names the rule.",
        failing=_np("  selector: app == 'db'\n  ingress:\n    - action: Allow\n      protocol: 47\n"),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C311",
        "order-tie",
        Severity.WARNING,
        "Two policies of one tier have the same order and may select the same pods.",
        "Calico breaks the tie by name, and how depends on the Calico version (semantics.md 1.2). The"
        " conversion follows the current rule (by name); give the policies distinct orders to make"
        " the intent explicit.",
        failing=_np("  order: 10\n  selector: app == 'db'\n  ingress:\n    - action: Deny\n", name="a")
        + "---\n"
        + _np("  order: 10\n  selector: all()\n  ingress:\n    - action: Allow\n", name="b"),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C312",
        "kind-not-converted",
        Severity.ERROR,
        "A HostEndpoint was read but is not converted by this version.",
        "Host endpoints need Cilium host policies (CCNP nodeSelector with the host firewall on), which"
        " this version does not emit. Policies are compiled as if the host endpoint did not exist:"
        " selectors that would pick it pick only pods and network sets. Convert it by hand for now.",
        failing="apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: node1-eth0\n"
        "  labels: {role: node}\nspec:\n  node: node1\n  interfaceName: eth0\n  expectedIPs: [192.0.2.10]\n",
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C313",
        "knp-rules-outside-types",
        Severity.WARNING,
        "A Kubernetes NetworkPolicy has rules for a direction its policyTypes leaves out; the copy"
        " in the output drops them.",
        "Calico converts only the rules of the directions listed in policyTypes. Cilium enforces every"
        " ingress and egress rule of a Kubernetes NetworkPolicy, whatever policyTypes says, and puts"
        " the pods into default deny for that direction. The NetworkPolicy is passed to the output"
        " without those rules, so Cilium does what Calico did. Fix the source: either list the"
        " direction in policyTypes or delete the rules.",
        failing="apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\n"
        "  namespace: shop\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - {}\n"
        "  egress:\n  - to:\n    - podSelector: {}\n",
        passing="apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\n"
        "  namespace: shop\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - {}\n",
    ),
    CodeDoc(
        "C2C314",
        "http-converted-to-l7",
        Severity.WARNING,
        "An http match was converted: to Cilium L7 HTTP rules (assuming Calico enforced it with"
        " ALP), or to nothing where the rules after it allow its traffic anyway.",
        "Calico evaluates http matches (methods and paths) per request only with Application Layer"
        " Policy: Dikastes behind an Envoy sidecar in the pod, on ingress; pods without the sidecar"
        " enforce only the L3/L4 part of the policy. The conversion keeps Calico's per-request"
        " first-match reading: where the rules after the http rule would allow the traffic anyway it"
        " is a plain allow, and where they deny it Cilium gets toPorts[].rules.http, one item per"
        " method and path (Envoy regexes, full-string: exact paths also match with a query string,"
        " prefixes are string prefixes). Cilium needs its L7 proxy for these rules (enable-l7-proxy),"
        " accepts the connection, and answers a request that matches no rule with HTTP 403 instead of"
        " a drop. Paths are compared as sent; path normalization (percent-decoding, dot segments),"
        " which newer Dikastes builds and Envoy may apply, is not modelled. Where the rules after it"
        " allow all of its traffic, the http match has no effect in Calico either, and the warning"
        " says so.",
        failing=_np(
            "  selector: app == 'api'\n  ingress:\n    - action: Allow\n      protocol: TCP\n"
            "      source:\n        selector: app == 'web'\n      destination:\n        ports: [8080]\n"
            "      http:\n        methods: [GET]\n        paths:\n          - prefix: /api/\n"
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C315",
        "http-not-converted",
        Severity.ERROR,
        "An http match that decides traffic has no faithful Cilium L7 form; that part is left out.",
        "Cilium L7 HTTP rules need explicit TCP ports (not port 0, not other protocols), are refused"
        " in deny rules and host policies, and are overridden by any allow without L7 rules on the"
        " same peer and port. Calico enforces http matches on ingress only. When the requests an"
        " http rule allows (where the rules after it deny the traffic) cannot be said under those"
        " limits, they are left out, so Cilium denies them; the rest of the policy, other rules and"
        " the other direction, is converted. The message names the rule and the reason.",
        failing=_np(
            "  selector: app == 'api'\n  ingress:\n    - action: Allow\n      protocol: TCP\n"
            "      http:\n        methods: [GET]\n"
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C399",
        "invalid-output",
        Severity.ERROR,
        "An output resource failed the Cilium CRD schema (a bug in calico2cilium).",
        "Every output is validated against the official Cilium CRD schema of the target version"
        " before it is printed. A failure means the converter produced something the cluster would"
        " reject; please report it with the input.",
    ),
)
