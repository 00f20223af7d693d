// Data-plane benchmark: the same request path direct, through one proxy and through two, for Trellis, nginx and
// haproxy, measured side by side in one run. Prints Markdown tables of absolute figures and ratios.
//
// Variants:
//   http  HTTP/1.1 (wrk), per response size: direct, ×1 and ×2 hops plaintext, and ×2 hops with mutual TLS between
//         the hops (Trellis: ISTIO_MUTUAL-style SPIFFE certificates from its own CA; nginx: proxy_ssl with a client
//         certificate to an ssl_verify_client server; haproxy: `ssl crt … verify required` on both sides).
//         Plus "trellis ×1, 2 workers": one Trellis hop with --concurrency 2 (two worker processes sharing the listening
//         socket); its CPU and RSS are the whole process tree's, so they compare with the single-process row as is.
//   grpc  gRPC unary over HTTP/2 cleartext (h2load) to a @grpc/grpc-js backend: direct and one hop.
//   tcp   TCP echo (bench/lib/tcp-load.mjs) through a byte pipe: direct and one hop (Trellis tcp_proxy, nginx stream,
//         haproxy mode tcp).
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, rssMiB, start, stop } from './lib/proc.mjs';
import { cpuSnapshot } from './lib/machine.mjs';
import { fixedRateProblems, maxRunProblems, otherWork } from './lib/verdict.mjs';
import { MTLS, WORKERS, reportHttp, reportOneHop, reportRate } from './lib/dataplane-report.mjs';
import { PEERS } from './lib/peers.mjs';
import { benchCerts } from './lib/certs.mjs';
import { wrk } from './lib/wrk.mjs';
import { h2load, grpcCheck } from './lib/h2load.mjs';

const lib = (f) => fileURLToPath(new URL(`./lib/${f}`, import.meta.url));

async function startBackend(script, args = []) {
  const { child, match } = await start(process.execPath, [lib(script), ...args], { ready: /listening (\d+)/ });
  return { child, port: Number(match[1]) };
}

/**
 * Start `hops` proxies of one kind chained in front of the backend; returns the entry port and every proxy.
 * With `mtls` (two hops), the hop next to the backend terminates TLS and requires a client certificate, the entry
 * hop originates TLS with its client certificate: client sidecar → server sidecar.
 */
async function chain(kind, hops, backendPort, { mode = 'http', mtls = false, concurrency } = {}) {
  const certs = mtls ? await benchCerts() : undefined;
  const proxies = [];
  let next = backendPort;
  try {
    for (let i = 0; i < hops; i++) {
      const opts = { mode, concurrency };
      if (mtls && i === 0) opts.downstreamTls = certs;
      if (mtls && i === hops - 1) opts.upstreamTls = certs;
      const p = await PEERS[kind](next, opts);
      proxies.push(p);
      next = p.port;
    }
  } catch (err) {
    await Promise.all(proxies.map((p) => p.stop()));
    throw err;
  }
  // The hop behind TLS must refuse plaintext, or the row would not measure what it says.
  const tlsHop = mtls ? proxies[0].port : undefined;
  return { port: next, backendPort, proxies, tlsHop, stop: () => Promise.all(proxies.map((p) => p.stop())) };
}

const noProxy = (port) => ({ port, backendPort: port, proxies: [], stop: async () => {} });

/** The shapes of one variant: [label, kind|null, hops, options]. */
function shapes(variant, kinds) {
  const out = [['direct', null, 0, {}]];
  if (variant === 'http') {
    for (const kind of kinds) for (const hops of [1, 2]) out.push([`${kind} ×${hops}`, kind, hops, {}]);
    if (kinds.includes('trellis')) out.push([WORKERS, 'trellis', 1, { concurrency: 2 }]);
    for (const kind of kinds) out.push([`${kind} ${MTLS}`, kind, 2, { mtls: true }]);
  } else {
    for (const kind of kinds) out.push([`${kind} ×1`, kind, 1, {}]);
  }
  return out;
}

// ---------------------------------------------------------------- checks: each path answers correctly before it is timed

function httpGet(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let n = 0;
      res.on('data', (d) => (n += d.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes: n }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
  });
}

function tcpEcho(port) {
  return new Promise((resolve, reject) => {
    const msg = Buffer.from('trellis-bench-echo');
    const s = net.connect(port, '127.0.0.1', () => s.write(msg));
    let got = Buffer.alloc(0);
    s.setTimeout(5000, () => (s.destroy(), reject(new Error('TCP echo check timed out'))));
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= msg.length) {
        s.destroy();
        if (got.equals(msg)) resolve();
        else reject(new Error('TCP echo check: wrong bytes back'));
      }
    });
    s.on('error', reject);
  });
}

async function check(variant, c, size) {
  if (variant === 'http') {
    const r = await httpGet(c.port);
    if (r.status !== 200 || r.bytes !== size) throw new Error(`check failed on :${c.port}: ${JSON.stringify(r)}, expected 200 with ${size} bytes`);
    if (c.tlsHop) {
      const plain = await httpGet(c.tlsHop);
      if (plain.status === 200) throw new Error(`the TLS hop :${c.tlsHop} answered a plaintext request`);
    }
  } else if (variant === 'grpc') {
    await grpcCheck(c.port, size);
  } else {
    await tcpEcho(c.port);
  }
}

// ---------------------------------------------------------------- load

function tcpLoad(port, { connections, seconds, rate = 0, size }) {
  return start(process.execPath, [lib('tcp-load.mjs'), String(port), String(connections), String(seconds), String(rate), String(size)], { ready: /TCPJSON (.*)/, timeoutMs: (seconds + 20) * 1000 }).then(({ child, match }) => {
    stop(child);
    return JSON.parse(match[1]);
  });
}

/**
 * Connections (clients) for a fixed rate: one per 100 requests/s, between 8 (10 for h2load) and 64. The load generators
 * hold the rate over all of them (one arrival schedule), so this bounds how many requests can be in flight at once.
 */
const paced = (rate, min = 8) => Math.min(64, Math.max(min, Math.round(rate / 100)));

function load(variant, port, o, { rate = 0, warm = false, size }) {
  const seconds = warm ? 1 : rate ? o.seconds : o.maxSeconds ?? o.seconds;
  // The warm-up uses as many connections as the max run, so every pool (and TLS connection) is open before timing.
  if (variant === 'http') return wrk(`http://127.0.0.1:${port}/`, { connections: rate ? paced(rate) : o.connections, seconds, rate });
  if (variant === 'grpc') {
    const clients = paced(rate, 10);
    return h2load(port, rate ? { clients, seconds, rate: Math.round(rate / clients) * clients } : { clients: 4, streams: 16, seconds });
  }
  return tcpLoad(port, { connections: rate ? paced(rate) : o.connections, seconds, rate, size });
}

/** One load run, never throwing: a load generator that fails is a failed run with the reason, and the run carries
 * how much other work shared the machine meanwhile (vCPUs). */
async function timedLoad(variant, port, o, args) {
  const before = cpuSnapshot();
  try {
    const r = await load(variant, port, o, args);
    return { ...r, others: otherWork(before, cpuSnapshot()) };
  } catch (err) {
    return { requests: 0, errors: 0, seconds: 0, rps: 0, failure: `load generator failed: ${String(err.message).split('\n')[0]}` };
  }
}

const withProblems = (run, problems) => ({ ...run, problems: run.failure ? [run.failure] : problems });

/**
 * Max throughput, then each fixed rate. At the reported rate (1000 rps) a proxied path is paired with a direct run
 * made just before it (same load, same length): its "added" latency is taken against that run, so the drift of a
 * shared machine between rows cancels out instead of landing in one row. Every run is checked (verdict.mjs): one that
 * cannot be believed carries its problems, and the report shows it as FAILED with them.
 */
async function measure(variant, c, o, size) {
  // Warm-up: JIT, pools, connections (and TLS sessions).
  await timedLoad(variant, c.port, o, { warm: true, size });
  const maxRun = await timedLoad(variant, c.port, o, { size });
  const max = withProblems(maxRun, maxRunProblems(maxRun));
  const rates = {};
  for (const rate of o.rates) {
    let base;
    if (c.proxies.length && rate === reportRate(o)) {
      const b = await timedLoad(variant, c.backendPort, o, { rate, size });
      base = withProblems(b, fixedRateProblems(b, { rate }));
    }
    const pids = c.proxies.flatMap((p) => p.pids());
    const cpu0 = cpuSeconds(pids);
    const r = await timedLoad(variant, c.port, o, { rate, size });
    const cpu = cpuSeconds(pids) - cpu0;
    rates[rate] = { ...withProblems(r, fixedRateProblems(r, { rate })), base, cpuPer1k: c.proxies.length && r.requests > 0 ? ((cpu / r.requests) * 1000) / c.proxies.length : NaN };
  }
  const rss = c.proxies.length ? c.proxies.reduce((a, p) => a + rssMiB(p.pids()), 0) / c.proxies.length : NaN;
  return { max, rates, rss };
}

/**
 * Every shape of one variant and payload size, `rounds` times, interleaved so drift hits every row alike. A shape that
 * cannot start or fails its check is a failed round of that row (with why), not the end of the benchmark.
 */
async function runVariant(variant, size, o) {
  const backend =
    variant === 'http' ? await startBackend('backend.mjs', [String(size)]) : variant === 'grpc' ? await startBackend('grpc-backend.mjs', [String(size)]) : await startBackend('echo-backend.mjs');
  const results = {};
  try {
    const list = shapes(variant, o.kinds).filter(([label]) => !o.rows || label === 'direct' || o.rows.includes(label));
    for (let round = 0; round < o.rounds; round++) {
      for (const [label, kind, hops, opts] of list) {
        let c;
        try {
          c = kind ? await chain(kind, hops, backend.port, { mode: variant, ...opts }) : noProxy(backend.port);
          await check(variant, c, size);
          (results[label] ??= []).push(await measure(variant, c, o, size));
        } catch (err) {
          (results[label] ??= []).push({ failed: String(err.message).split('\n')[0] });
        } finally {
          await c?.stop();
        }
        process.stderr.write(`  ${variant} ${size} B · ${label} · round ${round + 1}/${o.rounds} done\n`);
      }
    }
  } finally {
    await stop(backend.child);
  }
  return results;
}

/**
 * Runs the enabled variants; each table goes to `o.onTable` as soon as it is measured. Returns the tables' text and
 * the goals they judged (dataplane-report.mjs).
 */
export async function runDataplane(o) {
  const out = [];
  const goals = [];
  const emit = (report) => {
    out.push(report.text);
    goals.push(...report.goals);
    o.onTable?.(report.text);
  };
  const enabled = o.variants ?? ['http', 'grpc', 'tcp'];
  if (enabled.includes('http')) {
    for (const size of o.sizes) emit(reportHttp(size, await runVariant('http', size, o), o));
  }
  if (enabled.includes('grpc')) {
    const g = { ...o, ...o.grpc };
    for (const size of g.sizes) emit(reportOneHop('grpc', size, await runVariant('grpc', size, g), g));
  }
  if (enabled.includes('tcp')) {
    const t = { ...o, ...o.tcp };
    for (const size of t.sizes) emit(reportOneHop('tcp', size, await runVariant('tcp', size, t), t));
  }
  return { text: out.join('\n\n'), goals };
}
