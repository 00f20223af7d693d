// A light structural check of networking.istio.io EnvoyFilter: the patch envelope (applyTo, match, operation), not the Envoy config inside.

import type { SchemaObject } from 'ajv';
import { INTEGER, POLICY_TARGET_REF, STRING, STRING_MAP, UINT32, enumOf, listOf, strictObject } from './common-schemas.js';
import { at, asArray, asObject, asString, isSet, objectSchema, type Issues, type Obj } from './object-check.js';
import { SPEC, networkingValidator, specOf } from './networking-common.js';
import { regexProblem } from './networking-matching.js';
import type { KindValidator } from './validator.js';

const APPLY_TO = ['LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER', 'ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE', 'CLUSTER', 'EXTENSION_CONFIG', 'BOOTSTRAP', 'LISTENER_FILTER'];
const OPERATIONS = ['MERGE', 'ADD', 'REMOVE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST', 'REPLACE'];

const MATCH = strictObject({
  context: enumOf('ANY', 'SIDECAR_INBOUND', 'SIDECAR_OUTBOUND', 'GATEWAY'),
  proxy: strictObject({ proxyVersion: STRING, metadata: STRING_MAP }),
  listener: strictObject({
    portNumber: UINT32,
    portName: STRING,
    filterChain: strictObject({
      name: STRING,
      sni: STRING,
      transportProtocol: STRING,
      applicationProtocols: STRING,
      filter: strictObject({ name: STRING, subFilter: strictObject({ name: STRING }) }),
      destinationPort: UINT32,
    }),
    listenerFilter: STRING,
    name: STRING,
  }),
  routeConfiguration: strictObject({
    portNumber: UINT32,
    portName: STRING,
    gateway: STRING,
    vhost: strictObject({ name: STRING, domainName: STRING, route: strictObject({ name: STRING, action: enumOf('ANY', 'ROUTE', 'REDIRECT', 'DIRECT_RESPONSE') }) }),
    name: STRING,
  }),
  cluster: strictObject({ portNumber: UINT32, service: STRING, subset: STRING, name: STRING }),
});

/** `value` is Envoy configuration in YAML form: any mapping, checked by the proxy, not here. */
const PATCH: SchemaObject = strictObject({ operation: enumOf('INVALID', ...OPERATIONS), value: { type: 'object' }, filterClass: enumOf('UNSPECIFIED', 'AUTHN', 'AUTHZ', 'STATS') });

const envoyFilterSchema = objectSchema({
  spec: strictObject({
    workloadSelector: strictObject({ labels: STRING_MAP }),
    targetRefs: listOf(POLICY_TARGET_REF),
    configPatches: listOf(strictObject({ applyTo: enumOf('INVALID', ...APPLY_TO), match: MATCH, patch: PATCH })),
    priority: INTEGER,
  }),
});

/** Which match object each applyTo expects. */
const MATCH_FOR: Record<string, string> = {
  LISTENER: 'listener',
  FILTER_CHAIN: 'listener',
  NETWORK_FILTER: 'listener',
  HTTP_FILTER: 'listener',
  LISTENER_FILTER: 'listener',
  ROUTE_CONFIGURATION: 'routeConfiguration',
  VIRTUAL_HOST: 'routeConfiguration',
  HTTP_ROUTE: 'routeConfiguration',
  CLUSTER: 'cluster',
};

const HTTP_CONNECTION_MANAGER = new Set(['envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager']);

function checkEnvoyFilter(raw: Obj, out: Issues): void {
  const spec = specOf(raw);
  if (!spec) return;
  out.warn(SPEC, 'EnvoyFilter patches proxy internals that can change between versions; prefer the other Istio APIs where they can express the change');

  const selector = asObject(spec.workloadSelector);
  if (selector) {
    const labels = asObject(selector.labels) ?? {};
    for (const [key, v] of Object.entries(labels)) {
      const p = at(SPEC, 'workloadSelector', 'labels', key);
      if (key === '') out.error(p, 'label key must not be empty');
      if (key.includes('*') || (typeof v === 'string' && v.includes('*'))) out.error(p, `wildcards are not supported in selectors: "${key}=${String(v)}"`);
    }
    if (Object.keys(labels).length === 0) out.warn(at(SPEC, 'workloadSelector'), 'workload selector has no labels, so the EnvoyFilter applies to every workload in the namespace');
    if (asArray(spec.targetRefs).length > 0) out.error(at(SPEC, 'targetRefs'), 'set only one of workloadSelector and targetRefs');
  }

  asArray(spec.configPatches).forEach((value, i) => {
    const p = at(SPEC, 'configPatches', i);
    if (value === null) {
      out.error(p, 'config patch must not be null');
      return;
    }
    const cp = asObject(value);
    if (cp) checkConfigPatch(cp, p, out);
  });
}

function checkConfigPatch(cp: Obj, path: string, out: Issues): void {
  const applyTo = asString(cp.applyTo) ?? 'INVALID';
  if (applyTo === 'INVALID') {
    out.error(path, `applyTo is required: one of ${APPLY_TO.join(', ')}`);
    return;
  }
  const patch = asObject(cp.patch);
  if (!patch) {
    out.error(path, 'patch is required');
    return;
  }
  const operation = asString(patch.operation) ?? 'INVALID';
  if (operation === 'INVALID') {
    out.error(at(path, 'patch'), `patch.operation is required: one of ${OPERATIONS.join(', ')}`);
    return;
  }
  if (operation !== 'REMOVE' && !isSet(patch.value)) out.error(at(path, 'patch'), `patch.value is required for operation ${operation}`);

  const match = asObject(cp.match);
  if (!match) return;
  const version = asString(asObject(match.proxy)?.proxyVersion);
  if (version) {
    const problem = regexProblem(version);
    if (problem) out.error(at(path, 'match', 'proxy', 'proxyVersion'), problem);
  }
  const objects = ['listener', 'routeConfiguration', 'cluster'].filter((k) => isSet(match[k]));
  if (objects.length > 1) out.error(at(path, 'match'), `set only one of listener, routeConfiguration or cluster (found ${objects.join(' and ')})`);
  const expected = MATCH_FOR[applyTo];
  if (expected && objects.length > 0 && !objects.includes(expected)) {
    out.error(at(path, 'match'), `applyTo ${applyTo} patches ${expected} objects, so the match must use "${expected}" (found ${objects.join(', ')})`);
  }

  const filter = asObject(asObject(asObject(match.listener)?.filterChain)?.filter);
  if (!filter) return;
  const fp = at(path, 'match', 'listener', 'filterChain', 'filter');
  if (applyTo === 'LISTENER' || applyTo === 'FILTER_CHAIN') out.warn(fp, `a filter match has no effect with applyTo ${applyTo}`);
  const name = asString(filter.name) ?? '';
  if (name === '') {
    out.error(fp, 'filter.name is required in a filter match');
    return;
  }
  const sub = asObject(filter.subFilter);
  if (sub) {
    if (applyTo !== 'HTTP_FILTER') out.error(at(fp, 'subFilter'), 'a subFilter match only works with applyTo HTTP_FILTER');
    else if (!HTTP_CONNECTION_MANAGER.has(name)) out.error(at(fp, 'subFilter'), 'a subFilter match needs filter.name envoy.filters.network.http_connection_manager');
    else if ((asString(sub.name) ?? '') === '') out.error(at(fp, 'subFilter'), 'subFilter.name is required');
  }
}

export const envoyFilterValidator: KindValidator = networkingValidator({ name: 'dns-subdomain', schema: envoyFilterSchema, check: checkEnvoyFilter });
