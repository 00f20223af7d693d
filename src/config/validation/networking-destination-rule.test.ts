// Table tests of the DestinationRule validator: documented Istio examples pass; each webhook rule fails at the right field.

import { networkingValidators as v } from './networking.js';
import { dedent, manifest, testInvalid, testValid } from './testing.js';

const dr = (body: string, version = 'v1') => manifest(`networking.istio.io/${version}`, 'DestinationRule', body);
/** A DestinationRule for host reviews with `policy` as its trafficPolicy (YAML at any indentation). */
const policy = (p: string) => dr(`spec:\n  host: reviews\n  trafficPolicy:\n    ${dedent(p).trimEnd().replace(/\n/g, '\n    ')}`);

testValid('DestinationRule', v, [
  {
    name: 'subsets with policies (v1alpha3)',
    yaml: dr(
      `
      spec:
        host: ratings.prod.svc.cluster.local
        trafficPolicy:
          loadBalancer:
            simple: LEAST_REQUEST
          connectionPool:
            tcp:
              maxConnections: 100
              connectTimeout: 30ms
              tcpKeepalive:
                time: 7200s
                interval: 75s
            http:
              http2MaxRequests: 1000
              maxRequestsPerConnection: 10
              idleTimeout: 1h
          outlierDetection:
            consecutive5xxErrors: 7
            interval: 5m
            baseEjectionTime: 15m
            maxEjectionPercent: 50
        subsets:
        - name: testversion
          labels:
            version: v3
          trafficPolicy:
            loadBalancer:
              simple: ROUND_ROBIN
        - name: v2
          labels:
            version: v2
    `,
      'v1alpha3',
    ),
  },
  {
    name: 'port-level settings, consistent hashing and locality failover',
    yaml: policy(`
      loadBalancer:
        consistentHash:
          httpCookie:
            name: user
            ttl: 0.5s
          ringHash:
            minimumRingSize: 1024
        localityLbSetting:
          enabled: true
          failover:
          - from: us-east
            to: eu-west
      outlierDetection:
        consecutiveGatewayErrors: 5
        splitExternalLocalOriginErrors: true
        consecutiveLocalOriginFailures: 3
      portLevelSettings:
      - port:
          number: 80
        loadBalancer:
          simple: LEAST_CONN
      - port:
          number: 9080
        loadBalancer:
          consistentHash:
            maglev:
              tableSize: 65537
            useSourceIp: true
    `),
  },
  {
    name: 'TLS origination with a credential and with files',
    yaml: dr(`
      spec:
        host: "*.example.com"
        exportTo: [".", "istio-system"]
        trafficPolicy:
          tls:
            mode: MUTUAL
            credentialName: client-cred
            sni: api.example.com
            subjectAltNames: [api.example.com]
          portLevelSettings:
          - port: {number: 8443}
            tls:
              mode: MUTUAL
              clientCertificate: /etc/certs/cert.pem
              privateKey: /etc/certs/key.pem
              caCertificates: /etc/certs/ca.pem
    `),
  },
  { name: 'locality distribution', yaml: policy('loadBalancer:\n  localityLbSetting:\n    distribute:\n    - from: us-west/zone1/*\n      to:\n        "us-west/zone1/*": 80\n        "us-west/zone2/*": 20') },
  { name: 'tunnel', yaml: policy('tunnel:\n  protocol: CONNECT\n  targetHost: proxy.example.com\n  targetPort: 3128') },
  { name: 'workload selector exported to its own namespace', yaml: dr('spec:\n  host: reviews\n  workloadSelector:\n    matchLabels: {app: productpage}\n  exportTo: ["."]\n  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL}') },
]);

testInvalid('DestinationRule', v, [
  { name: 'missing host', yaml: dr('spec:\n  subsets:\n  - name: v1\n    labels: {version: v1}'), path: '/spec', message: 'host is required' },
  { name: 'invalid host', yaml: dr('spec:\n  host: reviews..default'), path: '/spec/host', message: 'not a valid host name' },
  { name: 'misspelt policy field', yaml: policy('loadbalancer:\n  simple: RANDOM'), path: '/spec/trafficPolicy/loadbalancer', message: 'unknown field "loadbalancer"' },
  { name: 'unknown load balancer', yaml: policy('loadBalancer:\n  simple: WEIGHTED'), path: '/spec/trafficPolicy/loadBalancer/simple', message: 'must be one of "UNSPECIFIED", "LEAST_CONN"' },
  { name: 'empty traffic policy', yaml: policy('{}'), path: '/spec/trafficPolicy', message: 'must set at least one of' },
  // subsets
  { name: 'subset without name', yaml: dr('spec:\n  host: reviews\n  subsets:\n  - labels: {version: v1}'), path: '/spec/subsets/0', message: 'missing required field "name"' },
  { name: 'duplicate subset names', yaml: dr('spec:\n  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}\n  - name: v1\n    labels: {version: v2}'), path: '/spec/subsets/1/name', message: 'already used by subsets[0]' },
  { name: 'subset name with upper case', yaml: dr('spec:\n  host: reviews\n  subsets:\n  - name: V1\n    labels: {version: v1}'), path: '/spec/subsets/0/name', message: 'not a valid subset name' },
  { name: 'subset without labels', yaml: dr('spec:\n  host: reviews\n  subsets:\n  - name: all'), path: '/spec/subsets/0', message: 'selects every endpoint', level: 'Warning' },
  { name: 'unquoted numeric label value', yaml: dr('spec:\n  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: 1}'), path: '/spec/subsets/0/labels/version', message: 'must be a string' },
  // load balancing
  { name: 'simple and consistentHash', yaml: policy('loadBalancer:\n  simple: RANDOM\n  consistentHash: {useSourceIp: true}'), path: '/spec/trafficPolicy/loadBalancer', message: 'set only one of simple and consistentHash' },
  { name: 'two hash keys', yaml: policy('loadBalancer:\n  consistentHash: {useSourceIp: true, httpHeaderName: x-user}'), path: '/spec/trafficPolicy/loadBalancer/consistentHash', message: 'set only one hash key' },
  { name: 'cookie without name', yaml: policy('loadBalancer:\n  consistentHash:\n    httpCookie: {ttl: 10s}'), path: '/spec/trafficPolicy/loadBalancer/consistentHash/httpCookie', message: 'httpCookie.name is required' },
  { name: 'maglev table size not prime', yaml: policy('loadBalancer:\n  consistentHash:\n    useSourceIp: true\n    maglev: {tableSize: 1000}'), path: '/spec/trafficPolicy/loadBalancer/consistentHash/maglev/tableSize', message: 'must be a prime number' },
  { name: 'deprecated minimumRingSize with ringHash', yaml: policy('loadBalancer:\n  consistentHash:\n    useSourceIp: true\n    minimumRingSize: 10\n    ringHash: {minimumRingSize: 10}'), path: '/spec/trafficPolicy/loadBalancer/consistentHash/minimumRingSize', message: 'cannot be combined' },
  { name: 'distribute and failover', yaml: policy('loadBalancer:\n  localityLbSetting:\n    distribute:\n    - from: a\n      to: {b: 100}\n    failover:\n    - from: a\n      to: b'), path: '/spec/trafficPolicy/loadBalancer/localityLbSetting', message: 'set only one of distribute and failover' },
  { name: 'locality weights not adding up', yaml: policy('loadBalancer:\n  localityLbSetting:\n    distribute:\n    - from: us-west/*\n      to: {"us-west/*": 50, "us-east/*": 40}'), path: '/spec/trafficPolicy/loadBalancer/localityLbSetting/distribute/0/to', message: 'add up to 90' },
  { name: 'failover to the same region', yaml: policy('outlierDetection: {consecutive5xxErrors: 1}\nloadBalancer:\n  localityLbSetting:\n    failover:\n    - from: us-east\n      to: us-east'), path: '/spec/trafficPolicy/loadBalancer/localityLbSetting/failover/0', message: 'different regions' },
  { name: 'failover without outlier detection', yaml: policy('loadBalancer:\n  localityLbSetting:\n    failover:\n    - from: us-east\n      to: us-west'), path: '/spec/trafficPolicy/loadBalancer/localityLbSetting', message: 'outlierDetection', level: 'Warning' },
  // connection pool and outlier detection
  { name: 'negative max connections', yaml: policy('connectionPool:\n  tcp: {maxConnections: -1}'), path: '/spec/trafficPolicy/connectionPool/tcp/maxConnections', message: 'must not be negative' },
  { name: 'empty connection pool', yaml: policy('connectionPool: {}'), path: '/spec/trafficPolicy/connectionPool', message: 'must set tcp or http' },
  { name: 'connect timeout of 0', yaml: policy('connectionPool:\n  tcp: {connectTimeout: 0ms}'), path: '/spec/trafficPolicy/connectionPool/tcp/connectTimeout', message: 'at least 1ms' },
  { name: 'UPGRADE with useClientProtocol', yaml: policy('connectionPool:\n  http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}'), path: '/spec/trafficPolicy/connectionPool/http/useClientProtocol', message: 'must not be true when h2UpgradePolicy is UPGRADE' },
  { name: 'max ejection percent above 100', yaml: policy('outlierDetection: {maxEjectionPercent: 120}'), path: '/spec/trafficPolicy/outlierDetection/maxEjectionPercent', message: 'between 0 and 100' },
  { name: 'local origin failures without split', yaml: policy('outlierDetection: {consecutiveLocalOriginFailures: 5}'), path: '/spec/trafficPolicy/outlierDetection/consecutiveLocalOriginFailures', message: 'splitExternalLocalOriginErrors' },
  { name: 'negative uint32 field', yaml: policy('outlierDetection: {consecutive5xxErrors: -1}'), path: '/spec/trafficPolicy/outlierDetection/consecutive5xxErrors', message: 'must be >= 0' },
  { name: 'deprecated consecutiveErrors', yaml: policy('outlierDetection: {consecutiveErrors: 5}'), path: '/spec/trafficPolicy/outlierDetection/consecutiveErrors', message: 'deprecated', level: 'Warning' },
  // TLS
  { name: 'unknown TLS mode', yaml: policy('tls: {mode: STRICT}'), path: '/spec/trafficPolicy/tls/mode', message: 'must be one of "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"' },
  { name: 'MUTUAL without client certificate', yaml: policy('tls: {mode: MUTUAL, caCertificates: /ca.pem}'), path: '/spec/trafficPolicy/tls', message: 'missing clientCertificate, privateKey' },
  { name: 'credentialName with certificate files', yaml: policy('tls: {mode: SIMPLE, credentialName: c, caCertificates: /ca.pem}'), path: '/spec/trafficPolicy/tls/caCertificates', message: 'must not be set together with credentialName' },
  { name: 'insecureSkipVerify with subjectAltNames', yaml: policy('tls: {mode: SIMPLE, insecureSkipVerify: true, subjectAltNames: [a]}'), path: '/spec/trafficPolicy/tls/subjectAltNames', message: 'insecureSkipVerify' },
  // port-level settings, tunnel, proxy protocol
  { name: 'port-level settings without port', yaml: policy('portLevelSettings:\n- loadBalancer: {simple: RANDOM}'), path: '/spec/trafficPolicy/portLevelSettings/0', message: 'port is required' },
  { name: 'port-level settings with nothing to set', yaml: policy('portLevelSettings:\n- port: {number: 80}'), path: '/spec/trafficPolicy/portLevelSettings/0', message: 'must set at least one of' },
  { name: 'port-level port out of range', yaml: policy('portLevelSettings:\n- port: {number: 0}\n  tls: {mode: SIMPLE}'), path: '/spec/trafficPolicy/portLevelSettings/0/port/number', message: 'out of range' },
  { name: 'same port twice in portLevelSettings', yaml: policy('portLevelSettings:\n- port: {number: 80}\n  tls: {mode: SIMPLE}\n- port: {number: 80}\n  tls: {mode: DISABLE}'), path: '/spec/trafficPolicy/portLevelSettings/1/port/number', message: 'already has settings', level: 'Warning' },
  { name: 'tunnel with proxyProtocol', yaml: policy('tunnel: {targetHost: a.com, targetPort: 80}\nproxyProtocol: {version: V1}'), path: '/spec/trafficPolicy', message: 'set only one of tunnel and proxyProtocol' },
  { name: 'tunnel protocol', yaml: policy('tunnel: {protocol: connect, targetHost: a.com, targetPort: 80}'), path: '/spec/trafficPolicy/tunnel/protocol', message: 'must be "CONNECT" or "POST"' },
  { name: 'tunnel without target port', yaml: policy('tunnel: {targetHost: a.com}'), path: '/spec/trafficPolicy/tunnel', message: 'missing required field "targetPort"' },
  { name: 'unknown proxy protocol version', yaml: policy('proxyProtocol: {version: V3}'), path: '/spec/trafficPolicy/proxyProtocol/version', message: 'must be one of "V1", "V2"' },
  // workload selector and exportTo
  { name: 'workload selector exported elsewhere', yaml: dr('spec:\n  host: reviews\n  workloadSelector:\n    matchLabels: {app: a}\n  exportTo: ["*"]'), path: '/spec/exportTo', message: 'can only be exported to its own namespace' },
  { name: 'wildcard in workload selector', yaml: dr('spec:\n  host: reviews\n  workloadSelector:\n    matchLabels: {app: "web-*"}'), path: '/spec/workloadSelector/matchLabels/app', message: 'wildcards are not supported' },
  { name: '"*" with other exportTo entries', yaml: dr('spec:\n  host: reviews\n  exportTo: ["*", "ns1"]'), path: '/spec/exportTo', message: 'cannot be combined' },
]);
