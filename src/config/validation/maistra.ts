// Schema and semantic validation of maistra.io (OpenShift Service Mesh): ServiceMeshControlPlane (v2 and v1), ServiceMeshMemberRoll and ServiceMeshMember.

import type { SchemaObject } from 'ajv';
import { checkLabelSelector, isDnsLabel, isDnsSubdomain, LABEL_SELECTOR_SCHEMA } from './metadata.js';
import { at, asArray, asObject, asString, isSet, objectSchema, objectValidator, type Issues, type Obj } from './object-check.js';
import type { KindValidator } from './validator.js';

const SPEC = '/spec';
const str: SchemaObject = { type: 'string' };
const bool: SchemaObject = { type: 'boolean' };
/** Helm-like areas whose many settings Trellis does not model: any mapping is accepted. */
const FREE: SchemaObject = { type: 'object', additionalProperties: true };
const TLS_VERSIONS = ['TLS_AUTO', 'TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'];
/** Control plane versions the operator of Service Mesh 2.x installs. */
const KNOWN_VERSIONS = ['v1.0', 'v1.1', 'v2.0', 'v2.1', 'v2.2', 'v2.3', 'v2.4', 'v2.5', 'v2.6'];

// ---------------------------------------------------------------- ServiceMeshControlPlane

const smcpV2Schema = objectSchema({
  spec: {
    type: 'object',
    properties: {
      version: str,
      mode: { enum: ['MultiTenant', 'ClusterWide'] },
      profiles: { type: 'array', items: str },
      techPreview: FREE,
      cluster: { type: 'object', properties: { name: str, network: str, multiCluster: FREE, meshExpansion: FREE }, additionalProperties: false },
      general: { type: 'object', properties: { logging: FREE, validationMessages: bool }, additionalProperties: false },
      policy: { type: 'object', properties: { type: { enum: ['None', 'Istiod', 'Mixer', 'Remote'] }, mixer: FREE, remote: FREE, istiod: FREE }, additionalProperties: false },
      telemetry: { type: 'object', properties: { type: { enum: ['None', 'Istiod', 'Mixer', 'Remote'] }, mixer: FREE, remote: FREE, istiod: FREE }, additionalProperties: false },
      tracing: { type: 'object', properties: { type: { enum: ['None', 'Jaeger', 'Stackdriver'] }, sampling: { type: 'integer', minimum: 0, maximum: 10000 } }, additionalProperties: false },
      proxy: FREE,
      gateways: FREE,
      runtime: FREE,
      addons: FREE,
      security: {
        type: 'object',
        properties: {
          trust: { type: 'object', properties: { domain: str, additionalDomains: { type: 'array', items: str } }, additionalProperties: false },
          certificateAuthority: {
            type: 'object',
            properties: {
              type: { enum: ['Istiod', 'Custom', 'cert-manager'] },
              istiod: {
                type: 'object',
                properties: { type: { enum: ['SelfSigned', 'PrivateKey'] }, selfSigned: FREE, privateKey: FREE, workloadCertTTLDefault: str, workloadCertTTLMax: str },
                additionalProperties: false,
              },
              custom: { type: 'object', properties: { address: str }, additionalProperties: false },
              certManager: FREE,
            },
            additionalProperties: false,
          },
          identity: {
            type: 'object',
            properties: { type: { enum: ['Kubernetes', 'ThirdParty'] }, kubernetes: FREE, thirdParty: { type: 'object', properties: { issuer: str, audience: str, tokenPath: str }, additionalProperties: false } },
            additionalProperties: false,
          },
          controlPlane: {
            type: 'object',
            properties: {
              mtls: bool,
              certProvider: { enum: ['Istiod', 'Kubernetes', 'Custom'] },
              tls: {
                type: 'object',
                properties: { minProtocolVersion: { enum: TLS_VERSIONS }, maxProtocolVersion: { enum: TLS_VERSIONS }, cipherSuites: { type: 'array', items: str }, ecdhCurves: { type: 'array', items: str } },
                additionalProperties: false,
              },
            },
            additionalProperties: false,
          },
          dataPlane: { type: 'object', properties: { mtls: bool, automtls: bool }, additionalProperties: false },
          manageNetworkPolicy: bool,
          jwksResolverCA: str,
        },
        additionalProperties: false,
      },
      meshConfig: {
        type: 'object',
        properties: {
          discoverySelectors: { type: 'array', items: LABEL_SELECTOR_SCHEMA },
          extensionProviders: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: str } } },
        },
        additionalProperties: true,
      },
      // Early 2.x releases had extension providers at the top level.
      extensionProviders: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: str } } },
    },
    additionalProperties: false,
  },
});

/** v1 (Service Mesh 1.x) kept everything in Helm values under `istio`. */
const smcpV1Schema = objectSchema({
  spec: {
    type: 'object',
    properties: { version: str, template: str, profiles: { type: 'array', items: str }, networkType: str, istio: FREE, threeScale: FREE },
    additionalProperties: false,
  },
});

function versionNumber(v: string): number | undefined {
  const m = /^v(\d+)\.(\d+)$/.exec(v);
  return m ? Number(m[1]) * 100 + Number(m[2]) : undefined;
}

function checkVersion(spec: Obj, out: Issues): number | undefined {
  const version = asString(spec.version);
  if (version === undefined) return undefined;
  const n = versionNumber(version);
  if (n === undefined) {
    out.error(at(SPEC, 'version'), `"${version}" is not a control plane version such as "v2.4"`);
    return undefined;
  }
  if (!KNOWN_VERSIONS.includes(version)) out.warn(at(SPEC, 'version'), `"${version}" is not a known Service Mesh control plane version (${KNOWN_VERSIONS.join(', ')})`);
  return n;
}

function checkSmcpV2(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (!spec) return;
  const version = checkVersion(spec, out);
  if (isSet(spec.mode) && version !== undefined && version < 204) out.warn(at(SPEC, 'mode'), 'spec.mode needs control plane version v2.4 or later');

  const security = asObject(spec.security);
  const tls = asObject(asObject(security?.controlPlane)?.tls);
  if (tls) {
    const min = TLS_VERSIONS.indexOf(asString(tls.minProtocolVersion) ?? '');
    const max = TLS_VERSIONS.indexOf(asString(tls.maxProtocolVersion) ?? '');
    // TLS_AUTO (index 0) leaves the choice to the proxy, so it never conflicts.
    if (min > 0 && max > 0 && min > max) out.error(at(SPEC, 'security', 'controlPlane', 'tls'), 'minProtocolVersion is newer than maxProtocolVersion');
  }
  const ca = asObject(security?.certificateAuthority);
  if (ca) {
    const caPath = at(SPEC, 'security', 'certificateAuthority');
    if (ca.type === 'Custom' && !asString(asObject(ca.custom)?.address)) out.error(caPath, 'custom.address is required when the type is Custom');
    if (ca.type === 'cert-manager' && !asString(asObject(ca.certManager)?.address)) out.error(caPath, 'certManager.address is required when the type is cert-manager');
  }
  const trustDomain = asString(asObject(security?.trust)?.domain);
  if (trustDomain === '') out.error(at(SPEC, 'security', 'trust', 'domain'), 'must not be empty; leave it out for the default "cluster.local"');

  const meshConfig = asObject(spec.meshConfig);
  asArray(meshConfig?.discoverySelectors).forEach((s, i) => {
    for (const issue of checkLabelSelector(s, at(SPEC, 'meshConfig', 'discoverySelectors', i))) out.list.push(issue);
  });
  for (const [base, list] of [[at(SPEC, 'meshConfig', 'extensionProviders'), meshConfig?.extensionProviders], [at(SPEC, 'extensionProviders'), spec.extensionProviders]] as const) {
    const names = new Map<string, number>();
    asArray(list).forEach((p, i) => {
      const name = asString(asObject(p)?.name);
      if (name === undefined) return;
      if (name === '') out.error(at(base, i, 'name'), 'must not be empty');
      const first = names.get(name);
      if (first !== undefined) out.error(at(base, i, 'name'), `extension provider "${name}" is already defined at index ${first}`);
      else names.set(name, i);
    });
  }
}

function checkSmcpV1(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (spec) checkVersion(spec, out);
}

const smcpV2 = objectValidator({ name: 'dns-subdomain', schema: smcpV2Schema, check: checkSmcpV2 });
const smcpV1 = objectValidator({ name: 'dns-subdomain', schema: smcpV1Schema, check: checkSmcpV1 });

/** maistra.io/v2 is the shape people write today; v1 objects keep their Helm values. */
const validateControlPlane: KindValidator = (resource) => (resource.version === 'v1' ? smcpV1 : smcpV2)(resource);
validateControlPlane.schema = (version) => (version === 'v1' ? smcpV1Schema : smcpV2Schema);

// ---------------------------------------------------------------- ServiceMeshMemberRoll, ServiceMeshMember

const memberRollSchema = objectSchema({
  spec: {
    type: 'object',
    properties: { members: { type: 'array', items: str }, memberSelectors: { type: 'array', items: LABEL_SELECTOR_SCHEMA } },
    additionalProperties: false,
  },
});

/** The operator reads only the roll named `default` in the control plane's namespace, and only members named `default`. */
function checkDefaultName(raw: Obj, kind: string, out: Issues): void {
  const name = asString(asObject(raw.metadata)?.name);
  if (name !== undefined && name !== 'default') out.error('/metadata/name', `a ${kind} must be named "default" (got "${name}")`);
}

function checkMemberRoll(raw: Obj, out: Issues, namespace: string | undefined): void {
  checkDefaultName(raw, 'ServiceMeshMemberRoll', out);
  const spec = asObject(raw.spec);
  if (!spec) return;
  const seen = new Map<string, number>();
  asArray(spec.members).forEach((m, i) => {
    if (typeof m !== 'string') return;
    const p = at(SPEC, 'members', i);
    if (m !== '*' && !isDnsLabel(m)) out.error(p, `"${m}" is not a valid namespace name`);
    if (namespace !== undefined && m === namespace) out.warn(p, `"${m}" is the control plane's own namespace, which is always part of the mesh`);
    const first = seen.get(m);
    if (first !== undefined) out.warn(p, `"${m}" is already listed at members[${first}]`);
    else seen.set(m, i);
  });
  asArray(spec.memberSelectors).forEach((s, i) => {
    for (const issue of checkLabelSelector(s, at(SPEC, 'memberSelectors', i))) out.list.push(issue);
  });
}

const memberSchema = objectSchema({
  spec: {
    type: 'object',
    required: ['controlPlaneRef'],
    properties: { controlPlaneRef: { type: 'object', required: ['name', 'namespace'], properties: { name: str, namespace: str }, additionalProperties: false } },
    additionalProperties: false,
  },
});

function checkMember(raw: Obj, out: Issues): void {
  checkDefaultName(raw, 'ServiceMeshMember', out);
  if (!isSet(raw.spec)) return out.error('', 'spec.controlPlaneRef with the control plane name and namespace is required');
  const ref = asObject(asObject(raw.spec)?.controlPlaneRef);
  if (!ref) return;
  const p = at(SPEC, 'controlPlaneRef');
  const name = asString(ref.name);
  if (name !== undefined && !isDnsSubdomain(name)) out.error(at(p, 'name'), `"${name}" is not a valid ServiceMeshControlPlane name`);
  const ns = asString(ref.namespace);
  if (ns !== undefined && !isDnsLabel(ns)) out.error(at(p, 'namespace'), `"${ns}" is not a valid namespace name`);
}

export const maistraValidators: Record<string, KindValidator> = {
  'maistra.io/ServiceMeshControlPlane': validateControlPlane,
  // Only a namespace written in the file says where the control plane lives (the loader's default is a guess).
  'maistra.io/ServiceMeshMemberRoll': objectValidator({ name: 'dns-subdomain', schema: memberRollSchema, check: (raw, out) => checkMemberRoll(raw, out, asString(asObject(raw.metadata)?.namespace)) }),
  'maistra.io/ServiceMeshMember': objectValidator({ name: 'dns-subdomain', schema: memberSchema, check: checkMember }),
};
