"""Helpers shared by the test modules (imported as ``from helpers import ...``, as
``fixture_inventory`` is)."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from calico2cilium.cli import main
from calico2cilium.convert import ConvertResult
from calico2cilium.convert import convert as convert_with_defaults


def run_cli(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """``calico2cilium ARGS`` in this process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def convert(*args: Any, **kwargs: Any) -> ConvertResult:
    """``calico2cilium.convert`` with Felix's DefaultEndpointToHostAction stated (Accept, as
    calico.yaml and the Tigera operator set it), so that C2C340 ("not stated, assumed") is not
    among the findings a test pins. Tests of the action itself call ``convert`` directly."""
    kwargs.setdefault("endpoint_to_host_action", "Accept")
    return convert_with_defaults(*args, **kwargs)
