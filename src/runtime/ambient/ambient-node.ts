// Ambient mode on the one node of a `trellis up` run: the node proxy (ztunnel, `trellis proxy --role ztunnel`) as a pod
// of the control plane's namespace on the pod network, and the CNI node agent's part — the ZDS socket it takes pods
// from, and each pod's in-pod capture rules. Enrolling a pod hands it to the node proxy first and redirects its traffic
// only once the proxy serves it; leaving ambient mode undoes both in the reverse order. The pod's processes keep running
// either way (Istio's "no restart").

import { join } from 'node:path';
import { PORTS } from '../../ports.js';
import { ZTUNNEL_SERVICE_ACCOUNT, type ControlPlaneUnit } from '../control-plane-unit.js';
import type { NetnsNetwork } from '../netns/netns-network.js';
import { podProcess, type Supervisor } from '../supervisor.js';
import { ZdsServer } from './zds-server.js';

/** The ztunnel pod's number on the bridge: past every planned pod, below the gateways' range. */
const ZTUNNEL_POD = 4070;

export interface AmbientNodeOptions {
  net: NetnsNetwork;
  supervisor: Supervisor;
  /** The control plane the node proxy belongs to (its xDS and CA). */
  unit: ControlPlaneUnit;
  /** `trellis proxy` arguments to reach the unit from inside a pod. */
  proxyArgs: string[];
  /** The Kubernetes node name workloads carry (the node proxy's token names it). */
  nodeName: string;
  /** `bin/trellis.js`. */
  bin: string;
  log: (line: string) => void;
}

/** A pod as the node agent hands it over. */
export interface AmbientPod {
  key: string;
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
}

export class AmbientNode {
  /** The node proxy's pod address: admin on 15000, metrics on 15020. */
  readonly address: string;
  readonly pod: string;
  readonly namespace: string;
  private readonly enrolled = new Map<string, Promise<void>>();

  private constructor(
    private readonly o: AmbientNodeOptions,
    private readonly zds: ZdsServer,
    address: string,
  ) {
    this.address = address;
    this.namespace = o.unit.namespace;
    this.pod = `ztunnel-${o.nodeName}`.slice(0, 63);
  }

  /** Starts the node proxy's pod and the ZDS socket it connects to. */
  static async start(o: AmbientNodeOptions): Promise<AmbientNode> {
    const zds = await ZdsServer.listen(join(o.net.publicDir(), 'ztunnel.sock'));
    const namespace = o.unit.namespace;
    const pod = `ztunnel-${o.nodeName}`.slice(0, 63);
    const key = `${namespace}/${pod}`;
    const pn = o.net.addPod({ key, number: ZTUNNEL_POD, name: pod, namespace, annotations: {}, rules: 'none', dnsCapture: false });
    const node = new AmbientNode(o, zds, pn.addresses[0]!);
    const ip = node.address;
    // As root in its own namespace: it enters pods' namespaces (setns) and marks its sockets there.
    o.supervisor.start({
      name: podProcess(namespace, pod, 'istio-proxy'),
      ...o.net.command(key, process.execPath, [
        o.bin, 'proxy', '--role', 'ztunnel', ...o.proxyArgs, '--pod', pod, '--namespace', namespace, '--ip', ip, '--service-account', ZTUNNEL_SERVICE_ACCOUNT,
        '--admin-address', ip, '--admin-port', String(PORTS.proxyAdmin), '--stats-port', String(PORTS.mergedStats), '--zds-socket', zds.path, '--node', o.nodeName, '--log-level', 'info',
      ], 'app'),
      env: { TRELLIS_CA_TOKEN: o.unit.token(namespace, ZTUNNEL_SERVICE_ACCOUNT, o.nodeName) },
    });
    o.log(`[ambient] node proxy ${pod}.${namespace} at ${ip} (ZDS ${zds.path})`);
    return node;
  }

  /** Hands a pod to the node proxy, then redirects its traffic there. Resolves once both are done. */
  enroll(pod: AmbientPod): Promise<void> {
    let p = this.enrolled.get(pod.key);
    if (p) return p;
    const netnsPath = this.o.net.netnsPath(pod.key);
    if (!netnsPath) return Promise.reject(new Error(`no network namespace for pod ${pod.key}`));
    p = this.zds.enroll({ uid: pod.uid, info: { name: pod.name, namespace: pod.namespace, serviceAccount: pod.serviceAccount }, netnsPath }).then(() => {
      if (this.enrolled.get(pod.key) !== p) return; // left ambient mode meanwhile
      this.o.net.setAmbient(pod.key, true);
      this.o.log(`[ambient] ${pod.name}.${pod.namespace} enrolled: its traffic goes through the node proxy`);
    });
    this.enrolled.set(pod.key, p);
    p.catch((err: Error) => this.o.log(`[ambient] ${err.message}`));
    return p;
  }

  /** Takes a pod out of ambient mode: its traffic flows directly again, then the node proxy lets it go. */
  async unenroll(pod: Pick<AmbientPod, 'key' | 'uid' | 'name' | 'namespace'>, removing = false): Promise<void> {
    if (!this.enrolled.delete(pod.key)) return;
    if (!removing) this.o.net.setAmbient(pod.key, false);
    await this.zds.unenroll(pod.uid);
    if (!removing) this.o.log(`[ambient] ${pod.name}.${pod.namespace} left ambient mode`);
  }

  /** Whether every enrolment finished (the runtime's readiness). */
  async settled(): Promise<boolean> {
    const results = await Promise.allSettled([...this.enrolled.values()]);
    return results.every((r) => r.status === 'fulfilled') && this.zds.connected;
  }

  /** The node proxy's key in the pod network. */
  get key(): string {
    return `${this.namespace}/${this.pod}`;
  }

  async stop(): Promise<void> {
    await this.o.supervisor.stop(podProcess(this.namespace, this.pod, 'istio-proxy'), 3000);
    await this.zds.close();
  }
}
