"""Raw documents to typed models, with every problem a positioned diagnostic.

Three checks, in order: type meta (apiVersion/kind), the pydantic model of the kind (fields,
values, cross-field rules), then selectors (parsed with the Calico grammar) and the JSON Schema
derived from the official CRD (which adds the CRD's size limits). A schema violation at or under a
path the model already reported is not repeated.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from calico2cilium import schemas as schema_check
from calico2cilium.calico import kinds
from calico2cilium.calico.enterprise import enterprise_field
from calico2cilium.calico.selector import SelectorError, parse
from calico2cilium.diagnostics import Diagnostic, Source
from calico2cilium.diagnostics.catalog import make
from calico2cilium.io.documents import RawDocument
from calico2cilium.io.locate import Path


@dataclass(slots=True)
class Document:
    """A valid input resource: its typed model and the raw document it came from."""

    raw: RawDocument
    model: BaseModel

    @property
    def kind(self) -> str:
        return self.raw.kind

    @property
    def api_version(self) -> str:
        return self.raw.api_version

    @property
    def name(self) -> str:
        return self.raw.name

    @property
    def namespace(self) -> str:
        return self.raw.namespace

    def source(self, path: Path = (), *, key: bool = False) -> Source:
        return self.raw.source(path, key=key)


_CUSTOM_CODES = {
    "invalid_cidr": "C2C214",
    "invalid_port": "C2C215",
    "invalid_protocol": "C2C216",
    "invalid_icmp": "C2C217",
    "invalid_label": "C2C218",
    "invalid_order": "C2C219",
    "invalid_rule": "C2C220",
    "invalid_name": "C2C221",
}
_SCHEMA_CODES = {"additionalProperties": "C2C210", "type": "C2C212", "required": "C2C213", "enum": "C2C223"}


def validate(raw: RawDocument) -> tuple[Document | None, list[Diagnostic]]:
    """Check one raw document. A document with any error diagnostic is not returned."""
    api_version, kind = raw.data.get("apiVersion"), raw.data.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        missing = "apiVersion" if not isinstance(api_version, str) or not api_version else "kind"
        return None, [make("C2C205", f"resource has no valid {missing!r}", raw.source())]
    model_type = kinds.model_for(api_version, kind)
    if model_type is None:
        return None, [_unknown_kind(raw, api_version, kind)]
    try:
        model = model_type.model_validate(raw.data)
    except ValidationError as exc:
        diagnostics = list(_model_errors(raw, exc))
        reported = [path for path, _ in _located(raw, exc)]
        diagnostics.extend(_schema_errors(raw, skip=reported))
        return None, _dedupe(diagnostics)
    diagnostics = list(_selector_errors(raw, model))
    diagnostics.extend(_schema_errors(raw, skip=[]))
    if diagnostics:
        return None, _dedupe(diagnostics)
    return Document(raw, model), []


def _unknown_kind(raw: RawDocument, api_version: str, kind: str) -> Diagnostic:
    from calico2cilium.calico.nonpolicy import skipped

    note = skipped(raw, api_version, kind)
    if note is not None:
        return note
    where = raw.source(("kind",))
    if kind.startswith("Staged") and kind in kinds.KNOWN_UNSUPPORTED_KINDS:
        return make("C2C204", f"{kind} {raw.name!r} skipped: staged policies are not enforced", where)
    if kind in kinds.KNOWN_UNSUPPORTED_KINDS:
        return make("C2C203", f"{api_version} {kind} is not supported for conversion", where)
    close = difflib.get_close_matches(kind, sorted({k for _, k in kinds.MODELS}), n=1)
    hint = f"did you mean {close[0]!r}?" if close else None
    return make("C2C202", f"unknown resource type {api_version} {kind}", where, hint)


def _located(raw: RawDocument, exc: ValidationError) -> Iterator[tuple[Path, dict[str, Any]]]:
    for error in exc.errors():
        yield _data_path(raw.data, error["loc"]), dict(error)


def _data_path(data: Any, loc: tuple[int | str, ...]) -> Path:
    """Keep the parts of a pydantic ``loc`` that walk the data; drop union/validator tags."""
    path: list[str | int] = []
    value = data
    for item in loc:
        if (isinstance(value, dict) and item in value) or (
            isinstance(value, list) and isinstance(item, int) and 0 <= item < len(value)
        ):
            path.append(item)
            value = value[item]  # type: ignore[index]
        elif isinstance(value, dict) and isinstance(item, str) and not path_is_tag(item):
            path.append(item)  # a missing or extra key: keep it for the message
            value = None
    return tuple(path)


def path_is_tag(item: str) -> bool:
    return "[" in item or item in {"int", "str", "float", "bool", "list", "dict"}


def _model_errors(raw: RawDocument, exc: ValidationError) -> Iterator[Diagnostic]:
    for path, error in _located(raw, exc):
        kind = error["type"]
        field = ".".join(str(p) for p in path) or "document"
        enterprise = enterprise_field(path) if kind == "extra_forbidden" else None
        if enterprise is not None:
            message = (
                f"{field!r} is a Calico Enterprise field (in {enterprise.where}, it "
                f"{enterprise.meaning}); Calico Open Source, which this tool converts, has no such field"
            )
            yield make("C2C230", message, raw.source(path, key=True), enterprise.instead)
        elif kind == "extra_forbidden":
            name = str(path[-1]) if path else "?"
            yield make("C2C210", f"unknown field {field!r}", raw.source(path, key=True), _field_hint(name))
        elif kind == "missing":
            code = "C2C221" if path[-2:] == ("metadata", "name") else "C2C213"
            parent = path[:-1]
            yield make(code, f"required field {field!r} is missing", raw.source(parent, key=True))
        else:
            code = _CUSTOM_CODES.get(kind) or _type_code(kind)
            yield make(code, f"{field}: {_message(error)}", raw.source(path))


def _type_code(kind: str) -> str:
    if kind.endswith(("_type", "_parsing")) or kind in {"model_attributes_type", "int_from_float"}:
        return "C2C212"
    return "C2C223"


def _message(error: dict[str, Any]) -> str:
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    value = error.get("input")
    if (
        isinstance(value, str | int | float | bool)
        and repr(value) not in message
        and str(value) not in message
    ):
        message = f"{message} (got {value!r})"
    return message


def _selector_errors(raw: RawDocument, model: BaseModel) -> Iterator[Diagnostic]:
    fields = getattr(model, "selector_fields", None)
    if fields is None:
        return
    for path, expression in fields():
        try:
            parse(expression)
        except SelectorError as exc:
            field = ".".join(str(p) for p in path)
            yield make("C2C211", f"{field}: {exc.message}", raw.source_in_string(path, exc.column - 1))


def _schema_errors(raw: RawDocument, skip: list[Path]) -> Iterator[Diagnostic]:
    data = raw.data
    if isinstance(data, dict) and "status" in data:
        # Written by the API server and controllers, printed by kubectl get (status: {}), never
        # policy: ignored like metadata.managedFields (the API server prunes it where the CRD
        # has no status; the Tier CRD has one). Resource.status says the same for the models.
        data = {key: value for key, value in data.items() if key != "status"}
    for violation in schema_check.validate(data):
        path = tuple(violation.path)
        if any(path[: len(done)] == done or done[: len(path)] == path for done in skip):
            continue
        code = _SCHEMA_CODES.get(violation.validator, "C2C222")
        field = ".".join(str(p) for p in path) or "document"
        key = violation.validator == "additionalProperties"
        yield make(code, f"{field}: {violation.message} (CRD schema)", raw.source(path, key=key))


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, Source | None, str]] = set()
    unique = []
    for d in diagnostics:
        key = (d.code, d.source, d.message)
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return unique


def _field_hint(name: str) -> str | None:
    """The C2C210 hint: the closest known field name, never ``name`` itself (a field other
    resources or sections have is not a typo: review5 finding 7 said "did you mean 'status'?")."""
    known = _field_names()
    if name in known:
        return f"{name!r} is a field of other resources or sections, not of this one"
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"did you mean {close[0]!r}?" if close else None


@cache
def _field_names() -> frozenset[str]:
    """Every YAML field name any input model knows, for "did you mean" hints."""
    names: set[str] = set()
    todo: list[type[BaseModel]] = list(kinds.MODELS.values())
    done: set[type[BaseModel]] = set()
    while todo:
        model = todo.pop()
        if model in done:
            continue
        done.add(model)
        for name, info in model.model_fields.items():
            names.add(info.alias or name)
            todo.extend(_submodels(info.annotation))
    return frozenset(names)


def _submodels(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _submodels(arg)
