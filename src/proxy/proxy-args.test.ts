// `trellis proxy` in a pod: Istio's environment (POD_NAME, POD_NAMESPACE, INSTANCE_IP, SERVICE_ACCOUNT, CA_ADDR) gives
// the proxy's identity and CA where flags do not, and the CA token comes from the projected istio-token file, read at
// each request so a rotated token is used.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProxyArgs } from './main.js';

const POD_ENV = { POD_NAME: 'reviews-v1-7f9', POD_NAMESPACE: 'shop', INSTANCE_IP: '10.1.2.3', SERVICE_ACCOUNT: 'reviews', CA_ADDR: 'istiod.istio-system.svc:15012' };

test("Istio's pod environment gives the node's identity and the CA; flags win over it", () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-proxy-args-'));
  try {
    const root = join(dir, 'root.pem');
    writeFileSync(root, '');
    const { options } = parseProxyArgs(['--xds', '127.0.0.1:15010', '--ca-root', root], POD_ENV);
    assert.deepEqual([options!.node.pod, options!.node.namespace, options!.node.ip, options!.node.serviceAccount], ['reviews-v1-7f9', 'shop', '10.1.2.3', 'reviews']);
    assert.equal(options!.node.id, 'sidecar~10.1.2.3~reviews-v1-7f9.shop~shop.svc.cluster.local');
    assert.equal(options!.ca?.address, 'istiod.istio-system.svc:15012');
    const flagged = parseProxyArgs(['--xds', '127.0.0.1:15010', '--ca-root', root, '--namespace', 'other', '--ip', '127.0.0.9'], POD_ENV).options!;
    assert.deepEqual([flagged.node.namespace, flagged.node.ip], ['other', '127.0.0.9']);
    const bare = parseProxyArgs(['--xds', '127.0.0.1:15010'], {}).options!;
    assert.deepEqual([bare.node.namespace, bare.node.ip, bare.node.serviceAccount, bare.ca], ['default', '127.0.0.1', 'default', undefined]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the CA token is read from the projected token file at each request (TRELLIS_CA_TOKEN first)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-proxy-args-'));
  try {
    const file = join(dir, 'istio-token');
    writeFileSync(file, 'first\n');
    const args = ['--xds', '127.0.0.1:15010', '--ca-address', '127.0.0.1:15012', '--ca-root', file, '--ca-token-file', file];
    const ca = parseProxyArgs(args, POD_ENV).options!.ca!;
    assert.equal(ca.token(), 'first');
    writeFileSync(file, 'rotated\n');
    assert.equal(ca.token(), 'rotated');
    assert.equal(parseProxyArgs(args, { ...POD_ENV, TRELLIS_CA_TOKEN: 'explicit' }).options!.ca!.token(), 'explicit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
