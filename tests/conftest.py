"""Settings of the whole test session.

``make quick`` (``pytest --quick``) is the edit loop: it leaves out the tests marked ``slow`` (the
pre-commit hook install, the z3 proof of every fixture, the concrete replays of conversions and
their mutants, the differential suites) and the property-based (hypothesis) tests. ``make test``
(what CI runs) runs everything, the ``slow`` tests first: on several workers (pytest-xdist, ``-n``)
the longest tests then start at once instead of last.
"""

from __future__ import annotations

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
