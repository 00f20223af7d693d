// Every code Trellis reports, in one table: config messages (Istio's IST codes and Trellis's TRL00xx/TRL01xx), the
// proxy's config checks (TRL20xx) and local replies (TRL21xx), the console API's errors (TRL30xx).

// This module imports nothing, so that every part (a sidecar included) can read it without loading another part.
// The modules that report codes (config/analysis/messages.ts, proxy/errors.ts, console/api/errors.ts) take their
// codes, names, levels and statuses from here; a code is defined nowhere else.

export type Level = 'Error' | 'Warning' | 'Info';

/** Which part of Trellis reports a code; `trellis codes` groups by it. */
export type Part = 'config' | 'proxy-config' | 'proxy-reply' | 'console-api';

interface Entry<P extends Part> {
  code: string;
  /** Istio's message name for IST codes; the identifier the reporting part already exposes for TRL codes. */
  name: string;
  part: P;
  /** One line on what the code means. */
  meaning: string;
}

/** A message about a user's config (`trellis analyze`, the control plane's rejections, the console's validations). */
export interface MessageEntry extends Entry<'config'> {
  level: Level;
  /** For an IST code Istio no longer reports: the Istio version that retired it. */
  retiredInIstio?: string;
}

/** Whether Istio has a config message: `current` (istioctl reports it), `retired` (older Istio did), `no` (Trellis's own). */
export function istioHas(e: MessageEntry): 'current' | 'retired' | 'no' {
  if (!e.code.startsWith('IST')) return 'no';
  return e.retiredInIstio ? 'retired' : 'current';
}
/** A problem the proxy finds in an xDS update; errors reject the update (NACK), warnings are logged. */
export type ProxyConfigEntry = Entry<'proxy-config'>;
/** A reply the proxy generates itself, with its default HTTP status. */
export interface ProxyReplyEntry extends Entry<'proxy-reply'> {
  status: number;
}
/** An error of the console's JSON API; `name` is the `error.code` the API has always sent. */
export interface ConsoleApiEntry extends Entry<'console-api'> {
  status: number;
}
export type CodeEntry = MessageEntry | ProxyConfigEntry | ProxyReplyEntry | ConsoleApiEntry;

export const PARTS: readonly { part: Part; title: string }[] = [
  { part: 'config', title: "Config messages (trellis analyze, the control plane's rejected objects, the console's validations)" },
  { part: 'proxy-config', title: 'Proxy config checks (an xDS update with an error is rejected whole and NACKed with these codes)' },
  { part: 'proxy-reply', title: 'Replies the proxy generates itself (default HTTP status)' },
  { part: 'console-api', title: "Console API errors (HTTP status; the JSON body's error.code is the name)" },
];

type Named<P extends Part, D> = { readonly [K in keyof D & string]: D[K] & { readonly name: K; readonly part: P } };

/** Entries of one part keyed by name; each gets its key as `name` and its part, so a name is written once. */
function entries<E extends CodeEntry>(part: E['part']) {
  return <const D extends Record<string, Omit<E, 'name' | 'part'>>>(defs: D): Named<E['part'], D> =>
    Object.fromEntries(Object.entries(defs).map(([name, d]) => [name, { ...d, name, part }])) as Named<E['part'], D>;
}

// ---------------------------------------------------------------- config (trellis analyze)

export const ConfigMessages = entries<MessageEntry>('config')({
  // Trellis's own: problems that keep a document from becoming a resource.
  ConfigFileNotFound: { code: 'TRL0001', level: 'Error', meaning: 'A path given to Trellis does not exist or cannot be read.' },
  YAMLSyntaxError: { code: 'TRL0002', level: 'Error', meaning: 'A file is not valid YAML.' },
  NotAKubernetesObject: { code: 'TRL0003', level: 'Error', meaning: 'A YAML document is not a Kubernetes object (no apiVersion, kind or metadata.name).' },
  UnknownKind: { code: 'TRL0004', level: 'Info', meaning: 'A kind Trellis does not read; the object is kept but has no effect on the mesh.' },
  UnsupportedAPIVersion: { code: 'TRL0005', level: 'Error', meaning: 'A known kind in an API version that does not exist for it.' },
  DuplicateResource: { code: 'TRL0006', level: 'Warning', meaning: 'Two documents define the same kind, namespace and name; as with kubectl apply, the later one replaces the earlier.' },

  // Istio's analyzer messages (same codes, names and levels as istioctl analyze).
  InternalError: { code: 'IST0001', level: 'Error', meaning: 'There was an internal error in the toolchain.' },
  Deprecated: { code: 'IST0002', level: 'Warning', meaning: 'A feature that the configuration is depending on is now deprecated.' },
  ReferencedResourceNotFound: { code: 'IST0101', level: 'Error', meaning: 'A resource being referenced does not exist.' },
  NamespaceNotInjected: { code: 'IST0102', level: 'Info', meaning: 'A namespace is not enabled for Istio injection.' },
  PodMissingProxy: { code: 'IST0103', level: 'Warning', meaning: 'A pod is missing the Istio proxy.' },
  SchemaValidationError: { code: 'IST0106', level: 'Error', meaning: 'The resource has a schema validation error.' },
  MisplacedAnnotation: { code: 'IST0107', level: 'Warning', meaning: 'An Istio annotation is applied to the wrong kind of resource.' },
  UnknownAnnotation: { code: 'IST0108', level: 'Warning', meaning: 'An Istio annotation is not recognized for any kind of resource.' },
  ConflictingMeshGatewayVirtualServiceHosts: { code: 'IST0109', level: 'Error', meaning: 'Conflicting hosts on VirtualServices associated with mesh gateway.' },
  ConflictingSidecarWorkloadSelectors: { code: 'IST0110', level: 'Error', meaning: 'A Sidecar resource selects the same workloads as another Sidecar resource.' },
  MultipleSidecarsWithoutWorkloadSelectors: { code: 'IST0111', level: 'Error', meaning: 'More than one sidecar resource in a namespace has no workload selector.' },
  VirtualServiceDestinationPortSelectorRequired: { code: 'IST0112', level: 'Error', meaning: 'A VirtualService routes to a service with more than one port exposed, but does not specify which to use.' },
  // Istio retired this code with the old authentication Policy API (1.6); Trellis keeps it for the PeerAuthentication
  // equivalent, since Istio has no current code for a DestinationRule whose TLS mode the server side rejects.
  MTLSPolicyConflict: { code: 'IST0113', level: 'Error', retiredInIstio: '1.6', meaning: 'A DestinationRule and PeerAuthentication are in conflict with regards to mTLS.' },
  DeploymentAssociatedToMultipleServices: { code: 'IST0116', level: 'Warning', meaning: "The resulting pods of a service mesh deployment can't be associated with multiple services using the same port but different protocols." },
  // Retired in Istio 1.20; Trellis reports it in --local (trellis up), as OpenShift Service Mesh 2.4 (Istio 1.16) does.
  DeploymentRequiresServiceAssociated: { code: 'IST0117', level: 'Warning', retiredInIstio: '1.20', meaning: 'The resulting pods of a service mesh deployment must be associated with at least one service.' },
  PortNameIsNotUnderNamingConvention: { code: 'IST0118', level: 'Info', meaning: 'Port name is not under naming convention. Protocol detection is applied to the port.' },
  NamespaceMultipleInjectionLabels: { code: 'IST0123', level: 'Warning', meaning: 'A namespace has more than one type of injection labels.' },
  InvalidAnnotation: { code: 'IST0125', level: 'Warning', meaning: 'An Istio annotation that is not valid.' },
  UnknownMeshNetworksServiceRegistry: { code: 'IST0126', level: 'Error', meaning: 'A service registry in Mesh Networks is unknown.' },
  NoMatchingWorkloadsFound: { code: 'IST0127', level: 'Warning', meaning: "There aren't workloads matching the resource labels." },
  NoServerCertificateVerificationDestinationLevel: { code: 'IST0128', level: 'Warning', meaning: 'No caCertificates are set in DestinationRule, this results in no verification of presented server certificate.' },
  NoServerCertificateVerificationPortLevel: { code: 'IST0129', level: 'Warning', meaning: 'No caCertificates are set in DestinationRule, this results in no verification of presented server certificate for traffic to a given port.' },
  VirtualServiceUnreachableRule: { code: 'IST0130', level: 'Warning', meaning: 'A VirtualService rule will never be used because a previous rule uses the same match.' },
  VirtualServiceIneffectiveMatch: { code: 'IST0131', level: 'Info', meaning: 'A VirtualService rule match duplicates a match in a previous rule.' },
  VirtualServiceHostNotFoundInGateway: { code: 'IST0132', level: 'Warning', meaning: 'Host defined in VirtualService not found in Gateway.' },
  ServiceEntryAddressesRequired: { code: 'IST0134', level: 'Warning', meaning: 'Virtual IP addresses are required for ports serving TCP (or unset) protocol.' },
  DeprecatedAnnotation: { code: 'IST0135', level: 'Info', meaning: 'A resource is using a deprecated Istio annotation.' },
  AlphaAnnotation: { code: 'IST0136', level: 'Info', meaning: 'An Istio annotation may not be suitable for production.' },
  DeploymentConflictingPorts: { code: 'IST0137', level: 'Warning', meaning: 'Two services selecting the same workload with the same targetPort MUST refer to the same port.' },
  GatewayDuplicateCertificate: { code: 'IST0138', level: 'Warning', meaning: 'Duplicate certificate in multiple gateways may cause 404s if clients re-use HTTP2 connections.' },
  InvalidWebhook: { code: 'IST0139', level: 'Error', meaning: 'Webhook is invalid or references a control plane service that does not exist.' },
  IngressRouteRulesNotAffected: { code: 'IST0140', level: 'Warning', meaning: 'Route rules have no effect on ingress gateway requests.' },
  InvalidApplicationUID: { code: 'IST0144', level: 'Warning', meaning: 'Application pods should not run as user ID (UID) 1337.' },
  ConflictingGateways: { code: 'IST0145', level: 'Error', meaning: 'Gateway should not have the same selector, port and matched hosts of server.' },
  ImageAutoWithoutInjectionWarning: { code: 'IST0146', level: 'Warning', meaning: 'Deployments with `image: auto` should be targeted for injection.' },
  ImageAutoWithoutInjectionError: { code: 'IST0147', level: 'Error', meaning: 'Pods with `image: auto` should be targeted for injection.' },
  NamespaceInjectionEnabledByDefault: { code: 'IST0148', level: 'Info', meaning: 'A namespace without injection labels is injected, as Istio is installed with enableNamespacesByDefault.' },
  JwtClaimBasedRoutingWithoutRequestAuthN: { code: 'IST0149', level: 'Error', meaning: 'Virtual service using JWT claim based routing without request authentication.' },
  ExternalNameServiceTypeInvalidPortName: { code: 'IST0150', level: 'Warning', meaning: 'Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly for ExternalName services.' },
  EnvoyFilterUsesRelativeOperation: { code: 'IST0151', level: 'Warning', meaning: 'An EnvoyFilter without a priority uses a relative patch operation (INSERT_BEFORE/AFTER, REPLACE, REMOVE), which may be applied before what it is relative to.' },
  EnvoyFilterUsesReplaceOperationIncorrectly: { code: 'IST0152', level: 'Error', meaning: 'The REPLACE operation is only valid for HTTP_FILTER, NETWORK_FILTER and VIRTUAL_HOST.' },
  EnvoyFilterUsesAddOperationIncorrectly: { code: 'IST0153', level: 'Error', meaning: 'The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.' },
  EnvoyFilterUsesRemoveOperationIncorrectly: { code: 'IST0154', level: 'Error', meaning: 'The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.' },
  EnvoyFilterUsesRelativeOperationWithProxyVersion: { code: 'IST0155', level: 'Warning', meaning: 'An EnvoyFilter without a priority uses a relative patch operation on what a proxyVersion-scoped EnvoyFilter patches, which may not apply during an upgrade.' },
  InvalidTelemetryProvider: { code: 'IST0157', level: 'Warning', meaning: 'The Telemetry with empty providers will be ignored.' },
  PodsIstioProxyImageMismatchInNamespace: { code: 'IST0158', level: 'Warning', meaning: 'The Istio proxy image of the pods running in the namespace do not match the image defined in the injection configuration.' },
  ConflictingTelemetryWorkloadSelectors: { code: 'IST0159', level: 'Error', meaning: 'A Telemetry resource selects the same workloads as another Telemetry resource.' },
  MultipleTelemetriesWithoutWorkloadSelectors: { code: 'IST0160', level: 'Error', meaning: 'More than one telemetry resource in a namespace has no workload selector.' },
  InvalidGatewayCredential: { code: 'IST0161', level: 'Error', meaning: 'The credential provided for the Gateway resource is invalid.' },
  // Replaced IST0104 GatewayPortNotOnWorkload (Istio 1.16–1.19), which compared with the Service's ports rather than its targetPorts.
  GatewayPortNotDefinedOnService: { code: 'IST0162', level: 'Warning', meaning: 'Gateway port not exposed by service: no Service of the gateway workload has it as a targetPort.' },
  InvalidExternalControlPlaneConfig: { code: 'IST0163', level: 'Warning', meaning: 'Address for the ingress gateway on the external control plane is not valid.' },
  ExternalControlPlaneAddressIsNotAHostname: { code: 'IST0164', level: 'Info', meaning: 'Address for the ingress gateway on the external control plane is an IP address and not a hostname.' },
  ReferencedInternalGateway: { code: 'IST0165', level: 'Warning', meaning: 'A VirtualService refers to an internal Gateway that Istio generates from a Gateway API Gateway (its name contains ~istio-autogenerated-k8s-gateway~).' },
  IneffectiveSelector: { code: 'IST0166', level: 'Warning', meaning: 'A policy selects the pods of a Gateway API gateway by label, which has no effect: it must use targetRef.' },
  IneffectivePolicy: { code: 'IST0167', level: 'Warning', meaning: 'A policy has no impact (a Sidecar for a namespace or workload in ambient mode).' },
  NegativeConditionStatus: { code: 'IST0171', level: 'Warning', meaning: 'The status of a resource has a condition that shows a problem.' },
  DestinationRuleSubsetNotSelectPods: { code: 'IST0173', level: 'Error', meaning: 'A DestinationRule subset selects no pod: requests routed to it fail with 503 UH (NoHealthyUpstream).' },
  UnknownDestinationRuleHost: { code: 'IST0174', level: 'Warning', meaning: 'The host of a DestinationRule does not match any service in the mesh.' },
  JwksUriFetchUnrestricted: { code: 'IST0175', level: 'Warning', meaning: 'RequestAuthentications exist but istiod has no BLOCKED_CIDRS_IN_JWKS_URIS, so it fetches JWKS from any address, internal ones included.' },
  GatewayAPICRDVersionBelowMinimum: { code: 'IST0176', level: 'Warning', meaning: 'A Gateway API CRD is older than Istio processes (its gateway.networking.k8s.io/bundle-version annotation).' },
  ConflictingServiceEntryProtocol: { code: 'IST0177', level: 'Warning', meaning: 'ServiceEntries visible in one namespace give the same host and port different protocols.' },

  // Trellis's own cross-object checks, for problems Istio reports only at run time (route status) or not at all.
  // TRL0101 stands for IST0173 in --local (the directories trellis up runs): Kiali's level (KIA0203, Warning), and Info
  // while no VirtualService routes to the subset, since declaring subsets ahead of the versions that are deployed (as
  // Bookinfo's destination-rule-all.yaml does) is common and harmless until traffic is sent there.
  SubsetSelectsNoWorkloads: { code: 'TRL0101', level: 'Warning', meaning: "A DestinationRule subset's labels select none of the host's workloads; requests routed to it fail with 503 (no healthy upstream). Info while no route uses the subset." },
  ReferenceNotPermitted: { code: 'TRL0102', level: 'Error', meaning: 'A Gateway API reference to another namespace is not allowed by any ReferenceGrant (route status RefNotPermitted).' },
  RouteNotAllowedByListeners: { code: 'TRL0103', level: 'Error', meaning: "A route's parent Gateway has no listener that accepts routes from the route's namespace (route status NotAllowedByListeners)." },
  SidecarEgressHostNotFound: { code: 'TRL0104', level: 'Warning', meaning: 'A Sidecar egress host matches no service in the registry (Kiali KIA1004).' },
  UnknownExtAuthzProvider: { code: 'TRL0105', level: 'Error', meaning: "A CUSTOM AuthorizationPolicy names a provider that the mesh config's extensionProviders does not define as envoyExtAuthzHttp or envoyExtAuthzGrpc; the workloads it selects deny every request." },
  RouteHostnameNotMatched: { code: 'TRL0106', level: 'Error', meaning: "No hostname of a route intersects the hostname of a listener of its parent Gateway that admits it (route status NoMatchingListenerHostname): the route is not attached there." },
  BackendKindNotSupported: { code: 'TRL0107', level: 'Error', meaning: "A route's backendRef is of a kind Trellis cannot send traffic to (a Service, or a networking.istio.io ServiceEntry or Hostname): route status ResolvedRefs InvalidKind, and its share of requests gets 500." },
  GatewayListenerNotValid: { code: 'TRL0108', level: 'Error', meaning: 'A listener of a Gateway Trellis serves cannot be served: its protocol is not HTTP, HTTPS, TLS or TCP (UnsupportedProtocol), it lists route kinds it cannot take (InvalidRouteKinds), or an earlier listener holds its port with a protocol that cannot share it (Conflicted).' },
  // OpenShift Service Mesh's control-plane model (mesh-topology.ts).
  ControlPlaneFieldIgnored: { code: 'TRL0120', level: 'Info', meaning: 'A ServiceMeshControlPlane field that Trellis does not apply (it configures what a Kubernetes operator deploys, or a feature Trellis does not have).' },
  NamespaceClaimedTwice: { code: 'TRL0121', level: 'Warning', meaning: 'A namespace is claimed by two control planes (member rolls, member selectors or ServiceMeshMembers); it joins the first, the second reports it as pending.' },
  GatewayApiNotEnabled: { code: 'TRL0122', level: 'Warning', meaning: 'A Gateway API object in a namespace whose OpenShift Service Mesh control plane does not serve the Gateway API (spec.techPreview.gatewayAPI.enabled is not true): the object is ignored.' },
});

// ---------------------------------------------------------------- proxy: config checks

export const ProxyConfigCodes = entries<ProxyConfigEntry>('proxy-config')({
  Rejected: { code: 'TRL2000', meaning: 'The whole xDS update (or snapshot file) was rejected; the issues carry their own codes and nothing of it was applied.' },
  InvalidField: { code: 'TRL2001', meaning: 'A field has the wrong type or an impossible value.' },
  InvalidRegex: { code: 'TRL2002', meaning: 'A regular expression does not compile.' },
  UnknownReference: { code: 'TRL2003', meaning: 'A reference (route configuration, cluster) names nothing in the snapshot.' },
  UnsupportedExtension: { code: 'TRL2004', meaning: 'A filter or extension the proxy does not implement; a warning when it is optional, else an error.' },
  UnsupportedField: { code: 'TRL2005', meaning: 'A feature the proxy reads past (ignored, with a warning).' },
  DuplicateName: { code: 'TRL2006', meaning: 'Two resources of one type share a name.' },
  BindFailed: { code: 'TRL2007', meaning: 'A listener could not bind its address (a warning; the rest of the update applies).' },
});

// ---------------------------------------------------------------- proxy: local replies

export const ProxyReplyCodes = entries<ProxyReplyEntry>('proxy-reply')({
  NoRoute: { code: 'TRL2101', status: 404, meaning: 'No route matches the request (flag NR).' },
  ClusterNotFound: { code: 'TRL2102', status: 503, meaning: 'The route names a cluster the proxy does not have (flag NC).' },
  NoHealthyUpstream: { code: 'TRL2103', status: 503, meaning: 'The cluster has no healthy endpoint (flag UH).' },
  ConnectFailure: { code: 'TRL2104', status: 503, meaning: 'Connecting to the upstream failed (flag UF).' },
  Overflow: { code: 'TRL2105', status: 503, meaning: 'A circuit breaker limit was reached (flag UO).' },
  ConnectionTermination: { code: 'TRL2106', status: 503, meaning: 'The upstream connection closed before response headers (flag UC).' },
  RemoteReset: { code: 'TRL2107', status: 503, meaning: 'The upstream reset the stream before response headers (flag UR).' },
  RefusedStream: { code: 'TRL2108', status: 503, meaning: 'The upstream refused the HTTP/2 stream (flag UR).' },
  UpstreamTimeout: { code: 'TRL2109', status: 504, meaning: "The route's timeout passed before the response (flag UT)." },
  PerTryTimeout: { code: 'TRL2110', status: 504, meaning: "A retry policy's per-try timeout passed before the response (flag UT)." },
  FaultAbort: { code: 'TRL2111', status: 503, meaning: 'A fault injection abort (VirtualService fault.abort; the status is the configured one; flag FI).' },
  UpgradeNotAllowed: { code: 'TRL2112', status: 403, meaning: 'A connection upgrade (WebSocket) the route does not allow.' },
  ListenerDraining: { code: 'TRL2113', status: 503, meaning: 'The proxy is draining and takes no new requests.' },
  BadRequest: { code: 'TRL2114', status: 400, meaning: 'The request does not parse as HTTP (flag DPE).' },
  MaxStreamDuration: { code: 'TRL2115', status: 408, meaning: 'The downstream stream lasted longer than its maximum duration (flag UMSDR).' },
  DirectResponse: { code: 'TRL2116', status: 200, meaning: "A route's direct response (the status is the configured one)." },
  Redirect: { code: 'TRL2117', status: 301, meaning: "A route's redirect (the status is the configured one)." },
  CorsPreflight: { code: 'TRL2118', status: 200, meaning: 'The answer to a CORS preflight request.' },
  RbacDenied: { code: 'TRL2119', status: 403, meaning: 'An AuthorizationPolicy denied the request (RBAC: access denied).' },
  JwtDenied: { code: 'TRL2120', status: 401, meaning: 'A RequestAuthentication JWT failed verification.' },
  ExtAuthzDenied: { code: 'TRL2130', status: 403, meaning: "The external authorizer (AuthorizationPolicy CUSTOM) denied the request; its status and body are sent (flag UAEX)." },
  ExtAuthzError: { code: 'TRL2131', status: 403, meaning: 'The external authorizer failed or timed out; the status is statusOnError (flag UAEX).' },
  ExtAuthzBodyTooLarge: { code: 'TRL2132', status: 413, meaning: 'The request body is larger than ext_authz may buffer for the check.' },
});

// ---------------------------------------------------------------- console API

export const ConsoleApiCodes = entries<ConsoleApiEntry>('console-api')({
  UNAUTHORIZED: { code: 'TRL3001', status: 401, meaning: 'The console requires a token and the request has none, or a wrong one.' },
  HOST_NOT_ALLOWED: { code: 'TRL3002', status: 403, meaning: 'A console bound to loopback was asked under another host name (DNS rebinding guard).' },
  VIEW_ONLY: { code: 'TRL3003', status: 403, meaning: 'The console is in view-only mode: changes are not allowed.' },
  CROSS_SITE: { code: 'TRL3004', status: 403, meaning: 'A write request comes from another site (Origin or Sec-Fetch-Site).' },
  NOT_FOUND: { code: 'TRL3005', status: 404, meaning: 'No such API route, or no such object.' },
  METHOD_NOT_ALLOWED: { code: 'TRL3006', status: 405, meaning: 'The route does not take this HTTP method.' },
  UNSUPPORTED_MEDIA_TYPE: { code: 'TRL3007', status: 415, meaning: 'A write request whose body is neither JSON nor YAML.' },
  PAYLOAD_TOO_LARGE: { code: 'TRL3008', status: 413, meaning: 'The request body is larger than the console accepts.' },
  BAD_REQUEST: { code: 'TRL3009', status: 400, meaning: 'A parameter or body field is missing or malformed.' },
  INVALID_YAML: { code: 'TRL3010', status: 422, meaning: 'The submitted YAML does not parse, or holds no object.' },
  VALIDATION_FAILED: { code: 'TRL3011', status: 422, meaning: 'The submitted object has validation errors (listed in error.validations).' },
  NAME_MISMATCH: { code: 'TRL3012', status: 422, meaning: 'The submitted object is not the one being edited (renaming makes a new object).' },
  NAMESPACE_MISMATCH: { code: 'TRL3013', status: 422, meaning: 'The submitted object is in another namespace than the one asked for.' },
  UNSUPPORTED: { code: 'TRL3014', status: 422, meaning: 'A kind the console cannot write (only Istio, Gateway API and Maistra objects).' },
  INVALID_ANNOTATION: { code: 'TRL3015', status: 422, meaning: 'An annotation key or value that is not valid.' },
  ISTIO_API_DISABLED: { code: 'TRL3016', status: 503, meaning: 'The request needs the control plane API, which is disabled (istio_api_enabled: false).' },
  METRICS_UNAVAILABLE: { code: 'TRL3017', status: 503, meaning: 'The request needs Prometheus and none is configured.' },
  PROMETHEUS_ERROR: { code: 'TRL3018', status: 502, meaning: 'Prometheus failed to answer a query.' },
  INTERNAL: { code: 'TRL3019', status: 500, meaning: 'An unexpected error in the console (logged by the console).' },
  CONTROL_PLANE_ERROR: { code: 'TRL3020', status: 502, meaning: 'The control plane failed to answer (a proxy\'s config dump through its debug endpoint).' },
});

/** The console API's error names, the JSON body's `error.code`. */
export type ConsoleApiName = keyof typeof ConsoleApiCodes;

// ---------------------------------------------------------------- the table

/** Every code, grouped by part in PARTS order. */
export const CATALOGUE: readonly CodeEntry[] = [
  ...Object.values(ConfigMessages),
  ...Object.values(ProxyConfigCodes),
  ...Object.values(ProxyReplyCodes),
  ...Object.values(ConsoleApiCodes),
];

const byCode = new Map<string, CodeEntry>(CATALOGUE.map((e) => [e.code, e]));

/** The entry for a code (`TRL2001`, `IST0101`), or undefined when Trellis has no such code. */
export function lookupCode(code: string): CodeEntry | undefined {
  return byCode.get(code.toUpperCase());
}

/** `{Name: 'TRL…'}` for one part, with each code's literal type (so a part's codes can be a union type). */
export function codesOf<const T extends Record<string, { code: string }>>(part: T): { readonly [K in keyof T]: T[K]['code'] } {
  return Object.fromEntries(Object.entries(part).map(([k, e]) => [k, e.code])) as { readonly [K in keyof T]: T[K]['code'] };
}
