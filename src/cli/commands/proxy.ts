// `trellis proxy`: the data-plane proxy program (sidecar, gateway or waypoint), configured over xDS or from a file, or
// the node proxy of ambient mode (`--role ztunnel`).

import { UsageError, type Command } from '../command.js';
import { parseProxyArgs, runProxy, type ProxyArgs } from '../../proxy/main.js';

const USAGE = `Usage: trellis proxy --xds HOST:PORT [--role sidecar|gateway|waypoint] [identity] [options]
       trellis proxy --role ztunnel --xds HOST:PORT --ca-address HOST:PORT --ca-root FILE --zds-socket PATH [--node NAME]
       trellis proxy --config FILE [--watch]

Identity (Istio's node id and metadata; the control plane picks the config by them):
  --pod NAME --namespace NS --ip ADDR --labels k=v,k=v --service-account SA [--metadata JSON]
  or --node-id sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local

Options:
  --xds-mode sotw|delta    ADS flavour (default delta, as Istio since 1.22; ISTIO_DELTA_XDS=false means sotw)
  --admin-port N           Envoy-style admin port (default 15000; 0 picks one), --admin-address (127.0.0.1)
  --stats-port N           Istio's merged metrics and /healthz/ready (15020 in a pod; xDS mode), on --ip or
                           --stats-address ADDR
  --ca-address HOST:PORT   get this workload's certificate from Istio's CA API (token in TRELLIS_CA_TOKEN, else
                           --ca-token-file, default /var/run/secrets/tokens/istio-token), --ca-root FILE (the CA's
                           root, PEM), --trust-domain (cluster.local)
  --drain-time-s N         graceful drain on SIGTERM or /quitquitquit (default 5)
  --concurrency N          worker processes sharing the listeners (Envoy's --concurrency, Istio's ProxyConfig
                           concurrency); 0 = one per core; default 1, a single process
  -l, --log-level LEVEL    trace, debug, info, warning, error

The node proxy (ztunnel) takes ambient pods from the CNI agent's ZDS socket (the runtime's), holds a certificate for
each of their service accounts (its token, in TRELLIS_CA_TOKEN, names --node) and serves them inside their network
namespaces: admin on --admin-address:--admin-port, metrics on --stats-address (or --ip):15020.

In a pod, Istio's environment gives what flags do not: POD_NAME, POD_NAMESPACE, INSTANCE_IP, SERVICE_ACCOUNT, CA_ADDR.`;

export const proxyCommand: Command = {
  name: 'proxy',
  usage: USAGE,
  async run(args) {
    let parsed: ProxyArgs;
    try {
      parsed = parseProxyArgs(args);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    // The proxy runs until SIGTERM/SIGINT or /quitquitquit has drained it; then it exits the process itself.
    return runProxy(parsed);
  },
};
