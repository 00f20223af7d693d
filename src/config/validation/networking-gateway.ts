// Schema and Istio webhook rules for networking.istio.io Gateway: servers, their ports, hosts and TLS settings.

import type { SchemaObject } from 'ajv';
import { STRING, STRING_LIST, STRING_MAP, UINT32, listOf, strictObject } from './common-schemas.js';
import { at, asArray, asObject, asString, isIp, isSet, objectSchema, type Issues, type Obj } from './object-check.js';
import {
  PROTOCOL_LIST,
  SPEC,
  checkPortName,
  checkPortNumber,
  isHttpProtocol,
  isTlsProtocol,
  networkingValidator,
  parseProtocol,
  specOf,
  stringsWithIndex,
  unixAddressProblem,
} from './networking-common.js';
import { namespacedHostProblems } from './networking-hosts.js';
import { SERVER_TLS, checkServerTls } from './networking-tls.js';
import type { KindValidator } from './validator.js';

/** A service or gateway port: number, protocol and name (targetPort only means something for ServiceEntries). */
export const PORT: SchemaObject = strictObject({ number: UINT32, protocol: STRING, name: STRING, targetPort: UINT32 });

const gatewaySchema = objectSchema({
  spec: strictObject({
    servers: listOf(strictObject({ port: PORT, bind: STRING, hosts: STRING_LIST, tls: SERVER_TLS, defaultEndpoint: STRING, name: STRING }, ['port', 'hosts'])),
    selector: STRING_MAP,
  }),
});

function checkGateway(raw: Obj, out: Issues): void {
  const spec = specOf(raw);
  if (!spec) return;
  const servers = asArray(spec.servers);
  if (servers.length === 0) out.error(SPEC, 'a Gateway needs at least one server');
  const portNames = new Map<string, number>();
  const serverNames = new Map<string, number>();
  servers.forEach((s, i) => {
    const p = at(SPEC, 'servers', i);
    if (s === null) out.error(p, 'server must not be null');
    const server = asObject(s);
    if (!server) return;
    checkServer(server, p, out);
    const port = asObject(server.port);
    if (port && typeof port.name === 'string') {
      const earlier = portNames.get(port.name);
      if (earlier !== undefined) out.error(at(p, 'port', 'name'), `port name "${port.name}" is already used by servers[${earlier}]; port names must be unique in a Gateway`);
      else portNames.set(port.name, i);
    }
    if (typeof server.name === 'string' && server.name !== '') {
      const earlier = serverNames.get(server.name);
      if (earlier !== undefined) out.warn(at(p, 'name'), `server name "${server.name}" is already used by servers[${earlier}]`);
      else serverNames.set(server.name, i);
    }
  });
}

function checkServer(server: Obj, path: string, out: Issues): void {
  const hosts = stringsWithIndex(server.hosts);
  if (Array.isArray(server.hosts) && server.hosts.length === 0) out.error(at(path, 'hosts'), 'a server needs at least one host (use "*" for any)');
  for (const [host, i] of hosts) for (const problem of namespacedHostProblems(host, true)) out.error(at(path, 'hosts', i), problem);

  const bind = asString(server.bind) ?? '';
  const unix = bind.startsWith('unix://');
  if (unix) {
    const problem = unixAddressProblem(bind.slice('unix://'.length));
    if (problem) out.error(at(path, 'bind'), problem);
  } else if (bind !== '' && !isIp(bind)) out.error(at(path, 'bind'), `"${bind}" is not an IP address or unix:// socket path`);

  const port = asObject(server.port);
  let protocol: string | undefined;
  if (port) {
    const pp = at(path, 'port');
    if (typeof port.protocol === 'string') {
      protocol = parseProtocol(port.protocol);
      if (!protocol) out.error(at(pp, 'protocol'), `unsupported protocol "${port.protocol}"; use one of ${PROTOCOL_LIST}`);
    } else if (!isSet(port.protocol)) out.error(pp, 'missing required field "protocol"');
    if (unix) {
      if (typeof port.number === 'number' && port.number !== 0) out.error(at(pp, 'number'), 'port number must be 0 when the server binds a unix domain socket');
    } else if (!isSet(port.number)) out.error(pp, 'missing required field "number"');
    else if (port.number === 0) out.error(at(pp, 'number'), 'port 0 is out of range (1-65535)');
    else checkPortNumber(port.number, at(pp, 'number'), out);
    if (typeof port.targetPort === 'number' && port.targetPort > 0) out.error(at(pp, 'targetPort'), 'targetPort has no effect on Gateways; remove it');
    if (!isSet(port.name)) out.error(pp, 'missing required field "name"');
    else checkPortName(port.name, at(pp, 'name'), out);
  }

  checkServerTls(server.tls, at(path, 'tls'), out);
  const tls = asObject(server.tls);
  if (!protocol) return;
  if (isTlsProtocol(protocol) && !tls) {
    out.error(path, `a server with protocol ${protocol} needs tls settings (e.g. mode: SIMPLE with credentialName, or mode: PASSTHROUGH)`);
  } else if (!isTlsProtocol(protocol) && tls) {
    const mode = asString(tls.mode) ?? 'PASSTHROUGH';
    const passthrough = mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH';
    const certs = ['caCertificates', 'privateKey', 'serverCertificate'].some((f) => (asString(tls[f]) ?? '') !== '');
    // On a plain-text HTTP server, tls may only carry httpsRedirect.
    if (!isHttpProtocol(protocol)) out.error(at(path, 'tls'), `tls settings are only allowed on HTTPS and TLS servers (this one is ${protocol})`);
    else if (!passthrough || certs) out.error(at(path, 'tls'), `a plain-text ${protocol} server can only use tls.httpsRedirect; serve TLS on an HTTPS server`);
  }
  if (!isHttpProtocol(protocol) && tls?.httpsRedirect === true) out.warn(at(path, 'tls', 'httpsRedirect'), 'httpsRedirect only has an effect on HTTP servers');
}

export const gatewayValidator: KindValidator = networkingValidator({ name: 'dns-label', schema: gatewaySchema, check: checkGateway });
