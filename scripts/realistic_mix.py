"""A seeded "realistic mix" of Calico resources, for benchmarks and scale tests (issue 13).

    python scripts/realistic_mix.py 100 --seed 1 > mix.yaml
    from realistic_mix import generate; text = generate(1000, seed=7)

Unlike ``bench.generate`` (one narrow subject per policy, disjoint across policies), the mix has
what real clusters have and what makes ordering hard: overlapping selectors, broad ones such as
``has(team)``, several tiers with ``order`` spread, Deny and Pass rules, network sets and host
endpoints. Of ``n`` documents about

* 60% namespaced NetworkPolicies, 25% GlobalNetworkPolicies (tiers ``security``, ``platform``
  and ``default``), 10% NetworkSets and GlobalNetworkSets, 5% HostEndpoints;
* rules 70% Allow, 25% Deny, 5% Pass (most Passes end a tiered policy: "the rest goes on to the
  next tier");
* selectors with ``==``, ``!=``, ``in``, ``has``, ``!has`` and ``&&`` over ~200 ``app`` values and
  a few ``team``/``tier``/``role`` labels;
* TCP/UDP/ICMP, ports and port ranges, ``nets`` and ``notNets``.

The ``Tier`` resources the GlobalNetworkPolicies use come first, beyond the ``n``. Every address
used lies wholly outside or wholly inside the cluster ranges ``CLUSTER`` (pods 10.244.0.0/16,
nodes 10.0.0.0/24), so no rule is refused for a partly covered range. The same ``(n, seed)``
always gives the same text. ``calico2cilium lint`` accepts the output.
"""

from __future__ import annotations

import argparse
import random
from typing import Any

import yaml

CLUSTER = {"pod_cidrs": ("10.244.0.0/16",), "node_cidrs": ("10.0.0.0/24",)}
"""The cluster ranges the mix is written for (``convert`` keyword arguments)."""

APPS = [f"app-{i:03d}" for i in range(200)]
TEAMS = ["payments", "search", "identity", "data", "ml", "web", "ops", "growth"]
TIERS_LABEL = ["frontend", "backend", "data"]
ROLES = ["web", "db", "cache", "worker", "batch"]
TIERS = [("security", 100.0), ("platform", 200.0)]
EXTERNAL = [
    "203.0.113.0/24",
    "198.51.100.0/24",
    "192.0.2.0/24",
    "8.8.8.8/32",
    "1.1.1.1/32",
    "100.64.0.0/10",
    "172.16.0.0/12",
    "52.0.0.0/8",
]
"""Addresses outside the cluster ranges."""
WIDE = ["0.0.0.0/0", "10.0.0.0/8"]
"""Addresses covering the cluster ranges wholly."""
SET_LABELS = [("feed", "threats"), ("feed", "partners"), ("kind", "saas"), ("kind", "backup")]


class _Mix:
    def __init__(self, n: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.namespaces = [f"ns-{i:03d}" for i in range(max(3, n // 20))]

    def pick(self, items: list[str]) -> str:
        return self.rng.choice(items)

    def app_term(self) -> str:
        r = self.rng.random()
        if r < 0.7:
            return f"app == '{self.pick(APPS)}'"
        if r < 0.85:
            apps = sorted(set(self.rng.sample(APPS, self.rng.randint(2, 4))))
            return "app in {" + ", ".join(f"'{a}'" for a in apps) + "}"
        return f"app != '{self.pick(APPS)}'"

    def extra_term(self) -> str:
        return self.rng.choice(
            [
                f"team == '{self.pick(TEAMS)}'",
                f"tier == '{self.pick(TIERS_LABEL)}'",
                f"role != '{self.pick(ROLES)}'",
                "has(team)",
                "!has(canary)",
                f"role in {{'{self.pick(ROLES)}', '{self.pick(ROLES)}'}}",
            ]
        )

    def subject(self) -> str:
        """A namespaced policy's subject: mostly one app, sometimes with a second term."""
        term = self.app_term()
        return f"{term} && {self.extra_term()}" if self.rng.random() < 0.3 else term

    def broad_subject(self) -> str:
        """A global policy's subject: broad selectors that overlap the apps' policies."""
        return self.rng.choice(
            [
                "has(team)",
                f"team == '{self.pick(TEAMS)}'",
                f"tier == '{self.pick(TIERS_LABEL)}'",
                f"team == '{self.pick(TEAMS)}' && tier != 'data'",
                f"role in {{'{self.pick(ROLES)}', '{self.pick(ROLES)}'}}",
                f"has(team) && !has(canary) && role != '{self.pick(ROLES)}'",
                self.app_term(),
                "all()",
            ]
        )

    def action(self) -> str:
        r = self.rng.random()
        return "Allow" if r < 0.72 else "Deny" if r < 0.99 else "Pass"

    def l4(self) -> dict[str, Any]:
        r = self.rng.random()
        if r < 0.15:
            return {}
        if r < 0.25:
            out: dict[str, Any] = {"protocol": "ICMP"}
            if self.rng.random() < 0.5:
                out["icmp"] = {"type": self.rng.choice([0, 3, 8, 11])}
            return out
        protocol = "TCP" if r < 0.85 else "UDP"
        out = {"protocol": protocol}
        if self.rng.random() < 0.9:
            ports: list[int | str] = []
            for _ in range(self.rng.randint(1, 3)):
                if self.rng.random() < 0.2:
                    low = self.rng.randrange(1024, 60000)
                    ports.append(f"{low}:{low + self.rng.randint(1, 1000)}")
                else:
                    ports.append(self.rng.choice([22, 53, 80, 443, 3306, 5432, 6379, 8080, 8443, 9090, 9100]))
            out["ports"] = sorted(set(ports), key=str)
        return out

    def peer(self, scope: str) -> dict[str, Any]:
        """A rule's remote side."""
        r = self.rng.random()
        if r < 0.45:
            peer: dict[str, Any] = {"selector": self.app_term()}
            if self.rng.random() < 0.25:
                peer["selector"] += f" && {self.extra_term()}"
            if scope == "global" or self.rng.random() < 0.2:
                peer["namespaceSelector"] = self.rng.choice(
                    ["all()", f"projectcalico.org/name == '{self.pick(self.namespaces)}'"]
                )
            return peer
        if r < 0.6:
            return {"selector": self.extra_term()}
        if r < 0.72:
            return {"nets": sorted(set(self.rng.sample(EXTERNAL, self.rng.randint(1, 3))))}
        if r < 0.8:
            return {"nets": [self.pick(WIDE)], "notNets": sorted(set(self.rng.sample(EXTERNAL, 2)))}
        if r < 0.87:
            key, value = self.rng.choice(SET_LABELS)
            return {"selector": f"{key} == '{value}'"}
        if r < 0.93:
            return {"notNets": [self.pick(EXTERNAL)]}
        return {}

    def rule(self, direction: str, scope: str) -> dict[str, Any]:
        action = self.action()
        rule: dict[str, Any] = {"action": action, **self.l4()}
        remote = self.peer(scope)
        ports = rule.pop("ports", None)
        icmp_only = rule.get("protocol") == "ICMP"
        if direction == "ingress":
            if remote:
                rule["source"] = remote
            if ports is not None:
                rule["destination"] = {"ports": ports}
        else:
            destination = dict(remote)
            if ports is not None and not icmp_only:
                destination["ports"] = ports
            if destination:
                rule["destination"] = destination
        return rule

    def rules(self, direction: str, scope: str) -> list[dict[str, Any]]:
        return [self.rule(direction, scope) for _ in range(self.rng.choice([1, 1, 2, 2, 3, 4]))]

    def spec(self, selector: str, scope: str) -> dict[str, Any]:
        r = self.rng.random()
        types = ["Ingress"] if r < 0.5 else ["Egress"] if r < 0.75 else ["Ingress", "Egress"]
        spec: dict[str, Any] = {"selector": selector, "types": types}
        if "Ingress" in types:
            spec["ingress"] = self.rules("ingress", scope)
        if "Egress" in types:
            spec["egress"] = self.rules("egress", scope)
        return spec

    def network_policy(self, i: int) -> dict[str, Any]:
        spec = {
            "order": self.rng.choice([10, 100, 500, 1000, 1500]),
            **self.spec(self.subject(), "namespaced"),
        }
        return _doc("NetworkPolicy", {"name": f"np-{i}", "namespace": self.pick(self.namespaces)}, spec)

    def global_policy(self, i: int) -> dict[str, Any]:
        tier = self.rng.choice(["security", "platform", "platform", "default"])
        name = f"gnp-{i}" if tier == "default" else f"{tier}.gnp-{i}"
        spec = {
            "tier": tier,
            "order": self.rng.randrange(0, 1000),
            **self.spec(self.broad_subject(), "global"),
        }
        if tier != "default" and self.rng.random() < 0.45:
            # A tiered policy usually hands what it does not decide on to the next tier.
            for direction in ("ingress", "egress"):
                if direction in spec:
                    spec[direction].append({"action": "Pass"})
        return _doc("GlobalNetworkPolicy", {"name": name}, spec)

    def network_set(self, i: int) -> dict[str, Any]:
        key, value = self.rng.choice(SET_LABELS)
        nets = sorted(set(self.rng.sample(EXTERNAL, self.rng.randint(1, 2))))
        metadata: dict[str, Any] = {"name": f"set-{i}", "labels": {key: value}}
        if self.rng.random() < 0.5:
            metadata["namespace"] = self.pick(self.namespaces)
            return _doc("NetworkSet", metadata, {"nets": nets})
        return _doc("GlobalNetworkSet", metadata, {"nets": nets})

    def host_endpoint(self, i: int) -> dict[str, Any]:
        labels = {"kubernetes-host": "", "node-role": self.rng.choice(["worker", "worker", "control-plane"])}
        spec = {
            "node": f"node-{i}",
            "interfaceName": "*",
            "expectedIPs": [f"10.0.0.{1 + i % 250}"],
            "profiles": ["projectcalico-default-allow"],
        }
        return _doc("HostEndpoint", {"name": f"node-{i}-auto", "labels": labels}, spec)


def _doc(kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": metadata, "spec": spec}


def documents(n: int, seed: int) -> list[dict[str, Any]]:
    """The mix as plain data: the Tiers, then ``n`` documents (see the module docstring)."""
    mix = _Mix(n, seed)
    out = [_doc("Tier", {"name": name}, {"order": order}) for name, order in TIERS]
    makers = (
        (0.60, mix.network_policy),
        (0.85, mix.global_policy),
        (0.95, mix.network_set),
        (1.00, mix.host_endpoint),
    )
    for i in range(n):
        r = mix.rng.random()
        maker = next(make for bound, make in makers if r < bound)
        out.append(maker(i))
    return out


def generate(n: int, seed: int) -> str:
    """The mix as one multi-document YAML stream."""
    return str(yaml.dump_all(documents(n, seed), Dumper=yaml.CSafeDumper, sort_keys=False))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(generate(args.n, args.seed), end="")


if __name__ == "__main__":
    main()
