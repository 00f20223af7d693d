// Table tests of the ServiceEntry, WorkloadEntry and WorkloadGroup validators against Istio's documented examples and webhook rules.

import { networkingValidators as v } from './networking.js';
import { manifest, testInvalid, testValid } from './testing.js';

const se = (body: string, version = 'v1') => manifest(`networking.istio.io/${version}`, 'ServiceEntry', body);
const we = (body: string) => manifest('networking.istio.io/v1', 'WorkloadEntry', body);
const wg = (body: string) => manifest('networking.istio.io/v1beta1', 'WorkloadGroup', body);
const HTTP_PORT = 'ports:\n  - number: 80\n    name: http\n    protocol: HTTP';

testValid('ServiceEntry', v, [
  {
    name: 'external HTTPS API with DNS resolution (v1alpha3)',
    yaml: se(
      `
      spec:
        hosts:
        - api.dropboxapi.com
        - www.googleapis.com
        ports:
        - number: 443
          name: https
          protocol: TLS
        location: MESH_EXTERNAL
        resolution: DNS
        exportTo: ["*"]
    `,
      'v1alpha3',
    ),
  },
  {
    name: 'static endpoints inside the mesh',
    yaml: se(`
      spec:
        hosts:
        - mymongodb.somedomain
        addresses:
        - 192.192.192.192/24
        ports:
        - number: 27018
          name: mongodb
          protocol: MONGO
        location: MESH_INTERNAL
        resolution: STATIC
        endpoints:
        - address: 2.2.2.2
        - address: 3.3.3.3
          ports:
            mongodb: 27019
          labels:
            version: v2
    `),
  },
  {
    name: 'DNS endpoints with a wildcard host',
    yaml: se(`
      spec:
        hosts: ["*.foo.com"]
        ports:
        - number: 80
          name: http
          protocol: HTTP
        resolution: DNS
        endpoints:
        - address: us.foo.com
          ports: {http: 8080}
    `),
  },
  { name: 'workload selector for VMs', yaml: se('spec:\n  hosts: [details.bookinfo.com]\n  location: MESH_INTERNAL\n  ports:\n  - number: 80\n    name: http\n    protocol: HTTP\n    targetPort: 8080\n  resolution: STATIC\n  workloadSelector:\n    labels:\n      app: details') },
  { name: 'a unix socket endpoint', yaml: se('spec:\n  hosts: [unix.local]\n  ports:\n  - number: 80\n    name: http\n    protocol: HTTP\n  resolution: STATIC\n  endpoints:\n  - address: unix:///var/run/example/socket') },
  { name: 'exported to nobody', yaml: se(`spec:\n  hosts: [a.example.com]\n  ${HTTP_PORT}\n  exportTo: ["~"]`) },
]);

testInvalid('ServiceEntry', v, [
  { name: 'no hosts', yaml: se(`spec:\n  ${HTTP_PORT}`), path: '/spec', message: 'needs at least one host' },
  { name: 'host "*"', yaml: se(`spec:\n  hosts: ["*"]\n  ${HTTP_PORT}`), path: '/spec/hosts/0', message: 'not allowed as a ServiceEntry host' },
  { name: 'partial wildcard host', yaml: se(`spec:\n  hosts: ["*api.example.com"]\n  ${HTTP_PORT}`), path: '/spec/hosts/0', message: 'partial wildcard', level: 'Warning' },
  { name: 'bad address', yaml: se(`spec:\n  hosts: [a.com]\n  addresses: [300.1.1.1]\n  ${HTTP_PORT}`), path: '/spec/addresses/0', message: 'not an IP address or CIDR block' },
  { name: 'CIDR with DNS resolution', yaml: se(`spec:\n  hosts: [a.com]\n  addresses: [10.0.0.0/8]\n  ${HTTP_PORT}\n  resolution: DNS`), path: '/spec/addresses', message: 'only allowed with resolution NONE or STATIC' },
  { name: 'unknown resolution', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  resolution: dns`), path: '/spec/resolution', message: 'must be one of "NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"' },
  { name: 'unknown location', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  location: EXTERNAL`), path: '/spec/location', message: 'must be one of "MESH_EXTERNAL", "MESH_INTERNAL"' },
  { name: 'duplicate port numbers', yaml: se('spec:\n  hosts: [a.com]\n  ports:\n  - {number: 80, name: http, protocol: HTTP}\n  - {number: 80, name: http-alt, protocol: HTTP}'), path: '/spec/ports/1/number', message: 'already defined by ports[0]' },
  { name: 'duplicate port names', yaml: se('spec:\n  hosts: [a.com]\n  ports:\n  - {number: 80, name: http, protocol: HTTP}\n  - {number: 8080, name: http, protocol: HTTP}'), path: '/spec/ports/1/name', message: 'already used by ports[0]' },
  { name: 'port without name', yaml: se('spec:\n  hosts: [a.com]\n  ports:\n  - {number: 80, protocol: HTTP}'), path: '/spec/ports/0', message: 'missing required field "name"' },
  { name: 'unknown port protocol', yaml: se('spec:\n  hosts: [a.com]\n  ports:\n  - {number: 80, name: http, protocol: HTTP1}'), path: '/spec/ports/0/protocol', message: 'unsupported protocol "HTTP1"' },
  { name: 'endpoints and workloadSelector', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  resolution: STATIC\n  workloadSelector: {labels: {app: a}}\n  endpoints:\n  - address: 1.1.1.1`), path: '/spec/workloadSelector', message: 'set only one of workloadSelector and endpoints' },
  { name: 'endpoints with resolution NONE', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  endpoints:\n  - address: 1.1.1.1`), path: '/spec/endpoints', message: 'not used with resolution NONE' },
  { name: 'STATIC endpoint with a host name', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  resolution: STATIC\n  endpoints:\n  - address: a.example.com`), path: '/spec/endpoints/0/address', message: 'not an IP address (resolution STATIC' },
  { name: 'STATIC without endpoints', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  resolution: STATIC`), path: '/spec', message: 'gives the service no endpoints', level: 'Warning' },
  { name: 'endpoint port not declared', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  resolution: STATIC\n  endpoints:\n  - address: 1.1.1.1\n    ports: {grpc: 9000}`), path: '/spec/endpoints/0/ports/grpc', message: 'not one of the ServiceEntry\'s port names (http)' },
  { name: 'wildcard host with DNS and no endpoints', yaml: se(`spec:\n  hosts: ["*.example.com"]\n  ${HTTP_PORT}\n  resolution: DNS`), path: '/spec/hosts/0', message: 'hosts must be resolvable names' },
  { name: 'two endpoints with DNS_ROUND_ROBIN', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  resolution: DNS_ROUND_ROBIN\n  endpoints:\n  - address: a.example.com\n  - address: b.example.com`), path: '/spec/endpoints', message: 'at most one endpoint' },
  { name: 'DNS endpoint that is not a name', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  resolution: DNS\n  endpoints:\n  - address: "my_host"`), path: '/spec/endpoints/0/address', message: 'not a valid host name or IP address' },
  { name: 'several hosts with a TCP port', yaml: se('spec:\n  hosts: [a.com, b.com]\n  addresses: [10.0.0.1]\n  ports:\n  - {number: 5432, name: tcp, protocol: TCP}\n  resolution: DNS'), path: '/spec/hosts', message: 'several hosts need HTTP or TLS ports' },
  { name: 'exportTo "~" with others', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  exportTo: ["~", "."]`), path: '/spec/exportTo', message: 'cannot be combined' },
  { name: 'workload selector without labels', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  resolution: STATIC\n  workloadSelector: {}`), path: '/spec/workloadSelector', message: 'applies to every workload', level: 'Warning' },
  { name: 'misspelt endpoint field', yaml: se(`spec:\n  hosts: [a.com]\n  ${HTTP_PORT}\n  resolution: STATIC\n  endpoints:\n  - adress: 1.1.1.1`), path: '/spec/endpoints/0/adress', message: 'unknown field "adress"' },
]);

testValid('WorkloadEntry', v, [
  { name: 'a VM', yaml: we('spec:\n  serviceAccount: details-legacy\n  address: 2.2.2.2\n  ports: {http: 8080}\n  labels:\n    app: details-legacy\n    instance-id: vm1') },
  { name: 'a host name address', yaml: we('spec:\n  address: vm1.example.com\n  locality: us-east/zone1\n  weight: 10') },
  { name: 'reached through a network gateway', yaml: we('spec:\n  network: vm-network\n  labels: {app: a}'), warnings: true },
]);

testInvalid('WorkloadEntry', v, [
  { name: 'no address', yaml: we('spec:\n  labels: {app: a}'), path: '/spec', message: 'address is required' },
  { name: 'bad address', yaml: we('spec:\n  address: "vm_1"'), path: '/spec/address', message: 'not a valid host name or IP address' },
  { name: 'relative unix socket', yaml: we('spec:\n  address: unix://var/run/sock'), path: '/spec/address', message: 'not an absolute path' },
  { name: 'unix socket with ports', yaml: we('spec:\n  address: unix:///var/run/sock\n  ports: {http: 80}'), path: '/spec/ports', message: 'cannot have ports' },
  { name: 'port out of range', yaml: we('spec:\n  address: 1.1.1.1\n  ports: {http: 70000}'), path: '/spec/ports/http', message: 'out of range' },
  { name: 'bad port name', yaml: we('spec:\n  address: 1.1.1.1\n  ports: {HTTP_PORT: 80}'), path: '/spec/ports/HTTP_PORT', message: 'not a valid port name' },
  { name: 'negative weight', yaml: we('spec:\n  address: 1.1.1.1\n  weight: -1'), path: '/spec/weight', message: 'must be >= 0' },
  { name: 'bad label value', yaml: we('spec:\n  address: 1.1.1.1\n  labels: {app: "a b"}'), path: '/spec/labels/app', message: 'not a valid label value' },
]);

testValid('WorkloadGroup', v, [
  {
    name: 'the VM example from the Istio docs',
    yaml: wg(`
      spec:
        metadata:
          labels:
            app.kubernetes.io/name: reviews
            app.kubernetes.io/version: "1.3.4"
        template:
          ports:
            grpc: 3550
            http: 8080
          serviceAccount: default
        probe:
          initialDelaySeconds: 5
          timeoutSeconds: 3
          periodSeconds: 4
          successThreshold: 3
          failureThreshold: 3
          httpGet:
            path: /foo/bar
            host: 127.0.0.1
            port: 3100
            scheme: HTTPS
            httpHeaders:
            - name: Lit-Header
              value: Im-The-Best
    `),
  },
  { name: 'a tcpSocket probe', yaml: wg('spec:\n  template: {serviceAccount: default}\n  probe:\n    tcpSocket: {port: 3306}') },
]);

testInvalid('WorkloadGroup', v, [
  { name: 'no template', yaml: wg('spec:\n  metadata:\n    labels: {app: a}'), path: '/spec', message: 'template is required' },
  { name: 'bad metadata label', yaml: wg('spec:\n  template: {}\n  metadata:\n    labels: {"app/name/x": a}'), path: '/spec/metadata/labels/app~1name~1x', message: 'not a valid label key' },
  { name: 'probe without a method', yaml: wg('spec:\n  template: {}\n  probe:\n    periodSeconds: 5'), path: '/spec/probe', message: 'probe needs one of httpGet, tcpSocket, exec or grpc' },
  { name: 'probe with two methods', yaml: wg('spec:\n  template: {}\n  probe:\n    tcpSocket: {port: 80}\n    exec: {command: ["true"]}'), path: '/spec/probe', message: 'set only one of httpGet, tcpSocket, exec or grpc' },
  { name: 'negative probe period', yaml: wg('spec:\n  template: {}\n  probe:\n    periodSeconds: -1\n    tcpSocket: {port: 80}'), path: '/spec/probe/periodSeconds', message: 'must not be negative' },
  { name: 'httpGet scheme', yaml: wg('spec:\n  template: {}\n  probe:\n    httpGet: {port: 80, scheme: http}'), path: '/spec/probe/httpGet/scheme', message: 'must be "HTTP" or "HTTPS"' },
  { name: 'exec without command', yaml: wg('spec:\n  template: {}\n  probe:\n    exec: {}'), path: '/spec/probe/exec', message: 'exec.command is required' },
  { name: 'address in the template', yaml: wg('spec:\n  template: {address: 1.1.1.1}'), path: '/spec/template/address', message: 'ignored in a template', level: 'Warning' },
]);
