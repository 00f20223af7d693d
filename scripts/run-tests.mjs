// Runs the whole test suite on Node's own runner over the compiled tests in dist/, after installing the real peers it uses.
import { spawnSync } from 'node:child_process';
import { ensureSystemDeps } from './system-deps.mjs';

ensureSystemDeps('test');
const args = ['--test', ...process.argv.slice(2)];
if (process.argv.length <= 2) args.push('dist/');
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
