// `trellis up --network netns`: one run's pod network, what LocalMesh asks of it. Stale runs are cleaned first, then a
// run record, a bridge with the gateway addresses, ClusterIPs from the run's service CIDR, the cluster DNS on the
// bridge; per pod a namespace with its files and Istio's capture rules (or DNAT to endpoints for pods without a
// sidecar), and the command lines that start its processes inside it. stop() removes all of it.

import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { cidrsOf, planAddresses, podAddresses, serviceAddresses, ulaOf, type AddressPlan, type IpFamily } from './address-plan.js';
import { ambientRules, captureOptionsOf, captureRules, PROXY_UID, serviceDnatRules } from './capture-rules.js';
import { clusterDns, podHosts, podResolvConf } from './cluster-dns.js';
import type { DnsServer, NameLookup } from '../../dns/dns-server.js';
import { removeRunNetwork, removeStaleNetworks } from './cleanup.js';
import { run } from './commands.js';
import { createBridge, createPodNetwork, deletePodNetwork, inPod, loadRules, replaceRules, type PodNetwork } from './pod-network.js';
import { livePrefixes, newRun, publicDirOf, readRuns, withRunLock, type RunRecord } from './run-record.js';
import type { PodAddressing } from '../plan.js';
import { PORTS } from '../../ports.js';

export interface NetnsNetworkOptions {
  family: IpFamily;
  domain?: string;
  log: (line: string) => void;
}

/** A service as the DNAT rules of pods without a sidecar need it. */
export interface ServiceTarget {
  address: string;
  port: number;
  endpoints: ReadonlyArray<{ address: string; port: number }>;
}

/** The IPv4 prefixes the host already routes or owns: the run's ranges must avoid them. */
function hostV4Prefixes(): string[] {
  const out: string[] = [];
  for (const line of run('ip', ['-4', '-o', 'route', 'show', 'table', 'all']).split('\n')) {
    const dst = line.split(' ')[0] === 'local' || line.split(' ')[0] === 'broadcast' ? line.split(' ')[1] : line.split(' ')[0];
    if (!dst || dst === 'default' || dst === 'unreachable') continue;
    out.push(dst.includes('/') ? dst : `${dst}/32`);
  }
  return out;
}

/** Outside hosts are numbered down from here, past any pod the planner numbers. */
const OUTSIDE_HOSTS_FROM = 4090;

export class NetnsNetwork {
  readonly plan: AddressPlan;
  private readonly pods = new Map<string, PodNetwork & { dnat: boolean; ambient: boolean }>();
  /** The services as the DNAT rules last had them (an ambient pod that leaves ambient mode gets them back). */
  private services: readonly ServiceTarget[] = [];
  private readonly serviceNumbers = new Map<string, number>();
  private dns: DnsServer | undefined;
  private stopped = false;

  private constructor(
    readonly record: RunRecord,
    plan: AddressPlan,
    private readonly o: NetnsNetworkOptions,
  ) {
    this.plan = plan;
  }

  /** Cleans what crashed runs left, then makes this run's bridge. */
  static start(o: NetnsNetworkOptions): NetnsNetwork {
    // Under the runs' lock: cleaning, choosing ranges and recording them is one step for concurrent starts.
    const { record, plan } = withRunLock(() => {
      const stale = removeStaleNetworks();
      const removed = stale.netns.length + stale.links.length + stale.rules.length;
      if (removed || stale.records.length) o.log(`[network] removed what an earlier run left: ${[...stale.netns, ...stale.links].join(' ') || `${stale.records.length} run record(s)`}`);
      const live = livePrefixes();
      const others = readRuns().filter((r) => live.has(r.prefix));
      const plan = planAddresses(o.family, [...hostV4Prefixes(), ...others.flatMap((r) => [r.podCidr4, r.serviceCidr4].filter((c): c is string => !!c))], others.map((r) => r.ula ?? ''));
      return { plan, record: newRun({ podCidr4: plan.v4?.podCidr, serviceCidr4: plan.v4?.serviceCidr, ula: ulaOf(plan) }) };
    });
    const net = new NetnsNetwork(record, plan, o);
    try {
      createBridge(record.prefix, plan);
    } catch (err) {
      net.stop();
      throw err;
    }
    return net;
  }

  get prefix(): string {
    return this.record.prefix;
  }

  /** The host's addresses on the bridge: where pods reach the control plane, the CA and the cluster DNS. */
  get hostAddresses(): string[] {
    return [this.plan.v4?.gateway, this.plan.v6?.gateway].filter((a): a is string => !!a);
  }

  /** `host:port` for a pod to dial the host (IPv6 in brackets), in the primary family. */
  hostTarget(port: number): string {
    const a = this.hostAddresses[0]!;
    return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
  }

  describe(): string {
    const { pods, services } = cidrsOf(this.plan);
    return `network namespaces (${this.o.family}): pods ${pods.join(' ')}, services ${services.join(' ')}, bridge ${this.prefix}br`;
  }

  /** ClusterIPs, stable for a service for the whole run. */
  clusterIps(namespace: string, name: string): string[] {
    const key = `${namespace}/${name}`;
    let n = this.serviceNumbers.get(key);
    if (n === undefined) this.serviceNumbers.set(key, (n = this.serviceNumbers.size + 1));
    return serviceAddresses(this.plan, n);
  }

  /** Pod `n` (the planner's number, from 1)'s addresses; pods are numbered from 2 on the bridge. */
  addressing(n: number): PodAddressing {
    const family = this.o.family;
    return {
      podIPs: podAddresses(this.plan, n + 1),
      appAddress: family === 'ipv6' ? '::1' : '127.0.0.1',
      bindAddress: family === 'ipv4' ? '0.0.0.0' : '::',
      serviceHost: (ns, name) => this.clusterIps(ns, name)[0],
    };
  }

  /**
   * A folder of this run that every pod's processes can read (the sidecar runs as uid 1337 and cannot enter the state
   * directory): the CA's root certificate goes here. Removed with the run.
   */
  publicDir(): string {
    const dir = publicDirOf(this.prefix);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    return dir;
  }

  /** Serves the cluster DNS on the bridge. */
  async startDns(lookup: NameLookup): Promise<void> {
    this.dns = clusterDns(lookup);
    await this.dns.listen(this.hostAddresses, 53);
  }

  /** A pod's namespace with its files and rules, before any of its processes start. */
  /**
   * A pod's namespace with its files and rules, before any of its processes start: Istio's capture rules for a pod
   * with a sidecar, DNAT to endpoints for one without (`dnat`), none for a gateway (it is the proxy itself).
   */
  addPod(pod: { key: string; number: number; name: string; namespace: string; annotations: Record<string, string>; rules: 'capture' | 'dnat' | 'none'; dnsCapture: boolean }): PodNetwork {
    const addresses = podAddresses(this.plan, pod.number + 1);
    const files = { hosts: podHosts(pod.name, addresses), resolvConf: podResolvConf(this.hostAddresses, pod.namespace, this.o.domain ?? 'cluster.local') };
    const pn = createPodNetwork(this.prefix, this.plan, pod.number + 1, pod.name, files);
    this.pods.set(pod.key, { ...pn, dnat: pod.rules === 'dnat', ambient: false });
    try {
      // The sidecar's connections to its app come from 127.0.0.6 / ::6 (Istio's inbound passthrough source).
      if (this.plan.v6) run('ip', ['-n', pn.netns, 'addr', 'add', '::6/128', 'dev', 'lo', 'nodad']);
      if (pod.rules === 'capture') {
        // The runtime reads the sidecar's admin port from the host: not captured, like Istio's own ports.
        const capture = captureOptionsOf(pod.annotations, { dnsCapture: pod.dnsCapture, extraInboundExclusions: [PORTS.proxyAdmin] });
        if (this.plan.v4) loadRules(pn.netns, 4, captureRules(capture, 4));
        if (this.plan.v6) loadRules(pn.netns, 6, captureRules(capture, 6));
      }
    } catch (err) {
      this.removePod(pod.key);
      throw err;
    }
    return pn;
  }

  /** Pods without a sidecar reach ClusterIPs through DNAT to the endpoints (kube-proxy's role); kept current. */
  updateServices(targets: readonly ServiceTarget[]): void {
    this.services = targets;
    for (const p of this.pods.values()) if (p.dnat && !p.ambient) this.loadNat(p);
  }

  /** A pod's whole nat table: Istio's in-pod redirection in ambient mode, else DNAT to the services' endpoints. */
  private loadNat(p: PodNetwork & { ambient: boolean }): void {
    for (const family of [...(this.plan.v4 ? [4 as const] : []), ...(this.plan.v6 ? [6 as const] : [])]) {
      replaceRules(p.netns, family, p.ambient ? ambientRules(family) : serviceDnatRules(this.services, family));
    }
  }

  /**
   * Enrols a pod without a sidecar in ambient mode (its traffic to the node proxy listening inside it) or takes it out
   * again (DNAT as before), live: the pod's processes keep running.
   */
  setAmbient(key: string, ambient: boolean): void {
    const p = this.pods.get(key);
    if (!p || !p.dnat || p.ambient === ambient) return;
    p.ambient = ambient;
    this.loadNat(p);
  }

  /** The path of a pod's namespace, which the node proxy opens to make its sockets inside. */
  netnsPath(key: string): string | undefined {
    const p = this.pods.get(key);
    return p ? `/run/netns/${p.netns}` : undefined;
  }

  /** The command line that runs a program in the pod (the sidecar as Istio's uid 1337, whose traffic is not captured). */
  command(key: string, command: string, args: readonly string[], as: 'app' | 'sidecar'): { command: string; args: string[] } {
    const p = this.pods.get(key);
    if (!p) throw new Error(`no network namespace for pod ${key}`);
    return inPod(p.netns, command, args, as === 'sidecar' ? PROXY_UID : undefined);
  }

  /** A runtime process on the host (the ingress gateway): it, too, dies with the runtime. */
  hostCommand(command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: 'setpriv', args: ['--pdeathsig', 'SIGKILL', command, ...args] };
  }

  /** Resolves true once every port accepts connections inside the pod (its app is up), false at the deadline. */
  portsOpen(key: string, ports: readonly number[], timeoutMs: number): Promise<boolean> {
    const p = this.pods.get(key);
    if (!p || !ports.length) return Promise.resolve(true);
    const host = this.plan.v4 ? '127.0.0.1' : '::1';
    const script = `const net=require('net');const d=Date.now()+${timeoutMs};const ports=${JSON.stringify(ports)};` + `const probe=(p)=>new Promise((r)=>{const s=net.connect({host:${JSON.stringify(host)},port:p});s.once('connect',()=>{s.destroy();r(true)});s.once('error',()=>r(false))});` + `(async()=>{for(const p of ports){while(!(await probe(p))){if(Date.now()>d)process.exit(1);await new Promise((r)=>setTimeout(r,100))}}})()`;
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', p.netns, process.execPath, '-e', script], { stdio: 'ignore' });
      child.once('error', () => resolve(false));
      child.once('exit', (code) => resolve(code === 0));
    });
  }

  /**
   * A host outside the mesh on the pod network (its own namespace, an address past every pod's, no sidecar, not in the
   * registry): what egress tests call "the internet". Removed with the run.
   */
  addOutsideHost(name: string, k = 1): PodNetwork {
    const n = OUTSIDE_HOSTS_FROM - k;
    const addresses = podAddresses(this.plan, n);
    const pn = createPodNetwork(this.prefix, this.plan, n, `outside-${name}`, { hosts: podHosts(name, addresses), resolvConf: podResolvConf(this.hostAddresses, 'default', this.o.domain ?? 'cluster.local') });
    this.pods.set(`outside/${name}`, { ...pn, dnat: false, ambient: false });
    return pn;
  }

  /** Lets a gateway's proxy (uid 1337) bind the low ports of Gateway servers in its own namespace, as Istio's gateways do. */
  allowLowPorts(key: string): void {
    const p = this.pods.get(key);
    if (p) run('ip', ['netns', 'exec', p.netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_unprivileged_port_start=0']);
  }

  /** The namespace a pod runs in (`ip netns exec <it> …`). */
  namespaceOf(key: string): string | undefined {
    return this.pods.get(key)?.netns;
  }

  removePod(key: string): void {
    const p = this.pods.get(key);
    if (!p) return;
    this.pods.delete(key);
    deletePodNetwork(p);
  }

  /** Removes every namespace, link, rule, file and the run record. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.dns?.close();
    removeRunNetwork(this.prefix);
  }
}

/** Is this an address to dial with brackets? */
export const bracket = (a: string): string => (isIP(a) === 6 ? `[${a}]` : a);
