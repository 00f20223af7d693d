// npm run bench [-- --quick] [--only dataplane|http|grpc|tcp|sidecar|capture|ambient|controlplane|kubernetes|telemetry]: installs the peers it needs, runs
// everything on loopback, prints Markdown tables. Figures are compared side by side within one run (the machine is
// noisy). Every process the benchmark starts is stopped on the way out, also on failure and on Ctrl-C.
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { ensureSystemDeps } from '../scripts/system-deps.mjs';
import { installSignalHandlers, shutdownAll } from './lib/proc.mjs';
import { nginxHasStream } from './lib/peers.mjs';
import { runDataplane } from './dataplane.mjs';
import { runControlplane } from './controlplane.mjs';
import { runTelemetry } from './telemetry.mjs';
import { runSidecar } from './sidecar.mjs';
import { runCapture } from './capture.mjs';
import { runKubernetes } from './kubernetes.mjs';
import { runAmbient } from './ambient.mjs';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const quick = values.quick;
const parts = values.only ? values.only.split(',') : undefined;
const want = (name) => !parts || parts.includes(name);
const VARIANTS = ['http', 'grpc', 'tcp'];
const variants = VARIANTS.filter((v) => want('dataplane') || parts.includes(v));

/** nginx's stream module (TCP proxying) is a separate Debian package; install it like the other peers when missing. */
function ensureNginxStream() {
  if (nginxHasStream()) return;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  process.stderr.write('installing Debian package: libnginx-mod-stream\n');
  const run = (args) => {
    const [cmd, ...rest] = [...sudo, ...args];
    return spawnSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  run(['apt-get', 'update', '-qq']) && run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'libnginx-mod-stream']);
  if (!nginxHasStream()) process.stderr.write('no nginx stream module: the TCP echo table will have no nginx row\n');
}

installSignalHandlers();
const t0 = Date.now();
try {
  ensureSystemDeps('bench');
  if (variants.includes('tcp')) ensureNginxStream();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(`# Trellis benchmarks\n\n${new Date().toISOString()} · Node ${process.version} · ${os.cpus().length} × ${cpu} · ${Math.round(os.totalmem() / 2 ** 30)} GiB${quick ? ' · quick run' : ''}\n\n`);

  if (variants.length) {
    process.stdout.write('## Data plane\n\n');
    const kinds = ['trellis', 'nginx', 'haproxy'];
    const o = quick
      ? // About 90 s: HTTP 100 B at 1000 rps (Trellis and nginx one and two hops, all three two hops with mTLS) and
        // TCP echo; gRPC and the 64 KiB responses only in the full run (or --quick --only grpc).
        {
          variants: want('dataplane') ? ['http', 'tcp'] : variants,
          sizes: [100],
          rates: [1000],
          seconds: 2,
          maxSeconds: 2,
          rounds: 1,
          connections: 32,
          kinds,
          rows: ['trellis ×1', 'trellis ×1, 2 workers', 'trellis ×2', 'nginx ×1', 'nginx ×2', 'trellis ×2 mTLS', 'nginx ×2 mTLS', 'haproxy ×2 mTLS'],
          grpc: { sizes: [100], rows: undefined },
          tcp: { sizes: [100], rows: undefined },
        }
      : {
          variants,
          sizes: [100, 65536],
          rates: [100, 1000, 5000],
          seconds: 5,
          rounds: 3,
          connections: 32,
          kinds,
          grpc: { sizes: [100], rates: [100, 1000] }, // Trellis's gRPC path saturates below 5000 rps on this machine
          tcp: { sizes: [100, 65536] },
        };
    if (variants.includes('tcp') && !nginxHasStream()) o.tcp.kinds = kinds.filter((k) => k !== 'nginx');
    await runDataplane({ ...o, onTable: (t) => process.stdout.write(t + '\n\n') });
  }

  if (want('sidecar')) {
    process.stdout.write('## Sidecar in the mesh\n\n');
    process.stdout.write((await runSidecar({ idleSeconds: quick ? 10 : 30 })) + '\n\n');
  }

  if (want('capture')) {
    process.stdout.write('## Transparent capture (netns mode)\n\n');
    process.stdout.write((await runCapture(quick ? { rounds: 1, seconds: 3, connections: 16, rate: 500 } : { rounds: 3, seconds: 5, connections: 32, rate: 1000 })) + '\n\n');
  }

  if (want('ambient')) {
    process.stdout.write('## Ambient mode beside sidecars (netns mode)\n\n');
    process.stdout.write((await runAmbient(quick ? { rounds: 1, seconds: 3, connections: 16, rate: 500 } : { rounds: 3, seconds: 5, connections: 32, rate: 1000 })) + '\n\n');
  }

  if (want('controlplane')) {
    process.stdout.write('## Control plane\n\n');
    const o = quick ? { services: [10, 100], proxies: [10, 100] } : { services: [10, 100, 1000], proxies: [10, 100, 500] };
    process.stdout.write((await runControlplane(o)) + '\n\n');
  }

  if (want('kubernetes')) {
    process.stdout.write('## Kubernetes mode\n\n');
    process.stdout.write((await runKubernetes(quick ? { namespaces: 20, perNamespace: 10 } : { namespaces: 100, perNamespace: 10 })) + '\n\n');
  }

  if (want('telemetry')) {
    process.stdout.write('## Telemetry\n\n');
    process.stdout.write((await runTelemetry({ series: quick ? [100, 1000] : [100, 1000, 5000] })) + '\n\n');
  }
  process.stderr.write(`benchmark finished in ${Math.round((Date.now() - t0) / 1000)} s\n`);
} catch (err) {
  process.exitCode = 1;
  process.stderr.write(`benchmark failed: ${err?.stack ?? err}\n`);
} finally {
  await shutdownAll();
}
// AckClient sockets, timers: nothing else should keep the process alive once the children are gone.
process.exit();
