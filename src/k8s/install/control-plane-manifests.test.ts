// Rendering a control plane from its ServiceMeshControlPlane: RBAC follows the mode (ClusterWide: one ClusterRole with
// read access everywhere; MultiTenant: Roles only in its namespace and its members), spec.runtime.components.pilot
// over spec.runtime.defaults places istiod; `trellis install` prints the same objects.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { loadText } from '../../config/loader.js';
import { meshTopologyOf } from '../../config/mesh-topology.js';
import { renderControlPlane } from './control-plane-manifests.js';

const bin = fileURLToPath(new URL('../../../bin/trellis.js', import.meta.url));

const mesh = (mode: string) => `apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec:
  mode: ${mode}
  runtime:
    defaults:
      pod: {nodeSelector: {zone: a}}
      container: {resources: {requests: {cpu: 1m}}}
    components:
      pilot:
        pod: {tolerations: [{key: infra, operator: Exists}]}
---
apiVersion: maistra.io/v1
kind: ServiceMeshMemberRoll
metadata: {name: default, namespace: istio-system}
spec: {members: [shop]}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
`;

const render = (mode: string) => renderControlPlane(meshTopologyOf(loadText(mesh(mode), 'm.yaml').resources).controlPlanes.find((p) => p.smcp)!);
const names = (objects: Array<Record<string, unknown>>) => objects.map((o) => `${o.kind as string} ${(o.metadata as { namespace?: string }).namespace ?? '-'}/${(o.metadata as { name: string }).name}`);

test('MultiTenant: Roles in its namespace and its members only; ClusterWide: one ClusterRole that reads everywhere', () => {
  assert.deepEqual(names(render('MultiTenant')), [
    'ServiceAccount istio-system/istiod-basic',
    'ClusterRole -/istiod-basic-istio-system',
    'ClusterRoleBinding -/istiod-basic-istio-system',
    'Role istio-system/istiod-basic',
    'RoleBinding istio-system/istiod-basic',
    'Role shop/istiod-basic',
    'RoleBinding shop/istiod-basic',
    'Deployment istio-system/istiod-basic',
    'Service istio-system/istiod-basic',
  ]);
  const clusterWide = render('ClusterWide');
  assert.deepEqual(names(clusterWide).filter((n) => n.startsWith('Role')), []);
  const rules = (clusterWide.find((o) => o.kind === 'ClusterRole') as { rules: Array<{ resources: string[] }> }).rules.flatMap((r) => r.resources);
  assert.ok(rules.includes('pods') && rules.includes('endpointslices'), 'cluster-wide reads workloads everywhere');
  const multiTenantCluster = (render('MultiTenant').find((o) => o.kind === 'ClusterRole') as { rules: Array<{ resources: string[] }> }).rules.flatMap((r) => r.resources);
  assert.ok(!multiTenantCluster.includes('pods') && !multiTenantCluster.includes('secrets'), 'a multi-tenant control plane reads no pods or secrets cluster-wide');
});

test('the component runtime over the defaults places istiod', () => {
  const deployment = render('MultiTenant').find((o) => o.kind === 'Deployment') as { spec: { template: { spec: { nodeSelector: unknown; tolerations: unknown; containers: Array<{ resources: unknown }> } } } };
  const pod = deployment.spec.template.spec;
  assert.deepEqual(pod.nodeSelector, { zone: 'a' });
  assert.deepEqual(pod.tolerations, [{ key: 'infra', operator: 'Exists' }]);
  assert.deepEqual(pod.containers[0]!.resources, { requests: { cpu: '1m' } });
});

test('trellis install prints the CRDs and the objects as YAML documents', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-install-'));
  try {
    writeFileSync(join(dir, 'mesh.yaml'), mesh('ClusterWide'));
    const r = spawnSync(process.execPath, [bin, 'install', '-f', dir, '--crds', '--image', 'example/trellis:1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const docs = YAML.parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; spec?: { template?: { spec: { containers: Array<{ image: string }> } } } });
    assert.ok(docs.filter((d) => d.kind === 'CustomResourceDefinition').length > 10);
    assert.equal(docs.find((d) => d.kind === 'Deployment')?.spec?.template?.spec.containers[0]?.image, 'example/trellis:1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
