// Istio Gateway analyzers: workload selector and ports, credential secrets, duplicate certificates, conflicting servers.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { GROUPS } from '../../kinds.js';
import { pointer, type Resource } from '../../resource.js';
import type { GatewaySpec, ServerTLSSettings } from '../../types/networking.js';
import type { Analyzer, AnalysisContext } from '../analyzer.js';
import type { Typed, Workload } from '../config-index.js';
import { matchesLabels, selectorString, stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
import { arr, fullName, isRecord, ofKind } from './util.js';

const gateways = (ctx: AnalysisContext) => ofKind<GatewaySpec>(ctx.resources, GROUPS.ISTIO_NET, 'Gateway');

export const ingressGatewayPortAnalyzer: Analyzer = {
  name: 'gateway.IngressGatewayPortAnalyzer',
  description: "Checks a gateway's ports against the gateway's Kubernetes service ports",
  analyze(ctx) {
    for (const gw of gateways(ctx)) {
      const sel = selectorString(stringRecord(gw.spec.selector));
      const workloads = selectedGatewayWorkloads(ctx, gw);
      if (!workloads) continue;
      // Like Istio: a port is fine when any Service of any selected workload has it as its port or sends to it (its
      // targetPort). The server port is where the gateway proxy listens.
      const offered = new Set<number>();
      for (const w of workloads) {
        for (const s of ctx.index.servicesSelecting(w)) {
          for (const p of s.ports) {
            if (p.protocol && p.protocol !== 'TCP') continue;
            const target = typeof p.targetPort === 'number' ? p.targetPort : typeof p.targetPort === 'string' && /^\d+$/.test(p.targetPort) ? Number(p.targetPort) : undefined;
            offered.add(p.number);
            if (target) offered.add(target);
            // A named targetPort resolves through the container ports of the workload.
            if (typeof p.targetPort === 'string' && target === undefined) for (const n of namedPort(w, p.targetPort)) offered.add(n);
          }
        }
      }
      arr(gw.spec.servers).forEach((server, i) => {
        const n = server?.port?.number;
        if (typeof n !== 'number' || offered.has(n)) return;
        ctx.report(
          Messages.GatewayPortNotDefinedOnService,
          gw,
          pointer('spec', 'servers', i, 'port', 'number'),
          `The gateway is listening on a target port (port ${n}) that is not defined in the Service associated with its workload instances (Pod selector ${sel}). If you need to access the gateway port through the gateway Service, it will not be available.`,
        );
      });
    }
  },
};

/** The workloads a Gateway selects; when there are none, reports the selector as not found (as each of Istio's gateway analyzers does). */
function selectedGatewayWorkloads(ctx: AnalysisContext, gw: Typed<GatewaySpec>): Workload[] | undefined {
  const selector = stringRecord(gw.spec.selector);
  const workloads = ctx.index.gatewayWorkloads(selector);
  if (workloads.length > 0) return workloads;
  ctx.report(Messages.ReferencedResourceNotFound, gw, '/spec/selector', `Referenced selector not found: ${JSON.stringify(selectorString(selector))}`);
  return undefined;
}

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
      const workloads = selectedGatewayWorkloads(ctx, gw);
      if (!workloads) continue;
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
        // Where Trellis runs the gateway itself it checks what its proxy would refuse: the key, and MUTUAL's CA.
        const local = ctx.mode === 'local';
        let problem = credentialProblem(secret, { checkKey: local });
        // For MUTUAL, the CA that verifies clients comes from the same secret or from a `<name>-cacert` one.
        if (local && !problem && server?.tls?.mode === 'MUTUAL' && !hasCA(secret) && !ctx.index.secret(ns, `${cn}-cacert`)) {
          problem = `MUTUAL mode needs a CA certificate: secret ${fullName(secret)} has no ca.crt and there is no secret ${ns}/${cn}-cacert`;
        }
        if (problem) {
          ctx.report(Messages.InvalidGatewayCredential, gw, at, `The credential referenced by the Gateway ${gw.metadata.name} in namespace ${ns} is invalid, which can cause the traffic not to work as expected: ${problem}.`);
        }
      });
    }
  },
};

/**
 * What is wrong with a gateway credential secret: missing keys, a certificate that does not parse or has expired (Istio's
 * checks), and with `checkKey`, a private key that does not parse or does not match the certificate (which a proxy
 * refuses too, so Trellis checks it where it runs the gateway itself).
 */
export function credentialProblem(secret: Resource, { now = new Date(), checkKey = true }: { now?: Date; checkKey?: boolean } = {}): string | undefined {
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
  if (new Date(cert.validTo).getTime() < now.getTime()) return `the certificate in secret ${fullName(secret)} expired on ${cert.validTo}`;
  if (!checkKey) return undefined;
  try {
    const key = createPrivateKey(data.get(keyKey)!);
    if (!cert.checkPrivateKey(key)) return `${keyKey} in secret ${fullName(secret)} does not match its certificate`;
  } catch {
    return `${keyKey} in secret ${fullName(secret)} is not a PEM private key`;
  }
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
      const selector = stringRecord(gw.spec.selector);
      const sel = selectorString(selector);
      // Gateways apply to the same proxies when their selectors are the same, or when a workload matches both.
      const sharing = all.filter((other) => {
        if (other === gw) return false;
        const otherSelector = stringRecord(other.spec.selector);
        if (selectorString(otherSelector) === sel) return true;
        return ctx.index.workloads.some((w) => matchesLabels(selector, w.labels) && matchesLabels(otherSelector, w.labels));
      });
      arr(gw.spec.servers).forEach((server, i) => {
        const port = server?.port?.number;
        if (typeof port !== 'number') return;
        const hosts = arr(server.hosts).filter((h): h is string => typeof h === 'string');
        const bind = server.bind ?? '';
        // As istiod: a server is dropped when the same host name (as written) and bind already serve that port.
        const conflicts = sharing.filter((other) =>
          arr(other.spec.servers).some((o) => o?.port?.number === port && (o.bind ?? '') === bind && arr(o.hosts).some((h) => hosts.includes(String(h)))),
        );
        if (conflicts.length === 0) return;
        ctx.report(Messages.ConflictingGateways, gw, pointer('spec', 'servers', i, 'port', 'number'), `Conflict with gateways ${conflicts.map(fullName).sort().join(',')} (workload selector ${sel}, port ${port}, hosts ${hosts.join(',')}).`);
      });
    }
  },
};
