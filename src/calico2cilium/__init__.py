"""calico2cilium: carry Calico network policy to Cilium without changing what traffic is allowed.

Public library API (stable):

- :func:`load` — read files, directories or streams into typed documents with diagnostics.
- :func:`convert` — Calico policy to Cilium policy documents, with diagnostics.
- :class:`Cluster`, :func:`cilium_target` — the cluster and the Cilium release a conversion is for.
- :mod:`calico2cilium.selector` — ``parse(expr)`` for Calico selector expressions.
"""

from calico2cilium.diagnostics import Diagnostic, Severity, Source

__version__ = "0.1.0"

__all__ = ["Cluster", "Diagnostic", "Severity", "Source", "__version__", "cilium_target", "convert", "load"]


def __getattr__(name: str) -> object:
    # Imported lazily so that ``import calico2cilium`` stays cheap for the CLI's start-up.
    if name == "load":
        from calico2cilium.load import load

        return load
    if name == "convert":
        from calico2cilium.convert import convert

        return convert
    if name == "Cluster":
        from calico2cilium.facts.cluster import Cluster

        return Cluster
    if name == "cilium_target":
        from calico2cilium.facts.target import cilium_target

        return cilium_target
    raise AttributeError(name)
