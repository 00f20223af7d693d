// The data-plane tables from made-up rounds: a failed measurement shows as FAILED with its reason (never zeros), every
// row has its sample count, ratios pair runs of one round, and no table or goal shows a negative latency.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportHttp, reportOneHop } from './dataplane-report.mjs';
import { fixedRateProblems, maxRunProblems } from './verdict.mjs';

const o = { rates: [1000], seconds: 5, rounds: 1, kinds: ['trellis', 'nginx'] };

/** A fixed-rate run as the load generators return it, checked as dataplane.mjs checks it. */
function run(p50, p90, p99, extra = {}) {
  const r = { requests: 5000, errors: 0, seconds: 5, p50, p90, p99, others: 0.05, ...extra };
  return { ...r, problems: fixedRateProblems(r, { rate: 1000 }) };
}
function maxRun(rps) {
  const r = { rps, requests: rps * 2, errors: 0, seconds: 2 };
  return { ...r, problems: maxRunProblems(r) };
}
/** One round of a proxied row: its run at 1000 rps paired with a direct run made just before. */
function proxied({ max = 10000, at, base = run(0.1, 0.2, 0.5), cpu = 0.15, rss = 60 }) {
  return { max: maxRun(max), rates: { 1000: { ...at, base, cpuPer1k: cpu } }, rss };
}
const direct = (p90 = 0.2) => ({ max: maxRun(40000), rates: { 1000: { ...run(0.1, p90, 0.5), cpuPer1k: NaN } }, rss: NaN });

/** Cells of the table row whose first cell is `label`. */
function rowOf(text, label) {
  const line = text.split('\n').find((l) => l.startsWith(`| ${label} |`));
  assert.ok(line, `no row ${label} in:\n${text}`);
  return line.split('|').slice(1, -1).map((c) => c.trim());
}
const NEGATIVE = /(^|[\s|(/:])-\d/m;

describe('data-plane report', () => {
  it('reports an empty latency histogram as FAILED with why, not as zeros, and keeps it out of the goals', () => {
    const results = {
      direct: [direct()],
      'trellis ×2 mTLS': [proxied({ at: run(0, 0, 0, { requests: 0 }) })],
      'nginx ×2 mTLS': [proxied({ at: run(0.6, 0.9, 1.5) })],
    };
    const { text, goals } = reportHttp(100, results, o);
    const row = rowOf(text, 'trellis ×2 mTLS');
    assert.deepEqual(row.slice(2, 5), ['FAILED', 'FAILED', 'FAILED']);
    assert.equal(row[5], 'FAILED / FAILED / FAILED');
    assert.match(text, /- trellis ×2 mTLS, @1000: 0 latency sample\(s\), fewer than the 200 a p99 needs; rate 0\/s, 100\.0% below/);
    assert.ok(!/\| 0\.00 \|/.test(text), text);
    assert.equal(goals.length, 2);
    for (const g of goals) assert.match(g.status, /^FAILED: trellis ×2 mTLS, @1000: 0 latency sample/);
  });

  it('shows every row with its sample count', () => {
    const results = { direct: [direct()], 'trellis ×1': [proxied({ at: run(0.4, 0.7, 1.6, { requests: 4990 }) })] };
    const { text } = reportHttp(100, results, o);
    const header = text.split('\n').find((l) => l.startsWith('| path |')).split('|').map((c) => c.trim());
    const col = header.indexOf('samples @1000') - 1;
    assert.equal(rowOf(text, 'trellis ×1')[col], '4,990');
    assert.equal(rowOf(text, 'direct')[col], '5,000');
  });

  it('never shows a negative latency: a path measured faster than direct is noise, and its goal is not measurable', () => {
    const results = {
      direct: [direct()],
      'trellis ×2 mTLS': [proxied({ at: run(0.6, 0.9, 3.2) })],
      // faster than its paired direct run: the noise exceeded the path's cost
      'nginx ×2 mTLS': [proxied({ at: run(0.08, 0.15, 0.3), base: run(0.1, 0.2, 0.5) })],
    };
    const { text, goals } = reportHttp(100, results, o);
    assert.equal(rowOf(text, 'nginx ×2 mTLS')[5], 'noise / noise / noise');
    assert.ok(!NEGATIVE.test(text), text);
    const relative = goals.find((g) => /1\.5×/.test(g.goal));
    assert.match(relative.status, /^not measurable/);
    assert.equal(goals.find((g) => /≤ 1\.0 ms/.test(g.goal)).status, 'met');
    for (const g of goals) assert.ok(!NEGATIVE.test(`${g.measured} ${g.status}`), JSON.stringify(g));
  });

  it('pairs ratios within a round: the median of per-round ratios, not a ratio of medians from different rounds', () => {
    const rounds3 = { ...o, rounds: 3 };
    // Per round Trellis needs 3×, 2.5× and 1× nginx's CPU (median 2.5×), while the machine drifts between rounds: the
    // medians of each row (0.4 and 0.2) would say 2×, pairing runs that were not measured together.
    const results = {
      direct: [direct(), direct(), direct()],
      'trellis ×1': [0.3, 0.5, 0.4].map((cpu) => proxied({ at: run(0.4, 0.7, 1.5), cpu })),
      'nginx ×1': [0.1, 0.2, 0.4].map((cpu) => proxied({ at: run(0.2, 0.3, 0.6), cpu })),
    };
    const { text } = reportHttp(100, results, rounds3);
    assert.equal(rowOf(text, '1 hop, ÷ nginx').at(-1), '2.50');
    // and the table shows the median with the spread over rounds (p90 steady, CPU 0.3–0.5 around 0.4)
    assert.equal(rowOf(text, 'trellis ×1').at(-2), '±0% / ±25%');
  });

  it('leaves a failed round out of the medians and says which round failed', () => {
    const results = {
      direct: [direct(), direct()],
      'trellis ×1': [proxied({ at: run(0.4, 0.7, 1.5), cpu: 0.12 }), { failed: 'Trellis rejected the bench config' }],
    };
    const { text } = reportHttp(100, results, { ...o, rounds: 2 });
    assert.match(text, /- trellis ×1, not measured, round 2: Trellis rejected the bench config/);
    const header = text.split('\n').find((l) => l.startsWith('| path |')).split('|').map((c) => c.trim());
    assert.equal(rowOf(text, 'trellis ×1')[header.indexOf('vCPU-s per 1k req @1000 (per proxy)') - 1], '0.12');
  });

  it('says when a run was too noisy for latency, and then does not judge latency goals (CPU goals still are)', () => {
    const busy = (at) => ({ ...at, others: 1.3 });
    const results = {
      direct: [direct()],
      'trellis ×2 mTLS': [proxied({ at: busy(run(0.6, 0.9, 3.2)) })],
      'nginx ×2 mTLS': [proxied({ at: busy(run(0.5, 0.7, 1.5)) })],
    };
    const { text, goals } = reportHttp(100, results, o);
    assert.match(text, /\*\*Too noisy for latency:\*\* other work used up to 1\.30 vCPU/);
    for (const g of goals) assert.match(g.status, /^not judged/);
    const grpc = reportOneHop('grpc', 100, { direct: [direct()], 'trellis ×1': [proxied({ at: busy(run(2, 3, 9)), cpu: 0.14 })] }, o);
    assert.equal(grpc.goals[0].status, 'met');
  });

  it('judges the 64 KiB CPU goals on the one-hop and two-hop mTLS rows', () => {
    const results = {
      direct: [direct()],
      'trellis ×1': [proxied({ at: run(0.5, 0.8, 2), cpu: 0.14 })],
      'trellis ×2 mTLS': [proxied({ at: run(1, 1.6, 5), cpu: 0.21 })],
    };
    const { goals } = reportHttp(65536, results, o);
    assert.deepEqual(goals.map((g) => [g.goal, g.status]), [
      ['64 KiB responses, one hop ≤ 0.15 vCPU-s per 1k requests @1000', 'met'],
      ['64 KiB responses, two hops with mTLS, per proxy ≤ 0.15 vCPU-s per 1k requests @1000', 'missed'],
    ]);
  });
});
