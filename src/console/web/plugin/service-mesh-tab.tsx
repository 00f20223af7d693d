// The Service Mesh tab of a Service: the service's mesh page (health, workloads, config, metrics, and its actions).

import type { K8sResourceCommon } from '@openshift-console/dynamic-plugin-sdk';
import { ServicePage } from '../pages/details';
import { PluginFrame } from './setup';

export default function ServiceMeshTab({ obj }: { obj?: K8sResourceCommon }) {
  const namespace = obj?.metadata?.namespace;
  const name = obj?.metadata?.name;
  return <PluginFrame>{namespace && name ? <ServicePage namespace={namespace} name={name} /> : null}</PluginFrame>;
}
