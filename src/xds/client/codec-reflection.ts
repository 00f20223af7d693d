// The XdsCodec over protobufjs reflection (src/xds/codec.ts): Envoy's types from the descriptor, and the CA's
// messages from ca-messages.ts. What grpc-js-based clients use, and the sidecar's fallback when the generated codec
// is missing or was made from other protos.

import protobuf from 'protobufjs';
import { caMessagesRoot } from '../../ca/ca-protocol.js';
import { decodeToJson, encodeJson } from '../codec.js';
import type { Json, XdsCodec } from './xds-codec.js';

const ca = caMessagesRoot();

function typeOf(fullName: string): protobuf.Type | string {
  const found = ca.lookup(fullName);
  return found instanceof protobuf.Type ? found : `type.googleapis.com/${fullName}`;
}

export function reflectionCodec(origin = 'reflection'): XdsCodec {
  return {
    origin,
    encode: (fullName: string, json: Json) => encodeJson(typeOf(fullName), json),
    decode: (fullName: string, bytes: Uint8Array) => decodeToJson(typeOf(fullName), bytes),
  };
}
