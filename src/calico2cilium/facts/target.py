"""``CiliumTarget``: what each supported Cilium release supports and how it behaves.

Every version gate reads this table instead of comparing version numbers where it stands, so the
facts (and their sources) are written once. ``DEFAULT_CILIUM_VERSION`` is the only place the
default release is named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

SUPPORTED_CILIUM_VERSIONS: Final[tuple[str, ...]] = ("1.15", "1.16", "1.17", "1.18", "1.19")
"""The releases whose CRD schemas ship with calico2cilium (``schemas/``)."""
DEFAULT_CILIUM_VERSION: Final[str] = "1.18"


@dataclass(frozen=True)
class CiliumTarget:
    """One Cilium release's facts. Construct with :func:`cilium_target`."""

    version: tuple[int, int]

    @property
    def name(self) -> str:
        """``"1.18"``."""
        return f"{self.version[0]}.{self.version[1]}"

    def at_least(self, major: int, minor: int) -> bool:
        return self.version >= (major, minor)

    @property
    def end_port(self) -> bool:
        """``endPort`` in ``toPorts`` and in Kubernetes NetworkPolicy ports: added in 1.16
        (docs/reference/semantics-check.md claim 8, cilium commit 4fe60e5214, absent in 1.15); before it,
        ``parsePorts`` keeps only ``port``."""
        return self.at_least(1, 16)

    @property
    def icmp_type_names(self) -> bool:
        """ICMP type names (``EchoRequest``) in ``icmps``: cilium ``pkg/policy/api/icmp.go``, 1.16+."""
        return self.at_least(1, 16)

    @property
    def enable_default_deny(self) -> bool:
        """``enableDefaultDeny`` in a rule (a policy that puts no endpoint in default deny): 1.16+
        (docs/research/endpoint-to-host-research.md; the 1.16 CRD schema adds it)."""
        return self.at_least(1, 16)

    @property
    def non_default_deny_needs_flag(self) -> bool:
        """From 1.17 Cilium honours ``enableDefaultDeny: false`` only while the agent flag
        ``enable-non-default-deny-policies`` is true (the default; review 4, finding 2)."""
        return self.at_least(1, 17)

    @property
    def namespace_label_keys_scope_peer(self) -> bool:
        """A peer selector with a namespace-label key gets no ``namespace == <policy ns>`` term
        added (1.16+; ``cilium/selectors.py``, ``semantics/cilium.py``)."""
        return self.at_least(1, 16)

    @property
    def node_peers(self) -> bool:
        """``toNodes``/``fromNodes`` peers: in the CRD schema from 1.16 (tests/test_schemas.py)."""
        return self.at_least(1, 16)

    @property
    def cidr_group_ref(self) -> bool:
        """``cidrGroupRef`` in CIDR rules: 1.14+ (``cilium/cidrgroups.py``)."""
        return self.at_least(1, 14)

    @property
    def cidr_group_ref_breaks_other_rules(self) -> bool:
        """In 1.16 a policy that references a CiliumCIDRGroup has every rule without a CIDR set
        select nothing (cilium/cilium#36393, "CiliumCIDRGroup ref overwrites entity-based rules",
        labelled a regression; fixed by #40139, merged 2025-06-20 on the v1.16 branch).

        Until 1.16 the agent translates references into CIDRs inside the rules
        (``pkg/policy/k8s/cilium_cidr_group.go``); 1.17 selects groups by label instead
        (#33441), so the translation, and the bug, are gone. In 1.16's ``translateSpec`` an absent
        ``fromCIDRSet``/``toCIDRSet`` came out of ``translateCIDRRuleSlice`` as an empty, non-nil
        list, and an empty list selects nothing; #40139 skips rules without one. 1.15's
        translation appends to the rule's own list, which stays nil. The patch release is not part
        of ``--cilium-version``, so every 1.16 is treated as possibly affected: the emitter writes
        no reference for 1.16 and the verifier leaves such rules outside the proof.
        """
        return self.version == (1, 16)

    @property
    def icmp_type_zero_matches_every_type(self) -> bool:
        """An ``icmps`` field of type 0 (echo reply) matches every ICMP type of its family: the
        policy code stores the type as the L4 port, and port 0 is its wildcard
        (cilium/cilium#41304, "CCNP ICMP Rule with Type 0 Matches All ICMP Traffic", reported on
        1.13 to 1.16, open). cilium/cilium#44338 (February 2026) pads ICMP types to tell 0 from
        "no port"; no supported release is known to carry it, so this holds for all of them."""
        return True

    @property
    def cidr_group_selector(self) -> bool:
        """``cidrGroupSelector`` in CIDR rules: 1.17+."""
        return self.at_least(1, 17)

    @property
    def cidr_group_api_version(self) -> str:
        """The apiVersion CiliumCIDRGroup is served as: ``cilium.io/v2`` from 1.18,
        ``cilium.io/v2alpha1`` before (docs/reference/semantics.md §2.5; the CRDs in ``schemas/``)."""
        return "cilium.io/v2" if self.at_least(1, 18) else "cilium.io/v2alpha1"

    @property
    def rule_needs_a_section(self) -> bool:
        """A spec must have one of ingress, ingressDeny, egress, egressDeny: the 1.18 CRD schema's
        validation rule (``semantics/cilium_read.py``)."""
        return self.at_least(1, 18)

    @property
    def local_cluster_default(self) -> bool:
        """``policy-default-local-cluster``: peer selectors match the local cluster only, on by
        default from 1.19 (docs/reference/semantics.md §2.1)."""
        return self.at_least(1, 19)


_VERSION_RE = re.compile(r"v?([0-9]+)\.([0-9]+)(?:\.[0-9]+(?:-[0-9A-Za-z.-]+)?)?")


def normalize_cilium_version(version: str) -> str:
    """``"1.17"``, ``"1.17.5"``, ``"v1.17"`` or ``"1.19.0-pre.4"`` -> the minor version ``"1.17"``;
    ``ValueError`` for anything else or an unsupported release."""
    match = _VERSION_RE.fullmatch(version.strip()) if isinstance(version, str) else None
    if match is None:
        raise ValueError(
            f"invalid Cilium version {version!r}: expected MAJOR.MINOR, e.g. '1.17' or 'v1.17.5'"
        )
    minor = f"{int(match[1])}.{int(match[2])}"
    if minor not in SUPPORTED_CILIUM_VERSIONS:
        supported = ", ".join(SUPPORTED_CILIUM_VERSIONS)
        raise ValueError(
            f"Cilium {minor} is not supported (from {version!r}); supported versions: {supported}"
        )
    return minor


def cilium_target(version: str | tuple[int, int] = DEFAULT_CILIUM_VERSION) -> CiliumTarget:
    """The facts of ``version`` (``"1.17"``, ``"v1.17.5"`` or ``(1, 17)``)."""
    if isinstance(version, tuple):
        return CiliumTarget((int(version[0]), int(version[1])))
    major, minor = normalize_cilium_version(version).split(".")
    return CiliumTarget((int(major), int(minor)))


DEFAULT_TARGET: Final[CiliumTarget] = cilium_target()
"""The target when none is given."""
TARGETS: Final[dict[str, CiliumTarget]] = {v: cilium_target(v) for v in SUPPORTED_CILIUM_VERSIONS}
"""The table: every supported release, by name."""
