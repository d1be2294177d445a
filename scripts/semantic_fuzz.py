"""Review 14's semantic mutation loop over fixtures/*/input.yaml: does any mutated input convert
to output that the verifier finds DIFFERENT from Calico, or narrowed without a diagnostic saying
so (C2C414)?

Unlike ``fuzz.py`` (malformed values: the loader must not crash), the mutations here keep the
input valid (almost always) and change what it means, towards the constructs where widening
bugs were found: network sets (global and namespaced) whose nets cover the pod or node ranges, named ports and
notPorts on an ingress rule's own side, actions swapped, Passes inserted, ICMP types, peer and
local-side selectors, orders. Each case is converted with ``--allow-partial --verify`` and the
fixture's own cluster ranges, half of them under a small ``--work-budget`` (the fallback paths:
C2C350, C2C353, absorbed Denies written whole) and some for another Cilium version.

    .venv/bin/python scripts/semantic_fuzz.py SEED CASES OUTDIR     # from the repository root

A case is reported (``BAD``, its input and stderr kept in OUTDIR) when the verdict is DIFFERENT,
C2C414 appears, the exit status is not 0/1/2 or a traceback is printed. Review 14 ran 1,350
cases (seeds 2 and 3 of the first version, 4 and 5 of this one) with none reported; in a sample,
60% of the cases verified EQUIVALENT, 30% NARROWED, a few NOT PROVEN or invalid. It is a tool to
run by hand, not part of the test suite.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
LABELS = (("app", "a"), ("app", "b"), ("role", "db"), ("env", "prod"), ("team", "x"))
NETS = (["10.244.0.0/16"], ["10.0.0.0/8"], ["10.0.0.0/24"], ["0.0.0.0/0"], ["10.244.0.0/17", "192.0.2.0/24"])
"""Nets covering the pod range, the node range, both, everything, or half the pods and more."""
NAMESPACES = ("default", "ns1", "prod")
Rule = tuple[dict[str, Any], str, dict[str, Any]]
"""A Calico rule with its policy document and direction."""


def calico_rules(docs: list[dict[str, Any]]) -> Iterator[Rule]:
    for doc in docs:
        if doc.get("kind") not in ("NetworkPolicy", "GlobalNetworkPolicy"):
            continue
        if not str(doc.get("apiVersion", "")).startswith("projectcalico"):
            continue
        spec = doc.get("spec") or {}
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or []:
                if isinstance(rule, dict):
                    yield doc, direction, rule


def _side(rule: dict[str, Any], name: str) -> dict[str, Any]:
    side = rule.get(name)
    if not isinstance(side, dict):
        side = rule[name] = {}
    return side


def _selector(rng: random.Random) -> str:
    key, value = rng.choice(LABELS)
    return rng.choice([f"{key} == '{value}'", f"!({key} == '{value}')", f"has({key})"])


def network_set(rng: random.Random, docs: list[dict[str, Any]]) -> str:
    key, value = rng.choice(LABELS)
    meta: dict[str, Any] = {"name": f"fz{rng.randint(0, 999)}"}
    if rng.random() < 0.8:
        meta["labels"] = {key: value}
    kind = "GlobalNetworkSet"
    if rng.random() < 0.4:
        kind, meta["namespace"] = "NetworkSet", rng.choice(NAMESPACES)
    docs.append(
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": kind,
            "metadata": meta,
            "spec": {"nets": rng.choice(NETS)},
        }
    )
    return kind


def named_port(rng: random.Random, rule: Rule) -> str:
    _, direction, body = rule
    if direction != "ingress":  # an egress named port is refused (one number cluster-wide)
        return "skip"
    for field in ("notProtocol", "icmp", "notICMP"):
        body.pop(field, None)
    body["protocol"] = rng.choice(["TCP", "UDP"])
    own = _side(body, "destination")
    own[rng.choice(["ports", "notPorts"])] = [rng.choice(["http", "dns", 80]), rng.choice(["http", 53])]
    if rng.random() < 0.5:
        own[rng.choice(["selector", "notSelector"])] = _selector(rng)
    return "named-port"


def not_ports(rng: random.Random, rule: Rule) -> str:
    side = rule[2].get("destination")
    if isinstance(side, dict) and "ports" in side:
        side["notPorts"] = side.pop("ports")
    return "notPorts"


def action(rng: random.Random, rule: Rule) -> str:
    rule[2]["action"] = rng.choice(["Allow", "Deny", "Pass"])
    return "action"


def insert_pass(rng: random.Random, rule: Rule) -> str:
    doc, direction, _ = rule
    rules = doc["spec"][direction]
    rules.insert(
        rng.randint(0, len(rules)), {"action": "Pass", **({"protocol": "UDP"} if rng.random() < 0.5 else {})}
    )
    return "pass"


def icmp(rng: random.Random, rule: Rule) -> str:
    body = rule[2]
    for field in ("protocol", "notProtocol", "icmp", "notICMP"):
        body.pop(field, None)
    for name in ("source", "destination"):
        if isinstance(body.get(name), dict):
            body[name].pop("ports", None)
            body[name].pop("notPorts", None)
    body["protocol"] = "ICMP"
    body[rng.choice(["icmp", "notICMP"])] = {"type": rng.choice([0, 3, 8])}
    return "icmp"


def peer(rng: random.Random, rule: Rule) -> str:
    side = _side(rule[2], "source" if rule[1] == "ingress" else "destination")
    side[rng.choice(["selector", "notSelector"])] = _selector(rng)
    if rng.random() < 0.3:
        side["namespaceSelector"] = rng.choice(["all()", "global()", "env == 'prod'"])
    return "peer"


def local(rng: random.Random, rule: Rule) -> str:
    side = _side(rule[2], "destination" if rule[1] == "ingress" else "source")
    if rng.random() < 0.6:
        side[rng.choice(["selector", "notSelector"])] = _selector(rng)
    else:
        side[rng.choice(["nets", "notNets"])] = rng.choice(NETS)
    return "local"


def order(rng: random.Random, rule: Rule) -> str:
    rule[0]["spec"]["order"] = rng.choice([1, 100, 1000, 1000.5])
    return "order"


RULE_MUTATIONS: tuple[Callable[[random.Random, Rule], str], ...] = (
    named_port,
    not_ports,
    action,
    insert_pass,
    icmp,
    peer,
    local,
    order,
)


def mutate(rng: random.Random, docs: list[dict[str, Any]]) -> list[str]:
    done: list[str] = []
    for _ in range(rng.randint(1, 3)):
        rules = list(calico_rules(docs))
        if not rules or rng.random() < 0.2:
            done.append(network_set(rng, docs))
        else:
            done.append(rng.choice(RULE_MUTATIONS)(rng, rng.choice(rules)))
    return done


def options(rng: random.Random, case: Path) -> list[str]:
    given = (yaml.safe_load(case.read_text()) or {}).get("options") or {}
    args: list[str] = []
    for cidr in given.get("podCIDRs", ["10.244.0.0/16"]):
        args += ["--pod-cidr", cidr]
    for cidr in given.get("nodeCIDRs", ["10.0.0.0/24"]):
        args += ["--node-cidr", cidr]
    if rng.random() < 0.5:
        args += ["--work-budget", str(rng.choice([0.001, 0.01, 0.05, 0.2]))]
    if rng.random() < 0.4:
        args += ["--cilium-version", rng.choice(["1.15", "1.16", "1.17", "1.19"])]
    return args


def bad(result: subprocess.CompletedProcess[str]) -> bool:
    err = result.stderr
    return result.returncode not in (0, 1, 2) or any(s in err for s in ("DIFFERENT", "C2C414", "Traceback"))


def main(seed: int, cases: int, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    fixtures = sorted(p for p in (ROOT / "fixtures").iterdir() if (p / "input.yaml").exists())
    found = 0
    for index in range(cases):
        fixture = rng.choice(fixtures)
        docs = [d for d in yaml.safe_load_all((fixture / "input.yaml").read_text()) if isinstance(d, dict)]
        done = mutate(rng, docs)
        args = options(rng, fixture / "case.yaml")
        path = out / f"s{seed}-{index}.yaml"
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        command = [
            str(ROOT / ".venv/bin/calico2cilium"),
            "convert",
            str(path),
            *args,
            "--allow-partial",
            "--verify",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if bad(result):
            found += 1
            path.with_suffix(".err").write_text(result.stderr)
            print(f"BAD {path} (from {fixture.name}: {done}, {args}) exit {result.returncode}", flush=True)
        elif index % 50 == 0:
            print(f"{index} cases, {found} reported", flush=True)
    print(f"{cases} cases, {found} reported")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])))
