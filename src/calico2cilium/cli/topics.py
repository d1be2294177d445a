"""The run-wide rules, printed by ``calico2cilium explain exit-status`` and ``explain output``
(the README says the same; issue 15)."""

from __future__ import annotations

TOPICS = {
    "exit-status": """\
Exit status: the same meanings for convert, convert --verify, verify and lint.

  0  clean: converted exactly (with --verify: proven equivalent); only info findings
  1  findings: warnings (assumptions or narrowing), and no difference beyond what the
     diagnostics say; verify: not proven (constructs outside the proof, C2C402)
  2  invalid input or usage, or output that would allow more than Calico: an error
     diagnostic (a refusal that fails closed, denying more, is a warning: 1)
  3  internal error: a bug in calico2cilium (rerun with CALICO2CILIUM_DEBUG=1)
  4  the verifier found a difference that no diagnostic explains
     (verify: any difference; convert --verify: a flow Cilium allows and Calico denies,
     or one Cilium denies more that no narrowing finding concerns, C2C414)
141  the reader of standard output went away before taking it all ('| head -1')
143  terminated (SIGTERM) while writing --output-dir; no temporary file is left

--fail-on sets which findings give 1: 'warning' (default) any warning; 'narrowing' only
warnings whose code marks output that decides some traffic otherwise than Calico
(explain CODE says 'counts for --fail-on narrowing'); 'error' none. 2, 3 and 4 are
never lowered. With --diagnostics-format json|sarif|github (verify: -o), the stream
holds that format only, the verdict and the summary included.""",
    "output": """\
No unsafe output: when a convert run has an error (exit 2) or --verify finds a difference
no diagnostic explains (exit 4), nothing is written to standard output or --output-dir,
so 'calico2cilium convert ... | kubectl apply -f -' applies nothing. A refusal whose
output fails closed (Cilium denies more than Calico, never allows more) is a warning, and
the output is written (exit 1). --allow-partial writes the output of a run with errors
anyway (the exit status is unchanged), still failing closed: each NetworkPolicy or
GlobalNetworkPolicy in error (invalid, or defined twice differently) is replaced by a
quarantine of the same name that denies all traffic (ingressDeny/egressDeny of entity
all, which wins over every allow) of the endpoints it could govern (C2C236). Only what
cannot be quarantined (C2C237: another kind in error, input that does not parse) and
errors of the conversion itself may leave that output allowing more than Calico.

Every output resource carries the label app.kubernetes.io/managed-by=calico2cilium
('kubectl apply --prune -l app.kubernetes.io/managed-by=calico2cilium -f dir/', or
'kubectl delete ... -l' to roll back). The annotation calico2cilium.io/source-file names
the input file relative to the input root given (a directory: the path below it; a
file: its name), with no line:col and never an absolute path; positions are in the
diagnostics. --output-dir names the files of an earlier run that this run did not
rewrite (delete them before applying the directory), refuses before writing anything
when two resources would share a file, a name is too long for the file system, or a
target is an input (--inventory and --cluster-config included), and writes each file
atomically.""",
}
