// `--network netns|loopback` and `--ip-family ipv4|ipv6|dual` for the commands that run a local mesh (`up`, `demo`).

import { UsageError } from './command.js';
import { chooseNetworkMode, type NetworkMode } from '../runtime/network-mode.js';
import type { IpFamily } from '../runtime/netns/address-plan.js';

export const NETWORK_USAGE = `  --network M           netns: each pod in its own network namespace, traffic captured by its sidecar as Istio's
                        iptables does (Linux, root; the default where it works); loopback: pods on 127.x addresses,
                        apps reach services through HTTP_PROXY
  --ip-family F         ipv4 (default), ipv6 or dual: the pod and service addresses in netns mode
  --egress-gateway      add Istio's egress gateway (istio-egressgateway, labels istio: egressgateway) to the primary
                        control plane when its topology has none (a ServiceMeshControlPlane enables one itself)`;

export const networkOptionSpecs = { network: { type: 'string' }, 'ip-family': { type: 'string', default: 'ipv4' }, 'egress-gateway': { type: 'boolean', default: false } } as const;

/** The mode and family asked for, checked; the mode says why it was chosen (printed by the command). */
export function networkOptions(values: { network?: string; 'ip-family'?: string; 'egress-gateway'?: boolean }): { network: NetworkMode; ipFamily: IpFamily; egressGateway: boolean; why: string } {
  const asked = values.network;
  if (asked !== undefined && asked !== 'netns' && asked !== 'loopback') throw new UsageError('--network must be netns or loopback');
  const family = values['ip-family'] ?? 'ipv4';
  if (family !== 'ipv4' && family !== 'ipv6' && family !== 'dual') throw new UsageError('--ip-family must be ipv4, ipv6 or dual');
  let chosen;
  try {
    chosen = chooseNetworkMode(asked);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (chosen.mode === 'loopback' && family !== 'ipv4') throw new UsageError(`--ip-family ${family} needs --network netns (loopback mode is IPv4: 127.x)`);
  return { network: chosen.mode, ipFamily: family, egressGateway: values['egress-gateway'] === true, why: chosen.why };
}
