// Route hash policies (header, cookie, source IP, query parameter) combined into the key consistent-hash balancers use.

import type { CompiledHashPolicy } from '../config/route-action.js';
import { applyRegexRewrite } from '../config/string-matcher.js';
import { combineHash, murmur3 } from '../upstream/hash.js';
import type { HttpStream } from './http-stream.js';

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

/** The request's hash, or undefined when no policy produced a value (the balancer then picks at random). */
export function computeHash(stream: HttpStream, policies: readonly CompiledHashPolicy[]): number | undefined {
  let hash: number | undefined;
  for (const p of policies) {
    let v: string | undefined;
    switch (p.kind) {
      case 'header':
        v = stream.header(p.name);
        if (v !== undefined && p.rewrite) v = applyRegexRewrite(p.rewrite, v);
        break;
      case 'cookie':
        v = cookieValue(stream.header('cookie'), p.name);
        if (v === undefined && p.ttlMs !== undefined) {
          // Envoy generates the cookie from the downstream address so the client sticks from now on.
          v = murmur3(`${stream.conn.remoteAddress}:${stream.conn.remotePort}:${stream.startTimeMs}`).toString(16).padStart(8, '0');
          let cookie = `${p.name}="${v}"`;
          if (p.ttlMs > 0) cookie += `; Max-Age=${Math.floor(p.ttlMs / 1000)}`;
          if (p.path) cookie += `; Path=${p.path}`;
          cookie += p.attributes + '; HttpOnly';
          const extra = (stream.extraResponseHeaders ??= {});
          const prev = extra['set-cookie'];
          extra['set-cookie'] = prev === undefined ? cookie : Array.isArray(prev) ? [...prev, cookie] : [prev, cookie];
        }
        break;
      case 'sourceIp':
        v = stream.conn.remoteAddress || undefined;
        break;
      case 'query':
        v = stream.query ? stream.queryParams().get(p.name) ?? undefined : undefined;
        break;
    }
    if (v !== undefined) {
      hash = combineHash(hash, murmur3(v));
      if (p.terminal) break;
    }
  }
  return hash;
}
