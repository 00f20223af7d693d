// gRPC calls to a Gateway and what the suite expects of them: the status code, and — from the echo service's answer — the
// method that reached the backend and which backend (pod prefix) it was. Like HTTP expectations, they must hold for
// several calls in a row before routing counts as settled.

import * as grpc from '@grpc/grpc-js';
import { GRPC_ECHO_SERVICE, grpcEchoService, type EchoAssertions } from '../../apps/echo-basic-grpc.js';
import type { Consistency } from './expect.js';

export interface GrpcExpectation {
  /** `Echo`, `EchoTwo`, `EchoThree`, or a full path `/<service>/<method>`. */
  method: string;
  authority?: string;
  metadata?: Record<string, string>;
  /** gRPC status (OK by default). */
  code?: grpc.status;
  /** The backend that must answer: its pods' name prefix. */
  backend?: string;
}

/** One unary call through `address:port`; the status and, when OK, the echo's assertions. */
export function grpcCall(address: string, port: number, e: GrpcExpectation): Promise<{ code: grpc.status; details: string; assertions?: EchoAssertions }> {
  const service = grpcEchoService().service;
  const echo = service.Echo!;
  const path = e.method.startsWith('/') ? e.method : `/${GRPC_ECHO_SERVICE}/${e.method}`;
  const client = new grpc.Client(`${address}:${port}`, grpc.credentials.createInsecure(), e.authority ? { 'grpc.default_authority': e.authority } : {});
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(e.metadata ?? {})) md.set(k.toLowerCase(), v);
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, echo.requestSerialize, echo.responseDeserialize as (b: Buffer) => { assertions: EchoAssertions }, {}, md, { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      if (err) resolve({ code: err.code ?? grpc.status.UNKNOWN, details: err.details ?? err.message });
      else resolve({ code: grpc.status.OK, details: '', assertions: res?.assertions });
    });
  });
}

function mismatch(e: GrpcExpectation, r: Awaited<ReturnType<typeof grpcCall>>): string | undefined {
  const code = e.code ?? grpc.status.OK;
  if (r.code !== code) return `gRPC status ${grpc.status[r.code]} (${r.details}), expected ${grpc.status[code]}`;
  if (code !== grpc.status.OK) return undefined;
  const path = e.method.startsWith('/') ? e.method : `/${GRPC_ECHO_SERVICE}/${e.method}`;
  if (r.assertions?.fully_qualified_method !== path) return `backend ran ${r.assertions?.fully_qualified_method}, expected ${path}`;
  if (e.backend && !r.assertions.context.pod.startsWith(e.backend)) return `served by pod ${r.assertions.context.pod}, expected a pod of ${e.backend}`;
  return undefined;
}

/** Calls until the expectation holds `consecutive` times in a row; throws the last mismatch after `maxMs`. */
export async function expectGrpcEventually(address: string, port: number, e: GrpcExpectation, c: Consistency): Promise<void> {
  const deadline = Date.now() + c.maxMs;
  let inARow = 0;
  let last = '';
  while (inARow < c.consecutive) {
    const problem = mismatch(e, await grpcCall(address, port, e));
    if (problem === undefined) inARow++;
    else {
      inARow = 0;
      last = problem;
      if (Date.now() > deadline) throw new Error(`gRPC ${e.method}${e.authority ? ` (${e.authority})` : ''}: ${last}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
