"""Plain YAML scalars that kubectl reads differently from PyYAML.

kubectl reads manifests with sigs.k8s.io/yaml, which decodes with go-yaml v2 (its goyaml.v2 fork)
into interface{} and converts the result to JSON. go-yaml's resolve() (gopkg.in/yaml.v2/resolve.go)
takes ``y``, ``Y``, ``n`` and ``N`` for booleans and, after dropping every ``_``, whatever
strconv.ParseInt(s, 0, 64) reads (``0o17``, ``0X1F``, ``0B1``, ``09``) or its yamlStyleFloat
pattern matches (``1e3``, ``7e12345``, a short commit hash) for numbers, where PyYAML's YAML 1.1
resolver sees strings. A value so read is no string any more (a CRD schema wanting one refuses it);
a mapping key so read is made a string again by formatting it (sigs.k8s.io/yaml
convertToJSONableObject: ``1e3`` becomes ``"1000"``, ``y`` becomes ``"true"``): another label key.
"""

from __future__ import annotations

import re

_NON_STRING = re.compile(
    r"^(?:[yYnN]|[-+]?0[xXoObB][0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|\.[0-9].*)$"
)
_FIRST = frozenset("yYnN0123456789+-.")


def kubectl_reads_as_other(text: str) -> bool:
    """Whether kubectl could read the plain scalar ``text`` as no string (a superset: quoting a
    string that needs no quotes changes nothing)."""
    return text[:1] in _FIRST and text != "" and _NON_STRING.match(text.replace("_", "")) is not None
