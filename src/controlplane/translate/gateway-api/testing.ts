// Test helpers for Gateway API translation: a push context over YAML with the services' workloads and a deployed
// gateway registered, the xDS a gateway proxy or sidecar gets, and requests simulated through the route tables a real
// proxy compiled from it (Istio's pilot simulation style: behaviour, not JSON text).

import assert from 'node:assert/strict';
import { loadText } from '../../../config/loader.js';
import { GATEWAY_NAME_LABEL } from '../../../config/types/gateway-api.js';
import type { MatchInput } from '../../../proxy/config/match-input.js';
import type { CompiledRoute } from '../../../proxy/config/route-table.js';
import { TrellisProxy } from '../../../proxy/proxy.js';
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration, Secret } from '../../../xds/envoy/index.js';
import { TypeUrl, type ProxyNode } from '../../../xds/resource.js';
import { ServiceRegistry } from '../../registry/service-registry.js';
import { MeshConfigGenerator } from '../generator.js';
import { pushContextOf } from '../testing.js';
import type { PushContext } from '../push-context.js';

export interface Built {
  push: PushContext;
  generator: MeshConfigGenerator;
}

/** A push context over `yaml`, with the Gateways named in `deployed` (`ns/name`) running at 127.10.255.2, .3, … */
export function buildGatewayApi(yaml: string, deployed: string[] = []): Built {
  const { resources, errors } = loadText(yaml, 'gateway-api.yaml');
  assert.deepEqual(errors, []);
  const registry = new ServiceRegistry();
  registry.setResources(resources);
  deployed.forEach((key, i) => {
    const [namespace, name] = key.split('/') as [string, string];
    registry.upsertWorkload({ name: `${name}-istio-0`, namespace, labels: { [GATEWAY_NAME_LABEL]: name }, serviceAccount: `${name}-istio`, address: `127.10.255.${i + 2}`, ports: {}, healthy: true, meshed: false });
  });
  const push = pushContextOf(resources, registry);
  return { push, generator: new MeshConfigGenerator(push) };
}

export interface ProxyConfig {
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  endpoints: ClusterLoadAssignment[];
  secrets: Secret[];
}

/** A kubernetes.io/tls Secret with this certificate and key (PEM), as YAML. */
export function tlsSecretYaml(name: string, namespace: string, pem: { cert: string; key: string }): string {
  const indent = (text: string) => text.trim().replace(/^/gm, '    ');
  return `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: ${namespace}}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n${indent(pem.cert)}\n  tls.key: |\n${indent(pem.key)}\n---\n`;
}

export const gatewayNode = (namespace: string, name: string, ip = '127.10.255.2'): ProxyNode => ({
  id: `router~${ip}~${name}-istio-0.${namespace}~${namespace}.svc.cluster.local`,
  cluster: name,
  metadata: { NAMESPACE: namespace, LABELS: { [GATEWAY_NAME_LABEL]: name } },
});

export const sidecarNode = (namespace: string, pod: string, labels: Record<string, string>): ProxyNode => ({
  id: `sidecar~127.10.0.9~${pod}.${namespace}~${namespace}.svc.cluster.local`,
  cluster: pod,
  metadata: { NAMESPACE: namespace, LABELS: labels },
});

export function configFor(b: Built, node: ProxyNode): ProxyConfig {
  const r = b.generator.generate(node);
  const list = <T>(t: string) => (r.get(t) ?? []).map((x) => x.value as T);
  return {
    listeners: list<Listener>(TypeUrl.Listener),
    routes: list<RouteConfiguration>(TypeUrl.RouteConfiguration),
    clusters: list<Cluster>(TypeUrl.Cluster),
    endpoints: list<ClusterLoadAssignment>(TypeUrl.ClusterLoadAssignment),
    secrets: list<Secret>(TypeUrl.Secret),
  };
}

export interface SimRequest {
  host: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
}

/** A real proxy with the config applied (listeners moved to 127.0.0.1:0 so nothing fixed is bound); it must accept all of it. */
export async function compiled(config: ProxyConfig): Promise<{ route(table: string, req: SimRequest): CompiledRoute | undefined; close(): Promise<void> }> {
  const proxy = new TrellisProxy({});
  const listeners = config.listeners.map((l) => (l.address ? { ...l, address: { socketAddress: { address: '127.0.0.1', portValue: 0 } } } : l));
  const applied = await proxy.apply({ listeners, routes: config.routes, clusters: config.clusters, endpoints: config.endpoints });
  const errors = applied.issues.filter((i) => (i as { level?: string }).level === 'error');
  assert.deepEqual(errors, [], 'the proxy accepts the translated config');
  return {
    route(table, req) {
      const t = proxy.routeTable(table);
      assert.ok(t, `route table ${table}`);
      const [pathOnly, query = ''] = req.path.split('?') as [string, string?];
      const headers: Record<string, string> = { ...Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])), ':method': req.method ?? 'GET', ':authority': req.host, ':path': req.path };
      const input: MatchInput = { method: req.method ?? 'GET', authority: req.host.toLowerCase(), pathOnly, query, header: (n) => headers[n], queryParams: () => new URLSearchParams(query), isGrpc: false };
      return t.route(input);
    },
    close: () => proxy.close(),
  };
}

/** The cluster(s) a compiled route forwards to, `redirect <status> …`, `direct <status>` or `none` (no route: 404). */
export function outcome(route: CompiledRoute | undefined): string {
  if (!route) return 'none';
  const a = route.action;
  if (a.kind === 'direct') return `direct ${a.status}`;
  if (a.kind === 'redirect') return `redirect ${a.status}`;
  if (a.kind !== 'forward') return a.kind;
  if (a.weighted) return a.weighted.targets.map((t) => `${t.name}=${t.weight}`).join(' ');
  return a.cluster ?? '';
}
