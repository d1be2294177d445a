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


_CLUSTER_RANGES = (("--pod-cidr", "10.244.0.0/16"), ("--node-cidr", "192.168.0.0/24"))
"""The cluster's ranges given to the node-range examples (C2C388, C2C389)."""


def _from_nets(action: str, nets: str, more: str = "") -> str:
    """A policy whose first ingress rule has ``action`` from ``nets``, then ``more`` rules."""
    return _np(
        f"  selector: app == 'db'\n  ingress:\n    - action: {action}\n      source:\n        nets: [{nets}]\n{more}"
    )


_INVENTORY = """\
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
  - {apiVersion: v1, kind: Pod, metadata: {name: web-1, namespace: prod, labels: {app: web-frontend}}}
"""
_SA_INVENTORY = """\
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
  - {apiVersion: v1, kind: Namespace, metadata: {name: dev}}
  - {apiVersion: v1, kind: ServiceAccount, metadata: {name: web, namespace: prod, labels: {tier: front}}}
  - {apiVersion: v1, kind: ServiceAccount, metadata: {name: web, namespace: dev}}
  - {apiVersion: v1, kind: Pod, metadata: {name: web-1, namespace: prod, labels: {app: db}}}
"""
_TO_SERVICE = _np(
    "  selector: app == 'web'\n  types: [Egress]\n  egress:\n    - action: Allow\n"
    "      destination:\n        services: {name: api}\n"
)
_FROM_SERVICE = _np(
    "  selector: app == 'db'\n  types: [Ingress]\n  ingress:\n    - action: Allow\n"
    "      source:\n        services: {name: api}\n"
)


def _service_inventory(
    spec: str = "{selector: {app: api}, ports: [{port: 80, targetPort: 8080}], ipFamilies: [IPv4, IPv6]}",
) -> str:
    return (
        _INVENTORY
        + f"  - {{apiVersion: v1, kind: Service, metadata: {{name: api, namespace: prod}}, spec: {spec}}}\n"
    )


_HEP = (
    "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: node1-eth0\n"
    '  labels: {role: node}\nspec:\n  node: node1\n  interfaceName: "*"\n  expectedIPs: [192.0.2.10]\n'
)
_DEFAULT_ALLOW = "profiles: [projectcalico-default-allow]"


def _hep(spec_line: str) -> str:
    """``_HEP`` with one more line in its spec."""
    return _HEP.replace("spec:\n", f"spec:\n  {spec_line}\n")


def _gnp_and_hep(spec: str, hep_line: str) -> str:
    """A GlobalNetworkPolicy with ``spec`` and, in the same file, ``_hep(hep_line)``."""
    return _np(spec, kind="GlobalNetworkPolicy") + "---\n" + _hep(hep_line)


CODES = (
    CodeDoc(
        "C2C301",
        "untranslatable-policy-stage",
        Severity.ERROR,
        "A GlobalNetworkPolicy with doNotTrack, preDNAT or applyOnForward is not converted for hosts.",
        "These policies act on host traffic before connection tracking, before DNAT, or on traffic"
        " forwarded through a host. Cilium has no policy stage at those points (docs/reference/semantics.md §3.1),"
        " so there is no equivalent for host endpoints: the nodes whose host endpoints the policy selects"
        " are kept in host default deny (C2C312). Felix never applies a doNotTrack or preDNAT policy to"
        " pods, so it is left out of the output; an applyOnForward policy is a normal policy for pods"
        " (felix/calc/event_sequencer.go, tierInfoToProtoTierInfo), so it is converted for them (and"
        " without this error when its namespaceSelector or serviceAccountSelector keeps it off hosts).",
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
        "A rule (or a policy's subject) uses something Cilium cannot express exactly: it fails closed.",
        "Examples: the selector operators contains, starts with and ends with (no label-selector"
        " form), service-account label selectors (Cilium exposes no service-account labels), source"
        " ports, Kubernetes Service matches without the Service object (give it with --inventory:"
        " C2C330-C2C333), nets"
        " that cover part of the pod or node address range, ipVersion in a dual-stack cluster,"
        " label keys whose Cilium form is not a valid label key (a namespace label key longer than"
        " 28 characters becomes k8s.io.cilium.k8s.namespace.labels.<key>, over 63), egress"
        " named ports (Cilium resolves them to one number for the whole cluster and allows it towards"
        " every peer of the rule; Calico allows each destination pod on its own port)."
        " The conversion fails closed at the smallest unit (issue 15): the policy keeps its pods in Cilium's default deny; a refused Allow rule is left out, a refused Deny or Pass rule becomes a Deny of a wider region (the criteria that cannot be said dropped), a subject that cannot be said is widened and keeps only its Deny and Pass rules as Denies. Cilium then only denies more than Calico, never allows more; the message says what it now denies, and convert --verify proves it (NARROWED). String tests can be expanded against a label inventory instead (--inventory, C2C316).",
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
        " pods or nodes (docs/reference/semantics.md §3.6). Without --pod-cidr and --node-cidr the converter cannot"
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
        " is unknown, and the end of the tier may deny whatever its other policies do not allow. The"
        " conversion fails closed: the policy's pods stay in Cilium's default deny with nothing"
        " allowed in the directions it governs (as if its tier came first and allowed nothing), so"
        " Cilium denies all their traffic there. Add the Tier to the input (kubectl get tiers -o yaml).",
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
        " part is left out of the output, so Cilium denies it; the message names the rule. Where"
        " only some of the other IP protocols are in it (notProtocol less an earlier Deny of GRE,"
        " say), the rule keeps its TCP, UDP, SCTP and ICMP flows, and the message names the"
        " protocols left out.",
        failing=_np("  selector: app == 'db'\n  ingress:\n    - action: Allow\n      protocol: 47\n"),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C311",
        "order-tie",
        Severity.WARNING,
        "Two policies of one tier have the same order (or none) and may select the same pods.",
        "Calico breaks the tie by name, and how depends on the Calico version (docs/reference/semantics.md §1.2). The"
        " conversion follows the current rule (by name); give the policies distinct orders to make"
        " the intent explicit. Policies with no order tie too: Felix puts them last, at an order of"
        " +infinity, which is equal to itself (felix/calc/policy_sorter.go PolKVLess).",
        failing=_np("  order: 10\n  selector: app == 'db'\n  ingress:\n    - action: Deny\n", name="a")
        + "---\n"
        + _np("  order: 10\n  selector: all()\n  ingress:\n    - action: Allow\n", name="b"),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C312",
        "host-endpoint-not-converted",
        Severity.ERROR,
        "A HostEndpoint cannot be converted exactly: its node is kept in host default deny.",
        "Host endpoints become Cilium host policies (CCNP nodeSelector), one node at a time. A node is"
        " refused when its host policy cannot be exact: several HostEndpoints on it with different"
        " labels, profiles or ports (Calico applies policy per interface, Cilium per node); a profile"
        " other than projectcalico-default-allow (Profiles are not an input kind, so their rules and"
        " labels are unknown); a policy that selects it is itself not converted; or a rule that"
        " constrains the host's own side by address (a destination selector or nets on ingress),"
        " which a host policy cannot say. The conversion fails closed (issue 15): a host policy still"
        " selects the node in both directions (Cilium's host default deny) and allows only the failsafe"
        " ports, which Calico allows whatever its policy says; Cilium denies the rest of the node's"
        " host traffic that Calico allowed. Convert the node's policy by hand to allow it.",
        failing=_hep("profiles: [profile1]"),
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
        "C2C316",
        "selector-expanded-from-inventory",
        Severity.WARNING,
        "A contains, starts with or ends with selector was expanded against the --inventory label values.",
        "These string tests have no Kubernetes label-selector form (docs/reference/semantics.md §3.3). With"
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
        " the export must hold at least one pod or namespace; Services are read for services matches"
        " (C2C333), other workload kinds (Deployments, EndpointSlices ...) are skipped, but a network policy (Calico, Cilium or Kubernetes) is an"
        " error. Otherwise the file is probably not the export (a policy file, an empty list), and"
        " expanding selectors against it would silently match nothing, so the inventory is not used at"
        " all: string-test selectors stay refused (C2C303).",
        failing=_GOOD,
        passing=_GOOD,
        failing_inventory=_GOOD,
        passing_inventory=_INVENTORY,
    ),
    CodeDoc(
        "C2C318",
        "output-name-taken",
        Severity.WARNING,
        "Two output policies would have the same name; one was renamed.",
        "`kubectl apply` keeps only the last of two resources with the same kind, namespace and name,"
        " so a collision would silently drop a policy. Names come from the inputs and from the"
        " converter (`knp-<name>` companions, `calico2cilium-profile-allow`), and two inputs can map"
        " to one name (crd.projectcalico.org/v1 `sec.block` and `default.block` are both `block`)."
        " The policy converting a source policy of exactly that name keeps it; the other gets the"
        " first free `<name>-<n>`. Traffic is unchanged; only the name differs from the source's.",
        failing=(
            "apiVersion: crd.projectcalico.org/v1\nkind: Tier\nmetadata: {name: sec}\nspec: {order: 10}\n"
            "---\napiVersion: crd.projectcalico.org/v1\nkind: GlobalNetworkPolicy\n"
            "metadata: {name: sec.block}\nspec:\n  tier: sec\n  selector: app == 'db'\n"
            "  ingress: [{action: Deny, protocol: UDP}]\n"
            "---\napiVersion: crd.projectcalico.org/v1\nkind: GlobalNetworkPolicy\n"
            "metadata: {name: default.block}\nspec:\n  selector: app == 'web'\n"
            "  ingress: [{action: Allow, protocol: TCP}]\n"
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C319",
        "output-name-conflict",
        Severity.WARNING,
        "Two network sets give the same CiliumCIDRGroup name.",
        "A NetworkSet becomes the CiliumCIDRGroup `calico-ns-<namespace>-<name>`, a GlobalNetworkSet"
        " `calico-gns-<name>`: namespace `a-b`'s set `c` and namespace `a`'s set `b-c` both give"
        " `calico-ns-a-b-c`, and the cluster would keep only one of them. Rules refer to groups by"
        " name (`cidrGroupRef`), so no rule refers to such a name: the sets' addresses are written"
        " inline in the rules (the same flows), and the second group is written as"
        " `calico-ns-a-b-c-2`, keeping its labels. Rename one of the sets to keep a group named after"
        " it. (If a rule referred to the name anyway, neither group could be renamed, and the code is"
        " an error: the output would allow what the other set holds.)",
    ),
    CodeDoc(
        "C2C320",
        "host-firewall-required",
        Severity.WARNING,
        "The output holds Cilium host policies, which need the Cilium host firewall.",
        "HostEndpoints become CiliumClusterwideNetworkPolicy rules with nodeSelector. Cilium enforces"
        " them only with the host firewall enabled (Helm hostFirewall.enabled=true, on the devices that"
        " carry the nodes' traffic); without it Cilium allows all host traffic, which is wider than"
        " Calico (docs/reference/semantics.md §2.1).",
        failing=_HEP,
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C321",
        "node-label-required",
        Severity.WARNING,
        "A host policy selects its node by a label the Node must be given.",
        "Cilium matches nodeSelector against the Node's labels (filtered: keys under kubernetes.io/ are"
        " dropped, so kubernetes.io/hostname cannot be used). A HostEndpoint's labels are Calico's,"
        " not the Node's, and selecting on them could pick nodes that had no host endpoint. So each"
        " node is selected by calico2cilium.io/node=<node>; the message gives the kubectl label"
        " command to run before applying the output.",
        failing=_HEP,
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C322",
        "failsafe-ports-assumed",
        Severity.WARNING,
        "The failsafe ports of FelixConfiguration's defaults are allowed explicitly on the host.",
        "Calico allows a host endpoint's failsafe ports whatever its policy says (inbound tcp:22,"
        " udp:68, tcp:179, tcp:2379, tcp:2380, tcp:5473, tcp:6443, tcp:6666, tcp:6667; outbound udp:53,"
        " udp:67, tcp:179, tcp:2379, tcp:2380, tcp:5473, tcp:6443, tcp:6666, tcp:6667). They are"
        " FelixConfiguration settings, which are not in the input, so the defaults are assumed and"
        " allowed in the calico2cilium-host-defaults policy (the node's spec there); edit it if yours differ.",
        failing=_HEP,
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C323",
        "host-interface-widened",
        Severity.WARNING,
        "A HostEndpoint for one interface becomes a host policy for the whole node.",
        "A named-interface HostEndpoint governs only the traffic through that interface; other"
        " interfaces, and traffic between the host and its local pods, are left alone by Calico. A"
        " Cilium host policy covers all the node's host traffic, so the converted policy also"
        " applies there (docs/reference/semantics.md §3.1).",
        failing=_HEP.replace('interfaceName: "*"', "interfaceName: eth0"),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C324",
        "host-to-local-pods",
        Severity.WARNING,
        "Traffic from a host to its own pods is always allowed by Calico, and governed by Cilium.",
        "Calico never applies a host endpoint's egress policy to traffic from the host to its local"
        " workloads (docs/reference/semantics-check.md 13). Cilium's host egress policy applies to it too (the host"
        " firewall enforces host policy between the host and local pods), and there is no selector for"
        " 'the pods of this node'. So wherever the converted egress rules do not allow pods, host to"
        " local pod traffic (kubelet probes) is denied by Cilium.",
        failing=_HEP,
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C325",
        "rule-peer-selects-host-endpoint",
        Severity.WARNING,
        "A rule selector matches a HostEndpoint, whose addresses no Cilium peer names exactly.",
        "In Calico a rule selector matches the expectedIPs of the host endpoints it selects. Cilium"
        " label selectors match pods; no Cilium peer names some addresses of one node: toNodes/fromNodes"
        " never match the pods' own node (Cilium adds reserved:remote-node) and match every address of"
        " a node; CIDR rules match nodes only with policy-cidr-match-mode=nodes, and then the pods' own"
        " node by its host identity, which carries the CIDR labels of all its addresses. The converted"
        " rule matches pods (and network sets) only, and fails closed where that would allow more: an"
        " Allow rule allows less; a Deny rule also denies, on its own ports and endpoints, every node"
        " (entities host and remote-node) for the addresses inside the node ranges (all of them when"
        " the ranges are unknown) and the CIDRs of those outside; a Pass rule is preceded by such a"
        " Deny, since later tiers may allow what Calico passes. Cilium denies more, never allows more"
        " (docs/fail-closed.md). The same holds for a rule whose nets (or network sets) hold a"
        " HostEndpoint address outside the node ranges: it may be a node's, which CIDR rules never match.",
        failing=_gnp_and_hep(
            "  selector: app == 'db'\n  ingress:\n    - action: Allow\n"
            "      source:\n        selector: role == 'node'\n",
            _DEFAULT_ALLOW,
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C327",
        "not-selector-excludes-host-endpoint",
        Severity.WARNING,
        "A GlobalNetworkPolicy notSelector leaves out a HostEndpoint's addresses, which no Cilium peer names exactly.",
        "In a GlobalNetworkPolicy, a rule side that is only `notSelector: X` matches every address"
        " except those of X's endpoints (docs/reference/semantics.md §1.4), so a HostEndpoint that X picks has its"
        " expectedIPs left out. Cilium names node addresses only as the host and remote-node"
        " entities, for all nodes at once, so the converted rule would match that node too. It fails"
        " closed instead: a Deny rule denies it (where Calico decides it by later rules); an Allow rule"
        " leaves out every node (and the CIDRs of the HostEndpoint's addresses outside the node"
        " ranges); a Pass rule is preceded by a Deny of them (docs/fail-closed.md). The same holds for"
        " nets that cover the node ranges (converted to every node) but not a HostEndpoint address"
        " outside them.",
        failing=_gnp_and_hep(
            "  selector: app == 'db'\n  namespaceSelector: all()\n  ingress:\n    - action: Deny\n"
            "      source:\n        notSelector: role == 'node'\n    - action: Allow\n",
            _DEFAULT_ALLOW,
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C326",
        "host-named-port-widened",
        Severity.WARNING,
        "A named port on a HostEndpoint would match its number on every address of the node.",
        "In Calico a named destination port matches the address and port of the endpoints that declare"
        " it: for a HostEndpoint, its expectedIPs with the port its ports list gives that name. A"
        " Cilium host policy cannot say the node's own address, so the rule would match that port number"
        " on every address of the node. It fails closed: an Allow rule is left out, a Pass rule becomes"
        " a Deny of the port, a Deny rule denies it on every address of the node (docs/fail-closed.md)."
        " With no expectedIPs the name matches nothing, and the rule is converted as matching nothing"
        " (exact).",
        failing=_gnp_and_hep(
            "  selector: role == 'node'\n  ingress:\n    - action: Allow\n      protocol: TCP\n"
            "      destination:\n        ports: [web]\n",
            "ports: [{name: web, protocol: TCP, port: 8080}]",
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C330",
        "service-not-in-inventory",
        Severity.ERROR,
        "A services match names a Kubernetes Service that the --inventory does not hold.",
        "A Calico `services` match stands for the Service's endpoints: in a destination their"
        " addresses and ports, in a source their addresses (felix rule_scanner.go, service_index.go;"
        " docs/reference/semantics.md §1.4). Only the Service object says which pods those are (its selector) and on"
        " which ports (its targetPorts), so the policy is converted only when the inventory holds the"
        " Service. Without any --inventory it is refused with C2C303. The rule fails closed (an"
        " Allow left out, a Deny or Pass widened; the policy keeps its pods in default deny). Export"
        " the Services with the rest: kubectl get pods,namespaces,serviceaccounts,nodes,services -A -o yaml.",
        failing=_TO_SERVICE,
        passing=_GOOD,
        failing_inventory=_INVENTORY,
        passing_inventory=_service_inventory(),
    ),
    CodeDoc(
        "C2C331",
        "service-without-selector",
        Severity.ERROR,
        "A services match names a Service without a pod selector (or an ExternalName Service).",
        "The endpoints of a Service without a selector are whatever addresses its EndpointSlices"
        " list (written by hand or by another controller), and Calico matches exactly those. Cilium"
        " has no pod peer for an address list; its toServices turns such a Service into CIDR rules,"
        " which never match pods or nodes (language.rst, Services based; docs/reference/semantics.md §3.4). The rule"
        " fails closed (an Allow left out, a Deny or Pass widened; the policy keeps its pods in"
        " default deny). Give the Service a selector, or write the rule with selectors or nets.",
        failing=_TO_SERVICE,
        passing=_GOOD,
        failing_inventory=_service_inventory("{ports: [{port: 80}]}"),
        passing_inventory=_service_inventory(),
    ),
    CodeDoc(
        "C2C332",
        "service-ports-not-expressible",
        Severity.ERROR,
        "A services match cannot be said exactly: a named targetPort, no ports, or a hostNetwork pod behind it.",
        "As a destination, a services match allows each endpoint on its own port: a named"
        " targetPort is resolved per pod from its container ports, while Cilium resolves an egress"
        " named port to one number for the whole cluster (the reason egress named ports are refused,"
        " C2C303); a Service without ports has no port to allow. A Service that selects a hostNetwork"
        " pod has that pod's node address as an endpoint, which no pod peer matches. The rule fails"
        " closed (an Allow left out, a Deny or Pass widened; the policy keeps its pods in default"
        " deny). Use numeric targetPorts.",
        failing=_TO_SERVICE,
        passing=_GOOD,
        failing_inventory=_service_inventory("{selector: {app: api}, ports: [{port: 80, targetPort: http}]}"),
        passing_inventory=_service_inventory(),
    ),
    CodeDoc(
        "C2C333",
        "service-from-inventory",
        Severity.WARNING,
        "A services match was converted from the --inventory's Service object (a snapshot).",
        "The Service's endpoints are the pods of its namespace matching its selector, each on the"
        " targetPort of every Service port (the EndpointSlice controller; felix service_index.go"
        " pairs every endpoint address with every slice port). So a destination services match"
        " becomes toEndpoints with the namespace and the selector's labels and toPorts with the"
        " target ports (protocol and number; a missing targetPort is the port); a source match"
        " becomes fromEndpoints with the same labels, any port (Cilium has no fromServices)."
        " toServices is not used: whether it applies to Services with a selector depends on the"
        " Cilium version (cilium/cilium PR 25864), and it implies no ports. This is exact while the"
        " Service keeps that selector and those ports, and Calico follows every change of them: convert"
        " again when they change. (Calico also leaves out pods that are terminating or finished,"
        " which the EndpointSlice controller drops; Cilium's pod peers still match them.) With"
        " --verify, the proof takes the inventory's Services as given.",
        failing=_FROM_SERVICE,
        passing=_GOOD,
        failing_inventory=_service_inventory(),
        passing_inventory=_service_inventory(),
    ),
    CodeDoc(
        "C2C335",
        "knp-egress-named-port",
        Severity.WARNING,
        "A Kubernetes NetworkPolicy passed through has an egress named port, which Cilium enforces"
        " differently from Calico: that ports entry is left out of the copy (fails closed).",
        "Calico resolves a named port to the (address, port) pairs of the endpoints declaring it, so"
        " each destination pod is allowed on its own port only (docs/reference/semantics.md §1.4). Cilium resolves an"
        " egress named port to one number for the whole cluster (pkg/endpoint/policy.go GetNamedPort:"
        ' "egress needs named ports of all the pods") and allows it towards every peer of the rule,'
        " pods without that port and addresses outside the cluster included; where pods declare the"
        " name with different numbers it allows nothing (ErrDuplicateNamedPorts). No companion policy"
        " can correct this, so the copy of the NetworkPolicy in the output fails closed: the named"
        " ports entry is left out, and the whole rule when it was the rule's only entry (a rule with"
        " no ports allows every port). The policy still selects its pods, so Cilium denies what that"
        " entry allowed unless another rule allows it, and never allows more (exit 1, output"
        " written). Write the port numbers instead, with a `to` selector for the pods that serve"
        " them. A Calico rule with an egress named port fails closed the same way (C2C303).",
        failing="apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: scrape\n"
        "  namespace: monitoring\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n"
        "  - ports:\n    - port: metrics\n",
        passing="apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: scrape\n"
        "  namespace: monitoring\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n"
        "  - ports:\n    - port: 9090\n",
    ),
    CodeDoc(
        "C2C340",
        "endpoint-to-host-assumed",
        Severity.INFO,
        "Felix's defaultEndpointToHostAction was not stated; Accept is assumed.",
        "Felix's DefaultEndpointToHostAction decides a pod's traffic to its own node after the pod's"
        " egress policy allowed it (felix rules/static.go, workload-to-host chain): Drop, Return or"
        " Accept. It is a FelixConfiguration setting (or the calico-node env"
        " FELIX_DEFAULTENDPOINTTOHOSTACTION), not in the policy input. The calico.yaml manifest, its"
        " Helm chart and the Tigera operator all set ACCEPT, so Accept is assumed: the pod's egress"
        " policy alone decides, as in Cilium (entity host). Felix's built-in default is Drop; a"
        " cluster running Felix without those settings drops that traffic, and the output would allow"
        " it. State the value with --endpoint-to-host-action or defaultEndpointToHostAction in"
        " --cluster-config (convert(endpoint_to_host_action=...) or Cluster(endpoint_to_host_action=...)"
        " in the library).",
        failing=_GOOD,
        passing=_GOOD,
        passing_flags=(("--endpoint-to-host-action", "Accept"),),
    ),
    CodeDoc(
        "C2C341",
        "endpoint-to-host-drop-unsupported",
        Severity.ERROR,
        "defaultEndpointToHostAction Drop has no Cilium form before Cilium 1.16.",
        "With Drop, Calico drops every pod's traffic to its own node whatever the policy says. The"
        " exact Cilium form is a CiliumClusterwideNetworkPolicy selecting every pod with"
        " egressDeny to entity host and enableDefaultDeny {egress: false}, so that it puts no pod in"
        " default deny; enableDefaultDeny needs Cilium 1.16. For an older target the conversion is an"
        " error (nothing is written without --allow-partial); what is written fails closed: the"
        " policy without enableDefaultDeny, which also puts every pod in egress default deny, so"
        " the egress of pods that no converted policy allows is denied too. (The library's"
        " convert(quarantine=False) leaves the policy out instead, and the output then allows pod"
        " to own node traffic wherever the egress policies allow it.)",
        failing=_GOOD,
        failing_flags=(("--endpoint-to-host-action", "Drop"), ("--cilium-version", "1.15")),
        passing=_GOOD,
        passing_flags=(("--endpoint-to-host-action", "Drop"), ("--cilium-version", "1.16")),
    ),
    CodeDoc(
        "C2C344",
        "endpoint-to-host-drop-needs-non-default-deny",
        Severity.INFO,
        "The Drop policy relies on Cilium's enable-non-default-deny-policies agent setting (on by default).",
        "The policy that carries defaultEndpointToHostAction Drop selects every pod with"
        " enableDefaultDeny {egress: false}, so that it denies pod to own node traffic without putting"
        " any pod in default deny. From Cilium 1.17 the agent flag enable-non-default-deny-policies"
        " (Helm enableNonDefaultDenyPolicies, default true) decides whether such policies are honoured;"
        " set to false, Cilium treats the policy as default-deny and pods without an egress policy lose"
        " all egress (cilium pkg/k8s/apis/cilium.io/utils/utils.go; docs/reference/semantics.md §2.4).",
        failing=_GOOD,
        failing_flags=(("--endpoint-to-host-action", "Drop"), ("--cilium-version", "1.17")),
        passing=_GOOD,
        passing_flags=(("--endpoint-to-host-action", "Drop"), ("--cilium-version", "1.16")),
    ),
    CodeDoc(
        "C2C380",
        "open-policy-needs-non-default-deny",
        Severity.INFO,
        "Policies that end in a rule matching every flow keep Cilium's default deny off; that relies on"
        " enable-non-default-deny-policies (on by default).",
        "A Calico policy with a rule that matches every flow (typically a final Pass: 'hand the rest"
        " on to the next tier') never lets its pods' traffic reach the end of its tier, so Calico"
        " drops nothing there. Its Deny rules are kept as Cilium deny rules in its own output policy,"
        " and that policy turns default deny off (enableDefaultDeny false, Cilium 1.16+): its pods"
        " stay open unless a deny or another policy says otherwise, as in Calico, and no profile"
        " allow is needed for them (docs/design/structure-preserving-compile.md). From Cilium 1.17"
        " the agent flag enable-non-default-deny-policies (Helm enableNonDefaultDenyPolicies, default"
        " true) decides whether such policies are honoured; set to false, Cilium puts those pods in"
        " default deny and they lose the traffic Calico passed on (docs/reference/semantics.md §2.4).",
        failing=_np(
            "  selector: all()\n  ingress:\n    - action: Deny\n      protocol: TCP\n"
            "      destination:\n        ports: [23]\n    - action: Pass\n",
            kind="GlobalNetworkPolicy",
            name="block-telnet",
        ),
        failing_flags=(("--cilium-version", "1.17"),),
        passing=_GOOD,
        passing_flags=(("--cilium-version", "1.17"),),
    ),
    CodeDoc(
        "C2C342",
        "endpoint-to-host-return",
        Severity.WARNING,
        "defaultEndpointToHostAction Return: the host's own INPUT rules decided pod to own node traffic.",
        "With Return, once a pod's egress policy allows traffic to its own node, Felix returns it to"
        " the kernel's INPUT chain (felix rules/static.go): Calico's host endpoint policy is not applied"
        " to it (the workload-to-host chain is entered before the host endpoint dispatch), but rules"
        " of other software in INPUT are. Those rules are not in the input, so the traffic is converted"
        " as with Accept: the pod's egress policy alone decides in Cilium.",
        failing=_GOOD,
        failing_flags=(("--endpoint-to-host-action", "Return"),),
        passing=_GOOD,
        passing_flags=(("--endpoint-to-host-action", "Accept"),),
    ),
    CodeDoc(
        "C2C343",
        "own-pods-to-host",
        Severity.WARNING,
        "Traffic from a node's own pods to it is never policed by its HostEndpoint in Calico, and is by"
        " Cilium's host policy.",
        "Felix sends a packet from a workload interface to the host through its workload-to-host chain,"
        " before the host endpoint dispatch (felix rules/static.go filterInputChain): the pod's egress"
        " policy and defaultEndpointToHostAction decide it, the host endpoint's ingress policy never"
        " (projectcalico/calico#7398, #7056, #5161). Cilium's host firewall enforces the host ingress"
        " policy on traffic from local pods too (cilium/cilium#13121), and no selector says 'the pods"
        " of this node'. So where the converted host ingress rules do not allow pods, the node's own"
        " pods lose access to it (with Accept or Return; with Drop Calico drops that traffic anyway and"
        " the output denies it at the pods). This is the iptables/nftables dataplanes' behaviour; Calico"
        " eBPF releases before v3.27 (projectcalico/calico#8388) applied a wildcard host endpoint's"
        " policy to pod to host traffic.",
        failing=_gnp_and_hep(
            "  selector: role == 'node'\n  ingress:\n    - action: Allow\n      protocol: TCP\n"
            "      destination:\n        ports: [443]\n",
            _DEFAULT_ALLOW,
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C350",
        "work-budget-exceeded",
        Severity.ERROR,
        "Calico's evaluation order could not be computed within the work budget: the output fails"
        " closed there.",
        "Computing what each Calico rule decides takes set differences of the policies' selectors,"
        " and selectors whose normal forms multiply (several '||' terms inside an '&&') can make that"
        " exponential; so can broad Deny rules placed after many Allows whose selectors cut across"
        " them, because Cilium has no rule order: the Deny must leave out, label combination by label"
        " combination, what those Allows allow. A Deny too large to narrow that way is absorbed"
        " instead (exact: its pods stay in default deny and it is denied only where later allows"
        " meet it). Rather than run for minutes, the conversion stops at a budget that grows with"
        " the input's size. A direction is compiled in parts, each the policies whose subjects can"
        " meet one another (Calico decides a pod by the policies selecting it alone), each part"
        " with its own budget. Where the order of a part ran out, every pod its policies select"
        " there stays in Cilium's default deny with nothing allowed in that direction (the message"
        " names the part's policies and namespaces; other parts keep their allows); where one"
        " rule's share ran out (each rule has its own budget too, and after a few costly rules a"
        " frugal one), an Allow, or what a Pass hands to the namespace profile, is left out; a Deny"
        " then leaves out what only some earlier rules allowed of it (C2C353). Either way Cilium only denies more than Calico. The message names the policy (or rule) being compiled when the budget ran out.",
        failing=_np(
            '  order: 1\n  selector: "'
            + " && ".join(f"(a{i} == 'x' || b{i} == 'y')" for i in range(5))
            + '"\n  ingress:\n    - action: Deny\n',
            kind="GlobalNetworkPolicy",
            name="one",
        )
        + "---\n"
        + _np(
            '  order: 2\n  selector: "'
            + " && ".join(f"(c{i} == 'x' || d{i} == 'y')" for i in range(5))
            # An http rule: that direction takes the region form, whose walk has the budget (the
            # structure-preserving form needs no such walk).
            + '"\n  ingress:\n    - action: Allow\n      protocol: TCP\n      http: {methods: [GET]}\n',
            kind="GlobalNetworkPolicy",
            name="two",
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C351",
        "rule-shadowed",
        Severity.WARNING,
        "A rule decides nothing: every flow it matches is decided before it.",
        "Calico evaluates first match: a rule whose traffic earlier rules or policies already"
        " decided (an Allow, a Deny, the end of an earlier tier), or sent on with an earlier Pass,"
        " never decides a flow. The conversion leaves it out and names the earlier rules that"
        " overlap it, so a rule that silently lost its effect is not carried over unnoticed.",
        failing=_np(
            "  selector: app == 'db'\n  ingress:\n    - action: Allow\n"
            "    - action: Deny\n      protocol: TCP\n"
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C352",
        "policy-shadowed",
        Severity.WARNING,
        "A policy decides nothing in a direction: all its rules are shadowed by earlier ones.",
        "Every rule of the policy matches only traffic that earlier policies (or an earlier Pass)"
        " already decided, so in Calico the policy has no effect there beyond selecting its pods."
        " Its output is kept, for the default deny of its pods, but allows nothing in that"
        " direction; the message names the rules that shadow it.",
        failing=_np("  order: 1\n  selector: all()\n  ingress:\n    - action: Allow\n", name="first")
        + "---\n"
        + _np(
            "  order: 2\n  selector: app == 'db'\n  ingress:\n    - action: Deny\n      protocol: TCP\n",
            name="second",
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C353",
        "deny-partly-narrowed",
        Severity.WARNING,
        "A Deny is denied over part of what earlier rules allowed of it: its exact form was too long.",
        "Cilium has no rule order: a deny wins over every allow. So a Calico Deny after Allows that"
        " overlap it must leave out, in Cilium, what those Allows allowed of it, and when they cut"
        " across it (other peers, other ports, other labels) each one splits it further. Where that"
        " would take more than a reviewable number of rules (and absorbing the Deny into default"
        " deny would too, because many later rules meet it), the Deny leaves out only what the"
        " earlier rules it can say briefly allowed, in Calico's order, and is denied over the rest:"
        " Cilium denies what the other, named rules allowed of the traffic it matches. It never"
        " allows more than Calico. The verifier reports the narrowed flows.",
        failing=_np(
            "  selector: all()\n  ingress:\n"
            + "".join(
                f"    - action: Allow\n      protocol: TCP\n      source:\n        selector: app == 'c{i}'\n"
                f"      destination:\n        ports: [{1000 + i}]\n"
                for i in range(40)
            )
            + "    - action: Deny\n"
            + "".join(
                f"    - action: Allow\n      protocol: UDP\n      destination:\n        ports: [{2000 + i}]\n"
                for i in range(34)
            )
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
    CodeDoc(
        "C2C370",
        "service-account-selector-not-expanded",
        Severity.INFO,
        "A service-account selector could not be expanded to names against the --inventory.",
        "Cilium sees a pod's service account only by name (io.cilium.k8s.policy.serviceaccount), not"
        " the account's labels. With --inventory, a serviceAccountSelector or serviceAccounts.selector"
        " becomes the names of the inventory's accounts it matches (a snapshot, C2C316), unless a"
        " name is matched in one namespace and not in another (the Cilium label has no namespace) or"
        " a matched name has 63 or more characters (longer than a label value). Then the selector"
        " stays as written and the rule is refused (C2C303); this note says which account stood in"
        " the way.",
        failing=_np(
            "  selector: app == 'db'\n  serviceAccountSelector: tier == 'front'\n  ingress:\n"
            "    - action: Allow\n"
        ),
        passing=_GOOD,
        failing_inventory=_SA_INVENTORY,
        passing_inventory=_SA_INVENTORY,
    ),
    CodeDoc(
        "C2C371",
        "api-server-service",
        Severity.ERROR,
        "A services match names default/kubernetes, the API server, which has no exact Cilium form.",
        "Calico matches the API server's endpoint addresses and port, as the Service's Endpoints list"
        " them. Cilium's kube-apiserver entity is built from the same Endpoints, but on a node that"
        " runs the API server the label goes to the node's host identity, so every address of that"
        " node matches (cilium/cilium#28259, which also reports the label flapping on nodes with"
        " IPv6 addresses), and the agent has lost the addresses in some releases"
        " (cilium/cilium#24502); CIDR rules do not match in-cluster API servers (cilium/cilium#20550,"
        " #33525). The rule is refused. If the wider reach is acceptable (or the control plane is"
        " managed, outside the cluster), write it by hand: egress toEntities [kube-apiserver] with"
        " toPorts on the Service's targetPort (6443 by default).",
        failing=_np(
            "  selector: app == 'operator'\n  types: [Egress]\n  egress:\n    - action: Allow\n"
            "      destination:\n        services: {name: kubernetes, namespace: default}\n"
        ),
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C388",
        "node-addresses-assumed",
        Severity.INFO,
        "Rules whose nets cover the node ranges were converted assuming nodes have no other addresses.",
        "With the node ranges given (--node-cidr, or nodeCIDRs in --cluster-config), a rule whose nets"
        " cover every address in them matches every node, and Cilium says that with the entities host"
        " and remote-node. Those are identities, not addresses: the Cilium agent gives every address a"
        " node announces (CiliumNode spec.addresses: InternalIP, ExternalIP, CiliumInternalIP) the"
        " node's identity (cilium/cilium pkg/node/manager/manager.go, NodeUpdated). Calico's nets match"
        " by address only. So the conversion is exact only if every address of every node lies inside"
        " the ranges given; a node with a second NIC, a public IP or an address of another family"
        " (an IPv6 address when only an IPv4 node range was given) is matched by the entity in Cilium"
        " and not by the nets in Calico: an Allow then allows more than Calico, a Deny denies more."
        " The run says this once, naming the rules relying on it; Allow rules, where it may widen,"
        " also get C2C389. Give every range node addresses come from (both families) with"
        " --node-cidr: a rule whose nets then cover only part of them is refused (failing closed)"
        " instead. A rule whose nets hold every address of its family (0.0.0.0/0 in an IPv4"
        " cluster) relies on nothing: Calico matches every node address with it too.",
        failing=_from_nets("Deny", "192.168.0.0/24", "    - action: Allow\n"),
        passing=_from_nets("Deny", "0.0.0.0/0"),
        failing_flags=_CLUSTER_RANGES,
        passing_flags=_CLUSTER_RANGES,
    ),
    CodeDoc(
        "C2C348",
        "plain-scalar-kubectl-reads-otherwise",
        Severity.WARNING,
        "A plain (unquoted) scalar is a string to this tool but a boolean or a number to kubectl.",
        "kubectl reads manifests with go-yaml v2 (sigs.k8s.io/yaml), which takes y, Y, n and N for"
        " booleans and 0o17, 0X1F, 0B1, 09, 1e3 or 1234e56 (a short commit hash) for numbers, where"
        " YAML 1.1 readers such as this tool's see strings. What the tool converted or verified is"
        " then not what the cluster holds: a label key so read is turned into another string"
        ' ({1e3: web} is applied as {"1000": web}; {y: web} as {"true": web}), and a value so read'
        " is no string (the API server refuses it where a string is due). In a resource the tool"
        " converts or takes cluster facts from, it is an error: the resource is not converted"
        " (quarantined with --allow-partial), since a Deny of 'ports: [0o10]' (port 8 in the"
        " cluster) read as the named port '0o10' denies nothing. Quote it ('1e3', 'y'); the"
        " tool's own output always quotes such strings.",
        failing="apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: db\n"
        "  namespace: prod\nspec:\n  podSelector:\n    matchLabels: {commit: 1234e56}\n"
        "  policyTypes: [Ingress]\n",
        passing=_GOOD,
    ),
    CodeDoc(
        "C2C389",
        "node-range-allow-may-widen",
        Severity.WARNING,
        "An Allow (or Pass) rule's nets cover the node ranges; Cilium matches every address of the nodes.",
        "The rule's nets cover every address in the node ranges given, so it matches every node, which"
        " Cilium says with the entities host and remote-node. Cilium gives those identities to every"
        " address of a node (CiliumNode spec.addresses; cilium/cilium pkg/node/manager/manager.go,"
        " NodeUpdated), while Calico's rule matches only the addresses inside its nets. If nodes have"
        " addresses outside the nets (a second NIC, a public IP, an IPv6 address when the nets are"
        " IPv4), the output allows traffic with them that Calico denied (for a Pass: the next tier"
        " decides it, where Calico's later rules in the tier did, and may allow what they denied). The"
        " conversion is exact when"
        " the node ranges given hold every node address (the assumption C2C388 states); if they do"
        " not, give the other ranges with --node-cidr too, and the rule is refused (failing closed)"
        " rather than widened. Nets holding every address of the rule's family (0.0.0.0/0 in an IPv4"
        " cluster) are exact whatever the node addresses are.",
        failing=_from_nets("Allow", "192.168.0.0/16"),
        passing=_from_nets("Allow", "0.0.0.0/0"),
        failing_flags=_CLUSTER_RANGES,
        passing_flags=_CLUSTER_RANGES,
    ),
)
