"""Calico semantics, one behaviour per test, each citing the published behaviour it encodes.

Sources: docs/reference/semantics.md Part 1 (which cites Calico's code and docs, e.g.
felix/rules/endpoints.go, policy_sorter.go, updateprocessors/rules.go, conversion.go, and the docs
pages tiered-policy.mdx, networkpolicy.mdx, globalnetworkpolicy.mdx) and docs/reference/semantics-check.md.
"""

from __future__ import annotations

import ipaddress

from calico2cilium.io.yamlstream import read_documents
from calico2cilium.semantics.calico import read_calico_side
from calico2cilium.semantics.world import ICMP, TCP, UDP, Assumptions, Endpoint, Flow, evaluate

A = Assumptions()


def pod(ns: str = "app", ip: str = "10.0.0.2", sa: str = "default", **labels: str) -> Endpoint:
    return Endpoint(
        "pod", ipaddress.ip_address(ip), namespace=ns, labels=labels, service_account=sa, name="p"
    )


SUBJECT = pod("app", "10.0.0.1", app="web")


def verdict(
    yaml_text: str,
    peer: Endpoint,
    direction: str = "ingress",
    protocol: int = TCP,
    port: int = 80,
    subject: Endpoint = SUBJECT,
    icmp: tuple[int, int] = (0, 0),
    assumptions: Assumptions = A,
    namespaces: dict[str, dict[str, str]] | None = None,
) -> tuple[bool, str]:
    side = read_calico_side(read_documents(yaml_text, "c.yaml")[0], assumptions)
    assert not side.invalid, [str(i) for i in side.invalid]
    program = side.programs[direction]  # type: ignore[index]
    assert not program.unsupported, [str(u) for u in program.unsupported]
    flow = Flow(
        direction,
        subject,
        peer,
        protocol,
        port if protocol in (TCP, UDP) else 0,
        1234,
        *icmp,
        namespaces=namespaces or {},
    )  # type: ignore[arg-type]
    result = program.decide(flow)
    assert evaluate(program.verdict(), flow) == result.allowed  # the two readings agree
    return result.allowed, result.ref.what


def allowed(*args: object, **kwargs: object) -> bool:
    return verdict(*args, **kwargs)[0]  # type: ignore[arg-type]


def gnp(name: str, spec: str) -> str:
    return f"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n{spec}\n---\n"


def np(name: str, spec: str, ns: str = "app") -> str:
    return f"apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{spec}\n---\n"


def tier(name: str, order: int | None, action: str = "Deny") -> str:
    order_line = f"  order: {order}\n" if order is not None else ""
    return f"apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {{name: {name}}}\nspec:\n{order_line}  defaultAction: {action}\n---\n"


def test_unselected_pod_is_allowed_by_the_namespace_profile() -> None:
    # docs/reference/semantics.md §1.2 (conversion.go NamespaceToProfile): kns.<ns> allows; no policy = allow.
    assert verdict(np("x", "  selector: app == 'db'\n  ingress: [{action: Deny}]"), pod()) == (
        True,
        "namespace profile kns.<ns> (allow)",
    )


def test_end_of_tier_drop_when_no_rule_matches() -> None:
    # docs/reference/semantics.md §1.2: a tier with an applicable policy but no matching rule drops (default Deny).
    text = np("x", "  selector: app == 'web'\n  ingress: [{action: Allow, source: {selector: role == 'fe'}}]")
    assert allowed(text, pod(role="fe"))
    assert not allowed(text, pod(role="other"))


def test_types_without_rules_deny_that_direction() -> None:
    # docs/reference/semantics.md §1.1: a policy with type X and no X rules denies all X traffic.
    text = np("x", "  selector: app == 'web'\n  types: [Egress]")
    assert not allowed(text, pod(), direction="egress")
    assert allowed(text, pod(), direction="ingress")


def test_types_defaulting_by_rules() -> None:
    # docs/reference/semantics-check.md claim 14 (clientv3 defaulting): no egress rules -> [Ingress]; only egress -> [Egress].
    ingress_only = np("x", "  selector: app == 'web'\n  egress: []")
    assert not allowed(ingress_only, pod(), direction="ingress")
    assert allowed(ingress_only, pod(), direction="egress")
    egress_only = np("x", "  selector: app == 'web'\n  egress: [{action: Deny}]")
    assert allowed(egress_only, pod(), direction="ingress")
    assert not allowed(egress_only, pod(), direction="egress")
    # The v3.32+ admission policy tests presence: `egress: []` gives both types.
    both = Assumptions(calico_types_default="admission")
    assert not allowed(ingress_only, pod(), direction="egress", assumptions=both)


def test_first_match_wins_within_a_policy() -> None:
    # docs/reference/semantics.md §1.2: the first rule with a terminal action decides.
    text = np(
        "x",
        "  selector: app == 'web'\n  ingress: [{action: Allow, source: {selector: role == 'fe'}}, {action: Deny}]",
    )
    assert allowed(text, pod(role="fe"))
    assert not allowed(text, pod(role="be"))


def test_log_is_not_terminal() -> None:
    # docs/reference/semantics.md §1.2 (felix/rules/policy.go): Log continues with the next rule.
    text = np("x", "  selector: app == 'web'\n  ingress: [{action: Log}, {action: Allow}]")
    assert allowed(text, pod())


def test_policy_order_lower_first_missing_last_then_name() -> None:
    # docs/reference/semantics.md §1.2 (policy_sorter.go): order ascending, missing = +inf, ties by name.
    deny_first = np("b", "  order: 10\n  selector: app == 'web'\n  ingress: [{action: Deny}]") + np(
        "a", "  order: 20\n  selector: app == 'web'\n  ingress: [{action: Allow}]"
    )
    assert not allowed(deny_first, pod())
    no_order = np("a", "  selector: app == 'web'\n  ingress: [{action: Deny}]") + np(
        "z", "  order: 99999\n  selector: app == 'web'\n  ingress: [{action: Allow}]"
    )
    assert allowed(no_order, pod())
    ties = np("b", "  order: 5\n  selector: app == 'web'\n  ingress: [{action: Deny}]") + np(
        "a", "  order: 5\n  selector: app == 'web'\n  ingress: [{action: Allow}]"
    )
    assert allowed(ties, pod())


def test_ordering_across_network_policy_and_global_network_policy() -> None:
    # docs/reference/semantics.md §1.2: NetworkPolicy and GlobalNetworkPolicy of one tier share one order.
    text = gnp(
        "g",
        "  order: 1\n  selector: app == 'web'\n  ingress: [{action: Deny, source: {selector: role == 'bad'}}]",
    ) + np("n", "  order: 2\n  selector: app == 'web'\n  ingress: [{action: Allow}]")
    assert not allowed(text, pod(role="bad"))
    assert allowed(text, pod(role="ok"))


def test_tiers_in_order_and_pass_to_the_next_tier() -> None:
    # docs/reference/semantics.md §1.2 (endpoints.go): Pass skips the rest of the tier; tiers by order.
    text = (
        tier("security", 100)
        + gnp(
            "s",
            "  tier: security\n  selector: all()\n  ingress: [{action: Pass, source: {selector: role == 'fe'}}, {action: Deny}]",
        )
        + np(
            "d",
            "  selector: app == 'web'\n  ingress: [{action: Allow, destination: {ports: [80]}, protocol: TCP}]",
        )
    )
    assert allowed(text, pod(role="fe"))
    assert not allowed(text, pod(role="fe"), port=81)
    assert not allowed(text, pod(role="be"))


def test_pass_out_of_the_last_tier_ends_in_allow() -> None:
    # docs/reference/semantics.md §1.2 / trap 6: the profile allows after the last tier.
    text = gnp("p", "  selector: all()\n  ingress: [{action: Pass}]")
    assert allowed(text, pod())


def test_tier_default_action_pass() -> None:
    # docs/reference/semantics.md §1.2: defaultAction Pass continues with the next tier instead of dropping.
    text = tier("t", 10, "Pass") + gnp(
        "p", "  tier: t\n  selector: all()\n  ingress: [{action: Allow, source: {selector: role == 'x'}}]"
    )
    assert allowed(text, pod(role="other"))


def test_tier_without_an_applicable_policy_is_skipped() -> None:
    # docs/reference/semantics.md §1.2 + tiered-policy.mdx: no end-of-tier drop for a tier with no selecting policy.
    text = tier("t", 10) + gnp("p", "  tier: t\n  selector: app == 'db'\n  ingress: [{action: Deny}]")
    assert allowed(text, pod())


def test_tier_with_no_order_sorts_last() -> None:
    # docs/reference/semantics.md §1.2 (TierLess): a tier without order sorts after ordered ones (default = 1e6).
    text = (
        tier("late", None)
        + gnp("l", "  tier: late\n  selector: all()\n  ingress: [{action: Deny}]")
        + np("d", "  selector: app == 'web'\n  ingress: [{action: Allow}]")
    )
    assert allowed(text, pod())


def test_network_policy_selects_only_its_namespace() -> None:
    # docs/reference/semantics.md §1.1 (networkpolicyprocessor.go): selector && projectcalico.org/namespace == ns.
    text = np("x", "  selector: app == 'web'\n  ingress: [{action: Deny}]", ns="other")
    assert allowed(text, pod())


def test_rule_selector_is_namespace_scoped_but_nets_are_not() -> None:
    # docs/reference/semantics.md §1.4 consequence 1: a nets-only rule is not namespace restricted.
    sel = np("x", "  selector: app == 'web'\n  ingress: [{action: Allow, source: {selector: role == 'fe'}}]")
    assert allowed(sel, pod("app", role="fe"))
    assert not allowed(sel, pod("elsewhere", role="fe"))
    nets = np("x", "  selector: app == 'web'\n  ingress: [{action: Allow, source: {nets: [10.0.0.0/8]}}]")
    assert allowed(nets, pod("elsewhere", ip="10.9.9.9"))  # nets match pod IPs too (trap 2)


def test_not_selector_alone_in_a_network_policy_means_my_namespace_minus_x() -> None:
    # docs/reference/semantics.md §1.4 consequence 2: the namespace clause is added because notSelector is set.
    text = np(
        "x", "  selector: app == 'web'\n  ingress: [{action: Allow, source: {notSelector: role == 'bad'}}]"
    )
    assert allowed(text, pod("app", role="good"))
    assert not allowed(text, pod("app", role="bad"))
    assert not allowed(text, pod("elsewhere", role="good"))
    world = Endpoint("world", ipaddress.ip_address("203.0.113.1"))
    assert not allowed(text, world)


def test_not_selector_in_a_gnp_matches_every_other_address() -> None:
    # docs/reference/semantics.md §1.4 consequence 3: notSelector alone in a GNP also matches external IPs.
    text = gnp(
        "g", "  selector: app == 'web'\n  ingress: [{action: Allow, source: {notSelector: role == 'bad'}}]"
    )
    assert allowed(text, Endpoint("world", ipaddress.ip_address("203.0.113.1")))
    assert not allowed(text, pod(role="bad"))


def test_not_equal_matches_a_missing_label() -> None:
    # docs/reference/semantics.md §1.3 (ast.go LabelNeValueNode): `k != v` is true when k is absent.
    text = np("x", "  selector: app == 'web'\n  ingress: [{action: Allow, source: {selector: tier != 'db'}}]")
    assert allowed(text, pod())
    assert allowed(text, pod(tier="web"))
    assert not allowed(text, pod(tier="db"))


def test_gnp_namespace_selector_uses_namespace_labels() -> None:
    # docs/reference/semantics.md §1.1/1.4: namespaceSelector gets the pcns. prefix; all() = any namespaced endpoint.
    text = gnp(
        "g",
        "  namespaceSelector: env == 'prod'\n  selector: app == 'web'\n"
        "  ingress: [{action: Allow, source: {namespaceSelector: team == 'a', selector: all()}}]",
    )
    prod_subject = Endpoint(
        "pod",
        ipaddress.ip_address("10.0.0.1"),
        namespace="app",
        namespace_labels={"env": "prod"},
        labels={"app": "web"},
    )
    team_a = Endpoint("pod", ipaddress.ip_address("10.0.0.3"), namespace="t", namespace_labels={"team": "a"})
    team_b = Endpoint("pod", ipaddress.ip_address("10.0.0.4"), namespace="t", namespace_labels={"team": "b"})
    assert allowed(text, team_a, subject=prod_subject)
    assert not allowed(text, team_b, subject=prod_subject)
    assert allowed(text, team_b)  # the subject's namespace is not prod: the policy does not apply


def test_namespace_name_label() -> None:
    # docs/reference/semantics.md §1.3: pcns.projectcalico.org/name is the namespace name.
    text = gnp(
        "g",
        "  selector: app == 'web'\n  ingress: [{action: Allow, source: {namespaceSelector: projectcalico.org/name == 'ops'}}]",
    )
    assert allowed(text, pod("ops"))
    assert not allowed(text, pod("dev"))


def test_service_accounts() -> None:
    # docs/reference/semantics.md §1.4: names -> projectcalico.org/serviceaccount in {...}; selector -> pcsa. prefix.
    text = np(
        "x",
        "  selector: app == 'web'\n  ingress: [{action: Allow, source: {serviceAccounts: {names: [api]}}}]",
    )
    assert allowed(text, pod(sa="api"))
    assert not allowed(text, pod(sa="other"))
    long_name = "a" * 70  # the label is omitted for names of 63+ characters (workload_endpoint_default.go)
    assert not allowed(text.replace("[api]", f"[{long_name}]"), pod(sa=long_name))


def test_ports_ranges_not_ports_and_protocols() -> None:
    # docs/reference/semantics.md §1.4: ports are ints, "min:max" ranges or names; notPorts negate; protocol numbers.
    text = np(
        "x",
        "  selector: app == 'web'\n  ingress: [{action: Allow, protocol: TCP, destination: {ports: ['8000:8080'], notPorts: [8008]}}]",
    )
    assert allowed(text, pod(), port=8000)
    assert not allowed(text, pod(), port=8008)
    assert not allowed(text, pod(), port=8000, protocol=UDP)
    numeric = np("x", "  selector: app == 'web'\n  ingress: [{action: Allow, protocol: 17}]")
    assert allowed(numeric, pod(), protocol=UDP, port=53)


def test_icmp_type_and_code() -> None:
    # docs/reference/semantics.md §1.4: icmp {type, code}; notICMP negates.
    text = np(
        "x",
        "  selector: app == 'web'\n  ingress: [{action: Allow, protocol: ICMP, icmp: {type: 3, code: 4}}]",
    )
    assert allowed(text, pod(), protocol=ICMP, icmp=(3, 4))
    assert not allowed(text, pod(), protocol=ICMP, icmp=(3, 1))


def test_named_ports_resolve_against_the_destination_pod() -> None:
    # docs/reference/semantics.md §1.4 (rule_scanner.go): named ports resolve to the endpoints' declared ports.
    text = np(
        "x",
        "  selector: app == 'web'\n  ingress: [{action: Allow, protocol: TCP, destination: {ports: [http]}}]",
    )
    subject = Endpoint(
        "pod",
        ipaddress.ip_address("10.0.0.1"),
        namespace="app",
        labels={"app": "web"},
        named_ports={"http": (TCP, 8080)},
    )
    assert allowed(text, pod(), port=8080, subject=subject)
    assert not allowed(text, pod(), port=80, subject=subject)


def test_network_sets_are_matched_by_address() -> None:
    # docs/reference/semantics.md §1.6: a selector matching a NetworkSet matches the addresses in its nets, pods too.
    text = (
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: s, labels: {kind: partners}}\nspec: {nets: [198.51.100.0/24]}\n---\n"
        + gnp(
            "g",
            "  selector: app == 'web'\n  ingress: [{action: Allow, source: {selector: kind == 'partners'}}]",
        )
    )
    assert allowed(text, Endpoint("world", ipaddress.ip_address("198.51.100.7")))
    assert not allowed(text, Endpoint("world", ipaddress.ip_address("198.51.101.7")))


def test_global_namespace_selector_selects_global_sets_only() -> None:
    # docs/reference/semantics.md §1.3: global() becomes !has(projectcalico.org/namespace): GlobalNetworkSets, HEPs.
    text = (
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: s, labels: {a: b}}\nspec: {nets: [198.51.100.0/24]}\n---\n"
        + np(
            "x",
            "  selector: app == 'web'\n  ingress: [{action: Allow, source: {namespaceSelector: global(), selector: a == 'b'}}]",
        )
    )
    assert allowed(text, Endpoint("world", ipaddress.ip_address("198.51.100.7")))
    assert not allowed(text, pod(a="b"))


def test_namespaced_network_set_inherits_its_namespace_labels() -> None:
    # docs/reference/semantics.md §1.6 (networksetprocessor.go): namespaced sets get pcns.* labels of their namespace.
    text = (
        "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata: {name: s, namespace: ext, labels: {a: b}}\nspec: {nets: [198.51.100.0/24]}\n---\n"
        + gnp(
            "g",
            "  selector: app == 'web'\n  ingress: [{action: Allow, source: {namespaceSelector: zone == 'z1', selector: a == 'b'}}]",
        )
    )
    peer = Endpoint("world", ipaddress.ip_address("198.51.100.7"))
    assert allowed(text, peer, namespaces={"ext": {"zone": "z1"}})
    assert not allowed(text, peer, namespaces={"ext": {"zone": "z2"}})


def test_kubernetes_network_policy_sits_at_order_1000() -> None:
    # docs/reference/semantics.md §1.2 "Kubernetes NetworkPolicy inside Calico": order 1000 in the default tier.
    knp = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: k, namespace: app}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{}]\n---\n"
    before = np(
        "d",
        "  order: 999\n  selector: app == 'web'\n  ingress: [{action: Deny, source: {selector: role == 'bad'}}]",
    )
    after = np(
        "d",
        "  order: 1001\n  selector: app == 'web'\n  ingress: [{action: Deny, source: {selector: role == 'bad'}}]",
    )
    assert not allowed(knp + before, pod(role="bad"))
    assert allowed(knp + after, pod(role="bad"))


def test_kubernetes_ip_block_matches_pod_addresses() -> None:
    # docs/reference/semantics-check.md claim 11: ipBlock becomes nets with no selector, so pods in the CIDR match.
    knp = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: k, namespace: app}\nspec:\n  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}]\n"
    assert allowed(knp, pod("elsewhere", ip="10.0.0.9"))
    assert not allowed(knp, pod("elsewhere", ip="10.1.0.9"))


def test_kubernetes_policy_types_are_honoured_by_calico() -> None:
    # docs/reference/semantics-check.md claim 11: Calico honours policyTypes (egress rules without Egress are ignored).
    knp = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: k, namespace: app}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  ingress: [{}]\n  egress: [{to: [{podSelector: {matchLabels: {role: db}}}]}]\n"
    assert allowed(knp, pod(role="x"), direction="egress")


def test_local_host_to_pod_is_always_allowed() -> None:
    # docs/reference/semantics.md §1.5 (hostendpoint.mdx): host -> local workload is always allowed.
    text = np("x", "  selector: app == 'web'\n  ingress: [{action: Deny}]")
    assert allowed(text, Endpoint("host", ipaddress.ip_address("192.168.0.1")))
    assert not allowed(text, Endpoint("remote-node", ipaddress.ip_address("192.168.0.2")))


def test_services_are_reported_unsupported_and_http_is_modelled() -> None:
    text = np(
        "x",
        "  selector: app == 'web'\n  ingress: [{action: Allow, http: {methods: [GET]}}, {action: Allow, source: {services: {name: s}}}]",
    )
    side = read_calico_side(read_documents(text, "c.yaml")[0], A)
    reasons = [u.reason for u in side.programs["ingress"].unsupported]
    assert not any("http" in r for r in reasons) and any("services" in r for r in reasons)


def test_staged_policies_are_not_enforced_and_host_endpoints_are_reported() -> None:
    staged = "apiVersion: projectcalico.org/v3\nkind: StagedNetworkPolicy\nmetadata: {name: s, namespace: app}\nspec: {selector: all(), ingress: [{action: Deny}]}\n---\n"
    hep = "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h, labels: {role: node}}\nspec: {node: n1, expectedIPs: [192.168.0.9]}\n"
    assert allowed(staged, pod())
    side = read_calico_side(read_documents(staged + hep, "c.yaml")[0], A)
    assert any("host endpoint" in u.reason for u in side.unsupported)


def test_gnp_service_account_selector_rewrites_all() -> None:
    # globalnetworkpolicyprocessor.go: with serviceAccountSelector set, all() becomes
    # has(projectcalico.org/serviceaccount), a label pods with 63+ character SA names lack.
    text = gnp("g", "  serviceAccountSelector: all()\n  ingress: [{action: Deny}]")
    assert not allowed(text, pod())
    long_account = Endpoint(
        "pod", ipaddress.ip_address("10.0.0.1"), namespace="app", service_account="s" * 70
    )
    assert allowed(text, pod(), subject=long_account)


def test_host_endpoints_are_matched_as_peers_by_their_expected_ips() -> None:
    # docs/reference/semantics.md §1.4: rule selectors match host endpoints' expectedIPs.
    hep = "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h, labels: {role: node}}\nspec: {node: n1, expectedIPs: [192.168.0.9]}\n---\n"
    text = hep + gnp(
        "g", "  selector: app == 'web'\n  ingress: [{action: Allow, source: {selector: role == 'node'}}]"
    )
    side = read_calico_side(read_documents(text, "c.yaml")[0], A)
    program = side.programs["ingress"]
    node = Endpoint("remote-node", ipaddress.ip_address("192.168.0.9"))
    other_node = Endpoint("remote-node", ipaddress.ip_address("192.168.0.10"))
    assert program.decide(Flow("ingress", SUBJECT, node, TCP, 80, 1)).allowed
    assert not program.decide(Flow("ingress", SUBJECT, other_node, TCP, 80, 1)).allowed


def test_crd_v1_objects_without_types_apply_both_ways() -> None:
    # docs/reference/semantics-check.md claim 14(b): felix treats a stored policy without types as Ingress+Egress.
    text = "apiVersion: crd.projectcalico.org/v1\nkind: NetworkPolicy\nmetadata: {name: default.x, namespace: app}\nspec:\n  selector: app == 'web'\n  ingress: [{action: Allow}]\n"
    assert allowed(text, pod())
    assert not allowed(text, pod(), direction="egress")


def test_undefined_tier_is_reported() -> None:
    text = gnp("g", "  tier: missing\n  selector: all()\n  ingress: [{action: Deny}]")
    side = read_calico_side(read_documents(text, "c.yaml")[0], A)
    assert any("tier 'missing'" in u.reason for u in side.unsupported)


def test_untracked_and_pre_dnat_policies_do_not_apply_to_pods() -> None:
    # docs/reference/semantics.md §1.1 (globalnetworkpolicy.mdx): doNotTrack/preDNAT matter only for host endpoints.
    text = gnp(
        "g", "  selector: all()\n  doNotTrack: true\n  applyOnForward: true\n  ingress: [{action: Deny}]"
    )
    side = read_calico_side(read_documents(text, "c.yaml")[0], A)
    assert any("host endpoints only" in u.reason for u in side.unsupported)
    assert side.programs["ingress"].decide(Flow("ingress", SUBJECT, pod(), TCP, 80, 1)).allowed
