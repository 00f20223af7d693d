// npm run bench [-- --quick] [--rounds N] [--only dataplane|http|grpc|tcp|sidecar|capture|ambient|controlplane|kubernetes|telemetry]: installs the
// peers it needs, runs everything on loopback, prints Markdown tables and writes them to bench-results/<time>.md as
// well. Figures are compared side by side within one run (the machine is noisy); a run that cannot be believed is
// reported as FAILED with why (bench/lib/verdict.mjs); the goals judged by this run close the report. Every process
// the benchmark starts is stopped on the way out, also on failure and on Ctrl-C.
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { ensureSystemDeps } from '../scripts/system-deps.mjs';
import { installSignalHandlers, shutdownAll } from './lib/proc.mjs';
import { nginxHasStream } from './lib/peers.mjs';
import { runDataplane } from './dataplane.mjs';
import { runControlplane } from './controlplane.mjs';
import { runTelemetry } from './telemetry.mjs';
import { runSidecar } from './sidecar.mjs';
import { loadLine } from './lib/machine.mjs';
import { table } from './lib/table.mjs';
import { runCapture } from './capture.mjs';
import { runKubernetes } from './kubernetes.mjs';
import { runAmbient } from './ambient.mjs';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, rounds: { type: 'string' } } });
const quick = values.quick;
const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1)) {
  process.stderr.write(`--rounds takes a whole number ≥ 1, not "${values.rounds}"\n`);
  process.exit(2);
}
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

// Everything printed also goes to bench-results/<start time>.md (gitignored), so a run's tables outlive the terminal.
const resultsDir = fileURLToPath(new URL('../bench-results/', import.meta.url));
const started = new Date();
const resultsFile = `${resultsDir}${started.toISOString().replace(/[:.]/g, '-')}.md`;
mkdirSync(resultsDir, { recursive: true });
const out = (text) => {
  process.stdout.write(text);
  appendFileSync(resultsFile, text);
};
const goals = [];
const part = (r) => {
  goals.push(...r.goals);
  return r.text;
};

function git(args) {
  const r = spawnSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

installSignalHandlers();
const t0 = Date.now();
try {
  ensureSystemDeps('bench');
  if (variants.includes('tcp')) ensureNginxStream();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const head = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : '';
  out(`# Trellis benchmarks\n\n${started.toISOString()} · HEAD ${head}${dirty} · Node ${process.version} · ${os.cpus().length} × ${cpu} · ${Math.round(os.totalmem() / 2 ** 30)} GiB${quick ? ' · quick run' : ''}${rounds ? ` · ${rounds} round(s)` : ''}\n\nBefore the run: ${loadLine()}.\n\n`);

  if (variants.length) {
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
          rounds: rounds ?? 1,
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
          rounds: rounds ?? 3,
          connections: 32,
          kinds,
          grpc: { sizes: [100], rates: [100, 1000] }, // Trellis's gRPC path saturates below 5000 rps on this machine
          tcp: { sizes: [100, 65536] },
        };
    if (variants.includes('tcp') && !nginxHasStream()) o.tcp.kinds = kinds.filter((k) => k !== 'nginx');
    out('## Data plane\n\n');
    goals.push(...(await runDataplane({ ...o, onTable: (t) => out(t + '\n\n') })).goals);
  }

  if (want('sidecar')) {
    out('## Sidecar in the mesh\n\n');
    // V8 gives memory back in two steps after traffic (the idle shrink at ~5–10 s, its memory reducer ~8 s later).
    const idleSeconds = quick ? 20 : 30;
    out(part(await runSidecar({ idleSeconds })) + '\n\n');
    // The same mesh with the sidecars' grpc-js + protobufjs xDS and CA clients, measured right after for comparison.
    const ab = await runSidecar({ idleSeconds, env: { TRELLIS_XDS_CLIENT: 'grpc-js' }, label: 'grpc-js xDS and CA clients, for comparison' });
    out(ab.text.replace(/\n\n\| goal[\s\S]*$/, '') + '\n\n');
  }

  if (want('capture')) {
    out('## Transparent capture (netns mode)\n\n');
    out(part(await runCapture(quick ? { rounds: 1, seconds: 3, connections: 16, rate: 500 } : { rounds: 3, seconds: 5, connections: 32, rate: 1000 })) + '\n\n');
  }

  if (want('ambient')) {
    out('## Ambient mode beside sidecars (netns mode)\n\n');
    out(part(await runAmbient(quick ? { rounds: 1, seconds: 3, connections: 16, rate: 500 } : { rounds: 3, seconds: 5, connections: 32, rate: 1000 })) + '\n\n');
  }

  if (want('controlplane')) {
    out('## Control plane\n\n');
    const changes = Math.max(3, rounds ?? 3);
    const o = quick ? { services: [10, 100], proxies: [10, 100], changes } : { services: [10, 100, 1000], proxies: [10, 100, 500], extra: [[5000, 1000]], changes };
    out(part(await runControlplane(o)) + '\n\n');
  }

  if (want('kubernetes')) {
    out('## Kubernetes mode\n\n');
    out((await runKubernetes(quick ? { namespaces: 20, perNamespace: 10 } : { namespaces: 100, perNamespace: 10 })) + '\n\n');
  }

  if (want('telemetry')) {
    out('## Telemetry\n\n');
    out(part(await runTelemetry({ series: quick ? [100, 1000] : [100, 1000, 5000] })) + '\n\n');
  }
  out(`## Goals judged by this run\n\nAll from this run (${started.toISOString()}); after the run: ${loadLine()}.\n\n`);
  out((goals.length ? table(['part', 'goal', 'measured', 'status'], goals.map((g) => [g.part, g.goal, g.measured, g.status])) : 'No goal is measured by the parts run.') + '\n');
  process.stderr.write(`benchmark finished in ${Math.round((Date.now() - t0) / 1000)} s; tables in ${resultsFile}\n`);
} catch (err) {
  process.exitCode = 1;
  process.stderr.write(`benchmark failed: ${err?.stack ?? err}\n`);
} finally {
  await shutdownAll();
}
// AckClient sockets, timers: nothing else should keep the process alive once the children are gone.
process.exit();
