// Workload analyzers: how Deployments relate to the Services that select them, and the UID reserved for the proxy.

import { pointer, type Resource } from '../../resource.js';
import { podTemplateOf, type DeploymentSpec, type PodSpec } from '../../types/kubernetes.js';
import type { Analyzer } from '../analyzer.js';
import type { ServiceInfo } from '../config-index.js';
import { matchesLabels, stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
import { inMesh, PROXY_CONTAINER } from './injection-state.js';
import { arr, fullName, isRecord, ofKind } from './util.js';

export const serviceAssociationAnalyzer: Analyzer = {
  name: 'deployment.MultiServiceAnalyzer',
  description: 'Checks association between services and pods',
  analyze(ctx) {
    for (const d of ofKind<DeploymentSpec>(ctx.resources, 'apps', 'Deployment')) {
      // Waypoint proxies are deployed by Istio itself and have no Service of their own to speak of.
      if (d.metadata.labels['gateway.istio.io/managed'] === 'istio.io/mesh-controller') continue;
      const template = d.spec.template;
      const labels = stringRecord(template?.metadata?.labels);
      if (!inMesh(ctx.index, d.metadata.namespace, labels, stringRecord(template?.metadata?.annotations), template?.spec?.containers)) continue;
      const services = ctx.index.services.filter(
        (s) => s.origin === 'Service' && s.namespace === d.metadata.namespace && s.selector && Object.keys(s.selector).length > 0 && matchesLabels(s.selector, labels),
      );
      if (services.length === 0) {
        // Istio retired this check after 1.19 (istioctl no longer reports it); Trellis keeps it for the directories it
        // runs, where a Deployment without a Service cannot be reached through the mesh.
        if (ctx.mode === 'local') ctx.report(Messages.DeploymentRequiresServiceAssociated, d, '/metadata/name', 'No service associated with this deployment. Service mesh deployments must be associated with a service.');
        continue;
      }
      for (const [port, names] of conflictingProtocols(services)) {
        ctx.report(Messages.DeploymentAssociatedToMultipleServices, d, '/metadata/name', `This deployment ${d.metadata.name} is associated with multiple services using port ${port} but different protocols: [${names.join(' ')}]`);
      }
      for (const [target, byPort] of conflictingTargetPorts(services)) {
        const names = [...new Set(byPort.values())].sort();
        const ports = [...byPort.keys()].sort((a, b) => a - b);
        ctx.report(Messages.DeploymentConflictingPorts, d, '/metadata/name', `This deployment ${d.metadata.name} is associated with multiple services [${names.join(' ')}] using targetPort ${JSON.stringify(target)} but different ports: [${ports.join(' ')}].`);
      }
    }
  },
};

/** Ports that the selecting Services expose with different protocols (TCP by default), with the services involved. */
function conflictingProtocols(services: readonly ServiceInfo[]): Array<[number, string[]]> {
  const byPort = new Map<number, Map<string, string[]>>();
  for (const s of services) {
    for (const p of s.ports) {
      const protocols = byPort.get(p.number) ?? new Map<string, string[]>();
      const protocol = p.protocol || 'TCP';
      protocols.set(protocol, [...(protocols.get(protocol) ?? []), fullName(s.resource)]);
      byPort.set(p.number, protocols);
    }
  }
  const out: Array<[number, string[]]> = [];
  for (const [port, protocols] of [...byPort].sort((a, b) => a[0] - b[0])) {
    if (protocols.size > 1) out.push([port, [...protocols.values()].flat().sort()]);
  }
  return out;
}

/** targetPorts that selecting Services reach from different service ports (port → service name). */
function conflictingTargetPorts(services: readonly ServiceInfo[]): Array<[string, Map<number, string>]> {
  const byTarget = new Map<string, Map<number, string>>();
  for (const s of services) {
    for (const p of s.ports) {
      const target = p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '' ? String(p.number) : String(p.targetPort);
      const ports = byTarget.get(target) ?? new Map<number, string>();
      ports.set(p.number, fullName(s.resource));
      byTarget.set(target, ports);
    }
  }
  return [...byTarget].filter(([, ports]) => ports.size > 1).sort((a, b) => a[0].localeCompare(b[0]));
}

const PROXY_UID = 1337;

export const applicationUIDAnalyzer: Analyzer = {
  name: 'applicationUID.Analyzer',
  description: 'Checks that application containers do not run as the UID reserved for the sidecar proxy',
  analyze(ctx) {
    for (const r of ctx.resources) {
      if (!(r.group === '' && r.kind === 'Pod') && !(r.group === 'apps' && r.kind === 'Deployment')) continue;
      const spec = podTemplateOf(r)?.spec;
      if (!isRecord(spec)) continue;
      const base = r.kind === 'Pod' ? '/spec' : '/spec/template/spec';
      for (const at of uidPointers(spec, base)) {
        ctx.report(Messages.InvalidApplicationUID, r as Resource, at, 'User ID (UID) 1337 is reserved for the sidecar proxy.');
      }
    }
  },
};

function uidPointers(spec: PodSpec, base: string): string[] {
  const out: string[] = [];
  if (Number((spec.securityContext as { runAsUser?: unknown } | undefined)?.runAsUser) === PROXY_UID) out.push(`${base}/securityContext/runAsUser`);
  arr(spec.containers).forEach((c, i) => {
    if (c?.name === PROXY_CONTAINER) return;
    if (Number((c?.securityContext as { runAsUser?: unknown } | undefined)?.runAsUser) === PROXY_UID) out.push(`${base}${pointer('containers', i, 'securityContext', 'runAsUser')}`);
  });
  return out;
}
