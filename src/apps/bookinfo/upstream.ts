// Where a Bookinfo service finds its peers, from the same environment variables upstream's images and Kubernetes provide.

import type { Env } from '../lib/serve.js';

export type Peer = 'details' | 'reviews' | 'ratings';

/**
 * The base URL of a peer service (no trailing slash).
 *
 * - `<PEER>_HOSTNAME` and `SERVICES_DOMAIN` are upstream Bookinfo's own settings:
 *   host `<hostname>.<domain>`, port 9080.
 * - Otherwise `<PEER>_SERVICE_HOST` (the Kubernetes service link variable) is used as is.
 * - Otherwise the bare service name, `http://<peer>:9080`, which a mesh proxy
 *   (HTTP_PROXY) or DNS resolves.
 *
 * `<PEER>_SERVICE_PORT` overrides the port in every case.
 */
export function peerUrl(peer: Peer, env: Env): string {
  const key = peer.toUpperCase();
  const port = env[`${key}_SERVICE_PORT`] || '9080';
  const hostname = env[`${key}_HOSTNAME`];
  const domain = env.SERVICES_DOMAIN ? `.${env.SERVICES_DOMAIN}` : '';
  const k8sHost = env[`${key}_SERVICE_HOST`];
  const host = hostname || domain || !k8sHost ? `${hostname || peer}${domain}` : k8sHost;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${bracketed}:${port}`;
}
