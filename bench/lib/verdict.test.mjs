// The benchmark's reporting rules: which runs are believed, how rounds are summarised, how added latency below the
// noise is shown. Pure functions, no load generated.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addedLatency, addedRatio, fixedRateProblems, formatAdded, formatSpread, goalStatus, LIMITS, maxRunProblems, median, medianAdded, noiseVerdict, otherWork, spread } from './verdict.mjs';

const close = (x) => Math.round(x * 1e9) / 1e9;
const good = { requests: 5000, errors: 0, seconds: 5, p50: 0.3, p90: 0.6, p99: 1.4 };

describe('fixed-rate runs', () => {
  it('accepts a run that held its rate with enough samples and no errors', () => {
    assert.deepEqual(fixedRateProblems(good, { rate: 1000 }), []);
  });

  it('refuses the empty histogram that used to print p50 0 / p90 0 / p99 0 with errors 0', () => {
    const problems = fixedRateProblems({ requests: 0, errors: 0, seconds: 2, p50: 0, p90: 0, p99: 0 }, { rate: 1000 });
    assert.ok(problems.some((p) => /0 latency sample/.test(p)), problems.join('; '));
    assert.ok(problems.some((p) => /no latency figure for p50, p90, p99/.test(p)), problems.join('; '));
    assert.ok(problems.some((p) => /100\.0% below the 1,000\/s asked/.test(p)), problems.join('; '));
  });

  it('refuses a run that missed its rate by more than the tolerance, and says by how much', () => {
    assert.deepEqual(fixedRateProblems({ ...good, requests: 4800 }, { rate: 1000 }), []); // 4% below
    // 2,000 Poisson arrivals vary by ±2.2% (σ) on their own: a 6% miss in a 2 s run is within 3σ, 8% is not.
    assert.deepEqual(fixedRateProblems({ ...good, requests: 1880, seconds: 2 }, { rate: 1000 }), []);
    assert.match(fixedRateProblems({ ...good, requests: 1840, seconds: 2 }, { rate: 1000 })[0], /8\.0% below/);
    const problems = fixedRateProblems({ ...good, requests: 4250 }, { rate: 1000 });
    assert.deepEqual(problems, ['rate 850/s, 15.0% below the 1,000/s asked']);
    assert.match(fixedRateProblems({ ...good, requests: 6000 }, { rate: 1000 })[0], /20\.0% above/);
  });

  it('refuses failed requests and too few samples', () => {
    assert.deepEqual(fixedRateProblems({ ...good, errors: 3 }, { rate: 1000 }), ['3 failed request(s)']);
    const few = fixedRateProblems({ ...good, requests: 150, seconds: 1.5 }, { rate: 100 });
    assert.deepEqual(few, [`150 latency sample(s), fewer than the ${LIMITS.minSamples} a p99 needs`]);
  });

  it('refuses a missing result', () => {
    assert.deepEqual(fixedRateProblems(undefined, { rate: 1000 }), ['no result']);
  });
});

describe('max-throughput runs', () => {
  it('needs completed requests and no errors', () => {
    assert.deepEqual(maxRunProblems({ rps: 20000, requests: 40000, errors: 0 }), []);
    assert.deepEqual(maxRunProblems({ rps: 0, requests: 0, errors: 0 }), ['no request completed']);
    assert.deepEqual(maxRunProblems({ rps: 100, requests: 200, errors: 2 }), ['2 failed request(s)']);
  });
});

describe('rounds: median and spread', () => {
  it('gives the median, range and relative spread of the finite values', () => {
    assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3, relative: 1 });
    const two = spread([0.9, NaN, 1.1]);
    assert.deepEqual({ ...two, relative: close(two.relative) }, { median: 1, min: 0.9, max: 1.1, n: 2, relative: 0.2 });
    assert.equal(spread([5]).relative, 0);
    assert.equal(spread([]).n, 0);
    assert.ok(Number.isNaN(median([NaN])));
  });

  it('prints the spread as ± half the range, and nothing for one round', () => {
    assert.equal(formatSpread(spread([0.9, 1, 1.1])), '±10%');
    assert.equal(formatSpread(spread([1])), '—');
  });
});

describe('added latency', () => {
  it('is a latency only when the path is slower than direct; otherwise noise, never a negative figure', () => {
    assert.deepEqual(addedLatency(0.8, 0.3), { ms: 0.5 });
    assert.deepEqual(addedLatency(0.25, 0.3), { noise: true });
    assert.deepEqual(addedLatency(0.3, 0.3), { noise: true });
    assert.deepEqual(addedLatency(NaN, 0.3), { failed: true });
    assert.equal(formatAdded(addedLatency(0.25, 0.3)), 'noise');
    assert.equal(formatAdded(addedLatency(0.8, 0.3)), '0.50');
    assert.equal(formatAdded({ failed: true }), 'FAILED');
  });

  it('takes the median over rounds, noise rounds as zero, failed rounds left out', () => {
    const m = medianAdded([{ ms: 0.5 }, { noise: true }, { ms: 0.7 }, { failed: true }]);
    assert.equal(m.ms, 0.5);
    assert.equal(m.rounds, 3);
    assert.deepEqual(medianAdded([{ noise: true }, { noise: true }, { ms: 0.4 }]), { noise: true, rounds: 3 });
    assert.deepEqual(medianAdded([{ failed: true }]), { failed: true });
  });

  it('forms ratios only of two latencies', () => {
    assert.equal(addedRatio({ ms: 0.9 }, { ms: 0.6 }), 1.5);
    assert.ok(Number.isNaN(addedRatio({ ms: 0.9 }, { noise: true })));
  });
});

describe('noise', () => {
  it('counts other work as the machine busy time this benchmark did not use', () => {
    // 2 s wall; the machine was busy 3.0 CPU-s of which 1.4 were ours: 0.8 vCPU of other work.
    assert.equal(close(otherWork({ at: 10, machine: 100, ours: 20 }, { at: 12, machine: 103, ours: 21.4 })), 0.8);
    assert.equal(otherWork({ at: 10, machine: 100, ours: 20 }, { at: 12, machine: 101, ours: 21.4 }), 0);
    assert.ok(Number.isNaN(otherWork({ at: 10, machine: 0, ours: 0 }, { at: 10, machine: 0, ours: 0 })));
  });

  it('calls a run too noisy for latency when other work or the direct path varies beyond the limits', () => {
    assert.deepEqual(noiseVerdict({ others: [0.05, 0.1], directP90: [0.2, 0.22, 0.25] }), { noisy: false, why: [] });
    const busy = noiseVerdict({ others: [0.05, 0.9, 1.2], directP90: [0.2, 0.22, 0.25] });
    assert.equal(busy.noisy, true);
    assert.match(busy.why[0], /other work used up to 1\.20 vCPU/);
    const erratic = noiseVerdict({ others: [0], directP90: [0.2, 0.3, 1.9] });
    assert.match(erratic.why[0], /direct path's p90 ranged 0\.20–1\.90 ms over 3 runs/);
  });
});

describe('goal status', () => {
  it('says met or missed for a usable value, and why otherwise', () => {
    assert.equal(goalStatus({ value: 0.9, ok: true }), 'met');
    assert.equal(goalStatus({ value: 1.2, ok: false }), 'missed');
    assert.equal(goalStatus({ value: 0.9, ok: true, failed: ['trellis ×2 mTLS, @1000: 0 latency sample(s)'] }), 'FAILED: trellis ×2 mTLS, @1000: 0 latency sample(s)');
    assert.match(goalStatus({ noise: true }), /^not measurable/);
    assert.equal(goalStatus({ value: NaN }), 'not measured in this run');
    assert.match(goalStatus({ value: 0.9, ok: true, busy: ['other work 1.1 vCPU'], latency: true }), /^not judged \(met as measured\): other work/);
    // CPU and memory goals are judged on a busy machine.
    assert.equal(goalStatus({ value: 0.12, ok: true, busy: ['other work 1.1 vCPU'] }), 'met');
  });
});
