// A page that loads the OpenShift console plugin the way the console does — its plugin-manifest.json, the entry
// script, the container's init with the console's shared modules, each extension's code reference — and renders one
// extension (`?extension=<index in the manifest>`, and for resource tabs `&namespace=&name=`), for the browser test.

import '@patternfly/react-core/dist/styles/base.css';
import * as Topology from '@patternfly/react-topology';
import * as React from 'react';
import { createRoot } from 'react-dom/client';
import * as sdk from './sdk-shim';

interface Container {
  init(shareScope: Record<string, unknown>): Promise<void> | void;
  get(module: string): Promise<() => Record<string, unknown>>;
}

interface Manifest {
  name: string;
  baseURL: string;
  loadScripts: string[];
  extensions: Array<{ type: string; properties: { component?: { $codeRef: string }; model?: { group?: string; version: string; kind: string } } }>;
}

declare global {
  interface Window {
    __load_plugin_entry__?: (pluginId: string, container: Container) => void;
  }
}

/** A module as webpack's share scope holds it: per version, a factory the plugin's container calls. */
function shared(version: string, module: unknown): Record<string, unknown> {
  return { [version]: { get: () => Promise.resolve(() => module), from: 'trellis-test-host', eager: true, loaded: 1 } };
}

function loadEntry(manifest: Manifest): Promise<Container> {
  return new Promise((resolve, reject) => {
    window.__load_plugin_entry__ = (id, container) => (id === manifest.name ? resolve(container) : reject(new Error(`entry of ${id}, not ${manifest.name}`)));
    for (const file of manifest.loadScripts) {
      const script = document.createElement('script');
      script.src = `${manifest.baseURL}${file}`;
      script.onerror = () => reject(new Error(`cannot load ${script.src}`));
      document.head.appendChild(script);
    }
  });
}

async function main(): Promise<void> {
  const params = new URLSearchParams(window.location.search);
  const name = params.get('plugin') ?? 'trellis-console-plugin';
  const manifest = (await (await fetch(`/api/plugins/${name}/plugin-manifest.json`)).json()) as Manifest;
  const container = await loadEntry(manifest);
  await container.init({
    react: shared(React.version, React),
    '@patternfly/react-topology': shared('6.6.0', Topology),
    '@openshift-console/dynamic-plugin-sdk': shared('4.22.0', sdk),
  });
  const ext = manifest.extensions[Number(params.get('extension') ?? '0')];
  const codeRef = ext?.properties.component?.$codeRef;
  if (!ext || !codeRef) throw new Error(`extension ${params.get('extension')} has no component`);
  const [moduleName, exportName = 'default'] = codeRef.split('.');
  const module = (await container.get(moduleName!))();
  const Component = module[exportName] as React.ComponentType<Record<string, unknown>>;
  const model = ext.properties.model;
  const props = model ? { obj: { apiVersion: model.group ? `${model.group}/${model.version}` : model.version, kind: model.kind, metadata: { namespace: params.get('namespace'), name: params.get('name') } } } : {};
  createRoot(document.getElementById('root')!).render(<Component {...props} />);
  document.body.dataset.extension = `${ext.type} ${codeRef}`;
}

main().catch((err: Error) => {
  document.body.dataset.error = err.message;
  document.getElementById('root')!.textContent = `plugin failed: ${err.message}`;
});
