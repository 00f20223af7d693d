// `trellis analyze` without the command line: load files (and istioctl's mesh config and mesh networks files), then analyze.

import type { Diagnostic } from '../diagnostics.js';
import { loadDocumentFile, loadPaths, type LoadError } from '../loader.js';
import { buildMeshModel, MESH_CONFIG_FILE_KIND } from '../mesh-config.js';
import { MESH_NETWORKS_FILE_KIND } from '../mesh-networks.js';
import type { Resource } from '../resource.js';
import type { AnalysisMode } from './assumed.js';
import { analyzeResources } from './run.js';
import type { Analyzer } from './analyzer.js';

export interface AnalyzePathsOptions {
  /** Namespace of objects that name none (istioctl's default: `default`). */
  defaultNamespace?: string;
  mode?: AnalysisMode;
  /** istioctl's `--meshConfigFile`: a MeshConfig document that stands for the cluster's mesh config. */
  meshConfigFile?: string;
  /** istioctl's `--meshNetworksFile`: a MeshNetworks document. */
  meshNetworksFile?: string;
  analyzers?: readonly Analyzer[];
}

export interface PathsAnalysis {
  diagnostics: Diagnostic[];
  /** How many resources the files held. */
  resourceCount: number;
}

export async function analyzePaths(paths: readonly string[], options: AnalyzePathsOptions = {}): Promise<PathsAnalysis> {
  const loaded = await loadPaths(paths, options.defaultNamespace ? { defaultNamespace: options.defaultNamespace } : {});
  const errors: LoadError[] = [...loaded.errors];
  // The files name the mesh config as istioctl does, in the control plane's namespace.
  const namespace = buildMeshModel(loaded.resources).controlPlaneNamespace;
  const document = async (path: string | undefined, kind: { apiVersion: string; kind: string; name: string }): Promise<Resource | undefined> => {
    if (path === undefined) return undefined;
    const read = await loadDocumentFile(path, { ...kind, namespace });
    errors.push(...read.errors);
    return read.resource;
  };
  const meshConfigFile = await document(options.meshConfigFile, MESH_CONFIG_FILE_KIND);
  const meshNetworksFile = await document(options.meshNetworksFile, MESH_NETWORKS_FILE_KIND);
  const { diagnostics } = analyzeResources(loaded.resources, { loadErrors: errors, mode: options.mode, meshConfigFile, meshNetworksFile, analyzers: options.analyzers });
  return { diagnostics, resourceCount: loaded.resources.length };
}
