"""The node-range assumption: nets that cover the cluster's node ranges become the nodes.

With the node ranges known (``--node-cidr`` or the cluster config), a rule whose nets cover every
address in them matches every node, which Cilium says with the entities ``host`` and
``remote-node`` (``compile/match.py``). Those entities are identities, not addresses: the Cilium
agent gives every address a node announces (CiliumNode ``spec.addresses``: InternalIP, ExternalIP,
CiliumInternalIP) the node's identity, ``remote-node`` for other nodes and ``host`` for its own
(cilium/cilium pkg/node/manager/manager.go, ``NodeUpdated``: each of ``n.IPAddresses`` is upserted
into the ipcache with that identity). So the conversion is exact only if every node address lies
inside the stated ranges; a second NIC, a public IP or an address of another family is matched by
the entity in Cilium but not by the rule's nets in Calico.

That is an assumption the user states with the ranges, said once per run (C2C388, naming the rules
relying on it), and a warning at each Allow (or Pass) rule whose nets leave out some address of the
rule's family (C2C389): there Cilium may allow traffic Calico denied. A rule whose nets hold every
address of the family matches every node address in Calico too, so nothing is assumed for it; a
Deny that matches more in Cilium only denies more (said by the once-per-run line).
"""

from __future__ import annotations

from collections.abc import Sequence

from calico2cilium import ir
from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make
from calico2cilium.diagnostics.collector import Diagnostics
from calico2cilium.sets import IPSet
from calico2cilium.sets.ipsets import to_cidrs

ASSUMED = "C2C388"
WIDENS = "C2C389"
_NAMED = 3
"""Rules named in the once-per-run line (the rest are counted)."""


def note_nodes_by_nets(
    ips: IPSet, matched: bool, nodes: IPSet | None, space: IPSet, rule: ir.Rule, notes: Diagnostics
) -> None:
    """Say what a rule side relies on when its nets (``ips``) were found to cover the node ranges
    (``matched``), ``space`` being the addresses of the rule's family: one ``ASSUMED`` marker per
    rule (gathered into one line by ``summarise``) and, for an Allow or a Pass, a ``WIDENS`` warning."""
    if not matched or nodes is None:
        return  # unknown ranges: C2C307 says what was assumed
    if (space - ips).is_empty:
        return  # every address of the family: Calico matches every node address too
    notes.once(make(ASSUMED, str(rule.origin), rule.origin.source))
    effect = _MAY_WIDEN.get(rule.action)
    if effect is None:
        return
    ranges = ", ".join(to_cidrs(nodes))
    notes.once(
        make(
            WIDENS,
            f"{rule.origin}: the rule's nets ({_describe(ips, space)}) cover the node ranges ({ranges}),"
            f" so it {effect[0]} the entities host and remote-node, which Cilium gives every address"
            " of a node: if nodes have addresses outside those nets (a second NIC, a public IP, an"
            f" address of another family), the output {effect[1]}",
            rule.origin.source,
            hint="if nodes have other addresses, give their ranges with --node-cidr too (the rule is"
            " then refused, failing closed, instead of widened); if they have none, the conversion is"
            " exact",
        )
    )


_MAY_WIDEN = {
    ir.Action.ALLOW: ("allows", "allows traffic with them that Calico's rule did not"),
    # What a Pass matches is decided by the next tier instead of this tier's later rules, which
    # may have denied it: more matched may be more allowed.
    ir.Action.PASS: (
        "passes to the next tier",
        "lets the next tier decide traffic with them that Calico decided by this tier's later rules,"
        " and may allow what those denied",
    ),
}
"""The actions whose rule, matching more, may allow more: (what it does, what the output may do)."""


def _describe(ips: IPSet, space: IPSet) -> str:
    """``ips`` in a few words: its CIDRs, or the family's addresses but a few."""
    cidrs = to_cidrs(ips)
    if len(cidrs) <= _NAMED:
        return ", ".join(cidrs)
    left_out = to_cidrs(space - ips)
    if len(left_out) <= _NAMED:
        return f"every address but {', '.join(left_out)}"
    return f"{', '.join(cidrs[:_NAMED])} and {len(cidrs) - _NAMED} more CIDRs"


def summarise(diagnostics: Sequence[Diagnostic], node_cidrs: Sequence[str]) -> list[Diagnostic]:
    """``diagnostics`` with the per-rule ``ASSUMED`` markers replaced by one line naming the rules."""
    marked = [d for d in diagnostics if d.code == ASSUMED]
    if not marked:
        return list(diagnostics)
    rules = [d.message for d in marked]
    named = ", ".join(rules[:_NAMED]) + (f" and {len(rules) - _NAMED} more" if len(rules) > _NAMED else "")
    line = make(
        ASSUMED,
        f"assumed every address of the cluster's nodes lies inside the node ranges"
        f" ({', '.join(node_cidrs)}): the nets of {len(rules)} rule(s) ({named}) cover them and were"
        " converted to the entities host/remote-node, which Cilium gives every address of a node. If"
        " nodes have other addresses (a second NIC, a public IP, an address of another family),"
        " Cilium matches those too: an Allow allows more than Calico, a Deny denies more",
        marked[0].source,
        hint="give every range node addresses come from with --node-cidr (both families); a rule"
        " whose nets then cover only part of them is refused instead",
    )
    return sorted([d for d in diagnostics if d.code != ASSUMED] + [line], key=Diagnostic.sort_key)
