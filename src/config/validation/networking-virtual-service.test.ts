// Table tests of the VirtualService validator: documented Istio examples pass; each webhook rule fails at the right field.

import { networkingValidators as v } from './networking.js';
import { dedent, manifest, testInvalid, testValid } from './testing.js';

const vs = (body: string, version = 'v1') => manifest(`networking.istio.io/${version}`, 'VirtualService', body);
/** A VirtualService for host reviews with one HTTP route per argument, each made of the fields given (YAML at any indentation). */
const rules = (...routes: string[]) => vs(`spec:\n  hosts: [reviews]\n  http:\n${routes.map((r) => `  - ${dedent(r).trimEnd().replace(/\n/g, '\n    ')}`).join('\n')}`);
const http = (route: string) => rules(route);
const dest = 'route:\n- destination:\n    host: reviews';

testValid('VirtualService', v, [
  {
    name: 'weighted split with subsets, headers and retries (v1alpha3)',
    yaml: vs(
      `
      spec:
        hosts:
        - reviews.prod.svc.cluster.local
        http:
        - name: canary
          match:
          - headers:
              end-user:
                exact: jason
            uri:
              prefix: /api
            ignoreUriCase: true
          route:
          - destination:
              host: reviews.prod.svc.cluster.local
              subset: v2
            weight: 25
          - destination:
              host: reviews.prod.svc.cluster.local
              subset: v1
            weight: 75
            headers:
              request:
                set:
                  x-canary: "false"
              response:
                remove: [x-internal]
          timeout: 10s
          retries:
            attempts: 3
            perTryTimeout: 2s
            retryOn: gateway-error,connect-failure,refused-stream,503
        - route:
          - destination:
              host: reviews.prod.svc.cluster.local
              subset: v1
    `,
      'v1alpha3',
    ),
  },
  {
    name: 'gateway-bound with redirect, rewrite, CORS, mirror and fault',
    yaml: vs(`
      spec:
        hosts: ["*.example.com", "10.0.0.1"]
        gateways: [istio-system/public-gw, mesh-gw]
        http:
        - match:
          - uri: {exact: /old}
          redirect:
            uri: /new
            redirectCode: 308
        - match:
          - uri: {regex: "^/v[0-9]+/(?P<rest>.*)$"}
            headers:
              "@request.auth.claims.group": {exact: admin}
          rewrite:
            uriRegexRewrite:
              match: "^/v[0-9]+/(.*)$"
              rewrite: /\\1
          route:
          - destination: {host: api.default.svc.cluster.local, port: {number: 8080}}
          mirror: {host: shadow.default.svc.cluster.local}
          mirrorPercentage: {value: 12.5}
          corsPolicy:
            allowOrigins:
            - exact: https://example.com
            - regex: "https://.*\\\\.example\\\\.com"
            allowMethods: [GET, POST]
            allowHeaders: ["*", x-custom]
            maxAge: 24h
            allowCredentials: true
          fault:
            delay:
              fixedDelay: 5s
              percentage: {value: 0.1}
            abort:
              grpcStatus: UNAVAILABLE
              percentage: {value: 1}
        - directResponse:
            status: 404
            body: {string: "not here"}
    `),
  },
  {
    name: 'TCP and TLS routes',
    yaml: vs(`
      spec:
        hosts: ["*.mongo.example.com"]
        tls:
        - match:
          - sniHosts: [a.mongo.example.com]
            port: 443
          route:
          - destination: {host: a.mongo.example.com}
        tcp:
        - match:
          - port: 27017
            destinationSubnets: [10.1.0.0/16]
            sourceLabels: {app: reader}
          route:
          - destination: {host: mongo.backup.svc.cluster.local, port: {number: 5555}}
    `),
  },
  {
    name: 'delegate root and delegate target',
    yaml: vs(`
      spec:
        hosts: [bookinfo.com]
        gateways: [bookinfo-gw]
        http:
        - match:
          - uri: {prefix: /productpage}
          delegate:
            name: productpage
            namespace: ns-a
    `),
  },
  { name: 'a delegate (no hosts) with only http routes', yaml: vs(`spec:\n  http:\n  - route:\n    - destination: {host: reviews}`) },
  { name: 'same rules in v1beta1', yaml: vs(`spec:\n  hosts: [ratings]\n  http:\n  - route:\n    - destination: {host: ratings}`, 'v1beta1') },
  { name: 'single destination without weight', yaml: http(dest) },
  { name: 'header presence match with an empty StringMatch', yaml: http(`match:\n- headers:\n    x-debug: {}\n${dest}`) },
  { name: 'relative weights that add up to 100 with a zero', yaml: http('route:\n- destination: {host: a}\n  weight: 100\n- destination: {host: b}\n  weight: 0') },
]);

testInvalid('VirtualService', v, [
  // structure
  { name: 'misspelt field', yaml: http(`${dest}\ntimout: 5s`), path: '/spec/http/0/timout', message: 'unknown field "timout"' },
  { name: 'hosts not a list', yaml: vs('spec:\n  hosts: reviews\n  http:\n  - route:\n    - destination: {host: reviews}'), path: '/spec/hosts', message: 'must be an array' },
  { name: 'destination without host', yaml: http('route:\n- destination:\n    subset: v1'), path: '/spec/http/0/route/0/destination', message: 'missing required field "host"' },
  { name: 'route entry without destination', yaml: http('route:\n- weight: 100'), path: '/spec/http/0/route/0', message: 'missing required field "destination"' },
  { name: 'bad timeout format', yaml: http(`${dest}\ntimeout: 10`), path: '/spec/http/0/timeout', message: 'must be a string' },
  { name: 'bad duration unit', yaml: http(`${dest}\ntimeout: 10sec`), path: '/spec/http/0/timeout', message: 'must be a duration' },
  { name: 'name that is not a DNS-1123 subdomain', yaml: manifest('networking.istio.io/v1', 'VirtualService', 'spec:\n  hosts: [a]\n  http:\n  - route:\n    - destination: {host: a}', 'name: Reviews_VS'), path: '/metadata/name', message: 'not a valid DNS-1123 subdomain' },
  // hosts and gateways
  { name: 'no routes at all', yaml: vs('spec:\n  hosts: [reviews]'), path: '/spec', message: 'needs http, tcp or tls routes' },
  { name: '"*" host without gateways', yaml: vs('spec:\n  hosts: ["*"]\n  http:\n  - route:\n    - destination: {host: a}'), path: '/spec/hosts/0', message: 'host "*" is not allowed' },
  { name: 'invalid host', yaml: vs('spec:\n  hosts: [Reviews_Svc]\n  http:\n  - route:\n    - destination: {host: a}'), path: '/spec/hosts/0', message: 'not a valid host name' },
  { name: 'overlapping hosts', yaml: vs('spec:\n  hosts: ["*.example.com", api.example.com]\n  gateways: [gw]\n  http:\n  - route:\n    - destination: {host: a}'), path: '/spec/hosts/1', message: 'overlaps "*.example.com"' },
  { name: 'delegate with gateways', yaml: vs('spec:\n  gateways: [gw]\n  http:\n  - route:\n    - destination: {host: a}'), path: '/spec/gateways', message: 'is a delegate and must not list gateways' },
  { name: 'delegate with tcp routes', yaml: vs('spec:\n  tcp:\n  - route:\n    - destination: {host: a}'), path: '/spec/tcp', message: 'cannot have tcp routes' },
  { name: 'gateway with bad namespace', yaml: vs('spec:\n  hosts: [a.com]\n  gateways: [Istio_System/gw]\n  http:\n  - route:\n    - destination: {host: a}'), path: '/spec/gateways/0', message: 'not a valid namespace name' },
  { name: 'legacy gateway.namespace form', yaml: vs('spec:\n  hosts: [a.com]\n  gateways: [gw.istio-system]\n  http:\n  - route:\n    - destination: {host: a}'), path: '/spec/gateways/0', message: 'prefer "istio-system/gw"', level: 'Warning' },
  { name: 'JWT claim routing without a gateway', yaml: http(`match:\n- headers:\n    "@request.auth.claims.group": {exact: a}\n${dest}`), path: '/spec/http/0/match/0/headers/@request.auth.claims.group', message: 'only works in VirtualServices bound to gateways' },
  { name: 'duplicate exportTo', yaml: vs('spec:\n  hosts: [a]\n  exportTo: [".", default]\n  http:\n  - route:\n    - destination: {host: a}'), path: '/spec/exportTo/1', message: '"." and "default" name the same namespace' },
  { name: '"~" exportTo', yaml: vs('spec:\n  hosts: [a]\n  exportTo: ["~"]\n  http:\n  - route:\n    - destination: {host: a}'), path: '/spec/exportTo/0', message: 'only allowed for ServiceEntries' },
  // what a route does
  { name: 'route without action', yaml: http('match:\n- uri: {prefix: /}'), path: '/spec/http/0', message: 'needs one of route, redirect, directResponse or delegate' },
  { name: 'route and redirect', yaml: http(`${dest}\nredirect: {uri: /x}`), path: '/spec/http/0', message: 'set only one of route and redirect' },
  { name: 'rewrite with redirect', yaml: http('redirect: {uri: /x}\nrewrite: {uri: /y}'), path: '/spec/http/0/rewrite', message: 'rewrite cannot be used with redirect' },
  { name: 'route and directResponse', yaml: http(`${dest}\ndirectResponse: {status: 503}`), path: '/spec/http/0', message: 'set only one of route and directResponse' },
  { name: 'fault with directResponse', yaml: http('directResponse: {status: 503}\nfault: {abort: {httpStatus: 500}}'), path: '/spec/http/0/fault', message: 'fault cannot be used with directResponse' },
  { name: 'delegate with route', yaml: vs('spec:\n  hosts: [a.com]\n  http:\n  - delegate: {name: b}\n    route:\n    - destination: {host: a}'), path: '/spec/http/0/route', message: 'a route with delegate must not also set route' },
  { name: 'delegate inside a delegate', yaml: vs('spec:\n  http:\n  - delegate: {name: b}'), path: '/spec/http/0/delegate', message: 'cannot delegate again' },
  { name: 'mirror and mirrors', yaml: http(`${dest}\nmirror: {host: m}\nmirrors:\n- destination: {host: n}`), path: '/spec/http/0/mirrors', message: 'set only one of mirror and mirrors' },
  // destinations and weights
  { name: 'negative weight', yaml: http('route:\n- destination: {host: a}\n  weight: -10\n- destination: {host: b}\n  weight: 110'), path: '/spec/http/0/route/0/weight', message: 'must not be negative' },
  { name: 'weights add up to 0', yaml: http('route:\n- destination: {host: a}\n- destination: {host: b}'), path: '/spec/http/0/route', message: 'total weight is 0' },
  { name: 'weights add up to 90', yaml: http('route:\n- destination: {host: a}\n  weight: 60\n- destination: {host: b}\n  weight: 30'), path: '/spec/http/0/route', message: 'total weight is 90, not 100', level: 'Warning' },
  { name: 'a destination without weight among weighted ones', yaml: http('route:\n- destination: {host: a}\n  weight: 100\n- destination: {host: b}'), path: '/spec/http/0/route/1', message: 'receives no traffic', level: 'Warning' },
  { name: 'destination host "*"', yaml: http('route:\n- destination: {host: "*"}'), path: '/spec/http/0/route/0/destination/host', message: 'not a valid destination host' },
  { name: 'bad subset name', yaml: http('route:\n- destination: {host: a, subset: V_1}'), path: '/spec/http/0/route/0/destination/subset', message: 'not a valid subset name' },
  { name: 'destination port out of range', yaml: http('route:\n- destination: {host: a, port: {number: 70000}}'), path: '/spec/http/0/route/0/destination/port/number', message: 'out of range' },
  // matches
  { name: 'StringMatch with two kinds', yaml: http(`match:\n- uri: {exact: /a, prefix: /b}\n${dest}`), path: '/spec/http/0/match/0/uri', message: 'set only one of exact, prefix or regex (found exact and prefix)' },
  { name: 'regex that does not compile', yaml: http(`match:\n- uri: {regex: "/api/(v1"}\n${dest}`), path: '/spec/http/0/match/0/uri/regex', message: 'invalid regular expression' },
  { name: 'lookahead is not RE2', yaml: http(`match:\n- headers:\n    x-user: {regex: "^(?!admin).*"}\n${dest}`), path: '/spec/http/0/match/0/headers/x-user/regex', message: 'not supported by RE2' },
  { name: 'empty prefix on a header', yaml: http(`match:\n- headers:\n    x-user: {prefix: ""}\n${dest}`), path: '/spec/http/0/match/0/headers/x-user/prefix', message: 'prefix must not be empty' },
  { name: 'header name with a colon', yaml: http(`match:\n- headers:\n    ":authority": {exact: a}\n${dest}`), path: '/spec/http/0/match/0/headers/:authority', message: 'not a valid header name' },
  { name: 'match port out of range', yaml: http(`match:\n- port: 70000\n${dest}`), path: '/spec/http/0/match/0/port', message: 'out of range' },
  { name: 'bad sourceNamespace', yaml: http(`match:\n- sourceNamespace: Prod\n${dest}`), path: '/spec/http/0/match/0/sourceNamespace', message: 'not a valid namespace name' },
  { name: 'bad sourceLabels key', yaml: http(`match:\n- sourceLabels: {"-app": web}\n${dest}`), path: '/spec/http/0/match/0/sourceLabels/-app', message: 'not a valid label key' },
  // timeouts, retries, faults
  { name: 'timeout below 1ms', yaml: http(`${dest}\ntimeout: 0s`), path: '/spec/http/0/timeout', message: 'must be at least 1ms' },
  { name: 'timeout finer than ms', yaml: http(`${dest}\ntimeout: 1500us`), path: '/spec/http/0/timeout', message: 'only millisecond precision' },
  { name: 'negative retry attempts', yaml: http(`${dest}\nretries: {attempts: -1}`), path: '/spec/http/0/retries/attempts', message: 'must not be negative' },
  { name: 'retry settings with zero attempts', yaml: http(`${dest}\nretries: {retryOn: 5xx}`), path: '/spec/http/0/retries', message: 'attempts is 0' },
  { name: 'unknown retryOn condition', yaml: http(`${dest}\nretries: {attempts: 2, retryOn: "5xx,timeout"}`), path: '/spec/http/0/retries/retryOn', message: '"timeout" is not a retry condition' },
  { name: 'spaces in retryOn', yaml: http(`${dest}\nretries: {attempts: 2, retryOn: "5xx, reset"}`), path: '/spec/http/0/retries/retryOn', message: 'remove the spaces' },
  { name: 'perTryTimeout as long as the timeout', yaml: http(`${dest}\ntimeout: 2s\nretries: {attempts: 2, perTryTimeout: 2s}`), path: '/spec/http/0/retries/perTryTimeout', message: 'no retry can happen', level: 'Warning' },
  { name: 'fault without abort or delay', yaml: http(`${dest}\nfault: {}`), path: '/spec/http/0/fault', message: 'needs an abort, a delay, or both' },
  { name: 'delay without fixedDelay', yaml: http(`${dest}\nfault: {delay: {percentage: {value: 10}}}`), path: '/spec/http/0/fault/delay', message: 'delay needs fixedDelay' },
  { name: 'abort status out of range', yaml: http(`${dest}\nfault: {abort: {httpStatus: 99}}`), path: '/spec/http/0/fault/abort/httpStatus', message: 'not between 200 and 599' },
  { name: 'fault percentage above 100', yaml: http(`${dest}\nfault: {abort: {httpStatus: 500, percentage: {value: 150}}}`), path: '/spec/http/0/fault/abort/percentage/value', message: 'must be 0 or between 0.0001 and 100' },
  { name: 'unknown gRPC status', yaml: http(`${dest}\nfault: {abort: {grpcStatus: NOTFOUND}}`), path: '/spec/http/0/fault/abort/grpcStatus', message: 'not a gRPC status name' },
  { name: 'exponentialDelay', yaml: http(`${dest}\nfault: {delay: {exponentialDelay: 1s}}`), path: '/spec/http/0/fault/delay/exponentialDelay', message: 'not supported yet' },
  // redirects, responses, rewrites, mirrors, CORS, headers
  { name: 'redirect code that is not 3xx', yaml: http('redirect: {uri: /x, redirectCode: 200}'), path: '/spec/http/0/redirect/redirectCode', message: 'not a redirect code' },
  { name: 'redirect code Envoy cannot send', yaml: http('redirect: {uri: /x, redirectCode: 305}'), path: '/spec/http/0/redirect/redirectCode', message: 'use 301, 302, 303, 307 or 308', level: 'Warning' },
  { name: 'empty redirect', yaml: http('redirect: {redirectCode: 301}'), path: '/spec/http/0/redirect', message: 'must set at least one of uri' },
  { name: 'redirect scheme', yaml: http('redirect: {scheme: ftp}'), path: '/spec/http/0/redirect/scheme', message: 'must be "http" or "https"' },
  { name: 'directResponse status out of range', yaml: http('directResponse: {status: 600}'), path: '/spec/http/0/directResponse/status', message: 'not between 200 and 599' },
  { name: 'directResponse without status', yaml: http('directResponse: {body: {string: x}}'), path: '/spec/http/0/directResponse', message: 'missing required field "status"' },
  { name: 'rewrite uri and regex', yaml: http(`${dest}\nrewrite: {uri: /a, uriRegexRewrite: {match: a, rewrite: b}}`), path: '/spec/http/0/rewrite', message: 'set only one of uri and uriRegexRewrite' },
  { name: 'uriRegexRewrite without rewrite', yaml: http(`${dest}\nrewrite: {uriRegexRewrite: {match: "^/a"}}`), path: '/spec/http/0/rewrite/uriRegexRewrite', message: 'needs both match and rewrite' },
  { name: 'authority rewritten twice', yaml: http(`${dest}\nrewrite: {authority: a.com}\nheaders: {request: {set: {host: b.com}}}`), path: '/spec/http/0/headers/request/set/host', message: 'already rewritten' },
  { name: 'mirrorPercentage above 100', yaml: http(`${dest}\nmirror: {host: m}\nmirrorPercentage: {value: 101}`), path: '/spec/http/0/mirrorPercentage/value', message: 'between 0 and 100' },
  { name: 'deprecated mirrorPercent', yaml: http(`${dest}\nmirror: {host: m}\nmirrorPercent: 5`), path: '/spec/http/0/mirrorPercent', message: 'deprecated', level: 'Warning' },
  { name: 'lower-case CORS method', yaml: http(`${dest}\ncorsPolicy: {allowMethods: [get]}`), path: '/spec/http/0/corsPolicy/allowMethods/0', message: 'not a supported HTTP method' },
  { name: 'CORS maxAge in fractions of a second', yaml: http(`${dest}\ncorsPolicy: {maxAge: 1500ms}`), path: '/spec/http/0/corsPolicy/maxAge', message: 'whole number of seconds' },
  { name: 'empty allowed origin', yaml: http(`${dest}\ncorsPolicy: {allowOrigins: [{exact: ""}]}`), path: '/spec/http/0/corsPolicy/allowOrigins/0', message: 'non-empty exact, prefix or regex' },
  { name: 'setting a pseudo-header', yaml: http(`${dest}\nheaders: {request: {set: {":path": /x}}}`), path: '/spec/http/0/headers/request/set/:path', message: 'cannot set the pseudo-header' },
  { name: 'removing Host from a response', yaml: http(`${dest}\nheaders: {response: {remove: [Host]}}`), path: '/spec/http/0/headers/response/remove/0', message: 'cannot remove "Host"' },
  { name: 'un-escaped percent in a header value', yaml: http(`${dest}\nheaders: {response: {set: {x-ratio: "100%"}}}`), path: '/spec/http/0/headers/response/set/x-ratio', message: 'un-escaped "%"' },
  // TLS and TCP routes
  { name: 'TLS route without match', yaml: vs('spec:\n  hosts: [a.com]\n  tls:\n  - route:\n    - destination: {host: a.com}'), path: '/spec/tls/0', message: 'needs at least one match with sniHosts' },
  { name: 'SNI host outside the VirtualService hosts', yaml: vs('spec:\n  hosts: [a.com]\n  tls:\n  - match:\n    - sniHosts: [b.com]\n    route:\n    - destination: {host: a.com}'), path: '/spec/tls/0/match/0/sniHosts/0', message: 'not covered by any of the VirtualService hosts' },
  { name: 'TCP route without destinations', yaml: vs('spec:\n  hosts: [db]\n  tcp:\n  - match:\n    - port: 5432'), path: '/spec/tcp/0', message: 'needs a route' },
  { name: 'bad destination subnet', yaml: vs('spec:\n  hosts: [db]\n  tcp:\n  - match:\n    - destinationSubnets: [10.0.0.0/33]\n    route:\n    - destination: {host: db}'), path: '/spec/tcp/0/match/0/destinationSubnets/0', message: 'not an IP address or CIDR block' },
  // unreachable rules
]);
