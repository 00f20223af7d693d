// Runs the whole analysis: loader problems, kind support, schema validation (IST0106), then every registered analyzer.

import { compareDiagnostics, diagnosticFor, type Diagnostic, type MessageType } from '../diagnostics.js';
import { kindSupport } from '../kinds.js';
import type { LoadError } from '../loader.js';
import { buildMeshModel } from '../mesh-config.js';
import { resourceKey, type Resource } from '../resource.js';
import { validateResource } from '../validation/index.js';
import type { Analyzer, AnalysisContext } from './analyzer.js';
import { assumedResources, type AnalysisMode } from './assumed.js';
import { ConfigIndex } from './config-index.js';
import { Messages } from './messages.js';
import { analyzersFor } from './registry.js';

export type { AnalysisMode } from './assumed.js';

export interface AnalyzeOptions {
  /** Problems found while loading; they become TRL000x diagnostics. */
  loadErrors?: readonly LoadError[];
  /** Defaults to the analyzers of the mode (registry.ts). */
  analyzers?: readonly Analyzer[];
  /** `istioctl` (default) or `local` (a directory as `trellis up` runs it): see assumed.ts. */
  mode?: AnalysisMode;
  /** A mesh config read from a file (`--meshConfigFile`): it takes the place of the in-cluster `istio` ConfigMap. */
  meshConfigFile?: Resource;
  /** Mesh networks read from a file (`--meshNetworksFile`). */
  meshNetworksFile?: Resource;
}

export interface AnalysisResult {
  diagnostics: Diagnostic[];
  /** Resources of known kinds that passed schema validation: what a control plane would accept. */
  valid: Resource[];
}

/** The analyzer name istioctl gives schema validation of a kind. */
const schemaAnalyzer = (kind: string) => `schema.ValidationAnalyzer.${kind}`;

export function analyzeResources(resources: readonly Resource[], options: AnalyzeOptions = {}): AnalysisResult {
  const mode = options.mode ?? 'istioctl';
  const diagnostics: Diagnostic[] = [];
  for (const e of options.loadErrors ?? []) diagnostics.push(loadErrorDiagnostic(e));

  // As in a cluster, a later definition of the same object replaces the earlier one (kubectl apply).
  const latest = new Map<string, Resource>();
  for (const r of resources) {
    const key = resourceKey(r);
    const earlier = latest.get(key);
    if (earlier) {
      const where = r.source ? ` by the definition at ${r.source.file}:${r.source.position.line}` : '';
      diagnostics.push(diagnosticFor(Messages.DuplicateResource, earlier, '', `${earlier.kind} ${earlier.metadata.namespace ? earlier.metadata.namespace + '/' : ''}${earlier.metadata.name} is defined more than once; this definition is replaced${where}`));
      latest.delete(key);
    }
    latest.set(key, r);
  }
  const effective = [...latest.values()];

  const valid: Resource[] = [];
  // Every object of a known kind is analyzed, valid or not: as in istioctl, schema validation is one analyzer among others.
  const subjects: Resource[] = [];
  for (const r of effective) {
    const support = kindSupport(r.group, r.version, r.kind);
    if (support.status === 'unknown-kind') {
      diagnostics.push(diagnosticFor(Messages.UnknownKind, r, '/kind', `Trellis does not read kind "${r.kind}" of "${r.apiVersion}"; it is kept but has no effect`));
      continue;
    }
    if (support.status === 'unknown-version') {
      diagnostics.push(
        diagnosticFor(Messages.UnsupportedAPIVersion, r, '/apiVersion', `${r.kind} has no version "${r.version}" in group "${r.group || 'core'}"; use one of: ${support.info.versions.map((v) => (r.group ? `${r.group}/${v}` : v)).join(', ')}`),
      );
      continue;
    }
    subjects.push(r);
    const issues = validateResource(r);
    for (const issue of issues) {
      const type: MessageType = issue.level === 'Error' ? Messages.SchemaValidationError : { ...Messages.SchemaValidationError, level: 'Warning' };
      diagnostics.push({ ...diagnosticFor(type, r, issue.path, `Schema validation error: ${issue.message}`), analyzer: schemaAnalyzer(r.kind) });
    }
    if (!issues.some((i) => i.level === 'Error')) valid.push(r);
  }

  const inputs = { meshConfigFile: options.meshConfigFile, meshNetworksFile: options.meshNetworksFile };
  const assumed = assumedResources(mode, effective, buildMeshModel(effective, undefined, { meshConfigFile: inputs.meshConfigFile }));
  const assumedSet = new Set<Resource>(assumed);
  const index = new ConfigIndex([...effective, ...assumed], inputs);
  for (const analyzer of options.analyzers ?? analyzersFor(mode)) {
    const ctx: AnalysisContext = {
      resources: subjects,
      index,
      mode,
      report: (type, resource, field, message) => {
        // What the analysis assumes is not the user's to fix: messages are about the files.
        if (!assumedSet.has(resource)) diagnostics.push({ ...diagnosticFor(type, resource, field, message), analyzer: analyzer.name });
      },
    };
    try {
      analyzer.analyze(ctx);
    } catch (err) {
      // An analyzer bug must not hide every other finding: report it as Istio does, and go on.
      diagnostics.push({ code: Messages.InternalError.code, name: Messages.InternalError.name, level: 'Error', message: `analyzer ${analyzer.name} failed: ${(err as Error)?.message ?? String(err)}`, analyzer: analyzer.name });
    }
  }
  diagnostics.sort(compareDiagnostics);
  return { diagnostics: dedupe(diagnostics), valid };
}

/** istioctl prints a message once even when two analyzers report it (the gateway analyzers all check the selector). */
function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = JSON.stringify([d.code, d.resource?.kind, d.resource?.namespace, d.resource?.name, d.file, d.field, d.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function loadErrorDiagnostic(e: LoadError): Diagnostic {
  const type =
    e.code === 'FileNotFound' || e.code === 'FileUnreadable' ? Messages.ConfigFileNotFound : e.code === 'YAMLSyntax' ? Messages.YAMLSyntaxError : Messages.NotAKubernetesObject;
  const d: Diagnostic = { code: type.code, name: type.name, level: type.level, message: e.message, file: e.file };
  if (e.line > 0) {
    d.line = e.line;
    d.column = e.column;
  }
  return d;
}
