// Who may use the console: nobody but local callers when bound to loopback, token holders when bound elsewhere.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { ApiError } from './errors.js';

export const SESSION_COOKIE = 'trellis_console_session';
const SESSION_TTL_MS = 24 * 3600 * 1000;

/** 127.0.0.0/8, ::1 and `localhost`: addresses no other machine can reach. `0.0.0.0` and `::` are every address. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** The host part of a Host header (`[::1]:20001` → `::1`). */
function hostOf(header: string): string {
  if (header.startsWith('[')) return header.slice(1, header.indexOf(']'));
  const colon = header.lastIndexOf(':');
  return colon > 0 && header.indexOf(':') === colon ? header.slice(0, colon) : header;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
  }
  return out;
}

export interface AuthOptions {
  /** The address the server is bound to: it decides whether a token is required. */
  bindHost: string;
  /** The token; one is generated when a token is required and none is given. */
  token?: string;
}

export class Auth {
  readonly required: boolean;
  readonly token: string;
  private readonly tokenDigest: Buffer;
  private readonly sessions = new Map<string, number>();

  constructor(options: AuthOptions) {
    this.required = !isLoopbackAddress(options.bindHost);
    this.token = options.token ?? randomBytes(24).toString('base64url');
    this.tokenDigest = digest(this.token);
  }

  tokenMatches(candidate: string): boolean {
    return timingSafeEqual(digest(candidate), this.tokenDigest);
  }

  /** A new session for a caller that proved it has the token; the id goes into an HttpOnly cookie. */
  newSession(): string {
    const id = randomBytes(24).toString('base64url');
    this.sessions.set(id, Date.now() + SESSION_TTL_MS);
    return id;
  }

  endSession(req: IncomingMessage): void {
    const id = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (id) this.sessions.delete(id);
  }

  /** How the caller is authenticated: bearer token, session cookie, or none. */
  identify(req: IncomingMessage): 'bearer' | 'cookie' | undefined {
    const authz = req.headers.authorization;
    if (authz?.startsWith('Bearer ') && this.tokenMatches(authz.slice(7).trim())) return 'bearer';
    const id = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (id) {
      const expires = this.sessions.get(id);
      if (expires !== undefined && expires > Date.now()) return 'cookie';
      this.sessions.delete(id);
    }
    return undefined;
  }

  /**
   * Checks every API call. On loopback no token is needed, but the Host header must be a loopback name too, so a
   * web page on another site cannot reach the console through DNS rebinding.
   */
  check(req: IncomingMessage): void {
    if (!this.required) {
      if (!isLoopbackAddress(hostOf(req.headers.host ?? ''))) throw new ApiError('HOST_NOT_ALLOWED');
      return;
    }
    if (!this.identify(req)) throw new ApiError('UNAUTHORIZED');
  }

  /**
   * Extra checks for writes made by a browser (cookie or no credentials): the Origin, when sent, must be this
   * console, and the body must be JSON or YAML (types a cross-site form cannot send without a CORS preflight,
   * which this server never grants).
   */
  checkWrite(req: IncomingMessage): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml'].includes(type)) throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
    if (this.identify(req) === 'bearer') return;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let originHost: string;
      try {
        originHost = new URL(origin).host;
      } catch {
        throw new ApiError('CROSS_SITE');
      }
      if (originHost !== req.headers.host) throw new ApiError('CROSS_SITE');
    } else if (origin === 'null') {
      throw new ApiError('CROSS_SITE');
    }
  }

  sessionCookie(id: string): string {
    return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`;
  }

  clearCookie(): string {
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }
}
