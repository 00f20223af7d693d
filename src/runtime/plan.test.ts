import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadText } from '../config/loader.js';
import { DEFAULT_IMAGE_MAP } from './image-map.js';
import { PlanError, planPods } from './plan.js';

const deployment = (name: string, annotations = '') => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: demo}
spec:
  template:
    metadata:
      labels: {app: ${name}}
${annotations}
    spec:
      containers: [{name: app, image: docker.io/istio/examples-bookinfo-details-v1:1.20.3}]
`;

const mesh = (defaultConfig: string) => `
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    defaultConfig: ${defaultConfig}
`;

function plan(text: string) {
  const { resources, errors } = loadText(text, 'mesh.yaml');
  assert.deepEqual(errors, []);
  return planPods(resources, { imageMap: DEFAULT_IMAGE_MAP });
}

test('sidecar concurrency follows ProxyConfig: the pod annotation over meshConfig.defaultConfig, unset by default', () => {
  const pods = plan(
    [
      deployment('plain'),
      deployment('annotated', '      annotations:\n        proxy.istio.io/config: |\n          concurrency: 2\n          holdApplicationUntilProxyStarts: true'),
      deployment('other-fields', "      annotations: {proxy.istio.io/config: 'terminationDrainDuration: 5s'}"),
    ].join('\n---\n'),
  );
  assert.deepEqual(Object.fromEntries(pods.map((p) => [p.owner, p.concurrency])), { plain: undefined, annotated: 2, 'other-fields': undefined });
  const withMesh = plan([mesh('{concurrency: 0}'), deployment('plain'), deployment('annotated', "      annotations: {proxy.istio.io/config: 'concurrency: 3'}")].join('\n---\n'));
  assert.deepEqual(Object.fromEntries(withMesh.map((p) => [p.owner, p.concurrency])), { plain: 0, annotated: 3 });
});

test('a bad concurrency is a plan error naming the file, line and field', () => {
  assert.throws(
    () => plan(deployment('bad', "      annotations: {proxy.istio.io/config: 'concurrency: two'}")),
    (err: Error) => err instanceof PlanError && /^mesh\.yaml:\d+:\d+: metadata\.annotations\["proxy\.istio\.io\/config"\]: concurrency must be a whole number ≥ 0/.test(err.message),
  );
  assert.throws(() => plan([mesh('{concurrency: -1}'), deployment('plain')].join('\n---\n')), /meshConfig\.defaultConfig: concurrency must be a whole number/);
});

test('the sidecar xDS flavour follows ProxyConfig proxyMetadata.ISTIO_DELTA_XDS: delta unless "false", the pod over the mesh', () => {
  const pods = plan(
    [
      deployment('plain'),
      deployment('sotw', "      annotations: {proxy.istio.io/config: '{proxyMetadata: {ISTIO_DELTA_XDS: \"false\"}}'}"),
      deployment('delta', "      annotations: {proxy.istio.io/config: '{proxyMetadata: {ISTIO_DELTA_XDS: \"true\"}}'}"),
    ].join('\n---\n'),
  );
  assert.deepEqual(Object.fromEntries(pods.map((p) => [p.owner, p.xdsMode])), { plain: undefined, sotw: 'sotw', delta: 'delta' });
  const withMesh = plan([mesh("{proxyMetadata: {ISTIO_DELTA_XDS: 'false'}}"), deployment('plain'), deployment('delta', "      annotations: {proxy.istio.io/config: '{proxyMetadata: {ISTIO_DELTA_XDS: \"true\"}}'}")].join('\n---\n'));
  assert.deepEqual(Object.fromEntries(withMesh.map((p) => [p.owner, p.xdsMode])), { plain: 'sotw', delta: 'delta' });
  assert.throws(
    () => plan(deployment('bad', "      annotations: {proxy.istio.io/config: '{proxyMetadata: {ISTIO_DELTA_XDS: \"maybe\"}}'}")),
    (err: Error) => err instanceof PlanError && /^mesh\.yaml:\d+:\d+: metadata\.annotations\["proxy\.istio\.io\/config"\]: proxyMetadata\.ISTIO_DELTA_XDS must be "true" or "false"/.test(err.message),
  );
});

test("pod names follow the template's content, not the order its YAML keys were written in", () => {
  const [a] = plan(deployment('app'));
  const reordered = `
apiVersion: apps/v1
kind: Deployment
metadata: {namespace: demo, name: app}
spec:
  template:
    spec:
      containers: [{image: docker.io/istio/examples-bookinfo-details-v1:1.20.3, name: app}]
    metadata:
      labels: {app: app}
`;
  const [b] = plan(reordered);
  assert.match(a!.name, /^app-[a-z0-9]{10}-[a-z0-9]{5}$/);
  assert.equal(b!.name, a!.name);
  const [c] = plan(reordered.replace('labels: {app: app}', 'labels: {app: app, version: v2}'));
  assert.notEqual(c!.name, a!.name, 'a changed template is a new pod');
});
