// Starts the console on its own: `node dist/console/main.js --config-dir DIR [--prometheus URL] …` (until `trellis console` wires it).

import { parseArgs } from 'node:util';
import { synczProxies } from './mesh/syncz.js';
import { YamlMeshSource } from './mesh/yaml-mesh-source.js';
import { PrometheusMetricsSource } from './metrics/prometheus.js';
import { ConsoleServer, DEFAULT_CONSOLE_PORT } from './server.js';

const USAGE = `usage: node dist/console/main.js --config-dir DIR [options]
  --config-dir DIR           manifests and Istio config to show (and write to)
  --prometheus URL           Prometheus (e.g. http://127.0.0.1:9090)
  --controlplane-debug URL   control plane debug port, for proxy status (e.g. http://127.0.0.1:15014)
  --ca-root FILE             CA root certificate (PEM) shown on the control-plane page
  --host ADDR                bind address (default 127.0.0.1; others require a token)
  --port N                   default ${DEFAULT_CONSOLE_PORT}
  --token T                  token for non-loopback bindings (generated when omitted)
  --view-only                refuse every change
  --no-istio-api             work from manifests and Prometheus alone`;

export async function main(argv: string[]): Promise<ConsoleServer> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'config-dir': { type: 'string' },
      prometheus: { type: 'string' },
      'controlplane-debug': { type: 'string' },
      'ca-root': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      token: { type: 'string' },
      'view-only': { type: 'boolean' },
      'no-istio-api': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values['config-dir']) {
    process.stderr.write(USAGE + '\n');
    process.exit(values.help ? 0 : 2);
  }
  const mesh = new YamlMeshSource({
    configDir: values['config-dir'],
    ...(values['controlplane-debug'] ? { proxies: synczProxies(values['controlplane-debug']) } : {}),
    ...(values['ca-root'] ? { caRootCertFile: values['ca-root'] } : {}),
  });
  const server = new ConsoleServer({
    mesh,
    ...(values.prometheus ? { metrics: new PrometheusMetricsSource(values.prometheus) } : {}),
    ...(values.host ? { host: values.host } : {}),
    port: values.port ? Number(values.port) : DEFAULT_CONSOLE_PORT,
    ...(values.token ? { token: values.token } : {}),
    viewOnlyMode: !!values['view-only'],
    istioApiEnabled: !values['no-istio-api'],
    log: (l) => process.stderr.write(l + '\n'),
  });
  const port = await server.listen();
  const shown = server.host.includes(':') ? `[${server.host}]` : server.host;
  process.stdout.write(`console: http://${shown === '0.0.0.0' || shown === '[::]' ? '127.0.0.1' : shown}:${port}/\n`);
  if (server.authRequired && !values.token) process.stdout.write(`console: token ${server.token}\n`);
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (server) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void server.close().then(() => process.exit(0)));
    },
    (err) => {
      process.stderr.write(`console: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
