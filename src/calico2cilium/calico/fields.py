"""Reusable annotated field types of the input models: lists, maps, flags, integers, order.

They encode how YAML reaches the models: ``null`` where Kubernetes means "absent", strict booleans
and integers (no ``"true"``, ``yes`` or ``4.0``; a rule's ``ipVersion`` is one), lists kept as
immutable tuples, and Calico's policy/tier ``order``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, Strict
from pydantic_core import PydanticKnownError

from calico2cilium.calico.errors import INVALID_ORDER, invalid

T = TypeVar("T")


def _none_to_empty_tuple(value: Any) -> Any:
    # `ingress:` with nothing after it is YAML null; Go decodes it to an empty slice and the API
    # server prunes nulls, so it means "absent".
    return () if value is None else value


def _none_to_empty_dict(value: Any) -> Any:
    return {} if value is None else value


def _none_to_false(value: Any) -> Any:
    return False if value is None else value


def _exact_int(value: Any) -> Any:
    # JSON/YAML integers only: no bools (YAML `yes`), no floats (`4.0`), no strings ("4").
    if type(value) is not int:
        raise PydanticKnownError("int_type")
    return value


Items = Annotated[tuple[T, ...], BeforeValidator(_none_to_empty_tuple)]
"""A YAML list, kept as an immutable tuple; ``null`` means empty."""

StrMap = Annotated[dict[str, str], BeforeValidator(_none_to_empty_dict)]
Flag = Annotated[bool, Strict(), BeforeValidator(_none_to_false)]
"""A strict YAML boolean (``"true"`` or ``1`` are errors); ``null`` or absent means false."""

ExactInt = Annotated[int, Strict()]

IPVersion = Annotated[Literal[4, 6], BeforeValidator(_exact_int)]
"""A rule's ``ipVersion``: the YAML integer 4 or 6."""


def _order(value: Any) -> Any:
    # [CRD] order is `type: number`; a string "10" is not a number, nor is a YAML bool.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticKnownError("float_type")
    try:
        number = float(value)
    except OverflowError:
        raise invalid(INVALID_ORDER, "order must be a finite number (this integer is too large)") from None
    if not math.isfinite(number):
        raise invalid(INVALID_ORDER, "order must be a finite number, not NaN or infinity")
    return number


Order = Annotated[float | None, BeforeValidator(_order)]
"""Policy/tier order: a finite number (int or float in YAML); absent means "last" (+inf)."""
