// Schema and semantic validation of telemetry.istio.io Telemetry: metrics overrides, tracing and access logging, following Istio's webhook rules.

import type { SchemaObject } from 'ajv';
import { at, asArray, asObject, asString, isSet, objectSchema, objectValidator, type Issues, type Obj } from './object-check.js';
import { checkPolicyScope, SCOPE_PROPERTIES } from './policy-common.js';
import type { KindValidator } from './validator.js';

const SPEC = '/spec';

const PROVIDERS: SchemaObject = {
  type: 'array',
  items: { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false },
};
const MODE_MATCH: SchemaObject = {
  type: 'object',
  properties: { mode: { enum: ['CLIENT_AND_SERVER', 'CLIENT', 'SERVER'] } },
  additionalProperties: false,
};
const METRICS = [
  'ALL_METRICS',
  'REQUEST_COUNT',
  'REQUEST_DURATION',
  'REQUEST_SIZE',
  'RESPONSE_SIZE',
  'TCP_OPENED_CONNECTIONS',
  'TCP_CLOSED_CONNECTIONS',
  'TCP_SENT_BYTES',
  'TCP_RECEIVED_BYTES',
  'GRPC_REQUEST_MESSAGES',
  'GRPC_RESPONSE_MESSAGES',
];
const NAME_WITH_DEFAULT: SchemaObject = {
  type: 'object',
  properties: { name: { type: 'string' }, defaultValue: { type: 'string' } },
  additionalProperties: false,
};

const telemetrySchema = objectSchema({
  spec: {
    type: 'object',
    properties: {
      ...SCOPE_PROPERTIES,
      metrics: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            providers: PROVIDERS,
            reportingInterval: { type: 'string', format: 'duration' },
            overrides: {
              type: 'array',
              items: {
                type: ['object', 'null'],
                properties: {
                  match: {
                    type: 'object',
                    properties: { metric: { enum: METRICS }, customMetric: { type: 'string' }, mode: MODE_MATCH.properties.mode },
                    additionalProperties: false,
                  },
                  disabled: { type: 'boolean' },
                  tagOverrides: {
                    type: 'object',
                    additionalProperties: {
                      type: ['object', 'null'],
                      properties: { operation: { enum: ['UPSERT', 'REMOVE'] }, value: { type: 'string' } },
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
      },
      tracing: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            match: MODE_MATCH,
            providers: PROVIDERS,
            randomSamplingPercentage: { type: 'number' },
            disableSpanReporting: { type: 'boolean' },
            useRequestIdForTraceSampling: { type: 'boolean' },
            customTags: {
              type: 'object',
              additionalProperties: {
                type: ['object', 'null'],
                properties: {
                  literal: { type: 'object', properties: { value: { type: 'string' } }, additionalProperties: false },
                  environment: NAME_WITH_DEFAULT,
                  header: NAME_WITH_DEFAULT,
                },
                additionalProperties: false,
              },
            },
          },
          additionalProperties: false,
        },
      },
      accessLogging: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            match: MODE_MATCH,
            providers: PROVIDERS,
            disabled: { type: 'boolean' },
            filter: { type: ['object', 'null'], properties: { expression: { type: 'string' } }, additionalProperties: false },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
});

function checkTelemetry(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec);
  if (!spec) return;
  checkPolicyScope(spec, SPEC, out);
  asArray(spec.metrics).forEach((m, i) => checkMetrics(asObject(m), at(SPEC, 'metrics', i), out));
  const tracing = asArray(spec.tracing);
  if (tracing.length > 1) out.warn(at(SPEC, 'tracing'), 'only one tracing configuration is supported; the first one is used');
  tracing.forEach((t, i) => checkTracing(asObject(t), at(SPEC, 'tracing', i), out));
  asArray(spec.accessLogging).forEach((a, i) => checkAccessLogging(asObject(a), at(SPEC, 'accessLogging', i), out));
}

function checkProviders(providers: unknown, path: string, out: Issues): void {
  asArray(providers).forEach((p, i) => {
    const name = asString(asObject(p)?.name) ?? '';
    if (name === '') out.error(at(path, i), 'provider name is required (a provider defined in meshConfig.extensionProviders, or a built-in one)');
  });
}

function checkMetrics(metrics: Obj | undefined, path: string, out: Issues): void {
  if (!metrics) return;
  checkProviders(metrics.providers, at(path, 'providers'), out);
  asArray(metrics.overrides).forEach((o, i) => {
    const opath = at(path, 'overrides', i);
    if (o === null) return out.error(opath, 'override must not be null');
    const override = asObject(o);
    if (!override) return;
    const match = asObject(override.match);
    if (match) {
      if (isSet(match.metric) && isSet(match.customMetric)) out.error(at(opath, 'match'), 'set only one of metric and customMetric');
      if (match.customMetric === '') out.error(at(opath, 'match', 'customMetric'), 'must not be empty');
    }
    const tags = asObject(override.tagOverrides);
    for (const [name, value] of Object.entries(tags ?? {})) {
      const tpath = at(opath, 'tagOverrides', name);
      if (name === '') out.warn(tpath, 'tag name should not be empty');
      if (value === null) {
        out.error(tpath, 'tag override must not be null; use {operation: REMOVE} to drop the tag');
        continue;
      }
      const tag = asObject(value);
      if (!tag) continue;
      const operation = asString(tag.operation) ?? 'UPSERT';
      const hasValue = (asString(tag.value) ?? '') !== '';
      if (operation === 'UPSERT' && !hasValue) out.error(tpath, 'value is required when the operation is UPSERT (the default)');
      if (operation === 'REMOVE' && hasValue) out.error(at(tpath, 'value'), 'value may only be set when the operation is UPSERT');
    }
  });
}

function checkTracing(tracing: Obj | undefined, path: string, out: Issues): void {
  if (!tracing) return;
  checkProviders(tracing.providers, at(path, 'providers'), out);
  if (asArray(tracing.providers).length > 1) out.warn(at(path, 'providers'), 'only one tracing provider is supported; the first one is used');
  const pct = tracing.randomSamplingPercentage;
  if (typeof pct === 'number' && (pct < 0 || pct > 100)) out.error(at(path, 'randomSamplingPercentage'), `must be between 0 and 100 (got ${pct})`);
  for (const [name, value] of Object.entries(asObject(tracing.customTags) ?? {})) {
    const tpath = at(path, 'customTags', name);
    if (name === '') out.error(tpath, 'tag name must not be empty');
    const tag = asObject(value);
    if (!tag) {
      if (value === null) out.error(tpath, 'custom tag must set exactly one of literal, environment or header');
      continue;
    }
    const kinds = (['literal', 'environment', 'header'] as const).filter((k) => isSet(tag[k]));
    if (kinds.length !== 1) {
      out.error(tpath, `custom tag must set exactly one of literal, environment or header${kinds.length > 1 ? ` (found ${kinds.join(' and ')})` : ''}`);
      continue;
    }
    const kind = kinds[0]!;
    const body = asObject(tag[kind]);
    if (kind === 'literal' && (asString(body?.value) ?? '') === '') out.error(at(tpath, 'literal'), 'literal tag value must not be empty');
    if (kind !== 'literal' && (asString(body?.name) ?? '') === '') out.error(at(tpath, kind), `${kind} tag name must not be empty`);
  }
}

function checkAccessLogging(logging: Obj | undefined, path: string, out: Issues): void {
  if (!logging) return;
  checkProviders(logging.providers, at(path, 'providers'), out);
  // `filter:` with nothing after it counts as written: the user meant to filter.
  if (logging.filter === undefined) return;
  const expression = asString(asObject(logging.filter)?.expression) ?? '';
  if (expression.trim() === '') out.error(at(path, 'filter'), 'filter.expression is required when a filter is set (a CEL expression such as response.code >= 400)');
}

export const telemetryValidators: Record<string, KindValidator> = {
  'telemetry.istio.io/Telemetry': objectValidator({ name: 'dns-subdomain', schema: telemetrySchema, check: checkTelemetry }),
};
