"""Benchmarks, reported as ratios against plain libyaml parsing of the same text.

    make bench            # or: python scripts/bench.py [--sizes 1000,10000] [--repeat 5] [--jobs read,...]

Every job gets the same generated text (one multi-document YAML stream of Calico policies) and must
prove it did the whole work (every policy read, no diagnostics) before it is timed. Runs of the
baseline and the jobs are interleaved (in alternating order) so that a burst of load on a shared
machine hits them alike; each time is the best of ``--repeat`` runs.

Speed is measured here, never asserted in the test suite: timings on shared machines are noisy.
When they are too noisy, ``--instructions`` counts instructions under valgrind's callgrind instead
(slow; try ``--sizes 1000``). The exit status is 1 when a job misses its target (a multiple of the
baseline), else 0.

To add a measurement (say, conversion), write a function ``text -> result`` and a check of its
result, and register them as a :class:`Job`; it gets its own columns in the table.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from calico2cilium.io.documents import RawDocument
from calico2cilium.io.yamlstream import read_documents
from calico2cilium.load import load

NAME = "bench.yaml"


@dataclass(frozen=True)
class Job:
    """One measured piece of work on the generated text."""

    name: str
    """Column heading, and the name ``--jobs`` selects it by."""
    what: str
    """What exactly is timed; printed under the table."""
    run: Callable[[str], object]
    """The timed work: the text in, its result out."""
    check: Callable[[object, int], str | None]
    """Untimed: why the result is not the whole work on ``count`` policies, or ``None`` if it is."""
    target: float | None = None
    """The most this job may take, as a multiple of the baseline."""


JOBS: dict[str, Job] = {}


def register(job: Job) -> Job:
    JOBS[job.name] = job
    return job


def generate(count: int) -> str:
    """``count`` Calico policies, alternating namespaced and global, with a few rules each."""
    documents: list[dict[str, Any]] = []
    for i in range(count):
        rules_in = [
            {
                "action": "Allow",
                "protocol": "TCP",
                "source": {"selector": f"app == 'client-{i % 17}' || role in {{'a', 'b'}}"},
                "destination": {"ports": [80, 443, "8000:8080"]},
            },
            {"action": "Deny", "protocol": "UDP", "source": {"nets": [f"10.{i % 250}.0.0/16"]}},
        ]
        rules_out = [
            {"action": "Allow", "protocol": "UDP", "destination": {"ports": [53]}},
            {"action": "Pass", "destination": {"notNets": ["192.168.0.0/16"], "nets": ["0.0.0.0/0"]}},
        ]
        spec: dict[str, Any] = {
            "order": i,
            "selector": f"app == 'svc-{i}' && env != 'dev'",
            "types": ["Ingress", "Egress"],
            "ingress": rules_in,
            "egress": rules_out,
        }
        metadata: dict[str, Any] = {"name": f"policy-{i}"}
        if i % 2:
            kind = "NetworkPolicy"
            metadata["namespace"] = f"team-{i % 40}"
        else:
            kind = "GlobalNetworkPolicy"
        documents.append(
            {"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": metadata, "spec": spec}
        )
    return yaml.dump_all(documents, Dumper=yaml.CSafeDumper, sort_keys=False)


# The baseline and the jobs.


def libyaml(text: str) -> object:
    return list(yaml.load_all(text, Loader=yaml.CSafeLoader))


def check_libyaml(result: object, count: int) -> str | None:
    assert isinstance(result, list)
    found = sum(document is not None for document in result)
    return None if found == count else f"{found} documents"


BASELINE = Job(
    "libyaml",
    "list(yaml.load_all(text, Loader=yaml.CSafeLoader)): parse, build plain data",
    libyaml,
    check_libyaml,
)


def read(text: str) -> object:
    return read_documents(text, NAME)


def check_read(result: object, count: int) -> str | None:
    documents, diagnostics = result  # type: ignore[misc]
    if diagnostics or len(documents) != count:
        return f"{len(documents)} documents, {len(diagnostics)} diagnostics"
    return None


register(
    Job(
        "read",
        "read_documents(text): parse, build the same data, refuse duplicate keys, alias bombs,"
        " cycles and deep nesting, flatten Lists; positions kept recoverable (found on demand)",
        read,
        check_read,
        target=1.5,
    )
)


def read_with_position(text: str) -> object:
    documents, diagnostics = read_documents(text, NAME)
    last: RawDocument = documents[-1]
    return documents, diagnostics, last.source(("spec", "egress", 1, "action"))


def check_read_with_position(result: object, count: int) -> str | None:
    documents, diagnostics, source = result  # type: ignore[misc]
    expected = text_lines_of_last_action(count)
    if source.line != expected:
        return f"position line {source.line}, expected {expected}"
    return check_read((documents, diagnostics), count)


register(
    Job(
        "read+pos",
        "read, then the position of a field of the last policy (composes that document's node"
        " tree, as the first diagnostic about a document does)",
        read_with_position,
        check_read_with_position,
        target=1.5,
    )
)


def load_and_validate(text: str) -> object:
    return load(text=text, name=NAME)


def check_load_and_validate(result: object, count: int) -> str | None:
    documents, diagnostics = result.documents, result.diagnostics  # type: ignore[attr-defined]
    if diagnostics or len(documents) != count:
        return f"{len(documents)} documents, {len(diagnostics)} diagnostics"
    return None


register(
    Job(
        "load+validate",
        "load(text=text): read, then typed models, selectors and CRD schemas (no target)",
        load_and_validate,
        check_load_and_validate,
    )
)


_TEXTS: dict[int, str] = {}


def text_for(count: int) -> str:
    if count not in _TEXTS:
        _TEXTS[count] = generate(count)
    return _TEXTS[count]


def text_lines_of_last_action(count: int) -> int:
    """The 1-based line of the last policy's last ``action:``, found without YAML (for the check)."""
    text = text_for(count)
    return text[: text.rindex("action:")].count("\n") + 1


# Measuring and reporting.


def run_once(job: Job, text: str) -> float:
    gc.collect()
    start = time.perf_counter()
    result = job.run(text)
    elapsed = time.perf_counter() - start
    del result  # freed outside the timed region, for every job alike
    return elapsed


def measure(jobs: Sequence[Job], text: str, repeat: int) -> dict[str, float]:
    """Best time of each job (and the baseline), runs interleaved in alternating order."""
    order = [BASELINE, *jobs]
    times: dict[str, list[float]] = {job.name: [] for job in order}
    for attempt in range(repeat):
        for job in order if attempt % 2 == 0 else reversed(order):
            times[job.name].append(run_once(job, text))
    return {name: min(values) for name, values in times.items()}


def verify(jobs: Sequence[Job], text: str, count: int) -> None:
    """Run every job once, untimed (also a warm-up), and stop if one did not do the whole work."""
    for job in [BASELINE, *jobs]:
        problem = job.check(job.run(text), count)
        if problem is not None:
            sys.exit(f"bench: {job.name} on {count} policies did not do the whole work: {problem}")


def count_instructions(jobs: Sequence[Job], size: int) -> dict[str, float]:
    """Instructions each job executes (under callgrind): immune to load, blind to memory stalls.

    Each job runs in a child process once and then twice; the difference is one run, without
    start-up, imports, generating the text or the warm-up run.
    """
    counts: dict[str, float] = {}
    for job in [BASELINE, *jobs]:
        once, twice = (_callgrind(job.name, size, runs) for runs in (1, 2))
        counts[job.name] = twice - once
    return counts


def _callgrind(job: str, size: int, runs: int) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    command += [__file__, "--child", f"{job}:{size}:{runs}"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        sys.exit(f"bench: no instruction count from callgrind:\n{done.stderr}")
    return int(found.group(1))


def _child(spec: str) -> None:
    name, size, runs = spec.split(":")
    job = BASELINE if name == BASELINE.name else JOBS[name]
    text = text_for(int(size))
    for _ in range(int(runs)):
        run_once(job, text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000", help="policy counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="runs per job and size; the best counts")
    parser.add_argument("--jobs", default=",".join(JOBS), help=f"some of: {', '.join(JOBS)}")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions under valgrind's callgrind instead of timing (slow: ~50x)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    unknown = [name for name in args.jobs.split(",") if name not in JOBS]
    if unknown:
        parser.error(f"unknown job(s) {', '.join(unknown)}; known: {', '.join(JOBS)}")
    jobs = [JOBS[name] for name in args.jobs.split(",")]

    if args.instructions:
        how = "instructions counted by callgrind (one run: two runs minus one)"
    else:
        load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        how = (
            f"best of {args.repeat} interleaved runs, in seconds; {os.cpu_count()} CPUs,"
            f" load average {load_average:.2f} at start"
        )
    print(f"Generated Calico policies in one YAML stream; {how}.")
    widths = [max(len(job.name), 8) for job in jobs]
    header = f"{'policies':>9} {BASELINE.name:>9}"
    for job, width in zip(jobs, widths, strict=True):
        header += f"  {job.name:>{width}} {'ratio':>6}"
    print(header)
    missed: list[str] = []
    for size in sizes:
        text = text_for(size)
        verify(jobs, text, size)
        measured = count_instructions(jobs, size) if args.instructions else None
        best = measured or measure(jobs, text, args.repeat)
        baseline = best[BASELINE.name]
        row = f"{size:>9} {_amount(baseline, args.instructions):>9}"
        for job, width in zip(jobs, widths, strict=True):
            ratio = best[job.name] / baseline
            row += f"  {_amount(best[job.name], args.instructions):>{width}} {ratio:>5.2f}x"
            if job.target is not None and ratio > job.target:
                missed.append(f"{job.name} at {size} ({ratio:.2f}x > {job.target:.2f}x)")
        print(row, flush=True)
    print()
    for job in [BASELINE, *jobs]:
        print(textwrap.fill(job.what, 100, initial_indent=f"{job.name:>13}  ", subsequent_indent=" " * 15))
    print(
        "The garbage collector is on for the baseline (as a caller of yaml.load_all has it);"
        " read_documents and load pause it while building."
    )
    targets = [f"{job.name} <= {job.target:.2f}x" for job in jobs if job.target is not None]
    if targets:
        verdict = "missed: " + "; ".join(missed) if missed else "met"
        print(f"Targets ({', '.join(targets)} {BASELINE.name}, every size): {verdict}.")
    sys.exit(1 if missed else 0)


def _amount(value: float, instructions: bool) -> str:
    return f"{value / 1e9:.2f}G" if instructions else f"{value:.3f}s"


if __name__ == "__main__":
    main()
