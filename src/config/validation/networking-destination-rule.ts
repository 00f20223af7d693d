// Schema and Istio webhook rules for networking.istio.io DestinationRule: host, subsets and traffic policies.

import type { SchemaObject } from 'ajv';
import type { Resource } from '../resource.js';
import {
  BOOLEAN,
  DURATION,
  INTEGER,
  NUMBER,
  STRING,
  STRING_LIST,
  STRING_MAP,
  UINT32,
  WORKLOAD_SELECTOR,
  enumOf,
  listOf,
  mapOf,
  strictObject,
} from './common-schemas.js';
import { isDnsLabel } from './metadata.js';
import { at, asArray, asObject, asString, isIp, isSet, objectSchema, type Issues, type Obj } from './object-check.js';
import {
  CONNECTION_POOL,
  PORT_SELECTOR,
  SPEC,
  checkConnectionPool,
  checkExportTo,
  checkLabelMap,
  checkPortNumber,
  checkWorkloadSelector,
  namespaceOf,
  networkingValidator,
  specOf,
  stringsWithIndex,
} from './networking-common.js';
import { fqdnProblem, wildcardDomainProblem } from './networking-hosts.js';
import { checkDuration } from './networking-matching.js';
import { CLIENT_TLS, checkClientTls } from './networking-tls.js';
import type { KindValidator } from './validator.js';

// ---------------------------------------------------------------- schema

const LOAD_BALANCER = strictObject({
  simple: enumOf('UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'),
  consistentHash: strictObject({
    httpHeaderName: STRING,
    httpCookie: strictObject({ name: STRING, path: STRING, ttl: DURATION, attributes: listOf(strictObject({ name: STRING, value: STRING })) }),
    useSourceIp: BOOLEAN,
    httpQueryParameterName: STRING,
    ringHash: strictObject({ minimumRingSize: UINT32 }),
    maglev: strictObject({ tableSize: UINT32 }),
    minimumRingSize: UINT32,
  }),
  localityLbSetting: strictObject({
    distribute: listOf(strictObject({ from: STRING, to: mapOf(UINT32) })),
    failover: listOf(strictObject({ from: STRING, to: STRING })),
    failoverPriority: STRING_LIST,
    enabled: BOOLEAN,
  }),
  warmupDurationSecs: DURATION,
  warmup: strictObject({ duration: DURATION, minimumPercent: NUMBER, aggression: NUMBER }),
});

const OUTLIER_DETECTION = strictObject({
  splitExternalLocalOriginErrors: BOOLEAN,
  consecutiveLocalOriginFailures: UINT32,
  consecutiveGatewayErrors: UINT32,
  consecutive5xxErrors: UINT32,
  consecutiveErrors: INTEGER,
  interval: DURATION,
  baseEjectionTime: DURATION,
  maxEjectionPercent: INTEGER,
  minHealthPercent: INTEGER,
});

const PORT_POLICY_FIELDS = { loadBalancer: LOAD_BALANCER, connectionPool: CONNECTION_POOL, outlierDetection: OUTLIER_DETECTION, tls: CLIENT_TLS };

const TRAFFIC_POLICY: SchemaObject = strictObject({
  ...PORT_POLICY_FIELDS,
  portLevelSettings: listOf(strictObject({ port: PORT_SELECTOR, ...PORT_POLICY_FIELDS })),
  tunnel: strictObject({ protocol: STRING, targetHost: STRING, targetPort: UINT32 }, ['targetHost', 'targetPort']),
  proxyProtocol: strictObject({ version: enumOf('V1', 'V2') }),
  retryBudget: strictObject({ percent: NUMBER, minRetryConcurrency: UINT32 }),
});

const destinationRuleSchema = objectSchema({
  spec: strictObject({
    host: STRING,
    trafficPolicy: TRAFFIC_POLICY,
    subsets: listOf(strictObject({ name: STRING, labels: STRING_MAP, trafficPolicy: TRAFFIC_POLICY }, ['name'])),
    exportTo: STRING_LIST,
    workloadSelector: WORKLOAD_SELECTOR,
  }),
});

// ---------------------------------------------------------------- rules

function checkDestinationRule(raw: Obj, out: Issues, resource: Resource): void {
  const spec = specOf(raw);
  if (!spec) return;
  if (typeof spec.host !== 'string' || spec.host === '') out.error(SPEC, 'host is required: the service the rule applies to (e.g. reviews or reviews.default.svc.cluster.local)');
  else {
    const problem = wildcardDomainProblem(spec.host);
    if (problem) out.error(at(SPEC, 'host'), problem);
  }
  checkTrafficPolicy(asObject(spec.trafficPolicy), at(SPEC, 'trafficPolicy'), out);

  const names = new Map<string, number>();
  asArray(spec.subsets).forEach((s, i) => {
    const p = at(SPEC, 'subsets', i);
    if (s === null) out.error(p, 'subset must not be null');
    const subset = asObject(s);
    if (!subset) return;
    if (typeof subset.name === 'string') {
      if (subset.name === '') out.error(at(p, 'name'), 'subset name must not be empty');
      else if (!isDnsLabel(subset.name)) out.error(at(p, 'name'), `"${subset.name}" is not a valid subset name (a DNS-1123 label: lower-case letters, digits and '-')`);
      const earlier = names.get(subset.name);
      if (earlier !== undefined) out.error(at(p, 'name'), `subset name "${subset.name}" is already used by subsets[${earlier}]`);
      else names.set(subset.name, i);
    }
    checkLabelMap(subset.labels, at(p, 'labels'), out);
    if (Object.keys(asObject(subset.labels) ?? {}).length === 0) out.warn(p, 'subset has no labels, so it selects every endpoint of the host');
    checkTrafficPolicy(asObject(subset.trafficPolicy), at(p, 'trafficPolicy'), out);
  });

  const hasSelector = isSet(spec.workloadSelector);
  checkExportTo(spec.exportTo, at(SPEC, 'exportTo'), out, namespaceOf(resource), { selectorDestinationRule: hasSelector });
  checkWorkloadSelector(spec.workloadSelector, at(SPEC, 'workloadSelector'), out, 'DestinationRule');
}

function checkTrafficPolicy(policy: Obj | undefined, path: string, out: Issues): void {
  if (!policy) return;
  const fields = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls', 'portLevelSettings', 'tunnel', 'proxyProtocol', 'retryBudget'];
  if (!fields.some((f) => isSet(policy[f]))) {
    out.error(path, 'trafficPolicy must set at least one of loadBalancer, connectionPool, outlierDetection, tls, portLevelSettings, tunnel or proxyProtocol');
    return;
  }
  if (isSet(policy.tunnel) && isSet(policy.proxyProtocol)) out.error(path, 'set only one of tunnel and proxyProtocol');
  checkPolicyParts(policy, path, out);
  checkTunnel(asObject(policy.tunnel), at(path, 'tunnel'), out);

  const ports = new Map<number, number>();
  asArray(policy.portLevelSettings).forEach((s, i) => {
    const p = at(path, 'portLevelSettings', i);
    if (s === null) out.error(p, 'port-level settings must not be null');
    const setting = asObject(s);
    if (!setting) return;
    const port = asObject(setting.port);
    if (!port) out.error(p, 'port is required: the port these settings apply to');
    else if (typeof port.number === 'number') {
      checkPortNumber(port.number, at(p, 'port', 'number'), out);
      const earlier = ports.get(port.number);
      if (earlier !== undefined) out.warn(at(p, 'port', 'number'), `port ${port.number} already has settings in portLevelSettings[${earlier}]`);
      else ports.set(port.number, i);
    } else if (!isSet(port.number)) out.error(at(p, 'port'), 'port.number is required');
    if (!['loadBalancer', 'connectionPool', 'outlierDetection', 'tls'].some((f) => isSet(setting[f]))) {
      out.error(p, 'port-level settings must set at least one of loadBalancer, connectionPool, outlierDetection or tls');
    } else checkPolicyParts(setting, p, out);
  });
}

/** The parts a traffic policy and its port-level settings share. */
function checkPolicyParts(policy: Obj, path: string, out: Issues): void {
  const outlier = asObject(policy.outlierDetection);
  checkOutlierDetection(outlier, at(path, 'outlierDetection'), out);
  checkConnectionPool(policy.connectionPool, at(path, 'connectionPool'), out);
  checkLoadBalancer(asObject(policy.loadBalancer), outlier, at(path, 'loadBalancer'), out);
  checkClientTls(policy.tls, at(path, 'tls'), out);
}

function checkOutlierDetection(outlier: Obj | undefined, path: string, out: Issues): void {
  if (!outlier) return;
  checkDuration(outlier.interval, at(path, 'interval'), out);
  checkDuration(outlier.baseEjectionTime, at(path, 'baseEjectionTime'), out);
  if (typeof outlier.consecutiveErrors === 'number' && outlier.consecutiveErrors !== 0) {
    out.warn(at(path, 'consecutiveErrors'), 'consecutiveErrors is deprecated; use consecutive5xxErrors or consecutiveGatewayErrors');
  }
  if (outlier.splitExternalLocalOriginErrors !== true && typeof outlier.consecutiveLocalOriginFailures === 'number' && outlier.consecutiveLocalOriginFailures > 0) {
    out.error(at(path, 'consecutiveLocalOriginFailures'), 'only counted when splitExternalLocalOriginErrors is true; set it too');
  }
  for (const f of ['maxEjectionPercent', 'minHealthPercent']) {
    const v = outlier[f];
    if (typeof v === 'number' && (v < 0 || v > 100)) out.error(at(path, f), `must be between 0 and 100 (got ${v})`);
  }
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n < 4) return true;
  if (n % 2 === 0) return false;
  for (let f = 3; f * f <= n; f += 2) if (n % f === 0) return false;
  return true;
}

const HASH_KEYS = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'];

function checkLoadBalancer(lb: Obj | undefined, outlier: Obj | undefined, path: string, out: Issues): void {
  if (!lb) return;
  if (isSet(lb.simple) && isSet(lb.consistentHash)) out.error(path, 'set only one of simple and consistentHash');
  const hash = asObject(lb.consistentHash);
  if (hash) {
    const p = at(path, 'consistentHash');
    const keys = HASH_KEYS.filter((k) => isSet(hash[k]) && hash[k] !== false);
    if (keys.length > 1) out.error(p, `set only one hash key (found ${keys.join(' and ')})`);
    if (keys.length === 0) out.warn(p, `consistentHash has no hash key (${HASH_KEYS.join(', ')}), so requests are not pinned to endpoints`);
    const cookie = asObject(hash.httpCookie);
    if (cookie && (asString(cookie.name) ?? '') === '') out.error(at(p, 'httpCookie'), 'httpCookie.name is required');
    if (cookie) checkDuration(cookie.ttl, at(p, 'httpCookie', 'ttl'), out);
    if (isSet(hash.ringHash) && isSet(hash.maglev)) out.error(p, 'set only one of ringHash and maglev');
    if (typeof hash.minimumRingSize === 'number' && hash.minimumRingSize !== 0) {
      out.warn(at(p, 'minimumRingSize'), 'minimumRingSize is deprecated; use ringHash.minimumRingSize');
      if (isSet(hash.ringHash) || isSet(hash.maglev)) out.error(at(p, 'minimumRingSize'), 'cannot be combined with ringHash or maglev');
    }
    const maglev = asObject(hash.maglev);
    if (maglev) {
      const size = maglev.tableSize;
      const mp = at(p, 'maglev', 'tableSize');
      if (!isSet(size) || size === 0) out.error(at(p, 'maglev'), 'maglev.tableSize is required (a prime number such as 65537)');
      else if (typeof size === 'number') {
        if (size >= 5000011) out.error(mp, `must be less than 5000011 (got ${size})`);
        else if (!isPrime(size)) out.error(mp, `must be a prime number (got ${size}); for example 65537`);
      }
    }
  }
  checkLocality(asObject(lb.localityLbSetting), outlier, at(path, 'localityLbSetting'), out);
  checkDuration(lb.warmupDurationSecs, at(path, 'warmupDurationSecs'), out);
  const warmup = asObject(lb.warmup);
  if (warmup) checkDuration(warmup.duration, at(path, 'warmup', 'duration'), out);
}

/** A locality `region[/zone[/subzone]]` whose only wildcard is a final `*`. */
function localityProblem(locality: string): string | undefined {
  const stars = locality.split('*').length - 1;
  if (stars > 1 || (stars === 1 && !locality.endsWith('*'))) return `locality "${locality}" may only use one '*', at the end`;
  if (locality.split('/', 3).some((part) => part === '')) return `locality "${locality}" has an empty region, zone or subzone`;
  return undefined;
}

function checkLocality(setting: Obj | undefined, outlier: Obj | undefined, path: string, out: Issues): void {
  if (!setting) return;
  const distribute = asArray(setting.distribute);
  const failover = asArray(setting.failover);
  const priority = stringsWithIndex(setting.failoverPriority);
  if (distribute.length > 0 && failover.length > 0) {
    out.error(path, 'set only one of distribute and failover');
    return;
  }
  if (failover.length > 0) {
    const topology = priority.find(([l]) => l === 'topology.kubernetes.io/region' || l === 'topology.kubernetes.io/zone' || l === 'topology.istio.io/subzone');
    if (topology) out.error(at(path, 'failoverPriority', topology[1]), `"${topology[0]}" cannot be used in failoverPriority together with failover`);
  }
  distribute.forEach((d, i) => {
    const entry = asObject(d);
    if (!entry) return;
    const p = at(path, 'distribute', i);
    if (typeof entry.from === 'string') {
      const problem = localityProblem(entry.from);
      if (problem) out.error(at(p, 'from'), problem);
    }
    let total = 0;
    for (const [locality, w] of Object.entries(asObject(entry.to) ?? {})) {
      const problem = localityProblem(locality);
      if (problem) out.error(at(p, 'to', locality), problem);
      if (typeof w === 'number') {
        if (w < 1 || w > 100) out.error(at(p, 'to', locality), `locality weight must be between 1 and 100 (got ${w})`);
        total += w;
      }
    }
    if (total !== 100) out.error(at(p, 'to'), `locality weights add up to ${total}; they must add up to 100`);
  });
  if ((failover.length > 0 || priority.length > 0) && !outlier) out.warn(path, 'failover only happens with outlierDetection set in the same traffic policy');
  failover.forEach((f, i) => {
    const entry = asObject(f);
    if (!entry) return;
    const p = at(path, 'failover', i);
    const from = asString(entry.from) ?? '';
    const to = asString(entry.to) ?? '';
    if (from === to) out.error(p, 'failover from and to must name different regions');
    if (from.includes('/') || to.includes('/')) out.error(p, 'failover from and to are regions only (no zone or subzone)');
    if (from.includes('*') || to.includes('*')) out.error(p, "failover regions must not contain '*'");
  });
}

function checkTunnel(tunnel: Obj | undefined, path: string, out: Issues): void {
  if (!tunnel) return;
  if (typeof tunnel.protocol === 'string' && tunnel.protocol !== '' && tunnel.protocol !== 'CONNECT' && tunnel.protocol !== 'POST') {
    out.error(at(path, 'protocol'), `tunnel protocol must be "CONNECT" or "POST" (got "${tunnel.protocol}")`);
  }
  if (typeof tunnel.targetHost === 'string' && fqdnProblem(tunnel.targetHost) && !isIp(tunnel.targetHost)) {
    out.error(at(path, 'targetHost'), `"${tunnel.targetHost}" is not a host name or IP address`);
  }
  if (tunnel.targetPort === 0) out.error(at(path, 'targetPort'), 'port 0 is out of range (1-65535)');
  else checkPortNumber(tunnel.targetPort, at(path, 'targetPort'), out);
}

export const destinationRuleValidator: KindValidator = networkingValidator({ name: 'dns-subdomain', schema: destinationRuleSchema, check: checkDestinationRule });
