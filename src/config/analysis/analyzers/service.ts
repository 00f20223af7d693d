// Kubernetes Service and ServiceEntry analyzers: Istio's port naming convention, VIPs for TCP ServiceEntries, and
// ServiceEntries that give one host and port different protocols.

import { GROUPS } from '../../kinds.js';
import { pointer } from '../../resource.js';
import type { ServiceSpec } from '../../types/kubernetes.js';
import type { ServiceEntrySpec } from '../../types/networking.js';
import type { Analyzer } from '../analyzer.js';
import type { Typed } from '../config-index.js';
import { Messages } from '../messages.js';
import { SYSTEM_NAMESPACES } from './injection-state.js';
import { arr, fullName, isRecord, ofKind } from './util.js';

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
    // With DNS capture on, the proxy resolves the hosts to VIPs: those it allocates itself (auto-allocation), or those
    // the control plane allocated and wrote into the entry's status.
    const proxyMetadata = ctx.index.meshConfig.defaultConfig.proxyMetadata ?? {};
    const dnsCapture = String(proxyMetadata.ISTIO_META_DNS_CAPTURE) === 'true';
    if (dnsCapture && String(proxyMetadata.ISTIO_META_DNS_AUTO_ALLOCATE) === 'true') return;
    for (const se of ofKind<ServiceEntrySpec>(ctx.resources, GROUPS.ISTIO_NET, 'ServiceEntry')) {
      if (arr(se.spec.addresses).length > 0) continue;
      const allocated = isRecord(se.raw.status) ? arr(se.raw.status.addresses as unknown[] | undefined) : [];
      if (dnsCapture && allocated.length > 0) continue;
      arr(se.spec.ports).forEach((port, i) => {
        const protocol = port?.protocol ?? '';
        if (protocol !== '' && protocol.toUpperCase() !== 'TCP') return;
        ctx.report(Messages.ServiceEntryAddressesRequired, se, pointer('spec', 'ports', i), 'ServiceEntry addresses are required for this protocol.');
      });
    }
  },
};

/** The namespaces a resource is exported to ('*': every one), from its exportTo and its own namespace. */
function exportScopes(exportTo: unknown, own: string): string[] {
  const list = arr(exportTo as unknown[] | undefined).map(String);
  return list.length === 0 || list.includes('*') ? ['*'] : [...new Set(list.map((e) => (e === '.' ? own : e)))];
}

const seenTogether = (a: readonly string[], b: readonly string[]) => a.includes('*') || b.includes('*') || a.some((x) => b.includes(x));

export const conflictingServiceEntryProtocolAnalyzer: Analyzer = {
  name: 'serviceentry.ConflictingServiceEntryProtocolAnalyzer',
  description: 'Checks that ServiceEntries visible in one namespace give a host and port one protocol',
  analyze(ctx) {
    // Every (host, port) of every ServiceEntry, with the protocol it gives and the namespaces that see it.
    const entries: Array<{ se: Typed<ServiceEntrySpec>; host: string; port: number; protocol: string; scopes: string[]; at: string }> = [];
    for (const se of ofKind<ServiceEntrySpec>(ctx.resources, GROUPS.ISTIO_NET, 'ServiceEntry')) {
      const scopes = exportScopes(se.spec.exportTo, se.metadata.namespace);
      for (const host of arr(se.spec.hosts).filter((h): h is string => typeof h === 'string')) {
        arr(se.spec.ports).forEach((p, i) => {
          if (typeof p?.number !== 'number') return;
          entries.push({ se, host, port: p.number, protocol: String(p.protocol ?? '').toUpperCase(), scopes, at: pointer('spec', 'ports', i) });
        });
      }
    }
    for (const e of entries) {
      const clash = entries.filter((o) => o.se !== e.se && o.host === e.host && o.port === e.port && o.protocol !== e.protocol && seenTogether(o.scopes, e.scopes));
      if (clash.length === 0) continue;
      const all = [e, ...clash];
      const names = [...new Set(all.map((x) => fullName(x.se)))].sort();
      const protocols = [...new Set(all.map((x) => x.protocol || 'unset'))].sort();
      ctx.report(Messages.ConflictingServiceEntryProtocol, e.se, e.at, `Multiple ServiceEntries (${names.join(', ')}) define the same host ${JSON.stringify(e.host)} and port ${e.port} with conflicting protocols (${protocols.join(', ')}).`);
    }
  },
};
