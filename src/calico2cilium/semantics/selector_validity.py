"""Which Cilium selectors Cilium can build at all (the verifier's own reading, not the compiler's).

Cilium turns every ``LabelSelector`` into requirements with ``labels.NewRequirement``, which checks
each *extended* key (``source.key``, ``labels.GetExtendedKeyFrom``: ``k8s:a`` -> ``k8s.a``, ``a`` ->
``any.a``) with ``IsQualifiedName`` and each ``In``/``NotIn`` value with ``IsValidLabelValue``. On an
error ``labelSelectorToRequirements`` returns nil: "the selector will be nil and the Matches()
implementation will refuse to match any labels" (cilium ``pkg/policy/api/selector.go``). Seen in
the field as "unable to construct selector in label selector ... name part must be no more than 63
characters" for ``k8s.io.cilium.k8s.namespace.labels.<long key>`` (cilium/cilium#43771 on 1.18;
#47817, fixed for 1.20 by #47845). ``matchLabels`` values are also checked by the CRD schema
(pattern and 63 characters, cilium/cilium#12117), so the apiserver rejects such a resource.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_DNS_SUBDOMAIN_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def extended_key(key: str) -> str:
    """``source:key`` -> ``source.key``; no source -> ``any.key``."""
    source, sep, name = key.partition(":")
    return f"{source}.{name}" if sep else f"any.{key}"


def valid_key(key: str) -> bool:
    """Kubernetes ``IsQualifiedName`` of the extended key: ``[prefix/]name``, the prefix a DNS
    subdomain of at most 253 characters, the name at most 63 alphanumerics, '-', '_', '.'
    starting and ending alphanumeric."""
    prefix, slash, name = extended_key(key).rpartition("/")
    if slash and (
        "/" in prefix
        or not prefix
        or len(prefix) > 253
        or not all(_DNS_SUBDOMAIN_LABEL.fullmatch(part) for part in prefix.split("."))
    ):
        return False
    return bool(_NAME.fullmatch(name))


def valid_value(value: str) -> bool:
    """Kubernetes ``IsValidLabelValue``: empty, or at most 63 of [A-Za-z0-9_.-] starting and ending
    alphanumeric."""
    return bool(_VALUE.fullmatch(value))
