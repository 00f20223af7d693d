// The conformance suite's base: its three namespaces, the Gateways every test leans on (same-namespace,
// all-namespaces, backend-namespaces, and one with an HTTPS listener) and the echo backends (infra-backend-v1…v3 in
// gateway-conformance-infra, app-backend-v1/v2 and web-backend in the backend namespaces, and grpc-infra-backend-v1…v3
// in gRPC mode), as the upstream suite's
// description lays them out. Written here; differences, which no test depends on: one replica per backend (the
// suite's two share one machine's two cores here), and no sidecars (gateway tests route from the gateway to the pods).

import { tlsSecretYaml } from '../../controlplane/translate/gateway-api/testing.js';
import { TestPki } from '../../proxy/tls/pki-testing.js';

export const INFRA = 'gateway-conformance-infra';
export const APP_BACKEND = 'gateway-conformance-app-backend';
export const WEB_BACKEND = 'gateway-conformance-web-backend';
/** The image the upstream manifests name; the image map runs the echo-basic stand-in for it. */
export const ECHO_IMAGE = 'gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd';
/** The class under test (`{GATEWAY_CLASS_NAME}` upstream). */
export const GATEWAY_CLASS = 'istio';

const namespace = (name: string, label: string) => `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
  labels: {gateway-conformance: ${label}, istio-injection: disabled}
---
`;

/** An echo backend: a Service on 8080 (→ 3000) and a one-replica Deployment of echo-basic (gRPC with `grpc`). */
export function echoBackend(name: string, ns: string, extraPorts = '', grpc = false): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {app: ${name}}
  ports:
  - {name: first-port, protocol: TCP, port: 8080, targetPort: 3000${grpc ? ', appProtocol: kubernetes.io/h2c' : ''}}
${extraPorts}---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${name}}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: ${name}
        image: ${ECHO_IMAGE}
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
${grpc ? '        - {name: GRPC_ECHO_SERVER, value: "1"}\n' : ''}---
`;
}

const httpGateway = (name: string, from: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${INFRA}}
spec:
  gatewayClassName: ${GATEWAY_CLASS}
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces: ${from}
---
`;

/** The certificate of the suite's HTTPS listeners (its Secrets name it), with the CA that issued it. */
export interface BaseCertificate {
  ca: string;
  cert: string;
  key: string;
}

export async function baseCertificate(): Promise<BaseCertificate> {
  const pki = await TestPki.create('Gateway API conformance CA');
  const leaf = await pki.issue(['example.org', '*.example.org', 'second-example.org', 'example.com', '*.example.com', 'secure.test.com']);
  return { ca: pki.ca, ...leaf };
}

/** A kubernetes.io/tls Secret holding the certificate. */
export function tlsSecret(cert: BaseCertificate, name: string, ns: string): string {
  return tlsSecretYaml(name, ns, cert);
}

/** The whole base, with the HTTPS certificate given. */
export function baseManifests(cert: BaseCertificate): string {
  return [
    namespace(INFRA, 'infra'),
    namespace(APP_BACKEND, 'backend'),
    namespace(WEB_BACKEND, 'backend'),
    httpGateway('same-namespace', '{from: Same}'),
    httpGateway('all-namespaces', '{from: All}'),
    httpGateway('backend-namespaces', '{from: Selector, selector: {matchLabels: {gateway-conformance: backend}}}'),
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: same-namespace-with-https-listener, namespace: ${INFRA}}
spec:
  gatewayClassName: ${GATEWAY_CLASS}
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    allowedRoutes: {namespaces: {from: Same}}
    tls: {certificateRefs: [{group: "", kind: Secret, name: tls-validity-checks-certificate, namespace: ${INFRA}}]}
  - name: https-with-hostname
    port: 443
    hostname: second-example.org
    protocol: HTTPS
    allowedRoutes: {namespaces: {from: Same}}
    tls: {certificateRefs: [{group: "", kind: Secret, name: tls-validity-checks-certificate, namespace: ${INFRA}}]}
---
`,
    tlsSecret(cert, 'tls-validity-checks-certificate', INFRA),
    echoBackend(
      'infra-backend-v1',
      INFRA,
      `  - {name: second-port, protocol: TCP, appProtocol: kubernetes.io/h2c, port: 8081, targetPort: 3001}
  - {name: third-port, protocol: TCP, appProtocol: kubernetes.io/ws, port: 8082, targetPort: 3000}
`,
    ),
    echoBackend('infra-backend-v2', INFRA),
    echoBackend('infra-backend-v3', INFRA),
    echoBackend('app-backend-v1', APP_BACKEND),
    echoBackend('app-backend-v2', APP_BACKEND),
    echoBackend('web-backend', WEB_BACKEND),
    ...['v1', 'v2', 'v3'].map((v) => echoBackend(`grpc-infra-backend-${v}`, INFRA, '', true)),
  ].join('');
}
