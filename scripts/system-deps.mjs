// Installs the Debian packages that the tests (and `trellis up`) run as real peers, when they are missing.
// Usage: node scripts/system-deps.mjs [test|demo]
import { spawnSync } from 'node:child_process';

/** command on PATH → Debian package that provides it, per purpose. */
const NEEDS = {
  // ip, iptables-restore and setpriv: pods in network namespaces with Istio's capture rules (trellis up --network netns).
  // tcpdump: the ambient tests capture the run's bridge to show that pod-to-pod bytes are TLS records only.
  // etcd, kubectl, xz: the Kubernetes-mode tests' etcd + kube-apiserver (src/k8s/testing).
  test: { cfssl: 'golang-cfssl', cfssljson: 'golang-cfssl', openssl: 'openssl', prometheus: 'prometheus', chromium: 'chromium', ip: 'iproute2', 'iptables-restore': 'iptables', setpriv: 'util-linux', tcpdump: 'tcpdump', etcd: 'etcd-server', kubectl: 'kubernetes-client', xz: 'xz-utils' },
  demo: { prometheus: 'prometheus', ip: 'iproute2', 'iptables-restore': 'iptables', setpriv: 'util-linux' },
  bench: { nginx: 'nginx', haproxy: 'haproxy', wrk: 'wrk', h2load: 'nghttp2-client' },
};

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export function ensureSystemDeps(purpose) {
  const wanted = NEEDS[purpose] ?? {};
  const packages = [...new Set(Object.entries(wanted).filter(([cmd]) => !have(cmd)).map(([, pkg]) => pkg))];
  if (packages.length === 0) return true;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  const run = (args) => {
    const [cmd, ...rest] = [...sudo, ...args];
    return spawnSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  process.stderr.write(`installing Debian packages: ${packages.join(' ')}\n`);
  const ok = run(['apt-get', 'update', '-qq']) && run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages]);
  if (!ok) process.stderr.write(`could not install ${packages.join(' ')}; tests that need them will fail\n`);
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) ensureSystemDeps(process.argv[2] ?? 'test');
