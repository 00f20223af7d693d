// `trellis get KIND[,KIND…] [NAME] [-n NS | -A] [-o yaml|json|wide]`: objects as the running mesh sees them, with the
// status Trellis computes, in kubectl's shapes. It asks the control plane it is pointed at for every control plane of
// the run (`/debug/controlplanes`) and takes each object from the one that owns it (`/debug/objects`).

import YAML from 'yaml';
import type { KindInfo } from '../../config/kinds.js';
import type { ControlPlaneRef, ObjectsReply } from '../../controlplane/debug/objects.js';
import type { ObjectWithStatus } from '../../controlplane/status/object-status.js';
import { parseCommandArgs, UsageError, type Command } from '../command.js';
import { DEFAULT_DEBUG, fetchJson } from '../debug-client.js';
import { columns as formatColumns } from '../format/columns.js';
import { resolveKind } from '../resource-names.js';

const USAGE = `Usage: trellis get KIND[,KIND…] [NAME] [options]

Prints objects of the running mesh (\`trellis up\` or \`trellis controlplane\`) with the status Trellis computes
for them (ServiceMeshControlPlane, ServiceMeshMemberRoll, ServiceMeshMember; Namespace with maistra.io/member-of).
Kinds by name, plural or short name: smcp, smmr, smm, vs, dr, gw, se, pa, ap, ra, ns, svc, po …

Options:
  -n, --namespace NS     only objects in NS (default: every namespace, as -A)
  -A, --all-namespaces   every namespace
  -o, --output F         yaml, json or wide (default: a table)
  --controlplane URL     a control plane's debug endpoint (default ${DEFAULT_DEBUG}, what \`trellis up\` prints)`;

interface Item {
  owned: boolean;
  object: ObjectWithStatus;
}

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '');
const keyOf = (o: ObjectWithStatus) => `${groupOf(o.apiVersion)}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Every object of the run: each control plane's, the owner's copy kept where several serve one. */
async function objectsOfRun(url: string): Promise<ObjectWithStatus[]> {
  const base = url.replace(/\/+$/, '');
  let planes = (await fetchJson(`${base}/debug/controlplanes`)) as ControlPlaneRef[];
  if (!planes.some((p) => p.debug)) planes = [{ ...planes[0]!, debug: base }];
  const replies = await Promise.all(planes.map((p) => fetchJson(`${(p.debug || base).replace(/\/+$/, '')}/debug/objects`) as Promise<ObjectsReply>));
  const byKey = new Map<string, Item>();
  for (const reply of replies) {
    for (const item of reply.items) {
      const k = keyOf(item.object);
      const had = byKey.get(k);
      if (!had || (item.owned && !had.owned)) byKey.set(k, item);
    }
  }
  return [...byKey.values()].map((i) => i.object);
}

type Row = Record<string, string>;
const conditionOf = (o: ObjectWithStatus, type: string) => ((o.status as { conditions?: Array<{ type: string; status: string; reason: string }> } | undefined)?.conditions ?? []).find((c) => c.type === type);

/** The columns kubectl prints for a kind (OpenShift Service Mesh's printer columns for its kinds). */
function columns(kind: KindInfo, o: ObjectWithStatus, wide: boolean): Row {
  const status = (o.status ?? {}) as Record<string, unknown>;
  switch (kind.kind) {
    case 'ServiceMeshControlPlane': {
      const ready = conditionOf(o, 'Ready');
      const annotations = (status.annotations ?? {}) as Record<string, string>;
      return { READY: annotations.readyComponentCount ?? '', STATUS: ready?.reason ?? '', PROFILES: String(((o.spec as { profiles?: string[] } | undefined)?.profiles ?? ['default']).join(',')), VERSION: String((status.chartVersion as string) ?? ''), ...(wide ? { MODE: String((status.appliedSpec as { mode?: string } | undefined)?.mode ?? '') } : {}) };
    }
    case 'ServiceMeshMemberRoll': {
      const annotations = (status.annotations ?? {}) as Record<string, string>;
      return { READY: annotations.configuredMemberCount ?? '', STATUS: conditionOf(o, 'Ready')?.reason ?? '', MEMBERS: JSON.stringify(status.members ?? []) };
    }
    case 'ServiceMeshMember':
      return { 'CONTROL PLANE': `${(o.spec as { controlPlaneRef?: { namespace?: string; name?: string } } | undefined)?.controlPlaneRef?.namespace ?? ''}/${(o.spec as { controlPlaneRef?: { name?: string } } | undefined)?.controlPlaneRef?.name ?? ''}`, READY: conditionOf(o, 'Ready')?.status ?? '' };
    case 'Namespace':
      return { STATUS: String((status as { phase?: string }).phase ?? 'Active'), ...(wide ? { 'MEMBER OF': o.metadata.labels?.['maistra.io/member-of'] ?? '' } : {}) };
    default:
      return {};
  }
}

function table(kinds: KindInfo[], objects: ObjectWithStatus[], showNamespace: boolean, wide: boolean): string {
  const parts: string[] = [];
  for (const kind of kinds) {
    const list = objects.filter((o) => o.kind === kind.kind && groupOf(o.apiVersion) === kind.group);
    if (!list.length) continue;
    const rows = list.map((o) => ({ ...(showNamespace && kind.namespaced ? { NAMESPACE: o.metadata.namespace ?? '' } : {}), NAME: kinds.length > 1 ? `${kind.plural}/${o.metadata.name}` : o.metadata.name, ...columns(kind, o, wide) }));
    const headers = Object.keys(rows[0]!);
    parts.push(formatColumns(headers, rows.map((r) => headers.map((h) => (r as Row)[h] ?? ''))));
  }
  return parts.join('\n');
}

export const getCommand: Command = {
  name: 'get',
  usage: USAGE,
  async run(args) {
    const parsed = parseCommandArgs(args, {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A', default: false },
      output: { type: 'string', short: 'o' },
      controlplane: { type: 'string', default: DEFAULT_DEBUG },
    });
    const { values, positionals } = parsed;
    const [kindArg, name, ...extra] = positionals;
    if (!kindArg) throw new UsageError('a kind is required (e.g. `trellis get smcp,smmr -n istio-system`)');
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const output = values.output;
    if (output !== undefined && !['yaml', 'json', 'wide'].includes(output)) throw new UsageError(`-o must be yaml, json or wide, not "${output}"`);
    const kinds = kindArg.split(',').map((k) => {
      const info = resolveKind(k);
      if (!info) throw new UsageError(`the server doesn't have a resource type "${k}"`);
      return info;
    });
    if (name && kinds.length > 1) throw new UsageError('a name goes with one kind only');
    const namespace = values['all-namespaces'] ? undefined : values.namespace;
    const all = await objectsOfRun(values.controlplane!);
    const selected = all
      .filter((o) => kinds.some((k) => k.kind === o.kind && k.group === groupOf(o.apiVersion)))
      .filter((o) => namespace === undefined || !o.metadata.namespace || o.metadata.namespace === namespace)
      .filter((o) => !name || o.metadata.name === name)
      .sort((a, b) => kinds.findIndex((k) => k.kind === a.kind) - kinds.findIndex((k) => k.kind === b.kind) || (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
    if (name && !selected.length) {
      process.stderr.write(`Error from server (NotFound): ${kinds[0]!.plural} "${name}" not found\n`);
      return 1;
    }
    const doc = name ? selected[0] : { apiVersion: 'v1', kind: 'List', items: selected };
    if (output === 'yaml') process.stdout.write(YAML.stringify(doc));
    else if (output === 'json') process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    else if (!selected.length) process.stderr.write(`No resources found${namespace ? ` in ${namespace} namespace` : ''}.\n`);
    else process.stdout.write(table(kinds, selected, namespace === undefined, output === 'wide'));
    return 0;
  },
};
