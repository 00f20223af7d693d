// `trellis proxy-status`: every connected proxy and whether it has ACKed the latest config of each type, as istioctl shows it.

import { parseArgs } from 'node:util';
import type { ProxyStatus } from '../../xds/ads-server.js';
import { TYPE_SHORT } from '../../xds/ads-server.js';
import { UsageError, type Command } from '../command.js';
import { fetchJson, DEFAULT_DEBUG } from '../debug-client.js';
import { columns } from '../format/columns.js';

const USAGE = `Usage: trellis proxy-status [<proxy-id>] [--controlplane URL] [-o short|json]

Lists the proxies connected to the control plane with the sync state of each xDS type:
SYNCED (the latest config was ACKed), NOT SENT, STALE (sent, not yet ACKed) or NACK (rejected; see -o json).`;

export const proxyStatusCommand: Command = {
  name: 'proxy-status',
  usage: USAGE,
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({ args, allowPositionals: true, options: { controlplane: { type: 'string' }, output: { type: 'string', short: 'o', default: 'short' } } });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    const base = values.controlplane ?? process.env.TRELLIS_DEBUG_ADDR ?? DEFAULT_DEBUG;
    let proxies = (await fetchJson(`${base}/debug/syncz`)) as ProxyStatus[];
    if (positionals[0]) proxies = proxies.filter((p) => p.id.includes(positionals[0]!));
    if (values.output === 'json') {
      process.stdout.write(JSON.stringify(proxies, null, 2) + '\n');
      return 0;
    }
    const state = (p: ProxyStatus, short: string) => {
      const t = p.types.find((x) => TYPE_SHORT[x.typeUrl] === short);
      return t ? t.state : 'NOT SENT';
    };
    const rows = proxies
      .map((p) => [`${p.identity.podName}.${p.identity.namespace}`, p.identity.clusterId, state(p, 'CDS'), state(p, 'LDS'), state(p, 'EDS'), state(p, 'RDS'), 'IGNORED', new URL(base).host, p.identity.istioVersion || '-'])
      .sort((a, b) => a[0]!.localeCompare(b[0]!));
    process.stdout.write(columns(['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', 'CONTROL PLANE', 'VERSION'], rows));
    return 0;
  },
};
