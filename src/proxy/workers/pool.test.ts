// The worker pool in this (test) process as its primary: secrets reach every worker, a replacement worker gets them
// before it listens, and a rotated certificate is what every worker presents next.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import type { Listener } from '../../xds/envoy/index.js';
import { TestPki, type Issued } from '../tls/pki-testing.js';
import { httpListener, routeConfig, vhost, waitFor } from '../testing.js';
import { WorkerPool } from './pool.js';

const TLS_LISTENER: Listener = (() => {
  const l = httpListener('tls', routeConfig('r', [vhost('all', ['*'], [{ match: { prefix: '/' }, directResponse: { status: 200, body: { inlineString: 'over tls' } } }])]));
  l.filterChains![0]!.transportSocket = {
    name: 'envoy.transport_sockets.tls',
    typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }] } },
  };
  return l;
})();

/** One HTTPS request on a fresh connection: the body and the serial number of the certificate the worker presented. */
function get(port: number, ca: string): Promise<{ body: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', ca, agent: false, servername: 'localhost' }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ body, serial }));
    });
    req.on('error', reject);
  });
}

let pki: TestPki;
let pool: WorkerPool;

before(async () => {
  pki = await TestPki.create();
  pool = new WorkerPool({ count: 2, proxy: { listenerDrainMs: 500 } });
  await pool.start();
});

after(async () => {
  await pool.shutdown(500);
});

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;
const servedBy = async () => new Map((await pool.workers()).map((w) => [w.pid, w.downstreamRequests ?? 0]));

/**
 * Fresh connections until every worker has served some since the last time a connection presented another
 * certificate than `cert` (a rotation reaches the workers a moment apart).
 */
async function everyWorkerPresents(port: number, cert: string): Promise<void> {
  const serial = serialOf(cert);
  let base = await servedBy();
  await waitFor(
    async () => {
      for (let i = 0; i < 10; i++) {
        const r = await get(port, pki.ca);
        assert.equal(r.body, 'over tls');
        if (r.serial !== serial) {
          base = await servedBy();
          return false;
        }
      }
      const ws = await pool.workers();
      return ws.length === 2 && ws.every((w) => w.state === 'serving' && (w.downstreamRequests ?? 0) > (base.get(w.pid) ?? 0));
    },
    15_000,
    'every worker to present the certificate',
  );
}

test('secrets reach every worker, a restarted worker has them before it listens, a rotation reaches all', async () => {
  const first: Issued = await pki.issue(['localhost']);
  pool.setSecret('default', { certChain: first.cert, privateKey: first.key });
  const r = await pool.apply({ listeners: [TLS_LISTENER] });
  assert.equal(r.version, 1);
  const port = (await pool.admin.listeners()).find((l) => l.name === 'tls')!.port;
  assert.notEqual(port, 0);
  await everyWorkerPresents(port, first.cert);

  const victim = (await pool.workers())[0]!;
  process.kill(victim.pid, 'SIGKILL');
  await waitFor(async () => (await pool.workers()).some((w) => w.slot === victim.slot && w.pid !== victim.pid && w.state === 'serving'), 10_000, 'the replacement worker');
  await everyWorkerPresents(port, first.cert);

  const rotated = await pki.issue(['localhost']);
  pool.setSecret('default', { certChain: rotated.cert, privateKey: rotated.key });
  await everyWorkerPresents(port, rotated.cert);
});
