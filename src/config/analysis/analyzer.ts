// The contract of a cross-object analyzer: it reads the whole config through an index and reports messages.

import type { MessageType } from '../diagnostics.js';
import type { Resource } from '../resource.js';
import type { AnalysisMode } from './assumed.js';
import type { ConfigIndex } from './config-index.js';

export interface AnalysisContext {
  /** The resources to analyze: every loaded resource of a known kind and version (valid or not, as istioctl analyzes them). */
  readonly resources: readonly Resource[];
  /** Whom the analysis answers as (assumed.ts): a few rules differ where Trellis deliberately departs from istioctl. */
  readonly mode: AnalysisMode;
  /** Lookups over every loaded resource (valid or not), so that references resolve as the user wrote them. */
  readonly index: ConfigIndex;
  /** Report `message` about `resource`, located at the JSON Pointer `field` (never one the analysis assumed). */
  report(type: MessageType, resource: Resource, field: string, message: string): void;
}

export interface Analyzer {
  /** Istio's analyzer name where one exists (`virtualservice.DestinationHostAnalyzer`). */
  readonly name: string;
  readonly description: string;
  analyze(ctx: AnalysisContext): void;
}
