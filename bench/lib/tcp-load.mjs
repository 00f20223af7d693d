// TCP echo load: `connections` sockets each send a `size`-byte message and wait until all of it has come back.
//   max mode (rate 0): every socket sends its next message as soon as the echo is complete (round trips/s);
//   rate mode: one schedule of arrivals for all sockets (exponentially distributed gaps, mean 1/rate), each socket
//   waiting for the next slot after its echo is complete; a late socket fires its slot at once, so the rate holds
//   whatever the latency (like the wrk script for HTTP).
// Latency is from the write to the last echoed byte. Prints one JSON line.
// Usage: node bench/lib/tcp-load.mjs <port> <connections> <seconds> <rate> <size>
import net from 'node:net';

const [port, connections, seconds, rate, size] = process.argv.slice(2).map(Number);
const msg = Buffer.alloc(size, 'p');
const gapMs = rate > 0 ? 1000 / rate : 0;
let nextAt = performance.now();
const lat = [];
let requests = 0;
let errors = 0;
let stopping = false;
const t0 = performance.now();

function run(sock) {
  return new Promise((resolve) => {
    let pending = 0;
    let sentAt = 0;
    const send = () => {
      if (stopping) return resolve();
      pending = size;
      sentAt = performance.now();
      sock.write(msg);
    };
    const next = () => {
      if (gapMs <= 0) return send();
      nextAt -= Math.log(1 - Math.random()) * gapMs;
      const wait = nextAt - performance.now();
      if (wait <= 0) send();
      else setTimeout(send, wait);
    };
    sock.on('data', (d) => {
      pending -= d.length;
      if (pending > 0) return;
      if (pending < 0) errors++;
      lat.push(performance.now() - sentAt);
      requests++;
      next();
    });
    sock.on('error', () => (errors++, resolve()));
    sock.on('close', () => resolve());
    next();
  });
}

const socks = await Promise.all(
  Array.from({ length: connections }, () => new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  })),
);
const timer = setTimeout(() => (stopping = true), seconds * 1000);
const deadline = setTimeout(() => socks.forEach((s) => s.destroy()), seconds * 1000 + 5000);
await Promise.all(socks.map(run));
clearTimeout(timer);
clearTimeout(deadline);
const elapsed = (performance.now() - t0) / 1000;
for (const s of socks) s.destroy();
lat.sort((a, b) => a - b);
const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : NaN);
process.stdout.write(`TCPJSON ${JSON.stringify({ requests, errors, seconds: elapsed, rps: requests / elapsed, p50: q(50), p90: q(90), p99: q(99), p999: q(99.9), max: lat.at(-1) ?? NaN })}\n`);
