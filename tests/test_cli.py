"""The command line as a user meets it: exit codes, formats, stdin, several inputs at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import run_cli as run

ROOT = Path(__file__).resolve().parents[1]
GOOD = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-dns
spec:
  selector: all()
  types: [Egress]
  egress:
    - action: Allow
      protocol: UDP
      destination:
        ports: [53]
"""


def test_lint_clean_file_exits_0(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    code, out, err = run("lint", str(tmp_path / "good.yaml"))
    assert code == 0 and out == ""
    assert "1 files, 1 resources, 1 valid, 0 errors" in err


def test_lint_reads_stdin_by_default() -> None:
    code, out, _ = run("lint", stdin="kind: [oops\n")
    assert code == 2 and out.startswith("<stdin>:")


def test_a_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "a-bad.yaml").write_text("\tnot: yaml\n")
    (tmp_path / "b-binary.yaml").write_bytes(b"\x00\x01")
    (tmp_path / "c-good.yaml").write_text(GOOD)
    (tmp_path / "d-bad-kind.yaml").write_text(GOOD.replace("GlobalNetworkPolicy", "GlobalNetPolicy"))
    code, out, err = run("lint", str(tmp_path))
    assert code == 2
    assert "C2C104" in out and "C2C103" in out and "C2C202" in out
    assert "4 files, 2 resources, 1 valid, 3 errors" in err


def test_warnings_only_exit_1(tmp_path: Path) -> None:
    staged = GOOD.replace("kind: GlobalNetworkPolicy", "kind: StagedGlobalNetworkPolicy")
    (tmp_path / "s.yaml").write_text(staged)
    code, out, _ = run("lint", str(tmp_path / "s.yaml"))
    assert code == 1 and "C2C204" in out


def test_missing_path_is_reported_and_others_still_run(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    code, out, _ = run("lint", str(tmp_path / "nope.yaml"), str(tmp_path / "good.yaml"))
    assert code == 2 and "C2C101" in out


def test_positions_point_at_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD.replace("  selector: all()", "  selector: app = 'x'"))
    _, out, _ = run("lint", str(path))
    assert out.startswith(f"{path}:6:17: error C2C211 ")


def test_json_github_and_sarif_formats(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD.replace("egress:", "egres:"))
    _, out, _ = run("lint", "-o", "json", str(path))
    findings = json.loads(out)
    assert findings[0]["code"] == "C2C210" and findings[0]["line"] == 8
    _, out, _ = run("lint", "-o", "github", str(path))
    assert out.startswith(f"::error file={path},line=8,col=3,title=C2C210::")
    _, out, _ = run("lint", "-o", "sarif", str(path))
    sarif = json.loads(out)
    assert sarif["runs"][0]["results"][0]["ruleId"] == "C2C210"


def test_usage_errors_exit_2() -> None:
    code, _, _ = run("lint", "--format", "xml")
    assert code == 2
    code, _, _ = run("explain", "C2C999")
    assert code == 2


def test_explain_prints_examples() -> None:
    code, out, _ = run("explain", "C2C211")
    assert code == 0 and "invalid-selector" in out and "Fails:" in out and "Passes:" in out
    code, out, _ = run("explain", "--list")
    assert code == 0 and "C2C104" in out


def test_console_script_version_and_no_traceback_on_garbage(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("calico2cilium")
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "calico2cilium" in done.stdout
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(bytes(range(1, 256)) * 40)
    done = subprocess.run([str(exe), "lint", str(garbage)], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout


def test_help_lists_each_command_with_its_own_short_help() -> None:
    """``--help`` is written from ``cli.COMMANDS`` without importing the commands (start-up time):
    the texts must be the commands' own."""
    from importlib import import_module

    from calico2cilium.cli import COMMANDS

    code, out, _ = run("--help")
    assert code == 0
    for name, short in COMMANDS.items():
        assert import_module(f"calico2cilium.cli.{name}").command.short_help == short
        assert name in out
    code, _, err = run("nosuchcommand")
    assert code == 2 and "No such command" in err


def test_lint_imports_neither_the_converter_nor_the_verifier_nor_z3(tmp_path: Path) -> None:
    """A pre-commit hook runs ``lint`` on each changed file: it imports only what checking needs
    (no jsonschema for a valid document, no pydantic model of a kind it does not contain)."""
    policy = tmp_path / "p.yaml"
    policy.write_text(GOOD)
    probe = (
        "import sys; from calico2cilium.cli import main\n"
        "try:\n    main(['lint', '-q', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(policy)], capture_output=True, text=True, check=False
    )
    loaded = set(done.stdout.split())
    assert "calico2cilium.validate" in loaded, done.stderr
    unwanted = {
        "z3",
        "jsonschema",
        "deepdiff",
        "calico2cilium.convert",
        "calico2cilium.verify",
        "calico2cilium.semantics",
        "calico2cilium.calico.networkpolicy",
        "calico2cilium.cli.convert",
        "calico2cilium.cli.verify",
    }
    assert not loaded & unwanted, sorted(loaded & unwanted)
