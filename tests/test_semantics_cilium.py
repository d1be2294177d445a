"""Cilium semantics, one behaviour per test, each citing its source.

Sources: docs/reference/semantics.md (§2.x) and docs/reference/semantics-check.md (claims, deviations E1-E14),
which name the Cilium files they were read from.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.cilium import read_cilium_side
from calico2cilium.semantics.views import cilium_identity_label
from calico2cilium.semantics.world import ICMP, ICMPV6, SCTP, TCP, UDP, Assumptions, Endpoint, Flow

SHARED = Path(__file__).resolve().parents[2] / "shared"
A = Assumptions()


def pod(ns: str = "app", ip: str = "10.0.0.2", **labels: str) -> Endpoint:
    return Endpoint("pod", ipaddress.ip_address(ip), namespace=ns, labels=labels, name="p")


def other(kind: str, ip: str = "203.0.113.9", apiserver: bool = False) -> Endpoint:
    return Endpoint(kind, ipaddress.ip_address(ip), apiserver=apiserver)  # type: ignore[arg-type]


SUBJECT = pod("app", "10.0.0.1", app="web")


def decide(
    yaml_text: str,
    peer: Endpoint,
    direction: str = "ingress",
    protocol: int = TCP,
    port: int = 80,
    subject: Endpoint = SUBJECT,
    assumptions: Assumptions = A,
    icmp_type: int = 0,
) -> bool:
    side = read_cilium_side(read_documents(yaml_text, "k.yaml")[0], assumptions)
    assert not side.invalid, side.invalid
    program = side.programs[direction]  # type: ignore[index]
    assert not program.unsupported, program.unsupported
    flow = Flow(
        direction, subject, peer, protocol, port if protocol in (TCP, UDP, SCTP) else 0, 1234, icmp_type
    )  # type: ignore[arg-type]
    verdict = program.decide(flow)
    # The formula reading must agree with the structural reading on every case.
    from calico2cilium.semantics.world import evaluate

    assert evaluate(program.verdict(), flow) == verdict.allowed
    return verdict.allowed


def invalid(yaml_text: str, assumptions: Assumptions = A) -> str:
    side = read_cilium_side(read_documents(yaml_text, "k.yaml")[0], assumptions)
    assert side.invalid, "expected the policy to be refused"
    return side.invalid[0].message


def cnp(body: str, ns: str = "app", kind: str = "CiliumNetworkPolicy") -> str:
    meta = f"{{name: p, namespace: {ns}}}" if kind == "CiliumNetworkPolicy" else "{name: p}"
    return f"apiVersion: cilium.io/v2\nkind: {kind}\nmetadata: {meta}\nspec:\n  endpointSelector: {{matchLabels: {{app: web}}}}\n{body}"


def test_no_policy_allows() -> None:
    # docs/reference/semantics.md §2.4: an endpoint is unrestricted until some rule selects it.
    assert decide(cnp("  egress: [{toEntities: [world]}]"), pod(role="x"))


def test_empty_rule_allows_nothing_but_turns_default_deny_on() -> None:
    # docs/reference/semantics-check.md claim 3: `- {}` allows nothing; default deny counts len(Ingress) > 0.
    assert not decide(cnp("  ingress: [{}]"), pod(role="x"))


def test_empty_ingress_list_does_not_turn_default_deny_on() -> None:
    # E2 / claim 4: default deny needs a *non-empty* list.
    assert decide(cnp("  ingress: []\n  egress: [{}]"), pod(role="x"))


def test_empty_peer_list_selects_nothing_even_with_ports() -> None:
    # E1: a non-nil empty `fromEndpoints: []` selects nothing.
    body = "  ingress:\n  - fromEndpoints: []\n    toPorts: [{ports: [{port: '80', protocol: TCP}]}]"
    assert not decide(cnp(body), other("world"))


def test_l4_only_rule_matches_every_peer() -> None:
    # claim 3: with only toPorts the peer is the wildcard (world and host too).
    body = "  ingress:\n  - toPorts: [{ports: [{port: '80', protocol: TCP}]}]"
    assert decide(cnp(body), other("world"))
    assert decide(cnp(body), other("remote-node", "192.168.0.5"))
    assert not decide(cnp(body), other("world"), port=81)


def test_cnp_peer_selector_gets_the_policy_namespace() -> None:
    # docs/reference/semantics.md §2.1 / claim 1: fromEndpoints without a namespace key is pinned to the policy ns.
    body = "  ingress: [{fromEndpoints: [{matchLabels: {role: fe}}]}]"
    assert decide(cnp(body), pod("app", role="fe"))
    assert not decide(cnp(body), pod("other", role="fe"))


def test_cnp_namespace_label_key_escapes_injection_from_1_16_only() -> None:
    # claim 1 / E13: the namespace-labels exception is commit b35017b01c (1.16); 1.15 always injects.
    body = "  ingress: [{fromEndpoints: [{matchLabels: {k8s:io.cilium.k8s.namespace.labels.team: a}}]}]"
    peer = Endpoint(
        "pod", ipaddress.ip_address("10.0.0.9"), namespace="other", namespace_labels={"team": "a"}
    )
    assert decide(cnp(body), peer, assumptions=Assumptions(cilium_version=(1, 16)))
    assert not decide(cnp(body), peer, assumptions=Assumptions(cilium_version=(1, 15)))


def test_ccnp_peer_selector_requires_a_pod_namespace() -> None:
    # claim 1: CCNP adds `io.kubernetes.pod.namespace Exists`, so `{}` means every pod, not world.
    body = "  ingress: [{fromEndpoints: [{}]}]"
    text = cnp(body, kind="CiliumClusterwideNetworkPolicy")
    assert decide(text, pod("any-ns"))
    assert not decide(text, other("world"))


def test_negative_only_selector_matches_world_until_1_19() -> None:
    # semantics-check "Further findings" / E7: NotIn on the pod namespace suppresses the injected
    # Exists, so the selector also matches world identities (<= 1.18); 1.19 pins the local cluster.
    body = "  ingress: [{fromEndpoints: [{matchExpressions: [{key: io.kubernetes.pod.namespace, operator: NotIn, values: [kube-system]}]}]}]"
    text = cnp(body, kind="CiliumClusterwideNetworkPolicy")
    assert decide(text, other("world"), assumptions=Assumptions(cilium_version=(1, 18)))
    assert not decide(text, other("world"), assumptions=Assumptions(cilium_version=(1, 19)))


def test_reserved_selector_is_not_injected() -> None:
    # claim 1: selectors with reserved: keys are left untouched.
    body = "  ingress: [{fromEndpoints: [{matchLabels: {reserved:host: ''}}]}]"
    assert decide(
        cnp(body), other("host", "192.168.0.1"), assumptions=Assumptions(cilium_local_host_allowed=False)
    )


def test_notin_matches_pods_without_the_label() -> None:
    # docs/reference/semantics.md §2.2: NotIn holds when the key is absent (Requirement.Matches).
    body = "  ingress: [{fromEndpoints: [{matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}]}]"
    assert decide(cnp(body), pod())
    assert not decide(cnp(body), pod(tier="db"))


def test_filtered_labels_are_not_identity_labels() -> None:
    # E8 / claim 2: pod-template-hash, kubernetes.io/*, ... are dropped from identities.
    assert not cilium_identity_label("pod-template-hash")
    assert not cilium_identity_label("kubernetes.io/hostname")
    assert not cilium_identity_label("statefulset.kubernetes.io/pod-name")
    assert cilium_identity_label("app.kubernetes.io/name")
    assert cilium_identity_label("app")
    body = "  ingress: [{fromEndpoints: [{matchLabels: {pod-template-hash: abc}}]}]"
    assert not decide(cnp(body), pod(**{"pod-template-hash": "abc"}))


def test_cidr_rules_never_match_pods_or_nodes_by_default() -> None:
    # claim 6: CIDR rules match only non-cluster addresses (nodes with policy-cidr-match-mode=nodes).
    body = "  ingress: [{fromCIDR: [0.0.0.0/0]}]"
    assert decide(cnp(body), other("world"))
    assert not decide(cnp(body), pod(ip="10.0.0.7"))
    node = other("remote-node", "192.168.0.5")
    assert not decide(cnp(body), node)
    nodes = Assumptions(policy_cidr_match_nodes=True, ip_families=(4,))
    assert decide(cnp(body), node, assumptions=nodes)


def test_cidr_set_except() -> None:
    # docs/reference/semantics.md §2.3: cidr with except.
    body = "  ingress: [{fromCIDRSet: [{cidr: 203.0.113.0/24, except: [203.0.113.0/28]}]}]"
    assert decide(cnp(body), other("world", "203.0.113.99"))
    assert not decide(cnp(body), other("world", "203.0.113.9"))


def test_cidr_groups_by_ref_and_selector() -> None:
    # claim 9: cidrGroupRef (1.14) and cidrGroupSelector (1.17) pick CiliumCIDRGroups; except applies.
    group = "apiVersion: cilium.io/v2\nkind: CiliumCIDRGroup\nmetadata: {name: g, labels: {zone: x}}\nspec: {externalCIDRs: [198.51.100.0/24]}\n---\n"
    by_ref = group + cnp("  ingress: [{fromCIDRSet: [{cidrGroupRef: g}]}]")
    by_sel = group + cnp(
        "  ingress: [{fromCIDRSet: [{cidrGroupSelector: {matchLabels: {zone: x}}, except: [198.51.100.0/30]}]}]"
    )
    assert decide(by_ref, other("world", "198.51.100.7"))
    assert decide(by_sel, other("world", "198.51.100.7"))
    assert not decide(by_sel, other("world", "198.51.100.1"))
    missing = cnp("  ingress: [{fromCIDRSet: [{cidrGroupRef: absent}]}]")
    assert not decide(missing, other("world", "198.51.100.7"))
    assert "1.17" in invalid(by_sel, Assumptions(cilium_version=(1, 16)))


@pytest.mark.parametrize(
    ("entity", "peer", "expected"),
    [
        ("world", other("world"), True),
        ("world", pod(), False),
        ("cluster", pod("elsewhere"), True),
        ("cluster", other("remote-node", "192.168.0.3"), True),
        ("cluster", other("world"), False),
        ("cluster", other("world", apiserver=True), True),  # claim 7: cluster includes kube-apiserver
        ("host", other("host", "192.168.0.1"), True),
        ("host", other("remote-node", "192.168.0.2"), False),
        ("remote-node", other("remote-node", "192.168.0.2"), True),
        ("kube-apiserver", other("remote-node", "192.168.0.2", apiserver=True), True),
        ("all", other("world"), True),
        ("health", other("world"), False),
    ],
)
def test_entities(entity: str, peer: Endpoint, expected: bool) -> None:
    # claim 7 / docs/reference/semantics.md §2.3 (entity.go).
    body = f"  egress: [{{toEntities: [{entity}]}}]"
    assert decide(cnp(body), peer, direction="egress") is expected


def test_port_zero_is_every_port_of_the_protocol() -> None:
    # claim 8: port "0" = all ports of that protocol.
    body = "  ingress: [{toPorts: [{ports: [{port: '0', protocol: UDP}]}]}]"
    assert decide(cnp(body), pod(), protocol=UDP, port=5353)
    assert not decide(cnp(body), pod(), protocol=TCP, port=5353)


def test_any_protocol_is_tcp_udp_sctp_only() -> None:
    # E12 / claim 8: ANY (or no protocol) = TCP, UDP, SCTP; never ICMP.
    body = "  ingress: [{toPorts: [{ports: [{port: '53'}]}]}]"
    assert decide(cnp(body), pod(), protocol=SCTP, port=53)
    assert not decide(cnp(body), pod(), protocol=ICMP)
    assert not decide(cnp(body), pod(), protocol=47)


def test_l3_only_rule_allows_every_protocol() -> None:
    # claim 8: an L3-only rule allows every IP protocol, ICMP included.
    body = "  ingress: [{fromEntities: [all]}]"
    assert decide(cnp(body), pod(), protocol=47)
    assert decide(cnp(body), pod(), protocol=ICMP, icmp_type=8)


def test_end_port_ranges_and_the_single_port_case() -> None:
    # E5: endPort gives an inclusive range; endPort <= port means the single port.
    ranged = "  ingress: [{toPorts: [{ports: [{port: '8000', endPort: 8080, protocol: TCP}]}]}]"
    assert decide(cnp(ranged), pod(), port=8080)
    assert not decide(cnp(ranged), pod(), port=8081)
    backwards = "  ingress: [{toPorts: [{ports: [{port: '8000', endPort: 10, protocol: TCP}]}]}]"
    assert decide(cnp(backwards), pod(), port=8000)
    assert not decide(cnp(backwards), pod(), port=9)
    assert "1.16" in invalid(cnp(ranged), Assumptions(cilium_version=(1, 15)))


def test_to_ports_item_without_ports_allows_nothing() -> None:
    # E4: a toPorts item with no ports adds no port filter, so nothing is allowed.
    body = "  ingress: [{fromEntities: [all], toPorts: [{}]}]"
    assert not decide(cnp(body), pod())


def test_port_entry_without_port_is_refused() -> None:
    # E3 / claim 8: "Port must be specified".
    assert "Port must be specified" in invalid(cnp("  ingress: [{toPorts: [{ports: [{protocol: TCP}]}]}]"))


def test_icmps_with_to_ports_and_two_peer_kinds_are_refused() -> None:
    # E14: rule_validation.go rejects icmps+toPorts and two non-empty L3 peer kinds.
    both = "  ingress: [{icmps: [{fields: [{type: 8}]}], toPorts: [{ports: [{port: '80'}]}]}]"
    assert "icmps" in invalid(cnp(both))
    kinds = "  ingress: [{fromEndpoints: [{}], fromCIDR: [10.0.0.0/8]}]"
    assert "combining" in invalid(cnp(kinds))


def test_icmp_type_names_per_family() -> None:
    # E6: names are mapped per family (icmp.go); IPv6 EchoRequest is 128.
    body = "  ingress: [{icmps: [{fields: [{type: EchoRequest, family: IPv6}, {type: EchoRequest}]}]}]"
    v6 = pod(ip="fd00::2")
    subject6 = pod("app", "fd00::1", app="web")
    assert decide(cnp(body), v6, protocol=ICMPV6, icmp_type=128, subject=subject6)
    assert not decide(cnp(body), v6, protocol=ICMPV6, icmp_type=8, subject=subject6)
    assert decide(cnp(body), pod(), protocol=ICMP, icmp_type=8)
    assert not decide(cnp(body), pod(), protocol=ICMP, icmp_type=0)


def test_icmp_type_zero_is_a_wildcard() -> None:
    # cilium/cilium#41304 (open): type 0 becomes "port 0", which matches every ICMP type.
    body = "  ingress: [{icmps: [{fields: [{type: 0}]}]}]"
    assert decide(cnp(body), pod(), protocol=ICMP, icmp_type=8)


def test_deny_wins_over_allow_across_policies() -> None:
    # claim 5: deny takes precedence regardless of the policy that allows.
    allow = cnp("  ingress: [{fromEntities: [all]}]")
    deny = cnp("  ingressDeny: [{fromEndpoints: [{matchLabels: {role: bad}}]}]").replace("name: p", "name: q")
    assert not decide(allow + "\n---\n" + deny, pod(role="bad"))
    assert decide(allow + "\n---\n" + deny, pod(role="good"))


def test_enable_default_deny_false_only_adds_allows() -> None:
    # claim 4: enableDefaultDeny (1.16); rules with default deny off are ignored for the mode.
    body = "  enableDefaultDeny: {ingress: false}\n  ingress: [{fromEndpoints: [{matchLabels: {role: fe}}]}]"
    assert decide(cnp(body), pod(role="other"))
    assert "1.16" in invalid(cnp(body), Assumptions(cilium_version=(1, 15)))


def test_named_ports_are_the_destination_pods_and_case_folded() -> None:
    # docs/reference/semantics.md §2.3: named ports in IANA form, lower-cased.
    body = "  ingress: [{toPorts: [{ports: [{port: HTTP, protocol: TCP}]}]}]"
    subject = Endpoint(
        "pod",
        ipaddress.ip_address("10.0.0.1"),
        namespace="app",
        labels={"app": "web"},
        named_ports={"http": (TCP, 8080)},
    )
    assert decide(cnp(body), pod(), port=8080, subject=subject)
    assert not decide(cnp(body), pod(), port=80, subject=subject)


def test_egress_named_ports_are_one_number_for_the_whole_cluster() -> None:
    # pkg/endpoint/policy.go GetNamedPort: "egress needs named ports of all the pods";
    # NamedPortMultiMap.GetNamedPort (pkg/policy/types): one number, ErrDuplicateNamedPorts when
    # pods disagree, and the caller skips the entry (port 0). The number then holds towards every
    # peer of the rule, world included, whatever the peer declares.
    body = "  egress: [{toEntities: [all], toPorts: [{ports: [{port: metrics, protocol: TCP}]}]}]"
    world = other("world")

    def egress(peer: Endpoint, port: int, cluster: dict[tuple[str, int], int] | None) -> bool:
        side = read_cilium_side(read_documents(cnp(body), "k.yaml")[0], A)
        flow = Flow("egress", SUBJECT, peer, TCP, port, 1234, cluster_named_ports=cluster)
        from calico2cilium.semantics.world import evaluate

        verdict = side.programs["egress"].decide(flow).allowed
        assert evaluate(side.programs["egress"].verdict(), flow) == verdict
        return verdict

    assert egress(world, 9090, {("metrics", TCP): 9090})  # a peer with no such port at all
    assert not egress(world, 9091, {("metrics", TCP): 9090})
    declaring = Endpoint(
        "pod", ipaddress.ip_address("10.0.0.5"), namespace="app", named_ports={"metrics": (TCP, 9100)}
    )
    assert not egress(declaring, 9100, {})  # pods disagree on the number: nothing is allowed
    assert not egress(declaring, 9100, {("metrics", UDP): 9100})  # resolved for UDP only
    assert egress(declaring, 9100, None)  # the flow's pods are the whole cluster: 9100 it is


def test_cnp_subject_is_pinned_to_its_namespace_and_ccnp_is_not() -> None:
    # docs/reference/semantics.md §2.1: CNP endpointSelector always gets the policy namespace.
    body = "  ingress: [{}]"
    elsewhere = pod("other", "10.0.0.1", app="web")
    assert decide(cnp(body), pod(), subject=elsewhere)
    assert not decide(cnp(body, kind="CiliumClusterwideNetworkPolicy"), pod(), subject=elsewhere)


def test_local_host_is_allowed_in() -> None:
    # docs/reference/semantics.md §2.4: --allow-localhost (Kubernetes default) lets the node reach its pods.
    assert decide(cnp("  ingress: [{}]"), other("host", "192.168.0.1"))


def test_host_policies_are_reported_not_modelled() -> None:
    text = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: h}\nspec:\n  nodeSelector: {}\n  ingress: [{}]\n"
    side = read_cilium_side(read_documents(text, "h.yaml")[0], A)
    assert any("host" in u.reason for u in side.unsupported)


def knp(spec: str) -> str:
    return f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: k, namespace: app}}\nspec:\n  podSelector: {{matchLabels: {{app: web}}}}\n{spec}"


def test_knp_as_cilium_translates_it() -> None:
    # pkg/k8s/network_policy.go: empty `from` = every identity; ports default TCP; ipBlock -> CIDR rule.
    open_rule = knp("  ingress: [{ports: [{port: 80}]}]")
    assert decide(open_rule, other("world"))
    assert not decide(open_rule, other("world"), protocol=UDP)
    block = knp("  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}}]}]")
    assert not decide(block, pod(ip="10.0.0.9"))  # a CIDR rule never matches a pod (trap 2)
    ns_sel = knp("  ingress: [{from: [{namespaceSelector: {}}]}]")
    assert decide(ns_sel, pod("elsewhere"))
    assert not decide(ns_sel, other("world"))


def test_knp_policy_types_are_not_honoured_by_cilium() -> None:
    # E11 (decision: judge what Cilium enforces): egress rules are enforced even without Egress type.
    text = knp(
        "  policyTypes: [Ingress]\n  ingress: [{}]\n  egress: [{to: [{podSelector: {matchLabels: {role: db}}}]}]"
    )
    assert not decide(text, pod(role="other"), direction="egress")


def test_reads_every_cilium_cli_corpus_policy() -> None:
    corpus = SHARED / "corpus" / "cilium-cli"
    if not corpus.is_dir():
        pytest.skip("../shared corpus not present")
    for path in sorted(corpus.glob("*.yaml")):
        docs, problems = read_documents(path.read_text(), path.name)
        assert not problems
        side = read_cilium_side(docs, Assumptions(cilium_version=(1, 18)))
        assert not side.invalid, (path.name, [str(i) for i in side.invalid])
        for program in side.programs.values():
            for item in program.unsupported:
                assert "L7" in item.reason or "authentication" in item.reason, (path.name, item.reason)


def test_selector_with_an_invalid_value_matches_nothing() -> None:
    # cilium pkg/policy/api/selector.go labelSelectorToRequirements: NewRequirement validates every
    # value; on an error the selector is nil and "Matches() ... will refuse to match any labels".
    bad = (
        "  ingress: [{fromEndpoints: [{matchExpressions: [{key: role, operator: In, values: [fe, 'x y']}]}]}]"
    )
    assert not decide(cnp(bad), pod(role="fe"))
    good = "  ingress: [{fromEndpoints: [{matchExpressions: [{key: role, operator: In, values: [fe]}]}]}]"
    assert decide(cnp(good), pod(role="fe"))
    # An endpointSelector that matches nothing selects no pod: no default deny, ingress stays open.
    subject_bad = (
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: app}\n"
        "spec:\n  endpointSelector: {matchExpressions: [{key: tier, operator: NotIn, values: ['legacy app']}]}\n"
        "  ingress: [{fromEndpoints: [{matchLabels: {role: fe}}]}]\n"
    )
    assert decide(subject_bad, pod(role="other"))


def test_selector_with_a_key_too_long_for_cilium_matches_nothing() -> None:
    # The extended key k8s.io.cilium.k8s.namespace.labels.<k> is a qualified name whose name part is
    # at most 63 characters (cilium/cilium#43771 on 1.18, #47817): 31-character namespace label keys
    # fail, 28-character ones work.
    long_key, short_key = "compliance.classification-level", "a" * 28
    for key, works in ((long_key, False), (short_key, True)):
        body = f"  ingress: [{{fromEndpoints: [{{matchLabels: {{k8s:io.cilium.k8s.namespace.labels.{key}: pci}}}}]}}]"
        peer = Endpoint(
            "pod", ipaddress.ip_address("10.0.0.9"), namespace="app", namespace_labels={key: "pci"}
        )
        assert decide(cnp(body), peer) is works, key


def test_cidr_under_nodes_mode_takes_the_local_host_whole_or_not_at_all() -> None:
    # policy-cidr-match-mode=nodes: the local host's identity (reserved:host) carries the CIDR labels
    # of every address of the node (cilium pkg/ipcache/metadata.go updateReservedHostLabels,
    # cilium/cilium#28259), so a CIDR holding part of the node range matches traffic to all of the
    # node's addresses from its pods: such a rule is outside the proof. Remote nodes get one
    # identity per address, so a CIDR holding the whole node range, or none of it, stays exact.
    nodes = Assumptions(policy_cidr_match_nodes=True, node_cidrs=("192.168.0.0/24",), ip_families=(4,))
    host = other("host", "192.168.0.5")
    whole = "  egress: [{toCIDR: [192.168.0.0/16]}]"
    assert decide(cnp(whole), host, "egress", assumptions=nodes)
    assert not decide(cnp("  egress: [{toCIDR: [203.0.113.0/24]}]"), host, "egress", assumptions=nodes)
    part = "  egress: [{toCIDRSet: [{cidr: 192.168.0.0/16, except: [192.168.0.0/30]}]}]"
    side = read_cilium_side(read_documents(cnp(part), "k.yaml")[0], nodes)
    (unsupported,) = side.programs["egress"].unsupported
    assert "updateReservedHostLabels" in unsupported.reason
    # Without the option CIDR rules never match nodes, whatever they hold.
    default = Assumptions(node_cidrs=("192.168.0.0/24",), ip_families=(4,))
    side = read_cilium_side(read_documents(cnp(part), "k.yaml")[0], default)
    assert not side.programs["egress"].unsupported
