// `trellis controlplane` as a separate process, a watched directory with Bookinfo-shaped config, and a real proxyless
// gRPC client (@grpc/grpc-js-xds) that follows routing changes written to the directory while everything runs:
// subsets, a weighted split, a header match, fault injection, and a bad edit that leaves the last good config serving.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { startEcho } from '../xds/testing/raw-echo.js';
import { startControlPlane } from '../cli/testing/controlplane-process.js';

const bin = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));
const HOST = 'echo.default.svc.cluster.local';

const workloads = (v1: number, v2: number) => `apiVersion: v1
kind: Service
metadata: {name: echo, labels: {app: echo}}
spec:
  selector: {app: echo}
  ports:
  - {name: grpc, port: 7070, targetPort: grpc}
---
apiVersion: v1
kind: Pod
metadata: {name: echo-v1-abc, labels: {app: echo, version: v1}}
spec:
  containers:
  - {name: echo, image: echo, ports: [{name: grpc, containerPort: ${v1}}]}
status: {podIP: 127.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: echo-v2-def, labels: {app: echo, version: v2}}
spec:
  containers:
  - {name: echo, image: echo, ports: [{name: grpc, containerPort: ${v2}}]}
status: {podIP: 127.0.0.1}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo}
spec:
  host: echo
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

const vs = (http: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo}
spec:
  hosts: [echo]
  http:
${http}`;

async function until(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('trellis controlplane drives a proxyless gRPC client through live routing changes from its watched directory', { timeout: 90_000 }, async () => {
  const v1 = await startEcho('v1');
  const v2 = await startEcho('v2');
  const dir = await mkdtemp(join(tmpdir(), 'trellis-cp-'));
  await writeFile(join(dir, 'echo.yaml'), workloads(v1.port, v2.port));
  const cp = await startControlPlane(['--config-dir', dir]);
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${cp.xds}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'sidecar~127.0.0.1~client-7f9.default~default.svc.cluster.local', cluster: 'client', locality: {}, metadata: { GENERATOR: 'grpc', NAMESPACE: 'default', LABELS: { app: 'client' } } },
  });
  const xds = await import('@grpc/grpc-js-xds');
  xds.register();
  const client = new grpc.Client(`xds:///${HOST}:7070`, grpc.credentials.createInsecure());
  const call = (headers: Record<string, string> = {}) =>
    new Promise<string>((resolve) => {
      const md = new grpc.Metadata();
      for (const [k, v] of Object.entries(headers)) md.set(k, v);
      client.makeUnaryRequest('/test.Echo/Echo', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), md, { deadline: Date.now() + 5000 }, (err, res) => resolve(err ? `error ${grpc.status[err.code]}` : res!.toString()));
    });
  const sample = async (n: number, headers?: Record<string, string>) => {
    const seen: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const r = await call(headers);
      seen[r] = (seen[r] ?? 0) + 1;
    }
    return seen;
  };
  const only = (answer: string, headers?: Record<string, string>) => async () => {
    const s = await sample(10, headers);
    return Object.keys(s).length === 1 && s[answer] === 10;
  };
  try {
    // No VirtualService: the service's endpoints are both pods.
    await until('both versions answer', async () => {
      const s = await sample(20);
      return !!s.v1 && !!s.v2;
    });

    // All traffic to the v1 subset.
    await writeFile(join(dir, 'vs.yaml'), vs('  - route:\n    - destination: {host: echo, subset: v1}\n'));
    await until('only v1', only('v1'));

    // A weighted split, 20/80.
    await writeFile(join(dir, 'vs.yaml'), vs('  - route:\n    - destination: {host: echo, subset: v1}\n      weight: 20\n    - destination: {host: echo, subset: v2}\n      weight: 80\n'));
    await until('the split', async () => {
      const s = await sample(100);
      return (s.v2 ?? 0) > 60 && (s.v1 ?? 0) > 5;
    });

    // A header match: jason goes to v2, everyone else to v1.
    await writeFile(join(dir, 'vs.yaml'), vs('  - match:\n    - headers:\n        end-user: {exact: jason}\n    route:\n    - destination: {host: echo, subset: v2}\n  - route:\n    - destination: {host: echo, subset: v1}\n'));
    await until('header routing', async () => (await only('v2', { 'end-user': 'jason' })()) && (await only('v1')()));

    // Fault injection: abort every request of users marked for it with 503 (gRPC UNAVAILABLE).
    await writeFile(
      join(dir, 'vs.yaml'),
      vs('  - match:\n    - headers:\n        x-fault: {exact: "yes"}\n    fault:\n      abort:\n        httpStatus: 503\n        percentage: {value: 100}\n    route:\n    - destination: {host: echo, subset: v1}\n  - route:\n    - destination: {host: echo, subset: v1}\n'),
    );
    await until('the fault', only('error UNAVAILABLE', { 'x-fault': 'yes' }));
    assert.ok(await only('v1')());

    // A bad edit is rejected with its position; the last good config keeps serving.
    await writeFile(join(dir, 'vs.yaml'), vs('  - timeout: soon\n    route:\n    - destination: {host: echo, subset: v2}\n'));
    await until('the rejection', async () => /rejected Error \[IST0106\] \(VirtualService default\/echo vs\.yaml:\d+:\d+\)/.test(cp.stderr()));
    assert.ok(await only('v1')(), 'the previous routing still applies');
    const configz = (await (await fetch(`http://127.0.0.1:${cp.debug}/debug/configz`)).json()) as { rejections: Array<{ source: string }> };
    assert.equal(configz.rejections.length, 1);

    // Status as istioctl shows it.
    const status = spawnSync(process.execPath, [bin, 'proxy-status', '--controlplane', `http://127.0.0.1:${cp.debug}`], { encoding: 'utf8' });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /^NAME\s+CLUSTER\s+CDS\s+LDS\s+EDS\s+RDS\s+ECDS\s+CONTROL PLANE\s+VERSION$/m);
    assert.match(status.stdout, /^client-7f9\.default\s+Kubernetes\s+SYNCED\s+SYNCED\s+SYNCED\s+SYNCED\s+IGNORED/m);
    const routes = spawnSync(process.execPath, [bin, 'proxy-config', 'routes', 'client-7f9', '--controlplane', `http://127.0.0.1:${cp.debug}`], { encoding: 'utf8' });
    assert.equal(routes.status, 0, routes.stderr);
    assert.match(routes.stdout, /echo\.default\.svc\.cluster\.local:7070\s+echo\.default\.svc\.cluster\.local:7070\s+\*\s+\/\*\s+echo\.default/);
    const clusters = spawnSync(process.execPath, [bin, 'proxy-config', 'clusters', 'client-7f9', '--controlplane', `http://127.0.0.1:${cp.debug}`], { encoding: 'utf8' });
    assert.match(clusters.stdout, /echo\.default\.svc\.cluster\.local\s+7070\s+v2\s+outbound\s+EDS\s+echo\.default/);
  } finally {
    client.close();
    cp.child.kill('SIGTERM');
    await new Promise((r) => cp.child.once('exit', r));
    v1.server.forceShutdown();
    v2.server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  }
});
