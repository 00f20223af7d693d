// Header edits (headers_to_add with append actions, headers_to_remove) compiled into op lists, with Envoy's %COMMAND% values.

import os from 'node:os';
import type { HeaderValueOption } from '../../xds/envoy/index.js';
import type { IssueSink } from '../errors.js';
import { ConfigCode } from '../errors.js';
import { ptr } from './values.js';

/** Header map as node:http uses it: lower-case names, repeated headers as arrays. */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** What a header value may refer to (`%DOWNSTREAM_REMOTE_ADDRESS%`, `%REQ(x-foo)%`, …). */
export interface HeaderFormatContext {
  readonly downstreamRemoteAddress: string;
  readonly downstreamRemotePort: number;
  readonly downstreamLocalAddress: string;
  readonly downstreamLocalPort: number;
  readonly protocolName: string;
  requestHeader(name: string): string | undefined;
  readonly upstreamHostId: string | undefined;
  readonly startTimeMs: number;
}

type Action = 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
const ACTIONS: readonly Action[] = ['APPEND_IF_EXISTS_OR_ADD', 'ADD_IF_ABSENT', 'OVERWRITE_IF_EXISTS_OR_ADD', 'OVERWRITE_IF_EXISTS'];

type ValueFn = (ctx: HeaderFormatContext) => string;

interface AddOp {
  name: string;
  value: string | ValueFn;
  action: Action;
  keepEmpty: boolean;
}

/** One level's edits (route, virtual host, route configuration or weighted cluster). */
export interface HeaderMutation {
  readonly add: readonly AddOp[];
  readonly remove: readonly string[];
}

export const NO_MUTATION: HeaderMutation = { add: [], remove: [] };

function hostAddress(addr: string, port: number): string {
  if (!addr) return '';
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

const HOSTNAME = os.hostname();

const COMMANDS: Record<string, ValueFn> = {
  DOWNSTREAM_REMOTE_ADDRESS: (c) => hostAddress(c.downstreamRemoteAddress, c.downstreamRemotePort),
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (c) => c.downstreamRemoteAddress,
  DOWNSTREAM_REMOTE_PORT: (c) => String(c.downstreamRemotePort),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS: (c) => hostAddress(c.downstreamRemoteAddress, c.downstreamRemotePort),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT: (c) => c.downstreamRemoteAddress,
  DOWNSTREAM_LOCAL_ADDRESS: (c) => hostAddress(c.downstreamLocalAddress, c.downstreamLocalPort),
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (c) => c.downstreamLocalAddress,
  DOWNSTREAM_LOCAL_PORT: (c) => String(c.downstreamLocalPort),
  PROTOCOL: (c) => c.protocolName,
  HOSTNAME: () => HOSTNAME,
  UPSTREAM_REMOTE_ADDRESS: (c) => c.upstreamHostId ?? '',
  START_TIME: (c) => new Date(c.startTimeMs).toISOString(),
};

/**
 * Compiles a header value: plain text stays a string; `%COMMAND%` and `%REQ(name)%` become a function;
 * `%%` is a literal percent. Unknown commands are kept as text with a warning.
 */
export function compileHeaderValue(raw: string, sink?: IssueSink, field = ''): string | ValueFn {
  if (!raw.includes('%')) return raw;
  const parts: Array<string | ValueFn> = [];
  const re = /%%|%([A-Z_0-9]+)(?:\(([^)]*)\))?%/g;
  let last = 0;
  let dynamic = false;
  for (let m = re.exec(raw); m; m = re.exec(raw)) {
    if (m.index > last) parts.push(raw.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[0] === '%%') {
      parts.push('%');
      continue;
    }
    const cmd = m[1]!;
    const arg = m[2];
    if (cmd === 'REQ' && arg) {
      const name = arg.split('?')[0]!.trim().toLowerCase();
      parts.push((c) => c.requestHeader(name) ?? '');
      dynamic = true;
    } else if (COMMANDS[cmd] && arg === undefined) {
      parts.push(COMMANDS[cmd]);
      dynamic = true;
    } else {
      sink?.warn(ConfigCode.UnsupportedField, field, `header value command %${cmd}% is not supported; kept as text`);
      parts.push(m[0]);
    }
  }
  if (last < raw.length) parts.push(raw.slice(last));
  if (!dynamic) return parts.join('');
  if (parts.length === 1) return parts[0]!;
  return (c) => {
    let s = '';
    for (const p of parts) s += typeof p === 'string' ? p : p(c);
    return s;
  };
}

export function compileHeaderMutation(
  add: HeaderValueOption[] | undefined,
  remove: string[] | undefined,
  sink: IssueSink,
  base: string,
  addField: string,
  removeField: string,
): HeaderMutation {
  if ((!add || add.length === 0) && (!remove || remove.length === 0)) return NO_MUTATION;
  const ops: AddOp[] = [];
  (add ?? []).forEach((o, i) => {
    const key = o.header?.key;
    if (typeof key !== 'string' || key === '') {
      sink.error(ConfigCode.InvalidField, base + ptr(addField, i, 'header', 'key'), 'header key is empty');
      return;
    }
    let action: Action;
    if (o.appendAction !== undefined) {
      action = typeof o.appendAction === 'number' ? ACTIONS[o.appendAction] ?? 'APPEND_IF_EXISTS_OR_ADD' : (ACTIONS as readonly string[]).includes(o.appendAction) ? o.appendAction : 'APPEND_IF_EXISTS_OR_ADD';
    } else if (o.append === false) {
      action = 'OVERWRITE_IF_EXISTS_OR_ADD';
    } else {
      action = 'APPEND_IF_EXISTS_OR_ADD';
    }
    const raw = o.header?.value ?? (o.header?.rawValue ? Buffer.from(o.header.rawValue, 'base64').toString('latin1') : '');
    ops.push({ name: key.toLowerCase(), value: compileHeaderValue(raw, sink, base + ptr(addField, i, 'header', 'value')), action, keepEmpty: o.keepEmptyValue === true });
  });
  const removals: string[] = [];
  (remove ?? []).forEach((name, i) => {
    const n = String(name).toLowerCase();
    if (n.startsWith(':') || n === 'host') {
      sink.error(ConfigCode.InvalidField, base + ptr(removeField, i), `"${name}" cannot be removed`);
      return;
    }
    removals.push(n);
  });
  return { add: ops, remove: removals };
}

/** Applies one level's edits: removals first, then additions (Envoy's order within a level). */
export function applyHeaderMutation(m: HeaderMutation, headers: HeaderMap, ctx: HeaderFormatContext): void {
  for (const name of m.remove) delete headers[name];
  for (const op of m.add) {
    const value = typeof op.value === 'string' ? op.value : op.value(ctx);
    if (value === '' && !op.keepEmpty) continue;
    const name = op.name === ':authority' ? 'host' : op.name;
    const existing = headers[name];
    switch (op.action) {
      case 'APPEND_IF_EXISTS_OR_ADD':
        if (existing === undefined) headers[name] = value;
        else if (name === 'host') headers[name] = value;
        else headers[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
        break;
      case 'ADD_IF_ABSENT':
        if (existing === undefined) headers[name] = value;
        break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        headers[name] = value;
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (existing !== undefined) headers[name] = value;
        break;
    }
  }
}

export function isEmptyMutation(m: HeaderMutation): boolean {
  return m.add.length === 0 && m.remove.length === 0;
}
