// Starting points for "Create" on the Istio Config page: one small, valid object per kind people write by hand.

export interface ConfigTemplate {
  /** The `kind` query parameter (Gateway API kinds carry a prefix, since Istio has a Gateway too). */
  id: string;
  kind: string;
  group: string;
  yaml: (namespace: string) => string;
}

const head = (apiVersion: string, kind: string, name: string, namespace: string) => `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\n`;

export const CONFIG_TEMPLATES: ConfigTemplate[] = [
  { id: 'VirtualService', kind: 'VirtualService', group: 'networking.istio.io', yaml: (ns) => `${head('networking.istio.io/v1', 'VirtualService', 'my-routes', ns)}spec:\n  hosts:\n  - my-service\n  http:\n  - route:\n    - destination:\n        host: my-service\n` },
  { id: 'DestinationRule', kind: 'DestinationRule', group: 'networking.istio.io', yaml: (ns) => `${head('networking.istio.io/v1', 'DestinationRule', 'my-service', ns)}spec:\n  host: my-service\n  trafficPolicy:\n    loadBalancer:\n      simple: ROUND_ROBIN\n` },
  { id: 'Gateway', kind: 'Gateway', group: 'networking.istio.io', yaml: (ns) => `${head('networking.istio.io/v1', 'Gateway', 'my-gateway', ns)}spec:\n  selector:\n    istio: ingressgateway\n  servers:\n  - port:\n      number: 80\n      name: http\n      protocol: HTTP\n    hosts:\n    - "my.example.com"\n` },
  { id: 'ServiceEntry', kind: 'ServiceEntry', group: 'networking.istio.io', yaml: (ns) => `${head('networking.istio.io/v1', 'ServiceEntry', 'external-api', ns)}spec:\n  hosts:\n  - api.example.com\n  location: MESH_EXTERNAL\n  resolution: DNS\n  ports:\n  - number: 443\n    name: https\n    protocol: TLS\n` },
  { id: 'Sidecar', kind: 'Sidecar', group: 'networking.istio.io', yaml: (ns) => `${head('networking.istio.io/v1', 'Sidecar', 'default', ns)}spec:\n  egress:\n  - hosts:\n    - "./*"\n    - "istio-system/*"\n` },
  { id: 'PeerAuthentication', kind: 'PeerAuthentication', group: 'security.istio.io', yaml: (ns) => `${head('security.istio.io/v1', 'PeerAuthentication', 'default', ns)}spec:\n  mtls:\n    mode: STRICT\n` },
  { id: 'AuthorizationPolicy', kind: 'AuthorizationPolicy', group: 'security.istio.io', yaml: (ns) => `${head('security.istio.io/v1', 'AuthorizationPolicy', 'allow-nothing', ns)}spec: {}\n` },
  { id: 'RequestAuthentication', kind: 'RequestAuthentication', group: 'security.istio.io', yaml: (ns) => `${head('security.istio.io/v1', 'RequestAuthentication', 'jwt', ns)}spec:\n  jwtRules:\n  - issuer: https://issuer.example.com\n    jwksUri: https://issuer.example.com/.well-known/jwks.json\n` },
  { id: 'Telemetry', kind: 'Telemetry', group: 'telemetry.istio.io', yaml: (ns) => `${head('telemetry.istio.io/v1', 'Telemetry', 'access-logs', ns)}spec:\n  accessLogging:\n  - providers:\n    - name: envoy\n` },
  { id: 'K8sGateway', kind: 'Gateway', group: 'gateway.networking.k8s.io', yaml: (ns) => `${head('gateway.networking.k8s.io/v1', 'Gateway', 'my-gateway', ns)}spec:\n  gatewayClassName: istio\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n` },
  { id: 'HTTPRoute', kind: 'HTTPRoute', group: 'gateway.networking.k8s.io', yaml: (ns) => `${head('gateway.networking.k8s.io/v1', 'HTTPRoute', 'my-route', ns)}spec:\n  parentRefs:\n  - name: my-gateway\n  rules:\n  - backendRefs:\n    - name: my-service\n      port: 80\n` },
];

export function templateFor(id: string, namespace: string): { kind: string; group: string; yaml: string } {
  const t = CONFIG_TEMPLATES.find((x) => x.id === id) ?? CONFIG_TEMPLATES[0]!;
  return { kind: t.kind, group: t.group, yaml: t.yaml(namespace) };
}
