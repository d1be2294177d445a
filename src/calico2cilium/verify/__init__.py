"""The verifier: prove a Calico policy set and a Cilium one equivalent, or show where they differ.

- :mod:`.api` — ``verify()`` (symbolic, exhaustive), ``verify_inventory()`` (concrete),
  ``decide_flow()`` (one flow, for ``explain``), ``VerifyResult`` (text and JSON forms);
- :mod:`.symbolic` — one z3 query per subject partition and direction; :mod:`.partition` — how the
  subjects are split so that each query carries few policies; :mod:`.smt` — the formula-to-z3
  interpreter (the only z3 importer);
- :mod:`.concrete` / :mod:`.inventory` / :mod:`.bitsets` — both sides' verdicts on every flow of a
  cluster export (decided on bitsets, many flows at once), and the flows where they differ.

The verifier is the compiler's judge: it imports nothing from the compiler's modules.
"""
