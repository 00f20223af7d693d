// Kiali's routing wizards as pure functions: a VirtualService and a DestinationRule with one subset per version.
// Shared by the browser (which shows and applies the YAML) and the tests; it only depends on the `yaml` package.

import { stringify } from 'yaml';

export const WIZARD_LABEL = 'trellis.io/wizard';

export interface Subset {
  name: string;
  labels: Record<string, string>;
}

export interface WeightedRoute {
  subset: string;
  weight: number;
}

export type MatchOp = 'exact' | 'prefix' | 'regex';

/** One request-routing rule: requests matching a header or the URI go to one subset. */
export interface MatchRule {
  header?: { name: string; op: MatchOp; value: string };
  uri?: { op: MatchOp; value: string };
  subset: string;
}

export interface WizardInput {
  namespace: string;
  service: string;
  subsets: Subset[];
  /** The default route's split (traffic shifting), or all traffic to the first subset when omitted. */
  weights?: WeightedRoute[];
  /** Matching rules tried before the default route (request routing). */
  rules?: MatchRule[];
  domain?: string;
}

export interface WorkloadLike {
  name: string;
  labels: Record<string, string>;
}

/** One subset per distinct `version` label among the service's workloads, as Kiali's wizards build them. */
export function subsetsFor(workloads: readonly WorkloadLike[]): Subset[] {
  const versions = [...new Set(workloads.map((w) => w.labels.version).filter((v): v is string => !!v))].sort();
  return versions.map((v) => ({ name: v, labels: { version: v } }));
}

/** Weights that add up to 100, split as evenly as whole numbers allow (Kiali's starting point). */
export function evenWeights(subsets: readonly Subset[]): WeightedRoute[] {
  const n = subsets.length;
  return subsets.map((s, i) => ({ subset: s.name, weight: Math.floor(100 / n) + (i < 100 % n ? 1 : 0) }));
}

/** Why the input cannot make valid config, or undefined. */
export function checkWizard(input: WizardInput): string | undefined {
  if (input.subsets.length === 0) return `the workloads of ${input.service} have no version label: there is nothing to route between`;
  const names = new Set(input.subsets.map((s) => s.name));
  for (const w of input.weights ?? []) {
    if (!names.has(w.subset)) return `unknown subset ${w.subset}`;
    if (!Number.isInteger(w.weight) || w.weight < 0 || w.weight > 100) return `weight of ${w.subset} must be a whole number from 0 to 100`;
  }
  if (input.weights && input.weights.reduce((a, w) => a + w.weight, 0) !== 100) return 'weights must add up to 100';
  for (const r of input.rules ?? []) {
    if (!names.has(r.subset)) return `unknown subset ${r.subset}`;
    if (!r.header && !r.uri) return 'a rule needs a header or a URI to match';
    if (r.header && (!r.header.name || !r.header.value)) return 'a header match needs a name and a value';
    if (r.uri && !r.uri.value) return 'a URI match needs a value';
  }
  return undefined;
}

function host(input: WizardInput): string {
  return `${input.service}.${input.namespace}.svc.${input.domain ?? 'cluster.local'}`;
}

export function buildRouting(input: WizardInput, wizard: 'traffic-shifting' | 'request-routing'): { virtualService: Record<string, unknown>; destinationRule: Record<string, unknown> } {
  const h = host(input);
  const metadata = { name: input.service, namespace: input.namespace, labels: { [WIZARD_LABEL]: wizard } };
  const http: Array<Record<string, unknown>> = [];
  for (const r of input.rules ?? []) {
    const match: Record<string, unknown> = {};
    if (r.header) match.headers = { [r.header.name]: { [r.header.op]: r.header.value } };
    if (r.uri) match.uri = { [r.uri.op]: r.uri.value };
    http.push({ match: [match], route: [{ destination: { host: h, subset: r.subset } }] });
  }
  const weights = (input.weights ?? [{ subset: input.subsets[0]!.name, weight: 100 }]).filter((w) => w.weight > 0);
  http.push({
    route: weights.map((w) => (weights.length === 1 ? { destination: { host: h, subset: w.subset } } : { destination: { host: h, subset: w.subset }, weight: w.weight })),
  });
  return {
    virtualService: { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata, spec: { hosts: [input.service], http } },
    destinationRule: { apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', metadata, spec: { host: h, subsets: input.subsets.map((s) => ({ name: s.name, labels: s.labels })) } },
  };
}

/** The two objects as one YAML text, DestinationRule first so its subsets exist before routes use them. */
export function routingYaml(input: WizardInput, wizard: 'traffic-shifting' | 'request-routing'): string {
  const { virtualService, destinationRule } = buildRouting(input, wizard);
  return `${stringify(destinationRule)}---\n${stringify(virtualService)}`;
}
