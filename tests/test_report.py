"""The migration report (``convert --report``, ``calico2cilium report``): the HTML parses, is
self-contained and holds every source policy (anchored) and every diagnostic; the verdict, the
assumptions' origins and the cut-over checklist follow from the conversion."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from calico2cilium.convert import convert
from calico2cilium.load import load
from helpers import run_cli

ROOT = Path(__file__).parent.parent
CLUSTER = [
    "-R",
    str(ROOT / "examples/cluster/calico"),
    "--cluster-config",
    str(ROOT / "examples/cluster/cluster.yaml"),
]
FIXTURES = ROOT / "fixtures"


class Page(HTMLParser):
    """Every element's id, every external reference, the text, and the open/close balance."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}
        self.external: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.section: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if tag not in ("meta", "br", "link", "img", "input"):
            self.stack.append(tag)
        if values.get("id"):
            self.ids[str(values["id"])] = tag
        for name in ("src", "href"):
            value = values.get(name) or ""
            if value and not value.startswith("#"):
                self.external.append(value)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (
            f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        )
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def cluster_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("report")
    code, _, err = run_cli(
        "convert", *CLUSTER, "--output-dir", str(out / "cilium"), "--report", str(out / "r.html"), "-q"
    )
    assert code in (0, 1), err
    code, _, err = run_cli("report", *CLUSTER, "--output-dir", str(out / "cilium"), "-o", str(out / "r.md"))
    assert code in (0, 1), err
    return out / "r.html", out / "r.md"


def test_html_is_self_contained_and_holds_every_policy_and_diagnostic(
    cluster_report: tuple[Path, Path],
) -> None:
    text = cluster_report[0].read_text()
    page = Page()
    page.feed(text)
    page.close()
    assert page.stack == [] and "script" not in page.tags and "link" not in page.tags
    assert page.external == [] and "url(" not in text and "@import" not in text
    words = " ".join(page.text)
    assert "Verdict: proven." in words
    loaded = load([str(ROOT / "examples/cluster/calico")], recursive=True)
    for doc in loaded.documents:
        raw = doc.raw
        title = f"{raw.kind} {raw.namespace + '/' if raw.namespace else ''}{raw.name}"
        anchor = "policy-" + re.sub(r"[^a-z0-9]", "-", title.lower()).strip("-")
        assert page.ids.get(anchor) == "section", title
        assert f'href="#{anchor}"' in text
    result = convert([str(ROOT / "examples/cluster/calico")], recursive=True, cluster=_cluster())
    assert result.diagnostics
    for d in result.diagnostics:
        assert d.code in words and d.message in words, d


def _cluster():  # type: ignore[no-untyped-def]
    from calico2cilium.facts.cluster import Cluster

    return Cluster(
        pod_cidrs=("10.244.0.0/16",),
        node_cidrs=("10.0.0.0/24",),
        service_cidrs=("10.96.0.0/12",),
        endpoint_to_host_action="Drop",
    )


def test_markdown_assumptions_and_checklist(cluster_report: tuple[Path, Path]) -> None:
    text = cluster_report[1].read_text()
    assert "**Verdict: proven.**" in text
    assert "| Pod CIDRs | 10.244.0.0/16 | --cluster-config " in text
    assert "| Felix DefaultEndpointToHostAction | Drop | --cluster-config " in text
    # The host policies need the host firewall and labelled nodes; exact commands, in order.
    assert "hostFirewall.enabled=true" in text
    for node in ("node-1", "node-2", "node-3"):
        assert re.search(rf"kubectl label node --overwrite {node} calico2cilium\.io/node={node} ", text)
    steps = [m.group(1) for m in re.finditer(r"^\d+\. \*\*(.+?)\*\*", text, re.M)]
    assert steps.index("Apply the CIDR groups first") < steps.index("Apply the Cilium policies")
    assert steps[-3:] == ["Verify", "Remove the Calico policies", "Rollback"]
    assert "kubectl delete networkpolicies.projectcalico.org -n shop api" in text
    assert "kubectl delete cnp,ccnp,ciliumcidrgroups -A -l app.kubernetes.io/managed-by=calico2cilium" in text
    assert "l7Proxy" not in text  # no HTTP rule in this cluster


def test_a_narrowed_conversion_lists_the_traffic_cilium_denies(tmp_path: Path) -> None:
    # host-hep-with-policy: Calico lets the node's own pods reach it on TCP/8080, Cilium's host
    # firewall does not (C2C343): narrowed, not different.
    case = FIXTURES / "host-hep-with-policy"
    out = tmp_path / "r.md"
    code, _, err = run_cli(
        "report",
        str(case / "input.yaml"),
        "--pod-cidr",
        "10.244.0.0/16",
        "--node-cidr",
        "10.0.0.0/24",
        "-o",
        str(out),
    )
    text = out.read_text()
    assert code == 1, err
    assert "**Verdict: narrowed.**" in text and "## Traffic that changes" in text
    assert re.search(r"allowed by Calico, denied by Cilium", text)
    assert "C2C343" in text


def test_http_rules_ask_for_the_l7_proxy(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    code, _, err = run_cli(
        "report",
        str(FIXTURES / "http-exact-then-deny" / "input.yaml"),
        "--pod-cidr",
        "10.244.0.0/16",
        "-o",
        str(out),
    )
    assert code in (0, 1), err
    assert "l7Proxy=true" in out.read_text()


def test_an_unwritable_report_is_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "r.md"
    code, _, err = run_cli("report", str(FIXTURES / "allow-before-deny" / "input.yaml"), "-o", str(target))
    assert code == 2 and "cannot write the report" in err


def test_report_takes_the_inputs_cluster_resources_as_convert_does(tmp_path: Path) -> None:
    """An IPPool and a FelixConfiguration in the input are cluster facts for ``report`` as they are
    for ``convert``: before, ``report`` ignored them, so its verdict and assumptions differed."""
    path = tmp_path / "in.yaml"
    path.write_text(
        "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: pods}\n"
        "spec: {cidr: 10.244.0.0/16}\n---\n"
        "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\n"
        "spec: {failsafeInboundHostPorts: [{protocol: TCP, port: 22}]}\n---\n"
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\n"
        "spec:\n  selector: all()\n  ingress: [{action: Allow, source: {nets: [10.0.0.0/8]}}]\n"
    )
    out = tmp_path / "r.md"
    code, _, err = run_cli("report", str(path), "--node-cidr", "10.0.0.0/24", "-o", str(out))
    text = out.read_text()
    assert "| Pod CIDRs | 10.244.0.0/16 | the input (IPPools)" in text, text
    assert "C2C231" in text  # the failsafe ports, taken from the FelixConfiguration
    assert code in (0, 1), err
