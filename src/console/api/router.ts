// A table of API routes: method, path pattern and what each needs (a write, the Istio API, metrics).

import type { IncomingMessage } from 'node:http';
import type { MeshSource, MetricsSource } from '../sources.js';
import type { Auth } from './auth.js';

export interface ConsoleContext {
  mesh: MeshSource;
  metrics?: MetricsSource;
  viewOnlyMode: boolean;
  istioApiEnabled: boolean;
  auth: Auth;
}

export interface ApiRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  raw: IncomingMessage;
  body(): Promise<string>;
}

const RAW = Symbol('raw response');

/** A handler returns JSON-able data, or a full response (made by `raw`) when it must set headers (cookies). */
export interface RawResponse {
  [RAW]: true;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export function raw(status: number, body: unknown, headers: Record<string, string> = {}): RawResponse {
  return { [RAW]: true, status, headers, body };
}

export function isRaw(x: unknown): x is RawResponse {
  return !!x && typeof x === 'object' && RAW in x;
}

export type Handler = (req: ApiRequest, ctx: ConsoleContext) => Promise<unknown>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  pattern: string;
  /** Changes the mesh: refused in view-only mode and checked for cross-site use. */
  write?: boolean;
  /** Needs the control plane's API (unavailable with istio_api_enabled: false). */
  istioApi?: boolean;
  /** Needs Prometheus. */
  metrics?: boolean;
  /** Answered without authentication (status and login). */
  public?: boolean;
  handler: Handler;
}

interface Compiled extends Route {
  regex: RegExp;
  names: string[];
}

export class Router {
  private readonly routes: Compiled[] = [];

  add(...routes: Route[]): this {
    for (const r of routes) {
      const names: string[] = [];
      const source = r.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:([a-zA-Z]+)/g, (_m, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      this.routes.push({ ...r, regex: new RegExp(`^${source}$`), names });
    }
    return this;
  }

  /** The route for a request, or why there is none (`405` when the path exists with another method). */
  match(method: string, path: string): { route: Compiled; params: Record<string, string> } | 'not-found' | 'method-not-allowed' {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.regex.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
      return { route: r, params };
    }
    return pathMatched ? 'method-not-allowed' : 'not-found';
  }

  list(): Array<Pick<Route, 'method' | 'pattern' | 'write'>> {
    return this.routes.map(({ method, pattern, write }) => ({ method, pattern, ...(write ? { write } : {}) }));
  }
}
