// The ext-authz example server (stands in for registry.istio.io/testing/ext-authz): allows requests carrying `x-ext-authz: allow`, over Envoy's HTTP and gRPC v3 protocols.

import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { shutdownGrpcServer } from '../grpc-shutdown.js';
import { readBody } from './lib/http-util.js';
import { bindAddress, isMain, listen, parsePort, runUntilSignal, type Env, type StartOptions } from './lib/serve.js';
import { authorizationService, type CheckRequest, type CheckResponse, type HeaderValueOption } from './ext-authz-proto.js';

export const CHECK_HEADER = 'x-ext-authz';
export const ALLOWED_VALUE = 'allow';
export const RESULT_HEADER = 'x-ext-authz-check-result';
export const RECEIVED_HEADER = 'x-ext-authz-check-received';
export const OVERRIDE_HEADER = 'x-ext-authz-additional-header-override';
export const OVERRIDE_GRPC_VALUE = 'grpc-additional-header-override-value';
export const DENY_BODY = `denied by ext_authz for not found header \`${CHECK_HEADER}: ${ALLOWED_VALUE}\` in the request`;

/** gRPC status codes used in CheckResponse.status. */
const GRPC_OK = 0;
const GRPC_PERMISSION_DENIED = 7;
/** Envoy rejects headers over 60 KiB, so long request descriptions are elided as upstream does. */
const MAX_RECEIVED = 60_000;

export interface ExtAuthzOptions extends StartOptions {
  /** HTTP check port (upstream flag -http, default 8000); `port` is an alias. */
  httpPort?: number;
  /** gRPC check port (upstream flag -grpc, default 9000). */
  grpcPort?: number;
  /** gRPC only: allow callers whose principal ends with `/sa/<name>` (upstream flag -allow_service_account, default "a"). */
  allowServiceAccount?: string;
}

export interface RunningExtAuthz {
  /** HTTP base URL. */
  url: string;
  host: string;
  httpPort: number;
  grpcPort: number;
  /** `host:port` for a gRPC client. */
  grpcAddress: string;
  close(): Promise<void>;
}

function notTooLong(s: string): string {
  return s.length > MAX_RECEIVED ? '<too-long>' : s;
}

/** Header values cannot carry line breaks; Go's server turns them into spaces too. */
function headerSafe(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

export function createHttpCheckServer(quiet: boolean): http.Server {
  return http.createServer((req, res) => {
    readBody(req, 10 * 1024 * 1024).then(
      (body) => {
        const headers = Object.entries(req.headers)
          .map(([k, v]) => `${k}:[${Array.isArray(v) ? v.join(' ') : v ?? ''}]`)
          .join(' ');
        const line = `${req.method} ${req.headers.host ?? ''}${req.url}, headers: map[${headers}], body: [${notTooLong(body.toString('utf8'))}]`;
        const allowed = req.headers[CHECK_HEADER] === ALLOWED_VALUE;
        if (!quiet) log(`[HTTP][${allowed ? 'allowed' : 'denied'}]: ${line}`);
        const override = req.headers[OVERRIDE_HEADER];
        const out: Record<string, string> = {
          [RESULT_HEADER]: allowed ? 'allowed' : 'denied',
          [OVERRIDE_HEADER]: typeof override === 'string' ? override : '',
          [RECEIVED_HEADER]: headerSafe(notTooLong(line)),
        };
        if (allowed) {
          res.writeHead(200, { ...out, 'content-length': '0' });
          res.end();
        } else {
          res.writeHead(403, { ...out, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(DENY_BODY)) });
          res.end(DENY_BODY);
        }
      },
      () => {
        res.writeHead(413);
        res.end();
      },
    );
  });
}

/** The decision and answer for a gRPC CheckRequest, exactly as upstream builds it. */
export function checkResponse(request: CheckRequest, allowServiceAccount: string): CheckResponse {
  const attrs = request.attributes ?? {};
  const headers = attrs.request?.http?.headers ?? {};
  const principal = attrs.source?.principal ?? '';
  const allow = CHECK_HEADER in headers ? headers[CHECK_HEADER] === ALLOWED_VALUE : principal.endsWith(`/sa/${allowServiceAccount}`);
  const received = headerSafe(notTooLong(JSON.stringify(attrs)));
  const common = (result: string): HeaderValueOption[] => [
    { header: { key: RESULT_HEADER, value: result } },
    { header: { key: RECEIVED_HEADER, value: received } },
    { header: { key: OVERRIDE_HEADER, value: OVERRIDE_GRPC_VALUE } },
  ];
  if (allow) return { status: { code: GRPC_OK }, ok_response: { headers: common('allowed') } };
  return {
    status: { code: GRPC_PERMISSION_DENIED },
    denied_response: { status: { code: 'Forbidden' }, headers: common('denied'), body: DENY_BODY },
  };
}

function startGrpc(host: string, port: number, allowServiceAccount: string, quiet: boolean): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(authorizationService().service, {
    Check: (call: grpc.ServerUnaryCall<CheckRequest, CheckResponse>, callback: grpc.sendUnaryData<CheckResponse>) => {
      const response = checkResponse(call.request, allowServiceAccount);
      if (!quiet) {
        const h = call.request.attributes?.request?.http;
        log(`[gRPCv3][${response.ok_response ? 'allowed' : 'denied'}]: ${h?.host ?? ''}${h?.path ?? ''}`);
      }
      callback(null, response);
    },
  });
  const bindHost = host.includes(':') ? `[${host}]` : host;
  return new Promise((resolve, reject) => {
    server.bindAsync(`${bindHost}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(err);
      else resolve({ server, port: bound });
    });
  });
}

export async function startExtAuthz(opts: ExtAuthzOptions = {}): Promise<RunningExtAuthz> {
  const env: Env = opts.env ?? process.env;
  const host = opts.host ?? bindAddress(env);
  const quiet = env.EXT_AUTHZ_QUIET === 'true';
  const allowSa = opts.allowServiceAccount ?? 'a';
  const httpApp = await listen(createHttpCheckServer(quiet), opts.httpPort ?? opts.port ?? 8000, host);
  let grpcSide: { server: grpc.Server; port: number };
  try {
    grpcSide = await startGrpc(host, opts.grpcPort ?? 9000, allowSa, quiet);
  } catch (err) {
    await httpApp.close();
    throw err;
  }
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: httpApp.url,
    host,
    httpPort: httpApp.port,
    grpcPort: grpcSide.port,
    grpcAddress: `${urlHost.includes(':') ? `[${urlHost}]` : urlHost}:${grpcSide.port}`,
    close: async () => {
      await Promise.all([
        httpApp.close(),
        shutdownGrpcServer(grpcSide.server, 500),
      ]);
    },
  };
}

/** Go-style flags: `-http 8000`, `--grpc=9000`, `-allow_service_account a`. */
export function parseFlags(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z_]+)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) continue;
    const value = m[2] ?? argv[++i];
    if (value !== undefined) out[m[1]!] = value;
  }
  return out;
}

if (isMain(import.meta.url)) {
  const flags = parseFlags(process.argv.slice(2));
  runUntilSignal('ext-authz', async () => {
    const app = await startExtAuthz({
      httpPort: parsePort(flags.http) ?? parsePort(process.env.HTTP_PORT) ?? 8000,
      grpcPort: parsePort(flags.grpc) ?? parsePort(process.env.GRPC_PORT) ?? 9000,
      allowServiceAccount: flags.allow_service_account ?? 'a',
    });
    return { close: app.close, describe: `HTTP on ${app.host}:${app.httpPort}, gRPC on ${app.host}:${app.grpcPort}` };
  });
}
