"""calico2cilium: carry Calico network policy to Cilium without changing what traffic is allowed.

Public library API (stable):

- :func:`load` — read files, directories or streams into typed documents with diagnostics.
- :func:`convert` — Calico policy to Cilium policy documents, with diagnostics.
- :class:`Cluster`, :func:`cilium_target` — the cluster and the Cilium release a conversion is for.
- :mod:`calico2cilium.selector` — ``parse(expr)`` for Calico selector expressions.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from calico2cilium.diagnostics import Diagnostic, Severity, Source

if TYPE_CHECKING:
    from calico2cilium.convert import ConvertResult
    from calico2cilium.load import LoadResult

__version__ = "0.1.0"

__all__ = ["Cluster", "Diagnostic", "Severity", "Source", "__version__", "cilium_target", "convert", "load"]


def load(*args: Any, **kwargs: Any) -> LoadResult:
    """:func:`calico2cilium.load.load` (imported on first call, so that ``import calico2cilium``
    stays cheap for the CLI's start-up)."""
    from calico2cilium.load import load as load_

    return load_(*args, **kwargs)


def convert(*args: Any, **kwargs: Any) -> ConvertResult:
    """:func:`calico2cilium.convert.convert` (imported on first call)."""
    from calico2cilium.convert import convert as convert_

    return convert_(*args, **kwargs)


_FUNCTIONS = {"load": load, "convert": convert}


class _Package(types.ModuleType):
    """The package's module type. Importing the submodule ``calico2cilium.load`` (or ``.convert``)
    makes Python set the package attribute of that name to the submodule, which would replace the
    function above: ``calico2cilium.load(...)`` would then raise "'module' object is not callable"
    from its second use on. The functions keep their names; the submodules stay importable by
    their dotted names (``from calico2cilium.load import LoadResult``)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _FUNCTIONS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> object:
    # Imported lazily so that ``import calico2cilium`` stays cheap for the CLI's start-up.
    if name == "Cluster":
        from calico2cilium.facts.cluster import Cluster

        return Cluster
    if name == "cilium_target":
        from calico2cilium.facts.target import cilium_target

        return cilium_target
    raise AttributeError(name)
