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
import { median, table, fmt } from './lib/table.mjs';
import { cpuSeconds, rssMiB, start, stop } from './lib/proc.mjs';
import { PEERS } from './lib/peers.mjs';
import { benchCerts } from './lib/certs.mjs';
import { wrk } from './lib/wrk.mjs';
import { h2load, grpcCheck } from './lib/h2load.mjs';

const lib = (f) => fileURLToPath(new URL(`./lib/${f}`, import.meta.url));
const MTLS = '×2 mTLS';
const WORKERS = 'trellis ×1, 2 workers';

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

/** The rate the "added" latency, CPU and the goals are reported at. */
const reportRate = (o) => (o.rates.includes(1000) ? 1000 : o.rates[0]);

/** Connections (clients) for a fixed rate: about 100 requests/s each, between 8 (10 for h2load) and 64. */
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

/**
 * Max throughput, then each fixed rate. At the reported rate (1000 rps) a proxied path is paired with a direct run
 * made just before it (same load, same length): its "added" latency is taken against that run, so the drift of a
 * shared machine between rows cancels out instead of landing in one row.
 */
async function measure(variant, c, o, size) {
  // Warm-up: JIT, pools, connections (and TLS sessions).
  await load(variant, c.port, o, { warm: true, size });
  const max = await load(variant, c.port, o, { size });
  let errors = max.errors;
  const rates = {};
  for (const rate of o.rates) {
    const base = c.proxies.length && rate === reportRate(o) ? await load(variant, c.backendPort, o, { rate, size }) : undefined;
    const pids = c.proxies.flatMap((p) => p.pids());
    const cpu0 = cpuSeconds(pids);
    const r = await load(variant, c.port, o, { rate, size });
    const cpu = cpuSeconds(pids) - cpu0;
    errors += r.errors;
    rates[rate] = { ...r, base, cpuPer1k: c.proxies.length ? ((cpu / r.requests) * 1000) / c.proxies.length : 0 };
  }
  const rss = c.proxies.length ? c.proxies.reduce((a, p) => a + rssMiB(p.pids()), 0) / c.proxies.length : 0;
  return { max, rates, rss, errors };
}

/** Every shape of one variant and payload size, `rounds` times, interleaved so drift hits every row alike. */
async function runVariant(variant, size, o) {
  const backend =
    variant === 'http' ? await startBackend('backend.mjs', [String(size)]) : variant === 'grpc' ? await startBackend('grpc-backend.mjs', [String(size)]) : await startBackend('echo-backend.mjs');
  const results = {};
  try {
    const list = shapes(variant, o.kinds).filter(([label]) => !o.rows || label === 'direct' || o.rows.includes(label));
    for (let round = 0; round < o.rounds; round++) {
      for (const [label, kind, hops, opts] of list) {
        const c = kind ? await chain(kind, hops, backend.port, { mode: variant, ...opts }) : noProxy(backend.port);
        try {
          await check(variant, c, size);
          (results[label] ??= []).push(await measure(variant, c, o, size));
        } finally {
          await c.stop();
        }
        process.stderr.write(`  ${variant} ${size} B · ${label} · round ${round + 1}/${o.rounds} done\n`);
      }
    }
  } finally {
    await stop(backend.child);
  }
  return results;
}

/** Runs the enabled variants; each table goes to `o.onTable` as soon as it is measured, and all of them are returned. */
export async function runDataplane(o) {
  const out = [];
  const emit = (text) => {
    out.push(text);
    o.onTable?.(text);
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
  return out.join('\n\n');
}

// ---------------------------------------------------------------- reports

function stats(results, o) {
  const r1000 = reportRate(o);
  const med = (label, f) => median(results[label].map(f));
  const q = (label, quantile, rate = r1000) => med(label, (m) => m.rates[rate][quantile]);
  // Against the paired direct run (see measure()); the direct row's own run when there is none.
  const added = (label, quantile) => med(label, (m) => m.rates[r1000][quantile] - (m.rates[r1000].base ?? results.direct[0].rates[r1000])[quantile]);
  const has = (label) => !!results[label];
  return { r1000, med, q, added, has };
}

function rowsFor(results, o, { extra } = {}) {
  const { r1000, med, q, added } = stats(results, o);
  return Object.keys(results).map((label) => [
    label,
    med(label, (m) => m.max.rps),
    ...(extra ? extra(label) : []),
    ...o.rates.flatMap((r) => ['p50', 'p90', 'p99'].map((x) => q(label, x, r))),
    label === 'direct' ? '—' : ['p50', 'p90', 'p99'].map((x) => added(label, x).toFixed(2)).join(' / '),
    label === 'direct' ? '—' : med(label, (m) => m.rates[r1000].cpuPer1k),
    label === 'direct' ? '—' : med(label, (m) => m.rss),
    results[label].reduce((a, m) => a + m.errors, 0),
  ]);
}

function header(o, maxLabel, extra = []) {
  const r1000 = reportRate(o);
  return ['path', maxLabel, ...extra, ...o.rates.flatMap((r) => [`p50 @${r}`, `p90 @${r}`, `p99 @${r}`]), `added p50/p90/p99 @${r1000} (ms)`, `vCPU-s per 1k req @${r1000} (per proxy)`, 'RSS MiB (per proxy)', 'errors'];
}

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
/** A ratio of added latencies means nothing when either is ≤ 0 (the noise exceeded the path's cost): shown as —. */
const addedRatio = (a, b) => (a > 0 && b > 0 ? a / b : NaN);

function reportHttp(size, results, o) {
  const { r1000, med, q, added, has } = stats(results, o);
  const lines = [`### HTTP/1.1, ${size.toLocaleString('en-US')} B responses (${o.rounds} round(s), medians)`, ''];
  lines.push(table(header(o, 'max rps'), rowsFor(results, o)));
  // Ratios of Trellis to nginx (and haproxy), the figures the goals are stated in.
  const ratioRows = [];
  for (const [name, suffix] of [['1 hop', '×1'], ['2 hops', '×2'], ['2 hops mTLS', MTLS]]) {
    for (const peer of ['nginx', 'haproxy']) {
      const t = `trellis ${suffix}`;
      const p = `${peer} ${suffix}`;
      if (!has(t) || !has(p)) continue;
      ratioRows.push([
        `${name}, ÷ ${peer}`,
        ratio(med(t, (m) => m.max.rps), med(p, (m) => m.max.rps)),
        ratio(q(t, 'p90'), q(p, 'p90')),
        addedRatio(added(t, 'p90'), added(p, 'p90')),
        ratio(med(t, (m) => m.rates[r1000].cpuPer1k), med(p, (m) => m.rates[r1000].cpuPer1k)),
      ]);
    }
  }
  if (ratioRows.length) lines.push('', table(['Trellis ÷ peer', 'max rps', `p90 @${r1000}`, `added p90 @${r1000}`, 'CPU per request'], ratioRows));
  // What mutual TLS costs each proxy: its mTLS two-hop path over its plaintext two-hop path.
  const tlsRows = [];
  for (const kind of o.kinds) {
    const plain = `${kind} ×2`;
    const tls = `${kind} ${MTLS}`;
    if (!has(plain) || !has(tls)) continue;
    tlsRows.push([
      kind,
      ratio(med(tls, (m) => m.max.rps), med(plain, (m) => m.max.rps)),
      (added(tls, 'p50') - added(plain, 'p50')).toFixed(2),
      (added(tls, 'p90') - added(plain, 'p90')).toFixed(2),
      ratio(med(tls, (m) => m.rates[r1000].cpuPer1k), med(plain, (m) => m.rates[r1000].cpuPer1k)),
    ]);
  }
  if (tlsRows.length) lines.push('', table(['mTLS ÷ plaintext, two hops', 'max rps', `extra p50 @${r1000} (ms)`, `extra p90 @${r1000} (ms)`, 'CPU per request'], tlsRows));
  // The two-hop mTLS rows against each other: added latency per percentile, and Trellis's ratio to nginx with TLS.
  const mtlsKinds = o.kinds.filter((k) => has(`${k} ${MTLS}`));
  if (has(`trellis ${MTLS}`) && mtlsKinds.length > 1) {
    lines.push(
      '',
      table(
        [`two hops, mTLS: added @${r1000} (ms)`, ...mtlsKinds, ...mtlsKinds.filter((k) => k !== 'trellis').map((k) => `Trellis ÷ ${k}`)],
        ['p50', 'p90', 'p99'].map((x) => [
          x,
          ...mtlsKinds.map((k) => added(`${k} ${MTLS}`, x)),
          ...mtlsKinds.filter((k) => k !== 'trellis').map((k) => addedRatio(added(`trellis ${MTLS}`, x), added(`${k} ${MTLS}`, x))),
        ]),
      ),
    );
  }
  // The goal: two-hop mTLS added p90 ≤ 1.0 ms at 1000 rps and within 1.5× of two-hop nginx with TLS.
  const t = `trellis ${MTLS}`;
  const n = `nginx ${MTLS}`;
  if (has(t) && has(n)) {
    const a = added(t, 'p90');
    const an = added(n, 'p90');
    const vs = addedRatio(a, an);
    const pv = ratio(q(t, 'p90'), q(n, 'p90'));
    const errs = (label) => results[label].reduce((x, m) => x + m.errors, 0);
    // A status only when the figures can carry one: no failed requests, and both paths measurably above direct.
    const sane = errs(t) === 0 && errs(n) === 0 && a > 0 && an > 0;
    const status = (ok) => (!sane ? 'inconclusive (noise above the paths\' cost, or errors)' : ok ? 'met' : 'missed');
    lines.push(
      '',
      table(
        ['goal', 'measured', 'status'],
        [
          [`two-hop mTLS added p90 @${r1000} ≤ 1.0 ms`, `${fmt(a)} ms (nginx ${fmt(an)} ms)`, status(a <= 1.0)],
          [`two-hop mTLS ≤ 1.5× nginx two hops with TLS (added p90 @${r1000}; p90 ratio alongside)`, `${fmt(vs)}× (p90 ${fmt(pv)}×)`, status(vs <= 1.5)],
        ],
      ),
    );
  }
  return lines.join('\n');
}

function reportOneHop(variant, size, results, o) {
  const { r1000, med, q, added, has } = stats(results, o);
  const title =
    variant === 'grpc'
      ? `### gRPC unary (HTTP/2 cleartext, h2load), ${size.toLocaleString('en-US')} B responses (${o.rounds} round(s), medians)`
      : `### TCP echo (tcp_proxy / nginx stream / haproxy mode tcp), ${size.toLocaleString('en-US')} B messages (${o.rounds} round(s), medians)`;
  const lines = [title, ''];
  const extra = variant === 'tcp' ? ['MiB/s each way at max'] : [];
  const mib = (label) => (med(label, (m) => m.max.rps) * size) / 2 ** 20;
  lines.push(table(header(o, variant === 'tcp' ? 'max round trips/s' : 'max rps', extra), rowsFor(results, o, { extra: variant === 'tcp' ? (l) => [mib(l)] : undefined })));
  const ratioRows = [];
  for (const peer of ['nginx', 'haproxy']) {
    if (!has('trellis ×1') || !has(`${peer} ×1`)) continue;
    const p = `${peer} ×1`;
    ratioRows.push([
      `÷ ${peer}`,
      ratio(med('trellis ×1', (m) => m.max.rps), med(p, (m) => m.max.rps)),
      ratio(q('trellis ×1', 'p90'), q(p, 'p90')),
      addedRatio(added('trellis ×1', 'p90'), added(p, 'p90')),
      ratio(med('trellis ×1', (m) => m.rates[r1000].cpuPer1k), med(p, (m) => m.rates[r1000].cpuPer1k)),
    ]);
  }
  if (ratioRows.length) lines.push('', table([`Trellis ×1 (${variant})`, 'max', `p90 @${r1000}`, `added p90 @${r1000}`, 'CPU per request'], ratioRows));
  return lines.join('\n');
}
