"""Transitional re-export for ``calico2cilium.compile.lower``, which is being edited elsewhere.

The shared model parts now live in their own modules (see the ``calico2cilium.calico`` docstring);
import from those. Delete this file once ``compile/lower.py`` imports from ``rules`` and
``policyspec`` directly.
"""

from calico2cilium.calico.policyspec import PolicyResource
from calico2cilium.calico.rules import EntityRule, Rule

__all__ = ["EntityRule", "PolicyResource", "Rule"]
