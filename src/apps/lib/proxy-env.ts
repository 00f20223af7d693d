// Which HTTP proxy (if any) a request should use, from HTTP_PROXY/HTTPS_PROXY/ALL_PROXY and NO_PROXY, as curl and Python requests read them.

import { isIP } from 'node:net';
import type { Env } from './serve.js';

/** The proxy URL for `target`, or undefined when the request goes direct. */
export function proxyFor(target: URL, env: Env): URL | undefined {
  const scheme = target.protocol.replace(/:$/, '');
  const raw =
    scheme === 'https'
      ? env.https_proxy ?? env.HTTPS_PROXY ?? env.all_proxy ?? env.ALL_PROXY
      : env.http_proxy ?? env.HTTP_PROXY ?? env.all_proxy ?? env.ALL_PROXY;
  if (!raw || !raw.trim()) return undefined;
  const noProxy = env.no_proxy ?? env.NO_PROXY;
  if (noProxy && bypassesProxy(target, noProxy)) return undefined;
  return parseProxyUrl(raw.trim());
}

/** Accepts `host:port` as well as `http://host:port`, like curl does. */
export function parseProxyUrl(raw: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  return new URL(withScheme);
}

/**
 * NO_PROXY matching: `*` matches everything; entries are host names (a leading
 * `.` or `*.` also matches subdomains, and a bare name matches itself and its
 * subdomains), IP addresses, IPv4 CIDR blocks, each optionally with `:port`.
 */
export function bypassesProxy(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (const rawEntry of noProxy.split(/[\s,]+/)) {
    let entry = rawEntry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    let entryPort: string | undefined;
    const portMatch = /^(.*[^:]):(\d+)$/.exec(entry);
    if (portMatch && !entry.startsWith('[') && isIP(entry) !== 6) {
      entry = portMatch[1]!;
      entryPort = portMatch[2];
    } else {
      const v6 = /^\[(.+)\](?::(\d+))?$/.exec(entry);
      if (v6) {
        entry = v6[1]!;
        entryPort = v6[2];
      }
    }
    if (entryPort && entryPort !== port) continue;
    if (entry.includes('/')) {
      if (inCidr(host, entry)) return true;
      continue;
    }
    entry = entry.replace(/^\*?\./, '');
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!base || isIP(base) !== 4 || isIP(ip) !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const toInt = (a: string): number => a.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}
