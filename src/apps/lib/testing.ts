// Helpers for the apps' tests: a request function that never uses the environment's proxy, and recording servers.

import http from 'node:http';
import { httpRequest, type HttpResponse } from './http-client.js';
import { readBody } from './http-util.js';
import { listen, type RunningApp } from './serve.js';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** GET/POST straight to a test server (the developer's own HTTP_PROXY must not interfere). */
export function call(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  return httpRequest({ url, proxy: null, timeoutMs: opts.timeoutMs ?? 10_000, ...opts });
}

export async function callJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const res = await call(url, { headers });
  return { status: res.status, json: JSON.parse(res.body.toString('utf8')) };
}

/**
 * A server that records every request and answers with `respond` (default: 200 `{}`);
 * stands in for a peer service or a proxy.
 */
export async function recordingServer(
  respond: (req: Recorded, res: http.ServerResponse) => void | Promise<void> = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  },
): Promise<RunningApp & { requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = http.createServer(async (req, res) => {
    const rec: Recorded = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: (await readBody(req)).toString('utf8'),
    };
    requests.push(rec);
    try {
      await respond(rec, res);
    } catch {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    }
  });
  const app = await listen(server, 0, '127.0.0.1');
  return { ...app, requests };
}
