"""The hooks of ``.pre-commit-hooks.yaml``, run by pre-commit itself against a temporary git repository.

``pre-commit try-repo`` installs the hook repository into a virtualenv of its own with pip, from the
package registry: slow, hence ``slow``, and two try-repo calls in all, each running both hooks: once
on a clean repository (both pass), once on a broken one (both fail, verify with a counterexample).

The hook repository is a snapshot of this working tree (``git ls-files --cached --others
--exclude-standard``) committed to a temporary repository. Given this checkout itself, try-repo would
use HEAD plus the uncommitted changes to *tracked* files only, leaving out new untracked modules
that those changes may import; the snapshot is the tree as the developer sees it (on a clean CI
checkout: HEAD), and being one commit, pre-commit installs it once for both calls.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from calico2cilium.diagnostics.catalog.verifying import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
CALICO = EXAMPLES["C2C401"].calico
CILIUM = EXAMPLES["C2C401"].passing
BROKEN_CILIUM = EXAMPLES["C2C401"].failing  # TCP 8080 where Calico allows 80
STAGED = """\
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata:
  name: trial
  namespace: prod
spec:
  selector: all()
"""

pytestmark = pytest.mark.slow


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _snapshot(into: Path) -> Path:
    """This working tree's files, as git sees them, committed to a new repository at ``into``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the tree is left out
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    _git(into, "init", "-q")
    _git(into, "add", ".")
    _git(into, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "snapshot")
    return into


def _try_repo(hooks: Path, repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("GIT_DIR", None)
    env.pop("GIT_INDEX_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks), "--all-files", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def _hook_output(output: str, hook_id: str) -> str:
    """The part of pre-commit's report about one failed hook: from its id to the next hook's."""
    marker = f"- hook id: {hook_id}"
    if marker not in output:
        return ""
    rest = output[output.index(marker) :]
    end = rest.find("- hook id: ", len(marker))
    return rest if end < 0 else rest[:end]


def test_hooks_pass_on_a_valid_equivalent_pair_and_fail_on_a_broken_one(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed: pre-commit needs it")
    if importlib.util.find_spec("pre_commit") is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[dev]')")
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git checkout: pre-commit try-repo needs one")
    repo, home = tmp_path / "repo", tmp_path / "pre-commit-home"
    hooks = _snapshot(tmp_path / "hooks")
    (repo / "calico").mkdir(parents=True)
    (repo / "cilium").mkdir()
    (repo / "calico" / "db.yaml").write_text(CALICO)
    (repo / "cilium" / "db.yaml").write_text(CILIUM)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")

    passed = _try_repo(hooks, repo, home)
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    assert "calico2cilium lint" in output and "calico2cilium verify" in output
    assert "Failed" not in output

    # lint: a staged policy is a warning (lint exits 1); verify: a wrong port is a counterexample
    (repo / "calico" / "trial.yaml").write_text(STAGED)
    (repo / "cilium" / "db.yaml").write_text(BROKEN_CILIUM)
    _git(repo, "add", ".")
    failed = _try_repo(hooks, repo, home)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    lint = _hook_output(output, "calico2cilium-lint")
    assert "C2C204" in lint and "trial.yaml" in lint, output
    verify = _hook_output(output, "calico2cilium-verify")
    assert "DIFFERENT" in verify and "Counterexamples (" in verify, output
    # either flow differs: TCP 80 (Calico allows, Cilium denies) or TCP 8080 (the reverse)
    assert re.search(r"TCP dport (80|8080) ", verify), verify
    assert re.search(r"calico: (ALLOW|DENY) by NetworkPolicy prod/db.* \(calico/db\.yaml:\d+:\d+\)", verify)
    assert re.search(
        r"cilium: (ALLOW|DENY) by .*CiliumNetworkPolicy prod/db.*\(cilium/db\.yaml:\d+:\d+\)", verify
    )
