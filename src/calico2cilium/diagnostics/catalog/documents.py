"""C2C2xx: documents that are read but are not valid resources of a kind we convert."""

from __future__ import annotations

from calico2cilium.diagnostics import Severity
from calico2cilium.diagnostics.catalog import CodeDoc


def _gnp(spec: str, name: str = "example") -> str:
    """A GlobalNetworkPolicy with ``spec`` (indented by two spaces already)."""
    return f"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: {name}\nspec:\n{spec}"


_GOOD_RULE = "  selector: app == 'web'\n  ingress:\n    - action: Allow\n      protocol: TCP\n      destination:\n        ports: [80]\n"

CODES = (
    CodeDoc(
        "C2C201",
        "not-a-resource",
        Severity.ERROR,
        "A YAML document (or a list item) is not a mapping, so it cannot be a Kubernetes resource.",
        "Each document must be a mapping with apiVersion, kind and metadata. A top-level list of such"
        " mappings is accepted (as calicoctl does), and so are kind: List and *List documents.",
        failing="- just\n- strings\n",
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C202",
        "unknown-kind",
        Severity.ERROR,
        "The document's apiVersion/kind is not one this tool reads.",
        "Inputs are Calico projectcalico.org/v3 or crd.projectcalico.org/v1 GlobalNetworkPolicy,"
        " NetworkPolicy, HostEndpoint, NetworkSet, GlobalNetworkSet and Tier, and Kubernetes"
        " networking.k8s.io/v1 NetworkPolicy. Anything else is reported rather than silently skipped,"
        " so that a misspelt kind never drops a policy.",
        failing="apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicyy\nmetadata:\n  name: x\nspec: {}\n",
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C203",
        "unsupported-kind",
        Severity.ERROR,
        "A Calico kind that this tool knows but does not convert (e.g. Profile).",
        "The kind can change what traffic is allowed, but there is no conversion for it; convert its"
        " effect by hand and keep it out of the input.",
        failing="apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata:\n  name: x\nspec: {}\n",
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C204",
        "staged-policy-skipped",
        Severity.WARNING,
        "A staged policy (StagedGlobalNetworkPolicy, StagedNetworkPolicy, StagedKubernetesNetworkPolicy)"
        " was skipped.",
        "Staged policies are not enforced by Calico: they only report what they would do. Skipping"
        " them keeps the traffic exactly as it is; promote the policy first if it should be enforced.",
        failing="apiVersion: projectcalico.org/v3\nkind: StagedGlobalNetworkPolicy\nmetadata:\n  name: x\n"
        "spec:\n  selector: all()\n",
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C205",
        "missing-type-meta",
        Severity.ERROR,
        "The document has no apiVersion or kind (or they are not strings).",
        "Every resource must say what it is. Items of a typed list (e.g. NetworkPolicyList) inherit"
        " them from the list. A document with an apiVersion and items but no kind is taken for a"
        " kubectl List export cut short (kubectl writes 'kind: List' after the items): its items are"
        " not converted, since the last may have lost its end, and --allow-partial quarantines the"
        " policies among them.",
        failing="metadata:\n  name: x\nspec: {}\n",
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C210",
        "unknown-field",
        Severity.ERROR,
        "A field that the kind does not have.",
        "Usually a typo ('egres:', 'notnets:'). Kubernetes would ignore or reject it; either way the"
        " rules in it would not apply, so it is an error here.",
        failing=_gnp(_GOOD_RULE + "  egres:\n    - action: Deny\n"),
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C211",
        "invalid-selector",
        Severity.ERROR,
        "A selector expression does not parse in Calico's selector language.",
        "The column points into the expression. Remember: '==' not '=', '&&' not 'and', quotes around"
        " values, no newline inside a selector.",
        failing=_gnp(_GOOD_RULE.replace("app == 'web'", "app = 'web'")),
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C212",
        "wrong-type",
        Severity.ERROR,
        "A field has the wrong type (a string where a number is expected, a mapping for a list...).",
        "Values are never coerced when that could change their meaning.",
        failing=_gnp("  order: ten\n" + _GOOD_RULE),
        passing=_gnp("  order: 10\n" + _GOOD_RULE),
    ),
    CodeDoc(
        "C2C213",
        "missing-field",
        Severity.ERROR,
        "A required field is missing.",
        "For example a rule without 'action', or a resource without metadata.name.",
        failing=_gnp(_GOOD_RULE.replace("    - action: Allow\n      protocol", "    - protocol")),
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C214",
        "invalid-cidr",
        Severity.ERROR,
        "A CIDR in nets/notNets (or a similar field) is not a valid network.",
        "Write a prefix: '10.0.0.0/8', '192.0.2.7/32', '2001:db8::/32'.",
        failing=_gnp(_GOOD_RULE + "      source:\n        nets: [10.0.0.300/8]\n"),
        passing=_gnp(_GOOD_RULE + "      source:\n        nets: [10.0.0.0/8]\n"),
    ),
    CodeDoc(
        "C2C215",
        "invalid-port",
        Severity.ERROR,
        "A port is out of range, a range is reversed, or a named port is malformed.",
        "Ports are 1–65535 (Calico's validatePort), ranges are 'min:max' with min ≤ max. A named"
        " port must parse (^[a-zA-Z0-9_.-]{1,128}$, numorstring PortFromString) and then pass"
        " Calico's validator, which checks numorstring.Port's PortName with the 'portName' tag"
        " (validatePortName: Kubernetes IsValidPortName, an IANA service name: at most 15 lower-case"
        " letters, digits and '-', with a letter), so 'http_alt' and 'Metrics' are rejected by Calico"
        " itself.",
        failing=_gnp(_GOOD_RULE.replace("ports: [80]", "ports: ['9000:80']")),
        passing=_gnp(_GOOD_RULE.replace("ports: [80]", "ports: ['80:9000']")),
    ),
    CodeDoc(
        "C2C216",
        "invalid-protocol",
        Severity.ERROR,
        "A protocol is neither one of TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite nor a number 1–255.",
        "Protocol names are case-sensitive in Calico.",
        failing=_gnp(_GOOD_RULE.replace("protocol: TCP", "protocol: tcp")),
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C217",
        "invalid-icmp",
        Severity.ERROR,
        "An ICMP type or code is out of range, or a code is given without a type.",
        "type is 0–254, code 0–255, and code requires type.",
        failing=_gnp("  ingress:\n    - action: Allow\n      protocol: ICMP\n      icmp:\n        code: 0\n"),
        passing=_gnp(
            "  ingress:\n    - action: Allow\n      protocol: ICMP\n      icmp:\n        type: 8\n        code: 0\n"
        ),
    ),
    CodeDoc(
        "C2C218",
        "invalid-label",
        Severity.ERROR,
        "A label key or value does not follow Kubernetes label syntax.",
        "Keys are an optional DNS-subdomain prefix and '/', then a name of at most 63 characters;"
        " values are at most 63 characters of [A-Za-z0-9_.-], starting and ending alphanumeric.",
        failing="apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: x\n  labels:\n"
        "    role: 'bad value!'\nspec:\n  nets: [192.0.2.0/24]\n",
        passing="apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: x\n  labels:\n"
        "    role: good-value\nspec:\n  nets: [192.0.2.0/24]\n",
    ),
    CodeDoc(
        "C2C219",
        "invalid-order",
        Severity.ERROR,
        "A policy or tier order is not a finite number.",
        "order decides evaluation order; NaN or infinity has no defined place.",
        failing=_gnp("  order: .nan\n" + _GOOD_RULE),
        passing=_gnp("  order: 100\n" + _GOOD_RULE),
    ),
    CodeDoc(
        "C2C220",
        "invalid-rule",
        Severity.ERROR,
        "A rule combines fields in a way Calico's validator rejects.",
        "For example numeric ports without protocol TCP/UDP/SCTP, icmp without protocol ICMP/ICMPv6,"
        " nets of the wrong IP family for ipVersion, or http on a Deny rule. Calico would refuse the"
        " policy, so it has no traffic meaning to convert.",
        failing=_gnp(_GOOD_RULE.replace("      protocol: TCP\n", "")),
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C221",
        "invalid-name",
        Severity.ERROR,
        "metadata.name is missing or not a valid Kubernetes object name.",
        "Names are lower-case DNS subdomains: [a-z0-9] with '-' and '.', at most 253 characters.",
        failing=_gnp(_GOOD_RULE, name="Bad_Name"),
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C222",
        "schema-violation",
        Severity.ERROR,
        "The document breaks the official CRD schema of its kind in a way not reported more precisely.",
        "The schemas are derived from the upstream CRD definitions (see schemas/README.md), e.g."
        " limits on list lengths and string lengths.",
    ),
    CodeDoc(
        "C2C223",
        "invalid-value",
        Severity.ERROR,
        "A field has a value outside its allowed set (e.g. action: Accept, types: [Inbound]).",
        "The message lists the values the field accepts.",
        failing=_gnp(_GOOD_RULE.replace("action: Allow", "action: Accept")),
        passing=_gnp(_GOOD_RULE),
    ),
    CodeDoc(
        "C2C224",
        "duplicate-resource",
        Severity.ERROR,
        "The same resource (kind, namespace, name) appears more than once in the input, with different content.",
        "Applying both would keep only the last one; which one the cluster holds is unknown, so neither"
        " is converted and the run writes nothing (exit 2). Copies with the same content (a v3 and a"
        " crd v1 export of one policy) are one resource, converted once (C2C225).",
        failing=_gnp(_GOOD_RULE) + "---\n" + _gnp(_GOOD_RULE.replace("80", "81")),
        passing=_gnp(_GOOD_RULE) + "---\n" + _gnp(_GOOD_RULE, name="another"),
    ),
    CodeDoc(
        "C2C230",
        "enterprise-field",
        Severity.ERROR,
        "A field of Calico Enterprise (or Calico Cloud), not of Calico Open Source: a rule's"
        " 'domains', a network set's 'allowedEgressDomains'.",
        "Tigera's commercial product adds DNS-name egress rules; this tool converts Calico Open Source"
        " and refuses the document rather than drop the field. Cilium's form is toFQDNs"
        " (matchName/matchPattern) with a DNS rule (toPorts rules.dns) so that Cilium's DNS proxy sees"
        " the lookups; which lookups and which DNS server to allow is yours to decide, so write that"
        " rule by hand and convert the rest without the field. Sources: docs.tigera.io, Calico"
        " Enterprise 'DNS policy' and the GlobalNetworkSet reference.",
        failing=_gnp(
            "  selector: app == 'web'\n  egress:\n    - action: Allow\n      destination:\n"
            "        domains: [api.example.com]\n"
        ),
        passing=_gnp(
            "  selector: app == 'web'\n  egress:\n    - action: Allow\n      destination:\n"
            "        nets: [203.0.113.0/24]\n"
        ),
    ),
)
