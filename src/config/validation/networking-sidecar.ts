// Schema and Istio webhook rules for networking.istio.io Sidecar: ingress and egress listeners, outbound traffic policy.

import { STRING, STRING_LIST, UINT32, WORKLOAD_LABEL_SELECTOR, enumOf, listOf, strictObject } from './common-schemas.js';
import { at, asArray, asObject, asString, isIp, isSet, objectSchema, type Issues, type Obj } from './object-check.js';
import {
  CONNECTION_POOL,
  DESTINATION,
  SPEC,
  checkConnectionPool,
  checkDestination,
  checkPortName,
  checkPortNumber,
  checkProtocol,
  checkWorkloadSelector,
  isHttpProtocol,
  networkingValidator,
  parseProtocol,
  specOf,
  stringsWithIndex,
  unixAddressProblem,
} from './networking-common.js';
import { fqdnProblem, namespacedHostProblems } from './networking-hosts.js';
import { SERVER_TLS, checkServerTls } from './networking-tls.js';
import type { KindValidator } from './validator.js';

const SIDECAR_PORT = strictObject({ number: UINT32, protocol: STRING, name: STRING, targetPort: UINT32 });
const CAPTURE_MODE = enumOf('DEFAULT', 'IPTABLES', 'NONE');

const sidecarSchema = objectSchema({
  spec: strictObject({
    workloadSelector: WORKLOAD_LABEL_SELECTOR,
    ingress: listOf(strictObject({ port: SIDECAR_PORT, bind: STRING, captureMode: CAPTURE_MODE, defaultEndpoint: STRING, tls: SERVER_TLS, connectionPool: CONNECTION_POOL })),
    egress: listOf(strictObject({ port: SIDECAR_PORT, bind: STRING, captureMode: CAPTURE_MODE, hosts: STRING_LIST })),
    outboundTrafficPolicy: strictObject({ mode: enumOf('REGISTRY_ONLY', 'ALLOW_ANY'), egressProxy: DESTINATION }),
    inboundConnectionPool: CONNECTION_POOL,
  }),
});

function checkSidecar(raw: Obj, out: Issues): void {
  const spec = specOf(raw);
  if (!spec) return;
  checkWorkloadSelector(spec.workloadSelector, at(SPEC, 'workloadSelector'), out, 'Sidecar', 'labels');
  const ingress = asArray(spec.ingress);
  const egress = asArray(spec.egress);
  if (ingress.length === 0 && egress.length === 0 && !isSet(spec.outboundTrafficPolicy) && !isSet(spec.inboundConnectionPool)) {
    out.error(SPEC, 'a Sidecar needs at least one of egress, ingress, outboundTrafficPolicy or inboundConnectionPool');
  }

  const ingressPorts = new Map<number, number>();
  ingress.forEach((value, i) => {
    const p = at(SPEC, 'ingress', i);
    if (value === null) out.error(p, 'ingress listener must not be null');
    const listener = asObject(value);
    if (listener) checkIngress(listener, p, ingressPorts, i, out);
  });
  checkConnectionPool(spec.inboundConnectionPool, at(SPEC, 'inboundConnectionPool'), out);

  const egressPorts = new Map<number, number>();
  const sockets = new Set<string>();
  let catchAll = -1;
  egress.forEach((value, i) => {
    const p = at(SPEC, 'egress', i);
    if (value === null) out.error(p, 'egress listener must not be null');
    const listener = asObject(value);
    if (!listener) return;
    const port = asObject(listener.port);
    if (!port) {
      // The listener without a port catches all other outbound traffic, so there is one and it comes last.
      if (catchAll >= 0) out.error(p, `only one egress listener may omit the port (egress[${catchAll}] already does)`);
      else if (i !== egress.length - 1) out.error(p, 'the egress listener without a port must be the last one');
      if (catchAll < 0) catchAll = i;
    } else {
      checkEgressPort(listener, port, p, out);
      const bind = asString(listener.bind) ?? '';
      if (port.number === 0 || !isSet(port.number)) {
        if (sockets.has(bind)) out.error(at(p, 'bind'), `another egress listener already binds ${bind || 'this socket'}; unix socket listeners must be unique`);
        sockets.add(bind);
      } else if (typeof port.number === 'number') {
        const earlier = egressPorts.get(port.number);
        if (earlier !== undefined) out.error(at(p, 'port', 'number'), `port ${port.number} is already used by egress[${earlier}]`);
        else egressPorts.set(port.number, i);
      }
    }
    checkEgressHosts(listener.hosts, at(p, 'hosts'), p, out);
  });

  checkOutboundPolicy(asObject(spec.outboundTrafficPolicy), at(SPEC, 'outboundTrafficPolicy'), out);
}

function checkIngress(listener: Obj, path: string, ports: Map<number, number>, index: number, out: Issues): void {
  const port = asObject(listener.port);
  if (!port) {
    out.error(path, 'port is required for ingress listeners: the port the workload receives traffic on');
    return;
  }
  const pp = at(path, 'port');
  if (typeof port.targetPort === 'number' && port.targetPort > 0) out.error(at(pp, 'targetPort'), 'targetPort has no effect on Sidecars; remove it');
  if (typeof port.name === 'string' && port.name !== '') checkPortName(port.name, at(pp, 'name'), out);
  checkProtocol(port.protocol, at(pp, 'protocol'), out);
  if (!isSet(port.number) || port.number === 0) out.error(pp, 'port.number is required (1-65535)');
  else checkPortNumber(port.number, at(pp, 'number'), out);
  checkBind(listener.bind, at(path, 'bind'), out);
  if (typeof port.number === 'number') {
    const earlier = ports.get(port.number);
    if (earlier !== undefined) out.error(at(pp, 'number'), `port ${port.number} is already used by ingress[${earlier}]`);
    else ports.set(port.number, index);
  }

  if (typeof listener.defaultEndpoint === 'string' && listener.defaultEndpoint !== '') {
    const problem = defaultEndpointProblem(listener.defaultEndpoint);
    if (problem) out.error(at(path, 'defaultEndpoint'), problem);
  }

  const tls = asObject(listener.tls);
  if (tls) {
    const tp = at(path, 'tls');
    if (asArray(tls.subjectAltNames).length > 0) out.error(at(tp, 'subjectAltNames'), 'subjectAltNames is not supported in sidecar ingress tls');
    if (tls.httpsRedirect === true) out.error(at(tp, 'httpsRedirect'), 'httpsRedirect is not supported in sidecar ingress tls');
    if ((asString(tls.credentialName) ?? '') !== '') out.error(at(tp, 'credentialName'), 'credentialName is not supported in sidecar ingress tls; use serverCertificate and privateKey');
    if (tls.mode === 'ISTIO_MUTUAL' || tls.mode === 'AUTO_PASSTHROUGH') out.error(at(tp, 'mode'), `mode ${tls.mode} cannot be used in sidecar ingress tls`);
    checkServerTls(tls, tp, out, { credentialName: false });
  }

  checkConnectionPool(listener.connectionPool, at(path, 'connectionPool'), out);
  const protocol = typeof port.protocol === 'string' ? parseProtocol(port.protocol) : undefined;
  if (isSet(asObject(listener.connectionPool)?.http) && protocol && !isHttpProtocol(protocol)) {
    out.warn(at(path, 'connectionPool', 'http'), `port ${String(port.number)} is not HTTP (${String(port.protocol)}), so only the tcp connection pool settings apply`);
  }
}

/** `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`, `[::]:PORT`, `:PORT` or `unix:///path`. */
function defaultEndpointProblem(endpoint: string): string | undefined {
  if (endpoint.startsWith('unix://')) return unixAddressProblem(endpoint.slice('unix://'.length));
  const form = 'defaultEndpoint must be 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port> or unix:///path';
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(endpoint);
  if (!m) return `"${endpoint}" is not host:port; ${form}`;
  const host = m[1] ?? m[2] ?? '';
  if (host !== '' && !['127.0.0.1', '0.0.0.0', '::1', '::'].includes(host)) return `"${endpoint}": ${form}`;
  const port = m[3]!;
  if (!/^\d+$/.test(port)) return `"${endpoint}": port "${port}" is not a number`;
  if (Number(port) < 1 || Number(port) > 65535) return `"${endpoint}": port ${port} is out of range (1-65535)`;
  return undefined;
}

function checkBind(bind: unknown, path: string, out: Issues): void {
  if (typeof bind === 'string' && bind !== '' && !isIp(bind)) out.error(path, `"${bind}" is not an IP address`);
}

function checkEgressPort(listener: Obj, port: Obj, listenerPath: string, out: Issues): void {
  const path = at(listenerPath, 'port');
  const bp = at(listenerPath, 'bind');
  if (typeof port.targetPort === 'number' && port.targetPort > 0) out.error(at(path, 'targetPort'), 'targetPort has no effect on Sidecars; remove it');
  if (typeof port.name === 'string' && port.name !== '') checkPortName(port.name, at(path, 'name'), out);
  checkProtocol(port.protocol, at(path, 'protocol'), out);
  const bind = asString(listener.bind) ?? '';
  if (!isSet(port.number) || port.number === 0) {
    // Port 0 means a unix domain socket listener.
    if (!bind.startsWith('unix://')) out.error(bp, 'an egress listener with port 0 (or no number) needs a unix:// bind address');
    else {
      const problem = unixAddressProblem(bind.slice('unix://'.length));
      if (problem) out.error(bp, problem);
    }
    const mode = asString(listener.captureMode) ?? 'DEFAULT';
    if (mode !== 'DEFAULT' && mode !== 'NONE') out.error(at(listenerPath, 'captureMode'), 'captureMode must be DEFAULT or NONE for unix socket listeners');
  } else {
    checkPortNumber(port.number, at(path, 'number'), out);
    checkBind(listener.bind, bp, out);
  }
}

function checkEgressHosts(value: unknown, path: string, listenerPath: string, out: Issues): void {
  const hosts = stringsWithIndex(value);
  if (asArray(value).length === 0) {
    out.error(listenerPath, 'an egress listener needs at least one host, e.g. "./*" or "istio-system/*"');
    return;
  }
  const byNamespace = new Map<string, Set<string>>();
  for (const [entry, i] of hosts) {
    const p = at(path, i);
    for (const problem of namespacedHostProblems(entry, false)) out.error(p, problem);
    const slash = entry.indexOf('/');
    if (slash < 0) continue;
    const ns = entry.slice(0, slash);
    const host = entry.slice(slash + 1);
    const seen = byNamespace.get(ns) ?? new Set<string>();
    if (host === '*' ? seen.size > 0 : seen.has(host) || seen.has('*')) out.warn(p, `"${entry}" repeats or overlaps an earlier host of namespace "${ns}"`);
    seen.add(host);
    byNamespace.set(ns, seen);
  }
  if (byNamespace.get('*')?.has('*') && byNamespace.size > 1) out.warn(path, '"*/*" already selects every host; the other entries add nothing');
}

function checkOutboundPolicy(policy: Obj | undefined, path: string, out: Issues): void {
  if (!policy) return;
  const proxy = asObject(policy.egressProxy);
  if (!proxy) return;
  const p = at(path, 'egressProxy');
  if ((asString(policy.mode) ?? 'REGISTRY_ONLY') !== 'ALLOW_ANY') {
    out.error(p, 'egressProxy can only be set with mode ALLOW_ANY');
    return;
  }
  if (typeof proxy.host === 'string') {
    const problem = fqdnProblem(proxy.host);
    if (problem) out.error(at(p, 'host'), problem);
  }
  if (!isSet(proxy.port)) out.error(p, 'egressProxy.port is required');
  // The host was checked above as a resolvable name; check the rest as any destination.
  checkDestination({ ...proxy, host: undefined }, p, out);
}

export const sidecarValidator: KindValidator = networkingValidator({ name: 'dns-subdomain', schema: sidecarSchema, check: checkSidecar });
