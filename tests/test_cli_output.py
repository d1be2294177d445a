"""Review 3's findings on how ``convert`` writes and reports: --output-dir failures are usage
errors with the run's diagnostics still shown, output files get the usual permissions, the GitHub
and SARIF formats survive unusual file names, and a long run on a terminal shows progress."""

from __future__ import annotations

import io
import json
import os
import stat
import time
from pathlib import Path

import pytest
import yaml

from calico2cilium.cli.common import Progress
from calico2cilium.diagnostics import Diagnostic, Severity, Source
from calico2cilium.diagnostics.render import github, sarif
from helpers import run_cli

POLICY = """\
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  selector: app == 'db'
  ingress: [{action: Log}, {action: Allow, protocol: TCP}]
"""
CLUSTER = ["--pod-cidr", "10.244.0.0/16", "--node-cidr", "10.0.0.0/24"]


def run(*args: str) -> tuple[int, str, str]:
    return run_cli(*args)


def test_an_output_dir_that_cannot_be_created_is_a_usage_error(tmp_path: Path) -> None:
    # Was "internal error: NotADirectoryError ... This is a bug", exit 3.
    (tmp_path / "p.yaml").write_text(POLICY)
    code, _, err = run(
        "convert", str(tmp_path / "p.yaml"), *CLUSTER, "--output-dir", str(tmp_path / "p.yaml" / "x")
    )
    assert code == 2, err
    assert "internal error" not in err
    assert "cannot create the directory" in err and "nothing was written" in err
    # The conversion's own findings are still reported (the Log rule's warning, the summary).
    assert "C2C302" in err and "1 Cilium resources out" in err


def test_an_output_target_that_is_a_directory_is_refused_before_writing(tmp_path: Path) -> None:
    # Was "internal error: IsADirectoryError", exit 3, after writing the files before it.
    (tmp_path / "p.yaml").write_text(POLICY)
    out_dir = tmp_path / "out"
    (out_dir / "cnp-prod-db.yaml").mkdir(parents=True)
    code, _, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER, "--output-dir", str(out_dir))
    assert code == 2 and "internal error" not in err
    assert "is not a regular file; nothing was written" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["cnp-prod-db.yaml"]
    assert (out_dir / "cnp-prod-db.yaml").is_dir()


def test_a_failing_write_says_what_was_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from calico2cilium.io import write

    (tmp_path / "p.yaml").write_text(POLICY + "---\n" + POLICY.replace("name: db", "name: web"))

    def full(path: Path, text: str) -> None:
        if path.name == "cnp-prod-web.yaml":
            raise OSError(28, "No space left on device")
        path.write_text(text)

    monkeypatch.setattr(write, "write_atomic", full)
    code, _, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER, "--output-dir", str(tmp_path / "out"))
    assert code == 2 and "internal error" not in err
    assert "cannot write" in err and "No space left on device" in err
    assert "1 of 2 files were written before it" in err


def test_refusing_to_overwrite_an_input_still_reports_the_conversion(tmp_path: Path) -> None:
    target = tmp_path / "cnp-prod-db.yaml"
    target.write_text(POLICY)
    code, _, err = run("convert", str(target), *CLUSTER, "--output-dir", str(tmp_path))
    assert code == 2
    assert "refusing to overwrite the input file" in err and target.read_text() == POLICY
    assert "C2C302" in err and "1 files, 1 resources in" in err


def test_output_files_get_the_mode_a_new_file_gets(tmp_path: Path) -> None:
    # mkstemp creates 0600 files: the output was unreadable by the group and others.
    (tmp_path / "p.yaml").write_text(POLICY)
    out_dir = tmp_path / "out"
    old = os.umask(0o022)
    try:
        code, _, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER, "--output-dir", str(out_dir))
        assert code == 1, err
        written = out_dir / "cnp-prod-db.yaml"
        assert stat.S_IMODE(written.stat().st_mode) == 0o644
        # Rewriting keeps the mode the user gave the file.
        written.chmod(0o640)
        code, _, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER, "--output-dir", str(out_dir))
        assert code == 1, err
        assert stat.S_IMODE(written.stat().st_mode) == 0o640
        assert yaml.safe_load(written.read_text())["kind"] == "CiliumNetworkPolicy"
        assert [p.name for p in out_dir.iterdir()] == ["cnp-prod-db.yaml"]  # no temporary left
    finally:
        os.umask(old)


def test_paths_with_spaces(tmp_path: Path) -> None:
    folder = tmp_path / "my policies"
    folder.mkdir()
    (folder / "the db.yaml").write_text(POLICY)
    code, _, err = run("convert", str(folder), *CLUSTER, "--output-dir", str(tmp_path / "out dir"))
    assert code == 1, err
    assert (tmp_path / "out dir" / "cnp-prod-db.yaml").is_file()
    assert f"{folder / 'the db.yaml'}:6:13: warning C2C302" in err


def _finding(file: str) -> Diagnostic:
    return Diagnostic("C2C302", Severity.WARNING, "100% dropped,\nreally", Source(file, 3, 4))


def test_github_annotations_escape_the_file_property() -> None:
    # ':' and ',' end a property value in a workflow command; '%', CR and LF must be escaped too
    # (actions/toolkit, packages/core/src/command.ts: escapeProperty, escapeData).
    line = github([_finding("dir,x/a:b%.yaml")])
    assert (
        line == "::warning file=dir%2Cx/a%3Ab%25.yaml,line=3,col=4,title=C2C302::100%25 dropped,%0Areally\n"
    )


def test_sarif_locations_are_uri_references() -> None:
    log = json.loads(
        sarif([_finding("my policies/a#1.yaml"), _finding("/abs/p q.yaml"), _finding("<stdin>")])
    )
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]
    ]
    assert uris == ["my%20policies/a%231.yaml", "file:///abs/p%20q.yaml", "%3Cstdin%3E"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_a_long_stage_on_a_terminal_and_erases_it() -> None:
    stream = _Terminal()
    progress = Progress(enabled=True, stream=stream)
    progress.DELAY = progress.TICK = 0.01
    progress.stage("converting 10000 resources")
    deadline = time.monotonic() + 5
    while "converting" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    progress.done()
    shown = stream.getvalue()
    assert "\rconverting 10000 resources... 0s" in shown
    assert shown.endswith("\r")  # erased: what follows starts on a clean line
    after = len(shown)
    time.sleep(0.05)
    assert len(stream.getvalue()) == after  # the clock stopped


def test_progress_is_silent_when_piped_quiet_or_short() -> None:
    piped = io.StringIO()
    progress = Progress(enabled=True, stream=piped)
    progress.DELAY = 0.0
    progress.stage("converting")
    time.sleep(0.05)
    progress.done()
    assert piped.getvalue() == ""
    quiet = _Terminal()
    progress = Progress(enabled=False, stream=quiet)
    progress.stage("converting")
    progress.done()
    short = _Terminal()
    progress = Progress(enabled=True, stream=short)
    progress.stage("converting")  # DELAY is one second
    progress.done()
    assert quiet.getvalue() == short.getvalue() == ""


def test_files_of_an_earlier_run_that_this_run_did_not_write_are_named(tmp_path: Path) -> None:
    # Re-running into the same --output-dir after a policy was deleted leaves its Cilium file,
    # which 'kubectl apply -f out/' would still apply: say so (review 3).
    (tmp_path / "p.yaml").write_text(POLICY + "---\n" + POLICY.replace("name: db", "name: old"))
    out_dir = tmp_path / "out"
    (out_dir).mkdir()
    (out_dir / "README.yaml").write_text("notes: mine\n")  # not ours: never named
    code, _, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER, "--output-dir", str(out_dir))
    assert code == 1 and "note:" not in err, err
    (tmp_path / "p.yaml").write_text(POLICY)
    code, _, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER, "--output-dir", str(out_dir))
    assert code == 1, err
    assert "also holds 1 file(s) an earlier convert wrote and this run did not (cnp-prod-old.yaml)" in err
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "README.yaml",
        "cnp-prod-db.yaml",
        "cnp-prod-old.yaml",
    ]
    code, _, err = run("convert", str(tmp_path / "p.yaml"), *CLUSTER, "--output-dir", str(out_dir), "-q")
    assert "note:" not in err


def test_a_closed_pipe_stops_quietly_not_as_an_internal_error() -> None:
    # 'calico2cilium explain C2C211 | head -1' reported "internal error: BrokenPipeError ... This
    # is a bug", exit 3 (review 3). The reader is gone before the command writes anything.
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "calico2cilium", "explain", "C2C211"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == 141, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_no_reading_progress_while_the_user_types_the_input(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from calico2cilium.cli.common import reading_stage

    stream = _Terminal()
    progress = Progress(enabled=True, stream=stream)
    progress.DELAY = 0.0
    monkeypatch.setattr(sys, "stdin", _Terminal())
    for given in ([], ["-"], ["a.yaml", "-"]):
        reading_stage(progress, given, "reading inputs")
        time.sleep(0.02)
        progress.done()
    assert stream.getvalue() == ""
    reading_stage(progress, ["a.yaml"], "reading inputs")
    deadline = time.monotonic() + 5
    while "reading inputs" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    progress.done()
    assert "reading inputs" in stream.getvalue()
