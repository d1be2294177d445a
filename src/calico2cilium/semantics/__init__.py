"""The semantic models: one per side, written once, interpreted by the concrete and symbolic engines.

Each side's semantics *builds data*: formulas (``expr``) over the facts of one flow, arranged in a
decision program (``program``). Two interpreters give the formulas meaning, the concrete one
(``world.evaluate``, used by the concrete engine and ``explain``) and the z3 one (``verify.smt``).
Programs are built once per policy set and evaluated many times; constants fold before the solver
sees them; and the decision structure names the rule responsible for a verdict.

- :mod:`.expr` — the formula language (atoms over one flow, smart constructors);
- :mod:`.world` — flows, endpoints, cluster assumptions, and the concrete interpreter;
- :mod:`.views` — how each side names a pod's labels (Calico's ``pcns.``/``pcsa.`` labels, Cilium's
  special keys and identity-label filter), mapped onto the same facts;
- :mod:`.program` — decision structures (Calico tiers and first match, Cilium deny-wins union),
  each with a concrete reading (``decide``: verdict and responsible rule) and a formula reading
  (``verdict``);
- :mod:`.calico` (+ ``calico_rules``, ``calico_knp``) and :mod:`.cilium` (+ ``cilium_read``,
  ``cilium_knp``) — documents to programs; :mod:`.knp` reads Kubernetes NetworkPolicy for both;
- :mod:`.protocols` — protocol numbers, ICMP type names, port-name syntax.
"""
