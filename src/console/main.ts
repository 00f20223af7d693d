// Starts the console on its own: `trellis console --config-dir DIR [--prometheus URL] [--plugin] …`.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { controlPlaneGatewayStatus } from './mesh/gateway-api-status.js';
import { controlPlaneConfigDump, synczProxies } from './mesh/syncz.js';
import { PLUGIN_BASE_PATH } from './plugin-metadata.js';
import { YamlMeshSource } from './mesh/yaml-mesh-source.js';
import { PrometheusMetricsSource } from './metrics/prometheus.js';
import { ConsoleServer, DEFAULT_CONSOLE_PORT } from './server.js';

const USAGE = `usage: node dist/console/main.js --config-dir DIR [options]
  --config-dir DIR           manifests and Istio config to show (and write to)
  --prometheus URL           Prometheus (e.g. http://127.0.0.1:9090)
  --controlplane-debug URL   control plane debug port, for proxy and Gateway API status (e.g. http://127.0.0.1:15014)
  --ca-root FILE             CA root certificate (PEM) shown on the control-plane page
  --host ADDR                bind address (default 127.0.0.1; others require a token)
  --port N                   default ${DEFAULT_CONSOLE_PORT}
  --token T                  token for non-loopback bindings (generated when omitted)
  --view-only                refuse every change
  --no-istio-api             work from manifests and Prometheus alone
  --plugin                   also serve the OpenShift console plugin (plugin-manifest.json, its modules and the
                             ConsolePlugin resource) under ${PLUGIN_BASE_PATH}; builds it first if needed`;

/** The built plugin, built now when it is not there yet (that needs the dev dependencies: webpack and the SDK). */
async function pluginDir(log: (l: string) => void): Promise<string> {
  const dir = fileURLToPath(new URL('./plugin/', import.meta.url));
  if (existsSync(join(dir, 'plugin-manifest.json'))) return dir;
  log('console: building the OpenShift console plugin…');
  const { buildPlugin } = await import('./build-plugin.js');
  const r = await buildPlugin({ outDir: dir });
  log(`console: plugin built in ${r.ms} ms`);
  return dir;
}

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
      plugin: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values['config-dir']) {
    process.stderr.write(USAGE + '\n');
    process.exit(values.help ? 0 : 2);
  }
  const mesh = new YamlMeshSource({
    configDir: values['config-dir'],
    ...(values['controlplane-debug'] ? { proxies: synczProxies(values['controlplane-debug']), configDump: controlPlaneConfigDump(values['controlplane-debug']), gatewayStatus: controlPlaneGatewayStatus(values['controlplane-debug']) } : {}),
    ...(values['ca-root'] ? { caRootCertFile: values['ca-root'] } : {}),
  });
  const log = (l: string) => process.stderr.write(l + '\n');
  const server = new ConsoleServer({
    mesh,
    ...(values.plugin ? { pluginDir: await pluginDir(log) } : {}),
    ...(values.prometheus ? { metrics: new PrometheusMetricsSource(values.prometheus) } : {}),
    ...(values.host ? { host: values.host } : {}),
    port: values.port ? Number(values.port) : DEFAULT_CONSOLE_PORT,
    ...(values.token ? { token: values.token } : {}),
    viewOnlyMode: !!values['view-only'],
    istioApiEnabled: !values['no-istio-api'],
    log,
  });
  const port = await server.listen();
  const shown = server.host.includes(':') ? `[${server.host}]` : server.host;
  process.stdout.write(`console: http://${shown === '0.0.0.0' || shown === '[::]' ? '127.0.0.1' : shown}:${port}/\n`);
  if (server.authRequired && !values.token) process.stdout.write(`console: token ${server.token}\n`);
  if (values.plugin) process.stdout.write(`console: OpenShift console plugin at ${PLUGIN_BASE_PATH}plugin-manifest.json, registered by ${PLUGIN_BASE_PATH}console-plugin.yaml\n`);
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
