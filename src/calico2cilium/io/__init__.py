"""Reading inputs (files, directories, stdin) into raw documents that know where they came from,
and writing outputs."""

from calico2cilium.io.discover import InputFile, discover
from calico2cilium.io.documents import RawDocument
from calico2cilium.io.yamlstream import read_documents

__all__ = ["InputFile", "RawDocument", "discover", "read_documents"]
