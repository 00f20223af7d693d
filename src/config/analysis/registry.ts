// Every cross-object analyzer, in the order they run; which run depends on whom the analysis answers as (assumed.ts).

import type { Analyzer } from './analyzer.js';
import type { AnalysisMode } from './assumed.js';
import { alphaAnnotationsAnalyzer, annotationsAnalyzer } from './analyzers/annotations.js';
import { applicationUIDAnalyzer, serviceAssociationAnalyzer } from './analyzers/deployment.js';
import { caCertificateAnalyzer, destinationRuleHostAnalyzer } from './analyzers/destination-rule.js';
import { conflictingGatewayAnalyzer, gatewayCertificateAnalyzer, gatewaySecretAnalyzer, ingressGatewayPortAnalyzer } from './analyzers/gateway.js';
import { gatewayCertificateRefsAnalyzer, gatewayClassAnalyzer, gatewayListenersAnalyzer, routeReferencesAnalyzer } from './analyzers/gateway-api.js';
import { imageAutoAnalyzer, injectionAnalyzer, injectionImageAnalyzer } from './analyzers/injection.js';
import { controlPlaneAnalyzer } from './analyzers/maistra.js';
import { mtlsConflictAnalyzer } from './analyzers/mtls.js';
import { authorizationPoliciesAnalyzer, blockedCidrsAnalyzer, peerAuthenticationSelectorAnalyzer, requestAuthenticationSelectorAnalyzer } from './analyzers/policies.js';
import { conflictingServiceEntryProtocolAnalyzer, portNameAnalyzer, serviceEntryAddressesAnalyzer } from './analyzers/service.js';
import { sidecarEgressHostAnalyzer, sidecarSelectorAnalyzer } from './analyzers/sidecar.js';
import { lightstepAnalyzer, telemetryDefaultSelectorAnalyzer, telemetryProviderAnalyzer, telemetrySelectorAnalyzer } from './analyzers/telemetry.js';
import { deprecationAnalyzer } from './analyzers/deprecation.js';
import { envoyFilterAnalyzer } from './analyzers/envoy-filter.js';
import { conditionAnalyzer } from './analyzers/conditions.js';
import { gatewayApiCrdVersionAnalyzer, kubernetesGatewaySelectorAnalyzer } from './analyzers/kubernetes-gateway.js';
import { meshNetworksAnalyzer } from './analyzers/mesh-networks.js';
import { externalControlPlaneAnalyzer, webhookAnalyzer } from './analyzers/webhooks.js';
import {
  conflictingMeshGatewayHostsAnalyzer,
  jwtClaimRouteAnalyzer,
  virtualServiceDestinationHostAnalyzer,
  virtualServiceDestinationRuleAnalyzer,
  virtualServiceGatewayAnalyzer,
} from './analyzers/virtual-service.js';
import { virtualServiceMatchesAnalyzer } from './analyzers/virtual-service-matches.js';

/** The analyzers `istioctl analyze` runs (by Istio's names), and Trellis's own checks (TRL codes). */
export const ANALYZERS: readonly Analyzer[] = [
  // Kubernetes objects
  annotationsAnalyzer,
  injectionAnalyzer,
  injectionImageAnalyzer,
  imageAutoAnalyzer,
  serviceAssociationAnalyzer,
  applicationUIDAnalyzer,
  portNameAnalyzer,
  deprecationAnalyzer,
  conditionAnalyzer,
  webhookAnalyzer,
  externalControlPlaneAnalyzer,
  meshNetworksAnalyzer,
  // networking.istio.io
  virtualServiceGatewayAnalyzer,
  virtualServiceDestinationHostAnalyzer,
  virtualServiceDestinationRuleAnalyzer,
  conflictingMeshGatewayHostsAnalyzer,
  virtualServiceMatchesAnalyzer,
  jwtClaimRouteAnalyzer,
  destinationRuleHostAnalyzer,
  caCertificateAnalyzer,
  ingressGatewayPortAnalyzer,
  gatewaySecretAnalyzer,
  gatewayCertificateAnalyzer,
  conflictingGatewayAnalyzer,
  serviceEntryAddressesAnalyzer,
  conflictingServiceEntryProtocolAnalyzer,
  sidecarSelectorAnalyzer,
  sidecarEgressHostAnalyzer,
  envoyFilterAnalyzer,
  // security.istio.io
  authorizationPoliciesAnalyzer,
  peerAuthenticationSelectorAnalyzer,
  requestAuthenticationSelectorAnalyzer,
  mtlsConflictAnalyzer,
  blockedCidrsAnalyzer,
  // telemetry.istio.io
  telemetrySelectorAnalyzer,
  telemetryDefaultSelectorAnalyzer,
  telemetryProviderAnalyzer,
  lightstepAnalyzer,
  // gateway.networking.k8s.io
  gatewayClassAnalyzer,
  gatewayCertificateRefsAnalyzer,
  gatewayListenersAnalyzer,
  routeReferencesAnalyzer,
  kubernetesGatewaySelectorAnalyzer,
  gatewayApiCrdVersionAnalyzer,
  // maistra.io
  controlPlaneAnalyzer,
];

/** Analyzers istioctl has but never runs (alpha annotations): Trellis runs them for its own runtime and console. */
export const OPTIONAL_ANALYZERS: readonly Analyzer[] = [alphaAnnotationsAnalyzer];

/** The analyzers of a mode: istioctl's set, plus the optional ones for a directory Trellis runs. */
export function analyzersFor(mode: AnalysisMode): readonly Analyzer[] {
  return mode === 'local' ? [...ANALYZERS, ...OPTIONAL_ANALYZERS] : ANALYZERS;
}
