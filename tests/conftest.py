"""Shared pytest hooks: the differential test's refusal rate is printed at the end of the run."""

from __future__ import annotations

import sys
from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    module = sys.modules.get("test_convert_differential")
    refusals = getattr(module, "REFUSALS", None)
    if refusals is None:
        return
    lines = refusals.summary()
    if lines:
        terminalreporter.section("conversion refusal rate (test_convert_differential)")
        for line in lines:
            terminalreporter.write_line(line)
