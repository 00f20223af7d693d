// Fetches and caches the JWKS of RequestAuthentication rules (`jwksUri`, or the issuer's OpenID discovery document),
// as istiod does, so proxies get the keys inline and never reach out themselves. A push never waits on the network:
// until a JWKS arrives (or while its server is down) the translation inlines a key set that fails every token,
// so a request with a token gets 401 rather than slipping through; each new JWKS triggers a push.

import { EventEmitter } from 'node:events';

export interface JwksSource {
  /** The JWKS JSON for a `jwksUri`, or for an issuer by OpenID discovery; undefined until fetched. */
  jwks(jwksUri: string | undefined, issuer: string | undefined): string | undefined;
}

export interface JwksResolverOptions {
  /** How often fetched key sets are refreshed (Istio's default: 20 minutes). */
  refreshMs?: number;
  /** Per-request timeout (RequestAuthentication's `timeout`, default 5 s). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

interface Entry {
  text: string | undefined;
  fetching: boolean;
  timer: NodeJS.Timeout | undefined;
  failures: number;
}

export class JwksResolver extends EventEmitter implements JwksSource {
  private readonly entries = new Map<string, Entry>();
  private readonly refreshMs: number;
  private readonly timeoutMs: number;
  private readonly log: (line: string) => void;
  private closed = false;

  constructor(options: JwksResolverOptions = {}) {
    super();
    this.refreshMs = options.refreshMs ?? 20 * 60_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.log = options.log ?? ((l) => process.stderr.write(l + '\n'));
  }

  jwks(jwksUri: string | undefined, issuer: string | undefined): string | undefined {
    const key = jwksUri ? `uri:${jwksUri}` : issuer ? `issuer:${issuer}` : undefined;
    if (!key || this.closed) return undefined;
    let e = this.entries.get(key);
    if (!e) {
      e = { text: undefined, fetching: false, timer: undefined, failures: 0 };
      this.entries.set(key, e);
      void this.fetch(key, e, jwksUri, issuer);
    }
    return e.text;
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
    this.removeAllListeners();
  }

  private async fetch(key: string, e: Entry, jwksUri: string | undefined, issuer: string | undefined): Promise<void> {
    if (e.fetching || this.closed) return;
    e.fetching = true;
    let next = this.refreshMs;
    try {
      const uri = jwksUri ?? (await this.discover(issuer!));
      const text = await this.get(uri);
      const parsed = JSON.parse(text) as { keys?: unknown };
      if (!Array.isArray(parsed.keys)) throw new Error('the document has no "keys" array');
      e.failures = 0;
      if (text !== e.text) {
        e.text = text;
        this.emit('change', key);
      }
    } catch (err) {
      e.failures++;
      // Retry soon, backing off to a minute; the last good key set stays in use meanwhile.
      next = Math.min(60_000, 500 * 2 ** Math.min(e.failures, 7));
      this.log(`jwks: cannot fetch ${jwksUri ?? `the keys of issuer ${issuer}`}: ${(err as Error).message}; retrying in ${next} ms`);
    } finally {
      e.fetching = false;
    }
    if (this.closed) return;
    e.timer = setTimeout(() => void this.fetch(key, e, jwksUri, issuer), next);
    e.timer.unref();
  }

  private async discover(issuer: string): Promise<string> {
    const doc = JSON.parse(await this.get(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)) as { jwks_uri?: string };
    if (!doc.jwks_uri) throw new Error(`the OpenID configuration of ${issuer} names no jwks_uri`);
    return doc.jwks_uri;
  }

  private async get(uri: string): Promise<string> {
    const res = await fetch(uri, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok) throw new Error(`${uri} answered ${res.status}`);
    return res.text();
  }
}
