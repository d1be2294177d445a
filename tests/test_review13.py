"""review13: adversarial review of the command line as a user meets it (``convert --verify``,
``--allow-partial``, hostile inputs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import run_cli
from test_quarantine import ALLOW_ALL
from test_quarantine import DENY as DENY_DB

CLUSTER = ("--pod-cidr", "10.244.0.0/16", "--node-cidr", "192.168.0.0/24")


# Each document is invalid (an unknown field, a bad name, no name, a namespace that is no DNS
# label); --allow-partial quarantines each: its pods are denied everything in its directions.
INVALID = {
    "unknown-field": DENY_DB.replace("source:", "sorce:"),
    "no-name": DENY_DB.replace("name: deny-db, ", ""),
    "bad-namespace": DENY_DB.replace("namespace: dev", "namespace: Dev_1"),
    "global": """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: no-egress}
spec:
  order: 10
  selector: app == 'web'
  types: [Egress]
  egress: [{action: Deny, destination: {nets: [192.0.2.0/24]}, bogus: 1}]
""",
}


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("case", sorted(INVALID))
def test_a_quarantine_is_explained_by_its_c2c236(tmp_path: Path, case: str, where: str) -> None:
    """1. ``convert --allow-partial --verify`` called the narrowing of every quarantine unexplained
    (C2C414, verdict DIFFERENT): the attribution read only the resources converted, so the C2C236
    at an invalid document found no resource (or, placed after a valid policy, the policy before
    it, whose subjects it then explained instead)."""
    docs = [INVALID[case], ALLOW_ALL] if where == "before" else [ALLOW_ALL, INVALID[case]]
    path = tmp_path / "input.yaml"
    path.write_text("---\n".join(docs))
    code, out, err = run_cli("convert", str(path), *CLUSTER, "--allow-partial", "--verify")
    assert code == 2 and "C2C236" in err and out, err
    assert "C2C414" not in err and "DIFFERENT" not in err and "explained by: C2C236" in err, err


def test_a_duplicate_json_key_is_positioned_at_the_key(tmp_path: Path) -> None:
    """2. A duplicate key in JSON was reported at the document's first character (1:1), not at
    the key: ``json.loads`` tells no position."""
    path = tmp_path / "policy.json"
    path.write_text(
        '{"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",\n'
        ' "metadata": {"name": "c", "namespace": "x"},\n'
        ' "spec": {"selector": "all()",\n'
        '          "selector": "app == \'z\'",\n'
        '          "ingress": [{"action": "Allow"}]}}\n'
    )
    code, out, err = run_cli("lint", str(path))
    assert code == 2 and f"{path}:4:11: error C2C108 duplicate key 'selector' in JSON object" in out + err


APPLY_ON_FORWARD = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: block-attackers}
spec:
  order: 1
  selector: all()
  applyOnForward: true
  ingress: [{action: Deny, source: {selector: role == 'attacker'}}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-all}
spec:
  order: 10
  selector: all()
  ingress: [{action: Allow}]
"""


def test_an_apply_on_forward_policy_still_denies_for_pods(tmp_path: Path) -> None:
    """3. A GlobalNetworkPolicy with ``applyOnForward: true`` was left out whole (C2C301), so with
    ``--allow-partial`` its Deny was lost and ``allow-all`` let the attackers reach every pod
    (the verifier: DIFFERENT). Felix puts such a policy in every endpoint's normal tiers
    (felix/calc/event_sequencer.go ``tierInfoToProtoTierInfo``): for pods it is a normal policy,
    converted as one; only the host policies leave it out (and close its nodes, C2C312)."""
    path = tmp_path / "input.yaml"
    path.write_text(APPLY_ON_FORWARD)
    code, out, err = run_cli("convert", str(path), *CLUSTER, "--allow-partial", "--verify")
    assert code == 2 and "C2C301" in err and "EQUIVALENT" in err, err
    (deny,) = [d for d in yaml.safe_load_all(out) if d and d["metadata"]["name"] == "block-attackers"]
    assert deny["specs"][0]["ingressDeny"] == [{"fromEndpoints": [{"matchLabels": {"role": "attacker"}}]}]


def test_apply_on_forward_is_no_error_where_the_policy_cannot_select_hosts(tmp_path: Path) -> None:
    """A namespaceSelector keeps the policy off host endpoints: applyOnForward changes nothing."""
    path = tmp_path / "input.yaml"
    path.write_text(
        APPLY_ON_FORWARD.replace(
            "  applyOnForward: true\n", "  applyOnForward: true\n  namespaceSelector: all()\n"
        )
    )
    code, _, err = run_cli("convert", str(path), *CLUSTER, "--verify")
    assert code == 0 and "C2C301" not in err and "EQUIVALENT" in err, err


def test_generated_profiles_as_the_api_server_prints_them_are_skipped(tmp_path: Path) -> None:
    """4. The profiles Calico generates were skipped (C2C228) only when their allow-all rule read
    ``{action: Allow}``; the API server and calicoctl print it with ``source: {}`` and
    ``destination: {}`` (Go's omitempty keeps struct values, projectcalico/api
    ``policy_common.go`` ``Rule.Source``), so a real export of them was refused whole (C2C203)."""
    rule = "  - action: Allow\n    destination: {}\n    source: {}\n"
    path = tmp_path / "profiles.yaml"
    path.write_text(
        "apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: kns.shop}\nspec:\n"
        f"  egress:\n{rule}  ingress:\n{rule}  labelsToApply: {{pcns.projectcalico.org/name: shop}}\n"
        "---\napiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: projectcalico-default-allow}\n"
        f"spec:\n  egress:\n{rule}  ingress:\n{rule}"
        f"---\n{ALLOW_ALL}"
    )
    code, _, err = run_cli("convert", str(path), *CLUSTER)
    assert code == 0 and "C2C203" not in err and err.count("C2C228") == 2, err
    # A profile with a rule that says more still decides traffic: refused.
    path.write_text(path.read_text().replace("destination: {}", "destination: {ports: [80]}", 1))
    code, _, err = run_cli("convert", str(path), *CLUSTER)
    assert code == 2 and "C2C203" in err, err


def test_output_dir_never_replaces_a_file_the_tool_did_not_write(tmp_path: Path) -> None:
    """5. ``--output-dir`` replaced a file of the target's name whatever it held (a hand-written
    policy the user kept there): only the tool's own outputs (its managed-by label) are rewritten."""
    path = tmp_path / "input.yaml"
    path.write_text(ALLOW_ALL)
    out = tmp_path / "cilium"
    out.mkdir()
    mine = out / "cnp-dev-allow-all.yaml"
    mine.write_text("# my own policy, written by hand\n")
    code, _, err = run_cli("convert", str(path), *CLUSTER, "--output-dir", str(out))
    assert code == 2 and "C2C111" in err and "did not write" in err, err
    assert mine.read_text() == "# my own policy, written by hand\n"
    mine.unlink()
    code, _, err = run_cli("convert", str(path), *CLUSTER, "--output-dir", str(out))
    assert code == 0 and mine.exists(), err
    code, _, err = run_cli("convert", str(path), *CLUSTER, "--output-dir", str(out))
    assert code == 0, err  # a rerun rewrites its own output


@pytest.mark.parametrize("directive_at", ["start", "middle"])
def test_a_yaml_directive_stays_with_its_document_when_a_stream_is_recovered(
    tmp_path: Path, directive_at: str
) -> None:
    """6. Reading a stream around a broken document splits it at each ``---``: a ``%YAML``
    directive above a marker was left alone in a piece, reported as a second, spurious error
    ("did not find expected <document start>") with a C2C237 saying a policy may be lost."""
    good = ALLOW_ALL
    broken = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: b, namespace: dev\n"
    text = (
        f"%YAML 1.1\n---\n{good}---\n{broken}"
        if directive_at == "start"
        else f"{broken}...\n%YAML 1.1\n# the next one\n---\n{good}"
    )
    path = tmp_path / "input.yaml"
    path.write_text(text)
    code, out, err = run_cli("convert", str(path), *CLUSTER, "--allow-partial")
    assert code == 2 and err.count("error C2C104") == 1 and "document start" not in err, err
    assert "allow-all" in out


def test_diff_never_calls_a_comparison_with_unread_inputs_proven(tmp_path: Path) -> None:
    """7. ``diff`` with an input it could not read (a missing file, a Calico resource in error,
    left out of the comparison) printed "NO CHANGE: both sides decide every flow the same
    (proven)" and exited 2: the headline and JSON status now say the input is invalid."""
    typo = tmp_path / "typo.yaml"
    typo.write_text(ALLOW_ALL.replace("ingress:", "ingres:"))
    for old, new in ((str(tmp_path / "missing.yaml"), str(typo)), (str(typo), str(typo))):
        code, out, _ = run_cli("diff", old, new)
        assert code == 2 and out.startswith("INVALID INPUT") and "proven" not in out.splitlines()[0], out
        code, out, _ = run_cli("diff", old, new, "--format", "json")
        assert code == 2 and yaml.safe_load(out)["status"] == "invalid", out


def test_standard_output_redirected_to_an_input_is_refused(tmp_path: Path) -> None:
    """8. ``convert p.yaml >> p.yaml`` appended the output to the input (which then no longer
    parsed), and ``convert dir/ > dir/out.yaml`` read the empty file the shell had made and said
    "no documents in input": standard output that is an input file is now a usage error."""
    path = tmp_path / "input.yaml"
    path.write_text(ALLOW_ALL)
    code, err = _convert_into(path, path, "a")
    assert code == 2 and "standard output is the input file" in err, err
    assert path.read_text() == ALLOW_ALL
    inside = tmp_path / "out.yaml"
    code, err = _convert_into(tmp_path, inside, "w")
    assert code == 2 and f"input file {inside}" in err, err


def _convert_into(given: Path, output: Path, mode: str) -> tuple[int, str]:
    """``calico2cilium convert GIVEN > OUTPUT`` (``mode`` "a": ``>>``): exit status, stderr."""
    with output.open(mode) as out:
        done = subprocess.run(
            [sys.executable, "-m", "calico2cilium", "convert", str(given), *CLUSTER],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    return done.returncode, done.stderr
