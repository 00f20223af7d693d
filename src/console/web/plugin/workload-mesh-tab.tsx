// The Service Mesh tab of a Deployment, StatefulSet or DaemonSet: the workload's mesh page (health, config, proxy
// status, metrics, logs, Envoy) for the object the console shows.

import type { K8sResourceCommon } from '@openshift-console/dynamic-plugin-sdk';
import { WorkloadPage } from '../pages/details';
import { PluginFrame } from './setup';

export default function WorkloadMeshTab({ obj }: { obj?: K8sResourceCommon }) {
  const namespace = obj?.metadata?.namespace;
  const name = obj?.metadata?.name;
  return <PluginFrame>{namespace && name ? <WorkloadPage namespace={namespace} name={name} /> : null}</PluginFrame>;
}
