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

_INVENTORY = """\
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
  - {apiVersion: v1, kind: Pod, metadata: {name: web-1, namespace: prod, labels: {app: web-frontend}}}
"""

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
        " ports, Kubernetes Service matches and HTTP matches (not converted by this version), nets"
        " that cover part of the pod or node address range, ipVersion in a dual-stack cluster, egress"
        " named ports (Cilium resolves them to one number for the whole cluster and allows it towards"
        " every peer of the rule; Calico allows each destination pod on its own port). The"
        " whole policy is left out: converting only some of its rules would change what its later"
        " rules decide. The traffic it decided is then decided by the policies after it. String"
        " tests can be expanded against a label inventory instead (--inventory, C2C316).",
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
        "C2C316",
        "selector-expanded-from-inventory",
        Severity.WARNING,
        "A contains, starts with or ends with selector was expanded against the --inventory label values.",
        "These string tests have no Kubernetes label-selector form (semantics.md 3.3). With"
        " --inventory, each one becomes `k in {the inventory's values of k that pass it}`: pod labels"
        " for a policy or rule selector (with the labels Calico adds: projectcalico.org/namespace,"
        " projectcalico.org/serviceaccount, pcns.*), namespace labels for a namespaceSelector, plus"
        " the labels of the input's NetworkSets. No matching value gives `k in {}`, which matches"
        " nothing, as in Calico; under `!` both sides match every endpoint without such a value."
        " This is exact for the inventory and only for it: a pod or namespace created later whose"
        " label value matches the pattern but is not listed is treated differently by Cilium than by"
        " Calico. The message lists the values; convert again when they change. With --verify the"
        " proof is against the expanded selectors, and the original ones are checked on the"
        " inventory's pods.",
        failing=_np(
            "  selector: app == 'db'\n  ingress:\n    - action: Allow\n"
            "      source:\n        selector: app starts with 'web'\n"
        ),
        passing=_GOOD,
        failing_inventory=_INVENTORY,
        passing_inventory=_INVENTORY,
    ),
    CodeDoc(
        "C2C317",
        "invalid-inventory",
        Severity.ERROR,
        "An --inventory file is not a cluster export (a policy, a malformed item, no pods or namespaces).",
        "The inventory is a `kubectl get pods,namespaces,serviceaccounts,nodes -A -o yaml` export. Its"
        " pods, namespaces, service accounts and nodes must have metadata.name and string labels, and"
        " the export must hold at least one pod or namespace; other workload kinds (Services,"
        " Deployments ...) are skipped, but a network policy (Calico, Cilium or Kubernetes) is an"
        " error. Otherwise the file is probably not the export (a policy file, an empty list), and"
        " expanding selectors against it would silently match nothing, so the inventory is not used at"
        " all: string-test selectors stay refused (C2C303).",
        failing=_GOOD,
        passing=_GOOD,
        failing_inventory=_GOOD,
        passing_inventory=_INVENTORY,
    ),
    CodeDoc(
        "C2C335",
        "knp-egress-named-port",
        Severity.ERROR,
        "A Kubernetes NetworkPolicy passed through unchanged has an egress named port, which Cilium"
        " enforces differently from Calico.",
        "Calico resolves a named port to the (address, port) pairs of the endpoints declaring it, so"
        " each destination pod is allowed on its own port only (semantics.md 1.4). Cilium resolves an"
        " egress named port to one number for the whole cluster (pkg/endpoint/policy.go GetNamedPort:"
        ' "egress needs named ports of all the pods") and allows it towards every peer of the rule,'
        " pods without that port and addresses outside the cluster included; where pods declare the"
        " name with different numbers it allows nothing (ErrDuplicateNamedPorts). The NetworkPolicy is"
        " passed through as it is (Cilium enforces it itself) and no companion policy can correct"
        " this. Write the port numbers instead, with a `to` selector for the pods that serve them. A"
        " Calico policy with an egress named port is refused instead (C2C303).",
        failing="apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: scrape\n"
        "  namespace: monitoring\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n"
        "  - ports:\n    - port: metrics\n",
        passing="apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: scrape\n"
        "  namespace: monitoring\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n"
        "  - ports:\n    - port: 9090\n",
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
