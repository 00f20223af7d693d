// Istio Gateway analyzers: workload selector and ports, credential secrets, duplicate certificates, conflicting servers.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { hostsIntersect } from '../../hosts.js';
import { GROUPS } from '../../kinds.js';
import { pointer, type Resource } from '../../resource.js';
import type { GatewaySpec, ServerTLSSettings } from '../../types/networking.js';
import type { Analyzer, AnalysisContext } from '../analyzer.js';
import type { Workload } from '../config-index.js';
import { matchesLabels, selectorString, stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
import { arr, fullName, isRecord, ofKind } from './util.js';

const gateways = (ctx: AnalysisContext) => ofKind<GatewaySpec>(ctx.resources, GROUPS.ISTIO_NET, 'Gateway');

export const ingressGatewayPortAnalyzer: Analyzer = {
  name: 'gateway.IngressGatewayPortAnalyzer',
  description: "Checks a gateway's ports against the gateway's Kubernetes service ports",
  analyze(ctx) {
    for (const gw of gateways(ctx)) {
      const selector = stringRecord(gw.spec.selector);
      const sel = selectorString(selector);
      const workloads = ctx.index.gatewayWorkloads(selector);
      if (workloads.length === 0) {
        ctx.report(Messages.ReferencedResourceNotFound, gw, '/spec/selector', `Referenced selector not found: ${JSON.stringify(sel)}`);
        continue;
      }
      // Like Istio: a port is fine when any Service of any selected workload sends to it (its targetPort, or its port
      // when there is no targetPort). The server port is where the gateway proxy listens.
      const offered = new Set<number>();
      let anyService = false;
      for (const w of workloads) {
        for (const s of ctx.index.servicesSelecting(w)) {
          anyService = true;
          for (const p of s.ports) {
            if (p.protocol && p.protocol !== 'TCP') continue;
            const target = typeof p.targetPort === 'number' ? p.targetPort : typeof p.targetPort === 'string' && /^\d+$/.test(p.targetPort) ? Number(p.targetPort) : undefined;
            offered.add(target ?? p.number);
            // A named targetPort resolves through the container ports of the workload.
            if (typeof p.targetPort === 'string' && target === undefined) for (const n of namedPort(w, p.targetPort)) offered.add(n);
          }
        }
      }
      if (!anyService) continue; // no Service fronts the gateway: nothing to compare with
      arr(gw.spec.servers).forEach((server, i) => {
        const n = server?.port?.number;
        if (typeof n !== 'number' || offered.has(n)) return;
        ctx.report(Messages.GatewayPortNotOnWorkload, gw, pointer('spec', 'servers', i, 'port', 'number'), `The gateway refers to a port that is not exposed on the workload (pod selector ${sel}; port ${n})`);
      });
    }
  },
};

function namedPort(w: Workload, name: string): number[] {
  const out: number[] = [];
  for (const c of arr(w.podSpec?.containers)) for (const p of arr(c?.ports)) if (p?.name === name && typeof p.containerPort === 'number') out.push(p.containerPort);
  return out;
}

export const gatewaySecretAnalyzer: Analyzer = {
  name: 'gateway.SecretAnalyzer',
  description: "Checks a gateway's referenced secrets for correctness",
  analyze(ctx) {
    for (const gw of gateways(ctx)) {
      const workloads = ctx.index.gatewayWorkloads(stringRecord(gw.spec.selector));
      if (workloads.length === 0) continue; // reported by the port analyzer
      // The secret is read by the gateway workload, so it must live in the workload's namespace, not the Gateway's.
      const ns = workloads[0]!.namespace;
      arr(gw.spec.servers).forEach((server, i) => {
        const cn = server?.tls?.credentialName;
        if (typeof cn !== 'string' || cn === '') return;
        const at = pointer('spec', 'servers', i, 'tls', 'credentialName');
        const secret = ctx.index.secret(ns, cn);
        if (!secret) {
          ctx.report(Messages.ReferencedResourceNotFound, gw, at, `Referenced credentialName not found: ${JSON.stringify(cn)}`);
          return;
        }
        let problem = credentialProblem(secret);
        // For MUTUAL, the CA that verifies clients comes from the same secret or from a `<name>-cacert` one.
        if (!problem && server?.tls?.mode === 'MUTUAL' && !hasCA(secret) && !ctx.index.secret(ns, `${cn}-cacert`)) {
          problem = `MUTUAL mode needs a CA certificate: secret ${fullName(secret)} has no ca.crt and there is no secret ${ns}/${cn}-cacert`;
        }
        if (problem) {
          ctx.report(Messages.InvalidGatewayCredential, gw, at, `The credential referenced by the Gateway ${gw.metadata.name} in namespace ${gw.metadata.namespace} is invalid, which can cause the traffic not to work as expected: ${problem}.`);
        }
      });
    }
  },
};

/** What is wrong with a gateway credential secret: missing keys, a certificate or key that does not parse, an expired or mismatched pair. */
export function credentialProblem(secret: Resource, now: Date = new Date()): string | undefined {
  const data = readSecretData(secret);
  // Istio accepts a kubernetes.io/tls secret (tls.crt, tls.key) or a generic one (cert, key, cacert).
  const certKey = data.has('tls.crt') ? 'tls.crt' : data.has('cert') ? 'cert' : undefined;
  const keyKey = data.has('tls.key') ? 'tls.key' : data.has('key') ? 'key' : undefined;
  if (!certKey || !keyKey) return `secret ${fullName(secret)} has no ${certKey ? 'private key (tls.key)' : 'certificate (tls.crt)'}`;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(data.get(certKey)!);
  } catch {
    return `${certKey} in secret ${fullName(secret)} is not a PEM certificate`;
  }
  try {
    const key = createPrivateKey(data.get(keyKey)!);
    if (!cert.checkPrivateKey(key)) return `${keyKey} in secret ${fullName(secret)} does not match its certificate`;
  } catch {
    return `${keyKey} in secret ${fullName(secret)} is not a PEM private key`;
  }
  if (new Date(cert.validTo).getTime() < now.getTime()) return `the certificate in secret ${fullName(secret)} expired on ${cert.validTo}`;
  return undefined;
}

function hasCA(secret: Resource): boolean {
  const data = readSecretData(secret);
  return data.has('ca.crt') || data.has('cacert');
}

/** A Secret's payload as bytes: `data` is base64, `stringData` is plain text (and wins, as the API server merges it last). */
function readSecretData(secret: Resource): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const data = secret.raw.data;
  if (isRecord(data)) for (const [k, v] of Object.entries(data)) if (typeof v === 'string') out.set(k, Buffer.from(v, 'base64'));
  const stringData = secret.raw.stringData;
  if (isRecord(stringData)) for (const [k, v] of Object.entries(stringData)) if (typeof v === 'string') out.set(k, Buffer.from(v, 'utf8'));
  return out;
}

export const gatewayCertificateAnalyzer: Analyzer = {
  name: 'gateway.CertificateAnalyzer',
  description: 'Checks a gateway certificate',
  analyze(ctx) {
    const all = gateways(ctx);
    for (const gw of all) {
      const selector = stringRecord(gw.spec.selector);
      for (const other of all) {
        if (other === gw || !matchesLabels(selector, stringRecord(other.spec.selector))) continue;
        arr(gw.spec.servers).forEach((server, i) => {
          if (!isRecord(server?.tls)) return;
          const dup = arr(other.spec.servers).some((o) => isRecord(o?.tls) && sameCertificate(server.tls!, o.tls!));
          if (!dup) return;
          const at = server.tls.credentialName ? pointer('spec', 'servers', i, 'tls', 'credentialName') : pointer('spec', 'servers', i, 'tls', 'serverCertificate');
          ctx.report(Messages.GatewayDuplicateCertificate, gw, at, `Duplicate certificate in multiple gateways [${fullName(gw)} ${fullName(other)}] may cause 404s if clients re-use HTTP2 connections.`);
        });
      }
    }
  },
};

function sameCertificate(a: ServerTLSSettings, b: ServerTLSSettings): boolean {
  if (a.credentialName && b.credentialName) return a.credentialName === b.credentialName;
  if (!a.credentialName && !b.credentialName && a.serverCertificate && b.serverCertificate && a.serverCertificate === b.serverCertificate) {
    return !!a.privateKey && !!b.privateKey && a.privateKey === b.privateKey;
  }
  return false;
}

export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: "Checks a gateway's selector, port number and hosts",
  analyze(ctx) {
    const all = gateways(ctx);
    for (const gw of all) {
      const sel = selectorString(stringRecord(gw.spec.selector));
      arr(gw.spec.servers).forEach((server, i) => {
        const port = server?.port?.number;
        if (typeof port !== 'number') return;
        const hosts = arr(server.hosts).filter((h): h is string => typeof h === 'string');
        const conflicts: string[] = [];
        for (const other of all) {
          if (other === gw || selectorString(stringRecord(other.spec.selector)) !== sel) continue;
          const clash = arr(other.spec.servers).some((o) => o?.port?.number === port && arr(o.hosts).some((oh) => hosts.some((h) => hostsIntersect(hostPart(h), hostPart(String(oh))))));
          if (clash) conflicts.push(fullName(other));
        }
        if (conflicts.length === 0) return;
        ctx.report(Messages.ConflictingGateways, gw, pointer('spec', 'servers', i, 'port', 'number'), `Conflict with gateways ${conflicts.join(',')} (workload selector ${sel}, port ${port}, hosts ${hosts.join(',')}).`);
      });
    }
  },
};

/** `ns/host` → `host`: gateway hosts may carry the namespace of the VirtualServices they accept. */
function hostPart(h: string): string {
  const slash = h.indexOf('/');
  return slash < 0 ? h : h.slice(slash + 1);
}
