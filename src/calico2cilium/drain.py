"""``drained``: a list's items in order, each taken out of the list as it is given.

For the stages of ``convert`` that turn a list of large values into another (input documents into
IR, resources into output documents): the consumer's list then lets go of each value once it is
used, so the two forms are never both whole at once (issue 15, item 13: memory proportional to
the input, with a small constant).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

_T = TypeVar("_T")


def drained(items: list[_T]) -> Iterator[_T]:
    """``items`` in order, each removed from ``items`` as it is yielded (``items`` ends empty)."""
    items.reverse()
    while items:
        yield items.pop()
