// Table tests of the Sidecar and EnvoyFilter validators: documented examples pass; listener, host and patch rules fail where Istio's do.

import { networkingValidators as v } from './networking.js';
import { manifest, testInvalid, testValid } from './testing.js';

const sidecar = (body: string, version = 'v1') => manifest(`networking.istio.io/${version}`, 'Sidecar', body);
const ef = (body: string) => manifest('networking.istio.io/v1alpha3', 'EnvoyFilter', body);

testValid('Sidecar', v, [
  {
    name: 'namespace default with egress hosts (v1alpha3)',
    yaml: sidecar(
      `
      spec:
        egress:
        - hosts:
          - "./*"
          - "istio-system/*"
    `,
      'v1alpha3',
    ),
  },
  {
    name: 'ingress and egress listeners with a selector',
    yaml: sidecar(`
      spec:
        workloadSelector:
          labels:
            app: ratings
        ingress:
        - port:
            number: 9080
            protocol: HTTP
            name: somename
          defaultEndpoint: unix:///var/run/someuds.sock
        - port:
            number: 9443
            protocol: HTTPS
            name: https
          defaultEndpoint: 127.0.0.1:8443
          tls:
            mode: SIMPLE
            privateKey: /etc/certs/privatekey.pem
            serverCertificate: /etc/certs/servercert.pem
          connectionPool:
            tcp: {maxConnections: 100}
        egress:
        - port:
            number: 9080
            protocol: HTTP
            name: egresshttp
          hosts:
          - "prod-us1/*"
        - hosts:
          - "istio-system/*"
          - "~/*.example.com"
        outboundTrafficPolicy:
          mode: ALLOW_ANY
          egressProxy:
            host: egress.example.com
            port: {number: 3128}
        inboundConnectionPool:
          http: {http1MaxPendingRequests: 1024}
    `),
  },
  { name: 'outbound policy only', yaml: sidecar('spec:\n  outboundTrafficPolicy:\n    mode: REGISTRY_ONLY') },
  { name: 'a unix socket egress listener', yaml: sidecar('spec:\n  egress:\n  - port: {number: 0, protocol: HTTP, name: uds}\n    bind: unix:///var/run/egress.sock\n    captureMode: NONE\n    hosts: ["*/*"]') },
]);

testInvalid('Sidecar', v, [
  { name: 'workloadSelector with matchLabels (Sidecar takes labels)', yaml: sidecar('spec:\n  workloadSelector:\n    matchLabels: {app: a}\n  egress:\n  - hosts: ["./*"]'), path: '/spec/workloadSelector/matchLabels', message: 'unknown field "matchLabels"' },
  { name: 'empty configuration', yaml: sidecar('spec:\n  workloadSelector:\n    labels: {app: a}'), path: '/spec', message: 'needs at least one of egress, ingress' },
  { name: 'egress without hosts', yaml: sidecar('spec:\n  egress:\n  - port: {number: 80, protocol: HTTP, name: http}'), path: '/spec/egress/0', message: 'needs at least one host' },
  { name: 'egress host without namespace', yaml: sidecar('spec:\n  egress:\n  - hosts: [reviews.default.svc.cluster.local]'), path: '/spec/egress/0/hosts/0', message: 'must be of the form namespace/host' },
  { name: 'egress host with a bad namespace', yaml: sidecar('spec:\n  egress:\n  - hosts: ["Prod/*"]'), path: '/spec/egress/0/hosts/0', message: '"Prod" is not a valid namespace' },
  { name: 'egress short host name', yaml: sidecar('spec:\n  egress:\n  - hosts: ["prod/reviews"]'), path: '/spec/egress/0/hosts/0', message: 'short name "reviews" is not allowed' },
  { name: 'two egress listeners without port', yaml: sidecar('spec:\n  egress:\n  - hosts: ["./*"]\n  - hosts: ["istio-system/*"]'), path: '/spec/egress/0', message: 'must be the last one' },
  { name: 'duplicate egress ports', yaml: sidecar('spec:\n  egress:\n  - port: {number: 80, protocol: HTTP, name: a}\n    hosts: ["./*"]\n  - port: {number: 80, protocol: HTTP, name: b}\n    hosts: ["ns1/*"]'), path: '/spec/egress/1/port/number', message: 'already used by egress[0]' },
  { name: 'port 0 without a unix bind', yaml: sidecar('spec:\n  egress:\n  - port: {number: 0, protocol: HTTP, name: uds}\n    hosts: ["./*"]'), path: '/spec/egress/0/bind', message: 'needs a unix:// bind address' },
  { name: 'unix egress with IPTABLES capture', yaml: sidecar('spec:\n  egress:\n  - port: {number: 0, protocol: HTTP}\n    bind: unix:///var/run/a.sock\n    captureMode: IPTABLES\n    hosts: ["./*"]'), path: '/spec/egress/0/captureMode', message: 'must be DEFAULT or NONE' },
  { name: 'unknown capture mode', yaml: sidecar('spec:\n  egress:\n  - captureMode: REDIRECT\n    hosts: ["./*"]'), path: '/spec/egress/0/captureMode', message: 'must be one of "DEFAULT", "IPTABLES", "NONE"' },
  { name: 'duplicated egress host', yaml: sidecar('spec:\n  egress:\n  - hosts: ["ns1/*", "ns1/a.example.com"]'), path: '/spec/egress/0/hosts/1', message: 'overlaps an earlier host', level: 'Warning' },
  { name: 'ingress without port', yaml: sidecar('spec:\n  ingress:\n  - defaultEndpoint: 127.0.0.1:8080'), path: '/spec/ingress/0', message: 'port is required for ingress listeners' },
  { name: 'bad defaultEndpoint host', yaml: sidecar('spec:\n  ingress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n    defaultEndpoint: 10.0.0.1:8080'), path: '/spec/ingress/0/defaultEndpoint', message: 'defaultEndpoint must be 127.0.0.1:<port>' },
  { name: 'defaultEndpoint without port', yaml: sidecar('spec:\n  ingress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n    defaultEndpoint: 127.0.0.1'), path: '/spec/ingress/0/defaultEndpoint', message: 'is not host:port' },
  { name: 'duplicate ingress ports', yaml: sidecar('spec:\n  ingress:\n  - port: {number: 9080, protocol: HTTP, name: a}\n  - port: {number: 9080, protocol: HTTP, name: b}'), path: '/spec/ingress/1/port/number', message: 'already used by ingress[0]' },
  { name: 'ISTIO_MUTUAL on ingress tls', yaml: sidecar('spec:\n  ingress:\n  - port: {number: 9443, protocol: HTTPS, name: https}\n    tls: {mode: ISTIO_MUTUAL}'), path: '/spec/ingress/0/tls/mode', message: 'cannot be used in sidecar ingress tls' },
  { name: 'credentialName on ingress tls', yaml: sidecar('spec:\n  ingress:\n  - port: {number: 9443, protocol: HTTPS, name: https}\n    tls: {mode: SIMPLE, credentialName: c}'), path: '/spec/ingress/0/tls/credentialName', message: 'not supported in sidecar ingress tls' },
  { name: 'HTTP pool on a TCP port', yaml: sidecar('spec:\n  ingress:\n  - port: {number: 3306, protocol: TCP, name: mysql}\n    connectionPool:\n      http: {maxRetries: 3}'), path: '/spec/ingress/0/connectionPool/http', message: 'only the tcp connection pool settings apply', level: 'Warning' },
  { name: 'egressProxy with REGISTRY_ONLY', yaml: sidecar('spec:\n  outboundTrafficPolicy:\n    mode: REGISTRY_ONLY\n    egressProxy: {host: proxy.example.com, port: {number: 3128}}'), path: '/spec/outboundTrafficPolicy/egressProxy', message: 'only be set with mode ALLOW_ANY' },
  { name: 'egressProxy without port', yaml: sidecar('spec:\n  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n    egressProxy: {host: proxy.example.com}'), path: '/spec/outboundTrafficPolicy/egressProxy', message: 'egressProxy.port is required' },
  { name: 'inbound pool with nothing set', yaml: sidecar('spec:\n  inboundConnectionPool: {}'), path: '/spec/inboundConnectionPool', message: 'must set tcp or http' },
  { name: 'workload selector without labels', yaml: sidecar('spec:\n  workloadSelector: {}\n  egress:\n  - hosts: ["./*"]'), path: '/spec/workloadSelector', message: 'applies to every workload', level: 'Warning' },
]);

const patch = 'configPatches:\n  - applyTo: HTTP_FILTER\n    match:\n      context: SIDECAR_INBOUND\n      listener:\n        filterChain:\n          filter:\n            name: envoy.filters.network.http_connection_manager\n            subFilter: {name: envoy.filters.http.router}\n    patch:\n      operation: INSERT_BEFORE\n      value:\n        name: envoy.lua\n        typed_config:\n          "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua\n          inlineCode: "function envoy_on_request(h) end"';

testValid('EnvoyFilter', v, [
  { name: 'a Lua filter before the router', yaml: ef(`spec:\n  workloadSelector:\n    labels: {app: reviews}\n  ${patch}`), warnings: true },
  { name: 'removing a cluster', yaml: ef('spec:\n  configPatches:\n  - applyTo: CLUSTER\n    match:\n      cluster: {service: reviews.default.svc.cluster.local}\n    patch: {operation: REMOVE}'), warnings: true },
]);

testInvalid('EnvoyFilter', v, [
  { name: 'the standing warning', yaml: ef(`spec:\n  ${patch}`), path: '/spec', message: 'EnvoyFilter patches proxy internals', level: 'Warning' },
  { name: 'missing applyTo', yaml: ef('spec:\n  configPatches:\n  - patch: {operation: REMOVE}'), path: '/spec/configPatches/0', message: 'applyTo is required' },
  { name: 'unknown applyTo', yaml: ef('spec:\n  configPatches:\n  - applyTo: ROUTE\n    patch: {operation: REMOVE}'), path: '/spec/configPatches/0/applyTo', message: 'must be one of' },
  { name: 'missing patch', yaml: ef('spec:\n  configPatches:\n  - applyTo: CLUSTER'), path: '/spec/configPatches/0', message: 'patch is required' },
  { name: 'missing operation', yaml: ef('spec:\n  configPatches:\n  - applyTo: CLUSTER\n    patch: {value: {}}'), path: '/spec/configPatches/0/patch', message: 'patch.operation is required' },
  { name: 'MERGE without value', yaml: ef('spec:\n  configPatches:\n  - applyTo: CLUSTER\n    patch: {operation: MERGE}'), path: '/spec/configPatches/0/patch', message: 'patch.value is required for operation MERGE' },
  { name: 'cluster patch with a listener match', yaml: ef('spec:\n  configPatches:\n  - applyTo: CLUSTER\n    match:\n      listener: {portNumber: 80}\n    patch: {operation: REMOVE}'), path: '/spec/configPatches/0/match', message: 'must use "cluster"' },
  { name: 'subFilter with NETWORK_FILTER', yaml: ef('spec:\n  configPatches:\n  - applyTo: NETWORK_FILTER\n    match:\n      listener:\n        filterChain:\n          filter:\n            name: envoy.filters.network.http_connection_manager\n            subFilter: {name: x}\n    patch: {operation: REMOVE}'), path: '/spec/configPatches/0/match/listener/filterChain/filter/subFilter', message: 'only works with applyTo HTTP_FILTER' },
  { name: 'bad proxyVersion regex', yaml: ef('spec:\n  configPatches:\n  - applyTo: CLUSTER\n    match:\n      proxy: {proxyVersion: "^1\\\\.(2"}\n    patch: {operation: REMOVE}'), path: '/spec/configPatches/0/match/proxy/proxyVersion', message: 'invalid regular expression' },
  { name: 'unknown context', yaml: ef('spec:\n  configPatches:\n  - applyTo: CLUSTER\n    match: {context: INBOUND}\n    patch: {operation: REMOVE}'), path: '/spec/configPatches/0/match/context', message: 'must be one of "ANY"' },
  { name: 'workloadSelector with matchLabels (a common slip)', yaml: ef('spec:\n  workloadSelector:\n    matchLabels: {app: a}\n  configPatches: []'), path: '/spec/workloadSelector/matchLabels', message: 'unknown field "matchLabels"' },
]);
