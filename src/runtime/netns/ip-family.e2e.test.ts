// Bookinfo in IPv6 single stack and in dual stack (`trellis up --network netns --ip-family ipv6|dual`), from Istio's
// unchanged manifests: pods and services get ULA addresses, every hop of a request in IPv6 single stack is IPv6 (the
// pods have no IPv4 address), the proxies' per-host statistics and Prometheus' targets name the IPv6 peers, mutual TLS
// holds in each family, and the console's graph is drawn from those metrics.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { istioSamplesDir } from '../../samples.js';
import { LocalMesh } from '../local-mesh.js';
import { netnsAvailability } from '../network-mode.js';
import type { IpFamily } from './address-plan.js';

const netns = netnsAvailability();
const BOOKINFO = join(istioSamplesDir(), 'bookinfo');

async function until(what: string, cond: () => Promise<boolean>, logs: string[], ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Per-host request counts of one cluster from a proxy's /clusters (Envoy's `<cluster>::<host>::rq_total::<n>`). */
async function hostRequests(admin: string, cluster: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${admin}/clusters`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${cluster}::`) || !line.includes('::rq_total::')) continue;
    const host = line.slice(cluster.length + 2, line.indexOf('::rq_total::'));
    out.set(host, Number(line.slice(line.lastIndexOf('::') + 2)));
  }
  return out;
}

const isV6Host = (hostPort: string) => isIPv6(hostPort.replace(/^\[/, '').replace(/\]?:\d+$/, ''));

function bookinfoIn(family: IpFamily): void {
  describe(`Bookinfo in ${family === 'ipv6' ? 'IPv6 single stack' : 'dual stack'}`, { skip: netns.ok ? false : netns.reason }, () => {
    let dir: string;
    let mesh: LocalMesh;
    const logs: string[] = [];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `trellis-${family}-`));
      for (const f of ['platform/kube/bookinfo.yaml', 'networking/bookinfo-gateway.yaml', 'networking/destination-rule-all.yaml']) copyFileSync(join(BOOKINFO, f), join(dir, f.split('/').pop()!));
      mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, caPort: 0, addressBase: family === 'ipv6' ? 50 : 51, prometheusPort: 0, consolePort: 0, scrapeInterval: '1s', network: 'netns', ipFamily: family, log: (l) => logs.push(l) });
      await mesh.waitReady(60_000);
    });

    after(async () => {
      await mesh?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('pods and ClusterIPs in the family; productpage serves reviews v1, v2 and v3 through the ingress', async () => {
      for (const p of mesh.podPlans()) {
        if (family === 'ipv6') assert.ok(p.podIPs.length === 1 && isIPv6(p.podIPs[0]!) && p.podIPs[0]!.startsWith('fd'), `${p.name}: ${p.podIPs}`);
        else assert.ok(p.podIPs.length === 2 && isIPv4(p.podIPs[0]!) && isIPv6(p.podIPs[1]!), `${p.name}: ${p.podIPs}`);
      }
      const reviews = mesh.controlPlane.registry.snapshot().service('reviews.default.svc.cluster.local')!;
      assert.deepEqual(reviews.addresses.map((a) => (isIPv6(a) ? 6 : 4)), family === 'ipv6' ? [6] : [4, 6]);
      const page = await (await fetch(`${mesh.ingressUrl}/productpage`)).text();
      assert.match(page, /The Comedy of Errors/);
      const seen = new Set<string>();
      await until('reviews v1, v2 and v3', async () => {
        const body = (await (await fetch(`${mesh.ingressUrl}/api/v1/products/0/reviews`)).json()) as { podname?: string };
        seen.add(/^reviews-(v\d)/.exec(body.podname ?? '')?.[1] ?? '');
        return ['v1', 'v2', 'v3'].every((v) => seen.has(v));
      }, logs);
    });

    test(family === 'ipv6' ? 'every hop is IPv6 (no pod has an IPv4 address); per-host stats and Prometheus name IPv6 peers; mutual TLS' : 'endpoints in both families carry traffic: per-host stats show IPv4 and IPv6 peers; mutual TLS', async () => {
      const productpage = mesh.podPlans().find((p) => p.name.startsWith('productpage-'))!;
      if (family === 'ipv6') {
        const ns = mesh.net!.namespaceOf(`${productpage.namespace}/${productpage.name}`)!;
        assert.equal(execFileSync('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }).trim(), '', 'no IPv4 on the pod network');
      }
      for (let i = 0; i < 30; i++) await (await fetch(`${mesh.ingressUrl}/productpage`)).text();
      const admin = `${productpage.podIP.includes(':') ? `[${productpage.podIP}]` : productpage.podIP}:15000`;
      const hosts = await hostRequests(admin, 'outbound|9080||reviews.default.svc.cluster.local');
      const used = [...hosts].filter(([, n]) => n > 0).map(([h]) => h);
      assert.ok(used.some(isV6Host), `IPv6 peers of productpage's sidecar: ${JSON.stringify([...hosts])}`);
      if (family === 'ipv6') assert.ok(used.every(isV6Host), JSON.stringify(used));
      else assert.ok(used.some((h) => !isV6Host(h)), `and IPv4 ones: ${JSON.stringify(used)}`);
      // Prometheus scrapes every sidecar at its primary address, and the mesh traffic was mutual TLS.
      const prom = mesh.prometheus!.url;
      await until('Prometheus to see mutual TLS requests at reviews', async () => {
        const r = (await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent('sum(istio_requests_total{reporter="destination",destination_app="reviews",connection_security_policy="mutual_tls"}) by (instance)')}`)).json()) as { data: { result: Array<{ metric: { instance: string } }> } };
        return r.data.result.length > 0 && r.data.result.every((x) => (family === 'ipv6' ? x.metric.instance.startsWith('[fd') : /^10\./.test(x.metric.instance)));
      }, logs);
    });

    test('the console draws the traffic to reviews with mutual TLS from the metrics Prometheus scraped', async () => {
      type Graph = { elements: { nodes: Array<{ data: { id: string; app?: string } }>; edges: Array<{ data: { source: string; target: string; isMTLS?: number } }> } };
      await until('the console graph to show productpage → reviews over mTLS', async () => {
        await fetch(`${mesh.ingressUrl}/productpage`);
        const res = await fetch(`${mesh.consoleUrl}api/namespaces/graph?namespaces=default&graphType=versionedApp&duration=60s`);
        if (!res.ok) return false;
        const g = (await res.json()) as Graph;
        const app = new Map(g.elements.nodes.map((n) => [n.data.id, n.data.app]));
        // productpage → the reviews service node → each reviews version: the edges into the versions carry the lock.
        return g.elements.edges.some((e) => app.get(e.data.target) === 'reviews' && (e.data.isMTLS ?? 0) > 0);
      }, logs);
    });
  });
}

bookinfoIn('ipv6');
bookinfoIn('dual');
