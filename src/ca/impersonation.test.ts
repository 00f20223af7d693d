// Istio's node authorizer over the real CA API: a node proxy (ztunnel) proves only its own identity and node, and gets a
// certificate for a workload's identity when that workload runs on its node; any other caller, another node's workload
// or another trust domain is refused.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CaServer } from './ca-api.js';
import { CertificateAuthority } from './ca.js';
import { spiffeId, type Identity } from './identity.js';
import { productpage, reviews } from './mesh-testing.js';
import { WorkloadTokens } from './token.js';
import { WorkloadIdentity } from './workload-identity.js';

test('a node proxy gets certificates for the workloads on its node, and only for those', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-impersonation-'));
  const ca = await CertificateAuthority.open({ stateDir: dir });
  const tokens = WorkloadTokens.open(join(dir, 'token-key'));
  // productpage runs on node-a, reviews on node-b.
  const placement = new Map([[spiffeId(productpage), 'node-a'], [spiffeId(reviews), 'node-b']]);
  const server = new CaServer({
    signer: ca,
    authenticator: tokens,
    tls: await ca.serverCertificate(['istiod.istio-system.svc', '127.0.0.1']),
    nodeAuthorizer: { trustedNodeAccounts: ['istio-system/ztunnel'], runsOn: (node, id) => placement.get(spiffeId(id)) === node },
  });
  const port = await server.listen('127.0.0.1', 0);
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ask = (identity: Identity, token: string) =>
    new WorkloadIdentity({ identity, caAddress: `127.0.0.1:${port}`, rootPem: ca.trustBundle(), token: () => token, serverName: 'istiod.istio-system.svc', impersonate: true }).start();
  const ztunnelA = tokens.issue('istio-system', 'ztunnel', 60_000, 'node-a');

  const issued = await ask(productpage, ztunnelA);
  const leaf = new X509Certificate(issued.certChain.split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n');
  assert.equal(leaf.subjectAltName, `URI:${spiffeId(productpage)}`, 'the certificate is the workload\'s, not the node proxy\'s');

  await assert.rejects(ask(reviews, ztunnelA), /no workload of spiffe:\/\/cluster.local\/ns\/default\/sa\/bookinfo-reviews runs on node node-a/);
  await assert.rejects(ask(productpage, tokens.issue('default', 'bookinfo-reviews', 60_000, 'node-a')), /default\/bookinfo-reviews may not ask for another identity/);
  await assert.rejects(ask(productpage, tokens.issue('istio-system', 'ztunnel')), /runs on node \(none named\)/);
  await assert.rejects(ask({ ...productpage, trustDomain: 'other.local' }, ztunnelA), /not a workload identity of trust domain cluster.local/);
});
