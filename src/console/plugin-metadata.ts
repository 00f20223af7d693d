// The OpenShift console plugin's identity: its metadata and exposed modules, the console extensions it contributes,
// and the ConsolePlugin resource that registers it with a cluster's console (read by the build, the server and tests).

import { VERSION } from '../version.js';

export const PLUGIN_NAME = 'trellis-console-plugin';
/** Where `trellis console --plugin` serves the built plugin (the ConsolePlugin's backend basePath). */
export const PLUGIN_BASE_PATH = '/plugin/';
/** The alias of the console's proxy to this server: the plugin calls `/api/proxy/plugin/<name>/<alias>/api/…`. */
export const PROXY_ALIAS = 'trellis';
export const PLUGIN_API_BASE = `/api/proxy/plugin/${PLUGIN_NAME}/${PROXY_ALIAS}`;

/** Exposed modules, relative to src/console (the webpack context). */
export const EXPOSED_MODULES = {
  ServiceMeshPage: './web/plugin/service-mesh-page.tsx',
  IstioConfigPage: './web/plugin/istio-config-page.tsx',
  WorkloadMeshTab: './web/plugin/workload-mesh-tab.tsx',
  ServiceMeshTab: './web/plugin/service-mesh-tab.tsx',
} as const;

type CodeRef = { $codeRef: keyof typeof EXPOSED_MODULES };
const ref = (m: keyof typeof EXPOSED_MODULES): CodeRef => ({ $codeRef: m });

export interface ConsoleExtension {
  type: string;
  properties: Record<string, unknown>;
}

const meshTab = (model: { group?: string; version: string; kind: string }, component: keyof typeof EXPOSED_MODULES): ConsoleExtension => ({
  type: 'console.tab/horizontalNav',
  properties: { model, page: { name: 'Service Mesh', href: 'servicemesh' }, component: ref(component) },
});

/** What the plugin adds to the console: a Service Mesh section (overview, graph), Istio Config under Networking, and mesh tabs. */
export const EXTENSIONS: ConsoleExtension[] = [
  { type: 'console.navigation/section', properties: { id: 'servicemesh', name: 'Service Mesh', insertAfter: 'networking' } },
  { type: 'console.navigation/href', properties: { id: 'servicemesh-overview', section: 'servicemesh', name: 'Overview', href: '/servicemesh/overview' } },
  { type: 'console.navigation/href', properties: { id: 'servicemesh-graph', section: 'servicemesh', name: 'Traffic Graph', href: '/servicemesh/graph' } },
  { type: 'console.page/route', properties: { path: ['/servicemesh/overview', '/servicemesh/graph'], exact: true, component: ref('ServiceMeshPage') } },
  { type: 'console.navigation/href', properties: { id: 'servicemesh-istio-config', section: 'networking', name: 'Istio Config', href: '/servicemesh/istio' } },
  { type: 'console.page/route', properties: { path: '/servicemesh/istio', exact: true, component: ref('IstioConfigPage') } },
  meshTab({ group: 'apps', version: 'v1', kind: 'Deployment' }, 'WorkloadMeshTab'),
  meshTab({ group: 'apps', version: 'v1', kind: 'StatefulSet' }, 'WorkloadMeshTab'),
  meshTab({ group: 'apps', version: 'v1', kind: 'DaemonSet' }, 'WorkloadMeshTab'),
  meshTab({ version: 'v1', kind: 'Service' }, 'ServiceMeshTab'),
];

export const PLUGIN_METADATA = {
  name: PLUGIN_NAME,
  version: VERSION,
  displayName: 'Trellis Service Mesh',
  description: 'Service mesh overview, traffic graph, Istio config and mesh tabs on workloads and services, from the Trellis console.',
  exposedModules: EXPOSED_MODULES,
  // Built with the 4.22 SDK: its shared modules (React 18, PatternFly 6) are what that console provides.
  dependencies: { '@console/pluginAPI': '>=4.22.0-0' },
};

/** The ConsolePlugin resource (console.openshift.io/v1) that registers the plugin, served by the console in `namespace`. */
export function consolePluginResource(options: { namespace: string; service: string; port: number }): Record<string, unknown> {
  const service = { name: options.service, namespace: options.namespace, port: options.port };
  return {
    apiVersion: 'console.openshift.io/v1',
    kind: 'ConsolePlugin',
    metadata: { name: PLUGIN_NAME },
    spec: {
      displayName: PLUGIN_METADATA.displayName,
      backend: { type: 'Service', service: { ...service, basePath: PLUGIN_BASE_PATH } },
      // The plugin's API calls go through the console's proxy, with the user's token.
      proxy: [{ alias: PROXY_ALIAS, endpoint: { type: 'Service', service }, authorization: 'UserToken' }],
    },
  };
}
