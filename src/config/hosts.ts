// Host names the way Istio reads them: short names resolve in the config's namespace; wildcards match by suffix.

import { isIP } from 'node:net';

export const DEFAULT_DOMAIN = 'cluster.local';

/**
 * Resolve a host as Istio does: `reviews` in namespace `default` becomes
 * `reviews.default.svc.cluster.local`; a name with a dot, `*`, or an IP is kept as written.
 */
export function resolveHost(host: string, namespace: string, domain: string = DEFAULT_DOMAIN): string {
  if (host === '*' || host.includes('.') || isIP(host) !== 0) return host;
  return namespace ? `${host}.${namespace}.svc.${domain}` : `${host}.svc.${domain}`;
}

/** The `<service>.<namespace>.svc.<domain>` name of a Kubernetes Service. */
export function serviceFqdn(name: string, namespace: string, domain: string = DEFAULT_DOMAIN): string {
  return `${name}.${namespace}.svc.${domain}`;
}

/** Split `namespace/host` (the form Sidecar egress and Gateway `hosts` use); `*` and `.` are kept as the namespace. */
export function splitNamespacedHost(value: string): { namespace: string | undefined; host: string } {
  const slash = value.indexOf('/');
  if (slash < 0) return { namespace: undefined, host: value };
  return { namespace: value.slice(0, slash), host: value.slice(slash + 1) };
}

/** Whether `host` (possibly a wildcard like `*.example.com`) matches `pattern` (possibly a wildcard). */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  if (pattern.startsWith('*')) {
    const suffix = pattern.slice(1);
    if (host.startsWith('*')) return host.slice(1).endsWith(suffix);
    return host.endsWith(suffix);
  }
  return false;
}

/** Whether two host patterns can match a common name (Istio's `Intersects`). */
export function hostsIntersect(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}
