// Envoy's v3 core types in proto3 JSON form (camelCase fields, durations as "1.5s", 64-bit integers as strings, Any
// with "@type"): the vocabulary the listener, route, cluster, TLS and filter types are written in.

import type { ProtoDuration } from '../../duration.js';

/** google.protobuf.Duration: "1.5s" (an object form is tolerated for hand-written configs). */
export type Duration = ProtoDuration;
/** proto3 JSON renders 64-bit integers as strings; wrappers (UInt32Value…) as plain values. */
export type Uint = number | string;

/**
 * google.protobuf.Any: `"@type"` and the message's fields. Build one with `typed()` (type-urls.ts), which checks the
 * fields against the type the URL names; read one by its `"@type"`.
 */
export interface Any {
  '@type'?: string;
  [field: string]: unknown;
}

export interface FractionalPercent {
  numerator?: Uint;
  denominator?: 'HUNDRED' | 'TEN_THOUSAND' | 'MILLION' | number;
}

export interface RuntimeFractionalPercent {
  defaultValue?: FractionalPercent;
  runtimeKey?: string;
}

export interface Percent {
  value?: number;
}

export interface RegexMatcher {
  regex?: string;
  googleRe2?: unknown;
}

export interface StringMatcher {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  safeRegex?: RegexMatcher;
  ignoreCase?: boolean;
}

export interface RegexMatchAndSubstitute {
  pattern?: RegexMatcher;
  substitution?: string;
}

export interface Int64Range {
  start?: Uint;
  end?: Uint;
}

export interface HeaderMatcher {
  name?: string;
  exactMatch?: string;
  safeRegexMatch?: RegexMatcher;
  rangeMatch?: Int64Range;
  presentMatch?: boolean;
  prefixMatch?: string;
  suffixMatch?: string;
  containsMatch?: string;
  stringMatch?: StringMatcher;
  invertMatch?: boolean;
  treatMissingHeaderAsEmpty?: boolean;
}

export interface QueryParameterMatcher {
  name?: string;
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
}

export type HeaderAppendAction = 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';

export interface HeaderValueOption {
  header?: { key?: string; value?: string; rawValue?: string };
  append?: boolean;
  appendAction?: HeaderAppendAction | number;
  keepEmptyValue?: boolean;
}

export interface SocketAddress {
  protocol?: 'TCP' | 'UDP';
  address?: string;
  portValue?: number;
  namedPort?: string;
  ipv4Compat?: boolean;
}

/** Envoy's metadata key for the destination an internal listener restores (Istio's tunnel endpoints set `local`). */
export const ORIGINAL_DST_METADATA = 'envoy.filters.listener.original_dst';

export interface Address {
  socketAddress?: SocketAddress;
  pipe?: { path?: string };
  /** An internal listener of the same proxy (Envoy's internal connections; Istio's HBONE plumbing uses them). */
  envoyInternalAddress?: { serverListenerName?: string; endpointId?: string };
}

export interface CidrRange {
  addressPrefix?: string;
  prefixLen?: number;
}

export interface DataSource {
  inlineString?: string;
  /** base64 in proto3 JSON. */
  inlineBytes?: string;
  filename?: string;
}

/** Envoy metadata: values by filter name (Istio keeps its own under `istio`). */
export interface Metadata {
  filterMetadata?: Record<string, Record<string, unknown>>;
}

/** Where a resource comes from: Trellis always uses ADS over xDS v3. */
export interface ConfigSource {
  ads?: Record<string, never>;
  resourceApiVersion?: 'V3' | 'AUTO' | number;
}

export interface Locality {
  region?: string;
  zone?: string;
  subZone?: string;
}

/** A named extension with its typed config (listener filters, HTTP and network filters, transport sockets, loggers). */
export interface TypedExtension {
  name?: string;
  typedConfig?: Any;
  isOptional?: boolean;
  disabled?: boolean;
}

/** The config source every Trellis resource names: the same ADS stream. */
export const ADS_SOURCE: Readonly<ConfigSource> = Object.freeze({ ads: {}, resourceApiVersion: 'V3' });
