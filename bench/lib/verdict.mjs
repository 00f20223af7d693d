// Whether a measurement can be believed, and how figures from several rounds are summarised: pure functions, so the
// rules the benchmark reports by are tested (verdict.test.mjs) rather than trusted. A run that cannot be believed is
// reported as FAILED with the reasons, never as a number: zeros from an empty latency histogram, a rate the load
// generator did not hold, or failed requests must not turn into figures or goals.

/** The rules, in one place. */
export const LIMITS = {
  /**
   * A fixed-rate run whose achieved rate is further than this from the rate asked for is not that rate's figure; or
   * three standard deviations of a Poisson count when that is wider (2,000 arrivals vary by ±2.2% on their own).
   */
  rateTolerance: 0.05,
  /** Fewer latency samples than this make p99 a guess (at most a couple of samples above it). */
  minSamples: 200,
  /** Other work on the machine (vCPUs, averaged over a timed run) above which its latency figures are not judged. */
  busyVcpu: 0.25,
  /** Relative spread (max − min) / median of the direct path's p90 across one run above which latency is noise. */
  noisySpread: 1.0,
};

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');

/**
 * Why a fixed-rate run cannot be used, or [] when it can. `run`: { requests, errors, seconds, p50, p90, p99 } as the
 * load generators return them (requests = completed requests = latency samples).
 */
export function fixedRateProblems(run, { rate, minSamples = LIMITS.minSamples, tolerance }) {
  if (!run) return ['no result'];
  const out = [];
  if (run.errors > 0) out.push(`${fmtInt(run.errors)} failed request(s)`);
  const samples = Number.isFinite(run.requests) ? run.requests : 0;
  if (samples < minSamples) out.push(`${fmtInt(samples)} latency sample(s), fewer than the ${fmtInt(minSamples)} a p99 needs`);
  const achieved = run.seconds > 0 ? samples / run.seconds : 0;
  const off = (achieved - rate) / rate;
  const expected = rate * (run.seconds > 0 ? run.seconds : 0);
  const allowed = tolerance ?? Math.max(LIMITS.rateTolerance, expected > 0 ? 3 / Math.sqrt(expected) : 0);
  if (Math.abs(off) > allowed) out.push(`rate ${fmtInt(achieved)}/s, ${Math.abs(off * 100).toFixed(1)}% ${off < 0 ? 'below' : 'above'} the ${fmtInt(rate)}/s asked`);
  const missing = ['p50', 'p90', 'p99'].filter((q) => !(Number.isFinite(run[q]) && run[q] > 0));
  if (missing.length) out.push(`no latency figure for ${missing.join(', ')}`);
  return out;
}

/** Why a flat-out (max throughput) run cannot be used, or []. */
export function maxRunProblems(run) {
  if (!run) return ['no result'];
  const out = [];
  if (run.errors > 0) out.push(`${fmtInt(run.errors)} failed request(s)`);
  if (!(run.requests > 0) || !(run.rps > 0)) out.push('no request completed');
  return out;
}

/** Median of the finite values (NaN when there are none). */
export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/**
 * Median and spread of one figure over rounds: { median, min, max, n, relative } where relative = (max − min) /
 * |median| (0 for one value, NaN when there is nothing to compare).
 */
export function spread(values) {
  const v = values.filter((x) => Number.isFinite(x));
  if (!v.length) return { median: NaN, min: NaN, max: NaN, n: 0, relative: NaN };
  const m = median(v);
  const min = Math.min(...v);
  const max = Math.max(...v);
  return { median: m, min, max, n: v.length, relative: v.length < 2 ? 0 : m === 0 ? NaN : (max - min) / Math.abs(m) };
}

/** "±12%" (half the range around the median), "—" for one round. */
export function formatSpread(s) {
  if (s.n < 2 || !Number.isFinite(s.relative)) return '—';
  return `±${Math.round((s.relative / 2) * 100)}%`;
}

/**
 * A path's added latency over the direct path (same quantile, runs made one after the other). A difference ≤ 0 is
 * not a latency: the noise between the two runs exceeded what the path costs. It is reported as such, never as a
 * negative figure: { ms } or { noise: true }.
 */
export function addedLatency(pathMs, directMs) {
  if (!Number.isFinite(pathMs) || !Number.isFinite(directMs)) return { failed: true };
  const d = pathMs - directMs;
  return d > 0 ? { ms: d } : { noise: true };
}

/** Added latency for a table cell: a number with two decimals, "noise", or "FAILED". */
export function formatAdded(a) {
  if (a.failed) return 'FAILED';
  if (a.noise) return 'noise';
  return a.ms.toFixed(2);
}

/** The median of per-round added latencies; rounds where it was noise count as noise, failed ones are left out. */
export function medianAdded(perRound) {
  const usable = perRound.filter((a) => !a.failed);
  if (!usable.length) return { failed: true };
  const values = usable.map((a) => (a.noise ? 0 : a.ms));
  const m = median(values);
  return m > 0 ? { ms: m, rounds: usable.length, spread: spread(values) } : { noise: true, rounds: usable.length };
}

/** A ratio of two added latencies, only where both are latencies. */
export function addedRatio(a, b) {
  return a.ms > 0 && b.ms > 0 ? a.ms / b.ms : NaN;
}

/**
 * CPU time of other work during a timed run, in vCPUs: the machine's busy time minus this benchmark's own processes
 * (the load generator, backends and proxies included), over the run's wall time. `before`/`after` are
 * cpuSnapshot()s: { at (s), machine (CPU-s busy, all CPUs), ours (CPU-s) }.
 */
export function otherWork(before, after) {
  const wall = after.at - before.at;
  if (!(wall > 0)) return NaN;
  return Math.max(0, (after.machine - before.machine - (after.ours - before.ours)) / wall);
}

/**
 * Whether a run's latency figures can be judged: other work during the timed runs (vCPUs, one per run) and the
 * spread of the direct path's p90 across the run (every proxied row is paired with a direct run). Returns
 * { noisy, why } — CPU per request and RSS are far less sensitive and are judged either way.
 */
export function noiseVerdict({ others = [], directP90 = [] }) {
  const why = [];
  const busy = others.filter((x) => Number.isFinite(x));
  const worst = busy.length ? Math.max(...busy) : 0;
  if (worst > LIMITS.busyVcpu) why.push(`other work used up to ${worst.toFixed(2)} vCPU during timed runs (median ${median(busy).toFixed(2)})`);
  const s = spread(directP90);
  if (s.n >= 3 && s.relative > LIMITS.noisySpread) why.push(`the direct path's p90 ranged ${s.min.toFixed(2)}–${s.max.toFixed(2)} ms over ${s.n} runs`);
  return { noisy: why.length > 0, why };
}

/**
 * A goal's status from what was measured: 'met' / 'missed' for a usable value; 'FAILED: …' when the measurement
 * failed; 'not measurable: …' when latency was below noise; 'not judged: …' for a latency goal on a busy machine.
 */
export function goalStatus({ value, ok, failed = [], noise = false, busy = [], latency = false }) {
  if (failed.length) return `FAILED: ${failed.join('; ')}`;
  if (noise) return 'not measurable: the path measured no slower than direct (noise above its cost)';
  if (!Number.isFinite(value)) return 'not measured in this run';
  if (latency && busy.length) return `not judged (${ok ? 'met' : 'missed'} as measured): ${busy[0]}`;
  return ok ? 'met' : 'missed';
}
