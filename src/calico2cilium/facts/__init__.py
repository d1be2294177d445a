"""Neutral facts: what is true of the cluster and of the Cilium release, read alike by the compiler
(``compile/``, ``cilium/``) and by the verifier (``semantics/``, ``verify/``).

A *fact* (a port list, a version table, a protocol name) may be shared; an *interpretation* (what
a rule, a Service match or a selector means) may not: the verifier must not share the compiler's
reading, or a bug in it would be proven correct. The import-linter contract in pyproject.toml keeps
that line: this package imports nothing from either side.

- ``target``: ``CiliumTarget``, what each supported Cilium release supports and how it behaves.
- ``cluster``: ``Cluster``, the one value describing the cluster a conversion or a proof is for.
- ``felix``: Felix settings and their defaults (failsafe ports, DefaultEndpointToHostAction).
- ``protocols``: protocol numbers and IANA service-name syntax.
"""
