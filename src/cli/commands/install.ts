// `trellis install -f FILE…`: the Kubernetes objects of the control planes that the ServiceMeshControlPlanes in FILE
// describe (with their member rolls and namespaces), as YAML for `kubectl apply -f -`; `--crds` puts the CRDs Trellis
// serves first. The operator loop (`trellis controlplane --kubeconfig … --operator`) applies the same objects itself.

import YAML from 'yaml';
import { loadPaths } from '../../config/loader.js';
import { meshTopologyOf } from '../../config/mesh-topology.js';
import { screen } from '../../controlplane/store/screen.js';
import { trellisCrds } from '../../k8s/crds.js';
import { DEFAULT_CONTROL_PLANE_IMAGE, renderControlPlane } from '../../k8s/install/control-plane-manifests.js';
import { parseCommandArgs, UsageError, type Command } from '../command.js';

const USAGE = `Usage: trellis install -f FILE|DIR [-f …] [options]

Prints the objects of every control plane whose ServiceMeshControlPlane is in the files: the istiod-<smcp>
ServiceAccount, Deployment and Service, and RBAC for its mode (ClusterWide: a ClusterRole; MultiTenant: a Role in its
namespace and in each member the member roll lists and the files declare). spec.runtime.defaults and
spec.runtime.components.pilot give the Deployment's replicas, nodeSelector, tolerations and resources.

Options:
  -f, --filename PATH   YAML file or directory (repeatable)
  --crds                print the CRDs Trellis serves (Istio, Gateway API, Maistra) first
  --image IMAGE         the control plane image (default ${DEFAULT_CONTROL_PLANE_IMAGE})`;

export const installCommand: Command = {
  name: 'install',
  usage: USAGE,
  async run(args) {
    const { values } = parseCommandArgs(args, { filename: { type: 'string', short: 'f', multiple: true }, crds: { type: 'boolean', default: false }, image: { type: 'string' } });
    const paths = values.filename ?? [];
    if (!paths.length) throw new UsageError('give the ServiceMeshControlPlane with -f FILE');
    const loaded = await loadPaths(paths);
    const { accepted, errors } = screen(loaded.resources, loaded.errors);
    for (const d of errors) process.stderr.write(`trellis install: ${d.file ?? ''}${d.line ? `:${d.line}` : ''}: [${d.code}] ${d.message}\n`);
    if (errors.length) return 1;
    const planes = meshTopologyOf(accepted).controlPlanes.filter((p) => p.smcp);
    if (!planes.length) throw new UsageError(`no ServiceMeshControlPlane in ${paths.join(', ')}`);
    const objects = [...(values.crds ? trellisCrds() : []), ...planes.flatMap((p) => renderControlPlane(p, { image: values.image }))];
    process.stdout.write(objects.map((o) => YAML.stringify(o)).join('---\n'));
    return 0;
  },
};
