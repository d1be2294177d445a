"""The codes about a run as a whole (issue 15): what was skipped from a mixed input, which copy of
a policy given twice was kept, what the output could not be written to, which assumptions the
input leaves open. Ranges C2C110-C2C119, C2C225-C2C229, C2C231-C2C232, C2C360-C2C369."""

from __future__ import annotations

from calico2cilium.diagnostics import Severity
from calico2cilium.diagnostics.catalog import CodeDoc

_GNP = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: deny-web
spec:
  selector: app == 'web'
  types: [Ingress]
  ingress:
    - action: Deny
      source:
        nets: [10.0.0.0/8]
"""
_GNP_V1 = (
    _GNP.replace("projectcalico.org/v3", "crd.projectcalico.org/v1")
    .replace("name: deny-web", "name: default.deny-web")
    .replace("spec:\n", "spec:\n  tier: default\n")
)
_SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: prod}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""
_NP = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: db
  namespace: prod
spec:
  selector: app == 'db'
  ingress:
    - action: Allow
      source:
        selector: role == 'api'
"""

CODES = (
    CodeDoc(
        "C2C110",
        "empty-cilium-side",
        Severity.INFO,
        "verify: a --cilium input holds no Cilium resource; that side has no policy there.",
        "No Cilium policy is a legitimate side to compare: a Tier-only Calico input converts to exactly"
        " that, and deleting the last policy is the most drastic change a reviewer must see. Every flow"
        " is allowed on that side, so the verdict is DIFFERENT whenever the Calico side denies anything.",
    ),
    CodeDoc(
        "C2C111",
        "output-not-written",
        Severity.ERROR,
        "convert: the output cannot be written where asked; nothing was written.",
        "Checked before anything is written: two resources whose file names in --output-dir collide"
        " (namespace 'a-b' name 'c' and namespace 'a' name 'b-c' are both cnp-a-b-c.yaml), a file name"
        " longer than the file system allows, a target that is one of the run's input files"
        " (--inventory and --cluster-config included). Standard output closed ('>&-') or full"
        " ('> /dev/full') is reported with this code too. Rename the resources, write to standard"
        " output, or choose another directory.",
    ),
    CodeDoc(
        "C2C112",
        "more-of-the-same",
        Severity.INFO,
        "Further findings of one code were counted, not printed.",
        "After 100 findings of one code, the rest are summarised in one line ('N more C2Cxxx'), so that"
        " a huge broken input does not print a million lines. The exit status and the summary count"
        " them all; past the limit they are counted, not kept, so memory does not grow with them.",
    ),
    CodeDoc(
        "C2C113",
        "output-too-large-for-apply",
        Severity.WARNING,
        "convert: an output object is too large for 'kubectl apply' without --server-side.",
        "Client-side 'kubectl apply' keeps the whole object, as JSON, in its"
        " kubectl.kubernetes.io/last-applied-configuration annotation, and the API server refuses"
        " annotations over 262,144 bytes in all ('metadata.annotations: Too long'). Reported for an"
        " output object over that size; 'kubectl apply' then fails for that object and applies the"
        " rest of the stream. Apply the output with 'kubectl apply --server-side' (or 'kubectl"
        " create'), which keep no such copy. Reported rather than shown by example: it takes an"
        " input of hundreds of kilobytes.",
    ),
    CodeDoc(
        "C2C114",
        "output-too-large-to-store",
        Severity.ERROR,
        "convert: an output object is over etcd's 1.5 MiB request limit; nothing was written.",
        "etcd refuses requests over --max-request-bytes (1.5 MiB by default), so the API server can"
        " store no larger object, however it is applied; 'kubectl apply' would apply the rest of"
        " the output, leaving this policy (its default deny and its denies) out of the cluster."
        " The object grew from Calico rules that many earlier rules narrow: split the Calico policy,"
        " or move its broad Deny rules before the Allows they overlap (a security tier). Reported"
        " rather than shown by example: it takes an input of hundreds of kilobytes.",
    ),
    CodeDoc(
        "C2C225",
        "duplicate-identical",
        Severity.INFO,
        "A resource is given twice with the same content (e.g. as v3 and as crd v1); one copy is used.",
        "Exports of both API forms (projectcalico.org/v3 and crd.projectcalico.org/v1) hold each policy"
        " twice. When the copies say the same (same spec, the tier prefix of v1 names aside), they are"
        " one policy and one is converted. Copies that differ are an error (C2C224): which one the"
        " cluster holds is unknown, and nothing is written.",
        failing=_GNP + "---\n" + _GNP_V1,
        passing=_GNP,
    ),
    CodeDoc(
        "C2C226",
        "kind-skipped",
        Severity.INFO,
        "A resource that is not network policy (Service, ConfigMap, Deployment, BGPPeer, ...) was skipped.",
        "Mixed manifests, 'kubectl get all' and calicoctl exports hold kinds that do not decide traffic."
        " They are skipped with this note naming them. Kinds that do decide traffic and are not"
        " converted (AdminNetworkPolicy, WorkloadEndpoint, a user-defined Profile) stay errors (C2C203),"
        " and a kind close to a policy kind's name stays an unknown kind (C2C202): a typo must not"
        " drop a policy silently.",
        failing=_SERVICE,
        passing=_NP,
    ),
    CodeDoc(
        "C2C227",
        "not-a-manifest",
        Severity.INFO,
        "A YAML document with neither kind nor apiVersion, found in a directory walk, was skipped.",
        "'convert -R .' meets files that are not Kubernetes manifests (.pre-commit-config.yaml, CI"
        " workflows, Helm values). A document with neither kind nor apiVersion in a file found by a"
        " directory walk is skipped with this note; in a file named on the command line it stays an"
        " error (C2C205), and so does a document with only one of the two.",
    ),
    CodeDoc(
        "C2C228",
        "cluster-fact-skipped",
        Severity.INFO,
        "An IPPool, FelixConfiguration or generated Profile was skipped; the note names the flag that"
        " carries its fact.",
        "These kinds hold cluster facts rather than policy: an IPPool's cidr is a pod range"
        " (--pod-cidr), FelixConfiguration's defaultEndpointToHostAction is --endpoint-to-host-action"
        " and its failsafe ports are taken unless a flag states them (C2C231). The profiles Calico generates"
        " for namespaces and service accounts (kns.*, ksa.*) only carry labels and allow, as the"
        " converter assumes after the last tier. A Profile with other rules stays an error (C2C203).",
        failing="apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: pods}\nspec: {cidr: 10.244.0.0/16}\n",
        passing=_NP,
    ),
    CodeDoc(
        "C2C229",
        "pod-range-from-ippool",
        Severity.INFO,
        "convert: with no --pod-cidr given, the pod ranges are taken from the input's IPPools.",
        "Calico IPAM gives pods addresses from the IPPools whose allowedUses include Workload (the"
        " default), so their cidrs are the pod ranges that Calico 'nets' rules may match. Said at each"
        " pool; --pod-cidr (or podCIDRs in --cluster-config) overrides. A pool also gives nodes their"
        " IPIP/VXLAN tunnel addresses, which are node addresses: give --pod-cidr and --node-cidr"
        " yourself where that matters.",
    ),
    CodeDoc(
        "C2C231",
        "failsafe-ports-from-felixconfiguration",
        Severity.INFO,
        "convert, verify: with no failsafe port flag given, Felix's failsafe ports are taken from the"
        " input's FelixConfigurations.",
        "Calico allows a host endpoint's failsafe ports whatever its policy says (failsafeInboundHostPorts,"
        " failsafeOutboundHostPorts); the host policies allow them explicitly (C2C322). Felix reads the"
        " setting from calico-node's environment first, then the FelixConfiguration node.<node>, then"
        " the global one, default (docs.tigera.io, 'Configuring Felix'). calico.yaml and the Tigera"
        " operator set no failsafe ports in the environment (the operator only with Calico Enterprise's"
        " AWS security-group integration), so the input's FelixConfiguration is taken. Said at the"
        " setting; --failsafe-inbound-host-ports / --failsafe-outbound-host-ports (or the same keys"
        " in --cluster-config) override it: give them where calico-node's environment sets the ports.",
    ),
    CodeDoc(
        "C2C232",
        "failsafe-port-left-out",
        Severity.WARNING,
        "A failsafe port of a FelixConfiguration in the input is left out of the host policies, which"
        " deny it.",
        "The host policies hold one failsafe list for every node, without address limits. A port that"
        " a node.<node> FelixConfiguration allows and another configuration does not (or the other way"
        " round) is left out, so that no node allows a port its own configuration does not; an entry"
        " with a net (a port allowed only to or from some addresses), or one that cannot be read, is"
        " left out too. The output fails closed: Cilium denies traffic to those ports that Calico's"
        " failsafe rules allowed. State the ports in force with --failsafe-inbound-host-ports /"
        " --failsafe-outbound-host-ports, or allow them in the host policy by hand.",
    ),
    CodeDoc(
        "C2C360",
        "namespace-assumed",
        Severity.WARNING,
        "A namespaced policy has no metadata.namespace and no -n/--namespace was given; 'default' is used.",
        "kubectl applies such a manifest to its context's namespace, which this tool cannot know. Give"
        " the namespace with -n/--namespace (as kubectl does), or write it into the manifest. Reported"
        " by the command line; the library's convert() takes default_namespace as given.",
    ),
    CodeDoc(
        "C2C365",
        "namespace-flag-mismatch",
        Severity.WARNING,
        "-n/--namespace names another namespace than a document's own metadata.namespace.",
        "The document keeps the namespace it says (the flag only fills in documents without one), so"
        " the output is not in the namespace the flag names. kubectl refuses to apply such a manifest"
        ' with -n: \'the namespace from the provided object "dev" does not match the namespace'
        ' "prod". You must pass --namespace=dev\' (k8s.io/cli-runtime, resource/visitor.go'
        " RequireNamespace). Drop the flag or correct the manifest. Reported by the command line.",
    ),
    CodeDoc(
        "C2C361",
        "export-may-be-incomplete",
        Severity.INFO,
        "Rules select network sets or host endpoints, and the input holds none: the export may be incomplete.",
        "A rule selector also matches the NetworkSets, GlobalNetworkSets and HostEndpoints whose labels"
        " it selects. Converted without them, such a rule matches no address of theirs: a Deny of a"
        " GlobalNetworkSet's nets becomes nothing. Export every kind the tool reads: 'kubectl get"
        " networkpolicies.p,globalnetworkpolicies.p,tiers.p,networksets.p,globalnetworksets.p,"
        "hostendpoints.p,ippools.p,felixconfigurations.p,networkpolicies.networking.k8s.io -A -o yaml'."
        " Reported once per run by the"
        " command line.",
    ),
)
