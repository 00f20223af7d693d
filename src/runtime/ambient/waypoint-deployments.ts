// Istio's waypoint deployment for `trellis up --network netns`: for every Gateway of class `istio-waypoint` (what
// `istioctl waypoint apply` writes), a waypoint proxy (`trellis proxy --role waypoint`) as a pod of the Gateway's
// namespace on the pod network — no capture rules (it is the proxy), service account named after the Gateway,
// labelled gateway.networking.k8s.io/gateway-name — registered as a workload that takes HBONE, which is how the
// control plane finds the waypoint's address for the node proxies.

import { GATEWAY_API_GROUP } from '../../config/gateway-api.js';
import type { Resource } from '../../config/resource.js';
import { GATEWAY_NAME_LABEL, type K8sGateway } from '../../config/types/gateway-api.js';
import type { Workload } from '../../controlplane/registry/service-registry.js';
import { gatewayClasses } from '../../controlplane/translate/gateway-api/gateway-classes.js';
import { PORTS } from '../../ports.js';
import type { NetnsNetwork } from '../netns/netns-network.js';
import { podProcess, type Supervisor } from '../supervisor.js';

/** Waypoint pods' numbers on the bridge: down from here, below the node proxy's (4070). */
const WAYPOINT_PODS_FROM = 4069;
const MAX_WAYPOINTS = 9;

export interface WaypointDeployment {
  /** The Gateway's `namespace/name`. */
  key: string;
  gateway: string;
  namespace: string;
  pod: string;
  serviceAccount: string;
  address: string;
  labels: Record<string, string>;
}

export interface WaypointHost {
  net: NetnsNetwork;
  supervisor: Supervisor;
  /** `trellis proxy` reaching the Gateway namespace's control plane from inside a pod, and its CA token. */
  proxy(namespace: string, serviceAccount: string): { args: string[]; token: string };
  bin: string;
  nodeName: string;
  upsertWorkload(w: Omit<Workload, 'origin'>): void;
  removeWorkload(namespace: string, name: string): void;
  log(line: string): void;
}

/** The waypoint Gateways of the config, in a stable order. */
export function waypointGateways(resources: readonly Resource[]): K8sGateway[] {
  const classes = gatewayClasses(resources);
  return (resources.filter((r) => r.group === GATEWAY_API_GROUP && r.kind === 'Gateway') as K8sGateway[])
    .filter((g) => classes.get(g.spec.gatewayClassName ?? '')?.role === 'waypoint')
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
}

export class WaypointDeployments {
  private readonly running = new Map<string, WaypointDeployment>();
  /** Bridge numbers in use, by Gateway key (kept while the Gateway exists, so its address does not move). */
  private readonly numbers = new Map<string, number>();

  constructor(private readonly host: WaypointHost) {}

  deployments(): WaypointDeployment[] {
    return [...this.running.values()];
  }

  /** Starts a waypoint for each new waypoint Gateway, stops those whose Gateway is gone. */
  async reconcile(resources: readonly Resource[]): Promise<void> {
    const wanted = new Map(waypointGateways(resources).map((g) => [`${g.metadata.namespace}/${g.metadata.name}`, g]));
    for (const [key, d] of this.running) if (!wanted.has(key)) await this.stop(d);
    for (const [key, gw] of wanted) {
      if (this.running.has(key)) continue;
      const n = this.numberFor(key);
      if (n === undefined) {
        this.host.log(`[ambient] waypoint ${key}: at most ${MAX_WAYPOINTS} waypoints run on one node; this one is not deployed`);
        continue;
      }
      this.start(gw, n);
    }
  }

  private numberFor(key: string): number | undefined {
    const known = this.numbers.get(key);
    if (known !== undefined) return known;
    const used = new Set(this.numbers.values());
    for (let n = WAYPOINT_PODS_FROM; n > WAYPOINT_PODS_FROM - MAX_WAYPOINTS; n--) {
      if (used.has(n)) continue;
      this.numbers.set(key, n);
      return n;
    }
    return undefined;
  }

  private start(gw: K8sGateway, number: number): void {
    const { namespace, name } = gw.metadata;
    const key = `${namespace}/${name}`;
    const pod = `${name}-waypoint`.slice(0, 63);
    const podKey = `${namespace}/${pod}`;
    const pn = this.host.net.addPod({ key: podKey, number, name: pod, namespace, annotations: {}, rules: 'none', dnsCapture: false });
    const address = pn.addresses[0]!;
    // Istio's waypoint deployment: service account and workload named after the Gateway.
    const d: WaypointDeployment = { key, gateway: name, namespace, pod, serviceAccount: name, address, labels: { [GATEWAY_NAME_LABEL]: name, 'istio.io/gateway-name': name, 'gateway.istio.io/managed': 'istio.io-mesh-controller' } };
    const { args, token } = this.host.proxy(namespace, d.serviceAccount);
    this.host.supervisor.start({
      name: podProcess(namespace, pod, 'istio-proxy'),
      ...this.host.net.command(podKey, process.execPath, [
        this.host.bin, 'proxy', ...args, '--role', 'waypoint', '--pod', pod, '--namespace', namespace, '--ip', address,
        '--labels', Object.entries(d.labels).map(([k, v]) => `${k}=${v}`).join(','), '--service-account', d.serviceAccount,
        '--admin-address', address, '--admin-port', String(PORTS.proxyAdmin), '--stats-address', address, '--stats-port', String(PORTS.mergedStats), '--drain-time-s', '1',
        '--metadata', JSON.stringify({ WORKLOAD_NAME: name }),
      ], 'sidecar'),
      env: { TRELLIS_CA_TOKEN: token },
    });
    this.host.upsertWorkload({ name: pod, namespace, labels: d.labels, serviceAccount: d.serviceAccount, address, ports: {}, healthy: true, meshed: false, hbone: true, node: this.host.nodeName, workloadName: name });
    this.running.set(key, d);
    this.host.log(`[ambient] waypoint ${key}: proxy ${pod}.${namespace} at ${address}`);
  }

  private async stop(d: WaypointDeployment): Promise<void> {
    this.running.delete(d.key);
    this.numbers.delete(d.key);
    this.host.removeWorkload(d.namespace, d.pod);
    await this.host.supervisor.stop(podProcess(d.namespace, d.pod, 'istio-proxy'), 3000);
    this.host.net.removePod(`${d.namespace}/${d.pod}`);
  }
}
