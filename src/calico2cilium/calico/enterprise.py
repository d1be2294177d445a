"""Fields that Calico Enterprise (and Calico Cloud) add to the kinds this tool reads.

They are not part of Calico Open Source (``projectcalico/api``), so the input models do not have
them; a document that carries one was written for Tigera's commercial product. Reporting it as a
bare "unknown field" would send the user looking for a typo, so each gets its own message: which
product defines it, what it does there, and what Cilium offers instead.

Sources (Calico Enterprise documentation, docs.tigera.io):

- ``calico-enterprise/latest/network-policy/domain-based-policy`` ("DNS policy"): domain names in
  policy rules, egress Allow rules only, enforced by learning the IPs of trusted DNS answers;
- ``calico-enterprise/3.21/reference/resources/globalnetworkset`` and ``.../networkset``: network
  sets "can also include domain names" (``allowedEgressDomains``), effective when the set is
  matched by the destination selector of an egress Allow rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["ENTERPRISE_FIELDS", "EnterpriseField", "enterprise_field"]

_FQDN = (
    "Cilium's form is an egress rule with toFQDNs (matchName or matchPattern), which also needs a "
    "rule sending the pods' DNS lookups through Cilium's DNS proxy (toPorts with rules.dns); Cilium "
    "learns the addresses from those answers, much as Calico Enterprise does. Write that rule by "
    "hand: which lookups to allow and through which DNS server is a decision this tool cannot take"
)


@dataclass(frozen=True)
class EnterpriseField:
    """One Calico Enterprise field: where it appears, what it does, Cilium's nearest form."""

    name: str
    where: str
    meaning: str
    instead: str


ENTERPRISE_FIELDS: Final = (
    EnterpriseField(
        "domains",
        "a rule's source or destination",
        "allows egress to the addresses of these DNS names (egress Allow rules only)",
        _FQDN,
    ),
    EnterpriseField(
        "allowedEgressDomains",
        "a NetworkSet or GlobalNetworkSet spec",
        "adds DNS names to the set, effective in egress Allow rules whose destination selector picks it",
        _FQDN,
    ),
)

_BY_NAME: Final = {field.name: field for field in ENTERPRISE_FIELDS}
_PARENTS: Final = {"domains": ("source", "destination"), "allowedEgressDomains": ("spec",)}


def enterprise_field(path: tuple[str | int, ...]) -> EnterpriseField | None:
    """The Enterprise field at ``path`` (a YAML path ending in the unknown key), if it is one."""
    if not path or not isinstance(path[-1], str):
        return None
    field = _BY_NAME.get(path[-1])
    if field is None or len(path) < 2 or path[-2] not in _PARENTS[field.name]:
        return None
    return field
