// Schema and Istio webhook rules for networking.istio.io WorkloadEntry and WorkloadGroup (and ServiceEntry endpoints, which share the shape).

import type { SchemaObject } from 'ajv';
import { INTEGER, STRING, STRING_LIST, STRING_MAP, UINT32, listOf, mapOf, strictObject } from './common-schemas.js';
import { at, asArray, asObject, asString, isIp, isSet, objectSchema, type Issues, type Obj } from './object-check.js';
import { SPEC, checkLabelMap, checkPortName, checkPortNumber, networkingValidator, specOf, unixAddressProblem } from './networking-common.js';
import { fqdnProblem } from './networking-hosts.js';
import { matchHeaderNameProblem } from './networking-matching.js';
import type { KindValidator } from './validator.js';

export const WORKLOAD_ENTRY_FIELDS: Record<string, SchemaObject> = {
  address: STRING,
  ports: mapOf(UINT32),
  labels: STRING_MAP,
  network: STRING,
  locality: STRING,
  weight: UINT32,
  serviceAccount: STRING,
};
export const WORKLOAD_ENTRY: SchemaObject = strictObject(WORKLOAD_ENTRY_FIELDS);

export interface WorkloadEntryContext {
  /** Port names of the ServiceEntry the endpoint belongs to; undefined for a standalone WorkloadEntry. */
  servicePorts?: ReadonlySet<string>;
  /** DNS resolution and standalone entries may name a host; STATIC endpoints need an IP or a unix socket. */
  allowHostnames: boolean;
}

/** Istio's validateWorkloadEntry: an address (IP, host name or unix socket), named ports, valid labels. */
export function checkWorkloadEntry(we: Obj, path: string, out: Issues, ctx: WorkloadEntryContext): void {
  const address = asString(we.address) ?? '';
  if (address === '') {
    if ((asString(we.network) ?? '') === '') {
      out.error(path, 'address is required: an IP address, a host name or unix:///path/to/socket');
      return;
    }
    out.warn(path, `address is unset; the workload is reached through the gateway of network "${String(we.network)}"`);
  }
  const unix = address.startsWith('unix://');
  if (unix) {
    const problem = unixAddressProblem(address.slice('unix://'.length));
    if (problem) out.error(at(path, 'address'), problem);
    if (Object.keys(asObject(we.ports) ?? {}).length > 0) out.error(at(path, 'ports'), 'a unix socket endpoint cannot have ports');
    if (ctx.servicePorts && ctx.servicePorts.size !== 1) out.error(at(path, 'address'), 'a unix socket endpoint needs a ServiceEntry with exactly one port');
  } else if (address !== '' && !isIp(address)) {
    if (!ctx.allowHostnames) out.error(at(path, 'address'), `"${address}" is not an IP address (resolution STATIC needs IPs or unix:// sockets)`);
    else if (fqdnProblem(address)) out.error(at(path, 'address'), `"${address}" is not a valid host name or IP address`);
  }
  for (const [name, port] of Object.entries(asObject(we.ports) ?? {})) {
    const p = at(path, 'ports', name);
    if (ctx.servicePorts && !ctx.servicePorts.has(name)) out.error(p, `port "${name}" is not one of the ServiceEntry's port names (${[...ctx.servicePorts].join(', ') || 'none'})`);
    checkPortName(name, p, out);
    if (port === 0) out.error(p, 'port 0 is out of range (1-65535)');
    else checkPortNumber(port, p, out);
  }
  checkLabelMap(we.labels, at(path, 'labels'), out);
}

// ---------------------------------------------------------------- WorkloadEntry

const workloadEntrySchema = objectSchema({ spec: WORKLOAD_ENTRY });

function checkWorkloadEntryKind(raw: Obj, out: Issues): void {
  const spec = specOf(raw);
  if (spec) checkWorkloadEntry(spec, SPEC, out, { allowHostnames: true });
}

// ---------------------------------------------------------------- WorkloadGroup

const PROBE = strictObject({
  initialDelaySeconds: INTEGER,
  timeoutSeconds: INTEGER,
  periodSeconds: INTEGER,
  successThreshold: INTEGER,
  failureThreshold: INTEGER,
  httpGet: strictObject({ path: STRING, port: UINT32, host: STRING, scheme: STRING, httpHeaders: listOf(strictObject({ name: STRING, value: STRING })) }),
  tcpSocket: strictObject({ host: STRING, port: UINT32 }),
  exec: strictObject({ command: STRING_LIST }),
  grpc: strictObject({ port: UINT32, service: STRING }),
});

const workloadGroupSchema = objectSchema({
  spec: strictObject({
    metadata: strictObject({ labels: STRING_MAP, annotations: STRING_MAP }),
    template: WORKLOAD_ENTRY,
    probe: PROBE,
  }),
});

const PROBE_METHODS = ['httpGet', 'tcpSocket', 'exec', 'grpc'];

function checkWorkloadGroup(raw: Obj, out: Issues): void {
  const spec = specOf(raw);
  if (!spec) return;
  checkLabelMap(asObject(spec.metadata)?.labels, at(SPEC, 'metadata', 'labels'), out);
  const template = asObject(spec.template);
  if (!template) out.error(SPEC, 'template is required: the WorkloadEntry fields shared by the group\'s workloads');
  else {
    // Addresses are filled in per workload when it registers, so the template has none.
    if ((asString(template.address) ?? '') !== '') out.warn(at(SPEC, 'template', 'address'), 'address is set per workload when it registers; it is ignored in a template');
    for (const [name, port] of Object.entries(asObject(template.ports) ?? {})) {
      const p = at(SPEC, 'template', 'ports', name);
      checkPortName(name, p, out);
      checkPortNumber(port, p, out);
    }
    checkLabelMap(template.labels, at(SPEC, 'template', 'labels'), out);
  }
  checkProbe(asObject(spec.probe), at(SPEC, 'probe'), out);
}

function checkProbe(probe: Obj | undefined, path: string, out: Issues): void {
  if (!probe) return;
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    const v = probe[f];
    if (typeof v === 'number' && v < 0) out.error(at(path, f), `must not be negative (got ${v})`);
  }
  const methods = PROBE_METHODS.filter((m) => isSet(probe[m]));
  if (methods.length === 0) out.error(path, 'probe needs one of httpGet, tcpSocket, exec or grpc');
  if (methods.length > 1) out.error(path, `set only one of httpGet, tcpSocket, exec or grpc (found ${methods.join(' and ')})`);
  const http = asObject(probe.httpGet);
  if (http) {
    const p = at(path, 'httpGet');
    if (!isSet(http.port) || http.port === 0) out.error(p, 'httpGet.port is required');
    else checkPortNumber(http.port, at(p, 'port'), out);
    if (typeof http.scheme === 'string' && http.scheme !== '' && http.scheme !== 'HTTP' && http.scheme !== 'HTTPS') out.error(at(p, 'scheme'), `scheme must be "HTTP" or "HTTPS" (got "${http.scheme}")`);
    asArray(http.httpHeaders).forEach((h, i) => {
      const name = asString(asObject(h)?.name);
      const problem = name === undefined ? 'header name is required' : matchHeaderNameProblem(name);
      if (problem) out.error(at(p, 'httpHeaders', i), problem);
    });
  }
  for (const m of ['tcpSocket', 'grpc']) {
    const method = asObject(probe[m]);
    if (!method) continue;
    if (!isSet(method.port) || method.port === 0) out.error(at(path, m), `${m}.port is required`);
    else checkPortNumber(method.port, at(path, m, 'port'), out);
  }
  const exec = asObject(probe.exec);
  if (exec && asArray(exec.command).length === 0) out.error(at(path, 'exec'), 'exec.command is required');
}

export const workloadEntryValidator: KindValidator = networkingValidator({ name: 'dns-subdomain', schema: workloadEntrySchema, check: checkWorkloadEntryKind });
export const workloadGroupValidator: KindValidator = networkingValidator({ name: 'dns-subdomain', schema: workloadGroupSchema, check: checkWorkloadGroup });
