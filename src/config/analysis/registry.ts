// Every cross-object analyzer, in the order they run.

import type { Analyzer } from './analyzer.js';
import { alphaAnnotationsAnalyzer, annotationsAnalyzer } from './analyzers/annotations.js';
import { applicationUIDAnalyzer, serviceAssociationAnalyzer } from './analyzers/deployment.js';
import { caCertificateAnalyzer, destinationRuleHostAnalyzer } from './analyzers/destination-rule.js';
import { conflictingGatewayAnalyzer, gatewayCertificateAnalyzer, gatewaySecretAnalyzer, ingressGatewayPortAnalyzer } from './analyzers/gateway.js';
import { gatewayCertificateRefsAnalyzer, gatewayClassAnalyzer, routeReferencesAnalyzer } from './analyzers/gateway-api.js';
import { imageAutoAnalyzer, injectionAnalyzer } from './analyzers/injection.js';
import { controlPlaneAnalyzer } from './analyzers/maistra.js';
import { mtlsConflictAnalyzer } from './analyzers/mtls.js';
import { authorizationPoliciesAnalyzer, peerAuthenticationSelectorAnalyzer, requestAuthenticationSelectorAnalyzer } from './analyzers/policies.js';
import { portNameAnalyzer, serviceEntryAddressesAnalyzer } from './analyzers/service.js';
import { sidecarDefaultSelectorAnalyzer, sidecarEgressHostAnalyzer, sidecarSelectorAnalyzer } from './analyzers/sidecar.js';
import { telemetryDefaultSelectorAnalyzer, telemetryProviderAnalyzer, telemetrySelectorAnalyzer } from './analyzers/telemetry.js';
import {
  conflictingMeshGatewayHostsAnalyzer,
  jwtClaimRouteAnalyzer,
  virtualServiceDestinationHostAnalyzer,
  virtualServiceDestinationRuleAnalyzer,
  virtualServiceGatewayAnalyzer,
  virtualServiceMatchesAnalyzer,
} from './analyzers/virtual-service.js';

export const ANALYZERS: readonly Analyzer[] = [
  // Kubernetes objects
  annotationsAnalyzer,
  alphaAnnotationsAnalyzer,
  injectionAnalyzer,
  imageAutoAnalyzer,
  serviceAssociationAnalyzer,
  applicationUIDAnalyzer,
  portNameAnalyzer,
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
  sidecarSelectorAnalyzer,
  sidecarDefaultSelectorAnalyzer,
  sidecarEgressHostAnalyzer,
  // security.istio.io
  authorizationPoliciesAnalyzer,
  peerAuthenticationSelectorAnalyzer,
  requestAuthenticationSelectorAnalyzer,
  mtlsConflictAnalyzer,
  // telemetry.istio.io
  telemetrySelectorAnalyzer,
  telemetryDefaultSelectorAnalyzer,
  telemetryProviderAnalyzer,
  // gateway.networking.k8s.io
  gatewayClassAnalyzer,
  gatewayCertificateRefsAnalyzer,
  routeReferencesAnalyzer,
  // maistra.io
  controlPlaneAnalyzer,
];
