// Small server-side HTTP helpers shared by the sample apps: reading bodies and writing JSON/text answers.

import type { IncomingMessage, ServerResponse } from 'node:http';

/** Reads the whole request body, failing past `limit` bytes so a client cannot exhaust memory. */
export function readBody(req: IncomingMessage, limit = 10 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`request body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Writes a complete response with an explicit Content-Length. */
export function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  contentType: string,
  headers: Record<string, string | string[]> = {},
): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': String(buf.length) });
  res.end(res.req?.method === 'HEAD' ? undefined : buf);
}

/** Writes a JSON answer (compact, as most upstream services do). */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(value), 'application/json', headers);
}

/** Splits a request URL into path and query without trusting the Host header. */
export function splitUrl(rawUrl: string | undefined): { path: string; query: URLSearchParams } {
  const u = new URL(rawUrl ?? '/', 'http://localhost');
  return { path: u.pathname, query: u.searchParams };
}
