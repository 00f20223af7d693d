// Load generation with wrk: max throughput at fixed concurrency, and fixed rates held as an open-loop Poisson stream:
// the script keeps one schedule of arrivals for all of its connections (exponentially distributed gaps, mean 1/rate)
// and wrk's delay() makes each connection wait for the next arrival slot. A connection that comes back late fires its
// slot at once, so the rate asked for is the rate sent whatever the path's latency (a wait counted from each
// response would lose the latency's share of the rate). Results come back as JSON from wrk's done() hook.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { track } from './proc.mjs';

// LuaJIT's FFI reads the monotonic clock (wrk's Lua API has none); one thread (-t 1), so the schedule is global.
const LUA = `
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } trellis_timespec;
int clock_gettime(int clk, trellis_timespec *tp);
]]
local ts = ffi.new("trellis_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local gap_ms = 0
local next_at = nil
function init(args)
  gap_ms = tonumber(args[1] or "0")
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
function delay()
  if gap_ms <= 0 then return 0 end
  local now = now_ms()
  if next_at == nil then next_at = now end
  next_at = next_at - math.log(1 - math.random()) * gap_ms
  local d = next_at - now
  if d < 0 then return 0 end
  return d
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
 * Returns rps, requests (= latency samples), errors and latency percentiles in milliseconds.
 */
export function wrk(url, { connections = 32, threads = 1, seconds = 5, rate = 0, headers = {}, wrap = [] } = {}) {
  const gapMs = rate > 0 ? 1000 / rate : 0; // the mean gap between two arrivals of the whole stream
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', luaScript()];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url, '--', String(gapMs));
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
