// What the networking.istio.io validators share: the validator builder, labels and selectors, exportTo, gateway names, ports, destinations, pools.

import type { SchemaObject } from 'ajv';
import type { Resource } from '../resource.js';
import { BOOLEAN, DURATION, INTEGER, UINT32, STRING, enumOf, strictObject } from './common-schemas.js';
import { isDnsLabel, isLabelValue, isQualifiedName } from './metadata.js';
import { at, asArray, asObject, isSet, objectValidator, type Issues, type ObjectValidatorOptions, type Obj } from './object-check.js';
import { fqdnProblem, wildcardDomainProblem } from './networking-hosts.js';
import { checkDuration } from './networking-matching.js';
import type { KindValidator } from './validator.js';

export const SPEC = '/spec';

// ---------------------------------------------------------------- building a validator

/**
 * A validator for one networking kind. Kubernetes prunes `field: null` from custom resources before Istio sees them,
 * so null object fields inside the spec are dropped first; null list items stay, as Istio rejects those.
 */
export function networkingValidator(opts: ObjectValidatorOptions): KindValidator {
  const validate = objectValidator(opts);
  const withoutNulls: KindValidator = (resource) => {
    if (!('spec' in resource.raw)) return validate(resource);
    return validate({ ...resource, raw: { ...resource.raw, spec: withoutNullFields(resource.raw.spec) } });
  };
  withoutNulls.schema = validate.schema;
  return withoutNulls;
}

function withoutNullFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullFields);
  const obj = asObject(value);
  if (!obj) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(obj)) if (v !== null) out[k] = withoutNullFields(v);
  return out;
}

/** The spec to check, `{}` when absent; undefined when it is not a mapping (the schema reports that). */
export function specOf(raw: Obj): Obj | undefined {
  if (raw.spec === undefined) return {};
  return asObject(raw.spec);
}

export function namespaceOf(resource: Resource): string {
  return resource.metadata.namespace || 'default';
}

/** `list` with the index of each string item (other items are reported by the schema). */
export function stringsWithIndex(list: unknown): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  asArray(list).forEach((v, i) => {
    if (typeof v === 'string') out.push([v, i]);
  });
  return out;
}

// ---------------------------------------------------------------- labels, selectors, exportTo, gateway names

/** Istio's labels check (sourceLabels, subset labels, endpoint labels): qualified-name keys and label values. */
export function checkLabelMap(value: unknown, path: string, out: Issues): void {
  for (const [key, v] of Object.entries(asObject(value) ?? {})) {
    const p = at(path, key);
    if (!isQualifiedName(key)) out.error(p, `"${key}" is not a valid label key`);
    if (typeof v === 'string' && !isLabelValue(v)) out.error(p, `"${v}" is not a valid label value`);
  }
}

/** `workloadSelector` (`matchLabels`, or `labels` for Sidecar/ServiceEntry): no empty keys, no wildcards; no labels selects every workload. */
export function checkWorkloadSelector(value: unknown, path: string, out: Issues, what: string, field: 'matchLabels' | 'labels' = 'matchLabels'): void {
  const selector = asObject(value);
  if (!selector) return;
  const labels = asObject(selector[field]) ?? {};
  for (const [key, v] of Object.entries(labels)) {
    const p = at(path, field, key);
    if (key === '') out.error(p, 'label key must not be empty');
    if (key.includes('*') || (typeof v === 'string' && v.includes('*'))) out.error(p, `wildcards are not supported in selectors: "${key}=${String(v)}"`);
  }
  if (Object.keys(labels).length === 0) out.warn(path, `workload selector has no labels, so the ${what} applies to every workload in the namespace`);
}

/** `exportTo`: ".", "*", namespace names, and "~" for ServiceEntries; no duplicates; "*" and "~" stand alone. */
export function checkExportTo(value: unknown, path: string, out: Issues, namespace: string, opts: { serviceEntry?: boolean; selectorDestinationRule?: boolean } = {}): void {
  const entries = stringsWithIndex(value);
  if (entries.length === 0) return;
  // Keyed by namespace ("." is this namespace), remembering how the entry was written.
  const seen = new Map<string, string>();
  for (const [e, i] of entries) {
    const p = at(path, i);
    const key = e === '.' ? namespace : e;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      out.error(p, earlier === e ? `duplicate entry "${e}"` : `"." and "${namespace}" name the same namespace`);
      continue;
    }
    if (e === '~' && !opts.serviceEntry) out.error(p, '"~" (export to no namespace) is only allowed for ServiceEntries');
    else if (e !== '.' && e !== '*' && e !== '~' && !isDnsLabel(e)) out.error(p, `"${e}" must be ".", "*" or a namespace name`);
    else seen.set(key, e);
  }
  if (opts.selectorDestinationRule && seen.size > 0 && (!seen.has(namespace) || seen.size > 1)) {
    out.error(path, 'a DestinationRule with a workloadSelector can only be exported to its own namespace (".")');
  }
  if (seen.has('*') && entries.length > 1) out.error(path, '"*" already exports to every namespace; it cannot be combined with other entries');
  if (seen.has('~') && entries.length > 1) out.error(path, '"~" (export to no namespace) cannot be combined with other entries');
}

/** A gateway reference in a VirtualService: `mesh`, `name`, or `namespace/name` (the legacy `name.namespace` form draws a warning). */
export function checkGatewayName(name: string, path: string, out: Issues): void {
  if (name === 'mesh') return;
  const slash = name.indexOf('/');
  if (slash < 0) {
    if (name.includes('.')) {
      const [gw, ns] = name.split('.');
      out.warn(path, `"${name}" uses the legacy name.namespace form; prefer "${ns}/${gw}"`);
    }
    const problem = fqdnProblem(name);
    if (problem) out.error(path, problem.replace('host name', 'gateway name'));
    return;
  }
  const ns = name.slice(0, slash);
  const gw = name.slice(slash + 1);
  if (ns === '' || gw === '') {
    out.error(path, `"${name}": both the namespace and the gateway name must be set`);
    return;
  }
  if (!isDnsLabel(ns)) out.error(path, `"${ns}" is not a valid namespace name`);
  if (!isDnsLabel(gw)) out.error(path, `"${gw}" is not a valid gateway name (a DNS-1123 label)`);
}

// ---------------------------------------------------------------- ports and protocols

const PROTOCOLS: Record<string, string> = {
  tcp: 'TCP',
  udp: 'UDP',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-Web',
  http: 'HTTP',
  http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2',
  https: 'HTTPS',
  tls: 'TLS',
  mongo: 'Mongo',
  redis: 'Redis',
  mysql: 'MySQL',
};

/** Istio's protocol names, matched case-insensitively; undefined when unknown. */
export function parseProtocol(name: string): string | undefined {
  return PROTOCOLS[name.toLowerCase()];
}

export const PROTOCOL_LIST = 'HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TCP, TLS, MONGO, REDIS, MYSQL, UDP';

export function isHttpProtocol(p: string | undefined): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'HTTP_PROXY' || p === 'GRPC' || p === 'GRPC-Web';
}

export function isTlsProtocol(p: string | undefined): boolean {
  return p === 'HTTPS' || p === 'TLS';
}

export function checkPortNumber(value: unknown, path: string, out: Issues): void {
  if (typeof value === 'number' && Number.isInteger(value) && (value < 1 || value > 65535)) out.error(path, `port ${value} is out of range (1-65535)`);
}

export function checkPortName(value: unknown, path: string, out: Issues): void {
  if (typeof value === 'string' && !isDnsLabel(value)) {
    out.error(path, value === '' ? 'port name must not be empty' : `"${value}" is not a valid port name (a DNS-1123 label: lower-case letters, digits and '-')`);
  }
}

/** A protocol that may be empty (left to protocol sniffing). */
export function checkProtocol(value: unknown, path: string, out: Issues): void {
  if (typeof value === 'string' && value !== '' && !parseProtocol(value)) out.error(path, `unsupported protocol "${value}"; use one of ${PROTOCOL_LIST}`);
}

/** A unix domain socket path after `unix://`: absolute and naming a file, or an abstract socket `@name`. */
export function unixAddressProblem(path: string): string | undefined {
  if (path === '') return 'unix socket path must not be empty';
  if (path.startsWith('@')) return undefined;
  if (!path.startsWith('/') || path.endsWith('/')) return `"${path}" is not an absolute path to a file`;
  return undefined;
}

// ---------------------------------------------------------------- destinations

export const PORT_SELECTOR: SchemaObject = strictObject({ number: UINT32 });
export const DESTINATION: SchemaObject = strictObject({ host: STRING, subset: STRING, port: PORT_SELECTOR }, ['host']);

/** A route or mirror destination: a service host (not `*`), an optional subset name and port. */
export function checkDestination(value: unknown, path: string, out: Issues): void {
  const d = asObject(value);
  if (!d) return;
  if (typeof d.host === 'string') {
    if (d.host === '*') out.error(at(path, 'host'), '"*" is not a valid destination host: name one service');
    else {
      const problem = wildcardDomainProblem(d.host);
      if (problem) out.error(at(path, 'host'), problem);
    }
  }
  if (typeof d.subset === 'string' && d.subset !== '' && !isDnsLabel(d.subset)) out.error(at(path, 'subset'), `"${d.subset}" is not a valid subset name (a DNS-1123 label)`);
  const port = asObject(d.port);
  if (port) {
    if (!isSet(port.number)) out.error(at(path, 'port'), 'port.number is required when port is set');
    else checkPortNumber(port.number, at(path, 'port', 'number'), out);
  }
}

// ---------------------------------------------------------------- connection pools

export const CONNECTION_POOL: SchemaObject = strictObject({
  tcp: strictObject({
    maxConnections: INTEGER,
    connectTimeout: DURATION,
    tcpKeepalive: strictObject({ probes: UINT32, time: DURATION, interval: DURATION }),
    maxConnectionDuration: DURATION,
    idleTimeout: DURATION,
  }),
  http: strictObject({
    http1MaxPendingRequests: INTEGER,
    http2MaxRequests: INTEGER,
    maxRequestsPerConnection: INTEGER,
    maxRetries: INTEGER,
    idleTimeout: DURATION,
    h2UpgradePolicy: enumOf('DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'),
    useClientProtocol: BOOLEAN,
    maxConcurrentStreams: INTEGER,
  }),
});

/** Istio's validateConnectionPool: something set, counts not negative, durations at least 1ms. */
export function checkConnectionPool(value: unknown, path: string, out: Issues): void {
  const pool = asObject(value);
  if (!pool) return;
  const http = asObject(pool.http);
  const tcp = asObject(pool.tcp);
  if (!http && !tcp) {
    out.error(path, 'connection pool must set tcp or http settings');
    return;
  }
  const nonNegative = (obj: Obj, base: string, fields: string[]): void => {
    for (const f of fields) if (typeof obj[f] === 'number' && (obj[f] as number) < 0) out.error(at(base, f), `must not be negative (got ${String(obj[f])})`);
  };
  if (http) {
    const p = at(path, 'http');
    nonNegative(http, p, ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries', 'maxConcurrentStreams']);
    checkDuration(http.idleTimeout, at(p, 'idleTimeout'), out);
    if (http.h2UpgradePolicy === 'UPGRADE' && http.useClientProtocol === true) out.error(at(p, 'useClientProtocol'), 'must not be true when h2UpgradePolicy is UPGRADE');
  }
  if (tcp) {
    const p = at(path, 'tcp');
    nonNegative(tcp, p, ['maxConnections']);
    for (const f of ['connectTimeout', 'maxConnectionDuration', 'idleTimeout']) checkDuration(tcp[f], at(p, f), out);
    const ka = asObject(tcp.tcpKeepalive);
    if (ka) for (const f of ['time', 'interval']) checkDuration(ka[f], at(p, 'tcpKeepalive', f), out);
  }
}

// ---------------------------------------------------------------- percentages

/** Istio's Percent: 0, or between 0.0001 and 100. */
export function checkPercent(value: unknown, path: string, out: Issues): void {
  const v = asObject(value)?.value;
  if (typeof v !== 'number') return;
  if (v < 0 || v > 100 || (v > 0 && v < 0.0001)) out.error(at(path, 'value'), `percentage ${v} must be 0 or between 0.0001 and 100`);
}
