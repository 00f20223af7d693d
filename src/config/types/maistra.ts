// Spec shapes of maistra.io (OpenShift Service Mesh): ServiceMeshControlPlane v2, ServiceMeshMemberRoll, ServiceMeshMember.

import type { Resource } from '../resource.js';

export interface ServiceMeshControlPlaneSpec {
  version?: string;
  mode?: 'MultiTenant' | 'ClusterWide';
  profiles?: string[];
  techPreview?: Record<string, unknown>;
  cluster?: { name?: string; network?: string; multiCluster?: Record<string, unknown>; meshExpansion?: Record<string, unknown> };
  general?: { logging?: Record<string, unknown>; validationMessages?: boolean };
  policy?: { type?: string };
  proxy?: Record<string, unknown>;
  security?: {
    trust?: { domain?: string; additionalDomains?: string[] };
    certificateAuthority?: { type?: 'Istiod' | 'cert-manager' | 'Custom'; istiod?: Record<string, unknown>; custom?: { address?: string }; certManager?: { address?: string } };
    identity?: { type?: string; thirdParty?: Record<string, unknown> };
    controlPlane?: { mtls?: boolean; tls?: { minProtocolVersion?: string; maxProtocolVersion?: string; cipherSuites?: string[]; ecdhCurves?: string[] } };
    dataPlane?: { mtls?: boolean; automtls?: boolean };
    manageNetworkPolicy?: boolean;
    jwksResolverCA?: string;
  };
  telemetry?: { type?: string };
  tracing?: { type?: string; sampling?: number };
  gateways?: Record<string, unknown>;
  runtime?: Record<string, unknown>;
  addons?: Record<string, unknown>;
  meshConfig?: Record<string, unknown> & {
    discoverySelectors?: Array<{ matchLabels?: Record<string, string>; matchExpressions?: unknown[] }>;
    extensionProviders?: Array<Record<string, unknown>>;
  };
  /** v1 kept its settings under `istio` (Helm values). */
  istio?: Record<string, unknown>;
  template?: string;
}

export interface ServiceMeshMemberRollSpec {
  members?: string[];
  memberSelectors?: Array<{ matchLabels?: Record<string, string>; matchExpressions?: unknown[] }>;
}

export interface ServiceMeshMemberSpec {
  controlPlaneRef?: { name?: string; namespace?: string };
}

export type ServiceMeshControlPlane = Resource<ServiceMeshControlPlaneSpec>;
export type ServiceMeshMemberRoll = Resource<ServiceMeshMemberRollSpec>;
export type ServiceMeshMember = Resource<ServiceMeshMemberSpec>;
