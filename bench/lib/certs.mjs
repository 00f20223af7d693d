// Certificates for the TLS rows, all from Trellis's own CA (dist/ca/ca.js), written as PEM files:
// - SPIFFE workload certificates (URI SAN, serverAuth+clientAuth, P-256), what `trellis up` hands each sidecar, for
//   the two Trellis sidecars (ISTIO_MUTUAL: each checks the other's chain, the client also its SPIFFE identity);
// - for nginx and haproxy, whose upstream verification checks a DNS name, a server certificate with a DNS SAN for
//   the second hop and a workload certificate as the first hop's client certificate. Same key type and CA for all.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority, createCsr, spiffeId } from '../../dist/ca/ca.js';
import { tempDir } from './proc.mjs';

export const SERVER_NAME = 'backend.bench.svc.cluster.local';

let made;
/** Creates the CA and certificates once per benchmark run; returns file paths. */
export function benchCerts() {
  made ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-certs-'));
    tempDir(dir);
    const ca = await CertificateAuthority.open({ stateDir: join(dir, 'ca') });
    const write = (name, text) => {
      const f = join(dir, name);
      writeFileSync(f, text, { mode: 0o600 });
      return f;
    };
    const workload = async (sa) => {
      const id = { trustDomain: 'cluster.local', namespace: 'bench', serviceAccount: sa };
      const { keyPem, csrPem } = await createCsr(id);
      const chain = (await ca.sign(csrPem, id, 24 * 3600_000)).join('');
      return { cert: write(`${sa}.crt`, chain), key: write(`${sa}.key`, keyPem), both: write(`${sa}.pem`, chain + keyPem), spiffe: spiffeId(id) };
    };
    const server = await ca.serverCertificate([SERVER_NAME]);
    return {
      dir,
      root: write('root.pem', ca.trustBundle()),
      client: await workload('bench-client'),
      server: await workload('bench-server'),
      dnsServer: { cert: write('dns-server.crt', server.cert), key: write('dns-server.key', server.key), both: write('dns-server.pem', server.cert + server.key) },
    };
  })();
  return made;
}
