"""The custom pydantic error types of the input models, and how validators raise them.

Values that Calico (or Kubernetes) would refuse raise a pydantic error whose ``type`` is one of
``ERROR_TYPES`` and whose ``loc`` is the exact YAML path of the bad value: a field validator raises
``invalid(...)`` at the validated value; a model validator collects ``Problems``, each at its own
``loc`` below the model. Wrong types, missing and unknown fields keep pydantic's own error types.
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

INVALID_CIDR: Final = "invalid_cidr"
INVALID_PORT: Final = "invalid_port"
INVALID_PROTOCOL: Final = "invalid_protocol"
INVALID_ICMP: Final = "invalid_icmp"
INVALID_LABEL: Final = "invalid_label"
INVALID_ORDER: Final = "invalid_order"
INVALID_RULE: Final = "invalid_rule"
INVALID_NAME: Final = "invalid_name"

ERROR_TYPES: Final = frozenset(
    {
        INVALID_CIDR,
        INVALID_PORT,
        INVALID_PROTOCOL,
        INVALID_ICMP,
        INVALID_LABEL,
        INVALID_ORDER,
        INVALID_RULE,
        INVALID_NAME,
    }
)

Loc: TypeAlias = tuple[str | int, ...]


def invalid(kind: str, message: str) -> PydanticCustomError:
    """A custom pydantic error; raise it from a validator to report at the validated value."""
    # No context: the message is used verbatim, so braces in user values are harmless.
    return PydanticCustomError(kind, message)


class Problems:
    """Errors collected by a model validator, each at its own ``loc`` relative to the model.

    pydantic prefixes the locations with the model's own location when the ValidationError raised
    here propagates, so ``add(("icmp",), ...)`` inside ``spec.ingress[0]`` is reported at
    ``("spec", "ingress", 0, "icmp")``.
    """

    def __init__(self, title: str) -> None:
        self._title = title
        self._details: list[InitErrorDetails] = []

    def add(self, loc: Loc, kind: str, message: str, value: Any) -> None:
        self._details.append(InitErrorDetails(type=invalid(kind, message), loc=loc, input=value))

    def __bool__(self) -> bool:
        return bool(self._details)

    def raise_if_any(self) -> None:
        if self._details:
            raise ValidationError.from_exception_data(self._title, self._details)
