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


def verify_explained(result: ConvertResult, assumptions: Any = None, **options: Any) -> Any:
    """``verify(narrowing=True)`` as ``convert --verify`` asks it of a conversion that fails closed:
    Cilium allows no flow Calico denies, and a narrowing finding of the conversion explains every
    flow it denies more (``verify.attribution``; C2C414 makes the status ``different``)."""
    from calico2cilium.verify.api import verify
    from calico2cilium.verify.attribution import Attribution

    assert result.loaded is not None
    attribution = Attribution(result.diagnostics, result.loaded.documents)
    return verify(
        result.loaded, result.documents, assumptions, narrowing=True, attribute=attribution, **options
    )
