"""C2C41x: what ``calico2cilium diff`` reports about an old and a new policy set.

Like the verifier's codes these are about a *pair* of inputs: each code's example is an old file and
a new one that show it, and a new one that does not (:data:`EXAMPLES`), shown in the explanation;
``tests/test_cli_diff.py`` runs every pair through ``diff``.
"""

from __future__ import annotations

from dataclasses import dataclass

from calico2cilium.diagnostics import Severity
from calico2cilium.diagnostics.catalog import CodeDoc, indented


@dataclass(frozen=True)
class DiffExample:
    """``calico2cilium diff --pod-cidr 10.0.0.0/16 old.yaml new.yaml`` reports the code with
    ``failing`` as new.yaml, and does not with ``passing``."""

    old: str
    failing: str
    passing: str


POD_CIDR = "10.0.0.0/16"


def _calico(port: int = 80, action: str = "Allow") -> str:
    return f"""\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: db
  namespace: prod
spec:
  selector: app == 'db'
  types: [Ingress]
  ingress:
    - action: {action}
      protocol: TCP
      source:
        selector: app == 'web'
      destination:
        ports: [{port}]
"""


_CILIUM = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
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
            - port: "80"
              protocol: TCP
"""

_WIDER = _calico().replace("ports: [80]", "ports: [80, 8080]")

EXAMPLES: dict[str, DiffExample] = {
    "C2C410": DiffExample(_calico(), _calico(action="Deny"), _calico()),
    "C2C411": DiffExample(_calico(), _WIDER, _calico()),
    "C2C412": DiffExample(_calico(), _calico() + "---\n" + _CILIUM, _calico()),
}


def _shown(code: str, explanation: str) -> str:
    example = EXAMPLES.get(code)
    if example is None:
        return explanation

    return (
        f"{explanation}\n\nExample, with old.yaml:\n{indented(example.old)}\n"
        f"Shown (diff --pod-cidr {POD_CIDR} old.yaml new.yaml) with new.yaml:\n"
        f"{indented(example.failing)}\nNot shown with new.yaml:\n{indented(example.passing)}"
    )


def _doc(code: str, name: str, severity: Severity, summary: str, explanation: str) -> CodeDoc:
    return CodeDoc(code, name, severity, summary, _shown(code, explanation))


_REGION = (
    " The message names the region (direction, subjects, peer kind, protocol), one concrete flow of"
    " it, and the rule (or default) deciding it on each side; the position is the new side's rule."
    " Both verdicts are computed by the semantics of the engine enforcing each side: Calico's for"
    " Calico resources, Cilium's for Cilium resources."
)

CODES = (
    _doc(
        "C2C410",
        "flows-now-denied",
        Severity.WARNING,
        "Flows the old policy set allowed are denied by the new one.",
        "'calico2cilium diff' found a region of traffic that the old side allows and the new side"
        " denies: connections that work today break after the change." + _REGION,
    ),
    _doc(
        "C2C411",
        "flows-now-allowed",
        Severity.WARNING,
        "Flows the old policy set denied are allowed by the new one.",
        "'calico2cilium diff' found a region of traffic that the old side denies and the new side"
        " allows: the change opens access. Check that it is meant." + _REGION,
    ),
    _doc(
        "C2C412",
        "side-mixes-engines",
        Severity.INFO,
        "A side of 'diff' holds both Calico and Cilium policies: each engine's are compared apart.",
        "A cluster runs one of the two; a side holding both (a repository during a migration) is"
        " compared engine by engine: the Calico policies of the old side with the Calico policies"
        " of the new side by Calico's semantics, the Cilium ones with the Cilium ones by Cilium's."
        " Kubernetes NetworkPolicies take part in both. To compare a Calico set with the Cilium set"
        " replacing it, give each alone: 'diff calico/ cilium/'.",
    ),
    _doc(
        "C2C413",
        "unreadable-flow-export",
        Severity.ERROR,
        "A line of a --flows file is not a Hubble flow or a Calico flow log.",
        "'verify --flows' reads one JSON object a line: a Hubble flow ('hubble observe -o json':"
        " IP, l4, source, destination, verdict) or a Calico flow log (source_ip, source_namespace,"
        " source_labels, dest_ip, dest_port, proto, action). The line named is neither, or the file"
        " cannot be read; the other lines are still replayed.",
    ),
)
