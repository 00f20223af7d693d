// Kubernetes label selectors: matching label sets and printing selectors the way kubectl and istioctl do.

import type { LabelSelector } from './types/kubernetes.js';

/** Whether every `key: value` of `selector` is in `labels` (an empty selector matches everything). */
export function matchesLabels(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== String(v)) return false;
  return true;
}

/**
 * Whether a selector that must name something selects `labels`: it has at least one label and all of them match.
 * Istio's workload selectors, Service selectors and Gateway selectors: an empty one picks no workload by itself.
 */
export function nonEmptySelectorMatches(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  return !!selector && Object.keys(selector).length > 0 && matchesLabels(selector, labels);
}

/** A full `LabelSelector` (`matchLabels` and `matchExpressions` with In, NotIn, Exists, DoesNotExist). */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  if (!matchesLabels(selector.matchLabels, labels)) return false;
  for (const e of selector.matchExpressions ?? []) {
    const key = e.key ?? '';
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const values = (e.values ?? []).map(String);
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // an operator Kubernetes does not have selects nothing
    }
  }
  return true;
}

/** `app=reviews,version=v1`: keys sorted, as `labels.SelectorFromSet(...).String()` prints them. */
export function selectorString(selector: Readonly<Record<string, string>> | undefined): string {
  if (!selector) return '';
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}

/** A plain `key: value` map from YAML (values may have been parsed as numbers or booleans). */
export function stringRecord(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) out[k] = val === null || val === undefined ? '' : String(val);
  return out;
}
