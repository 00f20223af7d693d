// One deliberately broken config per analyzer (test/fixtures/analyze/): the exact messages, levels and positions each produces.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Level } from '../diagnostics.js';
import { loadPaths } from '../loader.js';
import { analyzeResources, type AnalysisMode } from './run.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = `${root}test/fixtures/analyze/`;

interface Expected {
  code: string;
  level: Level;
  line: number;
  column: number;
  /** `Kind namespace/name`, or undefined for messages about a file rather than a resource. */
  resource?: string;
  /** Checked when given: a substring of the message. */
  message?: string;
}

const m = (code: string, level: Level, line: number, column: number, resource?: string, message?: string): Expected => ({ code, level, line, column, resource, message });

interface Case {
  expected: Expected[];
  /** `local` for fixtures written for `trellis up` (Trellis's gateway listens on 8080/8443; alpha annotations reported). */
  mode?: AnalysisMode;
  /** Set while another part of Trellis keeps the fixture from being analyzed as intended; the case is reported as TODO. */
  blockedBy?: string;
}

const CASES: Record<string, Case> = {
  // Loader and kind catalogue
  'malformed-yaml.yaml': { expected: [m('TRL0002', 'Error', 5, 1, undefined, 'invalid YAML')] },
  'missing-apiversion.yaml': { expected: [m('TRL0003', 'Error', 1, 1, undefined, '"apiVersion" is missing')] },
  'unknown-kind.yaml': { expected: [m('TRL0004', 'Info', 2, 1, 'Widget default/gadget')] },

  // VirtualService
  'vs-gateway-not-found.yaml': { mode: 'local',
    expected: [
      // As istioctl: a gateway that does not exist offers none of the VirtualService's hosts either.
      m('IST0101', 'Error', 26, 5, 'VirtualService default/bookinfo', 'Referenced gateway not found: "bookinfo-gateway2"'),
      m('IST0132', 'Warning', 26, 5, 'VirtualService default/bookinfo', 'one or more host [*] defined in VirtualService default/bookinfo not found in Gateway default/bookinfo-gateway2.'),
      m('IST0101', 'Error', 27, 5, 'VirtualService default/bookinfo', 'Referenced gateway not found: "istio-system/bookinfo-gateway"'),
      m('IST0132', 'Warning', 27, 5, 'VirtualService default/bookinfo', 'not found in Gateway istio-system/bookinfo-gateway.'),
    ],
  },
  'vs-host-not-found.yaml': {
    expected: [
      m('IST0101', 'Error', 40, 9, 'VirtualService default/reviews', 'Referenced host not found: "reviews2"'),
      m('IST0101', 'Error', 50, 9, 'VirtualService default/reviews', 'Referenced host not found: "www.example.com"'),
    ],
  },
  'vs-subset-not-found.yaml': { expected: [m('IST0101', 'Error', 54, 9, 'VirtualService default/reviews', 'Referenced host+subset in destinationrule not found: "reviews+v4"')] },
  'vs-mirror-not-found.yaml': {
    expected: [
      m('IST0101', 'Error', 28, 7, 'VirtualService default/httpbin', 'Referenced mirror host not found: "httpbin-shadow"'),
      m('IST0101', 'Error', 34, 7, 'VirtualService default/httpbin', 'Referenced mirror+subset in destinationrule not found: "httpbin+v2"'),
    ],
  },
  'vs-port-selector-required.yaml': {
    expected: [
      m('IST0112', 'Error', 27, 9, 'VirtualService default/ext-authz', 'exposes multiple ports [8000 9000]'),
      m('IST0101', 'Error', 32, 11, 'VirtualService default/ext-authz', 'Referenced host:port not found: "ext-authz:9001"'),
    ],
  },
  'vs-host-not-in-gateway.yaml': { mode: 'local', expected: [m('IST0132', 'Warning', 26, 5, 'VirtualService default/blog', 'one or more host [blog.example.com] defined in VirtualService default/blog not found in Gateway default/shop-gateway.')] },
  'vs-conflicting-mesh-hosts.yaml': {
    expected: [
      m('IST0109', 'Error', 19, 5, 'VirtualService default/reviews', 'The VirtualServices default/reviews,default/reviews-canary associated with mesh gateway define the same host */reviews.default.svc.cluster.local'),
      m('IST0109', 'Error', 31, 5, 'VirtualService default/reviews-canary'),
    ],
  },
  'vs-unreachable-rules.yaml': {
    expected: [
      m('IST0131', 'Info', 30, 7, 'VirtualService default/ratings', 'VirtualService rule #1 match "again" is not used (duplicate/overlapping match in rule "jason").'),
      m('IST0130', 'Warning', 39, 5, 'VirtualService default/ratings', 'VirtualService rule #2 not used (all matches used by prior rules).'),
      m('IST0131', 'Info', 40, 7, 'VirtualService default/ratings', 'VirtualService rule #2 match #0 is not used'),
      m('IST0130', 'Warning', 49, 5, 'VirtualService default/ratings', 'VirtualService rule #4 not used (only the last rule can have no matches).'),
    ],
  },
  'vs-jwt-claim-route.yaml': { mode: 'local', expected: [m('IST0149', 'Error', 29, 9, 'VirtualService default/api', '(key: @request.auth.claims.groups) but found no request authentication for the gateway (default/api-gateway) pod (istio-ingressgateway)')] },
  'vs-ingress-subset-ignored.yaml': { mode: 'local', expected: [m('IST0140', 'Warning', 29, 9, 'VirtualService default/bookinfo', 'Subset in virtual service default/productpage has no effect on ingress gateway default/bookinfo requests')] },

  // DestinationRule and PeerAuthentication
  'dr-no-ca-certificates.yaml': {
    expected: [
      m('IST0128', 'Warning', 26, 7, 'DestinationRule default/external-api', 'has TLS mode set to SIMPLE but no caCertificates are set to validate server identity for host: api.example.com'),
      m('IST0129', 'Warning', 31, 9, 'DestinationRule default/external-api', 'has TLS mode set to MUTUAL but no caCertificates are set to validate server identity for host: api.example.com at port 8443'),
    ],
  },
  'dr-unknown-host.yaml': { expected: [m('IST0174', 'Warning', 18, 3, 'DestinationRule default/reviews', 'The host reveiws defined in the DestinationRule does not match any services in the mesh.')] },
  // Trellis's rule for the directories it runs (istioctl reports IST0173 Error for both subsets).
  'dr-subset-no-workloads.yaml': {
    mode: 'local',
    expected: [
      m('TRL0101', 'Warning', 38, 5, 'DestinationRule default/reviews', 'The subset "v4" defined in the DestinationRule selects no workload of host "reviews" (labels version=v4); a VirtualService routes to it'),
      m('TRL0101', 'Info', 41, 5, 'DestinationRule default/reviews', 'The subset "v5" defined in the DestinationRule selects no workload of host "reviews" (labels version=v5); no route uses it yet.'),
    ],
  },
  'mtls-conflict.yaml': { expected: [m('IST0113', 'Error', 44, 7, 'DestinationRule default/ratings', 'The DestinationRule "default/ratings" specifies that mTLS must be false but the PeerAuthentication object "default/default" specifies STRICT.')] },

  // Istio Gateway
  'gateway-selector-not-found.yaml': { expected: [m('IST0101', 'Error', 7, 3, 'Gateway default/private-gateway', 'Referenced selector not found: "app=private-ingress"')] },
  'gateway-port-not-on-workload.yaml': { mode: 'local', expected: [m('IST0162', 'Warning', 17, 7, 'Gateway default/httpbin-gateway', 'target port (port 8004) that is not defined in the Service associated with its workload instances (Pod selector istio=ingressgateway)')] },
  'gateway-credential-not-found.yaml': { mode: 'local', expected: [m('IST0101', 'Error', 16, 7, 'Gateway default/bookinfo-gateway', 'Referenced credentialName not found: "bookinfo-credential"')] },
  'gateway-invalid-credential.yaml': { mode: 'local', expected: [m('IST0161', 'Error', 16, 7, 'Gateway default/httpbin-gateway', 'has no private key (tls.key)')] },
  'gateway-credentials.yaml': { mode: 'local',
    expected: [
      m('IST0161', 'Error', 26, 7, 'Gateway default/secure-gateway', 'tls.key in secret istio-system/mismatched does not match its certificate'),
      m('IST0161', 'Error', 35, 7, 'Gateway default/secure-gateway', 'MUTUAL mode needs a CA certificate'),
    ],
  },
  'gateway-duplicate-certificate.yaml': { mode: 'local',
    expected: [
      m('IST0138', 'Warning', 16, 7, 'Gateway default/shop', 'Duplicate certificate in multiple gateways [default/shop default/blog]'),
      m('IST0138', 'Warning', 35, 7, 'Gateway default/blog', 'Duplicate certificate in multiple gateways [default/blog default/shop]'),
    ],
  },
  'gateway-conflicting.yaml': { mode: 'local',
    expected: [
      m('IST0145', 'Error', 11, 7, 'Gateway default/alpha', 'Conflict with gateways default/beta (workload selector istio=ingressgateway, port 8080, hosts foo.example.com).'),
      m('IST0145', 'Error', 26, 7, 'Gateway default/beta', 'Conflict with gateways default/alpha (workload selector istio=ingressgateway, port 8080, hosts *.example.com,foo.example.com).'),
    ],
  },

  // Services, ServiceEntries, workloads
  'service-port-name.yaml': {
    expected: [
      m('IST0118', 'Info', 8, 5, 'Service default/legacy', "Port name web (port: 8080, targetPort: 80) doesn't follow the naming convention of Istio port."),
      m('IST0150', 'Warning', 27, 5, 'Service default/external-db'),
    ],
  },
  'serviceentry-addresses-required.yaml': { expected: [m('IST0134', 'Warning', 10, 5, 'ServiceEntry default/external-db', 'ServiceEntry addresses are required for this protocol.')] },
  'deployment-multiple-services.yaml': { expected: [m('IST0116', 'Warning', 12, 3, 'Deployment dns/resolver', 'This deployment resolver is associated with multiple services using port 53 but different protocols: [dns/resolver-tcp dns/resolver-udp]')] },
  // IST0117 (a Deployment with no Service) is reported for a directory Trellis runs; istioctl retired it.
  'deployment-conflicting-ports.yaml': {
    mode: 'local',
    expected: [
      m('IST0137', 'Warning', 5, 3, 'Deployment default/web', 'This deployment web is associated with multiple services [default/web default/web-alt] using targetPort "8080" but different ports: [80 8000].'),
      m('IST0117', 'Warning', 46, 3, 'Deployment default/batch', 'No service associated with this deployment.'),
    ],
  },
  'application-uid.yaml': { expected: [m('IST0144', 'Warning', 17, 11, 'Deployment default/legacy', 'User ID (UID) 1337 is reserved for the sidecar proxy.')] },
  'image-auto.yaml': {
    expected: [
      m('IST0146', 'Warning', 15, 9, 'Deployment default/custom-gateway', 'Deployment custom-gateway contains `image: auto` but does not match any Istio injection webhook selectors.'),
      m('IST0147', 'Error', 26, 5, 'Pod default/custom-gateway-pod', 'Pod custom-gateway-pod contains `image: auto`'),
    ],
  },

  // Annotations and injection
  'annotations.yaml': { mode: 'local',
    expected: [
      m('IST0107', 'Warning', 7, 5, 'Deployment default/details', 'Misplaced annotation: sidecar.istio.io/inject can only be applied to Pod'),
      m('IST0135', 'Info', 7, 5, 'Deployment default/details', 'Annotation "sidecar.istio.io/inject" has been deprecated in favor of the "sidecar.istio.io/inject" label'),
      m('IST0108', 'Warning', 15, 9, 'Deployment default/details', 'Unknown annotation: sidecar.istio.io/proxyCpu'),
      m('IST0107', 'Warning', 16, 9, 'Deployment default/details', 'Misplaced annotation: networking.istio.io/exportTo can only be applied to Service'),
      m('IST0136', 'Info', 16, 9, 'Deployment default/details', 'Annotation "networking.istio.io/exportTo" is part of an alpha-phase feature'),
      m('IST0125', 'Warning', 17, 9, 'Deployment default/details', 'Invalid annotation sidecar.istio.io/interceptionMode: "FOO" is not one of REDIRECT, TPROXY, NONE'),
      m('IST0136', 'Info', 17, 9, 'Deployment default/details'),
      m('IST0136', 'Info', 31, 5, 'Service default/details'),
    ],
  },
  'namespace-injection.yaml': {
    expected: [
      m('IST0102', 'Info', 5, 3, 'Namespace shop', "Run 'kubectl label namespace shop istio-injection=enabled' to enable it"),
      m('IST0123', 'Warning', 11, 3, 'Namespace blog', 'more than one type of injection labels [istio-injection istio.io/rev]'),
    ],
  },
  // In a manifest the webhook has not run yet: Trellis's runtime (local) reports only pods read back from a cluster; istioctl reports both.
  'pod-missing-proxy.yaml': { mode: 'local', expected: [m('IST0103', 'Warning', 12, 3, 'Pod shop/cart-5d8f9', 'The pod shop/cart-5d8f9 is missing the Istio proxy.')] },

  // Sidecar
  'sidecar-selectors.yaml': {
    expected: [
      m('IST0110', 'Error', 19, 3, 'Sidecar default/ratings', 'The Sidecars [default/ratings default/ratings-v1] in namespace "default" select the same workload pod "ratings-v1"'),
      m('IST0110', 'Error', 31, 3, 'Sidecar default/ratings-v1'),
      m('IST0101', 'Error', 43, 3, 'Sidecar default/reviews', 'Referenced selector not found: "app=reviews"'),
    ],
  },
  'sidecar-no-selector.yaml': {
    expected: [
      m('IST0111', 'Error', 5, 3, 'Sidecar default/default', 'The Sidecars [default/default default/restricted] in namespace "default" have no workload selector'),
      m('IST0111', 'Error', 15, 3, 'Sidecar default/restricted'),
    ],
  },
  'sidecar-egress-host.yaml': { expected: [m('TRL0104', 'Warning', 23, 7, 'Sidecar bookinfo/default', 'Egress host "bookinfo/reviews.bookinfo.svc.cluster.local" matches no service')] },

  // Security policies
  'policy-no-matching-workloads.yaml': {
    expected: [
      m('IST0127', 'Warning', 22, 3, 'AuthorizationPolicy default/httpbin', 'No matching workloads for this resource with the following labels: app=httpbin,version=v2'),
      m('IST0101', 'Error', 30, 33, 'AuthorizationPolicy default/httpbin', 'Referenced namespace not found: "foo"'),
      m('IST0127', 'Warning', 37, 3, 'PeerAuthentication default/httpbin', 'labels: app=httpbn'),
      m('IST0127', 'Warning', 46, 3, 'RequestAuthentication empty/jwt'),
    ],
  },

  'policy-custom-provider.yaml': {
    expected: [
      m('TRL0105', 'Error', 59, 5, 'AuthorizationPolicy foo/typo', 'Extension provider "sample-ext-authz-grcp" is not defined in the mesh config extensionProviders'),
      m('TRL0105', 'Error', 74, 5, 'AuthorizationPolicy foo/tracer', 'Extension provider "zipkin" is not an envoyExtAuthzHttp or envoyExtAuthzGrpc provider'),
    ],
  },

  // Telemetry
  'telemetry-selectors.yaml': {
    expected: [
      m('IST0159', 'Error', 19, 3, 'Telemetry default/reviews-tracing', 'The Telemetries [default/reviews-tracing default/reviews-v1-tracing] in namespace "default" select the same workload pod "reviews-v1"'),
      m('IST0159', 'Error', 30, 3, 'Telemetry default/reviews-v1-tracing'),
      m('IST0101', 'Error', 41, 3, 'Telemetry default/ratings-tracing', 'Referenced selector not found: "app=ratings"'),
    ],
  },
  'telemetry-namespace-wide.yaml': {
    expected: [
      m('IST0160', 'Error', 5, 3, 'Telemetry default/tracing', 'The Telemetries [default/logging default/tracing] in namespace "default" have no workload selector'),
      m('IST0160', 'Error', 13, 3, 'Telemetry default/logging'),
      m('IST0157', 'Warning', 16, 5, 'Telemetry default/logging', 'The Telemetry logging in namespace "default" with empty providers will be ignored.'),
    ],
  },

  // Kubernetes Gateway API
  'gateway-api-class.yaml': { expected: [m('IST0101', 'Error', 7, 3, 'Gateway default/edge', 'Referenced gatewayclass not found: "nginx"')] },
  'gateway-api-route-refs.yaml': {
    expected: [
      m('IST0101', 'Error', 30, 5, 'HTTPRoute default/bookinfo', 'Referenced gateway not found: "bookinfo-gateway2"'),
      m('IST0101', 'Error', 32, 5, 'HTTPRoute default/bookinfo', 'Referenced gateway listener not found: "bookinfo-gateway/https"'),
      m('IST0101', 'Error', 35, 5, 'HTTPRoute default/bookinfo', 'Referenced service not found: "reviews"'),
      m('IST0101', 'Error', 39, 7, 'HTTPRoute default/bookinfo', 'Referenced backend service port not found: "productpage:9081"'),
      m('IST0101', 'Error', 40, 7, 'HTTPRoute default/bookinfo', 'Referenced backend service not found: "productpage-v1"'),
    ],
  },
  'gateway-api-listeners.yaml': {
    expected: [
      m('TRL0108', 'Error', 15, 5, 'Gateway default/edge', 'Listener "raw" of Gateway default/edge: port 80 is held by listener "http" (HTTP), which a TCP listener cannot share (ProtocolConflict)'),
      m('TRL0108', 'Error', 19, 5, 'Gateway default/edge', 'protocol "UDP" is not served'),
      m('TRL0108', 'Error', 27, 9, 'Gateway default/edge', 'a TLS Passthrough listener cannot take TCPRoute routes (InvalidRouteKinds)'),
      m('TRL0106', 'Error', 47, 3, 'HTTPRoute default/elsewhere', 'No hostname of the HTTPRoute (www.example.org) matches a listener of Gateway default/edge that admits it (*.example.com)'),
      m('TRL0107', 'Error', 54, 7, 'HTTPRoute default/elsewhere', 'Backend apps/Deployment "web" is not a kind Trellis sends traffic to'),
    ],
  },
  'gateway-api-reference-grant.yaml': {
    expected: [
      m('TRL0102', 'Error', 19, 9, 'Gateway infra/shared', 'Reference to Secret "certs/wildcard-cert" from Gateway infra/shared is not permitted by any ReferenceGrant in namespace "certs"'),
      m('TRL0103', 'Error', 71, 5, 'HTTPRoute frontend/frontend', 'No listener of Gateway infra/shared accepts a HTTPRoute from namespace "frontend"'),
      m('TRL0102', 'Error', 82, 7, 'HTTPRoute frontend/frontend', 'Reference to Service "bookinfo/ratings" from HTTPRoute frontend/frontend is not permitted'),
    ],
  },
};

test('every fixture file has a case, and every case a file', () => {
  const files = readdirSync(fixtures).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(files, Object.keys(CASES).sort());
});

for (const [file, c] of Object.entries(CASES)) {
  test(`fixture ${file}`, async (t) => {
    const loaded = await loadPaths([fixtures + file]);
    const { diagnostics } = analyzeResources(loaded.resources, { loadErrors: loaded.errors, mode: c.mode });
    // Schema warnings belong to the validators and their tests; a schema *error* means the fixture is not what it claims.
    const shown = diagnostics.filter((d) => !(d.code === 'IST0106' && d.level === 'Warning'));
    if (c.blockedBy && shown.some((d) => d.code === 'IST0106')) {
      t.todo(`blocked: ${c.blockedBy}`);
      return;
    }
    for (const d of shown) assert.equal(d.file, fixtures + file, `message located in ${file}`);
    const actual = shown.map((d) => ({
      code: d.code,
      level: d.level,
      line: d.line,
      column: d.column,
      resource: d.resource ? `${d.resource.kind} ${d.resource.namespace ? `${d.resource.namespace}/` : ''}${d.resource.name}` : undefined,
      message: d.message,
    }));
    const expected = c.expected.map((e, i) => ({ ...e, message: e.message === undefined ? actual[i]?.message : e.message }));
    // Compare everything but the message exactly; messages by substring, with the whole list shown on failure.
    assert.deepEqual(
      actual.map(({ message: _m, ...rest }) => rest),
      expected.map(({ message: _m, ...rest }) => rest),
      `messages of ${file}:\n${actual.map((a) => `  ${a.code} ${a.line}:${a.column} ${a.message}`).join('\n')}`,
    );
    expected.forEach((e, i) => assert.ok(actual[i]!.message.includes(e.message!), `message ${i} of ${file}: ${JSON.stringify(actual[i]!.message)} should contain ${JSON.stringify(e.message)}`));
  });
}
