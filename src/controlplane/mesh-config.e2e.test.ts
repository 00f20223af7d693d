// One mesh config for every part: `trellis analyze` (a real CLI process), the control plane (a watched directory and
// a proxy on ADS) and the console (its HTTP API) read a directory where the ServiceMeshControlPlane and the `istio`
// ConfigMap disagree, and all three apply the documented precedence (config/mesh-config.ts): the ConfigMap wins a
// field both set, the control plane's fields stand where the ConfigMap is silent, providers merge by name.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlane } from './control-plane.js';
import { DirectoryStore } from './store/directory-store.js';
import { ConsoleServer } from '../console/server.js';
import { YamlMeshSource } from '../console/mesh/yaml-mesh-source.js';
import { waitFor } from '../proxy/testing.js';
import { AdsClient } from '../xds/ads-client.js';
import { configOf, TYPE, type Listener, type TypedExtension } from '../xds/envoy/index.js';
import { nodeId } from '../xds/node.js';
import type { XdsSnapshot } from '../xds/resource.js';

const bin = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const MESH = `apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec:
  version: v2.4
  security:
    trust: {domain: smcp.example}
    controlPlane: {tls: {minProtocolVersion: TLSv1_3}}
  proxy:
    networking: {trafficControl: {outbound: {policy: REGISTRY_ONLY}}}
  meshConfig:
    extensionProviders:
    - {name: authz, envoyExtAuthzHttp: {service: ext-authz.foo.svc.cluster.local, port: 8000}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-basic, namespace: istio-system}
data:
  mesh: |
    trustDomain: cm.example
    outboundTrafficPolicy: {mode: ALLOW_ANY}
    extensionProviders:
    - {name: other, envoyExtAuthzGrpc: {service: ext-authz.foo.svc.cluster.local, port: 9000}}
`;

const WORKLOADS = `apiVersion: v1
kind: Namespace
metadata: {name: foo}
---
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: foo}
spec: {selector: {app: httpbin}, ports: [{name: http, port: 8000}]}
---
apiVersion: v1
kind: Pod
metadata: {name: httpbin-1, namespace: foo, labels: {app: httpbin}}
spec: {serviceAccountName: httpbin, containers: [{name: httpbin, image: kennethreitz/httpbin, ports: [{containerPort: 8000}]}]}
status: {podIP: 127.0.0.1}
---
apiVersion: v1
kind: Service
metadata: {name: ext-authz, namespace: foo}
spec: {selector: {app: ext-authz}, ports: [{name: http, port: 8000}, {name: grpc, port: 9000}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: from-smcp, namespace: foo}
spec:
  selector: {matchLabels: {app: httpbin}}
  action: CUSTOM
  provider: {name: authz}
  rules: [{to: [{operation: {paths: ["/headers"]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: unknown-provider, namespace: foo}
spec:
  selector: {matchLabels: {app: nothing-here}}
  action: CUSTOM
  provider: {name: missing}
  rules: [{}]
`;

test('analyze, the control plane and the console agree on a mesh config split between the ServiceMeshControlPlane and the istio ConfigMap', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-meshconfig-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'mesh.yaml'), MESH);
  writeFileSync(join(dir, 'workloads.yaml'), WORKLOADS);

  // trellis analyze: the provider only the control plane declares is known; the one nobody declares is reported.
  const analyze = spawnSync(process.execPath, [bin, 'analyze', dir, '-o', 'json'], { encoding: 'utf8', timeout: 30_000 });
  const messages = JSON.parse(analyze.stdout) as Array<{ code: string; resource: { name: string } | null }>;
  const unknownProvider = messages.filter((m) => m.code === 'TRL0105').map((m) => m.resource?.name);
  assert.deepEqual(unknownProvider, ['unknown-provider'], analyze.stdout);

  // The control plane: a sidecar for httpbin gets what the same precedence says.
  const store = await DirectoryStore.open(dir, { log: () => {} });
  const cp = new ControlPlane({ store, debounceMs: 10, log: () => {} });
  cleanups.push(() => cp.close());
  const xds = await cp.listen('127.0.0.1', 0);
  let snapshot: XdsSnapshot | undefined;
  const client = new AdsClient({
    address: `127.0.0.1:${xds}`,
    node: { id: nodeId('sidecar', '127.0.0.1', 'httpbin-1', 'foo'), cluster: 'httpbin', metadata: { NAMESPACE: 'foo', LABELS: { app: 'httpbin' }, NAME: 'httpbin-1', INSTANCE_IPS: '127.0.0.1' } },
    log: () => {},
    completeTimeoutMs: 300,
    onUpdate: (s) => void (snapshot = s),
  });
  client.start();
  cleanups.push(() => client.close());
  await waitFor(() => snapshot !== undefined, 10_000, 'the sidecar configured');
  const listeners = snapshot!.listeners;
  const virtualOutbound = listeners.find((l) => l.name === 'virtualOutbound')!;
  assert.equal(virtualOutbound.defaultFilterChain?.name, 'PassthroughCluster', 'outboundTrafficPolicy ALLOW_ANY (ConfigMap) over REGISTRY_ONLY (control plane)');
  const inbound = listeners.find((l) => l.name === '127.0.0.1_8000') as Listener;
  const tls = inbound.filterChains!.map((c) => configOf(c.transportSocket?.typedConfig, TYPE.downstreamTls)).find((c) => c);
  assert.equal(tls?.commonTlsContext?.tlsParams?.tlsMinimumProtocolVersion, 'TLSv1_3', 'minimum TLS from the control plane (the ConfigMap is silent)');
  const httpFilters = (c: { filters?: TypedExtension[] }) => configOf(c.filters?.[0]?.typedConfig, TYPE.hcm)?.httpFilters?.map((f) => f.name) ?? [];
  assert.ok(httpFilters(inbound.filterChains![0]!).includes('envoy.filters.http.ext_authz'), 'the control plane\'s provider is used: ext_authz, not deny-all');
  const toAuthz = snapshot!.clusters.find((c) => c.name === 'outbound|8000||ext-authz.foo.svc.cluster.local');
  const sans = configOf(toAuthz?.transportSocket?.typedConfig, TYPE.upstreamTls)?.commonTlsContext?.combinedValidationContext?.defaultValidationContext?.matchSubjectAltNames;
  assert.equal(sans, undefined, 'no sidecar behind ext-authz: no mTLS to it');
  const toHttpbin = snapshot!.clusters.find((c) => c.name === 'outbound|8000||httpbin.foo.svc.cluster.local');
  const httpbinSans = configOf(toHttpbin?.transportSocket?.typedConfig, TYPE.upstreamTls)?.commonTlsContext?.combinedValidationContext?.defaultValidationContext?.matchSubjectAltNames;
  assert.deepEqual(httpbinSans, [{ exact: 'spiffe://cm.example/ns/foo/sa/httpbin' }], 'trust domain from the ConfigMap');

  // The console shows the same settings.
  const console = new ConsoleServer({ mesh: new YamlMeshSource({ configDir: dir }), host: '127.0.0.1', port: 0, log: () => {} });
  const url = `http://127.0.0.1:${await console.listen()}`;
  cleanups.push(() => console.close());
  const info = (await (await fetch(`${url}/api/controlplane`)).json()) as { mesh: { trustDomain: string; minProtocolVersion: string; rootNamespace: string } };
  assert.equal(info.mesh.trustDomain, 'cm.example');
  assert.equal(info.mesh.minProtocolVersion, 'TLSV1_3');
  assert.equal(info.mesh.rootNamespace, 'istio-system');
});
