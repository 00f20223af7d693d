// Schema and semantic validation of the Kubernetes Gateway API (gateway.networking.k8s.io), following its CRD schemas and CEL rules.

import type { SchemaObject } from 'ajv';
import { isDnsLabel, isDnsSubdomain, LABEL_SELECTOR_SCHEMA, checkLabelSelector } from './metadata.js';
import { at, asArray, asObject, asString, isIp, isSet, objectSchema, objectValidator, HTTP_HEADER_NAME, STRING_MAP, type Issues, type Obj } from './object-check.js';
import { istioDurationMs } from '../../duration.js';
import type { KindValidator } from './validator.js';

const SPEC = '/spec';
const port: SchemaObject = { type: 'integer', minimum: 1, maximum: 65535 };
const str: SchemaObject = { type: 'string' };

// ---------------------------------------------------------------- shared schema fragments

const PARENT_REF: SchemaObject = {
  type: 'object',
  required: ['name'],
  properties: { group: str, kind: str, namespace: str, name: str, sectionName: str, port },
  additionalProperties: false,
};
const BACKEND_OBJECT_REF: SchemaObject = {
  type: 'object',
  required: ['name'],
  properties: { group: str, kind: str, namespace: str, name: str, port },
  additionalProperties: false,
};
const HEADER_MODIFIER: SchemaObject = {
  type: 'object',
  properties: {
    set: { type: 'array', items: { type: 'object', required: ['name', 'value'], properties: { name: str, value: str }, additionalProperties: false } },
    add: { type: 'array', items: { type: 'object', required: ['name', 'value'], properties: { name: str, value: str }, additionalProperties: false } },
    remove: { type: 'array', items: str },
  },
  additionalProperties: false,
};
const PATH_MODIFIER: SchemaObject = {
  type: 'object',
  required: ['type'],
  properties: { type: { enum: ['ReplaceFullPath', 'ReplacePrefixMatch'] }, replaceFullPath: str, replacePrefixMatch: str },
  additionalProperties: false,
};

/** Filter `type` → the one config field it names. */
const FILTER_FIELDS: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  ExtensionRef: 'extensionRef',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
};
const HTTP_FILTER_TYPES = Object.keys(FILTER_FIELDS);
const GRPC_FILTER_TYPES = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef'];

function filterSchema(types: string[]): SchemaObject {
  const all: Record<string, SchemaObject> = {
    requestHeaderModifier: HEADER_MODIFIER,
    responseHeaderModifier: HEADER_MODIFIER,
    requestMirror: {
      type: 'object',
      required: ['backendRef'],
      properties: {
        backendRef: BACKEND_OBJECT_REF,
        percent: { type: 'integer', minimum: 0, maximum: 100 },
        fraction: { type: 'object', required: ['numerator'], properties: { numerator: { type: 'integer', minimum: 0 }, denominator: { type: 'integer', minimum: 1 } }, additionalProperties: false },
      },
      additionalProperties: false,
    },
    requestRedirect: {
      type: 'object',
      properties: { scheme: { enum: ['http', 'https'] }, hostname: str, path: PATH_MODIFIER, port, statusCode: { enum: [301, 302, 303, 307, 308] } },
      additionalProperties: false,
    },
    urlRewrite: { type: 'object', properties: { hostname: str, path: PATH_MODIFIER }, additionalProperties: false },
    extensionRef: { type: 'object', required: ['group', 'kind', 'name'], properties: { group: str, kind: str, name: str }, additionalProperties: false },
    // Newer, experimental filters: accepted, their bodies not checked.
    cors: { type: 'object' },
    externalAuth: { type: 'object' },
  };
  const allowed = new Set(types.map((t) => FILTER_FIELDS[t]!));
  return {
    type: 'object',
    required: ['type'],
    properties: { type: { enum: types }, ...Object.fromEntries(Object.entries(all).filter(([k]) => allowed.has(k))) },
    additionalProperties: false,
  };
}

function backendRefSchema(filterTypes: string[]): SchemaObject {
  return {
    type: 'object',
    required: ['name'],
    properties: {
      group: str,
      kind: str,
      namespace: str,
      name: str,
      port,
      weight: { type: 'integer', minimum: 0, maximum: 1_000_000 },
      ...(filterTypes.length > 0 ? { filters: { type: 'array', items: filterSchema(filterTypes) } } : {}),
    },
    additionalProperties: false,
  };
}

const HEADER_MATCH: SchemaObject = {
  type: 'object',
  required: ['name', 'value'],
  properties: { type: { enum: ['Exact', 'RegularExpression'] }, name: str, value: str },
  additionalProperties: false,
};

// ---------------------------------------------------------------- shared checks

const KIND = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/** Gateway API durations (GEP-2257): up to four whole-number parts of h, m, s or ms. */
const GATEWAY_DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$/;
const CONTROLLER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

/** The forms of the fields every Gateway API reference shares. */
function checkRefFields(ref: Obj, path: string, out: Issues): void {
  const group = asString(ref.group);
  if (group !== undefined && group !== '' && !isDnsSubdomain(group)) out.error(at(path, 'group'), `"${group}" is not a valid API group (empty for the core group, or a DNS subdomain)`);
  const kind = asString(ref.kind);
  if (kind !== undefined && (kind.length > 63 || !KIND.test(kind))) out.error(at(path, 'kind'), `"${kind}" is not a valid kind`);
  const namespace = asString(ref.namespace);
  if (namespace !== undefined && !isDnsLabel(namespace)) out.error(at(path, 'namespace'), `"${namespace}" is not a valid namespace name`);
  const name = asString(ref.name);
  if (name !== undefined && (name === '' || name.length > 253)) out.error(at(path, 'name'), 'must be 1 to 253 characters');
  const section = asString(ref.sectionName);
  if (section !== undefined && !isDnsSubdomain(section)) out.error(at(path, 'sectionName'), `"${section}" is not a valid section name (lower-case letters, digits, '-' and '.')`);
}

/** A Gateway API hostname: lower-case RFC 1123, optionally `*.` first; never an IP address. */
function checkHostname(h: string, path: string, out: Issues, wildcard: boolean): void {
  if (isIp(h)) return out.error(path, `"${h}" is an IP address; hostnames must be names`);
  const name = wildcard && h.startsWith('*.') ? h.slice(2) : h;
  if (!isDnsSubdomain(name)) {
    out.error(path, `"${h}" is not a valid hostname: lower-case RFC 1123 labels separated by dots${wildcard ? ', optionally starting with "*."' : ''}`);
  }
}

function checkHostnames(list: unknown, path: string, out: Issues): void {
  asArray(list).forEach((h, i) => {
    if (typeof h === 'string') checkHostname(h, at(path, i), out, true);
  });
}

function checkParentRefs(list: unknown, path: string, out: Issues): void {
  const refs = asArray(list);
  const seen = new Map<string, number>();
  const byParent = new Map<string, number[]>();
  refs.forEach((r, i) => {
    const ref = asObject(r);
    if (!ref) return;
    const p = at(path, i);
    checkRefFields(ref, p, out);
    const parent = [ref.group ?? 'gateway.networking.k8s.io', ref.kind ?? 'Gateway', ref.namespace ?? '', ref.name ?? ''].join('|');
    const full = [parent, ref.sectionName ?? '', ref.port ?? ''].join('|');
    const first = seen.get(full);
    if (first !== undefined) out.error(p, `duplicates parentRefs[${first}]`);
    else seen.set(full, i);
    byParent.set(parent, [...(byParent.get(parent) ?? []), i]);
  });
  for (const indexes of byParent.values()) {
    if (indexes.length < 2) continue;
    for (const i of indexes) {
      const ref = asObject(refs[i])!;
      if (!isSet(ref.sectionName) && !isSet(ref.port)) out.error(at(path, i), 'sectionName or port must be set when several parentRefs point to the same parent');
    }
  }
}

/** Backends: a Service (the default kind) needs a port. */
function checkBackendRef(ref: Obj, path: string, out: Issues): void {
  checkRefFields(ref, path, out);
  const group = asString(ref.group) ?? '';
  const kind = asString(ref.kind) ?? 'Service';
  if ((group === '' || group === 'core') && kind === 'Service' && !isSet(ref.port)) out.error(path, 'port is required when the backend is a Service');
}

function checkBackendRefs(list: unknown, path: string, out: Issues, filterTypes: string[]): void {
  asArray(list).forEach((r, i) => {
    const ref = asObject(r);
    if (!ref) return;
    checkBackendRef(ref, at(path, i), out);
    checkFilters(ref.filters, at(path, i, 'filters'), out, filterTypes);
  });
}

function checkHeaderModifier(mod: Obj, path: string, out: Issues): void {
  for (const op of ['set', 'add'] as const) {
    const seen = new Set<string>();
    asArray(mod[op]).forEach((h, i) => {
      const name = asString(asObject(h)?.name);
      if (name === undefined) return;
      const p = at(path, op, i, 'name');
      if (!HTTP_HEADER_NAME.test(name)) out.error(p, `"${name}" is not a valid HTTP header name`);
      if (seen.has(name.toLowerCase())) out.error(p, `header "${name}" is listed twice`);
      seen.add(name.toLowerCase());
    });
  }
  const removed = new Set<string>();
  asArray(mod.remove).forEach((name, i) => {
    if (typeof name !== 'string') return;
    if (!HTTP_HEADER_NAME.test(name)) out.error(at(path, 'remove', i), `"${name}" is not a valid HTTP header name`);
    if (removed.has(name.toLowerCase())) out.error(at(path, 'remove', i), `header "${name}" is listed twice`);
    removed.add(name.toLowerCase());
  });
}

function checkPathModifier(mod: Obj, path: string, out: Issues): void {
  const type = asString(mod.type);
  if (type === 'ReplaceFullPath') {
    if (!isSet(mod.replaceFullPath)) out.error(path, 'replaceFullPath is required when the type is ReplaceFullPath');
    if (isSet(mod.replacePrefixMatch)) out.error(at(path, 'replacePrefixMatch'), 'must not be set when the type is ReplaceFullPath');
  } else if (type === 'ReplacePrefixMatch') {
    if (!isSet(mod.replacePrefixMatch)) out.error(path, 'replacePrefixMatch is required when the type is ReplacePrefixMatch');
    if (isSet(mod.replaceFullPath)) out.error(at(path, 'replaceFullPath'), 'must not be set when the type is ReplacePrefixMatch');
  }
}

/** Each filter's `type` names exactly one config object; the singular filters may appear once per list. */
function checkFilters(list: unknown, path: string, out: Issues, allowed: string[]): void {
  const counts = new Map<string, number>();
  asArray(list).forEach((f, i) => {
    const filter = asObject(f);
    if (!filter) return;
    const p = at(path, i);
    const type = asString(filter.type);
    if (!type || !allowed.includes(type)) return; // the schema reports a missing or unknown type
    counts.set(type, (counts.get(type) ?? 0) + 1);
    const field = FILTER_FIELDS[type]!;
    if (!isSet(filter[field])) out.error(p, `filter type ${type} needs its "${field}" settings`);
    for (const [otherType, otherField] of Object.entries(FILTER_FIELDS)) {
      if (otherType !== type && isSet(filter[otherField])) out.error(at(p, otherField), `must not be set when the filter type is ${type}`);
    }
    const body = asObject(filter[field]);
    if (!body) return;
    if (type === 'RequestHeaderModifier' || type === 'ResponseHeaderModifier') checkHeaderModifier(body, at(p, field), out);
    if (type === 'RequestRedirect' || type === 'URLRewrite') {
      const hostname = asString(body.hostname);
      if (hostname !== undefined) checkHostname(hostname, at(p, field, 'hostname'), out, false);
      const pathMod = asObject(body.path);
      if (pathMod) checkPathModifier(pathMod, at(p, field, 'path'), out);
    }
    if (type === 'RequestMirror') {
      const ref = asObject(body.backendRef);
      if (ref) checkBackendRef(ref, at(p, field, 'backendRef'), out);
      if (isSet(body.percent) && isSet(body.fraction)) out.error(at(p, field), 'set only one of percent and fraction');
      const fraction = asObject(body.fraction);
      const num = fraction?.numerator;
      const den = fraction?.denominator ?? 100;
      if (typeof num === 'number' && typeof den === 'number' && num > den) out.error(at(p, field, 'fraction'), 'numerator must not be greater than denominator');
    }
    if (type === 'ExtensionRef') checkRefFields(body, at(p, field), out);
  });
  for (const type of ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite']) {
    if ((counts.get(type) ?? 0) > 1) out.error(path, `the ${type} filter may appear only once`);
  }
  if (counts.has('RequestRedirect') && counts.has('URLRewrite')) out.error(path, 'RequestRedirect and URLRewrite filters cannot be used together');
}

function checkHeaderMatches(list: unknown, path: string, out: Issues, kind: 'header' | 'query parameter'): void {
  const exact = new Set<string>();
  const folded = new Set<string>();
  asArray(list).forEach((m, i) => {
    const name = asString(asObject(m)?.name);
    if (name === undefined) return;
    const p = at(path, i, 'name');
    if (kind === 'header' && !HTTP_HEADER_NAME.test(name)) out.error(p, `"${name}" is not a valid HTTP header name`);
    if (kind === 'query parameter' && name === '') out.error(p, 'must not be empty');
    if (exact.has(name)) out.error(p, `${kind} "${name}" is matched twice`);
    else if (kind === 'header' && folded.has(name.toLowerCase())) out.warn(p, `header names are case-insensitive: only the first match on "${name}" is used`);
    exact.add(name);
    folded.add(name.toLowerCase());
  });
}

/** Exact and PathPrefix values are absolute, normalised paths (the CEL rules of HTTPPathMatch). */
function checkPathMatch(match: Obj, path: string, out: Issues): void {
  const type = asString(match.type) ?? 'PathPrefix';
  const value = asString(match.value);
  if (value === undefined || type === 'RegularExpression') return;
  const p = at(path, 'value');
  if (!value.startsWith('/')) return out.error(p, `"${value}" must be an absolute path starting with "/" for type ${type}`);
  for (const bad of ['//', '/./', '/../', '%2f', '%2F', '#']) {
    if (value.includes(bad)) return out.error(p, `"${value}" must not contain "${bad}"`);
  }
  if (value.endsWith('/..') || value.endsWith('/.')) return out.error(p, `"${value}" must not end with "/." or "/.."`);
  if (!PATH_CHARS.test(value)) out.error(p, `"${value}" contains characters that are not valid in a path; percent-encode them`);
}

function checkTimeouts(timeouts: Obj, path: string, out: Issues): void {
  const parsed: Record<string, number> = {};
  for (const field of ['request', 'backendRequest'] as const) {
    const v = timeouts[field];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !GATEWAY_DURATION.test(v)) {
      out.error(at(path, field), `${JSON.stringify(v)} is not a Gateway API duration: whole numbers with h, m, s or ms, such as "10s" or "1m30s" (no fractions)`);
      continue;
    }
    parsed[field] = istioDurationMs(v) ?? 0;
  }
  const { request, backendRequest } = parsed;
  if (request !== undefined && backendRequest !== undefined && request !== 0 && backendRequest > request) {
    out.error(at(path, 'backendRequest'), 'backendRequest timeout cannot be longer than the request timeout');
  }
}

/** A rewrite or redirect by prefix needs exactly one PathPrefix match to know which prefix to replace. */
function checkReplacePrefixMatch(rule: Obj, path: string, out: Issues): void {
  const usesPrefix = asArray(rule.filters).some((f) => {
    const filter = asObject(f);
    const body = asObject(filter?.urlRewrite) ?? asObject(filter?.requestRedirect);
    return asObject(body?.path)?.type === 'ReplacePrefixMatch';
  });
  if (!usesPrefix || !isSet(rule.matches)) return; // no matches means the default "/" prefix
  const matches = asArray(rule.matches);
  const only = asObject(matches[0]);
  const type = asObject(only?.path)?.type ?? 'PathPrefix';
  if (matches.length !== 1 || type !== 'PathPrefix') out.error(at(path, 'matches'), 'ReplacePrefixMatch needs exactly one match, of path type PathPrefix');
}

function checkRouteCommon(spec: Obj, out: Issues): void {
  if (!isSet(spec.parentRefs) || asArray(spec.parentRefs).length === 0) out.warn(SPEC, 'the route has no parentRefs, so it attaches to no Gateway or Service');
  checkParentRefs(spec.parentRefs, at(SPEC, 'parentRefs'), out);
  checkHostnames(spec.hostnames, at(SPEC, 'hostnames'), out);
}

// ---------------------------------------------------------------- GatewayClass

const gatewayClassSchema = objectSchema({
  spec: {
    type: 'object',
    required: ['controllerName'],
    properties: {
      controllerName: str,
      description: { type: 'string', maxLength: 64 },
      parametersRef: { type: 'object', required: ['group', 'kind', 'name'], properties: { group: str, kind: str, name: str, namespace: str }, additionalProperties: false },
    },
    additionalProperties: false,
  },
});

function checkGatewayClass(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (!spec) return out.error('', 'spec with controllerName is required');
  const controller = asString(spec.controllerName);
  if (controller !== undefined && (controller.length > 253 || !CONTROLLER_NAME.test(controller))) {
    out.error(at(SPEC, 'controllerName'), `"${controller}" must be a domain-prefixed path such as "istio.io/gateway-controller"`);
  }
  const params = asObject(spec.parametersRef);
  if (params) checkRefFields(params, at(SPEC, 'parametersRef'), out);
}

// ---------------------------------------------------------------- Gateway

const CORE_PROTOCOLS = new Set(['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP']);
/** Protocols Istio's own gateway classes use beyond the core ones (HBONE for ambient waypoints). */
const ISTIO_PROTOCOLS = new Set(['HBONE']);
const PROTOCOL_NAME = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const DOMAIN_PROTOCOL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$/;

const gatewaySchema = objectSchema({
  spec: {
    type: 'object',
    required: ['gatewayClassName', 'listeners'],
    properties: {
      gatewayClassName: str,
      listeners: {
        type: 'array',
        minItems: 1,
        maxItems: 64,
        items: {
          type: 'object',
          required: ['name', 'port', 'protocol'],
          properties: {
            name: str,
            hostname: str,
            port,
            protocol: str,
            tls: {
              type: 'object',
              properties: {
                mode: { enum: ['Terminate', 'Passthrough'] },
                certificateRefs: { type: 'array', maxItems: 64, items: { type: 'object', required: ['name'], properties: { group: str, kind: str, name: str, namespace: str }, additionalProperties: false } },
                options: STRING_MAP,
                frontendValidation: { type: 'object' },
              },
              additionalProperties: false,
            },
            allowedRoutes: {
              type: 'object',
              properties: {
                namespaces: { type: 'object', properties: { from: { enum: ['All', 'Same', 'Selector'] }, selector: LABEL_SELECTOR_SCHEMA }, additionalProperties: false },
                kinds: { type: 'array', items: { type: 'object', required: ['kind'], properties: { group: str, kind: str }, additionalProperties: false } },
              },
              additionalProperties: false,
            },
          },
          additionalProperties: false,
        },
      },
      addresses: { type: 'array', maxItems: 16, items: { type: 'object', required: ['value'], properties: { type: str, value: str }, additionalProperties: false } },
      infrastructure: {
        type: 'object',
        properties: {
          labels: STRING_MAP,
          annotations: STRING_MAP,
          parametersRef: { type: 'object', required: ['group', 'kind', 'name'], properties: { group: str, kind: str, name: str }, additionalProperties: false },
        },
        additionalProperties: false,
      },
      // Newer, experimental sections: accepted, not checked in detail.
      backendTLS: { type: 'object' },
      allowedListeners: { type: 'object' },
    },
    additionalProperties: false,
  },
});

function checkGateway(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (!spec) return out.error('', 'spec with gatewayClassName and listeners is required');
  if (spec.gatewayClassName === '') out.error(at(SPEC, 'gatewayClassName'), 'must not be empty');
  const names = new Map<string, number>();
  const combos = new Map<string, number>();
  asArray(spec.listeners).forEach((l, i) => {
    const listener = asObject(l);
    if (!listener) return;
    const path = at(SPEC, 'listeners', i);
    const name = asString(listener.name);
    if (name !== undefined) {
      if (!isDnsSubdomain(name)) out.error(at(path, 'name'), `"${name}" is not a valid listener name (lower-case letters, digits, '-' and '.')`);
      const first = names.get(name);
      if (first !== undefined) out.error(at(path, 'name'), `listener name "${name}" is already used by listeners[${first}]`);
      else names.set(name, i);
    }
    const protocol = asString(listener.protocol) ?? '';
    checkProtocol(protocol, at(path, 'protocol'), out);
    const hostname = asString(listener.hostname);
    if (hostname !== undefined) {
      checkHostname(hostname, at(path, 'hostname'), out, true);
      if (protocol === 'TCP' || protocol === 'UDP') out.error(at(path, 'hostname'), `hostname must not be set for protocol ${protocol}`);
    }
    const combo = `${String(listener.port)}|${protocol}|${hostname ?? ''}`;
    const firstCombo = combos.get(combo);
    if (firstCombo !== undefined) out.error(path, `port, protocol and hostname repeat listeners[${firstCombo}]; each listener needs a distinct combination`);
    else combos.set(combo, i);
    checkListenerTls(listener, protocol, path, out);
    checkAllowedRoutes(asObject(listener.allowedRoutes), at(path, 'allowedRoutes'), out);
  });
  asArray(spec.addresses).forEach((a, i) => {
    const address = asObject(a);
    const value = asString(address?.value);
    if (!address || value === undefined) return;
    const type = asString(address.type) ?? 'IPAddress';
    const p = at(SPEC, 'addresses', i, 'value');
    if (type === 'IPAddress' && !isIp(value)) out.error(p, `"${value}" is not an IP address (the type is IPAddress)`);
    if (type === 'Hostname') checkHostname(value, p, out, false);
  });
}

function checkProtocol(protocol: string, path: string, out: Issues): void {
  if (CORE_PROTOCOLS.has(protocol) || ISTIO_PROTOCOLS.has(protocol) || DOMAIN_PROTOCOL.test(protocol)) return;
  if (PROTOCOL_NAME.test(protocol)) out.warn(path, `"${protocol}" is not a core protocol (HTTP, HTTPS, TLS, TCP, UDP); implementations may not support it`);
  else out.error(path, `"${protocol}" is not a valid protocol: use HTTP, HTTPS, TLS, TCP, UDP or a domain-prefixed name such as "example.com/proto"`);
}

function checkListenerTls(listener: Obj, protocol: string, path: string, out: Issues): void {
  const tls = asObject(listener.tls);
  if ((protocol === 'HTTPS' || protocol === 'TLS') && !tls) return out.error(path, `tls is required for protocol ${protocol}`);
  if (!tls) return;
  const tlsPath = at(path, 'tls');
  if (protocol === 'HTTP' || protocol === 'TCP' || protocol === 'UDP') return out.error(tlsPath, `tls must not be set for protocol ${protocol}`);
  const mode = asString(tls.mode) ?? 'Terminate';
  if (protocol === 'HTTPS' && mode !== 'Terminate') out.error(at(tlsPath, 'mode'), 'mode must be Terminate for protocol HTTPS (use protocol TLS for Passthrough)');
  if (mode === 'Terminate' && asArray(tls.certificateRefs).length === 0 && Object.keys(asObject(tls.options) ?? {}).length === 0) {
    out.error(tlsPath, 'certificateRefs are required when the TLS mode is Terminate');
  }
  asArray(tls.certificateRefs).forEach((r, i) => {
    const ref = asObject(r);
    if (ref) checkRefFields(ref, at(tlsPath, 'certificateRefs', i), out);
  });
}

function checkAllowedRoutes(allowed: Obj | undefined, path: string, out: Issues): void {
  if (!allowed) return;
  const namespaces = asObject(allowed.namespaces);
  if (namespaces?.from === 'Selector' && !isSet(namespaces.selector)) out.warn(at(path, 'namespaces'), 'from is Selector but no selector is set, so no namespace is allowed');
  if (namespaces && isSet(namespaces.selector)) {
    for (const issue of checkLabelSelector(namespaces.selector, at(path, 'namespaces', 'selector'))) out.list.push(issue);
  }
  asArray(allowed.kinds).forEach((k, i) => {
    const kind = asObject(k);
    if (kind) checkRefFields(kind, at(path, 'kinds', i), out);
  });
}

// ---------------------------------------------------------------- HTTPRoute

const httpRouteSchema = objectSchema({
  spec: {
    type: 'object',
    properties: {
      parentRefs: { type: 'array', maxItems: 32, items: PARENT_REF },
      hostnames: { type: 'array', maxItems: 16, items: str },
      rules: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: str,
            matches: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  path: { type: 'object', properties: { type: { enum: ['Exact', 'PathPrefix', 'RegularExpression'] }, value: { type: 'string', maxLength: 1024 } }, additionalProperties: false },
                  headers: { type: 'array', maxItems: 16, items: HEADER_MATCH },
                  queryParams: { type: 'array', maxItems: 16, items: HEADER_MATCH },
                  method: { enum: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] },
                },
                additionalProperties: false,
              },
            },
            filters: { type: 'array', maxItems: 16, items: filterSchema(HTTP_FILTER_TYPES) },
            backendRefs: { type: 'array', maxItems: 16, items: backendRefSchema(HTTP_FILTER_TYPES) },
            timeouts: { type: 'object', properties: { request: {}, backendRequest: {} }, additionalProperties: false },
            retry: { type: 'object' },
            sessionPersistence: { type: 'object' },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
});

function checkHTTPRoute(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (!spec) return;
  checkRouteCommon(spec, out);
  asArray(spec.rules).forEach((r, i) => {
    const rule = asObject(r);
    if (!rule) return;
    const path = at(SPEC, 'rules', i);
    asArray(rule.matches).forEach((m, j) => {
      const match = asObject(m);
      if (!match) return;
      const mpath = at(path, 'matches', j);
      const pathMatch = asObject(match.path);
      if (pathMatch) checkPathMatch(pathMatch, at(mpath, 'path'), out);
      checkHeaderMatches(match.headers, at(mpath, 'headers'), out, 'header');
      checkHeaderMatches(match.queryParams, at(mpath, 'queryParams'), out, 'query parameter');
    });
    checkFilters(rule.filters, at(path, 'filters'), out, HTTP_FILTER_TYPES);
    checkReplacePrefixMatch(rule, path, out);
    checkBackendRefs(rule.backendRefs, at(path, 'backendRefs'), out, HTTP_FILTER_TYPES);
    const timeouts = asObject(rule.timeouts);
    if (timeouts) checkTimeouts(timeouts, at(path, 'timeouts'), out);
  });
}

// ---------------------------------------------------------------- GRPCRoute

const GRPC_SERVICE = /^\.?[a-zA-Z_][a-zA-Z_0-9]*(\.[a-zA-Z_][a-zA-Z_0-9]*)*$/;
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

const grpcRouteSchema = objectSchema({
  spec: {
    type: 'object',
    properties: {
      parentRefs: { type: 'array', maxItems: 32, items: PARENT_REF },
      hostnames: { type: 'array', maxItems: 16, items: str },
      rules: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: str,
            matches: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  method: { type: 'object', properties: { type: { enum: ['Exact', 'RegularExpression'] }, service: str, method: str }, additionalProperties: false },
                  headers: { type: 'array', maxItems: 16, items: HEADER_MATCH },
                },
                additionalProperties: false,
              },
            },
            filters: { type: 'array', maxItems: 16, items: filterSchema(GRPC_FILTER_TYPES) },
            backendRefs: { type: 'array', maxItems: 16, items: backendRefSchema(GRPC_FILTER_TYPES) },
            sessionPersistence: { type: 'object' },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
});

function checkGRPCRoute(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (!spec) return;
  checkRouteCommon(spec, out);
  asArray(spec.rules).forEach((r, i) => {
    const rule = asObject(r);
    if (!rule) return;
    const path = at(SPEC, 'rules', i);
    asArray(rule.matches).forEach((m, j) => {
      const match = asObject(m);
      if (!match) return;
      const mpath = at(path, 'matches', j);
      const method = asObject(match.method);
      if (method) {
        const service = asString(method.service);
        const name = asString(method.method);
        if (!service && !name) out.error(at(mpath, 'method'), 'set service, method or both');
        if ((asString(method.type) ?? 'Exact') === 'Exact') {
          if (service && !GRPC_SERVICE.test(service)) out.error(at(mpath, 'method', 'service'), `"${service}" is not a valid gRPC service name (such as "foo.bar.Greeter")`);
          if (name && !GRPC_METHOD.test(name)) out.error(at(mpath, 'method', 'method'), `"${name}" is not a valid gRPC method name`);
        }
      }
      checkHeaderMatches(match.headers, at(mpath, 'headers'), out, 'header');
    });
    checkFilters(rule.filters, at(path, 'filters'), out, GRPC_FILTER_TYPES);
    checkBackendRefs(rule.backendRefs, at(path, 'backendRefs'), out, GRPC_FILTER_TYPES);
  });
}

// ---------------------------------------------------------------- TCPRoute, TLSRoute

function l4RouteSchema(withHostnames: boolean): SchemaObject {
  return objectSchema({
    spec: {
      type: 'object',
      required: ['rules'],
      properties: {
        parentRefs: { type: 'array', maxItems: 32, items: PARENT_REF },
        ...(withHostnames ? { hostnames: { type: 'array', maxItems: 16, items: str } } : {}),
        rules: {
          type: 'array',
          minItems: 1,
          maxItems: 16,
          items: {
            type: 'object',
            required: ['backendRefs'],
            properties: { name: str, backendRefs: { type: 'array', minItems: 1, maxItems: 16, items: backendRefSchema([]) } },
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
  });
}

function checkL4Route(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (!spec) return out.error('', 'spec with rules is required');
  checkRouteCommon(spec, out);
  asArray(spec.rules).forEach((r, i) => checkBackendRefs(asObject(r)?.backendRefs, at(SPEC, 'rules', i, 'backendRefs'), out, []));
}

// ---------------------------------------------------------------- ReferenceGrant

const referenceGrantSchema = objectSchema({
  spec: {
    type: 'object',
    required: ['from', 'to'],
    properties: {
      from: { type: 'array', minItems: 1, maxItems: 16, items: { type: 'object', required: ['group', 'kind', 'namespace'], properties: { group: str, kind: str, namespace: str }, additionalProperties: false } },
      to: { type: 'array', minItems: 1, maxItems: 16, items: { type: 'object', required: ['group', 'kind'], properties: { group: str, kind: str, name: str }, additionalProperties: false } },
    },
    additionalProperties: false,
  },
});

function checkReferenceGrant(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (!spec) return out.error('', 'spec with from and to is required');
  for (const side of ['from', 'to'] as const) {
    asArray(spec[side]).forEach((r, i) => {
      const ref = asObject(r);
      if (ref) checkRefFields(ref, at(SPEC, side, i), out);
    });
  }
}

export const gatewayApiValidators: Record<string, KindValidator> = {
  'gateway.networking.k8s.io/GatewayClass': objectValidator({ name: 'dns-subdomain', schema: gatewayClassSchema, check: checkGatewayClass }),
  'gateway.networking.k8s.io/Gateway': objectValidator({ name: 'dns-subdomain', schema: gatewaySchema, check: checkGateway }),
  'gateway.networking.k8s.io/HTTPRoute': objectValidator({ name: 'dns-subdomain', schema: httpRouteSchema, check: checkHTTPRoute }),
  'gateway.networking.k8s.io/GRPCRoute': objectValidator({ name: 'dns-subdomain', schema: grpcRouteSchema, check: checkGRPCRoute }),
  'gateway.networking.k8s.io/TCPRoute': objectValidator({ name: 'dns-subdomain', schema: l4RouteSchema(false), check: checkL4Route }),
  'gateway.networking.k8s.io/TLSRoute': objectValidator({ name: 'dns-subdomain', schema: l4RouteSchema(true), check: checkL4Route }),
  'gateway.networking.k8s.io/ReferenceGrant': objectValidator({ name: 'dns-subdomain', schema: referenceGrantSchema, check: checkReferenceGrant }),
};
