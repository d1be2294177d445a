"""The migration report: ``convert --report FILE`` and ``calico2cilium report``.

This module knows where each assumption came from (a flag, the ``--cluster-config`` file, the
input, a default): only the CLI sees the flags as given. ``report/`` builds and renders."""

from __future__ import annotations

import datetime
import inspect
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from calico2cilium.cli.cluster_options import CLUSTER_HELP, ClusterOptions, cluster_from, cluster_options
from calico2cilium.cli.common import (
    EXIT_FINDINGS,
    EXIT_INVALID,
    exit_status,
    guarded,
    input_files,
    input_options,
    inputs,
    refuse_overwriting_an_input,
)

if TYPE_CHECKING:
    from calico2cilium.facts.cluster import Cluster
    from calico2cilium.report.model import Assumption


def _origin(options: ClusterOptions, flag: str, given: bool, key: str) -> str | None:
    if given:
        return f"flag {flag}"
    if key in options.config_values:
        return f"--cluster-config {options.cluster_config}"
    return None


def assumption_rows(
    options: ClusterOptions,
    cluster: Cluster,
    inventory_paths: Sequence[str],
    node_labels: dict[str, dict[str, str]],
) -> list[Assumption]:
    """Every assumption of the conversion and its proof, with where it came from."""
    from calico2cilium.facts.felix import DEFAULT_ENDPOINT_TO_HOST_ACTION, FAILSAFE_INBOUND, FAILSAFE_OUTBOUND
    from calico2cilium.report.model import Assumption

    rows: list[Assumption] = []
    for name, attr, flag, key in (
        ("Pod CIDRs", "pod_cidrs", "--pod-cidr", "pod_cidrs"),
        ("Node CIDRs", "node_cidrs", "--node-cidr", "node_cidrs"),
        ("Service CIDRs", "service_cidrs", "--service-cidr", "service_cidrs"),
    ):
        value: tuple[str, ...] = getattr(cluster, attr)
        origin = _origin(options, flag, bool(getattr(options, attr)), key)
        if origin is None:
            origin = "the input (IPPools)" if value else "not given: unknown, any address may be of this kind"
        shown = ", ".join(value) or "unknown"
        if attr == "node_cidrs" and value:
            shown += " (every address of every node inside them; C2C388)"
        rows.append(Assumption(name, shown, origin))
    rows.append(
        Assumption(
            "Cilium version",
            cluster.target.name,
            _origin(options, "--cilium-version", options.cilium_version is not None, "cilium_version")
            or "default",
        )
    )
    action = cluster.endpoint_to_host
    rows.append(
        Assumption(
            "Felix DefaultEndpointToHostAction",
            action,
            _origin(
                options,
                "--endpoint-to-host-action",
                options.endpoint_to_host_action is not None,
                "endpoint_to_host_action",
            )
            or f"default ({DEFAULT_ENDPOINT_TO_HOST_ACTION}, as calico.yaml and the Tigera operator set it; C2C340)",
        )
    )
    labels = "; ".join(
        f"{node}: {', '.join(f'{k}={v}' for k, v in sorted(ls.items()))}"
        for node, ls in sorted(node_labels.items())
    )
    rows.append(
        Assumption(
            "Node labels (host policies' nodeSelector)",
            labels or "no host nodes",
            f"--cluster-config {options.cluster_config}"
            if "node_labels" in options.config_values
            else "default: each HostEndpoint's labels and calico2cilium.io/node=<node>",
        )
    )
    failsafe = cluster.failsafe_inbound == FAILSAFE_INBOUND and cluster.failsafe_outbound == FAILSAFE_OUTBOUND
    rows.append(
        Assumption(
            "Felix failsafe ports",
            "inbound " + ", ".join(f"{p}:{n}" for p, n in cluster.failsafe_inbound),
            "default (Felix's defaults)"
            if failsafe
            else "given (flag, --cluster-config or the input's FelixConfiguration, C2C231)",
        )
    )
    rows.append(Assumption("Cilium host firewall", "on (for host policies)", "assumed by the proof"))
    rows.append(
        Assumption(
            "Cilium policy-cidr-match-mode",
            "nodes" if cluster.policy_cidr_match_nodes else "default (CIDR rules do not match nodes)",
            "default",
        )
    )
    for path in inventory_paths:
        try:
            taken = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.UTC)
            when = f"file modified {taken:%Y-%m-%d %H:%M UTC}"
        except OSError:
            when = "time unknown"
        rows.append(Assumption("Inventory snapshot", f"{path} ({when})", "flag --inventory"))
    if cluster.services is not None:
        rows.append(
            Assumption(
                "Kubernetes Services", f"{len(cluster.services.specs)} Service object(s)", "the inventory"
            )
        )
    return rows


def cluster_flags(options: ClusterOptions) -> list[str]:
    """The cluster options as given, as flags again (for the checklist's ``verify`` command)."""
    flags: list[str] = []
    for flag, values in (
        ("--pod-cidr", options.pod_cidrs),
        ("--node-cidr", options.node_cidrs),
        ("--service-cidr", options.service_cidrs),
    ):
        for value in values:
            flags += [flag, value]
    for flag, given in (
        ("--cilium-version", options.cilium_version),
        ("--endpoint-to-host-action", options.endpoint_to_host_action),
        ("--cluster-config", options.cluster_config),
    ):
        if given is not None:
            flags += [flag, given]
    return flags


def write_report(
    path: str,
    result: Any,
    check: Any,
    options: ClusterOptions,
    given: Sequence[str],
    output_dir: str | None,
    inventory_paths: Sequence[str],
    quiet: bool = False,
) -> str | None:
    """Build and write the report (atomically); the error message when it cannot be written, and
    the verdict on standard error when it is."""
    from calico2cilium.io.write import file_name, write_atomic
    from calico2cilium.report.model import build, host_node_labels
    from calico2cilium.report.render import render

    files = (
        {id(doc): os.path.join(output_dir, file_name(doc, "yaml")) for doc in result.documents}
        if output_dir
        else {}
    )
    rows = assumption_rows(options, result.cluster, inventory_paths, host_node_labels(result))
    report = build(result, check, rows, given, files, output_dir, cluster_flags(options))
    try:
        from pathlib import Path

        write_atomic(Path(path), render(report, path))
    except OSError as exc:
        return f"calico2cilium: cannot write the report {path}: {exc.strerror or exc}"
    if not quiet:
        click.echo(f"wrote the report {path}: verdict {report.verdict}", err=True)
    return None


@click.command("report", short_help="Write a migration report (Markdown or HTML) for Calico inputs.")
@input_options
@click.option(
    "--output",
    "-o",
    "output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The report file: FILE.md (Markdown) or FILE.html (one self-contained page).",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where the Cilium files are (or will be) written by 'convert --output-dir': the checklist names them.",
)
@click.option("--inventory", "inventory_paths", multiple=True, type=click.Path(), help="As for convert.")
@cluster_options
@guarded
def command(
    paths: tuple[str, ...],
    files: tuple[str, ...],
    recursive: bool,
    output: str,
    output_dir: str | None,
    inventory_paths: tuple[str, ...],
    cluster: ClusterOptions,
) -> None:
    """Convert the Calico inputs (writing nothing but the report), prove the result, and write the
    migration report: the verdict, every assumption and where it came from, each source policy
    with its outputs and diagnostics, and the cut-over checklist. The same as 'convert --report'.

    \b
    Exit status: 0 proven with no warning; 1 warnings, or not proven; 2 invalid input or the
    report could not be written; 3 internal error.
    """
    from calico2cilium.convert import convert
    from calico2cilium.semantics.world import Assumptions
    from calico2cilium.verify.conversion import check_conversion

    given = inputs(paths, files)
    refuse_overwriting_an_input(
        output, "'--output'", input_files(given, inventory_paths, cluster.cluster_config)
    )
    from calico2cilium.cli.facts import with_input_facts
    from calico2cilium.load import load

    # As 'convert' without --allow-partial: the input's IPPools and FelixConfigurations are cluster
    # facts where no option states them, and no quarantines (C2C236) in a report of a run with errors.
    loaded = load(given, recursive=recursive)
    facts, fact_notes = with_input_facts(cluster_from(cluster), loaded.facts, cluster)
    result = convert(
        loaded=loaded,
        recursive=recursive,
        cluster=facts,
        inventory=list(inventory_paths) or None,
        roots=given,
        quarantine=False,
    )
    result.diagnostics[:0] = fact_notes
    check = check_conversion(result, Assumptions.of(facts))
    problem = write_report(output, result, check, cluster, given, output_dir, inventory_paths)
    if problem:
        click.echo(problem, err=True)
        sys.exit(EXIT_INVALID)
    status = exit_status(result.diagnostics)
    sys.exit(EXIT_FINDINGS if status == 0 and not check.equivalent else status)


command.help = f"{inspect.cleandoc(command.help or '')}\n\n{CLUSTER_HELP}"
