// HBONE over real sockets with certificates from the mesh CA: a tunnel carries bytes both ways with half-close, the
// server learns the client's SPIFFE ID, sessions are shared per identity and peer; a peer with another identity, a
// client without a certificate, a non-CONNECT request and a refused tunnel all fail as they should.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { CertificateAuthority, createCsr, spiffeId, type Identity } from '../../ca/ca.js';
import { HboneClient, HboneError, hboneServer, splitAuthority, type HboneStreamInfo, type TlsIdentity } from './hbone.js';

const client: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };
const server: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'reviews' };

let dir: string;
let ca: CertificateAuthority;
const ids = new Map<string, TlsIdentity>();
let echo: net.Server;
let echoPort: number;

async function identity(i: Identity): Promise<TlsIdentity> {
  const { keyPem, csrPem } = await createCsr(i);
  const chain = await ca.sign(csrPem, i, 3600_000);
  return { certChain: chain.slice(0, -1).join(''), privateKey: keyPem, rootCert: chain.at(-1)! };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-hbone-'));
  ca = await CertificateAuthority.open({ stateDir: dir });
  ids.set('client', await identity(client));
  ids.set('server', await identity(server));
  // The "app" behind the server: echoes, and ends its side when the client ends its.
  echo = net.createServer({ allowHalfOpen: true }, (s) => {
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
});

after(() => {
  echo.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An HBONE server that connects each tunnel to its authority, as a node proxy does; records what it saw. */
async function startServer(refuse?: (info: HboneStreamInfo) => number | undefined) {
  const seen: HboneStreamInfo[] = [];
  const s = hboneServer(ids.get('server')!, (stream, info) => {
    seen.push(info);
    const status = refuse?.(info);
    if (status) return void stream.respond({ ':status': status }, { endStream: true });
    const target = splitAuthority(info.authority)!;
    const up = net.connect({ host: target.host, port: target.port, allowHalfOpen: true }, () => {
      stream.respond({ ':status': 200 });
      stream.pipe(up);
      up.pipe(stream);
    });
  });
  await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
  return { s, seen, port: (s.server.address() as net.AddressInfo).port };
}

const target = (port: number, o: { identity?: TlsIdentity; peer?: string[] } = {}) => ({
  address: '127.0.0.1',
  port,
  identity: o.identity ?? ids.get('client')!,
  identityKey: 'client',
  peerPrincipals: o.peer ?? [spiffeId(server)],
  dial: () => net.connect({ host: '127.0.0.1', port }),
});

async function roundTrip(stream: http2.ClientHttp2Stream, text: string): Promise<string> {
  const got: Buffer[] = [];
  stream.on('data', (c: Buffer) => got.push(c));
  stream.end(text);
  await once(stream, 'end');
  return Buffer.concat(got).toString();
}

test('a tunnel carries bytes both ways (half-close included) and the server sees the client\'s identity', async () => {
  const { s, seen, port } = await startServer();
  const c = new HboneClient();
  try {
    const stream = await c.connect(target(port), `127.0.0.1:${echoPort}`);
    assert.equal(await roundTrip(stream, 'hello through HBONE'), 'hello through HBONE');
    assert.equal(seen[0]!.authority, `127.0.0.1:${echoPort}`);
    assert.equal(seen[0]!.peerPrincipal, spiffeId(client));
    // A second tunnel shares the session.
    assert.equal(await roundTrip(await c.connect(target(port), `127.0.0.1:${echoPort}`), 'again'), 'again');
    assert.equal(c.sessionCount, 1);
  } finally {
    c.close();
    s.close();
  }
});

test('a server with another identity than expected is refused by the client', async () => {
  const { s, port } = await startServer();
  const c = new HboneClient();
  try {
    await assert.rejects(c.connect(target(port, { peer: ['spiffe://cluster.local/ns/default/sa/ratings'] }), `127.0.0.1:${echoPort}`), /is spiffe:\/\/cluster.local\/ns\/default\/sa\/reviews, expected spiffe:\/\/cluster.local\/ns\/default\/sa\/ratings/);
  } finally {
    c.close();
    s.close();
  }
});

test('the server answers a refusal with its status, anything but CONNECT with 405, and takes no client without a certificate', async () => {
  const { s, port } = await startServer(() => 401);
  const c = new HboneClient();
  try {
    const err = await c.connect(target(port), `127.0.0.1:${echoPort}`).catch((e: HboneError) => e);
    assert.ok(err instanceof HboneError && err.status === 401);
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: ids.get('client')!.rootCert, cert: ids.get('client')!.certChain, key: ids.get('client')!.privateKey, checkServerIdentity: () => undefined });
    const get = session.request({ ':path': '/' });
    const [headers] = (await once(get, 'response')) as [http2.IncomingHttpHeaders];
    assert.equal(headers[':status'], 405);
    session.close();
    // No client certificate: the handshake fails (Node's TLS server enforces it).
    const bare = tls.connect({ host: '127.0.0.1', port, ca: ids.get('client')!.rootCert, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined });
    const outcome = await new Promise<string>((resolve) => {
      bare.once('error', (e) => resolve(e.message));
      bare.once('data', () => resolve('data'));
      bare.once('close', () => resolve('closed'));
    });
    assert.notEqual(outcome, 'data');
    bare.destroy();
  } finally {
    c.close();
    s.close();
  }
});

test('authorities: IPv4 and bracketed IPv6 with a port; anything else is not one', () => {
  assert.deepEqual(splitAuthority('10.0.0.1:9080'), { host: '10.0.0.1', port: 9080 });
  assert.deepEqual(splitAuthority('[fd00::1]:15008'), { host: 'fd00::1', port: 15008 });
  for (const bad of ['10.0.0.1', 'fd00::1:9080', '[fd00::1]', 'x:0', 'x:70000']) assert.equal(splitAuthority(bad), undefined, bad);
});
