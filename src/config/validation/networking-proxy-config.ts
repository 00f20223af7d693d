// Schema and Istio webhook rules for networking.istio.io ProxyConfig (per-workload proxy settings: concurrency, environment, image type).

import { INTEGER, STRING, STRING_MAP, WORKLOAD_SELECTOR, strictObject } from './common-schemas.js';
import { at, objectSchema, type Issues, type Obj } from './object-check.js';
import { SPEC, checkLabelMap, networkingValidator, specOf } from './networking-common.js';
import type { KindValidator } from './validator.js';

const proxyConfigSchema = objectSchema({
  spec: strictObject({
    selector: WORKLOAD_SELECTOR,
    concurrency: INTEGER,
    environmentVariables: STRING_MAP,
    image: strictObject({ imageType: STRING }),
  }),
});

/** Istio's validateProxyConfig: concurrency is not negative; the selector's labels are valid. */
function checkProxyConfig(raw: Obj, out: Issues): void {
  const spec = specOf(raw);
  if (!spec) return;
  if (typeof spec.concurrency === 'number' && spec.concurrency < 0) out.error(at(SPEC, 'concurrency'), `concurrency must not be negative (got ${spec.concurrency})`);
  const selector = spec.selector as Obj | undefined;
  if (selector) checkLabelMap(selector.matchLabels, at(SPEC, 'selector', 'matchLabels'), out);
}

export const proxyConfigValidator: KindValidator = networkingValidator({ name: 'dns-subdomain', schema: proxyConfigSchema, check: checkProxyConfig });
