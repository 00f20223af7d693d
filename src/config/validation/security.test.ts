// Table tests of the security.istio.io validators: Istio's documented examples pass; each rule of its webhook fails where expected.

import { securityValidators as v } from './security.js';
import { manifest, testInvalid, testValid } from './testing.js';

const pa = (body: string, metadata?: string) => manifest('security.istio.io/v1', 'PeerAuthentication', body, metadata);
const ap = (body: string, metadata?: string) => manifest('security.istio.io/v1', 'AuthorizationPolicy', body, metadata);
const ra = (body: string) => manifest('security.istio.io/v1beta1', 'RequestAuthentication', body);

testValid('PeerAuthentication', v, [
  { name: 'namespace-wide STRICT', yaml: pa('spec:\n  mtls:\n    mode: STRICT') },
  { name: 'no spec at all (mesh default)', yaml: pa('') },
  {
    name: 'port-level mTLS with a selector',
    yaml: pa(`
      spec:
        selector:
          matchLabels:
            app: finance
        mtls:
          mode: STRICT
        portLevelMtls:
          8080:
            mode: DISABLE
    `),
  },
]);

testInvalid('PeerAuthentication', v, [
  { name: 'unknown mode', yaml: pa('spec:\n  mtls:\n    mode: STRICTER'), path: '/spec/mtls/mode', message: 'must be one of "UNSET", "DISABLE", "PERMISSIVE", "STRICT"' },
  { name: 'misspelt field', yaml: pa('spec:\n  mTLS:\n    mode: STRICT'), path: '/spec/mTLS', message: 'unknown field "mTLS"' },
  { name: 'port-level without selector', yaml: pa('spec:\n  portLevelMtls:\n    8080:\n      mode: DISABLE'), path: '/spec/portLevelMtls', message: 'needs a workload selector' },
  {
    name: 'port-level key out of range',
    yaml: pa('spec:\n  selector:\n    matchLabels: {app: a}\n  portLevelMtls:\n    "70000":\n      mode: DISABLE'),
    path: '/spec/portLevelMtls/70000',
    message: 'not a port number from 1 to 65535',
  },
  { name: 'port-level key not a number', yaml: pa('spec:\n  selector:\n    matchLabels: {app: a}\n  portLevelMtls:\n    http:\n      mode: DISABLE'), path: '/spec/portLevelMtls/http', message: 'not a port number' },
  { name: 'empty port-level map', yaml: pa('spec:\n  selector:\n    matchLabels: {app: a}\n  portLevelMtls: {}'), path: '/spec/portLevelMtls', message: 'at least one port' },
  { name: 'wildcard in selector', yaml: pa('spec:\n  selector:\n    matchLabels: {app: "web*"}'), path: '/spec/selector/matchLabels/app', message: 'wildcards are not supported' },
  { name: 'bad metadata name', yaml: pa('', 'name: Default_Policy'), path: '/metadata/name', message: 'not a valid DNS-1123 subdomain' },
  { name: 'unquoted label value', yaml: pa('', 'name: p\nlabels:\n  version: 2'), path: '/metadata/labels/version', message: 'label values must be strings' },
  { name: 'misspelt metadata field', yaml: pa('', 'name: p\nlables:\n  app: x'), path: '/metadata/lables', message: 'unknown field "lables"' },
  { name: 'misspelt top-level spec', yaml: pa('specs:\n  mtls:\n    mode: STRICT'), path: '/specs', message: 'unknown field "specs"' },
]);

testValid('AuthorizationPolicy', v, [
  { name: 'allow nothing (empty spec)', yaml: ap('spec: {}') },
  { name: 'allow all (one empty rule)', yaml: ap('spec:\n  rules:\n  - {}') },
  {
    name: 'the httpbin example from the Istio docs',
    yaml: ap(`
      spec:
        selector:
          matchLabels:
            app: httpbin
            version: v1
        action: ALLOW
        rules:
        - from:
          - source:
              principals: ["cluster.local/ns/default/sa/curl"]
          - source:
              namespaces: ["test", "prod-*"]
          to:
          - operation:
              methods: ["GET"]
              paths: ["/info*"]
          - operation:
              methods: ["POST"]
              paths: ["/data"]
              ports: ["8080"]
          when:
          - key: request.auth.claims[iss]
            values: ["https://accounts.google.com"]
    `),
  },
  {
    name: 'DENY with ipBlocks, notPaths, headers and ports',
    yaml: ap(`
      spec:
        action: DENY
        rules:
        - from:
          - source:
              ipBlocks: ["1.2.3.4", "10.0.0.0/8", "2001:db8::/32"]
              notRemoteIpBlocks: ["192.168.0.0/16"]
          to:
          - operation:
              notPaths: ["/healthz", "*/metrics"]
              hosts: ["*.example.com"]
          when:
          - key: request.headers[x-token]
            notValues: ["secret"]
          - key: destination.port
            values: ["9080"]
          - key: source.ip
            values: ["10.1.2.3"]
    `),
  },
  {
    name: 'CUSTOM with a provider and path templates',
    yaml: ap(`
      spec:
        selector:
          matchLabels: {app: b}
        action: CUSTOM
        provider:
          name: ext-authz-http
        rules:
        - to:
          - operation:
              paths: ["/custom", "/api/{*}/items", "/files/{**}"]
    `),
  },
  {
    name: 'targetRef to a Gateway',
    yaml: ap(`
      spec:
        targetRefs:
        - kind: Gateway
          group: gateway.networking.k8s.io
          name: waypoint
        rules:
        - to:
          - operation:
              methods: [GET]
    `),
  },
  { name: 'experimental envoy filter key', yaml: ap('spec:\n  rules:\n  - when:\n    - key: experimental.envoy.filters.network.mysql_proxy[db.table]\n      values: ["[update]"]') },
]);

testInvalid('AuthorizationPolicy', v, [
  { name: 'unknown action', yaml: ap('spec:\n  action: REJECT'), path: '/spec/action', message: 'must be one of "ALLOW", "DENY", "AUDIT", "CUSTOM"' },
  { name: 'CUSTOM without provider', yaml: ap('spec:\n  action: CUSTOM\n  rules:\n  - {}'), path: '/spec', message: 'provider.name is required' },
  { name: 'CUSTOM without rules', yaml: ap('spec:\n  action: CUSTOM\n  provider: {name: ext}'), path: '/spec', message: 'CUSTOM policy without rules never triggers' },
  { name: 'provider with ALLOW', yaml: ap('spec:\n  provider: {name: ext}\n  rules:\n  - {}'), path: '/spec/provider', message: 'only allowed with action CUSTOM' },
  { name: 'DENY without rules', yaml: ap('spec:\n  action: DENY'), path: '/spec', message: 'DENY policy without rules' },
  {
    name: 'CUSTOM with principals',
    yaml: ap('spec:\n  action: CUSTOM\n  provider: {name: ext}\n  rules:\n  - from:\n    - source:\n        principals: ["a"]'),
    path: '/spec/rules/0/from/0/source/principals',
    message: 'not supported with the CUSTOM action',
  },
  {
    name: 'CUSTOM with request.auth condition',
    yaml: ap('spec:\n  action: CUSTOM\n  provider: {name: ext}\n  rules:\n  - when:\n    - key: request.auth.principal\n      values: ["x"]'),
    path: '/spec/rules/0/when/0/key',
    message: 'not supported with the CUSTOM action',
  },
  { name: 'empty from', yaml: ap('spec:\n  rules:\n  - from: []'), path: '/spec/rules/0/from', message: 'must not be empty' },
  { name: 'from without source', yaml: ap('spec:\n  rules:\n  - from:\n    - {}'), path: '/spec/rules/0/from/0', message: 'source is required' },
  { name: 'empty source', yaml: ap('spec:\n  rules:\n  - from:\n    - source: {}'), path: '/spec/rules/0/from/0/source', message: 'at least one field' },
  { name: 'empty operation', yaml: ap('spec:\n  rules:\n  - to:\n    - operation: {}'), path: '/spec/rules/0/to/0/operation', message: 'at least one field' },
  { name: 'null rule', yaml: ap('spec:\n  rules:\n  - null'), path: '/spec/rules/0', message: 'rule must not be null' },
  { name: 'unknown source field', yaml: ap('spec:\n  rules:\n  - from:\n    - source:\n        principal: ["a"]'), path: '/spec/rules/0/from/0/source/principal', message: 'unknown field "principal"' },
  { name: 'wildcard in the middle', yaml: ap('spec:\n  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/*/sa/x"]'), path: '/spec/rules/0/from/0/source/principals/0', message: 'only allowed once, at the start or the end' },
  { name: 'two wildcards in a namespace', yaml: ap('spec:\n  rules:\n  - from:\n    - source:\n        namespaces: ["*prod*"]'), path: '/spec/rules/0/from/0/source/namespaces/0', message: 'only allowed once' },
  { name: 'empty principal', yaml: ap('spec:\n  rules:\n  - from:\n    - source:\n        principals: [""]'), path: '/spec/rules/0/from/0/source/principals/0', message: 'must not be empty' },
  { name: 'bad ipBlock', yaml: ap('spec:\n  rules:\n  - from:\n    - source:\n        ipBlocks: ["10.0.0.0/33"]'), path: '/spec/rules/0/from/0/source/ipBlocks/0', message: 'not a valid IP address or CIDR' },
  { name: 'bad remoteIpBlock', yaml: ap('spec:\n  rules:\n  - from:\n    - source:\n        remoteIpBlocks: ["256.1.1.1"]'), path: '/spec/rules/0/from/0/source/remoteIpBlocks/0', message: 'not a valid IP address' },
  { name: 'unquoted port', yaml: ap('spec:\n  rules:\n  - to:\n    - operation:\n        ports: [8080]'), path: '/spec/rules/0/to/0/operation/ports/0', message: 'ports are strings: quote it' },
  { name: 'port out of range', yaml: ap('spec:\n  rules:\n  - to:\n    - operation:\n        notPorts: ["99999"]'), path: '/spec/rules/0/to/0/operation/notPorts/0', message: 'not a port number' },
  { name: 'port name instead of number', yaml: ap('spec:\n  rules:\n  - to:\n    - operation:\n        ports: ["http"]'), path: '/spec/rules/0/to/0/operation/ports/0', message: 'not a port number' },
  { name: 'lower-case method', yaml: ap('spec:\n  rules:\n  - to:\n    - operation:\n        methods: ["get"]'), path: '/spec/rules/0/to/0/operation/methods/0', message: 'did you mean "GET"', level: 'Warning' },
  { name: 'wildcard in the middle of a host', yaml: ap('spec:\n  rules:\n  - to:\n    - operation:\n        hosts: ["api.*.com"]'), path: '/spec/rules/0/to/0/operation/hosts/0', message: 'matched literally', level: 'Warning' },
  { name: 'bad path template', yaml: ap('spec:\n  rules:\n  - to:\n    - operation:\n        paths: ["/a/{**}/b"]'), path: '/spec/rules/0/to/0/operation/paths/0', message: '{**} may appear only once, as the last segment' },
  { name: 'relative path', yaml: ap('spec:\n  rules:\n  - to:\n    - operation:\n        paths: ["api/v1"]'), path: '/spec/rules/0/to/0/operation/paths/0', message: 'does not start with "/"', level: 'Warning' },
  { name: 'condition without values', yaml: ap('spec:\n  rules:\n  - when:\n    - key: source.namespace'), path: '/spec/rules/0/when/0', message: 'at least one of values or notValues' },
  { name: 'condition without key', yaml: ap('spec:\n  rules:\n  - when:\n    - values: ["a"]'), path: '/spec/rules/0/when/0', message: 'key is required' },
  { name: 'unknown condition key', yaml: ap('spec:\n  rules:\n  - when:\n    - key: request.method\n      values: ["GET"]'), path: '/spec/rules/0/when/0/key', message: 'unknown attribute "request.method"' },
  { name: 'header key without brackets closed', yaml: ap('spec:\n  rules:\n  - when:\n    - key: request.headers[x-id\n      values: ["a"]'), path: '/spec/rules/0/when/0/key', message: 'must be written request.headers[name]' },
  { name: 'bad IP in condition', yaml: ap('spec:\n  rules:\n  - when:\n    - key: remote.ip\n      values: ["not-an-ip"]'), path: '/spec/rules/0/when/0/values/0', message: 'not a valid IP address' },
  { name: 'bad port in condition', yaml: ap('spec:\n  rules:\n  - when:\n    - key: destination.port\n      notValues: ["http"]'), path: '/spec/rules/0/when/0/notValues/0', message: 'not a port number' },
  {
    name: 'selector and targetRef together',
    yaml: ap('spec:\n  selector:\n    matchLabels: {app: a}\n  targetRef:\n    kind: Gateway\n    group: gateway.networking.k8s.io\n    name: gw'),
    path: '/spec/targetRef',
    message: 'selector and targetRef cannot both be set',
  },
  { name: 'targetRef to an unsupported kind', yaml: ap('spec:\n  targetRef:\n    kind: Deployment\n    group: apps\n    name: web'), path: '/spec/targetRef', message: 'must refer to a Service, ServiceEntry, Gateway or GatewayClass' },
  { name: 'cross-namespace targetRef', yaml: ap('spec:\n  targetRef:\n    kind: Service\n    name: web\n    namespace: other'), path: '/spec/targetRef/namespace', message: 'cross-namespace targetRef is not supported' },
  { name: 'selector without labels', yaml: ap('spec:\n  selector: {}\n  rules:\n  - {}'), path: '/spec/selector', message: 'applies to every workload', level: 'Warning' },
]);

testValid('RequestAuthentication', v, [
  {
    name: 'the docs example with jwksUri',
    yaml: ra(`
      spec:
        selector:
          matchLabels:
            istio: ingressgateway
        jwtRules:
        - issuer: "testing@secure.istio.io"
          jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.16/security/tools/jwt/samples/jwks.json"
          audiences: ["bookstore"]
          fromHeaders:
          - name: x-jwt-assertion
            prefix: "Bearer "
          fromParams: ["my_token"]
          outputPayloadToHeader: x-jwt-payload
          forwardOriginalToken: true
          timeout: 5s
          outputClaimToHeaders:
          - header: x-jwt-claim-sub
            claim: sub
    `),
  },
  { name: 'inline jwks', yaml: ra(`spec:\n  jwtRules:\n  - issuer: issuer-foo\n    jwks: '{"keys": [{"kty": "RSA", "e": "AQAB", "n": "abc"}]}'`) },
]);

testInvalid('RequestAuthentication', v, [
  { name: 'no issuer', yaml: ra('spec:\n  jwtRules:\n  - audiences: [a]'), path: '/spec/jwtRules/0', message: 'issuer is required' },
  { name: 'both jwks and jwksUri', yaml: ra(`spec:\n  jwtRules:\n  - issuer: a\n    jwksUri: https://example.com/jwks\n    jwks: '{"keys": []}'`), path: '/spec/jwtRules/0', message: 'set only one of jwks and jwksUri' },
  { name: 'jwksUri not a URL', yaml: ra('spec:\n  jwtRules:\n  - issuer: a\n    jwksUri: example.com/jwks'), path: '/spec/jwtRules/0/jwksUri', message: 'not a valid URL' },
  { name: 'jwksUri with another scheme', yaml: ra('spec:\n  jwtRules:\n  - issuer: a\n    jwksUri: ftp://example.com/jwks'), path: '/spec/jwtRules/0/jwksUri', message: 'must be an http or https URL' },
  { name: 'jwks not JSON', yaml: ra('spec:\n  jwtRules:\n  - issuer: a\n    jwks: "keys: []"'), path: '/spec/jwtRules/0/jwks', message: 'not valid JSON' },
  { name: 'fromHeaders without name', yaml: ra('spec:\n  jwtRules:\n  - issuer: a\n    fromHeaders:\n    - prefix: "Bearer "'), path: '/spec/jwtRules/0/fromHeaders/0', message: 'header name is required' },
  { name: 'bad payload header name', yaml: ra('spec:\n  jwtRules:\n  - issuer: a\n    outputPayloadToHeader: "x jwt"'), path: '/spec/jwtRules/0/outputPayloadToHeader', message: 'not a valid HTTP header name' },
  { name: 'claim to header without claim', yaml: ra('spec:\n  jwtRules:\n  - issuer: a\n    outputClaimToHeaders:\n    - header: x-sub'), path: '/spec/jwtRules/0/outputClaimToHeaders/0', message: 'header and claim are both required' },
  { name: 'bad timeout', yaml: ra('spec:\n  jwtRules:\n  - issuer: a\n    timeout: 5'), path: '/spec/jwtRules/0/timeout', message: 'must be a string' },
  { name: 'unknown jwtRule field', yaml: ra('spec:\n  jwtRules:\n  - issuer: a\n    jwks_uri: https://x/jwks'), path: '/spec/jwtRules/0/jwks_uri', message: 'unknown field "jwks_uri"' },
  { name: 'duplicate issuer', yaml: ra('spec:\n  jwtRules:\n  - issuer: a\n  - issuer: a'), path: '/spec/jwtRules/1/issuer', message: 'already configured', level: 'Warning' },
]);
