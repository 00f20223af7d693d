// The node proxy (Istio's ztunnel) for the ambient pods of one node. For each enrolled pod it listens inside the pod's
// network namespace, as Istio's in-pod redirection has it: 15001 takes what the pod sends (iptables REDIRECT), 15006
// plaintext arriving for it, 15008 HBONE for it. Outbound, the original destination decides: a service VIP (through
// its waypoint, or to one of its endpoints), a workload, or something outside the mesh (passed through as it is);
// mesh destinations that take HBONE get a tunnel from the pod (mutual TLS with the pod's service account's
// certificate), others plaintext. Inbound, L4 policy first, then a connection to the app from inside the pod. Every
// connection is counted in Istio's TCP metrics from its side.

import http2 from 'node:http2';
import net from 'node:net';
import { spiffeId } from '../../ca/identity.js';
import type { IstioMetrics } from '../../telemetry/istio-metrics.js';
import { PORTS } from '../../ports.js';
import { HboneClient, hboneServer, splitAuthority, type HboneServer, type HboneStreamInfo, type TlsIdentity } from '../hbone/hbone.js';
import { originalDestination } from '../listener/original-dst.js';
import { bridge } from '../tcp/bridge.js';
import type { IdentityCache } from './identities.js';
import { authorize } from './l4-policy.js';
import { connectFromPod, listenInPod } from './pod-sockets.js';
import { recordConnection, type Peer } from './ztunnel-metrics.js';
import { principalOf, type MeshServiceInfo, type MeshWorkload, type WorkloadState } from './workload-state.js';

/** A pod the CNI agent (the runtime) handed over: its uid, identity and network namespace. */
export interface EnrolledPod {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  /** Path of its network namespace (`/run/netns/<name>`). */
  netns: string;
}

export interface ZtunnelOptions {
  state: WorkloadState;
  identities: IdentityCache;
  metrics: IstioMetrics;
  trustDomain: string;
  log: (line: string) => void;
  /** Connect timeout towards apps, peers and outside destinations (default 10 s). */
  connectTimeoutMs?: number;
}

/** Where an outbound connection goes. */
type Route =
  | { kind: 'hbone'; address: string; authority: string; peerPrincipals: string[]; destination: Peer; service?: MeshServiceInfo; via: string }
  | { kind: 'plain'; address: string; port: number; destination: Peer; service?: MeshServiceInfo }
  | { kind: 'refuse'; reason: string };

const normalize = (a: string | undefined) => (a?.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : (a ?? ''));
const hostPort = (h: string, p: number) => (h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`);

/** One enrolled pod's listeners and connections. */
class PodProxy {
  readonly outbound = net.createServer({ allowHalfOpen: true, noDelay: true });
  readonly inbound = net.createServer({ allowHalfOpen: true, noDelay: true });
  hbone!: HboneServer;
  readonly connections = new Set<net.Socket | http2.ServerHttp2Stream>();
  constructor(readonly pod: EnrolledPod) {}

  track(s: net.Socket | http2.ServerHttp2Stream): void {
    this.connections.add(s);
    s.once('close', () => this.connections.delete(s));
  }
}

export class Ztunnel {
  private readonly pods = new Map<string, PodProxy>();
  private readonly client = new HboneClient();
  private readonly connectTimeoutMs: number;

  constructor(private readonly o: ZtunnelOptions) {
    this.connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
    // A rotated certificate: the pods of that account present it on new HBONE connections.
    o.identities.on('rotated', (id, identity) => {
      for (const p of this.pods.values()) if (this.identityOf(p.pod) === id) p.hbone?.setIdentity(identity);
    });
  }

  private identityOf(p: EnrolledPod): string {
    return spiffeId({ trustDomain: this.o.trustDomain, namespace: p.namespace, serviceAccount: p.serviceAccount });
  }

  /** The pods served now (the admin port's config dump). */
  enrolled(): EnrolledPod[] {
    return [...this.pods.values()].map((p) => p.pod);
  }

  /** Starts serving a pod: its certificate, then its three listeners inside its namespace. Idempotent by uid. */
  async addPod(pod: EnrolledPod): Promise<void> {
    if (this.pods.has(pod.uid)) return;
    const identity = await this.o.identities.acquire(pod.namespace, pod.serviceAccount);
    const p = new PodProxy(pod);
    p.hbone = hboneServer(identity, (stream, info) => this.onHbone(p, stream, info));
    p.outbound.on('connection', (s) => this.onOutbound(p, s));
    p.inbound.on('connection', (s) => this.onInboundPlaintext(p, s));
    p.hbone.server.on('connection', (s: net.Socket) => p.track(s));
    try {
      for (const [server, port] of [[p.outbound, PORTS.outbound], [p.inbound, PORTS.inbound], [p.hbone.server, PORTS.hbone]] as const) await this.listen(server, pod.netns, port);
    } catch (err) {
      this.closePod(p);
      this.o.identities.release(pod.namespace, pod.serviceAccount);
      throw err;
    }
    this.pods.set(pod.uid, p);
    this.o.log(`ztunnel: serving ${pod.name}.${pod.namespace} as ${this.identityOf(pod)}`);
  }

  /** Every address of the pod, both families where it has them (a dual-stack socket), else IPv4. */
  private async listen(server: net.Server, netns: string, port: number): Promise<void> {
    try {
      await listenInPod(server, netns, '::', port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw err;
      await listenInPod(server, netns, '0.0.0.0', port);
    }
  }

  /** Stops serving a pod: its listeners close and its open connections end. */
  removePod(uid: string): void {
    const p = this.pods.get(uid);
    if (!p) return;
    this.pods.delete(uid);
    this.closePod(p);
    this.o.identities.release(p.pod.namespace, p.pod.serviceAccount);
    this.o.log(`ztunnel: stopped serving ${p.pod.name}.${p.pod.namespace}`);
  }

  private closePod(p: PodProxy): void {
    p.outbound.close();
    p.inbound.close();
    p.hbone?.close();
    for (const c of p.connections) c.destroy();
  }

  close(): void {
    for (const uid of [...this.pods.keys()]) this.removePod(uid);
    this.client.close();
  }

  // ------------------------------------------------------------ outbound

  /** Where traffic to `dst` from this pod goes, as ztunnel decides it from workload discovery. */
  private route(source: MeshWorkload | undefined, dst: { address: string; port: number }): Route {
    const state = this.o.state;
    const svc = state.serviceByVip(dst.address);
    if (svc && svc.ports.has(dst.port)) {
      const wp = svc.waypoint;
      if (wp && !(wp.address && source?.ips.includes(wp.address))) return this.viaWaypoint(wp, hostPort(dst.address, dst.port), svc);
      const ep = state.pickEndpoint(svc, dst.port);
      if (!ep) return { kind: 'refuse', reason: `no healthy endpoint of ${svc.hostname}:${dst.port}` };
      return this.toWorkload(ep.workload, ep.port, svc);
    }
    const w = state.workloadByIp(dst.address);
    if (w) {
      if (w.waypoint && !(w.waypoint.address && source?.ips.includes(w.waypoint.address))) return this.viaWaypoint(w.waypoint, hostPort(dst.address, dst.port));
      return this.toWorkload(w, dst.port, undefined, dst.address);
    }
    // Outside the mesh: plaintext to where the app was going, as Istio does.
    return { kind: 'plain', address: dst.address, port: dst.port, destination: {} };
  }

  private toWorkload(w: MeshWorkload, port: number, service?: MeshServiceInfo, address = w.ips[0]!): Route {
    if (!w.hbone) return { kind: 'plain', address, port, destination: { workload: w }, ...(service ? { service } : {}) };
    return { kind: 'hbone', address, authority: hostPort(address, port), peerPrincipals: [principalOf(w)], destination: { workload: w, principal: principalOf(w) }, ...(service ? { service } : {}), via: `${w.name}.${w.namespace}` };
  }

  private viaWaypoint(wp: NonNullable<MeshServiceInfo['waypoint']>, authority: string, service?: MeshServiceInfo): Route {
    if (!wp.address) return { kind: 'refuse', reason: `the waypoint ${wp.hostname ?? ''} has no address yet` };
    const proxy = this.o.state.workloadByIp(wp.address);
    return { kind: 'hbone', address: wp.address, authority, peerPrincipals: proxy ? [principalOf(proxy)] : [], destination: { ...(proxy ? { workload: proxy, principal: principalOf(proxy) } : {}) }, ...(service ? { service } : {}), via: `waypoint ${wp.address}` };
  }

  /** A captured connection's original destination; one made to the listener itself has none and is closed. */
  private captured(p: PodProxy, socket: net.Socket): { address: string; port: number } | undefined {
    p.track(socket);
    socket.on('error', () => undefined);
    const dst = originalDestination(socket);
    if (!dst) socket.destroy();
    return dst;
  }

  private onOutbound(p: PodProxy, socket: net.Socket): void {
    const dst = this.captured(p, socket);
    if (!dst) return;
    const source = this.o.state.workload(p.pod.uid);
    const route = this.route(source, dst);
    const sourcePeer: Peer = { ...(source ? { workload: source } : {}), principal: this.identityOf(p.pod) };
    if (route.kind === 'refuse') {
      this.o.log(`ztunnel: ${p.pod.name}.${p.pod.namespace} → ${hostPort(dst.address, dst.port)} refused: ${route.reason}`);
      recordConnection(this.o.metrics, { reporter: 'source', source: sourcePeer, destination: {}, mtls: false }).close(0, 0, 'UH');
      socket.destroy();
      return;
    }
    const report = recordConnection(this.o.metrics, { reporter: 'source', source: sourcePeer, destination: route.destination, ...(route.service ? { service: route.service } : {}), mtls: route.kind === 'hbone' });
    if (route.kind === 'plain') {
      const up = this.dial(p.pod.netns, route.address, route.port);
      let connected = false;
      up.once('connect', () => (connected = true));
      p.track(up);
      bridge(socket, up).closed.then(({ aToB, bToA }) => report.close(bToA, aToB, connected ? undefined : 'UF'));
      return;
    }
    socket.pause();
    const identity = this.o.identities.current(p.pod.namespace, p.pod.serviceAccount);
    if (!identity) {
      report.close(0, 0, 'UF');
      socket.destroy();
      return;
    }
    this.tunnel(p, identity, route)
      .then((stream) => {
        bridge(socket, stream).closed.then(({ aToB, bToA }) => report.close(bToA, aToB));
        socket.resume();
      })
      .catch((err: Error) => {
        this.o.log(`ztunnel: ${p.pod.name}.${p.pod.namespace} → ${route.authority} via ${route.via}: ${err.message}`);
        report.close(0, 0, 'UF');
        socket.destroy();
      });
  }

  private tunnel(p: PodProxy, identity: TlsIdentity, route: Extract<Route, { kind: 'hbone' }>): Promise<http2.ClientHttp2Stream> {
    return this.client.connect(
      {
        address: route.address,
        port: PORTS.hbone,
        identity,
        identityKey: this.identityOf(p.pod),
        peerPrincipals: route.peerPrincipals,
        // From inside the source pod, so the peer sees the pod's own address, as in Istio's in-pod mode.
        dial: () => this.dial(p.pod.netns, route.address, PORTS.hbone),
      },
      route.authority,
    );
  }

  /** A connection from inside a pod, given up after the connect timeout. */
  private dial(netns: string, host: string, port: number): net.Socket {
    const s = connectFromPod(netns, host, port);
    const timer = setTimeout(() => s.destroy(new Error(`connect to ${hostPort(host, port)} timed out`)), this.connectTimeoutMs);
    s.once('connect', () => clearTimeout(timer));
    s.once('close', () => clearTimeout(timer));
    return s;
  }

  // ------------------------------------------------------------ inbound

  /** The service a workload serves on this port, for the destination's metrics (the client's choice is not sent). */
  private serviceOn(w: MeshWorkload | undefined, port: number): MeshServiceInfo | undefined {
    if (!w) return undefined;
    for (const [key, ports] of w.services) {
      if (![...ports.values()].includes(port)) continue;
      const svc = this.o.state.serviceByKey(key);
      if (svc) return svc;
    }
    return undefined;
  }

  private onHbone(p: PodProxy, stream: http2.ServerHttp2Stream, info: HboneStreamInfo): void {
    p.track(stream);
    const target = splitAuthority(info.authority);
    const self = this.o.state.workload(p.pod.uid);
    if (!target || (self && !self.ips.includes(target.host))) {
      // Istio's ztunnel only delivers to the pod the tunnel reached.
      stream.respond({ ':status': 400 }, { endStream: true });
      return;
    }
    const source = this.o.state.workloadByIp(info.remoteAddress);
    if (!this.allowed(p, self, { sourcePrincipal: info.peerPrincipal, sourceIp: info.remoteAddress, destinationIp: target.host, destinationPort: target.port })) {
      recordConnection(this.o.metrics, { reporter: 'destination', source: { ...(source ? { workload: source } : {}), principal: info.peerPrincipal }, destination: { ...(self ? { workload: self } : {}) }, mtls: true }).close(0, 0, 'UAEX');
      stream.respond({ ':status': 401 }, { endStream: true });
      return;
    }
    const report = recordConnection(this.o.metrics, {
      reporter: 'destination',
      source: { ...(source ? { workload: source } : {}), principal: info.peerPrincipal },
      destination: { ...(self ? { workload: self } : {}), principal: this.identityOf(p.pod) },
      service: this.serviceOn(self, target.port),
      mtls: true,
    });
    const app = this.dial(p.pod.netns, target.host, target.port);
    p.track(app);
    app.once('connect', () => {
      stream.respond({ ':status': 200 });
      bridge(stream, app).closed.then(({ aToB, bToA }) => report.close(bToA, aToB));
    });
    app.once('error', () => {
      if (stream.headersSent) return;
      report.close(0, 0, 'UF');
      if (!stream.destroyed) stream.respond({ ':status': 503 }, { endStream: true });
    });
  }

  private onInboundPlaintext(p: PodProxy, socket: net.Socket): void {
    const dst = this.captured(p, socket);
    if (!dst) return;
    const self = this.o.state.workload(p.pod.uid);
    const sourceIp = normalize(socket.remoteAddress);
    const source = this.o.state.workloadByIp(sourceIp);
    const sourcePeer: Peer = source ? { workload: source, principal: 'unknown' } : {};
    if (!this.allowed(p, self, { sourcePrincipal: undefined, sourceIp, destinationIp: dst.address, destinationPort: dst.port })) {
      recordConnection(this.o.metrics, { reporter: 'destination', source: sourcePeer, destination: { ...(self ? { workload: self } : {}) }, mtls: false }).close(0, 0, 'UAEX');
      socket.destroy();
      return;
    }
    const report = recordConnection(this.o.metrics, { reporter: 'destination', source: sourcePeer, destination: { ...(self ? { workload: self } : {}) }, service: this.serviceOn(self, dst.port), mtls: false });
    const app = this.dial(p.pod.netns, dst.address, dst.port);
    p.track(app);
    bridge(socket, app).closed.then(({ aToB, bToA }) => report.close(bToA, aToB));
  }

  /** L4 policy for a connection to this pod; a denial is logged with the policy that decided. */
  private allowed(p: PodProxy, self: MeshWorkload | undefined, c: Parameters<typeof authorize>[1]): boolean {
    // Until workload discovery knows the pod, no policy can be matched to it: refuse rather than fail open.
    if (!self) {
      this.o.log(`ztunnel: ${p.pod.name}.${p.pod.namespace} is not in workload discovery yet: connection from ${c.sourcePrincipal ?? c.sourceIp} refused`);
      return false;
    }
    const verdict = authorize(this.o.state.policiesFor(self), c);
    if (!verdict.allowed) this.o.log(`ztunnel: connection from ${c.sourcePrincipal ?? c.sourceIp} to ${p.pod.name}.${p.pod.namespace}:${c.destinationPort} denied${verdict.policy ? ` by ${verdict.policy}` : ' (no ALLOW policy matched)'}`);
    return verdict.allowed;
  }
}
