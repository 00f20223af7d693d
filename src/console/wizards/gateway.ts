// The wizards' "Add Gateway" option, as Kiali has it: attach the VirtualService to an existing Istio Gateway, or
// create `<service>-gateway` (ingress gateway selector, one server) for it; with or without the mesh's own sidecars.
// The Gateway API wizards take the same choice for an HTTPRoute and a Kubernetes Gateway (http-route.ts).

import type { GatewaySpec } from '../../config/types/networking.js';

export type GatewayAttachment =
  | {
      mode: 'existing';
      /** `namespace/name` of the Gateway. */
      gateway: string;
      /** Host names the VirtualService answers for at the gateway (besides the service's own name). */
      hosts: string[];
      /** Keep routing the mesh's own requests too (`mesh` in `gateways`). */
      includeMesh: boolean;
    }
  | {
      mode: 'new';
      port: number;
      /** HTTP for the HTTP wizards, TCP for TCP traffic shifting. */
      protocol: 'HTTP' | 'TCP';
      /** The new Gateway's server hosts, and the VirtualService's. */
      hosts: string[];
      includeMesh: boolean;
    };

/** Istio's default ingress gateway, which Kiali's new gateways select. */
export const INGRESS_SELECTOR = { istio: 'ingressgateway' } as const;

/** A host as Gateways and VirtualServices take it: `*`, `*.example.com` or a DNS name. */
const HOST = /^(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$/;

/**
 * Why the attachment cannot be written, or undefined. `api` is whose Gateway it is: an Istio Gateway (VirtualService
 * hosts) or a Kubernetes Gateway (HTTPRoute hostnames, where `*` means any and mesh routes ignore hostnames).
 */
export function checkGateway(g: GatewayAttachment, api: 'istio' | 'gateway-api' = 'istio'): string | undefined {
  if (g.mode === 'existing' && !/^[^/\s]+\/[^/\s]+$/.test(g.gateway)) return 'choose a gateway (namespace/name)';
  if (g.mode === 'new') {
    if (!Number.isInteger(g.port) || g.port < 1 || g.port > 65535) return 'the gateway port must be from 1 to 65535';
    if (g.hosts.length === 0) return 'the gateway needs at least one host (* for any)';
    if (api === 'gateway-api' && g.protocol !== 'HTTP') return 'an HTTPRoute needs an HTTP listener';
  }
  for (const h of g.hosts) if (!HOST.test(h)) return `"${h}" is not a host name`;
  // Istio refuses a wildcard VirtualService host on the mesh: sidecars would send everything there.
  if (api === 'istio' && g.includeMesh && g.hosts.includes('*')) return 'the host * cannot be used with the mesh: name the hosts, or leave the mesh out';
  return undefined;
}

export function newGatewayName(service: string): string {
  return `${service}-gateway`;
}

/** The VirtualService's `gateways`. */
export function gatewayRefs(g: GatewayAttachment, namespace: string, service: string): string[] {
  const gw = g.mode === 'existing' ? g.gateway : `${namespace}/${newGatewayName(service)}`;
  return g.includeMesh ? [gw, 'mesh'] : [gw];
}

/** The Gateway to create, or undefined when an existing one is attached. */
export function gatewayObject(g: GatewayAttachment, namespace: string, service: string, labels: Record<string, string>): { apiVersion: string; kind: 'Gateway'; metadata: { name: string; namespace: string; labels: Record<string, string> }; spec: GatewaySpec } | undefined {
  if (g.mode !== 'new') return undefined;
  const name = g.protocol.toLowerCase();
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'Gateway',
    metadata: { name: newGatewayName(service), namespace, labels: { ...labels } },
    spec: { selector: { ...INGRESS_SELECTOR }, servers: [{ port: { number: g.port, name: `${name}-${g.port}`, protocol: g.protocol }, hosts: g.hosts }] },
  };
}
