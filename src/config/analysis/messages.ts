// The catalogue of message types: Istio's analyzer codes (IST…) with their levels, plus Trellis's own loader codes (TRL…).

import type { MessageType } from '../diagnostics.js';

function type(code: string, name: string, level: MessageType['level'], description: string): MessageType {
  return { code, name, level, description };
}

export const Messages = {
  // Trellis's own: problems that keep a document from becoming a resource.
  ConfigFileNotFound: type('TRL0001', 'ConfigFileNotFound', 'Error', 'A path given to Trellis does not exist or cannot be read.'),
  YAMLSyntaxError: type('TRL0002', 'YAMLSyntaxError', 'Error', 'A file is not valid YAML.'),
  NotAKubernetesObject: type('TRL0003', 'NotAKubernetesObject', 'Error', 'A YAML document is not a Kubernetes object (no apiVersion, kind or metadata.name).'),
  UnknownKind: type('TRL0004', 'UnknownKind', 'Info', 'A kind Trellis does not read; the object is kept but has no effect on the mesh.'),
  UnsupportedAPIVersion: type('TRL0005', 'UnsupportedAPIVersion', 'Error', 'A known kind in an API version that does not exist for it.'),
  DuplicateResource: type('TRL0006', 'DuplicateResource', 'Warning', 'Two documents define the same kind, namespace and name; as with kubectl apply, the later one replaces the earlier.'),

  // Istio's analyzer messages (same codes, names and levels as istioctl analyze).
  InternalError: type('IST0001', 'InternalError', 'Error', 'There was an internal error in the toolchain.'),
  Deprecated: type('IST0002', 'Deprecated', 'Warning', 'A feature that the configuration is depending on is now deprecated.'),
  ReferencedResourceNotFound: type('IST0101', 'ReferencedResourceNotFound', 'Error', 'A resource being referenced does not exist.'),
  NamespaceNotInjected: type('IST0102', 'NamespaceNotInjected', 'Info', 'A namespace is not enabled for Istio injection.'),
  PodMissingProxy: type('IST0103', 'PodMissingProxy', 'Warning', 'A pod is missing the Istio proxy.'),
  // Istio 1.16–1.19 code; Istio 1.20 retired it for IST0162 GatewayPortNotDefinedOnService, which checks the same thing
  // against the gateway Service's targetPorts. Trellis keeps the code OpenShift Service Mesh 2.4 users know, with the newer rule.
  GatewayPortNotOnWorkload: type('IST0104', 'GatewayPortNotOnWorkload', 'Warning', 'Unhandled gateway port: no Service of the gateway workload exposes it.'),
  SchemaValidationError: type('IST0106', 'SchemaValidationError', 'Error', 'The resource has a schema validation error.'),
  MisplacedAnnotation: type('IST0107', 'MisplacedAnnotation', 'Warning', 'An Istio annotation is applied to the wrong kind of resource.'),
  UnknownAnnotation: type('IST0108', 'UnknownAnnotation', 'Warning', 'An Istio annotation is not recognized for any kind of resource.'),
  ConflictingMeshGatewayVirtualServiceHosts: type('IST0109', 'ConflictingMeshGatewayVirtualServiceHosts', 'Error', 'Conflicting hosts on VirtualServices associated with mesh gateway.'),
  ConflictingSidecarWorkloadSelectors: type('IST0110', 'ConflictingSidecarWorkloadSelectors', 'Error', 'A Sidecar resource selects the same workloads as another Sidecar resource.'),
  MultipleSidecarsWithoutWorkloadSelectors: type('IST0111', 'MultipleSidecarsWithoutWorkloadSelectors', 'Error', 'More than one sidecar resource in a namespace has no workload selector.'),
  VirtualServiceDestinationPortSelectorRequired: type('IST0112', 'VirtualServiceDestinationPortSelectorRequired', 'Error', 'A VirtualService routes to a service with more than one port exposed, but does not specify which to use.'),
  // Istio retired this code with the old authentication Policy API (1.6); Trellis keeps it for the PeerAuthentication
  // equivalent, since Istio has no current code for a DestinationRule whose TLS mode the server side rejects.
  MTLSPolicyConflict: type('IST0113', 'MTLSPolicyConflict', 'Error', 'A DestinationRule and PeerAuthentication are in conflict with regards to mTLS.'),
  DeploymentAssociatedToMultipleServices: type('IST0116', 'DeploymentAssociatedToMultipleServices', 'Warning', "The resulting pods of a service mesh deployment can't be associated with multiple services using the same port but different protocols."),
  // Retired in Istio 1.20; kept because OpenShift Service Mesh 2.4 (Istio 1.16) reports it.
  DeploymentRequiresServiceAssociated: type('IST0117', 'DeploymentRequiresServiceAssociated', 'Warning', 'The resulting pods of a service mesh deployment must be associated with at least one service.'),
  PortNameIsNotUnderNamingConvention: type('IST0118', 'PortNameIsNotUnderNamingConvention', 'Info', 'Port name is not under naming convention. Protocol detection is applied to the port.'),
  NamespaceMultipleInjectionLabels: type('IST0123', 'NamespaceMultipleInjectionLabels', 'Warning', 'A namespace has more than one type of injection labels.'),
  InvalidAnnotation: type('IST0125', 'InvalidAnnotation', 'Warning', 'An Istio annotation that is not valid.'),
  NoMatchingWorkloadsFound: type('IST0127', 'NoMatchingWorkloadsFound', 'Warning', "There aren't workloads matching the resource labels."),
  NoServerCertificateVerificationDestinationLevel: type('IST0128', 'NoServerCertificateVerificationDestinationLevel', 'Warning', 'No caCertificates are set in DestinationRule, this results in no verification of presented server certificate.'),
  NoServerCertificateVerificationPortLevel: type('IST0129', 'NoServerCertificateVerificationPortLevel', 'Warning', 'No caCertificates are set in DestinationRule, this results in no verification of presented server certificate for traffic to a given port.'),
  VirtualServiceUnreachableRule: type('IST0130', 'VirtualServiceUnreachableRule', 'Warning', 'A VirtualService rule will never be used because a previous rule uses the same match.'),
  VirtualServiceIneffectiveMatch: type('IST0131', 'VirtualServiceIneffectiveMatch', 'Info', 'A VirtualService rule match duplicates a match in a previous rule.'),
  VirtualServiceHostNotFoundInGateway: type('IST0132', 'VirtualServiceHostNotFoundInGateway', 'Warning', 'Host defined in VirtualService not found in Gateway.'),
  ServiceEntryAddressesRequired: type('IST0134', 'ServiceEntryAddressesRequired', 'Warning', 'Virtual IP addresses are required for ports serving TCP (or unset) protocol.'),
  DeprecatedAnnotation: type('IST0135', 'DeprecatedAnnotation', 'Info', 'A resource is using a deprecated Istio annotation.'),
  AlphaAnnotation: type('IST0136', 'AlphaAnnotation', 'Info', 'An Istio annotation may not be suitable for production.'),
  DeploymentConflictingPorts: type('IST0137', 'DeploymentConflictingPorts', 'Warning', 'Two services selecting the same workload with the same targetPort MUST refer to the same port.'),
  GatewayDuplicateCertificate: type('IST0138', 'GatewayDuplicateCertificate', 'Warning', 'Duplicate certificate in multiple gateways may cause 404s if clients re-use HTTP2 connections.'),
  IngressRouteRulesNotAffected: type('IST0140', 'IngressRouteRulesNotAffected', 'Warning', 'Route rules have no effect on ingress gateway requests.'),
  InvalidApplicationUID: type('IST0144', 'InvalidApplicationUID', 'Warning', 'Application pods should not run as user ID (UID) 1337.'),
  ConflictingGateways: type('IST0145', 'ConflictingGateways', 'Error', 'Gateway should not have the same selector, port and matched hosts of server.'),
  ImageAutoWithoutInjectionWarning: type('IST0146', 'ImageAutoWithoutInjectionWarning', 'Warning', 'Deployments with `image: auto` should be targeted for injection.'),
  ImageAutoWithoutInjectionError: type('IST0147', 'ImageAutoWithoutInjectionError', 'Error', 'Pods with `image: auto` should be targeted for injection.'),
  JwtClaimBasedRoutingWithoutRequestAuthN: type('IST0149', 'JwtClaimBasedRoutingWithoutRequestAuthN', 'Error', 'Virtual service using JWT claim based routing without request authentication.'),
  ExternalNameServiceTypeInvalidPortName: type('IST0150', 'ExternalNameServiceTypeInvalidPortName', 'Warning', 'Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly for ExternalName services.'),
  InvalidTelemetryProvider: type('IST0157', 'InvalidTelemetryProvider', 'Warning', 'The Telemetry with empty providers will be ignored.'),
  ConflictingTelemetryWorkloadSelectors: type('IST0159', 'ConflictingTelemetryWorkloadSelectors', 'Error', 'A Telemetry resource selects the same workloads as another Telemetry resource.'),
  MultipleTelemetriesWithoutWorkloadSelectors: type('IST0160', 'MultipleTelemetriesWithoutWorkloadSelectors', 'Error', 'More than one telemetry resource in a namespace has no workload selector.'),
  InvalidGatewayCredential: type('IST0161', 'InvalidGatewayCredential', 'Error', 'The credential provided for the Gateway resource is invalid.'),
  // From Istio 1.2x (istioctl reports it since the DestinationRule host checks were added); same code, name and level.
  UnknownDestinationRuleHost: type('IST0174', 'UnknownDestinationRuleHost', 'Warning', 'The host of a DestinationRule does not match any service in the mesh.'),

  // Trellis's own cross-object checks, for problems Istio reports only at run time (route status) or not at all.
  // Istio 1.2x has IST0173 DestinationRuleSubsetNotSelectPods at level Error; Trellis keeps Kiali's level (KIA0203, Warning),
  // and reports it at Info while no VirtualService routes to the subset: declaring subsets ahead of the versions that are
  // deployed (as Bookinfo's destination-rule-all.yaml does) is common and harmless until traffic is sent there.
  SubsetSelectsNoWorkloads: type('TRL0101', 'SubsetSelectsNoWorkloads', 'Warning', "A DestinationRule subset's labels select none of the host's workloads; requests routed to it fail with 503 (no healthy upstream). Info while no route uses the subset."),
  ReferenceNotPermitted: type('TRL0102', 'ReferenceNotPermitted', 'Error', 'A Gateway API reference to another namespace is not allowed by any ReferenceGrant (route status RefNotPermitted).'),
  RouteNotAllowedByListeners: type('TRL0103', 'RouteNotAllowedByListeners', 'Error', "A route's parent Gateway has no listener that accepts routes from the route's namespace (route status NotAllowedByListeners)."),
  SidecarEgressHostNotFound: type('TRL0104', 'SidecarEgressHostNotFound', 'Warning', 'A Sidecar egress host matches no service in the registry (Kiali KIA1004).'),
  UnknownExtAuthzProvider: type('TRL0105', 'UnknownExtAuthzProvider', 'Error', "A CUSTOM AuthorizationPolicy names a provider that the mesh config's extensionProviders does not define as envoyExtAuthzHttp or envoyExtAuthzGrpc; the workloads it selects deny every request."),
} as const satisfies Record<string, MessageType>;

export type MessageName = keyof typeof Messages;
