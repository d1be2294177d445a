"""Issue 15's CLI, io and output items: each test shows the behaviour the issue reproduced on main
(in its comment) and checks the new one, run as a user runs the tool where it matters (a
subprocess with real files, pipes and closed streams)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TIER = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: a}\nspec: {order: 1}\n"


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_load_and_convert_stay_functions_however_often_called() -> None:
    # Was: the second call raised "TypeError: 'module' object is not callable" (the lazy
    # __getattr__ was shadowed by the submodule once it was imported).
    done = python(
        "import calico2cilium\n"
        f"text = {TIER!r}\n"
        "for _ in range(3):\n"
        "    assert calico2cilium.load(text=text).resources == 1\n"
        "    assert calico2cilium.convert(text=text).ok\n"
        "import calico2cilium.load, calico2cilium.convert, calico2cilium.cli\n"
        "from calico2cilium.load import LoadResult\n"
        "from calico2cilium.convert import ConvertResult\n"
        "assert callable(calico2cilium.load) and callable(calico2cilium.convert)\n"
        "assert isinstance(calico2cilium.load(text=text), LoadResult)\n"
        "assert isinstance(calico2cilium.convert(text=text), ConvertResult)\n"
        "print('ok')\n"
    )
    assert done.stdout.strip() == "ok", done.stderr


CALICO2CILIUM = [sys.executable, "-m", "calico2cilium"]
CLUSTER = ["--pod-cidr", "10.244.0.0/16", "--node-cidr", "192.168.0.0/24"]
GOOD = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  selector: app == 'db'
  ingress: [{action: Allow, protocol: TCP, source: {selector: app == 'web'}}]
"""
TYPO = GOOD.replace("name: db,", "name: db2,").replace("source:", "sorce:")
WARNED = GOOD.replace("ingress: [", "ingress: [{action: Log}, ")  # C2C302, a warning
CILIUM_GOOD = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: web, k8s:io.kubernetes.pod.namespace: prod}}]
    toPorts: [{ports: [{port: "0", protocol: TCP}]}]
"""


def cli(*args: str, stdin: str | None = None, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CALICO2CILIUM, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,
    )  # type: ignore[call-overload, no-any-return]


def files(tmp_path: Path, **texts: str) -> list[str]:
    out = []
    for name, text in texts.items():
        (tmp_path / f"{name}.yaml").write_text(text)
        out.append(str(tmp_path / f"{name}.yaml"))
    return out


def test_an_error_writes_nothing_to_stdout_or_the_output_dir(tmp_path: Path) -> None:
    # Was: exit 2 with the good policy still on stdout, so '| kubectl apply -f -' applied a set the
    # tool knew was not equivalent.
    good, typo = files(tmp_path, good=GOOD, typo=TYPO)
    done = cli("convert", good, typo, *CLUSTER)
    assert done.returncode == 2 and done.stdout == ""
    assert "C2C210" in done.stderr and "nothing was written to standard output" in done.stderr
    out_dir = tmp_path / "out"
    done = cli("convert", good, typo, *CLUSTER, "--output-dir", str(out_dir))
    assert done.returncode == 2 and not out_dir.exists()
    done = cli("convert", good, typo, *CLUSTER, "--allow-partial", "--output-dir", str(out_dir))
    # The invalid db2 is quarantined (C2C236): its pods are denied everything, not left ungoverned.
    assert done.returncode == 2 and "C2C236" in done.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["cnp-prod-db.yaml", "cnp-prod-db2.yaml"]
    assert "ingressDeny" in (out_dir / "cnp-prod-db2.yaml").read_text()
    assert "--allow-partial" in cli("convert", "--help").stdout


def test_two_differing_copies_of_one_policy_write_nothing(tmp_path: Path) -> None:
    # Was: both copies dropped with C2C224, the rest written: the policy vanished from the output.
    v1 = GOOD.replace("projectcalico.org/v3", "crd.projectcalico.org/v1").replace(
        "name: db,", "name: default.db,"
    )
    (same,) = files(tmp_path, same=GOOD + "---\n" + v1)
    done = cli("convert", same, *CLUSTER)
    assert done.returncode == 0 and "C2C225" in done.stderr and "name: db" in done.stdout
    (differ,) = files(tmp_path, differ=GOOD + "---\n" + v1.replace("TCP", "UDP"))
    done = cli("convert", differ, *CLUSTER)
    assert done.returncode == 2 and "C2C224" in done.stderr and done.stdout == ""


def test_exit_statuses_mean_one_thing_each(tmp_path: Path) -> None:
    # Was: 'convert --verify' exited 1 for "EQUIVALENT with warnings" and for DIFFERENT alike, and
    # 'verify' exited 1 for a difference.
    good, warned, typo = files(tmp_path, good=GOOD, warned=WARNED, typo=TYPO)
    assert cli("convert", good, *CLUSTER, "--verify").returncode == 0
    assert cli("convert", warned, *CLUSTER, "--verify").returncode == 1
    assert cli("convert", warned, *CLUSTER, "--verify", "--fail-on", "narrowing").returncode == 0
    assert cli("convert", warned, *CLUSTER, "--fail-on", "error").returncode == 0
    assert cli("convert", typo, *CLUSTER, "--fail-on", "error").returncode == 2
    assert cli("convert", good, "--bogus").returncode == 2
    (cilium,) = files(tmp_path, cilium=CILIUM_GOOD)
    assert cli("verify", "--calico", good, "--cilium", cilium, *CLUSTER).returncode == 0
    (wrong,) = files(tmp_path, wrong=CILIUM_GOOD.replace("app: web", "app: api"))
    done = cli("verify", "--calico", good, "--cilium", wrong, *CLUSTER)
    assert done.returncode == 4 and "DIFFERENT" in done.stdout


def test_machine_formats_hold_the_verdict_and_the_summary(tmp_path: Path) -> None:
    # Was: with --diagnostics-format json, plain-text verdict lines followed the JSON on stderr.
    import json

    (warned,) = files(tmp_path, warned=WARNED)
    done = cli("convert", warned, *CLUSTER, "--verify", "--diagnostics-format", "json")
    data = json.loads(done.stderr)
    assert data["exit_code"] == done.returncode == 1
    assert data["verdict"]["status"] == "equivalent" and "1 warnings" in data["summary"]
    assert [d["code"] for d in data["diagnostics"] if d["severity"] != "info"] == ["C2C302"]
    done = cli("convert", warned, *CLUSTER, "--verify", "--diagnostics-format", "sarif")
    run = json.loads(done.stderr)["runs"][0]
    assert run["invocations"][0]["exitCode"] == 1 and run["properties"]["verdict"]["status"] == "equivalent"
    done = cli("convert", warned, *CLUSTER, "--verify", "--diagnostics-format", "github")
    assert all(line.startswith("::") for line in done.stderr.splitlines()), done.stderr
    (good,) = files(tmp_path, good=GOOD)
    (wrong,) = files(tmp_path, wrong=CILIUM_GOOD.replace("app: web", "app: api"))
    done = cli("verify", "--calico", good, "--cilium", wrong, *CLUSTER, "-o", "github")
    assert done.returncode == 4 and "::warning file=" in done.stdout and "title=C2C401" in done.stdout
    assert all(line.startswith("::") for line in done.stdout.splitlines())
    done = cli("verify", "--calico", good, "--cilium", wrong, *CLUSTER, "-o", "sarif")
    assert json.loads(done.stdout)["runs"][0]["invocations"][0]["exitCode"] == 4
    done = cli("verify", "--calico", good, "--cilium", wrong, *CLUSTER, "-q")
    assert done.returncode == 4 and "C2C401" in done.stdout and "DIFFERENT" not in done.stdout


def test_endpoint_to_host_info_only_where_it_matters(tmp_path: Path) -> None:
    # Was: info C2C340 on every run, a missing file included.
    assert "C2C340" not in cli("convert", str(tmp_path / "missing.yaml")).stderr
    (good,) = files(tmp_path, good=GOOD)
    assert "C2C340" not in cli("convert", good, *CLUSTER).stderr  # ingress only: not decided by it
    egress = GOOD.replace("ingress", "egress").replace("source", "destination")
    (egress_file,) = files(tmp_path, egress=egress)
    assert "C2C340" in cli("convert", egress_file, *CLUSTER).stderr


def test_verify_takes_an_empty_cilium_side(tmp_path: Path) -> None:
    # Was: C2C105 "no documents in input", exit 2.
    (good,) = files(tmp_path, good=GOOD)
    (empty,) = files(tmp_path, empty="# every Cilium policy deleted\n")
    done = cli("verify", "--calico", good, "--cilium", empty, *CLUSTER)
    assert done.returncode == 4 and "C2C110" in done.stdout and "C2C105" not in done.stdout
    tier = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: a}\nspec: {order: 1}\n"
    (tier_only,) = files(tmp_path, tier=tier)
    (tmp_path / "nothing").mkdir()
    done = cli("verify", "--calico", tier_only, "--cilium", str(tmp_path / "nothing"), *CLUSTER)
    assert done.returncode == 0, done.stdout


MIXED = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: prod}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: prod}
data: {a: b}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: p}
spec: {peerIP: 192.0.2.1, asNumber: 64512}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pods}
spec: {cidr: 10.244.0.0/16}
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {defaultEndpointToHostAction: Accept}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.prod}
spec: {ingress: [{action: Allow}], egress: [{action: Allow}]}
"""


def test_mixed_manifests_skip_what_is_not_policy(tmp_path: Path) -> None:
    # Was: each of these kinds an error (C2C202/C2C203), exit 2.
    (mixed,) = files(tmp_path, mixed=MIXED + "---\n" + GOOD)
    done = cli("convert", mixed, *CLUSTER)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("C2C226") == 3 and done.stderr.count("C2C228") == 3
    assert "--pod-cidr" in done.stderr and "--endpoint-to-host-action" in done.stderr
    assert "name: db" in done.stdout
    # What decides traffic and is not converted stays an error, and so does a typo of a policy kind.
    mine = "apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: mine}\nspec: {ingress: [{action: Deny}]}\n"
    typo = "apiVersion: v1\nkind: NetworkPolcy\nmetadata: {name: x}\n"
    for text, code in ((mine, "C2C203"), (typo, "C2C202")):
        (bad,) = files(tmp_path, bad=text)
        done = cli("convert", bad, *CLUSTER)
        assert done.returncode == 2 and code in done.stderr


def test_a_directory_walk_skips_yaml_files_that_are_not_manifests(tmp_path: Path) -> None:
    # Was: 'convert -R .' rejected .pre-commit-config.yaml (C2C205), exit 2.
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: https://example.org/x\n    rev: v1\n"
    )
    (tmp_path / "calico").mkdir()
    (tmp_path / "calico" / "db.yaml").write_text(GOOD)
    done = cli("convert", "-R", ".", *CLUSTER, cwd=tmp_path)
    assert done.returncode == 0 and "C2C227" in done.stderr and "name: db" in done.stdout
    named = cli("convert", ".pre-commit-config.yaml", *CLUSTER, cwd=tmp_path)
    assert named.returncode == 2 and "C2C205" in named.stderr  # named on the command line: an error


def test_a_null_rule_side_reads_as_empty(tmp_path: Path) -> None:
    # Was: C2C212 "Input should be a valid dictionary", exit 2 (Go decodes null into the zero struct).
    (null,) = files(
        tmp_path, null=GOOD.replace("source: {selector: app == 'web'}", "source: null, destination: null")
    )
    done = cli("convert", null, *CLUSTER, "--verify")
    assert done.returncode == 0, done.stderr
    assert "fromEntities" in done.stdout


def test_namespace_flag_and_warning(tmp_path: Path) -> None:
    # Was: a namespaced policy without metadata.namespace went to 'default' with no word.
    (bare,) = files(tmp_path, bare=GOOD.replace(" namespace: prod}", "}"))
    done = cli("convert", bare, *CLUSTER)
    assert done.returncode == 1 and "C2C360" in done.stderr and "namespace: default" in done.stdout
    done = cli("convert", bare, *CLUSTER, "-n", "shop", "--verify")
    assert done.returncode == 0 and "C2C360" not in done.stderr and "namespace: shop" in done.stdout
    assert "EQUIVALENT" in done.stderr  # the verifier reads the input in the same namespace


def test_rule_selectors_without_sets_say_the_export_may_be_incomplete(tmp_path: Path) -> None:
    # Was: silent; a Deny of a GlobalNetworkSet missing from the export became nothing.
    gnp = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: block}
spec:
  selector: all()
  types: [Egress]
  egress: [{action: Deny, destination: {selector: role == 'blocked'}}, {action: Allow}]
"""
    (policy,) = files(tmp_path, policy=gnp)
    done = cli("convert", policy, *CLUSTER)
    assert "C2C361" in done.stderr and "globalnetworksets.p" in done.stderr and "HostEndpoint" in done.stderr
    gns = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: b, labels: {role: blocked}}\nspec: {nets: [192.0.2.0/24]}\n"
    hep = "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec: {node: n1, expectedIPs: [192.168.0.5]}\n"
    (full,) = files(tmp_path, full=gnp + "---\n" + gns + "---\n" + hep)
    assert "C2C361" not in cli("convert", full, *CLUSTER).stderr
    # A NetworkPolicy's rule selectors may pick its namespace's NetworkSets, never a HostEndpoint.
    done = cli("convert", files(tmp_path, good=GOOD)[0], *CLUSTER)
    assert "C2C361" in done.stderr and "HostEndpoint" not in done.stderr and done.returncode == 0


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_every_output_is_labelled_and_every_stale_file_is_named(tmp_path: Path) -> None:
    # Was: no label to prune by; the stale-file check missed files without a source annotation
    # (ccnp-calico2cilium-profile-allow.yaml, passed-through NetworkPolicies).
    import yaml

    src = tmp_path / "calico"
    src.mkdir()
    (src / "tiers.yaml").write_text((FIXTURES / "field-crd-v1-tier-prefixed" / "input.yaml").read_text())
    (src / "knp.yaml").write_text((FIXTURES / "field-knp-alone" / "input.yaml").read_text())
    out = tmp_path / "cilium"
    done = cli("convert", "calico", *CLUSTER, "--output-dir", "cilium", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    names = sorted(p.name for p in out.iterdir())
    # The passed-through NetworkPolicy carries no source annotation (only the label).
    assert "networkpolicy-shop-api-allow.yaml" in names
    for path in out.iterdir():
        (doc,) = yaml.safe_load_all(path.read_text())
        assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "calico2cilium", path.name
    (src / "tiers.yaml").unlink()
    (src / "knp.yaml").write_text(GOOD)
    done = cli("convert", "calico", *CLUSTER, "--output-dir", "cilium", cwd=tmp_path)
    assert "networkpolicy-shop-api-allow.yaml" in done.stderr
    assert f"holds {len(names)} file(s) an earlier convert wrote" in done.stderr


def test_annotations_carry_the_path_below_the_input_root_and_no_position(tmp_path: Path) -> None:
    # Was: 'source-file: /abs/path/calico/ns/db.yaml:1:1' (absolute paths reached the cluster, and
    # one comment line added to an input rewrote the output files).
    (tmp_path / "calico" / "prod").mkdir(parents=True)
    (tmp_path / "calico" / "prod" / "db.yaml").write_text(GOOD)
    absolute = cli("convert", "-R", str(tmp_path / "calico"), *CLUSTER)
    assert "source-file: prod/db.yaml\n" in absolute.stdout and str(tmp_path) not in absolute.stdout
    relative = cli("convert", "-R", "calico", *CLUSTER, cwd=tmp_path)
    assert relative.stdout == absolute.stdout
    (tmp_path / "calico" / "prod" / "db.yaml").write_text("# a comment\n" + GOOD)
    assert cli("convert", "-R", "calico", *CLUSTER, cwd=tmp_path).stdout == absolute.stdout
    # Positions stay in the diagnostics.
    (tmp_path / "calico" / "prod" / "db.yaml").write_text(WARNED)
    assert "calico/prod/db.yaml:6:" in cli("convert", "-R", "calico", *CLUSTER, cwd=tmp_path).stderr


def test_closed_or_full_streams_are_coded_errors_not_internal_ones(tmp_path: Path) -> None:
    # Was: 'convert <&-' and '> /dev/full' exit 3 "internal error"; '>&-' exit 0 with nothing written.
    (good,) = files(tmp_path, good=GOOD)
    shell = f"{sys.executable} -m calico2cilium convert {' '.join(CLUSTER)}"
    for redirect, code in (("<&-", "C2C101"), (f"{good} > /dev/full", "C2C111"), (f"{good} >&-", "C2C111")):
        done = subprocess.run(
            ["bash", "-c", f"{shell} {redirect}"], stderr=subprocess.PIPE, text=True, check=False
        )
        assert done.returncode == 2, (redirect, done.stderr)
        assert code in done.stderr and "internal error" not in done.stderr, redirect


def test_a_reader_that_stops_early_does_not_get_exit_0(tmp_path: Path) -> None:
    # Was: 'convert ... | head -1' exit 0 although most of the output was never read.
    # Each copy selects its own pods: identical copies would shadow one another (C2C352, exit 1).
    many = "---\n".join(
        GOOD.replace("name: db,", f"name: db{i},").replace("app == 'db'", f"app == 'db{i}'")
        for i in range(300)
    )
    (path,) = files(tmp_path, many=many)
    shell = f"{sys.executable} -m calico2cilium convert {path} {' '.join(CLUSTER)}"

    def status_piped_to(reader: str) -> str:
        pipeline = f"{shell} 2>/dev/null | {reader} >/dev/null; echo ${{PIPESTATUS[0]}}"
        return subprocess.run(
            ["bash", "-c", pipeline], capture_output=True, text=True, check=False
        ).stdout.strip()

    assert status_piped_to("head -1") == "141"
    assert status_piped_to("cat") == "0"


def test_inventory_and_cluster_config_are_never_overwritten(tmp_path: Path) -> None:
    # Was: only positional inputs were protected from --output-dir.
    (good,) = files(tmp_path, good=GOOD)
    config = tmp_path / "cnp-prod-db.yaml"
    config.write_text("podCIDRs: [10.244.0.0/16]\nnodeCIDRs: [192.168.0.0/24]\n")
    done = cli("convert", good, "--cluster-config", str(config), "--output-dir", str(tmp_path))
    assert done.returncode == 2 and "C2C111" in done.stderr and "input file" in done.stderr
    assert config.read_text().startswith("podCIDRs")


def test_colliding_and_too_long_file_names_are_refused_before_writing(tmp_path: Path) -> None:
    # Was: an uncoded message ('File name too long') after other files were written.
    a = GOOD.replace("name: db, namespace: prod", "name: c, namespace: a-b")
    b = GOOD.replace("name: db, namespace: prod", "name: b-c, namespace: a")
    (both,) = files(tmp_path, both=a + "---\n" + b)
    out = tmp_path / "out"
    done = cli("convert", both, *CLUSTER, "--output-dir", str(out))
    assert done.returncode == 2 and "C2C111" in done.stderr and "cnp-a-b-c.yaml" in done.stderr
    assert not out.exists()
    long = GOOD.replace("name: db,", f"name: {'x' * 250},")
    (first,) = files(tmp_path, first=GOOD.replace("name: db,", "name: aaa,"))
    (too_long,) = files(tmp_path, long=long)
    done = cli("convert", first, too_long, *CLUSTER, "--output-dir", str(out))
    assert (
        done.returncode == 2
        and "C2C111" in done.stderr
        and "longer than the file system allows" in done.stderr
    )
    assert not out.exists()


def test_sigterm_while_writing_leaves_no_temporary_file(tmp_path: Path) -> None:
    # Was: hidden .tmp files left in the output directory (7 of 12 tries).
    import signal
    import time

    # Disjoint subjects: the conversion is quick (3,000 policies of one subject took ~50 s to
    # compile, past the wait below on a loaded machine), the writing of 3,000 files is what counts.
    many = "---\n".join(
        GOOD.replace("name: db,", f"name: db{i},").replace("app == 'db'", f"app == 'db{i}'")
        for i in range(3000)
    )
    (path,) = files(tmp_path, many=many)
    out = tmp_path / "out"
    for delay in (0.05, 0.2):
        proc = subprocess.Popen(
            [*CALICO2CILIUM, "convert", path, *CLUSTER, "--output-dir", str(out), "-q"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while (
            not (out.exists() and any(out.iterdir())) and time.monotonic() < deadline and proc.poll() is None
        ):
            time.sleep(0.005)
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_repeated_findings_are_summarised_after_a_limit(tmp_path: Path) -> None:
    # Was: one line per finding (a 1M-element array printed 1M error lines).
    import json

    items = [json.loads(json.dumps(yaml_doc(i))) for i in range(250)]
    (path,) = files(tmp_path, many=json.dumps(items))
    done = cli("lint", path)
    assert done.returncode == 2
    assert done.stdout.count("C2C210") == 101 and "150 more C2C210 not shown" in done.stdout
    assert "250 errors" in done.stderr  # the summary and the exit status count them all


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_findings_left_out_are_counted_in_every_format(tmp_path: Path, fmt: str) -> None:
    # Past the limit, findings are counted, not kept (issue 15 item 13): the machine formats
    # stay valid and say how many were left out; the summary and the exit status count them all.
    import json

    (path,) = files(tmp_path, many="[" + ",".join(["1"] * 1000) + "]")
    done = cli("lint", "-o", fmt, path)
    assert done.returncode == 2 and "1000 errors" in done.stderr
    if fmt != "github":
        json.loads(done.stdout)
    assert done.stdout.count("C2C201") >= 100 and "900 more C2C201 not shown" in done.stdout
    quiet = cli("convert", "-q", "--diagnostics-format", fmt, path)
    assert quiet.returncode == 2 and "900 more C2C201 not shown" in quiet.stderr


def yaml_doc(i: int) -> dict[str, object]:
    return {
        "apiVersion": "projectcalico.org/v3",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"p{i}", "namespace": "x"},
        "spec": {"selector": "all()", "ingres": []},
    }


def test_explain_says_the_rules() -> None:
    done = cli("explain", "exit-status")
    assert done.returncode == 0 and "4  the verifier found a difference" in done.stdout
    assert "--allow-partial" in cli("explain", "output").stdout
    assert "Counts for --fail-on narrowing" in cli("explain", "C2C310").stdout


def test_convert_verify_exits_4_and_writes_nothing_on_an_unexplained_difference(
    tmp_path: Path, monkeypatch: object
) -> None:
    # A difference with no diagnostic explaining it (what the verifier is there to catch): the
    # output is withheld. Simulated by a verifier that reports one counterexample at the policy.
    from types import SimpleNamespace

    import pytest

    from calico2cilium.verify import conversion
    from helpers import run_cli

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    real = conversion.check_conversion

    def differing(result: object, assumptions: object, **options: object) -> object:
        check = real(result, assumptions)
        document = result.loaded.documents[0]  # type: ignore[attr-defined]
        ref = SimpleNamespace(source=document.source(), what="x", doc=None)
        example = SimpleNamespace(
            flow=SimpleNamespace(direction="ingress", describe=lambda: "a flow"),
            calico=SimpleNamespace(allowed=False, ref=ref),
            cilium=SimpleNamespace(allowed=True, ref=ref),
            to_dict=lambda: {},
        )
        check.proof.status = "different"
        check.proof.counterexamples = [example]
        return check

    monkeypatch.setattr(conversion, "check_conversion", differing)
    monkeypatch.setattr(conversion.ConversionCheck, "render_text", lambda self: "DIFFERENT (simulated)")
    (good,) = files(tmp_path, good=GOOD)
    code, out, err = run_cli("convert", good, *CLUSTER, "--verify")
    assert code == 4 and out == "" and "nothing was written" in err
    code, out, _ = run_cli("convert", good, *CLUSTER, "--verify", "--allow-partial")
    assert code == 4 and "CiliumNetworkPolicy" in out
    # Cilium allowing what Calico denies is never explained, not even at a document with a
    # warning (review5 finding 3: any warning used to explain it, exit 1 and the output written).
    (warned,) = files(tmp_path, warned=WARNED)
    code, out, _ = run_cli("convert", warned, *CLUSTER, "--verify")
    assert code == 4 and out == ""


def test_ippools_give_the_pod_ranges_unless_a_flag_does(tmp_path: Path) -> None:
    # Was: an IPPool in the input was an error (C2C203), exit 2.
    pool = "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: pods}\nspec: {cidr: 10.244.0.0/16}\n"
    tunnel = "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: lb}\nspec: {cidr: 10.9.0.0/16, allowedUses: [LoadBalancer]}\n"
    gnp = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g}
spec:
  selector: all()
  types: [Egress]
  egress: [{action: Allow, destination: {nets: [10.244.0.0/16]}}]
"""
    (path,) = files(tmp_path, facts=pool + "---\n" + tunnel + "---\n" + gnp)
    done = cli("convert", path, "--node-cidr", "192.168.0.0/24", "--verify")
    assert done.returncode == 0, done.stderr
    assert "C2C229 pod range 10.244.0.0/16 taken from IPPool pods" in done.stderr
    assert "10.9.0.0" not in done.stderr.split("EQUIVALENT")[1]  # the LoadBalancer pool is not pods
    assert "C2C307" not in done.stderr  # the nets rule's pod addresses are known
    done = cli("convert", path, "--node-cidr", "192.168.0.0/24", "--pod-cidr", "10.0.0.0/8")
    assert "info C2C229" not in done.stderr


def test_verify_takes_the_namespace_flag_too(tmp_path: Path) -> None:
    bare_calico = GOOD.replace(" namespace: prod}", "}")
    bare_cilium = CILIUM_GOOD.replace(" namespace: prod}", "}").replace(
        "k8s:io.kubernetes.pod.namespace: prod", "k8s:io.kubernetes.pod.namespace: shop"
    )
    calico, cilium = files(tmp_path, calico=bare_calico, cilium=bare_cilium)
    done = cli("verify", "--calico", calico, "--cilium", cilium, *CLUSTER, "-n", "shop")
    assert done.returncode == 0, done.stdout
    done = cli("verify", "--calico", calico, "--cilium", cilium, *CLUSTER)
    assert done.returncode == 4 and "C2C360" in done.stdout  # 'default': the peer namespace differs


def test_verify_walks_past_yaml_files_that_are_not_manifests(tmp_path: Path) -> None:
    for side, text in (("calico", GOOD), ("cilium", CILIUM_GOOD)):
        (tmp_path / side).mkdir()
        (tmp_path / side / "policy.yaml").write_text(text)
        (tmp_path / side / "values.yaml").write_text("replicas: 2\nimage: {tag: v1}\n")
    done = cli("verify", "--calico", "calico", "--cilium", "cilium", *CLUSTER, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.count("C2C227") == 2, done.stdout
