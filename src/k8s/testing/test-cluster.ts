// A throw-away Kubernetes control plane for tests: Debian's etcd and a genuine kube-apiserver on 127.0.0.1 (token auth,
// RBAC, service-account tokens), in a temporary directory that stop() removes with the processes. No kubelet, scheduler
// or controller-manager: pods stay Pending unless a test writes their status, and nothing makes EndpointSlices.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../free-port.js';
import { kubeApiserverBinary } from './kube-apiserver-binary.js';

const READY_MS = 90_000;
const STOP_MS = 10_000;

export interface TestClusterOptions {
  /** Extra kube-apiserver flags. */
  apiserverArgs?: string[];
  log?: (line: string) => void;
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Why a test cluster cannot run here (undefined when it can): etcd and kubectl come from Debian's `etcd-server` and
 * `kubernetes-client` (scripts/system-deps.mjs installs them for `npm test`); the kube-apiserver from
 * kubeApiserverBinary(), which may build it.
 */
export async function testClusterUnavailable(): Promise<string | undefined> {
  for (const [command, pkg] of [['etcd', 'etcd-server'], ['kubectl', 'kubernetes-client']]) {
    if (!onPath(command!)) return `${command} is not installed (Debian package ${pkg}; node scripts/system-deps.mjs test installs it)`;
  }
  const binary = await kubeApiserverBinary();
  return 'unavailable' in binary ? binary.unavailable : undefined;
}

/** A process of the cluster: how to start it again and the child now running. */
interface Member {
  name: string;
  command: string;
  args: string[];
  child: ChildProcess;
}

const started = new Set<ChildProcess>();
const dirs = new Set<string>();
// A test process that ends without its after() (a failed before(), an uncaught error, a timeout's exit) must not leave
// etcd, the API server or their data behind.
process.once('exit', () => {
  for (const c of started) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export class TestCluster {
  private constructor(
    readonly dir: string,
    readonly server: string,
    readonly token: string,
    readonly kubeconfig: string,
    private readonly etcd: Member,
    private apiserver: Member,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts etcd, then the API server, and resolves once `/readyz` answers `ok` (about 7 s). */
  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    const log = options.log ?? ((line: string) => process.stderr.write(`test-cluster: ${line}\n`));
    const binary = await kubeApiserverBinary({ log });
    if ('unavailable' in binary) throw new Error(binary.unavailable);
    const dir = mkdtempSync(join(tmpdir(), 'trellis-k8s-'));
    dirs.add(dir);
    const members: Member[] = [];
    try {
      const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      const token = randomBytes(32).toString('hex');
      writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
      // The key pair that signs and checks service-account tokens (TokenRequest, TokenReview).
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
      const etcdUrl = `http://127.0.0.1:${etcdPort}`;
      const peerUrl = `http://127.0.0.1:${peerPort}`;
      const etcd = launch(dir, 'etcd', 'etcd', [
        '--name', 'test', '--data-dir', join(dir, 'etcd'), '--unsafe-no-fsync',
        '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
        '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `test=${peerUrl}`,
      ]);
      members.push(etcd);
      await waitFor('etcd', etcd, READY_MS, dir, async () => (await fetch(`${etcdUrl}/health`).then((r) => r.ok, () => false)));
      // ServiceAccount admission is off (nobody creates the per-namespace "default" accounts without a controller
      // manager, so it would refuse every pod), and so is the endpoint reconciler (127.0.0.1 is no valid Endpoints address).
      const apiserver = launch(dir, 'kube-apiserver', binary.path, [
        '--etcd-servers', etcdUrl, '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1',
        '--secure-port', String(apiPort), '--insecure-port', '0', '--cert-dir', join(dir, 'certs'),
        '--token-auth-file', join(dir, 'tokens.csv'), '--authorization-mode', 'RBAC',
        '--service-cluster-ip-range', '10.96.0.0/16', '--allow-privileged',
        '--service-account-issuer', 'https://kubernetes.default.svc', '--api-audiences', 'https://kubernetes.default.svc,istio-ca',
        '--service-account-key-file', join(dir, 'sa.pub'), '--service-account-signing-key-file', join(dir, 'sa.key'),
        '--disable-admission-plugins', 'ServiceAccount', '--endpoint-reconciler-type', 'none',
        ...(options.apiserverArgs ?? []),
      ]);
      members.push(apiserver);
      const server = `https://127.0.0.1:${apiPort}`;
      await waitFor('kube-apiserver', apiserver, READY_MS, dir, () => readyz(server, token));
      // The server's self-signed certificate, written into --cert-dir, is the one CA the kubeconfig trusts.
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          `clusters: [{name: test, cluster: {server: "${server}", certificate-authority: "${join(dir, 'certs', 'apiserver.crt')}"}}]`,
          `users: [{name: admin, user: {token: "${token}"}}]`,
          'contexts: [{name: test, context: {cluster: test, user: admin, namespace: default}}]',
          'current-context: test',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      log(`kube-apiserver ${server} (${binary.source}) ready; kubeconfig ${kubeconfig}`);
      return new TestCluster(dir, server, token, kubeconfig, etcd, apiserver, log);
    } catch (err) {
      for (const m of members.reverse()) await halt(m.child);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The CA certificate (PEM) that signs the API server's serving certificate. */
  caPem(): string {
    return readFileSync(join(this.dir, 'certs', 'apiserver.crt'), 'utf8');
  }

  /** Runs kubectl against this cluster; throws with its stderr when it fails. */
  kubectl(args: readonly string[], input?: string): string {
    const r = spawnSync('kubectl', ['--kubeconfig', this.kubeconfig, ...args], { input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.status}): ${r.stderr || r.error?.message}`);
    return r.stdout;
  }

  /**
   * kubectl without blocking this process: what the API server calls back into the test (an admission webhook served
   * here) must be able to answer while kubectl waits.
   */
  kubectlAsync(args: readonly string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn('kubectl', ['--kubeconfig', this.kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')} failed (${code}): ${err}`))));
      child.stdin.end(input ?? '');
    });
  }

  /** Stops the API server (etcd keeps the data); `start` again later with startApiServer(). */
  async stopApiServer(): Promise<void> {
    await halt(this.apiserver.child);
  }

  /** Starts the API server again on the same port, with the same certificates, keys and etcd. */
  async startApiServer(): Promise<void> {
    this.apiserver = launch(this.dir, this.apiserver.name, this.apiserver.command, this.apiserver.args);
    await waitFor('kube-apiserver', this.apiserver, READY_MS, this.dir, () => readyz(this.server, this.token));
  }

  /** Stops both processes and removes the directory. */
  async stop(): Promise<void> {
    await halt(this.apiserver.child);
    await halt(this.etcd.child);
    rmSync(this.dir, { recursive: true, force: true });
    dirs.delete(this.dir);
    this.log(`stopped ${this.server}`);
  }
}

function launch(dir: string, name: string, command: string, args: string[]): Member {
  const out = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(command, args, { stdio: ['ignore', out, out] });
  closeSync(out);
  started.add(child);
  child.once('exit', () => started.delete(child));
  return { name, command, args, child };
}

async function halt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
  await gone;
  clearTimeout(timer);
}

async function waitFor(what: string, member: Member, ms: number, dir: string, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (member.child.exitCode !== null || member.child.signalCode !== null) throw new Error(`${what} exited (${member.child.exitCode ?? member.child.signalCode}):\n${logTail(dir, member.name)}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${ms / 1000} s:\n${logTail(dir, member.name)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function logTail(dir: string, name: string): string {
  try {
    return readFileSync(join(dir, `${name}.log`), 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

/** `GET /readyz` answers `ok`. Only the readiness probe skips certificate checks: the certificate does not exist yet. */
function readyz(server: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(`${server}/readyz`, { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && body === 'ok'));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}
