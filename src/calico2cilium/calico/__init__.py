"""The typed Calico input models (pydantic), one module per kind, on shared parts.

Kinds: ``networkpolicy``, ``globalnetworkpolicy``, ``tier``, ``hostendpoint``, ``networkset``,
``globalnetworkset``; ``kinds`` maps (apiVersion, kind) to its model. Shared parts: ``errors``
(error types, located errors), ``names`` (names, labels, annotations), ``fields`` (annotated field
types), ``base`` (``CalicoModel``, ``Resource``, ``Selector``), ``metadata`` (``ObjectMeta``),
``scalars`` (``Cidr``, ``Port``, ``Protocol``...), ``matches`` (ICMP, HTTP, service matches),
``rules`` (``Rule``, ``EntityRule``), ``policyspec`` (``PolicySpec``, ``PolicyResource``).
``selector`` is the selector language.

Sources, cited as [V] etc. next to each rule (repository projectcalico/calico unless noted):

- [V]   ``libcalico-go/lib/validator/v3/validator.go`` (the Go validator of calicoctl and the
        Calico API server; read at the 2026 main branch, which also applies the CRD rules).
- [CEL] ``x-kubernetes-validations`` of the CRDs (``api/pkg/apis/projectcalico/v3/*.go`` markers;
        copies in ``shared/crds/calico``).
- [NS]  ``api/pkg/lib/numorstring/{port,protocol,uint8orstring}.go`` (YAML/JSON decoding).
- [PC]  ``api/pkg/apis/projectcalico/v3/policy_common.go`` (field tags: ``net``, ``dive``...).
- [K8S] ``k8s.io/apimachinery/pkg/util/validation`` (IsQualifiedName, IsValidLabelValue,
        IsDNS1123Label/Subdomain, IsValidPortName), used by [V] for labels, names, port names.
"""
