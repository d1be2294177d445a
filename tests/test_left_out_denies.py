"""A Deny's part with no Cilium form (``LeftOut``: "every protocol but TCP/443" keeps its TCP, UDP
and SCTP part as a deny rule; its ICMP and other protocols are left out) is taken out of the
allows instead (compile/structure.py ``_narrowed``). Two things keep that short (issue 13):

* only the allows after the Deny lose it: a Deny never decides a flow of an earlier rule's
  region, so its part there is no flow Calico denies (a partly narrowed Deny's part, C2C353,
  holds the earlier allows' flows: taken out of them, it only denied more);
* an allow loses the Deny's whole reach ``R(d)`` instead of its part with no form when that is
  no more cubes: what the earlier Allows take of the Deny, they allow themselves, and its part
  with a form its own rule denies. The part with no form was the Deny's region less every earlier
  Allow, so the allow kept exactly their pieces, one spec each.

The verifier is the judge; each test also checks that the output changed the way it says."""

from __future__ import annotations

from typing import Any

import pytest

from calico2cilium.compile import structure
from calico2cilium.convert import ConvertResult, convert
from calico2cilium.semantics.world import Assumptions
from calico2cilium.verify.api import verify

CUT_UP = """
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  selector: all()
  ingress:
    - {action: Allow, protocol: TCP, source: {namespaceSelector: all()}, destination: {ports: [443]}}
    - {action: Allow, protocol: ICMP, source: {selector: app == 'ping'}}
    - action: Deny
"""
"""A catch-all Deny after two Allows, partly narrowed (``_tight``): it keeps the first Allow,
which leaves its pod part "every protocol but TCP/443" (its ICMP and other protocols have no
Cilium form), and leaves out the ICMP Allow, which would split it."""


def _tight(patch: pytest.MonkeyPatch) -> None:
    """Every Deny with earlier rules meeting it partly narrowed, and any narrowing that adds a
    cube left out of it (as in tests/test_partly_narrowed.py)."""
    patch.setattr(structure, "_too_long", lambda entry, cubes: len(cubes) > len(entry.cubes))
    patch.setattr(structure, "ABSORB_CAP", -1)
    patch.setattr(structure, "LONG_ABSORB_CAP", -1)
    patch.setattr(structure, "_narrowed_deny", lambda *_: None)


DB = """apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  order: 10
  selector: all()
  ingress:
"""
"""The policy ``shop/db`` in front of its ingress rules."""
LATE = """---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: late, namespace: shop}
spec:
  order: 20
  selector: all()
  ingress:
"""
"""A second policy after it, ``shop/late``, in front of its ingress rules."""


LATE_ALLOW = (
    DB
    + """    - {action: Allow, protocol: TCP, destination: {ports: [443]}}
    - {action: Allow, protocol: ICMP, icmp: {type: 8}, source: {selector: app == 'a'}}
    - {action: Allow, protocol: ICMP, source: {selector: role == 'b'}}
    - action: Deny
"""
    + LATE
    + """    - {action: Allow, protocol: ICMP}
"""
)
"""A Deny of everything after three Allows: its part with no form is ICMP (less the two ICMP
Allows' pieces) and the other protocols. The later ICMP Allow decides nothing (the Deny took
every flow it matches before it)."""


def _proof(result: ConvertResult) -> str:
    narrowing = any(d.narrowing for d in result.diagnostics)
    proof = verify(result.loaded, result.documents, Assumptions(), narrowing=narrowing)
    assert proof.status in ("narrowed", "equivalent"), proof.render_text()
    return proof.status


def _rules_of(result: ConvertResult, name: str) -> list[dict[str, Any]]:
    """The specs whose description names the Calico rule ``name``."""
    return [
        s
        for d in result.documents
        for s in d.get("specs", [])
        if any(part.startswith(name) for part in s.get("description", "").split("; "))
    ]


def _pings(result: ConvertResult) -> list[Any]:
    """The ``icmps`` of the allow rules from the pods ``app: ping``."""
    return [
        rule["icmps"]
        for d in result.documents
        for s in d.get("specs", [])
        for rule in s.get("ingress", [])
        if "icmps" in rule
        and any(p.get("matchLabels", {}).get("app") == "ping" for p in rule["fromEndpoints"])
    ]


def test_an_allow_before_a_partly_narrowed_deny_keeps_its_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    _tight(monkeypatch)
    result = convert(text=CUT_UP, name="in.yaml")
    assert [d.code for d in result.diagnostics if d.code == "C2C353"] == ["C2C353"]
    # Its pods stay in default deny, so the ICMP the Deny cannot name is denied where no allow
    # allows it: here nothing Calico allows is denied at all.
    assert _proof(result) == "equivalent"
    assert _pings(result) == [[{"fields": [{"type": 0}]}]]
    # Taken out of every allow meeting it, the Deny's part with no form (which the ICMP Allow,
    # left out of the Deny, is all inside) took the whole ICMP Allow: Cilium denied the pings
    # Calico allows.
    meeting = structure._LeftOuts.meeting
    monkeypatch.setattr(
        structure._LeftOuts, "meeting", lambda self, pieces, before=None: meeting(self, pieces)
    )
    every = convert(text=CUT_UP, name="in.yaml")
    assert _proof(every) == "narrowed"
    assert not _pings(every)


def test_an_allow_after_a_left_out_deny_loses_its_reach_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    result = convert(text=LATE_ALLOW, name="in.yaml")
    assert _proof(result) == "equivalent"
    assert "only its flows of the protocols Cilium names by port" in str(result.documents)
    assert not _rules_of(result, "late ingress[0] Allow")  # it decides nothing
    # With only the part with no form taken out, the Allow kept the earlier ICMP Allows' pieces.
    monkeypatch.setattr(structure, "_past_left_out", _part_only)
    pieces = convert(text=LATE_ALLOW, name="in.yaml")
    assert _proof(pieces) == "equivalent"
    [spec] = _rules_of(pieces, "late ingress[0] Allow")
    assert len(spec["ingress"]) == 2  # from app 'a' (type 8) and from role 'b'


def _part_only(walk: object, pieces: list[Any], gone: Any, left_out: object) -> tuple[list[Any], list[Any]]:
    return structure.subtract_cubes(pieces, gone.cubes), []


NAMED_PART = (
    DB
    + """    - {action: Allow, protocol: ICMP, icmp: {type: 3}, source: {selector: app == 'a'}}
    - {action: Deny, source: {selector: role == 'r'}}
"""
    + LATE
    + """    - {action: Allow, protocol: ICMP, icmp: {type: 8}}
"""
)
"""The Deny's part from the pods ``app: a, role: r`` is every protocol but ICMP type 3: its ICMP
part (holding type 0) and the other protocols have no Cilium form. The later ping Allow meets it
only at type 8 from those pods, which has one."""


def test_a_later_allows_part_with_a_form_is_denied_by_the_deny(monkeypatch: pytest.MonkeyPatch) -> None:
    result = convert(text=NAMED_PART, name="in.yaml")
    assert _proof(result) == "equivalent"
    [allow] = _rules_of(result, "late ingress[0] Allow")
    assert allow["description"] == "late ingress[0] Allow"  # as written
    [deny] = _rules_of(result, "db ingress[1] Deny")
    assert "the later allows' flows Cilium can name" in deny["description"]
    pings = [r for r in deny["ingressDeny"] if r.get("icmps") == [{"fields": [{"type": 8}]}]]
    # Written between its bounds (cilium/cover.py): from every ``role: r`` pod, whose pings the
    # Deny denies all of (the earlier Allow took type 3 only).
    assert [p["fromEndpoints"][0]["matchLabels"] for p in pings] == [
        {"k8s:io.kubernetes.pod.namespace": "shop", "role": "r"}
    ]
    # Where the part would be a list of ICMP types, the Allow loses it instead (one spec more).
    monkeypatch.setattr(structure, "_lists_icmp", lambda cubes: True)
    lost = convert(text=NAMED_PART, name="in.yaml")
    assert _proof(lost) == "equivalent"
    assert "(narrowed by earlier rules db ingress[1] Deny)" in str(_rules_of(lost, "late ingress[0] Allow"))
