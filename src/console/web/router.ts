// The URL is the page's state ("the URL becomes the API of the page", as in Kiali): path plus query, via history.

import { useCallback, useEffect, useState } from 'react';

export interface Location {
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

/**
 * How links leave a page: to the console's own paths, navigated in the page (the default); a host that embeds the
 * pages (the OpenShift console plugin) maps them to its own URLs and lets the browser go there.
 */
const links: { map: (href: string) => string; inPage: boolean } = { map: (h) => h, inPage: true };

export function configureLinks(options: { map: (href: string) => string; inPage: boolean }): void {
  Object.assign(links, options);
}

export function navigate(path: string, query?: Record<string, string | undefined> | URLSearchParams, replace = false): void {
  const params = query instanceof URLSearchParams ? query : new URLSearchParams(Object.entries(query ?? {}).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const search = params.toString();
  const url = `${path}${search ? `?${search}` : ''}`;
  if (url === `${window.location.pathname}${window.location.search}`) return;
  // A page's own state (replace) stays in its URL; going to another page is the host's to do.
  if (!replace && !links.inPage) return void window.location.assign(links.map(url));
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  listeners.forEach((l) => l());
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const l = () => setLoc(current());
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return loc;
}

/** One query parameter as state: reading it from the URL, writing it back (replacing the history entry). */
export function useQueryParam(name: string, fallback: string): [string, (v: string) => void] {
  const { query, path } = useLocation();
  const value = query.get(name) ?? fallback;
  const set = useCallback(
    (v: string) => {
      const next = new URLSearchParams(window.location.search);
      if (v === fallback) next.delete(name);
      else next.set(name, v);
      navigate(path, next, true);
    },
    [name, fallback, path],
  );
  return [value, set];
}

/** Match `/namespaces/:ns/workloads/:name` against a path. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const re = new RegExp('^' + pattern.replace(/:([a-zA-Z]+)/g, (_m, n: string) => (names.push(n), '([^/]+)')) + '/?$');
  const m = re.exec(path);
  if (!m) return undefined;
  return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
}

/** A link that navigates without reloading the page. */
export function linkProps(href: string): { href: string; onClick: (e: { preventDefault(): void; metaKey?: boolean; ctrlKey?: boolean }) => void } {
  return {
    href: links.map(href),
    onClick: (e) => {
      if (e.metaKey || e.ctrlKey || !links.inPage) return;
      e.preventDefault();
      const u = new URL(href, window.location.origin);
      navigate(u.pathname, u.searchParams);
    },
  };
}
