"""Plain YAML scalars that kubectl reads differently from PyYAML.

kubectl reads manifests with sigs.k8s.io/yaml, which decodes with go-yaml v2 (its goyaml.v2 fork)
into interface{} and converts the result to JSON. go-yaml's resolve() (gopkg.in/yaml.v2/resolve.go,
kubernetes-sigs/yaml goyaml.v2/resolve.go) takes ``y``, ``Y``, ``n`` and ``N`` for booleans and,
after dropping every ``_``, whatever strconv.ParseInt or ParseUint(s, 0, 64) reads (``0o17``,
``0X1F``, ``0B1``) or, failing that, what its yamlStyleFloat pattern matches and
strconv.ParseFloat reads (``1e3``, ``09``, ``-.5``) for numbers, where PyYAML's YAML 1.1
resolver sees strings. A value so read is no string any more (a CRD schema wanting one refuses
it); a mapping key so read is made a string again by formatting it (sigs.k8s.io/yaml
convertToJSONableObject: ``1e3`` becomes ``"1000"``, ``y`` becomes ``"true"``): another label key.

The test is exact, not a superset: a resource holding such a scalar is refused (C2C348), so a
string kubectl keeps (``0beef``, a short commit hash; ``0o9``; ``7e12345``, whose ParseFloat
overflows; ``.5abc``) must not be taken for one.

The other way round, PyYAML reads base 60 (``20:22``, ``1:30.5``) as a number where go-yaml v2
keeps the string ("Base 60 floats ... are purposefully unsupported here", resolve.go):
``base60`` tells the loader to keep it, as kubectl does (``ports: [20:22]`` is the range 20-22).
"""

from __future__ import annotations

import math
import re

_INT = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)")
"""strconv.ParseInt/ParseUint(s, 0, 64) syntax (an out-of-range literal is a big.Int in the
kubernetes-sigs fork, a string in go-yaml v2.4.0: taken as a number, the stricter reading)."""
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
"""go-yaml v2's yamlStyleFloat."""
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
"""strconv.ParseFloat syntax of a scalar starting with ``.`` (taken as it is, ``_`` included:
ParseFloat refuses underscores without a base prefix)."""
_FIRST = frozenset("yYnN0123456789+-.")


def kubectl_reads_as_other(text: str) -> bool:
    """Whether go-yaml v2 reads the plain scalar ``text``, which PyYAML reads as a string, as a
    boolean or a number (exactly; the forms PyYAML also reads as no string need no answer)."""
    first = text[:1]
    if first not in _FIRST or not first:
        return False
    if len(text) == 1 and first in "yYnN":
        return True
    if first == ".":  # resolve(): hint '.', strconv.ParseFloat(in, 64)
        return _DOT_FLOAT.fullmatch(text) is not None and _finite(text)
    if first in "yYnN":
        return False
    plain = text.replace("_", "")  # hints 'D' and 'S'
    if _INT.fullmatch(plain) is not None:
        return True
    return _FLOAT.fullmatch(plain) is not None and _finite(plain)


def _finite(text: str) -> bool:
    """Whether strconv.ParseFloat reads ``text`` without a range error (an overflow: go-yaml
    then keeps the string; an underflow reads as 0)."""
    return math.isfinite(float(text))


def base60(text: str) -> bool:
    """Whether ``text``, a plain scalar PyYAML reads as an int or a float, is one of its base 60
    forms, which go-yaml v2 reads as a string."""
    return ":" in text
