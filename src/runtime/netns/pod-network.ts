// A run's pod network on this machine: one bridge on the host (the pods' gateway), and per pod a network namespace
// with a veth pair (`eth0` inside, on the bridge outside), its addresses, `lo`, a default route, capture or DNAT rules,
// and its own /etc/hosts and /etc/resolv.conf. The files live in /etc/netns/<netns>/, which `ip netns exec` bind-mounts
// over /etc/ in a private mount namespace for the process it starts — so every process of the pod sees them, and
// nothing else does.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayAddresses, podAddresses, type AddressPlan } from './address-plan.js';
import { ipBatch, run } from './commands.js';

export const ETC_NETNS = '/etc/netns';

export interface PodNetwork {
  /** The namespace's name (`ip netns exec <netns> …`). */
  netns: string;
  /** The host end of its veth pair, on the bridge. */
  hostLink: string;
  /** Its addresses, primary family first. */
  addresses: string[];
}

export const bridgeName = (prefix: string): string => `${prefix}br`;
const hostLinkName = (prefix: string, n: number): string => `${prefix}h${n.toString(16)}`;
/** `<prefix>-<n>-<pod>`: the run, a number unique in it, and the pod's name for people reading `ip netns`. */
const netnsName = (prefix: string, n: number, pod: string): string => `${prefix}-${n}-${pod}`.slice(0, 200);

/** The bridge pods attach to, with the gateway addresses; also lets bridged traffic through a host FORWARD policy of DROP. */
export function createBridge(prefix: string, plan: AddressPlan): string {
  const br = bridgeName(prefix);
  ipBatch([`link add ${br} type bridge`, ...gatewayAddresses(plan).map((a) => `addr add ${a} dev ${br}${a.includes(':') ? ' nodad' : ''}`), `link set ${br} up`]);
  for (const tool of ['iptables', ...(plan.v6 ? ['ip6tables'] : [])]) {
    // Pod to pod over the bridge passes the host's FORWARD chain when br_netfilter is loaded; a host whose policy drops
    // it would cut pods off. Marked with the run's prefix, removed with the run.
    const policy = /-P FORWARD (\w+)/.exec(run(tool, ['-S', 'FORWARD']))?.[1];
    if (policy && policy !== 'ACCEPT') run(tool, ['-I', 'FORWARD', '-i', br, '-o', br, '-m', 'comment', '--comment', prefix, '-j', 'ACCEPT']);
  }
  return br;
}

export interface PodFiles {
  hosts: string;
  resolvConf: string;
}

/** Pod `n`'s namespace, attached to the run's bridge, with its files written. */
export function createPodNetwork(prefix: string, plan: AddressPlan, n: number, pod: string, files: PodFiles): PodNetwork {
  const netns = netnsName(prefix, n, pod);
  const hostLink = hostLinkName(prefix, n);
  const addresses = podAddresses(plan, n);
  const fams = [plan.v4 && { len: plan.v4.prefixLen, gw: plan.v4.gateway }, plan.v6 && { len: plan.v6.prefixLen, gw: plan.v6.gateway }].filter((f): f is { len: number; gw: string } => !!f);
  const etc = join(ETC_NETNS, netns);
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, 'hosts'), files.hosts);
  writeFileSync(join(etc, 'resolv.conf'), files.resolvConf);
  ipBatch([`netns add ${netns}`, `link add ${hostLink} type veth peer name eth0 netns ${netns}`, `link set ${hostLink} master ${bridgeName(prefix)} up`]);
  // Inside the namespace (`ip -n`: options are per process, not per batch line).
  ipBatch(
    [
      'link set lo up',
      ...addresses.map((a, i) => `addr add ${a}/${fams[i]!.len} dev eth0${a.includes(':') ? ' nodad' : ''}`),
      'link set eth0 up',
      ...fams.map((f) => `route add default via ${f.gw} dev eth0`),
    ],
    { netns },
  );
  return { netns, hostLink, addresses };
}

/** Loads iptables-restore input into a pod's namespace (the capture rules, or DNAT for pods without a sidecar). */
export function loadRules(netns: string, family: 4 | 6, rules: string): void {
  run('ip', ['netns', 'exec', netns, family === 4 ? 'iptables-restore' : 'ip6tables-restore', '--noflush'], rules);
}

/** Replaces a pod's rules in one chain table: flush, then load (for DNAT rules that follow the endpoints). */
export function replaceRules(netns: string, family: 4 | 6, rules: string): void {
  run('ip', ['netns', 'exec', netns, family === 4 ? 'iptables-restore' : 'ip6tables-restore'], rules);
}

/** Deleting the namespace deletes its veth pair (both ends) and its rules; the files go with it. */
export function deletePodNetwork(p: PodNetwork): void {
  ipBatch([`netns del ${p.netns}`], { force: true });
  rmSync(join(ETC_NETNS, p.netns), { recursive: true, force: true });
}

/**
 * The command line that runs `command` inside a pod's namespace, as `uid` when given (the sidecar's 1337). The process
 * gets SIGKILL when the runtime dies (setpriv's parent-death signal), so a killed `trellis up` leaves no pod behind.
 */
export function inPod(netns: string, command: string, args: readonly string[], uid?: number): { command: string; args: string[] } {
  const as = uid !== undefined ? [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'] : [];
  return { command: 'ip', args: ['netns', 'exec', netns, 'setpriv', '--pdeathsig', 'SIGKILL', ...as, command, ...args] };
}

/** Processes still inside a namespace (`ip netns pids`). */
export function pidsIn(netns: string): number[] {
  try {
    return run('ip', ['netns', 'pids', netns]).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
