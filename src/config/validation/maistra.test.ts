// Table tests of the maistra.io validators: typical OpenShift Service Mesh 2.4 objects pass; their rules fail where expected.

import { maistraValidators as v } from './maistra.js';
import { manifest, testInvalid, testValid } from './testing.js';

const smcp = (body: string) => manifest('maistra.io/v2', 'ServiceMeshControlPlane', body, 'name: basic\nnamespace: istio-system');
const smmr = (body: string, metadata = 'name: default\nnamespace: istio-system') => manifest('maistra.io/v1', 'ServiceMeshMemberRoll', body, metadata);
const smm = (body: string, metadata = 'name: default\nnamespace: bookinfo') => manifest('maistra.io/v1', 'ServiceMeshMember', body, metadata);

testValid('ServiceMeshControlPlane', v, [
  {
    name: 'a full 2.4 control plane',
    yaml: smcp(`
      spec:
        version: v2.4
        mode: ClusterWide
        profiles: [default]
        tracing:
          type: Jaeger
          sampling: 10000
        policy:
          type: Istiod
        telemetry:
          type: Istiod
        general:
          logging:
            componentLevels:
              default: info
        security:
          trust:
            domain: cluster.local
          dataPlane:
            mtls: true
            automtls: true
          controlPlane:
            mtls: true
            tls:
              minProtocolVersion: TLSv1_2
              maxProtocolVersion: TLSv1_3
          certificateAuthority:
            type: Istiod
            istiod:
              type: PrivateKey
              privateKey:
                rootCADir: /etc/cacerts
          identity:
            type: ThirdParty
          manageNetworkPolicy: false
        gateways:
          openshiftRoute:
            enabled: false
          ingress:
            service:
              type: ClusterIP
        addons:
          kiali:
            enabled: true
            name: kiali
          grafana:
            enabled: true
          prometheus:
            enabled: true
        runtime:
          components:
            pilot:
              deployment:
                replicas: 2
        techPreview:
          gatewayAPI:
            enabled: true
        meshConfig:
          discoverySelectors:
          - matchLabels:
              istio-discovery: enabled
          extensionProviders:
          - name: ext-authz
            envoyExtAuthzHttp:
              service: ext-authz.foo.svc.cluster.local
              port: 8000
        proxy:
          accessLogging:
            file:
              name: /dev/stdout
    `),
  },
  { name: 'a v1 control plane with Helm values', yaml: manifest('maistra.io/v1', 'ServiceMeshControlPlane', 'spec:\n  version: v1.1\n  template: default\n  istio:\n    global:\n      mtls:\n        enabled: true') },
]);

testInvalid('ServiceMeshControlPlane', v, [
  { name: 'bad version form', yaml: smcp('spec:\n  version: "2.4"'), path: '/spec/version', message: 'not a control plane version such as "v2.4"' },
  { name: 'unknown version', yaml: smcp('spec:\n  version: v3.0'), path: '/spec/version', message: 'not a known Service Mesh control plane version', level: 'Warning' },
  { name: 'unknown mode', yaml: smcp('spec:\n  mode: SingleTenant'), path: '/spec/mode', message: 'must be one of "MultiTenant", "ClusterWide"' },
  { name: 'mode on an old version', yaml: smcp('spec:\n  version: v2.3\n  mode: ClusterWide'), path: '/spec/mode', message: 'needs control plane version v2.4', level: 'Warning' },
  { name: 'unknown TLS version', yaml: smcp('spec:\n  security:\n    controlPlane:\n      tls:\n        minProtocolVersion: TLSv1.2'), path: '/spec/security/controlPlane/tls/minProtocolVersion', message: 'must be one of "TLS_AUTO", "TLSv1_0"' },
  {
    name: 'min TLS newer than max',
    yaml: smcp('spec:\n  security:\n    controlPlane:\n      tls:\n        minProtocolVersion: TLSv1_3\n        maxProtocolVersion: TLSv1_2'),
    path: '/spec/security/controlPlane/tls',
    message: 'minProtocolVersion is newer than maxProtocolVersion',
  },
  { name: 'dataPlane.mtls as a string', yaml: smcp('spec:\n  security:\n    dataPlane:\n      mtls: "yes"'), path: '/spec/security/dataPlane/mtls', message: 'must be a boolean' },
  { name: 'misspelt security field', yaml: smcp('spec:\n  security:\n    dataplane:\n      mtls: true'), path: '/spec/security/dataplane', message: 'unknown field "dataplane"' },
  { name: 'unknown CA type', yaml: smcp('spec:\n  security:\n    certificateAuthority:\n      type: Vault'), path: '/spec/security/certificateAuthority/type', message: 'must be one of "Istiod", "Custom", "cert-manager"' },
  { name: 'Custom CA without address', yaml: smcp('spec:\n  security:\n    certificateAuthority:\n      type: Custom'), path: '/spec/security/certificateAuthority', message: 'custom.address is required' },
  { name: 'tracing sampling too large', yaml: smcp('spec:\n  tracing:\n    sampling: 20000'), path: '/spec/tracing/sampling', message: 'must be <= 10000' },
  { name: 'unknown tracer', yaml: smcp('spec:\n  tracing:\n    type: Zipkin'), path: '/spec/tracing/type', message: 'must be one of "None", "Jaeger", "Stackdriver"' },
  { name: 'misspelt top-level section', yaml: smcp('spec:\n  addon:\n    kiali:\n      enabled: true'), path: '/spec/addon', message: 'unknown field "addon"' },
  { name: 'v1 section in a v2 object', yaml: smcp('spec:\n  istio:\n    global: {}'), path: '/spec/istio', message: 'unknown field "istio"' },
  { name: 'bad discovery selector', yaml: smcp('spec:\n  meshConfig:\n    discoverySelectors:\n    - matchExpressions:\n      - key: env\n        operator: In'), path: '/spec/meshConfig/discoverySelectors/0/matchExpressions/0', message: 'needs at least one value' },
  {
    name: 'duplicate extension provider',
    yaml: smcp('spec:\n  meshConfig:\n    extensionProviders:\n    - name: a\n      zipkin: {service: z, port: 9411}\n    - name: a\n      zipkin: {service: z, port: 9411}'),
    path: '/spec/meshConfig/extensionProviders/1/name',
    message: 'already defined',
  },
]);

testValid('ServiceMeshMemberRoll', v, [
  { name: 'members and selectors', yaml: smmr('spec:\n  members: [bookinfo, travel-agency]\n  memberSelectors:\n  - matchLabels:\n      mesh: enabled') },
  { name: 'all namespaces', yaml: smmr('spec:\n  members: ["*"]') },
  { name: 'the default namespace when the roll names no namespace', yaml: smmr('spec:\n  members: [default]', 'name: default') },
]);

testInvalid('ServiceMeshMemberRoll', v, [
  { name: 'not named default', yaml: smmr('spec:\n  members: [a]', 'name: members\nnamespace: istio-system'), path: '/metadata/name', message: 'must be named "default"' },
  { name: 'bad namespace name', yaml: smmr('spec:\n  members: [Bookinfo]'), path: '/spec/members/0', message: 'not a valid namespace name' },
  { name: 'duplicate member', yaml: smmr('spec:\n  members: [a, a]'), path: '/spec/members/1', message: 'already listed', level: 'Warning' },
  { name: 'control plane namespace as member', yaml: smmr('spec:\n  members: [istio-system]'), path: '/spec/members/0', message: "control plane's own namespace", level: 'Warning' },
  { name: 'members not a list', yaml: smmr('spec:\n  members: bookinfo'), path: '/spec/members', message: 'must be an array' },
  { name: 'bad selector operator', yaml: smmr('spec:\n  memberSelectors:\n  - matchExpressions:\n    - key: a\n      operator: Equals'), path: '/spec/memberSelectors/0/matchExpressions/0/operator', message: 'must be one of "In"' },
]);

testValid('ServiceMeshMember', v, [{ name: 'a member', yaml: smm('spec:\n  controlPlaneRef:\n    name: basic\n    namespace: istio-system') }]);

testInvalid('ServiceMeshMember', v, [
  { name: 'no controlPlaneRef', yaml: smm('spec: {}'), path: '/spec', message: 'missing required field "controlPlaneRef"' },
  { name: 'no namespace in controlPlaneRef', yaml: smm('spec:\n  controlPlaneRef:\n    name: basic'), path: '/spec/controlPlaneRef', message: 'missing required field "namespace"' },
  { name: 'not named default', yaml: smm('spec:\n  controlPlaneRef:\n    name: basic\n    namespace: istio-system', 'name: member\nnamespace: bookinfo'), path: '/metadata/name', message: 'must be named "default"' },
  { name: 'no spec', yaml: smm(''), path: '', message: 'spec.controlPlaneRef' },
]);
