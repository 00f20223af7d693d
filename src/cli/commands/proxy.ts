// `trellis proxy`: the data-plane proxy program (sidecar or gateway), configured over xDS or from a file.

import { UsageError, type Command } from '../command.js';
import { main } from '../../proxy/main.js';
import { parseConcurrency } from '../../proxy/workers/concurrency.js';

const USAGE = `Usage: trellis proxy --xds HOST:PORT [--role sidecar|gateway] [identity] [options]
       trellis proxy --config FILE [--watch]

Identity (Istio's node id and metadata; the control plane picks the config by them):
  --pod NAME --namespace NS --ip ADDR --labels k=v,k=v --service-account SA [--metadata JSON]
  or --node-id sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local

Options:
  --xds-mode sotw|delta    ADS flavour (default delta, as Istio since 1.22; ISTIO_DELTA_XDS=false means sotw)
  --admin-port N           Envoy-style admin port (default 15000; 0 picks one), --admin-address (127.0.0.1)
  --drain-time-s N         graceful drain on SIGTERM or /quitquitquit (default 5)
  --concurrency N          worker processes sharing the listeners (Envoy's --concurrency, Istio's ProxyConfig
                           concurrency); 0 = one per core; default 1, a single process
  -l, --log-level LEVEL    trace, debug, info, warning, error`;

export const proxyCommand: Command = {
  name: 'proxy',
  usage: USAGE,
  async run(args) {
    const i = args.findIndex((a) => a === '--concurrency' || a.startsWith('--concurrency='));
    if (i >= 0) {
      const value = args[i]!.includes('=') ? args[i]!.slice(args[i]!.indexOf('=') + 1) : args[i + 1];
      try {
        parseConcurrency(value ?? '');
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    await main(args);
    // The proxy runs until SIGTERM/SIGINT or /quitquitquit, which exit the process themselves.
    await new Promise(() => {});
    return 0;
  },
};
