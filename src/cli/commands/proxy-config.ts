// `trellis proxy-config listeners|routes|clusters|endpoints|all <proxy>`: istioctl's tables of one proxy's config,
// read from the control plane's debug dump of what it generated, or straight from a proxy's admin port (--admin).

import { parseArgs } from 'node:util';
import { UsageError, type Command } from '../command.js';
import { clustersTable, endpointsTable, listenersTable, routesTable } from '../format/proxy-config.js';
import { fetchJson, DEFAULT_DEBUG } from '../debug-client.js';

const USAGE = `Usage: trellis proxy-config <listeners|routes|clusters|endpoints|all> [<proxy-id>] [options]

Prints a proxy's configuration in istioctl's tables. <proxy-id> is the proxy's node id or a unique part of it
(e.g. "productpage-v1" or "productpage-v1-6b746f74dc-9stvt.default"), as \`trellis proxy-status\` lists them.

Options:
  --controlplane URL   the control plane's debug address (default ${DEFAULT_DEBUG}, or $TRELLIS_DEBUG_ADDR)
  --admin HOST:PORT    read the running proxy's own /config_dump instead (what it applied)
  -o, --output FMT     short (default) or json
  --fqdn, --port, --subset, --direction   filters for clusters; --port, --address for listeners;
  --name for routes; --cluster for endpoints`;

const KINDS = ['listeners', 'routes', 'clusters', 'endpoints', 'all'] as const;

export const proxyConfigCommand: Command = {
  name: 'proxy-config',
  usage: USAGE,
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: {
          controlplane: { type: 'string' },
          admin: { type: 'string' },
          output: { type: 'string', short: 'o', default: 'short' },
          fqdn: { type: 'string' },
          port: { type: 'string' },
          subset: { type: 'string' },
          direction: { type: 'string' },
          address: { type: 'string' },
          name: { type: 'string' },
          cluster: { type: 'string' },
        },
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    const [kind, proxy] = positionals;
    if (!kind || !(KINDS as readonly string[]).includes(kind)) throw new UsageError(`the first argument must be one of ${KINDS.join(', ')}`);
    if (!values.admin && !proxy) throw new UsageError('name the proxy (see `trellis proxy-status`), or pass --admin HOST:PORT');
    if (values.output !== 'short' && values.output !== 'json') throw new UsageError('--output must be short or json');
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && !Number.isInteger(port)) throw new UsageError(`--port must be a number, not "${values.port}"`);

    const dump = values.admin
      ? await fetchJson(`http://${values.admin}/config_dump?include_eds`)
      : await fetchJson(`${values.controlplane ?? process.env.TRELLIS_DEBUG_ADDR ?? DEFAULT_DEBUG}/debug/config_dump?proxyID=${encodeURIComponent(proxy!)}`);
    if (values.output === 'json') {
      process.stdout.write(JSON.stringify(dump, null, 2) + '\n');
      return 0;
    }
    const d = dump as Record<string, unknown>;
    const out: string[] = [];
    if (kind === 'clusters' || kind === 'all') out.push(clustersTable(d, { fqdn: values.fqdn, port, subset: values.subset, direction: values.direction }));
    if (kind === 'listeners' || kind === 'all') out.push(listenersTable(d, { port, address: values.address }));
    if (kind === 'routes' || kind === 'all') out.push(routesTable(d, { name: values.name }));
    if (kind === 'endpoints' || kind === 'all') out.push(endpointsTable(d, { cluster: values.cluster }));
    process.stdout.write(out.join('\n'));
    return 0;
  },
};
