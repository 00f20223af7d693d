// A worker process of `trellis proxy --concurrency N`: one in-process data plane that listens on the sockets it
// shares with its sibling workers (node:cluster, the kernel spreads connections), configured only by its primary.
// It answers every request from the primary over IPC and never talks to the control plane or the CA itself.

import cluster from 'node:cluster';
import { clusterStatuses } from '../admin/clusters-text.js';
import { ProxyConfigError } from '../errors.js';
import { shrinkHeapWhenIdle } from '../idle-heap.js';
import { log, setLevel, setProcessTag } from '../log.js';
import { InProcessDataplane } from './in-process.js';
import { WORKER_SETUP_ENV, type Hello, type Op, type Operations, type Request, type Response, type WorkerSetup } from './protocol.js';

const logger = log('main');

type Handlers = { [O in Op]: (args: Operations[O]['args']) => Operations[O]['value'] | Promise<Operations[O]['value']> };

export async function runWorker(setup: WorkerSetup): Promise<void> {
  setProcessTag(`worker ${setup.slot}`);
  shrinkHeapWhenIdle();
  for (const [name, level] of Object.entries(setup.levels)) setLevel(level, name);
  const dp = new InProcessDataplane(setup.proxy, (l) => logger.warn(l));
  if (setup.telemetry) await dp.enableTelemetry(setup.telemetry);
  const send = (m: Response | Hello) => {
    if (process.connected) process.send!(m);
  };

  const handlers: Handlers = {
    apply: async ({ snapshot, sds }) => {
      const r = await dp.apply(snapshot, sds);
      return { version: r.version, issues: r.issues, listeners: await dp.admin.listeners() };
    },
    secret: ({ name, secret }) => (dp.setSecret(name, secret), null),
    stats: () => dp.proxy.stats.entries(),
    clusters: () => clusterStatuses(dp.proxy),
    metrics: async () => (dp.metrics ? dp.metrics.toJson() : []),
    configDump: (q) => dp.admin.configDump(q),
    logging: ({ level, name }) => (setLevel(level, name), null),
    drainListeners: () => (dp.admin.drainListeners(), null),
    drain: async ({ ms }) => {
      await dp.drain(ms);
      // Exit once the answer is on its way; the primary waits for this exit.
      setImmediate(() => void dp.proxy.close().finally(() => process.exit(0)));
      return null;
    },
  };

  process.on('message', (m: Request) => {
    if (m?.t !== 'req') return;
    const handler = handlers[m.op] as (args: unknown) => unknown;
    Promise.resolve()
      .then(() => handler(m.args))
      .then(
        (value) => send({ t: 'res', id: m.id, ok: true, value: value ?? null }),
        (err: Error) => send({ t: 'res', id: m.id, ok: false, error: err.message, issues: err instanceof ProxyConfigError ? err.issues : undefined }),
      );
  });
  // SIGTERM/SIGINT reach the whole process group (Ctrl-C, a supervisor): the primary drains every worker in order, so
  // a worker waits for it instead of dying on its own. If the primary is gone, node:cluster exits the worker as soon
  // as the IPC channel closes.
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  send({ t: 'hello', pid: process.pid });
}

if (cluster.isWorker) {
  const setup = JSON.parse(process.env[WORKER_SETUP_ENV] ?? '{}') as WorkerSetup;
  runWorker(setup).catch((err) => {
    logger.error(`worker failed to start: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  });
}
