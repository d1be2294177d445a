"""``calico2cilium verify``: prove a Calico policy set and a Cilium one equivalent, or show flows
that they decide differently."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import click

from calico2cilium.cli.cluster_options import CLUSTER_HELP, ClusterOptions, assumptions_from, cluster_options
from calico2cilium.cli.common import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INVALID,
    FORMAT_NAMES,
    exit_status,
    fail_on_option,
    guarded,
    namespace_option,
    recursive_option,
)
from calico2cilium.diagnostics import Diagnostic, Severity, Source

if TYPE_CHECKING:
    from calico2cilium.io.documents import RawDocument
    from calico2cilium.io.inventory import Inventory
    from calico2cilium.load import LoadResult
    from calico2cilium.semantics.world import Assumptions
    from calico2cilium.verify.api import VerifyResult
    from calico2cilium.verify.concrete import ConcreteResult

CALICO_API_GROUPS = ("projectcalico.org/", "crd.projectcalico.org/")
CILIUM_API_GROUP = "cilium.io/"


@dataclass
class Inputs:
    """Both sides, read: the Calico side validated (as ``lint`` does), the Cilium side raw."""

    calico: LoadResult
    cilium: list[RawDocument] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


@click.command("verify", short_help="Prove a Calico and a Cilium policy set equivalent, or show differences.")
@click.option(
    "--calico",
    "calico_paths",
    multiple=True,
    required=True,
    type=click.Path(),
    help="Calico (and Kubernetes NetworkPolicy) file, directory or '-' (repeatable).",
)
@click.option(
    "--cilium",
    "cilium_paths",
    multiple=True,
    required=True,
    type=click.Path(),
    help="Cilium (CNP, CCNP, CiliumCIDRGroup, Kubernetes NetworkPolicy) file, directory or '-' (repeatable).",
)
@recursive_option
@click.option(
    "--inventory",
    "inventory_paths",
    multiple=True,
    type=click.Path(),
    help="Also compare verdicts on the pods, namespaces and nodes of this kubectl export, and take its"
    " Services as given for Calico services matches (repeatable).",
)
@click.option(
    "--flows",
    "flow_paths",
    multiple=True,
    type=click.Path(),
    help="Replay these observed flows (Hubble 'hubble observe -o json' or Calico flow logs, one JSON"
    " object a line) through both sides: which would change verdict (repeatable).",
)
@cluster_options
@click.option(
    "--max-counterexamples",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Stop looking (per direction) after this many differing flows.",
)
@click.option(
    "-o",
    "--format",
    "fmt",
    type=click.Choice(FORMAT_NAMES),
    default="text",
    show_default=True,
    help="How to print the result (on standard output): text, json, github (workflow annotations)"
    " or sarif; the verdict is part of each.",
)
@click.option(
    "--timings",
    is_flag=True,
    help="Also print the CPU and wall seconds of the slowest subject partitions (in JSON output,"
    " every partition has them).",
)
@click.option(
    "-n",
    "--namespace",
    default=None,
    callback=lambda _ctx, _param, value: namespace_option(value),
    help="Namespace for namespaced documents without one (both sides), as kubectl's -n"
    " [default: 'default', with a warning, C2C360].",
)
@click.option(
    "--narrowing",
    is_flag=True,
    help="Prove only that Cilium allows no flow Calico denies (the first half of the check"
    " 'convert --verify' makes for a conversion that fails closed; the second, that a narrowing"
    " finding explains each flow Cilium denies more, C2C414, needs the conversion's diagnostics):"
    " NARROWED, with the flows Cilium denies more, exits 1; any flow Cilium allows more is"
    " DIFFERENT, exit 4.",
)
@fail_on_option
@click.option("-q", "--quiet", is_flag=True, help="Print errors and differences only: no report, no summary.")
@guarded
def command(
    calico_paths: tuple[str, ...],
    cilium_paths: tuple[str, ...],
    recursive: bool,
    inventory_paths: tuple[str, ...],
    flow_paths: tuple[str, ...],
    cluster: ClusterOptions,
    max_counterexamples: int,
    fmt: str,
    timings: bool,
    namespace: str | None,
    narrowing: bool,
    fail_on: str,
    quiet: bool,
) -> None:
    """Prove that the Calico policies (--calico) and the Cilium policies (--cilium) allow exactly
    the same flows, for every possible flow: every pod and namespace labelling, every IPv4/IPv6
    address, protocol and port, in both directions. Otherwise print counterexamples: concrete flows
    with each side's verdict and the rule responsible (file:line:col).

    \b
    Calico side: GlobalNetworkPolicy, NetworkPolicy, Tier, (Global)NetworkSet, HostEndpoint and
    Kubernetes NetworkPolicy (order 1000 in the default tier, as Calico runs them), validated as
    'lint' does. Cilium side: CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy,
    CiliumCIDRGroup and Kubernetes NetworkPolicy. Cilium policies found among the Calico inputs
    are policies already in the cluster: they take part on the Cilium side.

    An empty Cilium side (no file, or files without policies) is a side like any other: no
    Cilium policy, every flow allowed (DIFFERENT when the Calico side denies anything).

    \b
    Exit status: 0 proven equivalent; 1 not proven (constructs outside the proof, listed with code
    C2C402; --fail-on sets which findings give 1); 2 invalid input or usage; 3 internal error;
    4 different (counterexamples printed).
    """
    from calico2cilium.verify.api import verify

    if "-" in calico_paths and "-" in cilium_paths:
        # Standard input can be read once: the second side would silently be empty.
        raise click.UsageError("'-' (standard input) can be given to --calico or to --cilium, not to both")
    assumptions = assumptions_from(cluster)
    inputs = read_inputs(calico_paths, cilium_paths, recursive, namespace or "default")
    assumptions = _with_felix_failsafe(assumptions, inputs, cluster)
    inventory = _read_inventory(inventory_paths, recursive) if inventory_paths else None
    if inventory is not None and inventory.ok:
        from calico2cilium.verify.conversion import with_inventory_services

        assumptions = with_inventory_services(assumptions, inventory)
    version = assumptions.target.name
    inputs.diagnostics.extend(d for raw in inputs.cilium for d in schema_diagnostics(raw, version))
    from calico2cilium.cli.input_notes import namespace_notes

    result = verify(
        inputs.calico,
        inputs.cilium,
        assumptions,
        max_counterexamples=max_counterexamples,
        default_namespace=namespace or "default",
        narrowing=narrowing,
    )
    diagnostics = [*inputs.calico.diagnostics, *inputs.diagnostics, *result_diagnostics(result)]
    diagnostics.extend(namespace_notes(inputs.calico.documents, namespace))
    concrete = None
    if inventory is not None:
        concrete = _inventory_check(inputs, inventory, assumptions, diagnostics, namespace or "default")
    replayed = _replay(inputs, flow_paths, result, diagnostics) if flow_paths else None
    diagnostics.sort(key=Diagnostic.sort_key)
    status = exit_code(result, diagnostics, concrete, fail_on, narrowing)
    if replayed is not None and replayed.changed and status == EXIT_CLEAN:
        status = EXIT_FINDINGS
    from calico2cilium.diagnostics.render import Report, capped, render_report

    diagnostics = capped(diagnostics)
    if fmt == "json":
        data = to_json(result, diagnostics, concrete, status)
        if replayed is not None:
            data["flows"] = replayed.to_dict()
        click.echo(json.dumps(data, indent=2))
    elif fmt == "text" and not quiet:
        text = render_text(result, diagnostics, concrete)
        click.echo(text + ("\n\n" + replayed.render_text() if replayed is not None else ""))
        if timings:
            from calico2cilium.verify.report import render_timings

            click.echo("\n" + render_timings(result))
    else:
        shown = [d for d in diagnostics if not quiet or d.severity is Severity.ERROR or d.code == "C2C401"]
        verdict = _status(result, diagnostics, concrete)
        headline = "" if quiet else f"{verdict.upper()}: {len(shown)} findings"
        report = Report(shown, exit_code=status, verdict="" if quiet else verdict, verdict_text=headline)
        click.echo(render_report(fmt, report), nl=False)
    sys.exit(status)


def _with_felix_failsafe(assumptions: Assumptions, inputs: Inputs, cluster: ClusterOptions) -> Assumptions:
    """The failsafe ports of the Calico side's FelixConfigurations where no flag states them, as
    ``convert`` takes them (C2C231), so that a conversion and its later proof agree."""
    if not inputs.calico.facts:
        return assumptions
    from dataclasses import replace

    from calico2cilium.cli.cluster_options import stated_failsafe
    from calico2cilium.cli.facts import felix_failsafe

    ports, notes = felix_failsafe(inputs.calico.facts, stated_failsafe(cluster))
    inputs.diagnostics.extend(notes)
    return replace(
        assumptions,
        calico_failsafe_inbound=ports.get("failsafe_inbound", assumptions.calico_failsafe_inbound),
        calico_failsafe_outbound=ports.get("failsafe_outbound", assumptions.calico_failsafe_outbound),
    )


def _replay(inputs: Inputs, paths: Sequence[str], result: VerifyResult, diagnostics: list[Diagnostic]) -> Any:
    """The observed flows of ``paths`` replayed through both sides (``verify.flows``), as the
    proof read them (same assumptions, same default namespace)."""
    from calico2cilium.verify.api import replay_flows
    from calico2cilium.verify.flows import read_flows

    flows, problems = read_flows(paths)
    diagnostics.extend(problems)
    return replay_flows(inputs.calico, inputs.cilium, flows, programs=result.programs)


command.help = f"{inspect.cleandoc(command.help or '')}\n\n{CLUSTER_HELP}"


# --- reading ----------------------------------------------------------------------------------


def read_inputs(
    calico_paths: Sequence[str], cilium_paths: Sequence[str], recursive: bool, namespace: str = "default"
) -> Inputs:
    """Read both sides. Cilium resources among the Calico inputs move to the Cilium side (C2C405);
    Calico resources among the Cilium inputs are refused (C2C404)."""
    from calico2cilium.io.documents import RawDocument
    from calico2cilium.load import CALICO_GROUPS, LoadResult, _refuse_duplicates
    from calico2cilium.validate import validate
    from calico2cilium.verify.api import read_cilium_files

    found, problems = read_cilium_files(list(calico_paths), recursive=recursive)
    calico_raw = [d for d in found if isinstance(d, RawDocument)]
    inputs = Inputs(LoadResult(diagnostics=list(problems), resources=len(calico_raw)))
    existing: list[RawDocument] = []
    for raw in calico_raw:
        if raw.api_version.startswith(CILIUM_API_GROUP):
            existing.append(raw)
            inputs.diagnostics.append(
                _make(
                    "C2C405",
                    f"{_label(raw)} is a Cilium resource among the Calico inputs: taken as already in"
                    " the cluster, it takes part on the Cilium side",
                    raw.source(),
                )
            )
        else:
            if raw.kind == "FelixConfiguration" and raw.api_version.startswith(CALICO_GROUPS):
                inputs.calico.facts.append(raw)  # its failsafe ports (``_with_felix_failsafe``)
            document, diagnostics = validate(raw)
            inputs.calico.diagnostics.extend(diagnostics)
            if document is not None:
                inputs.calico.documents.append(document)
    _refuse_duplicates(inputs.calico, namespace)  # as load() does: a resource defined twice is an error
    found, problems = read_cilium_files(list(cilium_paths), recursive=recursive)
    inputs.diagnostics.extend(_empty_is_a_side(problems))
    for raw in (d for d in found if isinstance(d, RawDocument)):
        if raw.api_version.startswith(CALICO_API_GROUPS):
            inputs.diagnostics.append(
                _make(
                    "C2C404",
                    f"{_label(raw)} is a Calico resource among the Cilium inputs (give it with --calico)",
                    raw.source(),
                )
            )
        else:
            inputs.cilium.append(raw)
    inputs.cilium = _merge_cilium(inputs.cilium, existing, inputs.diagnostics)
    return inputs


def _empty_is_a_side(problems: list[Diagnostic]) -> list[Diagnostic]:
    """The Cilium side's reading problems, an empty file (C2C105) or directory (C2C109) not among
    them: no Cilium policy is a legitimate side (a Tier-only input converts to it; deleting the
    last policy is the change a reviewer must see as DIFFERENT). An info says so (C2C110)."""
    out = [d for d in problems if d.code not in ("C2C105", "C2C109")]
    for d in problems:
        if d.code in ("C2C105", "C2C109"):
            name = d.source.file if d.source is not None else "the Cilium input"
            message = f"{name}: no Cilium resources; the Cilium side has no policy there (every flow allowed)"
            out.append(_make("C2C110", message, d.source))
    return out


def _merge_cilium(
    cilium: list[RawDocument], existing: list[RawDocument], diagnostics: list[Diagnostic]
) -> list[RawDocument]:
    """The Cilium side with the already-existing Cilium resources added. A resource given twice
    with the same content counts once; with different content it is refused (C2C406): a cluster
    keeps only one object of a kind, namespace and name."""
    seen: dict[tuple[str, str, str], RawDocument] = {}
    out: list[RawDocument] = []
    for raw in [*cilium, *existing]:
        key = (raw.kind, raw.namespace, raw.name)
        first = seen.setdefault(key, raw)
        if first is raw:
            out.append(raw)
        elif first.data != raw.data:
            diagnostics.append(
                _make("C2C406", f"{_label(raw)} is defined again (first at {first.source()})", raw.source())
            )
    return out


POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "CiliumCIDRGroup")


def schema_diagnostics(raw: RawDocument, cilium_version: str) -> list[Diagnostic]:
    """A Cilium-side resource against the JSON Schema of its CRD in that Cilium version (C2C403):
    the API server rejects what does not conform (unknown fields with kubectl's default strict
    field validation), and a typo such as ``egres:`` must not pass for a policy without egress."""
    from calico2cilium import schemas

    try:
        violations = schemas.validate(raw.data, cilium_version=cilium_version)
    except KeyError:
        if raw.api_version.startswith(CILIUM_API_GROUP) and raw.kind in POLICY_KINDS:
            message = f"Cilium {cilium_version} does not serve {raw.api_version} {raw.kind}"
            return [_make("C2C403", f"[cilium] {_label(raw)}: {message}", raw.source(("apiVersion",)))]
        return []  # not a kind with a schema: the verifier's reading reports it (C2C402)
    return [
        _make(
            "C2C403",
            f"[cilium] {_label(raw)}: {'.'.join(str(p) for p in v.path) or 'resource'}: {v.message}",
            raw.source(v.path, key=v.validator == "additionalProperties"),
        )
        for v in violations
    ]


def _label(raw: RawDocument) -> str:
    where = f"{raw.namespace}/" if raw.namespace else ""
    return f"{raw.kind or 'resource'} {where}{raw.name or '?'}"


def _make(code: str, message: str, source: Source | None = None) -> Diagnostic:
    from calico2cilium.diagnostics.catalog import make

    return make(code, message, source)


# --- results as diagnostics -------------------------------------------------------------------


def result_diagnostics(result: VerifyResult) -> list[Diagnostic]:
    """The verifier's findings in the common diagnostic form: invalid resources (C2C403), constructs
    outside the proof (C2C402), differing flows (C2C401, at the Cilium rule responsible), narrowed
    flows no narrowing finding explains (C2C414, at the Calico rule that allowed them) and
    partitions whose narrowing was not all attributed (C2C415).
    Problems met while reading the files are reported by the reader with their own codes."""
    out: list[Diagnostic] = []
    for item in result.invalid:
        if item.doc is not None:
            out.append(_make("C2C403", f"[{item.side}] {item.resource}: {item.message}", item.source))
    for unsupported in result.unsupported:
        what = f"{unsupported.resource}: " if unsupported.resource else ""
        out.append(_make("C2C402", f"[{unsupported.side}] {what}{unsupported.reason}", unsupported.source))
    for example in result.counterexamples:
        source = example.cilium.ref.source or example.calico.ref.source
        out.append(
            _make("C2C401", _differs(example.flow.direction, example.flow.describe(), example), source)
        )
    for example in result.unexplained:
        source = example.calico.ref.source or example.cilium.ref.source
        message = _differs(example.flow.direction, example.flow.describe(), example)
        out.append(_make("C2C414", f"{message}; no narrowing finding of the conversion explains it", source))
    for part in result.unattributed:
        out.append(
            _make(
                "C2C415",
                f"{part.direction} at {part.partition}: {part.note}; the flows Cilium denies more there"
                " are not all attributed to a narrowing finding",
            )
        )
    return out


def _differs(direction: str, flow: str, example: Any) -> str:
    def verdict(side: str, v: Any) -> str:
        return f"{side} {'allows' if v.allowed else 'denies'} ({v.ref.what})"

    return f"{direction} {flow}: {verdict('calico', example.calico)}, {verdict('cilium', example.cilium)}"


def _read_inventory(paths: Sequence[str], recursive: bool) -> Inventory:
    from calico2cilium.io.inventory import read_inventory_files

    return read_inventory_files(list(paths), recursive=recursive)


def _inventory_check(
    inputs: Inputs,
    inventory: Inventory,
    assumptions: Assumptions,
    diagnostics: list[Diagnostic],
    namespace: str,
) -> ConcreteResult | None:
    from calico2cilium.verify.api import verify_inventory

    diagnostics.extend(inventory.diagnostics)
    if not inventory.ok:
        return None
    concrete: ConcreteResult = verify_inventory(
        inputs.calico, inputs.cilium, inventory, assumptions, default_namespace=namespace
    )
    for difference in concrete.differences:
        source = difference.cilium.ref.source or difference.calico.ref.source
        message = _differs(difference.flow.direction, difference.flow.describe(), difference)
        diagnostics.append(_make("C2C401", f"{message} [inventory]", source))
    return concrete


# --- output -----------------------------------------------------------------------------------


def exit_code(
    result: VerifyResult,
    diagnostics: Sequence[Diagnostic],
    concrete: ConcreteResult | None,
    fail_on: str = "warning",
    narrowing: bool = False,
) -> int:
    """2 invalid, 4 different (a difference is never explained here: there is no conversion whose
    diagnostics could), else 1 or 0 by ``fail_on`` (C2C402: not proven, a warning). With
    ``narrowing``, flows Cilium denies more are no difference but a narrowing finding (1 unless
    ``fail_on`` is ``error``); a flow Cilium allows more is still 4."""
    if result.exit_code == EXIT_INVALID:
        return EXIT_INVALID
    different = result.status == "different" or _differs_on_inventory(concrete, narrowing)
    status = exit_status(diagnostics, fail_on, unexplained=different)
    narrowed = result.status == "narrowed" or (concrete is not None and not concrete.equivalent)
    if status == EXIT_CLEAN and narrowing and narrowed and fail_on != "error":
        return EXIT_FINDINGS
    return status


def _differs_on_inventory(concrete: ConcreteResult | None, narrowing: bool) -> bool:
    """Whether the inventory check found a difference (with ``narrowing``: a flow Cilium allows
    and Calico denies; flows Cilium denies more are what narrowing means)."""
    if concrete is None:
        return False
    if not narrowing:
        return not concrete.equivalent
    return any(d.cilium.allowed and not d.calico.allowed for d in concrete.differences)


def _status(result: VerifyResult, diagnostics: Sequence[Diagnostic], concrete: ConcreteResult | None) -> str:
    """The verdict's name, as the text report's headline says it."""
    if any(d.severity is Severity.ERROR for d in diagnostics) or result.status == "invalid":
        return "invalid"
    if result.status == "different" or (concrete is not None and not concrete.equivalent):
        return "different"
    return result.status


def render_text(
    result: VerifyResult, diagnostics: Sequence[Diagnostic], concrete: ConcreteResult | None
) -> str:
    """The verifier's report (headline, counterexamples, what was proven under which assumptions),
    then every other finding as ``file:line:col: severity CODE message``."""
    from calico2cilium.diagnostics.render import text

    status = result.status
    if status == "equivalent" and any(d.severity is Severity.ERROR for d in diagnostics):
        status = "invalid"
    report = replace(result, status=status, invalid=[], unsupported=[]).render_text()
    parts = [report]
    if concrete is not None:
        parts.append("Inventory (concrete engine): " + concrete.render_text())
    findings = [d for d in diagnostics if d.code != "C2C401"]  # differences are in the report
    if findings:
        parts.append(f"Findings ({len(findings)}):\n" + text(findings).rstrip("\n"))
    return "\n\n".join(parts)


def to_json(
    result: VerifyResult, diagnostics: Sequence[Diagnostic], concrete: ConcreteResult | None, status: int
) -> dict[str, Any]:
    from calico2cilium.diagnostics.render import as_dict

    data = result.to_dict()
    data["exit_code"] = status
    data["diagnostics"] = [as_dict(d) for d in diagnostics]
    if concrete is not None:
        data["inventory"] = {
            "flows": concrete.flows,
            "equivalent": concrete.equivalent,
            "differences": [
                {
                    "direction": d.flow.direction,
                    "flow": d.flow.describe(),
                    "calico": d.calico.to_dict(),
                    "cilium": d.cilium.to_dict(),
                }
                for d in concrete.differences
            ],
        }
    return data
