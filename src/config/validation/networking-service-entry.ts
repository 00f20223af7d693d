// Schema and Istio webhook rules for networking.istio.io ServiceEntry: hosts, addresses, ports, resolution and endpoints.

import type { Resource } from '../resource.js';
import { STRING_LIST, WORKLOAD_LABEL_SELECTOR, enumOf, listOf, strictObject } from './common-schemas.js';
import { at, asArray, asObject, asString, isIp, isIpOrCidr, isSet, objectSchema, type Issues, type Obj } from './object-check.js';
import {
  SPEC,
  checkExportTo,
  checkLabelMap,
  checkPortName,
  checkPortNumber,
  checkProtocol,
  checkWorkloadSelector,
  isHttpProtocol,
  isTlsProtocol,
  namespaceOf,
  networkingValidator,
  parseProtocol,
  specOf,
  stringsWithIndex,
} from './networking-common.js';
import { fqdnProblem, isPartialWildcard, wildcardDomainProblem } from './networking-hosts.js';
import { PORT } from './networking-gateway.js';
import { WORKLOAD_ENTRY, checkWorkloadEntry } from './networking-workload.js';
import type { KindValidator } from './validator.js';

/** Protocols carried over TCP without HTTP's Host header. */
const TCP_PROTOCOLS = new Set(['TCP', 'HTTPS', 'TLS', 'Mongo', 'Redis', 'MySQL']);

const serviceEntrySchema = objectSchema({
  spec: strictObject({
    hosts: STRING_LIST,
    addresses: STRING_LIST,
    ports: listOf(PORT),
    location: enumOf('MESH_EXTERNAL', 'MESH_INTERNAL'),
    resolution: enumOf('NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'),
    endpoints: listOf(WORKLOAD_ENTRY),
    workloadSelector: WORKLOAD_LABEL_SELECTOR,
    exportTo: STRING_LIST,
    subjectAltNames: STRING_LIST,
  }),
});

function checkServiceEntry(raw: Obj, out: Issues, resource: Resource): void {
  const spec = specOf(raw);
  if (!spec) return;
  const resolution = asString(spec.resolution) ?? 'NONE';
  const endpoints = asArray(spec.endpoints);
  const hasSelector = isSet(spec.workloadSelector);

  checkWorkloadSelector(spec.workloadSelector, at(SPEC, 'workloadSelector'), out, 'ServiceEntry', 'labels');
  if (hasSelector && isSet(spec.endpoints)) out.error(at(SPEC, 'workloadSelector'), 'set only one of workloadSelector and endpoints');

  const hosts = stringsWithIndex(spec.hosts);
  if (hosts.length === 0) out.error(SPEC, 'a ServiceEntry needs at least one host');
  for (const [host, i] of hosts) {
    const p = at(SPEC, 'hosts', i);
    if (host === '*') {
      out.error(p, '"*" is not allowed as a ServiceEntry host: name the hosts, or use a wildcard such as *.example.com');
      continue;
    }
    const problem = wildcardDomainProblem(host);
    if (problem) out.error(p, problem);
    else if (isPartialWildcard(host)) out.warn(p, `partial wildcard "${host}" is not supported: '*' must be the whole first label`);
  }

  const addresses = stringsWithIndex(spec.addresses);
  for (const [address, i] of addresses) {
    if (!isIpOrCidr(address)) out.error(at(SPEC, 'addresses', i), `"${address}" is not an IP address or CIDR block`);
  }
  if (addresses.some(([a]) => a.includes('/')) && resolution !== 'NONE' && resolution !== 'STATIC') {
    out.error(at(SPEC, 'addresses'), `CIDR blocks are only allowed with resolution NONE or STATIC (this one is ${resolution})`);
  }

  const portNames = new Map<string, number>();
  const portNumbers = new Map<number, number>();
  const protocols: Array<string | undefined> = [];
  asArray(spec.ports).forEach((value, i) => {
    const p = at(SPEC, 'ports', i);
    if (value === null) out.error(p, 'port must not be null');
    const port = asObject(value);
    if (!port) return;
    const name = asString(port.name) ?? '';
    if (portNames.has(name)) out.error(at(p, 'name'), `port name "${name}" is already used by ports[${portNames.get(name)}]`);
    else portNames.set(name, i);
    if (typeof port.number === 'number') {
      if (portNumbers.has(port.number)) out.error(at(p, 'number'), `port ${port.number} is already defined by ports[${portNumbers.get(port.number)}]`);
      else portNumbers.set(port.number, i);
    }
    if (!isSet(port.number)) out.error(p, 'missing required field "number"');
    else if (port.number === 0) out.error(at(p, 'number'), 'port 0 is out of range (1-65535)');
    else checkPortNumber(port.number, at(p, 'number'), out);
    if (!isSet(port.name)) out.error(p, 'missing required field "name"');
    else checkPortName(port.name, at(p, 'name'), out);
    checkProtocol(port.protocol, at(p, 'protocol'), out);
    if (typeof port.targetPort === 'number' && port.targetPort !== 0) {
      checkPortNumber(port.targetPort, at(p, 'targetPort'), out);
      if (resolution === 'NONE') out.warn(at(p, 'targetPort'), 'targetPort has no effect when resolution is NONE');
    }
    const protocol = typeof port.protocol === 'string' ? parseProtocol(port.protocol) : undefined;
    protocols.push(protocol);
    // Addresses for TCP ports are the analyzer's IST0134 ServiceEntryAddressesRequired, not a schema matter.
  });
  const servicePorts = new Set(portNames.keys());

  switch (resolution) {
    case 'NONE':
      if (endpoints.length > 0) out.error(at(SPEC, 'endpoints'), 'endpoints are not used with resolution NONE; use STATIC or DNS');
      if (hasSelector) out.warn(at(SPEC, 'workloadSelector'), 'workloadSelector is not used with resolution NONE');
      break;
    case 'STATIC':
      if (endpoints.length === 0 && !hasSelector) out.warn(SPEC, 'resolution STATIC without endpoints or workloadSelector gives the service no endpoints');
      endpoints.forEach((e, i) => {
        const p = at(SPEC, 'endpoints', i);
        if (e === null) out.error(p, 'endpoint must not be null');
        const endpoint = asObject(e);
        if (endpoint) checkWorkloadEntry(endpoint, p, out, { servicePorts, allowHostnames: false });
      });
      break;
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      if (endpoints.length === 0) {
        for (const [host, i] of hosts) {
          if (host !== '*' && fqdnProblem(host)) out.error(at(SPEC, 'hosts', i), `with resolution ${resolution} and no endpoints, hosts must be resolvable names (no wildcards)`);
        }
      }
      if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) out.error(at(SPEC, 'endpoints'), 'resolution DNS_ROUND_ROBIN takes at most one endpoint');
      endpoints.forEach((e, i) => {
        const p = at(SPEC, 'endpoints', i);
        if (e === null) out.error(p, 'endpoint must not be null');
        const endpoint = asObject(e);
        if (endpoint) checkDnsEndpoint(endpoint, p, servicePorts, out);
      });
      if (hasSelector) out.warn(at(SPEC, 'workloadSelector'), `workloadSelector is not used with resolution ${resolution}`);
      if (addresses.length > 0 && hosts.length > 1 && protocols.some((p) => p !== undefined && TCP_PROTOCOLS.has(p))) {
        out.warn(at(SPEC, 'hosts'), 'a ServiceEntry with addresses and a TCP port should have a single host');
      }
      break;
  }

  // Plain TCP carries no host name, so several hosts cannot be told apart unless Istio ignores them (resolution NONE).
  if (resolution !== 'NONE' && hosts.length > 1 && protocols.some((p) => !isHttpProtocol(p) && !isTlsProtocol(p))) {
    out.error(at(SPEC, 'hosts'), 'several hosts need HTTP or TLS ports to be told apart (or resolution NONE); this ServiceEntry has a port of another protocol');
  }

  for (const [san, i] of stringsWithIndex(spec.subjectAltNames)) if (san === '') out.error(at(SPEC, 'subjectAltNames', i), 'must not be empty');
  checkExportTo(spec.exportTo, at(SPEC, 'exportTo'), out, namespaceOf(resource), { serviceEntry: true });
}

/** DNS endpoints: a host name or IP, labels, and ports named after the ServiceEntry's ports. */
function checkDnsEndpoint(endpoint: Obj, path: string, servicePorts: ReadonlySet<string>, out: Issues): void {
  const address = asString(endpoint.address) ?? '';
  if (address === '') out.error(path, 'address is required: a host name or IP address');
  else if (!isIp(address) && fqdnProblem(address)) out.error(at(path, 'address'), `"${address}" is not a valid host name or IP address`);
  checkLabelMap(endpoint.labels, at(path, 'labels'), out);
  for (const [name, port] of Object.entries(asObject(endpoint.ports) ?? {})) {
    const p = at(path, 'ports', name);
    if (!servicePorts.has(name)) out.error(p, `port "${name}" is not one of the ServiceEntry's port names (${[...servicePorts].join(', ') || 'none'})`);
    checkPortName(name, p, out);
    checkPortNumber(port, p, out);
  }
}

export const serviceEntryValidator: KindValidator = networkingValidator({ name: 'dns-subdomain', schema: serviceEntrySchema, check: checkServiceEntry });
