// The certificate-authority options `trellis up` and `trellis controlplane` share: a plugged-in `cacerts`
// directory, or an external signer over cfssl's remote API.

import { readFileSync } from 'node:fs';
import type { CfsslSignerOptions } from '../ca/cfssl-signer.js';
import { UsageError } from './command.js';

/** parseArgs option specs; the commands differ only in the default signing mode. */
export function caOptionSpecs(defaultMode: 'direct' | 'intermediate') {
  return {
    cacerts: { type: 'string' },
    'external-ca-url': { type: 'string' },
    'external-ca-mode': { type: 'string', default: defaultMode },
    'external-ca-profile': { type: 'string' },
    'external-ca-auth-key-file': { type: 'string' },
    'external-ca-root': { type: 'string' },
  } as const;
}

type CaValues = { [K in keyof ReturnType<typeof caOptionSpecs>]?: string };

/** The external signer the options ask for (undefined without --external-ca-url); files are read here. */
export function externalCaOptions(values: CaValues): CfsslSignerOptions | undefined {
  const mode = values['external-ca-mode'];
  if (mode !== 'direct' && mode !== 'intermediate') throw new UsageError('--external-ca-mode must be direct or intermediate');
  if (!values['external-ca-url']) return undefined;
  const read = (f: string | undefined) => (f ? readFileSync(f, 'utf8') : undefined);
  return { url: values['external-ca-url'], mode, profile: values['external-ca-profile'], authKey: read(values['external-ca-auth-key-file'])?.trim(), rootPem: read(values['external-ca-root']) };
}
