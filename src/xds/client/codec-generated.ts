// The XdsCodec generated at build time (build-sidecar-codec.ts → sidecar-codec.generated.js): plain decode and
// encode functions per message type over proto-runtime.ts. It is used only when it was generated from the protos
// and generator this tree has (its SOURCE stamp); otherwise the caller falls back to reflection.

import { descriptorSource, sameSource, type DescriptorSource } from '../proto-files.js';
import { CODEC_FILE, CODEC_FORMAT } from './codec-source.js';
import { ProtoReader, ProtoWriter, type Decoder, type Encoder } from './proto-runtime.js';
import type { Json, XdsCodec } from './xds-codec.js';

interface GeneratedModule {
  SOURCE: DescriptorSource & { codec: number };
  DECODERS: Record<string, Decoder>;
  ENCODERS: Record<string, Encoder>;
}

/** The generated codec, or why it cannot be used ("not generated (npm run build makes it)", "stale: …"). */
export async function loadGeneratedCodec(file: URL = CODEC_FILE): Promise<XdsCodec | string> {
  let m: GeneratedModule;
  try {
    m = (await import(file.href)) as GeneratedModule;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' ? 'not generated (npm run build makes it)' : `unreadable: ${(err as Error).message}`;
  }
  if (m.SOURCE?.codec !== CODEC_FORMAT || !sameSource(m.SOURCE, descriptorSource())) return 'made from other protos, packages or generator';
  return generatedCodec(m);
}

function generatedCodec(m: GeneratedModule): XdsCodec {
  return {
    origin: 'generated',
    encode(fullName: string, json: Json): Uint8Array {
      const enc = m.ENCODERS[fullName];
      if (!enc) throw new Error(`the sidecar codec has no encoder for ${fullName}`);
      const w = new ProtoWriter();
      enc(w, json);
      return w.finish();
    },
    decode(fullName: string, bytes: Uint8Array): Json {
      const dec = m.DECODERS[fullName];
      if (!dec) throw new Error(`the sidecar codec has no decoder for ${fullName}`);
      const r = new ProtoReader(bytes);
      return dec(r, r.buf.length);
    },
  };
}
