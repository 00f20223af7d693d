// The agent's renewal schedule on a manual clock shared with the CA, which dates the certificates: renewal at half the
// lifetime, retries during a CA outage that come faster as expiry nears, and lifetimes past Node's longest timer.
// The certificates still come over Istio's CA API from a real CA server, with both client stacks (node:http2 with the
// generated codec, the sidecar's; grpc-js).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ManualClock, MAX_TIMER_MS } from '../clock.js';
import { CaServer } from './ca-api.js';
import { CertificateAuthority } from './ca.js';
import { productpage } from './mesh-testing.js';
import { WorkloadTokens } from './token.js';
import { WorkloadIdentity, type IssuedCertificate } from './workload-identity.js';
import { CLIENT_STACKS, type ClientStackName } from '../xds/client/grpc-channel.js';

const DAY = 24 * 3600_000;

/** A CA and its API server on one manual clock (at a whole second: X.509 dates have no milliseconds), and an agent. */
async function setup(t: TestContext, stack: ClientStackName, ttlSeconds?: number) {
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  const dir = mkdtempSync(join(tmpdir(), 'trellis-renewal-'));
  const ca = await CertificateAuthority.open({ stateDir: dir, minTtlMs: 1_000, clock });
  const tokens = WorkloadTokens.open(join(dir, 'token-key'));
  const tls = await ca.serverCertificate(['istiod.istio-system.svc', '127.0.0.1']);
  let server = new CaServer({ signer: ca, authenticator: tokens, tls });
  const port = await server.listen('127.0.0.1', 0);
  const agent = new WorkloadIdentity({
    identity: productpage,
    caAddress: `127.0.0.1:${port}`,
    rootPem: ca.trustBundle(),
    token: () => tokens.issue('default', 'bookinfo-productpage'),
    serverName: 'istiod.istio-system.svc',
    clock,
    stack,
    ...(ttlSeconds ? { ttlSeconds } : {}),
  });
  t.after(async () => {
    agent.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    clock,
    agent,
    caDown: () => server.close(),
    caUp: async () => {
      server = new CaServer({ signer: ca, authenticator: tokens, tls });
      await server.listen('127.0.0.1', port);
    },
  };
}

for (const stack of CLIENT_STACKS) {
test(`${stack} client: renewal at half the lifetime, counted from the request (not the backdated notBefore), again after each renewal`, async (t) => {
  const { clock, agent } = await setup(t, stack);
  const start = clock.now();
  const first = await agent.start();
  assert.equal(first.notAfter.getTime(), start + DAY, 'the default lifetime is 24 h');
  assert.equal(clock.pending, 1);
  assert.equal(clock.nextIn(), DAY / 2);
  clock.advance(DAY / 2 - 1);
  assert.equal(clock.nextIn(), 1, 'not renewed a millisecond early');
  let renewed = once(agent, 'rotated');
  clock.advance(1);
  const [second] = (await renewed) as [IssuedCertificate];
  assert.notEqual(second.certChain, first.certChain);
  assert.equal(second.notAfter.getTime(), start + DAY / 2 + DAY);
  assert.equal(agent.current, second);
  assert.equal(clock.nextIn(), DAY / 2);
  renewed = once(agent, 'rotated');
  clock.advance(DAY / 2);
  const [third] = (await renewed) as [IssuedCertificate];
  assert.equal(third.notAfter.getTime(), start + DAY + DAY);
  agent.stop();
  assert.equal(clock.pending, 0, 'stop() cancels the next renewal');
});

test(`${stack} client: a CA outage: retries every quarter of the time left (at most 5 s, at least 250 ms), then renewal once the CA is back, before the old certificate ends`, async (t) => {
  const { clock, agent, caDown, caUp } = await setup(t, stack, 20);
  const first = await agent.start();
  await caDown();
  const delays: number[] = [];
  const errors: string[] = [];
  agent.on('error', (e) => errors.push(e.message));
  // The renewal at half-life (10 s before the end), then every retry, fails while the CA is away.
  for (let attempt = 0; attempt < 11; attempt++) {
    const failed = once(agent, 'error');
    clock.advance(clock.nextIn()!);
    await failed;
    delays.push(clock.nextIn()!);
  }
  assert.equal(errors.length, 11);
  // 10 s left: 2.5 s; then a quarter of what is left each time, down to the 250 ms floor (rounded: an epoch in ms
  // leaves a double about 0.0002 ms of resolution).
  assert.deepEqual(delays.map(Math.round), [2500, 1875, 1406, 1055, 791, 593, 445, 334, 250, 250, 250]);
  await caUp();
  const renewed = once(agent, 'rotated');
  clock.advance(clock.nextIn()!);
  const [second] = (await renewed) as [IssuedCertificate];
  assert.ok(clock.now() < first.notAfter.getTime(), 'renewed before the old certificate ended');
  assert.notEqual(second.certChain, first.certChain);
  // X.509 drops the milliseconds of notAfter; the clock is now part-way through a second
  const lifetime = second.notAfter.getTime() - clock.now();
  assert.ok(lifetime > 19_000 && lifetime <= 20_000, `${lifetime} ms`);
  assert.equal(Math.round(clock.nextIn()!), Math.round(lifetime / 2), 'back to renewing at half-life');
});

test(`${stack} client: a lifetime whose half is past Node's longest timer (~24.8 days) is renewed a little early, not at once`, async (t) => {
  const { clock, agent } = await setup(t, stack, 60 * 24 * 3600);
  const first = await agent.start();
  assert.equal(first.notAfter.getTime() - clock.now(), 60 * DAY);
  assert.equal(clock.nextIn(), MAX_TIMER_MS);
  const renewed = once(agent, 'rotated');
  clock.advance(MAX_TIMER_MS);
  await renewed;
  assert.equal(clock.nextIn(), MAX_TIMER_MS);
});
}
