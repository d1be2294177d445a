"""Helpers shared by the test modules (imported as ``from helpers import ...``, as
``fixture_inventory`` is)."""

from __future__ import annotations

from click.testing import CliRunner

from calico2cilium.cli import main


def run_cli(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """``calico2cilium ARGS`` in this process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr
