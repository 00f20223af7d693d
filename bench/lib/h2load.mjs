// gRPC unary load with h2load (HTTP/2 cleartext, prior knowledge): the request is a gRPC-framed 10-byte message
// POSTed with gRPC's headers. Max throughput: `clients` connections × `streams` concurrent streams, flat out.
// Fixed rate: `clients` connections of one stream each, each sending rate/clients requests per second (h2load --rps);
// latency percentiles come from h2load's per-request log. h2load does not read gRPC trailers, so the paths are
// checked with a real gRPC client first (grpcCheck).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { tempDir, track } from './proc.mjs';

export const GRPC_PATH = '/bench.Bench/Unary';

let dir;
function workFiles() {
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'trellis-bench-h2load-'));
    tempDir(dir);
    const payload = Buffer.alloc(10, 'q');
    const frame = Buffer.alloc(5 + payload.length);
    frame.writeUInt32BE(payload.length, 1);
    payload.copy(frame, 5);
    writeFileSync(join(dir, 'request.bin'), frame);
  }
  return { request: join(dir, 'request.bin'), log: join(dir, `requests-${process.hrtime.bigint()}.log`) };
}

function quantile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/** One h2load run against http://127.0.0.1:port; rps and latency percentiles (ms) and failures. */
export function h2load(port, { clients = 4, streams = 16, seconds = 3, rate = 0 } = {}) {
  const f = workFiles();
  const args = ['-c', String(clients), '-m', String(rate > 0 ? 1 : streams), '-D', String(seconds), '-H', 'content-type: application/grpc', '-H', 'te: trailers', '-d', f.request];
  if (rate > 0) args.push('--rps', String(rate / clients), '--log-file', f.log);
  args.push(`http://127.0.0.1:${port}${GRPC_PATH}`);
  return new Promise((resolve, reject) => {
    const child = track(spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      const fin = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(out);
      const reqs = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
      if (code !== 0 || !fin || !reqs) return reject(new Error(`h2load failed (${code}):\n${out.slice(-2000)}`));
      const r = { rps: Number(fin[2]), requests: Number(reqs[4]), errors: Number(reqs[5]) + Number(reqs[6]) + Number(reqs[7]), seconds: Number(fin[1]) };
      if (rate > 0) {
        const lat = [];
        for (const line of readFileSync(f.log, 'utf8').split('\n')) {
          const [, status, us] = line.split('\t');
          if (!us) continue;
          if (status !== '200') r.errors++;
          lat.push(Number(us) / 1000);
        }
        lat.sort((a, b) => a - b);
        Object.assign(r, { p50: quantile(lat, 50), p90: quantile(lat, 90), p99: quantile(lat, 99), p999: quantile(lat, 99.9) });
      }
      resolve(r);
    });
  });
}

/** One real gRPC unary call through the path: status OK and the expected response size, or it throws. */
export async function grpcCheck(port, size) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const res = await new Promise((resolve, reject) =>
      client.makeUnaryRequest(GRPC_PATH, (b) => b, (b) => b, Buffer.alloc(10, 'q'), { deadline: Date.now() + 5000 }, (err, value) => (err ? reject(err) : resolve(value))),
    );
    if (res.length !== size) throw new Error(`gRPC response of ${res.length} bytes, expected ${size}`);
  } finally {
    client.close();
  }
}
