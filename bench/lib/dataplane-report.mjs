// The data-plane tables and the goals they judge, from the measured rounds (pure: dataplane.mjs measures, this
// reports, dataplane-report.test.mjs checks the rules). Every figure is the median of the rounds whose run could be
// believed (verdict.mjs); a row or cell with none is FAILED and the reasons are listed under the table; every row
// says how many latency samples it has; ratios and added latencies pair runs of the same round; an added latency of
// zero or less is shown as noise, never as a negative figure.
import { fmt, table } from './table.mjs';
import { addedLatency, addedRatio, formatAdded, formatSpread, median, medianAdded, noiseVerdict, goalStatus, spread } from './verdict.mjs';

export const MTLS = '×2 mTLS';
export const WORKERS = 'trellis ×1, 2 workers';
/** vCPU-seconds per 1000 requests at 1000 rps: the data-plane CPU goal (issue 19). */
export const CPU_GOAL = 0.15;

/** The rate the "added" latency, CPU and the goals are reported at. */
export const reportRate = (o) => (o.rates.includes(1000) ? 1000 : o.rates[0]);

const usable = (run) => !!run && Array.isArray(run.problems) && run.problems.length === 0;

/** A cell for a summarised figure: its median, or FAILED when no round could be used. */
const cell = (s) => (s.n ? s.median : 'FAILED');

/** "0.90 (0.85–1.02 over 3 rounds)" or "0.90" for one round. */
export function withRange(s, unit = '') {
  if (!s.n) return 'FAILED';
  const v = `${fmt(s.median)}${unit}`;
  return s.n > 1 ? `${v} (${fmt(s.min)}–${fmt(s.max)}${unit} over ${s.n} rounds)` : v;
}

/**
 * Read access to one table's rounds. `results[label]` holds one entry per round, in round order: a measurement
 * ({ max, rates: { [rate]: run & { base, cpuPer1k } }, rss }) or { failed: why } when the path could not be set up or
 * checked. Each run has `problems` ([] when it can be believed) and `others` (vCPUs of other work meanwhile).
 */
export function view(results, o) {
  const R = reportRate(o);
  const all = (label) => results[label] ?? [];
  const has = (label) => all(label).length > 0;
  const perRound = (label, f) => all(label).map((m) => (m.failed ? NaN : f(m)));
  const fixed = (label, rate, f) => perRound(label, (m) => (usable(m.rates[rate]) ? f(m.rates[rate]) : NaN));
  const q = (label, quantile, rate = R) => spread(fixed(label, rate, (r) => r[quantile]));
  const cpu = (label) => spread(fixed(label, R, (r) => r.cpuPer1k));
  const max = (label) => spread(perRound(label, (m) => (usable(m.max) ? m.max.rps : NaN)));
  const rss = (label) => spread(perRound(label, (m) => m.rss));
  /** The direct run a proxied run is compared with: its paired run, else the direct row's own run of that round. */
  const baseOf = (m, round) => m.rates[R]?.base ?? (results.direct?.[round]?.failed ? undefined : results.direct?.[round]?.rates?.[R]);
  const addedRounds = (label, quantile) =>
    all(label).map((m, round) => {
      if (m.failed) return { failed: true };
      const r = m.rates[R];
      const b = baseOf(m, round);
      return usable(r) && usable(b) ? addedLatency(r[quantile], b[quantile]) : { failed: true };
    });
  const added = (label, quantile) => medianAdded(addedRounds(label, quantile));
  /** Median over rounds of a/b where both rounds' figures are usable: ratios pair runs measured one after the other. */
  const pairedRatio = (a, b, f) => {
    const fa = perRound(a, f);
    const fb = perRound(b, f);
    return median(fa.map((x, i) => (Number.isFinite(x) && Number.isFinite(fb[i]) && fb[i] !== 0 ? x / fb[i] : NaN)));
  };
  const p90At = (m) => (usable(m.rates[R]) ? m.rates[R].p90 : NaN);
  const maxOf = (m) => (usable(m.max) ? m.max.rps : NaN);
  const cpuOf = (m) => (usable(m.rates[R]) ? m.rates[R].cpuPer1k : NaN);
  const addedRatioOf = (a, b, quantile) => {
    const ra = addedRounds(a, quantile);
    const rb = addedRounds(b, quantile);
    return median(ra.map((x, i) => addedRatio(x, rb[i])));
  };
  const samples = (label, rate) => all(label).reduce((n, m) => n + (!m.failed && usable(m.rates[rate]) ? m.rates[rate].requests : 0), 0);
  const errors = (label) =>
    all(label).reduce((n, m) => n + (m.failed ? 0 : (m.max.errors ?? 0) + Object.values(m.rates).reduce((x, r) => x + (r.errors ?? 0) + (r.base?.errors ?? 0), 0)), 0);
  /** Why runs of a row could not be used: "round 2: …", "@1000, round 1: …", "@1000 (paired direct run), round 1: …". */
  const problems = (label) => {
    const out = [];
    all(label).forEach((m, i) => {
      const round = o.rounds > 1 ? `, round ${i + 1}` : '';
      if (m.failed) return out.push(`not measured${round}: ${m.failed}`);
      if (m.max.problems?.length) out.push(`max rps${round}: ${m.max.problems.join('; ')}`);
      for (const [rate, r] of Object.entries(m.rates)) {
        if (r.problems?.length) out.push(`@${rate}${round}: ${r.problems.join('; ')}`);
        if (r.base?.problems?.length) out.push(`@${rate} (paired direct run)${round}: ${r.base.problems.join('; ')}`);
      }
    });
    return out;
  };
  /** Other work (vCPUs) during every timed fixed-rate run of the table, and the direct path's p90 in each of them. */
  const noise = () => {
    const others = [];
    const directP90 = [];
    for (const rounds of Object.values(results)) {
      for (const m of rounds) {
        if (m.failed) continue;
        for (const r of Object.values(m.rates)) {
          for (const run of [r, r.base]) if (run && Number.isFinite(run.others)) others.push(run.others);
          if (usable(r.base)) directP90.push(r.base.p90);
        }
      }
    }
    for (const m of all('direct')) if (!m.failed && usable(m.rates[R])) directP90.push(m.rates[R].p90);
    return noiseVerdict({ others, directP90 });
  };
  return { R, has, q, cpu, max, rss, added, addedRounds, pairedRatio, addedRatioOf, p90At, maxOf, cpuOf, samples, errors, problems, noise };
}

function header(o, maxLabel, extra = []) {
  const R = reportRate(o);
  return [
    'path',
    maxLabel,
    ...extra,
    ...o.rates.flatMap((r) => [`p50 @${r}`, `p90 @${r}`, `p99 @${r}`]),
    `added p50/p90/p99 @${R} (ms)`,
    `vCPU-s per 1k req @${R} (per proxy)`,
    'RSS MiB (per proxy)',
    `samples ${o.rates.map((r) => `@${r}`).join(' / ')}`,
    `spread p90 / CPU @${R}`,
    'errors',
  ];
}

function rows(v, labels, o, { extra } = {}) {
  return labels.map((label) => {
    const direct = label === 'direct';
    return [
      label,
      cell(v.max(label)),
      ...(extra ? extra(label) : []),
      ...o.rates.flatMap((r) => ['p50', 'p90', 'p99'].map((x) => cell(v.q(label, x, r)))),
      direct ? '—' : ['p50', 'p90', 'p99'].map((x) => formatAdded(v.added(label, x))).join(' / '),
      direct ? '—' : cell(v.cpu(label)),
      direct ? '—' : cell(v.rss(label)),
      o.rates.map((r) => fmt(v.samples(label, r))).join(' / '),
      `${formatSpread(v.q(label, 'p90'))} / ${direct ? '—' : formatSpread(v.cpu(label))}`,
      v.errors(label),
    ];
  });
}

/** The rows' problems and the table's noise, as text under the table. */
function notes(v, labels) {
  const out = [];
  const failed = labels.flatMap((l) => v.problems(l).map((p) => `- ${l}, ${p}`));
  if (failed.length) out.push('', 'Runs that could not be used (reported as FAILED, left out of medians and ratios):', '', ...failed);
  const n = v.noise();
  if (n.noisy) out.push('', `**Too noisy for latency:** ${n.why.join('; ')}. Latency figures and latency goals of this table are not judged; CPU per request and RSS are.`);
  return out;
}

const samplesNote = (o) => `${o.seconds} s per fixed-rate run; "samples" counts latency samples of the usable runs at each rate, all rounds together.`;

/** A CPU-per-request goal for one row of a table. */
function cpuGoal(v, part, label, what) {
  if (!v.has(label)) return [];
  const s = v.cpu(label);
  const failed = s.n ? [] : v.problems(label).length ? v.problems(label) : ['no usable run'];
  return [{ part, goal: `${what} ≤ ${CPU_GOAL} vCPU-s per 1k requests @${v.R}`, measured: withRange(s), status: goalStatus({ value: s.median, ok: s.median <= CPU_GOAL, failed }) }];
}

/** The HTTP/1.1 table of one response size, its ratio tables and its goals: { text, goals }. */
export function reportHttp(size, results, o) {
  const v = view(results, o);
  const { R, has } = v;
  const labels = Object.keys(results);
  const part = `HTTP/1.1 ${size.toLocaleString('en-US')} B`;
  const lines = [`### HTTP/1.1, ${size.toLocaleString('en-US')} B responses (${o.rounds} round(s), medians)`, '', samplesNote(o), ''];
  lines.push(table(header(o, 'max rps'), rows(v, labels, o)));
  lines.push(...notes(v, labels));
  // Ratios of Trellis to nginx (and haproxy), the figures the goals are stated in; each pairs runs of one round.
  const ratioRows = [];
  for (const [name, suffix] of [['1 hop', '×1'], ['2 hops', '×2'], ['2 hops mTLS', MTLS]]) {
    for (const peer of ['nginx', 'haproxy']) {
      const t = `trellis ${suffix}`;
      const p = `${peer} ${suffix}`;
      if (!has(t) || !has(p)) continue;
      ratioRows.push([`${name}, ÷ ${peer}`, v.pairedRatio(t, p, v.maxOf), v.pairedRatio(t, p, v.p90At), v.addedRatioOf(t, p, 'p90'), v.pairedRatio(t, p, v.cpuOf)]);
    }
  }
  if (ratioRows.length) lines.push('', table(['Trellis ÷ peer (same round)', 'max rps', `p90 @${R}`, `added p90 @${R}`, 'CPU per request'], ratioRows));
  // What mutual TLS costs each proxy: its mTLS two-hop path over its plaintext two-hop path.
  const tlsRows = [];
  for (const kind of o.kinds) {
    const plain = `${kind} ×2`;
    const tls = `${kind} ${MTLS}`;
    if (!has(plain) || !has(tls)) continue;
    const extra = (x) => {
      const a = v.added(tls, x);
      const b = v.added(plain, x);
      if (a.failed || b.failed) return 'FAILED';
      const d = (a.ms ?? 0) - (b.ms ?? 0);
      return d > 0 ? d.toFixed(2) : 'noise';
    };
    tlsRows.push([kind, v.pairedRatio(tls, plain, v.maxOf), extra('p50'), extra('p90'), v.pairedRatio(tls, plain, v.cpuOf)]);
  }
  if (tlsRows.length) lines.push('', table(['mTLS ÷ plaintext, two hops', 'max rps', `extra p50 @${R} (ms)`, `extra p90 @${R} (ms)`, 'CPU per request'], tlsRows));
  // The two-hop mTLS rows against each other: added latency per percentile, and Trellis's ratio to each peer.
  const mtlsKinds = o.kinds.filter((k) => has(`${k} ${MTLS}`));
  if (has(`trellis ${MTLS}`) && mtlsKinds.length > 1) {
    const peers = mtlsKinds.filter((k) => k !== 'trellis');
    lines.push(
      '',
      table(
        [`two hops, mTLS: added @${R} (ms)`, ...mtlsKinds, ...peers.map((k) => `Trellis ÷ ${k}`)],
        ['p50', 'p90', 'p99'].map((x) => [x, ...mtlsKinds.map((k) => formatAdded(v.added(`${k} ${MTLS}`, x))), ...peers.map((k) => v.addedRatioOf(`trellis ${MTLS}`, `${k} ${MTLS}`, x))]),
      ),
    );
  }
  const goals = size <= 1024 ? latencyGoals(v, part) : [...cpuGoal(v, part, 'trellis ×1', '64 KiB responses, one hop'), ...cpuGoal(v, part, `trellis ${MTLS}`, '64 KiB responses, two hops with mTLS, per proxy')];
  if (goals.length) lines.push('', goalTable(goals));
  return { text: lines.join('\n'), goals };
}

/** The two-hop mTLS latency goals: added p90 ≤ 1.0 ms, and ≤ 1.5× nginx's with TLS (same-round pairs). */
function latencyGoals(v, part) {
  const t = `trellis ${MTLS}`;
  const n = `nginx ${MTLS}`;
  if (!v.has(t) || !v.has(n)) return [];
  const busy = v.noise().noisy ? v.noise().why : [];
  const a = v.added(t, 'p90');
  const an = v.added(n, 'p90');
  const failedOf = (x, label) => (x.failed ? v.problems(label).map((p) => `${label}, ${p}`) : []);
  const absolute = {
    part,
    goal: `two-hop mTLS added p90 @${v.R} ≤ 1.0 ms`,
    measured: a.ms ? `${withRange(a.spread, ' ms')} (nginx ${formatAdded(an)}${an.ms ? ' ms' : ''})` : formatAdded(a),
    status: goalStatus({ value: a.ms, ok: a.ms <= 1.0, failed: failedOf(a, t), noise: !!a.noise, busy, latency: true }),
  };
  const ratio = spread(v.addedRounds(t, 'p90').map((x, i) => addedRatio(x, v.addedRounds(n, 'p90')[i])));
  const relative = {
    part,
    goal: `two-hop mTLS ≤ 1.5× nginx two hops with TLS (added p90 @${v.R}, same-round pairs)`,
    measured: ratio.n ? withRange(ratio, '×') : '—',
    status: goalStatus({ value: ratio.median, ok: ratio.median <= 1.5, failed: [...failedOf(a, t), ...failedOf(an, n)], noise: !ratio.n && !a.failed && !an.failed, busy, latency: true }),
  };
  return [absolute, relative];
}

export function goalTable(goals) {
  return table(['goal', 'measured', 'status'], goals.map((g) => [g.goal, g.measured, g.status]));
}

/** The gRPC or TCP echo table of one message size (direct and one hop) and its goals: { text, goals }. */
export function reportOneHop(variant, size, results, o) {
  const v = view(results, o);
  const { R, has } = v;
  const labels = Object.keys(results);
  const title =
    variant === 'grpc'
      ? `### gRPC unary (HTTP/2 cleartext, h2load), ${size.toLocaleString('en-US')} B responses (${o.rounds} round(s), medians)`
      : `### TCP echo (tcp_proxy / nginx stream / haproxy mode tcp), ${size.toLocaleString('en-US')} B messages (${o.rounds} round(s), medians)`;
  const lines = [title, '', samplesNote(o), ''];
  const extra = variant === 'tcp' ? ['MiB/s each way at max'] : [];
  const mib = (label) => {
    const m = v.max(label);
    return m.n ? (m.median * size) / 2 ** 20 : 'FAILED';
  };
  lines.push(table(header(o, variant === 'tcp' ? 'max round trips/s' : 'max rps', extra), rows(v, labels, o, { extra: variant === 'tcp' ? (l) => [mib(l)] : undefined })));
  lines.push(...notes(v, labels));
  const ratioRows = [];
  for (const peer of ['nginx', 'haproxy']) {
    const p = `${peer} ×1`;
    if (!has('trellis ×1') || !has(p)) continue;
    ratioRows.push([`÷ ${peer}`, v.pairedRatio('trellis ×1', p, v.maxOf), v.pairedRatio('trellis ×1', p, v.p90At), v.addedRatioOf('trellis ×1', p, 'p90'), v.pairedRatio('trellis ×1', p, v.cpuOf)]);
  }
  if (ratioRows.length) lines.push('', table([`Trellis ×1 (${variant}, same round)`, 'max', `p90 @${R}`, `added p90 @${R}`, 'CPU per request'], ratioRows));
  const goals = variant === 'grpc' ? cpuGoal(v, `gRPC ${size.toLocaleString('en-US')} B`, 'trellis ×1', 'gRPC unary, one hop') : [];
  if (goals.length) lines.push('', goalTable(goals));
  return { text: lines.join('\n'), goals };
}
