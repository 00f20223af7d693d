// npm run bench [-- --quick] [--only dataplane|controlplane]: installs the peers it needs, runs everything on loopback,
// prints Markdown tables. Figures are compared side by side within one run (the machine is noisy).
import { parseArgs } from 'node:util';
import os from 'node:os';
import { ensureSystemDeps } from '../scripts/system-deps.mjs';
import { runDataplane } from './dataplane.mjs';
import { runControlplane } from './controlplane.mjs';
import { runTelemetry } from './telemetry.mjs';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const quick = values.quick;
const want = (name) => !values.only || values.only.split(',').includes(name);

ensureSystemDeps('bench');
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(`# Trellis benchmarks\n\n${new Date().toISOString()} · Node ${process.version} · ${os.cpus().length} × ${cpu} · ${Math.round(os.totalmem() / 2 ** 30)} GiB${quick ? ' · quick run' : ''}\n\n`);

if (want('dataplane')) {
  process.stdout.write('## Data plane\n\n');
  const o = quick
    ? { sizes: [100], rates: [1000], seconds: 3, rounds: 1, connections: 32, kinds: ['trellis', 'nginx', 'haproxy'] }
    : { sizes: [100, 65536], rates: [100, 1000, 5000], seconds: 5, rounds: 3, connections: 32, kinds: ['trellis', 'nginx', 'haproxy'] };
  process.stdout.write((await runDataplane(o)) + '\n\n');
}

if (want('controlplane')) {
  process.stdout.write('## Control plane\n\n');
  const o = quick ? { services: [10, 100], proxies: [10, 100] } : { services: [10, 100, 1000], proxies: [10, 100, 500] };
  process.stdout.write((await runControlplane(o)) + '\n\n');
}

if (want('telemetry')) {
  process.stdout.write('## Telemetry\n\n');
  process.stdout.write((await runTelemetry({ series: quick ? [100, 1000] : [100, 1000, 5000] })) + '\n\n');
}
