// Schema and semantic validation of security.istio.io: PeerAuthentication, AuthorizationPolicy and RequestAuthentication, following Istio's webhook rules.

import type { SchemaObject } from 'ajv';
import { at, asArray, asObject, asString, isIpOrCidr, isSet, objectSchema, objectValidator, HTTP_HEADER_NAME, type Issues, type Obj } from './object-check.js';
import { checkPolicyScope, SCOPE_PROPERTIES, WORKLOAD_SELECTOR_SCHEMA } from './policy-common.js';
import type { KindValidator } from './validator.js';

const SPEC = '/spec';
const strings: SchemaObject = { type: 'array', items: { type: 'string' } };
const MTLS_MODE: SchemaObject = { type: 'object', properties: { mode: { enum: ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] } }, additionalProperties: false };

// ---------------------------------------------------------------- PeerAuthentication

const peerAuthenticationSchema = objectSchema({
  spec: {
    type: 'object',
    properties: { selector: WORKLOAD_SELECTOR_SCHEMA, mtls: MTLS_MODE, portLevelMtls: { type: 'object', additionalProperties: MTLS_MODE } },
    additionalProperties: false,
  },
});

function checkPeerAuthentication(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (!spec) return;
  checkPolicyScope(spec, SPEC, out);
  const ports = asObject(spec.portLevelMtls);
  if (!ports) return;
  const path = at(SPEC, 'portLevelMtls');
  if (Object.keys(ports).length === 0) out.error(path, 'must list at least one port when set');
  for (const key of Object.keys(ports)) {
    if (!/^\d+$/.test(key) || Number(key) < 1 || Number(key) > 65535) out.error(at(path, key), `"${key}" is not a port number from 1 to 65535`);
  }
  const labels = asObject(asObject(spec.selector)?.matchLabels);
  if (Object.keys(ports).length > 0 && (!labels || Object.keys(labels).length === 0)) {
    out.error(path, 'port-level mTLS needs a workload selector: a mesh- or namespace-wide PeerAuthentication cannot set portLevelMtls');
  }
}

// ---------------------------------------------------------------- AuthorizationPolicy

const SOURCE_FIELDS = [
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
  'namespaces',
  'notNamespaces',
  'ipBlocks',
  'notIpBlocks',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
  'serviceAccounts',
  'notServiceAccounts',
] as const;
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

const authorizationPolicySchema = objectSchema({
  spec: {
    type: 'object',
    properties: {
      ...SCOPE_PROPERTIES,
      action: { enum: ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] },
      provider: { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false },
      rules: {
        type: 'array',
        items: {
          type: ['object', 'null'],
          properties: {
            from: {
              type: 'array',
              items: {
                type: ['object', 'null'],
                properties: { source: { type: ['object', 'null'], properties: Object.fromEntries(SOURCE_FIELDS.map((f) => [f, strings])), additionalProperties: false } },
                additionalProperties: false,
              },
            },
            to: {
              type: 'array',
              items: {
                type: ['object', 'null'],
                properties: {
                  operation: {
                    type: ['object', 'null'],
                    // Ports are checked by hand so that a bare number gets a "quote it" hint rather than "must be a string".
                    properties: Object.fromEntries(OPERATION_FIELDS.map((f) => [f, f === 'ports' || f === 'notPorts' ? { type: 'array' } : strings])),
                    additionalProperties: false,
                  },
                },
                additionalProperties: false,
              },
            },
            when: {
              type: 'array',
              items: {
                type: ['object', 'null'],
                properties: { key: { type: 'string' }, values: strings, notValues: strings },
                additionalProperties: false,
              },
            },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
});

/** Standard HTTP methods; others are legal but usually a typo (methods match case-sensitively). */
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/** Source fields and `when` keys the CUSTOM action cannot use: the external authorizer runs before these are known. */
const CUSTOM_UNSUPPORTED_SOURCE = new Set(['principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts']);

function checkAuthorizationPolicy(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (!spec) return;
  checkPolicyScope(spec, SPEC, out);
  const action = asString(spec.action) ?? 'ALLOW';
  const custom = action === 'CUSTOM';
  const rulesSet = isSet(spec.rules);

  if (custom) {
    if (!rulesSet) out.error(SPEC, 'a CUSTOM policy without rules never triggers; add an empty rule `{}` to apply it to every request');
    const name = asString(asObject(spec.provider)?.name);
    if (!name) out.error(isSet(spec.provider) ? at(SPEC, 'provider') : SPEC, 'provider.name is required when the action is CUSTOM');
  } else if (isSet(spec.provider)) {
    out.error(at(SPEC, 'provider'), `provider is only allowed with action CUSTOM (the action is ${action})`);
  }
  if (action === 'DENY' && !rulesSet) out.error(SPEC, 'a DENY policy without rules never triggers; add an empty rule `{}` to deny every request');

  asArray(spec.rules).forEach((value, i) => {
    const rulePath = at(SPEC, 'rules', i);
    if (value === null) {
      out.error(rulePath, 'rule must not be null; write `{}` for a rule that matches every request');
      return;
    }
    const rule = asObject(value);
    if (!rule) return;
    checkFrom(rule, rulePath, custom, out);
    checkTo(rule, rulePath, out);
    asArray(rule.when).forEach((cond, j) => checkCondition(cond, at(rulePath, 'when', j), custom, out));
  });
}

function checkFrom(rule: Obj, rulePath: string, custom: boolean, out: Issues): void {
  if (Array.isArray(rule.from) && rule.from.length === 0) out.error(at(rulePath, 'from'), 'must not be empty when set; remove it to match any source');
  asArray(rule.from).forEach((item, j) => {
    const path = at(rulePath, 'from', j);
    const source = asObject(asObject(item)?.source);
    if (!source) {
      if (item === null || asObject(item)) out.error(path, 'source is required');
      return;
    }
    const sourcePath = at(path, 'source');
    if (!SOURCE_FIELDS.some((f) => asArray(source[f]).length > 0)) out.error(sourcePath, 'source must set at least one field');
    const identity = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'].some((f) => asArray(source[f]).length > 0);
    if (identity && (asArray(source.serviceAccounts).length > 0 || asArray(source.notServiceAccounts).length > 0)) {
      out.error(sourcePath, 'serviceAccounts cannot be combined with principals or namespaces');
    }
    for (const field of SOURCE_FIELDS) {
      const values = asArray(source[field]);
      if (values.length === 0) continue;
      const fieldPath = at(sourcePath, field);
      if (custom && CUSTOM_UNSUPPORTED_SOURCE.has(field)) out.error(fieldPath, `${field} is not supported with the CUSTOM action`);
      values.forEach((v, k) => {
        if (typeof v !== 'string') return;
        const p = at(fieldPath, k);
        if (v === '') out.error(p, 'must not be empty');
        else if (/ipblocks$/i.test(field)) {
          if (!isIpOrCidr(v)) out.error(p, `"${v}" is not a valid IP address or CIDR block`);
        } else checkWildcard(v, p, out);
      });
    }
  });
}

function checkTo(rule: Obj, rulePath: string, out: Issues): void {
  if (Array.isArray(rule.to) && rule.to.length === 0) out.error(at(rulePath, 'to'), 'must not be empty when set; remove it to match any operation');
  asArray(rule.to).forEach((item, j) => {
    const path = at(rulePath, 'to', j);
    const operation = asObject(asObject(item)?.operation);
    if (!operation) {
      if (item === null || asObject(item)) out.error(path, 'operation is required');
      return;
    }
    const opPath = at(path, 'operation');
    if (!OPERATION_FIELDS.some((f) => asArray(operation[f]).length > 0)) out.error(opPath, 'operation must set at least one field');
    for (const field of OPERATION_FIELDS) {
      asArray(operation[field]).forEach((v, k) => {
        const p = at(opPath, field, k);
        if (field === 'ports' || field === 'notPorts') return checkPortString(v, p, out);
        if (typeof v !== 'string') return;
        if (v === '') return out.error(p, 'must not be empty');
        if (field === 'paths' || field === 'notPaths') return checkPath(v, p, out);
        checkWildcard(v, p, out, 'Warning');
        if ((field === 'methods' || field === 'notMethods') && !v.includes('*') && !HTTP_METHODS.has(v)) {
          const upper = v.toUpperCase();
          out.warn(p, HTTP_METHODS.has(upper) ? `methods match case-sensitively: did you mean "${upper}"?` : `"${v}" is not a standard HTTP method`);
        }
      });
    }
  });
}

/**
 * Istio matches strings exactly, by prefix (`abc*`), by suffix (`*abc`) or for presence (`*`): one `*`, at an end.
 * For identities (principals, namespaces) another `*` is an Error; elsewhere it is matched literally, which is almost
 * certainly not what was meant, so a Warning.
 */
function checkWildcard(v: string, path: string, out: Issues, level: 'Error' | 'Warning' = 'Error'): void {
  const stars = v.split('*').length - 1;
  if (stars === 0 || v === '*') return;
  if (stars === 1 && (v.startsWith('*') || v.endsWith('*'))) return;
  const message = `"${v}": a wildcard "*" is only allowed once, at the start or the end (prefix, suffix or presence match)`;
  if (level === 'Error') out.error(path, message);
  else out.warn(path, `${message}; elsewhere it is matched literally`);
}

/** Paths take the wildcard rules, or Istio's path templates (`/foo/{*}/bar`, `/foo/{**}`). */
function checkPath(v: string, path: string, out: Issues): void {
  if (!v.startsWith('/') && !v.startsWith('*')) out.warn(path, `"${v}" does not start with "/", so it cannot match a request path`);
  if (!v.includes('{')) return checkWildcard(v, path, out, 'Warning');
  const segments = v.split('/');
  let doubleSeen = false;
  segments.forEach((seg, i) => {
    if (seg === '{**}') {
      if (doubleSeen || i !== segments.length - 1) out.error(path, `"${v}": {**} may appear only once, as the last segment`);
      doubleSeen = true;
    } else if (seg !== '{*}' && /[{}*]/.test(seg)) {
      out.error(path, `"${v}": path templates take {*} or {**} as whole segments and no other "*"`);
    }
  });
}

function checkPortString(v: unknown, path: string, out: Issues): void {
  if (typeof v === 'number') return out.error(path, `ports are strings: quote it ("${v}")`);
  if (typeof v !== 'string') return out.error(path, 'must be a string');
  if (!/^\d+$/.test(v) || Number(v) > 65535) out.error(path, `"${v}" is not a port number from 0 to 65535`);
}

/** The `when` keys Istio supports; map-like keys take a bracketed name. */
const CONDITION_KEYS = new Set([
  'source.ip',
  'remote.ip',
  'source.namespace',
  'source.principal',
  'source.serviceAccount',
  'request.auth.principal',
  'request.auth.audiences',
  'request.auth.presenter',
  'destination.ip',
  'destination.port',
  'connection.sni',
]);
const MAP_KEY_PREFIXES = ['request.headers', 'request.auth.claims'];

function checkCondition(value: unknown, path: string, custom: boolean, out: Issues): void {
  if (value === null) return out.error(path, 'condition must not be null');
  const cond = asObject(value);
  if (!cond) return;
  const key = asString(cond.key) ?? '';
  if (key === '') return out.error(path, 'key is required');
  const keyPath = at(path, 'key');
  const values = asArray(cond.values);
  const notValues = asArray(cond.notValues);
  if (values.length === 0 && notValues.length === 0) out.error(path, `at least one of values or notValues must be set for key ${key}`);

  const mapPrefix = MAP_KEY_PREFIXES.find((p) => key.startsWith(p + '['));
  if (mapPrefix) {
    if (!key.endsWith(']') || key.length <= mapPrefix.length + 2) out.error(keyPath, `"${key}" must be written ${mapPrefix}[name]`);
  } else if (!CONDITION_KEYS.has(key) && !key.startsWith('experimental.envoy.filters.')) {
    out.error(keyPath, `unknown attribute "${key}"; supported keys are request.headers[…], source.ip, remote.ip, source.namespace, source.principal, request.auth.principal, request.auth.audiences, request.auth.presenter, request.auth.claims[…], destination.ip, destination.port, connection.sni and experimental.envoy.filters.*`);
    return;
  }
  if (custom && (key === 'source.namespace' || key === 'source.principal' || key === 'source.serviceAccount' || key.startsWith('request.auth.'))) {
    out.error(keyPath, `${key} is not supported with the CUSTOM action`);
  }
  for (const [field, list] of [['values', values], ['notValues', notValues]] as const) {
    list.forEach((v, k) => {
      if (typeof v !== 'string') return;
      const p = at(path, field, k);
      if (v === '') out.error(p, 'must not be empty');
      else if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') {
        if (!isIpOrCidr(v)) out.error(p, `"${v}" is not a valid IP address or CIDR block`);
      } else if (key === 'destination.port') {
        if (!/^\d+$/.test(v) || Number(v) > 65535) out.error(p, `"${v}" is not a port number from 0 to 65535`);
      }
    });
  }
}

// ---------------------------------------------------------------- RequestAuthentication

const requestAuthenticationSchema = objectSchema({
  spec: {
    type: 'object',
    properties: {
      ...SCOPE_PROPERTIES,
      jwtRules: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            issuer: { type: 'string' },
            audiences: strings,
            jwksUri: { type: 'string' },
            jwks: { type: 'string' },
            fromHeaders: {
              type: 'array',
              items: { type: 'object', properties: { name: { type: 'string' }, prefix: { type: 'string' } }, additionalProperties: false },
            },
            fromParams: strings,
            fromCookies: strings,
            outputPayloadToHeader: { type: 'string' },
            forwardOriginalToken: { type: 'boolean' },
            outputClaimToHeaders: {
              type: 'array',
              items: { type: 'object', properties: { header: { type: 'string' }, claim: { type: 'string' } }, additionalProperties: false },
            },
            timeout: { type: 'string', format: 'duration' },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
});

function checkRequestAuthentication(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (!spec) return;
  checkPolicyScope(spec, SPEC, out);
  const seenIssuers = new Map<string, number>();
  asArray(spec.jwtRules).forEach((value, i) => {
    const rule = asObject(value);
    const path = at(SPEC, 'jwtRules', i);
    if (!rule) return;
    const issuer = asString(rule.issuer) ?? '';
    const jwksUri = asString(rule.jwksUri) ?? '';
    if (issuer === '') {
      if (jwksUri === '') out.error(path, 'issuer is required');
      else out.warn(path, 'issuer is empty: Istio before 1.21 rejects this, later versions accept tokens from any issuer the keys verify');
    } else {
      const first = seenIssuers.get(issuer);
      if (first !== undefined) out.warn(at(path, 'issuer'), `issuer "${issuer}" is already configured by jwtRules[${first}]`);
      else seenIssuers.set(issuer, i);
    }
    if (jwksUri !== '' && isSet(rule.jwks)) out.error(path, 'set only one of jwks and jwksUri');
    if (jwksUri !== '') checkJwksUri(jwksUri, at(path, 'jwksUri'), out);
    const jwks = asString(rule.jwks);
    if (jwks !== undefined) checkJwks(jwks, at(path, 'jwks'), out);
    asArray(rule.audiences).forEach((a, k) => {
      if (a === '') out.error(at(path, 'audiences', k), 'must not be empty');
    });
    asArray(rule.fromHeaders).forEach((h, k) => {
      const header = asObject(h);
      if (!header) return;
      const name = asString(header.name) ?? '';
      if (name === '') out.error(at(path, 'fromHeaders', k), 'header name is required');
      else if (!HTTP_HEADER_NAME.test(name)) out.error(at(path, 'fromHeaders', k, 'name'), `"${name}" is not a valid HTTP header name`);
    });
    for (const field of ['fromParams', 'fromCookies'] as const) {
      asArray(rule[field]).forEach((v, k) => {
        if (v === '') out.error(at(path, field, k), 'must not be empty');
      });
    }
    const payloadHeader = asString(rule.outputPayloadToHeader);
    if (payloadHeader !== undefined && payloadHeader !== '' && !HTTP_HEADER_NAME.test(payloadHeader)) {
      out.error(at(path, 'outputPayloadToHeader'), `"${payloadHeader}" is not a valid HTTP header name`);
    }
    asArray(rule.outputClaimToHeaders).forEach((v, k) => {
      const o = asObject(v);
      if (!o) return;
      const p = at(path, 'outputClaimToHeaders', k);
      const header = asString(o.header) ?? '';
      if (header === '' || (asString(o.claim) ?? '') === '') out.error(p, 'header and claim are both required');
      else if (!HTTP_HEADER_NAME.test(header)) out.error(at(p, 'header'), `"${header}" is not a valid HTTP header name`);
    });
  });
}

function checkJwksUri(uri: string, path: string, out: Issues): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return out.error(path, `"${uri}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') out.error(path, `"${uri}" must be an http or https URL`);
  else if (url.hostname === '') out.error(path, `"${uri}" has no host`);
}

/** Inline keys must be a JWK Set (`{"keys": [...]}`) or a single JWK. */
function checkJwks(jwks: string, path: string, out: Issues): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(jwks);
  } catch {
    return out.error(path, 'is not valid JSON; expected a JWK Set such as {"keys": [...]}');
  }
  const o = asObject(parsed);
  if (!o || (!Array.isArray(o.keys) && typeof o.kty !== 'string')) out.error(path, 'must be a JWK Set ({"keys": [...]}) or a single JWK');
}

export const securityValidators: Record<string, KindValidator> = {
  'security.istio.io/PeerAuthentication': objectValidator({ name: 'dns-subdomain', schema: peerAuthenticationSchema, check: checkPeerAuthentication }),
  'security.istio.io/AuthorizationPolicy': objectValidator({ name: 'dns-subdomain', schema: authorizationPolicySchema, check: checkAuthorizationPolicy }),
  'security.istio.io/RequestAuthentication': objectValidator({ name: 'dns-subdomain', schema: requestAuthenticationSchema, check: checkRequestAuthentication }),
};
