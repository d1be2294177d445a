"""Issue 15's CLI, io and output items: each test shows the behaviour the issue reproduced on main
(in its comment) and checks the new one, run as a user runs the tool where it matters (a
subprocess with real files, pipes and closed streams)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TIER = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: a}\nspec: {order: 1}\n"


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_load_and_convert_stay_functions_however_often_called() -> None:
    # Was: the second call raised "TypeError: 'module' object is not callable" (the lazy
    # __getattr__ was shadowed by the submodule once it was imported).
    done = python(
        "import calico2cilium\n"
        f"text = {TIER!r}\n"
        "for _ in range(3):\n"
        "    assert calico2cilium.load(text=text).resources == 1\n"
        "    assert calico2cilium.convert(text=text).ok\n"
        "import calico2cilium.load, calico2cilium.convert, calico2cilium.cli\n"
        "from calico2cilium.load import LoadResult\n"
        "from calico2cilium.convert import ConvertResult\n"
        "assert callable(calico2cilium.load) and callable(calico2cilium.convert)\n"
        "assert isinstance(calico2cilium.load(text=text), LoadResult)\n"
        "assert isinstance(calico2cilium.convert(text=text), ConvertResult)\n"
        "print('ok')\n"
    )
    assert done.stdout.strip() == "ok", done.stderr
