// The container image definition (Dockerfile at the repository root; no docker here to build it): it builds on
// Node 20, copies only what exists (or what its build stage makes), runs as a numeric non-root user as the control
// plane's Deployment requires, and its entrypoint plus the Deployment's args is a command the CLI accepts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadText } from '../../config/loader.js';
import { meshTopologyOf } from '../../config/mesh-topology.js';
import { renderControlPlane } from './control-plane-manifests.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const BUILD_OUTPUTS = new Set(['dist', 'node_modules']);

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

function instructions(text: string): Instruction[] {
  let stage = -1;
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      if (op!.toUpperCase() === 'FROM') stage++;
      return { op: op!.toUpperCase(), args: rest.join(' '), stage };
    });
}

const dockerfile = instructions(readFileSync(`${root}/Dockerfile`, 'utf8'));

test('the image builds on Node 20 and copies only files that exist or its build stage makes', () => {
  const froms = dockerfile.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0]!);
  assert.ok(froms.length > 0 && froms.every((f) => /^node:20(-|$)/.test(f)), froms.join(', '));
  for (const copy of dockerfile.filter((i) => i.op === 'COPY')) {
    const words = copy.args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='));
    const sources = words.filter((w) => !w.startsWith('--')).slice(0, -1);
    for (const source of sources) {
      if (!from) assert.ok(existsSync(`${root}/${source}`), `COPY ${source}: no such file in the repository`);
      else {
        // From the build stage: its WORKDIR is /src, where the repository's files were copied or built.
        const path = source.replace(/^\/src\//, '');
        const top = path.split('/')[0]!;
        assert.ok(BUILD_OUTPUTS.has(top) || existsSync(`${root}/${path}`), `COPY ${from} ${source}: neither built nor in the repository`);
      }
    }
  }
});

test("the entrypoint runs the trellis CLI, and the control plane Deployment's args are a command it accepts", () => {
  const entrypoint = JSON.parse(dockerfile.filter((i) => i.op === 'ENTRYPOINT').at(-1)!.args) as string[];
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { bin: Record<string, string> };
  assert.equal(entrypoint[0], 'node');
  const workdir = dockerfile.filter((i) => i.op === 'WORKDIR').at(-1)!.args;
  assert.equal(entrypoint[1], `${workdir}/${pkg.bin.trellis!.replace(/^\.\//, '')}`, 'the entrypoint is the package\'s trellis bin');

  const [smcp] = loadText(`apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec: {mode: ClusterWide}
`, 'smcp.yaml').resources;
  const plane = meshTopologyOf([smcp!]).controlPlanes[0]!;
  const deployment = renderControlPlane(plane, {}).find((o) => o.kind === 'Deployment') as {
    spec: { template: { spec: { containers: Array<{ command?: string[]; args: string[]; securityContext?: { runAsNonRoot?: boolean; runAsUser?: number } }> } } };
  };
  const container = deployment.spec.template.spec.containers[0]!;
  assert.equal(container.command, undefined, 'the Deployment relies on the image entrypoint');
  // The image's entrypoint with the Deployment's args, run from the repository: the CLI knows the command.
  const cli = spawnSync(process.execPath, [`${root}/${pkg.bin.trellis}`, container.args[0]!, '--help'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /--in-cluster/);
  for (const arg of container.args.filter((a) => a.startsWith('--'))) assert.ok(cli.stdout.includes(arg), `trellis ${container.args[0]} has no ${arg}`);

  // runAsNonRoot without runAsUser needs a numeric non-root USER in the image.
  if (container.securityContext?.runAsNonRoot && container.securityContext.runAsUser === undefined) {
    const user = dockerfile.filter((i) => i.op === 'USER').at(-1)?.args ?? '0';
    assert.match(user, /^[1-9]\d*(:\d+)?$/, `USER ${user}`);
  }
});
