"""Benchmark: ``verify --flows`` and ``diff`` at 1,000 policies and 100,000 flows (issue 11).

    make bench            # or: python scripts/bench_review.py [--policies 1000] [--flows 100000]

The policies are ``make bench``'s generated equivalent pair's Calico side
(``calico2cilium.verify.bench``), converted once to Cilium by ``calico2cilium convert``. The flows
are generated over ``bench_concrete``'s inventory of 1,000 pods (labels the policies select): random
pod pairs, pods to and from outside addresses, on the ports the policies mention and a few they do
not, each connection logged twice (the second line a reply in the Hubble export), with the
verdict the Calico policies give it, but for one connection in 100 (a stale export). Hubble's ``hubble observe -o json`` form and Calico's flow-log form are
written with the same connections. ``diff`` compares the Calico policies with a copy of them in
which a few policies changed (a port, a selector, an action).

Each row is the command line run in its own process, time-boxed (``--timeout``): wall seconds, the
flows per second for the replay rows, the process's peak resident memory, and the ratio to the
issue's target (30 s; below 1 meets it). ``verify`` alone (the proof, no flows) is the first row,
so the flows rows' share can be read off. Nothing is asserted; timings on a shared machine are
noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TARGET = 30.0
POD_CIDR, NODE_CIDR = "10.0.0.0/16", "192.168.0.0/24"
OUTSIDE = ("198.51.100.5", "198.51.100.20", "203.0.113.9", "8.8.8.8")
PROBES = [("TCP", p) for p in (80, 443, 8000, 8003, 8006, 9000, 9005, 9090, 9999)] + [("UDP", 53)]


def policies(count: int) -> tuple[str, str, str]:
    """The Calico text, its conversion (one run of ``convert``), and a changed copy of the Calico
    text for ``diff``."""
    from calico2cilium.convert import convert
    from calico2cilium.io.write import dump_yaml
    from calico2cilium.verify.bench import generated_pair

    calico, _ = generated_pair(count)
    result = convert(text=calico, name="calico.yaml", pod_cidrs=[POD_CIDR], node_cidrs=[NODE_CIDR])
    changed = calico
    for old, new in (
        ("- 9090\n", "- 9091\n"),  # a global policy's port
        ("role in {'client-3', 'admin'}", "role in {'client-4', 'admin'}"),  # a peer selector
        ("action: Deny", "action: Allow"),  # a deny made an allow
    ):
        assert old in changed, old
        changed = changed.replace(old, new, 1)
    return calico, dump_yaml(result.documents), changed


def _hubble_end(pod: Any, namespaces: dict[str, dict[str, str]]) -> dict[str, Any]:
    labels = [f"k8s:{k}={v}" for k, v in sorted(pod.labels.items())]
    ns_labels = {"kubernetes.io/metadata.name": pod.namespace, **namespaces[pod.namespace]}
    labels += [f"k8s:io.cilium.k8s.namespace.labels.{k}={v}" for k, v in sorted(ns_labels.items())]
    labels += [
        "k8s:io.cilium.k8s.policy.cluster=default",
        f"k8s:io.cilium.k8s.policy.serviceaccount={pod.service_account}",
        f"k8s:io.kubernetes.pod.namespace={pod.namespace}",
    ]
    return {"namespace": pod.namespace, "pod_name": pod.name, "labels": labels}


def _calico_end(side: str, pod: Any | None, ip: str) -> dict[str, Any]:
    if pod is None:
        return {f"{side}_ip": ip, f"{side}_type": "net", f"{side}_namespace": "-", f"{side}_name": "-"}
    return {
        f"{side}_ip": ip,
        f"{side}_type": "wep",
        f"{side}_namespace": pod.namespace,
        f"{side}_name": pod.name,
        f"{side}_labels": {"labels": [f"{k}={v}" for k, v in sorted(pod.labels.items())]},
    }


def flows(count: int, calico_text: str, policy_count: int, seed: int = 11) -> tuple[list[str], list[str]]:
    """``count`` lines of each export format (see the module docstring)."""
    from bench_concrete import inventory
    from calico2cilium.io.yamlstream import read_documents
    from calico2cilium.semantics.calico import read_calico_side
    from calico2cilium.semantics.world import Assumptions
    from calico2cilium.verify.flows import decide_flows, parse_flow

    inv = inventory(1000, policy_count)
    namespaces = {name: dict(labels) for name, labels in inv.namespaces.items()}
    rng = random.Random(seed)
    connections: list[tuple[Any, Any, str, str, str, int, int]] = []
    for _ in range((count + 1) // 2):
        src = rng.choice(inv.pods) if rng.random() > 0.1 else None
        dst = rng.choice(inv.pods) if src is None or rng.random() > 0.3 else None
        src_ip = str(src.ips[0]) if src else rng.choice(OUTSIDE)
        dst_ip = str(dst.ips[0]) if dst else rng.choice(OUTSIDE)
        proto, port = rng.choice(PROBES)
        connections.append((src, dst, src_ip, dst_ip, proto, port, rng.randrange(32768, 61000)))
    # What the exports say: the Calico policies' verdict, but for one connection in 100 (stale).
    observed = [parse_flow({"flow": _hubble(c, namespaces, False, True)}) for c in connections]
    calico_side = read_calico_side(
        read_documents(calico_text, "calico.yaml")[0],
        Assumptions(pod_cidrs=(POD_CIDR,), node_cidrs=(NODE_CIDR,)),
    )
    slots, verdicts, _ = decide_flows(observed, calico_side.programs, calico_side.programs)
    hubble: list[str] = []
    calico: list[str] = []
    for connection, slot in zip(connections, slots, strict=True):
        assert slot is not None
        allowed = verdicts[slot].allowed != (rng.random() < 0.01)
        for reply in (False, True):
            line = {"flow": _hubble(connection, namespaces, reply, allowed), "node_name": "node-1"}
            hubble.append(json.dumps(line))
            calico.append(json.dumps(_calico(connection, reply, allowed)))
    return hubble[:count], calico[:count]


def _hubble(
    connection: tuple[Any, ...], namespaces: dict[str, dict[str, str]], reply: bool, allowed: bool
) -> dict[str, Any]:
    src, dst, src_ip, dst_ip, proto, port, sport = connection
    flow: dict[str, Any] = {
        "time": "2026-12-01T10:00:00.000000000Z",
        "verdict": "FORWARDED" if allowed else "DROPPED",
        "IP": {"source": src_ip, "destination": dst_ip, "ipVersion": "IPv4"},
        "l4": {proto: {"source_port": sport, "destination_port": port}},
        "source": _hubble_end(src, namespaces) if src else {"labels": ["reserved:world"]},
        "destination": _hubble_end(dst, namespaces) if dst else {"labels": ["reserved:world"]},
        "Type": "L3_L4",
        "traffic_direction": "EGRESS",
        "is_reply": reply,
    }
    if not allowed:
        flow["drop_reason_desc"] = "POLICY_DENIED"
    return flow


def _calico(connection: tuple[Any, ...], reply: bool, allowed: bool) -> dict[str, Any]:
    src, dst, src_ip, dst_ip, proto, port, sport = connection
    return {
        "start_time": 1764583200,
        "end_time": 1764583500,
        "action": "allow" if allowed else "deny",
        **_calico_end("source", src, src_ip),
        **_calico_end("dest", dst, dst_ip),
        "source_port": sport,
        "dest_port": port,
        "proto": proto.lower(),
        "reporter": "dst" if reply else "src",
    }


def _run(command: list[str], timeout: float) -> tuple[float, float, float, int] | None:
    """Wall and CPU seconds, peak RSS (MB) and exit status of ``command``; ``None`` after
    ``timeout``. (A child's peak RSS counts its parent's at the fork: keep the parent small.)"""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            cpu = usage.ru_utime + usage.ru_stime
            return time.perf_counter() - start, cpu, usage.ru_maxrss / 1024, process.returncode
        if time.perf_counter() > deadline:
            process.kill()
            process.wait()
            return None
        time.sleep(0.05)


def generate(work: Path, policy_count: int, flow_count: int) -> None:
    """Write the inputs into ``work`` (in a process of its own, see ``_run``)."""
    calico, cilium, changed = policies(policy_count)
    hubble, calico_logs = flows(flow_count, calico, policy_count)
    # A conversion that narrows: Cilium lets the pods reach the outside on 444 instead of 443.
    narrowed = cilium.replace("port: '443'", "port: '444'")
    assert narrowed != cilium
    texts = {"calico.yaml": calico, "cilium.yaml": cilium, "changed.yaml": changed, "narrowed.yaml": narrowed}
    for name, text in texts.items():
        (work / name).write_text(text)
    (work / "hubble.jsonl").write_text("\n".join(hubble) + "\n")
    (work / "calico-flows.jsonl").write_text("\n".join(calico_logs) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--flows", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per row")
    parser.add_argument("--rows", default="verify,hubble,calico-logs,narrowed,diff")
    parser.add_argument("--keep", type=Path, help="write the inputs here (and keep them)")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)  # the child's side
    args = parser.parse_args(argv)
    if args.generate:
        generate(args.generate, args.policies, args.flows)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        me = [sys.executable, str(Path(__file__).resolve()), "--policies", str(args.policies)]
        subprocess.run([*me, "--flows", str(args.flows), "--generate", str(work)], check=True)
        tool = [sys.executable, "-m", "calico2cilium"]
        cidrs = ["--pod-cidr", POD_CIDR, "--node-cidr", NODE_CIDR]
        verify = [*tool, "verify", *cidrs, "--calico", str(work / "calico.yaml")]
        narrowed = [*verify, "--cilium", str(work / "narrowed.yaml"), "-o", "json"]
        narrowed += ["--flows", str(work / "hubble.jsonl")]
        verify += ["--cilium", str(work / "cilium.yaml"), "-o", "json"]
        rows = {
            "narrowed": (narrowed, args.flows),
            "verify": (verify, 0),
            "hubble": ([*verify, "--flows", str(work / "hubble.jsonl")], args.flows),
            "calico-logs": ([*verify, "--flows", str(work / "calico-flows.jsonl")], args.flows),
            "diff": (
                [*tool, "diff", *cidrs, str(work / "calico.yaml"), str(work / "changed.yaml"), "-o", "json"],
                0,
            ),
        }
        load = os.getloadavg()[0]
        print(
            f"review     {args.policies} policies, {args.flows:,} flows a file; load average {load:.2f}"
            f" at start; target {TARGET:g} s a row"
        )
        for row in args.rows.split(","):
            command, count = rows[row]
            done = _run(command, args.timeout)
            if done is None:
                print(f"  {row:<12} timeout after {args.timeout:g} s", flush=True)
                continue
            seconds, cpu, peak, status = done
            rate = f"{count / seconds:>9,.0f} flows/s" if count else " " * 17
            print(
                f"  {row:<12} {seconds:>6.1f} s ({cpu:5.1f} s CPU) {rate}  peak {peak:>5.0f} MB  exit {status}"
                f"  {seconds / TARGET:.2f}x of the {TARGET:g} s target",
                flush=True,
            )
    print(
        "  verify: the proof alone; hubble, calico-logs: the proof and the replay of one export"
        " (verify --flows); narrowed: the Hubble export against a Cilium side that narrows (the pods'"
        " port 443 to the outside made 444: their flows there change verdict); diff: the policies against a copy with 3 changes. Wall time of the"
        " command in its own process (and its CPU time: user + system), peak RSS of that process."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
