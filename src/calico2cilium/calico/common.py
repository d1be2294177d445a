"""Shared parts of the typed input models: metadata, rules, ports, protocols, CIDRs, validators.

Every model is frozen and forbids unknown fields. YAML keys are the aliases; Python names are
snake_case (``populate_by_name`` accepts both). Values that Calico (or Kubernetes) would refuse
raise a pydantic error whose ``loc`` is the exact YAML path of the bad value and whose ``type`` is
one of the custom error types below; wrong types, missing and unknown fields keep pydantic's own
error types.

Sources, cited as [V] etc. next to each rule (repository projectcalico/calico unless noted):

- [V]   ``libcalico-go/lib/validator/v3/validator.go`` (the Go validator of calicoctl and the
        Calico API server; read at the 2026 main branch, which also applies the CRD rules).
- [CEL] ``x-kubernetes-validations`` of the CRDs (``api/pkg/apis/projectcalico/v3/*.go`` markers;
        copies in ``shared/crds/calico``).
- [NS]  ``api/pkg/lib/numorstring/{port,protocol,uint8orstring}.go`` (YAML/JSON decoding).
- [PC]  ``api/pkg/apis/projectcalico/v3/policy_common.go`` (field tags: ``net``, ``dive``...).
- [K8S] ``k8s.io/apimachinery/pkg/util/validation`` (IsQualifiedName, IsValidLabelValue,
        IsDNS1123Label/Subdomain, IsValidPortName), used by [V] for labels, names, port names.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, Final, Literal, Self, TypeAlias, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, PydanticKnownError

# ----------------------------------------------------------------------------------------------
# Error types and located errors
# ----------------------------------------------------------------------------------------------

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
JsonPath: TypeAlias = tuple[str | int, ...]


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


# ----------------------------------------------------------------------------------------------
# Names, labels, annotations ([K8S] via [V] validateObjectMeta / validateObjectMetaLabels)
# ----------------------------------------------------------------------------------------------

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


def has_global_selector(expression: str | None) -> bool:
    """[CEL] ``selector.contains('global(')`` (the Go check uses "global()"; this is the stricter one)."""
    return expression is not None and "global(" in expression


# ----------------------------------------------------------------------------------------------
# Reusable field types
# ----------------------------------------------------------------------------------------------

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


class _SelectorMarker:
    """Marks a field whose value is a Calico selector expression (see ``selector_fields``)."""

    def __repr__(self) -> str:
        return "<selector>"


SELECTOR: Final = _SelectorMarker()

Selector = Annotated[str | None, SELECTOR]
"""A Calico selector expression, stored verbatim (parsed by ``calico2cilium.calico.selector``)."""


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


# ----------------------------------------------------------------------------------------------
# Base model and selector discovery
# ----------------------------------------------------------------------------------------------


class CalicoModel(BaseModel):
    """Base of every input model: immutable, unknown fields are errors, aliases are YAML keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _walk_selectors(model: BaseModel, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None:
            continue
        key = info.alias or name
        if isinstance(value, str):
            if any(isinstance(meta, _SelectorMarker) for meta in info.metadata):
                yield (*path, key), value
        elif isinstance(value, BaseModel):
            yield from _walk_selectors(value, (*path, key))
        elif isinstance(value, tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _walk_selectors(item, (*path, key, index))


class Resource(CalicoModel):
    """A whole input document (apiVersion, kind, metadata, spec)."""

    def selector_fields(self) -> Iterator[tuple[JsonPath, str]]:
        """Every selector expression present, with its JSON path in YAML key names.

        For example ``(("spec", "ingress", 0, "source", "selector"), "app == 'web'")``. Covers the
        policy ``selector``, ``namespaceSelector``, ``serviceAccountSelector`` and, in each rule's
        source/destination, ``selector``, ``notSelector``, ``namespaceSelector`` and
        ``serviceAccounts.selector``. Empty strings are yielded too (they mean ``all()``).
        """
        return _walk_selectors(self, ())


# ----------------------------------------------------------------------------------------------
# Metadata
# ----------------------------------------------------------------------------------------------

Timestamp = str  # the project's YAML loader keeps timestamps as strings (Kubernetes reads JSON)


class ObjectMeta(CalicoModel):
    """Kubernetes ObjectMeta as ``kubectl get -o yaml`` prints it; unknown keys are errors.

    ``name`` is required. Subclasses override ``name_problems`` with the naming rule of their
    kind; the default is the DNS-subdomain rule of [V] validateObjectMeta.
    """

    name: str
    generate_name: str | None = Field(default=None, alias="generateName")
    namespace: str | None = None
    self_link: str | None = Field(default=None, alias="selfLink")
    uid: str | None = None
    resource_version: str | None = Field(default=None, alias="resourceVersion")
    generation: ExactInt | None = None
    creation_timestamp: Timestamp | None = Field(default=None, alias="creationTimestamp")
    deletion_timestamp: Timestamp | None = Field(default=None, alias="deletionTimestamp")
    deletion_grace_period_seconds: ExactInt | None = Field(default=None, alias="deletionGracePeriodSeconds")
    labels: StrMap = Field(default_factory=dict)
    annotations: StrMap = Field(default_factory=dict)
    owner_references: Items[dict[str, Any]] = Field(default=(), alias="ownerReferences")
    finalizers: Items[str] = ()
    managed_fields: Items[dict[str, Any]] = Field(default=(), alias="managedFields")
    cluster_name: str | None = Field(default=None, alias="clusterName")  # printed by kubectl < 1.25

    @field_validator("creation_timestamp", "deletion_timestamp", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> Any:
        # yaml.safe_load turns timestamps into datetime objects; keep the RFC 3339 text.
        isoformat = getattr(value, "isoformat", None)
        if isoformat is not None and not isinstance(value, str):
            return str(isoformat()).replace("+00:00", "Z")
        return value

    @classmethod
    def name_problems(cls, value: str) -> list[str]:
        """The naming rule of the kind; overridden by the policy and tier metadata classes."""
        return dns_subdomain_problems(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        problems = cls.name_problems(value) if value else ["must not be empty"]
        if problems:
            raise invalid(INVALID_NAME, f"invalid name {value!r}: " + "; ".join(problems))
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        # Namespaces are DNS labels (Kubernetes ValidateObjectMeta / ValidateNamespaceName); an
        # empty string means "not set", as in Kubernetes.
        if value:
            problems = dns_label_problems(value)
            if problems:
                raise invalid(INVALID_NAME, f"invalid namespace {value!r}: " + "; ".join(problems))
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        check_labels(value)
        return value

    @field_validator("annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        check_annotations(value)
        return value


Metadata = ObjectMeta


# ----------------------------------------------------------------------------------------------
# Scalar values parsed into small immutable models: Cidr, Port, Protocol
# ----------------------------------------------------------------------------------------------

IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
_CIDR_TEXT_RE = re.compile(r"[0-9A-Fa-f:.]+(/[0-9]+)?")


class _Scalar(CalicoModel):
    """A model read from (and written back as) one YAML scalar. Build it with ``parse``."""

    @classmethod
    def _fields_from(cls, value: Any) -> dict[str, Any]:
        raise NotImplementedError

    @model_validator(mode="wrap")
    @classmethod
    def _from_scalar(cls, value: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(value, cls):
            return value
        return handler(cls._fields_from(value))

    @classmethod
    def parse(cls, value: Any) -> Self:
        """Parse a YAML scalar (raises pydantic.ValidationError)."""
        return cls.model_validate(value)


def parse_network(text: str, *, allow_bare_ip: bool) -> IPNetwork:
    """Parse a CIDR as Go's ``net.ParseCIDR`` would, normalising host bits like Calico.

    - ``a.b.c.d/n`` or an IPv6 prefix; the prefix length is decimal digits (Go does not accept
      Python's netmask form ``10.0.0.0/255.0.0.0``, nor zones ``%eth0``).
    - Host bits (``10.0.0.1/24``) are accepted and masked: Calico's backend conversion uses
      ``cnet.ParseCIDROrIP``, which returns the masked network (``updateprocessors/rules.go``).
      Note: calicoctl's field tag ``net`` ([PC] ``dive,net``, [V] validateIPNetwork) refuses host
      bits, but the Kubernetes CRD path does not; ``Cidr.has_host_bits`` tells them apart.
    - A bare address is accepted only with ``allow_bare_ip`` (as /32 or /128).
    - IPv4-mapped IPv6 networks are refused (Go would call them IPv4).
    """
    if not _CIDR_TEXT_RE.fullmatch(text):
        raise ValueError("not an IP network in CIDR notation (e.g. 10.0.0.0/8 or 2001:db8::/32)")
    if "/" not in text:
        if not allow_bare_ip:
            raise ValueError("a prefix length is required (write a single address as /32 or /128)")
        address = ipaddress.ip_address(text)
        _refuse_ipv4_mapped(address)
        return ipaddress.ip_network(address)
    network = ipaddress.ip_network(text, strict=False)
    _refuse_ipv4_mapped(network.network_address)
    return network


def _refuse_ipv4_mapped(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    # Go's net.IP.To4() treats ::ffff:a.b.c.d as IPv4, so Calico would count such an entry as
    # IPv4 (cnet IPNet.Version) while Python sees IPv6: the family is ambiguous, refuse it.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        raise ValueError("IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are ambiguous; write the IPv4 form")


def is_strict_subnet(inner: IPNetwork, outer: IPNetwork) -> bool:
    """True when ``inner`` lies inside ``outer`` and is smaller (same IP family)."""
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer) and inner.prefixlen > outer.prefixlen
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer) and inner.prefixlen > outer.prefixlen
    return False


class Cidr(_Scalar):
    """An IP network from ``nets``/``notNets``/``ipBlock``: the text as written and the network.

    [V] validateRule parses rule nets with the strict ``cnet.ParseCIDR``: a prefix is required
    (semantics.md §1.4). Serialised back as the original text.
    """

    allow_bare_ip: ClassVar[bool] = False

    text: str
    network: IPNetwork

    @classmethod
    def _fields_from(cls, value: Any) -> dict[str, Any]:
        if not isinstance(value, str):
            raise PydanticKnownError("string_type")
        try:
            network = parse_network(value, allow_bare_ip=cls.allow_bare_ip)
        except ValueError as exc:
            raise invalid(INVALID_CIDR, f"invalid CIDR {value!r}: {exc}") from None
        return {"text": value, "network": network}

    @model_serializer(mode="plain")
    def as_yaml(self) -> str:
        """The value as written in the input (also what ``model_dump`` produces)."""
        return self.text

    def __str__(self) -> str:
        return self.text

    @property
    def version(self) -> Literal[4, 6]:
        return 4 if self.network.version == 4 else 6

    @property
    def has_host_bits(self) -> bool:
        """True for e.g. ``10.0.0.1/24``: Calico matches ``10.0.0.0/24``; calicoctl would refuse it."""
        address = self.text.split("/", 1)[0]
        return ipaddress.ip_address(address) != self.network.network_address


class SetCidr(Cidr):
    """A NetworkSet/GlobalNetworkSet entry: a bare address is accepted as /32 or /128.

    [V] field tag ``cidr`` ([PC]-style tag on ``NetworkSetSpec.Nets``) is validateCIDR, which uses
    ``cnet.ParseCIDROrIP``; the set processors convert with the same function
    (``updateprocessors/globalnetworksetprocessor.go``), so ``1.2.3.4`` means ``1.2.3.4/32``.
    """

    allow_bare_ip: ClassVar[bool] = True


class IPAddress(_Scalar):
    """A single IP address (HostEndpoint ``expectedIPs``; [V] tag ``ip`` = Go ``net.ParseIP``)."""

    text: str
    address: ipaddress.IPv4Address | ipaddress.IPv6Address

    @classmethod
    def _fields_from(cls, value: Any) -> dict[str, Any]:
        if not isinstance(value, str):
            raise PydanticKnownError("string_type")
        if not re.fullmatch(r"[0-9A-Fa-f:.]+", value):
            raise invalid(INVALID_CIDR, f"invalid IP address {value!r}")
        try:
            address = ipaddress.ip_address(value)
            _refuse_ipv4_mapped(address)
        except ValueError as exc:
            raise invalid(INVALID_CIDR, f"invalid IP address {value!r}: {exc}") from None
        return {"text": value, "address": address}

    @model_serializer(mode="plain")
    def as_yaml(self) -> str:
        """The value as written in the input (also what ``model_dump`` produces)."""
        return self.text

    def __str__(self) -> str:
        return self.text


_ASCII_DIGITS_RE = re.compile(r"[0-9]+")
_PORT_RANGE_RE = re.compile(r"([0-9]+):([0-9]+)")
_NAMED_PORT_RE = re.compile(r"[a-zA-Z0-9_.-]{1,128}")
MAX_PORT = 65535


class Port(_Scalar):
    """A Calico rule port: a number, an inclusive range ``"min:max"``, or a named port.

    Decoding follows [NS] ``PortFromString``/``UnmarshalJSON`` (numbers fit in uint16; ranges are
    ``^\\d+:\\d+$`` with min ≤ max; anything else must match ``^[a-zA-Z0-9_.-]{1,128}$``), then [V]
    validatePort (numbers and range bounds are 1–65535: **0 is rejected**) and the [V] ``portName``
    tag on ``Port.PortName`` (Kubernetes IANA_SVC_NAME: ≤ 15 lower-case alphanumerics and '-',
    at least one letter).
    """

    min_port: int | None = None
    max_port: int | None = None
    name: str | None = None

    @classmethod
    def _fields_from(cls, value: Any) -> dict[str, Any]:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise invalid(
                INVALID_PORT, f"a port must be a number, a range 'min:max' or a name, not {value!r}"
            )
        if isinstance(value, int):
            return cls._number(value, value)
        if _ASCII_DIGITS_RE.fullmatch(value):
            return cls._number(int(value), value)
        match = _PORT_RANGE_RE.fullmatch(value)
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            for bound in (low, high):
                if not 1 <= bound <= MAX_PORT:
                    raise invalid(INVALID_PORT, f"invalid port range {value!r}: ports must be 1–{MAX_PORT}")
            if low > high:
                raise invalid(INVALID_PORT, f"invalid port range {value!r}: minimum is greater than maximum")
            return {"min_port": low, "max_port": high}
        if not _NAMED_PORT_RE.fullmatch(value):
            raise invalid(INVALID_PORT, f"invalid port {value!r}: not a number, a range 'min:max' or a name")
        problems = port_name_problems(value)
        if problems:
            raise invalid(INVALID_PORT, f"invalid named port {value!r}: " + "; ".join(problems))
        return {"name": value}

    @staticmethod
    def _number(number: int, original: int | str) -> dict[str, Any]:
        if not 1 <= number <= MAX_PORT:
            raise invalid(INVALID_PORT, f"invalid port {original!r}: port numbers must be 1–{MAX_PORT}")
        return {"min_port": number, "max_port": number}

    @model_serializer(mode="plain")
    def as_yaml(self) -> int | str:
        """The YAML scalar for this value (also what ``model_dump`` produces)."""
        if self.name is not None:
            return self.name
        if self.min_port == self.max_port:
            return self.min_port or 0
        return f"{self.min_port}:{self.max_port}"

    def __str__(self) -> str:
        return str(self.as_yaml())

    @property
    def is_named(self) -> bool:
        return self.name is not None


PROTOCOL_NUMBERS: Final[Mapping[str, int]] = {
    "TCP": 6,
    "UDP": 17,
    "ICMP": 1,
    "ICMPv6": 58,
    "SCTP": 132,
    "UDPLite": 136,
}
ProtocolName = Literal["TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite"]
_PORT_PROTOCOLS: Final = frozenset({6, 17, 132})  # [NS] SupportsPorts: TCP, UDP, SCTP (not UDPLite)


class Protocol(_Scalar):
    """A Calico protocol: one of the names (case-sensitive) or a number 1–255.

    [NS] Uint8OrString.UnmarshalJSON turns a string of digits that fits in uint8 into a number
    (``"6"`` is 6); [V] validateProtocol rejects 0 and names outside
    ``^(TCP|UDP|ICMP|ICMPv6|SCTP|UDPLite)$``.
    """

    value: ProtocolName | int

    @classmethod
    def _fields_from(cls, value: Any) -> dict[str, Any]:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise invalid(INVALID_PROTOCOL, f"a protocol must be a name or a number 1–255, not {value!r}")
        if isinstance(value, str) and _ASCII_DIGITS_RE.fullmatch(value) and int(value) <= 255:
            value = int(value)
        if isinstance(value, int):
            if not 1 <= value <= 255:
                raise invalid(INVALID_PROTOCOL, f"invalid protocol number {value}: must be 1–255")
            return {"value": value}
        if value not in PROTOCOL_NUMBERS:
            names = ", ".join(PROTOCOL_NUMBERS)
            close = [n for n in PROTOCOL_NUMBERS if n.lower() == value.lower()]
            hint = f" (protocol names are case-sensitive: {close[0]!r})" if close else f" (expected {names})"
            raise invalid(INVALID_PROTOCOL, f"invalid protocol {value!r}{hint}")
        return {"value": value}

    @model_serializer(mode="plain")
    def as_yaml(self) -> int | str:
        """The YAML scalar for this value (also what ``model_dump`` produces)."""
        return self.value

    def __str__(self) -> str:
        return str(self.value)

    @property
    def number(self) -> int:
        """The IANA protocol number (TCP 6, UDP 17, ICMP 1, ICMPv6 58, SCTP 132, UDPLite 136)."""
        return self.value if isinstance(self.value, int) else PROTOCOL_NUMBERS[self.value]

    def supports_ports(self) -> bool:
        return self.number in _PORT_PROTOCOLS


# ----------------------------------------------------------------------------------------------
# Rule parts
# ----------------------------------------------------------------------------------------------


def _icmp_type(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 254:
        raise invalid(INVALID_ICMP, f"ICMP type {value} is out of range 0–254")
    return value


def _icmp_code(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 255:
        raise invalid(INVALID_ICMP, f"ICMP code {value} is out of range 0–255")
    return value


class ICMPFields(CalicoModel):
    """``icmp``/``notICMP``: [PC] type 0–254, code 0–255; [CEL]/[V] code requires type."""

    type: ExactInt | None = None
    code: ExactInt | None = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: int | None) -> int | None:
        return _icmp_type(value)

    @field_validator("code")
    @classmethod
    def _code(cls, value: int | None) -> int | None:
        return _icmp_code(value)

    @model_validator(mode="after")
    def _code_needs_type(self) -> Self:
        if self.code is not None and self.type is None:
            problems = Problems("ICMPFields")
            problems.add(("code",), INVALID_ICMP, "ICMP code specified without an ICMP type", self.code)
            problems.raise_if_any()
        return self


class HTTPPath(CalicoModel):
    """One HTTP path match: exactly one of ``exact`` or ``prefix`` ([V] validateHTTPPaths)."""

    exact: str | None = None
    prefix: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        problems = Problems("HTTPPath")
        if self.exact and self.prefix:
            problems.add((), INVALID_RULE, "invalid path match: both 'exact' and 'prefix' are set", None)
        elif not self.exact and not self.prefix:
            problems.add((), INVALID_RULE, "invalid path match: either 'exact' or 'prefix' must be set", None)
        else:
            key, path = ("exact", self.exact) if self.exact else ("prefix", self.prefix)
            assert path is not None
            # [V] "Checks from https://tools.ietf.org/html/rfc3986#page-22"
            if not path.startswith("/") or any(c in path for c in "? #"):
                message = f"invalid path {path!r}: must start with '/' and not contain '?', '#' or spaces"
                problems.add((key,), INVALID_RULE, message, path)
        problems.raise_if_any()
        return self


class HTTPMatch(CalicoModel):
    """``http``: methods ORed, paths ORed, the two ANDed. [V] validateHTTPMethods: no duplicates."""

    methods: Items[str] = ()
    paths: Items[HTTPPath] = ()

    @field_validator("methods")
    @classmethod
    def _unique_methods(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        problems = Problems("HTTPMatch")
        seen: set[str] = set()
        for index, method in enumerate(value):
            if method in seen:
                problems.add((index,), INVALID_RULE, f"duplicate HTTP method {method!r}", method)
            seen.add(method)
        problems.raise_if_any()
        return value


class ServiceAccountMatch(CalicoModel):
    """``serviceAccounts``: names ORed, ANDed with the selector (prefixed ``pcsa.`` by Calico)."""

    names: Items[str] = ()
    selector: Selector = None


class ServiceMatch(CalicoModel):
    """``services``: a Kubernetes Service by name and namespace ([PC] tags ``omitempty,name``)."""

    name: str | None = None
    namespace: str | None = None

    @field_validator("name", "namespace")
    @classmethod
    def _names(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value:
            problems = dns_subdomain_problems(value)
            if problems:
                raise invalid(
                    INVALID_NAME, f"invalid service {info.field_name} {value!r}: " + "; ".join(problems)
                )
        return value


class EntityRule(CalicoModel):
    """A rule's ``source`` or ``destination``. All present criteria are ANDed."""

    nets: Items[Cidr] = ()
    not_nets: Items[Cidr] = Field(default=(), alias="notNets")
    selector: Selector = None
    not_selector: Selector = Field(default=None, alias="notSelector")
    namespace_selector: Selector = Field(default=None, alias="namespaceSelector")
    ports: Items[Port] = ()
    not_ports: Items[Port] = Field(default=(), alias="notPorts")
    service_accounts: ServiceAccountMatch | None = Field(default=None, alias="serviceAccounts")
    services: ServiceMatch | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = Problems("EntityRule")
        # [CEL] EntityRule / [V] validateEntityRule.
        if has_global_selector(self.selector):
            problems.add(
                ("selector",),
                INVALID_RULE,
                "global() can only be used in an EntityRule namespaceSelector",
                self.selector,
            )
        ns = self.namespace_selector
        if ns is not None and "global(" in ns and not re.fullmatch(r"\s*global\(\s*\)\s*", ns):
            # [V]: tokenised, the selector must be exactly the global() token.
            problems.add(
                ("namespaceSelector",), INVALID_RULE, "global() cannot be combined with other selectors", ns
            )
        if self.services is not None:
            if not self.services.name:
                problems.add(("services",), INVALID_RULE, "services must specify a service name", None)
            conflicts: list[tuple[str, Any, str]] = [
                ("namespaceSelector", self.namespace_selector or None, "NamespaceSelector"),
                ("selector", self.selector or None, "Selector/NotSelector"),
                ("notSelector", self.not_selector or None, "Selector/NotSelector"),
                ("serviceAccounts", self.service_accounts, "ServiceAccounts"),
                ("nets", self.nets or None, "Nets/NotNets"),
                ("notNets", self.not_nets or None, "Nets/NotNets"),
            ]
            for key, value, label in conflicts:
                if value is not None:
                    message = f"cannot specify {label} and Services on the same rule"
                    problems.add((key,), INVALID_RULE, message, None)
        problems.raise_if_any()
        return self


class RuleMetadata(CalicoModel):
    """``metadata`` of a rule: annotations only ([V] validateRuleMetadata)."""

    annotations: StrMap = Field(default_factory=dict)

    @field_validator("annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        check_annotations(value)
        return value


Action = Literal["Allow", "Deny", "Log", "Pass"]
IPVersion = Annotated[Literal[4, 6], BeforeValidator(_exact_int)]
_SIDES: Final = (("source", "source"), ("destination", "destination"))
_PORT_LISTS: Final = (("ports", "ports"), ("not_ports", "notPorts"))
_NET_LISTS: Final = (("nets", "nets"), ("not_nets", "notNets"))


class Rule(CalicoModel):
    """One ingress or egress rule. Cross-field checks follow [V] validateRule and the [CEL] rules."""

    action: Action
    ip_version: IPVersion | None = Field(default=None, alias="ipVersion")
    protocol: Protocol | None = None
    icmp: ICMPFields | None = None
    not_protocol: Protocol | None = Field(default=None, alias="notProtocol")
    not_icmp: ICMPFields | None = Field(default=None, alias="notICMP")
    source: EntityRule = Field(default_factory=EntityRule)
    destination: EntityRule = Field(default_factory=EntityRule)
    http: HTTPMatch | None = None
    metadata: RuleMetadata | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = Problems("Rule")
        self._check_ports(problems)
        self._check_icmp(problems)
        self._check_nets(problems)
        # [CEL] "HTTP match is only valid on Allow rules" / [V] ruleUsesAppLayerPolicy.
        if self.http is not None and self.action != "Allow":
            problems.add(("http",), INVALID_RULE, "HTTP match is only valid on Allow rules", None)
        # [CEL] "rules with HTTP match must have protocol TCP or unset" (TCP or 6).
        if self.http is not None and self.protocol is not None and self.protocol.number != 6:
            message = "rules with HTTP match must have protocol TCP or unset"
            problems.add(("protocol",), INVALID_RULE, message, self.protocol.value)
        # [CEL]/[V] "ports and notPorts cannot be specified with services" (destination only).
        if self.destination.services is not None:
            for attr, key in _PORT_LISTS:
                if getattr(self.destination, attr):
                    message = f"cannot specify {key} with a destination service selector"
                    problems.add(("destination", key), INVALID_RULE, message, None)
        problems.raise_if_any()
        return self

    def _check_ports(self, problems: Problems) -> None:
        # [V] validateRule: without a protocol only named ports are allowed (they match on any
        # protocol); with a protocol that has no ports (not TCP/UDP/SCTP or 6/17/132) no port is.
        for side, side_key in _SIDES:
            entity: EntityRule = getattr(self, side)
            for attr, key in _PORT_LISTS:
                ports: tuple[Port, ...] = getattr(entity, attr)
                if self.protocol is None:
                    numeric = [i for i, p in enumerate(ports) if not p.is_named]
                    if numeric:
                        message = (
                            "rules with numeric port or port range must set protocol to TCP, UDP or SCTP"
                        )
                        problems.add(
                            (side_key, key, numeric[0]), INVALID_RULE, message, str(ports[numeric[0]])
                        )
                elif ports and not self.protocol.supports_ports():
                    message = f"protocol {self.protocol} has no ports; ports need protocol TCP, UDP or SCTP"
                    problems.add((side_key, key), INVALID_RULE, message, None)

    def _check_icmp(self, problems: Problems) -> None:
        # [CEL] "ICMP fields require protocol to be ICMP or ICMPv6" (ICMP, ICMPv6, 1 or 58).
        if self.icmp is not None and (self.protocol is None or self.protocol.number not in (1, 58)):
            problems.add(("icmp",), INVALID_RULE, "ICMP fields require protocol to be ICMP or ICMPv6", None)
        # [CEL]/[V]: ICMP needs ipVersion 4 and ICMPv6 needs 6 when ipVersion is set (also notProtocol).
        if self.ip_version is None:
            return
        for proto in (self.protocol, self.not_protocol):
            if proto is None:
                continue
            if proto.number == 1 and self.ip_version != 4:
                problems.add(
                    ("ipVersion",), INVALID_RULE, "protocol ICMP requires ipVersion 4", self.ip_version
                )
            elif proto.number == 58 and self.ip_version != 6:
                problems.add(
                    ("ipVersion",), INVALID_RULE, "protocol ICMPv6 requires ipVersion 6", self.ip_version
                )

    def _check_nets(self, problems: Problems) -> None:
        # [V] validateRule scanNets: every CIDR of the rule (both sides, nets and notNets) has one
        # IP family, which must agree with ipVersion; a catch-all /0 in notNets matches nothing.
        first_family: int | None = None
        for side, side_key in _SIDES:
            entity: EntityRule = getattr(self, side)
            for attr, key in _NET_LISTS:
                cidrs: tuple[Cidr, ...] = getattr(entity, attr)
                for index, cidr in enumerate(cidrs):
                    loc = (side_key, key, index)
                    if self.ip_version is not None and cidr.version != self.ip_version:
                        message = (
                            f"rule IP version {self.ip_version} doesn't match CIDR {cidr} (IPv{cidr.version})"
                        )
                        problems.add(loc, INVALID_RULE, message, cidr.text)
                    elif first_family is None:
                        first_family = cidr.version
                    elif cidr.version != first_family:
                        message = f"rule contains both IPv4 and IPv6 CIDRs ({cidr} is IPv{cidr.version})"
                        problems.add(loc, INVALID_RULE, message, cidr.text)
                    if attr == "not_nets" and cidr.network.prefixlen == 0:
                        # [V] only compares the text "0.0.0.0/0" (and ::/0 parsed); any /0 masks
                        # to the catch-all, so every /0 is refused here.
                        message = f"catch-all CIDR {cidr} in notNets matches no traffic"
                        problems.add(loc, INVALID_RULE, message, cidr.text)


# ----------------------------------------------------------------------------------------------
# Policy spec and document parts shared by NetworkPolicy and GlobalNetworkPolicy
# ----------------------------------------------------------------------------------------------

PolicyType = Literal["Ingress", "Egress"]
DEFAULT_TIER: Final = "default"
API_V3: Final = "projectcalico.org/v3"
API_CRD_V1: Final = "crd.projectcalico.org/v1"


class PolicySpec(CalicoModel):
    """Fields common to NetworkPolicy and GlobalNetworkPolicy specs."""

    tier: str | None = None
    order: Order = None
    selector: Selector = None
    types: Items[PolicyType] | None = None
    ingress: Items[Rule] = ()
    egress: Items[Rule] = ()
    service_account_selector: Selector = Field(default=None, alias="serviceAccountSelector")
    performance_hints: Items[Literal["AssumeNeededOnEveryNode"]] = Field(default=(), alias="performanceHints")

    def defaulted_types(self) -> tuple[PolicyType, ...]:
        """``types`` as written, or Calico's default when absent or empty.

        Default (field doc of ``Types`` and ``api/pkg/defaults/networkpolicy.go``, by list length):
        Ingress if there are no egress rules; Egress if egress rules but no ingress rules; both
        if both. (Calico ≥ 3.32 in native-CRD mode defaults by key presence instead, so
        ``egress: []`` there gives both; semantics-check claim 14a.)
        """
        if self.types:
            return tuple(self.types)
        if not self.egress:
            return ("Ingress",)
        if not self.ingress:
            return ("Egress",)
        return ("Ingress", "Egress")

    def _common_problems(self, problems: Problems) -> None:
        # listType=set on `types` (the API server rejects duplicates; [V] before v3.32 too).
        seen: set[str] = set()
        for index, kind in enumerate(self.types or ()):
            if kind in seen:
                problems.add(("types", index), INVALID_RULE, f"'{kind}' type specified more than once", kind)
            seen.add(kind)
        # [CEL]/[V] global() only in a rule namespaceSelector.
        for key, value in (
            ("selector", self.selector),
            ("serviceAccountSelector", self.service_account_selector),
        ):
            if has_global_selector(value):
                message = "global() can only be used in an EntityRule namespaceSelector"
                problems.add((key,), INVALID_RULE, message, value)
        # [V] validate(Global)NetworkPolicySpec: services only as egress destination or ingress
        # source; no application-layer (http) match on egress rules.
        for index, rule in enumerate(self.egress):
            if rule.source.services is not None:
                loc = ("egress", index, "source", "services")
                problems.add(loc, INVALID_RULE, "services are not allowed in an egress rule source", None)
            if rule.http is not None:
                problems.add(
                    ("egress", index, "http"), INVALID_RULE, "http is not allowed in egress rules", None
                )
        for index, rule in enumerate(self.ingress):
            if rule.destination.services is not None:
                loc = ("ingress", index, "destination", "services")
                problems.add(
                    loc, INVALID_RULE, "services are not allowed in an ingress rule destination", None
                )


class PolicyResource(Resource):
    """Behaviour shared by the NetworkPolicy and GlobalNetworkPolicy documents (v3 and v1)."""

    api_version: str = Field(alias="apiVersion")
    kind: str
    metadata: ObjectMeta
    spec: PolicySpec

    @property
    def is_crd_v1(self) -> bool:
        """True for ``crd.projectcalico.org/v1`` objects (Calico's Kubernetes storage form)."""
        return self.api_version == API_CRD_V1

    @property
    def tier_name(self) -> str:
        """``spec.tier``, or ``"default"`` when absent or empty."""
        return self.spec.tier or DEFAULT_TIER

    @property
    def policy_name(self) -> str:
        """The user-facing name.

        Up to Calico v3.31 the Kubernetes backend stored policies as ``<tier>.<name>``
        (``libcalico-go/lib/names/policy.go`` at v3.31.7; semantics.md §1.2): for a v1 object
        whose name starts with ``<tier>.`` the prefix is stripped. v3 names are kept as written.
        """
        name = self.metadata.name
        prefix = f"{self.tier_name}."
        if self.is_crd_v1 and name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
        return name

    def effective_types(self) -> tuple[PolicyType, ...]:
        """The directions the policy governs.

        With ``types`` set: those. Otherwise, for ``projectcalico.org/v3`` input, Calico's
        defaulting on create (``PolicySpec.defaulted_types``). A ``crd.projectcalico.org/v1``
        object is Calico's stored form: defaulting already happened when it was written through
        Calico, and if it was not (``kubectl apply`` of a v1 object), nothing defaults it and
        felix treats empty types as **Ingress and Egress** ("Back compatibility: no Types means
        Ingress and Egress", ``felix/calc/policy_sorter.go``; semantics-check claim 14b).
        """
        if self.spec.types:
            return tuple(self.spec.types)
        if self.is_crd_v1:
            return ("Ingress", "Egress")
        return self.spec.defaulted_types()
