"""Validation of names, label keys and values, annotations and port names, as Calico does it.

Each ``*_problems`` function returns the reasons a string is refused (empty when it is valid), for
the caller to raise with its own error type; ``check_labels`` and ``check_annotations`` raise
``invalid_label`` at each bad key or value. Rules: [K8S] (IsQualifiedName, IsValidLabelValue,
IsDNS1123Label/Subdomain, IsValidPortName) as [V] applies them in validateObjectMeta,
validateObjectMetaLabels and the policy name rules.

Sources cited as [V], [CEL], [NS], [PC], [K8S]: listed in the ``calico2cilium.calico`` docstring.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from calico2cilium.calico.errors import INVALID_LABEL, Problems

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = rf"{_DNS_LABEL}(\.{_DNS_LABEL})*"
_DNS_LABEL_RE = re.compile(_DNS_LABEL)
_DNS_SUBDOMAIN_RE = re.compile(_DNS_SUBDOMAIN)
# [V] networkPolicyNameRegex: a label, one dot, or the "knp.default."/"ossg.default." prefixes.
_NETWORK_POLICY_NAME_RE = re.compile(
    rf"({_DNS_LABEL})(\.{_DNS_LABEL})?|((?:knp|ossg)\.default\.({_DNS_SUBDOMAIN}))"
)
# [V] globalNetworkPolicyNameRegex: a label, optionally prefixed by one "<label>." (the tier).
_GLOBAL_NETWORK_POLICY_NAME_RE = re.compile(rf"({_DNS_LABEL}\.)?{_DNS_LABEL}")
# [K8S] qualifiedNameFmt / labelValueFmt.
_QUALIFIED_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
DNS_LABEL_MAX = 63
DNS_SUBDOMAIN_MAX = 253
TOTAL_ANNOTATION_SIZE_MAX = 256 * 1024  # [V] totalAnnotationSizeLimitB


def _too_long(value: str, limit: int) -> list[str]:
    return [f"must be no more than {limit} characters"] if len(value) > limit else []


def dns_label_problems(value: str) -> list[str]:
    """[K8S] IsDNS1123Label."""
    problems = _too_long(value, DNS_LABEL_MAX)
    if not _DNS_LABEL_RE.fullmatch(value):
        problems.append(
            "must consist of lower case alphanumeric characters or '-', and start and end with an"
            " alphanumeric character"
        )
    return problems


def dns_subdomain_problems(value: str) -> list[str]:
    """[K8S] IsDNS1123Subdomain (= [V] nameRegex, plus the length limit of validateObjectMeta)."""
    problems = _too_long(value, DNS_SUBDOMAIN_MAX)
    if not _DNS_SUBDOMAIN_RE.fullmatch(value):
        problems.append(
            "must consist of lower case alphanumeric characters, '-' or '.', and must start and end"
            " with an alphanumeric character"
        )
    return problems


def network_policy_name_problems(value: str) -> list[str]:
    """[V] validateNetworkPolicy: length ≤ 253 and networkPolicyNameRegex."""
    problems = _too_long(value, DNS_SUBDOMAIN_MAX)
    if not _NETWORK_POLICY_NAME_RE.fullmatch(value):
        problems.append(
            "must be a lower-case DNS label ([a-z0-9] and '-'), optionally with one '.' (tier prefix)"
        )
    return problems


def global_network_policy_name_problems(value: str) -> list[str]:
    """[V] validateGlobalNetworkPolicy: length ≤ 253 and globalNetworkPolicyNameRegex."""
    problems = _too_long(value, DNS_SUBDOMAIN_MAX)
    if not _GLOBAL_NETWORK_POLICY_NAME_RE.fullmatch(value):
        problems.append(
            "must be a lower-case DNS label ([a-z0-9] and '-'), optionally with one '.' (tier prefix)"
        )
    return problems


def qualified_name_problems(value: str) -> list[str]:
    """[K8S] IsQualifiedName: ``[prefix/]name``, prefix a DNS subdomain, name ≤ 63 characters."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
        problems = dns_subdomain_problems(prefix)
        if problems:
            return [f"prefix part {p}" for p in problems]
    else:
        return ["a qualified name must be a name with an optional DNS subdomain prefix and '/'"]
    if not name:
        return ["name part must be non-empty"]
    problems = []
    if len(name) > DNS_LABEL_MAX:
        problems.append(f"name part must be no more than {DNS_LABEL_MAX} characters")
    if not _QUALIFIED_NAME_RE.fullmatch(name):
        problems.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and"
            " end with an alphanumeric character"
        )
    return problems


def label_value_problems(value: str) -> list[str]:
    """[K8S] IsValidLabelValue: empty, or ≤ 63 characters of [A-Za-z0-9_.-] starting/ending alnum."""
    problems = []
    if len(value) > DNS_LABEL_MAX:
        problems.append(f"must be no more than {DNS_LABEL_MAX} characters")
    if not _LABEL_VALUE_RE.fullmatch(value):
        problems.append(
            "a label value must be empty or consist of alphanumeric characters, '-', '_' or '.', and"
            " must start and end with an alphanumeric character"
        )
    return problems


def port_name_problems(value: str) -> list[str]:
    """[K8S] IsValidPortName (IANA_SVC_NAME), required by [V] ``portName`` for named ports."""
    problems = []
    if len(value) > 15:
        problems.append("must be no more than 15 characters")
    if not re.fullmatch(r"[-a-z0-9]+", value):
        problems.append("must contain only lower-case alphanumeric characters (a-z, 0-9) and '-'")
    if not re.search(r"[a-z]", value):
        problems.append("must contain at least one letter (a-z)")
    if "--" in value:
        problems.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        problems.append("must not begin or end with a hyphen")
    return problems


def check_labels(labels: Mapping[str, str], *, title: str = "labels") -> None:
    """Raise ``invalid_label`` at each bad key or value ([V] validateObjectMetaLabels)."""
    problems = Problems(title)
    for key, value in labels.items():
        for problem in qualified_name_problems(key):
            problems.add((key,), INVALID_LABEL, f"label key {key!r}: {problem}", key)
        for problem in label_value_problems(value):
            problems.add((key,), INVALID_LABEL, f"label value {value!r}: {problem}", value)
    problems.raise_if_any()


def check_annotations(annotations: Mapping[str, str], *, title: str = "annotations") -> None:
    """[V] validateObjectMetaAnnotations: keys are qualified names (checked lower-cased), total ≤ 256 KiB."""
    problems = Problems(title)
    total = 0
    for key, value in annotations.items():
        for problem in qualified_name_problems(key.lower()):
            problems.add((key,), INVALID_LABEL, f"annotation key {key!r}: {problem}", key)
        total += len(key.encode()) + len(value.encode())
    if total > TOTAL_ANNOTATION_SIZE_MAX:
        message = f"total size of annotations is too large by {total - TOTAL_ANNOTATION_SIZE_MAX} bytes"
        problems.add((), INVALID_LABEL, message, None)
    problems.raise_if_any()
