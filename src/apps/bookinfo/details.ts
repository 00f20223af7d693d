// Bookinfo's details service (stands in for examples-bookinfo-details-v1): book facts by product id, as upstream answers them.

import http from 'node:http';
import { sendJson, splitUrl } from '../lib/http-util.js';
import { bindAddress, isMain, listen, programPort, runUntilSignal, type RunningApp, type StartOptions } from '../lib/serve.js';

/** The fixed record upstream's details v1 returns for any numeric id. */
export function bookDetails(id: number): Record<string, unknown> {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

export function createDetailsServer(): http.Server {
  return http.createServer((req, res) => {
    const { path } = splitUrl(req.url);
    if (path === '/health') {
      sendJson(res, 200, { status: 'Details is healthy' });
      return;
    }
    if (path === '/details' || path.startsWith('/details/')) {
      const last = path.split('/').filter(Boolean).pop() ?? '';
      if (!/^[+-]?\d+$/.test(last)) {
        sendJson(res, 400, { error: 'please provide numeric product id' });
        return;
      }
      sendJson(res, 200, bookDetails(Number(last)));
      return;
    }
    sendJson(res, 404, { error: 'Not Found' });
  });
}

export function startDetails(opts: StartOptions = {}): Promise<RunningApp> {
  const env = opts.env ?? process.env;
  return listen(createDetailsServer(), opts.port ?? 9080, opts.host ?? bindAddress(env));
}

if (isMain(import.meta.url)) {
  runUntilSignal('details', async () => {
    const app = await startDetails({ port: programPort(process.argv.slice(2), process.env, 9080) });
    return { close: app.close, describe: `listening on ${app.host}:${app.port}` };
  });
}
