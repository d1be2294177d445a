"""C2C4xx: what ``calico2cilium verify`` reports about a Calico and a Cilium policy set.

These conditions are about a *pair* of inputs, so ``lint`` (one file) cannot show them: each code's
examples are a Calico file and a failing and a passing Cilium file (:data:`EXAMPLES`), shown in the
explanation; ``tests/test_cli_verify.py`` runs every pair through ``verify``.
"""

from __future__ import annotations

from dataclasses import dataclass

from calico2cilium.diagnostics import Severity
from calico2cilium.diagnostics.catalog import CodeDoc, indented


@dataclass(frozen=True)
class PairExample:
    """``calico2cilium verify --pod-cidr 10.0.0.0/16 --calico calico.yaml --cilium cilium.yaml``
    reports the code with ``failing`` as cilium.yaml, and does not with ``passing``."""

    calico: str
    failing: str
    passing: str


POD_CIDR = "10.0.0.0/16"

_CALICO = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: db
  namespace: prod
spec:
  selector: app == 'db'
  types: [Ingress]
  ingress:
    - action: Allow
      protocol: TCP
      source:
        selector: app == 'web'
      destination:
        ports: [80]
"""


def _cilium(
    port: str = "80", extra: str = "", api: str = "cilium.io/v2", kind: str = "CiliumNetworkPolicy"
) -> str:
    return f"""\
apiVersion: {api}
kind: {kind}
metadata:
  name: db
  namespace: prod
spec:
  endpointSelector:
    matchLabels:
      app: db
  ingress:
    - fromEndpoints:
        - matchLabels:
            app: web
      toPorts:
        - ports:
            - port: "{port}"
              protocol: TCP
{extra}"""


_L7 = """\
          rules:
            http:
              - method: GET
                host: api.example.com
"""

_CALICO_ON_CILIUM_SIDE = _CALICO.replace("name: db\n", "name: extra\n", 1)

EXAMPLES: dict[str, PairExample] = {
    "C2C401": PairExample(_CALICO, _cilium(port="8080"), _cilium()),
    "C2C402": PairExample(_CALICO, _cilium(extra=_L7), _cilium()),
    "C2C403": PairExample(_CALICO, _cilium(port="99999"), _cilium()),
    "C2C404": PairExample(_CALICO, _cilium() + "---\n" + _CALICO_ON_CILIUM_SIDE, _cilium()),
    "C2C406": PairExample(
        _CALICO, _cilium() + "---\n" + _cilium(port="8080"), _cilium() + "---\n" + _cilium()
    ),
}
"""Each code's example pair (C2C405 is about the Calico inputs: see its explanation)."""


def _shown(code: str, explanation: str) -> str:
    example = EXAMPLES.get(code)
    if example is None:
        return explanation

    return (
        f"{explanation}\n\nExample, with calico.yaml:\n{indented(example.calico)}\n"
        f"Fails (verify --pod-cidr {POD_CIDR} --calico calico.yaml --cilium cilium.yaml) with cilium.yaml:\n"
        f"{indented(example.failing)}\nPasses with cilium.yaml:\n{indented(example.passing)}"
    )


def _doc(code: str, name: str, severity: Severity, summary: str, explanation: str) -> CodeDoc:
    return CodeDoc(code, name, severity, summary, _shown(code, explanation))


CODES = (
    _doc(
        "C2C401",
        "flows-differ",
        Severity.WARNING,
        "Calico and Cilium decide a flow differently (a counterexample).",
        "The verifier found a concrete flow (source, destination, protocol, port) that one side allows"
        " and the other denies. The message names each side's verdict and the rule (or default)"
        " responsible; the position is the Cilium rule's. Fix the Cilium policy (or regenerate it"
        " with 'calico2cilium convert'), then verify again. Differences can also come from the"
        " cluster assumptions: without --pod-cidr any address may be a pod (see 'verify --help').",
    ),
    _doc(
        "C2C402",
        "outside-proof",
        Severity.WARNING,
        "A construct the verifier does not model, so equivalence is not proven (exit status 1).",
        "Some constructs are outside the proof: Cilium L7 rules other than HTTP method and path"
        " regexes (dns, kafka, http host and header matches, regex syntax beyond the modelled"
        " subset); Calico HostEndpoints with a named interface (or none: the interface of their"
        " expectedIPs), since the flow world has no interfaces; host endpoint profiles other than"
        " projectcalico-default-allow; the HostEndpoints of one node carrying different labels"
        " (which labels the node carries for Cilium's nodeSelector is then unknown); doNotTrack,"
        " preDNAT and applyOnForward policies (untracked, pre-DNAT, forwarded traffic); Kubernetes"
        " Service matches. HostEndpoints with interfaceName '*' and Cilium host policies on their"
        " nodes are verified, assuming each node carries the labels of its HostEndpoints and"
        " calico2cilium.io/node=<node>. The rest is still checked and any difference found is"
        " reported, but 'equivalent' cannot be claimed while such a construct takes part. HTTP method"
        " and path matches are compared per request on both sides (Calico's as Application Layer"
        " Policy evaluates them, Cilium's as Envoy full-string regexes), with a refused request"
        " counted as denied.",
    ),
    _doc(
        "C2C403",
        "rejected-resource",
        Severity.ERROR,
        "A resource its cluster would reject (e.g. a Cilium port that does not parse); not evaluated.",
        "A Cilium resource that the API server or the Cilium agent would reject enforces nothing, so"
        " it is not compared; fix it first. Cilium-side resources are checked against the JSON"
        " Schema of their CRD in the --cilium-version (an unknown field such as 'egres:' is an"
        " error, as kubectl's strict field validation makes it, not an ignored rule) and against"
        " the agent's own checks. Problems in Calico inputs are reported by the same checks as"
        " 'calico2cilium lint' with their own codes (C2C1xx, C2C2xx).",
    ),
    _doc(
        "C2C404",
        "calico-resource-on-cilium-side",
        Severity.ERROR,
        "A Calico resource is among the Cilium inputs (--cilium).",
        "Cilium does not enforce projectcalico.org resources: give them with --calico. (Kubernetes"
        " NetworkPolicies belong on both sides when both clusters run them: both enforce them.)",
    ),
    _doc(
        "C2C405",
        "cilium-resource-on-calico-side",
        Severity.INFO,
        "A Cilium resource is among the Calico inputs: it takes part on the Cilium side.",
        "Calico does not enforce cilium.io resources, so a CiliumNetworkPolicy found with --calico is"
        " taken as a policy already in the target cluster: it applies there next to the converted"
        " policies, and the verifier adds it to the Cilium side. The same resource given on both"
        " sides counts once. For example, 'verify --calico calico/ existing-cilium/ --cilium out/'"
        " proves that the converted policies in out/, together with the existing Cilium policies,"
        " do what the Calico policies did.",
    ),
    _doc(
        "C2C406",
        "duplicate-cilium-resource",
        Severity.ERROR,
        "Two different Cilium resources with the same kind, namespace and name.",
        "A cluster keeps one object per kind, namespace and name: applying both leaves only the last"
        " one. Which one the verifier should use is unknown, so the second is refused; rename one."
        " The same resource repeated with identical content counts once.",
    ),
    _doc(
        "C2C414",
        "narrowing-unexplained",
        Severity.WARNING,
        "convert --verify: Cilium denies a flow Calico allows, and no narrowing finding explains it"
        " (exit 4).",
        "A conversion that fails closed somewhere says so with narrowing findings (e.g. C2C303,"
        " C2C310, C2C350, C2C353), and 'convert --verify' then proves that the output allows no flow"
        " Calico denies. That alone would accept any amount of narrowing anywhere, so it also"
        " checks that each flow the output denies more is explained: with the verifier's own"
        " Calico semantics it finds the policies that select the flow's endpoint (and its"
        " HostEndpoint, and whether the namespace profile decided it), and accepts the flow only"
        " if a narrowing finding concerns one of them: the finding is positioned inside that"
        " resource (at a policy's subject selector, the policy's whole namespace), or is a C2C350"
        " naming it (a C2C350 of a whole direction, or naming only part of its policies, concerns"
        " every subject of that direction), or is a FelixConfiguration's (host subjects), or has no"
        " position and names no resource (the traffic the profiles allow). The flows a finding explains are then left out and the question is asked again."
        " A narrowed flow that nothing explains is reported with this code, the flow and the Calico"
        " rule that allowed it: the output denies traffic the diagnostics do not say it denies,"
        " which is a converter bug (or a hand-edited output), and the run exits 4 like any"
        " unexplained difference, writing nothing without --allow-partial. See"
        " docs/fail-closed.md.",
    ),
    _doc(
        "C2C415",
        "narrowing-not-all-attributed",
        Severity.WARNING,
        "convert --verify: the narrowing of one decision point was not all attributed to findings.",
        "Each narrowed flow is attributed to a narrowing finding; then everything the findings"
        " explain at that decision point (a partition of the subjects, or a host subject) is left"
        " out and the solver is asked whether any narrowed flow is left (see C2C414). When the"
        " solver gives up on that question within its CPU budget (or, as a safety net, after 6"
        " questions), the rest is not attributed. The output still allows nothing Calico denies"
        " (that is proven), but some of what it denies more may be unexplained: this warning says"
        " so instead of accepting it silently. Fewer policies per set of pods, or simpler"
        " selectors, help the solver.",
    ),
)
