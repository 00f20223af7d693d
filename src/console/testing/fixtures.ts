// Test fixtures: a config directory holding Bookinfo (Istio's sample, unchanged) plus a few objects of our own.

import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { istioSamplesDir } from '../../samples.js';

/** A VirtualService whose route names a subset no DestinationRule defines: IST0101 at the `subset` line (13). */
export const BROKEN_VS = `# A canary route that points at a version nobody deployed.
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews-canary
spec:
  hosts:
  - reviews-canary
  http:
  - route:
    - destination:
        host: reviews
        subset: v9
`;
export const BROKEN_VS_LINE = 13;

/** Mesh settings as istiod reads them, with a minimum TLS version that is not the default. */
export const MESH_CONFIG = `apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: istio-system
data:
  mesh: |-
    meshMTLS:
      minProtocolVersion: TLSV1_3
    trustDomain: cluster.local
`;

export interface ConfigDirFixture {
  dir: string;
  /** A CA root made with openssl, when openssl is installed. */
  caRoot?: string;
  cleanup(): Promise<void>;
}

/**
 * A fresh config directory: Bookinfo's manifests and DestinationRules, the mesh ConfigMap, the broken VirtualService
 * (`broken`, default on) and Istio's all-v1 VirtualServices (`routes`, default on: without them reviews is split
 * evenly over its versions, as Kubernetes would).
 */
export async function bookinfoConfigDir(options: { broken?: boolean; routes?: boolean } = {}): Promise<ConfigDirFixture> {
  const samples = istioSamplesDir();
  const root = await mkdtemp(join(tmpdir(), 'trellis-console-'));
  const dir = join(root, 'config');
  await mkdir(dir);
  await copyFile(join(samples, 'bookinfo/platform/kube/bookinfo.yaml'), join(dir, 'bookinfo.yaml'));
  await copyFile(join(samples, 'bookinfo/networking/destination-rule-all.yaml'), join(dir, 'destination-rule-all.yaml'));
  if (options.routes ?? true) await copyFile(join(samples, 'bookinfo/networking/virtual-service-all-v1.yaml'), join(dir, 'virtual-service-all-v1.yaml'));
  await writeFile(join(dir, 'mesh.yaml'), MESH_CONFIG);
  if (options.broken ?? true) await writeFile(join(dir, 'reviews-canary.yaml'), BROKEN_VS);
  const fixture: ConfigDirFixture = { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
  try {
    const key = join(root, 'root-key.pem');
    const cert = join(root, 'root-cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '3650', '-subj', '/O=cluster.local/CN=Trellis Root CA'], { stdio: 'ignore' });
    fixture.caRoot = cert;
  } catch {
    // No openssl: the control-plane page shows no CA root, and the tests that need one say so.
  }
  return fixture;
}
