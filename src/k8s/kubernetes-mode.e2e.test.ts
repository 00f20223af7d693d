// Kubernetes mode against a genuine kube-apiserver: the same objects in a directory and in the cluster give the same
// xDS; `trellis controlplane --kubeconfig` drives a proxyless @grpc/grpc-js-xds client and a Trellis proxy through
// changes made with kubectl; and the control plane loses and duplicates nothing when its watches are cut, the API
// server restarts and its resourceVersions have expired (410 Gone) meanwhile.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { ControlPlane } from '../controlplane/control-plane.js';
import { DirectoryStore } from '../controlplane/store/directory-store.js';
import { MeshConfigGenerator } from '../controlplane/translate/generator.js';
import type { ProxyNode } from '../xds/resource.js';
import { KubeClient } from './client/kube-client.js';
import { X509Certificate } from 'node:crypto';
import { requestCertificate } from '../ca/ca-api.js';
import { createCsr } from '../ca/ca.js';
import { installCrds } from './install-crds.js';
import { openKubernetesSource } from './kubernetes-source.js';
import { TcpRelay } from './testing/tcp-relay.js';
import { TestCluster, testClusterUnavailable } from './testing/test-cluster.js';
import { startEcho } from '../xds/testing/raw-echo.js';
import { startControlPlane } from '../cli/testing/controlplane-process.js';
import { until as waitUntil } from './testing/until.js';

const skip = await testClusterUnavailable();
const bin = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));
const HOST = 'echo.default.svc.cluster.local';

const workloads = (v1: number, v2: number) => `apiVersion: v1
kind: ServiceAccount
metadata: {name: echo, namespace: default}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default, labels: {app: echo}}
spec:
  clusterIP: 10.96.0.50
  selector: {app: echo}
  ports:
  - {name: grpc, port: 7070, targetPort: grpc}
---
apiVersion: v1
kind: Pod
metadata: {name: echo-v1-abc, namespace: default, labels: {app: echo, version: v1}}
spec:
  serviceAccountName: echo
  containers:
  - {name: echo, image: echo, ports: [{name: grpc, containerPort: ${v1}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: echo-v2-def, namespace: default, labels: {app: echo, version: v2}}
spec:
  serviceAccountName: echo
  containers:
  - {name: echo, image: echo, ports: [{name: grpc, containerPort: ${v2}}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: default}
spec:
  host: echo
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

const routeTo = (name: string, subset: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: default}
spec:
  hosts: [echo]
  http:
  - route:
    - destination: {host: echo, subset: ${subset}}
`;

/** A Service without a selector whose endpoints an EndpointSlice gives, at the version Kubernetes 1.20 serves. */
const LEGACY = `apiVersion: v1
kind: Service
metadata: {name: legacy, namespace: default}
spec:
  clusterIP: 10.96.0.60
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: {name: legacy-1, namespace: default, labels: {kubernetes.io/service-name: legacy}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
- {addresses: [10.1.0.1], conditions: {ready: true}}
`;

/** What kubectl would show of a pod once a kubelet ran it: the status the registry reads. */
const RUNNING = '{"status":{"phase":"Running","podIP":"127.0.0.1","podIPs":[{"ip":"127.0.0.1"}]}}';

let step = (_what: string) => {};

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  step(what);
  await waitUntil(what, cond, ms);
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    step(`${child.spawnargs.slice(1, 3).join(' ')} (pid ${child.pid}) ignored SIGTERM`);
    child.kill('SIGKILL');
  }, 10_000);
  await gone;
  clearTimeout(timer);
}

/** Every resource of a generated config, by type URL, as comparable JSON (names sorted). */
function comparable(resources: Map<string, Array<{ name: string; value: unknown }>>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [type, list] of [...resources].sort(([a], [b]) => a.localeCompare(b))) out[type] = [...list].sort((a, b) => a.name.localeCompare(b.name)).map((r) => ({ name: r.name, value: r.value }));
  return out;
}

describe('Kubernetes mode', { skip }, () => {
  let cluster: TestCluster;
  let echo: Array<{ port: number; server: grpc.Server }> = [];
  const dirs: string[] = [];

  before(async () => {
    cluster = await TestCluster.start();
    const client = await KubeClient.fromKubeconfig(cluster.kubeconfig);
    await installCrds(client);
    client.close();
    echo = [await startEcho('v1'), await startEcho('v2')];
    cluster.kubectl(['apply', '-f', '-'], workloads(echo[0]!.port, echo[1]!.port));
    for (const pod of ['echo-v1-abc', 'echo-v2-def']) cluster.kubectl(['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', RUNNING]);
  });

  after(async () => {
    for (const e of echo) e.server.forceShutdown();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await cluster?.stop();
  });

  test('the same objects in a directory and in the cluster give the same xDS to a sidecar and a gRPC client', async () => {
    cluster.kubectl(['apply', '-f', '-'], routeTo('echo', 'v2'));
    cluster.kubectl(['apply', '-f', '-'], LEGACY);
    // The directory holds what was applied, the pods' status as the test wrote it, and the Service the API server
    // makes for itself (default/kubernetes), so both sides have the same objects.
    const running = 'status: {phase: Running, podIP: 127.0.0.1, podIPs: [{ip: 127.0.0.1}]}\n';
    const pods = workloads(echo[0]!.port, echo[1]!.port).replace(/(kind: Pod\n[\s\S]*?containerPort: \d+\}\]\}\n)/g, `$1${running}`);
    const apiService = cluster.kubectl(['get', 'service', 'kubernetes', '-o', 'yaml']);
    const dir = mkdtempSync(join(tmpdir(), 'trellis-k8s-dir-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'echo.yaml'), `${pods}---\n${routeTo('echo', 'v2')}---\n${LEGACY}---\n${apiService}`);
    const directory = await DirectoryStore.open(dir, { pollMs: 0, log: () => {} });
    assert.deepEqual(directory.rejections(), []);
    const source = await openKubernetesSource({ kubeconfig: cluster.kubeconfig, namespace: 'istio-system', log: () => {} });
    const fromDir = new ControlPlane({ store: directory, log: () => {} });
    const fromCluster = new ControlPlane({ store: source.store, log: () => {} });
    try {
      await until('the cluster store has the route', () => source.store.list().some((r) => r.kind === 'VirtualService'));
      const nodes: ProxyNode[] = [
        { id: 'sidecar~127.0.0.1~echo-v1-abc.default~default.svc.cluster.local', cluster: 'echo.default', metadata: { NAMESPACE: 'default', LABELS: { app: 'echo', version: 'v1' }, SERVICE_ACCOUNT: 'echo' } },
        { id: 'sidecar~127.0.0.1~client-1.default~default.svc.cluster.local', cluster: 'client', metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' } },
      ];
      for (const node of nodes) {
        const a = comparable(new MeshConfigGenerator(fromDir.pushContext).generate(node));
        const b = comparable(new MeshConfigGenerator(fromCluster.pushContext).generate(node));
        assert.ok(Object.values(a).flat().length > 5, 'the directory gives a real config');
        assert.deepEqual(b, a, `xDS for ${node.id}`);
        const legacy = b['type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment']!.find((r) => (r as { name: string }).name === 'outbound|80||legacy.default.svc.cluster.local');
        assert.match(JSON.stringify(legacy), /"10\.1\.0\.1".*8080/, 'the v1beta1 EndpointSlice gives the endpoint');
      }
    } finally {
      await fromCluster.close();
      await fromDir.close();
      cluster.kubectl(['delete', 'virtualservice', 'echo']);
      cluster.kubectl(['delete', '-f', '-'], LEGACY);
    }
  });

  test('kubectl changes reach a proxyless gRPC client and a Trellis proxy; cut watches, an API server restart and 410 lose nothing', { timeout: 180_000 }, async (t) => {
    const t0 = Date.now();
    step = (what) => t.diagnostic(`${Date.now() - t0} ms: ${what}`);
    // The control plane reaches the API server through a relay the test can cut.
    const relay = await TcpRelay.start('127.0.0.1', Number(new URL(cluster.server).port));
    const dir = mkdtempSync(join(tmpdir(), 'trellis-k8s-cp-'));
    dirs.push(dir);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, readFileSync(cluster.kubeconfig, 'utf8').replace(cluster.server, `https://127.0.0.1:${relay.port}`));
    const cp = await startControlPlane(['--kubeconfig', kubeconfig, '--state-dir', dir, '--webhook-port', '0', '--ca-port', '0']);
    let proxy: ChildProcess | undefined;
    let client: grpc.Client | undefined;
    let passed = false;
    try {
      const debug = `http://127.0.0.1:${cp.debug}`;
      process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
        xds_servers: [{ server_uri: `127.0.0.1:${cp.xds}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
        node: { id: 'sidecar~127.0.0.1~client-7f9.default~default.svc.cluster.local', cluster: 'client', locality: {}, metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' } },
      });
      const xds = await import('@grpc/grpc-js-xds');
      xds.register();
      client = new grpc.Client(`xds:///${HOST}:7070`, grpc.credentials.createInsecure());
      const call = () =>
        new Promise<string>((resolve) =>
          client!.makeUnaryRequest('/test.Echo/Echo', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, res) => resolve(err ? `error ${grpc.status[err.code]}` : res!.toString())),
        );
      const only = (answer: string) => async () => {
        for (let i = 0; i < 10; i++) if ((await call()) !== answer) return false;
        return true;
      };
      const both = async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 30 && seen.size < 2; i++) seen.add(await call());
        return seen.has('v1') && seen.has('v2');
      };

      // A Trellis sidecar for a client pod, configured as an injected one is: Istio's pod environment and the projected
      // istio-ca token (a TokenRequest for its service account), which the CA checks by TokenReview before it signs.
      const caPort = Number(/CA API on [^:]+:(\d+)/.exec(cp.started)?.[1]);
      const caRootFile = /--ca-root: ([^)]+)\)/.exec(cp.started)![1]!;
      const tokenFile = join(dir, 'istio-token');
      const tokenApi = await KubeClient.fromKubeconfig(cluster.kubeconfig);
      try {
        const sa = await tokenApi.request<{ status: { token: string } }>('POST', '/api/v1/namespaces/default/serviceaccounts/echo/token', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['istio-ca'], expirationSeconds: 3600 } } });
        writeFileSync(tokenFile, sa.status.token, { mode: 0o600 });
      } finally {
        tokenApi.close();
      }
      const podEnv = { POD_NAME: 'sleep-1', POD_NAMESPACE: 'default', INSTANCE_IP: '127.0.0.77', SERVICE_ACCOUNT: 'echo', CA_ADDR: `127.0.0.1:${caPort}` };
      const { TRELLIS_CA_TOKEN: _unused, ...env } = process.env;
      proxy = spawn(process.execPath, [bin, 'proxy', '--xds', `127.0.0.1:${cp.xds}`, '--labels', 'app=sleep', '--admin-port', '0', '--ca-root', caRootFile, '--ca-token-file', tokenFile], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, ...podEnv } });
      let proxyLog = '';
      proxy.stderr!.on('data', (c) => (proxyLog += c));
      let adminPort = 0;
      await until('the proxy admin port', () => !!(adminPort = Number(/admin listening on [^:]+:(\d+)/.exec(proxyLog)?.[1] ?? 0)));
      await until('the proxy got its certificate with the token file', () => proxyLog.includes('ca: certificate for spiffe://cluster.local/ns/default/sa/echo'));
      const proxyRoute = async (): Promise<string> => {
        const dump = await fetch(`http://127.0.0.1:${adminPort}/config_dump`, { signal: AbortSignal.timeout(3000) }).then((r) => r.text(), () => '');
        // The route's target (a DestinationRule's subsets are clusters whatever the routes say).
        const m = /"cluster": "outbound\|7070\|(v\d)?\|echo\.default\.svc\.cluster\.local"/.exec(dump);
        return m ? (m[1] ?? 'all') : '';
      };

      await until('both versions answer with no route', both);
      await until('the proxy has the service', async () => (await proxyRoute()) === 'all');

      cluster.kubectl(['apply', '-f', '-'], routeTo('echo', 'v1'));
      await until('only v1 after kubectl apply', only('v1'));
      await until('the proxy routes to v1', async () => (await proxyRoute()) === 'v1');

      // An update the API server accepts (its schema checks shapes) but Trellis's validation rejects: named with its
      // API path and field, and the last good route stays.
      cluster.kubectl(['apply', '-f', '-'], routeTo('echo', 'v2').replace('  - route:', '  - timeout: 5 minutes\n    route:'));
      await until('the bad update is rejected by name and field', () => /rejected \/apis\/networking\.istio\.io\/v1\/namespaces\/default\/virtualservices\/echo: .*spec\.http\[0\]\.timeout/.test(cp.stderr()));
      assert.ok(await only('v1')(), 'the last good route stays in force');

      cluster.kubectl(['apply', '-f', '-'], routeTo('echo', 'v2'));
      await until('only v2 after the update', only('v2'));
      await until('the proxy routes to v2', async () => (await proxyRoute()) === 'v2');

      cluster.kubectl(['delete', 'virtualservice', 'echo']);
      await until('both again after kubectl delete', both);
      await until('the proxy routes to the service again', async () => (await proxyRoute()) === 'all');

      // Its injection webhook is registered: a pod created in a labelled namespace gets a sidecar.
      cluster.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: injected, labels: {istio-injection: enabled}}\n');
      await until('the control plane sees the labelled namespace', async () => ((await (await fetch(`${debug}/debug/configz`)).json()) as { resources: Array<{ kind: string; name: string }> }).resources.some((r) => r.kind === 'Namespace' && r.name === 'injected'));
      cluster.kubectl(['run', 'sleep', '-n', 'injected', '--image', 'curlimages/curl', '--restart', 'Never', '--overrides', '{"spec":{"serviceAccountName":"default"}}']);
      const containers = cluster.kubectl(['get', 'pod', 'sleep', '-n', 'injected', '-o', 'jsonpath={.spec.containers[*].name}']);
      assert.equal(containers, 'sleep istio-proxy', 'trellis controlplane --kubeconfig injects through its webhook');

      // Its CA takes the pod's istio-ca service-account token (TokenReview), as an injected sidecar sends it.
      const caRoot = readFileSync(caRootFile, 'utf8');
      const api = await KubeClient.fromKubeconfig(cluster.kubeconfig);
      try {
        const sa = await api.request<{ status: { token: string } }>('POST', '/api/v1/namespaces/default/serviceaccounts/echo/token', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['istio-ca'], expirationSeconds: 3600 } } });
        const identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'echo' };
        const chain = await requestCertificate({ address: `127.0.0.1:${caPort}`, rootPem: caRoot, token: sa.status.token, csrPem: (await createCsr(identity)).csrPem, ttlSeconds: 3600, serverName: 'istiod.istio-system.svc' });
        assert.equal(new X509Certificate(chain[0]!).subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/echo');
      } finally {
        api.close();
      }

      // Cut the control plane off; change the cluster; restart the API server (its watch cache starts over, so the
      // control plane's resourceVersions are too old: 410); then let the control plane back in.
      step('cutting the control plane off');
      relay.sever();
      cluster.kubectl(['apply', '-f', '-'], routeTo('echo-gap', 'v1'));
      cluster.kubectl(['delete', 'destinationrule', 'echo']);
      cluster.kubectl(['apply', '-f', '-'], workloads(echo[0]!.port, echo[1]!.port).split('---\n').filter((d) => d.includes('kind: DestinationRule')).join(''));
      step('stopping the API server');
      await cluster.stopApiServer();
      step('API server stopped');
      // The control plane has not seen echo-gap: both versions still answer.
      assert.match(await call(), /^v[12]$/, 'with the API server gone the last config serves');
      step('starting the API server');
      await cluster.startApiServer();
      relay.restore();
      await until('the route made during the gap applies', only('v1'), 60_000);
      await until('an expired watch was listed again', () => /expired \(410 Gone\); listing again/.test(cp.stderr()), 60_000);

      // Exactly the cluster's objects, each once.
      const configz = (await (await fetch(`${debug}/debug/configz`)).json()) as { resources: Array<{ kind: string; namespace: string; name: string }> };
      const keys = configz.resources.filter((r) => r.namespace === 'default').map((r) => `${r.kind}/${r.name}`);
      assert.deepEqual(new Set(keys).size, keys.length, `no duplicates: ${keys.join(', ')}`);
      assert.deepEqual(
        keys.filter((k) => /^(VirtualService|DestinationRule|Pod|Service)\//.test(k)).sort(),
        ['DestinationRule/echo', 'Pod/echo-v1-abc', 'Pod/echo-v2-def', 'Service/echo', 'Service/kubernetes', 'VirtualService/echo-gap'],
      );

      // And it keeps following the cluster.
      cluster.kubectl(['delete', 'virtualservice', 'echo-gap']);
      await until('both after the last delete', both);
      passed = true;
    } finally {
      if (!passed) t.diagnostic(`control plane log:\n${cp.stderr().slice(-4000)}`);
      client?.close();
      await stopChild(proxy);
      await stopChild(cp.child);
      await relay.close();
    }
  });
});
