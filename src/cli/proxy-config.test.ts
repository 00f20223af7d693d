// `trellis proxy-config` as a user runs it, against a real proxy's admin port: istioctl's tables, filters, errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AdminServer } from '../proxy/admin/admin-server.js';
import { cla, edsCluster, httpListener, routeConfig, routeTo, startProxy, tcpListener, vhost } from '../proxy/testing.js';

const bin = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));

function trellis(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('proxy-config prints clusters, listeners, routes and endpoints of a running proxy like istioctl', async () => {
  const reviews = 'outbound|9080|v1|reviews.default.svc.cluster.local';
  const istio = (kind: string, name: string) => ({ filterMetadata: { istio: { config: `/apis/networking.istio.io/v1/namespaces/default/${kind}/${name}` } } });
  const { proxy } = await startProxy({
    listeners: [httpListener('0.0.0.0_9080', '9080'), tcpListener('0.0.0.0_3306', 'outbound|3306||mysql.default.svc.cluster.local')],
    routes: [
      routeConfig('9080', [
        vhost('reviews.default.svc.cluster.local:9080', ['reviews.default.svc.cluster.local', 'reviews', 'reviews.default', 'reviews.default.svc'], [
          { ...routeTo(reviews, { prefix: '/' }), metadata: istio('virtual-service', 'reviews') },
        ]),
      ]),
    ],
    clusters: [edsCluster(reviews, { metadata: istio('destination-rule', 'reviews') }), edsCluster('outbound|3306||mysql.default.svc.cluster.local')],
    endpoints: [cla(reviews, [{ port: 19080, address: '127.0.0.7' }])],
  });
  const admin = new AdminServer(proxy, { port: 0, address: '127.0.0.1' });
  const a = await admin.start();
  try {
    const at = `127.0.0.1:${a.port}`;
    const clusters = await trellis(['proxy-config', 'clusters', '--admin', at]);
    assert.equal(clusters.code, 0, clusters.stderr);
    const lines = clusters.stdout.trim().split('\n');
    assert.match(lines[0]!, /^SERVICE FQDN\s+PORT\s+SUBSET\s+DIRECTION\s+TYPE\s+DESTINATION RULE$/);
    assert.ok(lines.some((l) => /^reviews\.default\.svc\.cluster\.local\s+9080\s+v1\s+outbound\s+EDS\s+reviews\.default$/.test(l)), clusters.stdout);
    assert.ok(lines.some((l) => /^mysql\.default\.svc\.cluster\.local\s+3306\s+-\s+outbound\s+EDS$/.test(l)), clusters.stdout);

    const filtered = await trellis(['proxy-config', 'clusters', '--admin', at, '--port', '3306']);
    assert.equal(filtered.stdout.trim().split('\n').length, 2);

    const listeners = await trellis(['proxy-config', 'listeners', '--admin', at]);
    assert.match(listeners.stdout, /127\.0\.0\.1\s+0\s+ALL\s+Route: 9080/);
    assert.match(listeners.stdout, /ALL\s+Cluster: outbound\|3306\|\|mysql\.default\.svc\.cluster\.local/);

    const routes = await trellis(['proxy-config', 'routes', '--admin', at]);
    assert.match(routes.stdout, /^9080\s+reviews\.default\.svc\.cluster\.local:9080\s+reviews, reviews\.default \+ 2 more\.\.\.\s+\/\*\s+reviews\.default$/m);

    const endpoints = await trellis(['proxy-config', 'endpoints', '--admin', at]);
    assert.match(endpoints.stdout, /^127\.0\.0\.7:19080\s+HEALTHY\s+OK\s+outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local$/m);

    const bad = await trellis(['proxy-config', 'secrets', '--admin', at]);
    assert.equal(bad.code, 2);
    const down = await trellis(['proxy-config', 'clusters', 'productpage', '--controlplane', 'http://127.0.0.1:1']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:1 .*trellis controlplane/);
  } finally {
    await admin.close();
    await proxy.close();
  }
});
