"""Public API for Calico selector expressions.

>>> from calico2cilium.selector import parse
>>> s = parse("app == 'web' && tier != 'db'")
>>> s.matches({"app": "web"})  # tier is absent, and != is true for an absent label
True
>>> str(s)
'app == "web" && tier != "db"'

``parse(expr)`` returns an immutable AST (``Selector``) or raises ``SelectorError`` (with
``message``, ``column`` and ``expr``). See :mod:`calico2cilium.calico.selector` for the details.
"""

from calico2cilium.calico.selector import *  # noqa: F403  (this module is the public name for it)
from calico2cilium.calico.selector import __all__ as __all__
