// Istio's automated deployment for `trellis up`: a gateway proxy for every Gateway of a class Trellis deploys (`istio`,
// or a GatewayClass with Istio's controller), on a loopback address of its own, labelled
// gateway.networking.k8s.io/gateway-name (which is how its config selects it), with each listener on its declared port.
// The proxy is registered as a workload so the control plane knows its address (the Gateway's status.addresses).

import { createHash } from 'node:crypto';
import net from 'node:net';
import { GATEWAY_API_GROUP } from '../config/gateway-api.js';
import type { Resource } from '../config/resource.js';
import { GATEWAY_NAME_LABEL, type K8sGateway } from '../config/types/gateway-api.js';
import { gatewayClasses } from '../controlplane/translate/gateway-api/gateway-classes.js';
import type { Workload } from '../controlplane/registry/service-registry.js';
import { PORTS } from '../ports.js';
import type { GatewayAddresses } from './addresses.js';
import { podProcess, type Supervisor } from './supervisor.js';

/** What the runtime runs for one Gateway (Istio's Deployment `<gateway>-<class>` with one replica). */
export interface GatewayDeployment {
  /** The Gateway's `namespace/name`. */
  key: string;
  gateway: string;
  namespace: string;
  className: string;
  /** `<gateway>-<class>-<hash>`, the pod's name. */
  pod: string;
  serviceAccount: string;
  address: string;
  /** The ports its listeners declare. */
  ports: number[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** How the runtime starts and registers proxies (LocalMesh provides it). */
export interface GatewayHost {
  supervisor: Supervisor;
  /** Arguments that start `trellis proxy` against the control plane, with a CA token for the identity. */
  proxyCommand(d: { pod: string; namespace: string; ip: string; labels: Record<string, string>; serviceAccount: string; workloadName: string }): { command: string; args: string[]; env: Record<string, string> };
  upsertWorkload(w: Omit<Workload, 'origin'>): void;
  removeWorkload(namespace: string, name: string): void;
  /** The run's gateway addresses (shared with the control planes' own gateways). */
  addresses: GatewayAddresses;
  log(line: string): void;
}

const hash = (text: string) => createHash('sha1').update(text).digest('hex').slice(0, 8);
const LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** The Gateways to deploy: those of classes Trellis deploys, in a stable order. */
export function deployableGateways(resources: readonly Resource[]): K8sGateway[] {
  const classes = gatewayClasses(resources);
  return (resources.filter((r) => r.group === GATEWAY_API_GROUP && r.kind === 'Gateway') as K8sGateway[])
    .filter((g) => classes.get(g.spec.gatewayClassName ?? '')?.role === 'deployed')
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
}

/** Why a port cannot be bound at an address, or undefined when it can (checked by binding it for a moment). */
export function bindProblem(address: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code === 'EACCES' ? ` (ports below 1024 need root or CAP_NET_BIND_SERVICE)` : err.code === 'EADDRINUSE' ? ' (something else listens there)' : '';
      resolve(`${err.code ?? err.message}${hint}`);
    });
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Runs and retires the Gateway API gateway proxies as the config changes. */
export class GatewayApiDeployments {
  private readonly running = new Map<string, GatewayDeployment>();
  constructor(private readonly host: GatewayHost) {}

  /** Deployed gateways, by Gateway key. */
  deployments(): GatewayDeployment[] {
    return [...this.running.values()];
  }

  private addressFor(gw: K8sGateway, key: string): string {
    // A loopback address the Gateway asks for (spec.addresses) is honoured; anything else is reported in its status.
    const asked = (gw.spec.addresses ?? []).find((a) => (a.type ?? 'IPAddress') === 'IPAddress' && LOOPBACK.test(a.value ?? ''))?.value;
    if (asked && ![...this.running.values()].some((d) => d.key !== key && d.address === asked)) return asked;
    // Kept while the Gateway exists, so its address does not move.
    return this.host.addresses.addressOf(`gateway-api/${key}`);
  }

  private plan(gw: K8sGateway): GatewayDeployment {
    const key = `${gw.metadata.namespace}/${gw.metadata.name}`;
    const className = gw.spec.gatewayClassName ?? '';
    const infra = gw.spec.infrastructure ?? {};
    return {
      key,
      gateway: gw.metadata.name,
      namespace: gw.metadata.namespace,
      className,
      pod: `${gw.metadata.name}-${className}-${hash(key)}`,
      serviceAccount: `${gw.metadata.name}-${className}`,
      address: this.addressFor(gw, key),
      ports: [...new Set((gw.spec.listeners ?? []).map((l) => l.port ?? 0).filter((p) => p > 0))].sort((a, b) => a - b),
      // Istio's labels on the workloads it deploys; infrastructure.labels are the user's additions.
      labels: { ...infra.labels, [GATEWAY_NAME_LABEL]: gw.metadata.name, 'istio.io/gateway-name': gw.metadata.name, 'gateway.istio.io/managed': 'istio.io-gateway-controller' },
      annotations: { ...infra.annotations },
    };
  }

  /** Follows the config: starts proxies for new Gateways, restarts those whose address or labels changed, stops the rest. */
  async reconcile(resources: readonly Resource[]): Promise<void> {
    const wanted = new Map(deployableGateways(resources).map((gw) => [`${gw.metadata.namespace}/${gw.metadata.name}`, gw]));
    for (const [key, d] of this.running) {
      if (!wanted.has(key)) {
        await this.stop(d);
        this.host.addresses.release(`gateway-api/${key}`);
      }
    }
    for (const [key, gw] of wanted) {
      const next = this.plan(gw);
      const current = this.running.get(key);
      // Listener ports follow over xDS; only who the proxy is (address, labels) needs a new process.
      if (current && current.address === next.address && JSON.stringify(current.labels) === JSON.stringify(next.labels)) {
        // New ports of a running proxy are not probed here (a probe could take the port from under it): the proxy
        // itself logs a port it cannot bind.
        current.ports = next.ports;
        continue;
      }
      if (current) await this.stop(current);
      await this.start(next);
    }
  }

  /** Says clearly which declared ports cannot be bound (taken, or privileged without root) before the proxy tries. */
  private async reportPorts(d: GatewayDeployment): Promise<void> {
    for (const port of d.ports) {
      const problem = await bindProblem(d.address, port);
      if (problem) this.host.log(`[gateway] Gateway ${d.key}: cannot bind ${d.address}:${port}: ${problem}; that listener will not serve`);
    }
  }

  private async start(d: GatewayDeployment): Promise<void> {
    await this.reportPorts(d);
    const cmd = this.host.proxyCommand({ pod: d.pod, namespace: d.namespace, ip: d.address, labels: d.labels, serviceAccount: d.serviceAccount, workloadName: `${d.gateway}-${d.className}` });
    this.host.supervisor.start({ name: podProcess(d.namespace, d.pod, 'istio-proxy'), ...cmd });
    this.host.upsertWorkload({ name: d.pod, namespace: d.namespace, labels: d.labels, serviceAccount: d.serviceAccount, address: d.address, ports: {}, healthy: true, meshed: false });
    this.running.set(d.key, d);
    this.host.log(`[gateway] Gateway ${d.key} (class ${d.className}): proxy ${d.pod} at ${d.address}, listeners on ${d.ports.join(', ') || 'no port yet'}`);
  }

  private async stop(d: GatewayDeployment): Promise<void> {
    this.running.delete(d.key);
    this.host.removeWorkload(d.namespace, d.pod);
    await this.host.supervisor.stop(podProcess(d.namespace, d.pod, 'istio-proxy'), 3000);
  }

  /** Whether every deployed gateway's proxy is up (its admin port answers). */
  async ready(canConnect: (host: string, port: number) => Promise<boolean>): Promise<boolean> {
    const up = await Promise.all([...this.running.values()].map((d) => canConnect(d.address, PORTS.proxyAdmin)));
    return up.every(Boolean);
  }
}
