// Ambient mode on `trellis up --network netns`, one run for the file: Istio's Bookinfo and sleep manifests as they are,
// plus the namespace label, run with no sidecar; the node proxy (ztunnel) captures every pod's traffic in the pod's
// namespace and carries it between pods over HBONE, so a packet capture on the bridge sees TLS records only; L4
// AuthorizationPolicy; Istio's TCP metrics from both sides; a namespace joining ambient mode live; a pod opting out.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { waypointGatewayYaml } from '../../controlplane/translate/ambient/testing.js';
import { haveChromium, launchChromium } from '../../console/testing/chromium.js';
import { istioSamplesDir } from '../../samples.js';
import { LocalMesh } from '../local-mesh.js';
import { netnsAvailability } from '../network-mode.js';
import { startCapture, tlsRecordsOnly, type Segment } from './packet-capture.js';

const netns = netnsAvailability();

const NAMESPACES = `apiVersion: v1
kind: Namespace
metadata:
  name: default
  labels: {istio.io/dataplane-mode: ambient}
`;

/** go-httpbin with its Service (port 8000) in a namespace. */
const httpbin = (namespace: string) => `apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: ${namespace}}
spec:
  ports: [{name: http, port: 8000, targetPort: 8080}]
  selector: {app: httpbin}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: httpbin, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: httpbin}}
  template:
    metadata: {labels: {app: httpbin}}
    spec:
      serviceAccountName: httpbin
      containers: [{name: httpbin, image: docker.io/mccutchen/go-httpbin:v2.15.0, ports: [{containerPort: 8080}]}]
`;

/**
 * An httpbin in namespace \`live\` (not enrolled at first), a pod of the ambient namespace that opts out, and an
 * httpbin with a sidecar in namespace \`side\` (istio-injection=enabled).
 */
const EXTRA = `apiVersion: v1
kind: Namespace
metadata: {name: side, labels: {istio-injection: enabled}}
---
${httpbin('side')}---
${httpbin('live')}---
apiVersion: v1
kind: Service
metadata: {name: opted-out}
spec:
  ports: [{name: http, port: 8000, targetPort: 8080}]
  selector: {app: opted-out}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: opted-out}
spec:
  selector: {matchLabels: {app: opted-out}}
  template:
    metadata: {labels: {app: opted-out, istio.io/dataplane-mode: none}}
    spec:
      containers: [{name: httpbin, image: docker.io/mccutchen/go-httpbin:v2.15.0, ports: [{containerPort: 8080}]}]
`;

describe('ambient mode: the node proxy, HBONE and L4 policy', { skip: netns.ok ? false : netns.reason }, () => {
  let dir: string;
  let mesh: LocalMesh;
  const logs: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-ambient-'));
    copyFileSync(join(istioSamplesDir(), 'bookinfo', 'platform', 'kube', 'bookinfo.yaml'), join(dir, 'bookinfo.yaml'));
    copyFileSync(join(istioSamplesDir(), 'bookinfo', 'networking', 'bookinfo-gateway.yaml'), join(dir, 'bookinfo-gateway.yaml'));
    copyFileSync(join(istioSamplesDir(), 'sleep', 'sleep.yaml'), join(dir, 'sleep.yaml'));
    writeFileSync(join(dir, 'namespaces.yaml'), NAMESPACES);
    writeFileSync(join(dir, 'extra.yaml'), EXTRA);
    mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, caPort: 0, prometheusPort: 0, consolePort: 0, scrapeInterval: '1s', network: 'netns', log: (l) => logs.push(l) });
    await mesh.waitReady(90_000);
  });

  after(async () => {
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const pod = (prefix: string) => mesh.podPlans().find((p) => p.name.startsWith(prefix))!;

  async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Runs a Node script inside the sleep pod (an ambient pod: no proxy setting, its traffic captured by the node proxy). */
  async function inSleep(script: string, inPod = pod('sleep-')): Promise<string> {
    const c = mesh.net!.command(`${inPod.namespace}/${inPod.name}`, process.execPath, ['--input-type=module', '-e', script], 'app');
    try {
      return (await promisify(execFile)(c.command, c.args, { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })).stdout;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`client failed: ${e.stderr || e.stdout || String(err)}\n${logs.slice(-20).join('\n')}`);
    }
  }

  /** GETs from inside the sleep pod: status and body, or the error. */
  const getFromSleep = async (url: string, inPod?: ReturnType<typeof pod>) =>
    JSON.parse(await inSleep(`try { const r = await fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(8000) }); console.log(JSON.stringify({ status: r.status, body: await r.text() })); } catch (e) { console.log(JSON.stringify({ status: 0, body: String(e.cause?.code ?? e.message) })); }`, inPod)) as { status: number; body: string };

  type Graph = { elements: { nodes: Array<{ data: { id: string; app?: string; workload?: string; isAmbient?: boolean; isWaypoint?: boolean; isZtunnel?: boolean } }>; edges: Array<{ data: { source: string; target: string; protocol: string; rps: number; tcpBps: number; isMTLS?: number } }> } };
  const consoleGraph = async (): Promise<Graph | undefined> => {
    const res = await fetch(`${mesh.consoleUrl}api/namespaces/graph?namespaces=default&graphType=versionedApp&duration=60s`);
    return res.ok ? ((await res.json()) as Graph) : undefined;
  };
  const ztunnelStats = async () => (await fetch(`http://${mesh.ambient!.address}:15020/stats/prometheus`)).text();
  const ztunnelDump = async () => (await fetch(`http://${mesh.ambient!.address}:15000/config_dump`)).json() as Promise<{ pods: Array<{ name: string }>; certificates: Array<{ identity: string }> }>;
  const productpage = async () => (await fetch(`${mesh.ingressUrl}/productpage`)).text();

  test('Bookinfo runs from Istio\'s manifests plus the namespace label, with no sidecar: the node proxy serves every pod', async () => {
    const bookinfo = mesh.podPlans().filter((p) => p.namespace === 'default' && !p.name.startsWith('opted-out'));
    assert.equal(bookinfo.length, 7, 'six Bookinfo pods and sleep');
    for (const p of bookinfo) assert.ok(p.ambient && !p.meshed, `${p.name}: ambient, no sidecar`);
    const processes = mesh.supervisor.status().map((s) => s.name);
    assert.deepEqual(processes.filter((n) => n.endsWith('/istio-proxy') && n.includes('.default/')), [], 'no sidecar process in the ambient namespace');
    const dump = await ztunnelDump();
    assert.deepEqual(dump.pods.map((p) => p.name).sort(), bookinfo.map((p) => p.name).sort());
    // One certificate per service account, for the node proxy to speak for the pods.
    assert.deepEqual(dump.certificates.map((c) => c.identity).sort(), ['bookinfo-details', 'bookinfo-productpage', 'bookinfo-ratings', 'bookinfo-reviews', 'sleep'].map((sa) => `spiffe://cluster.local/ns/default/sa/${sa}`));
    const page = await productpage();
    assert.match(page, /Book Details/);
    assert.doesNotMatch(page, /Error fetching product (details|reviews)/);
    // The pods' own view: no proxy variable, and the namespace's pods' processes started once.
    assert.equal(pod('productpage-').containers[0]!.env.HTTP_PROXY, undefined);
  });

  test('between pods the bridge carries HBONE on 15008: TLS records only, never Bookinfo\'s HTTP', async () => {
    const gateway = mesh.net!.hostAddresses[0]!;
    const pods = mesh.net!.plan.v4!.podCidr;
    // Pod to pod only (the host's address is the ingress gateway's and the test's).
    const capture = await startCapture('any', `tcp and src net ${pods} and dst net ${pods} and not host ${gateway}`);
    let captured: Segment[];
    try {
      // Pages until the capture holds a few of them (tcpdump may take a moment after it says it listens).
      await until('pages on the wire', async () => {
        const r = await getFromSleep('http://productpage:9080/productpage');
        assert.equal(r.status, 200);
        assert.match(r.body, /Book Details/);
        return capture.bytesSoFar() > 30_000;
      });
    } finally {
      captured = await capture.stop();
    }
    const bytes = captured.reduce((n, s) => n + s.payload.length, 0);
    assert.ok(bytes > 10_000, `the pages crossed the bridge (${bytes} bytes captured)`);
    assert.ok(captured.every((s) => s.srcPort === 15008 || s.dstPort === 15008), 'every segment between pods is to or from the HBONE port');
    const text = Buffer.concat(captured.map((s) => s.payload)).toString('latin1');
    for (const plain of ['HTTP/1.1', 'GET /', 'Book Details', '<html', 'reviewer', 'ratings']) assert.ok(!text.includes(plain), `"${plain}" is not on the wire`);
    const streams = new Map<string, Buffer[]>();
    for (const s of captured) {
      const key = `${s.src}:${s.srcPort}>${s.dst}:${s.dstPort}`;
      streams.set(key, [...(streams.get(key) ?? []), s.payload]);
    }
    for (const [key, parts] of streams) assert.ok(tlsRecordsOnly(parts), `${key} is a sequence of TLS records`);
  });

  test('Istio\'s TCP metrics from the node proxy: the client\'s side and the server\'s, both principals, mutual TLS', async () => {
    await productpage();
    const stats = await ztunnelStats();
    const line = (reporter: string) =>
      new RegExp(
        `istio_tcp_connections_opened_total\\{reporter="${reporter}",source_workload="productpage-v1",source_workload_namespace="default",source_principal="spiffe://cluster.local/ns/default/sa/bookinfo-productpage"[^}]*destination_workload="reviews-v\\d",[^}]*destination_principal="spiffe://cluster.local/ns/default/sa/bookinfo-reviews"[^}]*destination_service="reviews.default.svc.cluster.local"[^}]*connection_security_policy="mutual_tls",request_protocol="tcp"\\} \\d+`,
      );
    assert.match(stats, line('source'));
    assert.match(stats, line('destination'));
    await until('bytes of closed connections counted', async () => /istio_tcp_received_bytes_total\{reporter="destination",source_workload="productpage-v1"[^}]*destination_workload="details-v1"[^}]*\} [1-9]/.test(await ztunnelStats()));
  });

  test('the console draws the ambient traffic from the node proxy\'s metrics, mutual TLS, with ambient badges', async () => {
    let graph: Graph | undefined;
    await until('the console graph to show productpage → reviews over mTLS', async () => {
      await productpage();
      const g = await consoleGraph();
      if (!g) return false;
      const app = new Map(g.elements.nodes.map((n) => [n.data.id, n.data.app]));
      graph = g;
      return ['reviews', 'details', 'ratings'].every((target) => g.elements.edges.some((e) => app.get(e.data.target) === target && e.data.protocol === 'tcp' && e.data.tcpBps > 0 && (e.data.isMTLS ?? 0) > 0));
    }, 40_000);
    const nodes = graph!.elements.nodes.map((n) => n.data);
    assert.ok(nodes.filter((n) => n.app === 'reviews' && n.workload).every((n) => n.isAmbient), 'the reviews versions carry the ambient badge');
    assert.ok(nodes.some((n) => n.app === 'productpage' && n.isAmbient));
    // The node proxy is drawn as an infrastructure node of the control plane's namespace, with no traffic edges.
    const ztunnel = nodes.find((n) => n.isZtunnel);
    assert.equal(ztunnel?.workload, 'ztunnel', 'the node proxy is in the graph');
    assert.ok(!graph!.elements.edges.some((e) => e.data.source === ztunnel!.id || e.data.target === ztunnel!.id));
    const w = (await (await fetch(`${mesh.consoleUrl}api/namespaces/default/workloads/productpage-v1`)).json()) as { workload: { dataplaneMode: string; sidecar: boolean } };
    assert.equal(w.workload.dataplaneMode, 'ambient');
    assert.equal(w.workload.sidecar, false);
    const namespaces = (await (await fetch(`${mesh.consoleUrl}api/namespaces`)).json()) as Array<{ name: string; ambient?: boolean }>;
    assert.equal(namespaces.find((n) => n.name === 'default')!.ambient, true);
    if (!haveChromium()) return;
    // What a user sees: the graph's ambient nodes and locked edges, the workload's data plane.
    const chromium = await launchChromium();
    try {
      const { page } = chromium;
      await page.goto(`${mesh.consoleUrl}graph?namespaces=default&graphType=versionedApp&duration=60&refresh=0`);
      await page.locator('[data-test="graph-edge"][data-source="vapp_default_productpage-v1"][data-target="svc_default_reviews"][data-mtls="true"]').waitFor();
      await page.locator('[data-test="graph-node"][data-node-id="vapp_default_productpage-v1"][data-ambient="true"] [data-test="graph-node-ambient"]').waitFor();
      await page.locator(`[data-test="graph-node"][data-node-id="${ztunnel!.id}"][data-ztunnel="true"] [data-test="graph-node-ztunnel"]`).waitFor();
      await page.goto(`${mesh.consoleUrl}namespaces/default/workloads/productpage-v1`);
      assert.match(await page.locator('[data-test="workload-dataplane"]').innerText(), /ambient \(ztunnel\)/);
    } finally {
      await chromium.close();
    }
  });

  test('an L4 DENY policy refuses the connections of one service account and no other\'s', async () => {
    writeFileSync(
      join(dir, 'deny.yaml'),
      `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-deny-productpage}
spec:
  selector: {matchLabels: {app: reviews}}
  action: DENY
  rules: [{from: [{source: {principals: [cluster.local/ns/default/sa/bookinfo-productpage]}}]}]
`,
    );
    try {
      await until('productpage to lose reviews', async () => /Error fetching product reviews/.test(await productpage()));
      assert.doesNotMatch(await productpage(), /Error fetching product details/, 'details is not affected');
      const fromSleep = await getFromSleep('http://reviews:9080/reviews/0');
      assert.equal(fromSleep.status, 200, `sleep's account still reaches reviews: ${fromSleep.body}`);
      assert.ok(logs.some((l) => /connection from spiffe:\/\/cluster.local\/ns\/default\/sa\/bookinfo-productpage to reviews-v\d[^ ]* denied by default\/reviews-deny-productpage/.test(l)));
    } finally {
      unlinkSync(join(dir, 'deny.yaml'));
    }
    await until('reviews to come back', async () => !/Error fetching product reviews/.test(await productpage()));
  });

  test('an ALLOW rule that needs HTTP matches nothing at L4: the node proxy then refuses everyone', async () => {
    writeFileSync(
      join(dir, 'allow-get.yaml'),
      `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: details-allow-get}
spec:
  selector: {matchLabels: {app: details}}
  action: ALLOW
  rules: [{to: [{operation: {methods: [GET]}}]}]
`,
    );
    try {
      await until('productpage to lose details', async () => /Error fetching product details/.test(await productpage()));
      assert.equal((await getFromSleep('http://details:9080/details/0')).status, 0, 'sleep is refused too');
    } finally {
      unlinkSync(join(dir, 'allow-get.yaml'));
    }
    await until('details to come back', async () => !/Error fetching product details/.test(await productpage()));
  });

  test('a pod labelled istio.io/dataplane-mode=none stays out of the node proxy; outside the mesh is plaintext', async () => {
    const optedOut = pod('opted-out-');
    assert.equal(optedOut.ambient, false);
    assert.match(optedOut.ambientReason, /pod label istio.io\/dataplane-mode=none/);
    assert.ok(!(await ztunnelDump()).pods.some((p) => p.name === optedOut.name));
    const r = await getFromSleep('http://opted-out:8000/get');
    assert.equal(r.status, 200);
    // The source's node proxy reached it without HBONE: no mutual TLS on its side.
    assert.match(await ztunnelStats(), /istio_tcp_connections_opened_total\{reporter="source",source_workload="sleep"[^}]*destination_workload="opted-out",[^}]*connection_security_policy="unknown"/);
  });

  test('a sidecar pod and an ambient pod call each other with mutual TLS: HBONE on 15008 both ways, identities on both sides', async () => {
    const side = mesh.podPlans().find((p) => p.namespace === 'side')!;
    assert.ok(side.meshed && !side.ambient, 'httpbin in namespace side has a sidecar');
    const sleep = pod('sleep-');
    const productpagePod = pod('productpage-');
    const capture = await startCapture('any', `tcp and ((host ${side.podIP} and host ${sleep.podIP}) or (host ${side.podIP} and host ${productpagePod.podIP}))`);
    let captured: Segment[];
    try {
      // ambient → sidecar: the node proxy tunnels to the sidecar's 15008, which hands the stream to its inbound chains.
      const toSidecar = await getFromSleep('http://httpbin.side:8000/get');
      assert.equal(toSidecar.status, 200, toSidecar.body);
      // sidecar → ambient: the sidecar's endpoint for productpage is an ambient pod, reached through connect_originate.
      const toAmbient = await getFromSleep('http://productpage.default:9080/productpage', side);
      assert.equal(toAmbient.status, 200, toAmbient.body);
      assert.match(toAmbient.body, /Book Details/);
      await until('the capture to hold both calls', async () => capture.bytesSoFar() > 4_000);
    } finally {
      captured = await capture.stop();
    }
    assert.ok(captured.every((s) => s.srcPort === 15008 || s.dstPort === 15008), 'between the two pods only HBONE');
    const text = Buffer.concat(captured.map((s) => s.payload)).toString('latin1');
    for (const plain of ['HTTP/1.1', 'GET /', 'Book Details', 'httpbin']) assert.ok(!text.includes(plain), `"${plain}" is not on the wire`);
    // The sidecar saw sleep's identity over mutual TLS; the node proxy saw the sidecar's.
    const sidecarStats = await (await fetch(`http://${side.podIP}:15020/stats/prometheus`)).text();
    assert.match(sidecarStats, /istio_requests_total\{[^}]*reporter="destination"[^}]*source_principal="spiffe:\/\/cluster.local\/ns\/default\/sa\/sleep"[^}]*connection_security_policy="mutual_tls"/);
    assert.match(await ztunnelStats(), /istio_tcp_connections_opened_total\{reporter="destination",source_workload="httpbin",source_workload_namespace="side",source_principal="spiffe:\/\/cluster.local\/ns\/side\/sa\/httpbin"[^}]*destination_workload="productpage-v1"[^}]*connection_security_policy="mutual_tls"/);
  });

  test('a namespace labelled for ambient mode joins live: its pod is captured without a restart', async () => {
    const httpbin = mesh.podPlans().find((p) => p.namespace === 'live')!;
    assert.equal(httpbin.ambient, false);
    const pidOf = () => mesh.supervisor.status().find((s) => s.name.startsWith(`${httpbin.name}.live/`))?.pid;
    const pid = pidOf();
    assert.ok(pid);
    writeFileSync(join(dir, 'live.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: live\n  labels: {istio.io/dataplane-mode: ambient}\n');
    await until('httpbin enrolled with the node proxy', async () => (await ztunnelDump()).pods.some((p) => p.name === httpbin.name), 30_000);
    assert.equal(pidOf(), pid, 'the app was not restarted');
    const r = await getFromSleep('http://httpbin.live:8000/get');
    assert.equal(r.status, 200);
    assert.match(await ztunnelStats(), /istio_tcp_connections_opened_total\{reporter="destination",source_workload="sleep"[^}]*destination_workload="httpbin",destination_workload_namespace="live"[^}]*connection_security_policy="mutual_tls"/);
  });
  test('a waypoint (istio-waypoint Gateway + istio.io/use-waypoint) routes reviews to v3, answers 403 on a denied path, reports as reporter=waypoint', async () => {
    const samples = join(istioSamplesDir(), 'bookinfo', 'networking');
    writeFileSync(
      join(dir, 'waypoint.yaml'),
      `${waypointGatewayYaml('waypoint', 'istio.io/waypoint-for: service')}---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: details-deny-health}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  action: DENY
  rules: [{to: [{operation: {paths: [/health]}}]}]
`,
    );
    copyFileSync(join(samples, 'destination-rule-all.yaml'), join(dir, 'destination-rule-all.yaml'));
    copyFileSync(join(samples, 'virtual-service-reviews-v3.yaml'), join(dir, 'virtual-service-reviews-v3.yaml'));
    try {
      // The waypoint first (its pod, config and certificate), then the namespace's traffic through it.
      await until('the waypoint proxy to be ready', async () => {
        const d = mesh.waypoints?.deployments().find((x) => x.gateway === 'waypoint');
        return !!d && (await fetch(`http://${d.address}:15000/ready`).then((r) => r.ok, () => false));
      }, 40_000);
      writeFileSync(join(dir, 'namespaces.yaml'), NAMESPACES.replace('labels: {istio.io/dataplane-mode: ambient}', 'labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}'));
      await until('the waypoint to serve the denied path', async () => (await getFromSleep('http://details:9080/health')).status === 403, 40_000);
      const denied = await getFromSleep('http://details:9080/health');
      assert.match(denied.body, /RBAC: access denied/);
      assert.equal((await getFromSleep('http://details:9080/details/0')).status, 200, 'other paths pass the waypoint');
      // Without the waypoint the node proxies alone cannot see a path: only the waypoint can have answered 403.
      const waypoint = mesh.waypoints!.deployments().find((d) => d.gateway === 'waypoint')!;
      assert.ok(mesh.supervisor.status().some((p) => p.name === `${waypoint.pod}.default/istio-proxy` && p.running), 'the waypoint runs as a pod of the namespace');
      const stats = await (await fetch(`http://${waypoint.address}:15000/stats`)).text();
      assert.match(stats, /http\.connect_terminate\.downstream_rq_total: [1-9]/, 'HBONE tunnels ended at the waypoint');
      // productpage → reviews crosses the waypoint, whose route sends everything to v3 (red stars).
      for (let i = 0; i < 6; i++) {
        const page = await productpage();
        assert.match(page, /color="red"/, 'reviews-v3 answered');
        assert.doesNotMatch(page, /color="black"/, 'never reviews-v2');
      }
      // Istio's waypoint telemetry: reporter="waypoint", the client known by its certificate.
      const waypointStats = await (await fetch(`http://${waypoint.address}:15020/stats/prometheus`)).text();
      assert.match(waypointStats, /istio_requests_total\{reporter="waypoint"[^}]*source_principal="spiffe:\/\/cluster.local\/ns\/default\/sa\/bookinfo-productpage"[^}]*destination_service="reviews.default.svc.cluster.local"[^}]*response_code="200"[^}]*connection_security_policy="mutual_tls"/);
      assert.match(waypointStats, /istio_requests_total\{reporter="waypoint"[^}]*source_principal="spiffe:\/\/cluster.local\/ns\/default\/sa\/sleep"[^}]*destination_service="details.default.svc.cluster.local"[^}]*response_code="403"/);
      // The console draws the waypoint as its own node: productpage → waypoint (the node proxy's TCP), then
      // waypoint → reviews (the requests the waypoint reports), over mutual TLS.
      let waypointNode: string | undefined;
      await until('the console graph to show productpage → waypoint → reviews', async () => {
        await productpage();
        const g = await consoleGraph();
        waypointNode = g?.elements.nodes.find((n) => n.data.isWaypoint && n.data.workload === 'waypoint')?.data.id;
        const edges = g?.elements.edges.map((e) => e.data) ?? [];
        return (
          !!waypointNode &&
          edges.some((e) => e.source === 'vapp_default_productpage-v1' && e.target === waypointNode && e.protocol === 'tcp' && e.tcpBps > 0) &&
          edges.some((e) => e.source === waypointNode && e.target === 'svc_default_reviews' && e.protocol === 'http' && e.rps > 0 && (e.isMTLS ?? 0) > 0)
        );
      }, 40_000);
    } finally {
      for (const f of ['waypoint.yaml', 'destination-rule-all.yaml', 'virtual-service-reviews-v3.yaml']) unlinkSync(join(dir, f));
      writeFileSync(join(dir, 'namespaces.yaml'), NAMESPACES);
    }
  });
});
