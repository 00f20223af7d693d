// MeshSource over a directory of manifests: reads with the loader and analyzers, writes validated YAML back.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { analyzeResources } from '../../config/analysis/run.js';
import { kindInfo } from '../../config/kinds.js';
import type { Diagnostic } from '../../config/diagnostics.js';
import { listYamlFiles, loadPaths, loadText } from '../../config/loader.js';
import { resourceKey, type Resource } from '../../config/resource.js';
import { ISTIO_COMPAT, VERSION } from '../../version.js';
import { parse as parseYaml } from 'yaml';
import type { AppliedRef, ApplyOptions, ConfigRef, ConfigText, ControlPlaneInfo, GatewayApiStatusReport, LogLine, MeshInventory, MeshSettings, MeshSource, ObjectStatus, PodInfo, ProxyStatus, Validation, WriteResult } from '../sources.js';
import { gatewayStatusFromFiles } from './gateway-api-status.js';
import { buildInventory, INJECT, isConfigResource, type InventoryOptions } from './inventory.js';
import { certificateInfo, controlPlaneSummaries, meshSettings } from './mesh-settings.js';
import { documentSpans, documentText, editDocument, holdsNoDocument, mergeDocument, removeDocument, replaceDocument } from './yaml-documents.js';

export interface YamlMeshSourceOptions extends InventoryOptions {
  /** The directory read (recursively) and written to. */
  configDir: string;
  /** Where proxy status comes from (e.g. `synczProxies(url)`); none by default: nothing is connected. */
  proxies?: () => Promise<ProxyStatus[]>;
  /** PEM file of the CA root (`cacerts/root-cert.pem`), shown on the control-plane page. */
  caRootCertFile?: string;
  mesh?: Partial<MeshSettings>;
  /** A pod's proxy config (e.g. `controlPlaneConfigDump(url)`); none by default. */
  configDump?: (namespace: string, pod: string) => Promise<Record<string, unknown> | undefined>;
  /** The running pods' output (the local runtime's supervisor); none by default: manifests run nothing. */
  logs?: PodLogSource;
  /** Gateway API status from the control plane(s) (e.g. `controlPlaneGatewayStatus(url)`); none: computed from the files. */
  gatewayStatus?: () => Promise<ObjectStatus[]>;
}

/** Where pods and their output come from: whatever runs them. */
export interface PodLogSource {
  pods(): PodInfo[];
  tail(namespace: string, pod: string, container: string, lines: number): LogLine[] | undefined;
}

interface Loaded {
  signature: string;
  resources: Resource[];
  inventory: MeshInventory;
  /** Gateway API status computed from these files, once asked for. */
  fileStatus?: ObjectStatus[];
}

/** Name given to submitted text while it is validated; its diagnostics are told apart from the directory's by it. */
const SUBMITTED = '<submitted>';

export class YamlMeshSource implements MeshSource {
  private loaded?: Loaded;
  private readonly dir: string;
  /** Writes are serialised: two edits of one file must not interleave their read-modify-write. */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: YamlMeshSourceOptions) {
    this.dir = resolve(options.configDir);
  }

  /** Files, sizes and modification times: cheap to compute, changes whenever a file does. */
  private async signature(): Promise<{ files: string[]; signature: string }> {
    const files = await listYamlFiles(this.dir).catch(() => [] as string[]);
    const parts = await Promise.all(files.map(async (f) => {
      const s = await stat(f).catch(() => undefined);
      return `${f}:${s?.size ?? -1}:${s?.mtimeMs ?? -1}`;
    }));
    return { files, signature: createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16) };
  }

  private async load(): Promise<Loaded> {
    const { signature } = await this.signature();
    if (this.loaded && this.loaded.signature === signature) return this.loaded;
    const { resources, errors } = await loadPaths([this.dir]);
    const analysis = analyzeResources(resources, { loadErrors: errors, mode: 'local' });
    const inventory = buildInventory(resources, analysis.diagnostics, signature, this.options);
    this.loaded = { signature, resources, inventory };
    return this.loaded;
  }

  async inventory(): Promise<MeshInventory> {
    return (await this.load()).inventory;
  }

  private find(resources: readonly Resource[], ref: ConfigRef): Resource | undefined {
    // The last definition wins, as everywhere else.
    return [...resources].reverse().find((r) => r.kind === ref.kind && r.group === ref.group && r.metadata.namespace === ref.namespace && r.metadata.name === ref.name);
  }

  async configText(ref: ConfigRef): Promise<ConfigText | undefined> {
    const { resources } = await this.load();
    const r = this.find(resources, ref);
    if (!r?.source) return undefined;
    const text = await readFile(r.source.file, 'utf8');
    const doc = documentText(text, r.source.documentIndex);
    if (!doc) return undefined;
    return { ref, file: r.source.file, yaml: doc.text, firstLine: doc.firstLine };
  }

  async proxies(): Promise<ProxyStatus[]> {
    return this.options.proxies ? this.options.proxies() : [];
  }

  async pods(): Promise<PodInfo[]> {
    return this.options.logs?.pods() ?? [];
  }

  async podLogs(namespace: string, pod: string, container: string, tailLines: number): Promise<LogLine[] | undefined> {
    return this.options.logs?.tail(namespace, pod, container, tailLines);
  }

  async proxyConfigDump(namespace: string, pod: string): Promise<Record<string, unknown> | undefined> {
    return this.options.configDump?.(namespace, pod);
  }

  async gatewayApiStatus(live: boolean): Promise<GatewayApiStatusReport> {
    if (live && this.options.gatewayStatus) {
      try {
        return { source: 'control-plane', items: await this.options.gatewayStatus() };
      } catch (err) {
        return { source: 'unavailable', message: `the control plane did not answer: ${(err as Error).message}`, items: [] };
      }
    }
    const loaded = await this.load();
    loaded.fileStatus ??= gatewayStatusFromFiles(loaded.resources);
    return { source: 'files', message: 'no control plane runs these files: status computed from them, with no gateway proxy running (no Gateway is Programmed)', items: loaded.fileStatus };
  }

  async controlPlane(): Promise<ControlPlaneInfo> {
    const [{ resources }, proxies] = await Promise.all([this.load(), this.proxies().catch(() => [] as ProxyStatus[])]);
    const info: ControlPlaneInfo = {
      version: VERSION,
      compatibleWith: `Istio ${ISTIO_COMPAT}`,
      source: `config directory ${this.dir}`,
      connectedProxies: proxies.length,
      // As istioctl reads it: nothing STALE or NACKed, and something SYNCED (NOT SENT is a type the proxy never asked for).
      syncedProxies: proxies.filter((p) => { const s = Object.values(p.sync); return s.includes('SYNCED') && !s.some((x) => x === 'STALE' || x === 'NACK'); }).length,
      mesh: meshSettings(resources, this.options.mesh),
      planes: controlPlaneSummaries(resources, proxies, this.options.mesh),
    };
    if (this.options.caRootCertFile) {
      try {
        info.caRoot = certificateInfo(await readFile(this.options.caRootCertFile, 'utf8'));
      } catch {
        // No readable root: the page says "unknown" rather than failing as a whole.
      }
    }
    return info;
  }

  apply(yamlText: string, options: ApplyOptions = {}): Promise<WriteResult> {
    return this.serialised(() => this.applyNow(yamlText, options));
  }

  annotateWorkload(namespace: string, name: string, changes: Record<string, string | null>): Promise<WriteResult> {
    return this.serialised(() => this.annotateNow(namespace, name, changes));
  }

  delete(refs: ConfigRef[]): Promise<WriteResult> {
    return this.serialised(() => this.deleteNow(refs));
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.writing.then(fn, fn);
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async applyNow(yamlText: string, options: ApplyOptions): Promise<WriteResult> {
    const submitted = loadText(yamlText, SUBMITTED, { defaultNamespace: options.namespace ?? 'default' });
    if (submitted.errors.length) {
      // The analysis turns load errors into their catalogue codes (TRL0002 for YAML syntax, TRL0003 for a non-object).
      const validations = analyzeResources([], { loadErrors: submitted.errors, analyzers: [] }).diagnostics.map(toValidation);
      return { ok: false, code: 'INVALID_YAML', message: submitted.errors[0]!.message, validations };
    }
    if (submitted.resources.length === 0) return { ok: false, code: 'INVALID_YAML', message: 'the text holds no object', validations: [] };
    for (const r of submitted.resources) {
      // Only mesh configuration is edited here; Deployments, Secrets and the like are not the console's to write.
      if (!isConfigResource(r) || !kindInfo(r.group, r.kind)) {
        return { ok: false, code: 'UNSUPPORTED', message: `${r.kind} (${r.apiVersion}) cannot be written from the console: only Istio, Gateway API and Maistra objects`, validations: [] };
      }
      if (options.namespace && r.metadata.namespace !== options.namespace) {
        return { ok: false, code: 'NAMESPACE_MISMATCH', message: `${r.kind} ${r.metadata.name} is in namespace ${r.metadata.namespace}, not ${options.namespace}`, validations: [] };
      }
    }
    if (options.replace) {
      const t = options.replace;
      const r = submitted.resources[0]!;
      if (submitted.resources.length !== 1 || r.kind !== t.kind || r.group !== t.group || r.metadata.namespace !== t.namespace || r.metadata.name !== t.name) {
        return { ok: false, code: 'NAME_MISMATCH', message: `the text must hold exactly ${t.kind} ${t.namespace}/${t.name}; renaming is a new object`, validations: [] };
      }
    }

    // Validate the submission against everything else, as the control plane would see it after the write.
    this.loaded = undefined;
    const { resources } = await this.load();
    const replaced = new Set(submitted.resources.map(resourceKey));
    const analysis = analyzeResources([...resources.filter((r) => !replaced.has(resourceKey(r))), ...submitted.resources], { mode: 'local' });
    const validations = analysis.diagnostics.filter((d) => d.file === SUBMITTED).map(toValidation);
    const errors = validations.filter((v) => v.level === 'Error');
    if (errors.length) return { ok: false, code: 'VALIDATION_FAILED', message: `${errors.length} error${errors.length > 1 ? 's' : ''}: ${errors[0]!.message}`, validations };
    if (options.dryRun) return { ok: true, applied: [], validations };

    const applied: AppliedRef[] = [];
    for (const r of submitted.resources) {
      const body = documentText(yamlText, r.source!.documentIndex)!.text;
      const ref: ConfigRef = { kind: r.kind, group: r.group, namespace: r.metadata.namespace, name: r.metadata.name };
      const existing = this.find(resources, ref);
      if (existing?.source && this.inside(existing.source.file) && documentSpans(await readFile(existing.source.file, 'utf8')).length > existing.source.documentIndex) {
        const text = await readFile(existing.source.file, 'utf8');
        // An edit is the user's text as written; an apply (a wizard's update) changes only what differs, so the
        // comments in the object's document stay where they still apply.
        const next = options.replace ? replaceDocument(text, existing.source.documentIndex, body) : mergeDocument(text, existing.source.documentIndex, parseYaml(body) as Record<string, unknown>);
        await atomicWrite(existing.source.file, next);
        applied.push({ ...ref, file: existing.source.file, created: false });
      } else {
        const file = await this.newFileFor(ref);
        await atomicWrite(file, body);
        applied.push({ ...ref, file, created: true });
      }
    }
    this.loaded = undefined;
    return { ok: true, applied, validations };
  }

  private async annotateNow(namespace: string, name: string, changes: Record<string, string | null>): Promise<WriteResult> {
    for (const [k, v] of Object.entries(changes)) {
      // Kubernetes' rules for annotation keys: optional DNS prefix, then a name of at most 63 characters.
      if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(k)) return { ok: false, code: 'INVALID_ANNOTATION', message: `"${k}" is not a valid annotation key`, validations: [] };
      if (v !== null && typeof v !== 'string') return { ok: false, code: 'INVALID_ANNOTATION', message: `the value of "${k}" must be a string or null`, validations: [] };
      if (k === INJECT && v !== null && v !== 'true' && v !== 'false') return { ok: false, code: 'INVALID_ANNOTATION', message: `${INJECT} must be "true" or "false"`, validations: [] };
    }
    this.loaded = undefined;
    const { resources } = await this.load();
    const r = [...resources].reverse().find((x) => x.metadata.namespace === namespace && x.metadata.name === name && ((x.group === 'apps' && x.spec.template) || (x.group === '' && x.kind === 'Pod')));
    if (!r?.source || !this.inside(r.source.file)) return { ok: false, code: 'NOT_FOUND', message: `no workload ${namespace}/${name} in ${this.dir}`, validations: [] };
    const path = r.kind === 'Pod' ? ['metadata', 'annotations'] : ['spec', 'template', 'metadata', 'annotations'];
    const text = await readFile(r.source.file, 'utf8');
    const next = editDocument(text, r.source.documentIndex, (doc) => {
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) doc.deleteIn([...path, k]);
        else doc.setIn([...path, k], v);
      }
      // Leave no empty `annotations: {}` behind when the last one is removed.
      const left = doc.getIn(path) as { items?: unknown[] } | undefined;
      if (left && Array.isArray(left.items) && left.items.length === 0) doc.deleteIn(path);
    });
    await atomicWrite(r.source.file, next);
    this.loaded = undefined;
    return { ok: true, applied: [{ kind: r.kind, group: r.group, namespace, name, file: r.source.file, created: false }], validations: [] };
  }

  private async deleteNow(refs: ConfigRef[]): Promise<WriteResult> {
    this.loaded = undefined;
    const { resources } = await this.load();
    const byFile = new Map<string, Array<{ ref: ConfigRef; index: number }>>();
    for (const ref of refs) {
      const r = this.find(resources, ref);
      if (!r) return { ok: false, code: 'NOT_FOUND', message: `no ${ref.kind} ${ref.namespace}/${ref.name}`, validations: [] };
      if (!r.source || !this.inside(r.source.file)) return { ok: false, code: 'NOT_FOUND', message: `${ref.kind} ${ref.namespace}/${ref.name} is not in ${this.dir}`, validations: [] };
      if (!isConfigResource(r) || !kindInfo(r.group, r.kind)) return { ok: false, code: 'UNSUPPORTED', message: `${r.kind} cannot be deleted from the console: only Istio, Gateway API and Maistra objects`, validations: [] };
      byFile.set(r.source.file, [...(byFile.get(r.source.file) ?? []), { ref, index: r.source.documentIndex }]);
    }
    const applied: AppliedRef[] = [];
    for (const [file, docs] of byFile) {
      let text = await readFile(file, 'utf8');
      // Last document first: removing one does not move the ones before it.
      for (const d of [...docs].sort((a, b) => b.index - a.index)) text = removeDocument(text, d.index);
      if (holdsNoDocument(text)) await unlink(file);
      else await atomicWrite(file, text);
      for (const d of docs) applied.push({ ...d.ref, file, created: false, deleted: true });
    }
    this.loaded = undefined;
    return { ok: true, applied, validations: [] };
  }

  private inside(file: string): boolean {
    const f = resolve(file);
    return f.startsWith(this.dir + sep);
  }

  private async newFileFor(ref: ConfigRef): Promise<string> {
    const safe = (s: string) => s.toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
    const base = `${safe(ref.namespace || 'cluster')}-${safe(ref.kind)}-${safe(ref.name)}`;
    for (let i = 0; ; i++) {
      const file = join(this.dir, `${base}${i ? `-${i}` : ''}.yaml`);
      if (!(await stat(file).catch(() => undefined))) return file;
    }
  }
}

function toValidation(d: Diagnostic): Validation {
  const v: Validation = { code: d.code, name: d.name, level: d.level, message: d.message };
  if (d.field !== undefined) v.field = d.field;
  if (d.line !== undefined) v.line = d.line;
  if (d.column !== undefined) v.column = d.column;
  return v;
}

/** Write via a hidden temporary file and a rename, so a watcher never reads half a file. */
async function atomicWrite(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, file);
}
