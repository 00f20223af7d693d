// Rotation under load: workload certificates that live 3 s are renewed by the agents at half their lifetime while
// requests keep flowing sidecar to sidecar over mutual TLS (new connections every few requests, so handshakes use
// the fresh certificates). No request may fail, and the server sidecar must serve new certificates over time. This one
// runs on real time on purpose: it proves real rotation end to end. The schedule itself and the retries during a CA
// outage are tested on a manual clock in workload-identity.test.ts. Both client stacks ask the CA (node:http2 with
// the generated codec, the sidecar's; grpc-js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaServer } from './ca-api.js';
import { CertificateAuthority, spiffeId } from './ca.js';
import { productpage, servedChain, startMtlsPair } from './mesh-testing.js';
import { WorkloadTokens } from './token.js';
import { request } from '../proxy/testing.js';
import { CLIENT_STACKS } from '../xds/client/grpc-channel.js';

for (const stack of CLIENT_STACKS) {
test(`${stack} client: certificates rotated every ~1.5 s under a steady request loop: zero failed requests, several served serials`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-rotation-'));
  const ca = await CertificateAuthority.open({ stateDir: dir, minTtlMs: 1_000 });
  const tokens = WorkloadTokens.open(join(dir, 'token-key'));
  const server = new CaServer({ signer: ca, authenticator: tokens, tls: await ca.serverCertificate(['istiod.istio-system.svc', '127.0.0.1']) });
  const caAddress = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  const pair = await startMtlsPair({ caAddress, caRootPem: ca.trustBundle(), tokens, ttlSeconds: 3, maxRequestsPerConnection: 5, stack });
  const rotations = { client: 0, server: 0 };
  pair.clientIdentity.on('rotated', () => rotations.client++);
  pair.serverIdentity.on('rotated', () => rotations.server++);
  const errors: string[] = [];
  pair.clientIdentity.on('error', (e) => errors.push(`client agent: ${e.message}`));
  pair.serverIdentity.on('error', (e) => errors.push(`server agent: ${e.message}`));
  try {
    const until = Date.now() + 9_000;
    let ok = 0;
    const failures: string[] = [];
    // Three concurrent request loops; a keep-alive client agent on one of them, so downstream connections are
    // reused across rotations too.
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const loop = async (agent?: http.Agent) => {
      while (Date.now() < until) {
        try {
          const r = await request(pair.outboundPort, { path: '/reviews/0', agent, timeoutMs: 5_000 });
          if (r.status === 200 && r.body === 'reviews') ok++;
          else failures.push(`${r.status} ${r.headers['x-envoy-response-flags'] ?? ''} ${r.body.slice(0, 100)}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    // Meanwhile, the serial of the certificate the server sidecar serves, probed over fresh handshakes.
    const serials = new Set<string>();
    const probe = async () => {
      while (Date.now() < until) {
        try {
          serials.add((await servedChain(pair.inboundPort, pair.clientIdentity.current!)).serialNumber);
        } catch (err) {
          failures.push(`probe: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await Promise.all([loop(), loop(), loop(keepAlive), probe()]);
    keepAlive.destroy();
    t.diagnostic(`${ok} requests, ${failures.length} failed; rotations ${JSON.stringify(rotations)}; ${serials.size} served serials`);
    assert.deepEqual(failures, [], `${failures.length} failed of ${ok + failures.length}`);
    assert.deepEqual(errors, []);
    assert.ok(ok > 100, `only ${ok} requests`);
    assert.ok(rotations.client >= 3 && rotations.server >= 3, JSON.stringify(rotations));
    assert.ok(serials.size >= 3, `served serials: ${[...serials].join(', ')}`);
    // Every request reached the server as mutual TLS from the client's identity.
    assert.ok(pair.records.every((r) => r.connectionSecurity === 'mutual_tls' && r.peerPrincipal === spiffeId(productpage)));
  } finally {
    await pair.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
}
