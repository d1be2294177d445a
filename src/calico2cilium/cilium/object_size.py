"""Output objects too large for the Kubernetes API to take whole (issue 13: no output object may
grow like the input).

Two limits, both on an object's JSON:

* ``kubectl apply`` without ``--server-side`` stores the whole object, as compact JSON, in its
  ``kubectl.kubernetes.io/last-applied-configuration`` annotation, and the API server refuses
  annotations over 262,144 bytes in all ("metadata.annotations: Too long: must have at most
  262144 bytes", kubernetes/kubectl#712, kubernetes/kubernetes#100572). Server-side apply and
  ``kubectl create`` keep no such annotation: C2C113, a warning saying so.
* etcd refuses a request over ``--max-request-bytes``, 1.5 MiB by default ("By default, the
  maximum size of any request is 1.5 MiB", etcd.io/docs/latest/dev-guide/limit), and the API
  server stores a custom resource as JSON, so it can store no larger object however it is
  applied: C2C114, an error (nothing is written without ``--allow-partial``). ``kubectl apply``
  applies the rest of a stream when one object fails, so an output with such an object would
  leave that policy out of the cluster, and its pods out of its default deny and its denies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

from calico2cilium.cilium.naming import source_of
from calico2cilium.diagnostics import Diagnostic
from calico2cilium.diagnostics.catalog import make

ANNOTATIONS_LIMIT: Final = 262_144
"""The API server's limit on an object's annotations, together (bytes)."""
ETCD_REQUEST_LIMIT: Final = 1_572_864
"""etcd's default ``--max-request-bytes`` (1.5 MiB)."""
_ADDED: Final = 512
"""Room for what is added after the check (the managed-by label, ``source-file`` relativised)."""


def object_size_findings(documents: Iterable[dict[str, Any]]) -> list[Diagnostic]:
    """C2C113 or C2C114 for each output object too large for ``kubectl apply`` or for the API
    server."""
    found = []
    for doc in documents:
        size = len(json.dumps(doc, separators=(",", ":"))) + _ADDED
        if size <= ANNOTATIONS_LIMIT:
            continue
        what = f"output {doc['kind']} '{doc['metadata']['name']}' is about {size:,} bytes as JSON"
        if size > ETCD_REQUEST_LIMIT:
            found.append(
                make(
                    "C2C114",
                    f"{what}, over etcd's default request limit of {ETCD_REQUEST_LIMIT:,} bytes: the API"
                    " server cannot store it, and applying the output would leave this policy out",
                    source_of(doc),
                    hint="split the Calico policy, or move its broad Deny rules before the Allows they"
                    " overlap (a security tier), so that fewer earlier rules narrow them",
                )
            )
            continue
        found.append(
            make(
                "C2C113",
                f"{what}: 'kubectl apply' without --server-side keeps a copy in an annotation, and the"
                f" API server refuses annotations over {ANNOTATIONS_LIMIT:,} bytes",
                source_of(doc),
                hint="apply the output with 'kubectl apply --server-side' (or 'kubectl create')",
            )
        )
    return found
