"""The compiler's reading of Cilium's identity-label filter, against the verifier's own.

cilium ``pkg/labelsfilter/filter.go`` (``defaultLabelPrefixCfg``, ``filterLabels``): regexps
matched at the start of the key; a label is kept when no ignore entry matches or the longest
include match is longer than the shortest ignore match (docs/reference/semantics-check.md claim 2). The two
readings are written independently (prefix strings in the compiler, regexps in the verifier), so
agreement on many keys is evidence for both.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calico2cilium.calico.selector import parse
from calico2cilium.compile.labelspace import is_filtered_label, namespace_labels, pod_labels
from calico2cilium.semantics.views import cilium_identity_label
from calico2cilium.sets import Inexpressible

FRAGMENTS = [
    "annotation",
    "annotations",
    "controller-uid",
    "controller-revision-hash",
    "pod-template-hash",
    "pod-template-generation",
    "etcd_node",
    "io.kubernetes",
    "io.kubernetes.pod.namespace",
    "kubernetes.io",
    "k8s.io",
    "beta.kubernetes.io",
    "app.kubernetes.io",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/job-completion-index",
    "batch.kubernetes.io/controller-uid",
    "io.cilium.k8s.namespace.labels.",
    "topology.",
    "app",
    "-x",
    "_role",
    ".",
    "/",
    "a",
]

FILTERED = [
    "annotations-enabled",
    "annotation",
    "annotationX/y",
    "controller-uid-x",
    "controller-uid",
    "etcd_node_role",
    "pod-template-hash",
    "pod-template-hashes",
    "io.kubernetes.container.name",
    "kubernetes.io/hostname",
    "k8s.io/foo",
    "failure-domain.beta.kubernetes.io/zone",
    "statefulset.kubernetes.io/pod-name",
    "app.kubernetes.io/beta.kubernetes.io",
    "io.cilium.k8s.namespace.labels.beta.kubernetes.io/arch",
]
KEPT = [
    "app",
    "my-annotation",
    "uid-controller",
    "etcd-node",
    "app.kubernetes.io/name",
    "io.kubernetes.pod.namespace",
    "topology.kubernetes.io/zone",
    "io.cilium.k8s.namespace.labels.team",
    "io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name",
]


@pytest.mark.parametrize("key", FILTERED)
def test_filtered(key: str) -> None:
    assert is_filtered_label(key)
    assert not cilium_identity_label(key)


@pytest.mark.parametrize("key", KEPT)
def test_kept(key: str) -> None:
    assert not is_filtered_label(key)
    assert cilium_identity_label(key)


@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4))
def test_compiler_and_verifier_agree(parts: list[str]) -> None:
    key = "".join(parts)
    assert is_filtered_label(key) == (not cilium_identity_label(key)), key


@pytest.mark.parametrize("key", ["annotations-enabled", "controller-uid-x", "etcd_node_role"])
def test_selectors_on_filtered_prefixes_are_refused(key: str) -> None:
    with pytest.raises(Inexpressible):
        pod_labels(parse(f"{key} == 'true'"))


def test_namespace_labels_are_filtered_under_their_cilium_name() -> None:
    with pytest.raises(Inexpressible):
        namespace_labels(parse("failure-domain.beta.kubernetes.io/zone == 'a'"))
    namespace_labels(parse("kubernetes.io/metadata.name == 'a'"))  # kept: no ignore entry matches
