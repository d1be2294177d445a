"""Review 3's mutation fuzz loop over fixtures/*/input.yaml (no hypothesis/atheris needed).

Each iteration takes a fixture, applies 1-3 random mutations to its parsed documents (a value
replaced by another type, a huge number, unicode, a key deleted or renamed, a list nested, a
document wrapped in ``kind: List``), dumps it back (YAML or JSON, sometimes raw-byte damaged) and
runs ``convert`` (with --verify every 10th time) and ``lint`` in-process. A run is a bug when the
exit status is not 0/1/2 or the output says "internal error".

    .venv/bin/python scripts/fuzz.py SEED ITERATIONS OUTDIR     # from the repository root

Review 3 ran it for 3,000 cases (seed 21) with no failure after its fixes; it is a tool to run by
hand, not part of the test suite (tests/test_hostile_inputs.py holds the inputs it found).
"""

from __future__ import annotations

import copy
import json
import random
import sys
import traceback
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from calico2cilium.cli import main

WEIRD: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**64,
    -(2**63),
    10**400,
    1.5,
    float("inf"),
    "",
    " ",
    "\u202e",
    "é",
    "\U0001f600",
    "a" * 5000,
    "0x10",
    "1e9",
    [],
    {},
    [None],
    {"": None},
    [[[]]],
    "!",
    "*",
    "'",
    "app == 'x'",
    "10.0.0.0/8",
    "::/0",
    "TCP",
    65536,
    -5,
    "1:2",
    "all()",
    "global()",
]


def mutate(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(list(value))
        op = rng.random()
        if op < 0.15:
            del value[key]
        elif op < 0.25:
            value[key + rng.choice(["x", "", "_", "\u00e9"])] = value.pop(key)
        elif op < 0.6:
            value[key] = rng.choice(WEIRD) if rng.random() < 0.5 else mutate(value[key], rng)
        else:
            value[key] = mutate(value[key], rng)
        return value
    if isinstance(value, list) and value and rng.random() < 0.7:
        i = rng.randrange(len(value))
        op = rng.random()
        if op < 0.2:
            value.append(copy.deepcopy(value[i]))
        elif op < 0.3:
            value[i] = [value[i]]
        else:
            value[i] = mutate(value[i], rng)
        return value
    return rng.choice(WEIRD)


def case(rng: random.Random, fixtures: list[Path]) -> bytes:
    docs = [d for d in yaml.safe_load_all(rng.choice(fixtures).read_text()) if d is not None]
    for _ in range(rng.randint(1, 3)):
        if docs:
            i = rng.randrange(len(docs))
            docs[i] = mutate(docs[i], rng)
    if rng.random() < 0.1:
        docs = [{"apiVersion": "v1", "kind": "List", "items": docs}]
    if rng.random() < 0.3:
        text = json.dumps(docs[0] if len(docs) == 1 else docs, default=str)
    else:
        text = yaml.safe_dump_all(docs, allow_unicode=True)
    data = text.encode()
    if rng.random() < 0.1 and data:
        pos = rng.randrange(len(data))
        data = data[:pos] + bytes([rng.randrange(256)]) + data[pos + 1 :]
    return data


def main_loop(seed: int, iterations: int, out: Path) -> int:
    rng = random.Random(seed)
    fixtures = sorted((Path(__file__).resolve().parent.parent / "fixtures").glob("*/input.yaml"))
    out.mkdir(parents=True, exist_ok=True)
    runner = CliRunner()
    bugs = 0
    for n in range(iterations):
        try:
            data = case(rng, fixtures)
        except (ValueError, RecursionError, yaml.YAMLError):
            continue  # the generator's own limits (e.g. 10**400 in JSON), not the tool's
        path = out / f"case-{seed}-{n}.yaml"
        path.write_bytes(data)
        args = ["convert", str(path), "--pod-cidr", "10.244.0.0/16", "--node-cidr", "10.0.0.0/24"]
        if n % 10 == 0:
            args.append("--verify")
        for argv in (args, ["lint", str(path)]):
            try:
                result = runner.invoke(main, argv, catch_exceptions=True)
                text = result.output + (result.stderr if result.stderr_bytes else "")
            except Exception:
                text, code = traceback.format_exc(), -1
            else:
                code = result.exit_code
            if code not in (0, 1, 2) or "internal error" in text or "Traceback" in text:
                bugs += 1
                print(f"BUG {path} {argv[0]} exit={code}: {text[-600:]}", flush=True)
                break
        else:
            path.unlink()
    print(f"seed {seed}: {iterations} cases, {bugs} bugs", flush=True)
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main_loop(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])))
