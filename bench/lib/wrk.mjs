// Load generation with wrk: max throughput at fixed concurrency, and open-loop-like fixed rates where every
// connection waits an exponentially distributed time between requests (wrk's delay()), so the arrivals form a
// steady Poisson stream instead of synchronized bursts. Results come back as JSON from wrk's done() hook.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { track } from './proc.mjs';

const LUA = `
local mean_ms = 0
function init(args)
  mean_ms = tonumber(args[1] or "0")
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
function delay()
  if mean_ms <= 0 then return 0 end
  return -math.log(1 - math.random()) * mean_ms
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,"status_errors":%d,"p50":%.1f,"p90":%.1f,"p99":%.1f,"p999":%.1f,"max":%.1f,"mean":%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
`;

let script;
function luaScript() {
  if (!script) {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-'));
    script = join(dir, 'rate.lua');
    writeFileSync(script, LUA);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return script;
}

/**
 * Run wrk once. `rate` (requests/s, total) paces the connections; without it wrk runs flat out. `wrap` runs it
 * through another command (`['ip', 'netns', 'exec', ns]`: from inside a pod's network namespace).
 * Returns rps and latency percentiles in milliseconds.
 */
export function wrk(url, { connections = 32, threads = 1, seconds = 5, rate = 0, headers = {}, wrap = [] } = {}) {
  const meanMs = rate > 0 ? (connections / rate) * 1000 : 0;
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', luaScript()];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url, '--', String(meanMs));
  return new Promise((resolve, reject) => {
    const [command, ...prefix] = [...wrap, 'wrk'];
    const child = track(spawn(command, [...prefix, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const r = JSON.parse(line.slice(8));
      const secs = r.duration_us / 1e6;
      resolve({
        rps: r.requests / secs,
        requests: r.requests,
        errors: r.errors + r.status_errors,
        p50: r.p50 / 1000,
        p90: r.p90 / 1000,
        p99: r.p99 / 1000,
        p999: r.p999 / 1000,
        mean: r.mean / 1000,
        seconds: secs,
      });
    });
  });
}
