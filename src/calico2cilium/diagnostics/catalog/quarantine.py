"""The codes of ``--allow-partial``'s quarantines (issue 15: its output is still fail-closed).
Range C2C236-C2C239."""

from __future__ import annotations

from calico2cilium.diagnostics import Severity
from calico2cilium.diagnostics.catalog import CodeDoc

DENY_EXAMPLE = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {{name: deny-db, namespace: dev}}
spec:
  order: 10
  selector: app == 'db'
  types: [Ingress]
  ingress:
    - action: Deny
      {side}:
        selector: role == 'attacker'
"""
_PARTIAL = (("--allow-partial", ""),)
"""The examples run as ``convert --allow-partial`` (``tests/test_catalog.py``)."""
_SET = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: blocked
  labels: {{role: blocked}}
spec:
  nets: [{net}]
"""

CODES = (
    CodeDoc(
        "C2C236",
        "quarantined",
        Severity.WARNING,
        "--allow-partial: a policy that is not converted (invalid, or defined twice differently) is"
        " replaced in the output by a quarantine denying all traffic of the endpoints it could govern.",
        "With errors, convert writes nothing unless --allow-partial is given. Leaving a policy in error"
        " out of that output would fail open: its pods would no longer be governed by it, and since"
        " Cilium decides by 'some allow and no deny', another policy's allow would reach what its Deny"
        " rules denied. So the output holds, in its place, a policy of the same name with"
        " ingressDeny from and egressDeny to the entity 'all' (deny wins over every allow in Cilium)"
        " for the endpoints it could govern: its selector, namespaceSelector and"
        " serviceAccountSelector (a Kubernetes podSelector) where they can be read, each one that"
        " cannot taken as selecting everything; in its namespace (metadata.namespace, else -n), else"
        " (no -n, or a namespace that is not valid) in every namespace (a"
        " CiliumClusterwideNetworkPolicy). Both copies of a policy defined twice (C2C224) are"
        " quarantined, in one document. The directions are its types"
        " (policyTypes) when readable, else Calico's default from its rules when its spec has no"
        " unknown key, else both. A GlobalNetworkPolicy that could select HostEndpoints also closes"
        " their nodes: host default deny with only the failsafe ports allowed (C2C312). The output"
        " then allows nothing the policy could have denied, and denies those endpoints' traffic"
        " Calico would allow (a narrowing). The quarantine carries the annotations"
        " calico2cilium.io/quarantine and calico2cilium.io/source naming the document. Correct it"
        " and convert again: the corrected conversion, of the same name, replaces the quarantine"
        " ('kubectl apply --prune -l app.kubernetes.io/managed-by=calico2cilium' removes one that has"
        " no successor, as for a Kubernetes NetworkPolicy).",
        failing=DENY_EXAMPLE.format(side="sorce"),
        passing=DENY_EXAMPLE.format(side="source"),
        failing_flags=_PARTIAL,
        passing_flags=_PARTIAL,
        narrowing=True,
    ),
    CodeDoc(
        "C2C237",
        "not-quarantined",
        Severity.WARNING,
        "--allow-partial: an input in error that is not a policy, or that could not be read into"
        " resources at all, has no quarantine in the output, which may then allow more than Calico.",
        "Only a document whose kind is NetworkPolicy or GlobalNetworkPolicy can be quarantined"
        " (C2C236): its subjects are known well enough to deny them everything. A NetworkSet or"
        " GlobalNetworkSet in error leaves Deny rules that select it matching none of its nets; a"
        " HostEndpoint in error leaves its node ungoverned; a document of an unknown kind, or YAML"
        " that does not parse (no kind, no name), could be anything. The output of such a run may"
        " allow what Calico denies there: correct the input before applying it. A Tier in error needs"
        " no quarantine: its policies are then in a tier missing from the input, which the"
        " converter closes already.",
        failing=_SET.format(net="10.0.0.0/33"),
        passing=_SET.format(net="10.0.0.0/8"),
        failing_flags=_PARTIAL,
        passing_flags=_PARTIAL,
    ),
)
