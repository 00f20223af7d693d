// Kubernetes Service and ServiceEntry analyzers: Istio's port naming convention, and VIPs for TCP ServiceEntries.

import { GROUPS } from '../../kinds.js';
import { pointer } from '../../resource.js';
import type { ServiceSpec } from '../../types/kubernetes.js';
import type { ServiceEntrySpec } from '../../types/networking.js';
import type { Analyzer } from '../analyzer.js';
import { Messages } from '../messages.js';
import { SYSTEM_NAMESPACES } from './injection-state.js';
import { arr, isRecord, ofKind } from './util.js';

/** Protocols Istio recognises in a port name prefix (`http`, `http-web`, `grpc-api`…), compared case-insensitively. */
const PROTOCOLS = new Set(['tcp', 'udp', 'grpc', 'grpc-web', 'http', 'http_proxy', 'http2', 'https', 'tls', 'mongo', 'redis', 'mysql']);

/** Istio's protocol selection for a Service port name: `<protocol>` or `<protocol>-<suffix>`. */
export function protocolFromPortName(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower.startsWith('grpc-web')) return 'grpc-web';
  const dash = lower.indexOf('-');
  const prefix = dash >= 0 ? lower.slice(0, dash) : lower;
  return PROTOCOLS.has(prefix) ? prefix : undefined;
}

export const portNameAnalyzer: Analyzer = {
  name: 'service.PortNameAnalyzer',
  description: 'Checks the port names associated with each service',
  analyze(ctx) {
    for (const svc of ofKind<ServiceSpec>(ctx.resources, '', 'Service')) {
      if (SYSTEM_NAMESPACES.has(svc.metadata.namespace)) continue;
      // The control plane's own services are named by Istio's installer.
      if (svc.metadata.labels.istio !== undefined || svc.metadata.labels.release === 'istio') continue;
      const externalName = svc.spec.type === 'ExternalName';
      arr(svc.spec.ports).forEach((port, i) => {
        if (!isRecord(port)) return;
        if (port.protocol === 'UDP') return; // UDP is never sniffed
        if (port.appProtocol) return; // appProtocol, when set, decides the protocol instead of the name
        const name = typeof port.name === 'string' ? port.name : '';
        const unsupported = protocolFromPortName(name) === undefined;
        if (!unsupported && !(externalName && name === 'tcp')) return;
        if (externalName) {
          ctx.report(Messages.ExternalNameServiceTypeInvalidPortName, svc, pointer('spec', 'ports', i), 'Port name for ExternalName service is invalid. Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly');
          return;
        }
        const target = port.targetPort ?? port.port;
        ctx.report(Messages.PortNameIsNotUnderNamingConvention, svc, pointer('spec', 'ports', i), `Port name ${name} (port: ${port.port}, targetPort: ${target}) doesn't follow the naming convention of Istio port.`);
      });
    }
  },
};

export const serviceEntryAddressesAnalyzer: Analyzer = {
  name: 'serviceentry.Analyzer',
  description: 'Checks the validity of ServiceEntry',
  analyze(ctx) {
    // With DNS capture and auto-allocation on, the proxy gives each ServiceEntry a VIP itself.
    const proxyMetadata = ctx.index.meshConfig.defaultConfig.proxyMetadata ?? {};
    if (String(proxyMetadata.ISTIO_META_DNS_CAPTURE) === 'true' && String(proxyMetadata.ISTIO_META_DNS_AUTO_ALLOCATE) === 'true') return;
    for (const se of ofKind<ServiceEntrySpec>(ctx.resources, GROUPS.ISTIO_NET, 'ServiceEntry')) {
      if (arr(se.spec.addresses).length > 0) continue;
      arr(se.spec.ports).forEach((port, i) => {
        const protocol = port?.protocol ?? '';
        if (protocol !== '' && protocol.toUpperCase() !== 'TCP') return;
        ctx.report(Messages.ServiceEntryAddressesRequired, se, pointer('spec', 'ports', i), 'ServiceEntry addresses are required for this protocol.');
      });
    }
  },
};
