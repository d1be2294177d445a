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
            return Decoded(data.decode("utf-16"))
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
    return Decoded(text[1:] if text.startswith("\ufeff") else text)


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
