"""Issue 2's promise, end to end: every kind of bad input gets a positioned diagnostic and exit 2,
quickly and in bounded memory, with no traceback, and the good files of the run are still read."""

from __future__ import annotations

import re
import resource
import subprocess
import sys
from pathlib import Path

GOOD = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: good
  namespace: shop
spec:
  selector: app == 'web'
  ingress:
    - action: Allow
      protocol: TCP
      destination:
        ports: [80]
"""


def _bomb() -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    return "\n".join(lines) + "\n"


HOSTILE: dict[str, bytes] = {
    "malformed.yaml": b"apiVersion: v1\nkind: [unclosed\n",
    "tabs.yaml": GOOD.replace("  name: good", "\tname: good").encode(),
    "stray-bom.yaml": GOOD.replace("app == 'web'", "app == '\ufeffweb'").encode(),
    "latin1.yaml": GOOD.replace("good", "caf\u00e9").encode("latin-1"),
    "binary.yaml": bytes(range(256)) * 64,
    "empty.yaml": b"",
    "bomb.yaml": _bomb().encode(),
    "deep.yaml": ("a: " + "[" * 10_000 + "]" * 10_000 + "\n").encode(),
    "wrong-type.yaml": GOOD.replace("  selector:", "  order: high\n  selector:").encode(),
    "unknown-kind.yaml": GOOD.replace("kind: NetworkPolicy", "kind: NetworkPolizy").encode(),
    "bad-selector.yaml": GOOD.replace("app == 'web'", "app == 'web' &&").encode(),
    "bad-cidr.yaml": GOOD.replace(
        "      destination:", "      source:\n        nets: [10.1.2.3/40]\n      destination:"
    ).encode(),
    "bad-port.yaml": GOOD.replace("ports: [80]", "ports: [70000]").encode(),
    "bad-tagged-value.yaml": GOOD.replace("ports: [80]", "ports: [!!int eighty]").encode(),
    # Control characters YAML forbids: libyaml raises a ReaderError with no mark (review 3: it
    # reached the user as "internal error", exit 3).
    "control-char.yaml": GOOD.replace("name: good", "name: go\x11od").encode(),
    "c1-control.yaml": GOOD.replace("app == 'web'", "app == 'w\x9beb'").encode(),
    "bad-label.yaml": GOOD.replace(
        "  namespace: shop", "  namespace: shop\n  labels:\n    'bad key!': x"
    ).encode(),
}
POSITION = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): error (?P<code>C2C\d{3}) ", re.MULTILINE
)


def _limit_memory() -> None:
    two_gib = 2 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (two_gib, two_gib))


def test_every_hostile_file_is_diagnosed_and_the_good_one_still_read(tmp_path: Path) -> None:
    for name, content in HOSTILE.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "zz-good.yaml").write_text(GOOD)
    exe = Path(sys.executable).with_name("calico2cilium")
    done = subprocess.run(
        [str(exe), "lint", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    reported = {Path(m["file"]).name for m in POSITION.finditer(done.stdout)}
    assert reported == set(HOSTILE), f"not diagnosed: {set(HOSTILE) - reported}\n{done.stdout}"
    assert f"{len(HOSTILE) + 1} files" in done.stderr and "1 valid" in done.stderr
