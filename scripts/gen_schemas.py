#!/usr/bin/env python3
"""Regenerate ``schemas/`` from the official CRDs.

Usage::

    python scripts/gen_schemas.py [CRD_DIR] [--out DIR]

``CRD_DIR`` defaults to ``../shared/crds`` (next to the repository); ``--out`` defaults to the
repository's ``schemas/``. The output is deterministic (sorted keys, fixed indentation, generated
text only from the inputs), so running the script twice gives no diff; ``tests/test_schemas.py``
checks that the committed files match a fresh run.

What the script does, in order (``schemas/README.md``, which it also writes, explains each step):

1. checks every source CRD against the git blob hash listed in the CRD README;
2. translates each CRD's OpenAPI v3 schema to JSON Schema 2020-12 (Kubernetes extensions,
   ``additionalProperties: false``, Go regular expressions rewritten for Python's ``re``) and
   wraps it in a whole-object schema (``apiVersion``/``kind`` constants, ObjectMeta);
3. derives the Cilium 1.15, 1.16 and 1.18 schemas, for which no CRD snapshot exists, from the
   1.17.5 and 1.19.0-pre.4 CRDs by reverting or removing the fields listed in ``CILIUM_CHANGES``;
4. writes the hand-written Kubernetes ``networking.k8s.io/v1`` NetworkPolicy schema;
5. writes ``index.json`` (apiVersion/kind/version to file), ``checksums.txt`` (sha256 of the
   sources) and ``README.md``.

``schemas/LICENSE`` is maintained by hand and left untouched.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import yaml

JSON: TypeAlias = dict[str, Any]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CRDS = ROOT.parent / "shared" / "crds"
DEFAULT_OUT = ROOT / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
HAND_MAINTAINED = frozenset({"LICENSE"})
"""Files in the output directory that this script neither writes nor deletes."""

# ----------------------------------------------------------------------------------------------
# Sources (copied from the table in ../shared/crds/README.md; the blob hashes are re-checked)
# ----------------------------------------------------------------------------------------------

CALICO_REPO = "https://github.com/projectcalico/calico"
CALICO_COMMIT = "87c15906f20c4ca1fda55af92295e7678b0cc0b2"
CILIUM_REPO = "https://github.com/cilium/cilium"
CILIUM_119_COMMIT = "f12299b25e4edd93742d9241b34e82aae0aef788"
CILIUM_117_COMMIT = "69aab28cf10174430372aa6fbd7c1e555b267993"
CILIUM_CRDS = "pkg/k8s/apis/cilium.io/client/crds"


@dataclass(frozen=True)
class Source:
    """One CRD file: where it is under the CRD directory and where it came from upstream."""

    local: str
    repo: str
    commit: str
    path: str
    blob: str


def _calico(api_dir: str, upstream_dir: str, group: str, plural: str, blob: str) -> Source:
    name = f"{group}_{plural}.yaml"
    return Source(f"calico/{api_dir}/{name}", CALICO_REPO, CALICO_COMMIT, f"{upstream_dir}/{name}", blob)


def _cilium(release: str, commit: str, version: str, plural: str, blob: str) -> Source:
    tail = f"{version}/{plural}.yaml"
    return Source(f"cilium/{release}/{tail}", CILIUM_REPO, commit, f"{CILIUM_CRDS}/{tail}", blob)


_V3 = ("projectcalico.org_v3", "api/config/crd", "projectcalico.org")
_V1 = ("crd.projectcalico.org_v1", "libcalico-go/config/crd", "crd.projectcalico.org")

CALICO_SOURCES = (
    _calico(*_V3, "globalnetworkpolicies", "6db6a1c661b2a96b70ad51ab57cd0ae80b904b43"),
    _calico(*_V3, "networkpolicies", "0ab66e503d9e7599fa2ca1bbca73494f3264e1d7"),
    _calico(*_V3, "hostendpoints", "176a837703b30a9951ac3d0f7b6aaa1dcf149f57"),
    _calico(*_V3, "networksets", "5e561184aa44e1b2c255f21158db3717cd63fed6"),
    _calico(*_V3, "globalnetworksets", "17717dc9b3fd21585933c77201f969951f9c46f7"),
    _calico(*_V3, "tiers", "abd4aeabc9d09a4dd9dfd39923d8b95c93e5b281"),
    _calico(*_V1, "globalnetworkpolicies", "498e2822cd777c3e3c79aa00f31b9a73728a42e8"),
    _calico(*_V1, "networkpolicies", "078ae30237c1b746c6d3bc5d7b0fe5865938400b"),
    _calico(*_V1, "hostendpoints", "83fc3c3a5d189c06bc46ec0082bc3e896ac961e8"),
    _calico(*_V1, "networksets", "e6574290827c6b5e0f768bd88f3a4af4b0f473c4"),
    _calico(*_V1, "globalnetworksets", "71241bcfd567b9a97d518bbd4df7f914770e46d0"),
    _calico(*_V1, "tiers", "deb3fbaa4fcb5360d55ed64c4d73863680a73143"),
)

_C119 = ("v1.19.0-pre.4", CILIUM_119_COMMIT)
_C117 = ("v1.17.5", CILIUM_117_COMMIT)
CILIUM_119_CNP = _cilium(*_C119, "v2", "ciliumnetworkpolicies", "df4d0dc6b6ac2ecc69037d99cce5a525761b4bf9")
CILIUM_119_CCNP = _cilium(
    *_C119, "v2", "ciliumclusterwidenetworkpolicies", "ad8a50d4e106ece1e0835ba75ec3a3a5f4ca36ec"
)
CILIUM_119_CCG = _cilium(*_C119, "v2", "ciliumcidrgroups", "3f11cb0da0e9b535e0542c0c6047791f7c13ac2b")
CILIUM_117_CNP = _cilium(*_C117, "v2", "ciliumnetworkpolicies", "f232be5311783580c2a04c52854cc3860669926e")
CILIUM_117_CCNP = _cilium(
    *_C117, "v2", "ciliumclusterwidenetworkpolicies", "d873065e0feed382cdecfe16267eb1bf4a95be64"
)
CILIUM_117_CCG = _cilium(*_C117, "v2alpha1", "ciliumcidrgroups", "702ce30772d2095b6c3edde225fcef371f6dde77")
CILIUM_SOURCES = (
    CILIUM_119_CNP,
    CILIUM_119_CCNP,
    CILIUM_119_CCG,
    CILIUM_117_CNP,
    CILIUM_117_CCNP,
    CILIUM_117_CCG,
)
ALL_SOURCES = CALICO_SOURCES + CILIUM_SOURCES

CILIUM_VERSIONS = ("1.15", "1.16", "1.17", "1.18", "1.19")


def git_blob_hash(data: bytes) -> str:
    """``git hash-object``: sha1 over ``blob <size>\\0`` followed by the content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def read_sources(crd_dir: Path) -> dict[Source, bytes]:
    contents: dict[Source, bytes] = {}
    for source in ALL_SOURCES:
        path = crd_dir / source.local
        if not path.is_file():
            raise SystemExit(f"gen_schemas: missing source CRD {path}")
        data = path.read_bytes()
        if git_blob_hash(data) != source.blob:
            raise SystemExit(
                f"gen_schemas: {path} is not blob {source.blob} ({source.path} at {source.commit[:12]});"
                " update the source table in scripts/gen_schemas.py and review the schema changes"
            )
        contents[source] = data
    return contents


# ----------------------------------------------------------------------------------------------
# Go regular expressions used by the CRDs, as Python patterns
# ----------------------------------------------------------------------------------------------

# Unicode general category C without Cn (Cc, Cf, Cs, Co), from Python 3.11's unicodedata
# (Unicode 14.0). Go's `\PC` also excludes unassigned code points (Cn); Python's `re` has no
# category classes, so this class is the closest fixed approximation.
_CATEGORY_C = (
    r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    r"\u202a-\u202e\u2060-\u2064\u2066-\u206f\ud800-\uf8ff\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    r"\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    r"\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
_PORT_NUMBER = "6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}"
# Cilium ICMP type: 0-255 or a name, in the CRD's order (duplicates and the "ExtendedEcho Reply"
# typo are upstream's).
_ICMP_TYPE = "|".join(
    (
        "[0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5]",
        "EchoReply|DestinationUnreachable|Redirect|Echo|RouterAdvertisement|RouterSelection",
        "TimeExceeded|ParameterProblem|Timestamp|TimestampReply|Photuris|ExtendedEchoRequest",
        "ExtendedEcho Reply|PacketTooBig|ParameterProblem|EchoRequest|MulticastListenerQuery",
        "MulticastListenerReport|MulticastListenerDone|RouterSolicitation|RouterAdvertisement",
        "NeighborSolicitation|NeighborAdvertisement|RedirectMessage|RouterRenumbering",
        "ICMPNodeInformationQuery|ICMPNodeInformationResponse|InverseNeighborDiscoverySolicitation",
        "InverseNeighborDiscoveryAdvertisement|HomeAgentAddressDiscoveryRequest",
        "HomeAgentAddressDiscoveryReply|MobilePrefixSolicitation|MobilePrefixAdvertisement",
        "DuplicateAddressRequestCodeSuffix|DuplicateAddressConfirmationCodeSuffix",
    )
)


@dataclass(frozen=True)
class Rewrite:
    python: str
    why: str


# Every pattern found in a CRD must be listed here, so that a new upstream pattern is reviewed
# before it ships: Go's RE2 runs in linear time, Python's backtracking `re` does not, and a few
# upstream patterns take minutes on a 30-character hostile string. Go's `$` (no multi-line flag)
# matches only at the end of the text; Python's also matches before a final newline, hence `\Z`.
PATTERNS: dict[str, Rewrite] = {
    "^.*": Rewrite("^.*", "unchanged (matches everything)"),
    "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$": Rewrite(
        r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z", "`$` → `\\Z`"
    ),
    "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$": Rewrite(
        r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?\Z", "`$` → `\\Z`"
    ),
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$": Rewrite(
        r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z", "`$` → `\\Z`"
    ),
    (
        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
    ): Rewrite(
        r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])\Z",
        "`$` → `\\Z`",
    ),
    "^([-a-zA-Z0-9_]+[.]?)+$": Rewrite(
        r"^[-a-zA-Z0-9_]+(?:\.[-a-zA-Z0-9_]+)*\.?\Z",
        "same language without the nested quantifier (exponential backtracking in Python)",
    ),
    "^([-a-zA-Z0-9_*]+[.]?)+$": Rewrite(
        r"^[-a-zA-Z0-9_*]+(?:\.[-a-zA-Z0-9_*]+)*\.?\Z",
        "same language without the nested quantifier (exponential backtracking in Python)",
    ),
    "^(\\*?\\*\\.)?([-a-zA-Z0-9_]+\\.?)+$": Rewrite(
        r"^(?:\*?\*\.)?[-a-zA-Z0-9_]+(?:\.[-a-zA-Z0-9_]+)*\.?\Z",
        "same language without the nested quantifier (exponential backtracking in Python)",
    ),
    f"^({_PORT_NUMBER})|([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*$": Rewrite(
        f"^(?:{_PORT_NUMBER}|(?=[0-9-]*[a-zA-Z])[a-zA-Z0-9](?:-?[a-zA-Z0-9])*)\\Z",
        "**anchored**: upstream `^A|B$` leaves the number unanchored at its end and the name at its"
        " start, so the API server accepts e.g. `80/tcp` (which Cilium's own validation then"
        " rejects); the name part is rewritten without its ambiguous split (cubic backtracking)",
    ),
    f"^({_ICMP_TYPE})$": Rewrite(f"^({_ICMP_TYPE})\\Z", "`$` → `\\Z`"),
    "^\\PC*$": Rewrite(
        f"^[^{_CATEGORY_C}]*\\Z",
        "Python's `re` has no `\\PC`; the class excludes Unicode categories Cc, Cf, Cs and Co"
        " (Unicode 14.0) but, unlike Go, not unassigned code points (Cn)",
    ),
}


def python_pattern(pattern: str, where: str) -> str:
    rewrite = PATTERNS.get(pattern)
    if rewrite is None:
        raise SystemExit(
            f"gen_schemas: new upstream pattern {pattern!r} at {where}: check it for Python `re`"
            " compatibility and backtracking, then add it to PATTERNS"
        )
    re.compile(rewrite.python)
    return rewrite.python


# ----------------------------------------------------------------------------------------------
# OpenAPI v3 (Kubernetes structural schema) → JSON Schema 2020-12
# ----------------------------------------------------------------------------------------------

PLAIN_KEYWORDS = frozenset(
    {
        "type",
        "format",
        "enum",
        "default",
        "required",
        "maxItems",
        "minItems",
        "maxLength",
        "minLength",
        "maximum",
        "minimum",
        "maxProperties",
        "minProperties",
        "multipleOf",
        "uniqueItems",
        "title",
    }
)
DROPPED_KEYWORDS = frozenset(
    {"description", "example", "x-kubernetes-list-map-keys", "x-kubernetes-map-type"}
)
HANDLED_KEYWORDS = frozenset(
    {
        "nullable",
        "x-kubernetes-int-or-string",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-list-type",
        "x-kubernetes-validations",
        "properties",
        "items",
        "additionalProperties",
        "anyOf",
        "oneOf",
        "allOf",
        "not",
        "pattern",
    }
)
_INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]


@dataclass(frozen=True)
class CelRule:
    path: str
    rule: str
    message: str


@dataclass
class Translation:
    """State of one CRD translation: where we are, and the CEL rules dropped on the way."""

    where: str
    cel: list[CelRule] = field(default_factory=list)


def translate(node: JSON, path: str, state: Translation) -> JSON:
    """One schema node and everything below it. ``path`` is the JSON path, e.g. ``spec.ingress[*]``."""
    unknown = set(node) - PLAIN_KEYWORDS - DROPPED_KEYWORDS - HANDLED_KEYWORDS
    if unknown:
        raise SystemExit(f"gen_schemas: unhandled keyword(s) {sorted(unknown)} at {state.where} {path}")
    out: JSON = {key: copy.deepcopy(value) for key, value in node.items() if key in PLAIN_KEYWORDS}
    if "properties" in node:
        out["properties"] = {
            name: translate(sub, _join(path, name), state) for name, sub in node["properties"].items()
        }
    if "items" in node:
        out["items"] = translate(node["items"], path + "[*]", state)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = translate(extra, path + "{*}", state)
    elif extra is not None:
        out["additionalProperties"] = extra
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in node:
            out[combinator] = [translate(branch, path, state) for branch in node[combinator]]
    if "not" in node:
        out["not"] = translate(node["not"], path, state)
    if "pattern" in node:
        out["pattern"] = python_pattern(node["pattern"], f"{state.where} {path}")
    for rule in node.get("x-kubernetes-validations", ()):
        state.cel.append(
            CelRule(path or "(whole object)", " ".join(rule["rule"].split()), rule.get("message", ""))
        )
    if node.get("x-kubernetes-int-or-string") is True:
        if "type" in out:
            raise SystemExit(f"gen_schemas: int-or-string with a type at {state.where} {path}")
        if out.get("anyOf") == _INT_OR_STRING_ANY_OF:
            del out["anyOf"]
        out["type"] = ["integer", "string"]
    if node.get("nullable") is True and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if (
        out.get("type") == "object"
        and "properties" in out
        and "additionalProperties" not in out
        and not preserve
    ):
        out["additionalProperties"] = False
    return out


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# ----------------------------------------------------------------------------------------------
# Whole objects: apiVersion, kind, metadata
# ----------------------------------------------------------------------------------------------


def object_meta(namespaced: bool) -> JSON:
    """Kubernetes ObjectMeta as users write it and ``kubectl get -o yaml`` prints it."""
    timestamp = {"format": "date-time", "type": "string"}
    strings = {"additionalProperties": {"type": "string"}, "type": "object"}
    properties: JSON = {
        "annotations": strings,
        "clusterName": {"type": "string"},
        "creationTimestamp": timestamp,
        "deletionGracePeriodSeconds": {"type": "integer"},
        "deletionTimestamp": timestamp,
        "finalizers": {"items": {"type": "string"}, "type": "array"},
        "generateName": {"type": "string"},
        "generation": {"type": "integer"},
        "labels": strings,
        "managedFields": {"items": {"type": "object"}, "type": "array"},
        "name": {"maxLength": 253, "minLength": 1, "type": "string"},
        "ownerReferences": {
            "items": {
                "additionalProperties": False,
                "properties": {
                    "apiVersion": {"type": "string"},
                    "blockOwnerDeletion": {"type": "boolean"},
                    "controller": {"type": "boolean"},
                    "kind": {"type": "string"},
                    "name": {"type": "string"},
                    "uid": {"type": "string"},
                },
                "required": ["apiVersion", "kind", "name", "uid"],
                "type": "object",
            },
            "type": "array",
        },
        "resourceVersion": {"type": "string"},
        "selfLink": {"type": "string"},
        "uid": {"type": "string"},
    }
    if namespaced:
        properties["namespace"] = {"maxLength": 63, "type": "string"}
    return {"additionalProperties": False, "properties": properties, "required": ["name"], "type": "object"}


def whole_object(body: JSON, api_version: str, kind: str, namespaced: bool, comment: str) -> JSON:
    """Wrap a translated CRD root schema: constant apiVersion/kind, ObjectMeta, required fields."""
    schema = dict(body)
    properties = dict(schema["properties"])
    properties["apiVersion"] = {"const": api_version, "type": "string"}
    properties["kind"] = {"const": kind, "type": "string"}
    properties["metadata"] = object_meta(namespaced)
    schema["properties"] = properties
    schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind", "metadata"})
    schema["additionalProperties"] = False
    schema["type"] = "object"
    schema["$schema"] = DRAFT
    schema["$comment"] = comment
    schema["title"] = f"{api_version} {kind}"
    return schema


@dataclass(frozen=True)
class Crd:
    """One served version of a CRD, already translated."""

    source: Source
    api_version: str
    kind: str
    namespaced: bool
    deprecated: bool
    body: JSON
    cel: tuple[CelRule, ...]


def load_crd(source: Source, data: bytes) -> list[Crd]:
    document = yaml.load(data, Loader=yaml.CSafeLoader)
    spec = document["spec"]
    crds = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        api_version = f"{spec['group']}/{version['name']}"
        state = Translation(f"{source.local} ({version['name']})")
        body = translate(version["schema"]["openAPIV3Schema"], "", state)
        crds.append(
            Crd(
                source=source,
                api_version=api_version,
                kind=spec["names"]["kind"],
                namespaced=spec["scope"] == "Namespaced",
                deprecated=bool(version.get("deprecated", False)),
                body=body,
                cel=tuple(state.cel),
            )
        )
    return crds


def source_comment(source: Source, derived: str = "") -> str:
    text = (
        f"Generated by scripts/gen_schemas.py from {source.repo} {source.path} at commit {source.commit}"
        f" (blob {source.blob})"
    )
    if derived:
        text += f"; {derived}"
    return text + ". Do not edit; see README.md."


# ----------------------------------------------------------------------------------------------
# Cilium: one schema set per supported minor version
# ----------------------------------------------------------------------------------------------

DIRECTIONS = ("ingress", "ingressDeny", "egress", "egressDeny")
INGRESS = ("ingress", "ingressDeny")
EGRESS = ("egress", "egressDeny")


def factor_rule(body: JSON) -> JSON:
    """CNP/CCNP: ``spec`` and ``specs[*]`` are the same Rule schema; keep one copy in ``$defs``."""
    properties = body["properties"]
    rule = properties["spec"]
    if properties["specs"].get("items") != rule:
        raise SystemExit("gen_schemas: spec and specs[*] differ; the Rule cannot be shared")
    out = dict(body)
    out["$defs"] = {"rule": rule}
    out["properties"] = {
        **properties,
        "spec": {"$ref": "#/$defs/rule"},
        "specs": {**properties["specs"], "items": {"$ref": "#/$defs/rule"}},
    }
    return out


def _get(node: JSON, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise SystemExit(f"gen_schemas: expected {'.'.join(path)} in the Cilium schema")
        node = node[key]
    return node


def _rule_items(rule: JSON, direction: str) -> JSON:
    items: JSON = _get(rule, "properties", direction, "items")
    return items


def _port_items(rule: JSON) -> Iterator[tuple[str, JSON]]:
    for direction in DIRECTIONS:
        yield (
            direction,
            _get(
                _rule_items(rule, direction), "properties", "toPorts", "items", "properties", "ports", "items"
            ),
        )


def _cidr_set_items(rule: JSON) -> Iterator[tuple[str, JSON]]:
    for direction in DIRECTIONS:
        name = "fromCIDRSet" if direction in INGRESS else "toCIDRSet"
        yield f"{direction}[*].{name}[*]", _get(_rule_items(rule, direction), "properties", name, "items")


def _remove(node: JSON, key: str, where: str) -> None:
    properties = _get(node, "properties")
    if key not in properties:
        raise SystemExit(f"gen_schemas: {where}.{key} is not in the schema")
    del properties[key]


@dataclass(frozen=True)
class Change:
    """One difference of a derived Cilium version from its base, with the evidence for it."""

    text: str
    source: str
    apply: Callable[[JSON, JSON], None]
    """``apply(rule, rule_117)`` edits the Rule schema in place (``rule_117`` is the 1.17.5 Rule)."""


def _restore_port_required(rule: JSON, _: JSON) -> None:
    for direction, item in _port_items(rule):
        if "required" in item:
            raise SystemExit(f"gen_schemas: {direction} ports already require port")
        item["required"] = ["port"]


def _drop_extended_protocols(rule: JSON, _: JSON) -> None:
    for _direction, item in _port_items(rule):
        enum = _get(item, "properties", "protocol", "enum")
        if not {"VRRP", "IGMP"} <= set(enum):
            raise SystemExit("gen_schemas: VRRP/IGMP not in the protocol enum")
        item["properties"]["protocol"]["enum"] = [p for p in enum if p not in ("VRRP", "IGMP")]


def _restore_requires(rule: JSON, rule_117: JSON) -> None:
    for direction in DIRECTIONS:
        name = "fromRequires" if direction in INGRESS else "toRequires"
        properties = _get(_rule_items(rule, direction), "properties")
        if name in properties:
            raise SystemExit(f"gen_schemas: {direction}[*].{name} already present")
        properties[name] = copy.deepcopy(_get(_rule_items(rule_117, direction), "properties", name))


def _drop_cidr_group_selector(rule: JSON, _: JSON) -> None:
    for where, item in _cidr_set_items(rule):
        _remove(item, "cidrGroupSelector", where)
        branches = _get(item, "oneOf")
        kept = [b for b in branches if b.get("required") != ["cidrGroupSelector"]]
        if len(kept) != len(branches) - 1:
            raise SystemExit(f"gen_schemas: no cidrGroupSelector branch in {where} oneOf")
        item["oneOf"] = kept


def _drop_end_port(rule: JSON, _: JSON) -> None:
    for direction, item in _port_items(rule):
        _remove(item, "endPort", f"{direction}[*].toPorts[*].ports[*]")


def _drop_default_deny(rule: JSON, _: JSON) -> None:
    _remove(rule, "enableDefaultDeny", "spec")


def _drop_nodes(rule: JSON, _: JSON) -> None:
    for direction in DIRECTIONS:
        name = "fromNodes" if direction in INGRESS else "toNodes"
        _remove(_rule_items(rule, direction), name, f"{direction}[*]")


def _numeric_icmp_type(rule: JSON, _: JSON) -> None:
    for direction in DIRECTIONS:
        fields = _get(
            _rule_items(rule, direction), "properties", "icmps", "items", "properties", "fields", "items"
        )
        current = _get(fields, "properties", "type")
        if current.get("type") != ["integer", "string"]:
            raise SystemExit(f"gen_schemas: {direction} ICMP type is not int-or-string")
        fields["properties"]["type"] = {"maximum": 255, "minimum": 0, "type": "integer"}


CILIUM_CHANGES: dict[str, tuple[str, tuple[Change, ...]]] = {
    "1.19": ("1.19.0-pre.4", ()),
    "1.18": (
        "1.19",
        (
            Change(
                "`toPorts[*].ports[*]` requires `port` again (in all four rule directions)",
                "1.19 made `port` optional for the VRRP/IGMP extended protocols (commit 5d13f9b7c1,"
                " 2025-07-02, in the v1.19 cycle; docs/reference/semantics.md §2.3). The 1.17.5 CRD requires it and"
                " docs/reference/semantics-check.md claim 8 confirms 'Port must be specified' before 1.19.",
                _restore_port_required,
            ),
            Change(
                "`toPorts[*].ports[*].protocol` enum without `VRRP` and `IGMP`",
                "added by the same commit 5d13f9b7c1 (v1.19; docs/reference/semantics.md §2.3 and §2.6).",
                _drop_extended_protocols,
            ),
            Change(
                "`fromRequires` (ingress, ingressDeny) and `toRequires` (egress, egressDeny) restored,"
                " copied from the 1.17.5 CRD",
                "deprecated in 1.17, removed in 1.19 by commit c98e572b9f (2025-11-07; docs/reference/semantics.md"
                " §2.3 and §2.6), so still served by 1.18.",
                _restore_requires,
            ),
        ),
    ),
    "1.17": ("1.17.5", ()),
    "1.16": (
        "1.17",
        (
            Change(
                "`cidrGroupSelector` removed from `fromCIDRSet[*]`/`toCIDRSet[*]` (property and its"
                " `oneOf` branch) in all four rule directions",
                "added in 1.17 by commit 047f39febc (2024-12-04); present in the 1.17.5 CRD, absent"
                " in v1.15.4 (docs/reference/semantics.md §2.3, docs/reference/semantics-check.md claim 9).",
                _drop_cidr_group_selector,
            ),
        ),
    ),
    "1.15": (
        "1.16",
        (
            Change(
                "`toPorts[*].ports[*].endPort` removed",
                "port ranges were added in 1.16 by commit 4fe60e5214 (2024-05-29); absent in the"
                " v1.15.4 CRD (docs/reference/semantics.md §2.3, docs/reference/semantics-check.md claim 8).",
                _drop_end_port,
            ),
            Change(
                "`enableDefaultDeny` removed from the rule",
                "added in 1.16 by commit 75ac5d0b86 (2024-03-14; docs/reference/semantics.md §2.4 and §2.6).",
                _drop_default_deny,
            ),
            Change(
                "`fromNodes` (ingress, ingressDeny) and `toNodes` (egress, egressDeny) removed",
                "added in 1.16 by commit 16eaf1afe4 (2024-02-06; docs/reference/semantics.md §2.3 and §2.6).",
                _drop_nodes,
            ),
            Change(
                "`icmps[*].fields[*].type` is an integer 0–255 (no ICMP type names)",
                "type names were added in 1.16 by commit 5cc5ac96bf; in v1.15.4 the field is a"
                " `uint8` (docs/reference/semantics-check.md claim 8).",
                _numeric_icmp_type,
            ),
        ),
    ),
}

CILIUM_KEPT_NOTES = {
    "1.18": (
        "Kept from 1.19 because they are 1.18 changes: the rule `log` field (commit dc3ed3d008,"
        " docs/reference/semantics.md §2.6); the `serverNames` item pattern, `maxLength: 255`, `minItems: 1` and"
        " set semantics (cilium/cilium PR #38615 'policy: Add validation and docs for TLS SNI"
        " ServerNames', opened 2025-03-31, merged in the v1.18 cycle; the 1.17.5 CRD lacks them);"
        " CiliumCIDRGroup `cilium.io/v2` next to the deprecated `v2alpha1` (commit d385b9e9e8,"
        " 2025-04-24, docs/reference/semantics.md §2.5). The 1.19.0-pre.4 and 1.17.5 CRDs differ in nothing else"
        " but descriptions (checked by a structural diff)."
    ),
    "1.16": (
        "Only the changes listed in docs/reference/semantics.md §2.6 are reverted. Any other 1.17-cycle CRD change"
        " not listed there is not known here, so the 1.16 schema may accept a field that 1.16 lacks."
    ),
    "1.15": (
        "As for 1.16: only the changes listed in docs/reference/semantics.md §2.6 are reverted; the 1.15 schema may"
        " accept a field added in the 1.16 or 1.17 cycle that the reference does not list."
    ),
}


@dataclass(frozen=True)
class Output:
    path: str
    schema: JSON
    api_version: str
    kind: str
    origin: str
    """A Markdown description of where the schema came from, for the README."""


def cilium_outputs(
    crds: dict[Source, list[Crd]],
) -> tuple[list[Output], dict[str, dict[str, dict[str, str]]]]:
    """All Cilium schema files, plus the per-version index ``version → apiVersion → kind → path``."""

    def policy(source: Source) -> Crd:
        (crd,) = crds[source]
        return crd

    base_rules: dict[str, dict[str, JSON]] = {}
    for label, cnp, ccnp in (
        ("1.19.0-pre.4", CILIUM_119_CNP, CILIUM_119_CCNP),
        ("1.17.5", CILIUM_117_CNP, CILIUM_117_CCNP),
    ):
        base_rules[label] = {
            policy(cnp).kind: factor_rule(policy(cnp).body),
            policy(ccnp).kind: factor_rule(policy(ccnp).body),
        }
    rule_117 = base_rules["1.17.5"]["CiliumNetworkPolicy"]["$defs"]["rule"]

    bodies: dict[str, dict[str, JSON]] = {}
    for version in ("1.19", "1.18", "1.17", "1.16", "1.15"):
        base, changes = CILIUM_CHANGES[version]
        bodies[version] = copy.deepcopy(base_rules.get(base) or bodies[base])
        for body in bodies[version].values():
            for change in changes:
                change.apply(body["$defs"]["rule"], rule_117)

    ccg_119 = {crd.api_version: crd for crd in crds[CILIUM_119_CCG]}
    (ccg_117,) = crds[CILIUM_117_CCG]
    outputs: list[Output] = []
    index: dict[str, dict[str, dict[str, str]]] = {}
    for version in CILIUM_VERSIONS:
        base, changes = CILIUM_CHANGES[version]
        table: dict[str, dict[str, str]] = {}
        policy_source = {"1.19": CILIUM_119_CNP, "1.18": CILIUM_119_CNP}.get(version, CILIUM_117_CNP)
        for kind, body in bodies[version].items():
            source = policy_source if kind == "CiliumNetworkPolicy" else _sibling(policy_source)
            derived = "" if not changes else f"derived for Cilium {version} (see README.md)"
            crd = policy(source)
            path = f"cilium/{version}/{_file(crd.api_version, kind)}"
            schema = whole_object(
                body, crd.api_version, kind, crd.namespaced, source_comment(source, derived)
            )
            origin = _origin(source) + (f", {version} changes applied" if changes else "")
            outputs.append(Output(path, schema, crd.api_version, kind, origin))
            table.setdefault(crd.api_version, {})[kind] = path
        ccg_sources = (
            [ccg_119["cilium.io/v2"], ccg_119["cilium.io/v2alpha1"]]
            if version in ("1.18", "1.19")
            else [ccg_117]
        )
        for crd in ccg_sources:
            path = f"cilium/{version}/{_file(crd.api_version, crd.kind)}"
            note = "deprecated version served next to v2" if crd.deprecated else ""
            schema = whole_object(
                crd.body, crd.api_version, crd.kind, crd.namespaced, source_comment(crd.source, note)
            )
            origin = _origin(crd.source) + (f" ({note})" if note else "")
            outputs.append(Output(path, schema, crd.api_version, crd.kind, origin))
            table.setdefault(crd.api_version, {})[crd.kind] = path
        index[version] = table
    return outputs, index


def _sibling(cnp_source: Source) -> Source:
    return CILIUM_119_CCNP if cnp_source == CILIUM_119_CNP else CILIUM_117_CCNP


def _file(api_version: str, kind: str) -> str:
    return f"{api_version.replace('/', '_')}/{kind.lower()}.json"


def _origin(source: Source) -> str:
    release = source.local.split("/")[1] if source.local.startswith("cilium/") else "master"
    return f"`{source.path}` ({release}, blob `{source.blob[:12]}`)"


# ----------------------------------------------------------------------------------------------
# Kubernetes networking.k8s.io/v1 NetworkPolicy (hand-written: not a CRD)
# ----------------------------------------------------------------------------------------------

K8S_SOURCE = (
    "the Kubernetes API reference, https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/"
    "network-policy-v1/ (NetworkPolicySpec, NetworkPolicyIngressRule, NetworkPolicyEgressRule,"
    " NetworkPolicyPeer, NetworkPolicyPort, IPBlock) and LabelSelector"
    " (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/label-selector/),"
    " checked against k8s.io/api networking/v1/types.go (github.com/kubernetes/api at commit"
    " 1ff85247c7d7fc007c52180bfb500a59ec81e5a7)"
)


def _object(properties: JSON, required: tuple[str, ...] = ()) -> JSON:
    schema: JSON = {"additionalProperties": False, "properties": properties, "type": "object"}
    if required:
        schema["required"] = list(required)
    return schema


def kubernetes_network_policy() -> JSON:
    label_selector = _object(
        {
            "matchExpressions": {
                "items": _object(
                    {
                        "key": {"type": "string"},
                        "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"], "type": "string"},
                        "values": {"items": {"type": "string"}, "type": "array"},
                    },
                    ("key", "operator"),
                ),
                "type": "array",
            },
            "matchLabels": {"additionalProperties": {"type": "string"}, "type": "object"},
        }
    )
    peer = _object(
        {
            "ipBlock": _object(
                {
                    "cidr": {"format": "cidr", "type": "string"},
                    "except": {"items": {"format": "cidr", "type": "string"}, "type": "array"},
                },
                ("cidr",),
            ),
            "namespaceSelector": {"$ref": "#/$defs/labelSelector"},
            "podSelector": {"$ref": "#/$defs/labelSelector"},
        }
    )
    port = _object(
        {
            "endPort": {"format": "int32", "type": "integer"},
            "port": {"type": ["integer", "string"]},
            "protocol": {"enum": ["TCP", "UDP", "SCTP"], "type": "string"},
        }
    )
    ports = {"items": {"$ref": "#/$defs/networkPolicyPort"}, "type": "array"}
    peers = {"items": {"$ref": "#/$defs/networkPolicyPeer"}, "type": "array"}
    spec = _object(
        {
            "egress": {"items": _object({"ports": ports, "to": peers}), "type": "array"},
            "ingress": {"items": _object({"from": peers, "ports": ports}), "type": "array"},
            "podSelector": {"$ref": "#/$defs/labelSelector"},
            "policyTypes": {"items": {"enum": ["Ingress", "Egress"], "type": "string"}, "type": "array"},
        }
    )
    schema = {
        "$defs": {"labelSelector": label_selector, "networkPolicyPeer": peer, "networkPolicyPort": port},
        "properties": {
            "spec": spec,
            # Alpha NetworkPolicyStatus (1.24–1.25, since removed); kubectl may still print `status: {}`.
            "status": {"type": "object"},
        },
        "type": "object",
    }
    comment = f"Written by hand (in scripts/gen_schemas.py) from {K8S_SOURCE}. Do not edit; see README.md."
    return whole_object(schema, "networking.k8s.io/v1", "NetworkPolicy", True, comment)


# ----------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------


def render_json(schema: JSON) -> str:
    return json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


@dataclass
class Generated:
    files: dict[str, str]
    outputs: list[Output]
    cel: dict[CelRule, list[str]]


def generate(crd_dir: Path) -> Generated:
    contents = read_sources(crd_dir)
    crds = {source: load_crd(source, data) for source, data in contents.items()}
    outputs: list[Output] = []
    other_index: dict[str, dict[str, str]] = {}
    cel: dict[CelRule, list[str]] = {}
    for source in CALICO_SOURCES:
        (crd,) = crds[source]
        path = f"calico/{_file(crd.api_version, crd.kind)}"
        schema = whole_object(crd.body, crd.api_version, crd.kind, crd.namespaced, source_comment(source))
        outputs.append(Output(path, schema, crd.api_version, crd.kind, _origin(source)))
        other_index.setdefault(crd.api_version, {})[crd.kind] = path
        for rule in crd.cel:
            cel.setdefault(rule, []).append(path)
    for source in CILIUM_SOURCES:
        for crd in crds[source]:
            if crd.cel:
                raise SystemExit(f"gen_schemas: {source.local} has CEL rules; list them in the README")
    k8s_path = "kubernetes/networking.k8s.io_v1/networkpolicy.json"
    outputs.append(
        Output(k8s_path, kubernetes_network_policy(), "networking.k8s.io/v1", "NetworkPolicy", "hand-written")
    )
    other_index.setdefault("networking.k8s.io/v1", {})["NetworkPolicy"] = k8s_path
    cilium, cilium_index = cilium_outputs(crds)
    outputs.extend(cilium)

    files = {output.path: render_json(output.schema) for output in outputs}
    index = {"cilium": cilium_index, "cilium_versions": list(CILIUM_VERSIONS), "other": other_index}
    files["index.json"] = render_json(index)
    files["checksums.txt"] = "".join(
        f"{hashlib.sha256(contents[source]).hexdigest()}  {source.local}\n"
        for source in sorted(ALL_SOURCES, key=lambda s: s.local)
    )
    generated = Generated(files, outputs, cel)
    files["README.md"] = readme(generated)
    return generated


def write(generated: Generated, out: Path) -> None:
    foreign = out.exists() and any(p.name not in HAND_MAINTAINED for p in out.iterdir())
    if foreign and not (out / "index.json").exists():
        raise SystemExit(f"gen_schemas: {out} is not empty and has no index.json; refusing to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    for existing in sorted(out.rglob("*"), reverse=True):
        relative = existing.relative_to(out).as_posix()
        if existing.is_file() and relative not in generated.files and relative not in HAND_MAINTAINED:
            existing.unlink()
        elif existing.is_dir() and not any(existing.iterdir()):
            existing.rmdir()
    for relative, text in generated.files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8", newline="\n")


# ----------------------------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------------------------

README_INTRO = """\
# JSON Schemas for calico2cilium's input and output kinds

**Generated by `scripts/gen_schemas.py` (`make schemas`); do not edit.** Only `LICENSE` is
maintained by hand. `calico2cilium.schemas` loads these files at run time (from the package's
`_schemas/` in a wheel, else from this directory); nothing reads `../shared` at run time.

All schemas are JSON Schema **draft 2020-12**, one file per apiVersion and kind (and, for Cilium,
per supported Cilium minor version). Each file validates the **whole object**: `apiVersion` and
`kind` are constants, `metadata` is Kubernetes ObjectMeta with `name` required, then `spec`
(Cilium policies also `specs`) and `status` where the CRD has one.
"""

README_RULES = """\
## How a CRD schema becomes a JSON Schema

The CRDs carry Kubernetes *structural* OpenAPI v3 schemas. The generator keeps every validation
keyword (`type`, `enum`, `required`, `pattern`, `format`, `maxItems`, `maxLength`, `minimum`,
`oneOf`/`anyOf`/`allOf`, `default`, ...) and translates the Kubernetes extensions:

| CRD | JSON Schema | why |
|---|---|---|
| `x-kubernetes-int-or-string: true` (with its `anyOf: [{type: integer}, {type: string}]`) | `type: [integer, string]` | the same set of values, with a plain type error message |
| `nullable: true` | `null` added to `type` | (no CRD used here sets it) |
| `x-kubernetes-preserve-unknown-fields: true` | no `additionalProperties: false` on that object | unknown fields are allowed there (no CRD used here sets it) |
| `x-kubernetes-list-type: set` | `uniqueItems: true` | the API server rejects duplicates in a set list |
| `x-kubernetes-list-type: atomic`/`map`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type` | dropped | merge strategy only; the one `map` list (status `conditions`, unique by `type`) is not checked |
| `x-kubernetes-validations` (CEL) | dropped, **listed below** | JSON Schema cannot express them; implement them in Python |
| `description` | dropped | size; read the CRD for documentation |
| `pattern` (Go RE2) | rewritten for Python `re`, see "Regular expressions" | linear-time matching, Go's `$` |
| `metadata: {type: object}` | ObjectMeta (below) | |
| `apiVersion`/`kind: {type: string}` | `const` | one file per apiVersion and kind |
| Cilium `spec` and `specs[*]` (the same Rule schema) | one copy in `$defs/rule`, referenced twice | halves the file size |

`format` is checked by `calico2cilium.schemas` for the formats the Kubernetes API server checks
and these schemas use: `cidr` (Go `net.ParseCIDR`: an address, `/`, a decimal prefix length;
host bits may be set) and `date-time` (RFC 3339). Other formats (`int32`, `int64`,
`idn-hostname`) are annotations, as in Kubernetes.

### Unknown fields are rejected

The CRDs do not set `additionalProperties: false`; the API server prunes unknown fields (or, with
`kubectl --validate=strict`, rejects them). **Every object schema that lists `properties` and does
not preserve unknown fields gets `additionalProperties: false`**, including ObjectMeta and the top
level. A typo such as `egres:` would otherwise validate and silently drop the rules under it,
which is exactly the kind of silent change calico2cilium exists to prevent. (A real case: the
HostEndpoint examples of the Calico docs page `reference/resources/overview.mdx` write
`interface: eth0` for `interfaceName`; the API server prunes the unknown field and, since
`expectedIPs` is set, accepts an object that no longer names its interface.) Objects that are maps
(`matchLabels`, `labels`, `annotations`: `additionalProperties` with a value schema) and the
branches of `anyOf`/`oneOf` (no `type`) are unaffected. For cluster-scoped kinds ObjectMeta has no
`namespace`, so `metadata.namespace` on e.g. a GlobalNetworkPolicy is reported.

### `null` means absent

The API server prunes `null` values of fields that are not `nullable` before it validates, and Go
decodes `null` into an empty value, so `ingress:` with nothing after it means "no ingress". The
schema files themselves reject such nulls (a stock validator reports `None is not of type
'array'`); `calico2cilium.schemas` validates with the `properties` and `required` keywords
adjusted so that a `null` member counts as absent (a required member that is `null` is missing).

### ObjectMeta

`name` (1–253 characters; the naming rule of each kind is checked by the typed models),
`generateName`, `namespace` (namespaced kinds only, at most 63 characters, optional because
`kubectl` output and many manifests omit it), `selfLink`, `uid`, `resourceVersion`, `generation`,
`creationTimestamp`, `deletionTimestamp`, `deletionGracePeriodSeconds`, `labels`, `annotations`,
`ownerReferences`, `finalizers`, `managedFields` and `clusterName` (printed by kubectl before
1.25).
"""

README_NOT_CHECKED = """\
## Not checked by these schemas

- The CEL rules listed above.
- Go-level validation that is not in any CRD: e.g. Calico's port, protocol, selector and CIDR
  syntax (`libcalico-go/lib/validator/v3`, `api/pkg/lib/numorstring`), Cilium's "`spec` or
  `specs` is required", "no `nodeSelector` in a CiliumNetworkPolicy", one L3 peer kind per rule,
  `icmps` with `toPorts`, CIDR `except` containment (`pkg/policy/api/rule_validation.go`), and
  Kubernetes NetworkPolicy's ValidateNetworkPolicy checks. The typed models in
  `calico2cilium.calico` and `calico2cilium.k8s` implement the input-side ones.
"""


def readme(generated: Generated) -> str:
    parts = [README_INTRO, _files_section(generated.outputs), _sources_section(), README_RULES]
    parts.append(_patterns_section())
    parts.append(_cilium_section())
    parts.append(_kubernetes_section())
    parts.append(_cel_section(generated.cel, {o.path: o for o in generated.outputs}))
    parts.append(README_NOT_CHECKED)
    parts.append(_other_files_section())
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


def _files_section(outputs: list[Output]) -> str:
    lines = ["## Files", "", "| file | apiVersion | kind | source |", "|---|---|---|---|"]
    for output in sorted(outputs, key=lambda o: _file_sort_key(o.path)):
        lines.append(f"| `{output.path}` | `{output.api_version}` | {output.kind} | {output.origin} |")
    lines += [
        "",
        "`index.json` maps apiVersion and kind (and for Cilium the version `1.15`…`1.19`) to these files."
        " Which Cilium CRD each version set comes from, and what was changed, is in"
        ' "Cilium versions" below.',
    ]
    return "\n".join(lines)


def _file_sort_key(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


def _sources_section() -> str:
    lines = [
        "## Sources",
        "",
        "Verbatim copies of upstream CRDs (the generator checks each file's git blob hash). Both",
        "repositories are Apache-2.0; see `LICENSE`.",
        "",
        f"- Calico: {CALICO_REPO} at commit `{CALICO_COMMIT}` (master, 2026-08-22,"
        " `v3.34.0-0.dev-67-g87c15906f2`).",
        f"- Cilium 1.19.0-pre.4: {CILIUM_REPO} at commit `{CILIUM_119_COMMIT}` ('Prepare for release"
        " v1.19.0-pre.4', 2026-01-07).",
        f"- Cilium 1.17.5: {CILIUM_REPO} at commit `{CILIUM_117_COMMIT}` ('Prepare for release v1.17.5',"
        " 2025-06-16).",
        "",
        "| upstream path | commit | git blob | sha256 of the copy: `checksums.txt` |",
        "|---|---|---|---|",
    ]
    for source in ALL_SOURCES:
        lines.append(f"| `{source.path}` | `{source.commit[:12]}` | `{source.blob}` | `{source.local}` |")
    return "\n".join(lines)


def _patterns_section() -> str:
    lines = [
        "## Regular expressions",
        "",
        "Kubernetes matches `pattern` with Go's RE2 (linear time, `$` only at the end of the text);",
        "`jsonschema` uses Python's backtracking `re`. Every upstream pattern is listed here with its",
        "Python form (the generator refuses a pattern that is not listed). `tests/test_schemas.py`",
        "checks that each rewrite accepts the same strings as the upstream pattern (the port pattern:",
        "as the upstream pattern matched against the whole string) and that hostile strings are fast.",
        "",
        "| upstream | used | change |",
        "|---|---|---|",
    ]
    for upstream, rewrite in sorted(PATTERNS.items()):
        lines.append(f"| `{_cell(upstream)}` | `{_cell(rewrite.python)}` | {rewrite.why} |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    text = text.replace("|", "\\|")
    return text if len(text) <= 120 else text[:117] + "..."


def _cilium_section() -> str:
    lines = [
        "## Cilium versions",
        "",
        "`calico2cilium.schemas` validates Cilium documents against one of five version sets"
        " (default: the newest). Only two CRD snapshots exist (1.17.5 and 1.19.0-pre.4), so 1.15, 1.16"
        " and 1.18 are **derived**. Facts and commits are from `docs/reference/semantics.md`"
        " (Part 2, §2.6) and `docs/reference/semantics-check.md`, which read the Cilium sources at v1.15.4, v1.17.5"
        " and main.",
        "",
        "CiliumCIDRGroup: 1.15–1.17 serve only `cilium.io/v2alpha1` (the 1.17.5 CRD, identical apart"
        " from descriptions to the v2alpha1 version in the 1.19 CRD); 1.18 and 1.19 serve `cilium.io/v2`"
        " and the deprecated `cilium.io/v2alpha1` (the 1.19.0-pre.4 CRD). A `cilium.io/v2`"
        " CiliumCIDRGroup is therefore reported (at `apiVersion`) for 1.15–1.17.",
        "",
    ]
    for version in reversed(CILIUM_VERSIONS):
        base, changes = CILIUM_CHANGES[version]
        if not changes:
            lines.append(f"- **{version}**: the {base} CRDs, unchanged.")
            continue
        lines.append(f"- **{version}**: the {version_label(base)} schemas with these changes:")
        for change in changes:
            lines.append(f"  - {change.text}. *Why:* {change.source}")
        note = CILIUM_KEPT_NOTES.get(version)
        if note:
            lines.append(f"  - {note}")
    return "\n".join(lines)


def version_label(base: str) -> str:
    return f"Cilium {base}" if base in CILIUM_VERSIONS else base


def _kubernetes_section() -> str:
    return (
        "## Kubernetes NetworkPolicy (hand-written)\n\n"
        "`kubernetes/networking.k8s.io_v1/networkpolicy.json` is not derived from a CRD: it is written"
        f" by hand in `scripts/gen_schemas.py` from {K8S_SOURCE}. It follows the current API:"
        " `spec` and `spec.podSelector` are optional (an absent selector is the empty selector),"
        " `protocol` is TCP, UDP or SCTP, `port` an integer or a string, `endPort` an int32, `ipBlock`"
        " needs `cidr`, and a LabelSelector requirement needs `key` and `operator` (In, NotIn, Exists,"
        " DoesNotExist). Field combinations (one peer kind per `ipBlock`, `endPort` ≥ `port`, at most"
        " two `policyTypes`, `except` inside `cidr`) are ValidateNetworkPolicy checks, left to the"
        " typed model. Unknown fields are rejected as everywhere else; `status` (an alpha field of"
        " Kubernetes 1.24–1.25) is accepted as any object."
    )


def _cel_section(cel: dict[CelRule, list[str]], outputs: dict[str, Output]) -> str:
    lines = [
        "## Dropped CEL rules (`x-kubernetes-validations`)",
        "",
        "The Calico CRDs carry these rules; the Cilium CRDs carry none. JSON Schema cannot express"
        " them, so they are **not** checked by the schemas and must be implemented in Python."
        " `path` is the object the rule is attached to (`self`); `[*]` is every list item.",
        "",
        "| path | message | CEL rule | kinds (Calico apiVersion) |",
        "|---|---|---|---|",
    ]
    for rule, files in sorted(cel.items(), key=lambda item: (item[0].path, item[0].message, item[0].rule)):
        versions: dict[str, list[str]] = {}
        for name in sorted(files, reverse=True):
            output = outputs[name]
            versions.setdefault(output.kind, []).append(output.api_version.rsplit("/", 1)[1])
        names = ", ".join(f"{kind} ({', '.join(apis)})" for kind, apis in sorted(versions.items()))
        lines.append(f"| `{rule.path}` | {rule.message} | `{_cell_full(rule.rule)}` | {names} |")
    return "\n".join(lines)


def _cell_full(text: str) -> str:
    return text.replace("|", "\\|")


def _other_files_section() -> str:
    return (
        "## Other files\n\n"
        "- `index.json`: apiVersion/kind (and Cilium version) → schema file, read by"
        " `calico2cilium.schemas`.\n"
        "- `checksums.txt`: sha256 of each source CRD copy (`sha256sum -c` format, paths relative to"
        " `../shared/crds`); the tests compare it with the sources to tell when they changed.\n"
        "- `LICENSE`: the Apache-2.0 notice for the upstream CRDs these files derive from (maintained"
        " by hand)."
    )


# ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("crd_dir", nargs="?", type=Path, default=DEFAULT_CRDS, help="the CRD directory")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: schemas/)")
    args = parser.parse_args(argv)
    generated = generate(args.crd_dir)
    write(generated, args.out)
    print(f"gen_schemas: wrote {len(generated.files)} files to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
