// productpage's login session: a signed `session` cookie holding the user name, like upstream's Flask session.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_COOKIE = 'session';

/**
 * Every productpage replica must accept the others' cookies, so the default key is
 * fixed (as upstream's is); set SESSION_SECRET to use your own.
 */
export const DEFAULT_SESSION_SECRET = 'trellis-bookinfo-productpage';

function sign(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

/** The cookie value for a logged-in user. */
export function encodeSession(user: string, secret: string): string {
  const payload = Buffer.from(JSON.stringify({ user }), 'utf8').toString('base64url');
  return `${payload}.${sign(payload, secret)}`;
}

/** The user in a valid session cookie, or undefined (no cookie, bad signature, garbage). */
export function decodeSession(value: string, secret: string): string | undefined {
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const payload = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(sign(payload, secret));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const user = (parsed as { user?: unknown }).user;
    return typeof user === 'string' ? user : undefined;
  } catch {
    return undefined;
  }
}

/** Cookie name → value from the request's Cookie header(s). */
export function parseCookies(headers: IncomingHttpHeaders): Map<string, string> {
  const out = new Map<string, string>();
  const raw = headers.cookie;
  if (!raw) return out;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

/** The logged-in user of a request, if any. */
export function sessionUser(headers: IncomingHttpHeaders, secret: string): string | undefined {
  const value = parseCookies(headers).get(SESSION_COOKIE);
  return value ? decodeSession(value, secret) : undefined;
}
