// Which client stack a process uses for xDS and the CA, loaded on demand so a sidecar only ever loads its own: 'lean'
// (node:http2 + the generated codec, the default) or 'grpc-js' (@grpc/grpc-js + protobufjs reflection), chosen by
// TRELLIS_XDS_CLIENT for comparisons (bench/sidecar.mjs measures both).

import type { ClientStack, ClientStackName } from './grpc-channel.js';

const loaded = new Map<ClientStackName, Promise<ClientStack>>();

/** The stack TRELLIS_XDS_CLIENT names, 'lean' when unset. */
export function defaultStackName(): ClientStackName {
  const v = process.env.TRELLIS_XDS_CLIENT;
  if (v === undefined || v === '' || v === 'lean') return 'lean';
  if (v === 'grpc-js') return 'grpc-js';
  throw new Error(`TRELLIS_XDS_CLIENT must be "lean" or "grpc-js", not "${v}"`);
}

export function clientStack(name: ClientStackName = defaultStackName()): Promise<ClientStack> {
  let p = loaded.get(name);
  if (!p) {
    p = name === 'lean' ? leanStack() : grpcJsStack();
    loaded.set(name, p);
  }
  return p;
}

async function leanStack(): Promise<ClientStack> {
  const [{ Http2Channel }, { loadGeneratedCodec }] = await Promise.all([import('./http2-channel.js'), import('./codec-generated.js')]);
  let codec = await loadGeneratedCodec();
  if (typeof codec === 'string') {
    // Still correct, only heavier: the reflection codec reads the same types.
    const why = codec;
    process.emitWarning(`the generated sidecar codec is ${why}: using protobufjs reflection`, { code: 'TRELLIS_CODEC' });
    codec = (await import('./codec-reflection.js')).reflectionCodec(`reflection (generated codec ${why})`);
  }
  const c = codec;
  return { name: 'lean', codec: c, channel: (address, o) => new Http2Channel(address, o) };
}

async function grpcJsStack(): Promise<ClientStack> {
  const [{ GrpcJsChannel }, { reflectionCodec }] = await Promise.all([import('./grpc-js-channel.js'), import('./codec-reflection.js')]);
  const codec = reflectionCodec();
  return { name: 'grpc-js', codec, channel: (address, o) => new GrpcJsChannel(address, o) };
}
