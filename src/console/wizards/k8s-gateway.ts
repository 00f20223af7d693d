// Kiali's "Create K8s Gateway" as a pure function: a Gateway API Gateway of a class Trellis serves (`istio` by
// default, which `trellis up` deploys a proxy for), its listeners with name, port, protocol, hostname, TLS and the
// namespaces whose routes they admit. The Gateway API wizards' "new gateway" option builds one with it too.

import { stringify } from 'yaml';
import { portConflicts } from '../../config/gateway-api.js';
import { ISTIO_GATEWAY_CLASS, type GatewayListener, type K8sGatewaySpec } from '../../config/types/gateway-api.js';

export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP';

export interface K8sListenerInput {
  name: string;
  port: number;
  protocol: ListenerProtocol;
  /** A host name or `*.domain`; empty: any host. TCP listeners take none. */
  hostname?: string;
  /** HTTPS and TLS: Terminate (with `certificate`) or, for TLS, Passthrough. */
  tlsMode?: 'Terminate' | 'Passthrough';
  /** The Secret (kubernetes.io/tls, in the Gateway's namespace) a terminating listener serves. */
  certificate?: string;
  /** Whose routes it admits: its own namespace's, or every namespace's. */
  from: 'Same' | 'All';
}

export interface K8sGatewayInput {
  namespace: string;
  name: string;
  className: string;
  listeners: K8sListenerInput[];
  labels?: Record<string, string>;
}

export interface K8sGatewayObject {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'Gateway';
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: K8sGatewaySpec;
}

/** A new listener as the form starts it: plain HTTP on port 80 for any host, routes of the Gateway's namespace. */
export function defaultListener(index: number): K8sListenerInput {
  return { name: index === 0 ? 'http' : `listener-${index + 1}`, port: 80, protocol: 'HTTP', from: 'Same' };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** The Gateway API's Hostname: a DNS name, optionally with a leading `*.` label; never an IP address or a lone `*`. */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const terminates = (l: K8sListenerInput) => l.protocol === 'HTTPS' || (l.protocol === 'TLS' && l.tlsMode !== 'Passthrough');

function checkListener(l: K8sListenerInput, i: number): string | undefined {
  const at = (m: string) => `listener ${i + 1}${l.name ? ` (${l.name})` : ''}: ${m}`;
  if (!DNS_LABEL.test(l.name) || l.name.length > 63) return at('the name must be a DNS label (lower case letters, digits, -)');
  if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535) return at('the port must be from 1 to 65535');
  if (l.hostname) {
    if (l.protocol === 'TCP') return at('a TCP listener matches no host name: leave it empty');
    if (!HOSTNAME.test(l.hostname) || /^[\d.]+$/.test(l.hostname)) return at(`"${l.hostname}" is not a host name (a DNS name or *.domain; empty for any)`);
  }
  if (l.protocol === 'HTTPS' && l.tlsMode === 'Passthrough') return at('HTTPS listeners terminate TLS; use a TLS listener for passthrough');
  if (terminates(l) && !l.certificate) return at('a listener that terminates TLS needs a certificate (a kubernetes.io/tls Secret)');
  if (l.certificate && !DNS_SUBDOMAIN.test(l.certificate)) return at(`"${l.certificate}" is not a Secret name`);
  return undefined;
}

/** Why the input cannot make a Gateway Trellis serves, or undefined. */
export function checkK8sGateway(input: K8sGatewayInput): string | undefined {
  if (!DNS_SUBDOMAIN.test(input.name) || input.name.length > 253) return 'the name must be a DNS name (lower case letters, digits, - and .)';
  if (!input.className) return 'choose a gateway class';
  if (input.listeners.length === 0) return 'add a listener';
  for (const [i, l] of input.listeners.entries()) {
    const problem = checkListener(l, i);
    if (problem) return problem;
  }
  const names = input.listeners.map((l) => l.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) return `two listeners are named ${twice}`;
  // The rule status applies (config/gateway-api.ts): a second listener on a port must be of a family that shares it.
  const conflict = portConflicts(input.listeners)[0];
  if (conflict) return `listener ${conflict.listener.name} cannot share port ${conflict.listener.port} with ${conflict.holder.name} (${conflict.holder.protocol}); choose another port`;
  const same = input.listeners.find((l, i) => input.listeners.some((o, j) => j < i && o.port === l.port && o.protocol === l.protocol && (o.hostname ?? '') === (l.hostname ?? '')));
  if (same) return `listener ${same.name} repeats another listener's port, protocol and host name`;
  return undefined;
}

function listener(l: K8sListenerInput): GatewayListener {
  const out: GatewayListener = { name: l.name, port: l.port, protocol: l.protocol };
  if (l.hostname) out.hostname = l.hostname;
  if (l.protocol === 'HTTPS' || l.protocol === 'TLS') {
    out.tls = terminates(l) ? { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: l.certificate ?? '' }] } : { mode: 'Passthrough' };
  }
  out.allowedRoutes = { namespaces: { from: l.from } };
  return out;
}

export function k8sGatewayObject(input: K8sGatewayInput): K8sGatewayObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: input.name, namespace: input.namespace, ...(input.labels && Object.keys(input.labels).length ? { labels: { ...input.labels } } : {}) },
    spec: { gatewayClassName: input.className || ISTIO_GATEWAY_CLASS, listeners: input.listeners.map(listener) },
  };
}

export function k8sGatewayYaml(input: K8sGatewayInput): string {
  return stringify(k8sGatewayObject(input));
}
