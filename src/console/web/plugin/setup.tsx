// What every exposed module of the OpenShift console plugin shares: the API through the console's proxy (with its
// fetch, which adds the user's credentials and CSRF token), links that go to the console's own pages, the console's
// stylesheet, and the frame that loads the console's modes (view-only…) before a page is drawn.

import { consoleFetch } from '@openshift-console/dynamic-plugin-sdk';
import { Spinner } from '@patternfly/react-core';
import type { ReactNode } from 'react';
import { PLUGIN_API_BASE } from '../../plugin-metadata.js';
import { api, configureApi } from '../api';
import { StatusContext } from '../context';
import { useData } from '../hooks';
import { configureLinks, matchPath } from '../router';
import stylesheet from '../console.css';

/** The console's fetch throws on an error status; the console's API client reads the error body itself. */
async function viaConsole(input: string, init: RequestInit): Promise<Response> {
  try {
    return await consoleFetch(input, init);
  } catch (err) {
    const response = (err as { response?: Response }).response;
    if (response) return response;
    throw err;
  }
}

/** The Trellis console's paths, as OpenShift console URLs (resource pages get their Service Mesh tab). */
export function consoleHref(href: string): string {
  const u = new URL(href, 'http://x');
  let m: Record<string, string> | undefined;
  if ((m = matchPath('/namespaces/:ns/workloads/:name', u.pathname))) return `/k8s/ns/${m.ns}/deployments/${m.name}/servicemesh`;
  if ((m = matchPath('/namespaces/:ns/services/:name', u.pathname))) return `/k8s/ns/${m.ns}/services/${m.name}/servicemesh`;
  if (u.pathname.startsWith('/namespaces/') || u.pathname.startsWith('/istio')) return `/servicemesh/istio${u.search}`;
  if (u.pathname === '/graph') return `/servicemesh/graph${u.search}`;
  return `/servicemesh/overview${u.search}`;
}

let ready = false;
function setUp(): void {
  if (ready) return;
  ready = true;
  configureApi({ base: PLUGIN_API_BASE, fetch: viaConsole });
  configureLinks({ map: consoleHref, inPage: false });
  const style = document.createElement('style');
  style.dataset.trellis = 'console';
  style.textContent = String(stylesheet);
  document.head.appendChild(style);
}

/** Draws `children` once the console's modes are known; every exposed page is inside one. */
export function PluginFrame({ children }: { children: ReactNode }) {
  setUp();
  const status = useData(() => api.status(), []);
  if (!status.data) return status.error ? <p data-test="plugin-error">The Trellis console is not reachable: {status.error.message}</p> : <Spinner aria-label="Loading" />;
  return (
    <StatusContext.Provider value={status.data}>
      <div className="trellis-plugin" data-test="trellis-plugin">
        {children}
      </div>
    </StatusContext.Provider>
  );
}
