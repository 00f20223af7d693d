// Table tests of the Istio Gateway validator: documented examples pass; server, port, host and TLS rules fail where Istio's webhook does.

import { networkingValidators as v } from './networking.js';
import { manifest, testInvalid, testValid } from './testing.js';

const gw = (body: string, version = 'v1') => manifest(`networking.istio.io/${version}`, 'Gateway', body);
/** A Gateway with one server made of `server` (YAML, flow style welcome). */
const server = (s: string) => gw(`spec:\n  selector: {istio: ingressgateway}\n  servers:\n  - ${s.trim().replace(/\n/g, '\n    ')}`);

testValid('Gateway', v, [
  {
    name: 'HTTP, HTTPS and TLS servers (v1beta1)',
    yaml: gw(
      `
      spec:
        selector:
          app: my-gateway-controller
        servers:
        - port:
            number: 80
            name: http
            protocol: HTTP
          hosts:
          - uk.bookinfo.com
          - eu.bookinfo.com
          tls:
            httpsRedirect: true
        - port:
            number: 443
            name: https-443
            protocol: HTTPS
          hosts:
          - uk.bookinfo.com
          - eu.bookinfo.com
          tls:
            mode: SIMPLE
            serverCertificate: /etc/certs/servercert.pem
            privateKey: /etc/certs/privatekey.pem
        - port:
            number: 9443
            name: https-9443
            protocol: HTTPS
          hosts:
          - "bookinfo-namespace/*.bookinfo.com"
          tls:
            mode: SIMPLE
            credentialName: bookinfo-secret
            minProtocolVersion: TLSV1_2
        - port:
            number: 9080
            name: http-wildcard
            protocol: http
          hosts:
          - "*"
        - port:
            number: 2379
            name: mongo
            protocol: MONGO
          hosts:
          - "*"
        - port:
            number: 15443
            name: tls
            protocol: TLS
          hosts:
          - "*.global"
          tls:
            mode: AUTO_PASSTHROUGH
    `,
      'v1beta1',
    ),
  },
  { name: 'MUTUAL with certificate files', yaml: server('port: {number: 443, name: https, protocol: HTTPS}\nhosts: ["./api.example.com"]\ntls: {mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem}') },
  { name: 'an IP as host', yaml: server('port: {number: 80, name: http, protocol: HTTP}\nhosts: ["10.0.0.1"]') },
  { name: 'unix socket bind with port 0', yaml: server('port: {number: 0, name: http, protocol: HTTP}\nbind: unix:///var/run/gw.sock\nhosts: ["*"]') },
]);

testInvalid('Gateway', v, [
  { name: 'no servers', yaml: gw('spec:\n  selector: {istio: ingressgateway}'), path: '/spec', message: 'needs at least one server' },
  { name: 'name with a dot', yaml: manifest('networking.istio.io/v1', 'Gateway', 'spec:\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]', 'name: my.gateway'), path: '/metadata/name', message: 'not a valid DNS-1123 label' },
  { name: 'server without port', yaml: server('hosts: ["*"]'), path: '/spec/servers/0', message: 'missing required field "port"' },
  { name: 'server without hosts', yaml: server('port: {number: 80, name: http, protocol: HTTP}'), path: '/spec/servers/0', message: 'missing required field "hosts"' },
  { name: 'empty hosts', yaml: server('port: {number: 80, name: http, protocol: HTTP}\nhosts: []'), path: '/spec/servers/0/hosts', message: 'at least one host' },
  { name: 'port without name', yaml: server('port: {number: 80, protocol: HTTP}\nhosts: ["*"]'), path: '/spec/servers/0/port', message: 'missing required field "name"' },
  { name: 'unknown protocol', yaml: server('port: {number: 80, name: http, protocol: HTTP3}\nhosts: ["*"]'), path: '/spec/servers/0/port/protocol', message: 'unsupported protocol "HTTP3"' },
  { name: 'port out of range', yaml: server('port: {number: 65536, name: http, protocol: HTTP}\nhosts: ["*"]'), path: '/spec/servers/0/port/number', message: 'out of range' },
  { name: 'targetPort on a gateway', yaml: server('port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}\nhosts: ["*"]'), path: '/spec/servers/0/port/targetPort', message: 'no effect on Gateways' },
  { name: 'short host name', yaml: server('port: {number: 80, name: http, protocol: HTTP}\nhosts: [reviews]'), path: '/spec/servers/0/hosts/0', message: 'short name "reviews" is not allowed' },
  { name: 'partial wildcard host', yaml: server('port: {number: 80, name: http, protocol: HTTP}\nhosts: ["api*.example.com"]'), path: '/spec/servers/0/hosts/0', message: 'partial wildcard' },
  { name: '"~" namespace in a gateway host', yaml: server('port: {number: 80, name: http, protocol: HTTP}\nhosts: ["~/a.example.com"]'), path: '/spec/servers/0/hosts/0', message: 'not a valid namespace' },
  { name: 'HTTPS without tls', yaml: server('port: {number: 443, name: https, protocol: HTTPS}\nhosts: ["*"]'), path: '/spec/servers/0', message: 'needs tls settings' },
  { name: 'SIMPLE without certificate', yaml: server('port: {number: 443, name: https, protocol: HTTPS}\nhosts: ["*"]\ntls: {mode: SIMPLE}'), path: '/spec/servers/0/tls', message: 'mode SIMPLE needs credentialName' },
  { name: 'MUTUAL without CA', yaml: server('port: {number: 443, name: https, protocol: HTTPS}\nhosts: ["*"]\ntls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k}'), path: '/spec/servers/0/tls', message: 'missing caCertificates' },
  { name: 'ISTIO_MUTUAL with credentialName', yaml: server('port: {number: 443, name: https, protocol: HTTPS}\nhosts: ["*"]\ntls: {mode: ISTIO_MUTUAL, credentialName: c}'), path: '/spec/servers/0/tls/credentialName', message: 'must not be set with mode ISTIO_MUTUAL' },
  { name: 'TLS termination on a plain HTTP server', yaml: server('port: {number: 80, name: http, protocol: HTTP}\nhosts: ["*"]\ntls: {mode: SIMPLE, credentialName: c}'), path: '/spec/servers/0/tls', message: 'can only use tls.httpsRedirect' },
  { name: 'tls on a TCP server', yaml: server('port: {number: 31400, name: tcp, protocol: TCP}\nhosts: ["*"]\ntls: {mode: PASSTHROUGH}'), path: '/spec/servers/0/tls', message: 'only allowed on HTTPS and TLS servers' },
  { name: 'unknown TLS mode', yaml: server('port: {number: 443, name: https, protocol: HTTPS}\nhosts: ["*"]\ntls: {mode: TERMINATE}'), path: '/spec/servers/0/tls/mode', message: 'must be one of "PASSTHROUGH"' },
  { name: 'min TLS version above max', yaml: server('port: {number: 443, name: https, protocol: HTTPS}\nhosts: ["*"]\ntls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_3, maxProtocolVersion: TLSV1_2}'), path: '/spec/servers/0/tls/minProtocolVersion', message: 'is above maxProtocolVersion' },
  { name: 'unknown cipher suite', yaml: server('port: {number: 443, name: https, protocol: HTTPS}\nhosts: ["*"]\ntls: {mode: SIMPLE, credentialName: c, cipherSuites: [TLS_RSA_WITH_RC4]}'), path: '/spec/servers/0/tls/cipherSuites/0', message: 'unknown cipher suite', level: 'Warning' },
  { name: 'certificates on PASSTHROUGH', yaml: server('port: {number: 443, name: tls, protocol: TLS}\nhosts: ["*"]\ntls: {mode: PASSTHROUGH, credentialName: c}'), path: '/spec/servers/0/tls', message: 'ignored', level: 'Warning' },
  {
    name: 'duplicate port names',
    yaml: gw('spec:\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [a.example.com]\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [b.example.com]'),
    path: '/spec/servers/1/port/name',
    message: 'port names must be unique',
  },
  { name: 'bind that is not an IP', yaml: server('port: {number: 80, name: http, protocol: HTTP}\nhosts: ["*"]\nbind: localhost'), path: '/spec/servers/0/bind', message: 'not an IP address' },
  { name: 'unix socket bind with a port number', yaml: server('port: {number: 80, name: http, protocol: HTTP}\nbind: unix:///var/run/gw.sock\nhosts: ["*"]'), path: '/spec/servers/0/port/number', message: 'must be 0 when the server binds a unix domain socket' },
  { name: 'httpsRedirect on a TLS server', yaml: server('port: {number: 443, name: tls, protocol: TLS}\nhosts: ["*"]\ntls: {mode: PASSTHROUGH, httpsRedirect: true}'), path: '/spec/servers/0/tls/httpsRedirect', message: 'only has an effect on HTTP servers', level: 'Warning' },
  { name: 'selector value not a string', yaml: gw('spec:\n  selector: {istio: true}\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]'), path: '/spec/selector/istio', message: 'must be a string' },
]);
