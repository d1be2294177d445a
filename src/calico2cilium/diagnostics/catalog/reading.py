"""C2C0xx: the tool itself; C2C1xx: problems reading input, before any document is understood."""

from __future__ import annotations

from calico2cilium.diagnostics import Severity
from calico2cilium.diagnostics.catalog import CodeDoc

_POLICY = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-dns
spec:
  selector: all()
  types: [Egress]
  egress:
    - action: Allow
      protocol: UDP
      destination:
        ports: [53]
"""

CODES = (
    CodeDoc(
        "C2C000",
        "internal-error",
        Severity.ERROR,
        "The tool failed on this document: a bug in calico2cilium, not in your input.",
        "The document was not converted; the rest of the run went on. Please report it with the"
        " document (set CALICO2CILIUM_DEBUG=1 for a traceback).",
    ),
    CodeDoc(
        "C2C101",
        "input-not-found",
        Severity.ERROR,
        "A path given on the command line does not exist or is not a file or directory.",
        "Every path you name must exist. So must every .yaml, .yml or .json name in a directory read:"
        " a symbolic link to nothing (a target not checked out) is an error, not skipped, since the"
        " policies it stood for would be missing from the output. Subdirectories that cannot be read"
        " are errors too. The other inputs of the run are still processed.",
    ),
    CodeDoc(
        "C2C102",
        "not-utf8",
        Severity.ERROR,
        "The input is not valid UTF-8 (or BOM-marked UTF-16).",
        "Kubernetes manifests are UTF-8. The position is that of the first byte that cannot be decoded;"
        " re-save the file as UTF-8.",
        failing=b"apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: caf\xe9\n",
        passing="apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: security\nspec:\n  order: 100\n",
    ),
    CodeDoc(
        "C2C103",
        "binary-file",
        Severity.ERROR,
        "The input contains a NUL byte: it is a binary file, not a manifest.",
        "Often a compressed or packed file picked up from a directory. Name manifests explicitly, or"
        " keep binary files out of the directories you convert.",
        failing=b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
        passing=_POLICY,
    ),
    CodeDoc(
        "C2C104",
        "syntax-error",
        Severity.ERROR,
        "The input is not valid YAML or JSON.",
        "The position is where the parser gave up. YAML forbids tabs in indentation. An unquoted value"
        " starting with '!' (`selector: !has(app)`) is a YAML tag, not text: kubectl and Helm ignore"
        ' the unknown tag and read the rest of the value, often "", which as a Calico selector is'
        " all(); quote it. In a multi-document stream the other documents (separated by '---') are"
        " still read.",
        failing="apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n\tname: security\n",
        passing="apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: security\nspec:\n  order: 100\n",
    ),
    CodeDoc(
        "C2C105",
        "no-documents",
        Severity.ERROR,
        "The input holds no document at all (empty, or only comments).",
        "An empty input usually means a failed export (e.g. 'kubectl get' printed to stderr only).",
        failing="# nothing here\n",
        passing=_POLICY,
    ),
    CodeDoc(
        "C2C106",
        "input-too-large",
        Severity.ERROR,
        "The input, or one document after expanding YAML aliases, is beyond the sizes this tool reads.",
        "Limits: 256 MiB per input and one million values per document after alias expansion. A tiny"
        " file can expand exponentially through nested aliases (a 'billion laughs' alias bomb); such a"
        " document is refused without being expanded.",
        failing="a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + "",
        passing=_POLICY,
    ),
    CodeDoc(
        "C2C107",
        "too-deep",
        Severity.ERROR,
        "A document is nested more than 100 levels deep.",
        "No policy resource is anywhere near that deep; such input is refused before it can exhaust"
        " the stack of a later stage.",
        failing="a: " + "[" * 150 + "]" * 150 + "\n",
        passing=_POLICY,
    ),
    CodeDoc(
        "C2C108",
        "duplicate-key",
        Severity.ERROR,
        "A mapping has the same key twice.",
        "YAML parsers keep only the last value, so the first one (for example a whole 'ingress:' list)"
        " would be dropped without a word. Merge the two entries. The document's resources are not"
        " converted; --allow-partial quarantines the policies among them (read with the last value).",
        failing=_POLICY.replace("  types: [Egress]\n", "  types: [Egress]\n  selector: app == 'x'\n"),
        passing=_POLICY,
    ),
    CodeDoc(
        "C2C109",
        "empty-directory",
        Severity.ERROR,
        "A directory given as input holds no .yaml, .yml or .json file (use -R to descend into subdirectories).",
        "Directories contribute only files with a manifest extension, as with kubectl -f; subdirectories"
        " are read only with -R/--recursive.",
    ),
)
