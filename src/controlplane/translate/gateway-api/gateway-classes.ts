// GatewayClasses as Istio (and so Trellis) sees them, with the Accepted condition each gets: `istio` exists without
// being declared (Istio creates it), as do `istio-remote` (configured, never deployed) and `istio-waypoint` (reserved
// for ambient waypoints); a declared class is Trellis's when its controllerName is one of Istio's (config/gateway-api.ts).

import { trellisGatewayClasses, type ClassInfo } from '../../../config/gateway-api.js';
import type { Resource } from '../../../config/resource.js';
import { C, condition, R, type Condition } from './conditions.js';

export type { ClassRole } from '../../../config/gateway-api.js';

export interface GatewayClassInfo extends ClassInfo {
  accepted: Condition;
}

/** The classes Trellis handles (config/gateway-api.ts decides which), each with its Accepted condition. */
export function gatewayClasses(resources: readonly Resource[]): Map<string, GatewayClassInfo> {
  const out = new Map<string, GatewayClassInfo>();
  for (const [name, cls] of trellisGatewayClasses(resources)) {
    // parametersRef points at implementation-specific settings Trellis does not read: accepted, and said so.
    const params = cls.resource?.spec.parametersRef ? ' (parametersRef is not used by Trellis)' : '';
    const message = cls.resource ? `Handled by Trellis${params}` : 'Handled by Trellis (Istio gateway controller)';
    out.set(name, { ...cls, accepted: condition(C.Accepted, true, R.Accepted, message) });
  }
  return out;
}
