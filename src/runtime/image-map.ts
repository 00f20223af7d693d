// Container images → local programs: the TypeScript stand-ins for the images Istio's samples use, extendable by a
// user file, so those manifests run unchanged without a container engine.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export interface ImageEntry {
  /** A program under the repository (run with node) or an absolute path to an executable. */
  program: string;
  /** Default arguments (Kubernetes `args` replace them). */
  args?: string[];
  env?: Record<string, string>;
  /** Container `command[0]` values mapped to programs (e.g. `/bin/sleep` → the sleep stand-in). */
  commands?: Record<string, string>;
}

export type ImageMap = Record<string, ImageEntry>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const sleep = { '/bin/sleep': 'dist/apps/sleep.js', sleep: 'dist/apps/sleep.js', curl: 'dist/apps/curl.js', '/usr/bin/curl': 'dist/apps/curl.js' };

/** The images of ../shared/istio-samples, keyed by repository name without registry or tag. */
export const DEFAULT_IMAGE_MAP: ImageMap = {
  'examples-bookinfo-productpage-v1': { program: 'dist/apps/bookinfo/productpage.js' },
  'examples-bookinfo-details-v1': { program: 'dist/apps/bookinfo/details.js' },
  'examples-bookinfo-details-v2': { program: 'dist/apps/bookinfo/details.js' },
  'examples-bookinfo-reviews-v1': { program: 'dist/apps/bookinfo/reviews.js', env: { SERVICE_VERSION: 'v1' } },
  'examples-bookinfo-reviews-v2': { program: 'dist/apps/bookinfo/reviews.js', env: { SERVICE_VERSION: 'v2' } },
  'examples-bookinfo-reviews-v3': { program: 'dist/apps/bookinfo/reviews.js', env: { SERVICE_VERSION: 'v3' } },
  'examples-bookinfo-ratings-v1': { program: 'dist/apps/bookinfo/ratings.js' },
  'examples-bookinfo-ratings-v2': { program: 'dist/apps/bookinfo/ratings.js', env: { SERVICE_VERSION: 'v2' } },
  'go-httpbin': { program: 'dist/apps/echo.js', env: { PORT: '8080' } },
  httpbin: { program: 'dist/apps/echo.js', env: { PORT: '80' } },
  echo: { program: 'dist/apps/echo.js' },
  // The Gateway API conformance backend (registry.k8s.io/gateway-api/conformance/echo-basic, and its staging name
  // gcr.io/k8s-staging-gateway-api/echo-basic): the echo-basic stand-in, not httpbin.
  'gateway-api/conformance/echo-basic': { program: 'dist/apps/echo-basic.js' },
  'k8s-staging-gateway-api/echo-basic': { program: 'dist/apps/echo-basic.js' },
  'echo-basic': { program: 'dist/apps/echo-basic.js' },
  curl: { program: 'dist/apps/sleep.js', args: ['infinity'], commands: sleep },
  sleep: { program: 'dist/apps/sleep.js', args: ['infinity'], commands: sleep },
  'ext-authz': { program: 'dist/apps/ext-authz.js' },
  // Istio's samples/tcp-echo (istio/tcp-echo-server): args `<port,...> <prefix>`.
  'tcp-echo-server': { program: 'dist/apps/tcp-echo.js' },
};

/** `registry.istio.io/release/examples-bookinfo-reviews-v2:1.20.3` → candidates from most to least specific. */
export function imageKeys(image: string): string[] {
  const noDigest = image.split('@')[0]!;
  const lastColon = noDigest.lastIndexOf(':');
  const repo = lastColon > noDigest.lastIndexOf('/') ? noDigest.slice(0, lastColon) : noDigest;
  const parts = repo.split('/');
  const keys = [image, repo];
  for (let i = 1; i < parts.length; i++) keys.push(parts.slice(i).join('/'));
  return [...new Set(keys)];
}

export function lookupImage(map: ImageMap, image: string): ImageEntry | undefined {
  for (const k of imageKeys(image)) if (map[k]) return map[k];
  return undefined;
}

/** The default map extended (and overridden) by a user's YAML file: `images: {name: {program, args, env, commands}}`. */
export function loadImageMap(file?: string): ImageMap {
  if (!file) return DEFAULT_IMAGE_MAP;
  const doc = YAML.parse(readFileSync(file, 'utf8')) as { images?: ImageMap } | null;
  if (!doc?.images || typeof doc.images !== 'object') throw new Error(`${file}: expected a top-level "images:" map of image → {program, args, env}`);
  for (const [k, v] of Object.entries(doc.images)) if (!v || typeof v.program !== 'string') throw new Error(`${file}: image "${k}" needs a "program"`);
  return { ...DEFAULT_IMAGE_MAP, ...doc.images };
}

/** A program path from the map, made absolute (repository-relative paths are under the package root). */
export function programPath(p: string): string {
  return p.startsWith('/') ? p : ROOT + p;
}
