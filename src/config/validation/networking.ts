// Schema validation for networking.istio.io: one validator per kind, the same for every API version (v1alpha3, v1beta1, v1).

import type { KindValidator } from './validator.js';
import { destinationRuleValidator } from './networking-destination-rule.js';
import { envoyFilterValidator } from './networking-envoy-filter.js';
import { gatewayValidator } from './networking-gateway.js';
import { proxyConfigValidator } from './networking-proxy-config.js';
import { serviceEntryValidator } from './networking-service-entry.js';
import { sidecarValidator } from './networking-sidecar.js';
import { virtualServiceValidator } from './networking-virtual-service.js';
import { workloadEntryValidator, workloadGroupValidator } from './networking-workload.js';

const GROUP = 'networking.istio.io';

export const networkingValidators: Record<string, KindValidator> = {
  [`${GROUP}/VirtualService`]: virtualServiceValidator,
  [`${GROUP}/DestinationRule`]: destinationRuleValidator,
  [`${GROUP}/Gateway`]: gatewayValidator,
  [`${GROUP}/ServiceEntry`]: serviceEntryValidator,
  [`${GROUP}/WorkloadEntry`]: workloadEntryValidator,
  [`${GROUP}/WorkloadGroup`]: workloadGroupValidator,
  [`${GROUP}/Sidecar`]: sidecarValidator,
  [`${GROUP}/EnvoyFilter`]: envoyFilterValidator,
  [`${GROUP}/ProxyConfig`]: proxyConfigValidator,
};
