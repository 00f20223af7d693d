// Builds the proxy's native addons with npm's own node-gyp against the installed Node's headers: native/original-dst
// (getsockopt(SO_ORIGINAL_DST) for transparent capture) and native/pod-socket (the ztunnel's sockets inside ambient pods'
// network namespaces). Run by `npm ci` (prepare). Without a compiler it explains what is missing and exits 0: everything
// but `trellis up --network netns` (and ambient mode) works without them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ADDONS = ['original-dst', 'pod-socket'];

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  // npm ships node-gyp beside itself.
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  for (const candidate of [join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')]) if (existsSync(candidate)) return candidate;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

const missing = ['python3', 'make', 'cc'].filter((c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status !== 0);
const gyp = nodeGyp();
if (process.platform !== 'linux') {
  process.stderr.write('native addons: not Linux, skipped (trellis up uses --network loopback here)\n');
} else if (missing.length || !gyp) {
  process.stderr.write(`native addons: cannot build ${ADDONS.join(', ')}: missing ${[...missing, ...(gyp ? [] : ['node-gyp'])].join(', ')}. ` + 'Install them (Debian: apt-get install python3 make g++) and run `node scripts/build-native.mjs`; until then `trellis up` runs in --network loopback mode.\n');
} else {
  // Node's own headers where the install has them (no download): <prefix>/include/node.
  const prefix = join(dirname(process.execPath), '..');
  const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
  for (const addon of ADDONS) {
    const r = spawnSync(process.execPath, [gyp, 'rebuild', '--loglevel=warn', ...nodedir], { cwd: join(root, 'native', addon), stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) process.stderr.write(`native/${addon}: the build failed (above); \`trellis up\` runs in --network loopback mode until it is rebuilt\n`);
  }
}
