"""Run one conversion fixture and show what the converter and the verifier say.

    python scripts/fixture.py fixtures/<case>            # show output, diagnostics, verdict
    python scripts/fixture.py fixtures/<case> --write    # also write expected.yaml and
                                                         # expected-diagnostics.txt

``--write`` records what the code printed: only use it after checking the output against the
case's ``reasoning`` (written first, from the semantics), and with the verifier's verdict.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from calico2cilium.convert import convert
from calico2cilium.facts.target import DEFAULT_CILIUM_VERSION
from calico2cilium.io.write import dump_yaml
from calico2cilium.semantics.world import DEFAULT_ENDPOINT_TO_HOST_ACTION, Assumptions, node_labels
from calico2cilium.verify.conversion import check_conversion


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("case", type=Path)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    case_dir: Path = args.case
    case = yaml.safe_load((case_dir / "case.yaml").read_text()) if (case_dir / "case.yaml").is_file() else {}
    options = (case or {}).get("options") or {}
    version = str(options.get("ciliumVersion", DEFAULT_CILIUM_VERSION))
    input_path = str(case_dir / "input.yaml")
    result = convert(
        [input_path],
        pod_cidrs=tuple(options.get("podCIDRs", ())),
        node_cidrs=tuple(options.get("nodeCIDRs", ())),
        cilium_version=version,
        inventory=str(case_dir / options["inventory"]) if "inventory" in options else None,
        # As tests/test_fixtures.py converts: the action stated, so no C2C340 "assumed" info.
        endpoint_to_host_action=options.get("defaultEndpointToHostAction", DEFAULT_ENDPOINT_TO_HOST_ACTION),
    )
    output = dump_yaml(result.documents).replace(input_path, "input.yaml")
    lines = sorted(
        f"{d.code} {d.source.line}:{d.source.column}" if d.source else f"{d.code} -"
        for d in result.diagnostics
    )
    print(output)
    for d in result.diagnostics:
        print(f"# {d.code} {d.source}: {d.message}", file=sys.stderr)
    major, minor = (int(x) for x in version.split("."))
    proof = check_conversion(
        result,
        Assumptions(
            pod_cidrs=tuple(options.get("podCIDRs", ())),
            node_cidrs=tuple(options.get("nodeCIDRs", ())),
            cilium_version=(major, minor),
            node_labels=node_labels(options["nodeLabels"]) if "nodeLabels" in options else None,
            calico_endpoint_to_host_action=options.get(
                "defaultEndpointToHostAction", DEFAULT_ENDPOINT_TO_HOST_ACTION
            ),
        ),
    )
    print(proof.render_text(), file=sys.stderr)
    if args.write:
        (case_dir / "expected.yaml").write_text(output)
        (case_dir / "expected-diagnostics.txt").write_text("".join(f"{line}\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
