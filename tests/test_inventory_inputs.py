"""``--inventory`` files as review 3 fed them to ``convert``: bad ones are positioned errors (exit 2)
and the string-test selector that needed them is refused (C2C303), never a traceback; the forms
kubectl prints (a JSON ``List``, a ``kubectl get all`` export with workloads) are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_cli as run

POLICY = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: contains
  namespace: default
spec:
  selector: app contains 'web'
  ingress:
    - action: Allow
"""
NAMESPACE = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n"


def _convert(tmp_path: Path, name: str, inventory: bytes) -> tuple[int, str, str]:
    """``convert policy.yaml --inventory NAME`` with NAME holding ``inventory``."""
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / name).write_bytes(inventory)
    return run(
        "convert",
        str(tmp_path / "policy.yaml"),
        "--inventory",
        str(tmp_path / name),
        "--pod-cidr",
        "10.244.0.0/16",
    )


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("empty.yaml", b"", "1:1: error C2C105"),
        ("broken.yaml", b"key: [unclosed\n", "2:1: error C2C104"),
        (
            "latin1.yaml",
            b"apiVersion: v1\nkind: Pod\nmetadata: {name: caf\xe9, namespace: default}\n",
            "3:21: error C2C102",
        ),
        ("empty-list.yaml", b"apiVersion: v1\nkind: List\nitems: []\n", "1:1: error C2C317"),
        (
            # An unquoted YAML boolean is not a label value (kubectl prints "true"): review 3,
            # finding 9, where it was read as "True" and silently failed the string test.
            "bool-label.yaml",
            (
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default, labels: {canary: true}}\n"
                + NAMESPACE
            ).encode(),
            "3:58: error C2C317",
        ),
    ],
)
def test_an_unusable_inventory_is_a_positioned_error_and_the_string_test_is_refused(
    tmp_path: Path, name: str, content: bytes, where: str
) -> None:
    code, _, err = _convert(tmp_path, name, content)
    assert code == 2, err
    assert f"{tmp_path / name}:{where}" in err
    assert f"{tmp_path / 'policy.yaml'}:7:13: warning C2C303" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "list.json",
            '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod",'
            ' "metadata": {"name": "p", "namespace": "default", "labels": {"app": "web1"}}}]}',
        ),
        (
            "get-all.yaml",
            "apiVersion: v1\nkind: List\nitems:\n"
            "- {apiVersion: v1, kind: Service, metadata: {name: s, namespace: default}}\n"
            "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: default}}\n"
            "- {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: default, labels: {app: web1}}}\n"
            "- {apiVersion: v1, kind: Namespace, metadata: {name: default}}\n",
        ),
    ],
)
def test_kubectl_list_forms_are_read_and_workloads_skipped(tmp_path: Path, name: str, content: str) -> None:
    code, out, err = _convert(tmp_path, name, content.encode())
    assert code == 1, err  # the C2C316 snapshot warning only
    assert "warning C2C316" in err and " error C2C" not in err
    assert "web1" in out
