// EnvoyFilter patches that istiod ignores or may apply out of order: ADD/REMOVE on route configurations, REPLACE outside
// filters, relative operations without a priority (IST0151-IST0155), as istioctl's EnvoyPatchAnalyzer reports them.

import { GROUPS } from '../../kinds.js';
import { pointer } from '../../resource.js';
import type { Analyzer } from '../analyzer.js';
import type { Typed } from '../config-index.js';
import { Messages } from '../messages.js';
import { arr, fullName, isRecord, ofKind } from './util.js';

interface Patch {
  applyTo?: unknown;
  match?: { proxy?: { proxyVersion?: unknown }; listener?: { filterChain?: { filter?: { name?: unknown } } } };
  patch?: { operation?: unknown; value?: unknown };
}
type EnvoyFilter = Typed<{ configPatches?: Patch[]; priority?: unknown }>;

const ROUTE_LEVEL = new Set(['ROUTE_CONFIGURATION', 'HTTP_ROUTE']);
/** What a REPLACE can name (Istio added virtual hosts to the filters). */
const REPLACEABLE = new Set(['NETWORK_FILTER', 'HTTP_FILTER', 'VIRTUAL_HOST']);

/** What a patch inserts or changes, to tell whether another filter's patch with a proxyVersion touches the same thing. */
function patchedName(p: Patch): string {
  const value = p.patch?.value;
  if (isRecord(value) && value.name !== undefined) return `value:${JSON.stringify(value.name)}`;
  const filter = p.match?.listener?.filterChain?.filter?.name;
  return isRecord(value) && typeof filter === 'string' ? `filter:${filter}` : '';
}

export const envoyFilterAnalyzer: Analyzer = {
  name: 'envoyfilter.EnvoyPatchAnalyzer',
  description: 'Checks the patches of EnvoyFilters: operations istiod ignores, and relative operations without a priority',
  analyze(ctx) {
    // Names patched by filters that set a proxyVersion: on an upgrade, a relative patch of the same name may run first.
    const versioned = new Set<string>();
    const filters = ofKind<EnvoyFilter['spec']>(ctx.resources, GROUPS.ISTIO_NET, 'EnvoyFilter').sort((a, b) => fullName(a).localeCompare(fullName(b)));
    for (const ef of filters) {
      const unprioritised = ef.spec.priority === undefined || ef.spec.priority === 0;
      const patches = arr(ef.spec.configPatches);
      for (let i = 0; i < patches.length; i++) {
        const p = patches[i];
        if (!isRecord(p?.patch)) break; // as istiod: a patch without one ends the list
        const at = pointer('spec', 'configPatches', i);
        const name = patchedName(p);
        const relative = () => {
          if (!unprioritised) return;
          if (versioned.has(name)) ctx.report(Messages.EnvoyFilterUsesRelativeOperationWithProxyVersion, ef, at, 'This EnvoyFilter does not have a priority and has a relative patch operation (NSTERT_BEFORE/AFTER, REPLACE, MERGE, DELETE) and proxyVersion set which can cause the EnvoyFilter not to be applied during an upgrade. Using the INSERT_FIRST or ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.');
          else ctx.report(Messages.EnvoyFilterUsesRelativeOperation, ef, at, 'This EnvoyFilter does not have a priority and has a relative patch operation set which can cause the EnvoyFilter not to be applied. Using the INSERT_FIRST of ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly.');
        };
        const applyTo = String(p.applyTo ?? '');
        switch (p.patch.operation) {
          case 'ADD':
            if (ROUTE_LEVEL.has(applyTo)) ctx.report(Messages.EnvoyFilterUsesAddOperationIncorrectly, ef, at, 'The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.');
            break;
          case 'REMOVE':
            if (ROUTE_LEVEL.has(applyTo)) ctx.report(Messages.EnvoyFilterUsesRemoveOperationIncorrectly, ef, at, 'The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE.');
            else relative();
            break;
          case 'REPLACE':
            if (!REPLACEABLE.has(applyTo)) ctx.report(Messages.EnvoyFilterUsesReplaceOperationIncorrectly, ef, at, 'The REPLACE operation is only valid for HTTP_FILTER, NETWORK_FILTER and VIRTUAL_HOST.');
            else relative();
            break;
          case 'INSERT_BEFORE':
          case 'INSERT_AFTER':
            relative();
            break;
        }
        const version = p.match?.proxy?.proxyVersion;
        if (typeof version === 'string' && version !== '') versioned.add(name);
      }
    }
  },
};
