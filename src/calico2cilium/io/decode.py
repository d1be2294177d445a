"""Bytes to text, refusing what is not a text manifest, with the position of the first bad byte."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from calico2cilium.diagnostics import Diagnostic, Severity, Source

MAX_INPUT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Decoded:
    text: str | None
    diagnostic: Diagnostic | None = None


def decode(data: bytes, name: str) -> Decoded:
    """Decode UTF-8 (a leading byte-order mark is allowed, as YAML allows it) or BOM-marked UTF-16."""
    if len(data) > MAX_INPUT_BYTES:
        return _refuse("C2C106", name, 1, 1, f"input is larger than {MAX_INPUT_BYTES // 2**20} MiB")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _checked(data.decode("utf-16"), name)
        except UnicodeDecodeError as exc:
            return _bad_bytes(data, exc, name, "UTF-16")
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _byte_position(data, nul)
        return _refuse(
            "C2C103", name, line, column, "binary file (NUL byte); expected a YAML or JSON manifest"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _bad_bytes(data, exc, name, "UTF-8")
    return _checked(text.removeprefix("\ufeff"), name)


def _checked(text: str, name: str) -> Decoded:
    """``text``, unless a byte-order mark stands where YAML does not allow one."""
    stray = _stray_bom(text)
    if stray is not None:
        line, column = stray
        message = "byte-order mark (U+FEFF) inside a document; it would become part of a value"
        return _refuse("C2C104", name, line, column, message)
    return Decoded(text)


def _stray_bom(text: str) -> tuple[int, int] | None:
    """Where a BOM stands that YAML does not allow (it may only open a document), or ``None``.

    Files concatenated from editors that write BOMs put one at the start of each document, right
    before or after its ``---`` line; that is allowed, as YAML 1.2 allows it in a document prefix.
    """
    start = text.find("\ufeff")
    while start >= 0:
        line_start = text.rfind("\n", 0, start) + 1
        previous = text[text.rfind("\n", 0, max(line_start - 1, 0)) + 1 : max(line_start - 1, 0)]
        opens = start == line_start and (
            text.startswith("---", start + 1) or previous.rstrip() in ("---", "...")
        )
        if not opens:
            return text.count("\n", 0, start) + 1, start - line_start + 1
        start = text.find("\ufeff", start + 1)
    return None


def _bad_bytes(data: bytes, exc: UnicodeDecodeError, name: str, encoding: str) -> Decoded:
    line, column = _byte_position(data, exc.start)
    byte = data[exc.start : exc.start + 1].hex()
    return _refuse("C2C102", name, line, column, f"not valid {encoding}: byte 0x{byte} cannot be decoded")


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _refuse(code: str, name: str, line: int, column: int, message: str) -> Decoded:
    return Decoded(None, Diagnostic(code, Severity.ERROR, message, Source(name, line, column)))
