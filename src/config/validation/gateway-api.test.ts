// Table tests of the Gateway API validators: upstream-style examples pass; CRD schema and CEL rules fail where expected.

import { gatewayApiValidators as v } from './gateway-api.js';
import { manifest, testInvalid, testValid } from './testing.js';

const G = 'gateway.networking.k8s.io/v1';
const gw = (body: string) => manifest(G, 'Gateway', body);
const route = (body: string) => manifest(G, 'HTTPRoute', body);
const grpc = (body: string) => manifest(G, 'GRPCRoute', body);
/** An HTTPRoute with one rule whose fields are `rule` (YAML indented by four). */
const rule = (ruleBody: string) => route(`spec:\n  parentRefs:\n  - name: gw\n  rules:\n  - ${ruleBody.trim().replace(/\n/g, '\n    ')}`);

testValid('Gateway API', v, [
  { name: 'GatewayClass for Istio', yaml: manifest(G, 'GatewayClass', 'spec:\n  controllerName: istio.io/gateway-controller\n  description: The Istio gateway') },
  {
    name: 'Gateway with HTTP and HTTPS listeners',
    yaml: gw(`
      spec:
        gatewayClassName: istio
        addresses:
        - value: 10.0.0.1
        - type: Hostname
          value: ingress.example.com
        listeners:
        - name: http
          hostname: "*.example.com"
          port: 80
          protocol: HTTP
          allowedRoutes:
            namespaces:
              from: Selector
              selector:
                matchLabels:
                  shared-gateway-access: "true"
        - name: https
          hostname: shop.example.com
          port: 443
          protocol: HTTPS
          tls:
            mode: Terminate
            certificateRefs:
            - name: shop-cert
              kind: Secret
              group: ""
        - name: passthrough
          port: 8443
          protocol: TLS
          tls:
            mode: Passthrough
          allowedRoutes:
            kinds:
            - kind: TLSRoute
    `),
  },
  { name: 'ambient waypoint', yaml: gw('spec:\n  gatewayClassName: istio-waypoint\n  listeners:\n  - name: mesh\n    port: 15008\n    protocol: HBONE') },
  {
    name: 'HTTPRoute with matches, filters and timeouts',
    yaml: route(`
      spec:
        parentRefs:
        - name: gw
          sectionName: https
        - name: gw
          sectionName: http
        hostnames: ["shop.example.com", "*.shop.example.com"]
        rules:
        - matches:
          - path:
              type: PathPrefix
              value: /api
            headers:
            - name: x-version
              value: v2
            queryParams:
            - name: debug
              type: RegularExpression
              value: "^(1|true)$"
            method: GET
          filters:
          - type: URLRewrite
            urlRewrite:
              hostname: internal.example.com
              path:
                type: ReplacePrefixMatch
                replacePrefixMatch: /v2/api
          - type: RequestHeaderModifier
            requestHeaderModifier:
              set:
              - name: x-env
                value: prod
              remove: ["x-debug"]
          - type: RequestMirror
            requestMirror:
              backendRef:
                name: shadow
                port: 8080
              percent: 10
          backendRefs:
          - name: api-v2
            port: 8080
            weight: 90
          - name: api-v1
            port: 8080
            weight: 10
          timeouts:
            request: 10s
            backendRequest: 2s
        - matches:
          - path:
              type: Exact
              value: /old
          filters:
          - type: RequestRedirect
            requestRedirect:
              scheme: https
              statusCode: 301
              path:
                type: ReplaceFullPath
                replaceFullPath: /new
    `),
  },
  {
    name: 'GRPCRoute',
    yaml: grpc(`
      spec:
        parentRefs:
        - name: gw
        hostnames: ["grpc.example.com"]
        rules:
        - matches:
          - method:
              service: com.example.User
              method: Login
            headers:
            - name: magic
              value: foo
          backendRefs:
          - name: user-svc
            port: 50051
    `),
  },
  {
    name: 'ReferenceGrant',
    yaml: manifest('gateway.networking.k8s.io/v1beta1', 'ReferenceGrant', 'spec:\n  from:\n  - group: gateway.networking.k8s.io\n    kind: HTTPRoute\n    namespace: prod\n  to:\n  - group: ""\n    kind: Service'),
  },
  { name: 'TCPRoute', yaml: manifest('gateway.networking.k8s.io/v1alpha2', 'TCPRoute', 'spec:\n  parentRefs:\n  - name: gw\n  rules:\n  - backendRefs:\n    - name: db\n      port: 5432') },
  {
    name: 'TLSRoute',
    yaml: manifest('gateway.networking.k8s.io/v1alpha2', 'TLSRoute', 'spec:\n  parentRefs:\n  - name: gw\n  hostnames: ["db.example.com"]\n  rules:\n  - backendRefs:\n    - name: db\n      port: 5432'),
  },
]);

testInvalid('GatewayClass', v, [
  { name: 'missing controllerName', yaml: manifest(G, 'GatewayClass', 'spec:\n  description: x'), path: '/spec', message: 'missing required field "controllerName"' },
  { name: 'controllerName without a domain', yaml: manifest(G, 'GatewayClass', 'spec:\n  controllerName: istio'), path: '/spec/controllerName', message: 'domain-prefixed path' },
]);

testInvalid('Gateway', v, [
  { name: 'no listeners', yaml: gw('spec:\n  gatewayClassName: istio'), path: '/spec', message: 'missing required field "listeners"' },
  { name: 'listener without port', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: http\n    protocol: HTTP'), path: '/spec/listeners/0', message: 'missing required field "port"' },
  { name: 'port out of range', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: http\n    port: 70000\n    protocol: HTTP'), path: '/spec/listeners/0/port', message: 'must be <= 65535' },
  { name: 'invalid protocol', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: http\n    port: 80\n    protocol: "HTTP/2"'), path: '/spec/listeners/0/protocol', message: 'not a valid protocol' },
  { name: 'non-core protocol', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: g\n    port: 80\n    protocol: GRPC'), path: '/spec/listeners/0/protocol', message: 'not a core protocol', level: 'Warning' },
  {
    name: 'duplicate listener names',
    yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: web\n    port: 80\n    protocol: HTTP\n  - name: web\n    port: 8080\n    protocol: HTTP'),
    path: '/spec/listeners/1/name',
    message: 'already used by listeners[0]',
  },
  {
    name: 'same port, protocol and hostname',
    yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: a\n    port: 80\n    protocol: HTTP\n  - name: b\n    port: 80\n    protocol: HTTP'),
    path: '/spec/listeners/1',
    message: 'each listener needs a distinct combination',
  },
  { name: 'HTTPS without tls', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: https\n    port: 443\n    protocol: HTTPS'), path: '/spec/listeners/0', message: 'tls is required for protocol HTTPS' },
  {
    name: 'tls on an HTTP listener',
    yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n    tls:\n      certificateRefs:\n      - name: c'),
    path: '/spec/listeners/0/tls',
    message: 'tls must not be set for protocol HTTP',
  },
  { name: 'Terminate without certificates', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: https\n    port: 443\n    protocol: HTTPS\n    tls:\n      mode: Terminate'), path: '/spec/listeners/0/tls', message: 'certificateRefs are required' },
  { name: 'HTTPS with Passthrough', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: https\n    port: 443\n    protocol: HTTPS\n    tls:\n      mode: Passthrough'), path: '/spec/listeners/0/tls/mode', message: 'must be Terminate for protocol HTTPS' },
  { name: 'hostname on TCP', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: tcp\n    port: 5432\n    protocol: TCP\n    hostname: db.example.com'), path: '/spec/listeners/0/hostname', message: 'must not be set for protocol TCP' },
  { name: 'upper-case hostname', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n    hostname: Shop.Example.com'), path: '/spec/listeners/0/hostname', message: 'not a valid hostname' },
  { name: 'IP as hostname', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n    hostname: 10.0.0.1'), path: '/spec/listeners/0/hostname', message: 'is an IP address' },
  { name: 'unknown from', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n    allowedRoutes:\n      namespaces:\n        from: Any'), path: '/spec/listeners/0/allowedRoutes/namespaces/from', message: 'must be one of "All", "Same", "Selector"' },
  { name: 'IPAddress that is not an IP', yaml: gw('spec:\n  gatewayClassName: istio\n  addresses:\n  - value: gw.example.com\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP'), path: '/spec/addresses/0/value', message: 'not an IP address' },
  { name: 'listener name with upper case', yaml: gw('spec:\n  gatewayClassName: istio\n  listeners:\n  - name: HTTP\n    port: 80\n    protocol: HTTP'), path: '/spec/listeners/0/name', message: 'not a valid listener name' },
]);

testInvalid('HTTPRoute', v, [
  { name: 'parentRef without name', yaml: route('spec:\n  parentRefs:\n  - kind: Gateway'), path: '/spec/parentRefs/0', message: 'missing required field "name"' },
  { name: 'no parentRefs', yaml: route('spec:\n  rules:\n  - backendRefs:\n    - name: a\n      port: 80'), path: '/spec', message: 'attaches to no Gateway', level: 'Warning' },
  { name: 'same parent twice without sectionName', yaml: route('spec:\n  parentRefs:\n  - name: gw\n  - name: gw\n    port: 80'), path: '/spec/parentRefs/0', message: 'sectionName or port must be set' },
  { name: 'bad hostname', yaml: route('spec:\n  parentRefs:\n  - name: gw\n  hostnames: ["foo_bar.example.com"]'), path: '/spec/hostnames/0', message: 'not a valid hostname' },
  { name: 'wildcard not at the start', yaml: route('spec:\n  parentRefs:\n  - name: gw\n  hostnames: ["shop.*.com"]'), path: '/spec/hostnames/0', message: 'not a valid hostname' },
  { name: 'unknown path type', yaml: rule('matches:\n- path:\n    type: Prefix\n    value: /'), path: '/spec/rules/0/matches/0/path/type', message: 'must be one of "Exact", "PathPrefix", "RegularExpression"' },
  { name: 'relative path value', yaml: rule('matches:\n- path:\n    type: PathPrefix\n    value: api'), path: '/spec/rules/0/matches/0/path/value', message: 'must be an absolute path starting with "/"' },
  { name: 'double slash in path', yaml: rule('matches:\n- path:\n    type: Exact\n    value: /a//b'), path: '/spec/rules/0/matches/0/path/value', message: 'must not contain "//"' },
  { name: 'unknown header match type', yaml: rule('matches:\n- headers:\n  - name: x\n    value: y\n    type: Prefix'), path: '/spec/rules/0/matches/0/headers/0/type', message: 'must be one of "Exact", "RegularExpression"' },
  { name: 'header match without value', yaml: rule('matches:\n- headers:\n  - name: x'), path: '/spec/rules/0/matches/0/headers/0', message: 'missing required field "value"' },
  { name: 'duplicate header match', yaml: rule('matches:\n- headers:\n  - name: x\n    value: a\n  - name: x\n    value: b'), path: '/spec/rules/0/matches/0/headers/1/name', message: 'matched twice' },
  { name: 'lower-case method', yaml: rule('matches:\n- method: get'), path: '/spec/rules/0/matches/0/method', message: 'must be one of "GET"' },
  { name: 'filter type without its config', yaml: rule('filters:\n- type: RequestHeaderModifier'), path: '/spec/rules/0/filters/0', message: 'needs its "requestHeaderModifier" settings' },
  {
    name: 'filter with a config of another type',
    yaml: rule('filters:\n- type: RequestHeaderModifier\n  requestHeaderModifier:\n    remove: [x]\n  urlRewrite:\n    hostname: a.example.com'),
    path: '/spec/rules/0/filters/0/urlRewrite',
    message: 'must not be set when the filter type is RequestHeaderModifier',
  },
  { name: 'unknown filter type', yaml: rule('filters:\n- type: Rewrite'), path: '/spec/rules/0/filters/0/type', message: 'must be one of "RequestHeaderModifier"' },
  {
    name: 'redirect and rewrite together',
    yaml: rule('filters:\n- type: RequestRedirect\n  requestRedirect:\n    scheme: https\n- type: URLRewrite\n  urlRewrite:\n    hostname: a.example.com'),
    path: '/spec/rules/0/filters',
    message: 'cannot be used together',
  },
  {
    name: 'ReplacePrefixMatch with an Exact match',
    yaml: rule('matches:\n- path:\n    type: Exact\n    value: /a\nfilters:\n- type: URLRewrite\n  urlRewrite:\n    path:\n      type: ReplacePrefixMatch\n      replacePrefixMatch: /b'),
    path: '/spec/rules/0/matches',
    message: 'exactly one match, of path type PathPrefix',
  },
  { name: 'ReplaceFullPath without value', yaml: rule('filters:\n- type: URLRewrite\n  urlRewrite:\n    path:\n      type: ReplaceFullPath'), path: '/spec/rules/0/filters/0/urlRewrite/path', message: 'replaceFullPath is required' },
  { name: 'bad redirect status', yaml: rule('filters:\n- type: RequestRedirect\n  requestRedirect:\n    statusCode: 404'), path: '/spec/rules/0/filters/0/requestRedirect/statusCode', message: 'must be one of 301, 302' },
  { name: 'bad header name in modifier', yaml: rule('filters:\n- type: ResponseHeaderModifier\n  responseHeaderModifier:\n    add:\n    - name: "x header"\n      value: a'), path: '/spec/rules/0/filters/0/responseHeaderModifier/add/0/name', message: 'not a valid HTTP header name' },
  { name: 'mirror percent and fraction', yaml: rule('filters:\n- type: RequestMirror\n  requestMirror:\n    backendRef: {name: s, port: 80}\n    percent: 5\n    fraction: {numerator: 1}'), path: '/spec/rules/0/filters/0/requestMirror', message: 'set only one of percent and fraction' },
  { name: 'mirror to a Service without port', yaml: rule('filters:\n- type: RequestMirror\n  requestMirror:\n    backendRef: {name: s}'), path: '/spec/rules/0/filters/0/requestMirror/backendRef', message: 'port is required when the backend is a Service' },
  { name: 'backend Service without port', yaml: rule('backendRefs:\n- name: reviews'), path: '/spec/rules/0/backendRefs/0', message: 'port is required when the backend is a Service' },
  { name: 'weight too large', yaml: rule('backendRefs:\n- name: reviews\n  port: 9080\n  weight: 2000000'), path: '/spec/rules/0/backendRefs/0/weight', message: 'must be <= 1000000' },
  { name: 'negative weight', yaml: rule('backendRefs:\n- name: reviews\n  port: 9080\n  weight: -1'), path: '/spec/rules/0/backendRefs/0/weight', message: 'must be >= 0' },
  { name: 'fractional timeout', yaml: rule('timeouts:\n  request: 1.5s'), path: '/spec/rules/0/timeouts/request', message: 'not a Gateway API duration' },
  { name: 'backendRequest longer than request', yaml: rule('timeouts:\n  request: 5s\n  backendRequest: 10s'), path: '/spec/rules/0/timeouts/backendRequest', message: 'cannot be longer than the request timeout' },
  { name: 'unknown rule field', yaml: rule('backendRef:\n  name: a'), path: '/spec/rules/0/backendRef', message: 'unknown field "backendRef"' },
  { name: 'bad backend namespace', yaml: rule('backendRefs:\n- name: a\n  port: 80\n  namespace: Prod'), path: '/spec/rules/0/backendRefs/0/namespace', message: 'not a valid namespace name' },
]);

testInvalid('GRPCRoute', v, [
  { name: 'method match with neither service nor method', yaml: grpc('spec:\n  parentRefs:\n  - name: gw\n  rules:\n  - matches:\n    - method:\n        type: Exact'), path: '/spec/rules/0/matches/0/method', message: 'set service, method or both' },
  { name: 'bad service name', yaml: grpc('spec:\n  parentRefs:\n  - name: gw\n  rules:\n  - matches:\n    - method:\n        service: com/example'), path: '/spec/rules/0/matches/0/method/service', message: 'not a valid gRPC service name' },
  { name: 'HTTP-only filter', yaml: grpc('spec:\n  parentRefs:\n  - name: gw\n  rules:\n  - filters:\n    - type: URLRewrite'), path: '/spec/rules/0/filters/0/type', message: 'must be one of' },
]);

testInvalid('ReferenceGrant', v, [
  { name: 'from without namespace', yaml: manifest('gateway.networking.k8s.io/v1beta1', 'ReferenceGrant', 'spec:\n  from:\n  - group: gateway.networking.k8s.io\n    kind: HTTPRoute\n  to:\n  - group: ""\n    kind: Service'), path: '/spec/from/0', message: 'missing required field "namespace"' },
  { name: 'empty to', yaml: manifest('gateway.networking.k8s.io/v1beta1', 'ReferenceGrant', 'spec:\n  from:\n  - group: ""\n    kind: Service\n    namespace: a\n  to: []'), path: '/spec/to', message: 'must NOT have fewer than 1 items' },
  { name: 'to without kind', yaml: manifest('gateway.networking.k8s.io/v1beta1', 'ReferenceGrant', 'spec:\n  from:\n  - group: ""\n    kind: Service\n    namespace: a\n  to:\n  - group: ""'), path: '/spec/to/0', message: 'missing required field "kind"' },
]);

testInvalid('TCPRoute', v, [
  { name: 'rule without backends', yaml: manifest('gateway.networking.k8s.io/v1alpha2', 'TCPRoute', 'spec:\n  parentRefs:\n  - name: gw\n  rules:\n  - {}'), path: '/spec/rules/0', message: 'missing required field "backendRefs"' },
  { name: 'backend without port', yaml: manifest('gateway.networking.k8s.io/v1alpha2', 'TCPRoute', 'spec:\n  parentRefs:\n  - name: gw\n  rules:\n  - backendRefs:\n    - name: db'), path: '/spec/rules/0/backendRefs/0', message: 'port is required' },
]);
