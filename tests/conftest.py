"""Settings of the whole test session.

``make quick`` (``pytest --quick``) is the edit loop: it leaves out the tests marked ``slow`` (the
pre-commit hook install, the z3 proof of every fixture, the concrete replays of conversions and
their mutants, the differential suites) and the property-based (hypothesis) tests. ``make test``
(what CI runs) runs everything, the ``slow`` tests first: on several workers (pytest-xdist, ``-n``)
the longest tests then start at once instead of last.

The differential test's refusal rate is printed at the end of the run (from the xdist worker that
ran it, when there are workers).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--quick", action="store_true", help="leave out the slow and the property-based tests (make quick)"
    )


def _left_out_of_quick(item: pytest.Item) -> bool:
    function = getattr(item, "obj", None)
    return item.get_closest_marker("slow") is not None or bool(getattr(function, "is_hypothesis_test", False))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("quick"):
        dropped = [item for item in items if _left_out_of_quick(item)]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if not _left_out_of_quick(item)]
    else:
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: slow ones first


_FROM_WORKERS: list[str] = []


def _refusal_lines() -> list[str]:
    module = sys.modules.get("test_convert_differential")
    refusals = getattr(module, "REFUSALS", None)
    return list(refusals.summary()) if refusals is not None else []


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # an xdist worker: its lines go to the controller
        output["refusals"] = _refusal_lines()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist's controller, as each worker ends."""
    _FROM_WORKERS.extend(getattr(node, "workeroutput", {}).get("refusals", []))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = _refusal_lines() + _FROM_WORKERS
    if lines:
        terminalreporter.section("conversion refusal rate (test_convert_differential)")
        for line in lines:
            terminalreporter.write_line(line)
