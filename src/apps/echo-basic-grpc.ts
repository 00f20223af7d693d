// echo-basic's gRPC mode (GRPC_ECHO_SERVER set): the conformance suite's GrpcEcho service
// (gateway_api_conformance.echo_basic.grpcecho), whose Echo and EchoTwo answer with what arrived — the method, the
// metadata, the :authority — and where (namespace, ingress, service, pod); EchoThree is left unimplemented on purpose.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { INamespace } from 'protobufjs';
import type { Env, RunningApp } from './lib/serve.js';

export const GRPC_ECHO_PACKAGE = 'gateway_api_conformance.echo_basic.grpcecho';
export const GRPC_ECHO_SERVICE = `${GRPC_ECHO_PACKAGE}.GrpcEcho`;

const str = (id: number) => ({ type: 'string', id });
/** A unary method of EchoRequest → EchoResponse (protobufjs's type asks for a comment). */
const unary = { requestType: 'EchoRequest', responseType: 'EchoResponse', comment: '' };

/** The service's schema (the wire contract of upstream's grpcecho.proto), as a protobufjs namespace. */
const SCHEMA: INamespace = {
  nested: {
    gateway_api_conformance: {
      nested: {
        echo_basic: {
          nested: {
            grpcecho: {
              nested: {
                Header: { fields: { key: str(1), value: str(2) } },
                Context: { fields: { namespace: str(1), ingress: str(2), service_name: str(3), pod: str(4) } },
                TLSAssertions: { fields: { version: str(1), negotiated_protocol: str(2), server_name: str(3), cipher_suite: str(4), peer_certificates: { rule: 'repeated', type: 'string', id: 5 } } },
                Assertions: {
                  fields: {
                    fully_qualified_method: str(1),
                    headers: { rule: 'repeated', type: 'Header', id: 2 },
                    authority: str(3),
                    context: { type: 'Context', id: 4 },
                    tls_assertions: { type: 'TLSAssertions', id: 5 },
                  },
                },
                EchoRequest: { fields: {} },
                EchoResponse: { fields: { assertions: { type: 'Assertions', id: 1 }, request: { type: 'EchoRequest', id: 2 } } },
                GrpcEcho: {
                  methods: {
                    Echo: unary,
                    EchoTwo: unary,
                    EchoThree: unary,
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

export interface EchoAssertions {
  fully_qualified_method: string;
  headers: Array<{ key: string; value: string }>;
  authority: string;
  context: { namespace: string; ingress: string; service_name: string; pod: string };
}

let cached: grpc.ServiceClientConstructor | undefined;

/** GrpcEcho: `.service` for servers, `new Ctor(address, credentials)` for clients. */
export function grpcEchoService(): grpc.ServiceClientConstructor {
  if (cached) return cached;
  const definition = protoLoader.fromJSON(SCHEMA, { keepCase: true, defaults: true });
  cached = (grpc.loadPackageDefinition(definition) as unknown as { gateway_api_conformance: { echo_basic: { grpcecho: { GrpcEcho: grpc.ServiceClientConstructor } } } }).gateway_api_conformance.echo_basic.grpcecho.GrpcEcho;
  return cached;
}

/** Serves GrpcEcho in plaintext (h2c) on `port`. */
export async function startGrpcEcho(env: Env, host: string, port: number): Promise<RunningApp> {
  const context = { namespace: env.NAMESPACE ?? '', ingress: env.INGRESS_NAME ?? '', service_name: env.SERVICE_NAME ?? '', pod: env.POD_NAME ?? '' };
  const echo = (method: string): grpc.handleUnaryCall<unknown, { assertions: EchoAssertions }> => (call, callback) => {
    const headers = Object.entries(call.metadata.getMap()).map(([key, value]) => ({ key, value: String(value) }));
    const authority = call.getHost();
    process.stdout.write(`Received over plaintext: ${GRPC_ECHO_SERVICE}/${method}\n`);
    callback(null, { assertions: { fully_qualified_method: `/${GRPC_ECHO_SERVICE}/${method}`, headers: [{ key: ':authority', value: authority }, ...headers], authority, context } });
  };
  const server = new grpc.Server();
  server.addService(grpcEchoService().service, { Echo: echo('Echo'), EchoTwo: echo('EchoTwo') });
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { url: `http://${host}:${bound}`, host, port: bound, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}
